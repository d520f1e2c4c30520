// Resize (v10, v11/v13, v18, v19) and Upsample (v7, v9).
//
// Interpolation is separable: for each resized axis and output coordinate, the coordinate is mapped back
// to the input (coordinate_transformation_mode) and turned into taps (input index, weight) by the mode
// (nearest, linear, cubic; antialias widens the linear and cubic filters when downsampling and does not
// affect nearest). An output element is the sum over the product of its axes' taps. Indices outside the
// input read the edge element (exclude_outside=1 drops them and renormalizes instead); with
// tf_crop_and_resize, an output coordinate that maps outside the input takes extrapolation_value.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/resize_coordinates.hpp"
#include "ops/tensor_common.hpp"

namespace sluice::ops::tensor {
namespace {

// Which version's attribute set a Resize/Upsample definition has.
enum class ResizeLevel {
  upsample,  // Upsample-7/9: nearest or linear, asymmetric coordinates
  v10,       // Resize-10: as Upsample, scales only
  v11,       // Resize-11/13: cubic, coordinate modes, roi, sizes
  v18,       // Resize-18: antialias, axes, keep_aspect_ratio_policy; tf_half_pixel_for_nn removed
  v19,       // Resize-19: half_pixel_symmetric
};

struct ResizeAttrs {
  std::string mode = "nearest";
  std::string coordinate_mode = "asymmetric";
  std::string nearest_mode =
      "simple";  // Upsample and Resize-10: floor when upsampling, ceil when downsampling
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation_value = 0.0;
  bool antialias = false;
  std::optional<std::vector<int64_t>> axes;
  std::string keep_aspect_ratio_policy = "stretch";
};

void check_one_of(const Node& node, const std::string& attr, const std::string& value,
                  const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw_error(where(node), "attribute '", attr, "' is '", value, "'; expected one of: ", list);
}

ResizeAttrs resize_attrs(const Node& node, ResizeLevel level) {
  ResizeAttrs a;
  a.mode = node.attr_string("mode", "nearest");
  if (level == ResizeLevel::upsample || level == ResizeLevel::v10) {
    check_one_of(node, "mode", a.mode, {"nearest", "linear"});
    return a;
  }
  check_one_of(node, "mode", a.mode, {"nearest", "linear", "cubic"});
  a.coordinate_mode = node.attr_string("coordinate_transformation_mode", "half_pixel");
  std::vector<std::string> modes{"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                 "tf_crop_and_resize"};
  if (level == ResizeLevel::v11) modes.emplace_back("tf_half_pixel_for_nn");
  if (level == ResizeLevel::v19) modes.emplace_back("half_pixel_symmetric");
  check_one_of(node, "coordinate_transformation_mode", a.coordinate_mode, modes);
  a.nearest_mode = node.attr_string("nearest_mode", "round_prefer_floor");
  check_one_of(node, "nearest_mode", a.nearest_mode,
               {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"});
  a.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  a.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  a.extrapolation_value = node.attr_float("extrapolation_value", 0.0f);
  if (level == ResizeLevel::v18 || level == ResizeLevel::v19) {
    a.antialias = node.attr_int("antialias", 0) != 0;
    if (node.has_attr("axes")) a.axes = node.attr_ints("axes");
    a.keep_aspect_ratio_policy = node.attr_string("keep_aspect_ratio_policy", "stretch");
    check_one_of(node, "keep_aspect_ratio_policy", a.keep_aspect_ratio_policy,
                 {"stretch", "not_larger", "not_smaller"});
  }
  return a;
}

// The resized axes (all axes unless 'axes' is given).
std::vector<int64_t> resized_axes(const ResizeAttrs& a, int64_t rank, const Node& node) {
  if (a.axes) return normalize_axes(*a.axes, rank, node, "attribute 'axes'");
  std::vector<int64_t> axes(static_cast<size_t>(rank));
  for (int64_t d = 0; d < rank; ++d) axes[static_cast<size_t>(d)] = d;
  return axes;
}

// What a Resize computes per axis: the output extent, the scale, and the region of interest.
struct ResizePlan {
  Shape out_shape;
  std::vector<double> scales;
  std::vector<double> roi_start;
  std::vector<double> roi_end;
  std::vector<bool> resized;
};

// What the inputs give: scales or sizes (for the resized axes) and roi (for the resized axes, starts then
// ends).
struct ResizeRequest {
  std::optional<std::vector<double>> scales;
  std::optional<std::vector<int64_t>> sizes;
  std::optional<std::vector<double>> roi;
};

ResizePlan plan_resize(const Node& node, const ResizeAttrs& a, const Shape& in, const ResizeRequest& req) {
  const auto rank = static_cast<int64_t>(in.size());
  const auto axes = resized_axes(a, rank, node);
  const size_t n = axes.size();
  ResizePlan p;
  p.out_shape = in;
  p.scales.assign(in.size(), 1.0);
  p.roi_start.assign(in.size(), 0.0);
  p.roi_end.assign(in.size(), 1.0);
  p.resized.assign(in.size(), false);
  SLUICE_CHECK(req.scales.has_value() != req.sizes.has_value(), where(node),
               "exactly one of 'scales' and 'sizes' must be given (non-empty)");
  if (req.roi && a.coordinate_mode == "tf_crop_and_resize") {
    SLUICE_CHECK(req.roi->size() == 2 * n, where(node), "input 'roi' has ", req.roi->size(),
                 " values; expected 2 * ", n, " (starts then ends of the resized axes)");
    for (size_t i = 0; i < n; ++i) {
      p.roi_start[static_cast<size_t>(axes[i])] = (*req.roi)[i];
      p.roi_end[static_cast<size_t>(axes[i])] = (*req.roi)[i + n];
    }
  }
  if (req.scales) {
    SLUICE_CHECK(req.scales->size() == n, where(node), "input 'scales' has ", req.scales->size(),
                 " values; expected ", n, " (one per resized axis)");
    for (size_t i = 0; i < n; ++i) {
      const auto d = static_cast<size_t>(axes[i]);
      const double scale = (*req.scales)[i];
      SLUICE_CHECK(scale > 0.0 && std::isfinite(scale), where(node), "'scales' holds ", scale,
                   "; expected positive scales");
      p.scales[d] = scale;
      const double roi_extent =
          a.coordinate_mode == "tf_crop_and_resize" ? p.roi_end[d] - p.roi_start[d] : 1.0;
      p.out_shape[d] = static_cast<int64_t>(std::floor(static_cast<double>(in[d]) * roi_extent * scale));
    }
  } else {
    SLUICE_CHECK(req.sizes->size() == n, where(node), "input 'sizes' has ", req.sizes->size(),
                 " values; expected ", n, " (one per resized axis)");
    for (size_t i = 0; i < n; ++i) {
      const auto d = static_cast<size_t>(axes[i]);
      const int64_t size = (*req.sizes)[i];
      SLUICE_CHECK(size >= 0, where(node), "'sizes' holds the negative extent ", size);
      SLUICE_CHECK(in[d] > 0 || size == 0, where(node), "cannot resize axis ", d, " of extent 0 to ", size);
      p.out_shape[d] = size;
      p.scales[d] = in[d] > 0 ? static_cast<double>(size) / static_cast<double>(in[d]) : 1.0;
    }
    if (a.keep_aspect_ratio_policy != "stretch") {
      double scale =
          a.keep_aspect_ratio_policy == "not_larger" ? std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t axis : axes) {
        const double s = p.scales[static_cast<size_t>(axis)];
        scale = a.keep_aspect_ratio_policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
      }
      for (int64_t axis : axes) {
        const auto d = static_cast<size_t>(axis);
        p.scales[d] = scale;
        p.out_shape[d] = static_cast<int64_t>(std::floor(scale * static_cast<double>(in[d]) + 0.5));
      }
    }
  }
  for (int64_t axis : axes) {
    const auto d = static_cast<size_t>(axis);
    const bool whole_roi = p.roi_start[d] == 0.0 && p.roi_end[d] == 1.0;
    p.resized[d] = !(p.scales[d] == 1.0 && p.out_shape[d] == in[d] &&
                     (a.coordinate_mode != "tf_crop_and_resize" || whole_roi));
  }
  return p;
}

double cubic_kernel(double x, double a) {
  x = std::abs(x);
  if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  return 0.0;
}

using Taps = std::vector<std::pair<int64_t, double>>;  // (input index, weight)

// Linear and cubic taps around x: offsets from f, where x = f + ratio with ratio in (0, 1].
Taps interpolation_taps(const ResizeAttrs& a, double x, int64_t in, double scale) {
  double f = std::floor(x);
  double ratio = x - f;
  if (ratio == 0.0) {
    f -= 1.0;
    ratio = 1.0;
  }
  std::vector<std::pair<int64_t, double>> raw;  // (offset from f, weight)
  const bool linear = a.mode == "linear";
  if (!a.antialias) {
    if (linear) {
      raw = {{0, 1.0 - ratio}, {1, ratio}};
    } else {
      for (int64_t j = -1; j <= 2; ++j)
        raw.emplace_back(j, cubic_kernel(static_cast<double>(j) - ratio, a.cubic_a));
    }
  } else {
    // The filter is stretched by 1/scale when downsampling, so that every input element contributes.
    const double s = std::min(scale, 1.0);
    const double support = linear ? 1.0 : 2.0;
    const auto start = static_cast<int64_t>(std::floor(-support / s) + 1.0);
    const int64_t end = 2 - start;  // exclusive
    double sum = 0.0;
    for (int64_t j = start; j < end; ++j) {
      const double t = s * (static_cast<double>(j) - ratio);
      const double w = linear ? std::clamp(1.0 - std::abs(t), 0.0, 1.0) : cubic_kernel(t, a.cubic_a);
      raw.emplace_back(j, w);
      sum += w;
    }
    for (auto& tap : raw) tap.second /= sum;
  }
  Taps taps;
  double kept = 0.0;
  for (const auto& [offset, w] : raw) {
    const int64_t i = static_cast<int64_t>(f) + offset;
    if (a.exclude_outside && (i < 0 || i >= in)) continue;
    taps.emplace_back(std::clamp<int64_t>(i, 0, in - 1), w);
    kept += w;
  }
  if (a.exclude_outside && kept != 0.0) {
    for (auto& tap : taps) tap.second /= kept;
  }
  return taps;
}

// Per output coordinate of one axis: its taps, or no taps when it takes the extrapolation value.
std::vector<Taps> axis_taps(const ResizeAttrs& a, const ResizePlan& p, const Shape& in, size_t d) {
  std::vector<Taps> taps(static_cast<size_t>(p.out_shape[d]));
  for (int64_t x = 0; x < p.out_shape[d]; ++x) {
    auto& t = taps[static_cast<size_t>(x)];
    if (!p.resized[d]) {
      t = {{x, 1.0}};
      continue;
    }
    const double src = resize_source_coordinate(a.coordinate_mode, static_cast<double>(x), in[d],
                                                p.out_shape[d], p.scales[d], p.roi_start[d], p.roi_end[d]);
    if (a.coordinate_mode == "tf_crop_and_resize" && (src < 0.0 || src > static_cast<double>(in[d] - 1)))
      continue;
    if (a.mode == "nearest") {
      t = {{std::clamp<int64_t>(resize_nearest_index(a.nearest_mode, src, p.scales[d]), 0, in[d] - 1), 1.0}};
    } else {
      t = interpolation_taps(a, src, in[d], p.scales[d]);
    }
  }
  return taps;
}

template <class T> T from_double(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0;
  } else if constexpr (std::is_integral_v<T>) {
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    return static_cast<T>(std::clamp(std::trunc(v), lo, hi));
  } else {
    return T(static_cast<compute_t<T>>(v));
  }
}

// Advances `tap` to the next combination of one tap per axis (axis d has taps[d]->size() taps); false
// after the last combination.
bool next_combination(std::vector<size_t>& tap, const std::vector<const Taps*>& taps) {
  for (size_t d = tap.size(); d-- > 0;) {
    if (++tap[d] < taps[d]->size()) return true;
    tap[d] = 0;
  }
  return false;
}

// The weighted sum over every combination of one tap per axis.
template <class T>
double interpolate(const T* src, const std::vector<const Taps*>& taps, const std::vector<int64_t>& strides) {
  std::vector<size_t> tap(taps.size(), 0);
  double sum = 0.0;
  do {
    double weight = 1.0;
    int64_t offset = 0;
    for (size_t d = 0; d < taps.size(); ++d) {
      const auto& [i, w] = (*taps[d])[tap[d]];
      weight *= w;
      offset += i * strides[d];
    }
    if (weight != 0.0) sum += weight * static_cast<double>(src[offset]);
  } while (next_combination(tap, taps));
  return sum;
}

Tensor resize(const Tensor& x, const ResizeAttrs& a, const ResizePlan& p) {
  const Shape& in = x.shape();
  const size_t rank = in.size();
  std::vector<std::vector<Taps>> axis_tap_lists(rank);
  for (size_t d = 0; d < rank; ++d) axis_tap_lists[d] = axis_taps(a, p, in, d);
  Tensor out(x.type(), p.out_shape);
  const auto strides = strides_of(in);
  dispatch_all(x.type(), [&](auto zero) {
    using T = decltype(zero);
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    const T extrapolated = from_double<T>(a.extrapolation_value);
    std::vector<int64_t> index(rank, 0);
    std::vector<const Taps*> taps(rank);
    for (int64_t o = 0; o < out.size(); ++o) {
      bool outside = false;
      for (size_t d = 0; d < rank; ++d) {
        taps[d] = &axis_tap_lists[d][static_cast<size_t>(index[d])];
        outside = outside || taps[d]->empty();
      }
      if (outside) {
        dst[o] = extrapolated;
      } else if (a.mode == "nearest") {
        int64_t offset = 0;
        for (size_t d = 0; d < rank; ++d) offset += (*taps[d])[0].first * strides[d];
        dst[o] = src[offset];  // an exact copy, even for 64-bit integers
      } else {
        dst[o] = from_double<T>(interpolate(src, taps, strides));
      }
      next_index(index, p.out_shape);
    }
  });
  return out;
}

// ----------------------------------------------------------------------------------------------- Schemas

std::optional<std::vector<double>> nonempty_doubles(const Tensor& t) {
  if (t.empty() || t.size() == 0) return std::nullopt;
  return to_doubles(t);
}

ResizeRequest request_for_kernel(const Node& node, ResizeLevel level, bool attr_scales,
                                 std::span<const Tensor> in) {
  ResizeRequest r;
  auto input = [&](size_t i) -> const Tensor& {
    static const Tensor none;
    return i < in.size() ? in[i] : none;
  };
  if (attr_scales) {
    r.scales = std::vector<double>();
    for (float s : node.attr_floats("scales")) r.scales->push_back(s);
    return r;
  }
  if (level == ResizeLevel::upsample || level == ResizeLevel::v10) {
    r.scales = nonempty_doubles(input(1));
    return r;
  }
  r.roi = nonempty_doubles(input(1));
  r.scales = nonempty_doubles(input(2));
  const Tensor& sizes = input(3);
  if (!sizes.empty() && sizes.size() > 0) r.sizes = kernel_ints(sizes, node, "sizes");
  return r;
}

// The request when every input it needs is constant; nullopt otherwise.
std::optional<ResizeRequest> request_for_infer(const InferContext& ctx, ResizeLevel level, bool attr_scales) {
  std::vector<Tensor> values(ctx.num_inputs());
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const Tensor* v = ctx.input_value(i);
    if (!v) return std::nullopt;
    values[i] = *v;
  }
  return request_for_kernel(ctx.node, level, attr_scales, values);
}

void check_scales(const ResizeRequest& r, const Node& node, bool upsample) {
  if (!upsample || !r.scales) return;
  for (double s : *r.scales) {
    SLUICE_CHECK(s >= 1.0, where(node), "'scales' holds ", s, "; Upsample expects scales >= 1");
  }
}

void infer_resize(InferContext& ctx, ResizeLevel level, bool attr_scales) {
  const PartialShape& in = ctx.input_shape(0);
  const ElementType type = ctx.input_type(0);
  const ResizeAttrs a = resize_attrs(ctx.node, level);
  if (!in.rank_known()) {
    ctx.set_output(0, type, PartialShape());
    return;
  }
  const auto axes = resized_axes(a, in.rank(), ctx.node);
  const auto req = request_for_infer(ctx, level, attr_scales);
  PartialShape out = in;
  if (!req) {
    for (int64_t axis : axes) out[static_cast<size_t>(axis)] = Dimension::dynamic();
    ctx.set_output(0, type, out);
    return;
  }
  check_scales(*req, ctx.node, level == ResizeLevel::upsample);
  // Plan with the static extents (1 standing in for dynamic ones), then keep only what does not depend on
  // a dynamic extent.
  Shape probe(in.dims().size());
  for (size_t d = 0; d < probe.size(); ++d) probe[d] = in[d].is_static() ? in[d].extent() : 1;
  const ResizePlan p = plan_resize(ctx.node, a, probe, *req);
  // With keep_aspect_ratio_policy and sizes, every resized extent depends on all of them.
  const bool aspect = req->sizes && a.keep_aspect_ratio_policy != "stretch";
  const bool aspect_known = std::all_of(
      axes.begin(), axes.end(), [&](int64_t axis) { return in[static_cast<size_t>(axis)].is_static(); });
  for (int64_t axis : axes) {
    const auto d = static_cast<size_t>(axis);
    if (aspect) {
      out[d] = aspect_known ? Dimension(p.out_shape[d]) : Dimension::dynamic();
    } else if (in[d].is_static() || req->sizes) {
      out[d] = Dimension(p.out_shape[d]);
    } else if (!(p.scales[d] == 1.0 && a.coordinate_mode != "tf_crop_and_resize")) {
      out[d] = Dimension::dynamic();
    }
  }
  ctx.set_output(0, type, out);
}

void add_resize(OpRegistry& registry, const std::string& op_type, int64_t since, ResizeLevel level,
                bool attr_scales) {
  const int max_inputs =
      level == ResizeLevel::upsample || level == ResizeLevel::v10 ? (attr_scales ? 1 : 2) : 4;
  const int min_inputs =
      level == ResizeLevel::upsample || level == ResizeLevel::v10 ? (attr_scales ? 1 : 2) : 1;
  OpSchema s = make_schema(op_type, since, min_inputs, max_inputs);
  s.validate = [level, attr_scales](const Node& node) {
    resize_attrs(node, level);
    if (attr_scales) node.attr_floats("scales");
  };
  s.infer = [level, attr_scales](InferContext& ctx) { infer_resize(ctx, level, attr_scales); };
  s.reference = [level, attr_scales](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const ResizeAttrs a = resize_attrs(node, level);
    const ResizeRequest req = request_for_kernel(node, level, attr_scales, in);
    check_scales(req, node, level == ResizeLevel::upsample);
    const ResizePlan p = plan_resize(node, a, in[0].shape(), req);
    return std::vector<Tensor>{resize(in[0], a, p)};
  };
  registry.add(std::move(s));
}

}  // namespace

void register_resize_ops(OpRegistry& registry) {
  add_resize(registry, "Upsample", 7, ResizeLevel::upsample, true);
  add_resize(registry, "Upsample", 9, ResizeLevel::upsample, false);
  add_resize(registry, "Resize", 10, ResizeLevel::v10, false);
  add_resize(registry, "Resize", 11, ResizeLevel::v11, false);
  add_resize(registry, "Resize", 18, ResizeLevel::v18, false);
  add_resize(registry, "Resize", 19, ResizeLevel::v19, false);
}

}  // namespace sluice::ops::tensor

namespace sluice::ops {

double resize_source_coordinate(const std::string& m, double x, int64_t in, int64_t out, double scale,
                                double roi_start, double roi_end) {
  const auto in_len = static_cast<double>(in);
  if (m == "half_pixel") return (x + 0.5) / scale - 0.5;
  if (m == "asymmetric") return x / scale;
  if (m == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (m == "pytorch_half_pixel") return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (m == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(out) / (scale * in_len);
    const double offset = in_len / 2.0 * (1.0 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  if (m == "align_corners") {
    // The resized length is in * scale (not rounded), as the ONNX reference computes it.
    const double resized = in_len * scale;
    return resized == 1.0 ? 0.0 : x * (in_len - 1.0) / (resized - 1.0);
  }
  // tf_crop_and_resize
  const double span = (roi_end - roi_start) * (in_len - 1.0);
  const double start = roi_start * (in_len - 1.0);
  return out > 1 ? start + x * span / static_cast<double>(out - 1) : start + span / 2.0;
}

int64_t resize_nearest_index(const std::string& m, double x, double scale) {
  const double f = std::floor(x);
  const double frac = x - f;
  if (m == "simple") return static_cast<int64_t>(scale < 1.0 ? std::ceil(x) : f);
  if (m == "floor") return static_cast<int64_t>(f);
  if (m == "ceil") return static_cast<int64_t>(std::ceil(x));
  if (m == "round_prefer_ceil") return static_cast<int64_t>(frac < 0.5 ? f : f + 1.0);
  return static_cast<int64_t>(frac <= 0.5 ? f : f + 1.0);  // round_prefer_floor
}

}  // namespace sluice::ops
