// Helpers shared by the neural-network operator family (src/ops/nn_*.cpp): accumulation types, sliding
// window geometry (Conv, ConvTranspose, pools, Col2Im) and schema shortcuts.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/common.hpp"

namespace sluice::ops::nn {

using graph::RefKernel;
using graph::ShapeInferFn;
using graph::ValidateFn;

// The type reference kernels accumulate in: float for the 16-bit floats, double for f32 and f64, 64-bit
// integers for the integer types.
template <class T>
using acc_t =
    std::conditional_t<std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>, float,
                       std::conditional_t<std::is_floating_point_v<T>, double,
                                          std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>>;

template <class T> acc_t<T> widen(T value) {
  if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
    return static_cast<float>(value);
  } else {
    return static_cast<acc_t<T>>(value);
  }
}

// Converts an accumulated (or any arithmetic) value back to the element type.
template <class T, class A> T narrow(A value) {
  if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
    return T(static_cast<float>(value));
  } else {
    return static_cast<T>(value);
  }
}

// The element type named by an ONNX TensorProto data type code (stash_type and the like); throws naming
// the node and attribute for codes that are not a floating type.
ElementType floating_type_from_onnx_code(int64_t code, const Node& node, const std::string& attr);

// Integer ceil(a / b) for b > 0 and any sign of a.
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
// Integer floor(a / b) for b > 0 and any sign of a.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The sliding-window attributes of Conv, ConvTranspose, the pools and Col2Im, for `rank` spatial dims.
struct Window {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads;        // begin pads of every dim, then end pads
  std::string auto_pad = "NOTSET";  // NOTSET, SAME_UPPER, SAME_LOWER or VALID
  bool ceil_mode = false;

  size_t rank() const { return kernel.size(); }
  int64_t span(size_t d) const { return (kernel[d] - 1) * dilations[d] + 1; }  // dilated kernel extent
};

// Checks the window attributes that do not depend on shapes: auto_pad's value, positive strides,
// dilations and kernel_shape, non-negative pads, and lengths that agree with each other.
void validate_window_attrs(const Node& node);

// Reads the window attributes for the given kernel extents (from kernel_shape or the weights); throws
// naming the node when an attribute's length is not the number of spatial dims.
Window read_window(const Node& node, std::vector<int64_t> kernel);

// The output extent of one spatial dim of a forward window (Conv, pools) and the pads actually applied.
struct DimPlan {
  int64_t out = 0;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
};
// Resolves dim d for an input extent; throws naming the node when the window does not fit.
DimPlan plan_forward_dim(const Window& window, size_t d, int64_t in, const Node& node);
// The same for a partial dimension: dynamic input extents give a dynamic output.
Dimension forward_dim(const Window& window, size_t d, const Dimension& in, const Node& node);

// A static plan of a sliding window over the spatial dims of an N-d tensor.
struct WindowPlan {
  Shape in;   // spatial extents of the input
  Shape out;  // spatial extents of the output
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end;
};
WindowPlan plan_forward(const Window& window, const Shape& in_spatial, const Node& node);

// For one kernel position, how the rows (all dims but the last) of a grid A map onto a grid B through
// b = a * stride + k * dilation - pad_begin, per dim. Conv gathers (A = output, B = input); ConvTranspose
// and Col2Im scatter (A = input, B = output). Only rows that land inside B are listed; along the last dim
// the indices a in [lo, hi) land inside B, at b_base + a * last_stride.
struct ShiftedRows {
  std::vector<std::pair<int64_t, int64_t>> rows;  // (flat offset of the A row, b_base)
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t last_stride = 1;
};
// One entry per kernel position (row-major over `kernel`).
std::vector<ShiftedRows> plan_shifted_rows(const Shape& a_extents, const Shape& b_extents,
                                           const std::vector<int64_t>& kernel,
                                           const std::vector<int64_t>& strides,
                                           const std::vector<int64_t>& dilations,
                                           const std::vector<int64_t>& pad_begin);

// Advances a row-major multi-index over `extents`; returns false after the last index.
inline bool next_index(std::vector<int64_t>& index, const std::vector<int64_t>& extents) {
  for (size_t d = index.size(); d-- > 0;) {
    if (++index[d] < extents[d]) return true;
    index[d] = 0;
  }
  return false;
}

// Spatial extents (dims 2..) of a static shape.
inline Shape spatial_of(const Shape& shape) { return Shape(shape.begin() + 2, shape.end()); }

// Sets output i's type and shape when the node has that output (optional outputs may be omitted).
void set_output_if_present(InferContext& ctx, size_t i, ElementType type, PartialShape shape);

// Checks that input i (when present) has the same element type as input 0.
void check_same_type(InferContext& ctx, size_t i, const char* name);
// Checks that the input's type is floating (f32, f16, bf16, f64).
void check_floating(InferContext& ctx, size_t i, const char* name);

// Conv's attribute validation, shape inference and reference kernel (inputs X, W and optional B; inputs
// after B are ignored), for the operators that extend Conv (com.sluice FusedConv).
void validate_conv_attrs(const Node& node);
void infer_conv_output(InferContext& ctx);
// The shape of a matrix product (MatMul's numpy semantics, B's last two dims swapped first when
// `trans_b`); throws naming the node when the inner dims differ or the batch dims do not broadcast.
PartialShape matmul_output_shape(const Node& node, const PartialShape& as, const PartialShape& bs,
                                 bool trans_b);
std::vector<Tensor> run_conv_reference(const Node& node, std::span<const Tensor> in, KernelEnv& env);

// Per-family registration, called by register_nn_ops.
void register_conv_ops(OpRegistry& registry);
void register_conv_extra_ops(OpRegistry& registry);
void register_pool_ops(OpRegistry& registry);
void register_norm_ops(OpRegistry& registry);
void register_matmul_ops(OpRegistry& registry);
void register_einsum_ops(OpRegistry& registry);
void register_softmax_ops(OpRegistry& registry);
void register_layout_ops(OpRegistry& registry);

}  // namespace sluice::ops::nn
