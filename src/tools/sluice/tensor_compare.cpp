#include "tools/sluice/tensor_compare.hpp"

#include <cmath>
#include <sstream>
#include <type_traits>

namespace sluice::tool {
namespace {

// The multi-index of a flat element index, "[0,2,1]".
std::string index_text(const Shape& shape, size_t flat) {
  Shape index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = static_cast<int64_t>(flat % static_cast<size_t>(shape[d]));
    flat /= static_cast<size_t>(shape[d]);
  }
  return to_string(index);
}

bool reals_match(double actual, double expected, const Tolerance& tolerance) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return actual == expected;
  return std::fabs(actual - expected) <= tolerance.atol + tolerance.rtol * std::fabs(expected);
}

template <class T>
std::optional<std::string> compare_values(const T* actual, const T* expected, const Shape& shape,
                                          const Tolerance& tolerance) {
  constexpr bool real =
      std::is_floating_point_v<T> || std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;
  using Wide = std::conditional_t<real, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
  size_t count = static_cast<size_t>(shape_size(shape));
  size_t mismatches = 0, first = 0, worst = 0;
  double worst_diff = -1;
  for (size_t i = 0; i < count; ++i) {
    Wide a, e;
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
      a = static_cast<float>(actual[i]);
      e = static_cast<float>(expected[i]);
    } else {
      a = static_cast<Wide>(actual[i]);    // NOLINT(bugprone-signed-char-misuse): int8 elements are numbers
      e = static_cast<Wide>(expected[i]);  // NOLINT(bugprone-signed-char-misuse)
    }
    bool match = real ? reals_match(static_cast<double>(a), static_cast<double>(e), tolerance) : a == e;
    if (match) continue;
    if (mismatches++ == 0) first = i;
    double diff = std::fabs(static_cast<double>(a) - static_cast<double>(e));
    if (std::isnan(diff)) diff = INFINITY;
    if (diff > worst_diff) {
      worst_diff = diff;
      worst = i;
    }
  }
  if (mismatches == 0) return std::nullopt;
  auto text = [](auto v) {
    std::ostringstream out;
    out.precision(9);
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
      out << static_cast<float>(v);
    } else if constexpr (sizeof(T) == 1 && !std::is_same_v<T, bool>) {
      out << static_cast<int>(v);
    } else {
      out << std::boolalpha << v;
    }
    return out.str();
  };
  std::ostringstream out;
  out << mismatches << " of " << count << " values differ";
  if (real) out << " (rtol " << tolerance.rtol << ", atol " << tolerance.atol << ")";
  out << "; first at " << index_text(shape, first) << ": got " << text(actual[first]) << ", expected "
      << text(expected[first]);
  if (real && worst != first) {
    out << "; largest at " << index_text(shape, worst) << ": got " << text(actual[worst]) << ", expected "
        << text(expected[worst]);
  }
  return out.str();
}

// Float8 bits: NaN is exponent and mantissa all ones for E4M3FN, 0x80 for the FNUZ types, an all-ones
// exponent with a nonzero mantissa for E5M2.
bool float8_is_nan(ElementType type, uint8_t bits) {
  switch (type) {
    case ElementType::f8e4m3fn: return (bits & 0x7F) == 0x7F;
    case ElementType::f8e5m2: return (bits & 0x7F) > 0x7C;
    default: return bits == 0x80;
  }
}

std::optional<std::string> compare_float8(const Tensor& actual, const Tensor& expected) {
  const auto* a = static_cast<const uint8_t*>(actual.data());
  const auto* e = static_cast<const uint8_t*>(expected.data());
  const size_t count = static_cast<size_t>(expected.size());
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < count; ++i) {
    const ElementType t = expected.type();
    if (a[i] == e[i] || (float8_is_nan(t, a[i]) && float8_is_nan(t, e[i]))) continue;
    if (mismatches++ == 0) first = i;
  }
  if (mismatches == 0) return std::nullopt;
  std::ostringstream out;
  out << mismatches << " of " << count << " values differ; first at " << index_text(expected.shape(), first)
      << ": got bits 0x" << std::hex << int{a[first]} << ", expected 0x" << int{e[first]};
  return out.str();
}

std::optional<std::string> compare_strings(const Tensor& actual, const Tensor& expected) {
  const auto* a = static_cast<const std::string*>(actual.data());
  const auto* e = static_cast<const std::string*>(expected.data());
  const size_t count = static_cast<size_t>(expected.size());
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < count; ++i) {
    if (a[i] != e[i] && mismatches++ == 0) first = i;
  }
  if (mismatches == 0) return std::nullopt;
  std::ostringstream out;
  out << mismatches << " of " << count << " strings differ; first at " << index_text(expected.shape(), first)
      << ": got \"" << a[first] << "\", expected \"" << e[first] << "\"";
  return out.str();
}

template <class T>
std::optional<std::string> compare_as(const Tensor& actual, const Tensor& expected,
                                      const Tolerance& tolerance) {
  return compare_values(static_cast<const T*>(actual.data()), static_cast<const T*>(expected.data()),
                        expected.shape(), tolerance);
}

}  // namespace

std::optional<std::string> compare_tensors(const Tensor& actual, const Tensor& expected,
                                           const Tolerance& tolerance) {
  if (actual.type() != expected.type()) {
    return "element type " + std::string(to_string(actual.type())) + ", expected " +
           std::string(to_string(expected.type()));
  }
  if (actual.shape() != expected.shape()) {
    return "shape " + to_string(actual.shape()) + ", expected " + to_string(expected.shape());
  }
  switch (expected.type()) {
    case ElementType::f32: return compare_as<float>(actual, expected, tolerance);
    case ElementType::f16: return compare_as<float16>(actual, expected, tolerance);
    case ElementType::bf16: return compare_as<bfloat16>(actual, expected, tolerance);
    case ElementType::f64: return compare_as<double>(actual, expected, tolerance);
    case ElementType::i8: return compare_as<int8_t>(actual, expected, tolerance);
    case ElementType::i16: return compare_as<int16_t>(actual, expected, tolerance);
    case ElementType::i32: return compare_as<int32_t>(actual, expected, tolerance);
    case ElementType::i64: return compare_as<int64_t>(actual, expected, tolerance);
    case ElementType::u8: return compare_as<uint8_t>(actual, expected, tolerance);
    case ElementType::u16: return compare_as<uint16_t>(actual, expected, tolerance);
    case ElementType::u32: return compare_as<uint32_t>(actual, expected, tolerance);
    case ElementType::u64: return compare_as<uint64_t>(actual, expected, tolerance);
    case ElementType::boolean: return compare_as<bool>(actual, expected, tolerance);
    case ElementType::string: return compare_strings(actual, expected);
    case ElementType::i4: return compare_as<int8_t>(actual, expected, tolerance);  // one per byte
    case ElementType::u4: return compare_as<uint8_t>(actual, expected, tolerance);
    case ElementType::f8e4m3fn:
    case ElementType::f8e4m3fnuz:
    case ElementType::f8e5m2:
    case ElementType::f8e5m2fnuz: return compare_float8(actual, expected);
    case ElementType::undefined: break;
  }
  return "the expected tensor has no element type";
}

std::optional<std::string> compare_results(const Tensor& actual, const Tensor& expected,
                                           const Tolerance& tolerance) {
  if (actual.empty() || expected.empty() || actual.is_sequence() || expected.is_sequence()) {
    if (actual.empty() != expected.empty() || actual.is_sequence() != expected.is_sequence()) {
      return "got a " + describe(actual) + ", expected a " + describe(expected);
    }
  }
  if (!expected.is_sequence())
    return expected.empty() ? std::nullopt : compare_tensors(actual, expected, tolerance);
  const auto& got = actual.items();
  const auto& want = expected.items();
  if (got.size() != want.size()) {
    return "a sequence of " + std::to_string(got.size()) + " tensors, expected " +
           std::to_string(want.size());
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (auto reason = compare_tensors(got[i], want[i], tolerance)) {
      return "sequence item " + std::to_string(i) + ": " + *reason;
    }
  }
  return std::nullopt;
}

}  // namespace sluice::tool
