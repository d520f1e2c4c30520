// The CPU device's execution engine.
//
//   compile  Executor::Executor: the fused graph (symbolic shapes), shared by everything below.
//   plan     once per input-shape signature (Executor::plan_for, cached, LRU-bounded): the graph
//            specialized to those shapes, one kernel per node (oneDNN, own, or the reference kernel),
//            layouts negotiated with reorders inserted where a consumer needs another, and a static
//            memory plan: every intermediate value and every kernel's scratch at an offset in one arena,
//            buffers reused by liveness and in place where a kernel allows it.
//   bind     once per request and plan (Request): the request's arena, tensor views into it, kernel
//            states. Steady-state inference allocates nothing on the heap unless the graph has values
//            whose shapes depend on data (those run on reference kernels that allocate).
//   run      Executor::run on the calling thread and its OpenMP team.
//
// Thread-safety: an Executor is shared by every request of a compiled model; plan_for and run may be
// called from many threads at once (the plan cache is guarded by cache_mutex_). A Request is used by one
// thread at a time.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "devices/cpu/kernel.hpp"
#include "graph/graph.hpp"
#include "runtime/interpreter.hpp"
#include "sluice/infer_request.hpp"

namespace sluice::cpu {

// Where a request runs: how many threads of the calling thread's OpenMP team, and optionally which
// cores they are pinned to (one per thread, in order). An empty `cores` leaves placement to the OS.
struct ThreadConfig {
  int num_threads = 1;
  std::vector<int> cores;
};

struct Plan;

class Executor {
 public:
  // `graph`: resolved, optimized (default passes and CPU fusions). Each plan runs the passes again on the
  // graph specialized to its shapes (static shapes fold every shape computation and let fusions through
  // that symbolic dims blocked), except those named in `disabled_passes`. `max_plans` bounds the plan cache.
  Executor(std::shared_ptr<graph::Graph> graph, CpuConfig config, std::set<std::string> disabled_passes = {},
           size_t max_plans = 16);
  ~Executor();

  // The bound state (arenas, views, kernel states) per plan of whoever runs inferences with it: a stream
  // of the CPU device (each stream has one, and runs one inference at a time on it).
  class Request {
   public:
    Request();
    ~Request();

    struct Binding;  // defined in executor.cpp

   private:
    friend class Executor;
    std::map<const Plan*, std::unique_ptr<Binding>> bindings_;  // only for plans still cached
    std::vector<std::shared_ptr<const Plan>> plans_;            // keeps bound plans alive
    Binding* last_ = nullptr;                                   // the binding of the last run
  };

  // Runs one inference. `inputs` in graph-input order; `preset[i]`, when not empty, is the tensor to
  // write output i into (it must have the type and shape this inference produces). `storage` holds the
  // caller's own output tensors (one per graph output, reused when their type and shape fit, replaced
  // otherwise): results that are not preset go there, so that they outlive the next run on `request`.
  // `outputs` (one per graph output) receives the results: preset or storage tensors, or tensors that
  // reference kernels allocated. Throws sluice::Error naming the node that failed, or
  // sluice::InferCancelled when `cancel` is set before a step. Allocates nothing once `request` and
  // `storage` have run with these input shapes (the plan's reference kernels aside).
  void run(Request& request, const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
           std::vector<Tensor>& storage, std::vector<Tensor>& outputs, const ThreadConfig& threads,
           std::vector<ProfilingInfo>* profile, const std::atomic<bool>* cancel = nullptr) const;

  // The plan for these input shapes, made and cached on first use (on the calling thread's team).
  std::shared_ptr<const Plan> plan_for(const std::vector<Shape>& input_shapes) const;

  size_t weight_bytes() const { return weights_.bytes(); }
  // The largest arena of the cached plans (bytes per request).
  size_t arena_bytes() const;
  // The kernel of each planned node of the most recently used plan, "NODE (OP_TYPE): IMPL" in step order
  // (IMPL as the profile's exec type: "ref" is the reference-kernel fallback); inserted reorders and
  // copies are left out. Empty before the first plan.
  std::vector<std::string> execution_kernels() const;

 private:
  std::shared_ptr<const Plan> make_plan(const std::vector<Shape>& input_shapes) const;

  std::shared_ptr<graph::Graph> graph_;
  CpuConfig config_;
  std::set<std::string> disabled_passes_;
  size_t max_plans_;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  mutable WeightCache weights_;
  mutable std::mutex cache_mutex_;  // guards plans_ and lru_
  mutable std::map<std::vector<Shape>, std::shared_ptr<const Plan>> plans_;
  mutable std::list<std::vector<Shape>> lru_;  // most recently used first
  mutable std::mutex plan_mutex_;              // one plan is made at a time
};

// Pins the calling thread's OpenMP team to `threads.cores` and sets its size, once per change.
void apply_thread_config(const ThreadConfig& threads);

}  // namespace sluice::cpu
