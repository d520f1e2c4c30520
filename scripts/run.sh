#!/usr/bin/env bash
# Installs what is missing, builds the `sluice` tool and runs one inference of the built-in default model
# (SqueezeNet 1.1, models/default.onnx), printing a summary of its outputs and the time taken.
# Arguments go to `sluice run`, e.g. `scripts/run.sh -d REF` or `scripts/run.sh path/to/model.onnx`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SLUICE_BUILD_DIR:-$root/build}

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh" --target sluice_cli
"$build_dir/sluice" run "$@"
