// Selection operators: Clip, Where, and the variadic broadcasting folds Max, Min, Sum, Mean.
#include <cmath>
#include <limits>

#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

namespace {

// min(max(x, lo), hi): hi when lo > hi; NaN stays NaN.
template <class C> C clamp_to(C x, C lo, C hi) {
  const C low_bounded = x < lo ? lo : x;
  return low_bounded > hi ? hi : low_bounded;
}

// Max/Min of two compute values; NaN propagates (numpy maximum/minimum).
template <class C> C max_of(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return a < b ? b : a;
}
template <class C> C min_of(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return b < a ? b : a;
}

// Clip opset 1-10: bounds from the `min`/`max` attributes.
void register_clip_with_attributes(OpRegistry& r) {
  add_unary_op<float_types>(r, "Clip", 1, [](const Node& node) {
    const float lo = node.attr_float("min", std::numeric_limits<float>::lowest());
    const float hi = node.attr_float("max", std::numeric_limits<float>::max());
    return [lo, hi](auto x) {
      using C = decltype(x);
      return clamp_to(x, static_cast<C>(lo), static_cast<C>(hi));
    };
  });
}

// A Clip bound input: absent, or a one-element tensor of the input's type.
void check_clip_bound(const Node& node, const char* name, ElementType type, const PartialShape& shape,
                      ElementType input_type) {
  check_same_type(node, name, type, "input", input_type);
  bool one_element = true;
  if (shape.rank_known()) {
    for (const auto& dim : shape.dims()) one_element = one_element && !(dim.is_static() && dim.extent() != 1);
  }
  SLUICE_CHECK(one_element, where(node), "input '", name, "' has shape ", shape.to_string(),
               "; expected a scalar");
}

template <class T>
compute_t<T> clip_bound(const Node& node, std::span<const Tensor> inputs, size_t i, const char* name,
                        compute_t<T> fallback) {
  if (i >= inputs.size() || inputs[i].empty()) return fallback;
  const Tensor& bound = inputs[i];
  check_clip_bound(node, name, bound.type(), PartialShape(bound.shape()), element_type_v<T>);
  SLUICE_CHECK(bound.size() == 1, where(node), "input '", name, "' has shape ", to_string(bound.shape()),
               "; expected a scalar");
  return static_cast<compute_t<T>>(bound.data<T>()[0]);
}

// Clip opset 11+: bounds from the optional `min`/`max` inputs (scalars of the input's type).
template <TypeSet S> void register_clip_with_inputs(OpRegistry& r, int64_t since) {
  OpSchema schema;
  schema.op_type = "Clip";
  schema.since_version = since;
  schema.min_inputs = 1;
  schema.max_inputs = 3;
  schema.infer = [](InferContext& ctx) {
    infer_unary(ctx, S, "input");
    const char* names[] = {"input", "min", "max"};
    for (size_t i = 1; i < 3 && i < ctx.num_inputs(); ++i) {
      if (ctx.has_input(i)) {
        check_clip_bound(ctx.node, names[i], ctx.input_type(i), ctx.input_shape(i), ctx.input_type(0));
      }
    }
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& x = required_input(node, inputs, 0, "input");
    return std::vector<Tensor>{dispatch_set<S>(x.type(), node, "input", [&](auto tag) {
      using T = decltype(tag);
      using C = compute_t<T>;
      constexpr bool has_inf = std::numeric_limits<C>::has_infinity;
      const C lowest = has_inf ? -std::numeric_limits<C>::infinity() : std::numeric_limits<C>::lowest();
      const C highest = has_inf ? std::numeric_limits<C>::infinity() : std::numeric_limits<C>::max();
      const C lo = clip_bound<T>(node, inputs, 1, "min", lowest);
      const C hi = clip_bound<T>(node, inputs, 2, "max", highest);
      return map_unary<T, T>(x, [lo, hi](C v) { return clamp_to(v, lo, hi); });
    })};
  };
  r.add(std::move(schema));
}

// Where(condition, X, Y): X where condition else Y, all three broadcast together.
void register_where(OpRegistry& r) {
  OpSchema schema;
  schema.op_type = "Where";
  schema.since_version = 9;
  schema.min_inputs = 3;
  schema.max_inputs = 3;
  schema.infer = [](InferContext& ctx) {
    check_input_type(ctx.node, "condition", ctx.input_type(0), bool_types);
    check_same_type(ctx.node, "Y", ctx.input_type(2), "X", ctx.input_type(1));
    PartialShape shape = broadcast_partial_shapes(ctx.input_shape(0), ctx.input_shape(1), ctx.node);
    shape = broadcast_partial_shapes(shape, ctx.input_shape(2), ctx.node);
    ctx.set_output(0, ctx.input_type(1), std::move(shape));
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& cond = required_input(node, inputs, 0, "condition");
    const Tensor& x = required_input(node, inputs, 1, "X");
    const Tensor& y = required_input(node, inputs, 2, "Y");
    check_input_type(node, "condition", cond.type(), bool_types);
    check_same_type(node, "Y", y.type(), "X", x.type());
    const Shape out_shape =
        broadcast_shapes(broadcast_shapes(cond.shape(), x.shape(), node), y.shape(), node);
    const auto cond_at = broadcast_offsets(cond.shape(), out_shape);
    const auto x_at = broadcast_offsets(x.shape(), out_shape);
    const auto y_at = broadcast_offsets(y.shape(), out_shape);
    return std::vector<Tensor>{dispatch_set<all_types>(x.type(), node, "X", [&](auto tag) {
      using T = decltype(tag);
      Tensor out(x.type(), out_shape);
      const bool* c = cond.data<bool>();
      const T* px = x.data<T>();
      const T* py = y.data<T>();
      T* po = out.data<T>();
      for (size_t i = 0; i < cond_at.size(); ++i) po[i] = c[cond_at[i]] ? px[x_at[i]] : py[y_at[i]];
      return out;
    })};
  };
  r.add(std::move(schema));
}

}  // namespace

void register_select_ops(OpRegistry& registry) {
  register_clip_with_attributes(registry);
  register_clip_with_inputs<float_types>(registry, 11);
  register_clip_with_inputs<numeric_types>(registry, 12);
  register_where(registry);
  add_variadic<numeric_types, false>(registry, "Max", 1, [](auto a, auto b) { return max_of(a, b); });
  add_variadic<numeric_types, false>(registry, "Min", 1, [](auto a, auto b) { return min_of(a, b); });
  add_variadic<float_types, false>(registry, "Sum", 1, [](auto a, auto b) { return a + b; });
  add_variadic<float_types, true>(registry, "Mean", 1, [](auto a, auto b) { return a + b; });
}

}  // namespace sluice::ops::elementwise
