#!/usr/bin/python3
"""Makes the end-to-end test models and torch's answers for them.

For each model, into OUTPUT_DIR/<model>/:
    model.onnx                      the model (opset 14 with a dynamic batch axis "batch", except
                                    squeezenet_default, which is models/default.onnx made again)
    batch1/inputs/<input>.npy       inputs at batch 1, one file per model input, named after it
    batch1/expected/<output>.npy    torch's outputs for those inputs (float32, eval mode)
    batch1/bf16_reference_error     relative L2 error of torch's bf16 autocast against those outputs
    batch4/...                      the same at batch 4 (models with a dynamic batch axis)
    stamp                           written last: the hash of the scripts that made the files

A model whose stamp matches the scripts is skipped, so reruns take a second. Weights are random with a fixed
seed per model; batch-norm statistics are calibrated on random images, so that they are not trivial and the
outputs depend on the inputs.

Run with /usr/bin/python3 (Debian's python3-torch, python3-torchvision, python3-numpy):
    /usr/bin/python3 models/make_test_models.py OUTPUT_DIR [MODEL...]
"""
import argparse
import hashlib
import math
import pathlib
import shutil
import sys
import time

import numpy as np
import torch
import torchvision
from torch import nn

import make_default_model

OPSET = 14


def calibrate_batch_norms(model, images):
    """Gives every batch norm random affine parameters and the running statistics of `images`, so that
    activations stay near unit scale through the network (as in a trained model) and the output depends
    on the input."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0.0, 0.1)
    model.train()
    model(images)
    return model.eval()


def export_dynamic_batch(model, spec, inputs, path):
    dynamic_axes = {name: {0: "batch"} for name in spec.input_names + spec.output_names}
    torch.onnx.export(model, tuple(inputs), str(path), opset_version=OPSET, input_names=spec.input_names,
                      output_names=spec.output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)


class ImageModel:
    """A torchvision classifier: input "input" [N,3,224,224] float32, output "output" [N,1000]."""

    input_names = ["input"]
    output_names = ["output"]
    batches = (1, 4)

    def __init__(self, factory):
        self.factory = factory

    def make(self):
        return calibrate_batch_norms(self.factory(weights=None), torch.randn(16, 3, 224, 224))

    def inputs(self, batch):
        return [torch.randn(batch, 3, 224, 224)]

    def export(self, model, inputs, path):
        export_dynamic_batch(model, self, inputs, path)


class DefaultModel(ImageModel):
    """models/default.onnx (static batch 1, opset 13) with torch's answer for a random input."""

    batches = (1,)

    def __init__(self):
        super().__init__(None)

    def make(self):
        return make_default_model.make_model()

    def export(self, model, inputs, path):
        make_default_model.export(model, path)


class SelfAttention(nn.Module):
    """BERT's multi-head self-attention, with the matmuls, scaling and softmax written out."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_size = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, hidden)

    def split_heads(self, x):
        batch, sequence, _ = x.shape
        return x.view(batch, sequence, self.heads, self.head_size).transpose(1, 2)

    def forward(self, x, mask_bias):
        batch, sequence, hidden = x.shape
        query = self.split_heads(self.query(x))
        key = self.split_heads(self.key(x))
        value = self.split_heads(self.value(x))
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.head_size)
        probabilities = torch.softmax(scores + mask_bias, dim=-1)
        context = torch.matmul(probabilities, value).transpose(1, 2).reshape(batch, sequence, hidden)
        return self.output(context)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, intermediate):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, intermediate)
        self.ffn_out = nn.Linear(intermediate, hidden)
        self.gelu = nn.GELU()
        self.ffn_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, mask_bias):
        x = self.attention_norm(x + self.attention(x, mask_bias))
        return self.ffn_norm(x + self.ffn_out(self.gelu(self.ffn_in(x))))


class BertEncoder(nn.Module):
    """A BERT-base encoder: token + position embeddings, 12 post-LayerNorm layers, hidden 768, 12 heads."""

    def __init__(self, vocab=30522, max_positions=512, hidden=768, layers=12, heads=12, intermediate=3072):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, hidden)
        self.position_embedding = nn.Embedding(max_positions, hidden)
        self.register_buffer("position_ids", torch.arange(max_positions).unsqueeze(0))
        self.embedding_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, intermediate) for _ in range(layers))
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(0.0, 0.02)
        if isinstance(module, nn.Linear):
            module.bias.data.normal_(0.0, 0.02)
        if isinstance(module, nn.LayerNorm):
            module.weight.data.normal_(1.0, 0.1)
            module.bias.data.normal_(0.0, 0.1)

    def forward(self, input_ids, attention_mask):
        sequence = input_ids.shape[1]
        positions = self.position_ids[:, :sequence]
        x = self.embedding_norm(self.token_embedding(input_ids) + self.position_embedding(positions))
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


class BertModel:
    """Inputs "input_ids" and "attention_mask" int64 [N,128]; output "last_hidden_state" [N,128,768].
    Rows of the batch are padded to different lengths (128, 100, 64, 17)."""

    input_names = ["input_ids", "attention_mask"]
    output_names = ["last_hidden_state"]
    batches = (1, 4)
    SEQUENCE = 128
    VOCAB = 30522

    def make(self):
        return BertEncoder(vocab=self.VOCAB).eval()

    def inputs(self, batch):
        input_ids = torch.randint(0, self.VOCAB, (batch, self.SEQUENCE), dtype=torch.int64)
        attention_mask = torch.zeros(batch, self.SEQUENCE, dtype=torch.int64)
        for row, length in enumerate([self.SEQUENCE, 100, 64, 17][:batch]):
            attention_mask[row, :length] = 1
        return [input_ids, attention_mask]

    def export(self, model, inputs, path):
        export_dynamic_batch(model, self, inputs, path)


# name: (seed, spec). tests/models/CMakeLists.txt lists the same names.
MODELS = {
    "squeezenet_default": (1000, DefaultModel()),
    "resnet50": (1001, ImageModel(torchvision.models.resnet50)),
    "mobilenet_v2": (1002, ImageModel(torchvision.models.mobilenet_v2)),
    "bert_base": (1003, BertModel()),
}


def scripts_hash():
    digest = hashlib.sha256()
    for script in (pathlib.Path(__file__), pathlib.Path(make_default_model.__file__)):
        digest.update(script.resolve().read_bytes())
    return digest.hexdigest()


def relative_l2(actual, expected):
    expected = expected.double()
    return float(torch.linalg.norm(actual.double() - expected) / torch.linalg.norm(expected))


def save_case(model, spec, batch, case_dir):
    inputs = spec.inputs(batch)
    outputs = model(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for kind, names, tensors in (("inputs", spec.input_names, inputs),
                                 ("expected", spec.output_names, outputs)):
        (case_dir / kind).mkdir(parents=True)
        for name, tensor in zip(names, tensors):
            np.save(case_dir / kind / f"{name}.npy", tensor.numpy())
    # torch's own bf16 error on this model (autocast: convolutions and matmuls in bf16), the yardstick of
    # the bf16 model tests: with random weights, errors grow through deep CNNs far beyond a trained model's.
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(*inputs)
    low = low if isinstance(low, tuple) else (low,)
    error = max(relative_l2(a.float(), e) for a, e in zip(low, outputs))
    (case_dir / "bf16_reference_error").write_text(f"{error:.6e}\n")
    return inputs


def make_model(seed, spec, model_dir, stamp):
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    torch.manual_seed(seed)
    model = spec.make().eval()
    torch.manual_seed(seed)
    cases = {batch: save_case(model, spec, batch, model_dir / f"batch{batch}") for batch in spec.batches}
    spec.export(model, cases[spec.batches[0]], model_dir / "model.onnx")
    (model_dir / "stamp").write_text(stamp + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output_dir", type=pathlib.Path)
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"any of {', '.join(MODELS)} (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    torch.set_grad_enabled(False)
    stamp = scripts_hash()
    for name in args.models or MODELS:
        seed, spec = MODELS[name]
        model_dir = args.output_dir / name
        stamp_file = model_dir / "stamp"
        if stamp_file.exists() and stamp_file.read_text().strip() == stamp:
            print(f"{name}: up to date in {model_dir}")
            continue
        start = time.monotonic()
        make_model(seed, spec, model_dir, stamp)
        size = (model_dir / "model.onnx").stat().st_size / 1e6
        print(f"{name}: made {model_dir} ({size:.0f} MB) in {time.monotonic() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
