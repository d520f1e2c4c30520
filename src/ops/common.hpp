// Helpers shared by operator definitions: type dispatch, broadcasting, axes, index arithmetic.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "graph/op_registry.hpp"
#include "sluice/tensor.hpp"

namespace sluice::ops {

using graph::InferContext;
using graph::KernelEnv;
using graph::Node;
using graph::OpRegistry;
using graph::OpSchema;

// Calls f(T{}) with the C++ type of `type`, for every element type. Throws for undefined.
template <class F> decltype(auto) dispatch_all(ElementType type, F&& f) {
  switch (type) {
    case ElementType::f32: return f(float{});
    case ElementType::f16: return f(float16{});
    case ElementType::bf16: return f(bfloat16{});
    case ElementType::f64: return f(double{});
    case ElementType::i8: return f(int8_t{});
    case ElementType::i16: return f(int16_t{});
    case ElementType::i32: return f(int32_t{});
    case ElementType::i64: return f(int64_t{});
    case ElementType::u8: return f(uint8_t{});
    case ElementType::u16: return f(uint16_t{});
    case ElementType::u32: return f(uint32_t{});
    case ElementType::u64: return f(uint64_t{});
    case ElementType::boolean: return f(bool{});
    default: break;
  }
  throw_error("unsupported element type ", to_string(type));
}

// Same, for the floating types only; `what` names the caller in the error for other types.
template <class F> decltype(auto) dispatch_floating(ElementType type, const std::string& what, F&& f) {
  switch (type) {
    case ElementType::f32: return f(float{});
    case ElementType::f16: return f(float16{});
    case ElementType::bf16: return f(bfloat16{});
    case ElementType::f64: return f(double{});
    default: break;
  }
  throw_error(what, ": element type ", to_string(type), " is not supported; expected f32, f16, bf16 or f64");
}

// Same, for the numeric types (every type but boolean).
template <class F> decltype(auto) dispatch_numeric(ElementType type, const std::string& what, F&& f) {
  if (type == ElementType::boolean || type == ElementType::undefined) {
    throw_error(what, ": element type ", to_string(type), " is not supported; expected a numeric type");
  }
  return dispatch_all(type, std::forward<F>(f));
}

// The type to compute in for T: float for the 16-bit floats, T otherwise.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>, float, T>;

template <class T>
inline constexpr bool is_floating_v =
    std::is_floating_point_v<T> || std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;

// Reads an integer tensor of any integer type (shapes, axes, indices) as int64 values.
std::vector<int64_t> to_int64s(const Tensor& tensor);
// Reads a tensor of any numeric type as doubles.
std::vector<double> to_doubles(const Tensor& tensor);
// Element i of any tensor as a double.
double element_as_double(const Tensor& tensor, int64_t i);

// The product of dimensions [begin, end) of a shape (1 for an empty range).
int64_t product(const Shape& shape, size_t begin, size_t end);

// Copies `count` elements from src[src_offset...] to dst[dst_offset...], both of src's type (strings
// assigned, other types byte-wise).
void copy_elements(const Tensor& src, int64_t src_offset, const Tensor& dst, int64_t dst_offset,
                   int64_t count);

// Row-major strides (in elements) of a shape.
std::vector<int64_t> strides_of(const Shape& shape);

// Normalizes a possibly negative axis into [0, rank); throws naming the node when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node);

// Numpy-style multidirectional broadcasting of static shapes; throws naming the node when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const Node& node);
// The same for partial shapes: dynamic dims stay dynamic (or take the other side's extent when it is
// not 1); symbols are kept when both sides agree or one side is 1.
PartialShape broadcast_partial_shapes(const PartialShape& a, const PartialShape& b, const Node& node);

// For a shape broadcast to `out`, the strides of `in` over the output's dimensions (0 where broadcast).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Calls f(out_index, a_index, b_index) for every element of the broadcast output of shapes a and b.
template <class F> void for_each_broadcast(const Shape& a, const Shape& b, const Shape& out, F&& f) {
  const auto sa = broadcast_strides(a, out);
  const auto sb = broadcast_strides(b, out);
  const int64_t n = shape_size(out);
  const size_t rank = out.size();
  std::vector<int64_t> idx(rank, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t o = 0; o < n; ++o) {
    f(o, ia, ib);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) {
        ia += sa[d];
        ib += sb[d];
        break;
      }
      ia -= sa[d] * (out[d] - 1);
      ib -= sb[d] * (out[d] - 1);
      idx[d] = 0;
    }
  }
}

// Shape-inference shortcuts.
void infer_same_as_input(InferContext& ctx);  // output 0 = input 0's type and shape
void infer_broadcast(InferContext& ctx);      // output 0: input 0's type, broadcast of all input shapes

// The element type an attribute names by onnx.TensorProto.DataType code (Cast's 'to', 'dtype', ...);
// throws naming the node and attribute for codes Sluice has no type for.
// Only the numeric types and boolean: string, float8 and 4-bit tensors are taken by a few operators only.
ElementType element_type_from_onnx_code(int64_t code, const Node& node, const std::string& attr);
// The same with string, float8 and 4-bit types too, for the operators that make them (Cast, QuantizeLinear,
// SequenceEmpty, ...).
ElementType any_element_type_from_onnx_code(int64_t code, const Node& node, const std::string& attr);

// Builds the error prefix for a node: "Conv node 'conv1': ".
std::string where(const Node& node);

}  // namespace sluice::ops
