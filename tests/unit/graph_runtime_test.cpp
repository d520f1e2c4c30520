// Passes, the interpreter, the REF device and the public API on hand-built graphs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "graph/op_registry.hpp"
#include "graph/passes.hpp"
#include "runtime/interpreter.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"
#include "util/cpu_topology.hpp"

using namespace sluice;
using ::testing::HasSubstr;

namespace {

// y = Relu(Identity(x) + c) with c a constant, plus a shape subgraph: z = Reshape(y, Shape(x)).
std::shared_ptr<graph::Graph> make_test_graph(PartialShape x_shape = PartialShape(Shape{2, 3})) {
  auto g = std::make_shared<graph::Graph>();
  g->name = "test";
  g->opset_imports[""] = 17;
  graph::Value* x = g->add_value("x");
  x->type = ElementType::f32;
  x->shape = x_shape;
  x->is_graph_input = true;
  g->inputs().push_back(x);
  graph::Value* c = g->add_value("c");
  c->constant = Tensor::from<float>({3}, {1.0f, -10.0f, 0.5f});
  c->type = ElementType::f32;
  c->shape = PartialShape(Shape{3});
  graph::Value* xi = g->add_value("xi");
  g->add_node("Identity", "", {x}, {xi}, "identity");
  graph::Value* sum = g->add_value("sum");
  g->add_node("Add", "", {xi, c}, {sum}, "add");
  graph::Value* y = g->add_value("y");
  g->add_node("Relu", "", {sum}, {y}, "relu");
  graph::Value* shape = g->add_value("shape");
  g->add_node("Shape", "", {x}, {shape}, "shape");
  graph::Value* z = g->add_value("z");
  g->add_node("Reshape", "", {y, shape}, {z}, "reshape");
  graph::Value* unused = g->add_value("unused");
  g->add_node("Neg", "", {x}, {unused}, "dead");
  g->outputs() = {y, z};
  return g;
}

}  // namespace

TEST(Passes, FoldAndEliminate) {
  auto g = make_test_graph();
  g->resolve_operators();
  graph::default_pass_manager().run(*g, {});
  std::vector<std::string> ops;
  for (const auto& n : g->nodes()) ops.push_back(n->op_type);
  // Identity removed, Shape folded to a constant, the unused Neg removed.
  EXPECT_EQ(ops, (std::vector<std::string>{"Add", "Relu", "Reshape"}));
  EXPECT_EQ(g->outputs()[0]->shape.to_string(), "[2,3]");
  EXPECT_EQ(g->outputs()[1]->type, ElementType::f32);
}

TEST(Passes, EachCanBeSwitchedOff) {
  auto g = make_test_graph();
  g->resolve_operators();
  graph::default_pass_manager().run(*g, {"remove_identity", "shape_folding", "dead_code_elimination"});
  EXPECT_EQ(g->nodes().size(), 6u);
  EXPECT_THROW(graph::default_pass_manager().run(*g, {"no_such_pass"}), Error);
}

TEST(Passes, SymbolicShapesPropagate) {
  auto g = make_test_graph(PartialShape{Dimension::dynamic("batch"), 3});
  g->resolve_operators();
  graph::default_pass_manager().run(*g, {});
  EXPECT_EQ(g->outputs()[0]->shape.to_string(), "[batch,3]");
  // Shape(x) is not static: the Shape node stays.
  bool has_shape = false;
  for (const auto& n : g->nodes()) has_shape = has_shape || n->op_type == "Shape";
  EXPECT_TRUE(has_shape);
}

TEST(Interpreter, RunsAndProfiles) {
  auto g = make_test_graph();
  g->resolve_operators();
  runtime::Interpreter interp(g);
  std::vector<ProfilingInfo> profile;
  auto out = interp.run({Tensor::from<float>({2, 3}, {1, 2, 3, -4, 5, -6})}, &profile);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(out[0].values<float>(), ::testing::ElementsAre(2, 0, 3.5f, 0, 0, 0));
  EXPECT_EQ(out[1].shape(), (Shape{2, 3}));
  EXPECT_EQ(profile.size(), 6u);
  EXPECT_EQ(profile[0].exec_type, "ref");
}

TEST(Interpreter, CancelFlagStopsTheRunBetweenNodes) {
  auto g = make_test_graph();
  g->resolve_operators();
  runtime::Interpreter interp(g);
  const Tensor x = Tensor::from<float>({2, 3}, {1, 2, 3, -4, 5, -6});
  std::atomic<bool> cancel{true};
  EXPECT_THROW(interp.run({x}, nullptr, &cancel), InferCancelled);
  cancel = false;
  EXPECT_EQ(interp.run({x}, nullptr, &cancel).size(), 2u);
}

class RefApi : public ::testing::Test {
 protected:
  Core core;
  Model model = dev::make_model(make_test_graph(PartialShape{Dimension::dynamic("batch"), 3}));
};

TEST_F(RefApi, InferWithDynamicBatch) {
  CompiledModel compiled = core.compile_model(model, "REF", {props::enable_profiling(true)});
  InferRequest request = compiled.create_infer_request();
  float data[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  request.set_tensor("x", Tensor(ElementType::f32, {3, 3}, data));
  request.infer();
  Tensor y = request.get_tensor("y");
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_THAT(y.values<float>(), ::testing::ElementsAre(2, 0, 3.5f, 5, 0, 6.5f, 8, 0, 9.5f));
  EXPECT_FALSE(request.get_profiling_info().empty());
  EXPECT_EQ(data[0], 1);  // inputs are never modified
}

TEST_F(RefApi, WritesIntoOutputTensorsTheUserSet) {
  CompiledModel compiled = core.compile_model(model, "REF");
  InferRequest request = compiled.create_infer_request();
  request.set_tensor("x", Tensor::from<float>({1, 3}, {1, 1, 1}));
  std::vector<float> out(3, -1);
  request.set_tensor("y", Tensor(ElementType::f32, {1, 3}, out.data()));
  request.infer();
  EXPECT_THAT(out, ::testing::ElementsAre(2, 0, 1.5f));
}

TEST_F(RefApi, RejectsBadTensors) {
  InferRequest request = core.compile_model(model, "REF").create_infer_request();
  try {
    request.infer();
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x' has no tensor"));
  }
  try {
    request.set_tensor("x", Tensor(ElementType::i64, {1, 3}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x': tensor of element type i64; expected f32"));
  }
  try {
    request.set_tensor("x", Tensor(ElementType::f32, {1, 4}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x': tensor of shape [1,4]; expected [batch,3]"));
  }
  try {
    request.set_tensor("nope", Tensor(ElementType::f32, {1, 3}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no input or output named 'nope'"));
    EXPECT_THAT(e.what(), HasSubstr("inputs 'x'"));
  }
  EXPECT_THROW(request.set_input_tensor(5, Tensor(ElementType::f32, {1, 3})), Error);
}

TEST_F(RefApi, DevicesAndProperties) {
  EXPECT_THAT(core.available_devices(), ::testing::Contains("REF"));
  EXPECT_THAT(core.get_property("REF", props::full_device_name), HasSubstr("reference"));
  try {
    core.compile_model(model, "GPU7");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown device 'GPU7'"));
    EXPECT_THAT(e.what(), HasSubstr("REF"));
  }
  try {
    core.compile_model(model, "REF", {{"NUM_STRAEMS", 2}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown property 'NUM_STRAEMS'"));
    EXPECT_THAT(e.what(), HasSubstr("NUM_STREAMS"));
  }
  try {
    core.set_property("REF", {{"PERFORMANCE_HINT", "FASTEST"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("PERFORMANCE_HINT"));
    EXPECT_THAT(e.what(), HasSubstr("LATENCY, THROUGHPUT or CUMULATIVE_THROUGHPUT"));
  }
  EXPECT_THROW(core.set_property("REF", {{"OPTIMAL_NUMBER_OF_INFER_REQUESTS", 3}}), Error);
  CompiledModel compiled = core.compile_model(model, "REF", {{"PERFORMANCE_HINT", "THROUGHPUT"}});
  EXPECT_EQ(compiled.get_property(props::performance_hint), PerformanceMode::THROUGHPUT);
  // REF is single-threaded: THROUGHPUT runs one stream per core, two requests per stream.
  const int64_t streams = compiled.get_property(props::num_streams);
  EXPECT_EQ(streams, static_cast<int64_t>(host_topology().cores.size()));
  EXPECT_EQ(compiled.get_property(props::optimal_number_of_infer_requests), 2 * streams);
  EXPECT_EQ(compiled.get_property(props::inference_num_threads), streams);
  EXPECT_THAT(compiled.get_property(props::supported_properties), ::testing::Contains("ENABLE_PROFILING"));
}

TEST_F(RefApi, ReshapeAndBatch) {
  Model m = model.clone();
  m.reshape_batch(4);
  EXPECT_EQ(m.input(0).shape.to_string(), "[4,3]");
  EXPECT_EQ(m.output("y").shape.to_string(), "[4,3]");
  EXPECT_EQ(model.input(0).shape.to_string(), "[batch,3]");        // the clone is independent
  EXPECT_THROW(m.reshape({{"x", PartialShape{4, 3, 1}}}), Error);  // rank change
  EXPECT_THROW(m.reshape({{"x", PartialShape{4, 5}}}), Error);     // does not broadcast with c
  EXPECT_EQ(m.input(0).shape.to_string(), "[4,3]");                // unchanged after a failed reshape
  EXPECT_THROW(m.reshape({{"q", PartialShape{4, 3}}}), Error);
}

TEST(Model, UnsupportedOperatorsListedTogether) {
  auto g = make_test_graph();
  g->add_node("FancyOp", "", {g->inputs()[0]}, {g->add_value("f1")}, "fancy_1");
  g->add_node("FancyOp", "", {g->inputs()[0]}, {g->add_value("f2")}, "fancy_2");
  g->add_node("Other", "com.example", {g->inputs()[0]}, {g->add_value("f3")}, "other_1");
  Model m = dev::make_model(g);
  ASSERT_EQ(m.unsupported_operators().size(), 2u);
  Core core;
  try {
    core.compile_model(m, "REF");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 unsupported operators"));
    EXPECT_THAT(e.what(), HasSubstr("FancyOp (ai.onnx, opset 17): 'fancy_1', 'fancy_2'"));
    EXPECT_THAT(e.what(), HasSubstr("Other (com.example"));
  }
}

namespace {

// A branch for an If over outer value "x": Neg(x), or x + [1,2,3] (which does not broadcast with [2]).
graph::GraphPtr make_branch(graph::Graph* parent, bool valid) {
  auto branch = std::make_shared<graph::Graph>();
  branch->name = valid ? "then" : "else";
  branch->parent = parent;
  branch->opset_imports = parent->opset_imports;
  graph::Value* x = branch->add_value("x");
  x->outer = true;
  graph::Value* out = branch->add_value(valid ? "negated" : "bad_sum");
  if (valid) {
    branch->add_node("Neg", "", {x}, {out}, "neg");
  } else {
    graph::Value* c = branch->add_value("c3");
    c->constant = Tensor::from<float>({3}, {1.0f, 2.0f, 3.0f});
    c->type = ElementType::f32;
    c->shape = PartialShape(Shape{3});
    branch->add_node("Add", "", {x, c}, {out}, "bad_add");
  }
  branch->outputs().push_back(out);
  return branch;
}

}  // namespace

TEST(Passes, IfWithConstantConditionInfersOnlyTheBranchThatRuns) {
  auto g = std::make_shared<graph::Graph>();
  g->name = "if_test";
  g->opset_imports[""] = 17;
  graph::Value* x = g->add_value("x");
  x->type = ElementType::f32;
  x->shape = PartialShape(Shape{2});
  x->is_graph_input = true;
  g->inputs().push_back(x);
  graph::Value* cond = g->add_value("cond");
  cond->constant = Tensor::scalar<bool>(true);
  cond->type = ElementType::boolean;
  cond->shape = PartialShape(Shape{});
  graph::Value* y = g->add_value("y");
  graph::Node* node = g->add_node("If", "", {cond}, {y}, "if");
  node->attributes["then_branch"] = make_branch(g.get(), true);
  node->attributes["else_branch"] = make_branch(g.get(), false);
  g->outputs().push_back(y);
  Model model = dev::make_model(g);
  EXPECT_EQ(model.output(0).shape.to_string(), "[2]");
  Core core;
  InferRequest request = core.compile_model(model, "REF").create_infer_request();
  request.set_tensor("x", Tensor::from<float>({2}, {1.0f, -2.0f}));
  request.infer();
  EXPECT_THAT(request.get_tensor("y").values<float>(), ::testing::ElementsAre(-1.0f, 2.0f));

  // With the condition unknown, the invalid branch is an error at read time, naming its node.
  cond->constant = Tensor();
  cond->is_graph_input = true;
  g->inputs().push_back(cond);
  try {
    dev::make_model(g);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad_add"));
  }
}
