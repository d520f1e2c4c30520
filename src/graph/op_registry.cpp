#include "graph/op_registry.hpp"

#include <algorithm>

namespace sluice::graph {

InferContext::InferContext(const Node& n, std::vector<ElementType> input_types,
                           std::vector<PartialShape> input_shapes, std::vector<const Tensor*> input_values,
                           std::vector<ValueKind> input_kinds)
    : node(n),
      input_types_(std::move(input_types)),
      input_shapes_(std::move(input_shapes)),
      input_values_(std::move(input_values)),
      input_kinds_(std::move(input_kinds)),
      output_kinds_(n.outputs.size()),
      output_types_(n.outputs.size(), ElementType::undefined),
      output_shapes_(n.outputs.size()) {}

ElementType InferContext::input_type(size_t i) const {
  SLUICE_CHECK(i < input_types_.size() && node.has_input(i), node.describe(), ": input ", i,
               " is required but missing");
  return input_types_[i];
}

const PartialShape& InferContext::input_shape(size_t i) const {
  SLUICE_CHECK(i < input_shapes_.size() && node.has_input(i), node.describe(), ": input ", i,
               " is required but missing");
  return input_shapes_[i];
}

const Tensor* InferContext::input_value(size_t i) const {
  return i < input_values_.size() ? input_values_[i] : nullptr;
}

ValueKind InferContext::input_kind(size_t i) const {
  return i < input_kinds_.size() ? input_kinds_[i] : ValueKind{};
}

void InferContext::set_output_kind(size_t i, ValueKind kind) {
  if (i < output_kinds_.size()) output_kinds_[i] = kind;
}

void InferContext::set_output(size_t i, ElementType type, PartialShape shape) {
  if (i >= output_types_.size()) return;  // an output the node does not have: nothing to record
  output_types_[i] = type;
  output_shapes_[i] = std::move(shape);
}

void OpRegistry::add(OpSchema schema) {
  auto& versions = schemas_[{schema.domain, schema.op_type}];
  auto it = std::find_if(versions.begin(), versions.end(),
                         [&](const OpSchema& s) { return s.since_version == schema.since_version; });
  SLUICE_CHECK(it == versions.end(), "operator ", schema.op_type, " version ", schema.since_version,
               " registered twice");
  versions.push_back(std::move(schema));
  std::sort(versions.begin(), versions.end(),
            [](const OpSchema& a, const OpSchema& b) { return a.since_version < b.since_version; });
}

const OpSchema* OpRegistry::find(const std::string& domain, const std::string& op_type,
                                 int64_t version) const {
  auto it = schemas_.find({domain, op_type});
  if (it == schemas_.end()) return nullptr;
  const OpSchema* best = nullptr;
  for (const auto& s : it->second) {
    if (s.since_version <= version) best = &s;
  }
  return best;
}

std::vector<std::pair<std::string, std::string>> OpRegistry::operators() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, versions] : schemas_) out.push_back(key);
  return out;
}

const OpRegistry& OpRegistry::instance() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    register_nn_ops(r);
    register_tensor_ops(r);
    register_reduction_ops(r);
    register_control_flow_ops(r);
    register_loss_ops(r);
    register_quantization_ops(r);
    register_recurrent_ops(r);
    register_signal_ops(r);
    register_misc_ops(r);
    register_ml_ops(r);
    register_fused_ops(r);
    return r;
  }();
  return registry;
}

void check_arity(const Node& node) {
  const OpSchema& s = *node.schema;
  int present_inputs = static_cast<int>(node.inputs.size());
  while (present_inputs > 0 && node.inputs[present_inputs - 1] == nullptr) --present_inputs;
  SLUICE_CHECK(present_inputs >= s.min_inputs && (s.max_inputs < 0 || present_inputs <= s.max_inputs),
               node.describe(), ": has ", present_inputs, " inputs; expected ",
               s.max_inputs < 0 ? "at least " + std::to_string(s.min_inputs)
               : s.min_inputs == s.max_inputs
                   ? std::to_string(s.min_inputs)
                   : std::to_string(s.min_inputs) + " to " + std::to_string(s.max_inputs));
  for (int i = 0; i < s.min_inputs; ++i) {
    SLUICE_CHECK(node.inputs[i] != nullptr, node.describe(), ": required input ", i, " is missing");
  }
  const int outputs = static_cast<int>(node.outputs.size());
  SLUICE_CHECK(outputs >= s.min_outputs && (s.max_outputs < 0 || outputs <= s.max_outputs), node.describe(),
               ": has ", outputs, " outputs; expected ",
               s.max_outputs < 0 ? "at least " + std::to_string(s.min_outputs)
               : s.min_outputs == s.max_outputs
                   ? std::to_string(s.min_outputs)
                   : std::to_string(s.min_outputs) + " to " + std::to_string(s.max_outputs));
}

void infer_node(Node& node) {
  SLUICE_CHECK(node.schema != nullptr, node.describe(), ": operator not resolved");
  check_arity(node);
  if (node.schema->validate) node.schema->validate(node);
  std::vector<ElementType> types;
  std::vector<PartialShape> shapes;
  std::vector<const Tensor*> values;
  std::vector<ValueKind> kinds;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Value* in = node.inputs[i];
    if (in && !node.schema->takes_sequences) {
      SLUICE_CHECK(in->kind.is_tensor(), node.describe(), ": input ", i, " ('", in->name, "') is ",
                   in->kind.optional ? "an " : "a ", in->kind.name(), "; ", node.op_type,
                   " takes tensors only");
    }
    if (in && !node.schema->takes_strings) {
      SLUICE_CHECK(in->type != ElementType::string, node.describe(), ": input ", i, " ('", in->name,
                   "') has string elements; ", node.op_type, " does not take strings");
    }
    types.push_back(in ? in->type : ElementType::undefined);
    shapes.push_back(in ? in->shape : PartialShape());
    values.push_back(in && in->is_constant() ? &in->constant : nullptr);
    kinds.push_back(in ? in->kind : ValueKind{});
  }
  InferContext ctx(node, std::move(types), std::move(shapes), std::move(values), std::move(kinds));
  ctx.infer_subgraph = [](const Graph& body,
                          const std::vector<std::pair<ElementType, PartialShape>>& inputs) {
    return infer_subgraph_outputs(body, inputs);
  };
  if (node.schema->infer) node.schema->infer(ctx);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    Value* out = node.outputs[i];
    if (!out) continue;
    if (ctx.output_type(i) != ElementType::undefined) out->type = ctx.output_type(i);
    if (ctx.output_shape(i).rank_known()) out->shape = ctx.output_shape(i);
    out->kind = ctx.output_kind(i);
    out->kind.optional = out->kind.optional || out->declared_optional;
  }
}

}  // namespace sluice::graph

namespace sluice::graph {

namespace {

const Value* find_in_scope(const Graph* scope, const std::string& name) {
  for (; scope; scope = scope->parent) {
    if (const Value* v = scope->find_value(name); v && !v->outer) return v;
  }
  return nullptr;
}

}  // namespace

std::vector<std::pair<ElementType, PartialShape>> infer_subgraph_outputs(
    const Graph& body, const std::vector<std::pair<ElementType, PartialShape>>& inputs,
    const std::vector<ValueKind>& input_kinds, std::vector<ValueKind>* output_kinds) {
  std::unique_ptr<Graph> copy = body.clone();
  for (size_t i = 0; i < inputs.size() && i < copy->inputs().size(); ++i) {
    Value* in = copy->inputs()[i];
    if (inputs[i].first != ElementType::undefined) in->type = inputs[i].first;
    if (inputs[i].second.rank_known()) in->shape = inputs[i].second;
  }
  for (size_t i = 0; i < input_kinds.size() && i < copy->inputs().size(); ++i) {
    if (!input_kinds[i].is_tensor()) copy->inputs()[i]->kind = input_kinds[i];
  }
  for (const auto& v : copy->values()) {
    if (!v->outer) continue;
    if (const Value* outer = find_in_scope(body.parent, v->name)) {
      v->type = outer->type;
      v->shape = outer->shape;
      v->kind = outer->kind;
    }
  }
  for (const auto& node : copy->nodes()) {
    if (!node->schema)
      node->schema = OpRegistry::instance().find(node->domain, node->op_type, node->opset_version);
    if (node->schema) infer_node(*node);
  }
  std::vector<std::pair<ElementType, PartialShape>> out;
  for (const Value* v : copy->outputs()) out.emplace_back(v->type, v->shape);
  if (output_kinds) {
    output_kinds->clear();
    for (const Value* v : copy->outputs()) output_kinds->push_back(v->kind);
  }
  return out;
}

}  // namespace sluice::graph
