// Steady-state inference on the CPU device allocates nothing on the heap: Sluice's own path not at all;
// oneDNN 2.6 makes small allocations inside every primitive execution (its per-call argument map and
// parallel_nd's std::function), never a tensor or buffer. A test binary of its own: it replaces malloc
// and friends to count every allocation, and the largest, from any thread, while `counting` is set.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "graph_builder.hpp"
#include "sluice/sluice.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
std::atomic<size_t> largest{0};
void count(size_t size) {
  if (!counting.load(std::memory_order_relaxed)) return;
  allocations.fetch_add(1, std::memory_order_relaxed);
  size_t seen = largest.load(std::memory_order_relaxed);
  while (size > seen && !largest.compare_exchange_weak(seen, size)) {
  }
}
}  // namespace

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void* __libc_memalign(size_t alignment, size_t size);

void* malloc(size_t size) {
  count(size);
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) {
  count(n * size);
  return __libc_calloc(n, size);
}
void* realloc(void* ptr, size_t size) {
  count(size);
  return __libc_realloc(ptr, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  count(size);
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  count(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  count(size);
  *out = __libc_memalign(alignment, size);
  return *out ? 0 : ENOMEM;
}
}

namespace sluice {
namespace {

Tensor random_f32(const Shape& shape, std::mt19937& rng) {
  Tensor t(ElementType::f32, shape);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& v : t.values<float>()) v = dist(rng);
  return t;
}

// A small CNN (conv + ReLU, pool, residual, global pool, Gemm): oneDNN kernels, blocked layouts,
// reorders and in-place buffers.
Model make_cnn(std::mt19937& rng) {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape({1, 8, 16, 16}));
  graph::Value* c1 = b.node(
      "Relu",
      {b.node("Conv", {x, b.constant(random_f32({16, 8, 3, 3}, rng)), b.constant(random_f32({16}, rng))},
              {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  graph::Value* p =
      b.node("MaxPool", {c1},
             {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  graph::Value* c2 = b.node("Conv", {p, b.constant(random_f32({16, 16, 1, 1}, rng))});
  graph::Value* r = b.node("Relu", {b.node("Add", {c2, p})});
  graph::Value* g = b.node("Flatten", {b.node("GlobalAveragePool", {r})});
  graph::Value* fc =
      b.node("Gemm", {g, b.constant(random_f32({10, 16}, rng)), b.constant(random_f32({10}, rng))},
             {{"transB", int64_t{1}}});
  return b.finish({b.node("Softmax", {fc}, {{"axis", int64_t{-1}}})});
}

// Only the device's own kernels: elementwise, LayerNormalization, views, Transpose, Softmax, Concat.
Model make_own_kernels_only(std::mt19937& rng) {
  test::Builder b;
  graph::Value* t = b.input("t", PartialShape({1, 6, 16}));
  graph::Value* h =
      b.node("Tanh", {b.node("Add", {b.node("Mul", {t, t}), b.constant(random_f32({16}, rng))})});
  graph::Value* ln = b.node("LayerNormalization", {b.node("Add", {h, t}), b.constant(random_f32({16}, rng))},
                            {{"axis", int64_t{-1}}});
  graph::Value* r = b.node("Reshape", {ln, b.constant(Tensor::from<int64_t>({3}, {6, 4, 4}))});
  graph::Value* tr = b.node("Transpose", {r}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
  graph::Value* sm = b.node("Softmax", {tr}, {{"axis", int64_t{-1}}});
  return b.finish({b.node("Concat", {sm, tr}, {{"axis", int64_t{0}}})});
}

struct Counts {
  long allocations;
  size_t largest;
};

enum class Api { sync, async };

// Runs 5 steady-state inferences (after 3 to plan, bind and warm up) and counts their allocations. With
// Api::async, each inference is started by the previous one's callback (start_async from the callback).
Counts count_steady_state(const Model& model, const std::map<std::string, Tensor>& inputs, bool bind_output,
                          Api api = Api::sync) {
  Core core;
  InferRequest request = core.compile_model(model, "CPU").create_infer_request();
  for (const auto& [name, tensor] : inputs) request.set_tensor(name, tensor);
  const PortInfo& out = request.outputs()[0];
  Tensor bound(out.type, out.shape.to_shape());
  if (bind_output) request.set_output_tensor(0, bound);
  int remaining = 0;  // touched by the callback only while the request is in it, then by this thread
  if (api == Api::async) {
    request.set_callback([&](std::exception_ptr error) {
      if (!error && --remaining > 0) request.start_async();
    });
  }
  auto run = [&](int n) {
    if (api == Api::sync) {
      for (int i = 0; i < n; ++i) request.infer();
      return;
    }
    remaining = n;
    request.start_async();
    request.wait();  // returns after the chain: each callback starts the next before the request is idle
  };
  run(3);
  const Tensor before = request.get_output_tensor(0).clone();
  allocations = 0;
  largest = 0;
  counting = true;
  run(5);
  counting = false;
  const Tensor after = request.get_output_tensor(0);
  EXPECT_EQ(std::memcmp(before.data(), after.data(), after.byte_size()), 0) << "the runs differ";
  if (bind_output) EXPECT_EQ(after.data(), bound.data());
  return {allocations.load(), largest.load()};
}

TEST(CpuAllocations, OwnKernelsAllocateNothing) {
  std::mt19937 rng(3);
  Model model = make_own_kernels_only(rng);
  for (bool bind_output : {false, true}) {
    SCOPED_TRACE(bind_output ? "with a bound output" : "with the request's outputs");
    const Counts c = count_steady_state(model, {{"t", random_f32({1, 6, 16}, rng)}}, bind_output);
    EXPECT_EQ(c.allocations, 0) << "heap allocations in 5 steady-state inferences";
  }
}

TEST(CpuAllocations, AsyncRequestsChainedByCallbacksAllocateNothing) {
  std::mt19937 rng(5);
  Model model = make_own_kernels_only(rng);
  const Counts c = count_steady_state(model, {{"t", random_f32({1, 6, 16}, rng)}}, false, Api::async);
  EXPECT_EQ(c.allocations, 0) << "heap allocations in 5 steady-state start_async/callback rounds";
}

TEST(CpuAllocations, OneDnnKernelsAllocateNoBuffers) {
  std::mt19937 rng(4);
  Model model = make_cnn(rng);
  for (bool bind_output : {false, true}) {
    SCOPED_TRACE(bind_output ? "with a bound output" : "with the request's outputs");
    const Counts c = count_steady_state(model, {{"x", random_f32({1, 8, 16, 16}, rng)}}, bind_output);
    // oneDNN's own bookkeeping per primitive call (112 bytes at most, seen): not an activation (the
    // smallest between convolutions here is [1,16,8,8], 4 KiB) and not a scratchpad.
    EXPECT_LE(c.largest, 256u) << c.allocations << " allocations";
  }
}

TEST(CpuAllocations, TheCounterCounts) {
  allocations = 0;
  counting = true;
  void* volatile probe = std::malloc(64);
  counting = false;
  std::free(probe);
  EXPECT_EQ(allocations.load(), 1);
}

}  // namespace
}  // namespace sluice
