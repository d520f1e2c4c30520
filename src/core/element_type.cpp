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

constexpr std::array<TypeInfo, 14> type_table = {{
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

}  // namespace sluice
