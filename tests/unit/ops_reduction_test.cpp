// Reduce*, ArgMax/ArgMin and TopK: reference kernels, shape inference and validation, through the
// operator registry on hand-built one-node graphs.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr float inf = std::numeric_limits<float>::infinity();

Tensor axes(std::initializer_list<int64_t> values) {
  return Tensor::from<int64_t>({static_cast<int64_t>(values.size())}, values);
}

const Tensor two_by_two = Tensor::from<float>({2, 2}, {1, 2, 3, 4});

// ---- Reduce* kernels ----

TEST(ReduceSum, AxesInputKeepDims) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  const auto out = n.run({two_by_two, axes({1})});
  EXPECT_EQ(out[0].shape(), (Shape{2, 1}));
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(3, 7));
}

TEST(ReduceSum, NegativeAxisWithoutKeepDims) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  n.node->attributes["keepdims"] = int64_t{0};
  const auto out = n.run({two_by_two, axes({-2})});
  EXPECT_EQ(out[0].shape(), (Shape{2}));
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(4, 6));
}

TEST(ReduceSum, NoAxesReducesEverything) {
  OneNode n("ReduceSum", {true, false}, 1, 13);
  const auto out = n.run({two_by_two, Tensor()});
  EXPECT_EQ(out[0].shape(), (Shape{1, 1}));
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(10));
}

TEST(ReduceSum, EmptyAxesWithNoopIsIdentity) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  n.node->attributes["noop_with_empty_axes"] = int64_t{1};
  const auto out = n.run({two_by_two, Tensor::from<int64_t>({0}, std::span<const int64_t>())});
  EXPECT_EQ(out[0].shape(), (Shape{2, 2}));
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(1, 2, 3, 4));
  EXPECT_NE(out[0].data(), two_by_two.data());
}

TEST(ReduceSum, AttributeAxesBeforeOpset13) {
  OneNode n("ReduceSum", {true}, 1, 11);
  n.node->attributes["axes"] = std::vector<int64_t>{-1};
  n.node->attributes["keepdims"] = int64_t{0};
  const auto out = n.run({two_by_two});
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(3, 7));
}

TEST(ReduceSum, Opset1RejectsNegativeAxes) {
  OneNode n("ReduceSum", {true}, 1, 1);
  n.node->attributes["axes"] = std::vector<int64_t>{-1};
  EXPECT_THAT(error_of([&] { n.run({two_by_two}); }), HasSubstr("axis -1 is negative"));
}

TEST(ReduceSum, IntegersAccumulateExactly) {
  OneNode n("ReduceSum", {true, false}, 1, 13);
  n.node->attributes["keepdims"] = int64_t{0};
  const Tensor x = Tensor::from<int64_t>({3}, {int64_t{1} << 60, 3, -(int64_t{1} << 60)});
  const auto out = n.run({x, Tensor()});
  EXPECT_EQ(out[0].shape(), Shape{});
  EXPECT_THAT(values_of<int64_t>(out[0]), ElementsAre(3));
}

TEST(ReduceMean, AllAxesFloat16) {
  OneNode n("ReduceMean", {true}, 1, 18);
  n.node->attributes["keepdims"] = int64_t{0};
  const Tensor x = Tensor::from<float16>({4}, {float16(0.1f), float16(0.2f), float16(0.3f), float16(0.4f)});
  const auto out = n.run({x});
  EXPECT_EQ(out[0].type(), ElementType::f16);
  EXPECT_NEAR(static_cast<float>(out[0].data<float16>()[0]), 0.25f, 1e-3f);
}

TEST(ReduceMean, IntegerMeanTruncates) {
  OneNode n("ReduceMean", {true, true}, 1, 18);
  const Tensor x = Tensor::from<int32_t>({2, 2}, {1, 2, 4, 7});
  const auto out = n.run({x, axes({1})});
  EXPECT_THAT(values_of<int32_t>(out[0]), ElementsAre(1, 5));
}

TEST(ReduceMean, IntegerMeanOfEmptySetIsAnError) {
  OneNode n("ReduceMean", {true, true}, 1, 18);
  const Tensor x(ElementType::i32, {2, 0});
  EXPECT_THAT(error_of([&] { n.run({x, axes({1})}); }), HasSubstr("not representable"));
}

TEST(ReduceLogSumExp, StableForLargeValues) {
  OneNode n("ReduceLogSumExp", {true, true}, 1, 18);
  n.node->attributes["keepdims"] = int64_t{0};
  const auto out = n.run({two_by_two, axes({0})});
  EXPECT_THAT(values_of<float>(out[0]),
              ElementsAre(::testing::FloatNear(3.126928f, 1e-5f), ::testing::FloatNear(4.126928f, 1e-5f)));
  const auto big = n.run({Tensor::from<float>({2, 1}, {1000, 1000}), axes({0})});
  EXPECT_NEAR(big[0].data<float>()[0], 1000.693147f, 1e-3f);
}

TEST(ReduceNorms, L1L2AndSumSquare) {
  const Tensor x = Tensor::from<float>({3}, {-1, 2, -3});
  OneNode l1("ReduceL1", {true}, 1, 18);
  EXPECT_THAT(values_of<float>(l1.run({x})[0]), ElementsAre(6));
  OneNode l2("ReduceL2", {true}, 1, 18);
  EXPECT_THAT(values_of<float>(l2.run({Tensor::from<float>({2}, {3, 4})})[0]), ElementsAre(5));
  OneNode ss("ReduceSumSquare", {true}, 1, 18);
  EXPECT_THAT(values_of<float>(ss.run({x})[0]), ElementsAre(14));
  OneNode ls("ReduceLogSum", {true}, 1, 18);
  EXPECT_NEAR(ls.run({Tensor::from<float>({2}, {1, 2})})[0].data<float>()[0], std::log(3.0f), 1e-6f);
}

TEST(ReduceProd, IntegersAndFloats) {
  OneNode n("ReduceProd", {true, true}, 1, 18);
  EXPECT_THAT(values_of<float>(n.run({two_by_two, axes({0})})[0]), ElementsAre(3, 8));
  const Tensor x = Tensor::from<uint8_t>({3}, {2, 3, 4});
  EXPECT_THAT(values_of<uint8_t>(n.run({x, Tensor()})[0]), ElementsAre(24));
}

TEST(ReduceMaxMin, NaNPropagates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from<float>({3}, {1, nan, 3});
  OneNode max("ReduceMax", {true}, 1, 18);
  EXPECT_TRUE(std::isnan(max.run({x})[0].data<float>()[0]));
  OneNode min("ReduceMin", {true}, 1, 18);
  EXPECT_TRUE(std::isnan(min.run({x})[0].data<float>()[0]));
}

TEST(ReduceMaxMin, BoolFromOpset20) {
  const Tensor x = Tensor::from<bool>({2, 2}, {true, false, false, false});
  OneNode max("ReduceMax", {true, true}, 1, 20);
  EXPECT_THAT(values_of<bool>(max.run({x, axes({1})})[0]), ElementsAre(true, false));
  OneNode min("ReduceMin", {true, true}, 1, 20);
  EXPECT_THAT(values_of<bool>(min.run({x, axes({0})})[0]), ElementsAre(false, false));
  OneNode old("ReduceMax", {true, true}, 1, 18);
  EXPECT_THAT(error_of([&] { old.run({x, axes({1})}); }), HasSubstr("opset 20"));
}

TEST(ReduceEmptySet, IdentityValues) {
  const Tensor x(ElementType::f32, {2, 0, 4});
  const std::vector<std::pair<std::string, float>> cases = {
      {"ReduceSum", 0.0f},    {"ReduceProd", 1.0f},      {"ReduceMax", -inf},
      {"ReduceMin", inf},     {"ReduceL1", 0.0f},        {"ReduceL2", 0.0f},
      {"ReduceLogSum", -inf}, {"ReduceLogSumExp", -inf}, {"ReduceSumSquare", 0.0f},
  };
  for (const auto& [op, identity] : cases) {
    OneNode n(op, {true, true}, 1, 18);
    const auto out = n.run({x, axes({1})});
    EXPECT_EQ(out[0].shape(), (Shape{2, 1, 4})) << op;
    EXPECT_THAT(values_of<float>(out[0]), ::testing::Each(identity)) << op;
  }
  OneNode mean("ReduceMean", {true, true}, 1, 18);
  EXPECT_TRUE(std::isnan(mean.run({x, axes({1})})[0].data<float>()[0]));
  OneNode max_int("ReduceMax", {true, true}, 1, 18);
  const auto ints = max_int.run({Tensor(ElementType::i8, {0, 2}), axes({0})});
  EXPECT_THAT(values_of<int8_t>(ints[0]), ElementsAre(-128, -128));
}

TEST(ReduceEmptySet, NonReducedAxisZero) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  const auto out = n.run({Tensor(ElementType::f32, {2, 0, 4}), axes({2})});
  EXPECT_EQ(out[0].shape(), (Shape{2, 0, 1}));
}

TEST(ReduceErrors, BadAxesAndTypes) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  EXPECT_THAT(error_of([&] { n.run({two_by_two, axes({2})}); }), HasSubstr("out of range"));
  EXPECT_THAT(error_of([&] { n.run({two_by_two, axes({1, -1})}); }), HasSubstr("listed twice"));
  EXPECT_THAT(error_of([&] {
                n.run({Tensor::from<bool>({1}, {true}), Tensor()});
              }),
              HasSubstr("expected a numeric type"));
  n.node->attributes["keepdims"] = int64_t{2};
  EXPECT_THAT(error_of([&] { n.run({two_by_two, axes({0})}); }), HasSubstr("'keepdims' is 2"));
  OneNode attr("ReduceMean", {true, true}, 1, 18);
  attr.node->attributes["axes"] = std::vector<int64_t>{0};
  EXPECT_THAT(error_of([&] { attr.run({two_by_two, axes({0})}); }), HasSubstr("second input"));
}

// ---- Reduce* shape inference ----

TEST(ReduceInfer, KeepsSymbolsOfKeptDims) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  n.node->attributes["keepdims"] = int64_t{0};
  n.input(0, ElementType::f32, PartialShape{Dimension::dynamic("batch"), 3, Dimension::dynamic("seq")});
  n.input(1, ElementType::i64, PartialShape{1}, axes({-1}));
  const graph::Value& out = n.infer();
  EXPECT_EQ(out.type, ElementType::f32);
  EXPECT_EQ(out.shape, (PartialShape{Dimension::dynamic("batch"), 3}));
}

TEST(ReduceInfer, UnknownAxesKeepRankWithKeepDims) {
  OneNode n("ReduceMax", {true, true}, 1, 18);
  n.input(0, ElementType::f32, PartialShape{2, 3});
  n.input(1, ElementType::i64, PartialShape{1});
  EXPECT_EQ(n.infer().shape, (PartialShape{Dimension(), Dimension()}));
}

TEST(ReduceInfer, AllAxesOfUnknownRankGiveAScalar) {
  OneNode n("ReduceL2", {true}, 1, 11);
  n.node->attributes["keepdims"] = int64_t{0};
  n.input(0, ElementType::f32, PartialShape::unknown_rank());
  EXPECT_EQ(n.infer().shape, PartialShape(Shape{}));
}

TEST(ReduceInfer, EmptyAxesShapeMeansNoop) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  n.node->attributes["noop_with_empty_axes"] = int64_t{1};
  n.input(0, ElementType::f32, PartialShape{Dimension::dynamic("n"), 4});
  n.input(1, ElementType::i64, PartialShape{0});
  EXPECT_EQ(n.infer().shape, (PartialShape{Dimension::dynamic("n"), 4}));
}

TEST(ReduceInfer, RejectsNonInt64Axes) {
  OneNode n("ReduceSum", {true, true}, 1, 13);
  n.input(0, ElementType::f32, PartialShape{2});
  n.input(1, ElementType::i32, PartialShape{1});
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("expected i64"));
}

// ---- ArgMax / ArgMin ----

TEST(ArgMax, KeepDimsAndTies) {
  const Tensor x = Tensor::from<float>({2, 2}, {2, 2, 3, 10});
  OneNode n("ArgMax", {true}, 1, 13);
  n.node->attributes["axis"] = int64_t{1};
  auto out = n.run({x});
  EXPECT_EQ(out[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(out[0].type(), ElementType::i64);
  EXPECT_THAT(values_of<int64_t>(out[0]), ElementsAre(0, 1));
  n.node->attributes["select_last_index"] = int64_t{1};
  EXPECT_THAT(values_of<int64_t>(n.run({x})[0]), ElementsAre(1, 1));
}

TEST(ArgMin, NegativeAxisNoKeepDims) {
  const Tensor x = Tensor::from<int32_t>({2, 3}, {5, 1, 9, -4, 7, -4});
  OneNode n("ArgMin", {true}, 1, 11);
  n.node->attributes["axis"] = int64_t{-1};
  n.node->attributes["keepdims"] = int64_t{0};
  const auto out = n.run({x});
  EXPECT_EQ(out[0].shape(), (Shape{2}));
  EXPECT_THAT(values_of<int64_t>(out[0]), ElementsAre(1, 0));
}

TEST(ArgMax, Errors) {
  OneNode v1("ArgMax", {true}, 1, 1);
  v1.node->attributes["axis"] = int64_t{-1};
  EXPECT_THAT(error_of([&] { v1.run({two_by_two}); }), HasSubstr("attribute 'axis' is -1"));
  OneNode n("ArgMax", {true}, 1, 13);
  EXPECT_THAT(error_of([&] { n.run({Tensor(ElementType::f32, {0, 2})}); }), HasSubstr("is empty"));
  n.node->attributes["axis"] = int64_t{2};
  EXPECT_THAT(error_of([&] { n.run({two_by_two}); }), HasSubstr("out of range"));
}

TEST(ArgMax, InferKeepsOtherDims) {
  OneNode n("ArgMax", {true}, 1, 13);
  n.node->attributes["axis"] = int64_t{1};
  n.node->attributes["keepdims"] = int64_t{0};
  n.input(0, ElementType::f16, PartialShape{Dimension::dynamic("b"), 5, 7});
  const graph::Value& out = n.infer();
  EXPECT_EQ(out.type, ElementType::i64);
  EXPECT_EQ(out.shape, (PartialShape{Dimension::dynamic("b"), 7}));
}

// ---- TopK ----

TEST(TopK, LargestAlongAxis1) {
  const Tensor x = Tensor::from<float>({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8});
  OneNode n("TopK", {true, true}, 2, 11);
  n.node->attributes["axis"] = int64_t{1};
  const auto out = n.run({x, Tensor::from<int64_t>({1}, {3})});
  EXPECT_EQ(out[0].shape(), (Shape{3, 3}));
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(3, 2, 1, 7, 6, 5, 11, 10, 9));
  EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(3, 2, 1, 3, 2, 1, 0, 1, 2));
}

TEST(TopK, SmallestAlongAxis0WithTies) {
  const Tensor x = Tensor::from<int32_t>({4, 2}, {3, 1, 1, 1, 2, 0, 1, 5});
  OneNode n("TopK", {true, true}, 2, 11);
  n.node->attributes["axis"] = int64_t{0};
  n.node->attributes["largest"] = int64_t{0};
  const auto out = n.run({x, Tensor::from<int64_t>({1}, {2})});
  EXPECT_THAT(values_of<int32_t>(out[0]), ElementsAre(1, 0, 1, 1));
  EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(1, 2, 3, 0));
}

TEST(TopK, Opset1TakesKAsAttribute) {
  OneNode n("TopK", {true}, 2, 1);
  n.node->attributes["k"] = int64_t{1};
  const auto out = n.run({Tensor::from<float>({2, 2}, {1, 5, 5, 1})});
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(5, 5));
  EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(1, 0));
}

TEST(TopK, Errors) {
  OneNode n("TopK", {true, true}, 2, 11);
  EXPECT_THAT(error_of([&] {
                n.run({two_by_two, Tensor::from<int64_t>({1}, {3})});
              }),
              HasSubstr("exceeds the extent 2"));
  EXPECT_THAT(error_of([&] {
                n.run({two_by_two, Tensor::from<int64_t>({1}, {-1})});
              }),
              HasSubstr("expected k >= 0"));
  EXPECT_THAT(error_of([&] {
                n.run({two_by_two, Tensor::from<int32_t>({1}, {1})});
              }),
              HasSubstr("expected i64"));
  OneNode v1("TopK", {true}, 2, 1);
  EXPECT_THAT(error_of([&] { v1.run({two_by_two}); }), HasSubstr("attribute 'k' is missing"));
}

TEST(TopK, InferWithConstantAndUnknownK) {
  OneNode n("TopK", {true, true}, 2, 11);
  n.input(0, ElementType::f32, PartialShape{Dimension::dynamic("b"), 10});
  n.input(1, ElementType::i64, PartialShape{1}, Tensor::from<int64_t>({1}, {4}));
  graph::infer_node(*n.node);
  EXPECT_EQ(n.node->outputs[0]->shape, (PartialShape{Dimension::dynamic("b"), 4}));
  EXPECT_EQ(n.node->outputs[1]->type, ElementType::i64);
  OneNode m("TopK", {true, true}, 2, 11);
  m.input(0, ElementType::f32, PartialShape{Dimension::dynamic("b"), 10});
  m.input(1, ElementType::i64, PartialShape{1});
  graph::infer_node(*m.node);
  EXPECT_EQ(m.node->outputs[1]->shape, (PartialShape{Dimension::dynamic("b"), Dimension()}));
}

}  // namespace
}  // namespace sluice
