// DFT, STFT, the Hann / Hamming / Blackman windows and MelWeightMatrix: reference kernels, shape
// inference and validation on one-node graphs. Expected values come from numpy.fft and the ONNX reference
// formulas.
#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::expect_near;
using ops_test::f32;
using ops_test::OneNode;
using ::testing::HasSubstr;

TEST(DFT, RealInputOpset17) {
  OneNode n("DFT", 1, 1, 17);
  n.attr("axis", int64_t{1});
  auto out = n.run({f32({1, 4, 1}, {1, 2, -1, 0.5f})});
  EXPECT_EQ(to_string(out[0].shape()), "[1,4,2]");
  expect_near(out[0], {2.5, 0, 2, -1.5, -2.5, 0, 2, 1.5}, 1e-6);
}

TEST(DFT, OnesidedWithZeroPaddedLength) {
  OneNode n("DFT", 2, 1, 17);
  n.attr("onesided", int64_t{1});
  auto out = n.run({f32({1, 4, 1}, {1, 2, -1, 0.5f}), Tensor::scalar<int64_t>(6)});
  EXPECT_EQ(to_string(out[0].shape()), "[1,4,2]");
  expect_near(out[0], {2.5, 0, 2, -0.8660254, 1, -2.598076, -2.5, 0}, 1e-6);
}

TEST(DFT, InverseOfComplexInput) {
  OneNode n("DFT", 1, 1, 17);
  n.attr("inverse", int64_t{1});
  auto out = n.run({f32({1, 3, 2}, {1, 1, -2, 0.5f, 0.25f, -1})});
  expect_near(out[0], {-0.25, 0.1666667, 0.1919873, -0.2328524, 1.058013, 1.066186}, 1e-6);
}

TEST(DFT, Opset20AxisInputAcceptsNegativeAxes) {
  const Tensor m = f32({2, 3, 1}, {1, 2, 3, 4, -5, 6});
  OneNode last("DFT", std::vector<bool>{true, false, true}, 1, 20);
  auto out = last.run({m, Tensor(), Tensor::scalar<int64_t>(-2)});  // the last signal axis (1)
  expect_near(out[0], {6, 0, -1.5, 0.8660254, -1.5, -0.8660254, 5, 0, 3.5, 9.526279, 3.5, -9.526279}, 1e-5);
  OneNode first("DFT", std::vector<bool>{true, false, true}, 1, 20);
  out = first.run({m, Tensor(), Tensor::scalar<int64_t>(-3)});
  expect_near(out[0], {5, 0, -3, 0, 9, 0, -3, 0, 7, 0, -3, 0}, 1e-5);
  OneNode fallback("DFT", 1, 1, 20);  // no axis input: -2
  out = fallback.run({m});
  expect_near(out[0], {6, 0, -1.5, 0.8660254, -1.5, -0.8660254, 5, 0, 3.5, 9.526279, 3.5, -9.526279}, 1e-5);
}

TEST(DFT, InfersShapes) {
  OneNode n("DFT", std::vector<bool>{true, true, true}, 1, 20);
  n.attr("onesided", int64_t{1});
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("b"), 16, 10, 1}))
      .constant(1, Tensor::scalar<int64_t>(9))
      .constant(2, Tensor::scalar<int64_t>(1));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[b,5,10,2]");

  OneNode dynamic_axis("DFT", std::vector<bool>{true, false, true}, 1, 20);
  dynamic_axis.input(0, ElementType::f32, PartialShape({4, 10, 2}))
      .input(2, ElementType::i64, PartialShape(Shape{}));
  dynamic_axis.infer();
  EXPECT_EQ(dynamic_axis.out_shape(0), "[4,10,2]");

  OneNode v17("DFT", 1, 1, 17);
  v17.attr("axis", int64_t{2});
  v17.input(0, ElementType::f16, PartialShape({1, 8, 6, 1}));
  v17.infer();
  EXPECT_EQ(v17.out_type(0), ElementType::f16);
  EXPECT_EQ(v17.out_shape(0), "[1,8,6,2]");
}

TEST(DFT, RejectsBadInput) {
  OneNode trailing("DFT", 1, 1, 17);
  trailing.input(0, ElementType::f32, PartialShape({1, 8, 3}));
  EXPECT_THAT(error_of([&] { trailing.infer(); }), HasSubstr("must be 1 (real) or 2 (complex)"));

  OneNode axis("DFT", 1, 1, 17);
  axis.attr("axis", int64_t{2});
  EXPECT_THAT(error_of([&] {
                axis.run({f32({1, 4, 1}, {1, 2, 3, 4})});
              }),
              HasSubstr("axis 2 is out of range"));

  OneNode attr20("DFT", 1, 1, 20);
  attr20.attr("axis", int64_t{1});
  EXPECT_THAT(error_of([&] { attr20.node->schema->validate(*attr20.node); }),
              HasSubstr("replaced by input 'axis'"));

  OneNode length("DFT", 2, 1, 17);
  EXPECT_THAT(error_of([&] {
                length.run({f32({1, 4, 1}, {1, 2, 3, 4}), Tensor::scalar<int64_t>(0)});
              }),
              HasSubstr("expected >= 1"));
}

TEST(STFT, HannWindowedTwoSidedFrames) {
  OneNode n("STFT", std::vector<bool>{true, true, true, true}, 1, 17);
  n.attr("onesided", int64_t{0});
  auto out = n.run({f32({1, 6, 1}, {1, -1, 2, 0.5f, 3, -2}), Tensor::scalar<int64_t>(2),
                    f32({4}, {0, 0.5f, 1, 0.5f}), Tensor::scalar<int64_t>(4)});
  EXPECT_EQ(to_string(out[0].shape()), "[1,2,4,2]");
  expect_near(out[0], {1.75, 0, -2, 0.75, 2.25, 0, -2, -0.75, 2.25, 0, -3, -1.25, 3.75, 0, -3, 1.25}, 1e-6);
}

TEST(STFT, InfersFramesAndRejectsMismatchedWindow) {
  OneNode n("STFT", std::vector<bool>{true, true, true}, 1, 17);
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("batch"), 128, 1}))
      .constant(1, Tensor::scalar<int64_t>(8))
      .input(2, ElementType::f32, PartialShape({16}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[batch,15,9,2]");

  OneNode bad("STFT", 4, 1, 17);
  EXPECT_THAT(error_of([&] {
                bad.run({f32({1, 6, 1}, {1, 2, 3, 4, 5, 6}), Tensor::scalar<int64_t>(2), f32({3}, {1, 1, 1}),
                         Tensor::scalar<int64_t>(4)});
              }),
              HasSubstr("'window' has 3 values but frame_length is 4"));
}

TEST(Windows, PeriodicAndSymmetricValues) {
  OneNode hann("HannWindow", 1, 1, 17);
  expect_near(hann.run({Tensor::scalar<int32_t>(4)})[0], {0, 0.5, 1, 0.5}, 1e-7);

  OneNode hann_sym("HannWindow", 1, 1, 17);
  hann_sym.attr("periodic", int64_t{0});
  expect_near(hann_sym.run({Tensor::scalar<int64_t>(5)})[0], {0, 0.5, 1, 0.5, 0}, 1e-7);

  OneNode hamming("HammingWindow", 1, 1, 17);
  hamming.attr("periodic", int64_t{0}).attr("output_datatype", int64_t{11});
  auto out = hamming.run({Tensor::scalar<int32_t>(5)});
  ASSERT_EQ(out[0].type(), ElementType::f64);
  expect_near(out[0], {0.08695652, 0.5434783, 1, 0.5434783, 0.08695652}, 1e-7);

  OneNode blackman("BlackmanWindow", 1, 1, 17);
  expect_near(blackman.run({Tensor::scalar<int32_t>(4)})[0], {0, 0.34, 1, 0.34}, 1e-7);

  OneNode one("HannWindow", 1, 1, 17);
  one.attr("periodic", int64_t{0});
  expect_near(one.run({Tensor::scalar<int32_t>(1)})[0], {1}, 0);
}

TEST(Windows, InferShapeFromConstantSizeAndRejectBadInput) {
  OneNode n("BlackmanWindow", 1, 1, 17);
  n.attr("output_datatype", int64_t{10}).constant(0, Tensor::scalar<int64_t>(12));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::f16);
  EXPECT_EQ(n.out_shape(0), "[12]");

  OneNode dynamic("HannWindow", 1, 1, 17);
  dynamic.input(0, ElementType::i32, PartialShape(Shape{}));
  dynamic.infer();
  EXPECT_EQ(dynamic.out_shape(0), "[?]");

  OneNode negative("HannWindow", 1, 1, 17);
  EXPECT_THAT(error_of([&] { negative.run({Tensor::scalar<int32_t>(-1)}); }), HasSubstr("expected >= 0"));

  OneNode float_size("HannWindow", 1, 1, 17);
  float_size.input(0, ElementType::f32, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { float_size.infer(); }), HasSubstr("expected i32 or i64"));

  OneNode dtype("HannWindow", 1, 1, 17);
  dtype.attr("output_datatype", int64_t{18});
  EXPECT_THAT(error_of([&] { dtype.node->schema->validate(*dtype.node); }), HasSubstr("float8"));
}

TEST(MelWeightMatrix, TriangularFilters) {
  OneNode n("MelWeightMatrix", 5, 1, 17);
  auto out = n.run({Tensor::scalar<int32_t>(3), Tensor::scalar<int32_t>(32), Tensor::scalar<int32_t>(16000),
                    Tensor::scalar<float>(100), Tensor::scalar<float>(8000)});
  EXPECT_EQ(to_string(out[0].shape()), "[17,3]");
  std::vector<double> expected(51, 0.0);
  const std::vector<double> head = {0, 0,         0,         1, 0,         0,         0, 1, 0,
                                    0, 0.6666667, 0.3333333, 0, 0.3333333, 0.6666667, 0, 0, 1,
                                    0, 0,         0.75,      0, 0,         0.5,       0, 0, 0.25};
  std::copy(head.begin(), head.end(), expected.begin());
  expect_near(out[0], expected, 1e-6);
}

TEST(MelWeightMatrix, InfersShapeAndRejectsEdgesPastNyquist) {
  OneNode n("MelWeightMatrix", 5, 1, 17);
  n.constant(0, Tensor::scalar<int64_t>(8))
      .constant(1, Tensor::scalar<int64_t>(16))
      .input(2, ElementType::i64, PartialShape(Shape{}))
      .input(3, ElementType::f32, PartialShape(Shape{}))
      .input(4, ElementType::f32, PartialShape(Shape{}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[9,8]");

  OneNode bad("MelWeightMatrix", 5, 1, 17);
  EXPECT_THAT(
      error_of([&] {
        bad.run({Tensor::scalar<int32_t>(4), Tensor::scalar<int32_t>(16), Tensor::scalar<int32_t>(8000),
                 Tensor::scalar<float>(0), Tensor::scalar<float>(8000)});
      }),
      HasSubstr("maps past the last DFT bin"));
}

}  // namespace
}  // namespace sluice
