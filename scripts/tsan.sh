#!/usr/bin/env bash
# Builds the concurrency tests (the behaviour suite and stress test over every device, and the async
# core's unit tests) with ThreadSanitizer in build-tsan/ and runs them; exits non-zero on a failure or a
# data race. Arguments go to ctest. SLUICE_TSAN_BUILD_DIR overrides the build folder.
#
# OpenMP: Debian's libgomp is not built with ThreadSanitizer, so the synchronization inside its thread
# teams is invisible to it and would show up as false races. OMP_THREAD_LIMIT=1 makes every OpenMP team a
# single thread (oneDNN and Sluice's kernels then run each parallel region on the calling thread), so
# everything multi-threaded that remains is Sluice's own: streams, requests, callbacks, queues.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${SLUICE_TSAN_BUILD_DIR:-$root/build-tsan}

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_TSAN=ON
cmake --build "$build_dir" --target sluice_behavior_tests
export OMP_THREAD_LIMIT=1
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export SLUICE_STRESS_REQUESTS=${SLUICE_STRESS_REQUESTS:-20000}
ctest --test-dir "$build_dir" --output-on-failure -L behavior "$@"
