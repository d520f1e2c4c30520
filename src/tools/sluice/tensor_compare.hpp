// Comparison of a computed tensor with an expected one, as the ONNX backend test runner does it.
#pragma once

#include <optional>
#include <string>

#include "sluice/tensor.hpp"

namespace sluice::tool {

// Real values match when |actual - expected| <= atol + rtol * |expected|, NaN matches NaN and an infinity
// matches the same infinity; integers and booleans must be equal.
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};

// Why the tensors differ (element type, shape, or the values: how many differ, the first and the largest
// difference), or nullopt when they match.
// Strings must be equal; float8 values must have the same bits (any NaN matches any NaN).
std::optional<std::string> compare_tensors(const Tensor& actual, const Tensor& expected,
                                           const Tolerance& tolerance);
// The same for any model value: sequences item by item (after their lengths), and an absent optional (an
// empty Tensor) matches only another.
std::optional<std::string> compare_results(const Tensor& actual, const Tensor& expected,
                                           const Tolerance& tolerance);

}  // namespace sluice::tool
