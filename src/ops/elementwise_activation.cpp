// Activation functions.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

namespace {

// min(1, max(0, x)) that keeps NaN.
template <class T> T clamp01(T x) {
  if (x < T{0}) return T{0};
  if (x > T{1}) return T{1};
  return x;
}

template <class T> T softplus_of(T x) {
  return x > T{0} ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

template <class T> T sigmoid_of(T x) {
  if (x >= T{0}) return T{1} / (T{1} + std::exp(-x));
  const T e = std::exp(x);
  return e / (T{1} + e);
}

void register_rectifiers(OpRegistry& r) {
  add_unary<signed_numeric_types>(r, "Relu", 1, [](auto x) { return is_negative(x) ? decltype(x){0} : x; });
  add_unary_op<float_types>(r, "LeakyRelu", 1, [](const Node& node) {
    const float alpha = node.attr_float("alpha", 0.01f);
    return [alpha](auto x) { return x < 0 ? static_cast<decltype(x)>(alpha) * x : x; };
  });
  add_unary_op<float_types>(r, "ThresholdedRelu", 10, [](const Node& node) {
    const float alpha = node.attr_float("alpha", 1.0f);
    return [alpha](auto x) { return x > static_cast<decltype(x)>(alpha) ? x : decltype(x){0}; };
  });
  add_unary_op<float_types>(r, "Elu", 1, [](const Node& node) {
    const float alpha = node.attr_float("alpha", 1.0f);
    return [alpha](auto x) {
      using C = decltype(x);
      return x < C{0} ? static_cast<C>(alpha) * (std::exp(x) - C{1}) : x;
    };
  });
  add_unary_op<float_types>(r, "Selu", 1, [](const Node& node) {
    const float alpha = node.attr_float("alpha", 1.67326319217681884765625f);
    const float gamma = node.attr_float("gamma", 1.05070102214813232421875f);
    return [alpha, gamma](auto x) {
      using C = decltype(x);
      const C a = static_cast<C>(alpha);
      return static_cast<C>(gamma) * (x > C{0} ? x : a * std::exp(x) - a);
    };
  });
  add_unary_op<float_types>(r, "Celu", 12, [](const Node& node) {
    const float alpha = node.attr_float("alpha", 1.0f);
    SLUICE_CHECK(alpha != 0.0f, where(node), "attribute 'alpha' must be nonzero");
    return [alpha](auto x) {
      using C = decltype(x);
      const C a = static_cast<C>(alpha);
      return std::max(C{0}, x) + std::min(C{0}, a * (std::exp(x / a) - C{1}));
    };
  });
  add_unary_op<numeric_types>(r, "Shrink", 9, [](const Node& node) {
    const float bias = node.attr_float("bias", 0.0f);
    const float lambd = node.attr_float("lambd", 0.5f);
    return [bias, lambd](auto x) {
      using C = std::common_type_t<decltype(x), float>;
      const C v = static_cast<C>(x);
      if (v < static_cast<C>(-lambd)) return v + static_cast<C>(bias);
      if (v > static_cast<C>(lambd)) return v - static_cast<C>(bias);
      return C{0};
    };
  });
}

void register_smooth(OpRegistry& r) {
  add_unary<float_types>(r, "Sigmoid", 1, [](auto x) { return sigmoid_of(x); });
  add_unary_op<float_types>(r, "HardSigmoid", 1, [](const Node& node) {
    const float alpha = node.attr_float("alpha", 0.2f);
    const float beta = node.attr_float("beta", 0.5f);
    return [alpha, beta](auto x) {
      using C = decltype(x);
      return clamp01(static_cast<C>(alpha) * x + static_cast<C>(beta));
    };
  });
  add_unary<float_types>(r, "HardSwish", 14, [](auto x) {
    using C = decltype(x);
    return x * clamp01(x / C{6} + C{0.5});
  });
  add_unary<float_types>(r, "Softplus", 1, [](auto x) { return softplus_of(x); });
  add_unary<float_types>(r, "Softsign", 1, [](auto x) { return x / (decltype(x){1} + std::fabs(x)); });
  add_unary<float_types>(r, "Mish", 18, [](auto x) { return x * std::tanh(softplus_of(x)); });
  add_unary_op<float_types>(r, "Gelu", 20, [](const Node& node) {
    const std::string approximate = node.attr_string("approximate", "none");
    SLUICE_CHECK(approximate == "none" || approximate == "tanh", where(node), "attribute 'approximate' is '",
                 approximate, "'; expected 'none' or 'tanh'");
    const bool use_tanh = approximate == "tanh";
    return [use_tanh](auto x) {
      using C = decltype(x);
      if (use_tanh) {
        const C k = std::sqrt(C{2} / std::numbers::pi_v<C>);
        return C{0.5} * x * (C{1} + std::tanh(k * (x + C{0.044715} * x * x * x)));
      }
      return C{0.5} * x * (C{1} + std::erf(x / std::numbers::sqrt2_v<C>));
    };
  });
}

// PRelu: Y = X < 0 ? slope * X : X, slope broadcast to X's shape (unidirectional).
void register_prelu(OpRegistry& r) {
  constexpr TypeSet types = float_types | type_bit(ElementType::i32) | type_bit(ElementType::i64) |
                            type_bit(ElementType::u32) | type_bit(ElementType::u64);
  OpSchema schema;
  schema.op_type = "PRelu";
  schema.since_version = 7;
  schema.min_inputs = 2;
  schema.max_inputs = 2;
  schema.infer = [](InferContext& ctx) {
    const PartialShape& x = ctx.input_shape(0);
    const PartialShape& slope = ctx.input_shape(1);
    SLUICE_CHECK(!x.rank_known() || !slope.rank_known() || slope.rank() <= x.rank(), where(ctx.node),
                 "input 'slope' of shape ", slope.to_string(), " cannot broadcast to input 'X' of shape ",
                 x.to_string());
    infer_broadcasting(ctx, types, {"X", "slope"});
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& x = required_input(node, inputs, 0, "X");
    const Tensor& slope = required_input(node, inputs, 1, "slope");
    check_same_type(node, "slope", slope.type(), "X", x.type());
    SLUICE_CHECK(broadcast_shapes(x.shape(), slope.shape(), node) == x.shape(), where(node),
                 "input 'slope' of shape ", to_string(slope.shape()),
                 " cannot broadcast to input 'X' of shape ", to_string(x.shape()));
    return std::vector<Tensor>{dispatch_set<types>(x.type(), node, "X", [&](auto tag) {
      using T = decltype(tag);
      return map_binary<T, T, T>(x, slope, node,
                                 [](auto v, auto s) { return is_negative(v) ? mul_values(s, v) : v; });
    })};
  };
  r.add(std::move(schema));
}

}  // namespace

void register_activation_ops(OpRegistry& registry) {
  register_rectifiers(registry);
  register_smooth(registry);
  register_prelu(registry);
}

}  // namespace sluice::ops::elementwise
