#!/usr/bin/python3
"""Makes the small model and .npy files of the sluice CLI tests (tests/conformance/cli_tests.cmake).

Run with /usr/bin/python3 (Debian's python3-onnx and python3-numpy) from any folder:
    /usr/bin/python3 tests/conformance/cli/make_cli_data.py
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent


def main():
    # add.onnx: "out/sum" = x + y, x and y f32 [2, 3]; dyn_add.onnx: the same with shapes [n, 3].
    node = helper.make_node("Add", ["x", "y"], ["out/sum"], name="add")
    graph = helper.make_graph(
        [node], "add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("out/sum", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="sluice-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, HERE / "add.onnx")

    graph = helper.make_graph(
        [node], "dyn_add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("out/sum", TensorProto.FLOAT, ["n", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="sluice-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, HERE / "dyn_add.onnx")

    x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
    y = np.array([[0.5, 0.25, -1], [10, 20, 30]], dtype=np.float32)
    np.save(HERE / "x.npy", x)
    np.save(HERE / "y.npy", y)
    np.save(HERE / "expected_sum.npy", x + y)
    np.save(HERE / "x_f64.npy", x.astype(np.float64))
    np.save(HERE / "x_3x2.npy", x.reshape(3, 2))

    make_cases(HERE / "cases")


def save_case(root, name, model, inputs, outputs):
    """A case folder as in onnx/backend/test/data/node: model.onnx and test_data_set_0/*.pb."""
    case = root / name
    data = case / "test_data_set_0"
    data.mkdir(parents=True, exist_ok=True)
    if isinstance(model, bytes):
        (case / "model.onnx").write_bytes(model)
    else:
        onnx.save(model, case / "model.onnx")
    for prefix, tensors in (("input", inputs), ("output", outputs)):
        for k, tensor in enumerate(tensors):
            (data / f"{prefix}_{k}.pb").write_bytes(tensor.SerializeToString())


def identity_model(elem_type, shape, imports=(("", 13),)):
    node = helper.make_node("Identity", ["x"], ["y"], name="identity")
    graph = helper.make_graph([node], "identity", [helper.make_tensor_value_info("x", elem_type, shape)],
                              [helper.make_tensor_value_info("y", elem_type, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in imports])
    model.ir_version = 8
    return model


def make_cases(root):
    """A miniature node-test suite for the conformance runner: what passes, fails and is skipped."""
    f32 = TensorProto.FLOAT
    inf, nan = np.inf, np.nan

    def t(values, dtype=np.float32, name=""):
        return numpy_helper.from_array(np.array(values, dtype=dtype), name)

    special = [1.0, nan, inf, -inf, 0.0]
    save_case(root, "test_identity_exact", identity_model(f32, [5]), [t(special)], [t(special)])
    # |1000.9 - 1000| <= 1e-7 + 1e-3 * 1000.9 and |1e-8 - 0| <= 1e-7.
    save_case(root, "test_identity_within_tolerance", identity_model(f32, [2]), [t([1000, 1e-8])],
              [t([1000.9, 0])])
    save_case(root, "test_identity_beyond_tolerance", identity_model(f32, [2]), [t([1000, 1])],
              [t([1001.5, 1])])
    save_case(root, "test_identity_inf_sign", identity_model(f32, [1]), [t([inf])], [t([-inf])])
    save_case(root, "test_identity_nan_vs_number", identity_model(f32, [1]), [t([nan])], [t([0])])
    save_case(root, "test_identity_int_exact", identity_model(TensorProto.INT64, [1]), [t([5], np.int64)],
              [t([6], np.int64)])
    save_case(root, "test_identity_wrong_shape", identity_model(f32, [2, 2]), [t([[1, 2], [3, 4]])],
              [t([1, 2, 3, 4])])
    # The suite's convention: bfloat16 data stored as UINT16 bits (0x3f80 is 1.0, 0xc000 is -2.0).
    save_case(root, "test_bf16_as_uint16", identity_model(TensorProto.BFLOAT16, [2]),
              [t([0x3f80, 0xc000], np.uint16)], [t([0x3f80, 0xc000], np.uint16)])
    save_case(root, "test_broken_model", b"not an onnx model", [t([1])], [t([1])])
    # Strings and sequences are in scope: each of these passes.
    save_case(root, "test_string_identity", identity_model(TensorProto.STRING, [2]),
              [t(["a", "bc"], object)], [t(["a", "bc"], object)])
    seq_node = helper.make_node("SequenceConstruct", ["x", "x"], ["y"])
    seq_graph = helper.make_graph(
        [seq_node], "seq", [helper.make_tensor_value_info("x", f32, [1])],
        [helper.make_tensor_sequence_value_info("y", f32, [1])])
    save_case(root, "test_sequence_construct", helper.make_model(seq_graph), [t([1])],
              [numpy_helper.from_list([np.array([1], np.float32), np.array([1], np.float32)])])
    save_case(root, "test_training_skip",
              identity_model(f32, [1], (("", 13), ("ai.onnx.preview.training", 1))), [t([1])], [t([1])])
    save_case(root, "test_complex_skip", identity_model(TensorProto.COMPLEX64, [1]), [t([1], np.complex64)],
              [t([1], np.complex64)])
    float4 = identity_model(f32, [2])
    for value in (float4.graph.input[0], float4.graph.output[0]):
        value.type.tensor_type.elem_type = 23  # FLOAT4E2M1 (ONNX 1.18; this onnx may not name it)
    save_case(root, "test_float4_skip", float4, [t([1, 2], np.int8)], [t([1, 2], np.int8)])
    (root / "not_a_case").mkdir(exist_ok=True)
    (root / "not_a_case" / "README").write_text("Not a test_* folder: the conformance runner ignores it.\n")


if __name__ == "__main__":
    main()
