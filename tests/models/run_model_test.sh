#!/usr/bin/env bash
# One end-to-end model test: runs `sluice run` on MODEL_DIR/model.onnx with the inputs of MODEL_DIR/CASE
# on DEVICE, writes the outputs to OUTPUT_DIR, and compares them with MODEL_DIR/CASE/expected.
# PRECISION (default f32) is the INFERENCE_PRECISION_HINT. The tolerance on the relative L2 error is 1e-4
# in f32; in bf16 it is 2e-2, or 1.25 times torch's own bf16 autocast error on the same case
# (CASE/bf16_reference_error) where that is larger: random-weight CNNs amplify rounding far more than
# trained ones, and no bf16 implementation can beat that by much.
# Usage: run_model_test.sh SLUICE PYTHON DEVICE MODEL_DIR CASE OUTPUT_DIR [PRECISION]
set -euo pipefail
if [ $# -ne 6 ] && [ $# -ne 7 ]; then
  echo "usage: $0 SLUICE PYTHON DEVICE MODEL_DIR CASE OUTPUT_DIR [PRECISION]" >&2
  exit 2
fi
sluice=$1 python=$2 device=$3 model_dir=$4 case_dir=$4/$5 output_dir=$6 precision=${7:-f32}
tolerance=1e-4
if [ "$precision" = bf16 ]; then
  tolerance=$("$python" -c "import sys; print(max(2e-2, 1.25 * float(open(sys.argv[1]).read())))" \
    "$case_dir/bf16_reference_error")
fi

inputs=()
for file in "$case_dir"/inputs/*.npy; do
  [ -e "$file" ] || { echo "no inputs in $case_dir/inputs (run models/make_test_models.py)" >&2; exit 1; }
  inputs+=(-i "$(basename "$file" .npy)=$file")
done
rm -rf "$output_dir"
"$sluice" run "$model_dir/model.onnx" -d "$device" -p INFERENCE_PRECISION_HINT="$precision" "${inputs[@]}" \
  -o "$output_dir"
"$python" "$(dirname "${BASH_SOURCE[0]}")/compare.py" "$case_dir/expected" "$output_dir" --tolerance "$tolerance"
