#!/usr/bin/python3
"""Makes models/default.onnx, the model built into `sluice run` (and run by `scripts/run.sh`): torchvision's
SqueezeNet 1.1 with random weights (fixed seed), in eval mode, exported at opset 13 with input "input"
[1,3,224,224] float32 and output "output" [1,1000]. The export is deterministic: rerunning this script
rewrites the same bytes.

Run with /usr/bin/python3 (Debian's python3-torch and python3-torchvision):
    /usr/bin/python3 models/make_default_model.py [OUTPUT.onnx]
"""
import pathlib
import sys

import torch
import torchvision

SEED = 20240501
OPSET = 13
INPUT_SHAPE = (1, 3, 224, 224)


def make_model():
    """The default model as a torch module in eval mode; the same weights on every call."""
    torch.manual_seed(SEED)
    return torchvision.models.squeezenet1_1(weights=None).eval()


def export(model, path):
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(INPUT_SHAPE), str(path), opset_version=OPSET,
                          input_names=["input"], output_names=["output"], do_constant_folding=True)


def main():
    default_path = pathlib.Path(__file__).resolve().parent / "default.onnx"
    path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else default_path
    export(make_model(), path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
