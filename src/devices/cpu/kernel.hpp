// The CPU device's kernel interface. An operator's lifecycle on CPU:
//   plan  (once per input-shape signature): a KernelFactory sees the node with concrete shapes, types and
//         layouts of its inputs and returns a Kernel, or nullptr when it cannot handle this case (the next
//         factory is tried; the reference kernel is the last resort). Weights are packed here, through the
//         compiled model's WeightCache, so every signature and stream shares them.
//   state (once per request and signature): Kernel::make_state, for mutable per-request objects (oneDNN
//         memory objects and argument maps), so that running allocates nothing.
//   run   (every inference): Kernel::run with the tensors of this inference.
//
// Thread-safety: a Kernel is immutable after planning and is shared by every request of the compiled model,
// so run() may be called from several threads at once, each with its own KernelState and buffers.
#pragma once

#include <omp.h>

#include <algorithm>
#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/graph.hpp"
#include "graph/op_registry.hpp"
#include "sluice/tensor.hpp"

// Compiles a function for AVX-512, AVX2 and baseline x86-64, the ISA picked at load time (GCC function
// multiversioning: an ifunc resolver per function). Not under ThreadSanitizer, whose instrumentation of
// the resolvers crashes them (they run before its runtime starts): that build runs the baseline code.
#if defined(__SANITIZE_THREAD__)
#define SLUICE_TARGET_CLONES
#else
#define SLUICE_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

namespace sluice::cpu {

// A value as one plan sees it: static type and shape, and its memory layout.
struct ValueInfo {
  ElementType type = ElementType::undefined;  // undefined: an omitted optional input or output
  Shape shape;
  // The oneDNN descriptor when the value is stored in a blocked (non row-major) layout; a zero descriptor
  // (md.is_zero()) means plain dense row-major, the only layout outside oneDNN kernels.
  dnnl::memory::desc md;
  const Tensor* constant = nullptr;  // the value when it is a constant (weights), else nullptr

  bool present() const { return type != ElementType::undefined; }
  bool blocked() const { return !md.is_zero(); }
  // Bytes the value occupies in memory in its layout.
  size_t bytes() const { return blocked() ? md.get_size() : byte_size(type, shape); }
};

// Compile-time choices that kernels follow.
struct CpuConfig {
  // The compute precision of convolutions and matrix products: f32, or bf16 (f32 accumulation, f32
  // tensors between operators).
  ElementType precision = ElementType::f32;
};

// Packed weights, shared by every plan and request of one compiled model. Thread-safe.
class WeightCache {
 public:
  // The tensor cached under `key`, made by `make` on first use. `key` must identify both the source
  // constant and the packed form (node name + target layout).
  Tensor get(const std::string& key, const std::function<Tensor()>& make);
  size_t bytes() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Tensor> tensors_;  // guarded by mutex_
  size_t bytes_ = 0;                                 // guarded by mutex_
};

// What a kernel factory sees when planning one node.
struct PlanContext {
  const graph::Node& node;
  std::vector<ValueInfo> inputs;   // one per node input (omitted ones not present)
  std::vector<ValueInfo> outputs;  // one per node output, static shapes from shape inference, plain; a
                                   // factory may set md to produce a blocked layout (oneDNN kernels only)
  const CpuConfig& config;
  const dnnl::engine& engine;
  WeightCache& weights;
};

// What a kernel sees when it runs.
struct RunContext {
  // One per node input: the tensor (logical type and shape; the bytes are in the planned layout). Empty
  // for an omitted input.
  std::span<const Tensor> inputs;
  // One per node output: memory of the planned size and layout to write. Only the reference fallback of a
  // node whose output shapes are not static gets empty tensors here, and replaces them with its results.
  std::span<Tensor> outputs;
  void* scratch = nullptr;  // Kernel::scratch_bytes() bytes, 64-byte aligned, private to this run
  dnnl::stream* stream = nullptr;
  graph::KernelEnv* env = nullptr;  // for operators with subgraphs
};

// Per-request mutable state of a kernel.
class KernelState {
 public:
  virtual ~KernelState() = default;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // The implementation, for profiling: "brgconv:avx512_core", "sluice:binary", "ref".
  virtual std::string impl_name() const = 0;
  virtual size_t scratch_bytes() const { return 0; }
  // A pure view (Reshape, Flatten, Squeeze, Unsqueeze, Identity): output 0 is input 0's bytes under
  // another shape; run() is never called.
  virtual bool is_view() const { return false; }
  // The input whose memory output 0 may reuse when that input is not needed afterwards (elementwise
  // kernels that can run in place, convolution with a residual sum), or -1.
  virtual int inplace_input() const { return -1; }
  virtual std::unique_ptr<KernelState> make_state() const { return nullptr; }
  virtual void run(RunContext& ctx, KernelState* state) const = 0;
};

// Returns a kernel for this node and these shapes, or nullptr when the case is not handled.
using KernelFactory = std::function<std::unique_ptr<Kernel>(PlanContext&)>;

struct KernelEntry {
  KernelFactory factory;
  // Whether the factory takes blocked inputs: a oneDNN kernel reorders what it needs itself. The planner
  // reorders blocked inputs to plain before any other kernel.
  bool accepts_blocked = false;
};

// Kernels by (domain, op_type), tried in registration order. Filled once, then read-only.
class KernelRegistry {
 public:
  static const KernelRegistry& instance();
  void add(const std::string& domain, const std::string& op_type, KernelEntry entry);
  const std::vector<KernelEntry>* find(const std::string& domain, const std::string& op_type) const;

 private:
  std::unordered_map<std::string, std::vector<KernelEntry>> entries_;  // key: domain + "::" + op_type
};

// Registration entry points, one per kernel family (src/devices/cpu/kernels_*.cpp).
void register_dnnl_kernels(KernelRegistry& registry);
void register_elementwise_kernels(KernelRegistry& registry);
void register_data_movement_kernels(KernelRegistry& registry);
void register_attention_kernels(KernelRegistry& registry);

// Runs `fn(begin, end)` over [0, n), split into contiguous chunks of at least `grain` items across the
// calling thread's OpenMP team: the device's one threading runtime, shared with oneDNN. Runs inline when
// one chunk suffices. Allocates nothing.
template <class F> void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  const int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  const int threads = static_cast<int>(std::min<int64_t>(omp_get_max_threads(), max_chunks));
  if (threads <= 1 || omp_in_parallel()) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t nt = omp_get_num_threads();
    const int64_t begin = n * t / nt;
    const int64_t end = n * (t + 1) / nt;
    if (begin < end) fn(begin, end);
  }
}

// Runs a oneDNN primitive with arguments prepared once (args_of): dnnl::primitive::execute would build a
// new argument vector on every call.
std::vector<dnnl_exec_arg_t> args_of(const std::unordered_map<int, dnnl::memory>& args);
void execute(const dnnl::primitive& primitive, const dnnl::stream& stream,
             const std::vector<dnnl_exec_arg_t>& args);

// oneDNN's data type for an element type; throws for types oneDNN does not have.
dnnl::memory::data_type dnnl_type(ElementType type);
// The plain row-major descriptor of a value.
dnnl::memory::desc plain_md(ElementType type, const Shape& shape);

}  // namespace sluice::cpu
