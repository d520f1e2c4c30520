#include "graph/graph.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "graph/op_registry.hpp"

namespace sluice::graph {

namespace {

const char* attribute_type_name(const AttributeValue& v) {
  switch (v.index()) {
    case 0: return "int";
    case 1: return "float";
    case 2: return "string";
    case 3: return "tensor";
    case 4: return "graph";
    case 5: return "ints";
    case 6: return "floats";
    case 7: return "strings";
    case 8: return "tensors";
    case 9: return "graphs";
    case 10: return "type";
  }
  return "?";
}

template <class T> const T& typed_attr(const Node& node, const std::string& attr, const char* expected) {
  auto it = node.attributes.find(attr);
  SLUICE_CHECK(it != node.attributes.end(), node.describe(), ": missing required attribute '", attr, "'");
  const T* v = std::get_if<T>(&it->second);
  SLUICE_CHECK(v != nullptr, node.describe(), ": attribute '", attr, "' is of type ",
               attribute_type_name(it->second), "; expected ", expected);
  return *v;
}

template <class T>
T typed_attr_or(const Node& node, const std::string& attr, const T& fallback, const char* expected) {
  if (!node.has_attr(attr)) return fallback;
  return typed_attr<T>(node, attr, expected);
}

}  // namespace

int64_t Node::attr_int(const std::string& attr) const { return typed_attr<int64_t>(*this, attr, "int"); }
int64_t Node::attr_int(const std::string& attr, int64_t fallback) const {
  return typed_attr_or<int64_t>(*this, attr, fallback, "int");
}
float Node::attr_float(const std::string& attr) const { return typed_attr<float>(*this, attr, "float"); }
float Node::attr_float(const std::string& attr, float fallback) const {
  return typed_attr_or<float>(*this, attr, fallback, "float");
}
std::string Node::attr_string(const std::string& attr) const {
  return typed_attr<std::string>(*this, attr, "string");
}
std::string Node::attr_string(const std::string& attr, const std::string& fallback) const {
  return typed_attr_or<std::string>(*this, attr, fallback, "string");
}
std::vector<int64_t> Node::attr_ints(const std::string& attr) const {
  return typed_attr<std::vector<int64_t>>(*this, attr, "ints");
}
std::vector<int64_t> Node::attr_ints(const std::string& attr, const std::vector<int64_t>& fallback) const {
  return typed_attr_or<std::vector<int64_t>>(*this, attr, fallback, "ints");
}
std::vector<float> Node::attr_floats(const std::string& attr) const {
  return typed_attr<std::vector<float>>(*this, attr, "floats");
}
std::vector<float> Node::attr_floats(const std::string& attr, const std::vector<float>& fallback) const {
  return typed_attr_or<std::vector<float>>(*this, attr, fallback, "floats");
}
std::vector<std::string> Node::attr_strings(const std::string& attr) const {
  return typed_attr<std::vector<std::string>>(*this, attr, "strings");
}
std::vector<std::string> Node::attr_strings(const std::string& attr,
                                            const std::vector<std::string>& fallback) const {
  return typed_attr_or<std::vector<std::string>>(*this, attr, fallback, "strings");
}
Tensor Node::attr_tensor(const std::string& attr) const { return typed_attr<Tensor>(*this, attr, "tensor"); }
const Graph& Node::attr_graph(const std::string& attr) const {
  const GraphPtr& g = typed_attr<GraphPtr>(*this, attr, "graph");
  SLUICE_CHECK(g != nullptr, describe(), ": attribute '", attr, "' holds no graph");
  return *g;
}

const TypeAttribute& Node::attr_type(const std::string& attr) const {
  return typed_attr<TypeAttribute>(*this, attr, "type");
}

std::string ValueKind::name() const {
  std::string base = sequence ? "sequence" : "tensor";
  return optional ? "optional " + base : base;
}

std::string Node::describe() const {
  std::string op = domain.empty() ? op_type : domain + "::" + op_type;
  return op + " node '" + name + "'";
}

Value* Graph::add_value(std::string value_name) {
  values_.push_back(std::make_unique<Value>());
  values_.back()->name = std::move(value_name);
  return values_.back().get();
}

Node* Graph::add_node(std::string op_type, std::string domain, std::vector<Value*> inputs,
                      std::vector<Value*> outputs, std::string node_name) {
  auto node = std::make_unique<Node>();
  node->op_type = std::move(op_type);
  node->domain = std::move(domain);
  node->inputs = std::move(inputs);
  node->outputs = std::move(outputs);
  node->name = std::move(node_name);
  auto it = opset_imports.find(node->domain);
  if (it != opset_imports.end()) node->opset_version = it->second;
  for (size_t i = 0; i < node->outputs.size(); ++i) {
    if (Value* v = node->outputs[i]) {
      v->producer = node.get();
      v->producer_output = static_cast<int>(i);
    }
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

Value* Graph::find_value(const std::string& value_name) const {
  for (const auto& v : values_) {
    if (v->name == value_name) return v.get();
  }
  return nullptr;
}

void Graph::replace_uses(Value* from, Value* to) {
  for (auto& node : nodes_) {
    for (auto& in : node->inputs) {
      if (in == from) in = to;
    }
  }
  for (auto& out : outputs_) {
    if (out == from) out = to;
  }
}

void Graph::remove_node(Node* node) {
  for (Value* out : node->outputs) {
    if (out && out->producer == node) {
      out->producer = nullptr;
      out->producer_output = -1;
    }
  }
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n.get() == node; });
  if (it != nodes_.end()) nodes_.erase(it);
}

namespace {

// Names of outer values that the subgraphs of `node` (recursively) use.
void collect_outer_names(const Graph& g, std::set<std::string>& names) {
  for (const auto& v : g.values()) {
    if (v->outer) names.insert(v->name);
  }
  for (const auto& n : g.nodes()) {
    for (const auto& [attr, value] : n->attributes) {
      if (auto* sub = std::get_if<GraphPtr>(&value)) {
        if (*sub) collect_outer_names(**sub, names);
      } else if (auto* subs = std::get_if<std::vector<GraphPtr>>(&value)) {
        for (const auto& s : *subs) {
          if (s) collect_outer_names(*s, names);
        }
      }
    }
  }
}

}  // namespace

std::set<std::string> subgraph_outer_names(const Node& node) {
  std::set<std::string> names;
  for (const auto& [attr, value] : node.attributes) {
    if (auto* sub = std::get_if<GraphPtr>(&value)) {
      if (*sub) collect_outer_names(**sub, names);
    } else if (auto* subs = std::get_if<std::vector<GraphPtr>>(&value)) {
      for (const auto& s : *subs) {
        if (s) collect_outer_names(*s, names);
      }
    }
  }
  return names;
}

std::map<const Value*, int> Graph::use_counts() const {
  std::map<const Value*, int> counts;
  std::map<std::string, const Value*> by_name;
  for (const auto& v : values_) by_name[v->name] = v.get();
  for (const auto& node : nodes_) {
    for (const Value* in : node->inputs) {
      if (in) ++counts[in];
    }
    for (const auto& name : subgraph_outer_names(*node)) {
      auto it = by_name.find(name);
      if (it != by_name.end()) ++counts[it->second];
    }
  }
  for (const Value* out : outputs_) ++counts[out];
  return counts;
}

void Graph::remove_unused_values() {
  const auto counts = use_counts();
  std::set<const Value*> keep(inputs_.begin(), inputs_.end());
  keep.insert(outputs_.begin(), outputs_.end());
  for (const auto& node : nodes_) {
    for (const Value* v : node->outputs) {
      if (v) keep.insert(v);
    }
  }
  std::erase_if(values_, [&](const std::unique_ptr<Value>& v) {
    return !keep.count(v.get()) && !counts.count(v.get());
  });
}

void Graph::topological_sort() {
  std::map<const Value*, Node*> producer_of;
  std::map<std::string, Node*> producer_by_name;
  for (const auto& node : nodes_) {
    for (const Value* out : node->outputs) {
      if (out) {
        producer_of[out] = node.get();
        producer_by_name[out->name] = node.get();
      }
    }
  }
  enum class Mark { none, visiting, done };
  std::map<const Node*, Mark> marks;
  std::vector<Node*> order;
  order.reserve(nodes_.size());
  // Iterative DFS so that very deep graphs do not overflow the stack.
  for (const auto& root : nodes_) {
    if (marks[root.get()] == Mark::done) continue;
    std::vector<std::pair<Node*, std::vector<Node*>>> stack;
    auto deps_of = [&](Node* n) {
      std::vector<Node*> deps;
      for (const Value* in : n->inputs) {
        auto it = in ? producer_of.find(in) : producer_of.end();
        if (it != producer_of.end()) deps.push_back(it->second);
      }
      for (const auto& name : subgraph_outer_names(*n)) {
        auto it = producer_by_name.find(name);
        if (it != producer_by_name.end()) deps.push_back(it->second);
      }
      return deps;
    };
    marks[root.get()] = Mark::visiting;
    stack.emplace_back(root.get(), deps_of(root.get()));
    while (!stack.empty()) {
      auto& [node, deps] = stack.back();
      if (deps.empty()) {
        marks[node] = Mark::done;
        order.push_back(node);
        stack.pop_back();
        continue;
      }
      Node* dep = deps.back();
      deps.pop_back();
      Mark& m = marks[dep];
      if (m == Mark::done) continue;
      SLUICE_CHECK(m != Mark::visiting, "graph '", name, "' has a cycle through ", dep->describe());
      m = Mark::visiting;
      stack.emplace_back(dep, deps_of(dep));
    }
  }
  std::map<const Node*, size_t> position;
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::sort(nodes_.begin(), nodes_.end(),
            [&](const auto& a, const auto& b) { return position[a.get()] < position[b.get()]; });
}

namespace {

void collect_unsupported(Graph& g, std::map<std::string, std::vector<std::string>>& unsupported) {
  const OpRegistry& registry = OpRegistry::instance();
  for (const auto& node : g.nodes()) {
    node->schema = registry.find(node->domain, node->op_type, node->opset_version);
    if (!node->schema) {
      const std::string domain = node->domain.empty() ? "ai.onnx" : node->domain;
      unsupported[node->op_type + " (" + domain + ", opset " + std::to_string(node->opset_version) + ")"]
          .push_back(node->name);
    }
    for (auto& [attr, value] : node->attributes) {
      if (auto* sub = std::get_if<GraphPtr>(&value)) {
        if (*sub) collect_unsupported(**sub, unsupported);
      } else if (auto* subs = std::get_if<std::vector<GraphPtr>>(&value)) {
        for (auto& s : *subs) {
          if (s) collect_unsupported(*s, unsupported);
        }
      }
    }
  }
}

}  // namespace

std::vector<std::string> unsupported_operators(Graph& graph) {
  std::map<std::string, std::vector<std::string>> unsupported;
  collect_unsupported(graph, unsupported);
  std::vector<std::string> out;
  for (const auto& [op, names] : unsupported) {
    std::string line = op + ": ";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) line += ", ";
      if (i == 8) {
        line += "... (" + std::to_string(names.size()) + " nodes)";
        break;
      }
      line += "'" + names[i] + "'";
    }
    out.push_back(line);
  }
  return out;
}

void Graph::resolve_operators() {
  const auto unsupported = unsupported_operators(*this);
  if (unsupported.empty()) return;
  std::string message = "model '" + name + "' uses " + std::to_string(unsupported.size()) +
                        " unsupported operator" + (unsupported.size() > 1 ? "s" : "") + ":";
  for (const auto& line : unsupported) message += "\n  " + line;
  throw Error(message);
}

namespace {

GraphPtr clone_subgraph(const GraphPtr& g, Graph* parent) {
  if (!g) return nullptr;
  std::shared_ptr<Graph> copy = g->clone();
  copy->parent = parent;
  return copy;
}

}  // namespace

std::unique_ptr<Graph> Graph::clone() const {
  auto copy = std::make_unique<Graph>();
  copy->name = name;
  copy->opset_imports = opset_imports;
  copy->parent = parent;
  std::map<const Value*, Value*> value_map;
  for (const auto& v : values_) {
    Value* nv = copy->add_value(v->name);
    *nv = *v;
    nv->producer = nullptr;
    value_map[v.get()] = nv;
  }
  auto map_value = [&](Value* v) { return v ? value_map.at(v) : nullptr; };
  for (const auto& node : nodes_) {
    std::vector<Value*> ins, outs;
    for (Value* v : node->inputs) ins.push_back(map_value(v));
    for (Value* v : node->outputs) outs.push_back(map_value(v));
    Node* nn = copy->add_node(node->op_type, node->domain, ins, outs, node->name);
    nn->opset_version = node->opset_version;
    nn->schema = node->schema;
    for (const auto& [attr, value] : node->attributes) {
      if (auto* sub = std::get_if<GraphPtr>(&value)) {
        nn->attributes[attr] = clone_subgraph(*sub, copy.get());
      } else if (auto* subs = std::get_if<std::vector<GraphPtr>>(&value)) {
        std::vector<GraphPtr> copies;
        for (const auto& s : *subs) copies.push_back(clone_subgraph(s, copy.get()));
        nn->attributes[attr] = std::move(copies);
      } else {
        nn->attributes[attr] = value;
      }
    }
  }
  for (Value* v : inputs_) copy->inputs_.push_back(map_value(v));
  for (Value* v : outputs_) copy->outputs_.push_back(map_value(v));
  return copy;
}

}  // namespace sluice::graph
