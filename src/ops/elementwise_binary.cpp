// Binary operators with numpy broadcasting: arithmetic, Pow, Mod, bit operations, logic, comparisons.
// Registered since opset 7, the first version with numpy broadcasting (opset 1-6 `broadcast`/`axis`
// semantics are not supported).
#include <cmath>

#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

namespace {

// a / b: integer division truncates toward zero (like C); division by zero throws.
template <class T> T divide(T a, T b, const Node& node) {
  if constexpr (std::is_integral_v<T>) {
    SLUICE_CHECK(b != T{0}, where(node), "integer division by zero");
    if (is_negative(b) && b == static_cast<T>(-1)) return wrap_neg(a);
    return static_cast<T>(a / b);
  } else {
    return a / b;
  }
}

// fmod = true: remainder with the dividend's sign (C fmod / %); fmod = false: remainder with the
// divisor's sign (Python / numpy mod). Integer modulo by zero throws.
template <class T> T modulo(T a, T b, bool fmod, const Node& node) {
  T r;
  if constexpr (std::is_integral_v<T>) {
    SLUICE_CHECK(b != T{0}, where(node), "integer modulo by zero");
    if (is_negative(b) && b == static_cast<T>(-1)) return T{0};
    r = static_cast<T>(a % b);
  } else {
    r = std::fmod(a, b);
  }
  if (!fmod && r != T{0} && is_negative(r) != is_negative(b)) r = add_values(r, b);
  return r;
}

// base^exponent for integers, exact with wraparound; a negative exponent gives the truncated quotient
// (1 for base 1, +-1 for base -1, else 0).
template <class B, class E> B integer_power(B base, E exponent) {
  if (is_negative(exponent)) {
    if (base == B{1}) return B{1};
    if (is_negative(base) && base == static_cast<B>(-1)) return static_cast<B>(exponent % 2 == 0 ? 1 : -1);
    return B{0};
  }
  B result{1};
  auto e = static_cast<uint64_t>(exponent);
  while (e != 0) {
    if (e & 1u) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    e >>= 1u;
  }
  return result;
}

// Pow on compute types: floating bases in their own precision, integer bases exactly for integer
// exponents and through double (truncated) for floating exponents.
template <class B, class E> B power(B base, E exponent) {
  if constexpr (std::is_floating_point_v<B>) {
    return std::pow(base, static_cast<B>(exponent));
  } else if constexpr (std::is_integral_v<E>) {
    return integer_power(base, exponent);
  } else {
    return float_to_int<B>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  }
}

template <class T> T shift(T value, T amount, bool left) {
  using U = wide_unsigned_t<T>;
  if (amount >= static_cast<T>(sizeof(T) * 8)) return T{0};
  return static_cast<T>(left ? static_cast<U>(value) << amount : static_cast<U>(value) >> amount);
}

void register_arithmetic(OpRegistry& r) {
  add_binary<numeric_types>(r, "Add", 7, [](auto a, auto b) { return add_values(a, b); });
  add_binary<numeric_types>(r, "Sub", 7, [](auto a, auto b) { return sub_values(a, b); });
  add_binary<numeric_types>(r, "Mul", 7, [](auto a, auto b) { return mul_values(a, b); });
  add_binary_op<numeric_types, false>(
      r, "Div", 7, [](const Node& node) { return [&node](auto a, auto b) { return divide(a, b, node); }; });
  add_binary_op<numeric_types, false>(r, "Mod", 10, [](const Node& node) {
    const bool fmod = node.attr_int("fmod", 0) != 0;
    return [&node, fmod](auto a, auto b) { return modulo(a, b, fmod, node); };
  });
}

// Pow: opset 7 takes one floating type for both inputs; from opset 12 the exponent may have any numeric
// type and the base an int32/int64/floating type. The output has the base's type.
void register_pow(OpRegistry& r, int64_t since, TypeSet base_types, TypeSet exponent_types, bool same_type) {
  OpSchema schema;
  schema.op_type = "Pow";
  schema.since_version = since;
  schema.min_inputs = 2;
  schema.max_inputs = 2;
  schema.infer = [=](InferContext& ctx) {
    check_input_type(ctx.node, "X", ctx.input_type(0), base_types);
    check_input_type(ctx.node, "Y", ctx.input_type(1), exponent_types);
    if (same_type) check_same_type(ctx.node, "Y", ctx.input_type(1), "X", ctx.input_type(0));
    ctx.set_output(0, ctx.input_type(0),
                   broadcast_partial_shapes(ctx.input_shape(0), ctx.input_shape(1), ctx.node));
  };
  schema.reference = [=](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& x = required_input(node, inputs, 0, "X");
    const Tensor& y = required_input(node, inputs, 1, "Y");
    if (same_type) check_same_type(node, "Y", y.type(), "X", x.type());
    constexpr TypeSet any_base = float_types | type_bit(ElementType::i32) | type_bit(ElementType::i64);
    check_input_type(node, "X", x.type(), base_types);
    return std::vector<Tensor>{dispatch_set<any_base>(x.type(), node, "X", [&](auto base_tag) {
      using B = decltype(base_tag);
      return dispatch_set<numeric_types>(y.type(), node, "Y", [&](auto exponent_tag) {
        using E = decltype(exponent_tag);
        return map_binary<B, E, B>(x, y, node, [](auto b, auto e) { return power(b, e); });
      });
    })};
  };
  r.add(std::move(schema));
}

void register_bit_ops(OpRegistry& r) {
  add_binary_op<unsigned_int_types, false>(r, "BitShift", 11, [](const Node& node) {
    const std::string direction = node.attr_string("direction");
    SLUICE_CHECK(direction == "LEFT" || direction == "RIGHT", where(node), "attribute 'direction' is '",
                 direction, "'; expected 'LEFT' or 'RIGHT'");
    const bool left = direction == "LEFT";
    return [left](auto a, auto b) { return shift(a, b, left); };
  });
  add_binary<int_types>(r, "BitwiseAnd", 18, [](auto a, auto b) { return static_cast<decltype(a)>(a & b); });
  add_binary<int_types>(r, "BitwiseOr", 18, [](auto a, auto b) { return static_cast<decltype(a)>(a | b); });
  add_binary<int_types>(r, "BitwiseXor", 18, [](auto a, auto b) { return static_cast<decltype(a)>(a ^ b); });
  add_binary<bool_types>(r, "And", 7, [](auto a, auto b) { return a && b; });
  add_binary<bool_types>(r, "Or", 7, [](auto a, auto b) { return a || b; });
  add_binary<bool_types>(r, "Xor", 7, [](auto a, auto b) { return a != b; });
}

// Equal from opset 19 also compares string tensors (elementwise, byte for byte, with broadcasting);
// the other comparisons and the earlier Equal versions take no strings.
void register_string_equal(OpRegistry& r) {
  OpSchema schema;
  schema.op_type = "Equal";
  schema.since_version = 19;
  schema.min_inputs = 2;
  schema.max_inputs = 2;
  schema.takes_strings = true;
  schema.infer = [](InferContext& ctx) {
    if (ctx.input_type(0) != ElementType::string) {
      infer_broadcasting(ctx, all_types, {"A", "B"}, ElementType::boolean);
      return;
    }
    check_same_type(ctx.node, "B", ctx.input_type(1), "A", ctx.input_type(0));
    ctx.set_output(0, ElementType::boolean,
                   broadcast_partial_shapes(ctx.input_shape(0), ctx.input_shape(1), ctx.node));
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& a = required_input(node, inputs, 0, "A");
    const Tensor& b = required_input(node, inputs, 1, "B");
    check_same_type(node, "B", b.type(), "A", a.type());
    if (a.type() != ElementType::string) {
      return std::vector<Tensor>{dispatch_set<all_types>(a.type(), node, "A", [&](auto tag) {
        using T = decltype(tag);
        return map_binary<T, T, bool>(a, b, node, [](auto x, auto y) { return x == y; });
      })};
    }
    const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), node);
    Tensor out(ElementType::boolean, out_shape);
    const std::string* pa = a.data<std::string>();
    const std::string* pb = b.data<std::string>();
    bool* po = out.data<bool>();
    for_each_broadcast(a.shape(), b.shape(), out_shape,
                       [&](int64_t o, int64_t ia, int64_t ib) { po[o] = pa[ia] == pb[ib]; });
    return std::vector<Tensor>{out};
  };
  r.add(std::move(schema));
}

void register_comparisons(OpRegistry& r) {
  add_comparison<all_types>(r, "Equal", 7, [](auto a, auto b) { return a == b; });
  register_string_equal(r);
  add_comparison<numeric_types>(r, "Less", 7, [](auto a, auto b) { return a < b; });
  add_comparison<numeric_types>(r, "Greater", 7, [](auto a, auto b) { return a > b; });
  add_comparison<numeric_types>(r, "LessOrEqual", 12, [](auto a, auto b) { return a <= b; });
  add_comparison<numeric_types>(r, "GreaterOrEqual", 12, [](auto a, auto b) { return a >= b; });
}

}  // namespace

void register_binary_ops(OpRegistry& registry) {
  register_arithmetic(registry);
  constexpr TypeSet pow12_bases = float_types | type_bit(ElementType::i32) | type_bit(ElementType::i64);
  register_pow(registry, 7, float_types, float_types, true);
  register_pow(registry, 12, pow12_bases, numeric_types, false);
  register_bit_ops(registry);
  register_comparisons(registry);
}

}  // namespace sluice::ops::elementwise
