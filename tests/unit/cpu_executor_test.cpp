// The CPU device's executor below the public API: the memory plan and the thread configuration.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <cmath>

#include "devices/cpu/executor.hpp"
#include "devices/cpu/fusion.hpp"
#include "graph/op_registry.hpp"

namespace sluice::cpu {
namespace {

// x -> Relu -> Neg -> Abs -> ... (`length` elementwise nodes), then Concat of the last two values.
std::shared_ptr<graph::Graph> chain_graph(int length, int64_t size) {
  auto g = std::make_shared<graph::Graph>();
  g->name = "chain";
  g->opset_imports[""] = 17;
  graph::Value* x = g->add_value("x");
  x->type = ElementType::f32;
  x->shape = PartialShape({size});
  x->is_graph_input = true;
  g->inputs().push_back(x);
  const char* ops[] = {"Relu", "Neg", "Abs", "Sigmoid"};
  graph::Value* prev = x;
  graph::Value* before = x;
  for (int i = 0; i < length; ++i) {
    graph::Value* next = g->add_value("v" + std::to_string(i));
    g->add_node(ops[i % 4], "", {prev}, {next}, "n" + std::to_string(i));
    before = prev;
    prev = next;
  }
  graph::Value* y = g->add_value("y");
  graph::Node* concat = g->add_node("Concat", "", {before, prev}, {y}, "concat");
  concat->attributes["axis"] = int64_t{0};
  g->outputs() = {y};
  g->resolve_operators();
  optimize_for_cpu(*g, {});
  return g;
}

TEST(CpuExecutor, ArenaReusesBuffersAndComputesTheChain) {
  const int64_t size = 1024;
  Executor executor(chain_graph(12, size), CpuConfig{});
  Executor::Request request;
  Tensor x(ElementType::f32, {size});
  for (int64_t i = 0; i < size; ++i) x.data<float>()[i] = static_cast<float>(i % 7) - 3.f;
  std::vector<Tensor> storage, out;
  executor.run(request, {x}, {Tensor()}, storage, out, ThreadConfig{2, {}}, nullptr);
  ASSERT_EQ(storage.size(), 1u);
  EXPECT_EQ(out[0].data(), storage[0].data()) << "the result goes into the caller's storage, not the arena";
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape(), Shape({2 * size}));
  // Relu, Neg, Abs, Sigmoid, Relu, ...: after the first four every value is sigmoid(...) > 0.
  auto reference = [](float v, int steps) {
    for (int i = 0; i < steps; ++i) {
      switch (i % 4) {
        case 0: v = std::max(v, 0.f); break;
        case 1: v = -v; break;
        case 2: v = std::abs(v); break;
        default: v = 1.f / (1.f + std::exp(-v)); break;
      }
    }
    return v;
  };
  for (int64_t i = 0; i < size; ++i) {
    EXPECT_NEAR(out[0].data<float>()[i], reference(x.data<float>()[i], 11), 1e-6);
    EXPECT_NEAR(out[0].data<float>()[size + i], reference(x.data<float>()[i], 12), 1e-6);
  }
  // Eleven intermediate values of 4 KiB each: the plan keeps at most a few alive at once.
  EXPECT_LE(executor.arena_bytes(), 3 * size * sizeof(float));
  EXPECT_GT(executor.arena_bytes(), 0u);
}

TEST(CpuExecutor, CancelFlagStopsTheRunBetweenSteps) {
  Executor executor(chain_graph(4, 16), CpuConfig{});
  Executor::Request request;
  Tensor x(ElementType::f32, {16});
  std::vector<Tensor> storage, out;
  std::atomic<bool> cancel{true};
  EXPECT_THROW(executor.run(request, {x}, {Tensor()}, storage, out, ThreadConfig{1, {}}, nullptr, &cancel),
               InferCancelled);
  cancel = false;  // the same request state runs normally afterwards
  executor.run(request, {x}, {Tensor()}, storage, out, ThreadConfig{1, {}}, nullptr, &cancel);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), Shape({32}));
}

TEST(CpuExecutor, RequestsArePinnedToTheirCores) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  std::vector<int> cores;
  for (int c = 0; c < CPU_SETSIZE && cores.size() < 2; ++c) {
    if (CPU_ISSET(c, &allowed)) cores.push_back(c);
  }
  Executor executor(chain_graph(2, 16), CpuConfig{});
  Executor::Request request;
  Tensor x(ElementType::f32, {16});
  for (int core : cores) {
    std::vector<Tensor> storage, out;
    executor.run(request, {x}, {Tensor()}, storage, out, ThreadConfig{1, {core}}, nullptr);
    cpu_set_t now;
    ASSERT_EQ(sched_getaffinity(0, sizeof(now), &now), 0);  // the calling thread is the team's first
    EXPECT_EQ(CPU_COUNT(&now), 1);
    EXPECT_TRUE(CPU_ISSET(core, &now)) << "core " << core;
  }
  // Leave the test thread as it was.
  sched_setaffinity(0, sizeof(allowed), &allowed);
}

}  // namespace
}  // namespace sluice::cpu
