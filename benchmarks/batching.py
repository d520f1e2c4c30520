#!/usr/bin/python3
"""Automatic batching: the BATCH device, which gathers batch-1 requests into batches of N, against the model
batched by hand, against plain THROUGHPUT streams and against ONNX Runtime; and the THROUGHPUT hint with
automatic batching left on, which batches where the device estimates that it pays; as markdown tables.

For R rounds, and in each round for every model in turn, runs six benchmarks, each in its own process,
each for T seconds after the warm-up:
    sluice bench -m MODEL -d BATCH:DEVICE(N) -api async -hint throughput -nthreads K -t T --json ...  (BATCH)
    sluice bench -m MODEL -d DEVICE -b N -api async -hint throughput -nthreads K -t T
        -p ALLOW_AUTO_BATCHING=NO --json ...                                                    (-b N)
    sluice bench -m MODEL -d DEVICE -b 1 -api async -hint throughput -nthreads K -t T
        -p ALLOW_AUTO_BATCHING=NO --json ...                                                    (THROUGHPUT)
    sluice bench -m MODEL -d DEVICE -b 1 -api async -hint throughput -nthreads K -t T --json ...
                                                                                   (implicit batching)
    node benchmarks/ort_bench.js MODEL --threads K --sessions 1 -t T       (ORT 1xK: one session, K threads)
    node benchmarks/ort_bench.js MODEL --threads 1 --sessions K -t T       (ORT Kx1: K sessions x 1 thread)
Every sluice run keeps the compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS in flight (bench's default
-nireq): for BATCH, the batch times the underlying device's; its requests are batch-1 ones, as an
application's would be. The -b N run is what BATCH tries to match: one request carries N samples, so no
request waits for others to fill a batch. THROUGHPUT is the same device's streams without batching (auto-
batching is turned off, so that THROUGHPUT never turns into BATCH itself). The implicit batching run is
what an application gets from the hint alone: the core wraps the device in BATCH, with the batch the
device's OPTIMAL_BATCH_SIZE for the model, where that is > 1 (the report flags such a run "auto-batched"),
and leaves it alone elsewhere (then it is THROUGHPUT again). The ORT runs are ONNX Runtime's two ways to
spend K threads at batch 1, as in throughput.py; the better one counts. Every FPS counts samples per second
(a -b N inference is N samples). Interleaving the runs spreads slow phases of a shared machine over all
six. The tables give medians over the rounds; every run's numbers follow them.

Targets: BATCH / -b N >= 0.9 (batching by the device costs at most a tenth of batching by hand).

The models: ResNet-50 and BERT-base (compute-bound at batch 1: batching gains them little on a CPU) and
"mlp" (benchmarks/make_mlp_model.py: 1024 -> 4096 -> 4096 -> 1024, ~100 MB of f32 weights, whose batch-1
matrix-vector products are bound by reading the weights: batching pays), made first when missing
(models/make_test_models.py and benchmarks/make_mlp_model.py, with random weights).

    /usr/bin/python3 benchmarks/batching.py [--models resnet50,bert_base,mlp] [--batch 4] [--rounds 5]
        [--time 10] [--threads 2] [--device CPU] [--sluice build/sluice] [--models-dir build/models]
        [--out results.md]

Standard library only; needs `node` and benchmarks/node_modules (cd benchmarks && npm ci --ignore-scripts).
"""
import statistics
import sys

from bench_common import (BENCHMARKS, add_out_option, add_sluice_options, check_counts, check_tools,
                          count_failed, exit_status, fmt, fmt_ratio, header_lines, make_models,
                          measure_models, median_latency, median_of, median_or_none, new_parser, ok, parse,
                          plural, prop, publish, ratio_value)
from bench_common import distinct as distinct_values  # report_markdown has a `distinct` of its own

BATCH, BATCHED, THROUGHPUT, ORT_ONE, ORT_MANY = "BATCH", "-b N", "THROUGHPUT", "ORT 1xK", "ORT Kx1"
IMPLICIT = "implicit"  # -hint throughput with ALLOW_AUTO_BATCHING left on
VARIANTS = [BATCH, BATCHED, THROUGHPUT, IMPLICIT, ORT_ONE, ORT_MANY]
# throughput.py's convolutional and transformer models, where batching gains little, and an FC-heavy one
# where it pays
MODELS = "resnet50,bert_base,mlp"
TARGET_VS_BATCHED = 0.9


def parse_args():
    parser = new_parser(__doc__, models=True, rounds_default=5,
                        rounds_help="rounds of the six runs per model (default 5)", time_default=10,
                        time_help="seconds measured per run (default 10)")
    parser.set_defaults(models=MODELS)
    parser.add_argument("--batch", type=int, default=4,
                        help="N: the BATCH device's batch (BATCH:DEVICE(N)) and the hand-batched model's -b "
                             "(default 4)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of each side: sluice -nthreads (over all its streams); ORT 1 session x "
                             "K threads and K sessions x 1 thread (default 2, the project machine's cores)")
    add_sluice_options(parser, device=True, models_dir=True)
    add_out_option(parser)
    args = parse(parser)
    check_counts(parser, args, "threads")
    check_counts(parser, args, "batch")
    return args


def bench_commands(args, model_path, json_path):
    t = f"{args.time:g}"
    k = str(args.threads)
    n = str(args.batch)
    sluice = [str(args.sluice), "bench", "-m", str(model_path), "-api", "async", "-hint", "throughput",
              "-nthreads", k, "-t", t, "--json", str(json_path)]
    # The two runs on the device itself must not be batched by it (ALLOW_AUTO_BATCHING: CPU's THROUGHPUT
    # turns into BATCH when the model would gain from it).
    plain = ["-d", args.device, "-p", "ALLOW_AUTO_BATCHING=NO"]
    ort = ["node", str(BENCHMARKS / "ort_bench.js"), str(model_path), "-t", t]
    return {
        BATCH: (sluice + ["-d", batch_device(args)], json_path),
        BATCHED: (sluice + plain + ["-b", n], json_path),
        THROUGHPUT: (sluice + plain + ["-b", "1"], json_path),
        # The hint alone, as an application would give it: batched where the device says it pays.
        IMPLICIT: (sluice + ["-d", args.device, "-b", "1"], json_path),
        ORT_ONE: (ort + ["--threads", k, "--sessions", "1"], None),
        ORT_MANY: (ort + ["--threads", "1", "--sessions", k], None),
    }


def batch_device(args):
    return f"BATCH:{args.device}({args.batch})"


def summary(report):
    return (f"{report['throughput_fps']:.2f} FPS, median latency {report['latency_ms']['median']:.2f} ms"
            f"{describe_config(report)}")


def variant_name(variant, args):
    if variant == BATCH:
        return batch_device(args)
    if variant == BATCHED:
        return f"-b {args.batch}"
    if variant == IMPLICIT:
        return f"{args.device} THROUGHPUT, implicit batching"
    return variant.replace("K", str(args.threads)) if variant.startswith("ORT") else variant


def describe_config(report):
    if report.get("device") == "ORT-CPU":
        return ""
    text = (f" (NUM_STREAMS {prop(report, 'NUM_STREAMS')}, INFERENCE_NUM_THREADS "
            f"{prop(report, 'INFERENCE_NUM_THREADS')}, {report.get('requests', '?')} requests, batch "
            f"{report.get('batch', '?')}")
    batching = report.get("auto_batch")
    if batching:
        text += (f"; batched by {batching['batch']}, AUTO_BATCH_TIMEOUT {batching['timeout_ms']} ms: "
                 f"{batching['full_batches']} full batches, {batching['timed_out']} requests timed out")
    return text + ")"


def fps_of(variant):
    return lambda runs, i: runs[variant][i]["throughput_fps"] if runs[variant][i] is not None else None


def best_ort(runs, index=None):
    """The better ORT configuration's FPS: of the medians (index None), or of one round."""
    if index is None:
        values = [median_of(runs[ORT_ONE], "throughput_fps"), median_of(runs[ORT_MANY], "throughput_fps")]
    else:
        values = [fps_of(v)(runs, index) for v in (ORT_ONE, ORT_MANY)]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def round_ratios(args, runs, numerator, denominator):
    """Per round: numerator(runs, i) / denominator(runs, i), None where either failed."""
    return [ratio_value(numerator(runs, i), denominator(runs, i)) for i in range(args.rounds)]


def counter(report, key):
    """A BATCH run's counter over its measured inferences (auto_batch in the JSON); None where absent."""
    value = (report or {}).get("auto_batch", {}).get(key)
    return None if value is None or value < 0 else value


def batched_share(report):
    """The share of a BATCH run's requests that ran in a full batch."""
    full = counter(report, "full_batches")
    batch = (report or {}).get("auto_batch", {}).get("batch")
    if full is None or not batch or batch < 1 or not report.get("count"):
        return None
    return full * batch / report["count"]


def fmt_count(value):
    """A (median) counter; "-" where the device reported none."""
    return "-" if value is None else f"{value:g}"


def ratio_cell(runs, args, denominator_median, denominator_round, target=None, numerator=BATCH):
    """"median ratio (median of per-round ratios)" of the numerator variant's FPS, as throughput.py prints
    them."""
    fps = median_of(runs[numerator], "throughput_fps")
    of_medians = ratio_value(fps, denominator_median)
    per_round = median_or_none(round_ratios(args, runs, fps_of(numerator), denominator_round))
    return f"{fmt_ratio(of_medians, target)} ({fmt_ratio(per_round)})"


def implicit_resolution(reports):
    """What the implicit batching runs became: "auto-batched, batch N" (N: the batch BATCH used) or "not
    batched"; every distinct outcome where the runs differ."""
    outcomes = {f"auto-batched, batch {r['auto_batch'].get('batch', '?')}" if r.get("auto_batch")
                else "not batched" for r in reports}
    return " / ".join(sorted(outcomes)) or "failed"


def report_markdown(args, results):
    k, n = args.threads, args.batch
    ort_one, ort_many = f"ORT 1x{k}", f"ORT {k}x1"
    ort_version = "?"
    for model in args.models:
        for report in ok(results[model][ORT_ONE]) + ok(results[model][ORT_MANY]):
            ort_version = report["properties"].get("ONNXRUNTIME_VERSION", ort_version)
    lines = [f"## Automatic batching: sluice's BATCH device vs batching by hand, THROUGHPUT streams and "
             f"ONNX Runtime {ort_version} (CPU)", ""]
    lines += header_lines(f"{plural(args.rounds, 'round')} x {args.time:g} s per run after the warm-up; "
                          f"{batch_device(args)} (batch-1 requests) vs -d {args.device} -b {n} vs -d "
                          f"{args.device} -b 1, each -hint throughput, async API, -nthreads {k}, "
                          "OPTIMAL_NUMBER_OF_INFER_REQUESTS requests in flight; "
                          f"{ort_one} / {ort_many}: ONNX Runtime at batch 1, one session of {k} threads / "
                          f"{k} sessions of one thread",
                          memory=True, mark_uncommitted=True)
    lines += ["", "Throughput (samples per second, median of the rounds; higher is better). The ratios are "
              "of the medians; in brackets, the median of the per-round ratios. Bold: target met. Full "
              "batches and timed-out requests: BATCH's counters over its measured inferences (median of "
              "the rounds).", "",
              f"| model | N | BATCH FPS | -b N FPS | BATCH / -b N (target >= {TARGET_VS_BATCHED}) | "
              "BATCH / THROUGHPUT | BATCH / best ORT | full batches | timed-out requests |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        runs = results[model]
        fps = {variant: median_of(runs[variant], "throughput_fps") for variant in VARIANTS}
        full = median_or_none([counter(r, "full_batches") for r in runs[BATCH]])
        timed_out = median_or_none([counter(r, "timed_out") for r in runs[BATCH]])
        lines.append(
            f"| {model} | {n} | {fmt(fps[BATCH])} | {fmt(fps[BATCHED])} | "
            f"{ratio_cell(runs, args, fps[BATCHED], fps_of(BATCHED), TARGET_VS_BATCHED)} | "
            f"{ratio_cell(runs, args, fps[THROUGHPUT], fps_of(THROUGHPUT))} | "
            f"{ratio_cell(runs, args, best_ort(runs), best_ort)} | {fmt_count(full)} | "
            f"{fmt_count(timed_out)} |")

    lines += ["", f"Implicit batching: -d {args.device} -hint throughput with ALLOW_AUTO_BATCHING left on "
              "(its default), batch-1 requests: the core wraps the device in BATCH where the device's "
              "OPTIMAL_BATCH_SIZE for the model (read from the THROUGHPUT run, which is not batched) is > 1, "
              "with that batch. Ratios as above.", "",
              f"| model | {args.device}'s OPTIMAL_BATCH_SIZE | implicit run | implicit FPS | THROUGHPUT FPS "
              "| best ORT FPS | implicit / THROUGHPUT | implicit / best ORT | full batches | "
              "timed-out requests |",
              "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        runs = results[model]
        optimal = distinct_values([str(prop(r, "OPTIMAL_BATCH_SIZE")) for r in ok(runs[THROUGHPUT])])
        throughput = median_of(runs[THROUGHPUT], "throughput_fps")
        full = median_or_none([counter(r, "full_batches") for r in runs[IMPLICIT]])
        timed_out = median_or_none([counter(r, "timed_out") for r in runs[IMPLICIT]])
        lines.append(
            f"| {model} | {optimal} | {implicit_resolution(ok(runs[IMPLICIT]))} | "
            f"{fmt(median_of(runs[IMPLICIT], 'throughput_fps'))} | "
            f"{fmt(throughput)} | {fmt(best_ort(runs))} | "
            f"{ratio_cell(runs, args, throughput, fps_of(THROUGHPUT), numerator=IMPLICIT)} | "
            f"{ratio_cell(runs, args, best_ort(runs), best_ort, numerator=IMPLICIT)} | {fmt_count(full)} | "
            f"{fmt_count(timed_out)} |")

    lines += ["", "What each run resolved to (from the compiled model's properties; requests: in flight, "
              "each of the batch given), and latency (ms, median of the rounds' medians; a BATCH request's "
              "latency includes its wait for the batch to fill):", "",
              "| model | run | FPS | NUM_STREAMS (ORT: sessions) | INFERENCE_NUM_THREADS | requests | "
              "batch | AUTO_BATCH_TIMEOUT ms | requests in full batches | median latency | p90 latency |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        for variant in (BATCH, BATCHED, THROUGHPUT, IMPLICIT):
            reports = ok(results[model][variant])
            name = variant_name(variant, args)
            if not reports:
                lines.append(f"| {model} | {name} | failed | | | | | | | | |")
                continue
            # The resolution is deterministic for one machine and model; list every distinct one seen.
            def distinct(get):
                return " / ".join(sorted({str(get(r)) for r in reports}))
            if variant == IMPLICIT and any(r.get("auto_batch") for r in reports):
                name += " (auto-batched)"  # the point of the run: the hint alone turned on batching
            elif variant != BATCH and any(r.get("auto_batch") for r in reports):
                name += " (auto-batched!)"  # ALLOW_AUTO_BATCHING=NO did not hold: not what was meant
            timeout = distinct(lambda r: r.get("auto_batch", {}).get("timeout_ms", "-"))
            share = median_or_none([batched_share(r) for r in reports])
            p90 = statistics.median(r["latency_ms"]["p90"] for r in reports)
            lines.append(
                f"| {model} | {name} | {fmt(median_of(reports, 'throughput_fps'))} | "
                f"{distinct(lambda r: prop(r, 'NUM_STREAMS'))} | "
                f"{distinct(lambda r: prop(r, 'INFERENCE_NUM_THREADS'))} | "
                f"{distinct(lambda r: r.get('requests', '?'))} | {distinct(lambda r: r.get('batch', '?'))} | "
                f"{timeout} | {'-' if share is None else f'{share:.0%}'} | "
                f"{fmt(median_latency(reports))} | {fmt(p90)} |")
        for variant, name in ((ORT_ONE, ort_one), (ORT_MANY, ort_many)):
            reports = ok(results[model][variant])
            p90 = statistics.median(r["latency_ms"]["p90"] for r in reports) if reports else None
            sessions, threads = (1, k) if variant == ORT_ONE else (k, 1)
            lines.append(f"| {model} | {name} | {fmt(median_of(reports, 'throughput_fps'))} | {sessions} | "
                         f"{threads} | {sessions} | 1 | - | - | {fmt(median_latency(reports))} | "
                         f"{fmt(p90)} |")

    lines += ["", "Every run (FPS, in round order; 'failed': see the log on stderr):", ""]
    for model in args.models:
        runs = results[model]
        for variant in VARIANTS:
            values = ", ".join("failed" if r is None else f"{r['throughput_fps']:.2f}" for r in runs[variant])
            lines.append(f"- {model}, {variant_name(variant, args)}: {values}")
        for variant in (BATCH, IMPLICIT):
            counters = ", ".join("failed" if r is None else
                                 f"{fmt_count(counter(r, 'full_batches'))} / "
                                 f"{fmt_count(counter(r, 'timed_out'))}" for r in runs[variant])
            lines.append(f"- {model}, {variant_name(variant, args)} full batches / timed-out requests: "
                         f"{counters}")
        for name, denominator in ((f"-b {n}", fps_of(BATCHED)), ("THROUGHPUT", fps_of(THROUGHPUT)),
                                  ("best ORT", best_ort)):
            per_round = round_ratios(args, runs, fps_of(BATCH), denominator)
            lines.append(f"- {model}, BATCH / {name} per round: {', '.join(fmt_ratio(v) for v in per_round)}")
        for name, denominator in (("THROUGHPUT", fps_of(THROUGHPUT)), ("best ORT", best_ort)):
            per_round = round_ratios(args, runs, fps_of(IMPLICIT), denominator)
            lines.append(f"- {model}, implicit / {name} per round: "
                         f"{', '.join(fmt_ratio(v) for v in per_round)}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools("batching", args, node=True)
    make_models("batching", args)
    results = measure_models(args, bench_commands, summary, lambda variant: variant_name(variant, args))
    publish(args, report_markdown(args, results))
    return exit_status("batching", count_failed(results))


if __name__ == "__main__":
    sys.exit(main())
