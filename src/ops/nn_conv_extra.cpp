// DeformConv (deformable convolution, any number of spatial dims) and Col2Im (sums sliding blocks back
// into an image).
#include <algorithm>
#include <cmath>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

Dimension dim_or_dynamic(const PartialShape& s, size_t i) {
  return s.rank_known() && i < s.dims().size() ? s[i] : Dimension();
}

// ---- DeformConv ----

void validate_deform_conv(const Node& node) {
  validate_window_attrs(node);
  SLUICE_CHECK(node.attr_int("group", 1) > 0, where(node), "attribute 'group' must be positive");
  SLUICE_CHECK(node.attr_int("offset_group", 1) > 0, where(node),
               "attribute 'offset_group' must be positive");
}

void infer_deform_conv(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  check_same_type(ctx, 1, "W");
  check_same_type(ctx, 2, "offset");
  check_same_type(ctx, 3, "B");
  check_same_type(ctx, 4, "mask");
  const Node& node = ctx.node;
  const auto& xs = ctx.input_shape(0);
  const auto& ws = ctx.input_shape(1);
  const int64_t rank = xs.rank_known() ? xs.rank() : ws.rank_known() ? ws.rank() : ctx.input_shape(2).rank();
  if (rank < 0) {
    ctx.set_output(0, ctx.input_type(0), PartialShape());
    return;
  }
  SLUICE_CHECK(rank >= 3, where(node), "input X has rank ", rank, "; expected at least 3");
  std::vector<Dimension> out{dim_or_dynamic(xs, 0), dim_or_dynamic(ws, 0)};
  const auto& offset_shape = ctx.input_shape(2);
  for (size_t d = 0; d < static_cast<size_t>(rank - 2); ++d) {
    Dimension od = dim_or_dynamic(offset_shape, d + 2);
    const Dimension in = dim_or_dynamic(xs, d + 2);
    const Dimension k = node.has_attr("kernel_shape") ? Dimension(node.attr_ints("kernel_shape").at(d))
                                                      : dim_or_dynamic(ws, d + 2);
    if (od.is_dynamic() && in.is_static() && k.is_static()) {
      std::vector<int64_t> kernel(static_cast<size_t>(rank - 2), 1);
      kernel[d] = k.extent();
      od = plan_forward_dim(read_window(node, kernel), d, in.extent(), node).out;
    }
    out.push_back(od);
  }
  ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

// Multilinear interpolation of a plane at a fractional position; corners outside the plane read 0.
template <class A, class T>
A sample(const T* plane, const Shape& extents, const std::vector<A>& pos, std::vector<int64_t>& low) {
  const size_t rank = extents.size();
  for (size_t d = 0; d < rank; ++d) {
    if (pos[d] <= A(-1) || pos[d] >= static_cast<A>(extents[d])) return A(0);
    low[d] = static_cast<int64_t>(std::floor(pos[d]));
  }
  A result = 0;
  for (size_t corner = 0; corner < (size_t{1} << rank); ++corner) {
    A weight = 1;
    int64_t offset = 0;
    bool inside = true;
    for (size_t d = 0; d < rank && inside; ++d) {
      const bool high = (corner >> d) & 1;
      const int64_t index = low[d] + (high ? 1 : 0);
      const A frac = pos[d] - static_cast<A>(low[d]);
      weight *= high ? frac : A(1) - frac;
      inside = index >= 0 && index < extents[d];
      offset = offset * extents[d] + index;
    }
    if (inside) result += weight * widen(plane[offset]);
  }
  return result;
}

struct DeformGeometry {
  int64_t batch, in_channels, out_channels, group, offset_group;
  WindowPlan plan;
};

DeformGeometry deform_geometry(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = in[0];
  const Tensor& w = in[1];
  const Tensor& offset = in[2];
  SLUICE_CHECK(x.rank() >= 3 && w.rank() == x.rank() && offset.rank() == x.rank(), where(node),
               "inputs X, W and offset have shapes ", to_string(x.shape()), ", ", to_string(w.shape()),
               " and ", to_string(offset.shape()), "; expected one rank >= 3");
  for (size_t i = 1; i < in.size(); ++i) {
    SLUICE_CHECK(in[i].empty() || in[i].type() == x.type(), where(node), "input ", i, " has element type ",
                 to_string(in[i].type()), "; expected ", to_string(x.type()), " like X");
  }
  DeformGeometry g;
  g.batch = x.shape()[0];
  g.in_channels = x.shape()[1];
  g.out_channels = w.shape()[0];
  g.group = node.attr_int("group", 1);
  g.offset_group = node.attr_int("offset_group", 1);
  SLUICE_CHECK(g.in_channels == w.shape()[1] * g.group && g.out_channels % g.group == 0, where(node),
               "X has shape ", to_string(x.shape()), " and W ", to_string(w.shape()),
               "; inconsistent with group ", g.group);
  SLUICE_CHECK(g.in_channels % g.offset_group == 0, where(node), "X's channels (", g.in_channels,
               ") are not divisible by offset_group (", g.offset_group, ")");
  std::vector<int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  if (node.has_attr("kernel_shape")) {
    SLUICE_CHECK(node.attr_ints("kernel_shape") == kernel, where(node),
                 "attribute 'kernel_shape' does not match W ", to_string(w.shape()));
  }
  g.plan = plan_forward(read_window(node, kernel), spatial_of(x.shape()), node);
  const int64_t positions = shape_size(kernel);
  const int64_t rank = x.rank() - 2;
  Shape expected{g.batch, g.offset_group * positions * rank};
  expected.insert(expected.end(), g.plan.out.begin(), g.plan.out.end());
  SLUICE_CHECK(offset.shape() == expected, where(node), "input offset has shape ", to_string(offset.shape()),
               "; expected ", to_string(expected));
  if (in.size() > 3 && !in[3].empty()) {
    SLUICE_CHECK(in[3].shape() == Shape{g.out_channels}, where(node), "input B has shape ",
                 to_string(in[3].shape()), "; expected [", g.out_channels, "]");
  }
  if (in.size() > 4 && !in[4].empty()) {
    expected[1] = g.offset_group * positions;
    SLUICE_CHECK(in[4].shape() == expected, where(node), "input mask has shape ", to_string(in[4].shape()),
                 "; expected ", to_string(expected));
  }
  return g;
}

template <class T> void deform_conv_kernel(const DeformGeometry& g, std::span<const Tensor> in, Tensor& y) {
  using A = acc_t<T>;
  const WindowPlan& p = g.plan;
  const size_t rank = p.in.size();
  const T* x = in[0].data<T>();
  const T* w = in[1].data<T>();
  const T* offset = in[2].data<T>();
  const T* bias = in.size() > 3 && !in[3].empty() ? in[3].data<T>() : nullptr;
  const T* mask = in.size() > 4 && !in[4].empty() ? in[4].data<T>() : nullptr;
  const int64_t in_size = shape_size(p.in), out_size = shape_size(p.out), positions = shape_size(p.kernel);
  const int64_t in_per_group = g.in_channels / g.group, out_per_group = g.out_channels / g.group;
  const int64_t in_per_offset_group = g.in_channels / g.offset_group;
  const int64_t rank_i = static_cast<int64_t>(rank);
  T* dst = y.data<T>();
  std::vector<A> pos(rank);
  std::vector<int64_t> low(rank), o(rank), k(rank);
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int64_t first_ic = (oc / out_per_group) * in_per_group;
      std::fill(o.begin(), o.end(), 0);
      for (int64_t oi = 0; oi < out_size; ++oi, next_index(o, p.out)) {
        A acc = bias ? widen(bias[oc]) : A(0);
        for (int64_t icl = 0; icl < in_per_group; ++icl) {
          const int64_t ic = first_ic + icl;
          const int64_t og = ic / in_per_offset_group;
          const T* plane = x + (n * g.in_channels + ic) * in_size;
          std::fill(k.begin(), k.end(), 0);
          for (int64_t kp = 0; kp < positions; ++kp, next_index(k, p.kernel)) {
            const int64_t offset_channel = (og * positions + kp) * rank_i;
            for (size_t d = 0; d < rank; ++d) {
              const A shift = widen(offset[((n * g.offset_group * positions * rank_i) + offset_channel +
                                            static_cast<int64_t>(d)) *
                                               out_size +
                                           oi]);
              pos[d] = static_cast<A>(o[d] * p.strides[d] - p.pad_begin[d] + k[d] * p.dilations[d]) + shift;
            }
            const A m =
                mask ? widen(mask[(n * g.offset_group * positions + og * positions + kp) * out_size + oi])
                     : A(1);
            const A wv = widen(w[(oc * in_per_group + icl) * positions + kp]);
            acc += wv * m * sample(plane, p.in, pos, low);
          }
        }
        dst[(n * g.out_channels + oc) * out_size + oi] = narrow<T>(acc);
      }
    }
  }
}

std::vector<Tensor> run_deform_conv(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const DeformGeometry g = deform_geometry(node, in);
  Shape out_shape{g.batch, g.out_channels};
  out_shape.insert(out_shape.end(), g.plan.out.begin(), g.plan.out.end());
  Tensor y(in[0].type(), out_shape);
  dispatch_floating(in[0].type(), where(node),
                    [&](auto tag) { deform_conv_kernel<decltype(tag)>(g, in, y); });
  return {y};
}

// ---- Col2Im ----

void validate_col2im(const Node& node) { validate_window_attrs(node); }

void infer_col2im(InferContext& ctx) {
  const Node& node = ctx.node;
  SLUICE_CHECK(ctx.input_type(0) != ElementType::boolean, where(node), "input has element type boolean");
  const auto& xs = ctx.input_shape(0);
  SLUICE_CHECK(!xs.rank_known() || xs.rank() == 3, where(node), "input has shape ", xs.to_string(),
               "; expected rank 3 (N, C * prod(block_shape), L)");
  const Tensor* image = ctx.input_value(1);
  const Tensor* block = ctx.input_value(2);
  const int64_t spatial =
      image   ? image->size()
      : block ? block->size()
      : ctx.input_shape(1).rank_known() && ctx.input_shape(1).rank() == 1 && ctx.input_shape(1)[0].is_static()
          ? ctx.input_shape(1)[0].extent()
          : -1;
  if (spatial < 0) {
    ctx.set_output(0, ctx.input_type(0), PartialShape());
    return;
  }
  Dimension channels;
  if (block && xs.rank_known() && xs[1].is_static()) {
    const int64_t positions = shape_size(to_int64s(*block));
    SLUICE_CHECK(positions > 0 && xs[1].extent() % positions == 0, where(node), "input dim 1 (",
                 xs[1].extent(), ") is not divisible by the block size ", positions);
    channels = xs[1].extent() / positions;
  }
  std::vector<Dimension> out{dim_or_dynamic(xs, 0), channels};
  for (int64_t d = 0; d < spatial; ++d) {
    out.push_back(image ? Dimension(to_int64s(*image).at(static_cast<size_t>(d))) : Dimension());
  }
  ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

std::vector<Tensor> run_col2im(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  const Shape image = to_int64s(in[1]);
  const Shape block = to_int64s(in[2]);
  SLUICE_CHECK(x.rank() == 3, where(node), "input has shape ", to_string(x.shape()), "; expected rank 3");
  SLUICE_CHECK(image.size() == block.size() && !image.empty(), where(node), "image_shape ", to_string(image),
               " and block_shape ", to_string(block), " must have the same non-zero length");
  for (size_t d = 0; d < image.size(); ++d) {
    SLUICE_CHECK(image[d] > 0 && block[d] > 0, where(node), "image_shape ", to_string(image),
                 " and block_shape ", to_string(block), " must be positive");
  }
  const WindowPlan plan = plan_forward(read_window(node, block), image, node);
  const int64_t positions = shape_size(block);
  const int64_t blocks = shape_size(plan.out);
  SLUICE_CHECK(x.shape()[1] % positions == 0, where(node), "input dim 1 (", x.shape()[1],
               ") is not divisible by the block size ", positions);
  SLUICE_CHECK(x.shape()[2] == blocks, where(node), "input has ", x.shape()[2], " blocks (dim 2); the image ",
               to_string(image), " holds ", blocks, " blocks of ", to_string(block));
  const int64_t batch = x.shape()[0], channels = x.shape()[1] / positions;
  Shape out_shape{batch, channels};
  out_shape.insert(out_shape.end(), image.begin(), image.end());
  Tensor y(x.type(), out_shape);
  const auto shifts = plan_shifted_rows(plan.out, image, block, plan.strides, plan.dilations, plan.pad_begin);
  const int64_t image_size = shape_size(image);
  dispatch_numeric(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      using A = acc_t<T>;
      std::vector<A> acc(static_cast<size_t>(image_size));
      for (int64_t nc = 0; nc < batch * channels; ++nc) {
        std::fill(acc.begin(), acc.end(), A(0));
        for (int64_t kp = 0; kp < positions; ++kp) {
          const T* src = x.data<T>() + (nc * positions + kp) * blocks;
          const ShiftedRows& sr = shifts[static_cast<size_t>(kp)];
          for (const auto& [in_off, out_base] : sr.rows) {
            for (int64_t i = sr.lo; i < sr.hi; ++i)
              acc[out_base + i * sr.last_stride] += widen(src[in_off + i]);
          }
        }
        T* dst = y.data<T>() + nc * image_size;
        for (int64_t i = 0; i < image_size; ++i) dst[i] = narrow<T>(acc[static_cast<size_t>(i)]);
      }
    }
  });
  return {y};
}

}  // namespace

void register_conv_extra_ops(OpRegistry& registry) {
  registry.add(
      OpSchema{"", "DeformConv", 19, 3, 5, 1, 1, validate_deform_conv, infer_deform_conv, run_deform_conv});
  registry.add(OpSchema{"", "Col2Im", 18, 3, 3, 1, 1, validate_col2im, infer_col2im, run_col2im});
}

}  // namespace sluice::ops::nn
