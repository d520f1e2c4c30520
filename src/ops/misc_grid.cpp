// GridSample (opset 16: 2-D, modes bilinear / nearest / bicubic; opset 20: N-D, modes linear / nearest /
// cubic) and AffineGrid (opset 20).
//
// GridSample follows the ONNX reference: grid values are denormalized in f32 (nearest then rounds half to
// even in every rank, as the conformance data does for 3-D too); coordinates outside the sampling border
// are clamped (border) or reflected (reflection) first, then the taps of the interpolation read pixels
// through the padding mode (zeros: 0 outside).
#include <algorithm>
#include <cmath>

#include "ops/misc.hpp"
#include "ops/quantization.hpp"

namespace sluice::ops::misc {
namespace {

enum class SampleMode { linear, nearest, cubic };
enum class Padding { zeros, border, reflection };

struct GridSampleVersion {
  int64_t since = 16;
};

SampleMode sample_mode(const Node& node, GridSampleVersion v) {
  const bool old = v.since < 20;
  const std::string mode = node.attr_string("mode", old ? "bilinear" : "linear");
  if (mode == (old ? "bilinear" : "linear")) return SampleMode::linear;
  if (mode == "nearest") return SampleMode::nearest;
  if (mode == (old ? "bicubic" : "cubic")) return SampleMode::cubic;
  throw_error(where(node), "attribute 'mode' is '", mode, "'; expected ",
              old ? "bilinear, nearest or bicubic" : "linear, nearest or cubic", " in opset ", v.since,
              old ? " to 19" : " and later");
}

Padding padding_mode(const Node& node) {
  const std::string mode = node.attr_string("padding_mode", "zeros");
  if (mode == "zeros") return Padding::zeros;
  if (mode == "border") return Padding::border;
  if (mode == "reflection") return Padding::reflection;
  throw_error(where(node), "attribute 'padding_mode' is '", mode, "'; expected zeros, border or reflection");
}

void validate_grid_sample(const Node& node, GridSampleVersion v) {
  sample_mode(node, v);
  padding_mode(node);
  const int64_t align = node.attr_int("align_corners", 0);
  SLUICE_CHECK(align == 0 || align == 1, where(node), "attribute 'align_corners' is ", align,
               "; expected 0 or 1");
}

void infer_grid_sample(InferContext& ctx, GridSampleVersion v) {
  const Node& node = ctx.node;
  const ElementType x_type = ctx.input_type(0);
  SLUICE_CHECK(x_type != ElementType::boolean, where(node), "input 'X' is boolean; expected a numeric type");
  SLUICE_CHECK(is_floating(ctx.input_type(1)), where(node), "input 'grid' is ", to_string(ctx.input_type(1)),
               "; expected a floating type");
  const PartialShape& x = ctx.input_shape(0);
  const PartialShape& grid = ctx.input_shape(1);
  if (x.rank_known()) {
    SLUICE_CHECK(
        v.since >= 20 ? x.rank() >= 3 : x.rank() == 4, where(node), "input 'X' has shape ", x.to_string(),
        v.since >= 20 ? "; expected [N, C, D1, ..., Dr]" : "; expected [N, C, H, W] (opset 16 is 2-D only)");
  }
  if (!grid.rank_known()) {
    if (!x.rank_known()) return ctx.set_output(0, x_type, PartialShape::unknown_rank());
    std::vector<Dimension> out{x[0], x[1]};
    out.resize(static_cast<size_t>(x.rank()));
    return ctx.set_output(0, x_type, PartialShape(std::move(out)));
  }
  const int64_t r = grid.rank() - 2;
  SLUICE_CHECK(r >= 1 && (!x.rank_known() || x.rank() == r + 2), where(node), "input 'grid' has shape ",
               grid.to_string(), "; expected [N, D1_out, ..., Dr_out, r] with r = rank(X) - 2");
  SLUICE_CHECK(grid[r + 1].is_dynamic() || grid[r + 1].extent() == r, where(node), "input 'grid' has shape ",
               grid.to_string(), "; its last dimension must be ", r,
               " (one coordinate per spatial dimension)");
  const Dimension n = x.rank_known() && x[0].is_static() ? x[0] : grid[0];
  if (x.rank_known()) {
    SLUICE_CHECK(x[0].is_dynamic() || grid[0].is_dynamic() || x[0].extent() == grid[0].extent(), where(node),
                 "X ", x.to_string(), " and grid ", grid.to_string(), " disagree on the batch size");
  }
  std::vector<Dimension> out{n, x.rank_known() ? x[1] : Dimension()};
  for (int64_t d = 1; d <= r; ++d) out.push_back(grid[d]);
  ctx.set_output(0, x_type, PartialShape(std::move(out)));
}

// Reflects x into [lo, hi] by folding at the borders (as PyTorch and the ONNX reference do).
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const int64_t n = static_cast<int64_t>(dx / range);
    const double rest = dx - n * range;
    return n % 2 == 0 ? lo + rest : hi - rest;
  }
  if (x > hi) {
    const double dx = x - hi;
    const int64_t n = static_cast<int64_t>(dx / range);
    const double rest = dx - n * range;
    return n % 2 == 0 ? hi - rest : lo + rest;
  }
  return x;
}

// Per spatial dimension: its extent and sampling border.
struct Axis {
  int64_t extent = 1;
  double lo = 0, hi = 0;
};

// The pixel index a tap at integer position i reads along one axis; -1 for a zero (outside, zeros padding).
int64_t tap_index(int64_t i, const Axis& axis, Padding padding) {
  switch (padding) {
    case Padding::zeros: return i >= 0 && i < axis.extent ? i : -1;
    case Padding::border: return std::clamp<int64_t>(i, 0, axis.extent - 1);
    case Padding::reflection:
      return std::clamp<int64_t>(static_cast<int64_t>(reflect(static_cast<double>(i), axis.lo, axis.hi)), 0,
                                 axis.extent - 1);
  }
  return -1;
}

void cubic_coefficients(double t, double* c) {
  constexpr double a = -0.75;
  const double x = std::abs(t);
  c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = ((a * (2 - x) - 5 * a) * (2 - x) + 8 * a) * (2 - x) - 4 * a;
}

// The taps of one axis: pixel indices (or -1) and weights.
struct Taps {
  int64_t index[4] = {0, 0, 0, 0};
  double weight[4] = {0, 0, 0, 0};
  int count = 0;
};

Taps axis_taps(double x, const Axis& axis, SampleMode mode, Padding padding) {
  Taps taps;
  if (mode == SampleMode::nearest) {
    taps.count = 1;
    taps.index[0] = tap_index(static_cast<int64_t>(x), axis, padding);
    taps.weight[0] = 1.0;
    return taps;
  }
  const int64_t x0 = static_cast<int64_t>(std::floor(x));
  const double t = x - static_cast<double>(x0);
  if (mode == SampleMode::linear) {
    taps.count = 2;
    taps.weight[0] = 1.0 - t;
    taps.weight[1] = t;
    for (int k = 0; k < 2; ++k) taps.index[k] = tap_index(x0 + k, axis, padding);
    return taps;
  }
  taps.count = 4;
  cubic_coefficients(t, taps.weight);
  for (int k = 0; k < 4; ++k) taps.index[k] = tap_index(x0 - 1 + k, axis, padding);
  return taps;
}

// The sampling coordinate along one axis for a normalized grid value g.
double axis_coordinate(double g, const Axis& axis, bool align_corners, SampleMode mode, Padding padding) {
  const double extent = static_cast<double>(axis.extent);
  float x =
      static_cast<float>(align_corners ? (g + 1.0) / 2.0 * (extent - 1.0) : ((g + 1.0) * extent - 1.0) / 2.0);
  if (mode == SampleMode::nearest) x = std::nearbyint(x);  // half to even, in every rank
  double v = x;
  if (v < axis.lo || v > axis.hi) {
    if (padding == Padding::border) v = std::clamp(v, 0.0, extent - 1.0);
    if (padding == Padding::reflection) v = reflect(v, axis.lo, axis.hi);
  }
  return v;
}

std::vector<Tensor> grid_sample_kernel(const Node& node, std::span<const Tensor> in, GridSampleVersion v) {
  const Tensor& x_t = in[0];
  const Tensor& grid_t = in[1];
  const int64_t r = x_t.rank() - 2;
  SLUICE_CHECK(r >= 1 && (v.since >= 20 || r == 2), where(node), "input 'X' has shape ",
               to_string(x_t.shape()),
               v.since >= 20 ? "; expected [N, C, D1, ..., Dr]" : "; expected [N, C, H, W]");
  SLUICE_CHECK(grid_t.rank() == r + 2 && grid_t.shape()[0] == x_t.shape()[0] && grid_t.shape().back() == r,
               where(node), "input 'grid' has shape ", to_string(grid_t.shape()), "; expected [",
               x_t.shape()[0], ", D1_out, ..., D", r, "_out, ", r, "]");
  const SampleMode mode = sample_mode(node, v);
  const Padding padding = padding_mode(node);
  const bool align = node.attr_int("align_corners", 0) == 1;
  const int64_t batches = x_t.shape()[0], channels = x_t.shape()[1];
  std::vector<Axis> axes(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    Axis& a = axes[d];
    a.extent = x_t.shape()[2 + d];
    SLUICE_CHECK(a.extent >= 1, where(node), "input 'X' has shape ", to_string(x_t.shape()),
                 "; expected non-empty spatial dimensions");
    a.lo = align ? 0.0 : -0.5;
    a.hi = align ? a.extent - 1.0 : a.extent - 0.5;
  }
  const Shape in_spatial(x_t.shape().begin() + 2, x_t.shape().end());
  const Shape out_spatial(grid_t.shape().begin() + 1, grid_t.shape().end() - 1);
  const int64_t in_size = shape_size(in_spatial), out_size = shape_size(out_spatial);
  const std::vector<int64_t> in_strides = strides_of(in_spatial);
  const std::vector<double> x = to_doubles(x_t), grid = to_doubles(grid_t);
  Shape out_shape{batches, channels};
  out_shape.insert(out_shape.end(), out_spatial.begin(), out_spatial.end());
  std::vector<double> y(static_cast<size_t>(shape_size(out_shape)), 0.0);
  std::vector<Taps> taps(static_cast<size_t>(r));
  for (int64_t n = 0; n < batches; ++n) {
    for (int64_t o = 0; o < out_size; ++o) {
      const double* g = grid.data() + (n * out_size + o) * r;
      for (int64_t d = 0; d < r; ++d) {  // grid coordinates come innermost-dimension first
        const double c = axis_coordinate(g[r - 1 - d], axes[d], align, mode, padding);
        taps[d] = axis_taps(c, axes[d], mode, padding);
      }
      // Every combination of one tap per axis: weight = product of the taps' weights.
      std::vector<int> pick(static_cast<size_t>(r), 0);
      std::vector<std::pair<int64_t, double>> points;  // (pixel offset or -1, weight)
      while (true) {
        int64_t offset = 0;
        double weight = 1.0;
        for (int64_t d = 0; d < r; ++d) {
          const int64_t idx = taps[d].index[pick[d]];
          weight *= taps[d].weight[pick[d]];
          offset = (offset < 0 || idx < 0) ? -1 : offset + idx * in_strides[d];
        }
        points.emplace_back(offset, weight);
        int64_t d = r - 1;
        while (d >= 0 && ++pick[d] == taps[d].count) pick[d--] = 0;
        if (d < 0) break;
      }
      for (int64_t c = 0; c < channels; ++c) {
        const double* plane = x.data() + (n * channels + c) * in_size;
        double acc = 0.0;
        for (const auto& [offset, weight] : points) {
          if (offset >= 0) acc += weight * plane[offset];
        }
        y[(n * channels + c) * out_size + o] = acc;
      }
    }
  }
  return {quant::numeric_tensor(x_t.type(), out_shape, y)};
}

// ---- AffineGrid ---------------------------------------------------------------------------------

void infer_affine_grid(InferContext& ctx) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(0);
  SLUICE_CHECK(is_floating(type), where(node), "input 'theta' is ", to_string(type),
               "; expected a floating type");
  SLUICE_CHECK(is_integer(ctx.input_type(1)), where(node), "input 'size' is ", to_string(ctx.input_type(1)),
               "; expected i64");
  const PartialShape& theta = ctx.input_shape(0);
  SLUICE_CHECK(!theta.rank_known() || theta.rank() == 3, where(node), "input 'theta' has shape ",
               theta.to_string(), "; expected [N, 2, 3] or [N, 3, 4]");
  const PartialShape& size_shape = ctx.input_shape(1);
  int64_t spatial = -1;
  if (size_shape.rank_known() && size_shape.rank() == 1 && size_shape[0].is_static()) {
    spatial = size_shape[0].extent() - 2;
  } else if (theta.rank_known() && theta[1].is_static()) {
    spatial = theta[1].extent();
  }
  if (spatial < 0) return ctx.set_output(0, type, PartialShape::unknown_rank());
  SLUICE_CHECK(spatial == 2 || spatial == 3, where(node), "input 'size' has shape ", size_shape.to_string(),
               "; expected [4] (N, C, H, W) or [5] (N, C, D, H, W)");
  if (theta.rank_known()) {
    SLUICE_CHECK((theta[1].is_dynamic() || theta[1].extent() == spatial) &&
                     (theta[2].is_dynamic() || theta[2].extent() == spatial + 1),
                 where(node), "input 'theta' has shape ", theta.to_string(), "; expected [N, ", spatial, ", ",
                 spatial + 1, "] for ", spatial, "-D sizes");
  }
  std::vector<Dimension> out(static_cast<size_t>(spatial + 2));
  out[0] = theta.rank_known() ? theta[0] : Dimension();
  if (const Tensor* size = ctx.input_value(1)) {
    const std::vector<int64_t> s = to_int64s(*size);
    out[0] = s[0];
    for (int64_t d = 0; d < spatial; ++d) out[1 + d] = s[2 + d];
  }
  out.back() = spatial;
  ctx.set_output(0, type, PartialShape(std::move(out)));
}

// The normalized coordinate of index i of an axis of `extent` points.
double base_coordinate(int64_t i, int64_t extent, bool align_corners) {
  if (align_corners) return extent == 1 ? -1.0 : -1.0 + 2.0 * static_cast<double>(i) / (extent - 1);
  return (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(extent) - 1.0;
}

std::vector<Tensor> affine_grid_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& theta_t = in[0];
  const std::vector<int64_t> size = to_int64s(in[1]);
  SLUICE_CHECK(in[1].rank() == 1 && (size.size() == 4 || size.size() == 5), where(node),
               "input 'size' has shape ", to_string(in[1].shape()),
               "; expected [4] (N, C, H, W) or [5] (N, C, D, H, W)");
  const int64_t spatial = static_cast<int64_t>(size.size()) - 2;
  const int64_t batches = size[0];
  SLUICE_CHECK(theta_t.shape() == Shape({batches, spatial, spatial + 1}), where(node),
               "input 'theta' has shape ", to_string(theta_t.shape()), "; expected [", batches, ", ", spatial,
               ", ", spatial + 1, "]");
  for (int64_t d = 0; d < spatial; ++d) {
    SLUICE_CHECK(size[2 + d] >= 1, where(node), "input 'size' holds ", size[2 + d],
                 "; expected positive extents");
  }
  const bool align = node.attr_int("align_corners", 0) == 1;
  const Shape extents(size.begin() + 2, size.end());  // (H, W) or (D, H, W)
  const std::vector<double> theta = to_doubles(theta_t);
  Shape out_shape{batches};
  out_shape.insert(out_shape.end(), extents.begin(), extents.end());
  out_shape.push_back(spatial);
  std::vector<double> out(static_cast<size_t>(shape_size(out_shape)));
  const int64_t points = shape_size(extents);
  for (int64_t n = 0; n < batches; ++n) {
    const double* t = theta.data() + n * spatial * (spatial + 1);
    std::vector<int64_t> idx(static_cast<size_t>(spatial), 0);
    for (int64_t p = 0; p < points; ++p) {
      // Homogeneous base point, innermost dimension first: (x, y, 1) or (x, y, z, 1).
      std::vector<double> base(static_cast<size_t>(spatial + 1), 1.0);
      for (int64_t d = 0; d < spatial; ++d) {
        base[d] = base_coordinate(idx[spatial - 1 - d], extents[spatial - 1 - d], align);
      }
      for (int64_t row = 0; row < spatial; ++row) {
        double acc = 0.0;
        for (int64_t k = 0; k <= spatial; ++k) acc += t[row * (spatial + 1) + k] * base[k];
        out[(n * points + p) * spatial + row] = acc;
      }
      for (int64_t d = spatial - 1; d >= 0 && ++idx[d] == extents[d]; --d) idx[d] = 0;
    }
  }
  return {quant::numeric_tensor(theta_t.type(), out_shape, out)};
}

}  // namespace

void register_grid_ops(OpRegistry& registry) {
  for (int64_t since : {16, 20}) {
    const GridSampleVersion v{since};
    OpSchema s;
    s.op_type = "GridSample";
    s.since_version = since;
    s.min_inputs = 2;
    s.max_inputs = 2;
    s.validate = [v](const Node& node) { validate_grid_sample(node, v); };
    s.infer = [v](InferContext& ctx) { infer_grid_sample(ctx, v); };
    s.reference = [v](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return grid_sample_kernel(node, in, v);
    };
    registry.add(std::move(s));
  }
  OpSchema s;
  s.op_type = "AffineGrid";
  s.since_version = 20;
  s.min_inputs = 2;
  s.max_inputs = 2;
  s.validate = [](const Node& node) {
    const int64_t align = node.attr_int("align_corners", 0);
    SLUICE_CHECK(align == 0 || align == 1, where(node), "attribute 'align_corners' is ", align,
                 "; expected 0 or 1");
  };
  s.infer = infer_affine_grid;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return affine_grid_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace sluice::ops::misc
