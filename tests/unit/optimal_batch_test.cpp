// The CPU device's OPTIMAL_BATCH_SIZE estimate (src/devices/cpu/model_analysis.hpp,
// estimate_optimal_batch): the per-node roofline's times, and the batch it chooses for models that gain
// from batching (big FC layers at batch 1, graphs of many cheap nodes) and models that do not
// (convolutions on big feature maps, attention).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "devices/cpu/fusion.hpp"
#include "devices/cpu/model_analysis.hpp"
#include "graph_builder.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/error.hpp"

namespace sluice::cpu {
namespace {

Tensor zeros(const Shape& shape) {
  Tensor t(ElementType::f32, shape);
  for (float& v : t.values<float>()) v = 0.0f;
  return t;
}

// A machine of `cores` cores with a 1 MiB L2 each and one shared L3 of `l3_bytes`.
CpuTopology machine(size_t l3_bytes = 32 << 20, int cores = 2) {
  CpuTopology t;
  for (int c = 0; c < cores; ++c) t.cores.push_back({{c}, 0, 0});
  t.l2_bytes = 1 << 20;
  t.l3_bytes = l3_bytes;
  t.cores_per_l3 = cores;
  return t;
}

// The graph the CPU device compiles: resolved and fused, as in CpuPlugin::compile_model.
std::unique_ptr<graph::Graph> optimized(const Model& model) {
  std::unique_ptr<graph::Graph> g = dev::graph_of(model).clone();
  g->resolve_operators();
  optimize_for_cpu(*g, {});
  return g;
}

// Two FC layers at batch 1: [1,1024] x [1024,4096] + bias, Relu, [1,4096] x [4096,1024] + bias. 32 MiB of
// f32 weights for 17 MFLOPs: 0.5 FLOPs per byte, matrix-vector products bound by reading the weights.
Model big_fc_mlp(PartialShape input = Shape{1, 1024}) {
  test::Builder b;
  auto* x = b.input("x", std::move(input));
  auto* h = b.node(
      "Relu",
      {b.node("Add", {b.node("MatMul", {x, b.constant(zeros({1024, 4096}))}), b.constant(zeros({4096}))})});
  auto* y =
      b.node("Add", {b.node("MatMul", {h, b.constant(zeros({4096, 1024}))}), b.constant(zeros({1024}))});
  return b.finish({y});
}

// The per-request gain as estimate_optimal_batch defines it: the runtime's cost of an inference is shared
// by the batch, BATCH's own cost per request is added.
double gain(const graph::Graph& g, const CpuTopology& t, int threads, int batch) {
  return (estimated_batch_time(g, t, threads, 1) + batch_inference_overhead_seconds) /
         ((estimated_batch_time(g, t, threads, batch) + batch_inference_overhead_seconds) / batch +
          batch_request_overhead_seconds);
}

TEST(OptimalBatch, RooflineTimeOfOneMatMul) {
  // One MatMul [1,1024] x [1024,4096]: 16 MiB of weights, over half of an 8 MiB L3, so read from DRAM;
  // its 20 KiB of activations per sample fit the L2 up to any batch tried here.
  test::Builder b;
  auto* x = b.input("x", Shape{1, 1024});
  const Model model = b.finish({b.node("MatMul", {x, b.constant(zeros({1024, 4096}))})});
  const graph::Graph& g = dev::graph_of(model);
  const CpuTopology t = machine(8 << 20);
  const double flops = 2.0 * 1024 * 4096;
  const double weights = 4.0 * 1024 * 4096;
  const double activations = 4.0 * (1024 + 4096);
  for (int batch : {1, 4, 16, 32}) {  // 32 x 20 KiB still fits the 1 MiB L2
    const double expected =
        batch_compute_dispatch_seconds +
        std::max(batch * flops / batch_peak_flops_per_thread,
                 weights / batch_dram_bytes_per_thread + batch * activations / batch_l2_bytes_per_thread);
    EXPECT_DOUBLE_EQ(estimated_batch_time(g, t, 1, batch), expected) << "batch " << batch;
  }
  // Two threads: twice the FLOPs and bytes per second, the same dispatch cost.
  EXPECT_DOUBLE_EQ(
      estimated_batch_time(g, t, 2, 4),
      batch_compute_dispatch_seconds + std::max(4 * flops / (2 * batch_peak_flops_per_thread),
                                                weights / (2 * batch_dram_bytes_per_thread) +
                                                    4 * activations / (2 * batch_l2_bytes_per_thread)));
  // With a 64 MiB L3 the weights stay cached between inferences: read at L3 bandwidth.
  EXPECT_DOUBLE_EQ(estimated_batch_time(g, machine(64 << 20), 1, 1),
                   batch_compute_dispatch_seconds + weights / batch_l3_bytes_per_thread +
                       activations / batch_l2_bytes_per_thread);
}

TEST(OptimalBatch, BigFcLayersBatchToTheLargestSize) {
  // Weights from DRAM (32 MiB, over half the 32 MiB L3): the FC layers stay memory-bound up to b = 16
  // (f32 weights give b/2 FLOPs per byte, the balance point is 100 GFLOP/s / 10 GB/s = 10 FLOPs per byte
  // at b = 20), so each doubling nearly doubles the gain and the largest batch is chosen.
  const Model model = big_fc_mlp();
  const auto g = optimized(model);
  const CpuTopology t = machine();
  const BatchEstimate e = estimate_optimal_batch(*g, t, 1);
  EXPECT_EQ(e.batch, 16);
  EXPECT_GT(e.gain, 10.0);
  EXPECT_DOUBLE_EQ(e.gain, gain(*g, t, 1, 16));
  // A smaller max_batch caps it; one that is not a power of two is a candidate itself.
  EXPECT_EQ(estimate_optimal_batch(*g, t, 1, 8).batch, 8);
  EXPECT_EQ(estimate_optimal_batch(*g, t, 1, 12).batch, 12);
  EXPECT_EQ(estimate_optimal_batch(*g, t, 1, 6).batch, 6);
  const BatchEstimate one = estimate_optimal_batch(*g, t, 1, 1);
  EXPECT_EQ(one.batch, 1);
  EXPECT_EQ(one.gain, 1.0);
}

TEST(OptimalBatch, WeightsCachedInL3GainLessAndChooseASmallerBatch) {
  // With a 128 MiB L3 the 32 MiB of weights stay in it between inferences. Read at 30 GB/s the balance
  // point is 3.3 FLOPs per byte: the layers become compute-bound near b = 7, gain(16) is about gain(8),
  // and the smallest batch within 90% of the best is 8.
  const auto g = optimized(big_fc_mlp());
  const CpuTopology cached = machine(128 << 20);
  const BatchEstimate e = estimate_optimal_batch(*g, cached, 1);
  EXPECT_EQ(e.batch, 8);
  EXPECT_GT(e.gain, 1.15);
  EXPECT_LT(e.gain, estimate_optimal_batch(*g, machine(), 1).gain);
  EXPECT_GE(e.gain, batch_gain_share * gain(*g, cached, 1, 16));
  EXPECT_LT(gain(*g, cached, 1, 4), batch_gain_share * gain(*g, cached, 1, 16));
}

TEST(OptimalBatch, DynamicBatchCountsAsOne) {
  const auto fixed = optimized(big_fc_mlp());
  const auto dynamic = optimized(big_fc_mlp(PartialShape{Dimension::dynamic("batch"), 1024}));
  const CpuTopology t = machine();
  EXPECT_DOUBLE_EQ(estimated_batch_time(*dynamic, t, 1, 4), estimated_batch_time(*fixed, t, 1, 4));
  EXPECT_EQ(estimate_optimal_batch(*dynamic, t, 1).batch, 16);
}

TEST(OptimalBatch, ConvNetOnBigFeatureMapsDoesNotBatch) {
  // Three 3x3 convolutions 64 -> 64 on 56x56 (ResNet's first stage): 231 MFLOPs each for 147 KiB of
  // weights, compute-bound at batch 1. Batching only spreads a few microseconds of dispatch.
  test::Builder b;
  auto* y = b.input("x", Shape{1, 64, 56, 56});
  for (int i = 0; i < 3; ++i)
    y = b.node("Relu", {b.node("Conv", {y, b.constant(zeros({64, 64, 3, 3})), b.constant(zeros({64}))},
                               {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  const auto g = optimized(b.finish({y}));
  const CpuTopology t = machine();
  for (int threads : {1, 2}) {
    const BatchEstimate e = estimate_optimal_batch(*g, t, threads);
    EXPECT_EQ(e.batch, 1) << threads << " threads";
    EXPECT_EQ(e.gain, 1.0);
    EXPECT_LT(gain(*g, t, threads, 16), 1.01);
    EXPECT_GT(gain(*g, t, threads, 16), 0.9);
  }
}

TEST(OptimalBatch, AttentionDoesNotGain) {
  // Attention has no weights: Q, K and V are activations, so its bytes and FLOPs grow with the batch.
  graph::Graph g;
  const auto value = [&](const std::string& name) {
    graph::Value* v = g.add_value(name);
    v->type = ElementType::f32;
    v->shape = PartialShape(Shape{1, 12, 128, 64});
    return v;
  };
  g.add_node("Attention", "com.sluice", {value("q"), value("k"), value("v")}, {value("y")});
  const BatchEstimate e = estimate_optimal_batch(g, machine(), 1);
  EXPECT_EQ(e.batch, 1);
  EXPECT_LT(gain(g, machine(), 1, 16), 1.01);
}

TEST(OptimalBatch, ManyCheapNodesBatch) {
  // 32 FC layers [1,64] x [64,64] + bias, Relu: 8 KFLOPs and 16 KiB of weights each, so the inference
  // is mostly the nodes' fixed cost, which a batch pays once for all its samples.
  test::Builder b;
  auto* y = b.input("x", Shape{1, 64});
  for (int i = 0; i < 32; ++i)
    y = b.node(
        "Relu",
        {b.node("Add", {b.node("MatMul", {y, b.constant(zeros({64, 64}))}), b.constant(zeros({64}))})});
  const auto g = optimized(b.finish({y}));
  const CpuTopology t = machine();
  const BatchEstimate e = estimate_optimal_batch(*g, t, 1);
  EXPECT_GE(e.batch, 8);
  EXPECT_GT(e.gain, 4.0);
  EXPECT_DOUBLE_EQ(e.gain, gain(*g, t, 1, e.batch));
  // T(1) is mostly the 32 compute nodes' dispatch: that is what a batch shares.
  EXPECT_GT(estimated_batch_time(*g, t, 1, 1), 32 * batch_compute_dispatch_seconds);
  EXPECT_LT(estimated_batch_time(*g, t, 1, 1), 2 * 32 * batch_compute_dispatch_seconds);
}

TEST(OptimalBatch, ManyCheapElementwiseNodesBatch) {
  // 64 Softmax nodes on [1,64], no compute node: only the 0.2 us a node of dispatch to share.
  test::Builder b;
  auto* y = b.input("x", Shape{1, 64});
  for (int i = 0; i < 64; ++i) y = b.node("Softmax", {y});
  const auto g = optimized(b.finish({y}));
  const BatchEstimate e = estimate_optimal_batch(*g, machine(), 1);
  EXPECT_GT(e.batch, 1);
  EXPECT_GT(e.gain, batch_min_gain);
}

TEST(OptimalBatch, EmptyGraphAndBadArguments) {
  graph::Graph empty;
  const BatchEstimate e = estimate_optimal_batch(empty, machine(), 1);
  EXPECT_EQ(e.batch, 1);
  EXPECT_EQ(e.gain, 1.0);
  const auto g = optimized(big_fc_mlp());
  EXPECT_THROW(estimate_optimal_batch(*g, machine(), 0), Error);
  EXPECT_THROW(estimate_optimal_batch(*g, machine(), 1, 0), Error);
  EXPECT_THROW(estimated_batch_time(*g, machine(), 1, 0), Error);
}

}  // namespace
}  // namespace sluice::cpu
