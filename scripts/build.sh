#!/usr/bin/env bash
# Configures Sluice (Release, Ninja) in build/ and builds it. Arguments go to `cmake --build`, e.g.
# `scripts/build.sh --target sluice_cli`. SLUICE_BUILD_DIR overrides the build folder.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SLUICE_BUILD_DIR:-$root/build}

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" "$@"
