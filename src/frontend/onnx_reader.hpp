// The ONNX frontend: ModelProto bytes -> graph IR.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "graph/graph.hpp"
#include "sluice/tensor.hpp"

namespace sluice::frontend {

// Parses an ONNX model. `base_dir` is the folder external data is resolved against (empty: a model with
// external data is rejected). `source` names the model in errors (its path, or "<bytes>"). The graph has
// its declared input/output/value_info types and shapes and its nodes unresolved (no schema): operator
// resolution and shape inference are the caller's (dev::make_model). Throws sluice::Error for anything
// malformed, naming the file and the node, initializer or attribute at fault.
std::shared_ptr<graph::Graph> read_onnx_model(std::span<const uint8_t> bytes, const std::string& base_dir,
                                              const std::string& source);
// Reads the file, then read_onnx_model with the file's folder as base_dir.
std::shared_ptr<graph::Graph> read_onnx_file(const std::string& path);

// Parses one serialized onnx.TensorProto (the conformance suite's input_K.pb / output_K.pb).
Tensor read_tensor_proto(std::span<const uint8_t> bytes, const std::string& source);
Tensor read_tensor_proto_file(const std::string& path);
// Reads a value of the given kind: a TensorProto; for a sequence an onnx.SequenceProto of tensors (as a
// Tensor::sequence of `element_type`, which an empty sequence needs); for an optional an
// onnx.OptionalProto (an empty Tensor when it holds nothing). Throws sluice::Error naming the file when
// the file holds another kind.
Tensor read_value_proto_file(const std::string& path, bool sequence, bool optional, ElementType element_type);

}  // namespace sluice::frontend
