// If, Loop and Scan: the kernels' iteration logic (with a KernelEnv that computes the bodies in C++),
// shape inference from the bodies' declared outputs, and validation.
#include <functional>
#include <string>
#include <vector>

#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using graph::Graph;
using graph::GraphPtr;
using ops_test::error_of;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using BodyFn = std::function<std::vector<Tensor>(const Graph&, const std::vector<Tensor>&)>;

// Runs bodies with a C++ function instead of an interpreter; counts the runs.
class FunctionEnv : public graph::KernelEnv {
 public:
  explicit FunctionEnv(BodyFn fn) : fn_(std::move(fn)) {}
  std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) override {
    ++runs;
    return fn_(body, inputs);
  }
  int runs = 0;

 private:
  BodyFn fn_;
};

struct ValueDecl {
  ElementType type;
  PartialShape shape;
};

// A body graph with declared inputs and outputs and no nodes (the test's BodyFn computes it).
GraphPtr make_body(const std::string& name, const std::vector<ValueDecl>& inputs,
                   const std::vector<ValueDecl>& outputs) {
  auto g = std::make_shared<Graph>();
  g->name = name;
  for (size_t i = 0; i < inputs.size(); ++i) {
    graph::Value* v = g->add_value(name + "_in" + std::to_string(i));
    v->type = inputs[i].type;
    v->shape = inputs[i].shape;
    v->is_graph_input = true;
    g->inputs().push_back(v);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    graph::Value* v = g->add_value(name + "_out" + std::to_string(i));
    v->type = outputs[i].type;
    v->shape = outputs[i].shape;
    g->outputs().push_back(v);
  }
  return g;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out(ElementType::f32, a.shape());
  for (int64_t i = 0; i < a.size(); ++i) out.data<float>()[i] = a.data<float>()[i] + b.data<float>()[i];
  return out;
}

// ---- If ----

struct IfFixture {
  IfFixture() : n("If", {true}, 1, 11) {
    then_body = make_body("then", {}, {{ElementType::f32, PartialShape{2}}});
    else_body = make_body("else", {}, {{ElementType::f32, PartialShape{3}}});
    n.subgraph("then_branch", then_body);
    n.subgraph("else_branch", else_body);
  }
  OneNode n;
  GraphPtr then_body;
  GraphPtr else_body;
};

TEST(If, RunsTheChosenBranchAndCopiesItsOutputs) {
  IfFixture f;
  const Tensor then_value = Tensor::from<float>({2}, {1, 2});
  const Tensor else_value = Tensor::from<float>({3}, {3, 4, 5});
  FunctionEnv env([&](const Graph& body, const std::vector<Tensor>& inputs) {
    EXPECT_TRUE(inputs.empty());
    return std::vector<Tensor>{&body == f.then_body.get() ? then_value : else_value};
  });
  auto out = f.n.run({Tensor::scalar<bool>(true)}, env);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(1, 2));
  EXPECT_NE(out[0].data(), then_value.data());
  out = f.n.run({Tensor::scalar<bool>(false)}, env);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(3, 4, 5));
  EXPECT_THAT(error_of([&] { f.n.run({Tensor::scalar<float>(1)}, env); }), HasSubstr("bool tensor"));
}

TEST(If, InferMergesBranchesUnlessConditionIsConstant) {
  IfFixture f;
  f.n.input(0, ElementType::boolean, PartialShape(Shape{}));
  graph::infer_node(*f.n.node);
  EXPECT_EQ(f.n.node->outputs[0]->type, ElementType::f32);
  EXPECT_EQ(f.n.node->outputs[0]->shape, (PartialShape{Dimension()}));
  IfFixture c;
  c.n.input(0, ElementType::boolean, PartialShape(Shape{}), Tensor::scalar<bool>(false));
  graph::infer_node(*c.n.node);
  EXPECT_EQ(c.n.node->outputs[0]->shape, (PartialShape{3}));
}

TEST(If, RejectsMismatchedBranches) {
  OneNode n("If", {true}, 1, 11);
  n.subgraph("then_branch", make_body("t", {}, {{ElementType::f32, PartialShape{2}}}));
  n.subgraph("else_branch", make_body("e", {}, {{ElementType::i64, PartialShape{2}}}));
  n.input(0, ElementType::boolean, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { graph::infer_node(*n.node); }), HasSubstr("element type i64"));
  OneNode m("If", {true}, 1, 11);
  m.subgraph("then_branch", make_body("t", {}, {{ElementType::f32, PartialShape{2}}}));
  m.subgraph("else_branch", make_body("e", {}, {}));
  m.input(0, ElementType::boolean, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { graph::infer_node(*m.node); }), HasSubstr("'else_branch' has 0 outputs"));
}

// ---- Loop ----

// Body: (i, cond, y[1]) -> (i < 2, y + i, y + i).
GraphPtr loop_body() {
  return make_body("loop_body",
                   {{ElementType::i64, PartialShape(Shape{})},
                    {ElementType::boolean, PartialShape(Shape{})},
                    {ElementType::f32, PartialShape{1}}},
                   {{ElementType::boolean, PartialShape(Shape{})},
                    {ElementType::f32, PartialShape{1}},
                    {ElementType::f32, PartialShape{1}}});
}

std::vector<Tensor> loop_step(const Graph&, const std::vector<Tensor>& in) {
  const int64_t i = in[0].data<int64_t>()[0];
  const Tensor y = Tensor::from<float>({1}, {in[2].data<float>()[0] + static_cast<float>(i)});
  return {Tensor::scalar<bool>(i < 2), y, y};
}

TEST(Loop, StopsWhenTheConditionTurnsFalse) {
  OneNode n("Loop", {true, true, true}, 2, 11);
  n.subgraph("body", loop_body());
  FunctionEnv env(loop_step);
  const auto out =
      n.run({Tensor::scalar<int64_t>(5), Tensor::scalar<bool>(true), Tensor::from<float>({1}, {1})}, env);
  EXPECT_EQ(env.runs, 3);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(4));
  EXPECT_EQ(out[1].shape(), (Shape{3, 1}));
  EXPECT_THAT(values_of<float>(out[1]), ElementsAre(1, 2, 4));
}

TEST(Loop, WithoutConditionRunsTheTripCount) {
  OneNode n("Loop", {true, false, true}, 2, 11);
  n.subgraph("body", loop_body());
  FunctionEnv env(loop_step);
  const auto out = n.run({Tensor::scalar<int64_t>(5), Tensor(), Tensor::from<float>({1}, {1})}, env);
  EXPECT_EQ(env.runs, 5);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(11));
  EXPECT_EQ(out[1].shape(), (Shape{5, 1}));
}

TEST(Loop, ZeroIterationsUseTheInferredScanShape) {
  OneNode n("Loop", {true, true, true}, 2, 11);
  n.subgraph("body", loop_body());
  n.input(0, ElementType::i64, PartialShape(Shape{}));
  n.input(1, ElementType::boolean, PartialShape(Shape{}));
  n.input(2, ElementType::f32, PartialShape{1});
  graph::infer_node(*n.node);
  EXPECT_EQ(n.node->outputs[1]->shape, (PartialShape{Dimension(), 1}));
  FunctionEnv env(loop_step);
  const Tensor y = Tensor::from<float>({1}, {7});
  const auto out = n.run({Tensor::scalar<int64_t>(0), Tensor::scalar<bool>(true), y}, env);
  EXPECT_EQ(env.runs, 0);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(7));
  EXPECT_NE(out[0].data(), y.data());
  EXPECT_EQ(out[1].shape(), (Shape{0, 1}));
}

TEST(Loop, InferStaticTripCountWithoutCondition) {
  OneNode n("Loop", {true, false, true}, 2, 11);
  n.subgraph("body", loop_body());
  n.input(0, ElementType::i64, PartialShape(Shape{}), Tensor::scalar<int64_t>(4));
  n.input(2, ElementType::f32, PartialShape{1});
  graph::infer_node(*n.node);
  EXPECT_EQ(n.node->outputs[0]->shape, (PartialShape{1}));
  EXPECT_EQ(n.node->outputs[1]->shape, (PartialShape{4, 1}));
}

TEST(Loop, Errors) {
  OneNode endless("Loop", {false, false, true}, 2, 11);
  endless.subgraph("body", loop_body());
  FunctionEnv env(loop_step);
  EXPECT_THAT(error_of([&] {
                endless.run({Tensor(), Tensor(), Tensor::from<float>({1}, {1})}, env);
              }),
              HasSubstr("would never end"));
  OneNode wrong("Loop", {true, true}, 2, 11);
  wrong.subgraph("body", loop_body());
  EXPECT_THAT(error_of([&] {
                wrong.run({Tensor::scalar<int64_t>(1), Tensor::scalar<bool>(true)}, env);
              }),
              HasSubstr("'body' has 3 inputs; expected 2"));
  OneNode bad_m("Loop", {true, true, true}, 2, 11);
  bad_m.subgraph("body", loop_body());
  EXPECT_THAT(error_of([&] {
                bad_m.run(
                    {Tensor::scalar<int32_t>(1), Tensor::scalar<bool>(true), Tensor::from<float>({1}, {1})},
                    env);
              }),
              HasSubstr("input 'M' must be an i64"));
}

// ---- Scan ----

// Body: (sum[2], x[2]) -> (sum + x, sum + x).
GraphPtr scan_body() {
  return make_body("scan_body", {{ElementType::f32, PartialShape{2}}, {ElementType::f32, PartialShape{2}}},
                   {{ElementType::f32, PartialShape{2}}, {ElementType::f32, PartialShape{2}}});
}

std::vector<Tensor> scan_step(const Graph&, const std::vector<Tensor>& in) {
  const Tensor sum = add(in[0], in[1]);
  return {sum, sum};
}

const Tensor zeros2 = Tensor::from<float>({2}, {0, 0});
const Tensor x3x2 = Tensor::from<float>({3, 2}, {1, 2, 3, 4, 5, 6});

TEST(Scan, ForwardSum) {
  OneNode n("Scan", {true, true}, 2, 11);
  n.subgraph("body", scan_body());
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  FunctionEnv env(scan_step);
  const auto out = n.run({zeros2, x3x2}, env);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(9, 12));
  EXPECT_EQ(out[1].shape(), (Shape{3, 2}));
  EXPECT_THAT(values_of<float>(out[1]), ElementsAre(1, 2, 4, 6, 9, 12));
}

// String scan inputs are sliced and scan outputs stacked element by element (std::string is not bytes).
TEST(Scan, SlicesAndStacksStrings) {
  const std::string long_text(40, 'q');  // on the heap: a byte-wise copy would share it
  OneNode n("Scan", {true, true}, 2, 11);
  n.subgraph(
      "body",
      make_body("strings", {{ElementType::string, PartialShape{1}}, {ElementType::string, PartialShape{1}}},
                {{ElementType::string, PartialShape{1}}, {ElementType::string, PartialShape{1}}}));
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  FunctionEnv env([](const Graph&, const std::vector<Tensor>& in) {
    Tensor joined(ElementType::string, {1});
    joined.data<std::string>()[0] = in[0].data<std::string>()[0] + in[1].data<std::string>()[0];
    return std::vector<Tensor>{joined, joined};
  });
  const auto out = n.run(
      {Tensor::from<std::string>({1}, {">"}), Tensor::from<std::string>({2, 1}, {"a", long_text})}, env);
  EXPECT_THAT(values_of<std::string>(out[0]), ElementsAre(">a" + long_text));
  EXPECT_EQ(out[1].shape(), (Shape{2, 1}));
  EXPECT_THAT(values_of<std::string>(out[1]), ElementsAre(">a", ">a" + long_text));
}

TEST(Scan, ReverseInputAndOutputDirections) {
  OneNode n("Scan", {true, true}, 2, 11);
  n.subgraph("body", scan_body());
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  n.node->attributes["scan_input_directions"] = std::vector<int64_t>{1};
  n.node->attributes["scan_output_directions"] = std::vector<int64_t>{1};
  FunctionEnv env(scan_step);
  const auto out = n.run({zeros2, x3x2}, env);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(9, 12));
  // Elements in iteration order are [5,6], [8,10], [9,12]; the reverse output lists them last first.
  EXPECT_THAT(values_of<float>(out[1]), ElementsAre(9, 12, 8, 10, 5, 6));
}

TEST(Scan, InputAndOutputAxes) {
  OneNode n("Scan", {true, true}, 2, 11);
  n.subgraph("body", scan_body());
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  n.node->attributes["scan_input_axes"] = std::vector<int64_t>{1};
  n.node->attributes["scan_output_axes"] = std::vector<int64_t>{-1};
  FunctionEnv env(scan_step);
  const Tensor xt = Tensor::from<float>({2, 3}, {1, 3, 5, 2, 4, 6});
  const auto out = n.run({zeros2, xt}, env);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(9, 12));
  EXPECT_EQ(out[1].shape(), (Shape{2, 3}));
  EXPECT_THAT(values_of<float>(out[1]), ElementsAre(1, 4, 9, 2, 6, 12));
}

TEST(Scan, Opset8BatchesWithSequenceLengths) {
  OneNode n("Scan", {true, true, true}, 2, 8);
  n.subgraph("body", scan_body());
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  FunctionEnv env(scan_step);
  const Tensor init = Tensor::from<float>({2, 2}, {0, 0, 100, 100});
  const Tensor x = Tensor::from<float>({2, 3, 2}, {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60});
  const auto out = n.run({Tensor::from<int64_t>({2}, {3, 1}), init, x}, env);
  EXPECT_EQ(env.runs, 4);
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(9, 12, 110, 120));
  EXPECT_EQ(out[1].shape(), (Shape{2, 3, 2}));
  EXPECT_THAT(values_of<float>(out[1]), ElementsAre(1, 2, 4, 6, 9, 12, 110, 120, 0, 0, 0, 0));
}

TEST(Scan, Opset8ReverseWithinTheSequenceLength) {
  OneNode n("Scan", {true, true, true}, 2, 8);
  n.subgraph("body", scan_body());
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  n.node->attributes["directions"] = std::vector<int64_t>{1};
  FunctionEnv env(scan_step);
  const Tensor x = Tensor::from<float>({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  const auto out = n.run({Tensor::from<int64_t>({1}, {2}), Tensor::from<float>({1, 2}, {0, 0}), x}, env);
  EXPECT_THAT(values_of<float>(out[1]), ElementsAre(3, 4, 4, 6, 0, 0));
}

TEST(Scan, InferKeepsTheSequenceSymbol) {
  OneNode n("Scan", {true, true}, 2, 11);
  n.subgraph("body", scan_body());
  n.node->attributes["num_scan_inputs"] = int64_t{1};
  n.node->attributes["scan_output_axes"] = std::vector<int64_t>{1};
  n.input(0, ElementType::f32, PartialShape{2});
  n.input(1, ElementType::f32, PartialShape{Dimension::dynamic("seq"), 2});
  graph::infer_node(*n.node);
  EXPECT_EQ(n.node->outputs[0]->shape, (PartialShape{2}));
  EXPECT_EQ(n.node->outputs[1]->shape, (PartialShape{2, Dimension::dynamic("seq")}));
}

TEST(Scan, Errors) {
  FunctionEnv env(scan_step);
  OneNode n("Scan", {true, true, true}, 2, 11);
  n.subgraph("body", make_body("b",
                               {{ElementType::f32, PartialShape{2}},
                                {ElementType::f32, PartialShape{2}},
                                {ElementType::f32, PartialShape{2}}},
                               {{ElementType::f32, PartialShape{2}}, {ElementType::f32, PartialShape{2}}}));
  n.node->attributes["num_scan_inputs"] = int64_t{2};
  EXPECT_THAT(error_of([&] {
                n.run({zeros2, x3x2, Tensor::from<float>({2, 2}, {1, 2, 3, 4})}, env);
              }),
              HasSubstr("scan input 1 has 2 steps"));
  OneNode m("Scan", {true, true}, 2, 9);
  m.subgraph("body", scan_body());
  m.node->attributes["num_scan_inputs"] = int64_t{1};
  m.node->attributes["scan_input_axes"] = std::vector<int64_t>{-1};
  EXPECT_THAT(error_of([&] { m.run({zeros2, x3x2}, env); }), HasSubstr("non-negative axes"));
  m.node->attributes["scan_input_axes"] = std::vector<int64_t>{0, 0};
  EXPECT_THAT(error_of([&] { m.run({zeros2, x3x2}, env); }), HasSubstr("has 2 values; expected 1"));
  m.node->attributes["num_scan_inputs"] = int64_t{3};
  EXPECT_THAT(error_of([&] { m.run({zeros2, x3x2}, env); }), HasSubstr("'num_scan_inputs' is 3"));
}

}  // namespace
}  // namespace sluice
