// NonMaxSuppression, RoiAlign (opset 10 and 16) and Det; the grid operators are in misc_grid.cpp, the text
// and optional ones in misc_text.cpp.
#include "ops/misc.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/quantization.hpp"

namespace sluice::ops::misc {
namespace {

void check_floating_input(InferContext& ctx, size_t i, const char* name) {
  SLUICE_CHECK(is_floating(ctx.input_type(i)), where(ctx.node), "input '", name, "' is ",
               to_string(ctx.input_type(i)), "; expected a floating type");
}

void check_rank(const Node& node, const PartialShape& s, int64_t rank, const char* name,
                const char* expected) {
  SLUICE_CHECK(!s.rank_known() || s.rank() == rank, where(node), "input '", name, "' has shape ",
               s.to_string(), "; expected ", expected);
}

void check_same_dim(const Node& node, const Dimension& a, const Dimension& b, const std::string& what) {
  SLUICE_CHECK(a.is_dynamic() || b.is_dynamic() || a.extent() == b.extent(), where(node), what, ": ",
               a.to_string(), " vs ", b.to_string());
}

Dimension dim_at(const PartialShape& s, size_t d) {
  return s.rank_known() && static_cast<size_t>(s.rank()) > d ? s[d] : Dimension();
}

// ---- NonMaxSuppression --------------------------------------------------------------------------

void infer_nms(InferContext& ctx) {
  const Node& node = ctx.node;
  check_floating_input(ctx, 0, "boxes");
  check_floating_input(ctx, 1, "scores");
  const PartialShape& boxes = ctx.input_shape(0);
  const PartialShape& scores = ctx.input_shape(1);
  check_rank(node, boxes, 3, "boxes", "[num_batches, spatial_dimension, 4]");
  check_rank(node, scores, 3, "scores", "[num_batches, num_classes, spatial_dimension]");
  check_same_dim(node, dim_at(boxes, 2), Dimension(4), "boxes must hold 4 coordinates per box");
  check_same_dim(node, dim_at(boxes, 0), dim_at(scores, 0), "boxes and scores disagree on num_batches");
  check_same_dim(node, dim_at(boxes, 1), dim_at(scores, 2), "boxes and scores disagree on spatial_dimension");
  if (ctx.has_input(2)) {
    SLUICE_CHECK(is_integer(ctx.input_type(2)), where(node), "input 'max_output_boxes_per_class' is ",
                 to_string(ctx.input_type(2)), "; expected i64");
  }
  for (size_t i : {3, 4}) {
    if (ctx.has_input(i)) check_floating_input(ctx, i, i == 3 ? "iou_threshold" : "score_threshold");
  }
  ctx.set_output(0, ElementType::i64, PartialShape({Dimension(), Dimension(3)}));
}

// A box as (y_min, x_min, y_max, x_max), from either box encoding.
struct Box {
  float y_min, x_min, y_max, x_max;
};

Box read_box(const float* p, bool center_point) {
  if (center_point) {
    const float half_w = p[2] / 2.0f, half_h = p[3] / 2.0f;
    return {p[1] - half_h, p[0] - half_w, p[1] + half_h, p[0] + half_w};
  }
  return {std::min(p[0], p[2]), std::min(p[1], p[3]), std::max(p[0], p[2]), std::max(p[1], p[3])};
}

// Whether IoU(a, b) > threshold; degenerate boxes never suppress.
bool suppresses(const Box& a, const Box& b, float threshold) {
  const float ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
  const float iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
  if (ix_max <= ix_min || iy_max <= iy_min) return false;
  const float intersection = (ix_max - ix_min) * (iy_max - iy_min);
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float union_area = area_a + area_b - intersection;
  if (area_a <= 0 || area_b <= 0 || union_area <= 0) return false;
  return intersection / union_area > threshold;
}

std::optional<double> optional_scalar(std::span<const Tensor> in, size_t i, const Node& node,
                                      const char* name) {
  if (i >= in.size() || !in[i]) return std::nullopt;
  SLUICE_CHECK(in[i].size() == 1, where(node), "input '", name, "' has shape ", to_string(in[i].shape()),
               "; expected a scalar or a 1-element tensor");
  return element_as_double(in[i], 0);
}

std::vector<Tensor> nms_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& boxes_t = in[0];
  const Tensor& scores_t = in[1];
  SLUICE_CHECK(boxes_t.rank() == 3 && boxes_t.shape()[2] == 4, where(node), "input 'boxes' has shape ",
               to_string(boxes_t.shape()), "; expected [num_batches, spatial_dimension, 4]");
  const int64_t batches = boxes_t.shape()[0], count = boxes_t.shape()[1];
  SLUICE_CHECK(scores_t.rank() == 3 && scores_t.shape()[0] == batches && scores_t.shape()[2] == count,
               where(node), "input 'scores' has shape ", to_string(scores_t.shape()), "; expected [", batches,
               ", num_classes, ", count, "]");
  const int64_t classes = scores_t.shape()[1];
  const int64_t max_out =
      static_cast<int64_t>(optional_scalar(in, 2, node, "max_output_boxes_per_class").value_or(0));
  const float iou = static_cast<float>(optional_scalar(in, 3, node, "iou_threshold").value_or(0.0));
  SLUICE_CHECK(iou >= 0.0f && iou <= 1.0f, where(node), "input 'iou_threshold' is ", iou,
               "; expected [0, 1]");
  const std::optional<double> score_threshold = optional_scalar(in, 4, node, "score_threshold");
  const bool center_point = node.attr_int("center_point_box", 0) == 1;
  std::vector<float> boxes_f, scores_f;
  for (double v : to_doubles(boxes_t)) boxes_f.push_back(static_cast<float>(v));
  for (double v : to_doubles(scores_t)) scores_f.push_back(static_cast<float>(v));
  std::vector<int64_t> selected_triples;
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<Box> boxes;
    for (int64_t i = 0; i < count; ++i)
      boxes.push_back(read_box(boxes_f.data() + (b * count + i) * 4, center_point));
    for (int64_t c = 0; c < classes; ++c) {
      const float* scores = scores_f.data() + (b * classes + c) * count;
      std::vector<int64_t> order;
      for (int64_t i = 0; i < count; ++i) {
        if (!score_threshold || scores[i] > static_cast<float>(*score_threshold)) order.push_back(i);
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t x, int64_t y) { return scores[x] > scores[y]; });
      std::vector<int64_t> kept;
      for (int64_t i : order) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        const bool suppressed = std::any_of(kept.begin(), kept.end(),
                                            [&](int64_t k) { return suppresses(boxes[k], boxes[i], iou); });
        if (!suppressed) kept.push_back(i);
      }
      for (int64_t k : kept) selected_triples.insert(selected_triples.end(), {b, c, k});
    }
  }
  const int64_t selected = static_cast<int64_t>(selected_triples.size() / 3);
  return {Tensor::from<int64_t>({selected, 3}, std::span<const int64_t>(selected_triples))};
}

void register_nms(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "NonMaxSuppression";
  s.since_version = 10;
  s.min_inputs = 2;
  s.max_inputs = 5;
  s.validate = [](const Node& node) {
    const int64_t cpb = node.attr_int("center_point_box", 0);
    SLUICE_CHECK(cpb == 0 || cpb == 1, where(node), "attribute 'center_point_box' is ", cpb,
                 "; expected 0 or 1");
  };
  s.infer = infer_nms;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) { return nms_kernel(node, in); };
  registry.add(std::move(s));
}

// ---- RoiAlign -----------------------------------------------------------------------------------

struct RoiAlignVersion {
  int64_t since = 10;
};

bool roi_half_pixel(const Node& node, RoiAlignVersion v) {
  if (v.since < 16) return false;
  return node.attr_string("coordinate_transformation_mode", "half_pixel") == "half_pixel";
}

void validate_roi_align(const Node& node, RoiAlignVersion v) {
  const std::string mode = node.attr_string("mode", "avg");
  SLUICE_CHECK(mode == "avg" || mode == "max", where(node), "attribute 'mode' is '", mode,
               "'; expected avg or max");
  SLUICE_CHECK(v.since >= 16 || !node.has_attr("coordinate_transformation_mode"), where(node),
               "attribute 'coordinate_transformation_mode' needs opset 16; the model imports opset ",
               node.opset_version);
  const std::string ctm = node.attr_string("coordinate_transformation_mode", "half_pixel");
  SLUICE_CHECK(ctm == "half_pixel" || ctm == "output_half_pixel", where(node),
               "attribute 'coordinate_transformation_mode' is '", ctm,
               "'; expected half_pixel or output_half_pixel");
  for (const char* attr : {"output_height", "output_width"}) {
    SLUICE_CHECK(node.attr_int(attr, 1) >= 1, where(node), "attribute '", attr, "' is ",
                 node.attr_int(attr, 1), "; expected a positive value");
  }
  SLUICE_CHECK(node.attr_int("sampling_ratio", 0) >= 0, where(node), "attribute 'sampling_ratio' is ",
               node.attr_int("sampling_ratio", 0), "; expected a value >= 0");
}

void infer_roi_align(InferContext& ctx) {
  const Node& node = ctx.node;
  check_floating_input(ctx, 0, "X");
  SLUICE_CHECK(ctx.input_type(1) == ctx.input_type(0), where(node), "input 'rois' is ",
               to_string(ctx.input_type(1)), "; expected X's type ", to_string(ctx.input_type(0)));
  SLUICE_CHECK(is_integer(ctx.input_type(2)), where(node), "input 'batch_indices' is ",
               to_string(ctx.input_type(2)), "; expected i64");
  const PartialShape& x = ctx.input_shape(0);
  const PartialShape& rois = ctx.input_shape(1);
  const PartialShape& indices = ctx.input_shape(2);
  check_rank(node, x, 4, "X", "[N, C, H, W]");
  check_rank(node, rois, 2, "rois", "[num_rois, 4]");
  check_rank(node, indices, 1, "batch_indices", "[num_rois]");
  check_same_dim(node, dim_at(rois, 1), Dimension(4), "rois must hold 4 coordinates per region");
  check_same_dim(node, dim_at(rois, 0), dim_at(indices, 0), "rois and batch_indices disagree on num_rois");
  const Dimension num_rois = dim_at(rois, 0).is_static() ? dim_at(rois, 0) : dim_at(indices, 0);
  ctx.set_output(0, ctx.input_type(0),
                 PartialShape({num_rois, dim_at(x, 1), node.attr_int("output_height", 1),
                               node.attr_int("output_width", 1)}));
}

// One bilinear sample: four pixel offsets and their weights (all zero outside the feature map).
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

Sample bilinear_sample(double y, double x, int64_t height, int64_t width) {
  Sample s;
  if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width)) return s;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<double>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<double>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const double ly = y - y_low, lx = x - x_low, hy = 1.0 - ly, hx = 1.0 - lx;
  s.pos[0] = y_low * width + x_low;
  s.pos[1] = y_low * width + x_high;
  s.pos[2] = y_high * width + x_low;
  s.pos[3] = y_high * width + x_high;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

std::vector<Tensor> roi_align_kernel(const Node& node, std::span<const Tensor> in, RoiAlignVersion v) {
  const Tensor& x_t = in[0];
  SLUICE_CHECK(x_t.rank() == 4, where(node), "input 'X' has shape ", to_string(x_t.shape()),
               "; expected [N, C, H, W]");
  const int64_t batches = x_t.shape()[0], channels = x_t.shape()[1];
  const int64_t height = x_t.shape()[2], width = x_t.shape()[3];
  SLUICE_CHECK(height >= 1 && width >= 1, where(node), "input 'X' has shape ", to_string(x_t.shape()),
               "; expected a non-empty feature map (H, W >= 1)");
  SLUICE_CHECK(in[1].rank() == 2 && in[1].shape()[1] == 4, where(node), "input 'rois' has shape ",
               to_string(in[1].shape()), "; expected [num_rois, 4]");
  const int64_t num_rois = in[1].shape()[0];
  SLUICE_CHECK(in[2].rank() == 1 && in[2].shape()[0] == num_rois, where(node),
               "input 'batch_indices' has shape ", to_string(in[2].shape()), "; expected [", num_rois, "]");
  const std::vector<double> x = to_doubles(x_t), rois = to_doubles(in[1]);
  const std::vector<int64_t> batch_index = to_int64s(in[2]);
  const int64_t out_h = node.attr_int("output_height", 1), out_w = node.attr_int("output_width", 1);
  const int64_t sampling_ratio = node.attr_int("sampling_ratio", 0);
  const double scale = node.attr_float("spatial_scale", 1.0f);
  const bool max_mode = node.attr_string("mode", "avg") == "max";
  const bool half_pixel = roi_half_pixel(node, v);
  const double offset = half_pixel ? 0.5 : 0.0;
  std::vector<double> y(static_cast<size_t>(num_rois * channels * out_h * out_w), 0.0);
  for (int64_t r = 0; r < num_rois; ++r) {
    const int64_t b = batch_index[r];
    SLUICE_CHECK(b >= 0 && b < batches, where(node), "input 'batch_indices' holds ", b, "; expected [0, ",
                 batches - 1, "]");
    const double* roi = rois.data() + r * 4;
    const double start_w = roi[0] * scale - offset, start_h = roi[1] * scale - offset;
    double roi_w = roi[2] * scale - offset - start_w, roi_h = roi[3] * scale - offset - start_h;
    if (!half_pixel) {
      roi_w = std::max(roi_w, 1.0);
      roi_h = std::max(roi_h, 1.0);
    }
    const double bin_h = roi_h / out_h, bin_w = roi_w / out_w;
    const int64_t grid_h =
        sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_h / out_h));
    const int64_t grid_w =
        sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_w / out_w));
    const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    for (int64_t ph = 0; ph < out_h; ++ph) {
      for (int64_t pw = 0; pw < out_w; ++pw) {
        std::vector<Sample> samples;
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          const double yy = start_h + ph * bin_h + (iy + 0.5) * bin_h / grid_h;
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            const double xx = start_w + pw * bin_w + (ix + 0.5) * bin_w / grid_w;
            samples.push_back(bilinear_sample(yy, xx, height, width));
          }
        }
        for (int64_t c = 0; c < channels; ++c) {
          const double* plane = x.data() + (b * channels + c) * height * width;
          double acc = 0.0;
          for (size_t si = 0; si < samples.size(); ++si) {
            const Sample& s = samples[si];
            if (max_mode) {
              // The ONNX definition takes the largest weighted corner, not the interpolated value.
              double m = s.w[0] * plane[s.pos[0]];
              for (int k = 1; k < 4; ++k) m = std::max(m, s.w[k] * plane[s.pos[k]]);
              acc = si == 0 ? m : std::max(acc, m);
            } else {
              for (int k = 0; k < 4; ++k) acc += s.w[k] * plane[s.pos[k]];
            }
          }
          y[((r * channels + c) * out_h + ph) * out_w + pw] = max_mode ? acc : acc / count;
        }
      }
    }
  }
  return {quant::numeric_tensor(x_t.type(), {num_rois, channels, out_h, out_w}, y)};
}

void register_roi_align(OpRegistry& registry) {
  for (int64_t since : {10, 16}) {
    const RoiAlignVersion v{since};
    OpSchema s;
    s.op_type = "RoiAlign";
    s.since_version = since;
    s.min_inputs = 3;
    s.max_inputs = 3;
    s.validate = [v](const Node& node) { validate_roi_align(node, v); };
    s.infer = infer_roi_align;
    s.reference = [v](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return roi_align_kernel(node, in, v);
    };
    registry.add(std::move(s));
  }
}

// ---- Det ----------------------------------------------------------------------------------------

void infer_det(InferContext& ctx) {
  check_floating_input(ctx, 0, "X");
  const PartialShape& x = ctx.input_shape(0);
  if (!x.rank_known()) return ctx.set_output(0, ctx.input_type(0), PartialShape::unknown_rank());
  SLUICE_CHECK(x.rank() >= 2, where(ctx.node), "input 'X' has shape ", x.to_string(),
               "; expected [..., M, M]");
  const int64_t r = x.rank();
  check_same_dim(ctx.node, x[r - 2], x[r - 1], "input 'X' must hold square matrices");
  ctx.set_output(0, ctx.input_type(0),
                 PartialShape(std::vector<Dimension>(x.dims().begin(), x.dims().end() - 2)));
}

// The determinant of an n x n row-major matrix, by LU decomposition with partial pivoting.
double determinant(std::vector<double> a, int64_t n) {
  double det = 1.0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t pivot = col;
    for (int64_t row = col + 1; row < n; ++row) {
      if (std::abs(a[row * n + col]) > std::abs(a[pivot * n + col])) pivot = row;
    }
    if (a[pivot * n + col] == 0.0) return 0.0;
    if (pivot != col) {
      for (int64_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
      det = -det;
    }
    const double p = a[col * n + col];
    det *= p;
    for (int64_t row = col + 1; row < n; ++row) {
      const double f = a[row * n + col] / p;
      for (int64_t k = col; k < n; ++k) a[row * n + k] -= f * a[col * n + k];
    }
  }
  return det;
}

std::vector<Tensor> det_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = in[0];
  dispatch_floating(x.type(), node.describe(), [](auto) {});
  SLUICE_CHECK(x.rank() >= 2 && x.shape()[x.rank() - 1] == x.shape()[x.rank() - 2], where(node),
               "input 'X' has shape ", to_string(x.shape()), "; expected [..., M, M]");
  const int64_t n = x.shape().back();
  const Shape out_shape(x.shape().begin(), x.shape().end() - 2);
  const std::vector<double> values = to_doubles(x);
  std::vector<double> out(static_cast<size_t>(shape_size(out_shape)));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] =
        determinant(std::vector<double>(values.begin() + i * n * n, values.begin() + (i + 1) * n * n), n);
  }
  return {quant::numeric_tensor(x.type(), out_shape, out)};
}

void register_det(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "Det";
  s.since_version = 11;
  s.min_inputs = 1;
  s.max_inputs = 1;
  s.infer = infer_det;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) { return det_kernel(node, in); };
  registry.add(std::move(s));
}

}  // namespace
}  // namespace sluice::ops::misc

namespace sluice::graph {

void register_misc_ops(OpRegistry& registry) {
  ops::misc::register_nms(registry);
  ops::misc::register_roi_align(registry);
  ops::misc::register_det(registry);
  ops::misc::register_grid_ops(registry);
  ops::misc::register_text_ops(registry);
  ops::misc::register_sequence_ops(registry);
  ops::misc::register_string_ops(registry);
}

}  // namespace sluice::graph
