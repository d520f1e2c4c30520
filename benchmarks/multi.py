#!/usr/bin/python3
"""MULTI's request-level balancing: MULTI over two devices against the sum of their standalone throughputs,
as markdown tables.

Devices that share the same cores cannot add up: CPU and REF both run on this machine's cores, so whatever
MULTI does, MULTI:CPU,REF gets about what the cores give. The scheduling is therefore measured against SIM,
a simulated accelerator that `sluice bench --sim-device SERVICE_MS:CONCURRENCY` registers (benchmark only,
src/tools/sluice/sim_device.hpp): each inference ends SERVICE_MS after it starts, up to CONCURRENCY at once,
asleep, without using the CPU, and it computes nothing (its outputs are zeros). CPU + SIM is then what a
perfect scheduler reaches, and MULTI:CPU,SIM / (CPU + SIM) says how close MULTI comes.

For R rounds, and in each round for every model in turn, runs these benchmarks, each in its own process,
each for T seconds after the warm-up, each with -hint throughput, the async API and the compiled model's
OPTIMAL_NUMBER_OF_INFER_REQUESTS in flight (for MULTI, the sum of its devices'):
    sluice bench -m MODEL -d CPU ...                                              (CPU)
    sluice bench -m MODEL -d SIM --sim-device S:C ...                             (SIM)
    sluice bench -m MODEL -d MULTI:CPU,SIM --sim-device S:C ...                   (MULTI:CPU,SIM)
    sluice bench -m MODEL -d REF ...                                              (REF; --ref-models only)
    sluice bench -m MODEL -d MULTI:CPU,REF ...                                    (MULTI:CPU,REF; likewise)
SIM's service time S is chosen per model so that SIM alone is about as fast as the CPU alone (the case
where balancing matters most): S = 1000 x C / the CPU's FPS in a calibration run of the CPU before the
rounds, or --sim-ms. REF runs only on --ref-models (default mobilenet_v2): REF's reference kernels take
seconds per ResNet-50 inference, and a MULTI run waits for the requests REF holds when the time is up.
Interleaving the runs spreads slow phases of a shared machine over all of them. Keep T long against the
service time: a run ends when its last request does, and in MULTI the device that finishes first then
idles, a loss of up to one service time per run (ResNet-50's is near 190 ms here: about 6% of T = 3 s,
2% of 10 s). The tables give medians
over the rounds; every run's numbers follow them. MULTI's per-device served requests are its
SERVED_REQUESTS over the measured inferences (bench's JSON "served_requests").

Target: MULTI:CPU,SIM / (CPU + SIM) >= 0.95. MULTI:CPU,REF is reported as it is, with the reason.

The models are made first when missing (models/make_test_models.py, with random weights).

    /usr/bin/python3 benchmarks/multi.py [--models resnet50,mobilenet_v2] [--rounds 5] [--time 10]
        [--sim-concurrency 4] [--sim-ms MS] [--ref-models mobilenet_v2] [--sluice build/sluice]
        [--models-dir build/models] [--out results.md]

Standard library only.
"""
import os
import pathlib
import sys
import tempfile

from bench_common import (add_out_option, add_sluice_options, check_counts, check_tools, count_failed,
                          exit_status, fmt, fmt_ratio, header_lines, log, make_models, measure_models,
                          median_latency, median_of, median_or_none, new_parser, ok, parse, plural, prop,
                          publish, ratio_value, run_json)

CPU, SIM, MULTI_SIM, REF, MULTI_REF = "CPU", "SIM", "MULTI:CPU,SIM", "REF", "MULTI:CPU,REF"
VARIANTS = [CPU, SIM, MULTI_SIM, REF, MULTI_REF]
MODELS = "resnet50,mobilenet_v2"
TARGET_VS_SUM = 0.95


def parse_args():
    parser = new_parser(__doc__, models=True, rounds_default=5,
                        rounds_help="rounds of the runs per model (default 5)", time_default=10,
                        time_help="seconds measured per run (default 10)")
    parser.set_defaults(models=MODELS)
    parser.add_argument("--sim-concurrency", type=int, default=4,
                        help="C: inferences SIM serves at once (--sim-device S:C; default 4)")
    parser.add_argument("--sim-ms", type=float,
                        help="S: SIM's service time in ms for every model (default: per model, 1000 x C / "
                             "the CPU's FPS in a calibration run, so that SIM alone matches the CPU)")
    parser.add_argument("--ref-models", default="mobilenet_v2",
                        help="models that also run REF and MULTI:CPU,REF, comma-separated, or 'none' "
                             "(default: %(default)s; REF takes seconds per ResNet-50 inference)")
    add_sluice_options(parser, device=False, models_dir=True)
    add_out_option(parser)
    args = parse(parser)
    check_counts(parser, args)
    if args.sim_concurrency < 1 or (args.sim_ms is not None and args.sim_ms <= 0):
        parser.error("--sim-concurrency must be >= 1 and --sim-ms > 0")
    args.ref_models = [] if args.ref_models == "none" else [m for m in args.ref_models.split(",") if m]
    return args


def sim_device(args, model):
    return f"{args.sim_ms_by_model[model]:g}:{args.sim_concurrency}"


def calibrate(args):
    """SIM's service time per model: --sim-ms, or 1000 x C / the CPU's FPS in one run of -t T, so that SIM
    alone serves about as many requests per second as the CPU. Sets args.sim_ms_by_model; exits when a
    calibration run fails."""
    args.sim_ms_by_model = {}
    args.calibration_fps = {}
    for model in args.models:
        if args.sim_ms is not None:
            args.sim_ms_by_model[model] = args.sim_ms
            continue
        log(f"calibration, {model}, CPU")
        with tempfile.TemporaryDirectory() as scratch:
            json_path = pathlib.Path(scratch) / "bench.json"
            report = run_json(cpu_command(args, args.models_dir / model / "model.onnx", json_path), json_path,
                              args.time * 3 + 600)
        if report is None or report["throughput_fps"] <= 0:
            sys.exit(f"multi: the CPU calibration run of {model} failed (see above); or give --sim-ms")
        fps = report["throughput_fps"]
        args.calibration_fps[model] = fps
        # Two significant decimals are plenty: the ratio compares runs of the same S.
        args.sim_ms_by_model[model] = round(1000 * args.sim_concurrency / fps, 2)
        log(f"  {fps:.2f} FPS: SIM service time {args.sim_ms_by_model[model]:g} ms x {args.sim_concurrency}")


def cpu_command(args, model_path, json_path):
    return [str(args.sluice), "bench", "-m", str(model_path), "-d", CPU, "-api", "async", "-hint",
            "throughput", "-t", f"{args.time:g}", "--json", str(json_path)]


def bench_commands(args, model_path, json_path):
    model = model_path.parent.name
    sluice = [str(args.sluice), "bench", "-m", str(model_path), "-api", "async", "-hint", "throughput", "-t",
              f"{args.time:g}", "--json", str(json_path)]
    sim = ["--sim-device", sim_device(args, model)]
    commands = {
        CPU: (cpu_command(args, model_path, json_path), json_path),
        SIM: (sluice + ["-d", SIM] + sim, json_path),
        MULTI_SIM: (sluice + ["-d", MULTI_SIM] + sim, json_path),
    }
    if model in args.ref_models:
        commands[REF] = (sluice + ["-d", REF], json_path)
        commands[MULTI_REF] = (sluice + ["-d", MULTI_REF], json_path)
    return commands


def served_text(report):
    """"CPU 120, SIM 140": a MULTI run's served requests per device; "" for other runs."""
    served = (report or {}).get("served_requests")
    return ", ".join(f"{device} {count}" for device, count in served.items()) if served else ""


def summary(report):
    return (f"{report['throughput_fps']:.2f} FPS, median latency {report['latency_ms']['median']:.2f} ms "
            f"(NUM_STREAMS {prop(report, 'NUM_STREAMS')}, {report.get('requests', '?')} requests"
            f"{'; served ' + served_text(report) if served_text(report) else ''})")


def fps_of(variant):
    return lambda runs, i: (runs[variant][i] or {}).get("throughput_fps") if variant in runs else None


def sum_of(*variants):
    """Per round: the sum of the variants' FPS (None where one failed)."""
    def fps(runs, i):
        values = [fps_of(v)(runs, i) for v in variants]
        return None if None in values else sum(values)
    return fps


def median_fps(runs, variant):
    return median_of(runs[variant], "throughput_fps") if variant in runs else None


def round_ratios(args, runs, numerator, denominator):
    return [ratio_value(numerator(runs, i), denominator(runs, i)) for i in range(args.rounds)]


def ratio_cell(args, runs, numerator, denominator_median, denominator_round, target=None):
    """"median ratio (median of per-round ratios)", as throughput.py prints them."""
    of_medians = ratio_value(median_fps(runs, numerator), denominator_median)
    per_round = median_or_none(round_ratios(args, runs, fps_of(numerator), denominator_round))
    return f"{fmt_ratio(of_medians, target)} ({fmt_ratio(per_round)})"


def served_share(reports, devices):
    """"CPU 48% / SIM 52%": each device's share of the requests MULTI served, summed over the rounds."""
    totals = {device: 0 for device in devices}
    for report in ok(reports):
        for device, count in report.get("served_requests", {}).items():
            totals[device] = totals.get(device, 0) + count
    total = sum(totals.values())
    if not total:
        return "-"
    return " / ".join(f"{device} {count / total:.0%}" for device, count in totals.items())


def part_fps(reports, device):
    """A device's own throughput inside MULTI: the requests it served / the run's duration (median of the
    rounds)."""
    return median_or_none([r["served_requests"][device] / (r["duration_ms"] / 1000) for r in ok(reports)
                           if device in r.get("served_requests", {}) and r.get("duration_ms")])


def standalone_share(a, b):
    """Each device's share of the sum of the standalone FPS: what balancing in proportion to speed gives."""
    if a is None or b is None or a + b == 0:
        return "-"
    return f"{a / (a + b):.0%} / {b / (a + b):.0%}"


def report_markdown(args, results):
    c = args.sim_concurrency
    cores = os.cpu_count()
    lines = ["## MULTI: request-level balancing over two devices vs the sum of their throughputs", ""]
    sims = ", ".join(f"{model} {args.sim_ms_by_model[model]:g} ms" for model in args.models)
    lines += header_lines(f"{plural(args.rounds, 'round')} x {args.time:g} s per run after the warm-up; "
                          "-hint throughput, async API, OPTIMAL_NUMBER_OF_INFER_REQUESTS requests in flight "
                          f"(MULTI: the sum of its devices'); SIM: --sim-device S:{c}, S = {sims}",
                          memory=True, mark_uncommitted=True)
    lines += ["", "SIM is a **simulated accelerator, for benchmarking only**: each inference ends S ms "
              f"after it starts, up to {c} at once, asleep (no CPU use), and it computes nothing (its "
              "outputs are zeros). S is chosen so that SIM alone is about as fast as the CPU alone"
              + (" (--sim-ms)." if args.sim_ms is not None else
                 " (S = 1000 x C / the CPU's FPS in a calibration run before the rounds: "
                 + ", ".join(f"{model} {fps:.2f} FPS" for model, fps in args.calibration_fps.items()) + ")."),
              "", "Throughput (FPS, median of the rounds; higher is better). The ratios are of the medians; "
              "in brackets, the median of the per-round ratios, each against the standalone runs of its own "
              "round. Bold: target met. Served share: MULTI's SERVED_REQUESTS over its measured inferences, "
              "all rounds together; the standalone share is each device's part of CPU + SIM, what balancing "
              "in proportion to speed gives.", "",
              f"| model | CPU FPS | SIM FPS | CPU + SIM | MULTI:CPU,SIM FPS | MULTI / (CPU + SIM) (target >= "
              f"{TARGET_VS_SUM}) | served share CPU / SIM | standalone share CPU / SIM |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        runs = results[model]
        cpu, sim = median_fps(runs, CPU), median_fps(runs, SIM)
        both = None if cpu is None or sim is None else cpu + sim
        lines.append(f"| {model} | {fmt(cpu)} | {fmt(sim)} | {fmt(both)} | "
                     f"{fmt(median_fps(runs, MULTI_SIM))} | "
                     f"{ratio_cell(args, runs, MULTI_SIM, both, sum_of(CPU, SIM), TARGET_VS_SUM)} | "
                     f"{served_share(runs[MULTI_SIM], [CPU, SIM])} | {standalone_share(cpu, sim)} |")

    ref_models = [model for model in args.models if model in args.ref_models]
    lines += ["", "MULTI:CPU,REF, as it is. REF is a real device that runs on the same cores as the CPU "
              "device, so the two cannot add up: whatever MULTI does, the cores do the work of both."]
    skipped = [model for model in args.models if model not in args.ref_models]
    if skipped:
        lines[-1] += (f" Not run on {', '.join(skipped)} (--ref-models): REF's reference kernels take "
                      "seconds per inference there.")
    lines[-1] += (" The CPU and REF parts are each device's own throughput inside MULTI:CPU,REF (its served "
                  "requests / the run's duration).")
    lines += ["", "| model | CPU FPS | REF FPS | MULTI:CPU,REF FPS | MULTI:CPU,REF / CPU | CPU part | "
              "REF part | served share CPU / REF | why |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for model in ref_models:
        runs = results[model]
        cpu, ref = median_fps(runs, CPU), median_fps(runs, REF)
        multi = runs.get(MULTI_REF, [])
        cpu_part, ref_part = part_fps(multi, CPU), part_fps(multi, REF)
        ref_streams = " / ".join(sorted({prop(r, "NUM_STREAMS") for r in ok(runs.get(REF, []))})) or "?"
        ref_latency = median_latency(runs.get(REF, []))
        why = (f"REF's {ref_streams} single-threaded streams run on the same {cores} cores as the CPU "
               f"device's: the CPU device, alone {fmt(cpu)} FPS, gets {fmt(cpu_part)} FPS beside REF, whose "
               f"{fmt(ref_part)} FPS do not make up for it (REF computes the same model "
               f"{fmt(ratio_value(cpu, ref), 0)}x slower). The measurement also waits for the requests REF "
               f"holds when the time is up (about {fmt(ref_latency, 0)} ms each).")
        lines.append(f"| {model} | {fmt(cpu)} | {fmt(ref)} | {fmt(median_fps(runs, MULTI_REF))} | "
                     f"{ratio_cell(args, runs, MULTI_REF, cpu, fps_of(CPU))} | {fmt(cpu_part)} | "
                     f"{fmt(ref_part)} | {served_share(multi, [CPU, REF])} | {why} |")

    lines += ["", "What each run resolved to (from the compiled model's properties; MULTI's are its first "
              "device's) and latency (ms, median of the rounds' medians):", "",
              "| model | run | NUM_STREAMS | requests in flight | median latency |",
              "| --- | --- | ---: | ---: | ---: |"]
    for model in args.models:
        for variant in VARIANTS:
            if variant not in results[model]:
                continue
            reports = ok(results[model][variant])
            if not reports:
                lines.append(f"| {model} | {variant} | failed | | |")
                continue
            streams = " / ".join(sorted({prop(r, "NUM_STREAMS") for r in reports}))
            requests = " / ".join(sorted({str(r.get("requests", "?")) for r in reports}))
            lines.append(f"| {model} | {variant} | {streams} | {requests} | {fmt(median_latency(reports))} |")

    lines += ["", "Every run (FPS, in round order; 'failed': see the log on stderr):", ""]
    for model in args.models:
        runs = results[model]
        for variant in VARIANTS:
            if variant not in runs:
                continue
            values = ", ".join("failed" if r is None else f"{r['throughput_fps']:.2f}"
                               + (f" (served {served_text(r)})" if served_text(r) else "")
                               for r in runs[variant])
            lines.append(f"- {model}, {variant}: {values}")
        per_round = round_ratios(args, runs, fps_of(MULTI_SIM), sum_of(CPU, SIM))
        lines.append(f"- {model}, MULTI:CPU,SIM / (CPU + SIM) per round: "
                     f"{', '.join(fmt_ratio(v) for v in per_round)}")
        if MULTI_REF in runs:
            per_round = round_ratios(args, runs, fps_of(MULTI_REF), fps_of(CPU))
            lines.append(f"- {model}, MULTI:CPU,REF / CPU per round: "
                         f"{', '.join(fmt_ratio(v) for v in per_round)}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools("multi", args)
    make_models("multi", args)
    calibrate(args)
    results = measure_models(args, bench_commands, summary)
    publish(args, report_markdown(args, results))
    return exit_status("multi", count_failed(results))


if __name__ == "__main__":
    sys.exit(main())
