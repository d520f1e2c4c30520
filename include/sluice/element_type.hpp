// Element types of tensors and values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice {

enum class ElementType : uint8_t {
  undefined,
  f32,
  f16,
  bf16,
  f64,
  i8,
  i16,
  i32,
  i64,
  u8,
  u16,
  u32,
  u64,
  boolean,
};

// Size of one element in bytes (0 for undefined).
size_t element_size(ElementType type);
// Lower-case name: "f32", "bf16", "boolean", ...
std::string_view to_string(ElementType type);
// Parses a name from to_string (also accepts "bool", "FP32", "BF16", "float32", ...). Throws sluice::Error
// listing the accepted names when the name is unknown.
ElementType parse_element_type(std::string_view name);
bool is_floating(ElementType type);
bool is_signed_integer(ElementType type);
bool is_unsigned_integer(ElementType type);
inline bool is_integer(ElementType type) { return is_signed_integer(type) || is_unsigned_integer(type); }

// 16-bit float types with conversion to and from float (round to nearest even).
struct float16 {
  uint16_t bits = 0;
  float16() = default;
  float16(float value);    // NOLINT(google-explicit-constructor): behaves like a number
  operator float() const;  // NOLINT(google-explicit-constructor)
  static float16 from_bits(uint16_t b) {
    float16 f;
    f.bits = b;
    return f;
  }
};

struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  bfloat16(float value);    // NOLINT(google-explicit-constructor)
  operator float() const {  // NOLINT(google-explicit-constructor)
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
  static bfloat16 from_bits(uint16_t b) {
    bfloat16 f;
    f.bits = b;
    return f;
  }
};

// Compile-time mapping from C++ type to ElementType.
template <class T> struct element_type_of;
template <> struct element_type_of<float> { static constexpr ElementType value = ElementType::f32; };
template <> struct element_type_of<float16> { static constexpr ElementType value = ElementType::f16; };
template <> struct element_type_of<bfloat16> { static constexpr ElementType value = ElementType::bf16; };
template <> struct element_type_of<double> { static constexpr ElementType value = ElementType::f64; };
template <> struct element_type_of<int8_t> { static constexpr ElementType value = ElementType::i8; };
template <> struct element_type_of<int16_t> { static constexpr ElementType value = ElementType::i16; };
template <> struct element_type_of<int32_t> { static constexpr ElementType value = ElementType::i32; };
template <> struct element_type_of<int64_t> { static constexpr ElementType value = ElementType::i64; };
template <> struct element_type_of<uint8_t> { static constexpr ElementType value = ElementType::u8; };
template <> struct element_type_of<uint16_t> { static constexpr ElementType value = ElementType::u16; };
template <> struct element_type_of<uint32_t> { static constexpr ElementType value = ElementType::u32; };
template <> struct element_type_of<uint64_t> { static constexpr ElementType value = ElementType::u64; };
template <> struct element_type_of<bool> { static constexpr ElementType value = ElementType::boolean; };
template <class T> inline constexpr ElementType element_type_v = element_type_of<T>::value;

}  // namespace sluice
