#include "runtime/interpreter.hpp"

#include <chrono>
#include <unordered_map>

#include "graph/op_registry.hpp"

namespace sluice::runtime {

using graph::Graph;
using graph::Node;
using graph::Value;

struct Interpreter::Plan {
  const Graph* graph = nullptr;
  std::unordered_map<const Value*, size_t> slot_of;
  std::unordered_map<std::string, size_t> slot_of_name;
  std::vector<Tensor> constants;                   // per slot: the constant's tensor, or empty
  std::vector<std::vector<size_t>> release_after;  // per node: slots whose last use it is
  std::vector<size_t> input_slots;
  std::vector<size_t> output_slots;
  std::vector<std::pair<size_t, std::string>> outer_slots;  // outer values: slot, name
};

namespace {

void build_plans(const Graph& g, std::map<const Graph*, std::unique_ptr<Interpreter::Plan>>& plans);

std::unique_ptr<Interpreter::Plan> make_plan(const Graph& g) {
  auto plan = std::make_unique<Interpreter::Plan>();
  plan->graph = &g;
  for (const auto& v : g.values()) {
    const size_t slot = plan->constants.size();
    plan->slot_of[v.get()] = slot;
    plan->slot_of_name[v->name] = slot;
    plan->constants.push_back(v->constant);
    if (v->outer) plan->outer_slots.emplace_back(slot, v->name);
  }
  for (const Value* v : g.inputs()) plan->input_slots.push_back(plan->slot_of.at(v));
  for (const Value* v : g.outputs()) plan->output_slots.push_back(plan->slot_of.at(v));
  // A slot is released after its last use unless it is a constant, an input or an output of the graph.
  std::vector<int> last_use(plan->constants.size(), -1);
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const Value* in : nodes[i]->inputs) {
      if (in) last_use[plan->slot_of.at(in)] = static_cast<int>(i);
    }
    // Subgraphs (at any depth) read values of this graph by name: keep those alive until this node is done.
    for (const std::string& name : subgraph_outer_names(*nodes[i])) {
      auto it = plan->slot_of_name.find(name);
      if (it != plan->slot_of_name.end()) last_use[it->second] = static_cast<int>(i);
    }
  }
  for (size_t s : plan->output_slots) last_use[s] = -1;
  plan->release_after.resize(nodes.size());
  for (size_t slot = 0; slot < last_use.size(); ++slot) {
    if (last_use[slot] >= 0 && plan->constants[slot].empty()) {
      plan->release_after[static_cast<size_t>(last_use[slot])].push_back(slot);
    }
  }
  return plan;
}

void build_plans(const Graph& g, std::map<const Graph*, std::unique_ptr<Interpreter::Plan>>& plans) {
  plans[&g] = make_plan(g);
  for (const auto& node : g.nodes()) {
    SLUICE_CHECK(node->schema != nullptr && node->schema->reference, node->describe(),
                 ": no reference kernel");
    for (const auto& [attr, value] : node->attributes) {
      if (auto* sub = std::get_if<graph::GraphPtr>(&value)) {
        if (*sub) build_plans(**sub, plans);
      } else if (auto* subs = std::get_if<std::vector<graph::GraphPtr>>(&value)) {
        for (const auto& s : *subs) {
          if (s) build_plans(*s, plans);
        }
      }
    }
  }
}

}  // namespace

// The live values of one execution of one graph, chained to the frame of the enclosing graph so that a
// subgraph can read outer values by name. Lives on the stack of run() / run_subgraph().
class Frame : public graph::KernelEnv {
 public:
  Frame(const Interpreter& interp, const Interpreter::Plan& plan, const Frame* parent,
        const std::function<Tensor(const std::string&)>* outer = nullptr)
      : interp_(interp), plan_(plan), parent_(parent), outer_(outer), slots_(plan.constants) {
    for (const auto& [slot, name] : plan.outer_slots) slots_[slot] = parent_lookup(name);
  }

  std::vector<Tensor> execute(const std::vector<Tensor>& inputs, std::vector<ProfilingInfo>* profile,
                              const std::atomic<bool>* cancel = nullptr) {
    const Graph& g = *plan_.graph;
    SLUICE_CHECK(inputs.size() == plan_.input_slots.size(), "graph '", g.name, "' takes ",
                 plan_.input_slots.size(), " inputs, got ", inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) slots_[plan_.input_slots[i]] = inputs[i];
    const auto& nodes = g.nodes();
    std::vector<Tensor> args;
    for (size_t n = 0; n < nodes.size(); ++n) {
      const Node& node = *nodes[n];
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        throw InferCancelled("the inference was cancelled while it ran, before " + node.describe());
      }
      args.clear();
      for (const Value* in : node.inputs) args.push_back(in ? slots_[plan_.slot_of.at(in)] : Tensor());
      const auto start = std::chrono::steady_clock::now();
      std::vector<Tensor> results = run_node(node, args);
      if (profile) {
        const auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
        profile->push_back({node.name, node.op_type, "ref", us.count()});
      }
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        if (node.outputs[o]) slots_[plan_.slot_of.at(node.outputs[o])] = std::move(results[o]);
      }
      for (size_t slot : plan_.release_after[n]) slots_[slot] = Tensor();
    }
    std::vector<Tensor> outputs;
    outputs.reserve(plan_.output_slots.size());
    for (size_t i = 0; i < plan_.output_slots.size(); ++i) {
      Tensor t = slots_[plan_.output_slots[i]];
      SLUICE_CHECK(!t.empty() || g.outputs()[i]->kind.optional, "graph '", g.name, "': output '",
                   g.outputs()[i]->name, "' was not computed");
      outputs.push_back(std::move(t));
    }
    return outputs;
  }

  std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) override {
    auto it = interp_.plans_.find(&body);
    SLUICE_CHECK(it != interp_.plans_.end(), "subgraph '", body.name, "' is not part of the compiled graph");
    Frame frame(interp_, *it->second, this);
    return frame.execute(inputs, nullptr);
  }

 private:
  std::vector<Tensor> run_node(const Node& node, const std::vector<Tensor>& args) {
    std::vector<Tensor> results;
    try {
      results = node.schema->reference(node, args, *this);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.find(node.describe()) != std::string::npos) throw;
      throw Error(node.describe() + ": " + what);
    } catch (const std::bad_alloc&) {
      throw Error(node.describe() + ": out of memory");
    } catch (const std::exception& e) {
      throw Error(node.describe() + ": " + e.what());
    }
    SLUICE_CHECK(results.size() >= node.outputs.size() ||
                     results.size() == static_cast<size_t>(node.schema->min_outputs),
                 node.describe(), ": the kernel produced ", results.size(), " outputs; expected ",
                 node.outputs.size());
    results.resize(node.outputs.size());
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      // An optional output may be absent (an empty tensor); any other must be produced.
      SLUICE_CHECK(!node.outputs[o] || !results[o].empty() || node.outputs[o]->kind.optional, node.describe(),
                   ": output ", o, " was not produced");
    }
    return results;
  }

  Tensor parent_lookup(const std::string& name) const {
    for (const Frame* f = parent_; f; f = f->parent_) {
      auto it = f->plan_.slot_of_name.find(name);
      if (it != f->plan_.slot_of_name.end() && !f->slots_[it->second].empty()) return f->slots_[it->second];
    }
    for (const Frame* f = this; f; f = f->parent_) {
      if (!f->outer_) continue;
      Tensor t = (*f->outer_)(name);
      if (!t.empty()) return t;
    }
    throw_error("subgraph '", plan_.graph->name, "': outer value '", name, "' is not available");
  }

  const Interpreter& interp_;
  const Interpreter::Plan& plan_;
  const Frame* parent_;
  const std::function<Tensor(const std::string&)>* outer_;  // the root frame's outer scope, if any
  std::vector<Tensor> slots_;
};

Interpreter::Interpreter(std::shared_ptr<const Graph> graph) : graph_(std::move(graph)) {
  build_plans(*graph_, plans_);
}

Interpreter::~Interpreter() = default;

std::vector<Tensor> Interpreter::run(const std::vector<Tensor>& inputs, std::vector<ProfilingInfo>* profile,
                                     const std::atomic<bool>* cancel) const {
  Frame frame(*this, *plans_.at(graph_.get()), nullptr);
  return frame.execute(inputs, profile, cancel);
}

std::vector<Tensor> Interpreter::run_subgraph(const Graph& body, const std::vector<Tensor>& inputs,
                                              const std::function<Tensor(const std::string&)>& outer) const {
  auto it = plans_.find(&body);
  SLUICE_CHECK(it != plans_.end(), "subgraph '", body.name, "' is not part of the compiled graph");
  Frame frame(*this, *it->second, nullptr, &outer);
  return frame.execute(inputs, nullptr);
}

}  // namespace sluice::runtime
