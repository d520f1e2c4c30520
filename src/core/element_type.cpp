#include "sluice/element_type.hpp"

#include <array>
#include <cmath>

#include "sluice/error.hpp"

namespace sluice {

namespace {

struct TypeInfo {
  ElementType type;
  std::string_view name;
  size_t size;
};

static_assert(static_cast<size_t>(ElementType::u4) == 20, "type_table follows the enum");
constexpr std::array<TypeInfo, 21> type_table = {{
    {ElementType::undefined, "undefined", 0},
    {ElementType::f32, "f32", 4},
    {ElementType::f16, "f16", 2},
    {ElementType::bf16, "bf16", 2},
    {ElementType::f64, "f64", 8},
    {ElementType::i8, "i8", 1},
    {ElementType::i16, "i16", 2},
    {ElementType::i32, "i32", 4},
    {ElementType::i64, "i64", 8},
    {ElementType::u8, "u8", 1},
    {ElementType::u16, "u16", 2},
    {ElementType::u32, "u32", 4},
    {ElementType::u64, "u64", 8},
    {ElementType::boolean, "boolean", 1},
    {ElementType::string, "string", sizeof(std::string)},
    {ElementType::f8e4m3fn, "f8e4m3fn", 1},
    {ElementType::f8e4m3fnuz, "f8e4m3fnuz", 1},
    {ElementType::f8e5m2, "f8e5m2", 1},
    {ElementType::f8e5m2fnuz, "f8e5m2fnuz", 1},
    {ElementType::i4, "i4", 1},  // one element per byte in memory
    {ElementType::u4, "u4", 1},
}};

// Other spellings accepted by parse_element_type (OpenVINO's and numpy's).
struct Alias {
  std::string_view name;
  ElementType type;
};
constexpr std::array<Alias, 16> aliases = {{
    {"fp32", ElementType::f32},
    {"float32", ElementType::f32},
    {"float", ElementType::f32},
    {"fp16", ElementType::f16},
    {"float16", ElementType::f16},
    {"bfloat16", ElementType::bf16},
    {"fp64", ElementType::f64},
    {"float64", ElementType::f64},
    {"double", ElementType::f64},
    {"int8", ElementType::i8},
    {"int16", ElementType::i16},
    {"int32", ElementType::i32},
    {"int64", ElementType::i64},
    {"uint8", ElementType::u8},
    {"bool", ElementType::boolean},
    {"u1", ElementType::boolean},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

size_t element_size(ElementType type) { return type_table[static_cast<size_t>(type)].size; }

std::string_view to_string(ElementType type) { return type_table[static_cast<size_t>(type)].name; }

ElementType parse_element_type(std::string_view name) {
  const std::string key = lower(name);
  for (const auto& info : type_table) {
    if (info.type != ElementType::undefined && key == info.name) return info.type;
  }
  for (const auto& alias : aliases) {
    if (key == alias.name) return alias.type;
  }
  std::string accepted;
  for (const auto& info : type_table) {
    if (info.type == ElementType::undefined) continue;
    if (!accepted.empty()) accepted += ", ";
    accepted += info.name;
  }
  throw_error("unknown element type '", name, "'; expected one of: ", accepted);
}

bool is_floating(ElementType type) {
  return type == ElementType::f32 || type == ElementType::f16 || type == ElementType::bf16 ||
         type == ElementType::f64;
}

bool is_float8(ElementType type) {
  return type == ElementType::f8e4m3fn || type == ElementType::f8e4m3fnuz || type == ElementType::f8e5m2 ||
         type == ElementType::f8e5m2fnuz;
}

bool is_signed_integer(ElementType type) {
  return type == ElementType::i8 || type == ElementType::i16 || type == ElementType::i32 ||
         type == ElementType::i64;
}

bool is_unsigned_integer(ElementType type) {
  return type == ElementType::u8 || type == ElementType::u16 || type == ElementType::u32 ||
         type == ElementType::u64;
}

// IEEE half precision, round to nearest even, with subnormals, infinities and NaN.
float16::float16(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof x);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    bits = static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    return;
  }
  if (abs >= 0x477ff000u) {  // rounds to >= 65520: overflow to inf
    bits = static_cast<uint16_t>(sign | 0x7c00u);
    return;
  }
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    // value = abs as float; the half subnormal unit is 2^-24.
    float f;
    std::memcpy(&f, &abs, sizeof f);
    const float scaled = f * 16777216.0f;  // exact: multiply by 2^24
    // Round half to even on the integer part.
    float r = std::nearbyint(scaled);
    bits = static_cast<uint16_t>(sign | static_cast<uint32_t>(r));
    return;
  }
  const uint32_t exponent = ((abs >> 23) - 112) << 10;  // rebias 127 -> 15
  const uint32_t mantissa = abs & 0x7fffffu;
  uint32_t half = exponent | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // carries into the exponent correctly
  bits = static_cast<uint16_t>(sign | half);
}

float16::operator float() const {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  uint32_t x;
  if (exponent == 0x1f) {
    x = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    x = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else {
    const float f = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    std::memcpy(&x, &f, sizeof x);
    x |= sign;
  }
  float out;
  std::memcpy(&out, &x, sizeof out);
  return out;
}

bfloat16::bfloat16(float value) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) {  // NaN stays a (quiet) NaN
    bits = static_cast<uint16_t>((x >> 16) | 0x40u);
    return;
  }
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  bits = static_cast<uint16_t>((x + rounding) >> 16);
}

// ---- float8 -------------------------------------------------------------------------------------------

namespace {

// The layout of one float8 type; the codes are of the magnitude (sign bit clear).
struct Float8Format {
  int mantissa_bits;
  int bias;
  uint32_t max_code;   // the largest finite magnitude's code
  float max;           // its value
  bool unsigned_zero;  // FNUZ: no -0, and 0x80 is the only NaN
  bool has_inf;        // f8e5m2: S.11111.00 is infinity
};

constexpr Float8Format e4m3fn{3, 7, 0x7E, 448.0f, false, false};
constexpr Float8Format e4m3fnuz{3, 8, 0x7F, 240.0f, true, false};
constexpr Float8Format e5m2{2, 15, 0x7B, 57344.0f, false, true};
constexpr Float8Format e5m2fnuz{2, 16, 0x7F, 57344.0f, true, false};

uint8_t float8_nan(const Float8Format& f, uint32_t sign) {
  return static_cast<uint8_t>(f.unsigned_zero ? 0x80u : (sign | 0x7Fu));
}

// The float8 code of `value`, rounded to nearest even.
uint8_t float_to_float8(float value, bool saturate, const Float8Format& f) {
  uint32_t x;
  std::memcpy(&x, &value, sizeof x);
  const uint32_t sign = (x >> 24) & 0x80u;
  if (std::isnan(value)) return float8_nan(f, sign);
  float a = std::fabs(value);
  if (std::isinf(a) && !saturate) {
    return f.has_inf ? static_cast<uint8_t>(sign | 0x7Cu) : float8_nan(f, sign);
  }
  if (saturate && a > f.max) a = f.max;  // also clamps infinity
  const int m = f.mantissa_bits;
  const int min_exponent = 1 - f.bias;  // of the smallest normal
  uint32_t code;
  if (a < std::ldexp(1.0f, min_exponent)) {
    // Subnormal (or zero): the code is the count of subnormal units, rounded to nearest even. The scaling
    // by a power of two is exact, and a result of 2^m is the smallest normal's code.
    code = static_cast<uint32_t>(std::nearbyint(std::ldexp(a, m - min_exponent)));
  } else {
    uint32_t abs_bits;
    std::memcpy(&abs_bits, &a, sizeof abs_bits);
    const int exponent = static_cast<int>(abs_bits >> 23) - 127;
    const uint32_t mantissa = abs_bits & 0x7fffffu;
    const int shift = 23 - m;
    code = (static_cast<uint32_t>(exponent + f.bias) << m) | (mantissa >> shift);
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (code & 1u))) ++code;  // a carry moves into the exponent
  }
  if (code > f.max_code) {  // rounded beyond max (only without saturation)
    return f.has_inf ? static_cast<uint8_t>(sign | 0x7Cu) : float8_nan(f, sign);
  }
  if (code == 0 && f.unsigned_zero) return 0;  // no -0
  return static_cast<uint8_t>(sign | code);
}

float float8_to_float(uint8_t bits, const Float8Format& f) {
  const int m = f.mantissa_bits;
  const float sign = (bits & 0x80u) != 0 ? -1.0f : 1.0f;
  const uint32_t magnitude = bits & 0x7Fu;
  const bool nan = f.unsigned_zero ? bits == 0x80u : f.has_inf ? magnitude > 0x7Cu : magnitude == 0x7Fu;
  if (nan) return std::copysign(std::nanf(""), sign);
  if (f.has_inf && magnitude == 0x7Cu) return sign * HUGE_VALF;
  const uint32_t e = magnitude >> m, frac = magnitude & ((1u << m) - 1);
  const float v = e == 0 ? std::ldexp(static_cast<float>(frac), 1 - f.bias - m)
                         : std::ldexp(static_cast<float>((1u << m) | frac), static_cast<int>(e) - f.bias - m);
  return sign * v;
}

}  // namespace

float8_e4m3fn::float8_e4m3fn(float value) : bits(float_to_float8(value, true, e4m3fn)) {}
float8_e4m3fn::operator float() const { return float8_to_float(bits, e4m3fn); }
float8_e4m3fn float8_e4m3fn::from_float(float value, bool saturate) {
  return from_bits(float_to_float8(value, saturate, e4m3fn));
}

float8_e4m3fnuz::float8_e4m3fnuz(float value) : bits(float_to_float8(value, true, e4m3fnuz)) {}
float8_e4m3fnuz::operator float() const { return float8_to_float(bits, e4m3fnuz); }
float8_e4m3fnuz float8_e4m3fnuz::from_float(float value, bool saturate) {
  return from_bits(float_to_float8(value, saturate, e4m3fnuz));
}

float8_e5m2::float8_e5m2(float value) : bits(float_to_float8(value, true, e5m2)) {}
float8_e5m2::operator float() const { return float8_to_float(bits, e5m2); }
float8_e5m2 float8_e5m2::from_float(float value, bool saturate) {
  return from_bits(float_to_float8(value, saturate, e5m2));
}

float8_e5m2fnuz::float8_e5m2fnuz(float value) : bits(float_to_float8(value, true, e5m2fnuz)) {}
float8_e5m2fnuz::operator float() const { return float8_to_float(bits, e5m2fnuz); }
float8_e5m2fnuz float8_e5m2fnuz::from_float(float value, bool saturate) {
  return from_bits(float_to_float8(value, saturate, e5m2fnuz));
}

}  // namespace sluice
