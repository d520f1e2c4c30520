// com.sluice Attention: the reference kernel against a hand-computed case and, bit for bit, against the
// decomposed chain MatMul -> Mul -> Add -> Softmax -> MatMul run by the interpreter; shape inference and
// its errors; the CPU kernel against the reference on many shapes.
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu_kernel_harness.hpp"
#include "ops_one_node_harness.hpp"
#include "runtime/interpreter.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::f32;
using ::testing::HasSubstr;

constexpr float inf = std::numeric_limits<float>::infinity();

// A one-node com.sluice Attention graph. `mask`: whether input 3 is given.
struct AttentionNode {
  AttentionNode(float scale, int64_t k_transposed, bool mask)
      : one("Attention", size_t{mask ? 4u : 3u}, 1, 1) {
    one.node->domain = "com.sluice";
    one.node->schema = graph::OpRegistry::instance().find("com.sluice", "Attention", 1);
    one.attr("scale", scale).attr("k_transposed", k_transposed);
  }
  // Declares every input as f32 with the given shape.
  AttentionNode& shapes(const std::vector<PartialShape>& shapes) {
    for (size_t i = 0; i < shapes.size(); ++i) one.input(i, ElementType::f32, shapes[i]);
    return *this;
  }
  ops_test::OneNode one;
};

// Bitwise float equality, NaN equal to NaN.
void expect_same_floats(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.shape(), want.shape());
  ASSERT_EQ(got.type(), ElementType::f32);
  ASSERT_EQ(want.type(), ElementType::f32);
  int failures = 0;
  for (int64_t i = 0; i < got.size() && failures < 5; ++i) {
    const float a = got.data<float>()[i], b = want.data<float>()[i];
    if ((std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b))
      continue;
    ADD_FAILURE() << "element " << i << ": got " << a << ", want " << b;
    ++failures;
  }
}

// ---------------------------------------------------------------------------------------------- reference

// Q = [[1,0],[0,2]], K = [[0,0],[1,0],[0,1]], scale ln 2: scores [0, ln2, 0] and [0, 0, 2 ln2], so the
// weights are [1,2,1]/4 and [1,1,4]/6; with V = [[1,2],[3,4],[5,6]] that gives [3,4] and [4,5].
TEST(AttentionRef, HandComputed) {
  const float ln2 = std::log(2.0f);
  const Tensor q = f32({1, 2, 2}, {1, 0, 0, 2});
  const Tensor k = f32({1, 3, 2}, {0, 0, 1, 0, 0, 1});
  const Tensor v = f32({1, 3, 2}, {1, 2, 3, 4, 5, 6});
  AttentionNode plain(ln2, 0, false);
  ops_test::expect_near(plain.one.run1({q, k, v}), {3, 4, 4, 5}, 1e-6);

  // K given as K^T [1, 2, 3].
  AttentionNode transposed(ln2, 1, false);
  ops_test::expect_near(transposed.one.run1({q, f32({1, 2, 3}, {0, 1, 0, 0, 0, 1}), v}), {3, 4, 4, 5}, 1e-6);

  // A mask [Sq, Sk] hiding key 2 from row 0: weights [1,2,0]/3 -> [7/3, 10/3].
  AttentionNode masked(ln2, 0, true);
  const Tensor mask = f32({2, 3}, {0, 0, -inf, 0, 0, 0});
  ops_test::expect_near(masked.one.run1({q, k, v, mask}), {7.0 / 3, 10.0 / 3, 4, 5}, 1e-6);

  // A row whose scores are all -inf is NaN (Softmax's max subtraction gives -inf - -inf).
  const Tensor all_masked = f32({1, 2, 3}, {-inf, -inf, -inf, 0, 0, 0});
  const Tensor y = masked.one.run1({q, k, v, all_masked});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_TRUE(std::isnan(y.data<float>()[1]));
  EXPECT_NEAR(y.data<float>()[2], 4, 1e-6);
  EXPECT_NEAR(y.data<float>()[3], 5, 1e-6);
}

// The decomposed chain as an ONNX graph: [Transpose(K)] -> MatMul -> Mul(scale) -> [Add(mask)] ->
// Softmax(-1) -> MatMul(V).
std::shared_ptr<graph::Graph> decomposed_graph(float scale, bool k_transposed, bool mask, size_t rank) {
  auto g = std::make_shared<graph::Graph>();
  g->opset_imports[""] = 17;
  const char* names[] = {"q", "k", "v", "mask"};
  for (int i = 0; i < (mask ? 4 : 3); ++i) {
    graph::Value* in = g->add_value(names[i]);
    in->type = ElementType::f32;
    in->is_graph_input = true;
    g->inputs().push_back(in);
  }
  graph::Value* kt = g->inputs()[1];
  if (!k_transposed) {
    kt = g->add_value("kt");
    std::vector<int64_t> perm;
    for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(i));
    std::swap(perm[rank - 1], perm[rank - 2]);
    g->add_node("Transpose", "", {g->inputs()[1]}, {kt}, "transpose")->attributes["perm"] = perm;
  }
  graph::Value* raw = g->add_value("raw");
  g->add_node("MatMul", "", {g->inputs()[0], kt}, {raw}, "qk");
  graph::Value* factor = g->add_value("scale");
  factor->constant = Tensor::scalar<float>(scale);
  factor->type = ElementType::f32;
  factor->shape = PartialShape(Shape{});
  graph::Value* scaled = g->add_value("scaled");
  g->add_node("Mul", "", {raw, factor}, {scaled}, "mul");
  graph::Value* scores = scaled;
  if (mask) {
    scores = g->add_value("masked");
    g->add_node("Add", "", {scaled, g->inputs()[3]}, {scores}, "add");
  }
  graph::Value* probs = g->add_value("probs");
  g->add_node("Softmax", "", {scores}, {probs}, "softmax")->attributes["axis"] = int64_t{-1};
  graph::Value* y = g->add_value("y");
  g->add_node("MatMul", "", {probs, g->inputs()[2]}, {y}, "pv");
  g->outputs() = {y};
  g->resolve_operators();
  return g;
}

// The fused node as a graph of its own, resolved through the com.sluice opset import.
std::shared_ptr<graph::Graph> fused_graph(float scale, bool k_transposed, bool mask) {
  auto g = std::make_shared<graph::Graph>();
  g->opset_imports[""] = 17;
  g->opset_imports["com.sluice"] = 1;
  std::vector<graph::Value*> ins;
  const char* names[] = {"q", "k", "v", "mask"};
  for (int i = 0; i < (mask ? 4 : 3); ++i) {
    graph::Value* in = g->add_value(names[i]);
    in->type = ElementType::f32;
    in->is_graph_input = true;
    g->inputs().push_back(in);
  }
  graph::Value* y = g->add_value("y");
  graph::Node* n = g->add_node("Attention", "com.sluice", g->inputs(), {y}, "attention");
  n->opset_version = 1;
  n->attributes["scale"] = scale;
  n->attributes["k_transposed"] = int64_t{k_transposed ? 1 : 0};
  g->outputs() = {y};
  g->resolve_operators();
  return g;
}

struct Case {
  Shape batch;  // leading dims
  int64_t sq, sk, d, dv;
  bool k_transposed;
  std::vector<int64_t> mask;  // empty: no mask; else the mask's shape
};

Shape cat(Shape a, std::initializer_list<int64_t> b) {
  a.insert(a.end(), b);
  return a;
}

// Q, K, V and (when the case has one) a mask of random values; the mask holds some -inf entries.
std::vector<Tensor> case_inputs(const Case& c, std::mt19937& rng, bool all_masked_row = false) {
  std::vector<Tensor> in{
      cpu_test::random_tensor(ElementType::f32, cat(c.batch, {c.sq, c.d}), rng),
      cpu_test::random_tensor(ElementType::f32,
                              c.k_transposed ? cat(c.batch, {c.d, c.sk}) : cat(c.batch, {c.sk, c.d}), rng),
      cpu_test::random_tensor(ElementType::f32, cat(c.batch, {c.sk, c.dv}), rng)};
  if (!c.mask.empty()) {
    Tensor m = cpu_test::random_tensor(ElementType::f32, c.mask, rng, -3, 1);
    float* p = m.data<float>();
    for (int64_t i = 0; i < m.size(); ++i) {
      if (i % 5 == 3) p[i] = -inf;  // masked-out keys, as attention masks have
    }
    if (all_masked_row) {
      const int64_t last = c.mask.back();
      for (int64_t i = 0; i < last; ++i) p[i] = -inf;
    }
    in.push_back(m);
  }
  return in;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> list = {
      {{3}, 4, 4, 8, 8, false, {}},
      {{2}, 5, 7, 3, 6, true, {}},
      {{2, 3}, 6, 9, 4, 5, false, {2, 1, 1, 9}},
      {{2, 3}, 6, 9, 4, 5, true, {1, 1, 6, 9}},
      {{2, 3}, 6, 9, 4, 5, false, {6, 9}},
      {{2, 3}, 6, 9, 4, 5, true, {2, 3, 6, 9}},
      {{2, 3}, 6, 9, 4, 5, false, {6, 1}},
      {{2}, 7, 3, 5, 2, false, {2, 7, 3}},
      {{1, 2}, 1, 11, 16, 16, false, {1, 1, 1, 11}},
      {{2, 2}, 100, 37, 24, 20, false, {2, 1, 1, 37}},
      {{1, 4}, 128, 128, 64, 64, false, {1, 1, 1, 128}},
      {{2, 3}, 130, 130, 64, 64, true, {2, 1, 1, 130}},
      {{1, 2}, 70, 2000, 8, 8, false, {70, 2000}},
  };
  return list;
}

// The fused reference gives exactly (bitwise) what the decomposed chain gives on the reference kernels.
TEST(AttentionRef, MatchesDecompositionBitwise) {
  std::mt19937 rng(7);
  for (const Case& c : cases()) {
    for (bool all_masked_row : {false, true}) {
      if (all_masked_row && c.mask.empty()) continue;
      SCOPED_TRACE("batch " + to_string(c.batch) + " sq " + std::to_string(c.sq) + " sk " +
                   std::to_string(c.sk) + " kt " + std::to_string(c.k_transposed) + " mask " +
                   to_string(c.mask));
      const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));
      const std::vector<Tensor> in = case_inputs(c, rng, all_masked_row);
      const size_t rank = c.batch.size() + 2;
      runtime::Interpreter chain(decomposed_graph(scale, c.k_transposed, !c.mask.empty(), rank));
      runtime::Interpreter fused(fused_graph(scale, c.k_transposed, !c.mask.empty()));
      const Tensor want = chain.run(in).at(0);
      const Tensor got = fused.run(in).at(0);
      expect_same_floats(got, want);
      if (all_masked_row) EXPECT_TRUE(std::isnan(got.data<float>()[0]));
    }
  }
}

TEST(AttentionRef, EmptyKeysGiveZeros) {
  AttentionNode n(1.0f, 0, false);
  const Tensor y = n.one.run1({Tensor(ElementType::f32, {1, 2, 3}), Tensor(ElementType::f32, {1, 0, 3}),
                               Tensor(ElementType::f32, {1, 0, 4})});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 4}));
  ops_test::expect_near(y, std::vector<double>(8, 0.0), 0);
}

// ---------------------------------------------------------------------------------------- shape inference

TEST(AttentionInfer, SymbolicShapes) {
  const Dimension batch = Dimension::dynamic("batch"), seq = Dimension::dynamic("seq");
  AttentionNode n(0.125f, 0, true);
  n.shapes({PartialShape{batch, 12, seq, 64}, PartialShape{Dimension(), 12, Dimension(), 64},
            PartialShape{batch, Dimension(), Dimension(), 32}, PartialShape{batch, 1, 1, seq}});
  n.one.infer();
  EXPECT_EQ(n.one.out_type(0), ElementType::f32);
  EXPECT_EQ(n.one.out_shape(0), "[batch,12,seq,32]");

  // k_transposed: K is [..., D, Sk]; V's static Sk fills in; static dims win over dynamic ones.
  AttentionNode t(0.125f, 1, false);
  t.shapes({PartialShape{Dimension(), 4, Dimension(), 8}, PartialShape{2, 4, 8, Dimension()},
            PartialShape{Dimension(), 4, 16, 8}});
  t.one.infer();
  EXPECT_EQ(t.one.out_shape(0), "[2,4,?,8]");

  // Unknown ranks: V's rank gives the output's.
  AttentionNode u(1.0f, 0, false);
  u.shapes({PartialShape(), PartialShape(), PartialShape{3, 5, 7}});
  u.one.infer();
  EXPECT_EQ(u.one.out_shape(0), "[3,?,7]");
}

std::string infer_error(float scale, int64_t kt, const std::vector<PartialShape>& shapes,
                        ElementType mask_type = ElementType::f32) {
  AttentionNode n(scale, kt, shapes.size() > 3);
  n.shapes(shapes);
  if (shapes.size() > 3) n.one.input(3, mask_type, shapes[3]);
  return error_of([&] { n.one.infer(); });
}

TEST(AttentionInfer, Errors) {
  EXPECT_THAT(infer_error(1, 0, {Shape{4, 8}, Shape{4, 8}, Shape{4, 8}}), HasSubstr("expected rank >= 3"));
  EXPECT_THAT(infer_error(1, 0, {Shape{1, 4, 8}, Shape{1, 1, 4, 8}, Shape{1, 4, 8}}),
              HasSubstr("expected the same rank"));
  EXPECT_THAT(infer_error(1, 0, {Shape{1, 4, 8}, Shape{1, 5, 9}, Shape{1, 5, 8}}), HasSubstr("depth D"));
  EXPECT_THAT(infer_error(1, 1, {Shape{1, 4, 8}, Shape{1, 5, 8}, Shape{1, 5, 8}}), HasSubstr("depth D"));
  EXPECT_THAT(infer_error(1, 0, {Shape{1, 4, 8}, Shape{1, 5, 8}, Shape{1, 6, 8}}), HasSubstr("key count Sk"));
  EXPECT_THAT(infer_error(1, 0, {Shape{2, 4, 8}, Shape{3, 5, 8}, Shape{2, 5, 8}}), HasSubstr("batch dim 0"));
  EXPECT_THAT(infer_error(1, 0, {Shape{2, 3, 4, 8}, Shape{2, 3, 5, 8}, Shape{2, 1, 5, 8}}),
              HasSubstr("batch dim 1"));
  EXPECT_THAT(infer_error(1, 0, {Shape{2, 4, 8}, Shape{2, 5, 8}, Shape{2, 5, 8}, Shape{2, 4, 4}}),
              HasSubstr("expected it to broadcast to the scores' shape [2,4,5]"));
  EXPECT_THAT(infer_error(1, 0, {Shape{2, 4, 8}, Shape{2, 5, 8}, Shape{2, 5, 8}, Shape{3, 1, 1, 5}}),
              HasSubstr("input 3 (mask) has shape [3,1,1,5]"));
  EXPECT_THAT(infer_error(1, 0, {Shape{2, 4, 8}, Shape{2, 5, 8}, Shape{2, 5, 8}, Shape{2, 4, 5}},
                          ElementType::boolean),
              HasSubstr("input 3 (mask) has element type boolean; Attention supports f32 only"));
  // Every error names the node.
  EXPECT_THAT(infer_error(1, 0, {Shape{4, 8}, Shape{4, 8}, Shape{4, 8}}), HasSubstr("'n'"));

  AttentionNode f16(1.0f, 0, false);
  f16.one.input(0, ElementType::f16, Shape{1, 2, 2}).input(1, ElementType::f16, Shape{1, 2, 2});
  f16.one.input(2, ElementType::f16, Shape{1, 2, 2});
  EXPECT_THAT(error_of([&] { f16.one.infer(); }), HasSubstr("input 0 (Q) has element type f16"));

  AttentionNode no_scale(1.0f, 0, false);
  no_scale.one.node->attributes.erase("scale");
  no_scale.shapes({Shape{1, 2, 2}, Shape{1, 2, 2}, Shape{1, 2, 2}});
  EXPECT_THAT(error_of([&] { no_scale.one.infer(); }), HasSubstr("attribute 'scale' is required"));
  EXPECT_THAT(infer_error(1, 2, {Shape{1, 2, 2}, Shape{1, 2, 2}, Shape{1, 2, 2}}),
              HasSubstr("'k_transposed' is 2; expected 0 or 1"));
}

TEST(AttentionRef, RunTimeShapeErrors) {
  AttentionNode n(1.0f, 0, false);
  EXPECT_THAT(error_of([&] {
                n.one.run({Tensor(ElementType::f32, {1, 4, 8}), Tensor(ElementType::f32, {1, 5, 7}),
                           Tensor(ElementType::f32, {1, 5, 8})});
              }),
              HasSubstr("depth D of Q and K differs"));
}

// ---------------------------------------------------------------------------------------------- CPU kernel

TEST(CpuAttention, MatchesReference) {
  std::mt19937 rng(11);
  for (const Case& c : cases()) {
    for (bool all_masked_row : {false, true}) {
      if (all_masked_row && c.mask.empty()) continue;
      SCOPED_TRACE("batch " + to_string(c.batch) + " sq " + std::to_string(c.sq) + " sk " +
                   std::to_string(c.sk) + " d " + std::to_string(c.d) + " dv " + std::to_string(c.dv) +
                   " kt " + std::to_string(c.k_transposed) + " mask " + to_string(c.mask));
      const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));
      AttentionNode n(scale, c.k_transposed, !c.mask.empty());
      const std::vector<Tensor> in = case_inputs(c, rng, all_masked_row);
      std::vector<PartialShape> shapes;
      shapes.reserve(in.size());
      for (const Tensor& t : in) shapes.emplace_back(t.shape());
      n.shapes(shapes);
      EXPECT_EQ(cpu_test::expect_cpu_matches_ref(n.one, in, 1e-4, 2e-6), "sluice:attention_sgemm");
    }
  }
}

// Large scores (scale 1, wide values): the max subtraction keeps the exponentials finite. The mask mixes
// small values with padding (-10000).
TEST(CpuAttention, LargeScores) {
  std::mt19937 rng(3);
  AttentionNode n(1.0f, 0, true);
  Tensor mask = cpu_test::random_tensor(ElementType::f32, {1, 40}, rng, -1, 0);
  for (int64_t j = 0; j < 40; j += 7) mask.data<float>()[j] = -10000.0f;
  const std::vector<Tensor> in{cpu_test::random_tensor(ElementType::f32, {2, 33, 16}, rng, -6, 6),
                               cpu_test::random_tensor(ElementType::f32, {2, 40, 16}, rng, -6, 6),
                               cpu_test::random_tensor(ElementType::f32, {2, 40, 8}, rng), mask};
  n.shapes({Shape{2, 33, 16}, Shape{2, 40, 16}, Shape{2, 40, 8}, Shape{1, 40}});
  cpu_test::expect_cpu_matches_ref(n.one, in, 1e-4, 1e-5);
}

// Run from inside an active parallel region (as when another level already parallelizes), the kernel runs
// every work item on the calling thread and must still use its scratch correctly.
TEST(CpuAttention, InsideParallelRegion) {
  std::mt19937 rng(5);
  const Case c{{2, 3}, 130, 50, 16, 8, false, {2, 1, 1, 50}};
  AttentionNode n(0.25f, 0, true);
  const std::vector<Tensor> in = case_inputs(c, rng);
  n.shapes({in[0].shape(), in[1].shape(), in[2].shape(), in[3].shape()});
  cpu_test::CpuRun run;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    run = cpu_test::run_cpu_kernel(n.one, in);
  }
  ASSERT_EQ(run.impl, "sluice:attention_sgemm");
  const Tensor want = n.one.run1(in);
  ops_test::expect_near(run.outputs.at(0), ops_test::doubles_of(want), 2e-6);
}

TEST(CpuAttention, DeclinesEmptyTensors) {
  AttentionNode n(1.0f, 0, false);
  n.shapes({Shape{1, 2, 3}, Shape{1, 0, 3}, Shape{1, 0, 4}});
  const cpu_test::CpuRun run = cpu_test::run_cpu_kernel(
      n.one, {Tensor(ElementType::f32, {1, 2, 3}), Tensor(ElementType::f32, {1, 0, 3}),
              Tensor(ElementType::f32, {1, 0, 4})});
  EXPECT_EQ(run.impl, "");
}

}  // namespace
}  // namespace sluice
