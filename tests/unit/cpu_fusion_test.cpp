// The CPU device's fusion passes (src/devices/cpu/fusion.hpp) and the com.sluice FusedConv / FusedMatMul
// operators they make. Each pattern is built as torch exports it, fused, and run on the reference
// interpreter before and after fusion: the outputs must match.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "devices/cpu/fusion.hpp"
#include "graph/op_registry.hpp"
#include "graph/passes.hpp"
#include "ops/post_ops.hpp"
#include "runtime/interpreter.hpp"

using namespace sluice;
using graph::AttributeValue;
using graph::Graph;
using graph::Node;
using graph::Value;
using ::testing::HasSubstr;

namespace {

// Builds a graph node by node, each node producing one new value.
class Builder {
 public:
  explicit Builder(int64_t opset = 14) {
    g->name = "fusion_test";
    g->opset_imports[""] = opset;
  }

  Value* input(const std::string& name, PartialShape shape, ElementType type = ElementType::f32) {
    Value* v = g->add_value(name);
    v->type = type;
    v->shape = std::move(shape);
    v->is_graph_input = true;
    g->inputs().push_back(v);
    return v;
  }
  Value* constant(Tensor value) {
    Value* v = g->add_value("c" + std::to_string(counter_++));
    v->type = value.type();
    v->shape = PartialShape(value.shape());
    v->constant = std::move(value);
    return v;
  }
  Value* scalar(float value) { return constant(Tensor::scalar<float>(value)); }
  // A constant of random values in [lo, hi).
  Value* random(const Shape& shape, float lo = -1.0f, float hi = 1.0f) {
    return constant(random_tensor(shape, lo, hi));
  }
  Tensor random_tensor(const Shape& shape, float lo, float hi) {
    Tensor t(ElementType::f32, shape);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (float& v : t.values<float>()) v = dist(rng_);
    return t;
  }
  Value* op(const std::string& op_type, std::vector<Value*> inputs,
            std::map<std::string, AttributeValue> attributes = {}, const std::string& name = {}) {
    Value* out = g->add_value(op_type + "_out" + std::to_string(counter_++));
    Node* node = g->add_node(op_type, "", std::move(inputs), {out},
                             name.empty() ? op_type + std::to_string(counter_) : name);
    node->attributes = std::move(attributes);
    return out;
  }
  void output(Value* v) { g->outputs().push_back(v); }

  std::shared_ptr<Graph> g = std::make_shared<Graph>();

 private:
  int counter_ = 0;
  std::mt19937 rng_{1234};
};

std::vector<std::string> op_types(const Graph& g) {
  std::vector<std::string> ops;
  for (const auto& n : g.nodes()) ops.push_back(n->op_type);
  return ops;
}

int count_ops(const Graph& g, const std::string& op) {
  int count = 0;
  for (const auto& n : g.nodes()) count += n->op_type == op;
  return count;
}

const Node* find_node(const Graph& g, const std::string& op) {
  for (const auto& n : g.nodes()) {
    if (n->op_type == op) return n.get();
  }
  return nullptr;
}

// Random inputs for the graph's inputs; dynamic dims take `dynamic_extent`.
std::vector<Tensor> random_inputs(const Graph& g, int64_t dynamic_extent = 2) {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<Tensor> inputs;
  for (const Value* v : g.inputs()) {
    Shape shape;
    for (const Dimension& d : v->shape.dims()) shape.push_back(d.is_static() ? d.extent() : dynamic_extent);
    Tensor t(ElementType::f32, shape);
    for (float& x : t.values<float>()) x = dist(rng);
    inputs.push_back(t);
  }
  return inputs;
}

std::vector<Tensor> run(const std::shared_ptr<Graph>& g, const std::vector<Tensor>& inputs) {
  runtime::Interpreter interpreter(g);
  return interpreter.run(inputs);
}

void expect_close(const std::vector<Tensor>& expected, const std::vector<Tensor>& actual, float rtol = 1e-5f,
                  float atol = 1e-6f) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t o = 0; o < expected.size(); ++o) {
    ASSERT_EQ(expected[o].shape(), actual[o].shape()) << "output " << o;
    const auto e = expected[o].values<float>();
    const auto a = actual[o].values<float>();
    int bad = 0;
    for (size_t i = 0; i < e.size() && bad < 5; ++i) {
      if (!(std::fabs(e[i] - a[i]) <= atol + rtol * std::fabs(e[i]))) {
        ADD_FAILURE() << "output " << o << " element " << i << ": expected " << e[i] << ", got " << a[i];
        ++bad;
      }
    }
  }
}

// Runs the default passes, copies the graph, runs the CPU fusions on the copy and checks that both give
// the same outputs for random inputs. Returns the fused graph.
std::shared_ptr<Graph> fuse_and_compare(Builder& b, float rtol = 1e-5f, float atol = 1e-6f) {
  b.g->resolve_operators();
  graph::default_pass_manager().run(*b.g, {});
  std::shared_ptr<Graph> fused = b.g->clone();
  cpu::cpu_fusion_passes().run(*fused, {});
  // Every node is resolved and every value produced by a node has a type and a shape.
  for (const auto& n : fused->nodes()) {
    EXPECT_NE(n->schema, nullptr) << n->describe();
    for (const Value* out : n->outputs) {
      if (!out) continue;
      EXPECT_NE(out->type, ElementType::undefined) << n->describe();
      EXPECT_TRUE(out->shape.rank_known()) << n->describe();
    }
  }
  const auto inputs = random_inputs(*b.g);
  expect_close(run(b.g, inputs), run(fused, inputs), rtol, atol);
  return fused;
}

std::vector<std::string> post_op_names(const Node* node) {
  return node ? node->attr_strings("post_ops", {}) : std::vector<std::string>{};
}

Dimension batch() { return Dimension::dynamic("batch"); }

// Conv 3x3, pads 1, `in` -> `out` channels over [batch, in, 6, 6], with a bias.
Value* conv(Builder& b, Value* x, int64_t in, int64_t out, bool bias = true, const std::string& name = {}) {
  std::vector<Value*> inputs{x, b.random({out, in, 3, 3}, -0.5f, 0.5f)};
  if (bias) inputs.push_back(b.random({out}));
  return b.op("Conv", inputs,
              {{"kernel_shape", std::vector<int64_t>{3, 3}},
               {"pads", std::vector<int64_t>{1, 1, 1, 1}},
               {"strides", std::vector<int64_t>{1, 1}},
               {"dilations", std::vector<int64_t>{1, 1}},
               {"group", int64_t{1}}},
              name);
}

Value* batch_norm(Builder& b, Value* x, int64_t channels) {
  return b.op("BatchNormalization",
              {x, b.random({channels}, 0.5f, 1.5f), b.random({channels}), b.random({channels}),
               b.random({channels}, 0.5f, 2.0f)},
              {{"epsilon", 1e-5f}});
}

}  // namespace

// ---- fold_batchnorm ----

TEST(CpuFusion, FoldsBatchNormIntoConv) {
  for (bool bias : {true, false}) {
    Builder b;
    Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
    Value* y = batch_norm(b, conv(b, x, 3, 4, bias, "conv"), 4);
    b.output(y);
    auto fused = fuse_and_compare(b, 1e-5f, 1e-5f);
    EXPECT_EQ(op_types(*fused), std::vector<std::string>{"Conv"}) << "bias " << bias;
    EXPECT_EQ(fused->nodes()[0]->name, "conv");
    EXPECT_EQ(fused->outputs()[0]->shape.to_string(), "[batch,4,6,6]");
  }
}

TEST(CpuFusion, FoldedBatchNormThenRelu) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  b.output(b.op("Relu", {batch_norm(b, conv(b, x, 3, 4), 4)}));
  auto fused = fuse_and_compare(b, 1e-5f, 1e-5f);
  EXPECT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
  EXPECT_EQ(post_op_names(find_node(*fused, "FusedConv")), std::vector<std::string>{"Relu"});
}

TEST(CpuFusion, DoesNotFoldNonConstantBatchNorm) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* mean = b.input("mean", PartialShape{4});
  Value* c = conv(b, x, 3, 4);
  b.output(b.op("BatchNormalization",
                {c, b.random({4}, 0.5f, 1.5f), b.random({4}), mean, b.random({4}, 0.5f, 2.0f)}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), (std::vector<std::string>{"Conv", "BatchNormalization"}));
}

TEST(CpuFusion, LeavesBatchNormAlone) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 4, 6, 6});
  b.output(batch_norm(b, x, 4));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), std::vector<std::string>{"BatchNormalization"});
}

// ---- fuse_conv ----

// ResNet's bottleneck tail as torch exports it (BN already folded): Conv -> Relu -> Conv -> Add(., skip)
// -> Relu, with the skip a downsampling Conv.
TEST(CpuFusion, ConvResidualBlock) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* h = b.op("Relu", {conv(b, x, 3, 4, true, "conv1")});
  Value* main = conv(b, h, 4, 4, true, "conv2");
  Value* skip = conv(b, x, 3, 4, true, "downsample");
  b.output(b.op("Relu", {b.op("Add", {main, skip})}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(count_ops(*fused, "Relu"), 0);
  EXPECT_EQ(count_ops(*fused, "Add"), 0);
  EXPECT_EQ(count_ops(*fused, "FusedConv"), 2);
  for (const auto& n : fused->nodes()) {
    if (n->name == "conv1") {
      EXPECT_EQ(post_op_names(n.get()), std::vector<std::string>{"Relu"});
    }
    if (n->name == "conv2") {
      EXPECT_EQ(n->domain, "com.sluice");
      EXPECT_EQ(n->opset_version, 1);
      EXPECT_EQ(post_op_names(n.get()), (std::vector<std::string>{"Add", "Relu"}));
      ASSERT_EQ(n->inputs.size(), 4u);
      EXPECT_EQ(n->inputs[3]->producer->name, "downsample");
    }
  }
  EXPECT_EQ(fused->opset_imports.at("com.sluice"), 1);
}

// The skip connection as the first operand of the Add, and a conv without a bias.
TEST(CpuFusion, ConvResidualFirstOperand) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 4, 6, 6});
  Value* skip = b.op("Relu", {x});
  b.output(b.op("Add", {skip, conv(b, skip, 4, 4, false, "conv")}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), (std::vector<std::string>{"Relu", "FusedConv"}));
  const Node* fc = find_node(*fused, "FusedConv");
  ASSERT_EQ(fc->inputs.size(), 4u);
  EXPECT_EQ(fc->inputs[2], nullptr);  // no bias
}

// MobileNetV2's Clip(0, 6) (opset 11+: bounds as constant inputs).
TEST(CpuFusion, ConvClipRelu6) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  b.output(b.op("Clip", {conv(b, x, 3, 4), b.scalar(0.0f), b.scalar(6.0f)}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
  const auto post_ops = ops::post_ops_of(*fused->nodes()[0]);
  ASSERT_EQ(post_ops.size(), 1u);
  EXPECT_EQ(post_ops[0].kind, ops::PostOpKind::Clip);
  EXPECT_EQ(post_ops[0].alpha, 0.0f);
  EXPECT_EQ(post_ops[0].beta, 6.0f);
}

TEST(CpuFusion, ConvClipWithoutMax) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  b.output(b.op("Clip", {conv(b, x, 3, 4), b.scalar(-0.25f)}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
  const auto post_ops = ops::post_ops_of(*fused->nodes()[0]);
  EXPECT_EQ(post_ops[0].alpha, -0.25f);
  EXPECT_EQ(post_ops[0].beta, std::numeric_limits<float>::infinity());
}

TEST(CpuFusion, ConvClipAttributesBeforeOpset11) {
  Builder b(10);
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  b.output(b.op("Clip", {conv(b, x, 3, 4)}, {{"min", 0.0f}, {"max", 6.0f}}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
  const auto post_ops = ops::post_ops_of(*fused->nodes()[0]);
  EXPECT_EQ(post_ops[0].beta, 6.0f);
}

// Every activation, alone after a conv, with its parameters.
TEST(CpuFusion, ConvActivations) {
  struct Case {
    std::string op;
    std::map<std::string, AttributeValue> attributes;
    std::string post_op;
    float alpha, beta;
    int64_t opset = 14;
  };
  const std::vector<Case> cases = {
      {"Relu", {}, "Relu", 0, 0},
      {"LeakyRelu", {{"alpha", 0.1f}}, "LeakyRelu", 0.1f, 0},
      {"LeakyRelu", {}, "LeakyRelu", 0.01f, 0},
      {"Sigmoid", {}, "Sigmoid", 0, 0},
      {"Tanh", {}, "Tanh", 0, 0},
      {"HardSigmoid", {{"alpha", 0.25f}, {"beta", 0.4f}}, "HardSigmoid", 0.25f, 0.4f},
      {"HardSigmoid", {}, "HardSigmoid", 0.2f, 0.5f},
      {"HardSwish", {}, "HardSwish", 0, 0},
      {"Elu", {{"alpha", 0.5f}}, "Elu", 0.5f, 0},
      {"Gelu", {}, "Gelu", 0, 0, 20},
      {"Gelu", {{"approximate", std::string("tanh")}}, "GeluTanh", 0, 0, 20},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op + " -> " + c.post_op);
    Builder b(c.opset);
    Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
    b.output(b.op(c.op, {conv(b, x, 3, 4)}, c.attributes));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
    const auto post_ops = ops::post_ops_of(*fused->nodes()[0]);
    ASSERT_EQ(post_ops.size(), 1u);
    EXPECT_EQ(ops::post_op_name(post_ops[0].kind), c.post_op);
    EXPECT_FLOAT_EQ(post_ops[0].alpha, c.alpha);
    EXPECT_FLOAT_EQ(post_ops[0].beta, c.beta);
  }
}

// SiLU as torch exports it: Mul(x, Sigmoid(x)), x the conv output used twice.
TEST(CpuFusion, ConvSwish) {
  for (bool sigmoid_first : {false, true}) {
    Builder b;
    Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
    Value* c = conv(b, x, 3, 4);
    Value* s = b.op("Sigmoid", {c});
    b.output(b.op("Mul", sigmoid_first ? std::vector<Value*>{s, c} : std::vector<Value*>{c, s}));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
    EXPECT_EQ(post_op_names(fused->nodes()[0].get()), std::vector<std::string>{"Swish"});
  }
}

// Constant Add and Mul that broadcast ([C,1,1], a scalar), then an activation: one chain.
TEST(CpuFusion, ConvBroadcastConstantsChain) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* y = b.op("Add", {b.random({4, 1, 1}), conv(b, x, 3, 4)});
  y = b.op("Mul", {y, b.random({4, 1, 1})});
  y = b.op("Mul", {b.scalar(0.5f), y});
  b.output(b.op("Tanh", {y}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedConv"});
  EXPECT_EQ(post_op_names(fused->nodes()[0].get()), (std::vector<std::string>{"Add", "Mul", "Mul", "Tanh"}));
  EXPECT_EQ(fused->nodes()[0]->inputs.size(), 6u);
}

// An Add with a computed tensor that broadcasts (not the same shape) is not a residual: left alone.
TEST(CpuFusion, ConvDoesNotTakeBroadcastComputedAdd) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* z = b.input("z", PartialShape{4, 1, 1});
  b.output(b.op("Add", {conv(b, x, 3, 4), z}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), (std::vector<std::string>{"Conv", "Add"}));
}

TEST(CpuFusion, DoesNotFuseValueWithTwoUses) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* c = conv(b, x, 3, 4);
  b.output(b.op("Relu", {c}));
  b.output(b.op("Neg", {c}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(count_ops(*fused, "Conv"), 1);
  EXPECT_EQ(count_ops(*fused, "Relu"), 1);
  EXPECT_EQ(count_ops(*fused, "FusedConv"), 0);
}

TEST(CpuFusion, DoesNotFuseGraphOutput) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* c = conv(b, x, 3, 4);
  b.output(c);
  b.output(b.op("Relu", {c}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), (std::vector<std::string>{"Conv", "Relu"}));
}

// A chain stops at the first value with two uses; what follows it stays.
TEST(CpuFusion, ChainStopsAtSharedValue) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  Value* r = b.op("Relu", {conv(b, x, 3, 4)});
  b.output(b.op("Sigmoid", {r}));
  b.output(b.op("Tanh", {r}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), (std::vector<std::string>{"FusedConv", "Sigmoid", "Tanh"}));
}

// ---- fuse_matmul ----

// torch's nn.Linear on a 3-D input: MatMul(x, W^T) then Add(bias, .), bias first; then a residual Add.
TEST(CpuFusion, MatMulBiasResidual) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 5, 8});
  Value* h = b.op("MatMul", {x, b.random({8, 8})}, {}, "linear");
  h = b.op("Add", {b.random({8}), h});
  b.output(b.op("Add", {x, h}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
  const Node* n = fused->nodes()[0].get();
  EXPECT_EQ(n->name, "linear");
  ASSERT_EQ(n->inputs.size(), 4u);
  EXPECT_TRUE(n->inputs[2]->is_constant());
  EXPECT_EQ(n->inputs[2]->shape.to_string(), "[8]");
  EXPECT_EQ(n->inputs[3]->name, "x");
  EXPECT_EQ(post_op_names(n), std::vector<std::string>{"Add"});
  EXPECT_EQ(fused->outputs()[0]->shape.to_string(), "[batch,5,8]");
}

// Shape inference loses the batch symbol through Reshape and Gather: a residual whose dims are dynamic on
// both sides is still taken.
TEST(CpuFusion, MatMulResidualWithUnnamedDims) {
  Builder b;
  Value* x = b.input("x", PartialShape{Dimension(), 5, 8});
  Value* h = b.op("Add", {b.op("MatMul", {x, b.random({8, 8})}), b.random({8})});
  b.output(b.op("Add", {h, x}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
  EXPECT_EQ(post_op_names(fused->nodes()[0].get()), std::vector<std::string>{"Add"});
}

// A computed operand that may broadcast the result (a dynamic result dim against a static one) stays.
TEST(CpuFusion, ResidualThatMayBroadcastStays) {
  Builder b;
  Value* x = b.input("x", PartialShape{Dimension(), Dimension(), 8});
  Value* z = b.input("z", PartialShape{Dimension(), 2, 8});
  b.output(b.op("Add", {b.op("MatMul", {x, b.random({8, 8})}), z}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), (std::vector<std::string>{"MatMul", "Add"}));
}

TEST(CpuFusion, MatMulScaleBiasActivation) {
  for (bool div : {true, false}) {
    Builder b;
    Value* x = b.input("x", PartialShape{batch(), 3, 4, 8});
    Value* h = b.op("MatMul", {x, b.random({3, 8, 6})});
    h = div ? b.op("Div", {h, b.scalar(4.0f)}) : b.op("Mul", {b.scalar(0.25f), h});
    h = b.op("Add", {h, b.random({1, 6})});
    b.output(b.op("Relu", {h}));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
    const Node* n = fused->nodes()[0].get();
    EXPECT_FLOAT_EQ(n->attr_float("alpha"), 0.25f);
    EXPECT_EQ(n->attr_int("transB"), 0);
    EXPECT_EQ(n->inputs[2]->shape.to_string(), "[6]");
    EXPECT_EQ(post_op_names(n), std::vector<std::string>{"Relu"});
  }
}

// A bias that is not [N] becomes a broadcast post-op Add; the scalar Mul after it a post-op Mul.
TEST(CpuFusion, MatMulBroadcastAddAfterBias) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 4, 8});
  Value* h = b.op("MatMul", {x, b.random({8, 6})});
  h = b.op("Add", {h, b.random({6})});
  h = b.op("Mul", {h, b.scalar(3.0f)});
  b.output(b.op("Add", {h, b.random({4, 1})}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
  EXPECT_EQ(post_op_names(fused->nodes()[0].get()), (std::vector<std::string>{"Mul", "Add"}));
}

TEST(CpuFusion, GemmBecomesFusedMatMul) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 8});
  Value* y = b.op("Gemm", {x, b.random({6, 8}), b.random({6})},
                  {{"alpha", 2.0f}, {"beta", 0.5f}, {"transB", int64_t{1}}}, "fc");
  b.output(b.op("Relu", {y}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
  const Node* n = fused->nodes()[0].get();
  EXPECT_EQ(n->name, "fc");
  EXPECT_FLOAT_EQ(n->attr_float("alpha"), 2.0f);
  EXPECT_EQ(n->attr_int("transB"), 1);
  EXPECT_EQ(post_op_names(n), std::vector<std::string>{"Relu"});
}

TEST(CpuFusion, GemmWithRowBiasAndNoBias) {
  {
    Builder b;
    Value* x = b.input("x", PartialShape{3, 8});
    b.output(b.op("Gemm", {x, b.random({8, 6}), b.random({1, 6})}));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
    EXPECT_EQ(fused->nodes()[0]->inputs[2]->shape.to_string(), "[6]");
  }
  {
    Builder b;
    Value* x = b.input("x", PartialShape{3, 8});
    b.output(b.op("Gemm", {x, b.random({8, 6})}));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), std::vector<std::string>{"FusedMatMul"});
  }
}

TEST(CpuFusion, GemmWithMatrixBiasOrTransAStays) {
  {
    Builder b;
    Value* x = b.input("x", PartialShape{3, 8});
    b.output(b.op("Gemm", {x, b.random({8, 6}), b.random({3, 6})}));
    auto fused = fuse_and_compare(b);
    EXPECT_EQ(op_types(*fused), std::vector<std::string>{"Gemm"});
  }
  {
    Builder b;
    Value* x = b.input("x", PartialShape{8, 3});
    b.output(b.op("Gemm", {x, b.random({8, 6})}, {{"transA", int64_t{1}}}));
    auto fused = fuse_and_compare(b);
    EXPECT_EQ(op_types(*fused), std::vector<std::string>{"Gemm"});
  }
}

TEST(CpuFusion, MatMulAloneStays) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 4, 8});
  b.output(b.op("MatMul", {x, b.random({8, 6})}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(op_types(*fused), std::vector<std::string>{"MatMul"});
}

// ---- fuse_gelu ----

namespace {

// torch's nn.GELU() at opset < 20: Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5.
Value* erf_gelu(Builder& b, Value* x, bool multiply_inverse, bool half_first) {
  Value* d =
      multiply_inverse ? b.op("Mul", {x, b.scalar(0.70710677f)}) : b.op("Div", {x, b.scalar(1.4142135f)});
  Value* a = b.op("Add", {b.op("Erf", {d}), b.scalar(1.0f)});
  if (half_first) return b.op("Mul", {b.op("Mul", {x, b.scalar(0.5f)}), a});
  return b.op("Mul", {b.op("Mul", {x, a}), b.scalar(0.5f)});
}

// nn.GELU(approximate="tanh"): 0.5 * (x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * (x * (x * x)))))).
Value* tanh_gelu(Builder& b, Value* x, bool use_pow) {
  Value* cube = use_pow ? b.op("Pow", {x, b.scalar(3.0f)}) : b.op("Mul", {x, b.op("Mul", {x, x})});
  Value* inner = b.op("Add", {x, b.op("Mul", {b.scalar(0.044715f), cube})});
  inner = b.op("Mul", {b.scalar(0.7978846f), inner});
  Value* a = b.op("Add", {b.scalar(1.0f), b.op("Tanh", {inner})});
  return b.op("Mul", {b.scalar(0.5f), b.op("Mul", {x, a})});
}

}  // namespace

TEST(CpuFusion, ErfGelu) {
  for (bool multiply_inverse : {false, true}) {
    for (bool half_first : {false, true}) {
      SCOPED_TRACE(std::to_string(multiply_inverse) + std::to_string(half_first));
      Builder b;
      Value* x = b.input("x", PartialShape{batch(), 5, 8});
      b.output(erf_gelu(b, b.op("Neg", {x}), multiply_inverse, half_first));
      auto fused = fuse_and_compare(b);
      ASSERT_EQ(op_types(*fused), (std::vector<std::string>{"Neg", "Gelu"}));
      const Node* g = find_node(*fused, "Gelu");
      EXPECT_EQ(g->opset_version, 20);
      EXPECT_EQ(g->attr_string("approximate"), "none");
    }
  }
}

TEST(CpuFusion, TanhGelu) {
  for (bool use_pow : {false, true}) {
    Builder b;
    Value* x = b.input("x", PartialShape{batch(), 5, 8});
    b.output(tanh_gelu(b, b.op("Neg", {x}), use_pow));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), (std::vector<std::string>{"Neg", "Gelu"})) << use_pow;
    EXPECT_EQ(find_node(*fused, "Gelu")->attr_string("approximate"), "tanh");
  }
}

TEST(CpuFusion, GeluWithWrongConstantStays) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 5, 8});
  Value* d = b.op("Div", {x, b.scalar(1.5f)});
  Value* a = b.op("Add", {b.op("Erf", {d}), b.scalar(1.0f)});
  b.output(b.op("Mul", {b.op("Mul", {x, a}), b.scalar(0.5f)}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(count_ops(*fused, "Gelu"), 0);
  EXPECT_EQ(count_ops(*fused, "Erf"), 1);
}

// BERT's FFN: Linear -> GELU -> Linear -> residual Add.
TEST(CpuFusion, MatMulGeluChain) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 5, 8});
  Value* h = b.op("Add", {b.random({16}), b.op("MatMul", {x, b.random({8, 16})}, {}, "ffn_in")});
  h = erf_gelu(b, h, false, false);
  h = b.op("Add", {b.random({8}), b.op("MatMul", {h, b.random({16, 8})}, {}, "ffn_out")});
  b.output(b.op("Add", {x, h}));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), (std::vector<std::string>{"FusedMatMul", "FusedMatMul"}));
  EXPECT_EQ(fused->nodes()[0]->name, "ffn_in");
  EXPECT_EQ(post_op_names(fused->nodes()[0].get()), std::vector<std::string>{"Gelu"});
  EXPECT_EQ(post_op_names(fused->nodes()[1].get()), std::vector<std::string>{"Add"});
}

// ---- fuse_layer_norm ----

namespace {

// torch's nn.LayerNorm at opset 14.
Value* layer_norm(Builder& b, Value* x, int64_t n, float eps, bool pow, bool affine) {
  const AttributeValue axes = std::vector<int64_t>{-1};
  Value* mean = b.op("ReduceMean", {x}, {{"axes", axes}});
  Value* d = b.op("Sub", {x, mean});
  Value* sq = pow ? b.op("Pow", {d, b.scalar(2.0f)}) : b.op("Mul", {d, d});
  Value* var = b.op("ReduceMean", {sq}, {{"axes", axes}});
  Value* y = b.op("Div", {d, b.op("Sqrt", {b.op("Add", {var, b.scalar(eps)})})});
  if (!affine) return y;
  y = b.op("Mul", {y, b.random({n}, 0.5f, 1.5f)});
  return b.op("Add", {y, b.random({n})});
}

}  // namespace

TEST(CpuFusion, LayerNorm) {
  for (bool pow : {true, false}) {
    Builder b;
    Value* x = b.input("x", PartialShape{batch(), 5, 8});
    b.output(layer_norm(b, b.op("Neg", {x}), 8, 1e-12f, pow, true));
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), (std::vector<std::string>{"Neg", "LayerNormalization"})) << pow;
    const Node* ln = find_node(*fused, "LayerNormalization");
    EXPECT_EQ(ln->opset_version, 17);
    EXPECT_EQ(ln->attr_int("axis"), -1);
    EXPECT_FLOAT_EQ(ln->attr_float("epsilon"), 1e-12f);
    EXPECT_EQ(ln->inputs.size(), 3u);
  }
}

TEST(CpuFusion, LayerNormWithoutAffine) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 5, 8});
  b.output(layer_norm(b, x, 8, 1e-5f, true, false));
  auto fused = fuse_and_compare(b);
  ASSERT_EQ(op_types(*fused), std::vector<std::string>{"LayerNormalization"});
  EXPECT_EQ(fused->nodes()[0]->inputs.size(), 2u);
}

TEST(CpuFusion, LayerNormOverOtherAxisStays) {
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 5, 8});
  const AttributeValue axes = std::vector<int64_t>{1};
  Value* mean = b.op("ReduceMean", {x}, {{"axes", axes}});
  Value* d = b.op("Sub", {x, mean});
  Value* var = b.op("ReduceMean", {b.op("Pow", {d, b.scalar(2.0f)})}, {{"axes", axes}});
  b.output(b.op("Div", {d, b.op("Sqrt", {b.op("Add", {var, b.scalar(1e-5f)})})}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(count_ops(*fused, "LayerNormalization"), 0);
}

// ---- fuse_attention ----

namespace {

bool attention_registered() {
  return graph::OpRegistry::instance().find("com.sluice", "Attention", 1) != nullptr;
}

// BERT's self-attention core: softmax(Q K^T / sqrt(d) + mask) V, with K^T = Transpose(K, perm).
void attention_graph(Builder& b, const std::vector<int64_t>& k_perm, bool mask, bool scale) {
  Value* q = b.input("q", PartialShape{batch(), 2, 5, 4});
  Value* k = b.input("k", PartialShape{batch(), 2, 5, 4});
  if (k_perm != std::vector<int64_t>{0, 1, 3, 2})
    k = b.op("Transpose", {k}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
  Value* v = b.input("v", PartialShape{batch(), 2, 5, 3});
  Value* kt = b.op("Transpose", {k}, {{"perm", k_perm}});
  Value* s = b.op("MatMul", {q, kt}, {}, "scores");
  if (scale) s = b.op("Div", {s, b.scalar(2.0f)});
  if (mask) s = b.op("Add", {s, b.input("mask", PartialShape{batch(), 1, 1, 5})});
  b.output(b.op("MatMul", {b.op("Softmax", {s}, {{"axis", int64_t{-1}}}), v}));
}

}  // namespace

TEST(CpuFusion, Attention) {
  if (!attention_registered()) GTEST_SKIP() << "com.sluice Attention is not registered";
  {
    Builder b;
    attention_graph(b, {0, 1, 3, 2}, true, true);
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), std::vector<std::string>{"Attention"});
    const Node* n = fused->nodes()[0].get();
    EXPECT_EQ(n->name, "scores");
    EXPECT_EQ(n->attr_int("k_transposed"), 0);
    EXPECT_FLOAT_EQ(n->attr_float("scale"), 0.5f);
    EXPECT_EQ(n->inputs.size(), 4u);
    EXPECT_EQ(n->inputs[1]->name, "k");
  }
  {
    // torch merges the head split's and the key's transposes into one: K^T is used as it is.
    Builder b;
    attention_graph(b, {0, 2, 3, 1}, false, false);
    auto fused = fuse_and_compare(b);
    ASSERT_EQ(op_types(*fused), (std::vector<std::string>{"Transpose", "Transpose", "Attention"}));
    const Node* n = find_node(*fused, "Attention");
    EXPECT_EQ(n->attr_int("k_transposed"), 1);
    EXPECT_FLOAT_EQ(n->attr_float("scale"), 1.0f);
    EXPECT_EQ(n->inputs.size(), 3u);
  }
}

TEST(CpuFusion, AttentionNeedsLastAxisSoftmax) {
  Builder b;
  Value* q = b.input("q", PartialShape{batch(), 2, 5, 4});
  Value* kt = b.input("kt", PartialShape{batch(), 2, 4, 5});
  Value* v = b.input("v", PartialShape{batch(), 2, 5, 3});
  Value* s = b.op("MatMul", {q, kt});
  b.output(b.op("MatMul", {b.op("Softmax", {s}, {{"axis", int64_t{2}}}), v}));
  auto fused = fuse_and_compare(b);
  EXPECT_EQ(count_ops(*fused, "Attention"), 0);
  EXPECT_EQ(count_ops(*fused, "Softmax"), 1);
}

// ---- The pass manager ----

TEST(CpuFusion, PassNamesAndSwitchingOff) {
  EXPECT_EQ(cpu::cpu_fusion_passes().names(),
            (std::vector<std::string>{"fold_batchnorm", "fuse_gelu", "fuse_layer_norm", "fuse_attention",
                                      "fuse_conv", "fuse_matmul"}));
  Builder b;
  Value* x = b.input("x", PartialShape{batch(), 3, 6, 6});
  b.output(b.op("Relu", {batch_norm(b, conv(b, x, 3, 4), 4)}));
  b.g->resolve_operators();
  graph::default_pass_manager().run(*b.g, {});
  cpu::cpu_fusion_passes().run(*b.g, {"fuse_conv"});
  EXPECT_EQ(op_types(*b.g), (std::vector<std::string>{"Conv", "Relu"}));
  cpu::cpu_fusion_passes().run(*b.g, {});
  EXPECT_EQ(op_types(*b.g), std::vector<std::string>{"FusedConv"});
}

// ---- The fused operators ----

namespace {

// A one-node FusedConv / FusedMatMul graph with the given post-ops and extra input shapes.
std::shared_ptr<Graph> fused_node_graph(const std::string& op, const std::vector<ops::PostOp>& post_ops,
                                        const std::vector<PartialShape>& extras) {
  Builder b;
  std::vector<Value*> inputs;
  if (op == "FusedConv") {
    inputs = {b.input("x", PartialShape{batch(), 3, 6, 6}), b.random({4, 3, 3, 3}), b.random({4})};
  } else {
    inputs = {b.input("a", PartialShape{batch(), 5, 8}), b.random({8, 4}), b.random({4})};
  }
  for (size_t i = 0; i < extras.size(); ++i) inputs.push_back(b.input("e" + std::to_string(i), extras[i]));
  Value* y = b.g->add_value("y");
  Node* n = b.g->add_node(op, "com.sluice", inputs, {y}, "fused");
  n->opset_version = 1;
  ops::set_post_ops(*n, post_ops);
  b.output(y);
  b.g->resolve_operators();
  return b.g;
}

}  // namespace

TEST(FusedOps, ShapeInferenceAndBroadcastErrors) {
  using ops::PostOp;
  using ops::PostOpKind;
  {
    auto g = fused_node_graph("FusedConv", {{PostOpKind::Add}, {PostOpKind::Relu}}, {PartialShape{4, 1, 1}});
    graph::infer_node(*g->nodes()[0]);
    EXPECT_EQ(g->outputs()[0]->shape.to_string(), "[batch,4,4,4]");
  }
  {
    auto g = fused_node_graph("FusedConv", {{PostOpKind::Add}}, {PartialShape{3, 1, 1}});
    try {
      graph::infer_node(*g->nodes()[0]);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("FusedConv node 'fused'"));
      EXPECT_THAT(e.what(), HasSubstr("does not broadcast"));
    }
  }
  {
    // A dim that is not known yet is accepted (the kernel checks it); a static mismatch is not.
    auto g = fused_node_graph("FusedMatMul", {{PostOpKind::Mul}}, {PartialShape{2, 5, 4}});
    graph::infer_node(*g->nodes()[0]);
    EXPECT_EQ(g->outputs()[0]->shape.to_string(), "[batch,5,4]");
    g = fused_node_graph("FusedMatMul", {{PostOpKind::Mul}}, {PartialShape{5, 3}});
    EXPECT_THAT(
        [&] { graph::infer_node(*g->nodes()[0]); },
        testing::ThrowsMessage<Error>(HasSubstr("FusedMatMul node 'fused': post-op 0 (Mul) input 3")));
  }
  {
    // Binary post-op without its input.
    auto g = fused_node_graph("FusedMatMul", {{PostOpKind::Add}}, {});
    EXPECT_THAT([&] { graph::infer_node(*g->nodes()[0]); },
                testing::ThrowsMessage<Error>(HasSubstr("expected 1 (one per binary post-op")));
  }
  {
    auto g = fused_node_graph("FusedMatMul", {}, {});
    g->nodes()[0]->attributes["post_ops"] = std::vector<std::string>{"Softmax"};
    g->nodes()[0]->attributes["post_op_alpha"] = std::vector<float>{0};
    g->nodes()[0]->attributes["post_op_beta"] = std::vector<float>{0};
    EXPECT_THAT([&] { graph::infer_node(*g->nodes()[0]); },
                testing::ThrowsMessage<Error>(HasSubstr("unknown post-op 'Softmax'")));
    g->nodes()[0]->attributes["post_ops"] = std::vector<std::string>{"Relu"};
    g->nodes()[0]->attributes["post_op_alpha"] = std::vector<float>{1, 2};
    EXPECT_THAT([&] { graph::infer_node(*g->nodes()[0]); },
                testing::ThrowsMessage<Error>(HasSubstr("must have the same length")));
  }
}

TEST(FusedOps, PostOpNamesRoundTrip) {
  for (const char* name : {"Add", "Mul", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid",
                           "HardSwish", "Swish", "Gelu", "GeluTanh", "Elu"}) {
    EXPECT_EQ(ops::post_op_name(ops::post_op_kind(name)), name);
  }
  EXPECT_THROW(ops::post_op_kind("Softmax"), Error);
  EXPECT_FLOAT_EQ(ops::apply_activation({ops::PostOpKind::Clip, 0.0f, 6.0f}, 7.0f), 6.0f);
  EXPECT_FLOAT_EQ(ops::apply_activation({ops::PostOpKind::LeakyRelu, 0.1f}, -2.0f), -0.2f);
  EXPECT_FLOAT_EQ(ops::apply_activation({ops::PostOpKind::HardSwish}, 1.0f), 1.0f * (1.0f / 6 + 0.5f));
  EXPECT_NEAR(ops::apply_activation({ops::PostOpKind::Gelu}, 1.0f), 0.8413447f, 1e-6f);
  EXPECT_NEAR(ops::apply_activation({ops::PostOpKind::GeluTanh}, 1.0f), 0.8411920f, 1e-6f);
  EXPECT_NEAR(ops::apply_activation({ops::PostOpKind::Swish}, 1.0f), 0.7310586f, 1e-6f);
  EXPECT_NEAR(ops::apply_activation({ops::PostOpKind::Elu, 1.0f}, -1.0f), std::exp(-1.0f) - 1.0f, 1e-7f);
}

// FusedMatMul with transB and batch broadcasting against MatMul of the transposed B.
TEST(FusedOps, MatMulTransBAndBroadcast) {
  Builder b;
  Value* a = b.input("a", PartialShape{2, 1, 3, 4});
  Value* w = b.input("w", PartialShape{3, 5, 4});  // [.., N, K]
  Value* y = b.g->add_value("y");
  Node* n = b.g->add_node("FusedMatMul", "com.sluice", {a, w, b.random({5})}, {y}, "fused");
  n->opset_version = 1;
  n->attributes["transB"] = int64_t{1};
  n->attributes["alpha"] = 0.5f;
  ops::set_post_ops(*n, {{ops::PostOpKind::Relu}});
  b.output(y);
  b.g->resolve_operators();
  graph::infer_node(*n);
  EXPECT_EQ(y->shape.to_string(), "[2,3,3,5]");
  const auto inputs = random_inputs(*b.g);
  const Tensor out = run(b.g, inputs)[0];
  ASSERT_EQ(out.shape(), (Shape{2, 3, 3, 5}));
  const float* pa = inputs[0].data<float>();
  const float* pw = inputs[1].data<float>();
  const float* pb = n->inputs[2]->constant.data<float>();
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t m = 0; m < 3; ++m) {
        for (int64_t c = 0; c < 5; ++c) {
          double sum = 0;
          for (int64_t k = 0; k < 4; ++k) sum += double(pa[(i * 3 + m) * 4 + k]) * pw[(j * 5 + c) * 4 + k];
          const double expected = std::max(0.0, 0.5 * sum + pb[c]);
          EXPECT_NEAR(out.data<float>()[((i * 3 + j) * 3 + m) * 5 + c], expected, 1e-5);
        }
      }
    }
  }
}
