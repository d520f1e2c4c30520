// DepthToSpace and SpaceToDepth: rearrangements between channels and 2-D spatial blocks.
#include <cstring>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

void validate_blocksize(const Node& node) {
  SLUICE_CHECK(node.attr_int("blocksize") > 0, where(node), "attribute 'blocksize' is ",
               node.attr_int("blocksize"), "; expected a positive value");
  const std::string mode = node.attr_string("mode", "DCR");
  SLUICE_CHECK(mode == "DCR" || mode == "CRD", where(node), "attribute 'mode' is '", mode,
               "'; expected DCR or CRD");
}

Dimension scaled(const Dimension& d, int64_t factor) {
  return d.is_static() ? Dimension(d.extent() * factor) : Dimension();
}

Dimension divided(const Dimension& d, int64_t divisor, const Node& node, const char* what) {
  if (d.is_dynamic()) return Dimension();
  SLUICE_CHECK(d.extent() % divisor == 0, where(node), what, " (", d.extent(), ") is not divisible by ",
               divisor);
  return d.extent() / divisor;
}

void infer_depth_to_space(InferContext& ctx) {
  const Node& node = ctx.node;
  const auto& xs = ctx.input_shape(0);
  const int64_t b = node.attr_int("blocksize");
  if (!xs.rank_known()) {
    ctx.set_output(0, ctx.input_type(0), PartialShape(std::vector<Dimension>(4)));
    return;
  }
  SLUICE_CHECK(xs.rank() == 4, where(node), "input has shape ", xs.to_string(),
               "; expected rank 4 (N, C, H, W)");
  ctx.set_output(0, ctx.input_type(0),
                 PartialShape({xs[0], divided(xs[1], b * b, node, "channel count"), scaled(xs[2], b),
                               scaled(xs[3], b)}));
}

void infer_space_to_depth(InferContext& ctx) {
  const Node& node = ctx.node;
  const auto& xs = ctx.input_shape(0);
  const int64_t b = node.attr_int("blocksize");
  if (!xs.rank_known()) {
    ctx.set_output(0, ctx.input_type(0), PartialShape(std::vector<Dimension>(4)));
    return;
  }
  SLUICE_CHECK(xs.rank() == 4, where(node), "input has shape ", xs.to_string(),
               "; expected rank 4 (N, C, H, W)");
  ctx.set_output(0, ctx.input_type(0),
                 PartialShape({xs[0], scaled(xs[1], b * b), divided(xs[2], b, node, "height"),
                               divided(xs[3], b, node, "width")}));
}

// Copies element `from` of x to element `to` of y, whatever the element type.
void copy_element(const Tensor& x, int64_t from, Tensor& y, int64_t to, size_t size) {
  std::memcpy(static_cast<char*>(y.data()) + to * static_cast<int64_t>(size),
              static_cast<const char*>(x.data()) + from * static_cast<int64_t>(size), size);
}

std::vector<Tensor> run_depth_to_space(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() == 4, where(node), "input has shape ", to_string(x.shape()), "; expected rank 4");
  const int64_t b = node.attr_int("blocksize");
  const bool crd = node.opset_version >= 11 && node.attr_string("mode", "DCR") == "CRD";
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  SLUICE_CHECK(c % (b * b) == 0, where(node), "channel count (", c, ") is not divisible by blocksize^2 (",
               b * b, ")");
  const int64_t oc_count = c / (b * b);
  Tensor y(x.type(), Shape{n, oc_count, h * b, w * b});
  const size_t size = element_size(x.type());
  int64_t to = 0;
  for (int64_t in_n = 0; in_n < n; ++in_n) {
    for (int64_t oc = 0; oc < oc_count; ++oc) {
      for (int64_t oh = 0; oh < h * b; ++oh) {
        for (int64_t ow = 0; ow < w * b; ++ow, ++to) {
          const int64_t bh = oh % b, bw = ow % b;
          const int64_t ic = crd ? (oc * b + bh) * b + bw : (bh * b + bw) * oc_count + oc;
          copy_element(x, ((in_n * c + ic) * h + oh / b) * w + ow / b, y, to, size);
        }
      }
    }
  }
  return {y};
}

std::vector<Tensor> run_space_to_depth(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() == 4, where(node), "input has shape ", to_string(x.shape()), "; expected rank 4");
  const int64_t b = node.attr_int("blocksize");
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  SLUICE_CHECK(h % b == 0 && w % b == 0, where(node), "spatial extents ", h, "x", w,
               " are not divisible by blocksize (", b, ")");
  const int64_t oh_count = h / b, ow_count = w / b;
  Tensor y(x.type(), Shape{n, c * b * b, oh_count, ow_count});
  const size_t size = element_size(x.type());
  int64_t to = 0;
  for (int64_t in_n = 0; in_n < n; ++in_n) {
    for (int64_t oc = 0; oc < c * b * b; ++oc) {
      const int64_t ic = oc % c, bw = (oc / c) % b, bh = oc / c / b;
      for (int64_t oh = 0; oh < oh_count; ++oh) {
        for (int64_t ow = 0; ow < ow_count; ++ow, ++to) {
          copy_element(x, ((in_n * c + ic) * h + oh * b + bh) * w + ow * b + bw, y, to, size);
        }
      }
    }
  }
  return {y};
}

}  // namespace

void register_layout_ops(OpRegistry& registry) {
  registry.add(OpSchema{"", "DepthToSpace", 1, 1, 1, 1, 1, validate_blocksize, infer_depth_to_space,
                        run_depth_to_space});
  registry.add(OpSchema{"", "SpaceToDepth", 1, 1, 1, 1, 1, validate_blocksize, infer_space_to_depth,
                        run_space_to_depth});
}

}  // namespace sluice::ops::nn
