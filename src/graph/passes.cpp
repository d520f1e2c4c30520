#include "graph/passes.hpp"

#include <algorithm>

#include "graph/op_registry.hpp"

namespace sluice::graph {

namespace {

bool has_subgraph(const Node& node) {
  for (const auto& [attr, value] : node.attributes) {
    if (std::holds_alternative<GraphPtr>(value) || std::holds_alternative<std::vector<GraphPtr>>(value)) {
      return true;
    }
  }
  return false;
}

bool is_graph_output(const Graph& g, const Value* v) {
  return std::find(g.outputs().begin(), g.outputs().end(), v) != g.outputs().end();
}

bool is_nondeterministic(const Node& node) {
  static const std::set<std::string> random_ops = {"RandomNormal",      "RandomUniform", "RandomNormalLike",
                                                   "RandomUniformLike", "Multinomial",   "Bernoulli"};
  return node.domain.empty() && random_ops.count(node.op_type);
}

// A folded constant kernel cannot call subgraphs.
class NoSubgraphs : public KernelEnv {
 public:
  std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>&) override {
    throw_error("constant folding cannot run subgraph '", body.name, "'");
  }
};

}  // namespace

bool ShapeInferencePass::apply_impl(Graph& graph) {
  for (const auto& node : graph.nodes()) {
    if (node->schema) infer_node(*node);
  }
  return false;
}

bool RemoveIdentityPass::apply_impl(Graph& graph) {
  bool changed = false;
  std::vector<Node*> removable;
  for (const auto& node : graph.nodes()) {
    if (!node->domain.empty() || node->inputs.empty() || !node->inputs[0]) continue;
    const bool identity = node->op_type == "Identity";
    // Dropout is the identity at inference unless training_mode is a constant true (opset >= 12), or a
    // ratio > 0 is used in training; the mask output must be unused.
    bool dropout = node->op_type == "Dropout" && !node->has_output(1);
    if (dropout && node->has_input(2)) {
      const Value* training = node->inputs[2];
      dropout = training->is_constant() && training->constant.size() == 1 &&
                !*static_cast<const bool*>(training->constant.data());
    }
    if ((identity || dropout) && node->outputs.size() >= 1 && node->outputs[0])
      removable.push_back(node.get());
  }
  std::set<std::string> names_used_by_subgraphs;
  for (const auto& node : graph.nodes()) names_used_by_subgraphs.merge(subgraph_outer_names(*node));
  for (Node* node : removable) {
    Value* in = node->inputs[0];
    Value* out = node->outputs[0];
    if (is_graph_output(graph, out)) {
      // The output's name is what users see: keep the node when its input is itself visible by name.
      const bool in_visible =
          in->is_graph_input || in->outer || in->is_constant() || is_graph_output(graph, in) || !in->producer;
      if (in_visible) continue;
      // `in` would take the output's name: only when no subgraph refers to `in` by name.
      if (names_used_by_subgraphs.count(in->name)) continue;
      in->name = out->name;
    }
    graph.replace_uses(out, in);
    graph.remove_node(node);
    changed = true;
  }
  if (changed) graph.remove_unused_values();
  return changed;
}

bool ShapeFoldingPass::apply_impl(Graph& graph) {
  bool changed = false;
  std::vector<Node*> folded;
  for (const auto& node : graph.nodes()) {
    if (!node->domain.empty() || !node->has_input(0) || !node->has_output(0)) continue;
    const PartialShape& shape = node->inputs[0]->shape;
    if (!shape.rank_known()) continue;
    const int64_t rank = shape.rank();
    Tensor value;
    if (node->op_type == "Shape") {
      int64_t start = node->attr_int("start", 0);
      int64_t end = node->attr_int("end", rank);
      if (start < 0) start += rank;
      if (end < 0) end += rank;
      start = std::clamp<int64_t>(start, 0, rank);
      end = std::clamp<int64_t>(end, 0, rank);
      std::vector<int64_t> dims;
      bool known = true;
      for (int64_t d = start; d < end; ++d) {
        known = known && shape[static_cast<size_t>(d)].is_static();
        dims.push_back(shape[static_cast<size_t>(d)].extent());
      }
      if (!known) continue;
      value = Tensor::from<int64_t>({static_cast<int64_t>(dims.size())}, std::span<const int64_t>(dims));
    } else if (node->op_type == "Size") {
      if (!shape.is_static()) continue;
      value = Tensor::scalar<int64_t>(shape_size(shape.to_shape()));
    } else {
      continue;
    }
    Value* out = node->outputs[0];
    out->constant = value;
    out->type = ElementType::i64;
    out->shape = PartialShape(value.shape());
    folded.push_back(node.get());
  }
  for (Node* node : folded) {
    graph.remove_node(node);
    changed = true;
  }
  return changed;
}

bool ConstantFoldingPass::apply_impl(Graph& graph) {
  NoSubgraphs env;
  std::vector<Node*> folded;
  for (const auto& node : graph.nodes()) {
    if (!node->schema || !node->schema->reference || has_subgraph(*node) || is_nondeterministic(*node))
      continue;
    // A constant is a tensor: sequences and optionals (which may hold nothing) are computed at run time.
    if (std::any_of(node->outputs.begin(), node->outputs.end(),
                    [](const Value* out) { return out && !out->kind.is_tensor(); })) {
      continue;
    }
    bool all_constant = true;
    std::vector<Tensor> args;
    for (const Value* in : node->inputs) {
      if (in && !in->is_constant()) all_constant = false;
      args.push_back(in ? in->constant : Tensor());
    }
    if (!all_constant) continue;
    std::vector<Tensor> results = node->schema->reference(*node, args, env);
    for (size_t o = 0; o < node->outputs.size(); ++o) {
      Value* out = node->outputs[o];
      if (!out) continue;
      SLUICE_CHECK(o < results.size() && !results[o].empty(), node->describe(),
                   ": constant folding produced no output ", o);
      out->constant = results[o];
      out->type = results[o].type();
      out->shape = PartialShape(results[o].shape());
    }
    folded.push_back(node.get());
  }
  for (Node* node : folded) graph.remove_node(node);
  return !folded.empty();
}

bool DeadCodeEliminationPass::apply_impl(Graph& graph) {
  bool changed = false;
  for (;;) {
    const auto uses = graph.use_counts();
    std::vector<Node*> dead;
    for (const auto& node : graph.nodes()) {
      bool used = false;
      for (const Value* out : node->outputs) used = used || (out && uses.count(out));
      if (!used) dead.push_back(node.get());
    }
    if (dead.empty()) break;
    for (Node* node : dead) graph.remove_node(node);
    changed = true;
  }
  const size_t before = graph.values().size();
  graph.remove_unused_values();
  return changed || graph.values().size() != before;
}

void PassManager::run(Graph& graph, const std::set<std::string>& disabled, int max_rounds) const {
  const auto known = names();
  for (const auto& name : disabled) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw_error("DISABLED_PASSES: unknown pass '", name, "'; passes: ", list);
    }
  }
  for (int round = 0; round < max_rounds; ++round) {
    bool changed = false;
    for (const auto& pass : passes_) {
      if (disabled.count(pass->name())) continue;
      changed = pass->apply(graph) || changed;
    }
    if (!changed) break;
  }
}

std::vector<std::string> PassManager::names() const {
  std::vector<std::string> out;
  for (const auto& pass : passes_) out.push_back(pass->name());
  return out;
}

PassManager default_pass_manager() {
  PassManager pm;
  pm.add(std::make_unique<ShapeInferencePass>());
  pm.add(std::make_unique<RemoveIdentityPass>());
  pm.add(std::make_unique<ShapeFoldingPass>());
  pm.add(std::make_unique<ConstantFoldingPass>());
  pm.add(std::make_unique<DeadCodeEliminationPass>());
  return pm;
}

}  // namespace sluice::graph
