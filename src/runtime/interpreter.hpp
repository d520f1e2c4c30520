// Runs a graph node by node with the reference kernels, on one thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "sluice/infer_request.hpp"
#include "sluice/tensor.hpp"

namespace sluice::runtime {

// Immutable after construction: run() keeps all its state on the stack, so one interpreter can serve
// many requests, from many threads at once. Holds the graph alive.
class Interpreter {
 public:
  // The graph's operators must be resolved (Graph::resolve_operators).
  explicit Interpreter(std::shared_ptr<const graph::Graph> graph);
  ~Interpreter();

  // Runs the graph on inputs given in graph-input order; returns the outputs in graph-output order.
  // With `profile`, appends one record per executed top-level node. Throws sluice::Error naming the node
  // that failed, or sluice::InferCancelled when `cancel` is set before a top-level node.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, std::vector<ProfilingInfo>* profile = nullptr,
                          const std::atomic<bool>* cancel = nullptr) const;

  // Runs one subgraph of the graph (an If branch, a Loop or Scan body, at any depth) on its inputs, for
  // an executor that runs the main graph itself: `outer` returns the value of an enclosing graph's value
  // by name (an empty Tensor when it has none).
  std::vector<Tensor> run_subgraph(const graph::Graph& body, const std::vector<Tensor>& inputs,
                                   const std::function<Tensor(const std::string&)>& outer) const;

  // The execution plan of one graph (the main graph or a subgraph): slots for every value, the constant
  // values, and when each slot can be released.
  struct Plan;

 private:
  std::shared_ptr<const graph::Graph> graph_;
  std::map<const graph::Graph*, std::unique_ptr<Plan>> plans_;  // main graph and every subgraph
  friend class Frame;
};

}  // namespace sluice::runtime
