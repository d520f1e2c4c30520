#!/usr/bin/env bash
# One end-to-end model test: runs `sluice run` on MODEL_DIR/model.onnx with the inputs of MODEL_DIR/CASE
# on DEVICE, writes the outputs to OUTPUT_DIR, and compares them with MODEL_DIR/CASE/expected.
# Usage: run_model_test.sh SLUICE PYTHON DEVICE MODEL_DIR CASE OUTPUT_DIR
set -euo pipefail
if [ $# -ne 6 ]; then
  echo "usage: $0 SLUICE PYTHON DEVICE MODEL_DIR CASE OUTPUT_DIR" >&2
  exit 2
fi
sluice=$1 python=$2 device=$3 model_dir=$4 case_dir=$4/$5 output_dir=$6

inputs=()
for file in "$case_dir"/inputs/*.npy; do
  [ -e "$file" ] || { echo "no inputs in $case_dir/inputs (run models/make_test_models.py)" >&2; exit 1; }
  inputs+=(-i "$(basename "$file" .npy)=$file")
done
rm -rf "$output_dir"
"$sluice" run "$model_dir/model.onnx" -d "$device" "${inputs[@]}" -o "$output_dir"
"$python" "$(dirname "${BASH_SOURCE[0]}")/compare.py" "$case_dir/expected" "$output_dir"
