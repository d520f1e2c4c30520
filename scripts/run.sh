#!/usr/bin/env bash
# Installs what is missing, builds the `sluice` tool and benchmarks the built-in default model (SqueezeNet
# 1.1, models/default.onnx) under the LATENCY and THROUGHPUT hints, 5 s each, printing both runs and a
# side-by-side summary (streams, threads, requests, FPS, latency percentiles).
# Arguments replace the benchmark's, e.g. `scripts/run.sh -hint latency -api sync -t 10`,
# `scripts/run.sh -m path/to/model.onnx -hint throughput` or `scripts/run.sh --sweep`; `sluice run` does
# one inference (`build/sluice run --help`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SLUICE_BUILD_DIR:-$root/build}

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh" --target sluice_cli
if [ $# -eq 0 ]; then
  set -- -hint latency,throughput -t 5
fi
"$build_dir/sluice" bench "$@"
