// Helpers shared by the quantization operator family (src/ops/quantization*.cpp): quantized element types,
// rounding in a given precision, and per-tensor / per-axis / blocked parameter layouts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/common.hpp"

namespace sluice::ops::quant {

// The range of an integer element type, as int64.
struct IntRange {
  int64_t lo = 0;
  int64_t hi = 0;
};
IntRange int_range(ElementType type);

// Rounds v to the nearest value representable in `type` (f32, f16, bf16 or f64), as numpy does when it
// stores an intermediate result in that type.
double round_to_precision(double v, ElementType type);

// Round half to even, then add the zero point and saturate to [range.lo, range.hi]. NaN saturates to lo.
int64_t round_and_saturate(double v, int64_t zero_point, IntRange range);

// A tensor of `type` (any integer type) holding `values`, which must fit the type.
Tensor int_tensor(ElementType type, Shape shape, const std::vector<int64_t>& values);
// A tensor of any numeric type holding `values` converted to the type.
Tensor numeric_tensor(ElementType type, Shape shape, const std::vector<double>& values);

// How the elements of a scale (or zero point) tensor map onto the elements of x: x is seen as
// [outer, axis_extent, inner] around the quantization axis.
struct ParamLayout {
  enum class Kind { per_tensor, per_axis, blocked };
  Kind kind = Kind::per_tensor;
  int64_t outer = 1;
  int64_t axis_extent = 1;
  int64_t inner = 1;
  int64_t block_size = 0;
  int64_t param_axis_extent = 1;  // blocked: scale.shape[axis]

  // Index into the parameter tensor for element (o, a, i) of x.
  int64_t param_index(int64_t o, int64_t a, int64_t i) const {
    switch (kind) {
      case Kind::per_tensor: return 0;
      case Kind::per_axis: return a;
      case Kind::blocked: return (o * param_axis_extent + a / block_size) * inner + i;
    }
    return 0;
  }
};

// Resolves the layout of a scale of shape `scale` for x of shape `x` (a size-1 scale is per-tensor,
// a 1-D scale of x.shape[axis] values is per-axis, a scale of x's rank with ceil(x.shape[axis] /
// block_size) on the axis is blocked). `allow_per_axis` is false for opset 10. Throws naming the node and
// `scale_name` when the scale fits none of the allowed layouts.
ParamLayout param_layout(const Node& node, const Shape& x, const Shape& scale, int64_t axis,
                         int64_t block_size, bool allow_per_axis, const std::string& scale_name);

// Checks that a zero point's shape matches its scale's (both size 1, or equal shapes).
void check_zero_point_shape(const Node& node, const Shape& scale, const Shape& zero_point,
                            const std::string& zero_point_name);

// Checks a partial x shape against partial scale / zero-point shapes where enough is static.
void check_param_shapes(const Node& node, const PartialShape& x, const PartialShape& scale,
                        const PartialShape* zero_point, int64_t axis, int64_t block_size,
                        bool allow_per_axis);

// Registration of the matmul / convolution members of the family (quantization_matmul.cpp).
void register_quantized_matmul_ops(OpRegistry& registry);
void register_quantized_conv_ops(OpRegistry& registry);

}  // namespace sluice::ops::quant
