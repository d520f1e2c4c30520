// The CPU device's normalizations (kernels_norm.cpp) against the reference kernels: Softmax and LogSoftmax
// along every axis (opset 13) and coerced to 2-D (before 13), LayerNormalization over one or more trailing
// axes with and without bias and statistics outputs, on random shapes, large offsets and empty tensors.
#include <gtest/gtest.h>

#include <limits>

#include "cpu_kernels_dm_util.hpp"

namespace sluice {
namespace {

using cpu_kernels_test::cpu_takes;
using cpu_kernels_test::random_shape;
using cpu_test::expect_cpu_matches_ref;
using cpu_test::random_tensor;
using ops_test::OneNode;
using ET = ElementType;

TEST(CpuKernelsNorm, SoftmaxAndLogSoftmaxEveryAxis) {
  std::mt19937 rng(31);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    const std::string impl = std::string(op) == "Softmax" ? "sluice:softmax" : "sluice:log_softmax";
    for (int64_t opset : {11, 13}) {
      for (const Shape& shape : {Shape{2, 3, 4}, Shape{7}, Shape{1, 12, 16, 16}, Shape{3, 1, 300},
                                 Shape{2, 600, 5}, Shape{4, 0, 3}}) {
        const auto rank = static_cast<int64_t>(shape.size());
        for (int64_t axis = -rank; axis < rank; ++axis) {
          OneNode one(op, 1, 1, opset);
          one.input(0, ET::f32, shape).attr("axis", axis);
          EXPECT_EQ(expect_cpu_matches_ref(one, {random_tensor(ET::f32, shape, rng, -8, 8)}, 1e-5, 1e-6),
                    impl)
              << op << " opset " << opset << " " << to_string(shape) << " axis " << axis;
        }
      }
      for (int trial = 0; trial < 10; ++trial) {  // default axis: 1 before opset 13, so rank >= 2 there
        const Shape shape = random_shape(rng, (opset < 13 ? 2 : 1) + trial % 3, 1, 9);
        OneNode one(op, 1, 1, opset);
        one.input(0, ET::f32, shape);
        EXPECT_EQ(expect_cpu_matches_ref(one, {random_tensor(ET::f32, shape, rng, -30, 30)}, 1e-5, 1e-6),
                  impl);
      }
    }
  }
}

TEST(CpuKernelsNorm, SoftmaxExtremeValues) {
  std::mt19937 rng(32);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    Tensor x = random_tensor(ET::f32, {4, 50}, rng, -5, 5);
    x.data<float>()[3] = 1e30f;    // one dominant logit
    x.data<float>()[60] = -1e30f;  // one vanishing logit
    x.data<float>()[110] = 80.0f;  // exp would overflow without the max shift
    OneNode one(op, 1, 1, 13);
    one.input(0, ET::f32, Shape{4, 50});
    EXPECT_FALSE(expect_cpu_matches_ref(one, {x}, 1e-5, 1e-6).empty());
  }
}

TEST(CpuKernelsNorm, LayerNormalizationAxesBiasAndStatistics) {
  std::mt19937 rng(33);
  for (const Shape& shape :
       {Shape{2, 3, 8}, Shape{1, 128, 768}, Shape{5, 1}, Shape{3, 4, 5, 6}, Shape{0, 7}}) {
    const auto rank = static_cast<int64_t>(shape.size());
    for (int64_t axis : {int64_t{-1}, int64_t{-2}, int64_t{1}}) {
      if (axis >= rank || axis < -rank) continue;
      const int64_t a = axis < 0 ? axis + rank : axis;
      const Shape normalized(shape.begin() + a, shape.end());
      for (bool bias : {false, true}) {
        for (bool stats : {false, true}) {
          OneNode one("LayerNormalization", std::vector<bool>{true, true, bias},
                      std::vector<bool>{true, stats, stats}, 17);
          one.input(0, ET::f32, shape)
              .input(1, ET::f32, normalized)
              .attr("axis", axis)
              .attr("epsilon", 1e-3f);
          std::vector<Tensor> inputs{random_tensor(ET::f32, shape, rng, -3, 5),
                                     random_tensor(ET::f32, normalized, rng, 0.5, 1.5)};
          if (bias) {
            one.input(2, ET::f32, normalized);
            inputs.push_back(random_tensor(ET::f32, normalized, rng));
          } else {
            inputs.emplace_back();
          }
          EXPECT_EQ(expect_cpu_matches_ref(one, inputs, 1e-4, 1e-5), "sluice:layer_norm")
              << to_string(shape) << " axis " << axis;
        }
      }
    }
  }
}

TEST(CpuKernelsNorm, LayerNormalizationLargeOffsetKeepsVariance) {
  // A common offset far larger than the spread: a naive E[x^2] - E[x]^2 would lose the variance.
  std::mt19937 rng(34);
  Tensor x = random_tensor(ET::f32, {4, 256}, rng, -1, 1);
  for (float& v : x.values<float>()) v += 1000.0f;
  OneNode one("LayerNormalization", 3, 1, 17);
  one.input(0, ET::f32, Shape{4, 256}).input(1, ET::f32, Shape{256}).input(2, ET::f32, Shape{256});
  EXPECT_EQ(expect_cpu_matches_ref(
                one, {x, random_tensor(ET::f32, {256}, rng), random_tensor(ET::f32, {256}, rng)}, 1e-3, 1e-3),
            "sluice:layer_norm");
}

TEST(CpuKernelsNorm, LayerNormalizationDeclinesBroadcastScaleAndOtherStash) {
  std::mt19937 rng(35);
  const Tensor x = random_tensor(ET::f32, {2, 4}, rng);
  OneNode scalar_scale("LayerNormalization", 2, 1, 17);
  scalar_scale.input(0, ET::f32, Shape{2, 4}).input(1, ET::f32, Shape{1});
  EXPECT_FALSE(cpu_takes(scalar_scale, {x, random_tensor(ET::f32, {1}, rng)}));
  OneNode f64_x("LayerNormalization", 2, 1, 17);
  f64_x.input(0, ET::f64, Shape{2, 4}).input(1, ET::f64, Shape{4});
  EXPECT_FALSE(cpu_takes(f64_x, {random_tensor(ET::f64, {2, 4}, rng), random_tensor(ET::f64, {4}, rng)}));
}

}  // namespace
}  // namespace sluice
