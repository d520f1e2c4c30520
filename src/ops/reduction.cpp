// The Reduce* operators (ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp, ReduceSumSquare) in their three forms: axes attribute without negative
// axes (opset 1), axes attribute (opset 11), and axes input with noop_with_empty_axes (opset 13 for
// ReduceSum, 18 for the others; ReduceMax/ReduceMin also take bool from opset 20). ArgMax, ArgMin and
// TopK live in reduction_index.cpp.
#include <cmath>
#include <limits>
#include <optional>

#include "ops/common.hpp"

namespace sluice::ops {

void register_index_reduction_ops(OpRegistry& registry);  // reduction_index.cpp

namespace {

enum class ReduceKind { sum, mean, max, min, prod, l1, l2, log_sum, log_sum_exp, sum_square };

enum class AxesForm {
  attribute_nonnegative,  // opset 1: axes attribute, each axis in [0, rank)
  attribute,              // opset 11: axes attribute, each axis in [-rank, rank)
  input,                  // opset 13/18: optional axes input (i64), noop_with_empty_axes attribute
};

struct ReduceOp {
  const char* name;
  ReduceKind kind;
  int64_t input_axes_since;
};

// What a node reduces: every axis, none (noop), or a list of possibly negative axes.
struct AxesSpec {
  bool all = false;
  bool noop = false;
  std::vector<int64_t> axes;
};

AxesSpec axes_from_list(const Node& node, std::vector<int64_t> axes, AxesForm form) {
  AxesSpec spec;
  spec.axes = std::move(axes);
  if (spec.axes.empty()) {
    const bool noop = form == AxesForm::input && node.attr_int("noop_with_empty_axes", 0) != 0;
    spec.noop = noop;
    spec.all = !noop;
  }
  return spec;
}

// The axes for the kernel: from the attribute or from the axes input's value.
AxesSpec kernel_axes(const Node& node, std::span<const Tensor> inputs, AxesForm form) {
  if (form != AxesForm::input) return axes_from_list(node, node.attr_ints("axes", {}), form);
  const bool has_axes = inputs.size() > 1 && !inputs[1].empty();
  return axes_from_list(node, has_axes ? to_int64s(inputs[1]) : std::vector<int64_t>{}, form);
}

// The axes for shape inference; nullopt when the axes input is present but not a constant.
std::optional<AxesSpec> inferred_axes(const InferContext& ctx, AxesForm form) {
  const Node& node = ctx.node;
  if (form != AxesForm::input) return axes_from_list(node, node.attr_ints("axes", {}), form);
  if (!ctx.has_input(1)) return axes_from_list(node, {}, form);
  SLUICE_CHECK(ctx.input_type(1) == ElementType::i64 || ctx.input_type(1) == ElementType::undefined,
               where(node), "input 'axes' has element type ", to_string(ctx.input_type(1)), "; expected i64");
  const PartialShape& axes_shape = ctx.input_shape(1);
  SLUICE_CHECK(axes_shape.rank() <= 1, where(node), "input 'axes' has shape ", axes_shape.to_string(),
               "; expected a 1-D tensor");
  if (const Tensor* value = ctx.input_value(1)) return axes_from_list(node, to_int64s(*value), form);
  if (axes_shape.rank() == 1 && axes_shape[0].extent() == 0) return axes_from_list(node, {}, form);
  return std::nullopt;
}

// For each dimension of a rank-`rank` input, whether it is reduced. Throws for out-of-range or repeated
// axes.
std::vector<bool> reduced_dims(const AxesSpec& spec, int64_t rank, const Node& node, AxesForm form) {
  std::vector<bool> reduced(static_cast<size_t>(rank), spec.all);
  if (spec.all || spec.noop) return reduced;
  for (int64_t axis : spec.axes) {
    SLUICE_CHECK(form != AxesForm::attribute_nonnegative || axis >= 0, where(node), "axis ", axis,
                 " is negative; opset ", node.opset_version, " expects axes in [0, ", rank, ")");
    const int64_t a = normalize_axis(axis, rank, node);
    SLUICE_CHECK(!reduced[static_cast<size_t>(a)], where(node), "axis ", axis, " is listed twice in axes");
    reduced[static_cast<size_t>(a)] = true;
  }
  return reduced;
}

bool keeps_dims(const Node& node) { return node.attr_int("keepdims", 1) != 0; }

bool allows_bool(ReduceKind kind, const Node& node) {
  return (kind == ReduceKind::max || kind == ReduceKind::min) && node.opset_version >= 20;
}

void check_data_type(ElementType type, ReduceKind kind, const Node& node) {
  if (type == ElementType::undefined) return;
  SLUICE_CHECK(type != ElementType::boolean || allows_bool(kind, node), where(node),
               "input 'data' has element type boolean; expected a numeric type",
               (kind == ReduceKind::max || kind == ReduceKind::min) ? " (bool needs opset 20)" : "");
}

void validate_reduce(const Node& node, AxesForm form) {
  const int64_t keepdims = node.attr_int("keepdims", 1);
  SLUICE_CHECK(keepdims == 0 || keepdims == 1, where(node), "attribute 'keepdims' is ", keepdims,
               "; expected 0 or 1");
  if (form == AxesForm::input) {
    SLUICE_CHECK(!node.has_attr("axes"), where(node), "has an 'axes' attribute; from opset ",
                 node.schema ? node.schema->since_version : node.opset_version,
                 " axes are given as the second input");
    const int64_t noop = node.attr_int("noop_with_empty_axes", 0);
    SLUICE_CHECK(noop == 0 || noop == 1, where(node), "attribute 'noop_with_empty_axes' is ", noop,
                 "; expected 0 or 1");
  }
}

void infer_reduce(InferContext& ctx, ReduceKind kind, AxesForm form) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(0);
  check_data_type(type, kind, node);
  const PartialShape& in = ctx.input_shape(0);
  const bool keepdims = keeps_dims(node);
  const std::optional<AxesSpec> spec = inferred_axes(ctx, form);
  if (!spec) {
    // Unknown axes: with keepdims the rank stays, any extent may become 1.
    if (keepdims && in.rank_known()) {
      ctx.set_output(0, type, PartialShape(std::vector<Dimension>(in.dims().size())));
    } else {
      ctx.set_output(0, type, PartialShape::unknown_rank());
    }
    return;
  }
  if (spec->noop) {
    ctx.set_output(0, type, in);
    return;
  }
  if (!in.rank_known()) {
    const bool scalar = spec->all && !keepdims;
    ctx.set_output(0, type, scalar ? PartialShape(Shape{}) : PartialShape::unknown_rank());
    return;
  }
  const std::vector<bool> reduced = reduced_dims(*spec, in.rank(), node, form);
  std::vector<Dimension> dims;
  for (size_t d = 0; d < reduced.size(); ++d) {
    if (!reduced[d]) {
      dims.push_back(in[d]);
    } else if (keepdims) {
      dims.emplace_back(1);
    }
  }
  ctx.set_output(0, type, PartialShape(std::move(dims)));
}

// Element offsets of every index over the selected dimensions (the others held at 0), row-major.
std::vector<int64_t> offsets_over(const Shape& shape, const std::vector<bool>& selected) {
  const std::vector<int64_t> strides = strides_of(shape);
  std::vector<int64_t> offsets{0};
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!selected[d]) continue;
    std::vector<int64_t> next;
    next.reserve(offsets.size() * static_cast<size_t>(shape[d]));
    for (int64_t base : offsets) {
      for (int64_t i = 0; i < shape[d]; ++i) next.push_back(base + i * strides[d]);
    }
    offsets = std::move(next);
  }
  return offsets;
}

// The accumulator type for elements of type T: double for f32/f64, float for the 16-bit floats, 64-bit
// integers for integers and bool.
template <class T>
using acc_t =
    std::conditional_t<is_floating_v<T>, std::conditional_t<(sizeof(T) == 2), float, double>,
                       std::conditional_t<std::is_same_v<T, bool> || std::is_signed_v<T>, int64_t, uint64_t>>;

// Integer arithmetic wraps around (as the element type would) instead of overflowing.
template <class A> A add(A a, A b) {
  if constexpr (std::is_integral_v<A>) {
    return static_cast<A>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  } else {
    return a + b;
  }
}

template <class A> A mul(A a, A b) {
  if constexpr (std::is_integral_v<A>) {
    return static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  } else {
    return a * b;
  }
}

template <class A> A magnitude(A a) {
  if constexpr (std::is_unsigned_v<A>) {
    return a;
  } else if constexpr (std::is_integral_v<A>) {
    return a < 0 ? static_cast<A>(0 - static_cast<uint64_t>(a)) : a;
  } else {
    return std::abs(a);
  }
}

template <class A> bool is_nan(A a) {
  if constexpr (std::is_floating_point_v<A>) {
    return std::isnan(a);
  } else {
    return false;
  }
}

// The identities of max and min: -inf/+inf for floats, the type's limits for integers, false/true for bool.
template <class T, class A = acc_t<T>> A lowest_value() {
  if constexpr (is_floating_v<T>) {
    return -std::numeric_limits<A>::infinity();
  } else if constexpr (std::is_same_v<T, bool>) {
    return 0;
  } else {
    return static_cast<A>(std::numeric_limits<T>::lowest());
  }
}

template <class T, class A = acc_t<T>> A highest_value() {
  if constexpr (is_floating_v<T>) {
    return std::numeric_limits<A>::infinity();
  } else if constexpr (std::is_same_v<T, bool>) {
    return 1;
  } else {
    return static_cast<A>(std::numeric_limits<T>::max());
  }
}

// A result computed in double, as the accumulator type; integers cannot hold inf or NaN.
template <class A> A from_double(double value, const Node& node) {
  if constexpr (std::is_integral_v<A>) {
    SLUICE_CHECK(std::isfinite(value), where(node), "the result ", value,
                 " is not representable in the integer element type");
    return static_cast<A>(value);
  } else {
    return static_cast<A>(value);
  }
}

template <class A> A sum_of(const std::vector<A>& values) {
  A sum = 0;
  for (A v : values) sum = add(sum, v);
  return sum;
}

template <class A> A sum_of_squares(const std::vector<A>& values) {
  A sum = 0;
  for (A v : values) sum = add(sum, mul(v, v));
  return sum;
}

template <class T, class A = acc_t<T>> A max_of(const std::vector<A>& values) {
  A best = lowest_value<T>();
  for (A v : values) {
    if (v > best || is_nan(v)) best = v;
    if (is_nan(best)) break;
  }
  return best;
}

template <class T, class A = acc_t<T>> A min_of(const std::vector<A>& values) {
  A best = highest_value<T>();
  for (A v : values) {
    if (v < best || is_nan(v)) best = v;
    if (is_nan(best)) break;
  }
  return best;
}

template <class A> double log_sum_exp(const std::vector<A>& values) {
  if (values.empty()) return -std::numeric_limits<double>::infinity();
  double top = -std::numeric_limits<double>::infinity();
  for (A v : values) top = std::max(top, static_cast<double>(v));
  if (std::isinf(top)) return top;
  double sum = 0;
  for (A v : values) sum += std::exp(static_cast<double>(v) - top);
  return top + std::log(sum);
}

// Reduces one group of elements (the elements of one output position).
template <class T, class A = acc_t<T>>
A reduce_group(ReduceKind kind, const std::vector<A>& values, const Node& node) {
  switch (kind) {
    case ReduceKind::sum: return sum_of(values);
    case ReduceKind::sum_square: return sum_of_squares(values);
    case ReduceKind::max: return max_of<T>(values);
    case ReduceKind::min: return min_of<T>(values);
    case ReduceKind::l1: {
      A sum = 0;
      for (A v : values) sum = add(sum, magnitude(v));
      return sum;
    }
    case ReduceKind::prod: {
      A prod = 1;
      for (A v : values) prod = mul(prod, v);
      return prod;
    }
    case ReduceKind::mean:
      if (values.empty()) {
        return from_double<A>(std::numeric_limits<double>::quiet_NaN(), node);
      }
      return sum_of(values) / static_cast<A>(values.size());
    case ReduceKind::l2: return from_double<A>(std::sqrt(static_cast<double>(sum_of_squares(values))), node);
    case ReduceKind::log_sum: return from_double<A>(std::log(static_cast<double>(sum_of(values))), node);
    case ReduceKind::log_sum_exp: return from_double<A>(log_sum_exp(values), node);
  }
  throw_error(where(node), "unknown reduction");
}

template <class T>
Tensor reduce_typed(const Tensor& data, const std::vector<bool>& reduced, bool keepdims, ReduceKind kind,
                    const Node& node) {
  using A = acc_t<T>;
  const Shape& in_shape = data.shape();
  Shape out_shape;
  std::vector<bool> kept(reduced.size());
  for (size_t d = 0; d < reduced.size(); ++d) {
    kept[d] = !reduced[d];
    if (!reduced[d]) {
      out_shape.push_back(in_shape[d]);
    } else if (keepdims) {
      out_shape.push_back(1);
    }
  }
  const std::vector<int64_t> outer = offsets_over(in_shape, kept);
  const std::vector<int64_t> inner = offsets_over(in_shape, reduced);
  Tensor out(data.type(), out_shape);
  const T* in = data.data<T>();
  T* dst = out.data<T>();
  std::vector<A> group(inner.size());
  for (size_t o = 0; o < outer.size(); ++o) {
    for (size_t i = 0; i < inner.size(); ++i) {
      group[i] = static_cast<A>(in[outer[o] + inner[i]]);  // NOLINT(bugprone-signed-char-misuse): i8 data
    }
    const A result = reduce_group<T>(kind, group, node);
    if constexpr (std::is_same_v<T, bool>) {
      dst[o] = result != 0;
    } else if constexpr (std::is_same_v<A, float>) {
      dst[o] = T(result);
    } else {
      dst[o] = static_cast<T>(result);
    }
  }
  return out;
}

std::vector<Tensor> run_reduce(const Node& node, std::span<const Tensor> inputs, ReduceKind kind,
                               AxesForm form) {
  const Tensor& data = inputs[0];
  check_data_type(data.type(), kind, node);
  const AxesSpec spec = kernel_axes(node, inputs, form);
  if (spec.noop) return {data.clone()};
  const std::vector<bool> reduced = reduced_dims(spec, data.rank(), node, form);
  const bool keepdims = keeps_dims(node);
  return {dispatch_all(data.type(), [&](auto tag) {
    return reduce_typed<decltype(tag)>(data, reduced, keepdims, kind, node);
  })};
}

OpSchema make_reduce_schema(const ReduceOp& op, int64_t since, AxesForm form) {
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = op.name;
  schema.since_version = since;
  schema.min_inputs = 1;
  schema.max_inputs = form == AxesForm::input ? 2 : 1;
  const ReduceKind kind = op.kind;
  schema.validate = [form](const Node& node) { validate_reduce(node, form); };
  schema.infer = [kind, form](InferContext& ctx) { infer_reduce(ctx, kind, form); };
  schema.reference = [kind, form](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    return run_reduce(node, inputs, kind, form);
  };
  return schema;
}

}  // namespace

void register_reduce_ops(OpRegistry& registry) {
  const ReduceOp ops[] = {
      {"ReduceSum", ReduceKind::sum, 13},
      {"ReduceMean", ReduceKind::mean, 18},
      {"ReduceMax", ReduceKind::max, 18},
      {"ReduceMin", ReduceKind::min, 18},
      {"ReduceProd", ReduceKind::prod, 18},
      {"ReduceL1", ReduceKind::l1, 18},
      {"ReduceL2", ReduceKind::l2, 18},
      {"ReduceLogSum", ReduceKind::log_sum, 18},
      {"ReduceLogSumExp", ReduceKind::log_sum_exp, 18},
      {"ReduceSumSquare", ReduceKind::sum_square, 18},
  };
  for (const ReduceOp& op : ops) {
    registry.add(make_reduce_schema(op, 1, AxesForm::attribute_nonnegative));
    registry.add(make_reduce_schema(op, 11, AxesForm::attribute));
    registry.add(make_reduce_schema(op, op.input_axes_since, AxesForm::input));
  }
}

}  // namespace sluice::ops

namespace sluice::graph {

void register_reduction_ops(OpRegistry& registry) {
  ops::register_reduce_ops(registry);
  ops::register_index_reduction_ops(registry);
}

}  // namespace sluice::graph
