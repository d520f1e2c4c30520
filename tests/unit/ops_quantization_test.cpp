// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger and
// QLinearConv: reference kernels, shape inference and validation on one-node graphs. Expected values are
// worked by hand or with numpy (the ONNX reference formulas).
#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- QuantizeLinear -----------------------------------------------------------------------------

TEST(QuantizeLinear, PerTensorRoundsHalfToEvenAndSaturates) {
  OneNode n("QuantizeLinear", 3, 1, 13);
  auto out = n.run({Tensor::from<float>({8}, {0, 1, 2.5f, 3.5f, -1, 1000, -1000, -2.5f}),
                    Tensor::scalar<float>(1), Tensor::scalar<uint8_t>(128)});
  ASSERT_EQ(out[0].type(), ElementType::u8);
  EXPECT_THAT(values_of<uint8_t>(out[0]), ElementsAre(128, 129, 130, 132, 127, 255, 0, 126));
}

TEST(QuantizeLinear, PerAxisInt8) {
  OneNode n("QuantizeLinear", 3, 1, 13);
  n.attr("axis", int64_t{1});
  auto out = n.run({Tensor::from<float>({2, 3}, {-4, 5, 10, 3.3f, -6, 100}),
                    Tensor::from<float>({3}, {1, 2, 4}), Tensor::from<int8_t>({3}, {0, 1, -1})});
  EXPECT_THAT(values_of<int8_t>(out[0]), ElementsAre(-4, 3, 1, 3, -2, 24));
}

TEST(QuantizeLinear, BlockedWithOutputDtypeInt16) {
  OneNode n("QuantizeLinear", 2, 1, 21);
  n.attr("axis", int64_t{1}).attr("block_size", int64_t{2}).attr("output_dtype", int64_t{5});
  auto out = n.run({Tensor::from<float>({2, 4}, {1, 2, 3, 4, -10, -20, 300000, 5}),
                    Tensor::from<float>({2, 2}, {1, 0.5f, 2, 0.01f})});
  ASSERT_EQ(out[0].type(), ElementType::i16);
  EXPECT_THAT(values_of<int16_t>(out[0]), ElementsAre(1, 2, 6, 8, -5, -10, 32767, 500));
}

TEST(QuantizeLinear, Float16InputDefaultsToUint8) {
  OneNode n("QuantizeLinear", 2, 1, 19);
  auto out = n.run({Tensor::from<float16>({3}, {float16(1.5f), float16(2.5f), float16(-7.0f)}),
                    Tensor::scalar<float16>(float16(1.0f))});
  ASSERT_EQ(out[0].type(), ElementType::u8);
  EXPECT_THAT(values_of<uint8_t>(out[0]), ElementsAre(2, 2, 0));
}

TEST(QuantizeLinear, InfersTypeFromZeroPointAndKeepsSymbols) {
  OneNode n("QuantizeLinear", 3, 1, 13);
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("batch"), 3}))
      .input(1, ElementType::f32, PartialShape({3}))
      .input(2, ElementType::i8, PartialShape({3}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::i8);
  EXPECT_EQ(n.out_shape(0), "[batch,3]");

  OneNode m("QuantizeLinear", 2, 1, 21);
  m.attr("output_dtype", int64_t{4});
  m.input(0, ElementType::f32, PartialShape::unknown_rank())
      .input(1, ElementType::f32, PartialShape(Shape{}));
  m.infer();
  EXPECT_EQ(m.out_type(0), ElementType::u16);
}

TEST(QuantizeLinear, RejectsBadInput) {
  OneNode per_axis_v10("QuantizeLinear", 2, 1, 10);
  EXPECT_THAT(
      error_of([&] {
        per_axis_v10.run({Tensor::from<float>({2, 2}, {1, 2, 3, 4}), Tensor::from<float>({2}, {1, 2})});
      }),
      HasSubstr("only allows per-tensor quantization"));

  OneNode axis_v10("QuantizeLinear", 2, 1, 10);
  axis_v10.attr("axis", int64_t{0});
  EXPECT_THAT(error_of([&] {
                axis_v10.run({Tensor::from<float>({1}, {1}), Tensor::scalar<float>(1)});
              }),
              HasSubstr("attribute 'axis' needs opset 13"));

  OneNode float4("QuantizeLinear", 2, 1, 21);
  float4.attr("output_dtype", int64_t{23});
  EXPECT_THAT(error_of([&] {
                float4.run({Tensor::from<float>({1}, {1}), Tensor::scalar<float>(1)});
              }),
              HasSubstr("FLOAT4E2M1"));

  OneNode mismatch("QuantizeLinear", 3, 1, 21);
  mismatch.attr("output_dtype", int64_t{3});
  EXPECT_THAT(
      error_of([&] {
        mismatch.run({Tensor::from<float>({1}, {1}), Tensor::scalar<float>(1), Tensor::scalar<uint8_t>(0)});
      }),
      HasSubstr("they must agree"));

  OneNode blocked("QuantizeLinear", 2, 1, 21);
  blocked.attr("axis", int64_t{1}).attr("block_size", int64_t{2});
  EXPECT_THAT(error_of([&] {
                blocked.run({Tensor::from<float>({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}),
                             Tensor::from<float>({2, 3}, {1, 1, 1, 1, 1, 1})});
              }),
              HasSubstr("expected [2,2]"));

  OneNode int16_v19("QuantizeLinear", 3, 1, 19);
  EXPECT_THAT(
      error_of([&] {
        int16_v19.run({Tensor::from<float>({1}, {1}), Tensor::scalar<float>(1), Tensor::scalar<int16_t>(0)});
      }),
      HasSubstr("expected u8, i8 or a float8 type"));
}

// ---- DequantizeLinear ---------------------------------------------------------------------------

TEST(DequantizeLinear, PerAxisUint8) {
  OneNode n("DequantizeLinear", 3, 1, 13);
  n.attr("axis", int64_t{0});
  auto out = n.run({Tensor::from<uint8_t>({2, 2}, {10, 20, 30, 40}), Tensor::from<float>({2}, {0.5f, 2}),
                    Tensor::from<uint8_t>({2}, {10, 0})});
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(0.0f, 5.0f, 60.0f, 80.0f));
}

TEST(DequantizeLinear, Int32WithoutZeroPoint) {
  OneNode n("DequantizeLinear", 2, 1, 10);
  auto out = n.run({Tensor::from<int32_t>({2}, {-3, 7}), Tensor::scalar<float>(0.25f)});
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(-0.75f, 1.75f));
}

TEST(DequantizeLinear, Float16ScaleGivesFloat16) {
  OneNode n("DequantizeLinear", 3, 1, 19);
  auto out = n.run({Tensor::from<int8_t>({2}, {-128, 127}), Tensor::scalar<float16>(float16(0.5f)),
                    Tensor::scalar<int8_t>(-1)});
  ASSERT_EQ(out[0].type(), ElementType::f16);
  ops_test::expect_near(out[0], {-63.5, 64.0}, 0.0);
}

TEST(DequantizeLinear, BlockedInt16WithRemainderBlock) {
  OneNode n("DequantizeLinear", 3, 1, 21);
  n.attr("axis", int64_t{1}).attr("block_size", int64_t{3});
  auto out = n.run({Tensor::from<int16_t>({1, 4}, {100, 200, 300, 400}),
                    Tensor::from<float>({1, 2}, {0.1f, 1}), Tensor::from<int16_t>({1, 2}, {0, 100})});
  ops_test::expect_near(out[0], {10, 20, 30, 300}, 1e-5);
}

TEST(DequantizeLinear, InfersScaleTypeAndRejectsMismatchedZeroPoint) {
  OneNode n("DequantizeLinear", 2, 1, 19);
  n.input(0, ElementType::u8, PartialShape({Dimension(), 4}))
      .input(1, ElementType::f16, PartialShape(Shape{}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::f16);
  EXPECT_EQ(n.out_shape(0), "[?,4]");

  OneNode bad("DequantizeLinear", 3, 1, 13);
  bad.input(0, ElementType::u8, PartialShape({4}))
      .input(1, ElementType::f32, PartialShape(Shape{}))
      .input(2, ElementType::i8, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("expected x's type u8"));

  OneNode axis("DequantizeLinear", 2, 1, 13);
  axis.input(0, ElementType::u8, PartialShape({2, 3})).input(1, ElementType::f32, PartialShape({2}));
  EXPECT_THAT(error_of([&] { axis.infer(); }), HasSubstr("expected [3]"));
}

// ---- DynamicQuantizeLinear ----------------------------------------------------------------------

TEST(DynamicQuantizeLinear, MatchesTheOnnxExample) {
  OneNode n("DynamicQuantizeLinear", 1, 3, 11);
  auto out = n.run({Tensor::from<float>({6}, {0, 2, -3, -2.5f, 1.34f, 0.5f})});
  EXPECT_THAT(values_of<uint8_t>(out[0]), ElementsAre(153, 255, 0, 26, 221, 179));
  EXPECT_FLOAT_EQ(values_of<float>(out[1])[0], 0.019607844f);
  EXPECT_EQ(values_of<uint8_t>(out[2])[0], 153);
}

TEST(DynamicQuantizeLinear, AllZerosUsesScaleOne) {
  OneNode n("DynamicQuantizeLinear", 1, 3, 11);
  auto out = n.run({Tensor::from<float>({2}, {0, 0})});
  EXPECT_THAT(values_of<uint8_t>(out[0]), ElementsAre(0, 0));
  EXPECT_EQ(values_of<float>(out[1])[0], 1.0f);
}

TEST(DynamicQuantizeLinear, InfersScalarsAndRejectsNonFinite) {
  OneNode n("DynamicQuantizeLinear", 1, 3, 11);
  n.input(0, ElementType::f32, PartialShape({2, Dimension()}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[2,?]");
  EXPECT_EQ(n.out_type(1), ElementType::f32);
  EXPECT_EQ(n.out_shape(1), "[]");
  EXPECT_EQ(n.out_type(2), ElementType::u8);
  EXPECT_THAT(error_of([&] { n.run({Tensor::from<float>({1}, {std::nanf("")})}); }), HasSubstr("non-finite"));
}

// ---- MatMulInteger and QLinearMatMul ------------------------------------------------------------

TEST(MatMulInteger, PerRowAndScalarZeroPoints) {
  OneNode n("MatMulInteger", 4, 1, 10);
  auto out = n.run({Tensor::from<uint8_t>({2, 3}, {11, 7, 3, 10, 6, 2}),
                    Tensor::from<int8_t>({3, 2}, {1, -4, 2, 5, -3, 6}), Tensor::from<uint8_t>({2}, {1, 2}),
                    Tensor::scalar<int8_t>(-1)});
  ASSERT_EQ(out[0].type(), ElementType::i32);
  EXPECT_THAT(values_of<int32_t>(out[0]), ElementsAre(34, 20, 28, 0));
}

TEST(MatMulInteger, BroadcastsBatchesWithPerColumnZeroPoint) {
  OneNode n("MatMulInteger", std::vector<bool>{true, true, false, true}, 1, 10);
  std::vector<uint8_t> a(12);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i);
  auto out = n.run({Tensor::from<uint8_t>({2, 2, 3}, std::span<const uint8_t>(a)),
                    Tensor::from<uint8_t>({3, 2}, {1, 2, 3, 4, 5, 6}), Tensor(),
                    Tensor::from<uint8_t>({2}, {1, 2})});
  EXPECT_EQ(to_string(out[0].shape()), "[2,2,2]");
  EXPECT_THAT(values_of<int32_t>(out[0]), ElementsAre(10, 10, 28, 28, 46, 46, 64, 64));
}

TEST(MatMulInteger, InfersShapesAndRejectsMismatches) {
  OneNode n("MatMulInteger", 2, 1, 10);
  n.input(0, ElementType::u8, PartialShape({Dimension::dynamic("b"), 4, 3}))
      .input(1, ElementType::i8, PartialShape({3}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::i32);
  EXPECT_EQ(n.out_shape(0), "[b,4]");

  OneNode inner("MatMulInteger", 2, 1, 10);
  inner.input(0, ElementType::u8, PartialShape({4, 3})).input(1, ElementType::u8, PartialShape({2, 5}));
  EXPECT_THAT(error_of([&] { inner.infer(); }), HasSubstr("inner dimensions differ"));

  OneNode zp("MatMulInteger", 3, 1, 10);
  EXPECT_THAT(error_of([&] {
                zp.run({Tensor::from<uint8_t>({2, 2}, {1, 2, 3, 4}),
                        Tensor::from<uint8_t>({2, 2}, {1, 2, 3, 4}), Tensor::from<uint8_t>({3}, {1, 2, 3})});
              }),
              HasSubstr("one value per row"));
}

TEST(QLinearMatMul, MatchesTheOnnxUint8Example) {
  OneNode n("QLinearMatMul", 8, 1, 10);
  auto out = n.run({Tensor::from<uint8_t>({2, 4}, {208, 236, 0, 238, 3, 214, 255, 29}),
                    Tensor::from<float>({1}, {0.0066f}), Tensor::from<uint8_t>({1}, {113}),
                    Tensor::from<uint8_t>({4, 3}, {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247}),
                    Tensor::from<float>({1}, {0.00705f}), Tensor::from<uint8_t>({1}, {114}),
                    Tensor::from<float>({1}, {0.0107f}), Tensor::from<uint8_t>({1}, {118})});
  EXPECT_THAT(values_of<uint8_t>(out[0]), ElementsAre(168, 115, 255, 1, 66, 151));
}

// The ONNX int8 conformance data wraps -236 to 20 (onnx/onnx#6169); the specification saturates.
TEST(QLinearMatMul, SaturatesInt8Overflow) {
  OneNode n("QLinearMatMul", 8, 1, 21);
  auto out = n.run({Tensor::from<int8_t>({2, 4}, {81, 109, -127, 111, -124, 87, -128, -98}),
                    Tensor::from<float>({1}, {0.0066f}), Tensor::from<int8_t>({1}, {-14}),
                    Tensor::from<int8_t>({4, 3}, {25, -76, 117, -67, -101, -128, -127, 0, 119, 0, 127, 120}),
                    Tensor::from<float>({1}, {0.00705f}), Tensor::from<int8_t>({1}, {-13}),
                    Tensor::from<float>({1}, {0.0107f}), Tensor::from<int8_t>({1}, {-9})});
  EXPECT_THAT(values_of<int8_t>(out[0]), ElementsAre(41, -12, -9, 1, -75, -128));
}

TEST(QLinearMatMul, InfersOutputTypeAndChecksScaleTypes) {
  OneNode n("QLinearMatMul", 8, 1, 10);
  const ElementType types[] = {ElementType::i8,  ElementType::f32, ElementType::i8,  ElementType::i8,
                               ElementType::f32, ElementType::i8,  ElementType::f32, ElementType::u8};
  for (size_t i = 0; i < 8; ++i)
    n.input(i, types[i], i == 0 ? PartialShape({3, 4}) : i == 3 ? PartialShape({4, 2}) : PartialShape({1}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::u8);
  EXPECT_EQ(n.out_shape(0), "[3,2]");
  n.input(1, ElementType::f16, PartialShape({1}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("'a_scale' is f16; expected f32"));
}

// ---- ConvInteger and QLinearConv ----------------------------------------------------------------

TEST(ConvInteger, PaddedWithZeroPoint) {
  OneNode n("ConvInteger", 3, 1, 10);
  n.attr("pads", std::vector<int64_t>{1, 1, 1, 1});
  auto out = n.run({Tensor::from<uint8_t>({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10}),
                    Tensor::from<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1}), Tensor::scalar<uint8_t>(1)});
  ASSERT_EQ(out[0].type(), ElementType::i32);
  EXPECT_EQ(to_string(out[0].shape()), "[1,1,4,4]");
  EXPECT_THAT(values_of<int32_t>(out[0]),
              ElementsAre(1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9));
}

TEST(ConvInteger, InfersGroupedStridedShape) {
  OneNode n("ConvInteger", 2, 1, 10);
  n.attr("group", int64_t{2})
      .attr("strides", std::vector<int64_t>{1, 2})
      .attr("pads", std::vector<int64_t>{1, 1, 1, 1});
  n.input(0, ElementType::u8, PartialShape({Dimension::dynamic("n"), 2, Dimension(), 10}))
      .input(1, ElementType::i8, PartialShape({4, 1, 3, 3}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::i32);
  EXPECT_EQ(n.out_shape(0), "[n,4,?,5]");

  OneNode bad("ConvInteger", 2, 1, 10);
  bad.input(0, ElementType::u8, PartialShape({1, 3, 5, 5}))
      .input(1, ElementType::u8, PartialShape({4, 2, 3, 3}));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("x has 3 channels"));

  OneNode pad("ConvInteger", 2, 1, 10);
  pad.attr("auto_pad", std::string("SAME"));
  EXPECT_THAT(error_of([&] { pad.node->schema->validate(*pad.node); }), HasSubstr("auto_pad"));
}

TEST(QLinearConv, GroupedPerChannelWithBias) {
  OneNode n("QLinearConv", 9, 1, 10);
  n.attr("group", int64_t{2});
  std::vector<uint8_t> x(18);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i * 10);
  auto out = n.run(
      {Tensor::from<uint8_t>({1, 2, 3, 3}, std::span<const uint8_t>(x)), Tensor::scalar<float>(0.05f),
       Tensor::scalar<uint8_t>(20), Tensor::from<int8_t>({2, 1, 2, 2}, {1, -2, 3, 4, -1, 2, 0, 5}),
       Tensor::from<float>({2}, {0.1f, 0.02f}), Tensor::from<int8_t>({2}, {0, 1}),
       Tensor::scalar<float>(0.3f), Tensor::scalar<uint8_t>(100), Tensor::from<int32_t>({2}, {5, -40})});
  EXPECT_EQ(to_string(out[0].shape()), "[1,2,2,2]");
  EXPECT_THAT(values_of<uint8_t>(out[0]), ElementsAre(102, 103, 105, 106, 101, 101, 101, 101));
}

TEST(QLinearConv, RejectsPerChannelScaleOfWrongLength) {
  OneNode n("QLinearConv", 8, 1, 10);
  EXPECT_THAT(error_of([&] {
                n.run({Tensor::from<uint8_t>({1, 1, 2, 2}, {1, 2, 3, 4}), Tensor::scalar<float>(1),
                       Tensor::scalar<uint8_t>(0), Tensor::from<uint8_t>({2, 1, 1, 1}, {1, 1}),
                       Tensor::from<float>({3}, {1, 1, 1}), Tensor::scalar<uint8_t>(0),
                       Tensor::scalar<float>(1), Tensor::scalar<uint8_t>(0)});
              }),
              HasSubstr("one value per output channel (2)"));
}

}  // namespace
}  // namespace sluice
