#!/usr/bin/python3
"""The runtime's cost per request: `sluice bench` on a tiny model (y = x + c over 16 floats,
benchmarks/make_tiny_model.py), whose kernel takes next to no time, so that what is measured is a
request's path through the runtime (start_async, the stream's queue, the callback, the restart).

For R rounds, each run in its own process for T seconds:
    sluice bench -m tiny.onnx -d DEVICE -nstreams S -nireq N -api async -t T --json ...  for N in --nireq
    sluice bench -m tiny.onnx -d DEVICE -api sync -nireq 1 -t T --json ...                (for context)
for every DEVICE in --devices (default CPU and REF). From each async run's FPS:
    wall time per request      1e6 / FPS                         microseconds
    core time per request      NUM_STREAMS * 1e6 / FPS           core-microseconds: every stream is busy all
                                                                 the time, so each request costs that much
                                                                 CPU time (runtime path plus the kernel)
    measured CPU per request   (user + sys CPU time of the process) / count: includes the process's start,
                               reading and compiling (a few ms), and shows when the streams were NOT busy
                               all the time (a shared machine taking cores away; a bench loop that stalls)
Target: core time per request <= 20 us on CPU. The sync run gives the latency of one infer() call.

    /usr/bin/python3 benchmarks/overhead.py [--rounds 5] [--time 5] [--nireq 2,4,8] [--streams 2]
        [--devices CPU,REF] [--sluice build/sluice] [--out results.md]

Standard library only.
"""
import pathlib
import resource
import sys
import tempfile

from bench_common import (add_out_option, add_sluice_options, check_counts, check_tools, distinct,
                          exit_status, fmt, header_lines, log, median_or_none, new_parser, ok, parse, plural,
                          publish, run_json)
from make_tiny_model import write_tiny_model

TARGET_US = 20.0


def parse_args():
    parser = new_parser(__doc__, models=False, rounds_default=5,
                        rounds_help="rounds of all the runs (default 5)", time_default=5,
                        time_help="seconds measured per run (default 5)")
    parser.add_argument("--nireq", default="2,4,8",
                        help="requests in flight of the async runs (default 2,4,8)")
    parser.add_argument("--streams", type=int, default=2,
                        help="NUM_STREAMS of the async runs (default 2, the project machine's cores)")
    parser.add_argument("--devices", default="CPU,REF", help="sluice devices (default CPU,REF)")
    add_sluice_options(parser, device=False, models_dir=False)
    add_out_option(parser)
    args = parse(parser)
    try:
        args.nireq = [int(n) for n in args.nireq.split(",") if n]
    except ValueError:
        parser.error(f"--nireq '{args.nireq}': expected integers separated by ','")
    args.devices = [d for d in args.devices.split(",") if d]
    if not args.nireq or min(args.nireq) < 1 or not args.devices:
        parser.error("--nireq needs counts >= 1 and --devices at least one device")
    check_counts(parser, args, "streams")
    return args


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_bench(command, json_path, timeout):
    """Runs one `sluice bench`; returns (its JSON report, the CPU seconds the process used), or None (and
    logs why) when it failed. The runs are one at a time, so the growth of RUSAGE_CHILDREN is this one's."""
    before = children_cpu_s()
    report = run_json(command, json_path, timeout)
    return None if report is None else (report, children_cpu_s() - before)


def configurations(args):
    """(key, label, extra bench arguments) of every run of a round, async first."""
    configs = []
    for device in args.devices:
        for n in args.nireq:
            extra = ["-d", device, "-api", "async", "-nstreams", str(args.streams), "-nireq", str(n)]
            label = f"{device} async, {args.streams} streams, {n} requests"
            configs.append(((device, "async", n), label, extra))
    for device in args.devices:
        configs.append(((device, "sync", 1), f"{device} sync, 1 request",
                        ["-d", device, "-api", "sync", "-nireq", "1"]))
    return configs


class Run:
    """One run's numbers."""

    def __init__(self, report, cpu_s):
        self.fps = report["throughput_fps"]
        self.count = report["count"]
        self.latency_us = {k: v * 1000 for k, v in report["latency_ms"].items()}
        props = report.get("properties", {})
        self.streams = int(props.get("NUM_STREAMS", "0") or 0)
        self.threads = props.get("INFERENCE_NUM_THREADS", "?")
        self.requests = report.get("requests", "?")
        self.wall_us = 1e6 / self.fps
        self.core_us = self.streams * 1e6 / self.fps
        self.cpu_us = cpu_s * 1e6 / self.count if self.count else float("nan")


def measure(args, model_path):
    """results[key] = [Run or None per round]."""
    configs = configurations(args)
    results = {key: [] for key, _, _ in configs}
    timeout = args.time * 3 + 120
    with tempfile.TemporaryDirectory() as scratch:
        json_path = pathlib.Path(scratch) / "bench.json"
        for round_index in range(args.rounds):
            for key, label, extra in configs:
                log(f"round {round_index + 1}/{args.rounds}, {label}")
                command = [str(args.sluice), "bench", "-m", str(model_path), *extra, "-t", f"{args.time:g}",
                           "--json", str(json_path)]
                done = run_bench(command, json_path, timeout)
                run = Run(*done) if done else None
                results[key].append(run)
                if run:
                    log(f"  {run.fps:.0f} FPS, {run.wall_us:.2f} us wall, {run.core_us:.2f} core-us, "
                        f"{run.cpu_us:.2f} us CPU per request (NUM_STREAMS {run.streams})")
    return configs, results


def med(runs, attribute):
    return median_or_none([getattr(run, attribute) for run in ok(runs)])


def distinct_of(runs, attribute):
    return distinct(str(getattr(run, attribute)) for run in ok(runs))


def keys_of(configs, api):
    """The keys (device, api, requests) of the configurations of that API, in their order."""
    return [key for key, _, _ in configs if key[1] == api]


def report_markdown(args, configs, results):
    lines = ["## Per-request cost of the runtime (tiny model)", ""]
    lines += header_lines(f"{plural(args.rounds, 'round')} x {args.time:g} s per run after the warm-up; "
                          "model: y = x + c, x and c f32 [1,16] (benchmarks/make_tiny_model.py)",
                          memory=False, mark_uncommitted=True)
    lines += ["", f"Async, NUM_STREAMS requested {args.streams} (medians of the rounds; per request: "
              "wall = 1e6 / FPS, core = NUM_STREAMS x 1e6 / FPS, CPU = the process's user + sys time / "
              f"count). Target: core time <= {TARGET_US:g} us on CPU (bold: met).", "",
              "| device | requests | NUM_STREAMS | INFERENCE_NUM_THREADS | FPS | wall us / request | "
              "core-us / request | CPU us / request (measured) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in keys_of(configs, "async"):
        device, _, n = key
        runs = results[key]
        core = med(runs, "core_us")
        core_text = fmt(core)
        if core is not None and device == "CPU" and core <= TARGET_US:
            core_text = f"**{core_text}**"
        lines.append(f"| {device} | {n} | {distinct_of(runs, 'streams')} | "
                     f"{distinct_of(runs, 'threads')} | {fmt(med(runs, 'fps'), 0)} | "
                     f"{fmt(med(runs, 'wall_us'))} | {core_text} | "
                     f"{fmt(med(runs, 'cpu_us'))} |")
    lines += ["", "Sync API, one request (`-api sync -nireq 1`), for context: the latency of one infer() "
              "call (us; medians of the rounds):", "",
              "| device | NUM_STREAMS | FPS | median latency | average latency | p90 latency | p99 latency |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in keys_of(configs, "sync"):
        runs = results[key]
        latency = {name: median_or_none([run.latency_us[name] for run in ok(runs)])
                   for name in ("median", "average", "p90", "p99")}
        lines.append(f"| {key[0]} | {distinct_of(runs, 'streams')} | {fmt(med(runs, 'fps'), 0)} | "
                     f"{fmt(latency['median'])} | {fmt(latency['average'])} | {fmt(latency['p90'])} | "
                     f"{fmt(latency['p99'])} |")
    lines += ["", "Every run (FPS; core-us per request), in round order:", ""]
    for key, label, _ in configs:
        runs = results[key]
        values = ", ".join("failed" if run is None else f"{run.fps:.0f} ({run.core_us:.2f})" for run in runs)
        lines.append(f"- {label}: {values}")
    return "\n".join(lines) + "\n"


def main():
    args = parse_args()
    check_tools("overhead", args)
    with tempfile.TemporaryDirectory() as scratch:
        model_path = write_tiny_model(pathlib.Path(scratch) / "tiny_add.onnx")
        configs, results = measure(args, model_path)
    publish(args, report_markdown(args, configs, results))
    return exit_status("overhead", sum(run is None for runs in results.values() for run in runs))


if __name__ == "__main__":
    sys.exit(main())
