#!/usr/bin/python3
"""Writes a tiny ONNX model for measuring the runtime's per-request cost: y = x + c, with x a [1,16] float
input and c a [1,16] float constant (0, 1, ..., 15). The kernel's work (16 additions) is negligible, so
what a benchmark of it measures is the path of a request through the runtime.

    /usr/bin/python3 benchmarks/make_tiny_model.py OUTPUT.onnx [--size 16]

Standard library only: the protobuf bytes are written by hand (the few fields of onnx.proto that the model
needs), so that the benchmarks need no `onnx` package. Opset 14, IR version 7.
"""
import argparse
import pathlib
import struct
import sys

IR_VERSION = 7
OPSET = 14
FLOAT = 1  # TensorProto.DataType.FLOAT

# Protobuf wire types.
VARINT = 0
LENGTH_DELIMITED = 2


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def int_field(field, value):
    return key(field, VARINT) + varint(value)


def bytes_field(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return key(field, LENGTH_DELIMITED) + varint(len(payload)) + payload


# Field numbers below are onnx.proto's (onnx/onnx.proto in the ONNX repository).


def value_info(name, dims):
    """ValueInfoProto of a float tensor with static dimensions."""
    shape = b"".join(bytes_field(1, int_field(1, d)) for d in dims)  # TensorShapeProto.dim{dim_value}
    tensor_type = int_field(1, FLOAT) + bytes_field(2, shape)  # TypeProto.Tensor{elem_type, shape}
    return bytes_field(1, name) + bytes_field(2, bytes_field(1, tensor_type))  # name, type{tensor_type}


def float_tensor(name, dims, values):
    """TensorProto with raw_data (little-endian, as ONNX specifies)."""
    out = b"".join(int_field(1, d) for d in dims) + int_field(2, FLOAT)
    out += bytes_field(8, name) + bytes_field(9, struct.pack(f"<{len(values)}f", *values))
    return out


def node(op_type, inputs, outputs, name):
    out = b"".join(bytes_field(1, i) for i in inputs) + b"".join(bytes_field(2, o) for o in outputs)
    return out + bytes_field(3, name) + bytes_field(4, op_type)


def tiny_add_model(size=16):
    """The serialized ModelProto of y = x + c over [1, size] floats."""
    dims = [1, size]
    graph = bytes_field(1, node("Add", ["x", "c"], ["y"], "add"))  # GraphProto.node
    graph += bytes_field(2, "tiny_add")  # name
    graph += bytes_field(5, float_tensor("c", dims, [float(i) for i in range(size)]))  # initializer
    graph += bytes_field(11, value_info("x", dims))  # input
    graph += bytes_field(12, value_info("y", dims))  # output
    model = int_field(1, IR_VERSION)  # ModelProto.ir_version
    model += bytes_field(2, "sluice benchmarks/make_tiny_model.py")  # producer_name
    model += bytes_field(7, graph)  # graph
    model += bytes_field(8, bytes_field(1, "") + int_field(2, OPSET))  # opset_import{domain, version}
    return model


def write_tiny_model(path, size=16):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_add_model(size))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=pathlib.Path, help="the .onnx file to write")
    parser.add_argument("--size", type=int, default=16, help="elements of x, c and y (default 16)")
    args = parser.parse_args()
    if args.size < 1:
        parser.error("--size must be >= 1")
    write_tiny_model(args.output, args.size)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
