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
    case ElementType::undefined: break;
  }
  return "the expected tensor has no element type";
}

}  // namespace sluice::tool
