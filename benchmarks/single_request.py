#!/usr/bin/python3
"""One request at a time: Sluice's throughput against ONNX Runtime's CPU library, as a markdown table.

For R rounds, and in each round for every model in turn, runs three benchmarks, each in its own process
(so that peak RSS is per process), each for T seconds after one warm-up inference:
    sluice bench -m MODEL -d DEVICE -nthreads N -t T --json ...                     (sluice f32)
    sluice bench -m MODEL -d DEVICE -nthreads N -t T -infer_precision bf16 --json ...  (sluice bf16)
    node benchmarks/ort_bench.js MODEL --threads N -t T                              (ONNX Runtime, CPU EP)
Interleaving the runs spreads slow phases of a shared machine over all three. The table gives the median
over the rounds of each number; every run's numbers follow it.

The models are made first when missing (models/make_test_models.py, with random weights).

    /usr/bin/python3 benchmarks/single_request.py [--models resnet50,mobilenet_v2,bert_base] [--rounds 5]
        [--time 10] [--threads 2] [--device CPU] [--sluice build/sluice] [--models-dir build/models]
        [--out results.md]

Standard library only; needs `node` and benchmarks/node_modules (cd benchmarks && npm ci --ignore-scripts).
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
DEFAULT_MODELS = ["resnet50", "mobilenet_v2", "bert_base"]
VARIANTS = ["sluice f32", "sluice bf16", "ORT"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                        help="comma-separated names of models/make_test_models.py (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of the three runs per model (default 5)")
    parser.add_argument("--time", type=float, default=10, help="seconds measured per run (default 10)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of each side: sluice -nthreads, ORT intra-op threads (default 2)")
    parser.add_argument("--device", default="CPU", help="the sluice device (default CPU)")
    parser.add_argument("--sluice", type=pathlib.Path, default=REPO / "build" / "sluice",
                        help="the sluice binary (default: build/sluice)")
    parser.add_argument("--models-dir", type=pathlib.Path, default=REPO / "build" / "models",
                        help="where the models are, or are made (default: build/models)")
    parser.add_argument("--out", type=pathlib.Path, help="also write the markdown report to this file")
    args = parser.parse_args()
    args.models = [name for name in args.models.split(",") if name]
    # The benchmarks run from the repository root: relative paths are taken from where this was started.
    args.sluice = args.sluice.resolve()
    args.models_dir = args.models_dir.resolve()
    if not args.models:
        parser.error("--models: no model named")
    if args.rounds < 1 or args.time <= 0 or args.threads < 1:
        parser.error("--rounds and --threads must be >= 1 and --time > 0")
    return args


def log(message):
    print(message, file=sys.stderr, flush=True)


def check_tools(args):
    if not args.sluice.is_file():
        sys.exit(f"single_request: {args.sluice} does not exist: build sluice first (scripts/build.sh) "
                 "or give --sluice PATH")
    if not (BENCHMARKS / "node_modules" / "onnxruntime-node").is_dir():
        sys.exit("single_request: benchmarks/node_modules has no onnxruntime-node: "
                 "run 'cd benchmarks && npm ci --ignore-scripts'")


def make_models(args):
    command = ["/usr/bin/python3", str(REPO / "models" / "make_test_models.py"), str(args.models_dir),
               *args.models]
    log("$ " + " ".join(command))
    if subprocess.run(command, stdout=sys.stderr).returncode != 0:
        sys.exit("single_request: making the models failed (see above)")


def run_json(command, json_path, timeout):
    """Runs one benchmark process; returns its JSON report, or None (and logs why) when it failed."""
    log("$ " + " ".join(command))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        log(f"  timed out after {timeout:.0f} s")
        return None
    if done.returncode != 0:
        log(f"  failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        return None
    text = json_path.read_text() if json_path else done.stdout
    return json.loads(text)


def bench_commands(args, model_path, json_path):
    t = f"{args.time:g}"
    sluice = [str(args.sluice), "bench", "-m", str(model_path), "-d", args.device, "-nthreads",
              str(args.threads), "-t", t, "--json", str(json_path)]
    return {
        "sluice f32": (sluice, json_path),
        "sluice bf16": (sluice + ["-infer_precision", "bf16"], json_path),
        "ORT": (["node", str(BENCHMARKS / "ort_bench.js"), str(model_path), "--threads", str(args.threads),
                 "-t", t], None),
    }


def measure(args):
    """results[model][variant] = the JSON reports of the rounds that succeeded."""
    results = {model: {variant: [] for variant in VARIANTS} for model in args.models}
    timeout = args.time * 3 + 600  # reading and compiling a big model on a slow device takes a while
    with tempfile.TemporaryDirectory() as scratch:
        json_path = pathlib.Path(scratch) / "bench.json"
        for round_index in range(args.rounds):
            for model in args.models:
                model_path = args.models_dir / model / "model.onnx"
                for variant, (command, path) in bench_commands(args, model_path, json_path).items():
                    log(f"round {round_index + 1}/{args.rounds}, {model}, {variant}")
                    if path is not None and path.exists():
                        path.unlink()
                    report = run_json(command, path, timeout)
                    if report is not None:
                        results[model][variant].append(report)
                        log(f"  {report['throughput_fps']:.2f} FPS, "
                            f"peak RSS {report['peak_rss_kb'] / 1024:.0f} MB")
    return results


def median_of(reports, key):
    values = [report[key] for report in reports]
    return statistics.median(values) if values else None


def median_latency(reports):
    values = [report["latency_ms"]["median"] for report in reports]
    return statistics.median(values) if values else None


def fmt(value, digits=2):
    return "failed" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def megabytes(kb):
    return "failed" if kb is None else f"{kb / 1024:.0f}"


def machine_lines(args):
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB memory"
    except (ValueError, OSError):
        pass
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    now = datetime.datetime.now().astimezone()
    return [
        f"- machine: {cpu}, {os.cpu_count()} logical CPUs{memory}; {platform.system()} {platform.release()}",
        f"- date: {now.strftime('%Y-%m-%d %H:%M %Z')}; sluice commit {commit}",
        f"- settings: {args.rounds} round{'s' if args.rounds != 1 else ''} x {args.time:g} s per run after "
        f"one warm-up inference; {args.threads} threads per side; sluice device {args.device}; "
        "one request at a time (sync)",
    ]


def resolved_precision(reports):
    values = sorted({report.get("properties", {}).get("INFERENCE_PRECISION_HINT", "?") for report in reports})
    return ", ".join(values)


def report_markdown(args, results):
    ort_version = "?"
    for model in args.models:
        for report in results[model]["ORT"]:
            ort_version = report["properties"].get("ONNXRUNTIME_VERSION", ort_version)
    lines = ["## One request at a time: sluice vs ONNX Runtime " + ort_version + " (CPU)", ""]
    lines += machine_lines(args)
    lines += ["", "Throughput (FPS, median of the rounds; higher is better):", "",
              "| model | sluice f32 | sluice bf16 | ORT | f32 / ORT | bf16 / ORT |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    notes = []
    for model in args.models:
        fps = {variant: median_of(results[model][variant], "throughput_fps") for variant in VARIANTS}
        lines.append(f"| {model} | {fmt(fps['sluice f32'])} | {fmt(fps['sluice bf16'])} | "
                     f"{fmt(fps['ORT'])} | "
                     f"{ratio(fps['sluice f32'], fps['ORT'])} | {ratio(fps['sluice bf16'], fps['ORT'])} |")
        precision = resolved_precision(results[model]["sluice bf16"])
        if results[model]["sluice bf16"] and precision != "bf16":
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
            values = ", ".join(f"{report['throughput_fps']:.2f}" for report in results[model][variant])
            failed = args.rounds - len(results[model][variant])
            suffix = f" ({failed} failed)" if failed else ""
            lines.append(f"- {model}, {variant}: {values or 'none'}{suffix}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools(args)
    make_models(args)
    results = measure(args)
    markdown = report_markdown(args, results)
    print(markdown, end="")
    if args.out:
        args.out.write_text(markdown)
        log(f"wrote {args.out}")
    failed = sum(args.rounds - len(results[model][variant]) for model in args.models for variant in VARIANTS)
    if failed:
        log(f"single_request: {failed} run(s) failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
