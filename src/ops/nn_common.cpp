#include "ops/nn_common.hpp"

#include <algorithm>

namespace sluice::ops::nn {

ElementType floating_type_from_onnx_code(int64_t code, const Node& node, const std::string& attr) {
  const ElementType type = element_type_from_onnx_code(code, node, attr);
  SLUICE_CHECK(is_floating(type), where(node), "attribute '", attr, "' = ", code, " (", to_string(type),
               ") is not a floating type; expected 1 (float), 10 (float16), 11 (double) or 16 (bfloat16)");
  return type;
}

namespace {

void check_all_positive(const Node& node, const std::string& attr) {
  if (!node.has_attr(attr)) return;
  for (int64_t v : node.attr_ints(attr)) {
    SLUICE_CHECK(v > 0, where(node), "attribute '", attr, "' has value ", v, "; expected positive values");
  }
}

std::vector<int64_t> read_per_dim(const Node& node, const std::string& attr, size_t count, int64_t fallback) {
  if (!node.has_attr(attr)) return std::vector<int64_t>(count, fallback);
  auto values = node.attr_ints(attr);
  SLUICE_CHECK(values.size() == count, where(node), "attribute '", attr, "' has ", values.size(),
               " values; expected ", count, " (one per spatial dimension",
               attr == "pads" ? ", begin and end" : "", ")");
  return values;
}

}  // namespace

void validate_window_attrs(const Node& node) {
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  SLUICE_CHECK(
      auto_pad == "NOTSET" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || auto_pad == "VALID",
      where(node), "attribute 'auto_pad' is '", auto_pad,
      "'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  check_all_positive(node, "strides");
  check_all_positive(node, "dilations");
  check_all_positive(node, "kernel_shape");
  if (node.has_attr("pads")) {
    const auto pads = node.attr_ints("pads");
    SLUICE_CHECK(pads.size() % 2 == 0, where(node), "attribute 'pads' has ", pads.size(),
                 " values; expected an even count (begin and end pads of each spatial dimension)");
    for (int64_t p : pads) {
      SLUICE_CHECK(p >= 0, where(node), "attribute 'pads' has value ", p, "; expected values >= 0");
    }
  }
}

Window read_window(const Node& node, std::vector<int64_t> kernel) {
  Window w;
  const size_t rank = kernel.size();
  w.kernel = std::move(kernel);
  w.strides = read_per_dim(node, "strides", rank, 1);
  w.dilations = read_per_dim(node, "dilations", rank, 1);
  w.auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (w.auto_pad == "NOTSET") {
    w.pads = read_per_dim(node, "pads", 2 * rank, 0);
  } else {
    w.pads.assign(2 * rank, 0);
  }
  w.ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  for (size_t d = 0; d < rank; ++d) {
    SLUICE_CHECK(w.kernel[d] > 0 && w.strides[d] > 0 && w.dilations[d] > 0, where(node), "spatial dimension ",
                 d, ": kernel extent ", w.kernel[d], ", stride ", w.strides[d], " and dilation ",
                 w.dilations[d], " must be positive");
  }
  return w;
}

namespace {

int64_t window_count(int64_t room, int64_t stride, bool ceil_mode) {
  return (ceil_mode ? ceil_div(room, stride) : floor_div(room, stride)) + 1;
}

}  // namespace

DimPlan plan_forward_dim(const Window& window, size_t d, int64_t in, const Node& node) {
  const int64_t span = window.span(d);
  const int64_t stride = window.strides[d];
  DimPlan plan;
  if (window.auto_pad == "SAME_UPPER" || window.auto_pad == "SAME_LOWER") {
    plan.out = ceil_div(in, stride);
    const int64_t total = std::max<int64_t>(0, (plan.out - 1) * stride + span - in);
    const int64_t half = total / 2;
    plan.pad_begin = window.auto_pad == "SAME_UPPER" ? half : total - half;
    plan.pad_end = total - plan.pad_begin;
    return plan;
  }
  if (window.auto_pad == "NOTSET") {
    plan.pad_begin = window.pads[d];
    plan.pad_end = window.pads[d + window.rank()];
  }
  const int64_t room = in + plan.pad_begin + plan.pad_end - span;
  SLUICE_CHECK(room >= 0, where(node), "spatial dimension ", d, ": the dilated kernel extent ", span,
               " exceeds the padded input extent ", in + plan.pad_begin + plan.pad_end);
  plan.out = window_count(room, stride, window.ceil_mode);
  if (window.ceil_mode && (plan.out - 1) * stride >= in + plan.pad_begin) --plan.out;
  return plan;
}

Dimension forward_dim(const Window& window, size_t d, const Dimension& in, const Node& node) {
  if (in.is_dynamic()) return Dimension();
  return plan_forward_dim(window, d, in.extent(), node).out;
}

WindowPlan plan_forward(const Window& window, const Shape& in_spatial, const Node& node) {
  SLUICE_CHECK(in_spatial.size() == window.rank(), where(node), "input has ", in_spatial.size(),
               " spatial dimensions but the kernel has ", window.rank());
  WindowPlan plan;
  plan.in = in_spatial;
  plan.kernel = window.kernel;
  plan.strides = window.strides;
  plan.dilations = window.dilations;
  for (size_t d = 0; d < window.rank(); ++d) {
    const DimPlan dim = plan_forward_dim(window, d, in_spatial[d], node);
    plan.out.push_back(dim.out);
    plan.pad_begin.push_back(dim.pad_begin);
    plan.pad_end.push_back(dim.pad_end);
  }
  return plan;
}

namespace {

ShiftedRows plan_one_position(const Shape& a_ext, const Shape& b_ext, const std::vector<int64_t>& k,
                              const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                              const std::vector<int64_t>& pad_begin) {
  const size_t last = a_ext.size() - 1;
  ShiftedRows result;
  const int64_t shift = k[last] * dilations[last] - pad_begin[last];
  const int64_t stride = strides[last];
  result.last_stride = stride;
  result.lo = shift >= 0 ? 0 : ceil_div(-shift, stride);
  result.hi = std::min(a_ext[last], floor_div(b_ext[last] - 1 - shift, stride) + 1);
  if (result.lo >= result.hi) return result;
  const std::vector<int64_t> row_extents(a_ext.begin(), a_ext.begin() + static_cast<int64_t>(last));
  for (int64_t e : row_extents) {
    if (e == 0) return result;
  }
  std::vector<int64_t> row(last, 0);
  int64_t a_row = 0;
  do {
    int64_t b_off = 0;
    bool inside = true;
    for (size_t d = 0; d < last && inside; ++d) {
      const int64_t b = row[d] * strides[d] + k[d] * dilations[d] - pad_begin[d];
      inside = b >= 0 && b < b_ext[d];
      b_off = b_off * b_ext[d] + b;
    }
    if (inside) result.rows.emplace_back(a_row * a_ext[last], b_off * b_ext[last] + shift);
    ++a_row;
  } while (next_index(row, row_extents));
  return result;
}

}  // namespace

std::vector<ShiftedRows> plan_shifted_rows(const Shape& a_extents, const Shape& b_extents,
                                           const std::vector<int64_t>& kernel,
                                           const std::vector<int64_t>& strides,
                                           const std::vector<int64_t>& dilations,
                                           const std::vector<int64_t>& pad_begin) {
  std::vector<ShiftedRows> plans;
  std::vector<int64_t> k(kernel.size(), 0);
  if (shape_size(kernel) == 0) return plans;
  do {
    plans.push_back(plan_one_position(a_extents, b_extents, k, strides, dilations, pad_begin));
  } while (next_index(k, kernel));
  return plans;
}

void set_output_if_present(InferContext& ctx, size_t i, ElementType type, PartialShape shape) {
  if (ctx.node.has_output(i)) ctx.set_output(i, type, std::move(shape));
}

void check_same_type(InferContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return;
  SLUICE_CHECK(ctx.input_type(i) == ctx.input_type(0), where(ctx.node), "input ", i, " (", name,
               ") has element type ", to_string(ctx.input_type(i)), "; expected ",
               to_string(ctx.input_type(0)), " like input 0");
}

void check_floating(InferContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return;
  SLUICE_CHECK(is_floating(ctx.input_type(i)), where(ctx.node), "input ", i, " (", name,
               ") has element type ", to_string(ctx.input_type(i)), "; expected f32, f16, bf16 or f64");
}

}  // namespace sluice::ops::nn
