// The CPU device's own normalization kernels: Softmax, LogSoftmax and LayerNormalization, f32. The
// per-row loops are vectorized (`#pragma omp simd` over raw pointers, exp by vec_math.hpp's exp_approx) and
// compiled for AVX-512, AVX2 and baseline x86-64 (target_clones), the ISA picked at run time; rows are
// spread over the OpenMP team.
#include <algorithm>
#include <cmath>
#include <limits>

#include "devices/cpu/kernels_data_movement.hpp"
#include "devices/cpu/vec_math.hpp"

namespace sluice::cpu {
namespace {

using dm::parallel_bytes;

// ---------------------------------------------------------------------------------- Softmax, LogSoftmax

// One contiguous row: y = softmax(x) or log_softmax(x). A NaN or +inf anywhere makes the sum NaN and so
// every output NaN, as in the reference, whatever the vectorized max made of it.
SLUICE_TARGET_CLONES void softmax_row(const float* x, float* y, int64_t n, bool log) {
  float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
  for (int64_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  float sum = 0.0f;
  if (!log) {
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) {
      const float e = exp_approx(x[i] - max);
      y[i] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += exp_approx(x[i] - max);
    const float log_sum = std::log(sum);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - max) - log_sum;
  }
}

// The columns [0, cols) of an [extent, stride] block, each softmaxed down the extent (an axis that is not
// innermost): every step works on a run of contiguous columns. cols <= column_block.
constexpr int64_t column_block = 256;

SLUICE_TARGET_CLONES void softmax_columns(const float* x, float* y, int64_t extent, int64_t stride,
                                          int64_t cols, bool log) {
  float max[column_block], sum[column_block];
  for (int64_t j = 0; j < cols; ++j) {
    max[j] = -std::numeric_limits<float>::infinity();
    sum[j] = 0.0f;
  }
  for (int64_t k = 0; k < extent; ++k) {
    const float* row = x + k * stride;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) max[j] = std::max(max[j], row[j]);
  }
  for (int64_t k = 0; k < extent; ++k) {
    const float* row = x + k * stride;
    float* out = y + k * stride;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float e = exp_approx(row[j] - max[j]);
      if (!log) out[j] = e;
      sum[j] += e;
    }
  }
  if (!log) {
    for (int64_t j = 0; j < cols; ++j) sum[j] = 1.0f / sum[j];
    for (int64_t k = 0; k < extent; ++k) {
      float* out = y + k * stride;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) out[j] *= sum[j];
    }
    return;
  }
  for (int64_t j = 0; j < cols; ++j) sum[j] = std::log(sum[j]);
  for (int64_t k = 0; k < extent; ++k) {
    const float* row = x + k * stride;
    float* out = y + k * stride;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) out[j] = (row[j] - max[j]) - sum[j];
  }
}

// The input as [outer, extent, inner], softmax along extent (opset < 13: inner = 1 and extent the product
// of the dims from the axis on).
class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(bool log, int64_t outer, int64_t extent, int64_t inner)
      : log_(log), outer_(outer), extent_(extent), inner_(inner) {}

  std::string impl_name() const override { return log_ ? "sluice:log_softmax" : "sluice:softmax"; }

  void run(RunContext& ctx, KernelState*) const override {
    const float* x = static_cast<const float*>(ctx.inputs[0].data());
    float* y = static_cast<float*>(ctx.outputs[0].data());
    const int64_t extent = extent_, inner = inner_;
    if (outer_ * extent * inner == 0) return;
    if (inner == 1) {
      const int64_t grain = std::max<int64_t>(1, parallel_bytes / (extent * 4));
      parallel_for(outer_, grain, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) softmax_row(x + o * extent, y + o * extent, extent, log_);
      });
      return;
    }
    const int64_t blocks = (inner + column_block - 1) / column_block;
    const int64_t grain = std::max<int64_t>(1, parallel_bytes / (extent * std::min(inner, column_block) * 4));
    parallel_for(outer_ * blocks, grain, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t o = u / blocks, j0 = (u - o * blocks) * column_block;
        const int64_t base = o * extent * inner + j0;
        softmax_columns(x + base, y + base, extent, inner, std::min(column_block, inner - j0), log_);
      }
    });
  }

 private:
  bool log_;
  int64_t outer_, extent_, inner_;
};

std::unique_ptr<Kernel> make_softmax(PlanContext& ctx, bool log) {
  if (ctx.inputs.empty() || ctx.inputs[0].type != ElementType::f32 || ctx.inputs[0].blocked()) return nullptr;
  const Shape& shape = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(shape.size());
  const bool coerced = ctx.node.opset_version < 13;
  int64_t axis = ctx.node.attr_int("axis", coerced ? 1 : -1);
  if (rank == 0 || axis < -rank || axis >= rank) return nullptr;
  if (axis < 0) axis += rank;
  int64_t outer = 1, extent = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t e = shape[static_cast<size_t>(d)];
    if (d < axis) {
      outer *= e;
    } else if (d == axis || coerced) {
      extent *= e;
    } else {
      inner *= e;
    }
  }
  return std::make_unique<SoftmaxKernel>(log, outer, extent, inner);
}

// ------------------------------------------------------------------------------------ LayerNormalization

// One row: mean and variance in one pass (shifted by the first element, so that a large common offset does
// not cancel the variance away), then y = (x - mean) * inv_std * scale + bias. Both passes compute in
// double, as the reference does: an output near zero is the difference of terms near one, and f32
// arithmetic there would miss the ONNX tests' tolerance (1e-7 absolute). Vectorized, the cost is small.
SLUICE_TARGET_CLONES void layer_norm_row(const float* x, float* y, int64_t n, const float* scale,
                                         const float* bias, double epsilon, float* mean_out,
                                         float* inv_std_out) {
  const auto shift = static_cast<double>(x[0]);
  double sum = 0.0, sum_sq = 0.0;
#pragma omp simd reduction(+ : sum, sum_sq)
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - shift;
    sum += d;
    sum_sq += d * d;
  }
  const double mean_shifted = sum / static_cast<double>(n);
  const double var = std::max(0.0, sum_sq / static_cast<double>(n) - mean_shifted * mean_shifted);
  const double mean = shift + mean_shifted;
  const double inv_std = 1.0 / std::sqrt(var + epsilon);
  if (bias) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      y[i] = static_cast<float>((static_cast<double>(x[i]) - mean) * inv_std * static_cast<double>(scale[i]) +
                                static_cast<double>(bias[i]));
    }
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      y[i] = static_cast<float>((static_cast<double>(x[i]) - mean) * inv_std * static_cast<double>(scale[i]));
    }
  }
  *mean_out = static_cast<float>(mean);
  *inv_std_out = static_cast<float>(inv_std);
}

// X as [rows, block]; Scale and B hold `block` values (the normalized shape, or it with leading 1s).
class LayerNormKernel final : public Kernel {
 public:
  LayerNormKernel(int64_t rows, int64_t block, double epsilon)
      : rows_(rows), block_(block), epsilon_(epsilon) {}

  std::string impl_name() const override { return "sluice:layer_norm"; }

  void run(RunContext& ctx, KernelState*) const override {
    const float* x = static_cast<const float*>(ctx.inputs[0].data());
    const float* scale = static_cast<const float*>(ctx.inputs[1].data());
    const float* bias =
        ctx.inputs.size() > 2 && ctx.inputs[2] ? static_cast<const float*>(ctx.inputs[2].data()) : nullptr;
    float* y = static_cast<float*>(ctx.outputs[0].data());
    float* means =
        ctx.outputs.size() > 1 && ctx.outputs[1] ? static_cast<float*>(ctx.outputs[1].data()) : nullptr;
    float* inv_stds =
        ctx.outputs.size() > 2 && ctx.outputs[2] ? static_cast<float*>(ctx.outputs[2].data()) : nullptr;
    const int64_t block = block_;
    const double epsilon = epsilon_;
    if (block == 0) {  // nothing to normalize: the reference's statistics of no elements
      for (int64_t r = 0; r < rows_; ++r) {
        if (means) means[r] = 0.0f;
        if (inv_stds) inv_stds[r] = static_cast<float>(1.0 / std::sqrt(epsilon));
      }
      return;
    }
    const int64_t grain = std::max<int64_t>(1, parallel_bytes / (block * 4));
    parallel_for(rows_, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float mean, inv_std;
        layer_norm_row(x + r * block, y + r * block, block, scale, bias, epsilon, &mean, &inv_std);
        if (means) means[r] = mean;
        if (inv_stds) inv_stds[r] = inv_std;
      }
    });
  }

 private:
  int64_t rows_, block_;
  double epsilon_;  // the f32 attribute, widened as the reference does
};

// Whether a Scale/B shape broadcasts to the normalized dims element for element (no repetition).
bool matches_normalized(const Shape& param, const Shape& x, int64_t axis) {
  const Shape normalized(x.begin() + axis, x.end());
  if (param.size() > normalized.size()) return false;
  const size_t lead = normalized.size() - param.size();
  for (size_t d = 0; d < normalized.size(); ++d) {
    const int64_t p = d < lead ? 1 : param[d - lead];
    if (p != normalized[d]) return false;
  }
  return true;
}

std::unique_ptr<Kernel> make_layer_norm(PlanContext& ctx) {
  const auto& in = ctx.inputs;
  if (in.size() < 2 || in[0].type != ElementType::f32 || in[1].type != ElementType::f32) return nullptr;
  const bool has_bias = in.size() > 2 && in[2].present();
  if (has_bias && in[2].type != ElementType::f32) return nullptr;
  for (const auto& v : in) {
    if (v.blocked()) return nullptr;
  }
  if (ctx.node.attr_int("stash_type", 1) != 1) return nullptr;  // statistics in another type than f32
  for (size_t o = 1; o < ctx.outputs.size(); ++o) {
    if (ctx.outputs[o].present() && ctx.outputs[o].type != ElementType::f32) return nullptr;
  }
  const Shape& shape = in[0].shape;
  const auto rank = static_cast<int64_t>(shape.size());
  int64_t axis = ctx.node.attr_int("axis", -1);
  if (axis < -rank || axis >= rank) return nullptr;
  if (axis < 0) axis += rank;
  if (!matches_normalized(in[1].shape, shape, axis)) return nullptr;  // broadcast Scale: the reference
  if (has_bias && !matches_normalized(in[2].shape, shape, axis)) return nullptr;
  int64_t rows = 1, block = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? rows : block) *= shape[static_cast<size_t>(d)];
  return std::make_unique<LayerNormKernel>(rows, block, ctx.node.attr_float("epsilon", 1e-5f));
}

}  // namespace

void register_norm_kernels(KernelRegistry& registry) {
  registry.add("", "Softmax", {[](PlanContext& ctx) { return make_softmax(ctx, false); }, false});
  registry.add("", "LogSoftmax", {[](PlanContext& ctx) { return make_softmax(ctx, true); }, false});
  registry.add("", "LayerNormalization", {make_layer_norm, false});
}

}  // namespace sluice::cpu
