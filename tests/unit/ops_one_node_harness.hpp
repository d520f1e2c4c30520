// A one-node graph for operator tests: builds a node of the given type and opset, resolves its schema
// from the registry, and runs its validation, shape inference and reference kernel. Used by every
// ops_*_test.cpp.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "graph/op_registry.hpp"

namespace sluice::ops_test {

class NoSubgraphs : public graph::KernelEnv {
 public:
  std::vector<Tensor> run_subgraph(const graph::Graph&, const std::vector<Tensor>&) override {
    throw Error("no subgraphs in these tests");
  }
};

struct OneNode {
  // `inputs[i]` / `outputs[i]` say whether input / output i is given (false: an omitted optional one).
  OneNode(const std::string& op, std::vector<bool> inputs, std::vector<bool> outputs, int64_t opset) {
    std::vector<graph::Value*> ins, outs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      ins.push_back(inputs[i] ? g.add_value("in" + std::to_string(i)) : nullptr);
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      outs.push_back(outputs[i] ? g.add_value("out" + std::to_string(i)) : nullptr);
    }
    node = g.add_node(op, "", ins, outs, "n");
    node->opset_version = opset;
    node->schema = graph::OpRegistry::instance().find("", op, opset);
  }
  OneNode(const std::string& op, std::vector<bool> present, size_t outputs, int64_t opset)
      : OneNode(op, std::move(present), std::vector<bool>(outputs, true), opset) {}
  OneNode(const std::string& op, size_t inputs, size_t outputs, int64_t opset)
      : OneNode(op, std::vector<bool>(inputs, true), outputs, opset) {}

  OneNode& attr(const std::string& name, graph::AttributeValue value) {
    node->attributes[name] = std::move(value);
    return *this;
  }

  // Sets a graph attribute (an If branch, a Loop or Scan body), parenting the body to this graph.
  OneNode& subgraph(const std::string& name, const graph::GraphPtr& body) {
    body->parent = &g;
    return attr(name, body);
  }

  // Validates, then runs the reference kernel; `env` runs the subgraphs.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, graph::KernelEnv& env) {
    EXPECT_NE(node->schema, nullptr) << node->op_type << " is not registered for opset "
                                     << node->opset_version;
    if (node->schema->validate) node->schema->validate(*node);
    return node->schema->reference(*node, inputs, env);
  }
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) {
    NoSubgraphs env;
    return run(inputs, env);
  }
  // The first output of run().
  Tensor run1(const std::vector<Tensor>& inputs) { return run(inputs).at(0); }

  // Declares input i's type and shape (and value, making it a constant).
  OneNode& input(size_t i, ElementType type, PartialShape shape, Tensor value = {}) {
    node->inputs[i]->type = type;
    node->inputs[i]->shape = std::move(shape);
    node->inputs[i]->constant = std::move(value);
    return *this;
  }
  // Makes input i the constant `value`.
  OneNode& constant(size_t i, const Tensor& value) {
    return input(i, value.type(), PartialShape(value.shape()), value);
  }

  // Runs validation and shape inference; returns output `i`.
  const graph::Value& infer(size_t i = 0) {
    graph::infer_node(*node);
    return *node->outputs[i];
  }
  ElementType out_type(size_t i) const { return node->outputs[i]->type; }
  std::string out_shape(size_t i) const { return node->outputs[i]->shape.to_string(); }

  graph::Graph g;
  graph::Node* node = nullptr;
};

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// An f32 tensor of the given shape and values.
inline Tensor f32(Shape shape, const std::vector<float>& values) {
  return Tensor::from<float>(std::move(shape), std::span<const float>(values));
}

template <class T> std::vector<T> values_of(const Tensor& t) {
  auto span = t.values<T>();
  return {span.begin(), span.end()};
}

// A tensor's values as doubles (any element type).
inline std::vector<double> doubles_of(const Tensor& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.size(); ++i) {
    switch (t.type()) {
      case ElementType::f32: out.push_back(t.data<float>()[i]); break;
      case ElementType::f64: out.push_back(t.data<double>()[i]); break;
      case ElementType::f16: out.push_back(static_cast<float>(t.data<float16>()[i])); break;
      default: ADD_FAILURE() << "doubles_of: unexpected type " << to_string(t.type()); return out;
    }
  }
  return out;
}

// Expects every value within tol of the expected one.
inline void expect_near(const Tensor& t, const std::vector<double>& expected, double tol) {
  const std::vector<double> got = doubles_of(t);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "at " << i;
}

}  // namespace sluice::ops_test
