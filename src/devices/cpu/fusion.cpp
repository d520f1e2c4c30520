#include "devices/cpu/fusion.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <optional>
#include <set>

#include "graph/op_registry.hpp"
#include "ops/common.hpp"
#include "ops/nn_common.hpp"
#include "ops/post_ops.hpp"

namespace sluice::cpu {

namespace {

using graph::AttributeValue;
using graph::Graph;
using graph::Node;
using graph::Value;
using ops::PostOp;
using ops::PostOpKind;

constexpr const char* sluice_domain = "com.sluice";
constexpr int64_t sluice_version = 1;
constexpr int64_t gelu_version = 20;
constexpr int64_t layer_norm_version = 17;

// ---- Matching helpers ---------------------------------------------------------------------------------

bool is_onnx(const Node* node, const char* op) { return node && node->domain.empty() && node->op_type == op; }
bool is_sluice(const Node* node, const char* op) {
  return node && node->domain == sluice_domain && node->op_type == op;
}

bool is_float_type(ElementType type) { return is_floating(type); }

// The value of a one-element numeric constant.
std::optional<double> scalar_constant(const Value* v) {
  if (!v || !v->is_constant() || v->constant.size() != 1) return std::nullopt;
  const ElementType type = v->constant.type();
  if (type == ElementType::boolean || type == ElementType::undefined) {
    return std::nullopt;
  }
  return ops::element_as_double(v->constant, 0);
}

bool near(double value, double expected, double rtol = 1e-4) {
  return std::fabs(value - expected) <= rtol * std::fabs(expected) + 1e-12;
}

// Two dims certainly equal: both static and equal, or both dynamic with the same (non-empty) symbol.
bool same_dim(const Dimension& a, const Dimension& b) {
  if (a.is_static() || b.is_static()) return a.is_static() && b.is_static() && a.extent() == b.extent();
  return !a.symbol().empty() && a.symbol() == b.symbol();
}

// Whether `operand`, the other input of an elementwise op on `result`'s producer output, leaves `result`'s
// shape unchanged when broadcast against it (numpy rules, unidirectionally). Per aligned dim: operand
// extent 1, or dims certainly equal, or a static result extent other than 1 (the op being valid, the operand
// is then 1 or equal). Both dims dynamic is also accepted: shape inference loses the batch symbol through
// Reshape and Gather, and a dynamic dim that is 1 on one side only would broadcast a batch, which the fused
// operators' shape inference and kernels reject with an error instead of computing something else.
bool fits_into(const PartialShape& operand, const PartialShape& result) {
  if (!operand.rank_known() || !result.rank_known() || operand.rank() > result.rank()) return false;
  const size_t offset = result.dims().size() - operand.dims().size();
  for (size_t i = 0; i < operand.dims().size(); ++i) {
    const Dimension& o = operand[i];
    const Dimension& r = result[offset + i];
    const bool ok = (o.is_static() && o.extent() == 1) || same_dim(o, r) ||
                    (r.is_static() && r.extent() != 1) || (o.is_dynamic() && r.is_dynamic());
    if (!ok) return false;
  }
  return true;
}

// A computed operand of a binary post-op: of the result's rank and with no visible broadcast (a residual).
bool same_shape(const PartialShape& operand, const PartialShape& result) {
  if (!fits_into(operand, result) || operand.rank() != result.rank()) return false;
  for (size_t i = 0; i < operand.dims().size(); ++i) {
    const Dimension& o = operand[i];
    const Dimension& r = result[i];
    if (o.is_static() && o.extent() == 1 && !(r.is_static() && r.extent() == 1)) return false;
  }
  return true;
}

// fits_into for a constant operand: its static dims must certainly not broadcast `result`.
bool broadcasts_into(const PartialShape& small, const PartialShape& big) {
  if (!small.rank_known() || !big.rank_known() || small.rank() > big.rank()) return false;
  const size_t offset = big.dims().size() - small.dims().size();
  for (size_t i = 0; i < small.dims().size(); ++i) {
    const Dimension& s = small[i];
    if (s.is_static() && s.extent() == 1) continue;
    if (!same_dim(s, big[offset + i])) return false;
  }
  return true;
}

// A one-element constant that combines with x elementwise without changing x's shape.
std::optional<double> scalar_operand(const Value* c, const Value* x) {
  auto value = scalar_constant(c);
  if (!value || !broadcasts_into(PartialShape(c->constant.shape()), x->shape)) return std::nullopt;
  return value;
}

// For a two-input node that takes v, its other input (v itself when both are v); nullptr otherwise.
Value* other_input(const Node* node, const Value* v) {
  if (!node || node->inputs.size() != 2 || !node->inputs[0] || !node->inputs[1]) return nullptr;
  if (node->inputs[0] == v) return node->inputs[1];
  if (node->inputs[1] == v) return node->inputs[0];
  return nullptr;
}

bool single_output(const Node* node) {
  return node && node->outputs.size() == 1 && node->outputs[0] != nullptr;
}

// The last axis of x when `axes` names exactly it.
bool is_last_axis(const std::vector<int64_t>& axes, const Value* x) {
  if (axes.size() != 1 || !x->shape.rank_known()) return false;
  const int64_t rank = x->shape.rank();
  return axes[0] == -1 || axes[0] == rank - 1;
}

// ReduceMean over the last axis only, keeping dims (axes as the attribute, or as a constant input from
// opset 18).
bool is_last_axis_mean(const Node* node) {
  if (!is_onnx(node, "ReduceMean") || !single_output(node) || !node->has_input(0)) return false;
  if (node->attr_int("keepdims", 1) != 1) return false;
  std::vector<int64_t> axes;
  if (node->has_input(1)) {
    if (!node->inputs[1]->is_constant()) return false;
    axes = ops::to_int64s(node->inputs[1]->constant);
  } else {
    axes = node->attr_ints("axes", {});
  }
  return is_last_axis(axes, node->inputs[0]);
}

// ---- Rewriter: the use index of one sweep over a graph ------------------------------------------------
//
// Rewrites replace a set of nodes by one new node that produces the last node's output value. The replaced
// nodes stay in the graph, marked dead, until finish(), so that pointers seen during the sweep stay valid;
// the use counts and consumer lists are kept current as nodes are replaced.

class Rewriter {
 public:
  explicit Rewriter(Graph& graph) : graph_(graph) {
    for (const auto& [value, count] : graph.use_counts()) uses_[value] = count;
    for (const auto& node : graph.nodes()) {
      snapshot_.push_back(node.get());
      for (Value* in : node->inputs) {
        if (in) consumers_[in].push_back(node.get());
      }
    }
    outputs_.insert(graph.outputs().begin(), graph.outputs().end());
  }

  Graph& graph() { return graph_; }
  // The nodes at the start of the sweep (skip the dead ones).
  const std::vector<Node*>& nodes() const { return snapshot_; }
  bool dead(const Node* node) const { return dead_.count(node) != 0; }

  int uses(const Value* v) const {
    auto it = uses_.find(v);
    return it == uses_.end() ? 0 : it->second;
  }
  bool is_output(const Value* v) const { return outputs_.count(v) != 0; }
  // The distinct live nodes that take v as an input.
  std::vector<Node*> consumers(const Value* v) const {
    std::vector<Node*> out;
    auto it = consumers_.find(v);
    if (it == consumers_.end()) return out;
    for (Node* n : it->second) {
      if (!dead(n) && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    return out;
  }
  // The node that uses v, when v has exactly one use (by one input of one node) and is not a graph output:
  // the condition for fusing v away.
  Node* sole_consumer(const Value* v) const {
    if (!v || is_output(v) || uses(v) != 1) return nullptr;
    const auto nodes = consumers(v);
    return nodes.size() == 1 ? nodes[0] : nullptr;
  }
  // v's producer while it is live.
  Node* producer(const Value* v) const {
    return v && v->producer && !dead(v->producer) ? v->producer : nullptr;
  }

  // A new constant value with a name not used in the graph.
  Value* add_constant(const std::string& base, Tensor value) {
    added_constants_ = true;
    std::string name = base;
    for (int i = 1; graph_.find_value(name); ++i) name = base + "_" + std::to_string(i);
    Value* v = graph_.add_value(name);
    v->type = value.type();
    v->shape = PartialShape(value.shape());
    v->constant = std::move(value);
    return v;
  }

  struct NewNode {
    std::string op_type;
    std::string domain;
    int64_t version = 0;
    std::vector<Value*> inputs;
    Value* output = nullptr;  // the output of the last replaced node
    std::string name;
    std::map<std::string, AttributeValue> attributes;
  };

  // Replaces `old_nodes` by a new node. The new node's schema is resolved and its shape inference must
  // accept it and agree with the output's known type and shape; otherwise nothing changes and nullptr is
  // returned.
  Node* replace(const std::vector<Node*>& old_nodes, NewNode spec) {
    const graph::OpSchema* schema =
        graph::OpRegistry::instance().find(spec.domain, spec.op_type, spec.version);
    if (!schema) return nullptr;
    Value* out = spec.output;
    Node* const saved_producer = out->producer;
    const int saved_index = out->producer_output;
    const ElementType saved_type = out->type;
    const PartialShape saved_shape = out->shape;
    Node* node = graph_.add_node(spec.op_type, spec.domain, spec.inputs, {out}, spec.name);
    node->opset_version = spec.version;
    node->schema = schema;
    node->attributes = std::move(spec.attributes);
    bool ok = true;
    try {
      graph::infer_node(*node);
      ok = out->type == saved_type && compatible(out->shape, saved_shape);
    } catch (const Error&) {
      ok = false;
    }
    // The shape found before fusing may know more (symbols, broadcast extents): keep it.
    out->type = saved_type;
    if (saved_shape.rank_known() || !ok) out->shape = saved_shape;
    if (!ok) {
      graph_.remove_node(node);
      out->producer = saved_producer;
      out->producer_output = saved_index;
      return nullptr;
    }
    if (spec.domain == sluice_domain && !graph_.opset_imports.count(sluice_domain)) {
      graph_.opset_imports[sluice_domain] = sluice_version;
    }
    for (Node* old : old_nodes) {
      dead_.insert(old);
      for (Value* in : old->inputs) {
        if (in) --uses_[in];
      }
    }
    for (Value* in : node->inputs) {
      if (!in) continue;
      ++uses_[in];
      consumers_[in].push_back(node);
    }
    changed_ = true;
    return node;
  }

  // Removes the replaced nodes and what became unused, and restores a topological order. Returns whether
  // anything changed.
  bool finish() {
    if (!changed_) {
      // Constants made for a pattern that was then left alone.
      if (added_constants_) graph_.remove_unused_values();
      return false;
    }
    for (const Node* node : dead_) graph_.remove_node(const_cast<Node*>(node));
    graph_.topological_sort();
    graph::DeadCodeEliminationPass().apply(graph_);
    return true;
  }

 private:
  static bool compatible(const PartialShape& inferred, const PartialShape& known) {
    if (!inferred.rank_known() || !known.rank_known()) return true;
    if (inferred.rank() != known.rank()) return false;
    for (size_t i = 0; i < known.dims().size(); ++i) {
      if (inferred[i].is_static() && known[i].is_static() && inferred[i].extent() != known[i].extent()) {
        return false;
      }
    }
    return true;
  }

  Graph& graph_;
  std::vector<Node*> snapshot_;
  std::set<const Node*> dead_;
  std::map<const Value*, int> uses_;
  std::map<const Value*, std::vector<Node*>> consumers_;
  std::set<const Value*> outputs_;
  bool changed_ = false;
  bool added_constants_ = false;
};

// Runs sweeps of `match` (called on every live node of the sweep's snapshot; returns whether it rewrote)
// until one changes nothing.
template <class F> bool run_sweeps(Graph& graph, F&& match) {
  bool changed = false;
  for (int sweep = 0; sweep < 16; ++sweep) {
    Rewriter rw(graph);
    for (Node* node : rw.nodes()) {
      if (!rw.dead(node)) match(rw, node);
    }
    if (!rw.finish()) break;
    changed = true;
  }
  return changed;
}

// ---- Post-op chains (fuse_conv, fuse_matmul) ---------------------------------------------------------

struct Chain {
  Value* out = nullptr;  // the value the chain ends in
  std::vector<PostOp> post_ops;
  std::vector<Value*> extras;  // inputs of the binary post-ops, in order
  std::vector<Node*> nodes;    // the absorbed nodes
};

// The post-op that a one-input activation node computes, if it is one.
std::optional<PostOp> activation_post_op(const Node* node) {
  if (!node || !node->domain.empty() || !single_output(node) || !node->has_input(0)) return std::nullopt;
  const std::string& op = node->op_type;
  if (op == "Relu") return PostOp{PostOpKind::Relu};
  if (op == "Sigmoid") return PostOp{PostOpKind::Sigmoid};
  if (op == "Tanh") return PostOp{PostOpKind::Tanh};
  if (op == "HardSwish") return PostOp{PostOpKind::HardSwish};
  if (op == "LeakyRelu") return PostOp{PostOpKind::LeakyRelu, node->attr_float("alpha", 0.01f)};
  if (op == "Elu") return PostOp{PostOpKind::Elu, node->attr_float("alpha", 1.0f)};
  if (op == "HardSigmoid") {
    return PostOp{PostOpKind::HardSigmoid, node->attr_float("alpha", 0.2f), node->attr_float("beta", 0.5f)};
  }
  if (op == "Gelu") {
    const std::string approximate = node->attr_string("approximate", "none");
    if (approximate == "none") return PostOp{PostOpKind::Gelu};
    if (approximate == "tanh") return PostOp{PostOpKind::GeluTanh};
    return std::nullopt;
  }
  if (op == "Clip") {
    float lo = -std::numeric_limits<float>::infinity();
    float hi = std::numeric_limits<float>::infinity();
    if (node->opset_version < 11) {
      lo = node->attr_float("min", lo);
      hi = node->attr_float("max", hi);
    } else {
      for (size_t i = 1; i < 3; ++i) {
        if (!node->has_input(i)) continue;
        const auto bound = scalar_constant(node->inputs[i]);
        if (!bound) return std::nullopt;
        (i == 1 ? lo : hi) = static_cast<float>(*bound);
      }
    }
    return PostOp{PostOpKind::Clip, lo, hi};
  }
  return std::nullopt;
}

// Extends the chain by one step from chain.out when possible.
bool absorb_step(const Rewriter& rw, Chain& chain) {
  Value* cur = chain.out;
  if (Node* next = rw.sole_consumer(cur)) {
    if (auto op = activation_post_op(next)) {
      chain.post_ops.push_back(*op);
      chain.nodes.push_back(next);
      chain.out = next->outputs[0];
      return true;
    }
    const bool add = is_onnx(next, "Add");
    if ((add || is_onnx(next, "Mul")) && single_output(next)) {
      Value* other = other_input(next, cur);
      if (!other || other == cur || other->type != cur->type) return false;
      // A constant must broadcast into the result; a computed tensor (a residual) must have its shape (as
      // far as shape inference tells, see same_shape), which keeps the kernels' binary post-ops simple.
      const bool ok = other->is_constant() ? broadcasts_into(other->shape, cur->shape)
                                           : add && same_shape(other->shape, cur->shape);
      if (!ok) return false;
      chain.post_ops.push_back(PostOp{add ? PostOpKind::Add : PostOpKind::Mul});
      chain.extras.push_back(other);
      chain.nodes.push_back(next);
      chain.out = next->outputs[0];
      return true;
    }
    return false;
  }
  // x * Sigmoid(x) (SiLU): x's two uses are the Sigmoid and the Mul.
  if (rw.is_output(cur) || rw.uses(cur) != 2) return false;
  const auto users = rw.consumers(cur);
  if (users.size() != 2) return false;
  for (int s = 0; s < 2; ++s) {
    Node* sigmoid = users[static_cast<size_t>(s)];
    Node* mul = users[static_cast<size_t>(1 - s)];
    if (!is_onnx(sigmoid, "Sigmoid") || !single_output(sigmoid) || !is_onnx(mul, "Mul") ||
        !single_output(mul)) {
      continue;
    }
    if (other_input(mul, cur) != sigmoid->outputs[0] || rw.sole_consumer(sigmoid->outputs[0]) != mul)
      continue;
    chain.post_ops.push_back(PostOp{PostOpKind::Swish});
    chain.nodes.push_back(sigmoid);
    chain.nodes.push_back(mul);
    chain.out = mul->outputs[0];
    return true;
  }
  return false;
}

void absorb_post_ops(const Rewriter& rw, Chain& chain) {
  while (absorb_step(rw, chain)) {
  }
}

std::map<std::string, AttributeValue> with_post_ops(std::map<std::string, AttributeValue> attributes,
                                                    const std::vector<PostOp>& post_ops) {
  Node holder;
  holder.attributes = std::move(attributes);
  ops::set_post_ops(holder, post_ops);
  return std::move(holder.attributes);
}

// ---- fold_batchnorm -----------------------------------------------------------------------------------

bool constant_vector(const Value* v, ElementType type, int64_t count) {
  return v && v->is_constant() && v->constant.type() == type && v->constant.rank() == 1 &&
         v->constant.shape()[0] == count;
}

template <class T> Tensor to_type(const std::vector<double>& values, const Shape& shape) {
  Tensor t(element_type_v<T>, shape);
  T* p = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = ops::nn::narrow<T>(values[i]);
  return t;
}

void fold_batchnorm(Rewriter& rw, Node* bn) {
  if (!is_onnx(bn, "BatchNormalization") || bn->inputs.size() != 5 || !bn->has_output(0)) return;
  for (size_t i = 1; i < bn->outputs.size(); ++i) {
    if (bn->has_output(i)) return;
  }
  if (bn->opset_version >= 14 && bn->attr_int("training_mode", 0) != 0) return;
  if (bn->opset_version < 9 && bn->attr_int("spatial", 1) == 0) return;
  Value* x = bn->inputs[0];
  Node* conv = rw.producer(x);
  if (!is_onnx(conv, "Conv") || !single_output(conv) || rw.sole_consumer(x) != bn) return;
  Value* w = conv->inputs[1];
  Value* b = conv->has_input(2) ? conv->inputs[2] : nullptr;
  if (!w || !w->is_constant() || (b && !b->is_constant())) return;
  const ElementType type = w->constant.type();
  if (!is_float_type(type) || w->constant.rank() < 3 || x->type != type) return;
  const int64_t channels = w->constant.shape()[0];
  for (size_t i = 1; i < 5; ++i) {
    if (!constant_vector(bn->inputs[i], type, channels)) return;
  }
  if (b && !constant_vector(b, type, channels)) return;
  const double eps = bn->attr_float("epsilon", 1e-5f);
  const auto scale = ops::to_doubles(bn->inputs[1]->constant);
  const auto shift = ops::to_doubles(bn->inputs[2]->constant);
  const auto mean = ops::to_doubles(bn->inputs[3]->constant);
  const auto var = ops::to_doubles(bn->inputs[4]->constant);
  auto weights = ops::to_doubles(w->constant);
  std::vector<double> bias =
      b ? ops::to_doubles(b->constant) : std::vector<double>(static_cast<size_t>(channels));
  const size_t per_channel = weights.size() / static_cast<size_t>(channels);
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    const double factor = scale[c] / std::sqrt(var[c] + eps);
    for (size_t i = 0; i < per_channel; ++i) weights[c * per_channel + i] *= factor;
    bias[c] = (bias[c] - mean[c]) * factor + shift[c];
  }
  Tensor folded_w, folded_b;
  ops::dispatch_floating(type, bn->describe(), [&](auto tag) {
    using T = decltype(tag);
    folded_w = to_type<T>(weights, w->constant.shape());
    folded_b = to_type<T>(bias, Shape{channels});
  });
  Value* new_w = rw.add_constant(conv->name + "/folded_W", folded_w);
  Value* new_b = rw.add_constant(conv->name + "/folded_B", folded_b);
  rw.replace({conv, bn}, {"Conv",
                          "",
                          conv->opset_version,
                          {conv->inputs[0], new_w, new_b},
                          bn->outputs[0],
                          conv->name,
                          conv->attributes});
}

// ---- fuse_gelu ----------------------------------------------------------------------------------------

// The end of both GELU forms: a = 1 + t (t = erf(..) or tanh(..)), then y = x * a * 0.5 in one of torch's
// orders: (x * a) * 0.5, (x * 0.5) * a, or (a * 0.5) * x. Appends the nodes it takes and returns y.
Value* match_gelu_tail(const Rewriter& rw, Value* t, Value* x, std::vector<Node*>& nodes) {
  Node* add = rw.sole_consumer(t);
  if (!is_onnx(add, "Add") || !single_output(add)) return nullptr;
  const auto one = scalar_operand(other_input(add, t), t);
  if (!one || !near(*one, 1.0)) return nullptr;
  Value* a = add->outputs[0];
  Node* mul = rw.sole_consumer(a);
  if (!is_onnx(mul, "Mul") || !single_output(mul)) return nullptr;
  Value* other = other_input(mul, a);
  if (!other) return nullptr;
  nodes.push_back(add);
  nodes.push_back(mul);
  if (other == x) {  // (x * a) * 0.5
    Node* half = rw.sole_consumer(mul->outputs[0]);
    if (!is_onnx(half, "Mul") || !single_output(half)) return nullptr;
    const auto h = scalar_operand(other_input(half, mul->outputs[0]), mul->outputs[0]);
    if (!h || !near(*h, 0.5)) return nullptr;
    nodes.push_back(half);
    return half->outputs[0];
  }
  if (auto h = scalar_operand(other, a)) {  // (a * 0.5) * x
    if (!near(*h, 0.5)) return nullptr;
    Node* times_x = rw.sole_consumer(mul->outputs[0]);
    if (!is_onnx(times_x, "Mul") || !single_output(times_x) || other_input(times_x, mul->outputs[0]) != x) {
      return nullptr;
    }
    nodes.push_back(times_x);
    return times_x->outputs[0];
  }
  // (x * 0.5) * a
  Node* half = rw.producer(other);
  if (!is_onnx(half, "Mul") || !single_output(half) || rw.sole_consumer(other) != mul) return nullptr;
  Value* hx = nullptr;
  for (Value* in : half->inputs) {
    if (in == x) hx = in;
  }
  const auto h = hx ? scalar_operand(other_input(half, x), x) : std::nullopt;
  if (!h || !near(*h, 0.5)) return nullptr;
  nodes.push_back(half);
  return mul->outputs[0];
}

void emit_gelu(Rewriter& rw, Value* x, Value* y, const std::vector<Node*>& nodes, const char* approximate) {
  if (!is_float_type(x->type) || x->type != y->type) return;
  Node* last = y->producer;
  rw.replace(nodes,
             {"Gelu", "", gelu_version, {x}, y, last->name, {{"approximate", std::string(approximate)}}});
}

// x * 0.5 * (1 + erf(x / sqrt 2)), the division possibly as a multiplication by 1 / sqrt 2.
void fuse_erf_gelu(Rewriter& rw, Node* erf) {
  if (!is_onnx(erf, "Erf") || !single_output(erf) || !erf->has_input(0)) return;
  Value* d = erf->inputs[0];
  Node* scale = rw.producer(d);
  if (!scale || !single_output(scale) || rw.sole_consumer(d) != erf || scale->inputs.size() != 2) return;
  Value* x = nullptr;
  if (is_onnx(scale, "Div")) {
    x = scale->inputs[0];
    const auto c = x ? scalar_operand(scale->inputs[1], x) : std::nullopt;
    if (!c || !near(*c, std::numbers::sqrt2)) return;
  } else if (is_onnx(scale, "Mul")) {
    for (int i = 0; i < 2 && !x; ++i) {
      Value* candidate = scale->inputs[static_cast<size_t>(i)];
      const auto c =
          candidate ? scalar_operand(scale->inputs[static_cast<size_t>(1 - i)], candidate) : std::nullopt;
      if (c && near(*c, 1.0 / std::numbers::sqrt2)) x = candidate;
    }
    if (!x) return;
  } else {
    return;
  }
  std::vector<Node*> nodes{scale, erf};
  Value* y = match_gelu_tail(rw, erf->outputs[0], x, nodes);
  if (y) emit_gelu(rw, x, y, nodes, "none");
}

// x * 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), x^3 as Pow(x, 3) or x * (x * x).
void fuse_tanh_gelu(Rewriter& rw, Node* tanh) {
  if (!is_onnx(tanh, "Tanh") || !single_output(tanh) || !tanh->has_input(0)) return;
  Value* inner = tanh->inputs[0];
  Node* outer_scale = rw.producer(inner);
  if (!is_onnx(outer_scale, "Mul") || rw.sole_consumer(inner) != tanh) return;
  // inner = s * sqrt(2 / pi)
  Value* s = nullptr;
  for (Value* in : outer_scale->inputs) {
    const auto c = in ? scalar_operand(other_input(outer_scale, in), in) : std::nullopt;
    if (c && near(*c, std::sqrt(2.0 / std::numbers::pi))) s = in;
  }
  Node* sum = rw.producer(s);
  if (!is_onnx(sum, "Add") || rw.sole_consumer(s) != outer_scale || sum->inputs.size() != 2) return;
  // s = x + k, k = cube * 0.044715
  for (int i = 0; i < 2; ++i) {
    Value* x = sum->inputs[static_cast<size_t>(i)];
    Value* k = sum->inputs[static_cast<size_t>(1 - i)];
    Node* kappa = rw.producer(k);
    if (!x || !is_onnx(kappa, "Mul") || rw.sole_consumer(k) != sum) continue;
    Value* cube = nullptr;
    for (Value* in : kappa->inputs) {
      const auto c = in ? scalar_operand(other_input(kappa, in), in) : std::nullopt;
      if (c && near(*c, 0.044715)) cube = in;
    }
    Node* cube_node = rw.producer(cube);
    if (!cube_node || rw.sole_consumer(cube) != kappa) continue;
    std::vector<Node*> nodes{cube_node, kappa, sum, outer_scale, tanh};
    if (is_onnx(cube_node, "Pow")) {
      const auto e = cube_node->inputs.size() == 2 ? scalar_operand(cube_node->inputs[1], x) : std::nullopt;
      if (cube_node->inputs[0] != x || !e || *e != 3.0) continue;
    } else if (is_onnx(cube_node, "Mul")) {
      Value* square = other_input(cube_node, x);
      Node* square_node = rw.producer(square);
      if (!is_onnx(square_node, "Mul") || square_node->inputs.size() != 2 || square_node->inputs[0] != x ||
          square_node->inputs[1] != x || rw.sole_consumer(square) != cube_node) {
        continue;
      }
      nodes.insert(nodes.begin(), square_node);
    } else {
      continue;
    }
    Value* y = match_gelu_tail(rw, tanh->outputs[0], x, nodes);
    if (y) emit_gelu(rw, x, y, nodes, "tanh");
    return;
  }
}

// ---- fuse_layer_norm ----------------------------------------------------------------------------------

// A constant of `n` values shaped [n] or [1, .., 1, n] that broadcasts into x, as a 1-D [n] value.
Value* vector_param(Rewriter& rw, Value* v, const Value* x, int64_t n, const std::string& name) {
  if (!v || !v->is_constant() || v->type != x->type || v->constant.size() != n ||
      !broadcasts_into(v->shape, x->shape) || v->constant.rank() < 1 || v->constant.shape().back() != n) {
    return nullptr;
  }
  if (v->constant.rank() == 1) return v;
  return rw.add_constant(name, v->constant.reshaped(Shape{n}));
}

void fuse_layer_norm(Rewriter& rw, Node* mean) {
  if (!is_last_axis_mean(mean)) return;
  Value* x = mean->inputs[0];
  if (!is_float_type(x->type) || !x->shape.rank_known() || x->shape.rank() < 1) return;
  const Dimension last = x->shape.dims().back();
  Node* sub = rw.sole_consumer(mean->outputs[0]);
  if (!is_onnx(sub, "Sub") || !single_output(sub) || sub->inputs.size() != 2 || sub->inputs[0] != x ||
      sub->inputs[1] != mean->outputs[0]) {
    return;
  }
  // d = x - mean is used by the square (once as Pow(d, 2), twice as Mul(d, d)) and by the division.
  Value* d = sub->outputs[0];
  if (rw.is_output(d)) return;
  const auto users = rw.consumers(d);
  if (users.size() != 2) return;
  Node* square = nullptr;
  Node* div = nullptr;
  for (Node* user : users) {
    if (is_onnx(user, "Div") && user->inputs.size() == 2 && user->inputs[0] == d && user->inputs[1] != d) {
      div = user;
    } else if (is_onnx(user, "Pow") && user->inputs.size() == 2 && user->inputs[0] == d) {
      const auto e = scalar_operand(user->inputs[1], d);
      if (e && *e == 2.0) square = user;
    } else if (is_onnx(user, "Mul") && user->inputs.size() == 2 && user->inputs[0] == d &&
               user->inputs[1] == d) {
      square = user;
    }
  }
  if (!square || !div || !single_output(square) || !single_output(div)) return;
  if (rw.uses(d) != (square->op_type == "Mul" ? 3 : 2)) return;
  Node* variance = rw.sole_consumer(square->outputs[0]);
  if (!is_last_axis_mean(variance) || variance->inputs[0] != square->outputs[0]) return;
  Node* add_eps = rw.sole_consumer(variance->outputs[0]);
  if (!is_onnx(add_eps, "Add") || !single_output(add_eps)) return;
  const auto eps = scalar_operand(other_input(add_eps, variance->outputs[0]), variance->outputs[0]);
  if (!eps || *eps < 0) return;
  Node* sqrt = rw.sole_consumer(add_eps->outputs[0]);
  if (!is_onnx(sqrt, "Sqrt") || !single_output(sqrt) || rw.sole_consumer(sqrt->outputs[0]) != div ||
      div->inputs[1] != sqrt->outputs[0]) {
    return;
  }
  std::vector<Node*> nodes{mean, sub, square, variance, add_eps, sqrt, div};
  Value* y = div->outputs[0];
  Value* gamma = nullptr;
  Value* beta = nullptr;
  if (Node* mul = rw.sole_consumer(y); is_onnx(mul, "Mul") && single_output(mul) && last.is_static()) {
    if ((gamma = vector_param(rw, other_input(mul, y), x, last.extent(), mul->name + "/scale"))) {
      nodes.push_back(mul);
      y = mul->outputs[0];
    }
  }
  if (Node* add = rw.sole_consumer(y); is_onnx(add, "Add") && single_output(add) && last.is_static()) {
    if ((beta = vector_param(rw, other_input(add, y), x, last.extent(), add->name + "/bias"))) {
      nodes.push_back(add);
      y = add->outputs[0];
    }
  }
  if (!gamma) {
    // LayerNormalization needs a scale: ones.
    if (!last.is_static()) return;
    Tensor ones(x->type, Shape{last.extent()});
    ops::dispatch_floating(x->type, mean->describe(), [&](auto tag) {
      using T = decltype(tag);
      for (T& v : ones.values<T>()) v = ops::nn::narrow<T>(1.0);
    });
    gamma = rw.add_constant(mean->name + "/ones", ones);
  }
  std::vector<Value*> inputs{x, gamma};
  if (beta) inputs.push_back(beta);
  Node* last_node = y->producer;
  rw.replace(nodes, {"LayerNormalization",
                     "",
                     layer_norm_version,
                     inputs,
                     y,
                     last_node->name,
                     {{"axis", int64_t{-1}}, {"epsilon", static_cast<float>(*eps)}}});
}

// ---- fuse_attention -----------------------------------------------------------------------------------

// perm swaps only the last two dims.
bool swaps_last_two(const std::vector<int64_t>& perm) {
  const size_t r = perm.size();
  if (r < 2) return false;
  for (size_t i = 0; i + 2 < r; ++i) {
    if (perm[i] != static_cast<int64_t>(i)) return false;
  }
  return perm[r - 2] == static_cast<int64_t>(r - 1) && perm[r - 1] == static_cast<int64_t>(r - 2);
}

void fuse_attention(Rewriter& rw, Node* softmax) {
  if (!is_onnx(softmax, "Softmax") || !single_output(softmax) || !softmax->has_input(0)) return;
  Value* s = softmax->inputs[0];
  if (!s->shape.rank_known() || s->shape.rank() < 2 || !is_float_type(s->type)) return;
  const int64_t rank = s->shape.rank();
  int64_t axis = softmax->attr_int("axis", softmax->opset_version >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (axis != rank - 1) return;
  // Back from the Softmax: [Add mask] <- [Div / Mul scalar] <- MatMul(Q, Kt).
  std::vector<Node*> nodes;
  Value* mask = nullptr;
  Value* cur = s;
  Node* node = rw.producer(cur);
  if (rw.sole_consumer(cur) != softmax) return;
  auto step_back = [&](Value* next) {
    nodes.push_back(node);
    cur = next;
    node = rw.producer(cur);
  };
  if (is_onnx(node, "Add") && node->inputs.size() == 2) {
    // The scores are the operand that comes from the product, directly or through the scaling.
    auto from_product = [&](Value* scores) {
      Node* p = rw.producer(scores);
      if (!p || rw.sole_consumer(scores) != node) return false;
      if (is_onnx(p, "MatMul")) return true;
      if (!is_onnx(p, "Div") && !is_onnx(p, "Mul")) return false;
      for (Value* in : p->inputs) {
        if (is_onnx(rw.producer(in), "MatMul")) return true;
      }
      return false;
    };
    for (int i = 0; i < 2 && !mask; ++i) {
      Value* scores = node->inputs[static_cast<size_t>(i)];
      Value* other = node->inputs[static_cast<size_t>(1 - i)];
      if (!scores || !other || scores == other || !from_product(scores)) continue;
      // The mask must not broadcast the scores. Their last dim, unknown when the heads are split by a
      // Reshape of computed shape, is K's length, which V's rows and so the probabilities' last dim (the
      // Add's output) must equal for Attention to accept K and V: take it from the Add's output.
      PartialShape scores_shape = scores->shape;
      if (scores_shape.rank_known() && scores_shape.rank() == rank &&
          scores_shape.dims().back().is_dynamic()) {
        scores_shape.dims().back() = s->shape.dims().back();
      }
      if (other->type != s->type || !fits_into(other->shape, scores_shape)) return;
      mask = other;
      step_back(scores);
    }
    if (!mask) return;
  }
  double scale = 1.0;
  if ((is_onnx(node, "Div") || is_onnx(node, "Mul")) && node->inputs.size() == 2) {
    Value* scores = nullptr;
    std::optional<double> c;
    if (is_onnx(node, "Div")) {
      scores = node->inputs[0];
      c = scalar_operand(node->inputs[1], scores);
      if (c && *c != 0.0) c = 1.0 / *c;
    } else {
      for (Value* in : node->inputs) {
        if (auto v = in ? scalar_operand(other_input(node, in), in) : std::nullopt; v && !c) {
          scores = in;
          c = v;
        }
      }
    }
    if (!c || !scores || !is_onnx(rw.producer(scores), "MatMul") || rw.sole_consumer(scores) != node) return;
    scale = *c;
    step_back(scores);
  }
  if (!is_onnx(node, "MatMul") || !single_output(node) || node->inputs.size() != 2) return;
  Node* qk = node;
  nodes.push_back(qk);
  Value* q = qk->inputs[0];
  Value* kt = qk->inputs[1];
  Node* pv = rw.sole_consumer(softmax->outputs[0]);
  if (!is_onnx(pv, "MatMul") || !single_output(pv) || pv->inputs.size() != 2 ||
      pv->inputs[0] != softmax->outputs[0]) {
    return;
  }
  Value* v = pv->inputs[1];
  if (!q || !kt || !v || q->type != s->type || kt->type != s->type || v->type != s->type) return;
  if (!q->shape.rank_known() || q->shape.rank() < 2) return;
  Value* k = kt;
  int64_t k_transposed = 1;
  if (Node* t = rw.producer(kt); is_onnx(t, "Transpose") && t->has_input(0) && single_output(t)) {
    const auto perm = t->attr_ints("perm", {});
    if (swaps_last_two(perm)) {
      k = t->inputs[0];
      k_transposed = 0;
    }
  }
  nodes.push_back(softmax);
  nodes.push_back(pv);
  std::vector<Value*> inputs{q, k, v};
  if (mask) inputs.push_back(mask);
  rw.replace(nodes, {"Attention",
                     sluice_domain,
                     sluice_version,
                     inputs,
                     pv->outputs[0],
                     qk->name,
                     {{"scale", static_cast<float>(scale)}, {"k_transposed", k_transposed}}});
}

// ---- fuse_conv ----------------------------------------------------------------------------------------

void fuse_conv(Rewriter& rw, Node* conv) {
  const bool plain = is_onnx(conv, "Conv");
  if ((!plain && !is_sluice(conv, "FusedConv")) || !single_output(conv) || conv->inputs.size() < 2) return;
  if (!is_float_type(conv->outputs[0]->type)) return;
  Chain chain;
  chain.out = conv->outputs[0];
  if (!plain) {
    chain.post_ops = ops::post_ops_of(*conv);
    chain.extras.assign(conv->inputs.begin() + std::min<size_t>(conv->inputs.size(), 3), conv->inputs.end());
  }
  const size_t before = chain.nodes.size();
  absorb_post_ops(rw, chain);
  if (chain.nodes.size() == before) return;
  std::vector<Value*> inputs{conv->inputs[0], conv->inputs[1],
                             conv->has_input(2) ? conv->inputs[2] : nullptr};
  inputs.insert(inputs.end(), chain.extras.begin(), chain.extras.end());
  if (chain.extras.empty() && !inputs.back()) inputs.pop_back();
  std::vector<Node*> nodes{conv};
  nodes.insert(nodes.end(), chain.nodes.begin(), chain.nodes.end());
  rw.replace(nodes, {"FusedConv", sluice_domain, sluice_version, inputs, chain.out, conv->name,
                     with_post_ops(conv->attributes, chain.post_ops)});
}

// ---- fuse_matmul --------------------------------------------------------------------------------------

struct MatMulFusion {
  Value* a = nullptr;
  Value* b = nullptr;
  Value* bias = nullptr;
  float alpha = 1.0f;
  int64_t trans_b = 0;
  Chain chain;
};

// Before any post-op: scaling by a scalar (into alpha, while there is no bias) and a constant bias [N].
void absorb_scale_and_bias(Rewriter& rw, MatMulFusion& f) {
  for (;;) {
    Value* cur = f.chain.out;
    Node* next = rw.sole_consumer(cur);
    if (!next || !single_output(next) || next->inputs.size() != 2) return;
    const bool mul = is_onnx(next, "Mul");
    const bool div = is_onnx(next, "Div");
    if ((mul || div) && !f.bias) {
      Value* other = other_input(next, cur);
      if (div && next->inputs[0] != cur) return;
      const auto c = other && other != cur ? scalar_operand(other, cur) : std::nullopt;
      if (!c || (div && *c == 0.0)) return;
      f.alpha = static_cast<float>(div ? f.alpha / *c : f.alpha * *c);
      f.chain.nodes.push_back(next);
      f.chain.out = next->outputs[0];
      continue;
    }
    if (is_onnx(next, "Add") && !f.bias && cur->shape.rank_known() && cur->shape.rank() >= 1 &&
        cur->shape.dims().back().is_static()) {
      Value* other = other_input(next, cur);
      if (!other || other == cur) return;
      Value* bias = vector_param(rw, other, cur, cur->shape.dims().back().extent(), next->name + "/bias");
      if (!bias) return;
      f.bias = bias;
      f.chain.nodes.push_back(next);
      f.chain.out = next->outputs[0];
    }
    return;
  }
}

void emit_fused_matmul(Rewriter& rw, Node* main, MatMulFusion& f) {
  std::vector<Value*> inputs{f.a, f.b, f.bias};
  inputs.insert(inputs.end(), f.chain.extras.begin(), f.chain.extras.end());
  if (f.chain.extras.empty() && !inputs.back()) inputs.pop_back();
  std::vector<Node*> nodes{main};
  nodes.insert(nodes.end(), f.chain.nodes.begin(), f.chain.nodes.end());
  std::map<std::string, AttributeValue> attributes{{"alpha", f.alpha}, {"transB", f.trans_b}};
  rw.replace(nodes, {"FusedMatMul", sluice_domain, sluice_version, inputs, f.chain.out, main->name,
                     with_post_ops(std::move(attributes), f.chain.post_ops)});
}

// Gemm(A, B, C) with transA = 0: alpha, transB and C as the bias (beta folded in) when C is [N] or [1, N].
void fuse_gemm(Rewriter& rw, Node* gemm) {
  if (gemm->attr_int("transA", 0) != 0 || gemm->inputs.size() < 2) return;
  MatMulFusion f;
  f.a = gemm->inputs[0];
  f.b = gemm->inputs[1];
  f.alpha = gemm->attr_float("alpha", 1.0f);
  f.trans_b = gemm->attr_int("transB", 0) != 0 ? 1 : 0;
  f.chain.out = gemm->outputs[0];
  const PartialShape& ys = f.chain.out->shape;
  if (!f.a || !f.b || !ys.rank_known() || ys.rank() != 2) return;
  if (Value* c = gemm->has_input(2) ? gemm->inputs[2] : nullptr) {
    const double beta = gemm->attr_float("beta", 1.0f);
    const Dimension n = ys[1];
    const PartialShape& cs = c->shape;
    const bool vector_shape = cs.rank_known() && cs.rank() >= 1 && cs.rank() <= 2 &&
                              same_dim(cs.dims().back(), n) &&
                              (cs.rank() == 1 || (cs[0].is_static() && cs[0].extent() == 1));
    if (!vector_shape || c->type != f.chain.out->type) return;
    if (c->is_constant() && n.is_static()) {
      Tensor bias = c->constant.reshaped(Shape{n.extent()});
      if (beta != 1.0) {
        const auto values = ops::to_doubles(bias);
        std::vector<double> scaled(values.size());
        for (size_t i = 0; i < values.size(); ++i) scaled[i] = beta * values[i];
        ops::dispatch_floating(c->type, gemm->describe(),
                               [&](auto tag) { bias = to_type<decltype(tag)>(scaled, Shape{n.extent()}); });
      }
      f.bias = (beta == 1.0 && cs.rank() == 1) ? c : rw.add_constant(gemm->name + "/bias", bias);
    } else if (beta == 1.0 && cs.rank() == 1) {
      f.bias = c;
    } else {
      return;
    }
  } else {
    absorb_scale_and_bias(rw, f);
  }
  absorb_post_ops(rw, f.chain);
  emit_fused_matmul(rw, gemm, f);
}

void fuse_matmul(Rewriter& rw, Node* node) {
  if (!single_output(node) || !is_float_type(node->outputs[0]->type)) return;
  if (is_onnx(node, "Gemm")) return fuse_gemm(rw, node);
  MatMulFusion f;
  f.chain.out = node->outputs[0];
  if (is_onnx(node, "MatMul")) {
    if (node->inputs.size() != 2) return;
    f.a = node->inputs[0];
    f.b = node->inputs[1];
    // FusedMatMul's bias and batch rules want both operands as matrices (or stacks of them).
    if (!f.a || !f.b || f.a->shape.rank() < 2 || f.b->shape.rank() < 2) return;
    absorb_scale_and_bias(rw, f);
  } else if (is_sluice(node, "FusedMatMul")) {
    // Extend an existing fusion (made in an earlier sweep, or by another pass) by more post-ops.
    f.a = node->inputs[0];
    f.b = node->inputs[1];
    f.bias = node->has_input(2) ? node->inputs[2] : nullptr;
    f.alpha = node->attr_float("alpha", 1.0f);
    f.trans_b = node->attr_int("transB", 0);
    f.chain.post_ops = ops::post_ops_of(*node);
    f.chain.extras.assign(node->inputs.begin() + std::min<size_t>(node->inputs.size(), 3),
                          node->inputs.end());
    if (f.chain.post_ops.empty()) absorb_scale_and_bias(rw, f);
  } else {
    return;
  }
  absorb_post_ops(rw, f.chain);
  if (f.chain.nodes.empty()) return;
  emit_fused_matmul(rw, node, f);
}

}  // namespace

bool FoldBatchNormPass::apply_impl(graph::Graph& graph) { return run_sweeps(graph, fold_batchnorm); }

bool FuseGeluPass::apply_impl(graph::Graph& graph) {
  return run_sweeps(graph, [](Rewriter& rw, Node* node) {
    fuse_erf_gelu(rw, node);
    fuse_tanh_gelu(rw, node);
  });
}

bool FuseLayerNormPass::apply_impl(graph::Graph& graph) { return run_sweeps(graph, fuse_layer_norm); }

bool FuseAttentionPass::apply_impl(graph::Graph& graph) {
  // The operator is defined elsewhere (ops/fused_attention.cpp); without it there is nothing to make.
  if (!graph::OpRegistry::instance().find(sluice_domain, "Attention", sluice_version)) return false;
  return run_sweeps(graph, fuse_attention);
}

bool FuseConvPass::apply_impl(graph::Graph& graph) { return run_sweeps(graph, fuse_conv); }

bool FuseMatMulPass::apply_impl(graph::Graph& graph) { return run_sweeps(graph, fuse_matmul); }

graph::PassManager cpu_fusion_passes() {
  graph::PassManager pm;
  pm.add(std::make_unique<FoldBatchNormPass>());
  pm.add(std::make_unique<FuseGeluPass>());
  pm.add(std::make_unique<FuseLayerNormPass>());
  pm.add(std::make_unique<FuseAttentionPass>());
  pm.add(std::make_unique<FuseConvPass>());
  pm.add(std::make_unique<FuseMatMulPass>());
  return pm;
}

namespace {

// The names of `disabled` that a pass manager knows (each only accepts its own).
std::set<std::string> known_of(const std::set<std::string>& disabled, const graph::PassManager& passes) {
  std::set<std::string> out;
  for (const auto& name : passes.names()) {
    if (disabled.count(name)) out.insert(name);
  }
  return out;
}

}  // namespace

void optimize_for_cpu(graph::Graph& graph, const std::set<std::string>& disabled) {
  const graph::PassManager standard = graph::default_pass_manager();
  const graph::PassManager fusions = cpu_fusion_passes();
  standard.run(graph, known_of(disabled, standard));
  graph.topological_sort();
  fusions.run(graph, known_of(disabled, fusions));
  graph.topological_sort();
  standard.run(graph, known_of(disabled, standard));
}

}  // namespace sluice::cpu
