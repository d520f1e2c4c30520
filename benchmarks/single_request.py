#!/usr/bin/python3
"""One request at a time: Sluice's throughput against ONNX Runtime's CPU library, as a markdown table.

For R rounds, and in each round for every model in turn, runs three benchmarks, each in its own process
(so that peak RSS is per process), each for T seconds after one warm-up inference:
    sluice bench -m MODEL -d DEVICE -api sync -hint latency -nthreads N -t T --json ...   (sluice f32)
    sluice bench ... the same ... -infer_precision bf16 --json ...                       (sluice bf16)
    node benchmarks/ort_bench.js MODEL --threads N -t T                              (ONNX Runtime, CPU EP)
Interleaving the runs spreads slow phases of a shared machine over all three. The table gives the median
over the rounds of each number; every run's numbers follow it.

The models are made first when missing (models/make_test_models.py, with random weights).

    /usr/bin/python3 benchmarks/single_request.py [--models resnet50,mobilenet_v2,bert_base] [--rounds 5]
        [--time 10] [--threads 2] [--device CPU] [--sluice build/sluice] [--models-dir build/models]
        [--out results.md]

Standard library only; needs `node` and benchmarks/node_modules (cd benchmarks && npm ci --ignore-scripts).
"""
import sys

from bench_common import (BENCHMARKS, add_out_option, add_sluice_options, check_counts, check_tools,
                          count_failed, exit_status, fmt, fmt_ratio, header_lines, make_models,
                          measure_models, median_latency, median_of, new_parser, ok, parse, plural, publish,
                          ratio_value)

VARIANTS = ["sluice f32", "sluice bf16", "ORT"]


def parse_args():
    parser = new_parser(__doc__, models=True, rounds_default=5,
                        rounds_help="rounds of the three runs per model (default 5)", time_default=10,
                        time_help="seconds measured per run (default 10)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of each side: sluice -nthreads, ORT intra-op threads (default 2)")
    add_sluice_options(parser, device=True, models_dir=True)
    add_out_option(parser)
    args = parse(parser)
    check_counts(parser, args, "threads")
    return args


def bench_commands(args, model_path, json_path):
    t = f"{args.time:g}"
    sluice = [str(args.sluice), "bench", "-m", str(model_path), "-d", args.device, "-api", "sync", "-hint",
              "latency", "-nthreads", str(args.threads), "-t", t, "--json", str(json_path)]
    return {
        "sluice f32": (sluice, json_path),
        "sluice bf16": (sluice + ["-infer_precision", "bf16"], json_path),
        "ORT": (["node", str(BENCHMARKS / "ort_bench.js"), str(model_path), "--threads", str(args.threads),
                 "-t", t], None),
    }


def summary(report):
    return f"{report['throughput_fps']:.2f} FPS, peak RSS {report['peak_rss_kb'] / 1024:.0f} MB"


def megabytes(kb):
    return "failed" if kb is None else f"{kb / 1024:.0f}"


def resolved_precision(reports):
    values = sorted({report.get("properties", {}).get("INFERENCE_PRECISION_HINT", "?") for report in reports})
    return ", ".join(values)


def report_markdown(args, results):
    """results[model][variant] = [JSON report or None per round]."""
    ort_version = "?"
    for model in args.models:
        for report in ok(results[model]["ORT"]):
            ort_version = report["properties"].get("ONNXRUNTIME_VERSION", ort_version)
    lines = ["## One request at a time: sluice vs ONNX Runtime " + ort_version + " (CPU)", ""]
    lines += header_lines(f"{plural(args.rounds, 'round')} x {args.time:g} s per run after one warm-up "
                          f"inference; {args.threads} threads per side; sluice device {args.device}; "
                          "one request at a time (sync)", memory=True, mark_uncommitted=False)
    lines += ["", "Throughput (FPS, median of the rounds; higher is better):", "",
              "| model | sluice f32 | sluice bf16 | ORT | f32 / ORT | bf16 / ORT |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    notes = []
    for model in args.models:
        fps = {variant: median_of(results[model][variant], "throughput_fps") for variant in VARIANTS}
        lines.append(f"| {model} | {fmt(fps['sluice f32'])} | {fmt(fps['sluice bf16'])} | "
                     f"{fmt(fps['ORT'])} | {fmt_ratio(ratio_value(fps['sluice f32'], fps['ORT']))} | "
                     f"{fmt_ratio(ratio_value(fps['sluice bf16'], fps['ORT']))} |")
        bf16 = ok(results[model]["sluice bf16"])
        precision = resolved_precision(bf16)
        if bf16 and precision != "bf16":
            notes.append(f"- {model}: with -infer_precision bf16, {args.device} resolved "
                         f"INFERENCE_PRECISION_HINT to {precision}")
    lines += ["", "Latency (ms, median of the rounds' medians) and peak RSS of the benchmark process (MB, "
              "median of the rounds; model loaded, compiled, warm-up and measured inferences):", "",
              "| model | sluice f32 latency | sluice bf16 latency | ORT latency | sluice f32 RSS | "
              "sluice bf16 RSS | ORT RSS |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for model in args.models:
        runs = results[model]
        lines.append(f"| {model} | {fmt(median_latency(runs['sluice f32']))} | "
                     f"{fmt(median_latency(runs['sluice bf16']))} | {fmt(median_latency(runs['ORT']))} | "
                     f"{megabytes(median_of(runs['sluice f32'], 'peak_rss_kb'))} | "
                     f"{megabytes(median_of(runs['sluice bf16'], 'peak_rss_kb'))} | "
                     f"{megabytes(median_of(runs['ORT'], 'peak_rss_kb'))} |")
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", "Every run (FPS, in round order):", ""]
    for model in args.models:
        for variant in VARIANTS:
            reports = ok(results[model][variant])
            values = ", ".join(f"{report['throughput_fps']:.2f}" for report in reports)
            failed = args.rounds - len(reports)
            suffix = f" ({failed} failed)" if failed else ""
            lines.append(f"- {model}, {variant}: {values or 'none'}{suffix}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools("single_request", args, node=True)
    make_models("single_request", args)
    results = measure_models(args, bench_commands, summary)
    publish(args, report_markdown(args, results))
    return exit_status("single_request", count_failed(results))


if __name__ == "__main__":
    sys.exit(main())
