// Builds small graphs node by node for device tests (opset 17 unless given, single-output nodes), as a Model.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "sluice/dev/plugin.hpp"

namespace sluice::test {

// Builds a graph node by node (opset 17 unless given, single-output nodes).
class Builder {
 public:
  explicit Builder(int64_t opset = 17) {
    g_->name = "test";
    g_->opset_imports[""] = opset;
  }
  graph::Value* input(const std::string& name, PartialShape shape, ElementType type = ElementType::f32) {
    graph::Value* v = g_->add_value(name);
    v->type = type;
    v->shape = std::move(shape);
    v->is_graph_input = true;
    g_->inputs().push_back(v);
    return v;
  }
  graph::Value* constant(const Tensor& t) {
    graph::Value* v = g_->add_value("c" + std::to_string(count_++));
    v->constant = t;
    v->type = t.type();
    v->shape = PartialShape(t.shape());
    return v;
  }
  graph::Value* node(const std::string& op, std::vector<graph::Value*> inputs,
                     std::map<std::string, graph::AttributeValue> attrs = {}) {
    graph::Value* out = g_->add_value(op + "_out" + std::to_string(count_));
    graph::Node* n = g_->add_node(op, "", std::move(inputs), {out}, op + "_" + std::to_string(count_++));
    n->attributes = std::move(attrs);
    return out;
  }
  Model finish(std::vector<graph::Value*> outputs) {
    g_->outputs() = std::move(outputs);
    return dev::make_model(g_);
  }

 private:
  std::shared_ptr<graph::Graph> g_ = std::make_shared<graph::Graph>();
  int count_ = 0;
};

// A model of one node of opset `opset` whose inputs are graph inputs with the element types and shapes of
// `inputs`, and whose `outputs` outputs are the graph's outputs.
inline Model one_node_model(const std::string& op, int64_t opset, const std::vector<Tensor>& inputs,
                            std::map<std::string, graph::AttributeValue> attrs, int outputs = 1) {
  auto g = std::make_shared<graph::Graph>();
  g->name = op + "_test";
  g->opset_imports[""] = opset;
  std::vector<graph::Value*> ins, outs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    graph::Value* v = g->add_value("x" + std::to_string(i));
    v->type = inputs[i].type();
    v->shape = PartialShape(inputs[i].shape());
    v->is_graph_input = true;
    g->inputs().push_back(v);
    ins.push_back(v);
  }
  for (int o = 0; o < outputs; ++o) outs.push_back(g->add_value(o == 0 ? "y" : "y" + std::to_string(o)));
  graph::Node* n = g->add_node(op, "", ins, outs, op + "_0");
  n->attributes = std::move(attrs);
  g->outputs() = outs;
  return dev::make_model(g);
}

}  // namespace sluice::test
