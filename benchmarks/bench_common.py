"""What the benchmark scripts of this folder share (single_request.py, throughput.py, overhead.py,
sweep.py, batching.py): their common command-line options, making the test models, running one benchmark
process and reading its JSON report, medians that skip failed runs, number formatting and the machine /
date / commit lines above each report.

Standard library only. The scripts import it as `bench_common`: Python puts a script's own folder first on
sys.path, so this works from whichever folder a script is started.
"""
import argparse
import datetime
import hashlib
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
# Models the benchmarks make with a script of their own (no torch answers: nothing checks their outputs):
# name -> the script, run as `/usr/bin/python3 SCRIPT MODELS_DIR/<name>/model.onnx`.
BENCH_MODELS = {"mlp": BENCHMARKS / "make_mlp_model.py"}


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---- Command line ----

def new_parser(doc, *, models, rounds_default, rounds_help, time_default, time_help):
    """A parser with the options every script starts with: --models (where `models`), --rounds, --time.
    The script adds its own options, then add_sluice_options and add_out_option, in the order of --help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if models:
        parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                            help="comma-separated names of models/make_test_models.py, or "
                                 f"{', '.join(BENCH_MODELS)} (benchmarks/make_*_model.py) "
                                 "(default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=rounds_default, help=rounds_help)
    parser.add_argument("--time", type=float, default=time_default, help=time_help)
    return parser


def add_sluice_options(parser, *, device, models_dir):
    """--device (where `device`), --sluice, --models-dir (where `models_dir`)."""
    if device:
        parser.add_argument("--device", default="CPU", help="the sluice device (default CPU)")
    parser.add_argument("--sluice", type=pathlib.Path, default=REPO / "build" / "sluice",
                        help="the sluice binary (default: build/sluice)")
    if models_dir:
        parser.add_argument("--models-dir", type=pathlib.Path, default=REPO / "build" / "models",
                            help="where the models are, or are made (default: build/models)")


def add_out_option(parser):
    parser.add_argument("--out", type=pathlib.Path, help="also write the markdown report to this file")


def parse(parser):
    """Parses the command line; splits --models into a list (an error when it names none) and makes the
    paths absolute."""
    args = parser.parse_args()
    if "models" in args:
        args.models = [name for name in args.models.split(",") if name]
    # The benchmarks run from the repository root: relative paths are taken from where this was started.
    args.sluice = args.sluice.resolve()
    if "models_dir" in args:
        args.models_dir = args.models_dir.resolve()
    if "models" in args and not args.models:
        parser.error("--models: no model named")
    return args


def check_counts(parser, args, count=None):
    """--rounds (and the option named `count`, an int, where given) must be >= 1 and --time > 0."""
    if args.rounds < 1 or args.time <= 0 or (count is not None and getattr(args, count) < 1):
        options = "--rounds" if count is None else f"--rounds and --{count}"
        parser.error(f"{options} must be >= 1 and --time > 0")


def check_tools(name, args, node=False):
    """Exits (with a message that starts with the script's `name`) when the sluice binary, or where `node`,
    benchmarks/node_modules's onnxruntime-node, is missing."""
    if not args.sluice.is_file():
        sys.exit(f"{name}: {args.sluice} does not exist: build sluice first (scripts/build.sh) "
                 "or give --sluice PATH")
    if node and not (BENCHMARKS / "node_modules" / "onnxruntime-node").is_dir():
        sys.exit(f"{name}: benchmarks/node_modules has no onnxruntime-node: "
                 "run 'cd benchmarks && npm ci --ignore-scripts'")


def make_models(name, args):
    """Makes args.models in args.models_dir where missing or made by an older script (BENCH_MODELS by their
    script, the others by models/make_test_models.py); exits on failure."""
    for model in args.models:
        if model in BENCH_MODELS:
            make_bench_model(name, BENCH_MODELS[model], args.models_dir / model)
    test_models = [model for model in args.models if model not in BENCH_MODELS]
    if not test_models:
        return  # make_test_models.py without names would make all of them
    command = ["/usr/bin/python3", str(REPO / "models" / "make_test_models.py"), str(args.models_dir),
               *test_models]
    log("$ " + " ".join(command))
    if subprocess.run(command, stdout=sys.stderr).returncode != 0:
        sys.exit(f"{name}: making the models failed (see above)")


def make_bench_model(name, script, model_dir):
    """Runs `script` into model_dir/model.onnx unless model_dir/stamp holds the script's hash (as
    make_test_models.py does: a changed script makes the model again); the stamp is written last."""
    stamp_file = model_dir / "stamp"
    stamp = hashlib.sha256(script.read_bytes()).hexdigest()
    made = (model_dir / "model.onnx").is_file() and stamp_file.is_file()
    if made and stamp_file.read_text().strip() == stamp:
        return
    stamp_file.unlink(missing_ok=True)
    command = ["/usr/bin/python3", str(script), str(model_dir / "model.onnx")]
    log("$ " + " ".join(command))
    if subprocess.run(command, stdout=sys.stderr).returncode != 0:
        sys.exit(f"{name}: making {model_dir.name} failed (see above)")
    stamp_file.write_text(stamp + "\n")


# ---- Running the benchmarks ----

def run_json(command, json_path, timeout, stdout_to_log=False):
    """Runs one benchmark process (in the repository root); returns its JSON report, read from json_path
    (deleted first, so that a stale report never counts) or, where json_path is None, from its stdout. Returns
    None, and logs why, when it timed out, failed or wrote no JSON. With stdout_to_log, its stdout goes to
    the log as it comes (then the report must be in json_path)."""
    log("$ " + " ".join(command))
    if json_path is not None and json_path.exists():
        json_path.unlink()
    stdout = sys.stderr if stdout_to_log else subprocess.PIPE
    try:
        done = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=timeout,
                              cwd=REPO)
    except subprocess.TimeoutExpired:
        log(f"  timed out after {timeout:.0f} s")
        return None
    if done.returncode != 0:
        log(f"  failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        return None
    try:
        return json.loads(json_path.read_text() if json_path else done.stdout)
    except (OSError, ValueError) as error:
        log(f"  no JSON report: {error}")
        return None


def measure_models(args, bench_commands, summary, name_of=lambda variant: variant):
    """Runs, round after round and model after model, every variant of bench_commands(args, model_path,
    json_path) = {variant: (command, its JSON file or None for stdout)}, in that order, one process at a time.
    Returns results[model][variant] = [JSON report, or None where that run failed, per round]. Logs each
    run as "round R/N, MODEL, name_of(variant)" and, after a success, "  " + summary(report)."""
    results = {model: {} for model in args.models}
    timeout = args.time * 3 + 600  # reading and compiling a big model on a slow device takes a while
    with tempfile.TemporaryDirectory() as scratch:
        json_path = pathlib.Path(scratch) / "bench.json"
        for round_index in range(args.rounds):
            for model in args.models:
                model_path = args.models_dir / model / "model.onnx"
                for variant, (command, path) in bench_commands(args, model_path, json_path).items():
                    log(f"round {round_index + 1}/{args.rounds}, {model}, {name_of(variant)}")
                    report = run_json(command, path, timeout)
                    results[model].setdefault(variant, []).append(report)
                    if report is not None:
                        log("  " + summary(report))
    return results


def count_failed(results):
    """The runs that failed (None) in measure_models's results."""
    return sum(report is None for runs in results.values() for reports in runs.values() for report in reports)


# ---- Numbers and text ----

def ok(reports):
    """The reports of the runs that succeeded."""
    return [report for report in reports if report is not None]


def median_or_none(values):
    """The median of the values that are not None; None where there are none."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def median_of(reports, key):
    """The median of report[key] over the reports that are not None."""
    return median_or_none([report[key] for report in ok(reports)])


def median_latency(reports):
    """The median of the reports' median latencies (ms), skipping None."""
    return median_or_none([report["latency_ms"]["median"] for report in ok(reports)])


def prop(report, name):
    """A property of the compiled model (or of ORT's session) from a JSON report; "?" where missing."""
    return report.get("properties", {}).get(name, "?")


def fmt(value, digits=2):
    return "failed" if value is None else f"{value:.{digits}f}"


def ratio_value(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(value, target=None):
    """"1.23x"; in bold where a target is given and met; "-" for no value."""
    if value is None:
        return "-"
    text = f"{value:.2f}x"
    return f"**{text}**" if target is not None and value >= target else text


def plural(count, noun):
    return f"{count} {noun}" if str(count) == "1" else f"{count} {noun}s"


def distinct(values):
    """The distinct values (strings), sorted, as "a / b"; "?" where there are none."""
    return " / ".join(sorted(set(values))) or "?"


def publish(args, markdown):
    """Prints the report, and writes it to --out where given."""
    print(markdown, end="")
    if args.out:
        args.out.write_text(markdown)
        log(f"wrote {args.out}")


def exit_status(name, failed, what="run(s)"):
    """1 (after saying so) where `failed` runs failed, else 0."""
    if failed:
        log(f"{name}: {failed} {what} failed (see above)")
        return 1
    return 0


def header_lines(settings, *, memory, mark_uncommitted):
    """The machine, date and commit lines above a report, then "- settings: " + settings. With `memory`, the
    machine line gives the physical memory; with `mark_uncommitted`, the commit says when the tracked files
    differ from it."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_text = ""
    if memory:
        try:
            pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            memory_text = f", {pages / 2**30:.0f} GiB memory"
        except (ValueError, OSError):
            pass
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    if mark_uncommitted and subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True,
            text=True).stdout.strip():
        commit += " with uncommitted changes"
    now = datetime.datetime.now().astimezone()
    return [
        f"- machine: {cpu}, {os.cpu_count()} logical CPUs{memory_text}; {platform.system()} "
        f"{platform.release()}",
        f"- date: {now.strftime('%Y-%m-%d %H:%M %Z')}; sluice commit {commit}",
        f"- settings: {settings}",
    ]
