// Pieces of the ONNX frontend shared by its source files: element types, tensors, declared value types.
#pragma once

#include <onnx/onnx_pb.h>  // onnx-ml.pb.h with ONNX_API defined

#include <cstdint>
#include <string>

#include "graph/graph.hpp"
#include "sluice/element_type.hpp"
#include "sluice/error.hpp"
#include "sluice/shape.hpp"
#include "sluice/tensor.hpp"

namespace sluice::frontend::detail {

// Converts a TensorProto to an owned tensor: raw_data, the typed fields or external data resolved
// against base_dir (empty: external data is rejected). Errors start with `what`.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir,
                         const std::string& what);
// The same, then frees the proto's raw_data, so that large weights are held once in memory.
Tensor take_tensor_from_proto(onnx::TensorProto& proto, const std::string& base_dir, const std::string& what);

// A value's declared type: what a ValueInfoProto says (undefined type and unknown rank when absent). A
// sequence's or optional's type and shape are those of its tensors.
struct DeclaredType {
  ElementType type = ElementType::undefined;
  PartialShape shape;
  graph::ValueKind kind;
  // Set for the types the runtime has no values for ("a map", "a sparse tensor", "a sequence of
  // sequences", ...): the value cannot be a graph input or output.
  std::string unsupported;
};
DeclaredType declared_type(const onnx::ValueInfoProto& info, const std::string& what);
DeclaredType declared_type_of(const onnx::TypeProto& type, const std::string& what);

// Runs f; a sluice::Error it throws is rethrown with "context: " in front of its message.
template <class F> auto with_context(const std::string& context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(context + ": " + e.what());
  }
}

}  // namespace sluice::frontend::detail
