#include "ops/common.hpp"

#include <algorithm>
#include <cstring>

#include "graph/onnx_data_types.hpp"

namespace sluice::ops {

std::vector<int64_t> to_int64s(const Tensor& tensor) {
  SLUICE_CHECK(is_integer(tensor.type()), "expected an integer tensor, got ", to_string(tensor.type()));
  std::vector<int64_t> out(static_cast<size_t>(tensor.size()));
  dispatch_all(tensor.type(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      const T* p = static_cast<const T*>(tensor.data());
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(p[i]);
    }
  });
  return out;
}

std::vector<double> to_doubles(const Tensor& tensor) {
  std::vector<double> out(static_cast<size_t>(tensor.size()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = element_as_double(tensor, static_cast<int64_t>(i));
  return out;
}

double element_as_double(const Tensor& tensor, int64_t i) {
  return dispatch_all(tensor.type(), [&](auto tag) -> double {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(tensor.data());
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
      return static_cast<double>(static_cast<float>(p[i]));
    } else {
      return static_cast<double>(p[i]);
    }
  });
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node) {
  SLUICE_CHECK(axis >= -rank && axis < rank, node.describe(), ": axis ", axis, " is out of range for rank ",
               rank, "; expected [", -rank, ", ", rank - 1, "]");
  return axis < 0 ? axis + rank : axis;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const Node& node) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    SLUICE_CHECK(da == db || da == 1 || db == 1, node.describe(), ": shapes ", to_string(a), " and ",
                 to_string(b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

PartialShape broadcast_partial_shapes(const PartialShape& a, const PartialShape& b, const Node& node) {
  if (!a.rank_known() || !b.rank_known()) return PartialShape::unknown_rank();
  const size_t ra = a.dims().size(), rb = b.dims().size();
  const size_t rank = std::max(ra, rb);
  std::vector<Dimension> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dimension da = i < rank - ra ? Dimension(1) : a[i - (rank - ra)];
    const Dimension db = i < rank - rb ? Dimension(1) : b[i - (rank - rb)];
    if (da.is_static() && db.is_static()) {
      SLUICE_CHECK(da.extent() == db.extent() || da.extent() == 1 || db.extent() == 1, node.describe(),
                   ": shapes ", a.to_string(), " and ", b.to_string(), " cannot be broadcast together");
      out[i] = da.extent() == 1 ? db : da;
    } else if (da.is_static()) {
      out[i] = da.extent() == 1 ? db : da;  // the dynamic side must be 1 or equal: the result is da
    } else if (db.is_static()) {
      out[i] = db.extent() == 1 ? da : db;
    } else {
      out[i] = (!da.symbol().empty() && da.symbol() == db.symbol()) ? da : Dimension::dynamic();
    }
  }
  return PartialShape(std::move(out));
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  const auto in_strides = strides_of(in);
  const size_t offset = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    strides[offset + i] = in[i] == 1 ? 0 : in_strides[i];
  }
  return strides;
}

void infer_same_as_input(InferContext& ctx) { ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0)); }

void infer_broadcast(InferContext& ctx) {
  PartialShape shape = ctx.input_shape(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    shape = broadcast_partial_shapes(shape, ctx.input_shape(i), ctx.node);
  }
  ctx.set_output(0, ctx.input_type(0), std::move(shape));
}

ElementType any_element_type_from_onnx_code(int64_t code, const Node& node, const std::string& attr) {
  return graph::element_type_from_onnx(code, node.describe() + ": attribute '" + attr + "'");
}

ElementType element_type_from_onnx_code(int64_t code, const Node& node, const std::string& attr) {
  const ElementType type = any_element_type_from_onnx_code(code, node, attr);
  SLUICE_CHECK(type != ElementType::string && !is_float8(type) && !is_int4(type), where(node), "attribute '",
               attr, "' names ", to_string(type), "; ", node.op_type, " does not make ",
               type == ElementType::string ? "string"
               : is_float8(type)           ? "float8"
                                           : "4-bit integer",
               " tensors");
  return type;
}

std::string where(const Node& node) { return node.describe() + ": "; }

int64_t product(const Shape& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t d = begin; d < end; ++d) p *= shape[d];
  return p;
}

// Copies `count` elements from src[src_offset...] to dst[dst_offset...] (strings assigned, others bytes).
void copy_elements(const Tensor& src, int64_t src_offset, const Tensor& dst, int64_t dst_offset,
                   int64_t count) {
  if (count <= 0) return;
  if (src.type() == ElementType::string) {
    const std::string* from = src.data<std::string>() + src_offset;
    std::copy(from, from + count, dst.data<std::string>() + dst_offset);
    return;
  }
  const size_t esize = element_size(src.type());
  std::memcpy(static_cast<char*>(dst.data()) + static_cast<size_t>(dst_offset) * esize,
              static_cast<const char*>(src.data()) + static_cast<size_t>(src_offset) * esize,
              static_cast<size_t>(count) * esize);
}

}  // namespace sluice::ops
