// Index-producing reductions: ArgMax and ArgMin (opset 1: non-negative axis; 11: negative axis; 12:
// select_last_index) and TopK (opset 1: k attribute; 10: k input; 11: largest, sorted, any numeric type).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/common.hpp"

namespace sluice::ops {
namespace {

template <class T> bool is_nan_value(T value) {
  if constexpr (is_floating_v<T>) {
    return std::isnan(static_cast<double>(value));
  } else {
    return false;
  }
}

// Splits a shape around `axis`: the product of the dimensions before it, its extent and the product of
// the dimensions after it.
struct AxisSplit {
  int64_t outer = 1;
  int64_t extent = 1;
  int64_t inner = 1;
};

AxisSplit split_at(const Shape& shape, int64_t axis) {
  AxisSplit split;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < axis) split.outer *= shape[d];
    if (d == axis) split.extent = shape[d];
    if (d > axis) split.inner *= shape[d];
  }
  return split;
}

void check_flag(const Node& node, const char* attr, int64_t fallback) {
  const int64_t value = node.attr_int(attr, fallback);
  SLUICE_CHECK(value == 0 || value == 1, where(node), "attribute '", attr, "' is ", value,
               "; expected 0 or 1");
}

void check_numeric_input(const InferContext& ctx, const char* input) {
  SLUICE_CHECK(ctx.input_type(0) != ElementType::boolean, where(ctx.node), "input '", input,
               "' has element type boolean; expected a numeric type");
}

// ---- ArgMax / ArgMin ----

enum class ArgKind { max, min };

int64_t arg_axis(const Node& node, int64_t rank, bool allow_negative) {
  const int64_t axis = node.attr_int("axis", 0);
  SLUICE_CHECK(allow_negative || axis >= 0, where(node), "attribute 'axis' is ", axis, "; opset ",
               node.opset_version, " expects an axis in [0, ", rank, ")");
  return normalize_axis(axis, rank, node);
}

void validate_arg(const Node& node, bool has_select_last) {
  check_flag(node, "keepdims", 1);
  if (has_select_last) check_flag(node, "select_last_index", 0);
}

void infer_arg(InferContext& ctx, bool allow_negative) {
  check_numeric_input(ctx, "data");
  const PartialShape& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output(0, ElementType::i64, PartialShape::unknown_rank());
    return;
  }
  const int64_t axis = arg_axis(ctx.node, in.rank(), allow_negative);
  SLUICE_CHECK(in[static_cast<size_t>(axis)].extent() != 0, where(ctx.node), "input 'data' has shape ",
               in.to_string(), ": the reduced axis ", axis, " is empty");
  std::vector<Dimension> dims;
  for (int64_t d = 0; d < in.rank(); ++d) {
    if (d != axis) {
      dims.push_back(in[static_cast<size_t>(d)]);
    } else if (ctx.node.attr_int("keepdims", 1) != 0) {
      dims.emplace_back(1);
    }
  }
  ctx.set_output(0, ElementType::i64, PartialShape(std::move(dims)));
}

// Whether `candidate` replaces `best` as the extreme value; NaN beats every number (as numpy's argmax
// and argmin), ties go to the earlier index unless select_last.
template <class C> bool replaces(C candidate, C best, ArgKind kind, bool select_last) {
  if (is_nan_value(best)) return select_last && is_nan_value(candidate);
  if (is_nan_value(candidate)) return true;
  if (candidate == best) return select_last;
  return kind == ArgKind::max ? candidate > best : candidate < best;
}

template <class T>
Tensor arg_typed(const Tensor& data, int64_t axis, bool keepdims, bool select_last, ArgKind kind) {
  using C = compute_t<T>;
  const AxisSplit split = split_at(data.shape(), axis);
  Shape out_shape = data.shape();
  if (keepdims) {
    out_shape[static_cast<size_t>(axis)] = 1;
  } else {
    out_shape.erase(out_shape.begin() + axis);
  }
  Tensor out(ElementType::i64, out_shape);
  const T* in = data.data<T>();
  auto* dst = out.data<int64_t>();
  for (int64_t o = 0; o < split.outer; ++o) {
    for (int64_t i = 0; i < split.inner; ++i) {
      const T* line = in + o * split.extent * split.inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < split.extent; ++k) {
        const C candidate = static_cast<C>(line[k * split.inner]);
        if (replaces(candidate, static_cast<C>(line[best * split.inner]), kind, select_last)) best = k;
      }
      dst[o * split.inner + i] = best;
    }
  }
  return out;
}

std::vector<Tensor> run_arg(const Node& node, std::span<const Tensor> inputs, ArgKind kind,
                            bool allow_negative, bool has_select_last) {
  const Tensor& data = inputs[0];
  const int64_t axis = arg_axis(node, data.rank(), allow_negative);
  SLUICE_CHECK(data.shape()[static_cast<size_t>(axis)] > 0, where(node), "input 'data' has shape ",
               to_string(data.shape()), ": the reduced axis ", axis, " is empty");
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  const bool select_last = has_select_last && node.attr_int("select_last_index", 0) != 0;
  return {dispatch_numeric(data.type(), where(node) + "input 'data'", [&](auto tag) {
    return arg_typed<decltype(tag)>(data, axis, keepdims, select_last, kind);
  })};
}

OpSchema make_arg_schema(const char* name, ArgKind kind, int64_t since) {
  const bool allow_negative = since >= 11;
  const bool has_select_last = since >= 12;
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = name;
  schema.since_version = since;
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.validate = [has_select_last](const Node& node) { validate_arg(node, has_select_last); };
  schema.infer = [allow_negative](InferContext& ctx) { infer_arg(ctx, allow_negative); };
  schema.reference = [kind, allow_negative, has_select_last](const Node& node, std::span<const Tensor> inputs,
                                                             KernelEnv&) {
    return run_arg(node, inputs, kind, allow_negative, has_select_last);
  };
  return schema;
}

// ---- TopK ----

struct TopKForm {
  bool k_input = false;          // opset 10+: k is the second input, else the 'k' attribute
  bool has_order_attrs = false;  // opset 11+: 'largest' and 'sorted', numeric types
};

void validate_topk(const Node& node, TopKForm form) {
  if (!form.k_input) {
    SLUICE_CHECK(node.has_attr("k"), where(node), "attribute 'k' is missing; opset ", node.opset_version,
                 " takes k as an attribute");
    SLUICE_CHECK(node.attr_int("k") >= 0, where(node), "attribute 'k' is ", node.attr_int("k"),
                 "; expected k >= 0");
  } else {
    SLUICE_CHECK(!node.has_attr("k"), where(node),
                 "has a 'k' attribute; from opset 10 k is the second input");
  }
  if (form.has_order_attrs) {
    check_flag(node, "largest", 1);
    check_flag(node, "sorted", 1);
  }
}

int64_t k_from_tensor(const Tensor& k, const Node& node) {
  SLUICE_CHECK(k.type() == ElementType::i64, where(node), "input 'K' has element type ", to_string(k.type()),
               "; expected i64");
  SLUICE_CHECK(k.size() == 1 && k.rank() <= 1, where(node), "input 'K' has shape ", to_string(k.shape()),
               "; expected a 1-D tensor with one element");
  const int64_t value = k.data<int64_t>()[0];
  SLUICE_CHECK(value >= 0, where(node), "input 'K' is ", value, "; expected k >= 0");
  return value;
}

void infer_topk(InferContext& ctx, TopKForm form) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(0);
  check_numeric_input(ctx, "X");
  SLUICE_CHECK(form.has_order_attrs || type == ElementType::undefined || is_floating(type), where(node),
               "input 'X' has element type ", to_string(type), "; opset ", node.opset_version,
               " expects a floating type");
  std::optional<int64_t> k;
  if (!form.k_input) {
    k = node.attr_int("k");
  } else {
    SLUICE_CHECK(ctx.input_type(1) == ElementType::i64 || ctx.input_type(1) == ElementType::undefined,
                 where(node), "input 'K' has element type ", to_string(ctx.input_type(1)), "; expected i64");
    if (const Tensor* value = ctx.input_value(1)) k = k_from_tensor(*value, node);
  }
  const PartialShape& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output(0, type, PartialShape::unknown_rank());
    ctx.set_output(1, ElementType::i64, PartialShape::unknown_rank());
    return;
  }
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), in.rank(), node);
  std::vector<Dimension> dims = in.dims();
  Dimension& along = dims[static_cast<size_t>(axis)];
  if (k && along.is_static()) {
    SLUICE_CHECK(*k <= along.extent(), where(node), "k = ", *k, " exceeds the extent ", along.extent(),
                 " of axis ", axis, " of input 'X' ", in.to_string());
  }
  along = k ? Dimension(*k) : Dimension();
  ctx.set_output(0, type, PartialShape(dims));
  ctx.set_output(1, ElementType::i64, PartialShape(std::move(dims)));
}

// Strict ordering for TopK: the wanted values first (NaN counts as the largest value), so that a stable
// sort keeps equal values in index order.
template <class C> bool comes_before(C a, C b, bool largest) {
  const bool a_nan = is_nan_value(a);
  const bool b_nan = is_nan_value(b);
  if (a_nan || b_nan) return largest ? a_nan && !b_nan : b_nan && !a_nan;
  return largest ? a > b : a < b;
}

template <class T> std::vector<Tensor> topk_typed(const Tensor& x, int64_t axis, int64_t k, bool largest) {
  using C = compute_t<T>;
  const AxisSplit split = split_at(x.shape(), axis);
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = k;
  Tensor values(x.type(), out_shape);
  Tensor indices(ElementType::i64, out_shape);
  const T* in = x.data<T>();
  T* values_out = values.data<T>();
  auto* indices_out = indices.data<int64_t>();
  std::vector<int64_t> order(static_cast<size_t>(split.extent));
  for (int64_t o = 0; o < split.outer; ++o) {
    for (int64_t i = 0; i < split.inner; ++i) {
      const T* line = in + o * split.extent * split.inner + i;
      std::iota(order.begin(), order.end(), int64_t{0});
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return comes_before(static_cast<C>(line[a * split.inner]), static_cast<C>(line[b * split.inner]),
                            largest);
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dst = (o * k + j) * split.inner + i;
        values_out[dst] = line[order[static_cast<size_t>(j)] * split.inner];
        indices_out[dst] = order[static_cast<size_t>(j)];
      }
    }
  }
  return {values, indices};
}

std::vector<Tensor> run_topk(const Node& node, std::span<const Tensor> inputs, TopKForm form) {
  const Tensor& x = inputs[0];
  const int64_t k = form.k_input ? k_from_tensor(inputs[1], node) : node.attr_int("k");
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), x.rank(), node);
  const int64_t extent = x.shape()[static_cast<size_t>(axis)];
  SLUICE_CHECK(k <= extent, where(node), "k = ", k, " exceeds the extent ", extent, " of axis ", axis,
               " of input 'X' ", to_string(x.shape()));
  const bool largest = !form.has_order_attrs || node.attr_int("largest", 1) != 0;
  return dispatch_numeric(x.type(), where(node) + "input 'X'",
                          [&](auto tag) { return topk_typed<decltype(tag)>(x, axis, k, largest); });
}

OpSchema make_topk_schema(int64_t since) {
  const TopKForm form{since >= 10, since >= 11};
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = "TopK";
  schema.since_version = since;
  schema.min_inputs = form.k_input ? 2 : 1;
  schema.max_inputs = form.k_input ? 2 : 1;
  schema.min_outputs = 2;
  schema.max_outputs = 2;
  schema.validate = [form](const Node& node) { validate_topk(node, form); };
  schema.infer = [form](InferContext& ctx) { infer_topk(ctx, form); };
  schema.reference = [form](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    return run_topk(node, inputs, form);
  };
  return schema;
}

}  // namespace

void register_index_reduction_ops(OpRegistry& registry) {
  for (int64_t since : {1, 11, 12}) {
    registry.add(make_arg_schema("ArgMax", ArgKind::max, since));
    registry.add(make_arg_schema("ArgMin", ArgKind::min, since));
  }
  for (int64_t since : {1, 10, 11}) registry.add(make_topk_schema(since));
}

}  // namespace sluice::ops
