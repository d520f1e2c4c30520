#include "tools/sluice/conformance_scope.hpp"

#include <onnx/onnx_pb.h>  // onnx-ml.pb.h with ONNX_API defined

#include <fstream>

namespace sluice::tool {
namespace {

// ONNX TensorProto data types outside the runtime's element types, with their names.
const char* unsupported_data_type(int32_t data_type) {
  switch (data_type) {
    case 14: return "complex64";
    case 15: return "complex128";
    case 23: return "float4 (FLOAT4E2M1)";
    default: return nullptr;
  }
}

std::optional<std::string> check_data_type(int32_t data_type, const std::string& what) {
  if (const char* name = unsupported_data_type(data_type)) return what + " has " + name + " elements";
  return std::nullopt;
}

// Tensors, sequences of tensors and optionals of those are in scope (`depth` counts the enclosing
// sequence and optional types).
std::optional<std::string> check_type(const onnx::TypeProto& type, const std::string& what, int depth = 0) {
  switch (type.value_case()) {
    case onnx::TypeProto::kTensorType: return check_data_type(type.tensor_type().elem_type(), what);
    case onnx::TypeProto::kSequenceType:
      if (depth > 1) return what + " nests a sequence in a sequence";
      return type.sequence_type().has_elem_type()
                 ? check_type(type.sequence_type().elem_type(), what, depth + 1)
                 : std::nullopt;
    case onnx::TypeProto::kOptionalType:
      if (depth > 0) return what + " nests an optional in a sequence or optional";
      return type.optional_type().has_elem_type()
                 ? check_type(type.optional_type().elem_type(), what, depth + 1)
                 : std::nullopt;
    case onnx::TypeProto::kMapType: return what + " is a map";
    case onnx::TypeProto::kSparseTensorType: return what + " is a sparse tensor";
    default: return std::nullopt;  // no type declared
  }
}

std::optional<std::string> check_graph(const onnx::GraphProto& graph);

std::optional<std::string> check_domain(const std::string& domain, const std::string& what) {
  if (domain == "ai.onnx.preview.training") return what + " uses the ai.onnx.preview.training domain";
  return std::nullopt;
}

std::optional<std::string> check_attribute(const onnx::AttributeProto& attribute, const std::string& node) {
  std::string what = node + " attribute '" + attribute.name() + "'";
  std::optional<std::string> reason;
  if (attribute.has_t()) reason = check_data_type(attribute.t().data_type(), what);
  for (int i = 0; !reason && i < attribute.tensors_size(); ++i) {
    reason = check_data_type(attribute.tensors(i).data_type(), what);
  }
  if (!reason && attribute.has_tp()) reason = check_type(attribute.tp(), what);
  if (!reason && attribute.has_g()) reason = check_graph(attribute.g());
  for (int i = 0; !reason && i < attribute.graphs_size(); ++i) reason = check_graph(attribute.graphs(i));
  if (!reason && attribute.has_sparse_tensor()) reason = what + " is a sparse tensor";
  return reason;
}

std::optional<std::string> check_values(
    const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values, const char* kind) {
  for (const auto& value : values) {
    if (auto reason = check_type(value.type(), std::string(kind) + " '" + value.name() + "'")) return reason;
  }
  return std::nullopt;
}

std::optional<std::string> check_graph(const onnx::GraphProto& graph) {
  std::optional<std::string> reason = check_values(graph.input(), "input");
  if (!reason) reason = check_values(graph.output(), "output");
  if (!reason) reason = check_values(graph.value_info(), "value");
  for (int i = 0; !reason && i < graph.initializer_size(); ++i) {
    reason = check_data_type(graph.initializer(i).data_type(),
                             "initializer '" + graph.initializer(i).name() + "'");
  }
  if (!reason && graph.sparse_initializer_size() > 0) reason = "the graph has sparse initializers";
  for (int i = 0; !reason && i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    std::string what = node.op_type() + " node '" + node.name() + "'";
    reason = check_domain(node.domain(), what);
    for (int a = 0; !reason && a < node.attribute_size(); ++a)
      reason = check_attribute(node.attribute(a), what);
  }
  return reason;
}

}  // namespace

std::optional<std::string> out_of_scope_reason(const std::string& model_path) {
  onnx::ModelProto model;
  std::ifstream in(model_path, std::ios::binary);
  if (!in || !model.ParseFromIstream(&in)) return std::nullopt;
  for (const auto& opset : model.opset_import()) {
    if (auto reason = check_domain(opset.domain(), "the model")) return reason;
  }
  return check_graph(model.graph());
}

}  // namespace sluice::tool
