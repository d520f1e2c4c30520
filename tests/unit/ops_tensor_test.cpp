// The tensor-manipulation operators (src/ops/tensor_*.cpp): reference kernels, shape inference with
// partial and symbolic shapes, and validation, through the operator registry on hand-built one-node
// graphs. Expected values are worked out by hand or with numpy (noted where so).
#include <climits>
#include <string>
#include <vector>

#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor ints(std::initializer_list<int64_t> values) {
  return Tensor::from<int64_t>({static_cast<int64_t>(values.size())}, values);
}

Tensor floats(Shape shape, std::initializer_list<float> values) {
  return Tensor::from<float>(std::move(shape), values);
}

// 0, 1, 2, ... as f32 of the given shape.
Tensor iota(Shape shape) {
  Tensor t(ElementType::f32, std::move(shape));
  auto v = t.values<float>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return t;
}

Dimension sym(const std::string& s) { return Dimension::dynamic(s); }

// ------------------------------------------------------------------------------------------ view ops

TEST(TensorOps, ReshapeCopiesZerosInfersMinusOneAndSharesMemory) {
  OneNode n("Reshape", 2, 1, 21);
  const Tensor x = iota({2, 3, 4});
  const Tensor y = n.run1({x, ints({0, -1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(y.data(), x.data());
}

TEST(TensorOps, ReshapeAllowzeroKeepsLiteralZero) {
  OneNode n("Reshape", 2, 1, 14);
  n.attr("allowzero", int64_t{1});
  EXPECT_EQ(n.run1({Tensor(ElementType::f32, {0, 3}), ints({3, 0})}).shape(), (Shape{3, 0}));
  EXPECT_THAT(error_of([&] {
                n.run1({Tensor(ElementType::f32, {0, 3}), ints({0, -1})});
              }),
              HasSubstr("may not hold both 0 and -1"));
}

TEST(TensorOps, ReshapeErrors) {
  OneNode n("Reshape", 2, 1, 13);
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 3}), ints({4, 2})}); }), HasSubstr("cannot reshape [2,3]"));
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 3}), ints({-1, -1})}); }), HasSubstr("-1 more than once"));
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 3}), ints({0, 0, 0})}); }), HasSubstr("copies dimension 2"));
}

TEST(TensorOps, ReshapeV1TakesShapeAttribute) {
  OneNode n("Reshape", 1, 1, 1);
  n.attr("shape", std::vector<int64_t>{3, -1});
  EXPECT_EQ(n.run1({iota({2, 3})}).shape(), (Shape{3, 2}));
}

TEST(TensorOps, ReshapeInfersSymbolicShapes) {
  {
    OneNode n("Reshape", 2, 1, 21);
    n.input(0, ElementType::f32, PartialShape{sym("batch"), 3, 4}).constant(1, ints({0, -1}));
    EXPECT_EQ(n.infer().shape, (PartialShape{sym("batch"), 12}));
  }
  {  // The symbols cancel: [batch, seq, 8] -> [-1, 4] * ... stays dynamic; [batch, seq, 8] -> [batch, seq, 2,
     // -1]
    OneNode n("Reshape", 2, 1, 21);
    n.input(0, ElementType::f32, PartialShape{sym("b"), sym("s"), 8}).constant(1, ints({0, 0, 2, -1}));
    EXPECT_EQ(n.infer().shape, (PartialShape{sym("b"), sym("s"), 2, 4}));
  }
  {
    OneNode n("Reshape", 2, 1, 21);
    n.input(0, ElementType::f32, PartialShape{sym("b"), 6}).constant(1, ints({-1, 3}));
    EXPECT_EQ(n.infer().shape, (PartialShape{Dimension::dynamic(), 3}));
  }
  {  // A non-constant target of known length gives the rank.
    OneNode n("Reshape", 2, 1, 21);
    n.input(0, ElementType::f32, PartialShape{2, 6}).input(1, ElementType::i64, PartialShape{3});
    EXPECT_EQ(n.infer().shape.rank(), 3);
  }
}

TEST(TensorOps, FlattenKeepsSymbolsWhereItCan) {
  OneNode n("Flatten", 1, 1, 21);
  n.attr("axis", int64_t{-2});
  EXPECT_EQ(n.run1({iota({2, 3, 4, 5})}).shape(), (Shape{6, 20}));
  n.input(0, ElementType::f32, PartialShape{sym("batch"), 3, 4});
  n.attr("axis", int64_t{1});
  EXPECT_EQ(n.infer().shape, (PartialShape{sym("batch"), 12}));
  n.attr("axis", int64_t{0});
  EXPECT_EQ(n.run1({iota({2, 3})}).shape(), (Shape{1, 6}));
  n.attr("axis", int64_t{4});
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 3})}); }), HasSubstr("attribute 'axis' is 4"));
}

TEST(TensorOps, SqueezeAndUnsqueezeAcrossVersions) {
  {
    OneNode n("Squeeze", 1, 1, 11);
    n.attr("axes", std::vector<int64_t>{-1});
    EXPECT_EQ(n.run1({iota({1, 3, 1})}).shape(), (Shape{1, 3}));
  }
  {
    OneNode n("Squeeze", std::vector<bool>{true, false}, 1, 13);
    EXPECT_EQ(n.run1({iota({1, 3, 1}), Tensor()}).shape(), (Shape{3}));
    n.input(0, ElementType::f32, PartialShape{1, sym("n")});
    EXPECT_FALSE(n.infer().shape.rank_known());  // 'n' may or may not be 1
  }
  {
    OneNode n("Squeeze", 2, 1, 13);
    EXPECT_THAT(error_of([&] { n.run1({iota({2, 3}), ints({0})}); }), HasSubstr("cannot squeeze axis 0"));
    n.input(0, ElementType::f32, PartialShape{sym("n"), 1}).constant(1, ints({1}));
    EXPECT_EQ(n.infer().shape, (PartialShape{sym("n")}));
  }
  {
    OneNode n("Unsqueeze", 2, 1, 13);
    EXPECT_EQ(n.run1({iota({3, 4}), ints({0, -1})}).shape(), (Shape{1, 3, 4, 1}));
    EXPECT_THAT(error_of([&] { n.run1({iota({3}), ints({0, 0})}); }), HasSubstr("more than once"));
    n.input(0, ElementType::f32, PartialShape{sym("s"), 4}).constant(1, ints({1}));
    EXPECT_EQ(n.infer().shape, (PartialShape{sym("s"), 1, 4}));
  }
  {
    OneNode n("Unsqueeze", 1, 1, 1);
    n.attr("axes", std::vector<int64_t>{2, 0});
    EXPECT_EQ(n.run1({iota({3})}).shape(), (Shape{1, 3, 1}));
  }
}

TEST(TensorOps, IdentityAndDropoutInference) {
  const Tensor x = floats({3}, {1, -2, 3});
  EXPECT_EQ(OneNode("Identity", 1, 1, 21).run1({x}).data(), x.data());
  OneNode d("Dropout", std::vector<bool>{true, true}, 2, 13);
  const auto out = d.run({x, Tensor::scalar<float>(0.7f)});
  EXPECT_EQ(values_of<float>(out[0]), (std::vector<float>{1, -2, 3}));
  EXPECT_EQ(values_of<bool>(out[1]), (std::vector<bool>{true, true, true}));
  OneNode old("Dropout", 1, 2, 7);
  const auto old_out = old.run({x});
  EXPECT_EQ(old_out[1].type(), ElementType::f32);  // v7 masks have the data's type
  EXPECT_EQ(values_of<float>(old_out[1]), (std::vector<float>{1, 1, 1}));
}

TEST(TensorOps, DropoutTrainingFollowsNumpysSeededGenerator) {
  // numpy: np.random.seed(3); u = np.random.uniform(0, 1, 6) -> .551 .708 .291 .511 .893 .896;
  // keep u >= 0.5, scale 1 / (1 - 0.5).
  OneNode d("Dropout", 3, 2, 13);
  d.attr("seed", int64_t{3});
  const auto out =
      d.run({floats({6}, {1, 2, 3, 4, 5, 6}), Tensor::scalar<float>(0.5f), Tensor::scalar<bool>(true)});
  EXPECT_EQ(values_of<float>(out[0]), (std::vector<float>{2, 4, 0, 8, 10, 12}));
  EXPECT_EQ(values_of<bool>(out[1]), (std::vector<bool>{true, true, false, true, true, true}));
}

TEST(TensorOps, DropoutTrainingWithoutSeedIsRejected) {
  OneNode d("Dropout", 3, 1, 13);
  EXPECT_THAT(error_of([&] {
                d.run({floats({2}, {1, 2}), Tensor::scalar<float>(0.5f), Tensor::scalar<bool>(true)});
              }),
              HasSubstr("no 'seed' attribute"));
  // A ratio of 0 keeps everything, seed or not.
  EXPECT_EQ(values_of<float>(
                d.run({floats({2}, {1, 2}), Tensor::scalar<float>(0.0f), Tensor::scalar<bool>(true)})[0]),
            (std::vector<float>{1, 2}));
  OneNode v6("Dropout", 1, 1, 6);  // is_test defaults to 0: training
  EXPECT_THAT(error_of([&] { v6.run({floats({2}, {1, 2})}); }), HasSubstr("random results"));
  v6.attr("is_test", int64_t{1});
  EXPECT_EQ(values_of<float>(v6.run({floats({2}, {1, 2})})[0]), (std::vector<float>{1, 2}));
}

TEST(TensorOps, ConstantForms) {
  OneNode n("Constant", 0, 1, 13);
  n.attr("value_ints", std::vector<int64_t>{4, 5});
  const Tensor t = n.run1({});
  EXPECT_EQ(t.type(), ElementType::i64);
  EXPECT_EQ(values_of<int64_t>(t), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(n.infer().shape, (PartialShape{2}));
  OneNode f("Constant", 0, 1, 13);
  f.attr("value_float", 2.5f);
  EXPECT_EQ(f.run1({}).shape(), Shape{});
  OneNode s("Constant", 0, 1, 13);
  s.attr("value_string", std::string("x"));
  EXPECT_THAT(error_of([&] { s.run1({}); }), HasSubstr("string constants are not supported"));
  OneNode two("Constant", 0, 1, 13);
  two.attr("value_int", int64_t{1}).attr("value_float", 1.0f);
  EXPECT_THAT(error_of([&] { two.run1({}); }), HasSubstr("exactly one"));
}

TEST(TensorOps, ConstantOfShape) {
  OneNode n("ConstantOfShape", 1, 1, 9);
  n.attr("value", Tensor::from<int32_t>({1}, {7}));
  const Tensor t = n.run1({ints({2, 2})});
  EXPECT_EQ(t.type(), ElementType::i32);
  EXPECT_EQ(values_of<int32_t>(t), (std::vector<int32_t>{7, 7, 7, 7}));
  EXPECT_EQ(OneNode("ConstantOfShape", 1, 1, 9).run1({ints({})}).shape(), Shape{});
  EXPECT_THAT(error_of([&] { n.run1({ints({2, -1})}); }), HasSubstr("negative extent -1"));
  n.input(0, ElementType::i64, PartialShape{3});
  EXPECT_EQ(n.infer().shape.rank(), 3);
}

TEST(TensorOps, ShapeAndSize) {
  OneNode n("Shape", 1, 1, 15);
  n.attr("start", int64_t{-3}).attr("end", int64_t{-1});
  EXPECT_EQ(values_of<int64_t>(n.run1({iota({2, 3, 4, 5})})), (std::vector<int64_t>{3, 4}));
  n.input(0, ElementType::f32, PartialShape{sym("a"), 3, 4, 5});
  EXPECT_EQ(n.infer().shape, (PartialShape{2}));
  OneNode clip("Shape", 1, 1, 15);
  clip.attr("start", int64_t{-10}).attr("end", int64_t{10});
  EXPECT_EQ(values_of<int64_t>(clip.run1({iota({2, 3})})), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values_of<int64_t>(OneNode("Size", 1, 1, 13).run1({iota({2, 3})})), (std::vector<int64_t>{6}));
}

// ---------------------------------------------------------------------------------------- layout ops

TEST(TensorOps, TransposeDefaultAndPerm) {
  OneNode n("Transpose", 1, 1, 21);
  EXPECT_EQ(values_of<float>(n.run1({iota({2, 3})})), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  n.attr("perm", std::vector<int64_t>{1, 2, 0});
  const Tensor y = n.run1({iota({2, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{0, 2, 1, 3}));
  n.input(0, ElementType::f32, PartialShape{sym("b"), 1, 2});
  EXPECT_EQ(n.infer().shape, (PartialShape{1, 2, sym("b")}));
  n.attr("perm", std::vector<int64_t>{0, 0, 1});
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 1, 2})}); }), HasSubstr("not a permutation"));
}

TEST(TensorOps, ConcatValuesInferenceAndErrors) {
  OneNode n("Concat", 2, 1, 13);
  n.attr("axis", int64_t{-1});
  const Tensor y = n.run1({iota({2, 1}), floats({2, 2}, {7, 8, 9, 10})});
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{0, 7, 8, 1, 9, 10}));
  n.input(0, ElementType::f32, PartialShape{sym("b"), 1})
      .input(1, ElementType::f32, PartialShape{Dimension(), 2});
  EXPECT_EQ(n.infer().shape, (PartialShape{sym("b"), 3}));
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 1}), iota({3, 1})}); }), HasSubstr("only axis 1 may differ"));
  OneNode v1("Concat", 2, 1, 1);  // axis defaults to 1
  EXPECT_EQ(v1.run1({iota({1, 2}), iota({1, 1})}).shape(), (Shape{1, 3}));
}

TEST(TensorOps, SplitForms) {
  {
    OneNode n("Split", 1, 3, 18);
    n.attr("num_outputs", int64_t{3});
    const auto out = n.run({iota({5})});
    EXPECT_EQ(values_of<float>(out[0]), (std::vector<float>{0, 1}));
    EXPECT_EQ(values_of<float>(out[2]), (std::vector<float>{4}));
    n.input(0, ElementType::f32, PartialShape{5});
    EXPECT_EQ(n.infer(2).shape, (PartialShape{1}));
  }
  {
    OneNode n("Split", 2, 2, 13);
    n.attr("axis", int64_t{1});
    const auto out = n.run({iota({2, 3}), ints({1, 2})});
    EXPECT_EQ(values_of<float>(out[1]), (std::vector<float>{1, 2, 4, 5}));
    EXPECT_THAT(error_of([&] { n.run({iota({2, 3}), ints({1, 1})}); }), HasSubstr("add up to 2"));
  }
  {
    OneNode n("Split", 1, 2, 2);
    n.attr("split", std::vector<int64_t>{3, 1});
    EXPECT_EQ(n.run({iota({4})})[0].shape(), (Shape{3}));
    OneNode even("Split", 1, 2, 11);
    EXPECT_THAT(error_of([&] { even.run({iota({3})}); }),
                HasSubstr("cannot split extent 3 into 2 equal parts"));
  }
}

TEST(TensorOps, SliceStepsClampingAndVersions) {
  OneNode n("Slice", 5, 1, 13);
  EXPECT_EQ(values_of<float>(n.run1({iota({10}), ints({8}), ints({1}), ints({0}), ints({-3})})),
            (std::vector<float>{8, 5, 2}));
  EXPECT_EQ(values_of<float>(n.run1({iota({10}), ints({-2}), ints({INT64_MAX}), ints({0}), ints({1})})),
            (std::vector<float>{8, 9}));
  EXPECT_EQ(values_of<float>(n.run1({iota({4}), ints({10}), ints({-10}), ints({0}), ints({-1})})),
            (std::vector<float>{3, 2, 1, 0}));
  EXPECT_THAT(error_of([&] {
                n.run1({iota({4}), ints({0}), ints({1}), ints({0}), ints({0})});
              }),
              HasSubstr("non-zero step"));
  OneNode v1("Slice", 1, 1, 1);
  v1.attr("starts", std::vector<int64_t>{1})
      .attr("ends", std::vector<int64_t>{3})
      .attr("axes", std::vector<int64_t>{1});
  EXPECT_EQ(values_of<float>(v1.run1({iota({2, 4})})), (std::vector<float>{1, 2, 5, 6}));
  OneNode inf("Slice", std::vector<bool>{true, true, true, true, false}, 1, 13);
  inf.input(0, ElementType::f32, PartialShape{sym("b"), 10, sym("t")})
      .constant(1, ints({0, 2, 1}))
      .constant(2, ints({INT64_MAX, -1, 5}))
      .constant(3, ints({0, 1, 2}));
  EXPECT_EQ(inf.infer().shape, (PartialShape{sym("b"), 7, Dimension::dynamic()}));
}

TEST(TensorOps, TileAndExpand) {
  OneNode t("Tile", 2, 1, 13);
  EXPECT_EQ(values_of<float>(t.run1({iota({1, 2}), ints({2, 2})})),
            (std::vector<float>{0, 1, 0, 1, 0, 1, 0, 1}));
  OneNode t1("Tile", 3, 1, 1);
  EXPECT_EQ(t1.run1({iota({2, 1}), Tensor::scalar<int64_t>(3), Tensor::scalar<int64_t>(1)}).shape(),
            (Shape{2, 3}));
  OneNode e("Expand", 2, 1, 13);
  const Tensor y = e.run1({floats({3, 1}, {1, 2, 3}), ints({2, 1, 2})});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  e.input(0, ElementType::f32, PartialShape{3, 1}).input(1, ElementType::i64, PartialShape{3});
  EXPECT_EQ(e.infer().shape, (PartialShape{Dimension(), 3, Dimension()}));
  EXPECT_THAT(error_of([&] { e.run1({iota({3}), ints({2})}); }), HasSubstr("Expand"));
}

TEST(TensorOps, PadModes) {
  // numpy: np.pad([1,2,3,4], (3,2), mode) for reflect, wrap, edge.
  const Tensor x = floats({4}, {1, 2, 3, 4});
  auto pad = [&](const std::string& mode, int64_t opset) {
    OneNode n("Pad", 2, 1, opset);
    n.attr("mode", mode);
    return values_of<float>(n.run1({x, ints({3, 2})}));
  };
  EXPECT_EQ(pad("reflect", 19), (std::vector<float>{4, 3, 2, 1, 2, 3, 4, 3, 2}));
  EXPECT_EQ(pad("wrap", 19), (std::vector<float>{2, 3, 4, 1, 2, 3, 4, 1, 2}));
  EXPECT_EQ(pad("edge", 19), (std::vector<float>{1, 1, 1, 1, 2, 3, 4, 4, 4}));
  EXPECT_THAT(error_of([&] { pad("wrap", 18); }), HasSubstr("wrap needs opset 19"));
  OneNode c("Pad", 4, 1, 18);
  const Tensor y = c.run1({iota({2, 2}), ints({1, -1}), Tensor::scalar<float>(9.0f), ints({-1})});
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{9, 0, 9, 2}));
  OneNode v2("Pad", 1, 1, 2);
  v2.attr("pads", std::vector<int64_t>{0, 1, 0, 0}).attr("value", 5.0f);
  EXPECT_EQ(values_of<float>(v2.run1({iota({1, 2})})), (std::vector<float>{5, 0, 1}));
  c.input(0, ElementType::f32, PartialShape{sym("n"), 2}).constant(1, ints({0, 1, 0, 2}));
  c.node->inputs[2] = nullptr;
  c.node->inputs[3] = nullptr;
  c.node->inputs.resize(2);
  EXPECT_EQ(c.infer().shape, (PartialShape{sym("n"), 5}));
}

TEST(TensorOps, CenterCropPad) {
  OneNode n("CenterCropPad", 2, 1, 18);
  n.attr("axes", std::vector<int64_t>{-1});
  EXPECT_EQ(values_of<float>(n.run1({iota({1, 5}), ints({2})})), (std::vector<float>{1, 2}));
  EXPECT_EQ(values_of<float>(n.run1({floats({1, 2}, {1, 2}), ints({5})})),
            (std::vector<float>{0, 1, 2, 0, 0}));
}

// ----------------------------------------------------------------------------------------- index ops

TEST(TensorOps, GatherFamily) {
  OneNode g("Gather", 2, 1, 13);
  g.attr("axis", int64_t{1});
  const Tensor y = g.run1({iota({2, 3}), Tensor::from<int32_t>({2}, {-1, 0})});
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{2, 0, 5, 3}));
  EXPECT_THAT(error_of([&] { g.run1({iota({2, 3}), ints({3})}); }), HasSubstr("index 3, out of range"));
  g.input(0, ElementType::f32, PartialShape{sym("b"), 3}).input(1, ElementType::i64, PartialShape{4, 5});
  EXPECT_EQ(g.infer().shape, (PartialShape{sym("b"), 4, 5}));

  OneNode ge("GatherElements", 2, 1, 13);
  ge.attr("axis", int64_t{1});
  EXPECT_EQ(
      values_of<float>(ge.run1({floats({2, 2}, {1, 2, 3, 4}), Tensor::from<int64_t>({2, 2}, {0, 0, 1, 0})})),
      (std::vector<float>{1, 1, 4, 3}));

  // The batch_dims example of the ONNX spec.
  OneNode nd("GatherND", 2, 1, 13);
  nd.attr("batch_dims", int64_t{1});
  const Tensor z = nd.run1({iota({2, 2, 2}), Tensor::from<int64_t>({2, 1}, {1, 0})});
  EXPECT_EQ(z.shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of<float>(z), (std::vector<float>{2, 3, 4, 5}));
  OneNode nd0("GatherND", 2, 1, 11);
  EXPECT_EQ(values_of<float>(nd0.run1({iota({2, 2}), Tensor::from<int64_t>({2, 2}, {0, 0, 1, 1})})),
            (std::vector<float>{0, 3}));
}

TEST(TensorOps, ScatterReductionsByVersion) {
  OneNode se("ScatterElements", 3, 1, 18);
  se.attr("reduction", std::string("add")).attr("axis", int64_t{1});
  const Tensor y = se.run1(
      {floats({1, 5}, {1, 2, 3, 4, 5}), Tensor::from<int64_t>({1, 2}, {1, 1}), floats({1, 2}, {1.1f, 2.1f})});
  EXPECT_THAT(values_of<float>(y), ElementsAre(1, ::testing::FloatEq(5.2f), 3, 4, 5));
  OneNode old("ScatterElements", 3, 1, 16);
  old.attr("reduction", std::string("max"));
  EXPECT_THAT(error_of([&] { old.run1({iota({2}), ints({0}), iota({1})}); }), HasSubstr("need opset 18"));
  OneNode nd("ScatterND", 3, 1, 18);
  nd.attr("reduction", std::string("mul"));
  const Tensor z =
      nd.run1({floats({4}, {1, 2, 3, 4}), Tensor::from<int64_t>({2, 1}, {3, 3}), floats({2}, {2, 5})});
  EXPECT_EQ(values_of<float>(z), (std::vector<float>{1, 2, 3, 40}));
  OneNode legacy("Scatter", 3, 1, 10);
  EXPECT_EQ(values_of<float>(legacy.run1({iota({3}), ints({-1}), floats({1}, {9})})),
            (std::vector<float>{0, 1, 9}));
}

TEST(TensorOps, CompressAndNonZero) {
  OneNode c("Compress", 2, 1, 11);
  c.attr("axis", int64_t{-1});
  const Tensor cond = Tensor::from<bool>({2}, {false, true});
  EXPECT_EQ(values_of<float>(c.run1({iota({2, 3}), cond})), (std::vector<float>{1, 4}));
  OneNode flat("Compress", 2, 1, 11);
  EXPECT_EQ(values_of<float>(flat.run1({iota({2, 2}), Tensor::from<bool>({4}, {true, false, false, true})})),
            (std::vector<float>{0, 3}));
  const Tensor nz = OneNode("NonZero", 1, 1, 13).run1({Tensor::from<int32_t>({2, 2}, {1, 0, 0, 3})});
  EXPECT_EQ(nz.shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of<int64_t>(nz), (std::vector<int64_t>{0, 1, 0, 1}));
}

// ----------------------------------------------------------------------------------------- generators

TEST(TensorOps, Range) {
  OneNode r("Range", 3, 1, 11);
  EXPECT_EQ(values_of<int32_t>(r.run1(
                {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4), Tensor::scalar<int32_t>(-3)})),
            (std::vector<int32_t>{10, 7}));
  EXPECT_EQ(values_of<float>(r.run1({Tensor::scalar(1.0f), Tensor::scalar(2.0f), Tensor::scalar(0.25f)})),
            (std::vector<float>{1, 1.25f, 1.5f, 1.75f}));
  EXPECT_THAT(error_of([&] {
                r.run1({Tensor::scalar(1.0f), Tensor::scalar(2.0f), Tensor::scalar(0.0f)});
              }),
              HasSubstr("'delta' is 0"));
  r.constant(0, Tensor::scalar<int64_t>(0))
      .constant(1, Tensor::scalar<int64_t>(7))
      .constant(2, Tensor::scalar<int64_t>(2));
  EXPECT_EQ(r.infer().shape, (PartialShape{4}));
}

TEST(TensorOps, OneHotNegativeIndicesByVersion) {
  const Tensor values = floats({2}, {0, 5});
  OneNode v11("OneHot", 3, 1, 11);
  v11.attr("axis", int64_t{0});
  const Tensor y = v11.run1({ints({-1, 1}), Tensor::scalar(3.0f), values});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{0, 0, 0, 5, 5, 0}));
  OneNode v9("OneHot", 3, 1, 9);
  EXPECT_EQ(values_of<float>(v9.run1({ints({-1}), Tensor::scalar<int64_t>(2), values})),
            (std::vector<float>{0, 0}));
}

TEST(TensorOps, TriluEyeLikeCumSum) {
  OneNode lower("Trilu", 2, 1, 14);
  lower.attr("upper", int64_t{0});
  EXPECT_EQ(values_of<float>(lower.run1({iota({2, 3}), Tensor::scalar<int64_t>(-1)})),
            (std::vector<float>{0, 0, 0, 3, 0, 0}));
  OneNode upper("Trilu", std::vector<bool>{true}, 1, 14);
  EXPECT_EQ(values_of<float>(upper.run1({iota({2, 2})})), (std::vector<float>{0, 1, 0, 3}));

  OneNode eye("EyeLike", 1, 1, 9);
  eye.attr("k", int64_t{1}).attr("dtype", int64_t{7});
  const Tensor e = eye.run1({iota({2, 3})});
  EXPECT_EQ(e.type(), ElementType::i64);
  EXPECT_EQ(values_of<int64_t>(e), (std::vector<int64_t>{0, 1, 0, 0, 0, 1}));

  OneNode cs("CumSum", 2, 1, 14);
  cs.attr("exclusive", int64_t{1}).attr("reverse", int64_t{1});
  EXPECT_EQ(values_of<float>(cs.run1({floats({4}, {1, 2, 3, 4}), Tensor::scalar<int32_t>(0)})),
            (std::vector<float>{9, 7, 4, 0}));
}

TEST(TensorOps, ReverseSequence) {
  OneNode n("ReverseSequence", 2, 1, 10);
  n.attr("batch_axis", int64_t{0}).attr("time_axis", int64_t{1});
  EXPECT_EQ(values_of<float>(n.run1({iota({2, 3}), ints({2, 3})})), (std::vector<float>{1, 0, 2, 5, 4, 3}));
  EXPECT_THAT(error_of([&] { n.run1({iota({2, 3}), ints({4, 1})}); }), HasSubstr("holds 4"));
}

TEST(TensorOps, UniqueSortedUnsortedAndAxis) {
  // numpy: np.unique([2,1,1,3,4,3], True, True, True)
  const Tensor x = floats({6}, {2, 1, 1, 3, 4, 3});
  OneNode sorted("Unique", 1, 4, 11);
  const auto s = sorted.run({x});
  EXPECT_EQ(values_of<float>(s[0]), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(values_of<int64_t>(s[1]), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(values_of<int64_t>(s[2]), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(values_of<int64_t>(s[3]), (std::vector<int64_t>{2, 1, 2, 1}));
  OneNode first("Unique", 1, 4, 11);
  first.attr("sorted", int64_t{0});
  const auto u = first.run({x});
  EXPECT_EQ(values_of<float>(u[0]), (std::vector<float>{2, 1, 3, 4}));
  EXPECT_EQ(values_of<int64_t>(u[2]), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
  OneNode rows("Unique", 1, 4, 11);
  rows.attr("axis", int64_t{0});
  const auto r = rows.run({floats({3, 3}, {1, 0, 0, 1, 0, 0, 2, 3, 4})});
  EXPECT_EQ(r[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(r[3]), (std::vector<int64_t>{2, 1}));
}

TEST(TensorOps, InferenceUsesConstantInputs) {
  {
    OneNode c("Compress", 2, 1, 11);
    c.attr("axis", int64_t{1});
    c.input(0, ElementType::f32, PartialShape{sym("b"), 4})
        .constant(1, Tensor::from<bool>({3}, {true, false, true}));
    EXPECT_EQ(c.infer().shape, (PartialShape{sym("b"), 2}));
  }
  {
    OneNode o("OneHot", 3, 1, 11);
    o.input(0, ElementType::i64, PartialShape{sym("b")}).constant(1, Tensor::scalar<int64_t>(10));
    o.input(2, ElementType::f32, PartialShape{2});
    EXPECT_EQ(o.infer().shape, (PartialShape{sym("b"), 10}));
    EXPECT_EQ(o.infer().type, ElementType::f32);
  }
  {
    OneNode u("Unique", 1, 4, 11);
    u.attr("axis", int64_t{0});
    u.input(0, ElementType::f32, PartialShape{7, 3});
    EXPECT_EQ(u.infer(0).shape, (PartialShape{Dimension(), 3}));
    EXPECT_EQ(u.infer(2).shape, (PartialShape{7}));
  }
  {
    OneNode nd("GatherND", 2, 1, 13);
    nd.attr("batch_dims", int64_t{1});
    nd.input(0, ElementType::f32, PartialShape{sym("b"), 5, 6, 7})
        .input(1, ElementType::i64, PartialShape{sym("b"), 3, 2});
    EXPECT_EQ(nd.infer().shape, (PartialShape{sym("b"), 3, 7}));
  }
}

TEST(TensorOps, UnevenSplitThatCannotRunFailsOnlyWhenRun) {
  // ceil(5 / 4) = 2 leaves -1 for the last part: inference gives up (the node may sit in an If branch that
  // never runs), the kernel rejects it.
  OneNode n("Split", 1, 4, 18);
  n.attr("num_outputs", int64_t{4});
  n.input(0, ElementType::i64, PartialShape{5});
  EXPECT_EQ(n.infer(3).shape, (PartialShape{Dimension()}));
  EXPECT_THAT(error_of([&] { n.run({iota({5})}); }), HasSubstr("cannot split extent 5 into 4 parts"));
}

TEST(TensorOps, PadChecksTheConstantValueType) {
  OneNode n("Pad", 3, 1, 13);
  EXPECT_THAT(error_of([&] {
                n.run1({iota({2}), ints({1, 1}), Tensor::scalar<int64_t>(1)});
              }),
              HasSubstr("'constant_value' must be one value of type f32"));
  n.input(0, ElementType::f32, PartialShape{2}).input(1, ElementType::i64, PartialShape{2});
  n.input(2, ElementType::i64, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("expected f32 like input 'data'"));
}

// ---------------------------------------------------------------------------------------------- Resize

TEST(TensorOps, ResizeLinearHalfPixelDownsample) {
  // x_original = (x + 0.5) / 0.5 - 0.5 = 0.5, 2.5 -> 1.5, 3.5.
  OneNode n("Resize", std::vector<bool>{true, false, true}, 1, 19);
  n.attr("mode", std::string("linear"));
  EXPECT_EQ(values_of<float>(n.run1({floats({4}, {1, 2, 3, 4}), Tensor(), floats({1}, {0.5f})})),
            (std::vector<float>{1.5f, 3.5f}));
}

TEST(TensorOps, ResizeAntialiasWidensTheFilter) {
  // scale 0.5: taps at offsets -1..2 with weights 1/8, 3/8, 3/8, 1/8 (edge-clamped):
  // x=0 -> 1/8*1 + 3/8*1 + 3/8*2 + 1/8*3 = 1.625; x=1 -> 1/8*2 + 3/8*3 + 3/8*4 + 1/8*4 = 3.375.
  OneNode n("Resize", std::vector<bool>{true, false, true}, 1, 19);
  n.attr("mode", std::string("linear")).attr("antialias", int64_t{1});
  EXPECT_EQ(values_of<float>(n.run1({floats({4}, {1, 2, 3, 4}), Tensor(), floats({1}, {0.5f})})),
            (std::vector<float>{1.625f, 3.375f}));
}

TEST(TensorOps, ResizeNearestModesAndCoordinateModes) {
  OneNode n("Resize", std::vector<bool>{true, false, true}, 1, 13);
  n.attr("mode", std::string("nearest"))
      .attr("coordinate_transformation_mode", std::string("asymmetric"))
      .attr("nearest_mode", std::string("ceil"));
  // asymmetric x / 1.5 = 0, 0.67, 1.33 -> ceil 0, 1, 2 (clamped to 1).
  EXPECT_EQ(values_of<float>(n.run1({floats({2}, {10, 20}), Tensor(), floats({1}, {1.5f})})),
            (std::vector<float>{10, 20, 20}));
  OneNode crop("Resize", std::vector<bool>{true, true, false, true}, 1, 13);
  crop.attr("mode", std::string("linear"))
      .attr("coordinate_transformation_mode", std::string("tf_crop_and_resize"))
      .attr("extrapolation_value", -1.0f);
  // roi [0.5, 1.5]: x_original = 0.5 * 3 + x * 3 / 2 = 1.5, 3, 4.5 (outside).
  EXPECT_EQ(values_of<float>(
                crop.run1({floats({4}, {0, 10, 20, 30}), floats({2}, {0.5f, 1.5f}), Tensor(), ints({3})})),
            (std::vector<float>{15, 30, -1}));
}

TEST(TensorOps, ResizeCubicSizesAndAspectRatio) {
  OneNode n("Resize", std::vector<bool>{true, false, false, true}, 1, 19);
  n.attr("mode", std::string("cubic"))
      .attr("keep_aspect_ratio_policy", std::string("not_larger"))
      .attr("axes", std::vector<int64_t>{2, 3});
  const Tensor y = n.run1({iota({1, 1, 4, 6}), Tensor(), Tensor(), ints({2, 2})});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1, 2}));  // scale min(2/4, 2/6) = 1/3: round(4/3) = 1, 6/3 = 2
  n.input(0, ElementType::f32, PartialShape{sym("n"), 1, 4, 6}).constant(3, ints({2, 2}));
  EXPECT_EQ(n.infer().shape, (PartialShape{sym("n"), 1, 1, 2}));
  n.input(0, ElementType::f32, PartialShape{sym("n"), 1, sym("h"), 6});
  EXPECT_EQ(n.infer().shape, (PartialShape{sym("n"), 1, Dimension(), Dimension()}));
  OneNode plain("Resize", std::vector<bool>{true, false, true}, 1, 19);
  plain.input(0, ElementType::f32, PartialShape{sym("n"), 3, 4, 6}).constant(2, floats({4}, {1, 1, 2, 0.5f}));
  EXPECT_EQ(plain.infer().shape, (PartialShape{sym("n"), 3, 8, 3}));
}

TEST(TensorOps, ResizeValidation) {
  OneNode n("Resize", std::vector<bool>{true, false, true}, 1, 19);
  n.attr("coordinate_transformation_mode", std::string("tf_half_pixel_for_nn"));
  EXPECT_THAT(error_of([&] {
                n.run1({iota({2}), Tensor(), floats({1}, {2})});
              }),
              HasSubstr("coordinate_transformation_mode"));
  OneNode both("Resize", 4, 1, 13);
  EXPECT_THAT(error_of([&] {
                both.run1({iota({2}), Tensor(), floats({1}, {2}), ints({4})});
              }),
              HasSubstr("exactly one of 'scales' and 'sizes'"));
  OneNode policy("Resize", std::vector<bool>{true, false, false, true}, 1, 18);
  policy.attr("keep_aspect_ratio_policy", std::string("fit"));
  EXPECT_THAT(error_of([&] {
                policy.run1({iota({2}), Tensor(), Tensor(), ints({4})});
              }),
              HasSubstr("keep_aspect_ratio_policy"));
  OneNode early("Resize", 2, 1, 10);
  early.attr("mode", std::string("cubic"));
  EXPECT_THAT(error_of([&] { early.run1({iota({2}), floats({1}, {2})}); }), HasSubstr("'mode' is 'cubic'"));
}

TEST(TensorOps, Resize10NearestRoundsUpWhenDownsampling) {
  // Resize-10 maps asymmetrically (x / 0.6 = 0, 1.67) and, downsampling, takes the ceiling: indices 0, 2.
  OneNode n("Resize", 2, 1, 10);
  EXPECT_EQ(values_of<float>(n.run1({floats({4}, {1, 2, 3, 4}), floats({1}, {0.6f})})),
            (std::vector<float>{1, 3}));
}

TEST(TensorOps, UpsampleVersions) {
  OneNode v7("Upsample", 1, 1, 7);
  v7.attr("scales", std::vector<float>{1, 2});
  EXPECT_EQ(values_of<float>(v7.run1({floats({1, 2}, {1, 2})})), (std::vector<float>{1, 1, 2, 2}));
  OneNode v9("Upsample", 2, 1, 9);
  v9.attr("mode", std::string("linear"));
  // asymmetric x / 2 = 0, 0.5, 1, 1.5 (the last clamps to the edge).
  EXPECT_EQ(values_of<float>(v9.run1({floats({2}, {1, 3}), floats({1}, {2})})),
            (std::vector<float>{1, 2, 3, 3}));
  EXPECT_THAT(error_of([&] {
                v9.run1({floats({2}, {1, 3}), floats({1}, {0.5f})});
              }),
              HasSubstr("scales >= 1"));
}

}  // namespace
}  // namespace sluice
