// Helpers shared by the tensor-manipulation operator family (src/ops/tensor_*.cpp): schema shortcuts,
// constant-input access for shape inference, dimension arithmetic and type-agnostic element copies.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ops/common.hpp"

namespace sluice::ops::tensor {

// Registration of each file of the family; called by graph::register_tensor_ops.
void register_shape_ops(OpRegistry& registry);      // tensor_shape.cpp
void register_layout_ops(OpRegistry& registry);     // tensor_layout.cpp
void register_pad_ops(OpRegistry& registry);        // tensor_pad.cpp
void register_index_ops(OpRegistry& registry);      // tensor_index.cpp
void register_resize_ops(OpRegistry& registry);     // tensor_resize.cpp
void register_generator_ops(OpRegistry& registry);  // tensor_generate.cpp

// A schema of the default domain with the given arity; validate/infer/reference are the caller's.
OpSchema make_schema(std::string op_type, int64_t since_version, int min_inputs, int max_inputs,
                     int min_outputs = 1, int max_outputs = 1);

// The values of an integer input when it is present and constant; nullopt otherwise.
std::optional<std::vector<int64_t>> constant_ints(const InferContext& ctx, size_t input);
// The values of a numeric input when it is present and constant; nullopt otherwise.
std::optional<std::vector<double>> constant_doubles(const InferContext& ctx, size_t input);
// Whether the input is present with a known type (a missing input's type reads as undefined).
ElementType input_type_or_undefined(const InferContext& ctx, size_t input);
// The input's partial shape, or unknown rank when the input is missing.
PartialShape input_shape_or_unknown(const InferContext& ctx, size_t input);

// Throws naming the node and input unless `type` is an integer type (undefined passes: not yet known).
void check_integer_input(ElementType type, const Node& node, const std::string& input_name);
// Throws naming the node and input unless the tensor has one of the ranks in [min_rank, max_rank].
void check_rank(const Tensor& tensor, int64_t min_rank, int64_t max_rank, const Node& node,
                const std::string& input_name);
// Reads an integer input of a kernel as int64 values; throws naming the node when it is not integer.
std::vector<int64_t> kernel_ints(const Tensor& tensor, const Node& node, const std::string& input_name);
// Reads a scalar (or one-element) input of a kernel as int64 / double.
int64_t kernel_scalar_int(const Tensor& tensor, const Node& node, const std::string& input_name);
double kernel_scalar_double(const Tensor& tensor, const Node& node, const std::string& input_name);

// Normalizes axes into [0, rank), throwing naming the node on out-of-range or repeated axes.
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const Node& node,
                                    const std::string& what);

// Dimension arithmetic that keeps what is known: a * b is static when both are, and is the other side
// (symbol included) when one side is the static extent 1.
Dimension multiply_dims(const Dimension& a, const Dimension& b);
// The product of dims[begin, end).
Dimension product_of_dims(const std::vector<Dimension>& dims, size_t begin, size_t end);
// Two dimensions that must be equal: the more informative one (static, else symbolic); throws naming
// the node and `what` when both are static and differ.
Dimension merge_dims(const Dimension& a, const Dimension& b, const Node& node, const std::string& what);
// A partial shape of the given rank with every dimension dynamic.
PartialShape dynamic_shape(int64_t rank);

// Advances a row-major multi-index over `shape`; returns false after the last index.
inline bool next_index(std::vector<int64_t>& index, const Shape& shape) {
  for (size_t d = shape.size(); d-- > 0;) {
    if (++index[d] < shape[d]) return true;
    index[d] = 0;
  }
  return false;
}

// Copies element `src_index` of `src` into element `dst_index` of `dst` (same element type).
inline void copy_element(const Tensor& src, int64_t src_index, const Tensor& dst, int64_t dst_index) {
  const size_t size = element_size(src.type());
  std::memcpy(static_cast<char*>(dst.data()) + dst_index * size,
              static_cast<const char*>(src.data()) + src_index * size, size);
}

// A new tensor of `out_shape` whose element at multi-index i is the input element at multi-index
// (maps[0][i[0]], ..., maps[r-1][i[r-1]]); where any map gives -1, the element is `fill` (one element of
// the input's type; zero when null). maps[d] has out_shape[d] entries.
Tensor gather_by_axis_maps(const Tensor& input, const Shape& out_shape,
                           const std::vector<std::vector<int64_t>>& maps, const void* fill = nullptr);

// A one-element tensor of type `type` holding `value` converted to it.
Tensor scalar_of_type(ElementType type, double value);

}  // namespace sluice::ops::tensor
