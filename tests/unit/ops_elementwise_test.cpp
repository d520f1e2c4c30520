// Elementwise operators: reference kernels (values computed with numpy), shape/type inference on partial
// shapes, version resolution and errors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "ops_one_node_harness.hpp"

namespace sluice::graph {
namespace {

using Attributes = std::map<std::string, AttributeValue>;
using ops_test::error_of;
using ops_test::values_of;
using ::testing::HasSubstr;

using Declared = std::vector<std::pair<ElementType, PartialShape>>;

// Whether each declared input is given (undefined type: an omitted input).
std::vector<bool> given(const Declared& inputs) {
  std::vector<bool> out;
  for (const auto& input : inputs) out.push_back(input.first != ElementType::undefined);
  return out;
}

// Declares `one`'s given inputs and sets its attributes, then runs shape inference.
const Value& infer_one(ops_test::OneNode& one, const Declared& inputs, const Attributes& attributes) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].first != ElementType::undefined) one.input(i, inputs[i].first, inputs[i].second);
  }
  one.node->attributes = attributes;
  return one.infer();
}

// Runs shape inference and the reference kernel; checks that the kernel's output agrees with inference.
Tensor run(const std::string& op_type, const std::vector<Tensor>& inputs, const Attributes& attributes = {},
           int64_t opset = 22) {
  Declared declared;
  for (const Tensor& t : inputs) {
    declared.emplace_back(t.type(), t.empty() ? PartialShape() : PartialShape(t.shape()));
  }
  ops_test::OneNode one(op_type, given(declared), 1, opset);
  const Value& output = infer_one(one, declared, attributes);
  std::vector<Tensor> outputs = one.run(inputs);
  if (outputs.size() != 1) throw Error("expected one output");
  EXPECT_EQ(output.type, outputs[0].type()) << op_type;
  EXPECT_TRUE(output.shape.accepts(outputs[0].shape()))
      << op_type << ": inferred " << output.shape.to_string() << ", computed "
      << to_string(outputs[0].shape());
  return outputs[0];
}

// Shape inference only.
std::pair<ElementType, PartialShape> infer(const std::string& op_type, const Declared& inputs,
                                           const Attributes& attributes = {}, int64_t opset = 22) {
  ops_test::OneNode one(op_type, given(inputs), 1, opset);
  const Value& output = infer_one(one, inputs, attributes);
  return {output.type, output.shape};
}

std::vector<float> floats_of(const Tensor& t) {
  std::vector<float> out;
  if (t.type() == ElementType::f16) {
    for (auto v : t.values<float16>()) out.push_back(static_cast<float>(v));
  } else if (t.type() == ElementType::bf16) {
    for (auto v : t.values<bfloat16>()) out.push_back(static_cast<float>(v));
  } else {
    for (auto v : t.values<float>()) out.push_back(v);
  }
  return out;
}

void expect_floats(const Tensor& t, const std::vector<float>& expected, float tolerance = 2e-6f) {
  const std::vector<float> actual = floats_of(t);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << "element " << i;
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(actual[i], expected[i]) << "element " << i;
    } else {
      EXPECT_NEAR(actual[i], expected[i], tolerance * std::max(1.0f, std::fabs(expected[i])))
          << "element " << i;
    }
  }
}

Tensor f32(Shape shape, std::initializer_list<float> v) { return Tensor::from<float>(std::move(shape), v); }
Tensor f16(Shape shape, std::initializer_list<float> v) {
  std::vector<float16> h(v.begin(), v.end());
  return Tensor::from<float16>(std::move(shape), std::span<const float16>(h));
}
Tensor boolean(Shape shape, std::initializer_list<bool> v) {
  std::vector<uint8_t> bytes(v.begin(), v.end());
  Tensor t(ElementType::boolean, std::move(shape));
  std::memcpy(t.data(), bytes.data(), bytes.size());
  return t;
}
template <class T> Tensor ints(Shape shape, std::initializer_list<T> v) {
  return Tensor::from<T>(std::move(shape), v);
}

const PartialShape scalar{std::vector<Dimension>{}};
const float nan = std::numeric_limits<float>::quiet_NaN();
const float inf = std::numeric_limits<float>::infinity();

// ---- Unary math -------------------------------------------------------------------------------------

TEST(ElementwiseUnary, IntegerAbsNegSignWrapLikeNumpy) {
  EXPECT_EQ(values_of<int8_t>(run("Abs", {ints<int8_t>({4}, {-128, -3, 0, 5})})),
            (std::vector<int8_t>{-128, 3, 0, 5}));
  EXPECT_EQ(values_of<uint16_t>(run("Abs", {ints<uint16_t>({2}, {7, 65535})})),
            (std::vector<uint16_t>{7, 65535}));
  EXPECT_EQ(
      values_of<int32_t>(run("Neg", {ints<int32_t>({3}, {5, -2, std::numeric_limits<int32_t>::min()})})),
      (std::vector<int32_t>{-5, 2, std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ(values_of<int64_t>(run("Sign", {ints<int64_t>({3}, {-9, 0, 4})})),
            (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(values_of<uint8_t>(run("Sign", {ints<uint8_t>({2}, {0, 200})})), (std::vector<uint8_t>{0, 1}));
}

TEST(ElementwiseUnary, FloatMath) {
  expect_floats(run("Sign", {f32({4}, {-2.5f, 0.0f, 3.0f, nan})}), {-1, 0, 1, nan});
  expect_floats(run("Floor", {f32({3}, {-1.5f, 0.2f, 2.0f})}), {-2, 0, 2});
  expect_floats(run("Ceil", {f32({3}, {-1.5f, 0.2f, 2.0f})}), {-1, 1, 2});
  expect_floats(run("Round", {f32({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, 2.6f, -2.6f})}),
                {0, 2, 2, -0.0f, -2, 2, 3, -3});
  expect_floats(run("Reciprocal", {f32({3}, {2.0f, -0.25f, 0.0f})}), {0.5f, -4.0f, inf});
  const Tensor x = f32({5}, {-1.5f, -0.25f, 0.0f, 0.75f, 2.0f});
  expect_floats(run("Exp", {x}), {0.22313015f, 0.7788007f, 1.0f, 2.117f, 7.3890557f});
  expect_floats(run("Tanh", {x}), {-0.9051482f, -0.24491866f, 0.0f, 0.635149f, 0.9640276f});
  expect_floats(run("Erf", {x}), {-0.966105146f, -0.27632639f, 0.0f, 0.711155634f, 0.995322265f});
  expect_floats(run("Log", {f32({3}, {1.0f, 0.0f, -1.0f})}), {0.0f, -inf, nan});
}

TEST(ElementwiseUnary, Trigonometric) {
  const Tensor y = f32({3}, {0.5f, 0.25f, -0.75f});
  expect_floats(run("Sin", {y}), {0.47942555f, 0.24740396f, -0.6816388f});
  expect_floats(run("Cos", {y}), {0.87758255f, 0.9689124f, 0.73168886f});
  expect_floats(run("Tan", {y}), {0.5463025f, 0.25534192f, -0.93159646f});
  expect_floats(run("Asin", {y}), {0.5235988f, 0.25268024f, -0.84806216f});
  expect_floats(run("Acos", {y}), {1.0471976f, 1.3181162f, 2.4188585f});
  expect_floats(run("Atan", {y}), {0.4636476f, 0.24497867f, -0.6435011f});
  expect_floats(run("Sinh", {y}), {0.5210953f, 0.25261232f, -0.82231677f});
  expect_floats(run("Cosh", {y}), {1.1276261f, 1.0314132f, 1.2946833f});
  expect_floats(run("Asinh", {y}), {0.4812118f, 0.24746646f, -0.6931472f});
  expect_floats(run("Atanh", {y}), {0.54930615f, 0.25541282f, -0.97295505f});
  expect_floats(run("Acosh", {f32({3}, {1.0f, 2.0f, 3.5f})}), {0.0f, 1.316958f, 1.9248472f});
}

TEST(ElementwiseUnary, HalfPrecisionComputesInFloatAndRoundsOnce) {
  const Tensor out = run("Sqrt", {f16({3}, {2.0f, 3.0f, 10.0f})});
  ASSERT_EQ(out.type(), ElementType::f16);
  std::vector<uint16_t> bits;
  for (auto v : out.values<float16>()) bits.push_back(v.bits);
  EXPECT_EQ(bits, (std::vector<uint16_t>{15784, 16110, 16979}));  // numpy float16 sqrt
}

TEST(ElementwiseUnary, LogicalAndClassification) {
  EXPECT_EQ(values_of<bool>(run("Not", {boolean({2}, {true, false})}, {}, 1)),
            (std::vector<bool>{false, true}));
  EXPECT_EQ(values_of<uint8_t>(run("BitwiseNot", {ints<uint8_t>({2}, {0, 0x0F})})),
            (std::vector<uint8_t>{0xFF, 0xF0}));
  EXPECT_EQ(values_of<int16_t>(run("BitwiseNot", {ints<int16_t>({2}, {0, -5})})),
            (std::vector<int16_t>{-1, 4}));
  const Tensor x = f32({4}, {1.0f, nan, inf, -inf});
  EXPECT_EQ(values_of<bool>(run("IsNaN", {x})), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(values_of<bool>(run("IsInf", {x})), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(values_of<bool>(run("IsInf", {x}, {{"detect_negative", int64_t{0}}})),
            (std::vector<bool>{false, false, true, false}));
  EXPECT_EQ(values_of<bool>(run("IsInf", {x}, {{"detect_positive", int64_t{0}}})),
            (std::vector<bool>{false, false, false, true}));
}

TEST(ElementwiseUnary, RejectsUnsupportedTypes) {
  EXPECT_THAT(error_of([] { run("Sqrt", {ints<int32_t>({1}, {4})}); }),
              HasSubstr("input 'X' has element type i32; expected f32, f16, bf16 or f64"));
  EXPECT_THAT(error_of([] { run("Not", {f32({1}, {1.0f})}); }), HasSubstr("expected boolean"));
  EXPECT_THAT(error_of([] { run("Neg", {ints<uint8_t>({1}, {1})}); }), HasSubstr("element type u8"));
}

// ---- Activations ----------------------------------------------------------------------------------------

TEST(ElementwiseActivation, MatchNumpy) {
  const Tensor x = f32({5}, {-1.5f, -0.25f, 0.0f, 0.75f, 2.0f});
  expect_floats(run("Relu", {x}), {0, 0, 0, 0.75f, 2.0f});
  expect_floats(run("Sigmoid", {x}), {0.18242553f, 0.43782344f, 0.5f, 0.6791787f, 0.880797f});
  expect_floats(run("HardSigmoid", {x}), {0.2f, 0.45f, 0.5f, 0.65f, 0.9f});
  expect_floats(run("HardSwish", {x}), {-0.375f, -0.114583336f, 0.0f, 0.46875f, 1.6666667f});
  expect_floats(run("Softplus", {x}), {0.20141327f, 0.5759394f, 0.6931472f, 1.1368711f, 2.1269279f});
  expect_floats(run("Softsign", {x}), {-0.6f, -0.2f, 0.0f, 0.42857143f, 0.6666667f});
  expect_floats(run("Elu", {x}, {{"alpha", 2.0f}}), {-1.5537397f, -0.44239855f, 0.0f, 0.75f, 2.0f});
  expect_floats(run("Selu", {x}), {-1.3658143f, -0.38889027f, 0.0f, 0.78802574f, 2.101402f});
  expect_floats(run("Celu", {x}, {{"alpha", 0.5f}}), {-0.47510648f, -0.19673467f, 0.0f, 0.75f, 2.0f});
  expect_floats(run("Mish", {x}), {-0.29809973f, -0.12992696f, 0.0f, 0.6100184f, 1.9439589f});
  expect_floats(run("Gelu", {x}), {-0.100210816f, -0.10032342f, 0.0f, 0.5800295f, 1.9544997f});
  expect_floats(run("Gelu", {x}, {{"approximate", std::string("tanh")}}),
                {-0.10042839f, -0.100324646f, 0.0f, 0.5799606f, 1.9545977f});
  expect_floats(run("LeakyRelu", {x}, {{"alpha", 0.1f}}), {-0.15f, -0.025f, 0.0f, 0.75f, 2.0f});
  expect_floats(run("ThresholdedRelu", {x}, {{"alpha", 0.5f}}), {0, 0, 0, 0.75f, 2.0f});
  expect_floats(run("Shrink", {x}, {{"lambd", 0.5f}, {"bias", 0.25f}}), {-1.25f, 0, 0, 0.5f, 1.75f});
}

TEST(ElementwiseActivation, IntegerRelu) {
  EXPECT_EQ(values_of<int8_t>(run("Relu", {ints<int8_t>({3}, {-5, 0, 7})})), (std::vector<int8_t>{0, 0, 7}));
}

TEST(ElementwiseActivation, PReluBroadcastsSlopeToX) {
  const Tensor x = f32({2, 2}, {-1.0f, 2.0f, -3.0f, 4.0f});
  expect_floats(run("PRelu", {x, f32({2}, {0.1f, 0.2f})}), {-0.1f, 2.0f, -0.3f, 4.0f});
  expect_floats(run("PRelu", {x, f32({2, 1}, {0.5f, 2.0f})}), {-0.5f, 2.0f, -6.0f, 4.0f});
  EXPECT_THAT(error_of([&] {
                run("PRelu", {x, f32({3, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})});
              }),
              HasSubstr("cannot broadcast to input 'X'"));
}

TEST(ElementwiseActivation, BadAttributes) {
  const Tensor x = f32({1}, {1.0f});
  EXPECT_THAT(error_of([&] {
                run("Gelu", {x}, {{"approximate", std::string("fast")}});
              }),
              HasSubstr("attribute 'approximate' is 'fast'; expected 'none' or 'tanh'"));
  EXPECT_THAT(error_of([&] { run("Celu", {x}, {{"alpha", 0.0f}}); }), HasSubstr("'alpha' must be nonzero"));
}

// ---- Binary ---------------------------------------------------------------------------------------------

TEST(ElementwiseBinary, AddBroadcastsLikeNumpy) {
  const Tensor out = run("Add", {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3}, {10, 20, 30})});
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  expect_floats(out, {11, 22, 33, 14, 25, 36});
  const Tensor col = run("Sub", {f32({2, 1}, {1, 2}), f32({1, 3}, {1, 2, 3})}, {}, 7);
  EXPECT_EQ(col.shape(), (Shape{2, 3}));
  expect_floats(col, {0, -1, -2, 1, 0, -1});
  EXPECT_THAT(error_of([] {
                run("Add", {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({2}, {1, 2})});
              }),
              HasSubstr("cannot be broadcast together"));
}

TEST(ElementwiseBinary, IntegerArithmeticWraps) {
  EXPECT_EQ(values_of<uint8_t>(run("Add", {ints<uint8_t>({2}, {250, 3}), ints<uint8_t>({2}, {10, 4})})),
            (std::vector<uint8_t>{4, 7}));
  EXPECT_EQ(values_of<int32_t>(run("Mul", {ints<int32_t>({1}, {65536}), ints<int32_t>({1}, {65536})})),
            (std::vector<int32_t>{0}));
  EXPECT_EQ(values_of<uint16_t>(run("Mul", {ints<uint16_t>({1}, {65535}), ints<uint16_t>({1}, {65535})})),
            (std::vector<uint16_t>{1}));
  EXPECT_EQ(values_of<int64_t>(run(
                "Sub", {ints<int64_t>({1}, {std::numeric_limits<int64_t>::min()}), ints<int64_t>({1}, {1})})),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::max()}));
}

TEST(ElementwiseBinary, IntegerDivisionTruncates) {
  const int32_t min32 = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values_of<int32_t>(
                run("Div", {ints<int32_t>({4}, {-7, 7, 7, min32}), ints<int32_t>({4}, {2, 2, -2, -1})})),
            (std::vector<int32_t>{-3, 3, -3, min32}));
  EXPECT_EQ(values_of<uint8_t>(run("Div", {ints<uint8_t>({1}, {200}), ints<uint8_t>({1}, {3})})),
            (std::vector<uint8_t>{66}));
  expect_floats(run("Div", {f32({2}, {1, -1}), f32({2}, {4, 0})}), {0.25f, -inf});
  EXPECT_THAT(error_of([] {
                run("Div", {ints<int64_t>({2}, {1, 2}), ints<int64_t>({2}, {1, 0})});
              }),
              HasSubstr("integer division by zero"));
}

TEST(ElementwiseBinary, ModFollowsDivisorOrDividendSign) {
  const Tensor a = ints<int32_t>({4}, {-7, 7, -7, 7});
  const Tensor b = ints<int32_t>({4}, {3, 3, -3, -3});
  EXPECT_EQ(values_of<int32_t>(run("Mod", {a, b})), (std::vector<int32_t>{2, 1, -1, -2}));
  EXPECT_EQ(values_of<int32_t>(run("Mod", {a, b}, {{"fmod", int64_t{1}}})),
            (std::vector<int32_t>{-1, 1, -1, 1}));
  expect_floats(run("Mod", {f32({2}, {-7.5f, 7.5f}), f32({2}, {2, -2})}, {{"fmod", int64_t{1}}}),
                {-1.5f, 1.5f});
  expect_floats(run("Mod", {f32({2}, {-7.5f, 7.5f}), f32({2}, {2, -2})}), {0.5f, -0.5f});
  EXPECT_THAT(error_of([] {
                run("Mod", {ints<uint8_t>({1}, {1}), ints<uint8_t>({1}, {0})});
              }),
              HasSubstr("integer modulo by zero"));
}

TEST(ElementwiseBinary, PowMixedTypes) {
  EXPECT_EQ(values_of<int32_t>(run("Pow", {ints<int32_t>({3}, {2, 3, -2}), ints<int32_t>({3}, {10, 3, 3})})),
            (std::vector<int32_t>{1024, 27, -8}));
  EXPECT_EQ(values_of<int64_t>(run("Pow", {ints<int64_t>({3}, {4, 2, -1}), f32({3}, {2.5f, 0.5f, 3.0f})})),
            (std::vector<int64_t>{32, 1, -1}));
  expect_floats(run("Pow", {f32({2}, {2, 4}), ints<int64_t>({2}, {3, -1})}), {8.0f, 0.25f});
  expect_floats(run("Pow", {f32({2, 2}, {1, 2, 3, 4}), f32({}, {2})}, {}, 7), {1, 4, 9, 16});
  // Opset 7 takes one type for both inputs.
  EXPECT_THAT(error_of([] {
                run("Pow", {f32({1}, {2}), ints<int32_t>({1}, {2})}, {}, 7);
              }),
              HasSubstr("input 'Y' has element type i32"));
}

TEST(ElementwiseBinary, BitOperations) {
  const Attributes left = {{"direction", std::string("LEFT")}};
  const Attributes right = {{"direction", std::string("RIGHT")}};
  EXPECT_EQ(values_of<uint8_t>(
                run("BitShift", {ints<uint8_t>({3}, {1, 128, 3}), ints<uint8_t>({3}, {1, 1, 9})}, left)),
            (std::vector<uint8_t>{2, 0, 0}));
  EXPECT_EQ(
      values_of<uint64_t>(run("BitShift", {ints<uint64_t>({2}, {16, 255}), ints<uint64_t>({1}, {4})}, right)),
      (std::vector<uint64_t>{1, 15}));
  EXPECT_THAT(error_of([] {
                run("BitShift", {ints<uint8_t>({1}, {1}), ints<uint8_t>({1}, {1})},
                    {{"direction", std::string("UP")}});
              }),
              HasSubstr("attribute 'direction' is 'UP'; expected 'LEFT' or 'RIGHT'"));
  EXPECT_THAT(error_of([] {
                run("BitShift", {ints<uint8_t>({1}, {1}), ints<uint8_t>({1}, {1})});
              }),
              HasSubstr("direction"));
  const Tensor a = ints<int16_t>({2}, {0b1100, -1});
  const Tensor b = ints<int16_t>({2}, {0b1010, 3});
  EXPECT_EQ(values_of<int16_t>(run("BitwiseAnd", {a, b})), (std::vector<int16_t>{0b1000, 3}));
  EXPECT_EQ(values_of<int16_t>(run("BitwiseOr", {a, b})), (std::vector<int16_t>{0b1110, -1}));
  EXPECT_EQ(values_of<int16_t>(run("BitwiseXor", {a, b})), (std::vector<int16_t>{0b0110, -4}));
}

TEST(ElementwiseBinary, LogicAndComparisons) {
  const Tensor p = boolean({2, 2}, {true, true, false, false});
  const Tensor q = boolean({2}, {true, false});
  EXPECT_EQ(values_of<bool>(run("And", {p, q})), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values_of<bool>(run("Or", {p, q})), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(values_of<bool>(run("Xor", {p, q})), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(values_of<bool>(run("Equal", {p, q})), (std::vector<bool>{true, false, false, true}));
  const Tensor x = f16({3}, {1.0f, 2.0f, 3.0f});
  const Tensor y = f16({3}, {2.0f, 2.0f, 2.0f});
  EXPECT_EQ(values_of<bool>(run("Less", {x, y})), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(values_of<bool>(run("LessOrEqual", {x, y})), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(values_of<bool>(run("Greater", {x, y})), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(values_of<bool>(run("GreaterOrEqual", {x, y})), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(values_of<bool>(run("Equal", {f32({2}, {nan, 1}), f32({2}, {nan, 1})})),
            (std::vector<bool>{false, true}));
  EXPECT_EQ(values_of<bool>(run("Greater", {ints<uint64_t>({2}, {~0ull, 1}), ints<uint64_t>({1}, {2})})),
            (std::vector<bool>{true, false}));
  EXPECT_THAT(error_of([] { run("And", {f32({1}, {1}), f32({1}, {1})}); }), HasSubstr("expected boolean"));
}

TEST(ElementwiseBinary, RejectsMixedTypes) {
  EXPECT_THAT(error_of([] {
                run("Add", {f32({1}, {1}), ints<int32_t>({1}, {1})});
              }),
              HasSubstr("input 'B' has element type i32; expected f32 like input 'A'"));
}

// ---- Selection and variadic -----------------------------------------------------------------------------

TEST(ElementwiseSelect, VariadicFoldsBroadcast) {
  const Tensor a = f32({2}, {1, 5});
  const Tensor b = f32({2, 1}, {3, 0});
  const Tensor c = f32({}, {2});
  const Tensor max = run("Max", {a, b, c});
  EXPECT_EQ(max.shape(), (Shape{2, 2}));
  expect_floats(max, {3, 5, 2, 5});
  expect_floats(run("Min", {a, b, c}), {1, 2, 0, 0});
  expect_floats(run("Sum", {a, b, c}), {6, 10, 3, 7});
  expect_floats(run("Mean", {f32({2}, {1, 2}), f32({2}, {3, 4})}), {2, 3});
  expect_floats(run("Max", {f32({2}, {nan, 1}), f32({2}, {1, nan})}), {nan, nan});
  expect_floats(run("Sum", {a}), {1, 5});
  EXPECT_EQ(values_of<int64_t>(run("Max", {ints<int64_t>({2}, {-1, 9}), ints<int64_t>({2}, {3, -9})})),
            (std::vector<int64_t>{3, 9}));
  EXPECT_THAT(error_of([&] {
                run("Max", {a, ints<int64_t>({1}, {1})});
              }),
              HasSubstr("input 'data_1' has element type i64; expected f32 like input 'data_0'"));
}

TEST(ElementwiseSelect, WhereBroadcastsAllThree) {
  const Tensor out =
      run("Where", {boolean({2, 1}, {true, false}), ints<int32_t>({3}, {1, 2, 3}), ints<int32_t>({}, {0})});
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int32_t>(out), (std::vector<int32_t>{1, 2, 3, 0, 0, 0}));
  EXPECT_THAT(error_of([] {
                run("Where", {f32({1}, {1}), f32({1}, {1}), f32({1}, {1})});
              }),
              HasSubstr("input 'condition' has element type f32; expected boolean"));
}

TEST(ElementwiseSelect, ClipVersions) {
  const Tensor x = f32({4}, {-2.0f, 0.5f, 2.0f, nan});
  expect_floats(run("Clip", {x}, {{"min", -1.0f}, {"max", 1.0f}}, 6), {-1.0f, 0.5f, 1.0f, nan});
  expect_floats(run("Clip", {x}, {}, 6), {-2.0f, 0.5f, 2.0f, nan});
  expect_floats(run("Clip", {x, f32({}, {-1}), f32({}, {1})}, {}, 11), {-1.0f, 0.5f, 1.0f, nan});
  expect_floats(run("Clip", {x, Tensor(), f32({}, {1})}, {}, 13), {-2.0f, 0.5f, 1.0f, nan});
  expect_floats(run("Clip", {x, f32({}, {1}), f32({}, {0})}, {}, 13), {0, 0, 0, nan});
  expect_floats(run("Clip", {f32({2}, {-inf, inf})}, {}, 13), {-inf, inf});
  EXPECT_EQ(values_of<int8_t>(run(
                "Clip", {ints<int8_t>({3}, {-100, 3, 100}), ints<int8_t>({}, {-5}), ints<int8_t>({}, {5})},
                {}, 12)),
            (std::vector<int8_t>{-5, 3, 5}));
  EXPECT_THAT(error_of([] { run("Clip", {ints<int8_t>({1}, {1})}, {}, 11); }), HasSubstr("element type i8"));
  EXPECT_THAT(error_of([&] {
                run("Clip", {x, f32({2}, {0, 1})}, {}, 13);
              }),
              HasSubstr("input 'min' has shape [2]; expected a scalar"));
  EXPECT_THAT(error_of([&] {
                run("Clip", {x, ints<int32_t>({}, {0})}, {}, 13);
              }),
              HasSubstr("input 'min' has element type i32"));
}

// ---- Cast -------------------------------------------------------------------------------------------------

Attributes to(int64_t code) { return {{"to", code}}; }

TEST(ElementwiseCast, FloatToIntegerTruncatesAndSaturates) {
  const Tensor x = f32({7}, {-2.7f, -0.5f, 0.5f, 2.7f, 300.0f, nan, -inf});
  EXPECT_EQ(values_of<int8_t>(run("Cast", {x}, to(3))), (std::vector<int8_t>{-2, 0, 0, 2, 127, 0, -128}));
  EXPECT_EQ(values_of<uint8_t>(run("Cast", {x}, to(2))), (std::vector<uint8_t>{0, 0, 0, 2, 255, 0, 0}));
  EXPECT_EQ(values_of<int64_t>(run("Cast", {f32({2}, {3e9f, -3e9f})}, to(7))),
            (std::vector<int64_t>{3000000000, -3000000000}));
}

TEST(ElementwiseCast, BoolAndIntegerConversions) {
  EXPECT_EQ(values_of<bool>(run("Cast", {f32({4}, {0.0f, -0.0f, 0.1f, nan})}, to(9))),
            (std::vector<bool>{false, false, true, true}));
  expect_floats(run("Cast", {boolean({2}, {true, false})}, to(1)), {1.0f, 0.0f});
  EXPECT_EQ(values_of<uint8_t>(run("Cast", {ints<int64_t>({3}, {300, -1, 7})}, to(2))),
            (std::vector<uint8_t>{44, 255, 7}));
  EXPECT_EQ(values_of<int32_t>(run("Cast", {ints<uint32_t>({1}, {4294967295u})}, to(6))),
            (std::vector<int32_t>{-1}));
}

TEST(ElementwiseCast, SixteenBitFloats) {
  // float -> bfloat16 truncates like the ONNX reference: 0x3EF5EEB0 -> 0x3EF5.
  uint32_t bits = 0x3EF5EEB0u;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  const Tensor bf = run("Cast", {f32({2}, {value, nan})}, to(16));
  ASSERT_EQ(bf.type(), ElementType::bf16);
  EXPECT_EQ(bf.values<bfloat16>()[0].bits, 0x3EF5);
  EXPECT_TRUE(std::isnan(static_cast<float>(bf.values<bfloat16>()[1])));
  // float -> float16 rounds to nearest even: 0.1 -> 11878, 1/3 -> 13653 (numpy).
  const Tensor h = run("Cast", {f32({2}, {0.1f, 1.0f / 3.0f})}, to(10));
  EXPECT_EQ(h.values<float16>()[0].bits, 11878);
  EXPECT_EQ(h.values<float16>()[1].bits, 13653);
  // double -> float16 rounds once: numpy gives 15499 where rounding through float would give 15498.
  const Tensor d = run("Cast", {Tensor::from<double>({1}, {1.1352539062509095})}, to(10));
  EXPECT_EQ(d.values<float16>()[0].bits, 15499);
  expect_floats(run("Cast", {h}, to(1)), {0.0999755859375f, 0.333251953125f});
}

TEST(ElementwiseCast, Opset1NamesAndCastLike) {
  EXPECT_EQ(values_of<int32_t>(run("Cast", {f32({1}, {7.9f})}, {{"to", std::string("INT32")}}, 1)),
            (std::vector<int32_t>{7}));
  const Tensor like = run("CastLike", {f32({2}, {1.5f, -2.5f}), ints<int16_t>({1}, {0})});
  EXPECT_EQ(values_of<int16_t>(like), (std::vector<int16_t>{1, -2}));
}

TEST(ElementwiseCast, OutOfScopeTypesAreClearErrors) {
  const Tensor x = f32({1}, {1});
  EXPECT_THAT(error_of([&] { run("Cast", {x}, to(23)); }),
              HasSubstr("tensors are not supported (data type FLOAT4E2M1)"));
  EXPECT_THAT(error_of([&] { run("Cast", {x}, to(14)); }), HasSubstr("COMPLEX64"));
  EXPECT_THAT(error_of([&] { run("Cast", {x}, to(99)); }), HasSubstr("unknown ONNX data type 99"));
  EXPECT_THAT(error_of([&] { run("Cast", {x}); }), HasSubstr("attribute 'to'"));
}

// ---- Shape and type inference ---------------------------------------------------------------------------

TEST(ElementwiseInference, PartialAndSymbolicBroadcast) {
  const Dimension batch = Dimension::dynamic("batch");
  auto [type, shape] =
      infer("Add", {{ElementType::f32, PartialShape{batch, 3}}, {ElementType::f32, PartialShape{1, 3}}});
  EXPECT_EQ(type, ElementType::f32);
  EXPECT_EQ(shape, (PartialShape{batch, 3}));
  EXPECT_EQ(
      infer("Mul", {{ElementType::f32, PartialShape{Dimension(), 4}}, {ElementType::f32, PartialShape{3, 1}}})
          .second,
      (PartialShape{3, 4}));
  EXPECT_FALSE(infer("Sub", {{ElementType::f32, PartialShape()}, {ElementType::f32, PartialShape{3}}})
                   .second.rank_known());
  auto cmp = infer("Less", {{ElementType::i64, PartialShape{batch}}, {ElementType::i64, scalar}});
  EXPECT_EQ(cmp.first, ElementType::boolean);
  EXPECT_EQ(cmp.second, (PartialShape{batch}));
  EXPECT_THAT(error_of([] {
                infer("Add", {{ElementType::f32, PartialShape{2, 3}}, {ElementType::f32, PartialShape{4}}});
              }),
              HasSubstr("cannot be broadcast together"));
}

TEST(ElementwiseInference, OtherOperators) {
  const Dimension n = Dimension::dynamic("n");
  EXPECT_EQ(infer("Relu", {{ElementType::f16, PartialShape{n, 8}}}),
            (std::pair<ElementType, PartialShape>{ElementType::f16, PartialShape{n, 8}}));
  EXPECT_EQ(infer("IsNaN", {{ElementType::f32, PartialShape{n}}}).first, ElementType::boolean);
  EXPECT_EQ(infer("Cast", {{ElementType::f32, PartialShape{n, 2}}}, to(7)),
            (std::pair<ElementType, PartialShape>{ElementType::i64, PartialShape{n, 2}}));
  EXPECT_EQ(infer("CastLike", {{ElementType::f32, PartialShape{n}}, {ElementType::f16, scalar}}).first,
            ElementType::f16);
  EXPECT_EQ(infer("Where", {{ElementType::boolean, PartialShape{n, 1}},
                            {ElementType::f32, PartialShape{5}},
                            {ElementType::f32, scalar}}),
            (std::pair<ElementType, PartialShape>{ElementType::f32, PartialShape{n, 5}}));
  EXPECT_EQ(infer("Max", {{ElementType::i32, PartialShape{2, 1}},
                          {ElementType::i32, PartialShape{n}},
                          {ElementType::i32, PartialShape{1}}})
                .second,
            (PartialShape{2, n}));
  EXPECT_EQ(infer("Pow", {{ElementType::i32, PartialShape{n}}, {ElementType::f32, scalar}}).first,
            ElementType::i32);
  EXPECT_EQ(infer("Clip", {{ElementType::f32, PartialShape{n}},
                           {ElementType::undefined, PartialShape()},
                           {ElementType::f32, scalar}})
                .second,
            (PartialShape{n}));
  EXPECT_EQ(
      infer("PRelu", {{ElementType::f32, PartialShape{n, 3, 4}}, {ElementType::f32, PartialShape{3, 1}}})
          .second,
      (PartialShape{n, 3, 4}));
  EXPECT_THAT(error_of([] {
                infer("PRelu", {{ElementType::f32, PartialShape{4}}, {ElementType::f32, PartialShape{2, 4}}});
              }),
              HasSubstr("cannot broadcast to input 'X'"));
}

TEST(ElementwiseRegistry, VersionsResolve) {
  const auto& registry = OpRegistry::instance();
  EXPECT_EQ(registry.find("", "Add", 6), nullptr);  // opset 1-6 broadcast/axis semantics: not supported
  EXPECT_EQ(registry.find("", "Add", 14)->since_version, 7);
  EXPECT_EQ(registry.find("", "Clip", 6)->since_version, 1);
  EXPECT_EQ(registry.find("", "Clip", 11)->since_version, 11);
  EXPECT_EQ(registry.find("", "Clip", 13)->since_version, 12);
  EXPECT_EQ(registry.find("", "Pow", 11)->since_version, 7);
  EXPECT_EQ(registry.find("", "Pow", 15)->since_version, 12);
  EXPECT_EQ(registry.find("", "Gelu", 19), nullptr);
  for (const char* op : {"Abs",
                         "Acos",
                         "Acosh",
                         "Asin",
                         "Asinh",
                         "Atan",
                         "Atanh",
                         "Cos",
                         "Cosh",
                         "Sin",
                         "Sinh",
                         "Tan",
                         "Tanh",
                         "Exp",
                         "Log",
                         "Sqrt",
                         "Reciprocal",
                         "Neg",
                         "Floor",
                         "Ceil",
                         "Round",
                         "Sign",
                         "Erf",
                         "IsNaN",
                         "IsInf",
                         "Not",
                         "BitwiseNot",
                         "Relu",
                         "LeakyRelu",
                         "PRelu",
                         "Elu",
                         "Selu",
                         "Celu",
                         "Sigmoid",
                         "HardSigmoid",
                         "HardSwish",
                         "Softplus",
                         "Softsign",
                         "ThresholdedRelu",
                         "Gelu",
                         "Mish",
                         "Shrink",
                         "Clip",
                         "Add",
                         "Sub",
                         "Mul",
                         "Div",
                         "Pow",
                         "Mod",
                         "BitShift",
                         "BitwiseAnd",
                         "BitwiseOr",
                         "BitwiseXor",
                         "And",
                         "Or",
                         "Xor",
                         "Equal",
                         "Less",
                         "Greater",
                         "LessOrEqual",
                         "GreaterOrEqual",
                         "Max",
                         "Min",
                         "Sum",
                         "Mean",
                         "Where",
                         "Cast",
                         "CastLike"}) {
    EXPECT_NE(registry.find("", op, 22), nullptr) << op;
  }
}

}  // namespace
}  // namespace sluice::graph
