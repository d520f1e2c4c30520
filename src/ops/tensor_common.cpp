#include "ops/tensor_common.hpp"

#include <algorithm>

namespace sluice::ops::tensor {

OpSchema make_schema(std::string op_type, int64_t since_version, int min_inputs, int max_inputs,
                     int min_outputs, int max_outputs) {
  OpSchema s;
  s.domain = graph::onnx_domain;
  s.op_type = std::move(op_type);
  s.since_version = since_version;
  s.min_inputs = min_inputs;
  s.max_inputs = max_inputs;
  s.min_outputs = min_outputs;
  s.max_outputs = max_outputs;
  return s;
}

std::optional<std::vector<int64_t>> constant_ints(const InferContext& ctx, size_t input) {
  if (!ctx.has_input(input)) return std::nullopt;
  const Tensor* value = ctx.input_value(input);
  if (!value || !is_integer(value->type())) return std::nullopt;
  return to_int64s(*value);
}

std::optional<std::vector<double>> constant_doubles(const InferContext& ctx, size_t input) {
  if (!ctx.has_input(input)) return std::nullopt;
  const Tensor* value = ctx.input_value(input);
  if (!value || value->type() == ElementType::boolean) return std::nullopt;
  return to_doubles(*value);
}

ElementType input_type_or_undefined(const InferContext& ctx, size_t input) {
  return ctx.has_input(input) ? ctx.input_type(input) : ElementType::undefined;
}

PartialShape input_shape_or_unknown(const InferContext& ctx, size_t input) {
  return ctx.has_input(input) ? ctx.input_shape(input) : PartialShape();
}

void check_integer_input(ElementType type, const Node& node, const std::string& input_name) {
  SLUICE_CHECK(type == ElementType::undefined || is_integer(type), where(node), "input '", input_name,
               "' has element type ", to_string(type), "; expected an integer type");
}

void check_rank(const Tensor& tensor, int64_t min_rank, int64_t max_rank, const Node& node,
                const std::string& input_name) {
  SLUICE_CHECK(tensor.rank() >= min_rank && tensor.rank() <= max_rank, where(node), "input '", input_name,
               "' has shape ", to_string(tensor.shape()), "; expected rank ",
               min_rank == max_rank ? std::to_string(min_rank)
                                    : std::to_string(min_rank) + " to " + std::to_string(max_rank));
}

std::vector<int64_t> kernel_ints(const Tensor& tensor, const Node& node, const std::string& input_name) {
  check_integer_input(tensor.type(), node, input_name);
  return to_int64s(tensor);
}

int64_t kernel_scalar_int(const Tensor& tensor, const Node& node, const std::string& input_name) {
  SLUICE_CHECK(tensor.size() == 1, where(node), "input '", input_name, "' has shape ",
               to_string(tensor.shape()), "; expected a single value");
  return kernel_ints(tensor, node, input_name)[0];
}

double kernel_scalar_double(const Tensor& tensor, const Node& node, const std::string& input_name) {
  SLUICE_CHECK(tensor.size() == 1, where(node), "input '", input_name, "' has shape ",
               to_string(tensor.shape()), "; expected a single value");
  return element_as_double(tensor, 0);
}

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const Node& node,
                                    const std::string& what) {
  std::vector<int64_t> out;
  out.reserve(axes.size());
  for (int64_t axis : axes) {
    SLUICE_CHECK(axis >= -rank && axis < rank, where(node), what, " holds axis ", axis,
                 ", out of range for rank ", rank, " (expected -", rank, " to ", rank - 1, ")");
    const int64_t a = axis < 0 ? axis + rank : axis;
    SLUICE_CHECK(std::find(out.begin(), out.end(), a) == out.end(), where(node), what, " names axis ", a,
                 " more than once");
    out.push_back(a);
  }
  return out;
}

Dimension multiply_dims(const Dimension& a, const Dimension& b) {
  if (a.is_static() && b.is_static()) return Dimension(a.extent() * b.extent());
  if (a.is_static() && a.extent() == 1) return b;
  if (b.is_static() && b.extent() == 1) return a;
  if ((a.is_static() && a.extent() == 0) || (b.is_static() && b.extent() == 0)) return Dimension(0);
  return Dimension::dynamic();
}

Dimension product_of_dims(const std::vector<Dimension>& dims, size_t begin, size_t end) {
  Dimension product(1);
  for (size_t i = begin; i < end; ++i) product = multiply_dims(product, dims[i]);
  return product;
}

Dimension merge_dims(const Dimension& a, const Dimension& b, const Node& node, const std::string& what) {
  if (a.is_static() && b.is_static()) {
    SLUICE_CHECK(a.extent() == b.extent(), where(node), what, ": dimension ", a.extent(), " does not match ",
                 b.extent());
    return a;
  }
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  return a.symbol().empty() ? b : a;
}

PartialShape dynamic_shape(int64_t rank) {
  return PartialShape(std::vector<Dimension>(static_cast<size_t>(rank), Dimension::dynamic()));
}

Tensor gather_by_axis_maps(const Tensor& input, const Shape& out_shape,
                           const std::vector<std::vector<int64_t>>& maps, const void* fill) {
  Tensor out(input.type(), out_shape);
  const int64_t count = out.size();
  if (count == 0) return out;
  const size_t esize = element_size(input.type());
  const auto in_strides = strides_of(input.shape());
  const size_t rank = out_shape.size();
  std::vector<int64_t> index(rank, 0);
  auto* dst = static_cast<char*>(out.data());
  const auto* src = static_cast<const char*>(input.data());
  for (int64_t o = 0; o < count; ++o) {
    int64_t offset = 0;
    bool filled = false;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t i = maps[d][static_cast<size_t>(index[d])];
      if (i < 0) {
        filled = true;
        break;
      }
      offset += i * in_strides[d];
    }
    if (!filled) {
      std::memcpy(dst + o * esize, src + offset * esize, esize);
    } else if (fill) {
      std::memcpy(dst + o * esize, fill, esize);
    }
    next_index(index, out_shape);
  }
  return out;
}

Tensor scalar_of_type(ElementType type, double value) {
  return dispatch_all(type, [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_same_v<T, bool>) {
      return Tensor::scalar<bool>(value != 0.0);
    } else if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
      return Tensor::scalar<T>(T(static_cast<float>(value)));
    } else {
      return Tensor::scalar<T>(static_cast<T>(value));
    }
  });
}

}  // namespace sluice::ops::tensor
