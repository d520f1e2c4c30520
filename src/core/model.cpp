#include "sluice/model.hpp"

#include <set>

#include "core/model_impl.hpp"
#include "graph/op_registry.hpp"
#include "sluice/dev/plugin.hpp"

namespace sluice {

namespace detail {

std::vector<PortInfo> ports_of(const std::vector<graph::Value*>& values) {
  std::vector<PortInfo> ports;
  for (const graph::Value* v : values) {
    ports.push_back({v->name, v->type, v->shape, v->kind.sequence, v->kind.optional});
  }
  return ports;
}

namespace {

void count_operators(const graph::Graph& g, std::map<std::string, int>& counts) {
  for (const auto& node : g.nodes()) {
    ++counts[node->domain.empty() ? node->op_type : node->domain + "::" + node->op_type];
    for (const auto& [attr, value] : node->attributes) {
      if (auto* sub = std::get_if<graph::GraphPtr>(&value)) {
        if (*sub) count_operators(**sub, counts);
      } else if (auto* subs = std::get_if<std::vector<graph::GraphPtr>>(&value)) {
        for (const auto& s : *subs) {
          if (s) count_operators(*s, counts);
        }
      }
    }
  }
}

}  // namespace

void ModelImpl::analyze() {
  unsupported = graph::unsupported_operators(*graph);
  for (const auto& node : graph->nodes()) {
    if (node->schema) graph::infer_node(*node);
  }
  inputs = ports_of(graph->inputs());
  outputs = ports_of(graph->outputs());
}

}  // namespace detail

namespace {

const PortInfo& find_port(const std::vector<PortInfo>& ports, const std::string& name, const char* kind) {
  for (const auto& p : ports) {
    if (p.name == name) return p;
  }
  std::string names;
  for (const auto& p : ports) names += (names.empty() ? "'" : ", '") + p.name + "'";
  throw_error("model has no ", kind, " named '", name, "'; its ", kind, "s: ", names);
}

const PortInfo& port_at(const std::vector<PortInfo>& ports, size_t index, const char* kind) {
  SLUICE_CHECK(index < ports.size(), "model has ", ports.size(), " ", kind, "s; index ", index,
               " is out of range");
  return ports[index];
}

}  // namespace

Model::Model(std::shared_ptr<detail::ModelImpl> impl) : impl_(std::move(impl)) {}

#define SLUICE_MODEL_IMPL() \
  (impl_ ? *impl_ : (throw_error("this Model is empty (default-constructed)"), *impl_))

const std::string& Model::name() const { return SLUICE_MODEL_IMPL().graph->name; }
const std::vector<PortInfo>& Model::inputs() const { return SLUICE_MODEL_IMPL().inputs; }
const std::vector<PortInfo>& Model::outputs() const { return SLUICE_MODEL_IMPL().outputs; }
const PortInfo& Model::input(const std::string& name) const { return find_port(inputs(), name, "input"); }
const PortInfo& Model::input(size_t index) const { return port_at(inputs(), index, "input"); }
const PortInfo& Model::output(const std::string& name) const { return find_port(outputs(), name, "output"); }
const PortInfo& Model::output(size_t index) const { return port_at(outputs(), index, "output"); }

std::map<std::string, int> Model::operator_counts() const {
  std::map<std::string, int> counts;
  detail::count_operators(*SLUICE_MODEL_IMPL().graph, counts);
  return counts;
}

std::vector<std::string> Model::unsupported_operators() const { return SLUICE_MODEL_IMPL().unsupported; }

std::map<std::string, int64_t> Model::opsets() const { return SLUICE_MODEL_IMPL().graph->opset_imports; }

void Model::reshape(const std::map<std::string, PartialShape>& shapes) {
  const detail::ModelImpl& current = SLUICE_MODEL_IMPL();
  std::shared_ptr<graph::Graph> graph = current.graph->clone();
  std::set<std::string> seen;
  for (graph::Value* in : graph->inputs()) {
    auto it = shapes.find(in->name);
    if (it == shapes.end()) continue;
    seen.insert(in->name);
    SLUICE_CHECK(!in->shape.rank_known() || !it->second.rank_known() || in->shape.rank() == it->second.rank(),
                 "reshape: input '", in->name, "' has rank ", in->shape.rank(), "; the new shape ",
                 it->second.to_string(), " has rank ", it->second.rank());
    in->shape = it->second;
  }
  for (const auto& [name, shape] : shapes) {
    if (!seen.count(name)) find_port(current.inputs, name, "input");  // throws naming the inputs
  }
  // Every other value is inferred anew from the inputs.
  for (const auto& node : graph->nodes()) {
    for (graph::Value* out : node->outputs) {
      if (out) out->shape = PartialShape::unknown_rank();
    }
  }
  auto impl = std::make_shared<detail::ModelImpl>();
  impl->graph = std::move(graph);
  try {
    impl->analyze();
  } catch (const Error& e) {
    throw_error("reshape: the new input shapes do not fit the model: ", e.what());
  }
  *impl_ = std::move(*impl);
}

void Model::reshape(const PartialShape& shape) {
  SLUICE_CHECK(inputs().size() == 1, "reshape(shape) needs a model with one input; this one has ",
               inputs().size(), ": use reshape({{name, shape}, ...})");
  reshape({{inputs()[0].name, shape}});
}

void Model::reshape_batch(int64_t batch) {
  std::map<std::string, PartialShape> shapes;
  for (const auto& in : inputs()) {
    SLUICE_CHECK(in.shape.rank_known() && in.shape.rank() >= 1, "reshape_batch: input '", in.name,
                 "' has shape ", in.shape.to_string(), " and no batch dimension");
    PartialShape s = in.shape;
    s[0] = batch < 0 ? Dimension::dynamic() : Dimension(batch);
    shapes[in.name] = s;
  }
  reshape(shapes);
}

Model Model::clone() const {
  auto impl = std::make_shared<detail::ModelImpl>(SLUICE_MODEL_IMPL());
  impl->graph = impl->graph->clone();
  return Model(std::move(impl));
}

namespace dev {

const graph::Graph& graph_of(const Model& model) {
  SLUICE_CHECK(!model.empty(), "this Model is empty (default-constructed)");
  return *model.impl()->graph;
}

Model make_model(std::shared_ptr<graph::Graph> graph) {
  auto impl = std::make_shared<detail::ModelImpl>();
  impl->graph = std::move(graph);
  impl->analyze();
  return Model(std::move(impl));
}

}  // namespace dev

}  // namespace sluice
