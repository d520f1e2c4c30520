#!/usr/bin/python3
"""Makes the small model and .npy files of the sluice CLI tests (tests/conformance/cli_tests.cmake).

Run with /usr/bin/python3 (Debian's python3-onnx and python3-numpy) from any folder:
    /usr/bin/python3 tests/conformance/cli/make_cli_data.py
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = pathlib.Path(__file__).resolve().parent


def main():
    # add.onnx: "out/sum" = x + y, x and y f32 [2, 3]; dyn_add.onnx: the same with shapes [n, 3].
    node = helper.make_node("Add", ["x", "y"], ["out/sum"], name="add")
    graph = helper.make_graph(
        [node], "add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("out/sum", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="sluice-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, HERE / "add.onnx")

    graph = helper.make_graph(
        [node], "dyn_add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("out/sum", TensorProto.FLOAT, ["n", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="sluice-tests")
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


if __name__ == "__main__":
    main()
