// Control-flow operators: If (opset 1), Loop (opset 1) and Scan (opset 8: batch axis and sequence_lens;
// opset 9: scan_input_axes/directions, scan_output_axes/directions; opset 11: negative axes). Bodies run
// through KernelEnv::run_subgraph; shape inference goes through InferContext::infer_subgraph when set,
// else takes the bodies' declared output types and shapes.
//
// If's outputs and Loop's loop-carried values may be sequences or optionals (a Tensor::sequence, or an
// empty Tensor for an absent optional); their kinds come from the bodies' outputs. Scan's values and
// Loop's scan outputs are tensors.
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "graph/graph.hpp"
#include "ops/common.hpp"

namespace sluice::ops {
namespace {

using graph::Graph;
using graph::ValueKind;
using TypedShape = std::pair<ElementType, PartialShape>;

// ---- shape helpers ----

// The least specific of two shapes: the shape that accepts every shape either accepts.
PartialShape generalize(const PartialShape& a, const PartialShape& b) {
  if (!a.rank_known() || !b.rank_known() || a.rank() != b.rank()) return PartialShape::unknown_rank();
  std::vector<Dimension> dims;
  for (size_t d = 0; d < a.dims().size(); ++d) dims.push_back(a[d] == b[d] ? a[d] : Dimension());
  return PartialShape(std::move(dims));
}

// The more specific of two shapes that describe the same value.
PartialShape refine(const PartialShape& a, const PartialShape& b) {
  if (!a.rank_known()) return b;
  if (!b.rank_known() || a.rank() != b.rank()) return a;
  std::vector<Dimension> dims = a.dims();
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d].is_dynamic() && (b[d].is_static() || dims[d].symbol().empty())) dims[d] = b[d];
  }
  return PartialShape(std::move(dims));
}

ElementType common_type(ElementType a, ElementType b, const Node& node, const std::string& what) {
  if (a == ElementType::undefined) return b;
  if (b == ElementType::undefined) return a;
  SLUICE_CHECK(a == b, where(node), what, " has element type ", to_string(b), " where ", to_string(a),
               " was expected");
  return a;
}

PartialShape remove_dim(const PartialShape& shape, int64_t axis) {
  if (!shape.rank_known()) return shape;
  std::vector<Dimension> dims = shape.dims();
  dims.erase(dims.begin() + axis);
  return PartialShape(std::move(dims));
}

PartialShape insert_dim(const PartialShape& shape, int64_t axis, Dimension dim) {
  if (!shape.rank_known()) return shape;
  std::vector<Dimension> dims = shape.dims();
  dims.insert(dims.begin() + axis, std::move(dim));
  return PartialShape(std::move(dims));
}

// A body's output types and shapes for the given input types and shapes.
std::vector<TypedShape> body_outputs(const InferContext& ctx, const Graph& body,
                                     const std::vector<TypedShape>& inputs) {
  if (ctx.infer_subgraph) return ctx.infer_subgraph(body, inputs);
  std::vector<TypedShape> out;
  for (const graph::Value* v : body.outputs()) out.emplace_back(v->type, v->shape);
  return out;
}

const graph::Value* find_in_scope(const Graph* scope, const std::string& name) {
  for (; scope; scope = scope->parent) {
    if (const graph::Value* v = scope->find_value(name); v && !v->outer) return v;
  }
  return nullptr;
}

// Whether a graph (at any depth) can make a sequence or an optional: an operator that creates one, or a
// graph input or outer value that is one. Bodies that cannot (nearly all) skip the kind inference.
bool may_hold_non_tensors(const Graph& g) {
  static const std::set<std::string> makers = {"SequenceEmpty", "SequenceConstruct", "SplitToSequence",
                                               "SequenceMap", "Optional"};
  for (const graph::Value* in : g.inputs()) {
    if (!in->kind.is_tensor()) return true;
  }
  for (const auto& v : g.values()) {
    if (!v->kind.is_tensor()) return true;
    if (v->outer) {
      const graph::Value* outer = find_in_scope(g.parent, v->name);
      if (outer && !outer->kind.is_tensor()) return true;
    }
  }
  for (const auto& node : g.nodes()) {
    if (node->domain.empty() && makers.count(node->op_type)) return true;
    for (const auto& [attr, value] : node->attributes) {
      if (const auto* sub = std::get_if<graph::GraphPtr>(&value);
          sub && *sub && may_hold_non_tensors(**sub)) {
        return true;
      }
    }
  }
  return false;
}

// The kinds of a body's outputs when its inputs have the given types, shapes and kinds (a tensor kind
// keeps the input's declared kind). Infers a copy of the body (graph::infer_subgraph_outputs) when the
// body can hold sequences or optionals; otherwise, or when the context does not infer bodies, the
// outputs' kinds are as declared.
std::vector<ValueKind> body_output_kinds(const InferContext& ctx, const Graph& body,
                                         const std::vector<TypedShape>& inputs,
                                         const std::vector<ValueKind>& input_kinds) {
  bool non_tensor_inputs = false;
  for (const ValueKind& k : input_kinds) non_tensor_inputs = non_tensor_inputs || !k.is_tensor();
  std::vector<ValueKind> kinds;
  if (!ctx.infer_subgraph || (!non_tensor_inputs && !may_hold_non_tensors(body))) {
    for (const graph::Value* v : body.outputs()) kinds.push_back(v->kind);
    return kinds;
  }
  graph::infer_subgraph_outputs(body, inputs, input_kinds, &kinds);
  return kinds;
}

// The kind of a value that is one of two kinds (If's branches): a sequence or an optional when either is.
ValueKind merge_kinds(const ValueKind& a, const ValueKind& b) {
  return ValueKind{a.sequence || b.sequence, a.optional || b.optional};
}

// ---- tensor helpers ----

// The sub-tensor at `index` along `axis`, with that axis removed (a new tensor).
Tensor slice_at(const Tensor& t, int64_t axis, int64_t index) {
  const Shape& shape = t.shape();
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  const int64_t extent = shape[static_cast<size_t>(axis)];
  Shape out_shape = shape;
  out_shape.erase(out_shape.begin() + axis);
  Tensor out(t.type(), out_shape);
  const int64_t block = shape_size(out_shape) / std::max<int64_t>(outer, 1);  // elements
  for (int64_t o = 0; o < outer && block > 0; ++o)
    copy_elements(t, (o * extent + index) * block, out, o * block, block);
  return out;
}

// Stacks `count` tensors of shape `element` along a new axis `axis`; parts[i] goes to position i, missing
// parts (i >= parts.size()) are zeros.
Tensor stack(const std::vector<Tensor>& parts, int64_t count, int64_t axis, ElementType type,
             const Shape& element, const Node& node) {
  Shape out_shape = element;
  out_shape.insert(out_shape.begin() + axis, count);
  Tensor out(type, out_shape);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= element[static_cast<size_t>(d)];
  const int64_t block = shape_size(element) / std::max<int64_t>(outer, 1);  // elements
  for (size_t i = 0; i < parts.size(); ++i) {
    SLUICE_CHECK(parts[i].type() == type && parts[i].shape() == element, where(node), "iteration ", i,
                 " produced a scan output of type ", to_string(parts[i].type()), " and shape ",
                 to_string(parts[i].shape()), "; earlier iterations produced ", to_string(type), " ",
                 to_string(element));
    for (int64_t o = 0; o < outer && block > 0; ++o) {
      copy_elements(parts[i], o * block, out, (o * count + static_cast<int64_t>(i)) * block, block);
    }
  }
  return out;
}

// The type and shape of one element of a scan output that no iteration produced: from the node's
// inferred output (without the stacked axes), else from the body's declared output.
std::pair<ElementType, Shape> empty_scan_element(const Node& node, size_t output, const Graph& body,
                                                 size_t body_output, const std::vector<int64_t>& stacked) {
  const graph::Value* declared = body.outputs()[body_output];
  ElementType type = declared->type;
  PartialShape shape = declared->shape;
  if (const graph::Value* out = node.has_output(output) ? node.outputs[output] : nullptr) {
    if (out->type != ElementType::undefined) type = out->type;
    if (out->shape.rank_known() && out->shape.rank() > static_cast<int64_t>(stacked.size())) {
      PartialShape element = out->shape;
      std::vector<int64_t> axes = stacked;
      std::sort(axes.rbegin(), axes.rend());  // remove the later axes first
      for (int64_t axis : axes) element = remove_dim(element, axis);
      shape = refine(element, shape);
    }
  }
  SLUICE_CHECK(type != ElementType::undefined && shape.is_static(), where(node), "output ", output,
               " is a scan output of zero iterations whose element type and shape are not known statically",
               " (body output '", declared->name, "' is ", to_string(type), " ", shape.to_string(), ")");
  return {type, shape.to_shape()};
}

bool scalar_bool(const Tensor& t, const Node& node, const char* what) {
  SLUICE_CHECK(t.type() == ElementType::boolean && t.size() == 1, where(node), what,
               " must be a bool tensor with one element; got ", to_string(t.type()), " ",
               to_string(t.shape()));
  return t.data<bool>()[0];
}

std::vector<Tensor> clone_all(std::vector<Tensor> tensors) {
  for (Tensor& t : tensors) {
    if (!t.empty()) t = t.clone();
  }
  return tensors;
}

const Graph& graph_attr(const Node& node, const char* attr) {
  SLUICE_CHECK(node.has_attr(attr), where(node), "attribute '", attr, "' (a graph) is missing");
  return node.attr_graph(attr);
}

// ---- If ----

void validate_if(const Node& node) {
  for (const char* branch : {"then_branch", "else_branch"}) {
    const Graph& g = graph_attr(node, branch);
    SLUICE_CHECK(g.inputs().empty(), where(node), "attribute '", branch, "' has ", g.inputs().size(),
                 " graph inputs; expected none");
    SLUICE_CHECK(g.outputs().size() == node.outputs.size(), where(node), "attribute '", branch, "' has ",
                 g.outputs().size(), " outputs; the node has ", node.outputs.size());
  }
}

void infer_if(InferContext& ctx) {
  const Node& node = ctx.node;
  SLUICE_CHECK(ctx.input_kind(0).is_tensor(), where(node), "input 'cond' is a ", ctx.input_kind(0).name(),
               "; expected a bool tensor");
  const ElementType cond_type = ctx.input_type(0);
  SLUICE_CHECK(cond_type == ElementType::undefined || cond_type == ElementType::boolean, where(node),
               "input 'cond' has element type ", to_string(cond_type), "; expected boolean");
  std::optional<bool> cond;
  if (const Tensor* value = ctx.input_value(0)) cond = scalar_bool(*value, node, "input 'cond'");
  if (cond) {
    // Only the branch that runs is inferred: the other may be invalid for these inputs (and never runs).
    const Graph& branch = node.attr_graph(*cond ? "then_branch" : "else_branch");
    const std::vector<TypedShape> taken = body_outputs(ctx, branch, {});
    const std::vector<ValueKind> kinds = body_output_kinds(ctx, branch, {}, {});
    for (size_t i = 0; i < node.outputs.size() && i < taken.size(); ++i) {
      ctx.set_output(i, taken[i].first, taken[i].second);
      if (i < kinds.size()) ctx.set_output_kind(i, kinds[i]);
    }
    return;
  }
  const std::vector<TypedShape> then_out = body_outputs(ctx, node.attr_graph("then_branch"), {});
  const std::vector<TypedShape> else_out = body_outputs(ctx, node.attr_graph("else_branch"), {});
  const std::vector<ValueKind> then_kinds = body_output_kinds(ctx, node.attr_graph("then_branch"), {}, {});
  const std::vector<ValueKind> else_kinds = body_output_kinds(ctx, node.attr_graph("else_branch"), {}, {});
  for (size_t i = 0; i < node.outputs.size() && i < then_out.size() && i < else_out.size(); ++i) {
    const ElementType type = common_type(then_out[i].first, else_out[i].first, node,
                                         "output " + std::to_string(i) + " of else_branch");
    ctx.set_output(i, type, generalize(then_out[i].second, else_out[i].second));
    if (i < then_kinds.size() && i < else_kinds.size()) {
      const ValueKind& a = then_kinds[i];
      const ValueKind& b = else_kinds[i];
      SLUICE_CHECK(a.sequence == b.sequence || a.optional || b.optional, where(node), "output ", i, " is a ",
                   a.name(), " in then_branch but a ", b.name(), " in else_branch");
      ctx.set_output_kind(i, merge_kinds(a, b));
    }
  }
}

std::vector<Tensor> run_if(const Node& node, std::span<const Tensor> inputs, KernelEnv& env) {
  const bool cond = scalar_bool(inputs[0], node, "input 'cond'");
  const Graph& branch = node.attr_graph(cond ? "then_branch" : "else_branch");
  std::vector<Tensor> outputs = env.run_subgraph(branch, {});
  SLUICE_CHECK(outputs.size() == node.outputs.size(), where(node), "the branch produced ", outputs.size(),
               " outputs; expected ", node.outputs.size());
  return clone_all(std::move(outputs));
}

// ---- Loop ----

// Loop's inputs are (M, cond, v_initial...) and its outputs (v_final..., scan_outputs...); the body maps
// (iteration, cond, v...) to (cond, v..., scan_elements...).
struct LoopLayout {
  size_t carried = 0;
  size_t scans = 0;
};

LoopLayout loop_layout(const Node& node) {
  const Graph& body = graph_attr(node, "body");
  LoopLayout layout;
  layout.carried = node.inputs.size() > 2 ? node.inputs.size() - 2 : 0;
  SLUICE_CHECK(body.inputs().size() == layout.carried + 2, where(node), "attribute 'body' has ",
               body.inputs().size(), " inputs; expected ", layout.carried + 2,
               " (iteration number, condition and ", layout.carried, " loop-carried values)");
  SLUICE_CHECK(body.outputs().size() >= layout.carried + 1, where(node), "attribute 'body' has ",
               body.outputs().size(), " outputs; expected at least ", layout.carried + 1, " (condition and ",
               layout.carried, " loop-carried values)");
  layout.scans = body.outputs().size() - 1 - layout.carried;
  SLUICE_CHECK(node.outputs.size() == layout.carried + layout.scans, where(node), "has ", node.outputs.size(),
               " outputs; expected ", layout.carried + layout.scans, " (", layout.carried,
               " loop-carried values and ", layout.scans, " scan outputs of the body)");
  return layout;
}

void validate_loop(const Node& node) {
  loop_layout(node);
  SLUICE_CHECK(node.has_input(0) || node.has_input(1), where(node),
               "has neither a trip count 'M' nor a condition 'cond'; the loop would never end");
}

// Infers the loop-carried values' types and shapes to a fixed point: a value whose shape changes across
// iterations gets the shape that accepts all of them.
std::vector<TypedShape> infer_loop_body(const InferContext& ctx, const Graph& body, size_t carried,
                                        std::vector<TypedShape>& state) {
  const Node& node = ctx.node;
  for (int round = 0;; ++round) {
    std::vector<TypedShape> in{{ElementType::i64, PartialShape(Shape{})},
                               {ElementType::boolean, PartialShape(Shape{})}};
    in.insert(in.end(), state.begin(), state.end());
    std::vector<TypedShape> out = body_outputs(ctx, body, in);
    SLUICE_CHECK(out.size() == body.outputs().size(), where(node),
                 "the body's inferred outputs do not match its declared outputs");
    bool changed = false;
    for (size_t i = 0; i < carried; ++i) {
      const ElementType type =
          common_type(state[i].first, out[1 + i].first, node, "loop-carried value " + std::to_string(i));
      PartialShape shape = generalize(state[i].second, out[1 + i].second);
      changed = changed || type != state[i].first || !(shape == state[i].second);
      state[i] = {type, std::move(shape)};
    }
    if (!changed || round > 8) return out;
  }
}

void infer_loop(InferContext& ctx) {
  const Node& node = ctx.node;
  const Graph& body = node.attr_graph("body");
  const LoopLayout layout = loop_layout(node);
  for (size_t i = 0; i < 2; ++i) {
    SLUICE_CHECK(ctx.input_kind(i).is_tensor(), where(node), "input '", i == 0 ? "M" : "cond", "' is a ",
                 ctx.input_kind(i).name(), "; expected a tensor");
  }
  std::optional<int64_t> trip_count;
  if (ctx.has_input(0)) {
    const ElementType m_type = ctx.input_type(0);
    SLUICE_CHECK(m_type == ElementType::undefined || m_type == ElementType::i64, where(node),
                 "input 'M' has element type ", to_string(m_type), "; expected i64");
    if (const Tensor* m = ctx.input_value(0); m && m->size() == 1) trip_count = m->data<int64_t>()[0];
  }
  if (ctx.has_input(1)) {
    const ElementType cond_type = ctx.input_type(1);
    SLUICE_CHECK(cond_type == ElementType::undefined || cond_type == ElementType::boolean, where(node),
                 "input 'cond' has element type ", to_string(cond_type), "; expected boolean");
  }
  std::vector<TypedShape> state;
  for (size_t i = 0; i < layout.carried; ++i)
    state.emplace_back(ctx.input_type(2 + i), ctx.input_shape(2 + i));
  const std::vector<TypedShape> out = infer_loop_body(ctx, body, layout.carried, state);
  for (size_t i = 0; i < layout.carried; ++i) ctx.set_output(i, state[i].first, state[i].second);
  // A loop-carried value has the kind of the body's output (a sequence, an optional); the body sees the
  // initial value's kind where its input does not declare one.
  std::vector<ValueKind> in_kinds{ValueKind{}, ValueKind{}};
  for (size_t i = 0; i < layout.carried; ++i) in_kinds.push_back(ctx.input_kind(2 + i));
  std::vector<TypedShape> body_in{{ElementType::i64, PartialShape(Shape{})},
                                  {ElementType::boolean, PartialShape(Shape{})}};
  body_in.insert(body_in.end(), state.begin(), state.end());
  const std::vector<ValueKind> out_kinds = body_output_kinds(ctx, body, body_in, in_kinds);
  for (size_t i = 0; i < layout.carried && 1 + i < out_kinds.size(); ++i) {
    const ValueKind& in = ctx.input_kind(2 + i);
    const ValueKind& produced = out_kinds[1 + i];
    SLUICE_CHECK(in.sequence == produced.sequence || in.optional || produced.optional, where(node),
                 "loop-carried value ", i, " is a ", in.name(), " initially but the body makes a ",
                 produced.name());
    ctx.set_output_kind(i, ValueKind{in.sequence || produced.sequence, produced.optional});
  }
  for (size_t k = 0; k < layout.scans && 1 + layout.carried + k < out_kinds.size(); ++k) {
    const ValueKind& kind = out_kinds[1 + layout.carried + k];
    SLUICE_CHECK(kind.is_tensor(), where(node), "scan output ", k, " ('",
                 body.outputs()[1 + layout.carried + k]->name, "') is a ", kind.name(),
                 "; scan outputs stack tensors");
  }
  // Without a condition the loop runs exactly M times.
  const Dimension iterations =
      trip_count && !ctx.has_input(1) ? Dimension(std::max<int64_t>(*trip_count, 0)) : Dimension();
  for (size_t k = 0; k < layout.scans; ++k) {
    const TypedShape& element = out[1 + layout.carried + k];
    ctx.set_output(layout.carried + k, element.first, insert_dim(element.second, 0, iterations));
  }
}

std::vector<Tensor> run_loop(const Node& node, std::span<const Tensor> inputs, KernelEnv& env) {
  const Graph& body = node.attr_graph("body");
  const LoopLayout layout = loop_layout(node);
  const bool has_trip_count = inputs.size() > 0 && !inputs[0].empty();
  const bool has_cond = inputs.size() > 1 && !inputs[1].empty();
  SLUICE_CHECK(has_trip_count || has_cond, where(node),
               "has neither a trip count 'M' nor a condition 'cond'; the loop would never end");
  int64_t trip_count = std::numeric_limits<int64_t>::max();
  if (has_trip_count) {
    SLUICE_CHECK(inputs[0].type() == ElementType::i64 && inputs[0].size() == 1, where(node),
                 "input 'M' must be an i64 tensor with one element; got ", to_string(inputs[0].type()), " ",
                 to_string(inputs[0].shape()));
    trip_count = inputs[0].data<int64_t>()[0];
  }
  bool cond = has_cond ? scalar_bool(inputs[1], node, "input 'cond'") : true;
  std::vector<Tensor> carried(inputs.begin() + 2, inputs.end());
  std::vector<std::vector<Tensor>> scans(layout.scans);
  for (int64_t i = 0; i < trip_count && cond; ++i) {
    std::vector<Tensor> body_inputs{Tensor::scalar<int64_t>(i), Tensor::scalar<bool>(cond)};
    body_inputs.insert(body_inputs.end(), carried.begin(), carried.end());
    std::vector<Tensor> out = env.run_subgraph(body, body_inputs);
    SLUICE_CHECK(out.size() == 1 + layout.carried + layout.scans, where(node), "the body produced ",
                 out.size(), " outputs; expected ", 1 + layout.carried + layout.scans);
    // Without a 'cond' input the body's condition is ignored (a plain for loop).
    if (has_cond) cond = scalar_bool(out[0], node, "the body's condition output");
    std::copy(out.begin() + 1, out.begin() + 1 + static_cast<ptrdiff_t>(layout.carried), carried.begin());
    for (size_t k = 0; k < layout.scans; ++k) {
      const Tensor& element = out[1 + layout.carried + k];
      SLUICE_CHECK(!element.empty() && !element.is_sequence(), where(node), "iteration ", i, " produced a ",
                   describe(element), " for scan output ", k, "; scan outputs stack tensors");
      scans[k].push_back(element);
    }
  }
  std::vector<Tensor> outputs = clone_all(carried);
  for (size_t k = 0; k < layout.scans; ++k) {
    const auto count = static_cast<int64_t>(scans[k].size());
    if (count > 0) {
      outputs.push_back(stack(scans[k], count, 0, scans[k][0].type(), scans[k][0].shape(), node));
    } else {
      const auto [type, element] =
          empty_scan_element(node, layout.carried + k, body, 1 + layout.carried + k, {0});
      outputs.push_back(stack({}, 0, 0, type, element, node));
    }
  }
  return outputs;
}

// ---- Scan ----

// Scan's inputs are ([sequence_lens,] initial states..., scan inputs...) and its outputs (final states...,
// scan outputs...); the body maps (states..., scan elements...) to (states..., scan output elements...).
struct ScanLayout {
  size_t first_state = 0;  // 1 for opset 8 (sequence_lens comes first)
  size_t states = 0;
  size_t scan_inputs = 0;
  size_t scan_outputs = 0;
  std::vector<int64_t> input_axes;        // as given (opset 9+), or 1 (opset 8, within the batch)
  std::vector<int64_t> input_directions;  // 0 forward, 1 reverse
  std::vector<int64_t> output_axes;       // as given (opset 9+), or 1 (opset 8)
  std::vector<int64_t> output_directions;
};

std::vector<int64_t> list_attr(const Node& node, const char* attr, size_t count, int64_t fallback) {
  std::vector<int64_t> values = node.attr_ints(attr, std::vector<int64_t>(count, fallback));
  SLUICE_CHECK(values.size() == count, where(node), "attribute '", attr, "' has ", values.size(),
               " values; expected ", count);
  return values;
}

void check_directions(const Node& node, const char* attr, const std::vector<int64_t>& directions) {
  for (int64_t d : directions) {
    SLUICE_CHECK(d == 0 || d == 1, where(node), "attribute '", attr, "' holds ", d,
                 "; expected 0 (forward) or 1 (reverse)");
  }
}

ScanLayout scan_layout(const Node& node, int64_t since) {
  const Graph& body = graph_attr(node, "body");
  const int64_t m = node.attr_int("num_scan_inputs");
  ScanLayout layout;
  layout.first_state = since == 8 ? 1 : 0;
  const size_t variadic =
      node.inputs.size() > layout.first_state ? node.inputs.size() - layout.first_state : 0;
  SLUICE_CHECK(m >= 1 && static_cast<size_t>(m) <= variadic, where(node), "attribute 'num_scan_inputs' is ",
               m, "; expected 1 to ", variadic, " (the number of state and scan inputs)");
  layout.scan_inputs = static_cast<size_t>(m);
  layout.states = variadic - layout.scan_inputs;
  SLUICE_CHECK(body.inputs().size() == variadic, where(node), "attribute 'body' has ", body.inputs().size(),
               " inputs; expected ", variadic, " (", layout.states, " states and ", m, " scan inputs)");
  SLUICE_CHECK(body.outputs().size() == node.outputs.size(), where(node), "attribute 'body' has ",
               body.outputs().size(), " outputs; the node has ", node.outputs.size());
  SLUICE_CHECK(node.outputs.size() >= layout.states, where(node), "has ", node.outputs.size(),
               " outputs; expected at least the ", layout.states, " final states");
  layout.scan_outputs = node.outputs.size() - layout.states;
  for (size_t i = layout.first_state; i < layout.first_state + variadic; ++i) {
    SLUICE_CHECK(node.has_input(i), where(node), "input ", i, " is missing");
  }
  if (since == 8) {
    layout.input_directions = list_attr(node, "directions", layout.scan_inputs, 0);
    check_directions(node, "directions", layout.input_directions);
    layout.input_axes.assign(layout.scan_inputs, 1);
    layout.output_axes.assign(layout.scan_outputs, 1);
    layout.output_directions.assign(layout.scan_outputs, 0);
    return layout;
  }
  layout.input_axes = list_attr(node, "scan_input_axes", layout.scan_inputs, 0);
  layout.input_directions = list_attr(node, "scan_input_directions", layout.scan_inputs, 0);
  layout.output_axes = list_attr(node, "scan_output_axes", layout.scan_outputs, 0);
  layout.output_directions = list_attr(node, "scan_output_directions", layout.scan_outputs, 0);
  check_directions(node, "scan_input_directions", layout.input_directions);
  check_directions(node, "scan_output_directions", layout.output_directions);
  for (const auto* axes : {&layout.input_axes, &layout.output_axes}) {
    for (int64_t axis : *axes) {
      SLUICE_CHECK(since >= 11 || axis >= 0, where(node), "scan axis ", axis, " is negative; opset ",
                   node.opset_version, " expects non-negative axes");
    }
  }
  return layout;
}

// The scan axis of scan input j for a rank-`rank` input (opset 9+).
int64_t scan_input_axis(const ScanLayout& layout, size_t j, int64_t rank, const Node& node) {
  return normalize_axis(layout.input_axes[j], rank, node);
}

void infer_scan(InferContext& ctx, int64_t since) {
  const Node& node = ctx.node;
  const ScanLayout layout = scan_layout(node, since);
  const bool batched = since == 8;
  std::vector<TypedShape> body_in;
  for (size_t i = 0; i < layout.states; ++i) {
    const PartialShape& shape = ctx.input_shape(layout.first_state + i);
    SLUICE_CHECK(!batched || shape.rank() != 0, where(node), "state input ", i,
                 " is a scalar; opset 8 expects a batch axis");
    body_in.emplace_back(ctx.input_type(layout.first_state + i), batched ? remove_dim(shape, 0) : shape);
  }
  Dimension batch;
  Dimension sequence;
  for (size_t j = 0; j < layout.scan_inputs; ++j) {
    const size_t input = layout.first_state + layout.states + j;
    const PartialShape& shape = ctx.input_shape(input);
    PartialShape element = shape;
    if (shape.rank_known()) {
      SLUICE_CHECK(shape.rank() >= (batched ? 2 : 1), where(node), "scan input ", j, " has shape ",
                   shape.to_string(),
                   batched ? "; opset 8 expects [batch, sequence, ...]" : "; expected rank >= 1");
      const int64_t axis = batched ? 1 : scan_input_axis(layout, j, shape.rank(), node);
      if (j == 0) sequence = shape[static_cast<size_t>(axis)];
      if (batched && j == 0) batch = shape[0];
      element = remove_dim(shape, axis);
      if (batched) element = remove_dim(element, 0);
    }
    body_in.emplace_back(ctx.input_type(input), element);
  }
  const std::vector<TypedShape> out = body_outputs(ctx, node.attr_graph("body"), body_in);
  for (size_t i = 0; i < layout.states && i < out.size(); ++i) {
    const ElementType type = common_type(body_in[i].first, out[i].first, node, "state " + std::to_string(i));
    PartialShape shape = refine(body_in[i].second, out[i].second);
    ctx.set_output(i, type, batched ? insert_dim(shape, 0, batch) : shape);
  }
  for (size_t k = 0; k < layout.scan_outputs && layout.states + k < out.size(); ++k) {
    const TypedShape& element = out[layout.states + k];
    PartialShape shape = PartialShape::unknown_rank();
    if (element.second.rank_known()) {
      const int64_t axis =
          batched ? 0 : normalize_axis(layout.output_axes[k], element.second.rank() + 1, node);
      shape = insert_dim(element.second, axis, sequence);
      if (batched) shape = insert_dim(shape, 0, batch);
    }
    ctx.set_output(layout.states + k, element.first, shape);
  }
}

// Runs the scan body over `length` steps of the given scan inputs; returns the final states and, per scan
// output, the elements in iteration order.
struct ScanRun {
  std::vector<Tensor> states;
  std::vector<std::vector<Tensor>> elements;
};

ScanRun run_scan_steps(const Node& node, const ScanLayout& layout, std::vector<Tensor> states,
                       const std::vector<Tensor>& scan_inputs, const std::vector<int64_t>& axes,
                       int64_t length, KernelEnv& env) {
  const Graph& body = node.attr_graph("body");
  ScanRun run{std::move(states), std::vector<std::vector<Tensor>>(layout.scan_outputs)};
  for (int64_t t = 0; t < length; ++t) {
    std::vector<Tensor> body_inputs = run.states;
    for (size_t j = 0; j < scan_inputs.size(); ++j) {
      const int64_t step = layout.input_directions[j] == 1 ? length - 1 - t : t;
      body_inputs.push_back(slice_at(scan_inputs[j], axes[j], step));
    }
    std::vector<Tensor> out = env.run_subgraph(body, body_inputs);
    SLUICE_CHECK(out.size() == layout.states + layout.scan_outputs, where(node), "the body produced ",
                 out.size(), " outputs; expected ", layout.states + layout.scan_outputs);
    std::copy(out.begin(), out.begin() + static_cast<ptrdiff_t>(layout.states), run.states.begin());
    for (size_t k = 0; k < layout.scan_outputs; ++k) run.elements[k].push_back(out[layout.states + k]);
  }
  return run;
}

// The common sequence length of the scan inputs along their axes.
int64_t sequence_length(const Node& node, const std::vector<Tensor>& scan_inputs,
                        const std::vector<int64_t>& axes) {
  int64_t length = -1;
  for (size_t j = 0; j < scan_inputs.size(); ++j) {
    const int64_t extent = scan_inputs[j].shape()[static_cast<size_t>(axes[j])];
    SLUICE_CHECK(length < 0 || extent == length, where(node), "scan input ", j, " has ", extent,
                 " steps along its scan axis; scan input 0 has ", length);
    length = extent;
  }
  return length;
}

std::vector<Tensor> run_scan9(const Node& node, std::span<const Tensor> inputs, KernelEnv& env,
                              int64_t since) {
  const ScanLayout layout = scan_layout(node, since);
  std::vector<Tensor> states(inputs.begin(), inputs.begin() + static_cast<ptrdiff_t>(layout.states));
  std::vector<Tensor> scan_inputs(inputs.begin() + static_cast<ptrdiff_t>(layout.states), inputs.end());
  std::vector<int64_t> axes;
  for (size_t j = 0; j < scan_inputs.size(); ++j) {
    SLUICE_CHECK(scan_inputs[j].rank() >= 1, where(node), "scan input ", j,
                 " is a scalar; expected rank >= 1");
    axes.push_back(scan_input_axis(layout, j, scan_inputs[j].rank(), node));
  }
  const int64_t length = sequence_length(node, scan_inputs, axes);
  ScanRun run = run_scan_steps(node, layout, std::move(states), scan_inputs, axes, length, env);
  std::vector<Tensor> outputs = clone_all(run.states);
  const Graph& body = node.attr_graph("body");
  for (size_t k = 0; k < layout.scan_outputs; ++k) {
    std::vector<Tensor>& parts = run.elements[k];
    if (layout.output_directions[k] == 1) std::reverse(parts.begin(), parts.end());
    ElementType type;
    Shape element;
    int64_t axis;
    if (!parts.empty()) {
      type = parts[0].type();
      element = parts[0].shape();
      axis = normalize_axis(layout.output_axes[k], static_cast<int64_t>(element.size()) + 1, node);
    } else {
      const graph::Value* out =
          node.has_output(layout.states + k) ? node.outputs[layout.states + k] : nullptr;
      const int64_t rank = out && out->shape.rank_known()
                               ? out->shape.rank()
                               : body.outputs()[layout.states + k]->shape.rank() + 1;
      axis = rank > 0 ? normalize_axis(layout.output_axes[k], rank, node) : 0;
      std::tie(type, element) = empty_scan_element(node, layout.states + k, body, layout.states + k, {axis});
    }
    outputs.push_back(stack(parts, length, axis, type, element, node));
  }
  return outputs;
}

std::vector<Tensor> run_scan8(const Node& node, std::span<const Tensor> inputs, KernelEnv& env) {
  const ScanLayout layout = scan_layout(node, 8);
  const std::vector<Tensor> states(inputs.begin() + 1,
                                   inputs.begin() + 1 + static_cast<ptrdiff_t>(layout.states));
  const std::vector<Tensor> scan_inputs(inputs.begin() + 1 + static_cast<ptrdiff_t>(layout.states),
                                        inputs.end());
  for (size_t j = 0; j < scan_inputs.size(); ++j) {
    SLUICE_CHECK(scan_inputs[j].rank() >= 2 && scan_inputs[j].shape()[0] == scan_inputs[0].shape()[0],
                 where(node), "scan input ", j, " has shape ", to_string(scan_inputs[j].shape()),
                 "; expected [batch, sequence, ...] with the batch of scan input 0");
  }
  const int64_t batch = scan_inputs[0].shape()[0];
  const int64_t max_length = sequence_length(node, scan_inputs, std::vector<int64_t>(scan_inputs.size(), 1));
  for (size_t i = 0; i < states.size(); ++i) {
    SLUICE_CHECK(states[i].rank() >= 1 && states[i].shape()[0] == batch, where(node), "state input ", i,
                 " has shape ", to_string(states[i].shape()), "; expected a leading batch axis of ", batch);
  }
  std::vector<int64_t> lengths(static_cast<size_t>(batch), max_length);
  if (!inputs[0].empty()) {
    lengths = to_int64s(inputs[0]);
    SLUICE_CHECK(static_cast<int64_t>(lengths.size()) == batch, where(node), "input 'sequence_lens' has ",
                 lengths.size(), " values; expected ", batch, " (the batch size)");
    for (int64_t len : lengths) {
      SLUICE_CHECK(len >= 0 && len <= max_length, where(node), "input 'sequence_lens' holds ", len,
                   "; expected a length in [0, ", max_length, "]");
    }
  }
  const std::vector<int64_t> axes(scan_inputs.size(), 0);
  std::vector<std::vector<Tensor>> batch_states(layout.states);
  std::vector<std::vector<Tensor>> batch_scans(layout.scan_outputs);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> initial;
    initial.reserve(states.size());
    for (const Tensor& s : states) initial.push_back(slice_at(s, 0, b));
    std::vector<Tensor> sequences;
    sequences.reserve(scan_inputs.size());
    for (const Tensor& x : scan_inputs) sequences.push_back(slice_at(x, 0, b));
    ScanRun run = run_scan_steps(node, layout, std::move(initial), sequences, axes,
                                 lengths[static_cast<size_t>(b)], env);
    for (size_t i = 0; i < layout.states; ++i) batch_states[i].push_back(run.states[i]);
    for (size_t k = 0; k < layout.scan_outputs; ++k) {
      const std::vector<Tensor>& parts = run.elements[k];
      ElementType type;
      Shape element;
      if (!parts.empty()) {
        type = parts[0].type();
        element = parts[0].shape();
      } else {
        std::tie(type, element) =
            empty_scan_element(node, layout.states + k, node.attr_graph("body"), layout.states + k, {0, 1});
      }
      batch_scans[k].push_back(stack(parts, max_length, 0, type, element, node));
    }
  }
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < layout.states; ++i) {
    const auto [type, element] =
        batch_states[i].empty()
            ? std::pair{states[i].type(), Shape(states[i].shape().begin() + 1, states[i].shape().end())}
            : std::pair{batch_states[i][0].type(), batch_states[i][0].shape()};
    outputs.push_back(stack(batch_states[i], batch, 0, type, element, node));
  }
  for (size_t k = 0; k < layout.scan_outputs; ++k) {
    ElementType type;
    Shape element;
    if (!batch_scans[k].empty()) {
      type = batch_scans[k][0].type();
      element = batch_scans[k][0].shape();
    } else {
      std::tie(type, element) =
          empty_scan_element(node, layout.states + k, node.attr_graph("body"), layout.states + k, {0, 1});
      element.insert(element.begin(), max_length);
    }
    outputs.push_back(stack(batch_scans[k], batch, 0, type, element, node));
  }
  return outputs;
}

OpSchema make_scan_schema(int64_t since) {
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = "Scan";
  schema.takes_strings = true;  // scan slices and stacks copy elements with copy_elements
  schema.since_version = since;
  schema.min_inputs = since == 8 ? 0 : 1;  // opset 8: sequence_lens may be omitted
  schema.max_inputs = -1;
  schema.min_outputs = 1;
  schema.max_outputs = -1;
  schema.validate = [since](const Node& node) { scan_layout(node, since); };
  schema.infer = [since](InferContext& ctx) { infer_scan(ctx, since); };
  schema.reference = [since](const Node& node, std::span<const Tensor> inputs, KernelEnv& env) {
    return since == 8 ? run_scan8(node, inputs, env) : run_scan9(node, inputs, env, since);
  };
  return schema;
}

OpSchema make_if_schema() {
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = "If";
  schema.since_version = 1;
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.min_outputs = 1;
  schema.max_outputs = -1;
  schema.validate = validate_if;
  schema.infer = infer_if;
  schema.reference = run_if;
  schema.takes_sequences = true;  // the condition is checked to be a tensor; branches may make any value
  schema.takes_strings = true;
  return schema;
}

OpSchema make_loop_schema() {
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = "Loop";
  schema.since_version = 1;
  schema.min_inputs = 0;
  schema.max_inputs = -1;
  schema.min_outputs = 1;
  schema.max_outputs = -1;
  schema.validate = validate_loop;
  schema.infer = infer_loop;
  schema.reference = run_loop;
  schema.takes_sequences = true;  // loop-carried values may be sequences or optionals; M and cond are checked
  schema.takes_strings = true;    // carried values are passed as handles; scan outputs stacked element-wise
  return schema;
}

}  // namespace
}  // namespace sluice::ops

namespace sluice::graph {

void register_control_flow_ops(OpRegistry& registry) {
  registry.add(ops::make_if_schema());
  registry.add(ops::make_loop_schema());
  for (int64_t since : {8, 9, 11}) registry.add(ops::make_scan_schema(since));
}

}  // namespace sluice::graph
