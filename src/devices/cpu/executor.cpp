#include "devices/cpu/executor.hpp"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstring>
#include <set>
#include <unordered_map>

#include "devices/cpu/fusion.hpp"
#include "graph/passes.hpp"

namespace sluice::cpu {

using graph::Graph;
using graph::Node;
using graph::Value;

namespace {

// Where a value's bytes live during a run.
enum class SlotKind {
  Constant,  // a weight: the constant's own memory
  Input,     // a graph input: the caller's tensor
  Arena,     // an intermediate value at a planned offset of the request's arena
  Heap,      // produced by a reference kernel, which allocates it
  Output,    // a graph output: the request's output tensor, or the one the caller bound
};

// The reference kernel of a node: the fallback for whatever no CPU kernel takes. Its outputs are the
// tensors it allocates (Heap slots).
class RefKernel final : public Kernel {
 public:
  explicit RefKernel(const Node& node) : node_(node) {}
  std::string impl_name() const override { return "ref"; }
  void run(RunContext& ctx, KernelState*) const override {
    std::vector<Tensor> results = node_.schema->reference(node_, ctx.inputs, *ctx.env);
    SLUICE_CHECK(results.size() >= ctx.outputs.size() ||
                     results.size() == static_cast<size_t>(node_.schema->min_outputs),
                 "the kernel produced ", results.size(), " outputs; expected ", ctx.outputs.size());
    for (size_t o = 0; o < ctx.outputs.size(); ++o) {
      if (!node_.has_output(o)) continue;
      // An optional output may be absent (an empty tensor); any other must be produced.
      SLUICE_CHECK(o < results.size() && (!results[o].empty() || node_.outputs[o]->kind.optional), "output ",
                   o, " was not produced");
      ctx.outputs[o] = std::move(results[o]);
    }
  }

 private:
  const Node& node_;
};

// Copies a plain value's bytes (a view of a value that is not in the arena, or a graph output that
// another value already holds).
class CopyKernel final : public Kernel {
 public:
  std::string impl_name() const override { return "sluice:copy"; }
  void run(RunContext& ctx, KernelState*) const override {
    const Tensor& in = ctx.inputs[0];
    if (in.byte_size() > 0 && in.data() != ctx.outputs[0].data()) {
      std::memcpy(ctx.outputs[0].data(), in.data(), in.byte_size());
    }
  }
};

// Converts between two layouts (and element types) with a oneDNN reorder.
class ReorderKernel final : public Kernel {
 public:
  ReorderKernel(const dnnl::engine& engine, const dnnl::memory::desc& from, const dnnl::memory::desc& to)
      : engine_(engine),
        from_(from),
        to_(to),
        reorder_(dnnl::reorder::primitive_desc(engine, from, engine, to)) {}
  std::string impl_name() const override { return "reorder"; }

  struct State : KernelState {
    dnnl::memory src, dst;
    std::vector<dnnl_exec_arg_t> args;
  };
  std::unique_ptr<KernelState> make_state() const override {
    auto s = std::make_unique<State>();
    s->src = dnnl::memory(from_, engine_, nullptr);
    s->dst = dnnl::memory(to_, engine_, nullptr);
    s->args = args_of({{DNNL_ARG_FROM, s->src}, {DNNL_ARG_TO, s->dst}});
    return s;
  }
  void run(RunContext& ctx, KernelState* state) const override {
    auto& s = static_cast<State&>(*state);
    s.src.set_data_handle(ctx.inputs[0].data());
    s.dst.set_data_handle(ctx.outputs[0].data());
    execute(reorder_, *ctx.stream, s.args);
  }

 private:
  dnnl::engine engine_;
  dnnl::memory::desc from_, to_;
  dnnl::reorder reorder_;
};

bool has_subgraphs(const Node& node) {
  for (const auto& [name, attr] : node.attributes) {
    if (std::holds_alternative<graph::GraphPtr>(attr) ||
        std::holds_alternative<std::vector<graph::GraphPtr>>(attr)) {
      return true;
    }
  }
  return false;
}

// A value the planner can give a place in the arena: a plain tensor of fixed-size elements and static
// shape. Everything else (sequences, optionals, strings, data-dependent shapes) lives in Heap slots that
// the reference kernels fill.
bool is_static(const Value* v) {
  return v->type != ElementType::undefined && v->type != ElementType::string && v->kind.is_tensor() &&
         v->shape.is_static();
}

constexpr size_t arena_alignment = 64;

size_t align_up(size_t n) { return (n + arena_alignment - 1) / arena_alignment * arena_alignment; }

}  // namespace

struct Slot {
  SlotKind kind = SlotKind::Arena;
  std::string name;
  ValueInfo info;
  bool dynamic = false;  // shape known only at run time (Heap slots of data-dependent values)
  int buffer = -1;       // Arena: the arena buffer it lives in (views share their source's)
  int index = -1;        // Input / Output: the graph input / output index
};

struct ArenaBuffer {
  size_t bytes = 0;
  int first = 0;  // step that writes it first
  int last = 0;   // step that reads it last
  size_t offset = 0;
};

struct Step {
  std::string name;
  std::string op_type;
  const Node* node = nullptr;  // null for inserted reorders and copies
  std::unique_ptr<Kernel> kernel;
  std::vector<int> in;   // slots; -1 for an omitted input
  std::vector<int> out;  // slots; -1 for an omitted output
  int scratch = -1;      // arena buffer of the kernel's scratch
  bool heap_outputs = false;
  std::vector<int> release;  // Heap slots whose last reader this step is
};

struct Plan {
  std::shared_ptr<Graph> graph;  // specialized to the signature; the steps' nodes live here
  std::unique_ptr<runtime::Interpreter> interpreter;  // runs subgraphs of reference nodes (If, Loop, Scan)
  std::vector<Slot> slots;
  std::vector<ArenaBuffer> buffers;
  std::vector<Step> steps;
  std::vector<int> input_slots;
  std::vector<int> output_slots;
  std::unordered_map<std::string, int> slot_by_name;  // for subgraphs' outer references (plain slots)
  std::vector<Tensor> constants;                      // per slot: the constant's tensor, or empty
  size_t arena_bytes = 0;
};

namespace {

// Builds a Plan from a specialized graph: kernels, layouts, memory.
class Planner {
 public:
  Planner(Plan& plan, const CpuConfig& config, const dnnl::engine& engine, WeightCache& weights)
      : plan_(plan), config_(config), engine_(engine), weights_(weights) {}

  void build() {
    const Graph& g = *plan_.graph;
    count_uses(g);
    for (size_t i = 0; i < g.inputs().size(); ++i) {
      const Value* v = g.inputs()[i];
      const int s = new_slot(SlotKind::Input, v->name, info_of(v));
      plan_.slots[s].index = static_cast<int>(i);
      plan_.input_slots.push_back(s);
      slot_of_[v] = s;
    }
    for (const auto& v : g.values()) {
      if (v->is_constant()) {
        ValueInfo info = info_of(v.get());
        const int s = new_slot(SlotKind::Constant, v->name, info);
        plan_.constants[s] = v->constant;
        slot_of_[v.get()] = s;
      }
    }
    for (size_t i = 0; i < g.outputs().size(); ++i)
      output_index_.emplace(g.outputs()[i], static_cast<int>(i));
    for (const auto& node : g.nodes()) plan_node(*node);
    plan_outputs(g);
    for (const auto& [name, s] : plain_by_name_) plan_.slot_by_name[name] = s;
    if (std::any_of(g.nodes().begin(), g.nodes().end(), [](const auto& n) { return has_subgraphs(*n); })) {
      plan_.interpreter = std::make_unique<runtime::Interpreter>(plan_.graph);
    }
    assign_offsets();
  }

 private:
  void count_uses(const Graph& g) {
    for (const auto& node : g.nodes()) {
      for (const Value* in : node->inputs) {
        if (in) ++uses_[in];
      }
      for (const std::string& name : graph::subgraph_outer_names(*node)) {
        if (const Value* v = g.find_value(name)) ++uses_[v];
      }
    }
    for (const Value* out : g.outputs()) uses_[out] += 1 << 20;  // alive to the end
  }

  ValueInfo info_of(const Value* v) const {
    ValueInfo info;
    info.type = v->type;
    if (v->shape.is_static()) info.shape = v->shape.to_shape();
    if (v->is_constant()) info.constant = &v->constant;
    return info;
  }

  int new_slot(SlotKind kind, std::string name, ValueInfo info) {
    Slot slot;
    slot.kind = kind;
    slot.name = std::move(name);
    slot.info = std::move(info);
    plan_.slots.push_back(std::move(slot));
    plan_.constants.emplace_back();
    return static_cast<int>(plan_.slots.size()) - 1;
  }

  int new_arena_slot(const std::string& name, const ValueInfo& info) {
    const int s = new_slot(SlotKind::Arena, name, info);
    plan_.slots[s].buffer = new_buffer(info.bytes());
    return s;
  }

  int new_buffer(size_t bytes) {
    ArenaBuffer b;
    b.bytes = bytes;
    b.first = b.last = static_cast<int>(plan_.steps.size());
    plan_.buffers.push_back(b);
    return static_cast<int>(plan_.buffers.size()) - 1;
  }

  int add_step(Step step) {
    const int index = static_cast<int>(plan_.steps.size());
    for (int s : step.in) touch(s, index);
    for (int s : step.out) touch(s, index);
    if (step.kernel && step.kernel->scratch_bytes() > 0) {
      step.scratch = new_buffer(step.kernel->scratch_bytes());
      plan_.buffers[step.scratch].first = plan_.buffers[step.scratch].last = index;
    }
    plan_.steps.push_back(std::move(step));
    return index;
  }

  void touch(int s, int step) {
    if (s < 0) return;
    const Slot& slot = plan_.slots[s];
    if (slot.kind == SlotKind::Arena) {
      ArenaBuffer& b = plan_.buffers[slot.buffer];
      b.first = std::min(b.first, step);
      b.last = std::max(b.last, step);
    }
  }

  // A plain version of slot `s`: itself, or a reorder of it made once and shared by every consumer.
  int plain_slot(int s) {
    if (!plan_.slots[s].info.blocked()) return s;
    auto it = plain_of_.find(s);
    if (it != plain_of_.end()) return it->second;
    const Slot src = plan_.slots[s];  // a copy: new_arena_slot below may move the slots
    ValueInfo info = src.info;
    info.md = dnnl::memory::desc();
    const int p = new_arena_slot(src.name, info);
    Step step;
    step.name = src.name + "/reorder_plain";
    step.op_type = "Reorder";
    step.kernel = std::make_unique<ReorderKernel>(engine_, src.info.md, plain_md(info.type, info.shape));
    step.in = {s};
    step.out = {p};
    add_step(std::move(step));
    plain_of_[s] = p;
    return p;
  }

  bool node_is_static(const Node& node) const {
    for (const Value* v : node.inputs) {
      if (v && !is_static(v)) return false;
      if (v && slot_of_.count(v) && plan_.slots[slot_of_.at(v)].dynamic) return false;
    }
    for (const Value* v : node.outputs) {
      if (v && !is_static(v)) return false;
    }
    return !has_subgraphs(node);
  }

  void plan_node(const Node& node) {
    std::vector<int> in_slots;
    for (const Value* v : node.inputs) {
      if (!v) {
        in_slots.push_back(-1);
        continue;
      }
      auto it = slot_of_.find(v);
      SLUICE_CHECK(it != slot_of_.end(), node.describe(), ": input '", v->name,
                   "' is not computed before it");
      in_slots.push_back(it->second);
    }
    std::unique_ptr<Kernel> kernel;
    std::vector<ValueInfo> out_infos;
    bool accepts_blocked = false;
    if (node_is_static(node)) {
      kernel = choose_kernel(node, in_slots, out_infos, accepts_blocked);
    }
    if (!kernel) {
      plan_reference(node, in_slots);
    } else if (kernel->is_view()) {
      plan_view(node, in_slots[0], std::move(kernel), out_infos[0]);
    } else {
      if (!accepts_blocked) {
        for (int& s : in_slots) {
          if (s >= 0) s = plain_slot(s);
        }
      }
      plan_kernel(node, in_slots, std::move(kernel), out_infos);
    }
    release_inputs(node);
  }

  // Tries the node's CPU kernels in registration order.
  std::unique_ptr<Kernel> choose_kernel(const Node& node, const std::vector<int>& in_slots,
                                        std::vector<ValueInfo>& out_infos, bool& accepts_blocked) {
    const auto* entries = KernelRegistry::instance().find(node.domain, node.op_type);
    if (!entries) return nullptr;
    for (const KernelEntry& entry : *entries) {
      PlanContext ctx{node, {}, {}, config_, engine_, weights_};
      for (int s : in_slots) {
        ValueInfo info = s >= 0 ? plan_.slots[s].info : ValueInfo();
        if (!entry.accepts_blocked) info.md = dnnl::memory::desc();
        ctx.inputs.push_back(info);
      }
      for (const Value* v : node.outputs) ctx.outputs.push_back(v ? info_of(v) : ValueInfo());
      for (auto& o : ctx.outputs) o.constant = nullptr;
      std::unique_ptr<Kernel> kernel;
      try {
        kernel = entry.factory(ctx);
      } catch (const Error& e) {
        throw Error(node.describe() + ": " + e.what());
      } catch (const dnnl::error& e) {
        kernel = nullptr;  // oneDNN has no implementation for this case: try the next kernel
      }
      if (kernel) {
        out_infos = std::move(ctx.outputs);
        accepts_blocked = entry.accepts_blocked;
        return kernel;
      }
    }
    return nullptr;
  }

  void plan_reference(const Node& node, std::vector<int> in_slots) {
    for (int& s : in_slots) {
      if (s >= 0) s = plain_slot(s);
    }
    // Subgraphs read outer values by name: they must be plain too, and live until this step is done.
    std::vector<int> outer_slots;
    for (const std::string& name : graph::subgraph_outer_names(node)) {
      if (const Value* v = plan_.graph->find_value(name); v && slot_of_.count(v)) {
        plain_by_name_[name] = plain_slot(slot_of_.at(v));
        outer_slots.push_back(plain_by_name_[name]);
      }
    }
    Step step;
    step.name = node.name;
    step.op_type = node.op_type;
    step.node = &node;
    step.kernel = std::make_unique<RefKernel>(node);
    step.heap_outputs = true;
    step.in = in_slots;
    for (const Value* v : node.outputs) {
      if (!v) {
        step.out.push_back(-1);
        continue;
      }
      const int s = new_slot(SlotKind::Heap, v->name, info_of(v));
      plan_.slots[s].dynamic = !is_static(v);
      slot_of_[v] = s;
      plain_by_name_[v->name] = s;
      step.out.push_back(s);
    }
    const int index = add_step(std::move(step));
    for (int s : outer_slots) touch(s, index);
  }

  void plan_view(const Node& node, int in_slot, std::unique_ptr<Kernel> kernel, const ValueInfo& out_info) {
    const Value* out = node.outputs[0];
    const int src = plain_slot(in_slot);
    if (plan_.slots[src].kind == SlotKind::Arena && !output_index_.count(out)) {
      const int s = new_slot(SlotKind::Arena, out->name, out_info);
      plan_.slots[s].buffer = plan_.slots[src].buffer;
      slot_of_[out] = s;
      plain_by_name_[out->name] = s;
      values_in_buffer_[plan_.slots[s].buffer].push_back(out);
      return;
    }
    // The source is not in the arena (a graph input, a constant, a reference kernel's result) or the view
    // is a graph output: copy the bytes.
    Step step;
    step.name = node.name;
    step.op_type = node.op_type;
    step.node = &node;
    step.kernel = std::make_unique<CopyKernel>();
    step.in = {src};
    step.out = {output_slot_for(out, out_info)};
    add_step(std::move(step));
  }

  // The slot a kernel writes value `v` into: the graph output's tensor when `v` is a graph output (and
  // plain), else a new arena buffer.
  int output_slot_for(const Value* v, const ValueInfo& info) {
    auto it = output_index_.find(v);
    int s;
    if (it != output_index_.end() && !info.blocked() && !claimed_outputs_.count(it->second)) {
      s = new_slot(SlotKind::Output, v->name, info);
      plan_.slots[s].index = it->second;
      claimed_outputs_.insert(it->second);
    } else {
      s = new_arena_slot(v->name, info);
      values_in_buffer_[plan_.slots[s].buffer].push_back(v);
    }
    slot_of_[v] = s;
    if (!info.blocked()) plain_by_name_[v->name] = s;
    return s;
  }

  void plan_kernel(const Node& node, const std::vector<int>& in_slots, std::unique_ptr<Kernel> kernel,
                   const std::vector<ValueInfo>& out_infos) {
    Step step;
    step.name = node.name;
    step.op_type = node.op_type;
    step.node = &node;
    step.in = in_slots;
    const int inplace = kernel->inplace_input();
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const Value* v = node.outputs[o];
      if (!v) {
        step.out.push_back(-1);
        continue;
      }
      if (o == 0 && inplace >= 0 && can_reuse(node, in_slots, inplace, out_infos[0]) &&
          !output_index_.count(v)) {
        const int s = new_slot(SlotKind::Arena, v->name, out_infos[0]);
        plan_.slots[s].buffer = plan_.slots[in_slots[inplace]].buffer;
        values_in_buffer_[plan_.slots[s].buffer].push_back(v);
        slot_of_[v] = s;
        if (!out_infos[0].blocked()) plain_by_name_[v->name] = s;
        step.out.push_back(s);
        continue;
      }
      step.out.push_back(output_slot_for(v, out_infos[o]));
    }
    step.kernel = std::move(kernel);
    add_step(std::move(step));
  }

  // Whether output 0 may take the buffer of input `k`: it is an arena buffer of the same size that no
  // later step reads (every value living in it has its last use here).
  bool can_reuse(const Node& node, const std::vector<int>& in_slots, int k, const ValueInfo& out) const {
    if (k >= static_cast<int>(in_slots.size()) || in_slots[k] < 0 || !node.inputs[k]) return false;
    const Slot& in = plan_.slots[in_slots[k]];
    if (in.kind != SlotKind::Arena || plan_.buffers[in.buffer].bytes != out.bytes()) return false;
    // The value read must be the node's own input value (not a reorder of it made for this node).
    const auto direct = slot_of_.find(node.inputs[k]);
    if (direct == slot_of_.end() || direct->second != in_slots[k]) return false;
    const auto values = values_in_buffer_.find(in.buffer);
    if (values == values_in_buffer_.end()) return false;
    for (const Value* value : values->second) {
      int pending = remaining(value);
      for (const Value* i : node.inputs) pending -= (i == value) ? 1 : 0;
      if (pending > 0) return false;
    }
    return true;
  }

  int remaining(const Value* v) const {
    auto it = uses_.find(v);
    return it == uses_.end() ? 0 : it->second;
  }

  void release_inputs(const Node& node) {
    for (const Value* v : node.inputs) {
      if (v) --uses_[v];
    }
    for (const std::string& name : graph::subgraph_outer_names(node)) {
      if (const Value* v = plan_.graph->find_value(name)) --uses_[v];
    }
    // Heap values nothing reads any more are dropped after this step.
    const int step = static_cast<int>(plan_.steps.size()) - 1;
    for (const Value* v : node.inputs) {
      if (!v || remaining(v) != 0) continue;
      const int s = slot_of_.at(v);
      if (plan_.slots[s].kind == SlotKind::Heap && step >= 0) {
        auto& rel = plan_.steps[step].release;
        if (std::find(rel.begin(), rel.end(), s) == rel.end()) rel.push_back(s);
      }
    }
  }

  void plan_outputs(const Graph& g) {
    for (size_t i = 0; i < g.outputs().size(); ++i) {
      const Value* v = g.outputs()[i];
      auto it = slot_of_.find(v);
      SLUICE_CHECK(it != slot_of_.end(), "graph output '", v->name, "' is not computed");
      const Slot slot = plan_.slots[it->second];  // a copy: new_slot below may move the slots
      if ((slot.kind == SlotKind::Output && slot.index == static_cast<int>(i)) ||
          slot.kind == SlotKind::Heap) {
        plan_.output_slots.push_back(it->second);
        continue;
      }
      // Copy (or reorder) into the output's own tensor.
      ValueInfo info = slot.info;
      info.md = dnnl::memory::desc();
      info.constant = nullptr;
      const int out = new_slot(SlotKind::Output, v->name, info);
      plan_.slots[out].index = static_cast<int>(i);
      Step step;
      step.name = v->name + "/output";
      step.in = {it->second};
      step.out = {out};
      if (slot.info.blocked()) {
        step.op_type = "Reorder";
        step.kernel = std::make_unique<ReorderKernel>(engine_, slot.info.md, plain_md(info.type, info.shape));
      } else {
        step.op_type = "Copy";
        step.kernel = std::make_unique<CopyKernel>();
      }
      add_step(std::move(step));
      plan_.output_slots.push_back(out);
    }
  }

  // First fit by decreasing size: each buffer goes at the lowest offset where it overlaps no placed
  // buffer whose lifetime overlaps its own.
  void assign_offsets() {
    std::vector<int> order(plan_.buffers.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return plan_.buffers[a].bytes > plan_.buffers[b].bytes; });
    std::vector<int> placed;
    size_t total = 0;
    for (int b : order) {
      ArenaBuffer& buf = plan_.buffers[b];
      std::vector<std::pair<size_t, size_t>> taken;
      for (int p : placed) {
        const ArenaBuffer& o = plan_.buffers[p];
        if (o.first <= buf.last && buf.first <= o.last)
          taken.emplace_back(o.offset, o.offset + align_up(o.bytes));
      }
      std::sort(taken.begin(), taken.end());
      size_t offset = 0;
      for (const auto& [lo, hi] : taken) {
        if (offset + align_up(buf.bytes) <= lo) break;
        offset = std::max(offset, hi);
      }
      buf.offset = offset;
      total = std::max(total, offset + align_up(buf.bytes));
      placed.push_back(b);
    }
    plan_.arena_bytes = total;
  }

  Plan& plan_;
  const CpuConfig& config_;
  const dnnl::engine& engine_;
  WeightCache& weights_;
  std::unordered_map<const Value*, int> slot_of_;
  std::unordered_map<const Value*, int> uses_;  // remaining uses while walking the nodes
  std::unordered_map<const Value*, int> output_index_;
  std::set<int> claimed_outputs_;
  std::unordered_map<int, int> plain_of_;
  std::unordered_map<int, std::vector<const Value*>> values_in_buffer_;  // arena buffer -> values in it
  std::unordered_map<std::string, int> plain_by_name_;
};

}  // namespace

// A request's state for one plan: its arena, a tensor per slot, and per step the argument tensors and the
// kernel's state.
struct Executor::Request::Binding {
  std::shared_ptr<const Plan> plan;
  std::unique_ptr<std::byte[]> arena_storage;
  std::byte* arena = nullptr;
  std::vector<Tensor> slots;
  std::vector<std::vector<Tensor>> step_in;
  std::vector<std::vector<Tensor>> step_out;
  std::vector<std::unique_ptr<KernelState>> states;
  dnnl::stream stream;
};

Executor::Request::Request() = default;
Executor::Request::~Request() = default;

namespace {

// Runs a reference kernel's subgraphs with the interpreter, reading outer values from the plan's slots.
class SubgraphEnv final : public graph::KernelEnv {
 public:
  SubgraphEnv(const Plan& plan, const std::vector<Tensor>& slots) : plan_(plan), slots_(slots) {}
  std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) override {
    SLUICE_CHECK(plan_.interpreter != nullptr, "subgraph '", body.name,
                 "' is not part of the compiled graph");
    return plan_.interpreter->run_subgraph(body, inputs, [this](const std::string& name) {
      auto it = plan_.slot_by_name.find(name);
      return it == plan_.slot_by_name.end() ? Tensor() : slots_[it->second];
    });
  }

 private:
  const Plan& plan_;
  const std::vector<Tensor>& slots_;
};

std::unique_ptr<Executor::Request::Binding> bind(std::shared_ptr<const Plan> plan,
                                                 const dnnl::engine& engine) {
  auto b = std::make_unique<Executor::Request::Binding>();
  b->plan = plan;
  b->arena_storage.reset(new std::byte[plan->arena_bytes + arena_alignment]);
  b->arena = reinterpret_cast<std::byte*>(
      (reinterpret_cast<uintptr_t>(b->arena_storage.get()) + arena_alignment - 1) & ~(arena_alignment - 1));
  b->slots.resize(plan->slots.size());
  for (size_t s = 0; s < plan->slots.size(); ++s) {
    const Slot& slot = plan->slots[s];
    if (slot.kind == SlotKind::Constant) {
      b->slots[s] = plan->constants[s];
    } else if (slot.kind == SlotKind::Arena) {
      b->slots[s] = Tensor(slot.info.type, slot.info.shape, b->arena + plan->buffers[slot.buffer].offset);
    }
  }
  for (const Step& step : plan->steps) {
    b->step_in.emplace_back(step.in.size());
    b->step_out.emplace_back(step.out.size());
    b->states.push_back(step.kernel->make_state());
  }
  b->stream = dnnl::stream(engine);
  return b;
}

}  // namespace

Executor::Executor(std::shared_ptr<Graph> graph, CpuConfig config, std::set<std::string> disabled_passes,
                   size_t max_plans)
    : graph_(std::move(graph)),
      config_(config),
      disabled_passes_(std::move(disabled_passes)),
      max_plans_(std::max<size_t>(max_plans, 1)) {}

Executor::~Executor() = default;

std::shared_ptr<const Plan> Executor::make_plan(const std::vector<Shape>& input_shapes) const {
  auto plan = std::make_shared<Plan>();
  plan->graph = graph_->clone();
  Graph& g = *plan->graph;
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    if (g.inputs()[i]->kind.is_tensor()) g.inputs()[i]->shape = PartialShape(input_shapes[i]);
  }
  // Shape inference walks the nodes in order: fusions may have appended nodes after their consumers.
  g.topological_sort();
  optimize_for_cpu(g, disabled_passes_);
  g.topological_sort();
  Planner(*plan, config_, engine_, weights_).build();
  return plan;
}

std::shared_ptr<const Plan> Executor::plan_for(const std::vector<Shape>& input_shapes) const {
  {
    std::lock_guard lock(cache_mutex_);
    auto it = plans_.find(input_shapes);
    if (it != plans_.end()) {
      lru_.remove(input_shapes);
      lru_.push_front(input_shapes);
      return it->second;
    }
  }
  std::lock_guard planning(plan_mutex_);
  {
    std::lock_guard lock(cache_mutex_);  // another thread may have made it meanwhile
    auto it = plans_.find(input_shapes);
    if (it != plans_.end()) return it->second;
  }
  std::shared_ptr<const Plan> plan = make_plan(input_shapes);
  std::lock_guard lock(cache_mutex_);
  plans_[input_shapes] = plan;
  lru_.push_front(input_shapes);
  while (plans_.size() > max_plans_) {
    plans_.erase(lru_.back());
    lru_.pop_back();
  }
  return plan;
}

size_t Executor::arena_bytes() const {
  std::lock_guard lock(cache_mutex_);
  size_t most = 0;
  for (const auto& [shapes, plan] : plans_) most = std::max(most, plan->arena_bytes);
  return most;
}

std::vector<std::string> Executor::execution_kernels() const {
  std::lock_guard lock(cache_mutex_);
  std::vector<std::string> kernels;
  if (lru_.empty()) return kernels;
  for (const Step& step : plans_.at(lru_.front())->steps) {
    if (step.node) kernels.push_back(step.name + " (" + step.op_type + "): " + step.kernel->impl_name());
  }
  return kernels;
}

void apply_thread_config(const ThreadConfig& threads) {
  const int n = std::clamp(threads.num_threads, 1, omp_get_thread_limit());
  omp_set_num_threads(n);
  thread_local std::vector<int> pinned;
  if (threads.cores.empty() || threads.cores == pinned) return;
  const std::vector<int>& cores = threads.cores;
#pragma omp parallel num_threads(n)
  {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cores[static_cast<size_t>(omp_get_thread_num()) % cores.size()], &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
  pinned = cores;
}

namespace {

// The caller's tensor for an output of this type and shape: `storage` itself when it already is one
// (steady state: no allocation), else a new one put there.
const Tensor& output_storage(Tensor& storage, const ValueInfo& info) {
  if (storage.type() != info.type || storage.shape() != info.shape) storage = Tensor(info.type, info.shape);
  return storage;
}

// The shape a plan is specialized to for an input: the tensor's, or for a sequence or optional input
// (whose value the plan does not specialize to) a marker that no tensor has.
Shape plan_shape(const Value* input, const Tensor& value) {
  return input->kind.is_tensor() ? value.shape() : Shape{-1};
}

// Whether the inputs have the shapes the plan was made for.
bool same_shapes(const Plan& plan, const std::vector<Tensor>& inputs) {
  if (inputs.size() != plan.input_slots.size()) return false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value* input = plan.graph->inputs()[i];
    if (input->kind.is_tensor() && inputs[i].shape() != plan.slots[plan.input_slots[i]].info.shape)
      return false;
  }
  return true;
}

}  // namespace

void Executor::run(Request& request, const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
                   std::vector<Tensor>& storage, std::vector<Tensor>& outputs, const ThreadConfig& threads,
                   std::vector<ProfilingInfo>* profile, const std::atomic<bool>* cancel) const {
  apply_thread_config(threads);
  if (!request.last_ || !same_shapes(*request.last_->plan, inputs)) {
    std::vector<Shape> shapes;
    shapes.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size() && i < graph_->inputs().size(); ++i) {
      shapes.push_back(plan_shape(graph_->inputs()[i], inputs[i]));
    }
    std::shared_ptr<const Plan> plan = plan_for(shapes);
    auto& binding = request.bindings_[plan.get()];
    if (!binding) {
      // Forget bindings of plans the cache has dropped, then bind this one.
      std::erase_if(request.plans_, [&](const std::shared_ptr<const Plan>& p) {
        if (p.use_count() > 1) return false;  // still cached (the cache holds another reference)
        request.bindings_.erase(p.get());
        return true;
      });
      binding = bind(plan, engine_);
      request.plans_.push_back(plan);
    }
    request.last_ = binding.get();
  }
  Request::Binding& b = *request.last_;
  const std::shared_ptr<const Plan>& plan = b.plan;
  for (size_t i = 0; i < plan->input_slots.size(); ++i) b.slots[plan->input_slots[i]] = inputs[i];
  SLUICE_CHECK(preset.size() == plan->output_slots.size(), "the model has ", plan->output_slots.size(),
               " outputs; ", preset.size(), " were given");
  outputs.resize(plan->output_slots.size());
  storage.resize(plan->output_slots.size());
  for (size_t i = 0; i < plan->output_slots.size(); ++i) {
    const Slot& slot = plan->slots[plan->output_slots[i]];
    if (slot.kind != SlotKind::Output) continue;
    if (preset[i]) {
      // A bound tensor must hold exactly this result: kernels write the planned shape into it.
      SLUICE_CHECK(preset[i].type() == slot.info.type && preset[i].shape() == slot.info.shape, "output '",
                   slot.name, "': the tensor set for it has type ", to_string(preset[i].type()),
                   " and shape ", to_string(preset[i].shape()), " but this inference produces ",
                   to_string(slot.info.type), " ", to_string(slot.info.shape));
      b.slots[plan->output_slots[i]] = preset[i];
    } else {
      b.slots[plan->output_slots[i]] = output_storage(storage[i], slot.info);
    }
  }
  SubgraphEnv env(*plan, b.slots);
  for (size_t n = 0; n < plan->steps.size(); ++n) {
    const Step& step = plan->steps[n];
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      throw InferCancelled("the inference was cancelled while it ran, before " +
                           (step.node ? step.node->describe() : "step '" + step.name + "'"));
    }
    auto& in = b.step_in[n];
    auto& out = b.step_out[n];
    // Copy-assigning a handle into one of the same rank reuses its storage: no allocation.
    for (size_t i = 0; i < step.in.size(); ++i) {
      if (step.in[i] >= 0) in[i] = b.slots[step.in[i]];
    }
    for (size_t o = 0; o < step.out.size(); ++o) {
      if (step.out[o] >= 0 && !step.heap_outputs) out[o] = b.slots[step.out[o]];
    }
    RunContext ctx{in, out, step.scratch >= 0 ? b.arena + plan->buffers[step.scratch].offset : nullptr,
                   &b.stream, &env};
    const auto start = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    try {
      step.kernel->run(ctx, b.states[n].get());
    } catch (const Error& e) {
      const std::string what = e.what();
      const std::string who = step.node ? step.node->describe() : "step '" + step.name + "'";
      if (what.find(who) != std::string::npos) throw;
      throw Error(who + ": " + what);
    } catch (const dnnl::error& e) {
      throw Error((step.node ? step.node->describe() : step.name) + ": oneDNN: " + e.what());
    } catch (const std::bad_alloc&) {
      throw Error((step.node ? step.node->describe() : step.name) + ": out of memory");
    }
    if (profile) {
      const auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
      profile->push_back({step.name, step.op_type, step.kernel->impl_name(), us.count()});
    }
    if (step.heap_outputs) {
      for (size_t o = 0; o < step.out.size(); ++o) {
        if (step.out[o] >= 0) b.slots[step.out[o]] = std::move(out[o]);
      }
    }
    for (int s : step.release) b.slots[s] = Tensor();
    for (size_t i = 0; i < step.in.size(); ++i) {
      // Drop this step's handles on reference kernels' results so that their memory goes with the slot.
      if (step.in[i] >= 0 && plan->slots[step.in[i]].kind == SlotKind::Heap) in[i] = Tensor();
    }
  }
  for (size_t i = 0; i < plan->output_slots.size(); ++i) {
    const int s = plan->output_slots[i];
    const SlotKind kind = plan->slots[s].kind;
    if (kind == SlotKind::Constant || kind == SlotKind::Input) {
      // A weight or the caller's input is the result: copied, so that writing the output changes neither.
      const Tensor& value = b.slots[s];
      if (value.empty() || value.is_sequence()) {
        outputs[i] = value;  // an absent optional, or a sequence (its items are never written)
        continue;
      }
      if (!plan->graph->outputs()[i]->kind.is_tensor()) {
        outputs[i] = value.clone();  // a present optional: the plan has no shape of its own for it
        continue;
      }
      outputs[i] = preset[i] ? preset[i] : output_storage(storage[i], plan->slots[s].info);
      const Tensor& out = outputs[i];
      SLUICE_CHECK(out.shape() == value.shape(), "output '", plan->slots[s].name, "' has shape ",
                   to_string(value.shape()), " but the bound output tensor has shape ",
                   to_string(out.shape()));
      value.copy_to(out);
      continue;
    }
    if (kind != SlotKind::Heap) {
      outputs[i] = b.slots[s];
      continue;
    }
    // A reference kernel's result: handed over as it is, or copied into the bound tensor.
    Tensor t = std::move(b.slots[s]);
    b.slots[s] = Tensor();
    if (preset[i] && !t.empty() && !t.is_sequence()) {
      SLUICE_CHECK(preset[i].shape() == t.shape(), "output '", plan->slots[s].name, "' has shape ",
                   to_string(t.shape()), " but the bound output tensor has shape ",
                   to_string(preset[i].shape()));
      t.copy_to(preset[i]);
      outputs[i] = preset[i];
    } else {
      outputs[i] = std::move(t);
    }
  }
}

}  // namespace sluice::cpu
