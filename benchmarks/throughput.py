#!/usr/bin/python3
"""Many requests at once: Sluice's THROUGHPUT hint against its LATENCY hint and against ONNX Runtime run for
throughput, as a markdown table.

For R rounds, and in each round for every model in turn, runs four benchmarks, each in its own process,
each for T seconds after the warm-up:
    sluice bench -m MODEL -d DEVICE -api async -hint throughput -nthreads N -t T --json ...   (THROUGHPUT)
    sluice bench -m MODEL -d DEVICE -api async -hint latency -nthreads N -t T --json ...      (LATENCY)
    node benchmarks/ort_bench.js MODEL --threads N --sessions 1 -t T       (ORT 1xN: one session, N threads)
    node benchmarks/ort_bench.js MODEL --threads 1 --sessions N -t T       (ORT Nx1: N sessions x 1 thread)
Both sluice runs keep the compiled model's OPTIMAL_NUMBER_OF_INFER_REQUESTS in flight (bench's default
-nireq); the hint alone chooses NUM_STREAMS and the threads per stream. The ORT runs are the two ways to
spend N threads with ONNX Runtime: one session with N intra-op threads (one request in flight), or N
sessions of one thread, each with its own request in flight. Interleaving the runs spreads slow phases of a
shared machine over all four. The tables give medians over the rounds; every run's numbers follow them.

Targets: THROUGHPUT / max(ORT 1xN, ORT Nx1) >= 1.1, and THROUGHPUT / LATENCY >= 1.0.

The models are made first when missing (models/make_test_models.py, with random weights).

    /usr/bin/python3 benchmarks/throughput.py [--models resnet50,mobilenet_v2,bert_base] [--rounds 5]
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

THROUGHPUT, LATENCY, ORT_ONE, ORT_MANY = "THROUGHPUT", "LATENCY", "ORT 1xN", "ORT Nx1"
VARIANTS = [THROUGHPUT, LATENCY, ORT_ONE, ORT_MANY]
TARGET_VS_ORT = 1.1
TARGET_VS_LATENCY = 1.0


def parse_args():
    parser = new_parser(__doc__, models=True, rounds_default=5,
                        rounds_help="rounds of the four runs per model (default 5)", time_default=10,
                        time_help="seconds measured per run (default 10)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of each side: sluice -nthreads (over all its streams); ORT 1 session x "
                             "N threads and N sessions x 1 thread (default 2, the project machine's cores)")
    add_sluice_options(parser, device=True, models_dir=True)
    add_out_option(parser)
    args = parse(parser)
    check_counts(parser, args, "threads")
    return args


def bench_commands(args, model_path, json_path):
    t = f"{args.time:g}"
    n = str(args.threads)
    sluice = [str(args.sluice), "bench", "-m", str(model_path), "-d", args.device, "-api", "async",
              "-nthreads", n, "-t", t, "--json", str(json_path)]
    ort = ["node", str(BENCHMARKS / "ort_bench.js"), str(model_path), "-t", t]
    return {
        THROUGHPUT: (sluice + ["-hint", "throughput"], json_path),
        LATENCY: (sluice + ["-hint", "latency"], json_path),
        ORT_ONE: (ort + ["--threads", n, "--sessions", "1"], None),
        ORT_MANY: (ort + ["--threads", "1", "--sessions", n], None),
    }


def summary(report):
    return (f"{report['throughput_fps']:.2f} FPS, median latency {report['latency_ms']['median']:.2f} ms"
            f"{describe_config(report)}")


def variant_name(variant, args):
    return variant.replace("N", str(args.threads)) if variant.startswith("ORT") else variant


def threads_per_stream(report):
    """INFERENCE_NUM_THREADS is over all streams; the CPU device splits it into groups of equal size +-1."""
    try:
        threads, streams = int(prop(report, "INFERENCE_NUM_THREADS")), int(prop(report, "NUM_STREAMS"))
    except ValueError:
        return "?"
    if streams <= 0:
        return "?"
    return str(threads // streams) if threads % streams == 0 else f"{threads / streams:.1f}"


def describe_config(report):
    if report.get("device") == "ORT-CPU":
        return ""
    return (f" (NUM_STREAMS {prop(report, 'NUM_STREAMS')}, INFERENCE_NUM_THREADS "
            f"{prop(report, 'INFERENCE_NUM_THREADS')}, {report.get('requests', '?')} requests)")


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


def fps_of(variant):
    return lambda runs, i: runs[variant][i]["throughput_fps"] if runs[variant][i] is not None else None


def report_markdown(args, results):
    n = args.threads
    ort_one, ort_many = f"ORT 1x{n}", f"ORT {n}x1"
    ort_version = "?"
    for model in args.models:
        for report in ok(results[model][ORT_ONE]) + ok(results[model][ORT_MANY]):
            ort_version = report["properties"].get("ONNXRUNTIME_VERSION", ort_version)
    lines = [f"## Many requests at once: sluice's hints vs ONNX Runtime {ort_version} (CPU)", ""]
    lines += header_lines(f"{plural(args.rounds, 'round')} x {args.time:g} s per run after the warm-up; "
                          f"sluice device {args.device}, async API, -nthreads {n}, "
                          f"OPTIMAL_NUMBER_OF_INFER_REQUESTS requests in flight; {ort_one}: one session of "
                          f"{n} intra-op threads; {ort_many}: {n} sessions of one thread, each with one "
                          "request in flight", memory=True, mark_uncommitted=True)
    lines += ["", "Throughput (FPS, median of the rounds; higher is better). The ratios are of the medians; "
              "in brackets, the median of the per-round ratios. Bold: target met.", "",
              f"| model | THROUGHPUT | LATENCY | {ort_one} | {ort_many} | THROUGHPUT / best ORT "
              f"(target >= {TARGET_VS_ORT}x) | THROUGHPUT / LATENCY (target >= {TARGET_VS_LATENCY}x) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        runs = results[model]
        fps = {variant: median_of(runs[variant], "throughput_fps") for variant in VARIANTS}
        vs_ort = ratio_value(fps[THROUGHPUT], best_ort(runs))
        vs_latency = ratio_value(fps[THROUGHPUT], fps[LATENCY])
        per_round_ort = median_or_none(round_ratios(args, runs, fps_of(THROUGHPUT), best_ort))
        per_round_latency = median_or_none(round_ratios(args, runs, fps_of(THROUGHPUT), fps_of(LATENCY)))
        lines.append(f"| {model} | {fmt(fps[THROUGHPUT])} | {fmt(fps[LATENCY])} | {fmt(fps[ORT_ONE])} | "
                     f"{fmt(fps[ORT_MANY])} | {fmt_ratio(vs_ort, TARGET_VS_ORT)} "
                     f"({fmt_ratio(per_round_ort)}) | {fmt_ratio(vs_latency, TARGET_VS_LATENCY)} "
                     f"({fmt_ratio(per_round_latency)}) |")

    lines += ["", "What each hint resolved to (from the compiled model's properties; threads per stream = "
              "INFERENCE_NUM_THREADS / NUM_STREAMS), and latency (ms, median of the rounds' medians):", "",
              "| model | hint | NUM_STREAMS (ORT: sessions) | threads per stream | requests in flight | "
              "median latency | p90 latency |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        for variant in (THROUGHPUT, LATENCY):
            reports = ok(results[model][variant])
            if not reports:
                lines.append(f"| {model} | {variant} | failed | | | | |")
                continue
            # The resolution is deterministic for one machine and model; list every distinct one seen.
            configs = sorted({(prop(r, "NUM_STREAMS"), threads_per_stream(r), str(r.get("requests", "?")))
                              for r in reports})
            p90 = statistics.median(r["latency_ms"]["p90"] for r in reports)
            lines.append(f"| {model} | {variant} | {' / '.join(c[0] for c in configs)} | "
                         f"{' / '.join(c[1] for c in configs)} | {' / '.join(c[2] for c in configs)} | "
                         f"{fmt(median_latency(reports))} | {fmt(p90)} |")
        for variant, name in ((ORT_ONE, ort_one), (ORT_MANY, ort_many)):
            reports = ok(results[model][variant])
            p90 = statistics.median(r["latency_ms"]["p90"] for r in reports) if reports else None
            sessions, threads = (1, n) if variant == ORT_ONE else (n, 1)
            lines.append(f"| {model} | {name} | {sessions} | {threads} | "
                         f"{sessions} | {fmt(median_latency(reports))} | {fmt(p90)} |")

    lines += ["", "Every run (FPS, in round order; 'failed': see the log on stderr):", ""]
    for model in args.models:
        runs = results[model]
        for variant in VARIANTS:
            values = ", ".join("failed" if r is None else f"{r['throughput_fps']:.2f}" for r in runs[variant])
            lines.append(f"- {model}, {variant_name(variant, args)}: {values}")
        for name, denominator in (("best ORT", best_ort), ("LATENCY", fps_of(LATENCY))):
            per_round = round_ratios(args, runs, fps_of(THROUGHPUT), denominator)
            lines.append(f"- {model}, THROUGHPUT / {name} per round: "
                         f"{', '.join(fmt_ratio(v) for v in per_round)}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools("throughput", args, node=True)
    make_models("throughput", args)
    results = measure_models(args, bench_commands, summary, lambda variant: variant_name(variant, args))
    publish(args, report_markdown(args, results))
    return exit_status("throughput", count_failed(results))


if __name__ == "__main__":
    sys.exit(main())
