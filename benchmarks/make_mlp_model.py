#!/usr/bin/python3
"""Writes an FC-heavy MLP as ONNX, the kind of model a recommendation or ranking service runs once per
request: where batching pays on a CPU. At batch 1 every Linear is a matrix-vector product that reads each
weight once for two FLOPs, so an inference is bound by streaming ~100 MB of weights from memory; a batch of
N reads them once for N samples. (The convolution and transformer models of the other benchmarks are
compute-bound at batch 1, and batching gains them nothing.)

    x f32 [N, 1024] -> Linear(1024, 4096) -> ReLU -> Linear(4096, 4096) -> ReLU -> Linear(4096, 1024) -> y

N is a dynamic batch axis ("batch"). 25.2 M parameters (100.7 MB of f32 weights and biases), 50.3 MFLOP
per sample (2 per weight).

    /usr/bin/python3 benchmarks/make_mlp_model.py OUTPUT.onnx

Run with /usr/bin/python3 (Debian's python3-torch). Deterministic: the weights come from a fixed seed, and
torch's default initialization (uniform in +-1/sqrt(fan_in)) keeps activations near unit scale. Exported
with opset 14 and torch.onnx.export's arguments of models/make_test_models.py.
"""
import argparse
import pathlib
import sys

import torch
from torch import nn

OPSET = 14  # models/make_test_models.py's
SEED = 20261202
LAYERS = (1024, 4096, 4096, 1024)  # the widths: input, hidden..., output
INPUT_NAME, OUTPUT_NAME = "x", "y"


def make_mlp():
    torch.manual_seed(SEED)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(LAYERS, LAYERS[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers).eval()


def write_mlp_model(path):
    """Writes the model to `path` (its folder made where missing); returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = make_mlp()
    example = torch.zeros(1, LAYERS[0])
    # A temporary name, renamed when complete: a script that finds the file never reads a half-written one.
    partial = path.with_name(path.name + ".partial")
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(partial), opset_version=OPSET, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          do_constant_folding=True)
    partial.replace(path)
    return path


def describe():
    weights = sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(LAYERS, LAYERS[1:]))
    flops = sum(2 * fan_in * fan_out for fan_in, fan_out in zip(LAYERS, LAYERS[1:]))
    return (f"MLP {' -> '.join(map(str, LAYERS))}: {weights / 1e6:.1f} M parameters "
            f"({weights * 4 / 1e6:.1f} MB f32), {flops / 1e6:.1f} MFLOP per sample")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=pathlib.Path, help="the .onnx file to write")
    args = parser.parse_args()
    write_mlp_model(args.output)
    print(f"wrote {args.output}: {describe()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
