#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy) over Sluice's sources, or over the files given, using the compile commands
# of build/ (run scripts/build.sh first). Slow: minutes for the whole tree on two cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SLUICE_BUILD_DIR:-$root/build}

if [ ! -f "$build_dir/compile_commands.json" ]; then
  echo "no $build_dir/compile_commands.json: run scripts/build.sh first" >&2
  exit 2
fi
if [ $# -eq 0 ]; then
  exec run-clang-tidy -quiet -p "$build_dir" "$root/(src|tests)/.*\.cpp$"
fi
exec clang-tidy --quiet -p "$build_dir" "$@"
