// The compute profile of a graph (src/devices/cpu/model_analysis.hpp): FLOPs of each kind of compute
// node from its shapes, the bytes it moves, and which of it is memory-bound.
#include "devices/cpu/model_analysis.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "devices/cpu/fusion.hpp"
#include "graph_builder.hpp"
#include "sluice/dev/plugin.hpp"

namespace sluice::cpu {
namespace {

using graph::AttributeValue;

Tensor zeros(const Shape& shape) {
  Tensor t(ElementType::f32, shape);
  for (float& v : t.values<float>()) v = 0.0f;
  return t;
}

// A machine with a 1 MiB L2 per core.
CpuTopology machine(size_t l2_bytes = 1 << 20) {
  CpuTopology t;
  t.cores.push_back({{0}, 0, 0});
  t.l2_bytes = l2_bytes;
  return t;
}

ComputeProfile profile_of(const Model& model, const CpuTopology& t = machine()) {
  return analyze_compute(dev::graph_of(model), t);
}

TEST(ModelAnalysis, ConvFlopsAndBytes) {
  test::Builder b;
  auto* x = b.input("x", Shape{1, 3, 32, 32});
  auto* y = b.node("Conv", {x, b.constant(zeros({16, 3, 3, 3})), b.constant(zeros({16}))},
                   {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const Model model = b.finish({y});
  const ComputeProfile p = profile_of(model);
  EXPECT_EQ(p.nodes, 1);
  // Y [1,16,32,32], each element a sum of 3*3*3 products.
  EXPECT_DOUBLE_EQ(p.flops, 2.0 * 16 * 32 * 32 * 27);
  EXPECT_DOUBLE_EQ(p.weight_bytes, 4.0 * (16 * 27 + 16));
  EXPECT_DOUBLE_EQ(p.activation_bytes, 4.0 * (3 * 32 * 32 + 16 * 32 * 32));
  EXPECT_DOUBLE_EQ(p.max_node_bytes, p.weight_bytes + p.activation_bytes);
  EXPECT_DOUBLE_EQ(p.typical_activation_bytes, p.activation_bytes);  // one node
  EXPECT_DOUBLE_EQ(p.mem_limited_flops, 0.0);                        // 78 KiB: fits the L2
}

TEST(ModelAnalysis, GroupedAndDepthwiseConv) {
  test::Builder b;
  auto* x = b.input("x", Shape{1, 8, 16, 16});
  const std::map<std::string, AttributeValue> same = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  auto grouped_attrs = same;
  grouped_attrs["group"] = int64_t{4};
  // Grouped: 4 groups of 2 input channels -> each output sums 2*3*3 products.
  auto* grouped = b.node("Conv", {x, b.constant(zeros({8, 2, 3, 3}))}, grouped_attrs);
  auto depthwise_attrs = same;
  depthwise_attrs["group"] = int64_t{8};
  // Depthwise: each output sums 3*3 products.
  auto* depthwise = b.node("Conv", {grouped, b.constant(zeros({8, 1, 3, 3}))}, depthwise_attrs);
  const ComputeProfile p = profile_of(b.finish({depthwise}));
  EXPECT_EQ(p.nodes, 2);
  EXPECT_DOUBLE_EQ(p.flops, 2.0 * 8 * 256 * (2 * 9) + 2.0 * 8 * 256 * 9);
  EXPECT_DOUBLE_EQ(p.weight_bytes, 4.0 * (8 * 2 * 9 + 8 * 9));
}

TEST(ModelAnalysis, ConvTranspose) {
  test::Builder b;
  auto* x = b.input("x", Shape{1, 4, 8, 8});
  // W [C=4, M/group=2, 3, 3]: every input element is scattered into 2*3*3 outputs; Y is [1,2,10,10].
  auto* y = b.node("ConvTranspose", {x, b.constant(zeros({4, 2, 3, 3}))});
  const ComputeProfile p = profile_of(b.finish({y}));
  EXPECT_EQ(p.nodes, 1);
  EXPECT_DOUBLE_EQ(p.flops, 2.0 * (4 * 8 * 8) * (2 * 9));
  EXPECT_DOUBLE_EQ(p.activation_bytes, 4.0 * (4 * 64 + 2 * 100));
}

TEST(ModelAnalysis, MatMulAndGemm) {
  test::Builder b;
  auto* a = b.input("a", Shape{2, 64, 128});
  auto* mm = b.node("MatMul", {a, b.constant(zeros({128, 256}))});  // [2,64,256], K = 128
  auto* at = b.input("at", Shape{128, 64});
  // transA: A' is [64,128], so M = 64 and K = 128; Y [64,32].
  auto* gemm =
      b.node("Gemm", {at, b.constant(zeros({128, 32})), b.constant(zeros({32}))}, {{"transA", int64_t{1}}});
  const ComputeProfile p = profile_of(b.finish({mm, gemm}));
  EXPECT_EQ(p.nodes, 2);
  EXPECT_DOUBLE_EQ(p.flops, 2.0 * (2 * 64 * 256) * 128 + 2.0 * (64 * 32) * 128);
  EXPECT_DOUBLE_EQ(p.weight_bytes, 4.0 * (128 * 256 + 128 * 32 + 32));
  EXPECT_DOUBLE_EQ(p.activation_bytes, 4.0 * (2 * 64 * 128 + 2 * 64 * 256 + 128 * 64 + 64 * 32));
  EXPECT_DOUBLE_EQ(p.max_node_bytes, 4.0 * (2 * 64 * 128 + 128 * 256 + 2 * 64 * 256));
  // The mean of the two nodes' activations, weighted by their FLOPs.
  const double mm_flops = 2.0 * (2 * 64 * 256) * 128;
  const double gemm_flops = 2.0 * (64 * 32) * 128;
  EXPECT_DOUBLE_EQ(p.typical_activation_bytes, (mm_flops * 4.0 * (2 * 64 * 128 + 2 * 64 * 256) +
                                                gemm_flops * 4.0 * (128 * 64 + 64 * 32)) /
                                                   (mm_flops + gemm_flops));
}

TEST(ModelAnalysis, DynamicDimsCountAsOneAndUnknownShapesAreSkipped) {
  test::Builder b;
  auto* x = b.input("x", PartialShape{Dimension::dynamic("batch"), 128});
  auto* y = b.node("MatMul", {x, b.constant(zeros({128, 64}))});
  auto* u = b.input("u", PartialShape::unknown_rank());
  auto* z = b.node("MatMul", {u, b.constant(zeros({128, 64}))});
  const ComputeProfile p = profile_of(b.finish({y, z}));
  EXPECT_EQ(p.nodes, 1);                      // the unknown-rank MatMul is skipped
  EXPECT_DOUBLE_EQ(p.flops, 2.0 * 64 * 128);  // batch counted as 1
  EXPECT_DOUBLE_EQ(p.weight_bytes, 4.0 * 128 * 64);
}

TEST(ModelAnalysis, NoComputeNodes) {
  test::Builder b;
  auto* x = b.input("x", Shape{1, 1000});
  auto* y = b.node("Softmax", {b.node("Relu", {x})});
  const ComputeProfile p = profile_of(b.finish({y}));
  EXPECT_EQ(p.nodes, 0);
  EXPECT_EQ(p.flops, 0.0);
  EXPECT_EQ(p.weight_bytes, 0.0);
  EXPECT_EQ(p.activation_bytes, 0.0);
  EXPECT_EQ(p.max_node_bytes, 0.0);
  EXPECT_EQ(p.typical_activation_bytes, 0.0);
  EXPECT_EQ(p.mem_limited_share(), 0.0);
}

TEST(ModelAnalysis, MemoryBoundNeedsBothSizeAndLowIntensity) {
  test::Builder b;
  // Batch 1 matrix-vector product: 4 MiB of weights for 2 MFLOPs (0.5 FLOPs/byte), over the 1 MiB L2.
  auto* v = b.input("v", Shape{1, 1024});
  auto* gemv = b.node("MatMul", {v, b.constant(zeros({1024, 1024}))});
  // Batch 512 with the same size of weights: 8 MiB moved for 1 GFLOPs (128 FLOPs/byte): compute-bound.
  auto* m = b.input("m", Shape{512, 1024});
  auto* gemm = b.node("MatMul", {m, b.constant(zeros({1024, 1024}))});
  // A small depthwise conv: low intensity (~2 FLOPs/byte) but its 40 KiB fit the L2.
  auto* x = b.input("x", Shape{1, 32, 16, 16});
  auto* dw = b.node("Conv", {x, b.constant(zeros({32, 1, 3, 3}))},
                    {{"group", int64_t{32}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const Model model = b.finish({gemv, gemm, dw});

  const double gemv_flops = 2.0 * 1024 * 1024;
  const double dw_flops = 2.0 * 32 * 256 * 9;
  const ComputeProfile p = profile_of(model);
  EXPECT_EQ(p.nodes, 3);
  EXPECT_DOUBLE_EQ(p.mem_limited_flops, gemv_flops);
  EXPECT_DOUBLE_EQ(p.max_node_bytes, 4.0 * (512 * 1024 + 1024 * 1024 + 512 * 1024));
  // With a 16 KiB L2 the depthwise conv no longer fits and counts too.
  EXPECT_DOUBLE_EQ(profile_of(model, machine(16 << 10)).mem_limited_flops, gemv_flops + dw_flops);
}

// A graph of com.sluice nodes with shapes set by hand (what the fusions produce).
struct FusedGraph {
  graph::Graph g;
  graph::Value* value(const std::string& name, const Shape& shape, bool constant = false) {
    graph::Value* v = g.add_value(name);
    v->type = ElementType::f32;
    v->shape = PartialShape(shape);
    if (constant) v->constant = zeros(shape);
    return v;
  }
};

TEST(ModelAnalysis, FusedNodes) {
  FusedGraph f;
  // FusedConv with a residual input: counted like Conv, the residual as an activation input.
  graph::Node* conv = f.g.add_node("FusedConv", "com.sluice",
                                   {f.value("x", {1, 8, 8, 8}), f.value("w", {16, 8, 1, 1}, true),
                                    f.value("b", {16}, true), f.value("res", {1, 16, 8, 8})},
                                   {f.value("y", {1, 16, 8, 8})});
  conv->attributes["post_ops"] = std::vector<std::string>{"Add"};
  // FusedMatMul with transB: B is [N=16, K=32]; K comes from A.
  graph::Node* mm =
      f.g.add_node("FusedMatMul", "com.sluice", {f.value("a", {4, 32}), f.value("bt", {16, 32}, true)},
                   {f.value("mm", {4, 16})});
  mm->attributes["transB"] = int64_t{1};
  // Attention over 12 heads of 128 x 64: Q K^T and scores x V, each 128*128*64 MACs per head.
  f.g.add_node(
      "Attention", "com.sluice",
      {f.value("q", {1, 12, 128, 64}), f.value("k", {1, 12, 128, 64}), f.value("v", {1, 12, 128, 64})},
      {f.value("att", {1, 12, 128, 64})});
  // Not compute nodes: another domain's Conv, and an elementwise node.
  f.g.add_node("Conv", "com.example", {f.value("x2", {1, 8, 8, 8}), f.value("w2", {16, 8, 1, 1}, true)},
               {f.value("y2", {1, 16, 8, 8})});
  f.g.add_node("Relu", "", {f.value("r", {1, 8})}, {f.value("r2", {1, 8})});

  const ComputeProfile p = analyze_compute(f.g, machine());
  EXPECT_EQ(p.nodes, 3);
  const double conv_flops = 2.0 * (16 * 64) * 8;
  const double mm_flops = 2.0 * (4 * 16) * 32;
  const double att_flops = 2.0 * 2 * (12 * 128 * 128 * 64);
  EXPECT_DOUBLE_EQ(p.flops, conv_flops + mm_flops + att_flops);
  EXPECT_DOUBLE_EQ(p.weight_bytes, 4.0 * (16 * 8 + 16 + 16 * 32));
  EXPECT_DOUBLE_EQ(p.activation_bytes,
                   4.0 * (8 * 64 + 16 * 64 + 16 * 64) + 4.0 * (4 * 32 + 4 * 16) + 4.0 * 4 * (12 * 128 * 64));
}

TEST(ModelAnalysis, FusionKeepsTheFlops) {
  // Conv -> Relu and MatMul -> Add(bias) become FusedConv and FusedMatMul with the same work.
  test::Builder b;
  auto* x = b.input("x", Shape{1, 3, 16, 16});
  auto* c = b.node("Relu", {b.node("Conv", {x, b.constant(zeros({8, 3, 3, 3}))})});
  auto* a = b.input("a", Shape{4, 64});
  auto* m = b.node("Add", {b.node("MatMul", {a, b.constant(zeros({64, 32}))}), b.constant(zeros({32}))});
  const Model model = b.finish({c, m});
  const ComputeProfile before = profile_of(model);

  std::unique_ptr<graph::Graph> g = dev::graph_of(model).clone();
  g->resolve_operators();
  optimize_for_cpu(*g, {});
  std::set<std::string> ops;
  for (const auto& node : g->nodes()) ops.insert(node->op_type);
  EXPECT_EQ(ops, (std::set<std::string>{"FusedConv", "FusedMatMul"}));
  const ComputeProfile after = analyze_compute(*g, machine());
  EXPECT_EQ(after.nodes, 2);
  EXPECT_DOUBLE_EQ(after.flops, before.flops);
  EXPECT_DOUBLE_EQ(before.flops, 2.0 * (8 * 14 * 14) * 27 + 2.0 * (4 * 32) * 64);
  // The bias became a weight of the fused node.
  EXPECT_DOUBLE_EQ(after.weight_bytes, before.weight_bytes + 4.0 * 32);
}

}  // namespace
}  // namespace sluice::cpu
