// NonMaxSuppression, RoiAlign, GridSample, AffineGrid and Det: reference kernels, shape inference and
// validation on one-node graphs. Expected values come from torch (grid_sample, affine_grid), torchvision
// (roi_align), numpy (det), the ONNX examples (NonMaxSuppression) and a port of the ONNX reference where
// torch differs from the ONNX definition (bicubic with border padding, RoiAlign max mode).
#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::expect_near;
using ops_test::f32;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- NonMaxSuppression --------------------------------------------------------------------------

const std::vector<float> corner_boxes = {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                                         0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101};
const std::vector<float> six_scores = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

TEST(NonMaxSuppression, SuppressesByIou) {
  OneNode n("NonMaxSuppression", 5, 1, 11);
  auto out = n.run({f32({1, 6, 4}, corner_boxes), f32({1, 1, 6}, six_scores), Tensor::from<int64_t>({1}, {3}),
                    f32({1}, {0.5f}), f32({1}, {0.0f})});
  EXPECT_EQ(to_string(out[0].shape()), "[3,3]");
  EXPECT_THAT(values_of<int64_t>(out[0]), ElementsAre(0, 0, 3, 0, 0, 0, 0, 0, 5));
}

TEST(NonMaxSuppression, CenterPointBoxesAndScoreThreshold) {
  OneNode n("NonMaxSuppression", 5, 1, 10);
  n.attr("center_point_box", int64_t{1});
  auto out = n.run({f32({1, 6, 4}, {0.5f, 0.5f,  1, 1, 0.5f, 0.6f,  1, 1, 0.5f, 0.4f,   1, 1,
                                    0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1}),
                    f32({1, 1, 6}, six_scores), Tensor::from<int64_t>({1}, {3}), f32({1}, {0.5f}),
                    f32({1}, {0.4f})});
  EXPECT_THAT(values_of<int64_t>(out[0]), ElementsAre(0, 0, 3, 0, 0, 0));
}

TEST(NonMaxSuppression, NoMaxOutputSelectsNothing) {
  OneNode n("NonMaxSuppression", 2, 1, 11);
  auto out = n.run({f32({1, 6, 4}, corner_boxes), f32({1, 1, 6}, six_scores)});
  EXPECT_EQ(to_string(out[0].shape()), "[0,3]");
}

TEST(NonMaxSuppression, InfersDynamicCountAndRejectsMismatch) {
  OneNode n("NonMaxSuppression", 2, 1, 11);
  n.input(0, ElementType::f32, PartialShape({2, Dimension::dynamic("boxes"), 4}))
      .input(1, ElementType::f32, PartialShape({2, 5, Dimension::dynamic("boxes")}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::i64);
  EXPECT_EQ(n.out_shape(0), "[?,3]");

  OneNode bad("NonMaxSuppression", 2, 1, 11);
  bad.input(0, ElementType::f32, PartialShape({1, 6, 4})).input(1, ElementType::f32, PartialShape({1, 1, 5}));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("disagree on spatial_dimension"));

  OneNode iou("NonMaxSuppression", 4, 1, 11);
  EXPECT_THAT(error_of([&] {
                iou.run({f32({1, 1, 4}, {0, 0, 1, 1}), f32({1, 1, 1}, {1}), Tensor::from<int64_t>({1}, {1}),
                         f32({1}, {1.5f})});
              }),
              HasSubstr("expected [0, 1]"));
}

// ---- RoiAlign -----------------------------------------------------------------------------------

Tensor ramp25() {
  std::vector<float> v(25);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32({1, 1, 5, 5}, v);
}

TEST(RoiAlign, AverageHalfPixelAndOutputHalfPixel) {
  OneNode half("RoiAlign", 3, 1, 16);
  half.attr("output_height", int64_t{2}).attr("output_width", int64_t{2}).attr("sampling_ratio", int64_t{2});
  const Tensor rois = f32({1, 4}, {0.5f, 1.0f, 3.6f, 4.2f});
  const Tensor index = Tensor::from<int64_t>({1}, {0});
  expect_near(half.run({ramp25(), rois, index})[0], {7.275, 8.825, 15.275, 16.825}, 1e-5);

  OneNode adaptive("RoiAlign", 3, 1, 16);
  adaptive.attr("output_height", int64_t{2}).attr("output_width", int64_t{2});
  expect_near(adaptive.run({ramp25(), rois, index})[0], {7.275, 8.825, 15.275, 16.825}, 1e-5);

  OneNode v10("RoiAlign", 3, 1, 10);  // opset 10 has output_half_pixel semantics
  v10.attr("output_height", int64_t{2}).attr("output_width", int64_t{2}).attr("sampling_ratio", int64_t{2});
  expect_near(v10.run({ramp25(), rois, index})[0], {10.275, 11.825, 18.275, 19.825}, 1e-5);
}

TEST(RoiAlign, MaxModeTakesLargestWeightedCorner) {
  OneNode n("RoiAlign", 3, 1, 16);
  n.attr("output_height", int64_t{2}).attr("output_width", int64_t{2}).attr("sampling_ratio", int64_t{2});
  n.attr("mode", std::string("max"));
  expect_near(n.run({ramp25(), f32({1, 4}, {0.5f, 1.0f, 3.6f, 4.2f}), Tensor::from<int64_t>({1}, {0})})[0],
              {6.44875, 7.875, 9.38, 11.15625}, 1e-5);
}

TEST(RoiAlign, InfersShapeAndRejectsBadInput) {
  OneNode n("RoiAlign", 3, 1, 16);
  n.attr("output_height", int64_t{7}).attr("output_width", int64_t{5});
  n.input(0, ElementType::f32, PartialShape({Dimension(), 256, Dimension(), Dimension()}))
      .input(1, ElementType::f32, PartialShape({Dimension::dynamic("rois"), 4}))
      .input(2, ElementType::i64, PartialShape({Dimension::dynamic("rois")}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[rois,256,7,5]");

  OneNode mode("RoiAlign", 3, 1, 10);
  mode.attr("coordinate_transformation_mode", std::string("half_pixel"));
  EXPECT_THAT(error_of([&] { mode.node->schema->validate(*mode.node); }), HasSubstr("needs opset 16"));

  OneNode index("RoiAlign", 3, 1, 16);
  EXPECT_THAT(error_of([&] {
                index.run({ramp25(), f32({1, 4}, {0, 0, 1, 1}), Tensor::from<int64_t>({1}, {1})});
              }),
              HasSubstr("'batch_indices' holds 1; expected [0, 0]"));
}

// ---- GridSample ---------------------------------------------------------------------------------

Tensor ramp12() {
  std::vector<float> v(12);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32({1, 1, 3, 4}, v);
}

const Tensor sample_grid = Tensor::from<float>(
    {1, 2, 3, 2}, {-1.0f, -1.0f, 0.3f, -0.2f, 1.2f, 0.9f, 0.55f, 0.25f, -1.4f, 0.6f, 0.0f, 0.0f});

std::vector<Tensor> grid_sample(int64_t opset, const std::string& mode, const std::string& padding,
                                int64_t align) {
  OneNode n("GridSample", 2, 1, opset);
  n.attr("mode", mode).attr("padding_mode", padding).attr("align_corners", align);
  return n.run({ramp12(), sample_grid});
}

TEST(GridSample, LinearPaddingModes) {
  expect_near(grid_sample(16, "bilinear", "zeros", 0)[0], {0, 4.900001, 0.7149994, 8.1, 0, 5.5}, 1e-5);
  expect_near(grid_sample(20, "linear", "zeros", 1)[0], {0, 5.15, 7.419998, 7.325, 2.56, 5.5}, 1e-5);
  expect_near(grid_sample(20, "linear", "border", 0)[0], {0, 4.900001, 11, 8.1, 7.6, 5.5}, 1e-5);
  expect_near(grid_sample(20, "linear", "reflection", 0)[0], {0, 4.900001, 11, 8.1, 7.9, 5.5}, 1e-5);
  expect_near(grid_sample(20, "linear", "reflection", 1)[0], {0, 5.15, 10.3, 7.325, 7, 5.5}, 1e-5);
}

TEST(GridSample, NearestPaddingModes) {
  expect_near(grid_sample(16, "nearest", "zeros", 0)[0], {0, 6, 0, 7, 0, 6}, 0);
  expect_near(grid_sample(20, "nearest", "zeros", 1)[0], {0, 6, 11, 6, 0, 6}, 0);
  expect_near(grid_sample(20, "nearest", "border", 0)[0], {0, 6, 11, 7, 8, 6}, 0);
  expect_near(grid_sample(20, "nearest", "reflection", 1)[0], {0, 6, 11, 6, 9, 6}, 0);
}

TEST(GridSample, CubicPaddingModes) {
  expect_near(grid_sample(16, "bicubic", "zeros", 0)[0],
              {-0.234375, 4.724695, 0.6425688, 10.30657, -0.9023942, 5.5}, 1e-4);
  expect_near(grid_sample(20, "cubic", "zeros", 1)[0], {0, 4.886911, 8.312733, 8.577212, 2.869024, 5.5},
              1e-4);
  // ONNX clamps out-of-border coordinates before taking the taps (torch does not).
  expect_near(grid_sample(20, "cubic", "border", 1)[0], {0, 4.840625, 10.699, 7.744988, 6.736, 5.5}, 1e-4);
  expect_near(grid_sample(20, "cubic", "reflection", 0)[0], {-0.9375, 4.58575, 11.75, 8.564859, 7.93075, 5.5},
              1e-4);
}

TEST(GridSample, VolumetricLinear) {
  OneNode n("GridSample", 2, 1, 20);
  auto out = n.run({f32({1, 1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}),
                    f32({1, 1, 1, 2, 3}, {0.1f, -0.3f, 0.5f, -1, 1, 0.2f})});
  EXPECT_EQ(to_string(out[0].shape()), "[1,1,1,1,2]");
  expect_near(out[0], {5, 1.2}, 1e-5);
}

TEST(GridSample, InfersShapesAndRejectsModesOfOtherVersions) {
  OneNode n("GridSample", 2, 1, 20);
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("n"), 3, 10, 10, 10}))
      .input(1, ElementType::f32, PartialShape({Dimension::dynamic("n"), 4, 5, 6, 3}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[n,3,4,5,6]");

  OneNode v16("GridSample", 2, 1, 16);
  v16.attr("mode", std::string("linear"));
  EXPECT_THAT(error_of([&] { v16.node->schema->validate(*v16.node); }),
              HasSubstr("expected bilinear, nearest or bicubic"));
  OneNode v20("GridSample", 2, 1, 20);
  v20.attr("mode", std::string("bicubic"));
  EXPECT_THAT(error_of([&] { v20.node->schema->validate(*v20.node); }),
              HasSubstr("expected linear, nearest or cubic"));

  OneNode rank("GridSample", 2, 1, 16);
  rank.input(0, ElementType::f32, PartialShape({1, 1, 2, 2, 2}))
      .input(1, ElementType::f32, PartialShape({1, 1, 1, 1, 3}));
  EXPECT_THAT(error_of([&] { rank.infer(); }), HasSubstr("opset 16 is 2-D only"));

  OneNode last("GridSample", 2, 1, 20);
  last.input(0, ElementType::f32, PartialShape({1, 1, 4, 4}))
      .input(1, ElementType::f32, PartialShape({1, 2, 2, 3}));
  EXPECT_THAT(error_of([&] { last.infer(); }), HasSubstr("its last dimension must be 2"));
}

// ---- AffineGrid ---------------------------------------------------------------------------------

TEST(AffineGrid, TwoDimensional) {
  const Tensor theta = f32({1, 2, 3}, {0.5f, -0.2f, 0.1f, 0.3f, 1.0f, -0.4f});
  const Tensor size = Tensor::from<int64_t>({4}, {1, 1, 2, 3});
  OneNode n("AffineGrid", 2, 1, 20);
  auto out = n.run({theta, size});
  EXPECT_EQ(to_string(out[0].shape()), "[1,2,3,2]");
  expect_near(out[0],
              {-0.1333334, -1.1, 0.2, -0.9, 0.5333334, -0.7, -0.3333333, -0.1, 0, 0.09999999, 0.3333333, 0.3},
              1e-6);
  OneNode aligned("AffineGrid", 2, 1, 20);
  aligned.attr("align_corners", int64_t{1});
  expect_near(aligned.run({theta, size})[0],
              {-0.2, -1.7, 0.3, -1.4, 0.8, -1.1, -0.6, 0.3, -0.1, 0.6, 0.4, 0.9}, 1e-6);
}

TEST(AffineGrid, ThreeDimensional) {
  OneNode n("AffineGrid", 2, 1, 20);
  auto out = n.run({f32({1, 3, 4}, {1, 0.1f, 0, 0.2f, 0, 1, 0.3f, 0, 0.5f, 0, 1, -0.1f}),
                    Tensor::from<int64_t>({5}, {1, 1, 2, 1, 2})});
  EXPECT_EQ(to_string(out[0].shape()), "[1,2,1,2,3]");
  expect_near(out[0], {-0.3, -0.15, -0.85, 0.7, -0.15, -0.35, -0.3, 0.15, 0.15, 0.7, 0.15, 0.65}, 1e-6);
}

TEST(AffineGrid, InfersShapeFromConstantSizeAndRejectsMismatch) {
  OneNode n("AffineGrid", 2, 1, 20);
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("n"), 2, 3}))
      .constant(1, Tensor::from<int64_t>({4}, {8, 3, 32, 48}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[8,32,48,2]");

  OneNode dynamic("AffineGrid", 2, 1, 20);
  dynamic.input(0, ElementType::f32, PartialShape({Dimension::dynamic("n"), 3, 4}))
      .input(1, ElementType::i64, PartialShape({5}));
  dynamic.infer();
  EXPECT_EQ(dynamic.out_shape(0), "[n,?,?,?,3]");

  OneNode bad("AffineGrid", 2, 1, 20);
  bad.input(0, ElementType::f32, PartialShape({1, 2, 3})).input(1, ElementType::i64, PartialShape({5}));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("expected [N, 3, 4] for 3-D sizes"));
}

// ---- Det ----------------------------------------------------------------------------------------

TEST(Det, BatchedAndPivoting) {
  OneNode n("Det", 1, 1, 11);
  auto out = n.run({f32({2, 2, 2}, {1, 2, 3, 4, 2, 0, 0, 3})});
  EXPECT_EQ(to_string(out[0].shape()), "[2]");
  expect_near(out[0], {-2, 6}, 1e-6);
  OneNode pivot("Det", 1, 1, 22);
  expect_near(pivot.run({Tensor::from<double>({3, 3}, {0, 2, 1, 1, 1, 1, 3, -1, 2})})[0], {-2}, 1e-12);
  OneNode singular("Det", 1, 1, 11);
  expect_near(singular.run({f32({2, 2}, {1, 2, 2, 4})})[0], {0}, 0);
}

TEST(Det, InfersBatchShapeAndRejectsNonSquare) {
  OneNode n("Det", 1, 1, 11);
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("b"), 4, 3, 3}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[b,4]");
  OneNode bad("Det", 1, 1, 11);
  bad.input(0, ElementType::f32, PartialShape({2, 3}));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("square matrices"));
  OneNode ints("Det", 1, 1, 11);
  ints.input(0, ElementType::i32, PartialShape({2, 2}));
  EXPECT_THAT(error_of([&] { ints.infer(); }), HasSubstr("expected a floating type"));
}

}  // namespace
}  // namespace sluice
