// Cast and CastLike between every pair of element types, float8 and string included.
//
// Conversions: to bool is "nonzero" (NaN is true); floating to integer truncates toward zero and
// saturates at the integer type's limits (NaN gives 0); integer to integer wraps; to f16 rounds to
// nearest even; to bf16 truncates the float value (as the ONNX reference implementation does), keeping
// NaN a NaN.
//
// float8 (opset 19 on): to a float8 type rounds to nearest even; with `saturate` (the default) values
// beyond the type's range and infinities clamp to +-max, without it they become NaN (infinity for
// f8e5m2). Sources wider than float are narrowed with round-to-odd first, so the result is the correctly
// rounded one; f16 and bf16 go through float, which is exact. From float8, the value is exact in float.
//
// Strings follow the ONNX reference implementation, which is numpy's astype(str) and astype(T):
//   - numbers print as numpy's repr: the shortest digits that read back to the same value (in the
//     source's precision), positional for 1e-4 <= |x| < 1e16 (and 0) with at least one fractional digit
//     ("0.9767611", "123456790.0", "-0.0"), otherwise scientific with a two-digit or longer exponent
//     ("1e-05", "1.5e+20"); "nan", "inf", "-inf"; booleans "True" / "False"; integers in decimal.
//   - strings parse as decimal or scientific numbers, "NaN", "INF", "+INF", "-INF" (any case, also
//     "infinity"); to an integer type a string that is not an integer is read as a number and truncated;
//     to bool "true" / "false" (any case) or a number (nonzero is true). Surrounding whitespace is
//     ignored. Anything else is an error naming the node and the string.
// 4-bit integers (i4, u4; opset 21 on), as the ONNX reference implementation: to them the value is
// clamped to the range ([-8, 7] or [0, 15]) and rounded to nearest even (NaN gives 0; the rounding is done
// on the value as a double, which is exact for every source but 64-bit integers beyond 2^53, and those
// saturate anyway); strings are read as numbers first. From them the value is exact.
// float4 and complex types are out of scope and rejected with an error (they have no element type).
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "graph/onnx_data_types.hpp"
#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

namespace {

template <class T> inline constexpr bool is_int4_v = std::is_same_v<T, int4> || std::is_same_v<T, uint4>;

template <class T>
inline constexpr bool is_float8_v = std::is_same_v<T, float8_e4m3fn> || std::is_same_v<T, float8_e4m3fnuz> ||
                                    std::is_same_v<T, float8_e5m2> || std::is_same_v<T, float8_e5m2fnuz>;

// Calls f(T{}) with the C++ type of `type` for every type Cast handles (the numeric types, bool, float8
// and string); throws naming the node and `what` for the others.
template <class F> Tensor dispatch_cast(ElementType type, const Node& node, const std::string& what, F&& f) {
  switch (type) {
    case ElementType::f8e4m3fn: return f(float8_e4m3fn{});
    case ElementType::f8e4m3fnuz: return f(float8_e4m3fnuz{});
    case ElementType::f8e5m2: return f(float8_e5m2{});
    case ElementType::f8e5m2fnuz: return f(float8_e5m2fnuz{});
    case ElementType::string: return f(std::string{});
    case ElementType::i4: return f(int4{});
    case ElementType::u4: return f(uint4{});
    default: break;
  }
  if (!in_set(all_types, type)) {
    throw_error(where(node), what, " has element type ", to_string(type),
                "; expected a numeric, boolean, float8, 4-bit integer or string type");
  }
  return dispatch_all(type, std::forward<F>(f));
}

// The target type of a Cast node: `to` is a DataType code, or its name in opset 1 models.
ElementType cast_target(const Node& node) {
  SLUICE_CHECK(node.has_attr("to"), where(node), "attribute 'to' is required but missing");
  if (std::holds_alternative<std::string>(node.attributes.at("to"))) {
    const std::string name = node.attr_string("to");
    if (const graph::OnnxDataType* entry = graph::find_onnx_data_type(name)) {
      return any_element_type_from_onnx_code(entry->code, node, "to");
    }
    throw_error(where(node), "attribute 'to' is '", name,
                "', which is not an onnx.TensorProto.DataType name");
  }
  return any_element_type_from_onnx_code(node.attr_int("to"), node, "to");
}

// The `saturate` attribute (opset 19 on; default 1). It only changes conversions to float8 types.
bool cast_saturate(const Node& node) {
  SLUICE_CHECK(!node.has_attr("saturate") || node.opset_version >= 19, where(node),
               "attribute 'saturate' needs opset 19; the model imports opset ", node.opset_version);
  return node.attr_int("saturate", 1) != 0;
}

bfloat16 truncate_to_bfloat16(float value) {
  if (std::isnan(value)) return bfloat16::from_bits(std::signbit(value) ? 0xFFC0 : 0x7FC0);
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bfloat16::from_bits(static_cast<uint16_t>(bits >> 16));
}

// ---- Numbers to strings -------------------------------------------------------------------------------

// The shortest decimal digits of `value` (finite, > 0) that read back to it, and the decimal exponent of
// the first digit: value ~ d.ddd * 10^exponent.
struct Digits {
  std::string digits;
  int exponent = 0;
};

// Splits to_chars' or printf's scientific form "d.ddde+XX" into digits and exponent.
Digits split_scientific(std::string_view s) {
  Digits out;
  const size_t e = s.find('e');
  for (char c : s.substr(0, e)) {
    if (c != '.') out.digits += c;
  }
  out.exponent = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (out.digits.size() > 1 && out.digits.back() == '0') out.digits.pop_back();
  return out;
}

template <class T> Digits shortest_digits(T value) {
  char buf[64];
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    return split_scientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  } else {
    // 16-bit floats: the fewest significant digits that read back to the same 16-bit value. At each
    // precision the correctly rounded decimal is the nearest candidate; when it does not read back, the
    // neighbour on the other side of the value may (at a power of two the range that reads back is
    // narrower below than above), so both neighbours are tried too. At most one of them can read back.
    const double v = static_cast<float>(value);
    const auto reads_back = [&](const std::string& text) {
      return T(narrow_round_to_odd(std::strtod(text.c_str(), nullptr))).bits == value.bits;
    };
    for (int precision = 1; precision <= 17; ++precision) {
      std::snprintf(buf, sizeof buf, "%.*e", precision - 1, v);
      const std::string_view text(buf);
      const size_t e = text.find('e');
      std::string digits;
      for (char c : text.substr(0, e)) {
        if (c != '.') digits += c;
      }
      const int exponent = std::atoi(buf + e + 1) - (precision - 1);  // of the last digit
      const int64_t nearest = std::stoll(digits);
      for (const int64_t m : {nearest, nearest - 1, nearest + 1}) {
        if (m <= 0) continue;
        const std::string m_text = std::to_string(m);
        if (!reads_back(m_text + "e" + std::to_string(exponent))) continue;
        Digits out;
        out.digits = m_text;
        out.exponent = exponent + static_cast<int>(m_text.size()) - 1;
        while (out.digits.size() > 1 && out.digits.back() == '0') out.digits.pop_back();
        return out;
      }
    }
    std::snprintf(buf, sizeof buf, "%.17e", v);
    return split_scientific(buf);
  }
}

// numpy's repr of a floating value (see the top of the file).
template <class T> std::string float_to_string(T value) {
  const double v = static_cast<double>(static_cast<compute_t<T>>(value));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  std::string out = std::signbit(v) ? "-" : "";
  const double a = std::fabs(v);
  if (a == 0) return out + "0.0";
  T magnitude = value;
  if constexpr (is_half_v<T>) {
    magnitude.bits &= 0x7fffu;
  } else {
    magnitude = std::fabs(value);
  }
  const Digits d = shortest_digits(magnitude);
  const int n = static_cast<int>(d.digits.size());
  if (a >= 1e-4 && a < 1e16) {
    if (d.exponent >= 0) {
      const int int_digits = d.exponent + 1;
      if (n <= int_digits) {
        out += d.digits + std::string(static_cast<size_t>(int_digits - n), '0') + ".0";
      } else {
        out += d.digits.substr(0, static_cast<size_t>(int_digits)) + "." +
               d.digits.substr(static_cast<size_t>(int_digits));
      }
    } else {
      out += "0." + std::string(static_cast<size_t>(-d.exponent - 1), '0') + d.digits;
    }
    return out;
  }
  out += d.digits.substr(0, 1);
  if (n > 1) out += "." + d.digits.substr(1);
  const int e = std::abs(d.exponent);
  out += d.exponent < 0 ? "e-" : "e+";
  if (e < 10) out += "0";
  out += std::to_string(e);
  return out;
}

template <class From> std::string to_string_value(const From& value) {
  if constexpr (std::is_same_v<From, bool>) {
    return value ? "True" : "False";
  } else if constexpr (std::is_integral_v<From>) {
    return std::to_string(static_cast<std::conditional_t<std::is_signed_v<From>, int64_t, uint64_t>>(value));
  } else if constexpr (is_float8_v<From>) {
    return float_to_string(static_cast<float>(value));  // exact in float
  } else {
    return float_to_string(value);
  }
}

// ---- Strings to numbers -------------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void throw_parse_error(const Node& node, const std::string& s, ElementType to) {
  throw_error(where(node), "cannot convert the string '", s, "' to ", to_string(to),
              "; expected a decimal or scientific number, NaN, INF, +INF or -INF");
}

// A number in decimal or scientific notation, or NaN / INF / +INF / -INF / infinity in any case.
// std::from_chars does not depend on the locale; it takes no leading '+', which is skipped here.
bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range) {
    // from_chars leaves `out` alone on overflow and underflow; strtod gives +-inf or +-0 (or a
    // subnormal) as a parser of decimal text should.
    out = std::strtod(std::string(s).c_str(), nullptr);
    return true;
  }
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

template <class To, class From> To cast_value(const From& value, bool saturate, const Node& node);

template <class To> To parse_string(const std::string& s, bool saturate, const Node& node) {
  const std::string_view t = trim(s);
  if constexpr (std::is_same_v<To, bool>) {
    if (equals_ignoring_case(t, "true")) return true;
    if (equals_ignoring_case(t, "false")) return false;
  } else if constexpr (std::is_integral_v<To>) {
    // Integers exactly (a double would round large ones), then wrapped like integer-to-integer casts.
    std::string_view digits = t;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    using Wide = std::conditional_t<std::is_signed_v<To>, int64_t, uint64_t>;
    Wide wide{};
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), wide);
    if (!digits.empty() && r.ec == std::errc() && r.ptr == digits.data() + digits.size()) {
      return static_cast<To>(wide);
    }
  }
  double v;
  if (!parse_double(t, v)) throw_parse_error(node, s, element_type_v<To>);
  return cast_value<To>(v, saturate, node);
}

// ---- One value ------------------------------------------------------------------------------------------

template <class To, class From> To cast_value(const From& value, bool saturate, const Node& node) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (is_int4_v<From>) {
    return cast_value<To>(value.value, saturate, node);  // exact as int8_t / uint8_t
  } else if constexpr (std::is_same_v<From, std::string>) {
    return parse_string<To>(value, saturate, node);
  } else if constexpr (std::is_same_v<To, std::string>) {
    return to_string_value(value);
  } else if constexpr (is_float8_v<From>) {
    // float8 values are exact in float.
    return cast_value<To>(static_cast<float>(value), saturate, node);
  } else if constexpr (is_float8_v<To>) {
    if constexpr (std::is_same_v<From, float> || is_half_v<From>) {
      return To::from_float(static_cast<float>(value), saturate);
    } else {
      // Round to odd into float so that the rounding to float8 is the only one that counts.
      return To::from_float(narrow_round_to_odd(static_cast<double>(value)), saturate);
    }
  } else if constexpr (is_int4_v<To>) {
    const double v = static_cast<double>(static_cast<compute_t<From>>(value));
    To out;
    if (std::isnan(v)) return out;
    out.value =
        static_cast<decltype(out.value)>(std::nearbyint(std::clamp(v, double{To::min}, double{To::max})));
    return out;
  } else if constexpr (std::is_same_v<To, bfloat16>) {
    return truncate_to_bfloat16(convert<float>(value));
  } else {
    return convert<To>(value);
  }
}

Tensor cast_tensor(const Tensor& input, ElementType to, bool saturate, const Node& node) {
  return dispatch_cast(input.type(), node, "input 'input'", [&](auto from_tag) {
    using From = decltype(from_tag);
    return dispatch_cast(to, node, "the target type", [&](auto to_tag) {
      using To = decltype(to_tag);
      Tensor out(to, input.shape());
      const From* in = input.data<From>();
      To* o = out.data<To>();
      for (int64_t i = 0; i < input.size(); ++i) o[i] = cast_value<To>(in[i], saturate, node);
      return out;
    });
  });
}

// Every element type but undefined.
constexpr TypeSet cast_types = all_types | type_bit(ElementType::string) | type_bit(ElementType::f8e4m3fn) |
                               type_bit(ElementType::f8e4m3fnuz) | type_bit(ElementType::f8e5m2) |
                               type_bit(ElementType::f8e5m2fnuz) | type_bit(ElementType::i4) |
                               type_bit(ElementType::u4);

void check_cast_type(const Node& node, const std::string& what, ElementType type) {
  SLUICE_CHECK(type == ElementType::undefined || in_set(cast_types, type), where(node), what,
               " has element type ", to_string(type),
               "; expected a numeric, boolean, float8, 4-bit integer or string type");
}

void register_cast(OpRegistry& r) {
  OpSchema schema;
  schema.op_type = "Cast";
  schema.since_version = 1;
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.takes_strings = true;
  schema.validate = [](const Node& node) {
    (void)cast_target(node);
    (void)cast_saturate(node);
  };
  schema.infer = [](InferContext& ctx) {
    SLUICE_CHECK(ctx.has_input(0), where(ctx.node), "input 'input' is required but missing");
    check_cast_type(ctx.node, "input 'input'", ctx.input_type(0));
    ctx.set_output(0, cast_target(ctx.node), ctx.input_shape(0));
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& input = required_input(node, inputs, 0, "input");
    return std::vector<Tensor>{cast_tensor(input, cast_target(node), cast_saturate(node), node)};
  };
  r.add(std::move(schema));
}

void register_cast_like(OpRegistry& r) {
  OpSchema schema;
  schema.op_type = "CastLike";
  schema.since_version = 15;
  schema.min_inputs = 2;
  schema.max_inputs = 2;
  schema.takes_strings = true;
  schema.validate = [](const Node& node) { (void)cast_saturate(node); };
  schema.infer = [](InferContext& ctx) {
    SLUICE_CHECK(ctx.has_input(0), where(ctx.node), "input 'input' is required but missing");
    SLUICE_CHECK(ctx.has_input(1), where(ctx.node), "input 'target_type' is required but missing");
    check_cast_type(ctx.node, "input 'input'", ctx.input_type(0));
    check_cast_type(ctx.node, "input 'target_type'", ctx.input_type(1));
    ctx.set_output(0, ctx.input_type(1), ctx.input_shape(0));
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& input = required_input(node, inputs, 0, "input");
    const Tensor& target = required_input(node, inputs, 1, "target_type");
    return std::vector<Tensor>{cast_tensor(input, target.type(), cast_saturate(node), node)};
  };
  r.add(std::move(schema));
}

}  // namespace

void register_cast_ops(OpRegistry& registry) {
  register_cast(registry);
  register_cast_like(registry);
}

}  // namespace sluice::ops::elementwise
