// Graph passes and the pass manager. Each pass has a name by which it can be switched off
// (the DISABLED_PASSES property, or PassManager::run's `disabled`).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace sluice::graph {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string name() const = 0;
  // Applies the pass; returns whether the graph changed.
  bool apply(Graph& graph) { return apply_impl(graph); }

 private:
  virtual bool apply_impl(Graph& graph) = 0;
};

// Infers every value's type and shape from the graph inputs, node by node (operators must be resolved).
class ShapeInferencePass : public Pass {
 public:
  std::string name() const override { return "shape_inference"; }

 private:
  bool apply_impl(Graph& graph) override;
};

// Removes Identity nodes and inference-mode Dropout nodes whose mask is unused.
class RemoveIdentityPass : public Pass {
 public:
  std::string name() const override { return "remove_identity"; }

 private:
  bool apply_impl(Graph& graph) override;
};

// Replaces Shape and Size of values whose shape is static (at least over the selected dims) by constants.
class ShapeFoldingPass : public Pass {
 public:
  std::string name() const override { return "shape_folding"; }

 private:
  bool apply_impl(Graph& graph) override;
};

// Evaluates nodes whose inputs are all constants with their reference kernels (deterministic operators
// without subgraphs only) and replaces their outputs by constants.
class ConstantFoldingPass : public Pass {
 public:
  std::string name() const override { return "constant_folding"; }

 private:
  bool apply_impl(Graph& graph) override;
};

// Removes nodes none of whose outputs are used, and values nothing uses.
class DeadCodeEliminationPass : public Pass {
 public:
  std::string name() const override { return "dead_code_elimination"; }

 private:
  bool apply_impl(Graph& graph) override;
};

class PassManager {
 public:
  void add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  // Runs the passes in order, skipping those named in `disabled`, repeating the sequence until nothing
  // changes (at most `max_rounds` times: a chain of shape computations can need one round per reshape that
  // depends on an earlier one, as in every layer of a transformer). Throws if `disabled` names an unknown
  // pass.
  void run(Graph& graph, const std::set<std::string>& disabled, int max_rounds = 100) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
};

// The standard pipeline: shape inference, identity removal, shape folding, constant folding, dead-code
// elimination.
PassManager default_pass_manager();

}  // namespace sluice::graph
