// RNN, GRU and LSTM: reference kernels, shape inference and validation on one-node graphs. Expected
// values come from a numpy implementation of the ONNX equations (direction by direction, step by step).
#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::expect_near;
using ops_test::f32;
using ops_test::OneNode;
using ::testing::HasSubstr;

Tensor f64(Shape shape, std::vector<double> v) {
  return Tensor::from<double>(std::move(shape), std::span<const double>(v));
}

TEST(RNN, ForwardWithLeakyReluAlpha) {
  OneNode n("RNN", 4, 2, 14);
  n.attr("hidden_size", int64_t{3})
      .attr("activations", std::vector<std::string>{"LeakyRelu"})
      .attr("activation_alpha", std::vector<float>{0.1f});
  auto out = n.run({f32({2, 2, 2}, {0.5f, -1.0f, 1.5f, 0.25f, -0.5f, 2.0f, 0.3f, -0.7f}),
                    f32({1, 3, 2}, {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f}),
                    f32({1, 3, 3}, {0.2f, -0.1f, 0.05f, 0.0f, 0.3f, -0.2f, 0.1f, 0.1f, 0.1f}),
                    f32({1, 6}, {0.01f, 0.02f, -0.03f, 0.1f, -0.1f, 0.05f})});
  EXPECT_EQ(to_string(out[0].shape()), "[2,1,2,3]");
  expect_near(
      out[0],
      {0.36, -0.033, -0.083, 0.21, 0.47, -0.058, -0.026885, 0.5767, 1.4944, 0.2721, -0.01174, -0.04878},
      1e-5);
  expect_near(out[1], {-0.026885, 0.5767, 1.4944, 0.2721, -0.01174, -0.04878}, 1e-5);
}

TEST(GRU, BidirectionalLinearBeforeResetWithInitialState) {
  OneNode n("GRU", std::vector<bool>{true, true, true, true, false, true}, 2, 14);
  n.attr("hidden_size", int64_t{2})
      .attr("direction", std::string("bidirectional"))
      .attr("linear_before_reset", int64_t{1});
  auto out = n.run({f32({3, 1, 2}, {0.1f, 0.43f, 0.21f, 0.09f, -0.15f, 0.29f}),
                    f32({2, 6, 2}, {-0.12f, 0.78f,  0.93f,  -0.23f, 0.58f,  0.06f, 0.14f, 0.85f,
                                    -0.86f, -0.83f, -0.96f, 0.67f,  0.56f,  0.74f, 0.96f, 0.6f,
                                    -0.08f, 0.56f,  -0.76f, 0.28f,  -0.71f, 0.89f, 0.04f, -0.17f}),
                    f32({2, 6, 2}, {-0.47f, 0.55f,  -0.09f, 0.14f,  -0.96f, 0.24f,  0.22f, 0.23f,
                                    0.89f,  0.36f,  -0.28f, -0.13f, 0.4f,   -0.88f, 0.33f, 0.34f,
                                    -0.58f, -0.74f, -0.37f, -0.27f, 0.14f,  -0.12f, 0.98f, -0.8f}),
                    f32({2, 12}, {-0.58f, -0.68f, 0.31f,  -0.49f, -0.07f, -0.51f, -0.68f, -0.78f,
                                  0.31f,  -0.72f, -0.61f, -0.26f, 0.64f,  -0.81f, 0.68f,  -0.81f,
                                  0.95f,  -0.06f, 0.95f,  0.21f,  0.48f,  -0.92f, -0.43f, -0.76f}),
                    Tensor(), f32({2, 1, 2}, {-0.41f, -0.76f, -0.36f, -0.17f})});
  EXPECT_EQ(to_string(out[0].shape()), "[3,2,1,2]");
  expect_near(out[0],
              {-0.7727793, -0.3964034, -0.01839814, -0.2289424, -0.8685177, -0.5331195, -0.1085925,
               -0.2094295, -0.881644, -0.2187031, -0.1954131, -0.2618734},
              1e-5);
  expect_near(out[1], {-0.881644, -0.2187031, -0.01839814, -0.2289424}, 1e-5);
}

TEST(LSTM, ReverseBatchMajorWithSequenceLensPeepholesAndClip) {
  OneNode n("LSTM", 8, 3, 14);
  n.attr("hidden_size", int64_t{2}).attr("direction", std::string("reverse")).attr("layout", int64_t{1});
  n.attr("clip", 0.8f);
  auto out = n.run(
      {f64({2, 3, 1}, {-0.87, 0.38, 0.13, -0.47, 0.05, -0.81}),
       f64({1, 8, 1}, {0.15, 0.86, -0.36, 0.33, -0.74, 0.43, -0.42, -0.63}),
       f64({1, 8, 2}, {0.17, -0.96, 0.66, -0.99, 0.36, -0.46, 0.47, 0.92, -0.5, 0.15, 0.18, 0.14, -0.55, 0.91,
                       -0.11, 0.69}),
       f64({1, 16},
           {0.4, -0.41, 0.63, -0.21, 0.76, 0.16, 0.76, 0.39, 0.45, 0, 0.91, 0.29, -0.15, 0.21, -0.96, -0.4}),
       Tensor::from<int32_t>({2}, {3, 2}), f64({2, 1, 2}, {0.14, 0.18, 0.15, 0.31}),
       f64({2, 1, 2}, {0.3, -0.14, 0.79, -0.26}), f64({1, 6}, {0.32, -0.42, 0.24, -0.14, -0.73, -0.4})});
  ASSERT_EQ(out[0].type(), ElementType::f64);
  EXPECT_EQ(to_string(out[0].shape()), "[2,3,1,2]");
  expect_near(out[0],
              {-0.04276353, 0.01679608, -0.1659823, -0.1049765, 0.03727933, -0.04778648, 0.07067279,
               0.008872326, 0.2465824, -0.06503221, 0, 0},
              1e-7);
  expect_near(out[1], {-0.04276353, 0.01679608, 0.07067279, 0.008872326}, 1e-7);
  expect_near(out[2], {-0.06205796, 0.04156577, 0.1027886, 0.01793983}, 1e-7);
}

TEST(LSTM, OmittedOutputsAreEmpty) {
  OneNode n("LSTM", 3, 2, 7);
  n.node->outputs[0] = nullptr;
  n.attr("hidden_size", int64_t{1});
  auto out = n.run({f32({1, 1, 1}, {1}), f32({1, 4, 1}, {0, 0, 0, 0}), f32({1, 4, 1}, {0, 0, 0, 0})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].empty());
  // All gates 0: i = o = f = 0.5, c~ = 0, so C = 0 and H = 0.
  expect_near(out[1], {0.0}, 0.0);
}

TEST(Recurrent, InfersShapesWithSymbols) {
  OneNode n("GRU", 3, 2, 14);
  n.attr("direction", std::string("bidirectional"));
  n.input(0, ElementType::f32, PartialShape({Dimension::dynamic("seq"), Dimension::dynamic("batch"), 8}))
      .input(1, ElementType::f32, PartialShape({2, 48, 8}))
      .input(2, ElementType::f32, PartialShape({2, 48, 16}));
  n.infer();
  EXPECT_EQ(n.out_shape(0), "[seq,2,batch,16]");
  EXPECT_EQ(n.out_shape(1), "[2,batch,16]");

  OneNode b("LSTM", std::vector<bool>{true, true, true, false, false, true}, 3, 14);
  b.attr("layout", int64_t{1}).attr("hidden_size", int64_t{4});
  b.input(0, ElementType::f16, PartialShape({Dimension(), 5, 3}))
      .input(1, ElementType::f16, PartialShape::unknown_rank())
      .input(2, ElementType::f16, PartialShape::unknown_rank())
      .input(5, ElementType::f16, PartialShape({7, 1, 4}));
  b.infer();
  EXPECT_EQ(b.out_type(0), ElementType::f16);
  EXPECT_EQ(b.out_shape(0), "[7,5,1,4]");
  EXPECT_EQ(b.out_shape(2), "[7,1,4]");
}

TEST(Recurrent, RejectsBadAttributesAndShapes) {
  OneNode dir("RNN", 3, 1, 14);
  dir.attr("direction", std::string("sideways"));
  EXPECT_THAT(error_of([&] { dir.node->schema->validate(*dir.node); }),
              HasSubstr("'direction' is 'sideways'"));

  OneNode acts("LSTM", 3, 1, 14);
  acts.attr("activations", std::vector<std::string>{"Sigmoid", "Tanh"});
  EXPECT_THAT(error_of([&] { acts.node->schema->validate(*acts.node); }),
              HasSubstr("expected 3 per direction"));

  OneNode unknown("RNN", 3, 1, 14);
  unknown.attr("activations", std::vector<std::string>{"Swish"});
  EXPECT_THAT(error_of([&] { unknown.node->schema->validate(*unknown.node); }), HasSubstr("names 'Swish'"));

  OneNode layout("RNN", 3, 1, 7);
  layout.attr("layout", int64_t{1});
  EXPECT_THAT(error_of([&] { layout.node->schema->validate(*layout.node); }), HasSubstr("needs opset 14"));

  OneNode w("RNN", 3, 1, 14);
  w.attr("hidden_size", int64_t{4});
  w.input(0, ElementType::f32, PartialShape({5, 2, 3}))
      .input(1, ElementType::f32, PartialShape({1, 4, 6}))
      .input(2, ElementType::f32, PartialShape({1, 4, 4}));
  EXPECT_THAT(error_of([&] { w.infer(); }), HasSubstr("input 'W' has shape [1,4,6]; expected [1,4,3]"));

  OneNode lens("RNN", 5, 1, 14);
  EXPECT_THAT(error_of([&] {
                lens.run({f32({2, 1, 1}, {1, 2}), f32({1, 1, 1}, {1}), f32({1, 1, 1}, {1}),
                          f32({1, 2}, {0, 0}), Tensor::from<int32_t>({1}, {3})});
              }),
              HasSubstr("expected values in [0, 2]"));
}

}  // namespace
}  // namespace sluice
