// Conv and ConvTranspose: schemas, shape inference and reference kernels for any number of spatial dims.
#include <algorithm>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

Dimension dim_at(const PartialShape& shape, size_t i) {
  return shape.rank_known() && i < shape.dims().size() ? shape[i] : Dimension();
}

// The common rank of X and W (or kernel_shape's length + 2), or -1 when nothing tells it.
int64_t conv_rank(InferContext& ctx) {
  const auto& xs = ctx.input_shape(0);
  const auto& ws = ctx.input_shape(1);
  int64_t rank = xs.rank_known() ? xs.rank() : ws.rank();
  if (rank < 0 && ctx.node.has_attr("kernel_shape")) {
    rank = static_cast<int64_t>(ctx.node.attr_ints("kernel_shape").size()) + 2;
  }
  if (rank < 0) return rank;
  SLUICE_CHECK(rank >= 3, where(ctx.node), "input X has rank ", rank,
               "; expected at least 3 (batch, channels and one or more spatial dims)");
  SLUICE_CHECK(!ws.rank_known() || ws.rank() == rank, where(ctx.node), "input W has shape ", ws.to_string(),
               "; expected rank ", rank, " like input X");
  return rank;
}

// Kernel extents for shape inference: kernel_shape, else W's spatial dims; -1 where unknown.
std::vector<int64_t> partial_kernel(const Node& node, const PartialShape& ws, size_t spatial) {
  std::vector<int64_t> kernel(spatial, -1);
  if (node.has_attr("kernel_shape")) {
    kernel = node.attr_ints("kernel_shape");
    SLUICE_CHECK(kernel.size() == spatial, where(node), "attribute 'kernel_shape' has ", kernel.size(),
                 " values; expected ", spatial, " (one per spatial dimension)");
  }
  for (size_t d = 0; d < spatial && ws.rank_known(); ++d) {
    const Dimension& wd = ws[d + 2];
    if (wd.is_dynamic()) continue;
    SLUICE_CHECK(kernel[d] < 0 || kernel[d] == wd.extent(), where(node), "attribute 'kernel_shape' is ",
                 to_string(Shape(kernel)), " but input W has shape ", ws.to_string());
    kernel[d] = wd.extent();
  }
  return kernel;
}

// The static kernel extents: kernel_shape (checked against W) or W's spatial dims.
std::vector<int64_t> static_kernel(const Node& node, const Shape& w_shape) {
  std::vector<int64_t> kernel(w_shape.begin() + 2, w_shape.end());
  if (node.has_attr("kernel_shape")) {
    SLUICE_CHECK(node.attr_ints("kernel_shape") == kernel, where(node), "attribute 'kernel_shape' is ",
                 to_string(Shape(node.attr_ints("kernel_shape"))), " but input W has shape ",
                 to_string(w_shape));
  }
  return kernel;
}

// A window over partially known kernel extents: unknown extents read as 1 (callers skip those dims).
Window partial_window(const Node& node, const std::vector<int64_t>& kernel) {
  std::vector<int64_t> known(kernel);
  for (auto& k : known) k = std::max<int64_t>(k, 1);
  return read_window(node, known);
}

void validate_conv(const Node& node) {
  validate_window_attrs(node);
  SLUICE_CHECK(node.attr_int("group", 1) > 0, where(node), "attribute 'group' is ", node.attr_int("group", 1),
               "; expected a positive value");
}

void check_static_channels(const Node& node, const Dimension& channels, const Dimension& w_channels,
                           const Dimension& w_out, int64_t group, bool transpose) {
  if (!transpose && channels.is_static() && w_channels.is_static()) {
    SLUICE_CHECK(channels.extent() == w_channels.extent() * group, where(node), "input X has ",
                 channels.extent(), " channels; expected W's dim 1 (", w_channels.extent(), ") * group (",
                 group, ")");
  }
  if (transpose && channels.is_static() && w_out.is_static()) {
    SLUICE_CHECK(channels.extent() == w_out.extent(), where(node), "input X has ", channels.extent(),
                 " channels; expected W's dim 0 (", w_out.extent(), ")");
  }
  const Dimension& groups_dim = transpose ? channels : w_out;
  if (groups_dim.is_static()) {
    SLUICE_CHECK(groups_dim.extent() % group == 0, where(node),
                 (transpose ? "input X's channels (" : "W's dim 0 ("), groups_dim.extent(),
                 ") is not divisible by group (", group, ")");
  }
}

void check_bias_shape(InferContext& ctx, size_t index, const Dimension& out_channels) {
  if (!ctx.has_input(index)) return;
  const auto& bs = ctx.input_shape(index);
  if (!bs.rank_known()) return;
  SLUICE_CHECK(bs.rank() == 1, where(ctx.node), "input B has shape ", bs.to_string(), "; expected rank 1");
  if (bs[0].is_static() && out_channels.is_static()) {
    SLUICE_CHECK(bs[0].extent() == out_channels.extent(), where(ctx.node), "input B has shape ",
                 bs.to_string(), "; expected [", out_channels.extent(), "] (one value per output channel)");
  }
}

void infer_conv(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  check_same_type(ctx, 1, "W");
  check_same_type(ctx, 2, "B");
  const Node& node = ctx.node;
  const int64_t rank = conv_rank(ctx);
  if (rank < 0) {
    ctx.set_output(0, ctx.input_type(0), PartialShape());
    return;
  }
  const auto& xs = ctx.input_shape(0);
  const auto& ws = ctx.input_shape(1);
  const size_t spatial = static_cast<size_t>(rank - 2);
  const int64_t group = node.attr_int("group", 1);
  check_static_channels(node, dim_at(xs, 1), dim_at(ws, 1), dim_at(ws, 0), group, false);
  check_bias_shape(ctx, 2, dim_at(ws, 0));
  const auto kernel = partial_kernel(node, ws, spatial);
  const Window window = partial_window(node, kernel);
  std::vector<Dimension> out{dim_at(xs, 0), dim_at(ws, 0)};
  for (size_t d = 0; d < spatial; ++d) {
    out.push_back(kernel[d] < 0 ? Dimension() : forward_dim(window, d, dim_at(xs, d + 2), node));
  }
  ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

// The static geometry of a Conv or ConvTranspose node for concrete input shapes.
struct ConvGeometry {
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  Shape in;   // spatial extents of X
  Shape out;  // spatial extents of Y
  std::vector<int64_t> kernel, strides, dilations, pad_begin;

  Shape output_shape() const {
    Shape shape{batch, out_channels};
    shape.insert(shape.end(), out.begin(), out.end());
    return shape;
  }
};

void check_static_inputs(const Node& node, const Tensor& x, const Tensor& w, const Tensor& b) {
  SLUICE_CHECK(x.rank() >= 3, where(node), "input X has shape ", to_string(x.shape()),
               "; expected rank >= 3 (batch, channels, spatial dims)");
  SLUICE_CHECK(w.rank() == x.rank(), where(node), "input W has shape ", to_string(w.shape()),
               "; expected rank ", x.rank(), " like X ", to_string(x.shape()));
  SLUICE_CHECK(w.type() == x.type(), where(node), "input W has element type ", to_string(w.type()),
               "; expected ", to_string(x.type()), " like X");
  SLUICE_CHECK(b.empty() || b.type() == x.type(), where(node), "input B has element type ",
               to_string(b.type()), "; expected ", to_string(x.type()), " like X");
}

void check_static_bias(const Node& node, const Tensor& b, int64_t out_channels) {
  if (b.empty()) return;
  SLUICE_CHECK(b.rank() == 1 && b.shape()[0] == out_channels, where(node), "input B has shape ",
               to_string(b.shape()), "; expected [", out_channels, "]");
}

ConvGeometry conv_geometry(const Node& node, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_static_inputs(node, x, w, b);
  ConvGeometry g;
  g.batch = x.shape()[0];
  g.in_channels = x.shape()[1];
  g.out_channels = w.shape()[0];
  g.group = node.attr_int("group", 1);
  check_static_channels(node, g.in_channels, w.shape()[1], g.out_channels, g.group, false);
  check_static_bias(node, b, g.out_channels);
  const Window window = read_window(node, static_kernel(node, w.shape()));
  const WindowPlan plan = plan_forward(window, spatial_of(x.shape()), node);
  g.in = plan.in;
  g.out = plan.out;
  g.kernel = plan.kernel;
  g.strides = plan.strides;
  g.dilations = plan.dilations;
  g.pad_begin = plan.pad_begin;
  return g;
}

// Writes acc + bias[channel] into y.
template <class T, class A>
void store_with_bias(const std::vector<A>& acc, const T* bias, int64_t channel, T* y) {
  const A b = bias ? widen(bias[channel]) : A(0);
  for (size_t i = 0; i < acc.size(); ++i) y[i] = narrow<T>(acc[i] + b);
}

template <class T> void conv_kernel(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  using A = acc_t<T>;
  const int64_t in_size = shape_size(g.in);
  const int64_t out_size = shape_size(g.out);
  const int64_t k_size = shape_size(g.kernel);
  const int64_t in_per_group = g.in_channels / g.group;
  const int64_t out_per_group = g.out_channels / g.group;
  const auto shifts = plan_shifted_rows(g.out, g.in, g.kernel, g.strides, g.dilations, g.pad_begin);
  std::vector<A> acc(static_cast<size_t>(out_size));
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      std::fill(acc.begin(), acc.end(), A(0));
      const int64_t first_ic = (oc / out_per_group) * in_per_group;
      for (int64_t icl = 0; icl < in_per_group; ++icl) {
        const T* plane = x + (n * g.in_channels + first_ic + icl) * in_size;
        const T* weights = w + (oc * in_per_group + icl) * k_size;
        for (int64_t kp = 0; kp < k_size; ++kp) {
          const A wv = widen(weights[kp]);
          const ShiftedRows& sr = shifts[static_cast<size_t>(kp)];
          const int64_t s = sr.last_stride;
          for (const auto& [out_off, in_base] : sr.rows) {
            A* dst = acc.data() + out_off;
            for (int64_t o = sr.lo; o < sr.hi; ++o) dst[o] += wv * widen(plane[in_base + o * s]);
          }
        }
      }
      store_with_bias(acc, bias, oc, y + (n * g.out_channels + oc) * out_size);
    }
  }
}

template <class T> const T* data_or_null(const Tensor& t) { return t.empty() ? nullptr : t.data<T>(); }

std::vector<Tensor> run_conv(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor bias = in.size() > 2 ? in[2] : Tensor();
  const ConvGeometry g = conv_geometry(node, in[0], in[1], bias);
  Tensor y(in[0].type(), g.output_shape());
  dispatch_floating(in[0].type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    conv_kernel<T>(g, in[0].data<T>(), in[1].data<T>(), data_or_null<T>(bias), y.data<T>());
  });
  return {y};
}

// ---- ConvTranspose ----

struct TransposeAttrs {
  std::vector<int64_t> output_padding;
  std::vector<int64_t> output_shape;  // spatial extents; empty when not set
};

TransposeAttrs read_transpose_attrs(const Node& node, size_t spatial) {
  TransposeAttrs attrs;
  attrs.output_padding = node.attr_ints("output_padding", std::vector<int64_t>(spatial, 0));
  SLUICE_CHECK(attrs.output_padding.size() == spatial, where(node), "attribute 'output_padding' has ",
               attrs.output_padding.size(), " values; expected ", spatial);
  attrs.output_shape = node.attr_ints("output_shape", {});
  if (attrs.output_shape.size() == spatial + 2) {
    attrs.output_shape.erase(attrs.output_shape.begin(), attrs.output_shape.begin() + 2);
  }
  SLUICE_CHECK(attrs.output_shape.empty() || attrs.output_shape.size() == spatial, where(node),
               "attribute 'output_shape' has ", attrs.output_shape.size(), " values; expected ", spatial,
               " (one per spatial dimension)");
  return attrs;
}

// Output extent and begin pad of ConvTranspose along spatial dim d for input extent `in`.
DimPlan plan_transpose_dim(const Node& node, const Window& window, const TransposeAttrs& attrs, size_t d,
                           int64_t in) {
  const int64_t full = window.strides[d] * (in - 1) + attrs.output_padding[d] + window.span(d);
  DimPlan plan;
  const bool same = window.auto_pad == "SAME_UPPER" || window.auto_pad == "SAME_LOWER";
  if (!attrs.output_shape.empty() || same) {
    plan.out = attrs.output_shape.empty() ? in * window.strides[d] : attrs.output_shape[d];
    const int64_t total = full - plan.out;
    const int64_t half = floor_div(total, 2);
    plan.pad_begin = window.auto_pad == "SAME_UPPER" ? half : total - half;
  } else {
    plan.pad_begin = window.pads[d];
    plan.out = full - window.pads[d] - window.pads[d + window.rank()];
  }
  plan.pad_end = full - plan.out - plan.pad_begin;
  SLUICE_CHECK(plan.out >= 0, where(node), "spatial dimension ", d, ": the output extent would be ", plan.out,
               " (input extent ", in, ")");
  return plan;
}

void infer_conv_transpose(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  check_same_type(ctx, 1, "W");
  check_same_type(ctx, 2, "B");
  const Node& node = ctx.node;
  const int64_t rank = conv_rank(ctx);
  if (rank < 0) {
    ctx.set_output(0, ctx.input_type(0), PartialShape());
    return;
  }
  const auto& xs = ctx.input_shape(0);
  const auto& ws = ctx.input_shape(1);
  const size_t spatial = static_cast<size_t>(rank - 2);
  const int64_t group = node.attr_int("group", 1);
  check_static_channels(node, dim_at(xs, 1), Dimension(), dim_at(ws, 0), group, true);
  const Dimension w_out = dim_at(ws, 1);
  const Dimension out_channels = w_out.is_static() ? Dimension(w_out.extent() * group) : Dimension();
  check_bias_shape(ctx, 2, out_channels);
  const auto kernel = partial_kernel(node, ws, spatial);
  const Window window = partial_window(node, kernel);
  std::vector<Dimension> out{dim_at(xs, 0), out_channels};
  const TransposeAttrs attrs = read_transpose_attrs(node, spatial);
  for (size_t d = 0; d < spatial; ++d) {
    const Dimension in_d = dim_at(xs, d + 2);
    if (!attrs.output_shape.empty()) {
      out.emplace_back(attrs.output_shape[d]);
    } else if (kernel[d] < 0 || in_d.is_dynamic()) {
      out.emplace_back();
    } else {
      out.emplace_back(plan_transpose_dim(node, window, attrs, d, in_d.extent()).out);
    }
  }
  ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

ConvGeometry conv_transpose_geometry(const Node& node, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_static_inputs(node, x, w, b);
  ConvGeometry g;
  g.batch = x.shape()[0];
  g.in_channels = x.shape()[1];
  g.group = node.attr_int("group", 1);
  check_static_channels(node, g.in_channels, Dimension(), w.shape()[0], g.group, true);
  g.out_channels = w.shape()[1] * g.group;
  check_static_bias(node, b, g.out_channels);
  const Window window = read_window(node, static_kernel(node, w.shape()));
  g.in = spatial_of(x.shape());
  const TransposeAttrs attrs = read_transpose_attrs(node, g.in.size());
  for (size_t d = 0; d < g.in.size(); ++d) {
    const DimPlan plan = plan_transpose_dim(node, window, attrs, d, g.in[d]);
    g.out.push_back(plan.out);
    g.pad_begin.push_back(plan.pad_begin);
  }
  g.kernel = window.kernel;
  g.strides = window.strides;
  g.dilations = window.dilations;
  return g;
}

template <class T>
void conv_transpose_kernel(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  using A = acc_t<T>;
  const int64_t in_size = shape_size(g.in);
  const int64_t out_size = shape_size(g.out);
  const int64_t k_size = shape_size(g.kernel);
  const int64_t in_per_group = g.in_channels / g.group;
  const int64_t out_per_group = g.out_channels / g.group;
  const auto shifts = plan_shifted_rows(g.in, g.out, g.kernel, g.strides, g.dilations, g.pad_begin);
  std::vector<A> acc(static_cast<size_t>(out_size));
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      std::fill(acc.begin(), acc.end(), A(0));
      const int64_t grp = oc / out_per_group;
      const int64_t ocl = oc % out_per_group;
      for (int64_t icl = 0; icl < in_per_group; ++icl) {
        const int64_t ic = grp * in_per_group + icl;
        const T* plane = x + (n * g.in_channels + ic) * in_size;
        const T* weights = w + (ic * out_per_group + ocl) * k_size;
        for (int64_t kp = 0; kp < k_size; ++kp) {
          const A wv = widen(weights[kp]);
          const ShiftedRows& sr = shifts[static_cast<size_t>(kp)];
          const int64_t s = sr.last_stride;
          for (const auto& [in_off, out_base] : sr.rows) {
            const T* src = plane + in_off;
            for (int64_t i = sr.lo; i < sr.hi; ++i) acc[out_base + i * s] += wv * widen(src[i]);
          }
        }
      }
      store_with_bias(acc, bias, oc, y + (n * g.out_channels + oc) * out_size);
    }
  }
}

std::vector<Tensor> run_conv_transpose(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor bias = in.size() > 2 ? in[2] : Tensor();
  const ConvGeometry g = conv_transpose_geometry(node, in[0], in[1], bias);
  Tensor y(in[0].type(), g.output_shape());
  dispatch_floating(in[0].type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    conv_transpose_kernel<T>(g, in[0].data<T>(), in[1].data<T>(), data_or_null<T>(bias), y.data<T>());
  });
  return {y};
}

void validate_conv_transpose(const Node& node) {
  validate_conv(node);
  for (int64_t p : node.attr_ints("output_padding", {})) {
    SLUICE_CHECK(p >= 0, where(node), "attribute 'output_padding' has value ", p, "; expected values >= 0");
  }
  for (int64_t e : node.attr_ints("output_shape", {})) {
    SLUICE_CHECK(e >= 0, where(node), "attribute 'output_shape' has value ", e, "; expected values >= 0");
  }
}

}  // namespace

void validate_conv_attrs(const Node& node) { validate_conv(node); }
void infer_conv_output(InferContext& ctx) { infer_conv(ctx); }
std::vector<Tensor> run_conv_reference(const Node& node, std::span<const Tensor> in, KernelEnv& env) {
  return run_conv(node, in, env);
}

void register_conv_ops(OpRegistry& registry) {
  registry.add(OpSchema{"", "Conv", 1, 2, 3, 1, 1, validate_conv, infer_conv, run_conv});
  registry.add(OpSchema{"", "ConvTranspose", 1, 2, 3, 1, 1, validate_conv_transpose, infer_conv_transpose,
                        run_conv_transpose});
}

}  // namespace sluice::ops::nn
