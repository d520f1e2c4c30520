// Neural-network operators (Conv, pools, normalizations, MatMul/Gemm, Softmax family, Einsum, layout
// ops): reference kernels, shape inference on partial and symbolic shapes, and validation errors, through
// the operator registry on hand-built one-node graphs. Expected values come from numpy / torch.
#include <map>
#include <string>
#include <vector>

#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::f32;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

Tensor i64(Shape shape, std::vector<int64_t> values) {
  return Tensor::from<int64_t>(std::move(shape), values);
}

// 0, 1, 2, ... (n values) shifted by `offset` and wrapped modulo `mod` when mod > 0.
std::vector<float> ramp(int64_t n, int64_t mod = 0, float offset = 0) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(static_cast<float>(mod > 0 ? i % mod : i) + offset);
  return v;
}

void expect_floats(const Tensor& t, const Shape& shape, const std::vector<float>& expected,
                   float tol = 1e-4f) {
  EXPECT_EQ(t.shape(), shape);
  EXPECT_THAT(values_of<float>(t), Pointwise(FloatNear(tol), expected));
}

PartialShape dyn_shape(std::vector<Dimension> dims) { return PartialShape(std::move(dims)); }

// ---- Conv ----

TEST(NnConv, GroupedStridedAsymmetricPadsWithBias) {
  OneNode n("Conv", {true, true, true}, 1, 11);
  n.attr("group", int64_t{2})
      .attr("strides", std::vector<int64_t>{2, 2})
      .attr("pads", std::vector<int64_t>{1, 0, 2, 1});
  const auto y = n.run(
      {f32({1, 4, 5, 5}, ramp(100, 7, -3)), f32({4, 2, 3, 3}, ramp(72, 5, -2)), f32({4}, {0.5f, -1, 2, 0})});
  expect_floats(y[0], {1, 4, 3, 2}, {0.5, -11.5, -20.5, 29.5, 12.5, -8.5, -5,  -4, 37, -10, -14, -12,
                                     9,   -13,   -16,   19,   -1,   7,    -13, 13, 38, 1,   -4,  -12});
}

TEST(NnConv, DilatedOneDimensional) {
  OneNode n("Conv", {true, true}, 1, 11);
  n.attr("dilations", std::vector<int64_t>{3}).attr("pads", std::vector<int64_t>{2, 2});
  const auto y = n.run({f32({1, 1, 10}, ramp(10)), f32({1, 1, 3}, {1, -2, 3})});
  expect_floats(y[0], {1, 1, 8}, {10, 11, 12, 14, 16, 18, -10, -11});
}

TEST(NnConv, ThreeDimensionalWithPerDimAttributes) {
  OneNode n("Conv", {true, true}, 1, 11);
  n.attr("strides", std::vector<int64_t>{1, 2, 1})
      .attr("pads", std::vector<int64_t>{1, 0, 0, 1, 0, 0})
      .attr("dilations", std::vector<int64_t>{2, 1, 1});
  const auto y = n.run({f32({2, 2, 3, 3, 3}, ramp(108, 5, -2)), f32({3, 2, 2, 2, 2}, ramp(48, 3, -1))});
  expect_floats(y[0], {2, 3, 3, 1, 2}, {3, -3, 3,  7, -6, -1, 3,  4, -6, -1, 3, -3, -6, -1, 3, -6, 3,  4,
                                        4, 3,  -6, 3, -1, -6, -3, 3, -1, -6, 4, 3,  -1, -6, 7, 3,  -3, 3});
}

TEST(NnConv, HalfPrecisionAccumulatesInFloat) {
  OneNode n("Conv", {true, true, true}, 1, 11);
  std::vector<float16> x, w;
  for (int i = 0; i < 4; ++i) x.emplace_back(0.5f * static_cast<float>(i));
  w = {float16(1.0f), float16(-2.0f)};
  const auto y = n.run({Tensor::from<float16>({1, 1, 4}, x), Tensor::from<float16>({1, 1, 2}, w),
                        Tensor::from<float16>({1}, {float16(0.25f)})});
  ASSERT_EQ(y[0].type(), ElementType::f16);
  std::vector<float> got;
  for (float16 v : y[0].values<float16>()) got.push_back(static_cast<float>(v));
  EXPECT_THAT(got, ElementsAre(-0.75f, -1.25f, -1.75f));
}

TEST(NnConv, AutoPadSameLowerAndUpperDifferInWhereThePadGoes) {
  // 1x1x4 input, kernel 2, stride 1: one pad, at the end (SAME_UPPER) or at the start (SAME_LOWER).
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    OneNode n("Conv", {true, true}, 1, 11);
    n.attr("auto_pad", std::string(mode));
    const auto y = n.run({f32({1, 1, 4}, {1, 2, 3, 4}), f32({1, 1, 2}, {1, 10})});
    const std::vector<float> expected = std::string(mode) == "SAME_UPPER"
                                            ? std::vector<float>{21, 32, 43, 4}
                                            : std::vector<float>{10, 21, 32, 43};
    expect_floats(y[0], {1, 1, 4}, expected);
  }
}

TEST(NnConv, InfersSymbolicBatchAndKernelFromWeights) {
  OneNode n("Conv", {true, true}, 1, 11);
  n.attr("strides", std::vector<int64_t>{2, 2}).attr("pads", std::vector<int64_t>{3, 3, 3, 3});
  n.input(0, ElementType::f32, dyn_shape({Dimension::dynamic("batch"), 3, 224, Dimension()}));
  n.input(1, ElementType::f32, PartialShape(Shape{64, 3, 7, 7}));
  const auto& out = n.infer();
  EXPECT_EQ(out.type, ElementType::f32);
  EXPECT_EQ(out.shape, dyn_shape({Dimension::dynamic("batch"), 64, 112, Dimension()}));
}

TEST(NnConv, InfersRankFromWeightsWhenInputRankIsUnknown) {
  OneNode n("Conv", {true, true}, 1, 11);
  n.input(0, ElementType::f32, PartialShape());
  n.input(1, ElementType::f32, PartialShape(Shape{8, 3, 3, 3, 3}));
  EXPECT_EQ(n.infer().shape, dyn_shape({Dimension(), 8, Dimension(), Dimension(), Dimension()}));
}

TEST(NnConv, RejectsChannelMismatchBadAutoPadAndBadBias) {
  OneNode n("Conv", {true, true, true}, 1, 11);
  n.input(0, ElementType::f32, PartialShape(Shape{1, 4, 5, 5}));
  n.input(1, ElementType::f32, PartialShape(Shape{2, 3, 3, 3}));
  n.input(2, ElementType::f32, PartialShape(Shape{2}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("channels"));
  EXPECT_THAT(error_of([&] {
                n.run({f32({1, 4, 5, 5}, ramp(100)), f32({2, 3, 3, 3}, ramp(54)), Tensor()});
              }),
              HasSubstr("Conv node 'n'"));
  n.attr("auto_pad", std::string("SAME"));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("auto_pad"));
  OneNode b("Conv", {true, true, true}, 1, 11);
  EXPECT_THAT(error_of([&] {
                b.run({f32({1, 1, 3}, ramp(3)), f32({2, 1, 1}, {1, 1}), f32({3}, {1, 2, 3})});
              }),
              HasSubstr("input B"));
  OneNode k("Conv", {true, true}, 1, 11);
  EXPECT_THAT(error_of([&] {
                k.run({f32({1, 1, 2}, ramp(2)), f32({1, 1, 3}, {1, 1, 1})});
              }),
              HasSubstr("exceeds"));
}

// ---- ConvTranspose ----

TEST(NnConvTranspose, StridesPadsOutputPadding) {
  OneNode n("ConvTranspose", {true, true}, 1, 11);
  n.attr("strides", std::vector<int64_t>{2, 2})
      .attr("pads", std::vector<int64_t>{1, 1, 1, 1})
      .attr("output_padding", std::vector<int64_t>{1, 1});
  const auto y = n.run({f32({1, 1, 3, 3}, ramp(9)), f32({1, 2, 3, 3}, ramp(18, 4, -1))});
  expect_floats(y[0], {1, 2, 6, 6}, {0, 2,  -1, 4,  -2, 0,  0,  0,  2,  0,  4,  3,  -3, 8,  -4, 10, -5, 0,
                                     6, 0,  8,  0,  10, 3,  -6, 14, -7, 16, -8, 0,  12, 1,  14, 1,  16, -8,
                                     0, -1, 0,  -1, 0,  2,  3,  8,  3,  12, 3,  10, 0,  -1, 0,  -1, 0,  5,
                                     3, 20, 3,  24, 3,  16, 0,  -1, 0,  -1, 0,  8,  -6, 14, -7, 16, -8, 0});
}

TEST(NnConvTranspose, OutputShapeAttributeDrivesShapeInference) {
  OneNode n("ConvTranspose", {true, true}, 1, 11);
  n.attr("strides", std::vector<int64_t>{3, 2}).attr("output_shape", std::vector<int64_t>{10, 8});
  n.input(0, ElementType::f32, dyn_shape({Dimension::dynamic("n"), 1, Dimension(), 3}));
  n.input(1, ElementType::f32, PartialShape(Shape{1, 2, 3, 3}));
  EXPECT_EQ(n.infer().shape, dyn_shape({Dimension::dynamic("n"), 2, 10, 8}));
}

TEST(NnConvTranspose, GroupMultipliesOutputChannels) {
  OneNode n("ConvTranspose", {true, true}, 1, 11);
  n.attr("group", int64_t{2});
  n.input(0, ElementType::f32, PartialShape(Shape{1, 4, 5}));
  n.input(1, ElementType::f32, PartialShape(Shape{4, 3, 2}));
  EXPECT_EQ(n.infer().shape, PartialShape(Shape{1, 6, 6}));
}

// ---- Pools ----

TEST(NnPool, MaxPoolIndicesRowAndColumnMajor) {
  const Tensor x = f32({1, 1, 4, 4}, {1, 5, 2, 0, 3, 4, 8, 7, 9, 1, 6, 6, 2, 2, 0, 3});
  OneNode row("MaxPool", {true}, 2, 12);
  row.attr("kernel_shape", std::vector<int64_t>{2, 2}).attr("strides", std::vector<int64_t>{2, 2});
  auto y = row.run({x});
  expect_floats(y[0], {1, 1, 2, 2}, {5, 8, 9, 6});
  EXPECT_THAT(values_of<int64_t>(y[1]), ElementsAre(1, 6, 8, 10));
  OneNode col("MaxPool", {true}, 2, 12);
  col.attr("kernel_shape", std::vector<int64_t>{2, 2})
      .attr("strides", std::vector<int64_t>{2, 2})
      .attr("storage_order", int64_t{1});
  y = col.run({x});
  EXPECT_THAT(values_of<int64_t>(y[1]), ElementsAre(4, 9, 2, 10));
}

TEST(NnPool, MaxPoolCeilModeDropsWindowsStartingInThePadding) {
  OneNode n("MaxPool", {true}, 1, 12);
  n.attr("kernel_shape", std::vector<int64_t>{2})
      .attr("strides", std::vector<int64_t>{2})
      .attr("ceil_mode", int64_t{1});
  n.input(0, ElementType::f32, dyn_shape({1, Dimension::dynamic("c"), 5}));
  EXPECT_EQ(n.infer().shape, dyn_shape({1, Dimension::dynamic("c"), 3}));
  n.attr("pads", std::vector<int64_t>{1, 1});
  // ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 >= 5 + 1: dropped.
  EXPECT_EQ(n.infer().shape, dyn_shape({1, Dimension::dynamic("c"), 3}));
  const auto y = n.run({f32({1, 1, 5}, {1, 7, 3, 2, 9})});
  expect_floats(y[0], {1, 1, 3}, {1, 7, 9});
}

TEST(NnPool, MaxPoolOnIntegers) {
  OneNode n("MaxPool", {true}, 1, 12);
  n.attr("kernel_shape", std::vector<int64_t>{3}).attr("pads", std::vector<int64_t>{1, 1});
  const auto y = n.run({Tensor::from<uint8_t>({1, 1, 4}, {3, 250, 7, 1})});
  EXPECT_THAT(values_of<uint8_t>(y[0]), ElementsAre(250, 250, 250, 7));
}

TEST(NnPool, AveragePoolCountIncludePad) {
  for (int64_t include : {0, 1}) {
    OneNode n("AveragePool", {true}, 1, 19);
    n.attr("kernel_shape", std::vector<int64_t>{3, 3})
        .attr("strides", std::vector<int64_t>{2, 2})
        .attr("pads", std::vector<int64_t>{1, 1, 1, 1})
        .attr("count_include_pad", include);
    const auto y = n.run({f32({1, 1, 4, 4}, ramp(16))});
    expect_floats(y[0], {1, 1, 2, 2},
                  include ? std::vector<float>{1.111111f, 2.666667f, 5.666667f, 10}
                          : std::vector<float>{2.5f, 4, 8.5f, 10});
  }
}

TEST(NnPool, LpPoolAndGlobalPools) {
  OneNode lp("LpPool", {true}, 1, 18);
  lp.attr("kernel_shape", std::vector<int64_t>{2}).attr("p", int64_t{2});
  expect_floats(lp.run({f32({1, 1, 3}, {3, 4, 0})})[0], {1, 1, 2}, {5, 4});
  OneNode avg("GlobalAveragePool", {true}, 1, 1);
  avg.input(0, ElementType::f32, dyn_shape({Dimension::dynamic("b"), 2, Dimension(), 7}));
  EXPECT_EQ(avg.infer().shape, dyn_shape({Dimension::dynamic("b"), 2, 1, 1}));
  expect_floats(avg.run({f32({1, 2, 1, 3}, {1, 2, 6, -3, 0, 0})})[0], {1, 2, 1, 1}, {3, -1});
  OneNode glp("GlobalLpPool", {true}, 1, 2);
  glp.attr("p", int64_t{1});
  expect_floats(glp.run({f32({1, 2, 2}, {3, -4, 0, 1})})[0], {1, 2, 1}, {7, 1});
  OneNode lp_v1("LpPool", {true}, 1, 1);
  lp_v1.attr("kernel_shape", std::vector<int64_t>{3}).attr("p", 2.0f);
  expect_floats(lp_v1.run({f32({1, 1, 3}, {2, 3, 6})})[0], {1, 1, 1}, {7});
  OneNode mx("GlobalMaxPool", {true}, 1, 1);
  expect_floats(mx.run({f32({1, 2, 3}, {1, 2, 6, -3, -1, -2})})[0], {1, 2, 1}, {6, -1});
}

TEST(NnPool, RejectsMissingKernelShapeAndRankMismatch) {
  OneNode n("MaxPool", {true}, 1, 12);
  EXPECT_THAT(error_of([&] { n.run({f32({1, 1, 3}, {1, 2, 3})}); }), HasSubstr("kernel_shape"));
  n.attr("kernel_shape", std::vector<int64_t>{2, 2});
  n.input(0, ElementType::f32, PartialShape(Shape{1, 1, 3}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("expected rank 4"));
}

TEST(NnPool, MaxUnpoolScattersAndHonoursOutputShape) {
  OneNode n("MaxUnpool", {true, true, true}, 1, 11);
  n.attr("kernel_shape", std::vector<int64_t>{2, 2}).attr("strides", std::vector<int64_t>{2, 2});
  const auto y =
      n.run({f32({1, 1, 2, 2}, {5, 6, 7, 8}), i64({1, 1, 2, 2}, {5, 7, 13, 15}), i64({4}, {1, 1, 5, 5})});
  expect_floats(y[0], {1, 1, 5, 5},
                {0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0});
  OneNode bad("MaxUnpool", {true, true}, 1, 11);
  bad.attr("kernel_shape", std::vector<int64_t>{2});
  EXPECT_THAT(error_of([&] { bad.run({f32({1, 1, 1}, {1}), i64({1, 1, 1}, {7})}); }), HasSubstr("index 7"));
}

// ---- Normalizations ----

TEST(NnNorm, BatchNormalizationInferenceAndTraining) {
  const Tensor x = f32({2, 2, 2}, ramp(8, 0, 1));
  const std::vector<Tensor> params{f32({2}, {1, 2}), f32({2}, {0, 1}), f32({2}, {2, 5}), f32({2}, {1, 4})};
  OneNode inference("BatchNormalization", {true, true, true, true, true}, 1, 15);
  std::vector<Tensor> in{x};
  in.insert(in.end(), params.begin(), params.end());
  expect_floats(inference.run(in)[0], {2, 2, 2}, {-0.999995f, 0, -0.9999975f, 0, 2.999985f, 3.99998f, 3, 4});
  OneNode training("BatchNormalization", {true, true, true, true, true}, 3, 15);
  training.attr("training_mode", int64_t{1});
  const auto y = training.run(in);
  expect_floats(y[0], {2, 2, 2},
                {-1.212677f, -0.727606f, -1.425353f, -0.455212f, 0.727606f, 1.212677f, 2.455212f, 3.425353f});
  expect_floats(y[1], {2}, {2.15f, 5.05f});
  expect_floats(y[2], {2}, {1.325f, 4.025f});
}

TEST(NnNorm, BatchNormalizationPerElementParametersBeforeOpset9) {
  OneNode n("BatchNormalization", {true, true, true, true, true}, 1, 7);
  n.attr("spatial", int64_t{0}).attr("epsilon", 1.0f);
  const Tensor ones = f32({2, 2}, {1, 1, 1, 1});
  const auto y = n.run({f32({1, 2, 2}, {1, 2, 3, 4}), f32({2, 2}, {1, 2, 3, 4}), f32({2, 2}, {0, 0, 0, 0}),
                        ones, f32({2, 2}, {3, 3, 3, 3})});
  expect_floats(y[0], {1, 2, 2}, {0, 1, 3, 6});
}

TEST(NnNorm, BatchNormalizationRejectsTrainingOutputsWithoutTrainingMode) {
  OneNode n("BatchNormalization", {true, true, true, true, true}, 3, 15);
  EXPECT_THAT(error_of([&] { n.node->schema->validate(*n.node); }), HasSubstr("training_mode"));
  OneNode old("BatchNormalization", {true, true, true, true, true}, 2, 9);
  EXPECT_THAT(error_of([&] { old.node->schema->validate(*old.node); }), HasSubstr("before opset 14"));
}

TEST(NnNorm, InstanceNormalization) {
  OneNode n("InstanceNormalization", {true, true, true}, 1, 6);
  expect_floats(n.run({f32({1, 2, 3}, {1, 2, 6, 0, 0, 3}), f32({2}, {2, 1}), f32({2}, {0, 1})})[0], {1, 2, 3},
                {-1.851638f, -0.925819f, 2.777457f, 0.292895f, 0.292895f, 2.414210f});
}

TEST(NnNorm, LayerNormalizationWithStatistics) {
  OneNode n("LayerNormalization", {true, true, true}, 3, 17);
  const auto y = n.run({f32({2, 3}, {1, 2, 4, 0, -3, 9}), f32({3}, {1, 2, 0.5f}), f32({3}, {0, 1, -1})});
  expect_floats(y[0], {2, 3}, {-1.069041f, 0.4654794f, -0.3318491f, -0.3922322f, -0.961161f, -0.3135936f});
  expect_floats(y[1], {2, 1}, {2.333333f, 2});
  expect_floats(y[2], {2, 1}, {0.8017811f, 0.1961161f});
}

TEST(NnNorm, LayerNormalizationShapes) {
  OneNode n("LayerNormalization", {true, true}, {true, false, true}, 17);
  n.attr("axis", int64_t{-2});
  n.input(0, ElementType::f16, dyn_shape({Dimension::dynamic("b"), Dimension::dynamic("s"), 768}));
  n.input(1, ElementType::f16, PartialShape(Shape{768}));
  EXPECT_EQ(n.infer(0).shape, dyn_shape({Dimension::dynamic("b"), Dimension::dynamic("s"), 768}));
  EXPECT_EQ(n.infer(2).type, ElementType::f32);
  EXPECT_EQ(n.infer(2).shape, dyn_shape({Dimension::dynamic("b"), 1, 1}));
  n.input(1, ElementType::f16, PartialShape(Shape{5}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("Scale"));
}

TEST(NnNorm, GroupNormalizationPerGroupThenPerChannelParameters) {
  const Tensor x = f32({1, 4, 2}, {1, 2, 3, 5, 0, 0, 4, 8});
  OneNode v21("GroupNormalization", {true, true, true}, 1, 21);
  v21.attr("num_groups", int64_t{2});
  expect_floats(
      v21.run({x, f32({4}, {1, 2, 3, 4}), f32({4}, {0, 0, 1, 1})})[0], {1, 4, 2},
      {-1.183213f, -0.5070914f, 0.3380609f, 3.042548f, -1.713601f, -1.713601f, 2.206045f, 7.030224f});
  OneNode v18("GroupNormalization", {true, true, true}, 1, 18);
  v18.attr("num_groups", int64_t{2});
  expect_floats(
      v18.run({x, f32({2}, {1, 2}), f32({2}, {0, 1})})[0], {1, 4, 2},
      {-1.183213f, -0.5070914f, 0.1690305f, 1.521274f, -0.8090672f, -0.8090672f, 1.603022f, 4.015112f});
  v18.attr("num_groups", int64_t{3});
  EXPECT_THAT(error_of([&] {
                v18.run({x, f32({3}, {1, 1, 1}), f32({3}, {0, 0, 0})});
              }),
              HasSubstr("divisible"));
}

TEST(NnNorm, LpNormalizationMeanVarianceNormalizationLrn) {
  OneNode l2("LpNormalization", {true}, 1, 1);
  expect_floats(l2.run({f32({2, 4}, {1, 2, 3, 4, 0, 0, 3, -4})})[0], {2, 4},
                {0.1825742f, 0.3651484f, 0.5477226f, 0.7302967f, 0, 0, 0.6f, -0.8f});
  OneNode l1("LpNormalization", {true}, 1, 1);
  l1.attr("p", int64_t{1});
  expect_floats(l1.run({f32({2, 4}, {1, 2, 3, 4, 0, 0, 3, -4})})[0], {2, 4},
                {0.1f, 0.2f, 0.3f, 0.4f, 0, 0, 0.4285714f, -0.5714286f});
  OneNode mvn("MeanVarianceNormalization", {true}, 1, 13);
  expect_floats(mvn.run({f32({2, 2, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 9})})[0], {2, 2, 1, 2},
                {-1.212678f, -0.727607f, -1.153113f, -0.733799f, 0.727607f, 1.212678f, 0.524142f, 1.362770f});
  OneNode lrn("LRN", {true}, 1, 13);
  lrn.attr("size", int64_t{2}).attr("alpha", 0.1f).attr("beta", 0.75f);
  expect_floats(lrn.run({f32({1, 3, 1, 1}, {1, 2, 3})})[0], {1, 3, 1, 1},
                {0.8458970f, 1.3737795f, 2.2703628f});
  OneNode bad("LpNormalization", {true}, 1, 1);
  bad.attr("p", int64_t{3});
  EXPECT_THAT(error_of([&] { bad.run({f32({1}, {1})}); }), HasSubstr("'p'"));
}

// ---- MatMul and Gemm ----

TEST(NnMatMul, VectorOperandsAndBatchBroadcast) {
  const Tensor v = f32({3}, {1, 2, 3});
  const Tensor m = f32({2, 3, 2}, ramp(12));
  OneNode a("MatMul", {true, true}, 1, 13);
  expect_floats(a.run({v, m})[0], {2, 2}, {16, 22, 52, 58});
  OneNode b("MatMul", {true, true}, 1, 13);
  expect_floats(b.run({f32({2, 1, 2, 3}, ramp(12)), f32({3, 3, 2}, ramp(18))})[0], {2, 3, 2, 2},
                {10, 13, 28, 40, 28,  31,  100, 112, 46,  49,  172, 184,
                 46, 67, 64, 94, 172, 193, 244, 274, 298, 319, 424, 454});
  OneNode ints("MatMul", {true, true}, 1, 13);
  const auto y = ints.run({Tensor::from<int32_t>({1, 2}, {3, -4}), Tensor::from<int32_t>({2, 1}, {5, 6})});
  EXPECT_THAT(values_of<int32_t>(y[0]), ElementsAre(-9));
}

TEST(NnMatMul, InfersPartialBroadcastShapes) {
  OneNode n("MatMul", {true, true}, 1, 13);
  n.input(0, ElementType::f32, dyn_shape({Dimension::dynamic("b"), Dimension::dynamic("s"), 768}));
  n.input(1, ElementType::f32, PartialShape(Shape{768, 3072}));
  EXPECT_EQ(n.infer().shape, dyn_shape({Dimension::dynamic("b"), Dimension::dynamic("s"), 3072}));
  n.input(0, ElementType::f32, PartialShape(Shape{5}));
  n.input(1, ElementType::f32, dyn_shape({7, 1, 5, Dimension()}));
  EXPECT_EQ(n.infer().shape, dyn_shape({7, 1, Dimension()}));
  n.input(0, ElementType::f32, PartialShape(Shape{4}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("inner dimensions"));
}

TEST(NnGemm, TransposesScalesAndBroadcastsBias) {
  OneNode n("Gemm", {true, true, true}, 1, 13);
  n.attr("transA", int64_t{1}).attr("transB", int64_t{1}).attr("alpha", 0.5f).attr("beta", 2.0f);
  expect_floats(
      n.run({f32({3, 2}, {1, 2, 3, 4, 5, 6}), f32({2, 3}, {1, 0, 2, 0, 1, -1}), f32({2}, {10, 20})})[0],
      {2, 2}, {25.5f, 39, 27, 39});
  n.input(0, ElementType::f32, dyn_shape({Dimension(), Dimension::dynamic("m")}));
  n.input(1, ElementType::f32, PartialShape(Shape{4, 3}));
  n.input(2, ElementType::f32, PartialShape(Shape{3, 2}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("input C"));
  n.input(2, ElementType::f32, PartialShape(Shape{4}));
  EXPECT_EQ(n.infer().shape, dyn_shape({Dimension::dynamic("m"), 4}));
}

TEST(NnGemm, CIsOptionalFromOpset11) {
  OneNode n("Gemm", {true, true}, 1, 11);
  expect_floats(n.run({f32({1, 2}, {1, 2}), f32({2, 1}, {3, 4})})[0], {1, 1}, {11});
  EXPECT_EQ(graph::OpRegistry::instance().find("", "Gemm", 9)->min_inputs, 3);
}

// ---- Softmax family ----

TEST(NnSoftmax, CoercedTo2DBeforeOpset13) {
  const Tensor x = f32({2, 2, 2}, {0, 1, 2, 3, -1, 0, 5, 2});
  OneNode old("Softmax", {true}, 1, 11);
  expect_floats(
      old.run({x})[0], {2, 2, 2},
      {0.0320586f, 0.08714432f, 0.2368828f, 0.6439143f, 0.002340645f, 0.006362534f, 0.9442838f, 0.04701312f});
  OneNode v13("Softmax", {true}, 1, 13);
  v13.attr("axis", int64_t{1});
  expect_floats(
      v13.run({x})[0], {2, 2, 2},
      {0.1192029f, 0.1192029f, 0.880797f, 0.880797f, 0.002472623f, 0.1192029f, 0.9975274f, 0.880797f});
}

TEST(NnSoftmax, LogSoftmaxAndHardmax) {
  OneNode log("LogSoftmax", {true}, 1, 13);
  expect_floats(log.run({f32({1, 3}, {1000, 1000, 1000})})[0], {1, 3},
                {-1.0986123f, -1.0986123f, -1.0986123f});
  OneNode hard("Hardmax", {true}, 1, 13);
  hard.attr("axis", int64_t{0});
  expect_floats(hard.run({f32({2, 3}, {1, 5, 3, 4, 5, 0})})[0], {2, 3}, {0, 1, 1, 1, 0, 0});
  OneNode bad("Softmax", {true}, 1, 13);
  bad.attr("axis", int64_t{2});
  bad.input(0, ElementType::f32, PartialShape(Shape{2, 3}));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("axis"));
}

// ---- Einsum ----

TEST(NnEinsum, ImplicitOutputSortsLabels) {
  OneNode n("Einsum", {true, true}, 1, 12);
  n.attr("equation", std::string("kj,ji"));
  // k: 4, j: 3, i: 2; implicit output "ik".
  const Tensor bt = f32({4, 3}, {-5, -1, 3, -4, 0, 4, -3, 1, 5, -2, 2, 6});
  const Tensor at = f32({3, 2}, {0, 3, 1, 4, 2, 5});
  expect_floats(n.run({bt, at})[0], {2, 4}, {5, 8, 11, 14, -4, 8, 20, 32});
}

TEST(NnEinsum, DiagonalTraceAndEllipsisBroadcast) {
  OneNode diag("Einsum", {true}, 1, 12);
  diag.attr("equation", std::string("ii->i"));
  expect_floats(diag.run({f32({3, 3}, ramp(9))})[0], {3}, {0, 4, 8});
  OneNode trace("Einsum", {true}, 1, 12);
  trace.attr("equation", std::string("ii"));
  expect_floats(trace.run({f32({3, 3}, ramp(9))})[0], {}, {12});
  OneNode ell("Einsum", {true, true}, 1, 12);
  ell.attr("equation", std::string("...ij, ...jk -> ...ik"));
  expect_floats(ell.run({f32({2, 1, 2, 3}, ramp(12)), f32({3, 3, 2}, ramp(18))})[0], {2, 3, 2, 2},
                {10, 13, 28, 40, 28,  31,  100, 112, 46,  49,  172, 184,
                 46, 67, 64, 94, 172, 193, 244, 274, 298, 319, 424, 454});
  ell.input(0, ElementType::f32, dyn_shape({Dimension::dynamic("b"), 1, 2, 3}));
  ell.input(1, ElementType::f32, dyn_shape({3, 3, Dimension()}));
  EXPECT_EQ(ell.infer().shape, dyn_shape({Dimension::dynamic("b"), 3, 2, Dimension()}));
}

TEST(NnEinsum, RejectsBadEquations) {
  OneNode n("Einsum", {true, true}, 1, 12);
  n.attr("equation", std::string("ij,jk->ix"));
  EXPECT_THAT(error_of([&] { n.run({f32({1, 2}, {1, 2}), f32({2, 1}, {1, 2})}); }), HasSubstr("'x'"));
  n.attr("equation", std::string("ij,jk"));
  EXPECT_THAT(error_of([&] {
                n.run({f32({1, 2}, {1, 2}), f32({3, 1}, {1, 2, 3})});
              }),
              HasSubstr("label 'j'"));
  n.attr("equation", std::string("ij->i"));
  EXPECT_THAT(error_of([&] {
                n.run({f32({1, 2}, {1, 2}), f32({2, 1}, {1, 2})});
              }),
              HasSubstr("1 input terms"));
  n.attr("equation", std::string("i$,j"));
  EXPECT_THAT(error_of([&] { n.run({f32({1, 2}, {1, 2}), f32({2}, {1, 2})}); }), HasSubstr("'$'"));
}

// ---- Layout ops ----

TEST(NnLayout, DepthToSpaceModesAndSpaceToDepthRoundTrip) {
  const Tensor x = f32({1, 4, 1, 2}, ramp(8));
  OneNode dcr("DepthToSpace", {true}, 1, 13);
  dcr.attr("blocksize", int64_t{2});
  expect_floats(dcr.run({x})[0], {1, 1, 2, 4}, {0, 2, 1, 3, 4, 6, 5, 7});
  OneNode crd("DepthToSpace", {true}, 1, 13);
  crd.attr("blocksize", int64_t{2}).attr("mode", std::string("CRD"));
  expect_floats(crd.run({x})[0], {1, 1, 2, 4}, {0, 2, 1, 3, 4, 6, 5, 7});
  OneNode s2d("SpaceToDepth", {true}, 1, 13);
  s2d.attr("blocksize", int64_t{2});
  expect_floats(s2d.run({dcr.run({x})[0]})[0], {1, 4, 1, 2}, ramp(8));
  OneNode d2("DepthToSpace", {true}, 1, 13);
  d2.attr("blocksize", int64_t{2});
  d2.input(0, ElementType::i64, dyn_shape({Dimension::dynamic("n"), 8, Dimension(), 5}));
  EXPECT_EQ(d2.infer().shape, dyn_shape({Dimension::dynamic("n"), 2, Dimension(), 10}));
  d2.input(0, ElementType::i64, PartialShape(Shape{1, 6, 1, 1}));
  EXPECT_THAT(error_of([&] { d2.infer(); }), HasSubstr("divisible"));
}

TEST(NnLayout, Col2ImSumsOverlappingBlocks) {
  OneNode n("Col2Im", {true, true, true}, 1, 18);
  const auto y = n.run({f32({1, 4, 4}, ramp(16)), i64({2}, {3, 3}), i64({2}, {2, 2})});
  expect_floats(y[0], {1, 1, 3, 3}, {0, 5, 5, 10, 30, 20, 10, 25, 15});
  n.input(0, ElementType::f32, dyn_shape({Dimension::dynamic("n"), 8, 4}));
  n.input(1, ElementType::i64, PartialShape(Shape{2}), i64({2}, {3, 3}));
  n.input(2, ElementType::i64, PartialShape(Shape{2}), i64({2}, {2, 2}));
  EXPECT_EQ(n.infer().shape, dyn_shape({Dimension::dynamic("n"), 2, 3, 3}));
  EXPECT_THAT(error_of([&] {
                n.run({f32({1, 4, 3}, ramp(12)), i64({2}, {3, 3}), i64({2}, {2, 2})});
              }),
              HasSubstr("blocks"));
}

TEST(NnConv, DeformConvWithZeroOffsetsIsConv) {
  OneNode d("DeformConv", {true, true, true}, 1, 19);
  OneNode c("Conv", {true, true}, 1, 11);
  const Tensor x = f32({1, 1, 3, 3}, ramp(9));
  const Tensor w = f32({1, 1, 2, 2}, {1, -1, 2, 0.5f});
  const auto yc = c.run({x, w});
  const auto yd = d.run({x, w, Tensor(ElementType::f32, {1, 8, 2, 2})});
  EXPECT_THAT(values_of<float>(yd[0]), Pointwise(FloatNear(1e-5f), values_of<float>(yc[0])));
  // Offsets of half a pixel along h and w: each output averages a 2x2 neighbourhood (zeros outside).
  OneNode half("DeformConv", {true, true, true}, 1, 19);
  const auto y = half.run({x, f32({1, 1, 1, 1}, {1}), f32({1, 2, 3, 3}, std::vector<float>(18, 0.5f))});
  expect_floats(y[0], {1, 1, 3, 3}, {2, 3, 1.75f, 5, 6, 3.25f, 3.25f, 3.75f, 2});
  EXPECT_THAT(error_of([&] {
                half.run({x, w, f32({1, 2, 2, 2}, std::vector<float>(8, 0))});
              }),
              HasSubstr("offset"));
}

}  // namespace
}  // namespace sluice
