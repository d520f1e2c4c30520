// Building blocks of the elementwise operator family (src/ops/elementwise*.cpp): element type sets,
// value conversions with defined results, and the few templates every elementwise operator is made of:
// a unary map, a broadcasting binary map, a comparison, a variadic fold, and the schema builders that wrap
// them with validation and shape/type inference.
//
// Kernels compute 16-bit floats in float (compute_t); integer arithmetic wraps around like two's
// complement hardware instead of overflowing into undefined behaviour.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/common.hpp"

namespace sluice::ops::elementwise {

// ---- Element type sets ------------------------------------------------------------------------------

using TypeSet = uint32_t;

constexpr TypeSet type_bit(ElementType type) { return TypeSet{1} << static_cast<unsigned>(type); }

inline constexpr TypeSet float_types = type_bit(ElementType::f32) | type_bit(ElementType::f16) |
                                       type_bit(ElementType::bf16) | type_bit(ElementType::f64);
inline constexpr TypeSet signed_int_types = type_bit(ElementType::i8) | type_bit(ElementType::i16) |
                                            type_bit(ElementType::i32) | type_bit(ElementType::i64);
inline constexpr TypeSet unsigned_int_types = type_bit(ElementType::u8) | type_bit(ElementType::u16) |
                                              type_bit(ElementType::u32) | type_bit(ElementType::u64);
inline constexpr TypeSet int_types = signed_int_types | unsigned_int_types;
inline constexpr TypeSet numeric_types = float_types | int_types;
inline constexpr TypeSet signed_numeric_types = float_types | signed_int_types;
inline constexpr TypeSet bool_types = type_bit(ElementType::boolean);
inline constexpr TypeSet all_types = numeric_types | bool_types;

constexpr bool in_set(TypeSet set, ElementType type) { return (set & type_bit(type)) != 0; }

// "f32, f16, bf16 or f64".
std::string describe_types(TypeSet set);

// Throws "<node>: input 'A' has element type i32; expected f32, f16, bf16 or f64".
[[noreturn]] void throw_type_error(const Node& node, const std::string& input_name, ElementType type,
                                   TypeSet allowed);

// throw_type_error unless `type` is in `allowed`. An undefined (not yet inferred) type passes.
void check_input_type(const Node& node, const std::string& input_name, ElementType type, TypeSet allowed);

// Throws unless `type` (of input `input_name`) equals `first_type` (of input `first_name`); undefined
// types pass.
void check_same_type(const Node& node, const std::string& input_name, ElementType type,
                     const std::string& first_name, ElementType first_type);

// Calls f(T{}) with the C++ type of `type` when it is in S; otherwise throws naming the node and input.
template <TypeSet S, class F>
Tensor dispatch_set(ElementType type, const Node& node, const std::string& input_name, F&& f) {
  if (!in_set(S, type)) throw_type_error(node, input_name, type, S);
  return dispatch_all(type, [&](auto tag) -> Tensor {
    if constexpr (in_set(S, element_type_v<decltype(tag)>)) {
      return f(tag);
    } else {
      throw_type_error(node, input_name, type, S);  // not reached: checked above
    }
  });
}

// ---- Value conversions --------------------------------------------------------------------------------

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;

// Narrows a double to float with round-to-odd, so that a second rounding to a 16-bit float gives the
// correctly rounded result of the double (no double-rounding error).
inline float narrow_round_to_odd(double value) {
  float f = static_cast<float>(value);
  if (!std::isfinite(f) || static_cast<double>(f) == value) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(value)) f = std::nextafter(f, 0.0f);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits |= 1u;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// A floating value to an integer type: truncation toward zero, saturating at the type's limits, NaN -> 0.
// (ONNX leaves out-of-range conversions undefined; saturation keeps the result defined.)
template <class To, class From> To float_to_int(From value) {
  const double v = static_cast<double>(value);
  if (std::isnan(v)) return To{0};
  const double limit = std::ldexp(1.0, std::numeric_limits<To>::digits);  // 2^bits of magnitude
  if (v >= limit) return std::numeric_limits<To>::max();
  if constexpr (std::is_signed_v<To>) {
    if (v < -limit) return std::numeric_limits<To>::min();
  } else {
    if (v <= -1.0) return To{0};
  }
  return static_cast<To>(v);
}

// Converts one value between any two element types (C++ types of element_type_v, or the compute types
// float/double/int of arithmetic results): to bool is "nonzero"; floating to integer as float_to_int;
// integer to integer wraps; to 16-bit floats rounds to nearest even.
template <class To, class From> To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (is_half_v<From>) {
    return convert<To>(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, bool>) {
    return value != From{0};
  } else if constexpr (is_half_v<To>) {
    if constexpr (std::is_same_v<From, float>) {
      return To(value);
    } else {
      return To(narrow_round_to_odd(static_cast<double>(value)));
    }
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return float_to_int<To>(value);
  } else {
    return static_cast<To>(value);
  }
}

// ---- Wrapping integer arithmetic --------------------------------------------------------------------

// An unsigned type at least as wide as int, so that arithmetic on it never promotes to signed int.
template <class T> using wide_unsigned_t = std::conditional_t<(sizeof(T) <= 4), uint32_t, uint64_t>;

template <class T> T wrap_add(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <class T> T wrap_sub(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <class T> T wrap_mul(T a, T b) {
  using U = wide_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}
template <class T> T wrap_neg(T a) { return wrap_sub(T{0}, a); }

template <class T> bool is_negative(T x) {
  if constexpr (std::is_unsigned_v<T>) {
    return false;
  } else {
    return x < T{0};
  }
}

// a + b, a - b, a * b for compute types: wrapping for integers, IEEE for floating types.
template <class T> T add_values(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return wrap_add(a, b);
  } else {
    return a + b;
  }
}
template <class T> T sub_values(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return wrap_sub(a, b);
  } else {
    return a - b;
  }
}
template <class T> T mul_values(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    return wrap_mul(a, b);
  } else {
    return a * b;
  }
}

// ---- Maps -----------------------------------------------------------------------------------------------

// out[i] = f(x[i]) for a tensor of T; f takes and may return compute types; the result is converted to R.
template <class T, class R, class F> Tensor map_unary(const Tensor& x, F&& f) {
  Tensor out(element_type_v<R>, x.shape());
  const T* in = x.data<T>();
  R* o = out.data<R>();
  const int64_t n = x.size();
  for (int64_t i = 0; i < n; ++i) o[i] = convert<R>(f(static_cast<compute_t<T>>(in[i])));
  return out;
}

// out = f(a, b) with numpy broadcasting; a holds TA, b holds TB, the result is converted to R.
template <class TA, class TB, class R, class F>
Tensor map_binary(const Tensor& a, const Tensor& b, const Node& node, F&& f) {
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), node);
  Tensor out(element_type_v<R>, out_shape);
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  R* po = out.data<R>();
  for_each_broadcast(a.shape(), b.shape(), out_shape, [&](int64_t o, int64_t ia, int64_t ib) {
    po[o] = convert<R>(f(static_cast<compute_t<TA>>(pa[ia]), static_cast<compute_t<TB>>(pb[ib])));
  });
  return out;
}

// For each element of `out`, the offset of the element of a tensor of shape `in` broadcast to it.
std::vector<int64_t> broadcast_offsets(const Shape& in, const Shape& out);

// The input tensor when present; throws naming the node and input when a required input is missing.
const Tensor& required_input(const Node& node, std::span<const Tensor> inputs, size_t i,
                             const std::string& input_name);

// ---- Schema builders ------------------------------------------------------------------------------------
//
// `make_fn` is a factory called with the node (once at validation, once per kernel call); it reads and
// checks the node's attributes and returns the element function, a generic callable over compute types.

// Shape inference for one-input operators: output 0 has `out_type` (or the input's type when undefined)
// and input 0's shape.
void infer_unary(InferContext& ctx, TypeSet allowed, const std::string& input_name,
                 ElementType out_type = ElementType::undefined);
// Shape inference for operators whose inputs broadcast together and share the type of input 0 (the
// optional ones may be omitted): output 0 has `out_type` (or the inputs' type) and the broadcast shape.
void infer_broadcasting(InferContext& ctx, TypeSet allowed, const std::vector<std::string>& input_names,
                        ElementType out_type = ElementType::undefined);

// y = f(x), same type and shape; types in S. Factory form (attributes).
template <TypeSet S, class MakeFn>
void add_unary_op(OpRegistry& registry, const char* op_type, int64_t since, MakeFn make_fn) {
  OpSchema schema;
  schema.op_type = op_type;
  schema.since_version = since;
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.validate = [make_fn](const Node& node) { (void)make_fn(node); };
  schema.infer = [](InferContext& ctx) { infer_unary(ctx, S, "X"); };
  schema.reference = [make_fn](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const auto fn = make_fn(node);
    const Tensor& x = required_input(node, inputs, 0, "X");
    return std::vector<Tensor>{dispatch_set<S>(x.type(), node, "X", [&](auto tag) {
      using T = decltype(tag);
      return map_unary<T, T>(x, fn);
    })};
  };
  registry.add(std::move(schema));
}

// y = f(x) without attributes.
template <TypeSet S, class F> void add_unary(OpRegistry& registry, const char* op_type, int64_t since, F fn) {
  add_unary_op<S>(registry, op_type, since, [fn](const Node&) { return fn; });
}

// y = pred(x) as a boolean tensor of x's shape; types of x in S. Factory form.
template <TypeSet S, class MakeFn>
void add_predicate_op(OpRegistry& registry, const char* op_type, int64_t since, MakeFn make_fn) {
  OpSchema schema;
  schema.op_type = op_type;
  schema.since_version = since;
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.validate = [make_fn](const Node& node) { (void)make_fn(node); };
  schema.infer = [](InferContext& ctx) { infer_unary(ctx, S, "X", ElementType::boolean); };
  schema.reference = [make_fn](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const auto fn = make_fn(node);
    const Tensor& x = required_input(node, inputs, 0, "X");
    return std::vector<Tensor>{dispatch_set<S>(x.type(), node, "X", [&](auto tag) {
      using T = decltype(tag);
      return map_unary<T, bool>(x, fn);
    })};
  };
  registry.add(std::move(schema));
}

// C = f(A, B) with numpy broadcasting; A and B of one type in S; C of that type, or boolean when
// `Comparison`. Factory form.
template <TypeSet S, bool Comparison, class MakeFn>
void add_binary_op(OpRegistry& registry, const char* op_type, int64_t since, MakeFn make_fn) {
  OpSchema schema;
  schema.op_type = op_type;
  schema.since_version = since;
  schema.min_inputs = 2;
  schema.max_inputs = 2;
  schema.validate = [make_fn](const Node& node) { (void)make_fn(node); };
  schema.infer = [](InferContext& ctx) {
    infer_broadcasting(ctx, S, {"A", "B"}, Comparison ? ElementType::boolean : ElementType::undefined);
  };
  schema.reference = [make_fn](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const auto fn = make_fn(node);
    const Tensor& a = required_input(node, inputs, 0, "A");
    const Tensor& b = required_input(node, inputs, 1, "B");
    check_same_type(node, "B", b.type(), "A", a.type());
    return std::vector<Tensor>{dispatch_set<S>(a.type(), node, "A", [&](auto tag) {
      using T = decltype(tag);
      using R = std::conditional_t<Comparison, bool, T>;
      return map_binary<T, T, R>(a, b, node, fn);
    })};
  };
  registry.add(std::move(schema));
}

// C = f(A, B) without attributes.
template <TypeSet S, class F>
void add_binary(OpRegistry& registry, const char* op_type, int64_t since, F fn) {
  add_binary_op<S, false>(registry, op_type, since, [fn](const Node&) { return fn; });
}

// C = (A op B) as booleans, without attributes.
template <TypeSet S, class F>
void add_comparison(OpRegistry& registry, const char* op_type, int64_t since, F fn) {
  add_binary_op<S, true>(registry, op_type, since, [fn](const Node&) { return fn; });
}

// Folds f over one or more inputs of one type in S, broadcasting (Max, Min, Sum); when `Mean`, the fold
// is divided by the number of inputs.
template <TypeSet S, bool Mean, class F>
void add_variadic(OpRegistry& registry, const char* op_type, int64_t since, F fn) {
  OpSchema schema;
  schema.op_type = op_type;
  schema.since_version = since;
  schema.min_inputs = 1;
  schema.max_inputs = -1;
  schema.infer = [](InferContext& ctx) {
    std::vector<std::string> names;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) names.push_back("data_" + std::to_string(i));
    infer_broadcasting(ctx, S, names);
  };
  schema.reference = [fn](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& first = required_input(node, inputs, 0, "data_0");
    return std::vector<Tensor>{dispatch_set<S>(first.type(), node, "data_0", [&](auto tag) {
      using T = decltype(tag);
      Tensor acc = first.clone();
      for (size_t i = 1; i < inputs.size(); ++i) {
        const std::string name = "data_" + std::to_string(i);
        const Tensor& next = required_input(node, inputs, i, name);
        check_same_type(node, name, next.type(), "data_0", first.type());
        acc = map_binary<T, T, T>(acc, next, node, fn);
      }
      if constexpr (Mean) {
        const auto count = static_cast<compute_t<T>>(inputs.size());
        acc = map_unary<T, T>(acc, [count](auto x) { return x / count; });
      }
      return acc;
    })};
  };
  registry.add(std::move(schema));
}

// ---- Family parts (one per file) ------------------------------------------------------------------------

void register_unary_math_ops(OpRegistry& registry);  // elementwise_unary.cpp
void register_activation_ops(OpRegistry& registry);  // elementwise_activation.cpp
void register_binary_ops(OpRegistry& registry);      // elementwise_binary.cpp
void register_select_ops(OpRegistry& registry);      // elementwise_select.cpp: Clip, Where, variadic
void register_cast_ops(OpRegistry& registry);        // elementwise_cast.cpp

}  // namespace sluice::ops::elementwise
