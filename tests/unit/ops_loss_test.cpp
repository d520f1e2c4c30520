// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reference kernels, shape inference and
// validation, through the operator registry on hand-built one-node graphs. Expected values come from
// numpy (the ONNX reference formulas).
#include <cmath>
#include <string>
#include <vector>

#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;

// log_softmax of [[0.5, -1, 2], [1.5, 0.25, -0.75]] along axis 1.
const Tensor log_probs = Tensor::from<float>(
    {2, 3}, {-1.7413113f, -3.2413113f, -0.2413113f, -0.33067261f, -1.58067261f, -2.58067261f});
const Tensor scores = Tensor::from<float>({2, 3}, {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f});
const Tensor targets = Tensor::from<int64_t>({2}, {2, 0});
const Tensor weights = Tensor::from<float>({3}, {0.2f, 0.3f, 0.5f});

TEST(NegativeLogLikelihoodLoss, ReductionNone) {
  OneNode n("NegativeLogLikelihoodLoss", {true, true}, 1, 13);
  n.node->attributes["reduction"] = std::string("none");
  const auto out = n.run({log_probs, targets});
  EXPECT_EQ(out[0].shape(), (Shape{2}));
  EXPECT_THAT(values_of<float>(out[0]),
              ElementsAre(FloatNear(0.2413113f, 1e-6f), FloatNear(0.33067261f, 1e-6f)));
}

TEST(NegativeLogLikelihoodLoss, WeightedMeanAndSum) {
  OneNode mean("NegativeLogLikelihoodLoss", {true, true, true}, 1, 13);
  const auto m = mean.run({log_probs, targets, weights});
  EXPECT_EQ(m[0].shape(), Shape{});
  EXPECT_NEAR(m[0].data<float>()[0], 0.2668431f, 1e-6f);
  OneNode sum("NegativeLogLikelihoodLoss", {true, true, true}, 1, 13);
  sum.node->attributes["reduction"] = std::string("sum");
  EXPECT_NEAR(sum.run({log_probs, targets, weights})[0].data<float>()[0], 0.18679017f, 1e-6f);
}

TEST(NegativeLogLikelihoodLoss, IgnoreIndexOutsideTheClasses) {
  OneNode n("NegativeLogLikelihoodLoss", {true, true}, 1, 13);
  n.node->attributes["ignore_index"] = int64_t{-1};
  const auto out = n.run({log_probs, Tensor::from<int32_t>({2}, {-1, 0})});
  EXPECT_NEAR(out[0].data<float>()[0], 0.33067261f, 1e-6f);  // the mean over the one counted element
}

TEST(NegativeLogLikelihoodLoss, SpatialDimensions) {
  // input (N=1, C=2, d1=2): the loss picks input[0, target[0, d], d].
  OneNode n("NegativeLogLikelihoodLoss", {true, true}, 1, 13);
  n.node->attributes["reduction"] = std::string("none");
  const Tensor input = Tensor::from<double>({1, 2, 2}, {-1, -2, -3, -4});
  const auto out = n.run({input, Tensor::from<int64_t>({1, 2}, {1, 0})});
  EXPECT_EQ(out[0].shape(), (Shape{1, 2}));
  EXPECT_THAT(values_of<double>(out[0]), ElementsAre(3, 2));
}

TEST(NegativeLogLikelihoodLoss, Errors) {
  OneNode n("NegativeLogLikelihoodLoss", {true, true}, 1, 13);
  EXPECT_THAT(error_of([&] {
                n.run({log_probs, Tensor::from<int64_t>({2}, {3, 0})});
              }),
              HasSubstr("holds class 3"));
  EXPECT_THAT(error_of([&] {
                n.run({log_probs, Tensor::from<int64_t>({3}, {0, 0, 0})});
              }),
              HasSubstr("expected [2]"));
  n.node->attributes["reduction"] = std::string("average");
  EXPECT_THAT(error_of([&] { n.run({log_probs, targets}); }), HasSubstr("'reduction' is 'average'"));
}

TEST(SoftmaxCrossEntropyLoss, MeanWithLogProb) {
  OneNode n("SoftmaxCrossEntropyLoss", {true, true}, 2, 13);
  const auto out = n.run({scores, targets});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NEAR(out[0].data<float>()[0], (0.2413113f + 0.33067261f) / 2, 1e-6f);
  EXPECT_EQ(out[1].shape(), (Shape{2, 3}));
  EXPECT_NEAR(out[1].data<float>()[1], -3.2413113f, 1e-6f);
}

TEST(SoftmaxCrossEntropyLoss, WeightsAndIgnoreIndex) {
  OneNode n("SoftmaxCrossEntropyLoss", {true, true, true}, 1, 13);
  n.node->attributes["ignore_index"] = int64_t{0};
  const auto out = n.run({scores, targets, weights});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].data<float>()[0], 0.2413113f, 1e-6f);  // 0.5 * 0.2413 / 0.5
}

TEST(LossInfer, ShapesAndSymbols) {
  OneNode none("NegativeLogLikelihoodLoss", {true, true}, 1, 13);
  none.node->attributes["reduction"] = std::string("none");
  none.input(0, ElementType::f32, PartialShape{Dimension::dynamic("n"), 5, 7});
  none.input(1, ElementType::i64, PartialShape{Dimension(), 7});
  graph::infer_node(*none.node);
  EXPECT_EQ(none.node->outputs[0]->shape, (PartialShape{Dimension::dynamic("n"), 7}));

  OneNode sce("SoftmaxCrossEntropyLoss", {true, true}, 2, 13);
  sce.input(0, ElementType::f16, PartialShape{4, 5});
  sce.input(1, ElementType::i32, PartialShape{4});
  graph::infer_node(*sce.node);
  EXPECT_EQ(sce.node->outputs[0]->shape, PartialShape(Shape{}));
  EXPECT_EQ(sce.node->outputs[0]->type, ElementType::f16);
  EXPECT_EQ(sce.node->outputs[1]->shape, (PartialShape{4, 5}));

  OneNode bad("SoftmaxCrossEntropyLoss", {true, true, true}, 1, 13);
  bad.input(0, ElementType::f32, PartialShape{4, 5});
  bad.input(1, ElementType::i64, PartialShape{3});
  bad.input(2, ElementType::f32, PartialShape{5});
  EXPECT_THAT(error_of([&] { graph::infer_node(*bad.node); }), HasSubstr("does not match"));
  bad.input(1, ElementType::f32, PartialShape{4});
  EXPECT_THAT(error_of([&] { graph::infer_node(*bad.node); }), HasSubstr("expected i32 or i64"));
  bad.input(1, ElementType::i64, PartialShape{4});
  bad.input(2, ElementType::f32, PartialShape{6});
  EXPECT_THAT(error_of([&] { graph::infer_node(*bad.node); }), HasSubstr("class dimension"));
}

}  // namespace
}  // namespace sluice
