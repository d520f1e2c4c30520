#!/usr/bin/python3
"""How close the THROUGHPUT hint comes to the best configuration: `sluice bench --sweep` on each model, as a
markdown table.

For R rounds, and in each round for every model in turn, runs in its own process
    sluice bench -m MODEL -d DEVICE --sweep -t T --json ... --sweep-html HTML_DIR/MODEL-roundR.html
which measures a grid of NUM_STREAMS (1, 2, 4, ... up to the cores and twice the cores) x requests in flight
(1, 2 and 4 per stream), each configuration for T seconds, then the THROUGHPUT hint's own configuration,
and reports the best of the grid. The table gives, per model, the best configuration's FPS, the hint's FPS
and their ratio (medians over the rounds; target: the hint within 10% of the best, ratio >= 0.9), then
the grid's median FPS per configuration and every run's numbers. The HTML charts are kept in --html-dir.

The best of a grid of noisy runs is biased upwards (it is the maximum of about ten measurements), so on a
shared machine give each configuration several seconds (--time) and read the ratio over several rounds.

The models are made first when missing (models/make_test_models.py, with random weights).

    /usr/bin/python3 benchmarks/sweep.py [--models resnet50,mobilenet_v2,bert_base] [--rounds 1] [--time 3]
        [--device CPU] [--sluice build/sluice] [--models-dir build/models] [--html-dir build/sweep-html]
        [--out results.md]

Standard library only.
"""
import pathlib
import statistics
import sys
import tempfile

from bench_common import (REPO, add_out_option, add_sluice_options, check_counts, check_tools, distinct,
                          exit_status, fmt, fmt_ratio, header_lines, log, make_models, new_parser, ok, parse,
                          plural, prop, publish, run_json)

TARGET = 0.9


def parse_args():
    parser = new_parser(__doc__, models=True, rounds_default=1, rounds_help="sweeps per model (default 1)",
                        time_default=3, time_help="seconds measured per configuration of the sweep "
                                                  "(default 3, bench's default)")
    add_sluice_options(parser, device=True, models_dir=True)
    parser.add_argument("--html-dir", type=pathlib.Path, default=REPO / "build" / "sweep-html",
                        help="where the sweeps' HTML charts go, as MODEL-roundR.html "
                             "(default: build/sweep-html)")
    add_out_option(parser)
    args = parse(parser)
    args.html_dir = args.html_dir.resolve()
    check_counts(parser, args)
    return args


def run_sweep(command, json_path, timeout):
    """Runs one sweep; returns its JSON report ({"sweep": [...], "hint": {...}, "best": {...}}), or None (and
    logs why) when it failed. The sweep's own table goes to the log as it comes."""
    report = run_json(command, json_path, timeout, stdout_to_log=True)
    if report is None:
        return None
    for key in ("sweep", "hint", "best"):
        if not report.get(key):
            log(f"  the JSON report has no '{key}' (keys: {', '.join(report)})")
            return None
    return report


def measure(args):
    """results[model] = [sweep report or None per round]."""
    results = {model: [] for model in args.models}
    args.html_dir.mkdir(parents=True, exist_ok=True)
    # About ten configurations of T seconds, each read and compiled, plus the model's first read.
    timeout = args.time * 40 + 900
    with tempfile.TemporaryDirectory() as scratch:
        json_path = pathlib.Path(scratch) / "sweep.json"
        for round_index in range(args.rounds):
            for model in args.models:
                log(f"round {round_index + 1}/{args.rounds}, {model}")
                html = args.html_dir / f"{model}-round{round_index + 1}.html"
                command = [str(args.sluice), "bench", "-m", str(args.models_dir / model / "model.onnx"), "-d",
                           args.device, "--sweep", "-t", f"{args.time:g}", "--json", str(json_path),
                           "--sweep-html", str(html)]
                report = run_sweep(command, json_path, timeout)
                results[model].append(report)
                if report is not None:
                    best, hint = report["best"], report["hint"]
                    log(f"  best {label(best)}: {best['throughput_fps']:.2f} FPS; THROUGHPUT hint "
                        f"{config(hint)}: {hint['throughput_fps']:.2f} FPS "
                        f"({hint['throughput_fps'] / best['throughput_fps']:.2f}x)")
    return results


def label(entry):
    return entry.get("label", "?")


def config(entry):
    """NUM_STREAMS x threads (INFERENCE_NUM_THREADS, over all the streams), requests in flight."""
    streams, threads = prop(entry, "NUM_STREAMS"), prop(entry, "INFERENCE_NUM_THREADS")
    requests = str(entry.get("requests", "?"))
    return f"{plural(streams, 'stream')}, {plural(threads, 'thread')}, {plural(requests, 'request')}"


def report_markdown(args, results):
    lines = ["## The THROUGHPUT hint against the best configuration (sluice bench --sweep)", ""]
    lines += header_lines(f"{plural(args.rounds, 'sweep')} per model, {args.time:g} s per configuration; "
                          f"sluice device {args.device}, async API; HTML charts in {args.html_dir}",
                          memory=False, mark_uncommitted=True)
    lines += ["", f"Medians over the rounds; hint / best is the median of the per-round ratios (target >= "
              f"{TARGET}, bold: met). Configurations: NUM_STREAMS, INFERENCE_NUM_THREADS (over all streams), "
              "requests in flight.", "",
              "| model | best configuration | best FPS | THROUGHPUT hint's configuration | hint FPS | "
              "hint / best |",
              "| --- | --- | ---: | --- | ---: | ---: |"]
    for model in args.models:
        reports = ok(results[model])
        if not reports:
            lines.append(f"| {model} | failed | | | | |")
            continue
        best_fps = statistics.median(r["best"]["throughput_fps"] for r in reports)
        hint_fps = statistics.median(r["hint"]["throughput_fps"] for r in reports)
        ratio = statistics.median(r["hint"]["throughput_fps"] / r["best"]["throughput_fps"] for r in reports)
        best_configs = distinct(f"{label(r['best'])} ({config(r['best'])})" for r in reports)
        hint_configs = distinct(config(r["hint"]) for r in reports)
        lines.append(f"| {model} | {best_configs} | {fmt(best_fps)} | {hint_configs} | {fmt(hint_fps)} | "
                     f"{fmt_ratio(ratio, TARGET)} |")

    lines += ["", "The grid (FPS, median over the rounds; vs best: of the median grid's best):", ""]
    for model in args.models:
        reports = ok(results[model])
        if not reports:
            continue
        # Configurations in the sweep's order; the same labels in every round (same machine and model).
        order, fps, latency, configs = [], {}, {}, {}
        for report in reports:
            for entry in report["sweep"] + [report["hint"]]:
                name = label(entry)
                if name not in fps:
                    order.append(name)
                    fps[name], latency[name], configs[name] = [], [], set()
                fps[name].append(entry["throughput_fps"])
                latency[name].append(entry["latency_ms"]["median"])
                configs[name].add(config(entry))
        medians = {name: statistics.median(fps[name]) for name in order}
        top = max(medians.values())
        lines += [f"{model}:", "",
                  "| configuration | NUM_STREAMS, threads, requests | FPS | median latency ms | vs best |",
                  "| --- | --- | ---: | ---: | ---: |"]
        for name in order:
            lines.append(f"| {name} | {distinct(configs[name])} | {medians[name]:.2f} | "
                         f"{statistics.median(latency[name]):.2f} | {medians[name] / top:.2f}x |")
        lines.append("")

    lines += ["Every sweep (best: FPS; hint: FPS; hint / best), in round order:", ""]
    for model in args.models:
        values = []
        for report in results[model]:
            if report is None:
                values.append("failed")
                continue
            best, hint = report["best"]["throughput_fps"], report["hint"]["throughput_fps"]
            values.append(f"{label(report['best'])} {best:.2f}; hint {hint:.2f}; {hint / best:.2f}x")
        lines.append(f"- {model}: {' | '.join(values)}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools("sweep", args)
    make_models("sweep", args)
    results = measure(args)
    publish(args, report_markdown(args, results))
    log(f"HTML charts: {args.html_dir}")
    return exit_status("sweep", sum(report is None for reports in results.values() for report in reports),
                       "sweep(s)")


if __name__ == "__main__":
    sys.exit(main())
