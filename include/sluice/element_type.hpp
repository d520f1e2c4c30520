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
  string,    // elements are std::string (UTF-8); tensors construct and destroy them
  f8e4m3fn,  // the float8 types of ONNX (FLOAT8E4M3FN, ...): storage and conversion only
  f8e4m3fnuz,
  f8e5m2,
  f8e5m2fnuz,
  // ONNX's 4-bit integers (INT4, UINT4). In memory one element per byte (int4 / uint4 below: int8_t values
  // in [-8, 7], uint8_t values in [0, 15]), so element_size is 1 and byte-wise copies, slices and
  // reshapes keep working; ONNX's packed storage (two elements per byte, low nibble first, the last byte
  // padded for an odd count) is unpacked when a TensorProto is read. Storage, Cast and
  // QuantizeLinear / DequantizeLinear only; they are not counted as integer types by is_integer.
  i4,
  u4,
};

// Size of one element in bytes (0 for undefined; sizeof(std::string) for string).
size_t element_size(ElementType type);
// Lower-case name: "f32", "bf16", "boolean", ...
std::string_view to_string(ElementType type);
// Parses a name from to_string (also accepts "bool", "FP32", "BF16", "float32", ...). Throws sluice::Error
// listing the accepted names when the name is unknown.
ElementType parse_element_type(std::string_view name);
// f32, f16, bf16, f64 (the types arithmetic runs on); the float8 types are not included.
bool is_floating(ElementType type);
bool is_float8(ElementType type);
bool is_signed_integer(ElementType type);
bool is_unsigned_integer(ElementType type);
// i4 or u4 (not included in is_integer: arithmetic does not run on them).
inline bool is_int4(ElementType type) { return type == ElementType::i4 || type == ElementType::u4; }
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
template <> struct element_type_of<std::string> { static constexpr ElementType value = ElementType::string; };
template <class T> inline constexpr ElementType element_type_v = element_type_of<T>::value;

// ---- float8 -------------------------------------------------------------------------------------------
//
// The four 8-bit float types of ONNX (onnx.TensorProto FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2,
// FLOAT8E5M2FNUZ): storage and conversion to and from float only. Bit layouts and special values:
//   f8e4m3fn:   1 sign, 4 exponent (bias 7), 3 mantissa; no infinity; NaN is S.1111.111; max 448.
//   f8e4m3fnuz: bias 8; no infinity, no -0; the only NaN is 0x80; max 240.
//   f8e5m2:     bias 15, IEEE-like: infinities S.11111.00, NaN S.11111.{01,10,11}; max 57344.
//   f8e5m2fnuz: bias 16; no infinity, no -0; the only NaN is 0x80; max 57344.
// Conversion from float rounds to nearest even (subnormals included), as the ONNX Cast operator:
//   saturate (the constructor): finite values beyond the range and infinities clamp to +-max;
//   without saturation (from_float(v, false)): values that round beyond max, and infinities, become
//   infinity for f8e5m2 and NaN for the others.
// NaN gives NaN (its sign kept where the type has signed NaNs); -0 gives 0 for the FNUZ types.
// Converting to float is exact.

struct float8_e4m3fn {
  uint8_t bits = 0;
  float8_e4m3fn() = default;
  float8_e4m3fn(float value);  // NOLINT(google-explicit-constructor): saturating, like Cast's default
  operator float() const;      // NOLINT(google-explicit-constructor)
  static float8_e4m3fn from_float(float value, bool saturate);
  static float8_e4m3fn from_bits(uint8_t b) {
    float8_e4m3fn f;
    f.bits = b;
    return f;
  }
};

struct float8_e4m3fnuz {
  uint8_t bits = 0;
  float8_e4m3fnuz() = default;
  float8_e4m3fnuz(float value);  // NOLINT(google-explicit-constructor)
  operator float() const;        // NOLINT(google-explicit-constructor)
  static float8_e4m3fnuz from_float(float value, bool saturate);
  static float8_e4m3fnuz from_bits(uint8_t b) {
    float8_e4m3fnuz f;
    f.bits = b;
    return f;
  }
};

struct float8_e5m2 {
  uint8_t bits = 0;
  float8_e5m2() = default;
  float8_e5m2(float value);  // NOLINT(google-explicit-constructor)
  operator float() const;    // NOLINT(google-explicit-constructor)
  static float8_e5m2 from_float(float value, bool saturate);
  static float8_e5m2 from_bits(uint8_t b) {
    float8_e5m2 f;
    f.bits = b;
    return f;
  }
};

struct float8_e5m2fnuz {
  uint8_t bits = 0;
  float8_e5m2fnuz() = default;
  float8_e5m2fnuz(float value);  // NOLINT(google-explicit-constructor)
  operator float() const;        // NOLINT(google-explicit-constructor)
  static float8_e5m2fnuz from_float(float value, bool saturate);
  static float8_e5m2fnuz from_bits(uint8_t b) {
    float8_e5m2fnuz f;
    f.bits = b;
    return f;
  }
};

static_assert(sizeof(float8_e4m3fn) == 1 && sizeof(float8_e4m3fnuz) == 1 && sizeof(float8_e5m2) == 1 &&
                  sizeof(float8_e5m2fnuz) == 1,
              "float8 types are stored as one byte");

template <> struct element_type_of<float8_e4m3fn> {
  static constexpr ElementType value = ElementType::f8e4m3fn;
};
template <> struct element_type_of<float8_e4m3fnuz> {
  static constexpr ElementType value = ElementType::f8e4m3fnuz;
};
template <> struct element_type_of<float8_e5m2> { static constexpr ElementType value = ElementType::f8e5m2; };
template <> struct element_type_of<float8_e5m2fnuz> {
  static constexpr ElementType value = ElementType::f8e5m2fnuz;
};

// ---- 4-bit integers ------------------------------------------------------------------------------------
//
// One element per byte (see ElementType::i4). Distinct types so that element_type_of<int8_t> stays i8.
// Conversion from other types (Cast's rule, as the ONNX reference implementation) rounds to nearest even
// and saturates to the range; to other types it is exact.

struct int4 {
  int8_t value = 0;  // in [-8, 7]
  static constexpr int min = -8, max = 7;
};

struct uint4 {
  uint8_t value = 0;  // in [0, 15]
  static constexpr int min = 0, max = 15;
};

static_assert(sizeof(int4) == 1 && sizeof(uint4) == 1, "4-bit integers are stored one per byte");

template <> struct element_type_of<int4> { static constexpr ElementType value = ElementType::i4; };
template <> struct element_type_of<uint4> { static constexpr ElementType value = ElementType::u4; };

}  // namespace sluice
