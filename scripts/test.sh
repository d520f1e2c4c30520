#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test with ctest: unit tests, the behaviour
# suite, the ONNX conformance suite, the end-to-end model tests (their models are generated into
# build/models on the first run) and the format check; then the concurrency tests again in a
# ThreadSanitizer build (scripts/tsan.sh, in build-tsan/). Exits non-zero when anything fails.
# Arguments go to ctest, e.g. `scripts/test.sh -L unit` or `scripts/test.sh -R resnet50`; with arguments,
# or with SLUICE_SKIP_TSAN=1, the ThreadSanitizer stage is skipped.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SLUICE_BUILD_DIR:-$root/build}

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
status=0
ctest --test-dir "$build_dir" --output-on-failure --parallel "$(nproc)" "$@" || status=$?
if [[ $# -eq 0 && "${SLUICE_SKIP_TSAN:-0}" != 1 ]]; then
  bash "$root/scripts/tsan.sh" || status=$?
fi
exit $status
