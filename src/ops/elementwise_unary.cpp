// Unary math, rounding, logical and classification operators.
#include <cmath>

#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

namespace {

// Rounds to the nearest integer, halfway cases to the even one (numpy's round, ONNX Round).
template <class T> T round_half_even(T x) {
  const T rounded = std::round(x);
  if (std::fabs(x - std::trunc(x)) == T(0.5)) return T(2) * std::round(x / T(2));
  return rounded;
}

template <class T> T sign_of(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(x)) return x;
  }
  return static_cast<T>(static_cast<int>(T{0} < x) - static_cast<int>(is_negative(x)));
}

template <class T> T abs_of(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::fabs(x);
  } else {
    return is_negative(x) ? wrap_neg(x) : x;
  }
}

template <class T> T neg_of(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return -x;
  } else {
    return wrap_neg(x);
  }
}

void register_math(OpRegistry& r) {
  add_unary<numeric_types>(r, "Abs", 1, [](auto x) { return abs_of(x); });
  add_unary<signed_numeric_types>(r, "Neg", 1, [](auto x) { return neg_of(x); });
  add_unary<numeric_types>(r, "Sign", 9, [](auto x) { return sign_of(x); });
  add_unary<float_types>(r, "Floor", 1, [](auto x) { return std::floor(x); });
  add_unary<float_types>(r, "Ceil", 1, [](auto x) { return std::ceil(x); });
  add_unary<float_types>(r, "Round", 11, [](auto x) { return round_half_even(x); });
  add_unary<float_types>(r, "Sqrt", 1, [](auto x) { return std::sqrt(x); });
  add_unary<float_types>(r, "Exp", 1, [](auto x) { return std::exp(x); });
  add_unary<float_types>(r, "Log", 1, [](auto x) { return std::log(x); });
  add_unary<float_types>(r, "Reciprocal", 1, [](auto x) { return decltype(x){1} / x; });
  add_unary<numeric_types>(r, "Erf", 9, [](auto x) { return std::erf(x); });
}

void register_trigonometric(OpRegistry& r) {
  add_unary<float_types>(r, "Sin", 7, [](auto x) { return std::sin(x); });
  add_unary<float_types>(r, "Cos", 7, [](auto x) { return std::cos(x); });
  add_unary<float_types>(r, "Tan", 7, [](auto x) { return std::tan(x); });
  add_unary<float_types>(r, "Asin", 7, [](auto x) { return std::asin(x); });
  add_unary<float_types>(r, "Acos", 7, [](auto x) { return std::acos(x); });
  add_unary<float_types>(r, "Atan", 7, [](auto x) { return std::atan(x); });
  add_unary<float_types>(r, "Sinh", 9, [](auto x) { return std::sinh(x); });
  add_unary<float_types>(r, "Cosh", 9, [](auto x) { return std::cosh(x); });
  add_unary<float_types>(r, "Tanh", 1, [](auto x) { return std::tanh(x); });
  add_unary<float_types>(r, "Asinh", 9, [](auto x) { return std::asinh(x); });
  add_unary<float_types>(r, "Acosh", 9, [](auto x) { return std::acosh(x); });
  add_unary<float_types>(r, "Atanh", 9, [](auto x) { return std::atanh(x); });
}

void register_logical_and_classification(OpRegistry& r) {
  add_unary<bool_types>(r, "Not", 1, [](auto x) { return !x; });
  add_unary<int_types>(r, "BitwiseNot", 18, [](auto x) { return static_cast<decltype(x)>(~x); });
  add_predicate_op<float_types>(r, "IsNaN", 9,
                                [](const Node&) { return [](auto x) { return std::isnan(x); }; });
  add_predicate_op<float_types>(r, "IsInf", 10, [](const Node& node) {
    const bool positive = node.attr_int("detect_positive", 1) != 0;
    const bool negative = node.attr_int("detect_negative", 1) != 0;
    return [positive, negative](auto x) { return std::isinf(x) && (x > 0 ? positive : negative); };
  });
}

}  // namespace

void register_unary_math_ops(OpRegistry& registry) {
  register_math(registry);
  register_trigonometric(registry);
  register_logical_and_classification(registry);
}

}  // namespace sluice::ops::elementwise
