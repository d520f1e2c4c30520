// Normalizations: BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization,
// LpNormalization, MeanVarianceNormalization and LRN.
#include <algorithm>
#include <cmath>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

// Mean and population variance of the values at(0) .. at(count - 1), in two passes.
template <class A, class F> std::pair<A, A> mean_variance(int64_t count, F&& at) {
  A sum = 0;
  for (int64_t i = 0; i < count; ++i) sum += at(i);
  const A mean = count > 0 ? sum / static_cast<A>(count) : A(0);
  A sq = 0;
  for (int64_t i = 0; i < count; ++i) {
    const A d = at(i) - mean;
    sq += d * d;
  }
  return {mean, count > 0 ? sq / static_cast<A>(count) : A(0)};
}

void check_param_shape(InferContext& ctx, size_t i, const char* name, const Dimension& expected) {
  if (!ctx.has_input(i)) return;
  const auto& s = ctx.input_shape(i);
  if (!s.rank_known()) return;
  SLUICE_CHECK(
      s.rank() == 1 && (s[0].is_dynamic() || expected.is_dynamic() || s[0].extent() == expected.extent()),
      where(ctx.node), "input ", i, " (", name, ") has shape ", s.to_string(), "; expected [",
      expected.to_string(), "]");
}

void check_static_param(const Node& node, const Tensor& t, size_t i, const char* name, int64_t expected) {
  SLUICE_CHECK(t.size() == expected && t.rank() >= 1, where(node), "input ", i, " (", name, ") has shape ",
               to_string(t.shape()), "; expected ", expected, " values");
}

Dimension channel_dim(const PartialShape& xs) {
  return xs.rank_known() && xs.rank() >= 2 ? xs[1] : Dimension();
}

// ---- BatchNormalization ----

bool batch_norm_training(const Node& node) {
  if (node.opset_version >= 14) return node.attr_int("training_mode", 0) != 0;
  return false;
}

void validate_batch_norm(const Node& node) {
  if (node.opset_version >= 14) {
    const bool training = node.attr_int("training_mode", 0) != 0;
    SLUICE_CHECK(training || (!node.has_output(1) && !node.has_output(2)), where(node),
                 "outputs running_mean and running_var are only produced with training_mode = 1");
    return;
  }
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    SLUICE_CHECK(!node.has_output(i), where(node), "output ", i,
                 " is a training-mode output of BatchNormalization before opset 14, which is not supported; "
                 "only output Y (inference mode) is");
  }
}

// Values per channel of scale, B, mean and var: 1 normally, the spatial size with spatial = 0 (before 9).
bool per_element_params(const Node& node) {
  return node.opset_version < 9 && node.attr_int("spatial", 1) == 0;
}

void infer_batch_norm(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  const auto& xs = ctx.input_shape(0);
  SLUICE_CHECK(!xs.rank_known() || xs.rank() >= 2, where(ctx.node), "input X has shape ", xs.to_string(),
               "; expected rank >= 2");
  if (!per_element_params(ctx.node)) {
    const char* names[] = {"scale", "B", "input_mean", "input_var"};
    for (size_t i = 1; i < 5; ++i) check_param_shape(ctx, i, names[i - 1], channel_dim(xs));
  }
  ctx.set_output(0, ctx.input_type(0), xs);
  set_output_if_present(ctx, 1, ctx.input_type(3), PartialShape({channel_dim(xs)}));
  set_output_if_present(ctx, 2, ctx.input_type(4), PartialShape({channel_dim(xs)}));
}

template <class T>
void batch_norm_kernel(const Tensor& x, Tensor& y, const std::vector<std::vector<double>>& params,
                       const std::vector<double>& mean, const std::vector<double>& var, double eps,
                       int64_t per_channel) {
  using A = acc_t<T>;
  const int64_t batch = x.shape()[0];
  const int64_t channels = x.shape()[1];
  const int64_t inner = channels == 0 || batch == 0 ? 0 : x.size() / (batch * channels);
  const T* src = x.data<T>();
  T* dst = y.data<T>();
  std::vector<A> inv_std(var.size());
  for (size_t p = 0; p < var.size(); ++p) inv_std[p] = static_cast<A>(1.0 / std::sqrt(var[p] + eps));
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < inner; ++i) {
        const size_t p = static_cast<size_t>(per_channel == 1 ? c : c * inner + i);
        const int64_t at = (n * channels + c) * inner + i;
        const A norm = (widen(src[at]) - static_cast<A>(mean[p])) * inv_std[p];
        dst[at] = narrow<T>(norm * static_cast<A>(params[0][p]) + static_cast<A>(params[1][p]));
      }
    }
  }
}

// Batch statistics per channel (over batch and spatial dims), as doubles.
std::pair<std::vector<double>, std::vector<double>> batch_statistics(const Tensor& x) {
  const auto values = to_doubles(x);
  const int64_t batch = x.shape()[0];
  const int64_t channels = x.shape()[1];
  const int64_t inner = channels == 0 || batch == 0 ? 0 : x.size() / (batch * channels);
  std::vector<double> means, vars;
  for (int64_t c = 0; c < channels; ++c) {
    const auto [m, v] = mean_variance<double>(batch * inner, [&](int64_t j) {
      const int64_t n = j / inner;
      return values[static_cast<size_t>((n * channels + c) * inner + j % inner)];
    });
    means.push_back(m);
    vars.push_back(v);
  }
  return {means, vars};
}

Tensor doubles_to_tensor(ElementType type, const Shape& shape, const std::vector<double>& values) {
  Tensor t(type, shape);
  dispatch_floating(type, "BatchNormalization running statistics", [&](auto tag) {
    using T = decltype(tag);
    T* dst = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) dst[i] = narrow<T>(values[i]);
  });
  return t;
}

std::vector<Tensor> run_batch_norm(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() >= 2, where(node), "input X has shape ", to_string(x.shape()),
               "; expected rank >= 2");
  const int64_t channels = x.shape()[1];
  const int64_t per_channel =
      per_element_params(node) && channels > 0 ? x.size() / std::max<int64_t>(1, x.shape()[0] * channels) : 1;
  const char* names[] = {"scale", "B", "input_mean", "input_var"};
  std::vector<std::vector<double>> params;
  for (size_t i = 1; i < 5; ++i) {
    check_static_param(node, in[i], i, names[i - 1], channels * per_channel);
    params.push_back(to_doubles(in[i]));
  }
  const double eps = node.attr_float("epsilon", 1e-5f);
  const bool training = batch_norm_training(node);
  std::vector<double> mean = params[2], var = params[3];
  if (training) std::tie(mean, var) = batch_statistics(x);
  Tensor y(x.type(), x.shape());
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    batch_norm_kernel<decltype(tag)>(x, y, params, mean, var, eps, per_channel);
  });
  std::vector<Tensor> outputs{y};
  if (training) {
    const double momentum = node.attr_float("momentum", 0.9f);
    std::vector<double> running_mean(mean.size()), running_var(var.size());
    for (size_t c = 0; c < mean.size(); ++c) {
      running_mean[c] = params[2][c] * momentum + mean[c] * (1 - momentum);
      running_var[c] = params[3][c] * momentum + var[c] * (1 - momentum);
    }
    outputs.push_back(node.has_output(1) ? doubles_to_tensor(in[3].type(), in[3].shape(), running_mean)
                                         : Tensor());
    outputs.push_back(node.has_output(2) ? doubles_to_tensor(in[4].type(), in[4].shape(), running_var)
                                         : Tensor());
  }
  outputs.resize(node.outputs.size());
  return outputs;
}

// ---- InstanceNormalization and GroupNormalization ----

// Normalizes `blocks` contiguous blocks of `block` values; the affine parameters of element i of block b
// are scale[param(b, i)] and bias[param(b, i)].
template <class T, class P>
void normalize_blocks(const T* x, T* y, int64_t blocks, int64_t block, double eps,
                      const std::vector<double>& scale, const std::vector<double>& bias, P&& param) {
  using A = acc_t<T>;
  for (int64_t b = 0; b < blocks; ++b) {
    const T* src = x + b * block;
    const auto [mean, var] = mean_variance<A>(block, [&](int64_t i) { return widen(src[i]); });
    const A inv_std = static_cast<A>(1.0 / std::sqrt(static_cast<double>(var) + eps));
    for (int64_t i = 0; i < block; ++i) {
      const size_t p = static_cast<size_t>(param(b, i));
      y[b * block + i] =
          narrow<T>((widen(src[i]) - mean) * inv_std * static_cast<A>(scale[p]) + static_cast<A>(bias[p]));
    }
  }
}

void infer_instance_norm(InferContext& ctx) {
  check_floating(ctx, 0, "input");
  check_same_type(ctx, 1, "scale");
  check_same_type(ctx, 2, "B");
  const auto& xs = ctx.input_shape(0);
  SLUICE_CHECK(!xs.rank_known() || xs.rank() >= 3, where(ctx.node), "input has shape ", xs.to_string(),
               "; expected rank >= 3 (batch, channels, spatial dims)");
  check_param_shape(ctx, 1, "scale", channel_dim(xs));
  check_param_shape(ctx, 2, "B", channel_dim(xs));
  ctx.set_output(0, ctx.input_type(0), xs);
}

std::vector<Tensor> run_instance_norm(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() >= 3, where(node), "input has shape ", to_string(x.shape()), "; expected rank >= 3");
  const int64_t channels = x.shape()[1];
  check_static_param(node, in[1], 1, "scale", channels);
  check_static_param(node, in[2], 2, "B", channels);
  const auto scale = to_doubles(in[1]);
  const auto bias = to_doubles(in[2]);
  const int64_t blocks = x.shape()[0] * channels;
  const int64_t block = blocks == 0 ? 0 : x.size() / blocks;
  Tensor y(x.type(), x.shape());
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    normalize_blocks(x.data<T>(), y.data<T>(), blocks, block, node.attr_float("epsilon", 1e-5f), scale, bias,
                     [&](int64_t b, int64_t) { return b % channels; });
  });
  return {y};
}

// GroupNormalization-18 takes one scale and bias per group; from opset 21, one per channel.
bool group_params_per_channel(const Node& node) { return node.opset_version >= 21; }

void validate_group_norm(const Node& node) {
  SLUICE_CHECK(node.attr_int("num_groups") > 0, where(node), "attribute 'num_groups' is ",
               node.attr_int("num_groups"), "; expected a positive value");
  if (node.has_attr("stash_type"))
    floating_type_from_onnx_code(node.attr_int("stash_type"), node, "stash_type");
}

void infer_group_norm(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  check_same_type(ctx, 1, "scale");
  check_same_type(ctx, 2, "bias");
  const auto& xs = ctx.input_shape(0);
  const int64_t groups = ctx.node.attr_int("num_groups");
  SLUICE_CHECK(!xs.rank_known() || xs.rank() >= 2, where(ctx.node), "input X has shape ", xs.to_string(),
               "; expected rank >= 2");
  const Dimension channels = channel_dim(xs);
  if (channels.is_static()) {
    SLUICE_CHECK(channels.extent() % groups == 0, where(ctx.node), "input X has ", channels.extent(),
                 " channels, not divisible by num_groups (", groups, ")");
  }
  const Dimension params = group_params_per_channel(ctx.node) ? channels : Dimension(groups);
  check_param_shape(ctx, 1, "scale", params);
  check_param_shape(ctx, 2, "bias", params);
  ctx.set_output(0, ctx.input_type(0), xs);
}

std::vector<Tensor> run_group_norm(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() >= 2, where(node), "input X has shape ", to_string(x.shape()),
               "; expected rank >= 2");
  const int64_t channels = x.shape()[1];
  const int64_t groups = node.attr_int("num_groups");
  SLUICE_CHECK(channels % groups == 0, where(node), "input X has ", channels,
               " channels, not divisible by num_groups (", groups, ")");
  const bool per_channel = group_params_per_channel(node);
  check_static_param(node, in[1], 1, "scale", per_channel ? channels : groups);
  check_static_param(node, in[2], 2, "bias", per_channel ? channels : groups);
  const auto scale = to_doubles(in[1]);
  const auto bias = to_doubles(in[2]);
  const int64_t blocks = x.shape()[0] * groups;
  const int64_t block = blocks == 0 ? 0 : x.size() / blocks;
  const int64_t per_channel_values = groups == 0 || block == 0 ? 1 : block / (channels / groups);
  Tensor y(x.type(), x.shape());
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    normalize_blocks(x.data<T>(), y.data<T>(), blocks, block, node.attr_float("epsilon", 1e-5f), scale, bias,
                     [&](int64_t b, int64_t i) {
                       const int64_t g = b % groups;
                       return per_channel ? g * (channels / groups) + i / per_channel_values : g;
                     });
  });
  return {y};
}

// ---- LayerNormalization ----

void validate_layer_norm(const Node& node) {
  floating_type_from_onnx_code(node.attr_int("stash_type", 1), node, "stash_type");
}

void check_layer_param(const Node& node, const PartialShape& param, const std::vector<Dimension>& normalized,
                       const char* name) {
  if (!param.rank_known()) return;
  SLUICE_CHECK(param.rank() <= static_cast<int64_t>(normalized.size()), where(node), "input ", name,
               " has shape ", param.to_string(), "; expected it to broadcast to the normalized shape ",
               PartialShape(normalized).to_string());
  const size_t offset = normalized.size() - static_cast<size_t>(param.rank());
  for (size_t i = 0; i < static_cast<size_t>(param.rank()); ++i) {
    const Dimension& p = param[i];
    const Dimension& n = normalized[offset + i];
    SLUICE_CHECK(p.is_dynamic() || n.is_dynamic() || p.extent() == 1 || p.extent() == n.extent(), where(node),
                 "input ", name, " has shape ", param.to_string(),
                 "; expected it to broadcast to the normalized shape ", PartialShape(normalized).to_string());
  }
}

void infer_layer_norm(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  check_same_type(ctx, 1, "Scale");
  check_same_type(ctx, 2, "B");
  const Node& node = ctx.node;
  const ElementType stash = floating_type_from_onnx_code(node.attr_int("stash_type", 1), node, "stash_type");
  const auto& xs = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_type(0), xs);
  if (!xs.rank_known()) {
    set_output_if_present(ctx, 1, stash, PartialShape());
    set_output_if_present(ctx, 2, stash, PartialShape());
    return;
  }
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), xs.rank(), node);
  const std::vector<Dimension> normalized(xs.dims().begin() + axis, xs.dims().end());
  check_layer_param(node, ctx.input_shape(1), normalized, "Scale");
  if (ctx.has_input(2)) check_layer_param(node, ctx.input_shape(2), normalized, "B");
  std::vector<Dimension> stat_dims(xs.dims().begin(), xs.dims().begin() + axis);
  stat_dims.resize(static_cast<size_t>(xs.rank()), Dimension(1));
  set_output_if_present(ctx, 1, stash, PartialShape(stat_dims));
  set_output_if_present(ctx, 2, stash, PartialShape(stat_dims));
}

// Index into a parameter broadcast (numpy style) to the normalized shape, for each normalized element.
std::vector<int64_t> broadcast_param_index(const Node& node, const Tensor& param, const Shape& normalized,
                                           const char* name) {
  check_layer_param(node, PartialShape(param.shape()),
                    std::vector<Dimension>(normalized.begin(), normalized.end()), name);
  std::vector<int64_t> index;
  index.reserve(static_cast<size_t>(shape_size(normalized)));
  for_each_broadcast(param.shape(), normalized, normalized,
                     [&](int64_t, int64_t p, int64_t) { index.push_back(p); });
  return index;
}

std::vector<Tensor> run_layer_norm(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), x.rank(), node);
  const Shape normalized(x.shape().begin() + axis, x.shape().end());
  const int64_t block = shape_size(normalized);
  const int64_t blocks = shape_size(Shape(x.shape().begin(), x.shape().begin() + axis));
  const auto scale = to_doubles(in[1]);
  const auto scale_index = broadcast_param_index(node, in[1], normalized, "Scale");
  const bool has_bias = in.size() > 2 && !in[2].empty();
  const auto bias = has_bias ? to_doubles(in[2]) : std::vector<double>();
  const auto bias_index =
      has_bias ? broadcast_param_index(node, in[2], normalized, "B") : std::vector<int64_t>();
  const ElementType stash = floating_type_from_onnx_code(node.attr_int("stash_type", 1), node, "stash_type");
  const double eps = node.attr_float("epsilon", 1e-5f);
  Shape stat_shape(x.shape().begin(), x.shape().begin() + axis);
  stat_shape.resize(x.shape().size(), 1);
  Tensor y(x.type(), x.shape());
  std::vector<double> means(static_cast<size_t>(blocks)), inv_stds(static_cast<size_t>(blocks));
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    using A = acc_t<T>;
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t b = 0; b < blocks; ++b) {
      const T* row = src + b * block;
      const auto [mean, var] = mean_variance<A>(block, [&](int64_t i) { return widen(row[i]); });
      const A inv_std = static_cast<A>(1.0 / std::sqrt(static_cast<double>(var) + eps));
      for (int64_t i = 0; i < block; ++i) {
        const A scaled = (widen(row[i]) - mean) * inv_std * static_cast<A>(scale[scale_index[i]]);
        dst[b * block + i] = narrow<T>(has_bias ? scaled + static_cast<A>(bias[bias_index[i]]) : scaled);
      }
      means[static_cast<size_t>(b)] = mean;
      inv_stds[static_cast<size_t>(b)] = inv_std;
    }
  });
  std::vector<Tensor> outputs{y, Tensor(), Tensor()};
  if (node.has_output(1)) outputs[1] = doubles_to_tensor(stash, stat_shape, means);
  if (node.has_output(2)) outputs[2] = doubles_to_tensor(stash, stat_shape, inv_stds);
  outputs.resize(node.outputs.size());
  return outputs;
}

// ---- LpNormalization, MeanVarianceNormalization, LRN ----

void validate_lp_norm(const Node& node) {
  const int64_t p = node.attr_int("p", 2);
  SLUICE_CHECK(p == 1 || p == 2, where(node), "attribute 'p' is ", p, "; expected 1 or 2");
}

void infer_floating_same(InferContext& ctx) {
  check_floating(ctx, 0, "input");
  infer_same_as_input(ctx);
}

void infer_lp_norm(InferContext& ctx) {
  infer_floating_same(ctx);
  const auto& xs = ctx.input_shape(0);
  if (xs.rank_known()) normalize_axis(ctx.node.attr_int("axis", -1), xs.rank(), ctx.node);
}

// Splits a shape around an axis: the product of the dims before it, its extent, the product after it.
struct AxisSplit {
  int64_t outer = 1, extent = 1, inner = 1;
};

AxisSplit split_at(const Shape& shape, int64_t axis) {
  AxisSplit s;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    (d < axis ? s.outer : d == axis ? s.extent : s.inner) *= shape[static_cast<size_t>(d)];
  }
  return s;
}

std::vector<Tensor> run_lp_norm(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  const int64_t axis = normalize_axis(node.attr_int("axis", -1), x.rank(), node);
  const int64_t p = node.attr_int("p", 2);
  const AxisSplit s = split_at(x.shape(), axis);
  Tensor y(x.type(), x.shape());
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    using A = acc_t<T>;
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        const int64_t base = o * s.extent * s.inner + i;
        A norm = 0;
        for (int64_t k = 0; k < s.extent; ++k) {
          const A v = widen(src[base + k * s.inner]);
          norm += p == 1 ? std::abs(v) : v * v;
        }
        if (p == 2) norm = std::sqrt(norm);
        for (int64_t k = 0; k < s.extent; ++k) {
          const int64_t at = base + k * s.inner;
          dst[at] = narrow<T>(norm == A(0) ? A(0) : widen(src[at]) / norm);
        }
      }
    }
  });
  return {y};
}

std::vector<int64_t> mvn_axes(const Node& node, int64_t rank) {
  std::vector<int64_t> axes = node.attr_ints("axes", {0, 2, 3});
  for (auto& a : axes) a = normalize_axis(a, rank, node);
  std::sort(axes.begin(), axes.end());
  SLUICE_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), where(node),
               "attribute 'axes' repeats an axis");
  return axes;
}

void infer_mvn(InferContext& ctx) {
  infer_floating_same(ctx);
  const auto& xs = ctx.input_shape(0);
  if (xs.rank_known()) mvn_axes(ctx.node, xs.rank());
}

std::vector<Tensor> run_mvn(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  const auto axes = mvn_axes(node, x.rank());
  const Shape& shape = x.shape();
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes) reduced[static_cast<size_t>(a)] = true;
  Shape kept_shape;
  for (size_t d = 0; d < shape.size(); ++d) kept_shape.push_back(reduced[d] ? 1 : shape[d]);
  const auto kept_strides = strides_of(kept_shape);
  const auto values = to_doubles(x);
  const int64_t groups = shape_size(kept_shape);
  const int64_t per_group = groups == 0 ? 0 : x.size() / groups;
  std::vector<int64_t> group_of(values.size());
  std::vector<int64_t> index(shape.size(), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t g = 0;
    for (size_t d = 0; d < shape.size(); ++d) g += reduced[d] ? 0 : index[d] * kept_strides[d];
    group_of[i] = g;
    next_index(index, shape);
  }
  std::vector<double> sum(static_cast<size_t>(groups), 0.0), sq(static_cast<size_t>(groups), 0.0);
  for (size_t i = 0; i < values.size(); ++i) sum[group_of[i]] += values[i];
  for (auto& s : sum) s /= static_cast<double>(per_group);
  for (size_t i = 0; i < values.size(); ++i)
    sq[group_of[i]] += (values[i] - sum[group_of[i]]) * (values[i] - sum[group_of[i]]);
  Tensor y(x.type(), shape);
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    T* dst = y.data<T>();
    for (size_t i = 0; i < values.size(); ++i) {
      const size_t g = static_cast<size_t>(group_of[i]);
      const double stddev = std::sqrt(sq[g] / static_cast<double>(per_group));
      dst[i] = narrow<T>((values[i] - sum[g]) / (stddev + 1e-9));
    }
  });
  return {y};
}

void validate_lrn(const Node& node) {
  SLUICE_CHECK(node.attr_int("size") > 0, where(node), "attribute 'size' is ", node.attr_int("size"),
               "; expected a positive value");
}

void infer_lrn(InferContext& ctx) {
  infer_floating_same(ctx);
  const auto& xs = ctx.input_shape(0);
  SLUICE_CHECK(!xs.rank_known() || xs.rank() >= 3, where(ctx.node), "input X has shape ", xs.to_string(),
               "; expected rank >= 3 (batch, channels, spatial dims)");
}

std::vector<Tensor> run_lrn(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() >= 3, where(node), "input X has shape ", to_string(x.shape()),
               "; expected rank >= 3");
  const int64_t size = node.attr_int("size");
  const double alpha = node.attr_float("alpha", 1e-4f);
  const double beta = node.attr_float("beta", 0.75f);
  const double bias = node.attr_float("bias", 1.0f);
  const AxisSplit s = split_at(x.shape(), 1);
  const int64_t before = (size - 1) / 2;
  const int64_t after = size - 1 - before;
  Tensor y(x.type(), x.shape());
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    using A = acc_t<T>;
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t n = 0; n < s.outer; ++n) {
      for (int64_t c = 0; c < s.extent; ++c) {
        for (int64_t i = 0; i < s.inner; ++i) {
          A square_sum = 0;
          for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(s.extent - 1, c + after); ++j) {
            const A v = widen(src[(n * s.extent + j) * s.inner + i]);
            square_sum += v * v;
          }
          const int64_t at = (n * s.extent + c) * s.inner + i;
          const double scale = std::pow(bias + alpha / static_cast<double>(size) * square_sum, beta);
          dst[at] = narrow<T>(widen(src[at]) / scale);
        }
      }
    }
  });
  return {y};
}

}  // namespace

void register_norm_ops(OpRegistry& registry) {
  registry.add(OpSchema{"", "BatchNormalization", 1, 5, 5, 1, 5, validate_batch_norm, infer_batch_norm,
                        run_batch_norm});
  registry.add(OpSchema{"", "BatchNormalization", 14, 5, 5, 1, 3, validate_batch_norm, infer_batch_norm,
                        run_batch_norm});
  registry.add(
      OpSchema{"", "InstanceNormalization", 1, 3, 3, 1, 1, nullptr, infer_instance_norm, run_instance_norm});
  registry.add(OpSchema{"", "LayerNormalization", 17, 2, 3, 1, 3, validate_layer_norm, infer_layer_norm,
                        run_layer_norm});
  registry.add(OpSchema{"", "GroupNormalization", 18, 3, 3, 1, 1, validate_group_norm, infer_group_norm,
                        run_group_norm});
  registry.add(OpSchema{"", "LpNormalization", 1, 1, 1, 1, 1, validate_lp_norm, infer_lp_norm, run_lp_norm});
  registry.add(OpSchema{"", "MeanVarianceNormalization", 9, 1, 1, 1, 1, nullptr, infer_mvn, run_mvn});
  registry.add(OpSchema{"", "LRN", 1, 1, 1, 1, 1, validate_lrn, infer_lrn, run_lrn});
}

}  // namespace sluice::ops::nn
