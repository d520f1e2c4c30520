// The integer matrix products of the quantization family: MatMulInteger, QLinearMatMul, ConvInteger and
// QLinearConv. Products accumulate exactly in int64; requantization multiplies the int accumulator by
// scale_a * scale_b / scale_y (rounded in the scales' type, as numpy does) in double, rounds half to even
// and saturates.
#include <algorithm>
#include <cmath>

#include "ops/nn_common.hpp"
#include "ops/quantization.hpp"

namespace sluice::ops::quant {
namespace {

bool is_8bit(ElementType type) { return type == ElementType::u8 || type == ElementType::i8; }

void check_8bit(const Node& node, ElementType type, const char* name) {
  SLUICE_CHECK(is_8bit(type), where(node), "input '", name, "' is ", to_string(type), "; expected u8 or i8");
}

void check_type_is(const Node& node, ElementType type, ElementType expected, const char* name) {
  SLUICE_CHECK(type == expected, where(node), "input '", name, "' is ", to_string(type), "; expected ",
               to_string(expected));
}

// The precision numpy computes a_scale * b_scale / y_scale in.
ElementType scale_precision(ElementType a, ElementType b, ElementType y) {
  if (a == b && b == y) return a;
  if (a == ElementType::f64 || b == ElementType::f64 || y == ElementType::f64) return ElementType::f64;
  return ElementType::f32;
}

// ---- numpy-style matmul -------------------------------------------------------------------------

struct MatMulPlan {
  Shape a_batch, b_batch, out_batch;
  int64_t m = 1, k = 1, n = 1;
  Shape out;
};

MatMulPlan plan_matmul(const Node& node, const Shape& a, const Shape& b) {
  SLUICE_CHECK(!a.empty() && !b.empty(), where(node), "matmul inputs must have rank >= 1; got ", to_string(a),
               " and ", to_string(b));
  MatMulPlan p;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  p.m = a_vec ? 1 : a[a.size() - 2];
  p.k = a.back();
  const int64_t kb = b_vec ? b[0] : b[b.size() - 2];
  p.n = b_vec ? 1 : b.back();
  SLUICE_CHECK(p.k == kb, where(node), "inner dimensions differ: A ", to_string(a), " and B ", to_string(b));
  if (!a_vec) p.a_batch.assign(a.begin(), a.end() - 2);
  if (!b_vec) p.b_batch.assign(b.begin(), b.end() - 2);
  p.out_batch = broadcast_shapes(p.a_batch, p.b_batch, node);
  p.out = p.out_batch;
  if (!a_vec) p.out.push_back(p.m);
  if (!b_vec) p.out.push_back(p.n);
  return p;
}

PartialShape infer_matmul_shape(const Node& node, const PartialShape& a, const PartialShape& b) {
  if (!a.rank_known() || !b.rank_known()) return PartialShape::unknown_rank();
  SLUICE_CHECK(a.rank() >= 1 && b.rank() >= 1, where(node), "matmul inputs must have rank >= 1; got ",
               a.to_string(), " and ", b.to_string());
  const auto& ad = a.dims();
  const auto& bd = b.dims();
  const bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  const Dimension& ka = ad.back();
  const Dimension& kb = b_vec ? bd[0] : bd[bd.size() - 2];
  SLUICE_CHECK(ka.is_dynamic() || kb.is_dynamic() || ka.extent() == kb.extent(), where(node),
               "inner dimensions differ: A ", a.to_string(), " and B ", b.to_string());
  const PartialShape a_batch(std::vector<Dimension>(ad.begin(), a_vec ? ad.begin() : ad.end() - 2));
  const PartialShape b_batch(std::vector<Dimension>(bd.begin(), b_vec ? bd.begin() : bd.end() - 2));
  std::vector<Dimension> out = broadcast_partial_shapes(a_batch, b_batch, node).dims();
  if (!a_vec) out.push_back(ad[ad.size() - 2]);
  if (!b_vec) out.push_back(bd.back());
  return PartialShape(std::move(out));
}

// out[batch][m][n] = sum_k a[batch][m][k] * b[batch][k][n], with numpy batch broadcasting.
std::vector<int64_t> int_matmul(const MatMulPlan& p, const std::vector<int64_t>& a,
                                const std::vector<int64_t>& b) {
  std::vector<int64_t> out(static_cast<size_t>(shape_size(p.out)), 0);
  for_each_broadcast(p.a_batch, p.b_batch, p.out_batch, [&](int64_t o, int64_t ia, int64_t ib) {
    const int64_t* pa = a.data() + ia * p.m * p.k;
    const int64_t* pb = b.data() + ib * p.k * p.n;
    int64_t* po = out.data() + o * p.m * p.n;
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        int64_t acc = 0;
        for (int64_t t = 0; t < p.k; ++t) acc += pa[i * p.k + t] * pb[t * p.n + j];
        po[i * p.n + j] = acc;
      }
    }
  });
  return out;
}

// Subtracts a zero point from an operand's values. A 1-element zero point applies to every element; a
// 1-D one applies per row of A (rows_of_a) or per column of B; an N-D one broadcasts numpy-style onto the
// operand's shape.
void subtract_zero_point(std::vector<int64_t>& values, const Shape& shape, const Tensor& zp, bool rows_of_a,
                         const Node& node, const char* name) {
  if (!zp) return;
  const std::vector<int64_t> z = to_int64s(zp);
  if (z.size() == 1) {
    for (int64_t& v : values) v -= z[0];
    return;
  }
  Shape zshape = zp.shape();
  if (zshape.size() == 1) {
    const bool ok =
        rows_of_a ? shape.size() >= 2 && zshape[0] == shape[shape.size() - 2] : zshape[0] == shape.back();
    SLUICE_CHECK(ok, where(node), "input '", name, "' has shape ", to_string(zshape),
                 "; expected one value per ", rows_of_a ? "row" : "column", " of an input of shape ",
                 to_string(shape));
    if (rows_of_a) zshape = {zshape[0], 1};
  }
  SLUICE_CHECK(zshape.size() <= shape.size() && broadcast_shapes(zshape, shape, node) == shape, where(node),
               "input '", name, "' of shape ", to_string(zp.shape()), " does not broadcast to ",
               to_string(shape));
  for_each_broadcast(shape, zshape, shape, [&](int64_t o, int64_t, int64_t iz) { values[o] -= z[iz]; });
}

// ---- MatMulInteger ------------------------------------------------------------------------------

void check_matmul_integer_types(const Node& node, ElementType a, ElementType b, ElementType azp,
                                ElementType bzp) {
  check_8bit(node, a, "A");
  check_8bit(node, b, "B");
  if (azp != ElementType::undefined) check_type_is(node, azp, a, "a_zero_point");
  if (bzp != ElementType::undefined) check_type_is(node, bzp, b, "b_zero_point");
}

void infer_matmul_integer(InferContext& ctx) {
  check_matmul_integer_types(ctx.node, ctx.input_type(0), ctx.input_type(1),
                             ctx.has_input(2) ? ctx.input_type(2) : ElementType::undefined,
                             ctx.has_input(3) ? ctx.input_type(3) : ElementType::undefined);
  ctx.set_output(0, ElementType::i32, infer_matmul_shape(ctx.node, ctx.input_shape(0), ctx.input_shape(1)));
}

std::vector<Tensor> matmul_integer_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  const Tensor azp = in.size() > 2 ? in[2] : Tensor();
  const Tensor bzp = in.size() > 3 ? in[3] : Tensor();
  check_matmul_integer_types(node, a.type(), b.type(), azp ? azp.type() : ElementType::undefined,
                             bzp ? bzp.type() : ElementType::undefined);
  const MatMulPlan plan = plan_matmul(node, a.shape(), b.shape());
  std::vector<int64_t> av = to_int64s(a), bv = to_int64s(b);
  subtract_zero_point(av, a.shape(), azp, true, node, "a_zero_point");
  subtract_zero_point(bv, b.shape(), bzp, false, node, "b_zero_point");
  return {int_tensor(ElementType::i32, plan.out, int_matmul(plan, av, bv))};
}

// ---- QLinearMatMul ------------------------------------------------------------------------------

// A per-tensor (1 element) or per-row / per-column (1-D of `extent`) quantization parameter.
std::vector<double> per_line_param(const Tensor& t, int64_t extent, const Node& node, const char* name,
                                   const char* line) {
  const bool ok = t.size() == 1 || (t.rank() == 1 && t.size() == extent);
  SLUICE_CHECK(ok, where(node), "input '", name, "' has shape ", to_string(t.shape()),
               "; expected a scalar, a 1-element tensor or one value per ", line, " (", extent, ")");
  std::vector<double> v = to_doubles(t);
  if (v.size() == 1) v.assign(static_cast<size_t>(extent), v[0]);
  return v;
}

struct QLinearMatMulVersion {
  int64_t since = 10;
};

void check_qlinear_matmul_types(const Node& node, const std::vector<ElementType>& t, QLinearMatMulVersion v) {
  check_8bit(node, t[0], "a");
  check_8bit(node, t[3], "b");
  check_type_is(node, t[2], t[0], "a_zero_point");
  check_type_is(node, t[5], t[3], "b_zero_point");
  check_8bit(node, t[7], "y_zero_point");
  const char* scale_names[] = {"a_scale", "b_scale", "y_scale"};
  const size_t scale_inputs[] = {1, 4, 6};
  for (size_t i = 0; i < 3; ++i) {
    const ElementType s = t[scale_inputs[i]];
    const bool ok = v.since >= 21 ? is_floating(s) : s == ElementType::f32;
    SLUICE_CHECK(ok, where(node), "input '", scale_names[i], "' is ", to_string(s), "; expected ",
                 v.since >= 21 ? "a floating type" : "f32");
  }
}

void infer_qlinear_matmul(InferContext& ctx, QLinearMatMulVersion v) {
  std::vector<ElementType> types;
  for (size_t i = 0; i < 8; ++i) types.push_back(ctx.input_type(i));
  check_qlinear_matmul_types(ctx.node, types, v);
  ctx.set_output(0, types[7], infer_matmul_shape(ctx.node, ctx.input_shape(0), ctx.input_shape(3)));
}

std::vector<Tensor> qlinear_matmul_kernel(const Node& node, std::span<const Tensor> in,
                                          QLinearMatMulVersion v) {
  std::vector<ElementType> types;
  for (size_t i = 0; i < 8; ++i) types.push_back(in[i].type());
  check_qlinear_matmul_types(node, types, v);
  const Tensor& a = in[0];
  const Tensor& b = in[3];
  const MatMulPlan plan = plan_matmul(node, a.shape(), b.shape());
  const auto a_scale = per_line_param(in[1], plan.m, node, "a_scale", "row of a");
  const auto a_zp = per_line_param(in[2], plan.m, node, "a_zero_point", "row of a");
  const auto b_scale = per_line_param(in[4], plan.n, node, "b_scale", "column of b");
  const auto b_zp = per_line_param(in[5], plan.n, node, "b_zero_point", "column of b");
  const auto y_scale = per_line_param(in[6], plan.m, node, "y_scale", "row of y");
  const auto y_zp = per_line_param(in[7], plan.m, node, "y_zero_point", "row of y");
  // Zero points apply per row of a / per column of b: subtract them on the [.., m, k] / [.., k, n] views.
  std::vector<int64_t> av = to_int64s(a), bv = to_int64s(b);
  for (size_t i = 0; i < av.size(); ++i) av[i] -= static_cast<int64_t>(a_zp[(i / plan.k) % plan.m]);
  for (size_t i = 0; i < bv.size(); ++i) bv[i] -= static_cast<int64_t>(b_zp[i % plan.n]);
  const std::vector<int64_t> acc = int_matmul(plan, av, bv);
  const ElementType precision = scale_precision(types[1], types[4], types[6]);
  const IntRange range = int_range(types[7]);
  std::vector<int64_t> y(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t row = static_cast<int64_t>(i / plan.n) % plan.m;
    const int64_t col = static_cast<int64_t>(i % plan.n);
    const double ab = round_to_precision(a_scale[row] * b_scale[col], precision);
    const double mult = round_to_precision(ab / y_scale[row], precision);
    y[i] = round_and_saturate(static_cast<double>(acc[i]) * mult, static_cast<int64_t>(y_zp[row]), range);
  }
  return {int_tensor(types[7], plan.out, y)};
}

void register_matmul_integer(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "MatMulInteger";
  s.since_version = 10;
  s.min_inputs = 2;
  s.max_inputs = 4;
  s.infer = infer_matmul_integer;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return matmul_integer_kernel(node, in);
  };
  registry.add(std::move(s));
}

void register_qlinear_matmul(OpRegistry& registry) {
  for (int64_t since : {10, 21}) {
    const QLinearMatMulVersion v{since};
    OpSchema s;
    s.op_type = "QLinearMatMul";
    s.since_version = since;
    s.min_inputs = 8;
    s.max_inputs = 8;
    s.infer = [v](InferContext& ctx) { infer_qlinear_matmul(ctx, v); };
    s.reference = [v](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return qlinear_matmul_kernel(node, in, v);
    };
    registry.add(std::move(s));
  }
}

// ---- integer convolution ------------------------------------------------------------------------

// The kernel extents: kernel_shape when given, else W's spatial dims (empty when unknown).
std::vector<int64_t> conv_kernel(const Node& node, const PartialShape& w, size_t spatial) {
  if (node.has_attr("kernel_shape")) {
    auto k = node.attr_ints("kernel_shape");
    SLUICE_CHECK(k.size() == spatial, where(node), "attribute 'kernel_shape' has ", k.size(),
                 " values; expected ", spatial, " (one per spatial dimension)");
    return k;
  }
  if (!w.rank_known()) return {};
  std::vector<int64_t> k;
  for (size_t d = 2; d < w.dims().size(); ++d) {
    if (w[d].is_dynamic()) return {};
    k.push_back(w[d].extent());
  }
  return k;
}

void validate_conv(const Node& node) {
  nn::validate_window_attrs(node);
  SLUICE_CHECK(node.attr_int("group", 1) >= 1, where(node), "attribute 'group' is ",
               node.attr_int("group", 1), "; expected a value >= 1");
}

// Output shape [N, M, spatial...] from x [N, C, spatial...] and w [M, C / group, kernel...].
PartialShape infer_conv_shape(const Node& node, const PartialShape& x, const PartialShape& w) {
  if (!x.rank_known()) return PartialShape::unknown_rank();
  SLUICE_CHECK(x.rank() >= 3, where(node), "input 'x' has shape ", x.to_string(),
               "; expected [N, C, spatial...] with at least one spatial dimension");
  const size_t spatial = static_cast<size_t>(x.rank()) - 2;
  const int64_t group = node.attr_int("group", 1);
  if (w.rank_known()) {
    SLUICE_CHECK(w.rank() == x.rank(), where(node), "input 'w' has shape ", w.to_string(), "; expected rank ",
                 x.rank(), " like x ", x.to_string());
    SLUICE_CHECK(x[1].is_dynamic() || w[1].is_dynamic() || x[1].extent() == w[1].extent() * group,
                 where(node), "x has ", x[1].to_string(), " channels but w ", w.to_string(), " with group ",
                 group, " expects ", w[1].is_static() ? w[1].extent() * group : -1);
    SLUICE_CHECK(w[0].is_dynamic() || w[0].extent() % group == 0, where(node), "w has ", w[0].extent(),
                 " output channels, not a multiple of group ", group);
  }
  std::vector<Dimension> out{x[0], w.rank_known() ? w[0] : Dimension()};
  const std::vector<int64_t> kernel = conv_kernel(node, w, spatial);
  if (kernel.empty()) {
    out.resize(2 + spatial);
    return PartialShape(std::move(out));
  }
  const nn::Window window = nn::read_window(node, kernel);
  for (size_t d = 0; d < spatial; ++d) out.push_back(nn::forward_dim(window, d, x[2 + d], node));
  return PartialShape(std::move(out));
}

struct ConvPlan {
  Shape x, w, out;
  int64_t group = 1;
  nn::WindowPlan window;
};

ConvPlan plan_conv(const Node& node, const Shape& x, const Shape& w) {
  const PartialShape out = infer_conv_shape(node, PartialShape(x), PartialShape(w));
  ConvPlan p;
  p.x = x;
  p.w = w;
  p.out = out.to_shape();
  p.group = node.attr_int("group", 1);
  const Shape kernel(w.begin() + 2, w.end());
  SLUICE_CHECK(!node.has_attr("kernel_shape") || node.attr_ints("kernel_shape") == kernel, where(node),
               "attribute 'kernel_shape' disagrees with w's shape ", to_string(w));
  p.window = nn::plan_forward(nn::read_window(node, kernel), nn::spatial_of(x), node);
  return p;
}

// acc[n][m][o...] = sum over the group's channels c and kernel positions k of
// x[n][c][o * stride + k * dilation - pad] * w[m][c][k] (outside x counts as 0).
std::vector<int64_t> int_conv(const ConvPlan& p, const std::vector<int64_t>& x,
                              const std::vector<int64_t>& w) {
  const int64_t batches = p.x[0], in_channels = p.x[1], out_channels = p.w[0];
  const int64_t group_in = in_channels / p.group, group_out = out_channels / p.group;
  const nn::WindowPlan& win = p.window;
  const size_t rank = win.in.size();
  const int64_t in_size = shape_size(win.in), out_size = shape_size(win.out), k_size = shape_size(win.kernel);
  const std::vector<int64_t> in_strides = strides_of(win.in);
  std::vector<int64_t> acc(static_cast<size_t>(batches * out_channels * out_size), 0);
  for (int64_t n = 0; n < batches; ++n) {
    for (int64_t m = 0; m < out_channels; ++m) {
      const int64_t g = m / group_out;
      int64_t* out = acc.data() + (n * out_channels + m) * out_size;
      std::vector<int64_t> o(rank, 0);
      for (int64_t oi = 0; oi < out_size; ++oi, nn::next_index(o, win.out)) {
        int64_t sum = 0;
        std::vector<int64_t> k(rank, 0);
        for (int64_t ki = 0; ki < k_size; ++ki, nn::next_index(k, win.kernel)) {
          int64_t offset = 0;
          bool inside = true;
          for (size_t d = 0; d < rank && inside; ++d) {
            const int64_t pos = o[d] * win.strides[d] + k[d] * win.dilations[d] - win.pad_begin[d];
            inside = pos >= 0 && pos < win.in[d];
            offset += pos * in_strides[d];
          }
          if (!inside) continue;
          for (int64_t c = 0; c < group_in; ++c) {
            const int64_t xv = x[(n * in_channels + g * group_in + c) * in_size + offset];
            const int64_t wv = w[(m * group_in + c) * k_size + ki];
            sum += xv * wv;
          }
        }
        out[oi] = sum;
      }
    }
  }
  return acc;
}

// Subtracts a per-tensor or per-output-channel zero point from the weights [M, C / group, kernel...].
void subtract_weight_zero_point(std::vector<int64_t>& w, const Shape& w_shape, const Tensor& zp,
                                const Node& node, const char* name) {
  if (!zp) return;
  const std::vector<int64_t> z = to_int64s(zp);
  const int64_t channels = w_shape[0];
  SLUICE_CHECK(z.size() == 1 || (zp.rank() == 1 && zp.size() == channels), where(node), "input '", name,
               "' has shape ", to_string(zp.shape()), "; expected a scalar or one value per output channel (",
               channels, ")");
  const int64_t per_channel = shape_size(w_shape) / std::max<int64_t>(channels, 1);
  for (size_t i = 0; i < w.size(); ++i) w[i] -= z.size() == 1 ? z[0] : z[i / per_channel];
}

void subtract_scalar_zero_point(std::vector<int64_t>& x, const Tensor& zp, const Node& node,
                                const char* name) {
  if (!zp) return;
  SLUICE_CHECK(zp.size() == 1, where(node), "input '", name, "' has shape ", to_string(zp.shape()),
               "; expected a scalar (per-tensor quantization)");
  const int64_t z = to_int64s(zp)[0];
  for (int64_t& v : x) v -= z;
}

// ---- ConvInteger --------------------------------------------------------------------------------

void check_conv_integer_types(const Node& node, ElementType x, ElementType w, ElementType xzp,
                              ElementType wzp) {
  check_8bit(node, x, "x");
  check_8bit(node, w, "w");
  if (xzp != ElementType::undefined) check_type_is(node, xzp, x, "x_zero_point");
  if (wzp != ElementType::undefined) check_type_is(node, wzp, w, "w_zero_point");
}

void infer_conv_integer(InferContext& ctx) {
  check_conv_integer_types(ctx.node, ctx.input_type(0), ctx.input_type(1),
                           ctx.has_input(2) ? ctx.input_type(2) : ElementType::undefined,
                           ctx.has_input(3) ? ctx.input_type(3) : ElementType::undefined);
  ctx.set_output(0, ElementType::i32, infer_conv_shape(ctx.node, ctx.input_shape(0), ctx.input_shape(1)));
}

std::vector<Tensor> conv_integer_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = in[0];
  const Tensor& w = in[1];
  const Tensor xzp = in.size() > 2 ? in[2] : Tensor();
  const Tensor wzp = in.size() > 3 ? in[3] : Tensor();
  check_conv_integer_types(node, x.type(), w.type(), xzp ? xzp.type() : ElementType::undefined,
                           wzp ? wzp.type() : ElementType::undefined);
  const ConvPlan plan = plan_conv(node, x.shape(), w.shape());
  std::vector<int64_t> xv = to_int64s(x), wv = to_int64s(w);
  subtract_scalar_zero_point(xv, xzp, node, "x_zero_point");
  subtract_weight_zero_point(wv, w.shape(), wzp, node, "w_zero_point");
  return {int_tensor(ElementType::i32, plan.out, int_conv(plan, xv, wv))};
}

// ---- QLinearConv --------------------------------------------------------------------------------

void check_qlinear_conv_types(const Node& node, const std::vector<ElementType>& t) {
  check_8bit(node, t[0], "x");
  check_type_is(node, t[1], ElementType::f32, "x_scale");
  check_type_is(node, t[2], t[0], "x_zero_point");
  check_8bit(node, t[3], "w");
  check_type_is(node, t[4], ElementType::f32, "w_scale");
  check_type_is(node, t[5], t[3], "w_zero_point");
  check_type_is(node, t[6], ElementType::f32, "y_scale");
  check_8bit(node, t[7], "y_zero_point");
  if (t.size() > 8 && t[8] != ElementType::undefined) check_type_is(node, t[8], ElementType::i32, "B");
}

void infer_qlinear_conv(InferContext& ctx) {
  std::vector<ElementType> types;
  for (size_t i = 0; i < 9; ++i) {
    types.push_back(i < 8 || ctx.has_input(i) ? ctx.input_type(i) : ElementType::undefined);
  }
  check_qlinear_conv_types(ctx.node, types);
  ctx.set_output(0, types[7], infer_conv_shape(ctx.node, ctx.input_shape(0), ctx.input_shape(3)));
}

std::vector<Tensor> qlinear_conv_kernel(const Node& node, std::span<const Tensor> in) {
  std::vector<ElementType> types;
  for (size_t i = 0; i < 9; ++i) types.push_back(i < in.size() ? in[i].type() : ElementType::undefined);
  check_qlinear_conv_types(node, types);
  const Tensor& x = in[0];
  const Tensor& w = in[3];
  const ConvPlan plan = plan_conv(node, x.shape(), w.shape());
  const int64_t channels = plan.w[0];
  std::vector<int64_t> xv = to_int64s(x), wv = to_int64s(w);
  subtract_scalar_zero_point(xv, in[2], node, "x_zero_point");
  subtract_weight_zero_point(wv, w.shape(), in[5], node, "w_zero_point");
  std::vector<int64_t> acc = int_conv(plan, xv, wv);
  const int64_t out_size = shape_size(plan.window.out);
  if (in.size() > 8 && in[8]) {
    SLUICE_CHECK(in[8].rank() == 1 && in[8].size() == channels, where(node), "input 'B' has shape ",
                 to_string(in[8].shape()), "; expected [", channels, "]");
    const std::vector<int64_t> bias = to_int64s(in[8]);
    for (size_t i = 0; i < acc.size(); ++i) acc[i] += bias[(static_cast<int64_t>(i) / out_size) % channels];
  }
  SLUICE_CHECK(in[1].size() == 1, where(node), "input 'x_scale' has shape ", to_string(in[1].shape()),
               "; expected a scalar");
  const auto w_scale = per_line_param(in[4], channels, node, "w_scale", "output channel");
  const double x_scale = to_doubles(in[1])[0];
  const auto y_scale = per_line_param(in[6], 1, node, "y_scale", "tensor");
  const auto y_zp = per_line_param(in[7], 1, node, "y_zero_point", "tensor");
  const IntRange range = int_range(types[7]);
  std::vector<int64_t> y(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t m = (static_cast<int64_t>(i) / out_size) % channels;
    const double mult = round_to_precision(
        round_to_precision(x_scale * w_scale[m], ElementType::f32) / y_scale[0], ElementType::f32);
    y[i] = round_and_saturate(static_cast<double>(acc[i]) * mult, static_cast<int64_t>(y_zp[0]), range);
  }
  return {int_tensor(types[7], plan.out, y)};
}

void register_conv_integer(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "ConvInteger";
  s.since_version = 10;
  s.min_inputs = 2;
  s.max_inputs = 4;
  s.validate = validate_conv;
  s.infer = infer_conv_integer;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return conv_integer_kernel(node, in);
  };
  registry.add(std::move(s));
}

void register_qlinear_conv(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "QLinearConv";
  s.since_version = 10;
  s.min_inputs = 8;
  s.max_inputs = 9;
  s.validate = validate_conv;
  s.infer = infer_qlinear_conv;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return qlinear_conv_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace

void register_quantized_matmul_ops(OpRegistry& registry) {
  register_matmul_integer(registry);
  register_qlinear_matmul(registry);
}

void register_quantized_conv_ops(OpRegistry& registry) {
  register_conv_integer(registry);
  register_qlinear_conv(registry);
}

}  // namespace sluice::ops::quant
