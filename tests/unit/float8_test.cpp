// The float8 element types (conversion tables against known bit patterns: max values, subnormals,
// rounding ties, NaN, infinity, saturation, -0), and Cast / CastLike / QuantizeLinear / DequantizeLinear
// with float8 and string types, as one-node models on the REF and CPU devices (the CPU falls back to the
// reference kernels for these types) and on the reference kernels directly.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.hpp"
#include "graph_builder.hpp"
#include "ops_one_node_harness.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using ET = ElementType;
using ops_test::error_of;
using ops_test::OneNode;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();

// Bits of T::from_float(v, saturate).
template <class T> int bits_of(float v, bool saturate = true) { return T::from_float(v, saturate).bits; }
template <class T> float value_of(int bits) {
  return static_cast<float>(T::from_bits(static_cast<uint8_t>(bits)));
}

// ---- Conversion tables ----------------------------------------------------------------------------------

TEST(Float8, E4M3FNTable) {
  using T = float8_e4m3fn;
  EXPECT_EQ(bits_of<T>(0.0f), 0x00);
  EXPECT_EQ(bits_of<T>(-0.0f), 0x80);  // has -0
  EXPECT_EQ(bits_of<T>(1.0f), 0x38);
  EXPECT_EQ(bits_of<T>(-2.0f), 0xC0);
  EXPECT_EQ(bits_of<T>(448.0f), 0x7E);  // max
  EXPECT_EQ(bits_of<T>(-448.0f), 0xFE);
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -6)), 0x08);   // smallest normal
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -9)), 0x01);   // smallest subnormal
  EXPECT_EQ(bits_of<T>(std::ldexp(7.0f, -9)), 0x07);   // largest subnormal
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -10)), 0x00);  // half the smallest subnormal: tie to even 0
  EXPECT_EQ(bits_of<T>(std::ldexp(1.01f, -10)), 0x01);
  EXPECT_EQ(bits_of<T>(std::ldexp(3.0f, -10)), 0x02);   // 1.5 units: tie to even 2
  EXPECT_EQ(bits_of<T>(std::ldexp(5.0f, -10)), 0x02);   // 2.5 units: tie to even 2
  EXPECT_EQ(bits_of<T>(std::ldexp(15.0f, -10)), 0x08);  // 7.5 units: rounds up into the smallest normal
  EXPECT_EQ(bits_of<T>(1.0625f), 0x38);                 // tie between 1 (even) and 1.125
  EXPECT_EQ(bits_of<T>(1.1875f), 0x3A);                 // tie between 1.125 and 1.25 (even)
  EXPECT_EQ(bits_of<T>(1.0626f), 0x39);
  EXPECT_EQ(bits_of<T>(0.5f), 0x30);
  EXPECT_EQ(bits_of<T>(-1e-7f), 0x80);  // underflows to -0
  // NaN keeps its sign; there is no infinity.
  EXPECT_EQ(bits_of<T>(nan), 0x7F);
  EXPECT_EQ(bits_of<T>(-nan), 0xFF);
  EXPECT_EQ(bits_of<T>(nan, false), 0x7F);
  // Saturation.
  EXPECT_EQ(bits_of<T>(inf), 0x7E);
  EXPECT_EQ(bits_of<T>(-inf), 0xFE);
  EXPECT_EQ(bits_of<T>(1e6f), 0x7E);
  EXPECT_EQ(bits_of<T>(-1e6f), 0xFE);
  EXPECT_EQ(bits_of<T>(inf, false), 0x7F);
  EXPECT_EQ(bits_of<T>(-inf, false), 0xFF);
  EXPECT_EQ(bits_of<T>(1e6f, false), 0x7F);
  EXPECT_EQ(bits_of<T>(-1e6f, false), 0xFF);
  EXPECT_EQ(bits_of<T>(460.0f, false), 0x7E);  // rounds down to max
  EXPECT_EQ(bits_of<T>(464.0f, false), 0x7E);  // tie between 448 (even) and 480: max
  EXPECT_EQ(bits_of<T>(465.0f, false), 0x7F);  // rounds to 480, beyond max: NaN
  EXPECT_EQ(bits_of<T>(465.0f, true), 0x7E);
  // To float.
  EXPECT_EQ(value_of<T>(0x7E), 448.0f);
  EXPECT_EQ(value_of<T>(0xFE), -448.0f);
  EXPECT_EQ(value_of<T>(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(value_of<T>(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(value_of<T>(0x2F), 0.46875f);
  EXPECT_TRUE(std::isnan(value_of<T>(0x7F)));
  EXPECT_TRUE(std::isnan(value_of<T>(0xFF)));
  EXPECT_TRUE(std::signbit(value_of<T>(0x80)));
  EXPECT_EQ(value_of<T>(0x80), 0.0f);
  // The implicit converting constructor saturates.
  const T t = 1000.0f;
  EXPECT_EQ(t.bits, 0x7E);
}

TEST(Float8, E4M3FNUZTable) {
  using T = float8_e4m3fnuz;
  EXPECT_EQ(bits_of<T>(0.0f), 0x00);
  EXPECT_EQ(bits_of<T>(-0.0f), 0x00);  // no -0
  EXPECT_EQ(bits_of<T>(-1e-7f), 0x00);
  EXPECT_EQ(bits_of<T>(1.0f), 0x40);
  EXPECT_EQ(bits_of<T>(240.0f), 0x7F);  // max
  EXPECT_EQ(bits_of<T>(-240.0f), 0xFF);
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -7)), 0x08);   // smallest normal
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -10)), 0x01);  // smallest subnormal
  EXPECT_EQ(bits_of<T>(-std::ldexp(1.0f, -10)), 0x81);
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -11)), 0x00);   // tie to even 0
  EXPECT_EQ(bits_of<T>(-std::ldexp(1.0f, -11)), 0x00);  // ... and no -0
  EXPECT_EQ(bits_of<T>(1.0625f), 0x40);
  EXPECT_EQ(bits_of<T>(1.1875f), 0x42);
  EXPECT_EQ(bits_of<T>(nan), 0x80);
  EXPECT_EQ(bits_of<T>(-nan), 0x80);
  EXPECT_EQ(bits_of<T>(inf), 0x7F);
  EXPECT_EQ(bits_of<T>(-inf), 0xFF);
  EXPECT_EQ(bits_of<T>(1e6f), 0x7F);
  EXPECT_EQ(bits_of<T>(inf, false), 0x80);
  EXPECT_EQ(bits_of<T>(-inf, false), 0x80);
  EXPECT_EQ(bits_of<T>(-1e6f, false), 0x80);
  EXPECT_EQ(bits_of<T>(247.0f, false), 0x7F);
  EXPECT_EQ(bits_of<T>(248.0f, false), 0x80);  // tie between 240 (odd) and 256: 256, beyond max
  EXPECT_EQ(bits_of<T>(248.0f, true), 0x7F);
  EXPECT_EQ(value_of<T>(0x7F), 240.0f);
  EXPECT_EQ(value_of<T>(0xFF), -240.0f);
  EXPECT_EQ(value_of<T>(0x37), 0.46875f);
  EXPECT_EQ(value_of<T>(0x01), std::ldexp(1.0f, -10));
  EXPECT_TRUE(std::isnan(value_of<T>(0x80)));
}

TEST(Float8, E5M2Table) {
  using T = float8_e5m2;
  EXPECT_EQ(bits_of<T>(0.0f), 0x00);
  EXPECT_EQ(bits_of<T>(-0.0f), 0x80);
  EXPECT_EQ(bits_of<T>(1.0f), 0x3C);
  EXPECT_EQ(bits_of<T>(57344.0f), 0x7B);  // max
  EXPECT_EQ(bits_of<T>(-57344.0f), 0xFB);
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -14)), 0x04);  // smallest normal
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -16)), 0x01);  // smallest subnormal
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -17)), 0x00);  // tie to even 0
  EXPECT_EQ(bits_of<T>(std::ldexp(3.0f, -17)), 0x02);  // 1.5 units: tie to even 2
  EXPECT_EQ(bits_of<T>(1.125f), 0x3C);                 // tie between 1 (even) and 1.25
  EXPECT_EQ(bits_of<T>(1.375f), 0x3E);                 // tie between 1.25 and 1.5 (even)
  EXPECT_EQ(bits_of<T>(nan), 0x7F);
  EXPECT_EQ(bits_of<T>(-nan), 0xFF);
  EXPECT_EQ(bits_of<T>(inf), 0x7B);
  EXPECT_EQ(bits_of<T>(-inf), 0xFB);
  EXPECT_EQ(bits_of<T>(1e6f), 0x7B);
  EXPECT_EQ(bits_of<T>(inf, false), 0x7C);
  EXPECT_EQ(bits_of<T>(-inf, false), 0xFC);
  EXPECT_EQ(bits_of<T>(1e6f, false), 0x7C);
  EXPECT_EQ(bits_of<T>(61439.0f, false), 0x7B);
  EXPECT_EQ(bits_of<T>(61440.0f, false), 0x7C);  // tie between max (odd) and 65536: infinity
  EXPECT_EQ(bits_of<T>(61440.0f, true), 0x7B);
  EXPECT_EQ(value_of<T>(0x7B), 57344.0f);
  EXPECT_EQ(value_of<T>(0x7C), inf);
  EXPECT_EQ(value_of<T>(0xFC), -inf);
  EXPECT_TRUE(std::isnan(value_of<T>(0x7D)));
  EXPECT_TRUE(std::isnan(value_of<T>(0x7E)));
  EXPECT_TRUE(std::isnan(value_of<T>(0xFF)));
  EXPECT_EQ(value_of<T>(0x01), std::ldexp(1.0f, -16));
  EXPECT_EQ(value_of<T>(0x3A), 0.75f);
}

TEST(Float8, E5M2FNUZTable) {
  using T = float8_e5m2fnuz;
  EXPECT_EQ(bits_of<T>(0.0f), 0x00);
  EXPECT_EQ(bits_of<T>(-0.0f), 0x00);
  EXPECT_EQ(bits_of<T>(1.0f), 0x40);
  EXPECT_EQ(bits_of<T>(57344.0f), 0x7F);  // max
  EXPECT_EQ(bits_of<T>(-57344.0f), 0xFF);
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -15)), 0x04);   // smallest normal
  EXPECT_EQ(bits_of<T>(std::ldexp(1.0f, -17)), 0x01);   // smallest subnormal
  EXPECT_EQ(bits_of<T>(-std::ldexp(1.0f, -18)), 0x00);  // tie to even 0, no -0
  EXPECT_EQ(bits_of<T>(nan), 0x80);
  EXPECT_EQ(bits_of<T>(inf), 0x7F);
  EXPECT_EQ(bits_of<T>(-inf), 0xFF);
  EXPECT_EQ(bits_of<T>(inf, false), 0x80);
  EXPECT_EQ(bits_of<T>(1e6f, false), 0x80);
  EXPECT_EQ(bits_of<T>(61440.0f, false), 0x80);
  EXPECT_EQ(bits_of<T>(61439.0f, false), 0x7F);
  EXPECT_EQ(value_of<T>(0x7F), 57344.0f);
  EXPECT_EQ(value_of<T>(0x3C), 0.5f);
  EXPECT_EQ(value_of<T>(0x01), std::ldexp(1.0f, -17));
  EXPECT_TRUE(std::isnan(value_of<T>(0x80)));
}

// Every non-NaN code converts to float and back to itself, and the codes of each sign are in value order.
template <class T> void expect_all_codes_round_trip() {
  float previous = -1.0f;
  for (int b = 0; b < 256; ++b) {
    const float v = value_of<T>(b);
    if (std::isnan(v)) continue;
    EXPECT_EQ(bits_of<T>(v, false), b) << "code " << b << " value " << v;
    if (b < 0x80 && !std::isinf(v)) {
      EXPECT_GT(v, previous) << "code " << b;
      previous = v;
    }
  }
}

TEST(Float8, AllCodesRoundTrip) {
  expect_all_codes_round_trip<float8_e4m3fn>();
  expect_all_codes_round_trip<float8_e4m3fnuz>();
  expect_all_codes_round_trip<float8_e5m2>();
  expect_all_codes_round_trip<float8_e5m2fnuz>();
}

TEST(Float8, ElementTypeOf) {
  EXPECT_EQ(element_type_v<float8_e4m3fn>, ET::f8e4m3fn);
  EXPECT_EQ(element_type_v<float8_e4m3fnuz>, ET::f8e4m3fnuz);
  EXPECT_EQ(element_type_v<float8_e5m2>, ET::f8e5m2);
  EXPECT_EQ(element_type_v<float8_e5m2fnuz>, ET::f8e5m2fnuz);
  EXPECT_EQ(element_size(ET::f8e5m2), 1u);
}

// ---- One-node models on REF and CPU ---------------------------------------------------------------------

using Attrs = std::map<std::string, graph::AttributeValue>;

using test::one_node_model;

// Runs the model on `device` and returns its output.
Tensor run_on(const std::string& device, const Model& model, const std::vector<Tensor>& inputs) {
  static Core core;
  CompiledModel compiled = core.compile_model(model, device);
  InferRequest request = compiled.create_infer_request();
  for (size_t i = 0; i < inputs.size(); ++i) request.set_input_tensor(i, inputs[i]);
  request.infer();
  return request.get_output_tensor(0).clone();
}

const char* const devices[] = {"REF", "CPU"};

std::vector<int> bytes_of(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.data());
  return std::vector<int>(p, p + t.size());
}

template <class T> Tensor float8_tensor(const std::vector<int>& bits) {
  std::vector<T> v;
  for (int b : bits) v.push_back(T::from_bits(static_cast<uint8_t>(b)));
  return Tensor::from<T>({static_cast<int64_t>(v.size())}, std::span<const T>(v));
}

Tensor strings(const std::vector<std::string>& s) {
  return Tensor::from<std::string>({static_cast<int64_t>(s.size())}, std::span<const std::string>(s));
}

// The ONNX DataType codes.
constexpr int64_t onnx_float = 1, onnx_string = 8, onnx_int64 = 7, onnx_bool = 9, onnx_float16 = 10,
                  onnx_double = 11, onnx_e4m3fn = 17, onnx_e4m3fnuz = 18, onnx_e5m2 = 19, onnx_e5m2fnuz = 20;

TEST(Float8Cast, FloatToFloat8SaturatingAndNot) {
  const Tensor x = ops_test::f32({8}, {0.5f, 448.0f, 1000.0f, -inf, nan, -1e-7f, 1.0625f, 0.4789254665f});
  struct Expect {
    int64_t to;
    ET type;
    std::vector<int> saturating, not_saturating;
  };
  const Expect cases[] = {
      {onnx_e4m3fn,
       ET::f8e4m3fn,
       {0x30, 0x7E, 0x7E, 0xFE, 0x7F, 0x80, 0x38, 0x2F},
       {0x30, 0x7E, 0x7F, 0xFF, 0x7F, 0x80, 0x38, 0x2F}},
      {onnx_e4m3fnuz,
       ET::f8e4m3fnuz,
       {0x38, 0x7F, 0x7F, 0xFF, 0x80, 0x00, 0x40, 0x37},
       {0x38, 0x80, 0x80, 0x80, 0x80, 0x00, 0x40, 0x37}},
      {onnx_e5m2,
       ET::f8e5m2,
       {0x38, 0x5F, 0x64, 0xFB, 0x7F, 0x80, 0x3C, 0x38},
       {0x38, 0x5F, 0x64, 0xFC, 0x7F, 0x80, 0x3C, 0x38}},
      {onnx_e5m2fnuz,
       ET::f8e5m2fnuz,
       {0x3C, 0x63, 0x68, 0xFF, 0x80, 0x00, 0x40, 0x3C},
       {0x3C, 0x63, 0x68, 0x80, 0x80, 0x00, 0x40, 0x3C}},
  };
  for (const auto& c : cases) {
    for (const char* device : devices) {
      SCOPED_TRACE(std::string(device) + " to " + std::string(to_string(c.type)));
      const Tensor sat = run_on(device, one_node_model("Cast", 19, {x}, {{"to", c.to}}), {x});
      ASSERT_EQ(sat.type(), c.type);
      EXPECT_EQ(bytes_of(sat), c.saturating);
      const Tensor nosat =
          run_on(device, one_node_model("Cast", 21, {x}, {{"to", c.to}, {"saturate", int64_t{0}}}), {x});
      EXPECT_EQ(bytes_of(nosat), c.not_saturating);
    }
  }
}

TEST(Float8Cast, Float8ToFloatAndFloat16) {
  const Tensor x = float8_tensor<float8_e4m3fn>({0x2F, 0x7E, 0xFE, 0x7F, 0x80, 0x01});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor y = run_on(device, one_node_model("Cast", 19, {x}, {{"to", onnx_float}}), {x});
    ASSERT_EQ(y.type(), ET::f32);
    const auto v = y.values<float>();
    EXPECT_EQ(v[0], 0.46875f);
    EXPECT_EQ(v[1], 448.0f);
    EXPECT_EQ(v[2], -448.0f);
    EXPECT_TRUE(std::isnan(v[3]));
    EXPECT_TRUE(v[4] == 0.0f && std::signbit(v[4]));
    EXPECT_EQ(v[5], std::ldexp(1.0f, -9));
    const Tensor h = run_on(device, one_node_model("Cast", 19, {x}, {{"to", onnx_float16}}), {x});
    ASSERT_EQ(h.type(), ET::f16);
    EXPECT_EQ(static_cast<float>(h.values<float16>()[1]), 448.0f);
    EXPECT_EQ(static_cast<float>(h.values<float16>()[5]), std::ldexp(1.0f, -9));
  }
}

TEST(Float8Cast, Float16AndDoubleToFloat8) {
  const std::vector<float16> halves = {float16(0.479f), float16(inf), float16(-inf), float16(1.1920929e-07f)};
  const Tensor h = Tensor::from<float16>({4}, std::span<const float16>(halves));
  // A double just above a tie must not round to the tie first (round-to-odd narrowing).
  const std::vector<double> doubles = {1.0625 + 1e-12, 1e300, -0.0};
  const Tensor d = Tensor::from<double>({3}, std::span<const double>(doubles));
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    EXPECT_EQ(bytes_of(run_on(device, one_node_model("Cast", 19, {h}, {{"to", onnx_e4m3fn}}), {h})),
              (std::vector<int>{0x2F, 0x7E, 0xFE, 0x00}));
    EXPECT_EQ(
        bytes_of(run_on(device,
                        one_node_model("Cast", 19, {h}, {{"to", onnx_e5m2}, {"saturate", int64_t{0}}}), {h})),
        (std::vector<int>{0x38, 0x7C, 0xFC, 0x00}));
    EXPECT_EQ(bytes_of(run_on(device, one_node_model("Cast", 19, {d}, {{"to", onnx_e4m3fn}}), {d})),
              (std::vector<int>{0x39, 0x7E, 0x80}));
  }
}

TEST(Float8Cast, CastLikeFloat8AndBetweenFloat8Types) {
  const Tensor x = ops_test::f32({3}, {0.75f, 300.0f, -inf});
  const Tensor like = float8_tensor<float8_e4m3fnuz>({0});
  const Tensor e5 = float8_tensor<float8_e5m2>({0x5C /* 256 */, 0x7C /* inf */, 0x3A /* 0.75 */});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor y = run_on(device, one_node_model("CastLike", 19, {x, like}, {}), {x, like});
    ASSERT_EQ(y.type(), ET::f8e4m3fnuz);
    EXPECT_EQ(bytes_of(y), (std::vector<int>{0x3C, 0x7F, 0xFF}));
    const Tensor z =
        run_on(device, one_node_model("CastLike", 19, {x, like}, {{"saturate", int64_t{0}}}), {x, like});
    EXPECT_EQ(bytes_of(z), (std::vector<int>{0x3C, 0x80, 0x80}));
    // f8e5m2 -> f8e4m3fn: 256 is exact, infinity saturates.
    const Tensor w = run_on(device, one_node_model("Cast", 19, {e5}, {{"to", onnx_e4m3fn}}), {e5});
    EXPECT_EQ(bytes_of(w), (std::vector<int>{0x78, 0x7E, 0x34}));
  }
}

TEST(StringCast, FloatToString) {
  const Tensor x = ops_test::f32({12}, {0.9767611f, 1.0f, 1e20f, 1.5e-5f, 123456789.0f, -0.0f, nan, inf, -inf,
                                        0.0001f, 0.039187793f, 9.999e15f});
  const std::vector<std::string> expected = {"0.9767611",   "1.0",   "1e+20",       "1.5e-05",
                                             "123456790.0", "-0.0",  "nan",         "inf",
                                             "-inf",        "1e-04", "0.039187793", "9999000000000000.0"};
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor y = run_on(device, one_node_model("Cast", 13, {x}, {{"to", onnx_string}}), {x});
    ASSERT_EQ(y.type(), ET::string);
    const auto v = y.values<std::string>();
    EXPECT_EQ(std::vector<std::string>(v.begin(), v.end()), expected);
  }
}

TEST(StringCast, OtherTypesToString) {
  const std::vector<double> doubles = {0.1, 1e300, -2.5e-7, 12345.678};
  const Tensor d = Tensor::from<double>({4}, std::span<const double>(doubles));
  // 2^-6 prints as numpy's "0.01563": at a power of two the shortest digits that read back lie above.
  const std::vector<float16> halves = {float16(0.1f), float16(65504.0f), float16(-3.0f), float16(0.015625f)};
  const Tensor h = Tensor::from<float16>({4}, std::span<const float16>(halves));
  const Tensor i = Tensor::from<int64_t>({3}, {int64_t{-5}, int64_t{0}, int64_t{9000000000}});
  const Tensor b = Tensor::from<bool>({2}, {true, false});
  const Tensor f8 = float8_tensor<float8_e4m3fn>({0x2F, 0x7E});
  const auto as_strings = [](const Tensor& t) {
    const auto v = t.values<std::string>();
    return std::vector<std::string>(v.begin(), v.end());
  };
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const auto cast = [&](const Tensor& x) {
      return as_strings(run_on(device, one_node_model("Cast", 19, {x}, {{"to", onnx_string}}), {x}));
    };
    EXPECT_EQ(cast(d), (std::vector<std::string>{"0.1", "1e+300", "-2.5e-07", "12345.678"}));
    EXPECT_EQ(cast(h), (std::vector<std::string>{"0.1", "65500.0", "-3.0", "0.01563"}));
    EXPECT_EQ(cast(i), (std::vector<std::string>{"-5", "0", "9000000000"}));
    EXPECT_EQ(cast(b), (std::vector<std::string>{"True", "False"}));
    EXPECT_EQ(cast(f8), (std::vector<std::string>{"0.46875", "448.0"}));
  }
}

TEST(StringCast, StringToNumbers) {
  const Tensor s = strings({"0.47892547", "NaN", "INF", "+INF", "-INF", "1e-5", " 2.5 ", "-infinity", "1E8"});
  const Tensor ints = strings({"42", "-7", "+3", "100.5", "9000000000"});
  const Tensor bools = strings({"True", "false", "0", "1", "2.5"});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor f = run_on(device, one_node_model("Cast", 13, {s}, {{"to", onnx_float}}), {s});
    ASSERT_EQ(f.type(), ET::f32);
    const auto v = f.values<float>();
    EXPECT_EQ(v[0], 0.47892547f);
    EXPECT_TRUE(std::isnan(v[1]));
    EXPECT_EQ(v[2], inf);
    EXPECT_EQ(v[3], inf);
    EXPECT_EQ(v[4], -inf);
    EXPECT_EQ(v[5], 1e-5f);
    EXPECT_EQ(v[6], 2.5f);
    EXPECT_EQ(v[7], -inf);
    EXPECT_EQ(v[8], 1e8f);
    const Tensor d = run_on(device, one_node_model("Cast", 13, {s}, {{"to", onnx_double}}), {s});
    EXPECT_EQ(d.values<double>()[0], 0.47892547);
    const Tensor i = run_on(device, one_node_model("Cast", 13, {ints}, {{"to", onnx_int64}}), {ints});
    const auto iv = i.values<int64_t>();
    EXPECT_EQ(std::vector<int64_t>(iv.begin(), iv.end()), (std::vector<int64_t>{42, -7, 3, 100, 9000000000}));
    const Tensor b = run_on(device, one_node_model("Cast", 13, {bools}, {{"to", onnx_bool}}), {bools});
    const auto bv = b.values<bool>();
    EXPECT_EQ(std::vector<bool>(bv.begin(), bv.end()), (std::vector<bool>{true, false, false, true, true}));
    const Tensor f8 = run_on(device, one_node_model("Cast", 19, {s}, {{"to", onnx_e4m3fn}}), {s});
    EXPECT_EQ(bytes_of(f8), (std::vector<int>{0x2F, 0x7F, 0x7E, 0x7E, 0xFE, 0x00, 0x42, 0xFE, 0x7E}));
  }
}

TEST(StringCast, CastLikeAndStringToString) {
  const Tensor x = ops_test::f32({2}, {0.25f, -3.0f});
  const Tensor like = strings({"anything"});
  const Tensor s = strings({"a", "bc"});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor y = run_on(device, one_node_model("CastLike", 15, {x, like}, {}), {x, like});
    ASSERT_EQ(y.type(), ET::string);
    EXPECT_EQ(y.values<std::string>()[0], "0.25");
    EXPECT_EQ(y.values<std::string>()[1], "-3.0");
    const Tensor z = run_on(device, one_node_model("Cast", 13, {s}, {{"to", onnx_string}}), {s});
    EXPECT_EQ(z.values<std::string>()[1], "bc");
  }
}

TEST(StringCast, BadStringIsAnErrorNamingTheNodeAndString) {
  OneNode n("Cast", 1, 1, 13);
  n.attr("to", onnx_float);
  const std::string message = error_of([&] { n.run1({strings({"1.5", "abc"})}); });
  EXPECT_NE(message.find("Cast node 'n'"), std::string::npos) << message;
  EXPECT_NE(message.find("'abc'"), std::string::npos) << message;
  EXPECT_NE(message.find("f32"), std::string::npos) << message;
}

TEST(Float8Cast, SaturateNeedsOpset19) {
  OneNode n("Cast", 1, 1, 13);
  n.attr("to", onnx_e4m3fn).attr("saturate", int64_t{0});
  const std::string message = error_of([&] { n.run1({ops_test::f32({1}, {1.0f})}); });
  EXPECT_NE(message.find("saturate"), std::string::npos) << message;
  EXPECT_NE(message.find("19"), std::string::npos) << message;
}

// ---- QuantizeLinear / DequantizeLinear ------------------------------------------------------------------

TEST(Float8Quantize, QuantizeLinearToFloat8) {
  const Tensor x = ops_test::f32({6}, {0.0f, 1.0f, 2.0f, 100000.0f, 200.0f, nan});
  const Tensor scale = Tensor::scalar<float>(2.0f);
  {
    OneNode n("QuantizeLinear", 3, 1, 19);
    const Tensor zp = float8_tensor<float8_e4m3fn>({0});
    n.input(0, ET::f32, PartialShape(Shape{6})).input(1, ET::f32, PartialShape(Shape{})).constant(2, zp);
    EXPECT_EQ(n.infer().type, ET::f8e4m3fn);
    EXPECT_EQ(bytes_of(n.run1({x, scale, zp})), (std::vector<int>{0x00, 0x30, 0x38, 0x7E, 0x6C, 0x7F}));
  }
  {
    OneNode n("QuantizeLinear", 3, 1, 19);
    n.attr("saturate", int64_t{0});
    const Tensor zp = float8_tensor<float8_e5m2>({0});
    EXPECT_EQ(bytes_of(n.run1({x, scale, zp})), (std::vector<int>{0x00, 0x38, 0x3C, 0x7A, 0x56, 0x7F}));
  }
  {
    // Opset 21: the type from output_dtype, without a zero point; per-axis scales.
    OneNode n("QuantizeLinear", std::vector<bool>{true, true}, 1, 21);
    n.attr("output_dtype", onnx_e4m3fnuz).attr("axis", int64_t{0});
    const Tensor x2 = ops_test::f32({2, 2}, {1.0f, 500.0f, 1.0f, 500.0f});
    const Tensor scales = ops_test::f32({2}, {1.0f, 4.0f});
    n.input(0, ET::f32, PartialShape(Shape{2, 2})).input(1, ET::f32, PartialShape(Shape{2}));
    EXPECT_EQ(n.infer().type, ET::f8e4m3fnuz);
    EXPECT_EQ(bytes_of(n.run1({x2, scales})), (std::vector<int>{0x40, 0x7F, 0x30, 0x78}));
  }
}

TEST(Float8Quantize, Float8NeedsOpset19AndAZeroZeroPoint) {
  OneNode old("QuantizeLinear", 3, 1, 13);
  const Tensor zp = float8_tensor<float8_e4m3fn>({0});
  old.input(0, ET::f32, PartialShape(Shape{1})).input(1, ET::f32, PartialShape(Shape{})).constant(2, zp);
  EXPECT_NE(error_of([&] { old.infer(); }).find("u8 or i8"), std::string::npos);

  OneNode n("QuantizeLinear", 3, 1, 19);
  const std::string message = error_of([&] {
    n.run1({ops_test::f32({1}, {1.0f}), Tensor::scalar<float>(1.0f), float8_tensor<float8_e4m3fn>({0x38})});
  });
  EXPECT_NE(message.find("zero point must be 0"), std::string::npos) << message;
}

TEST(Float8Quantize, DequantizeLinearFromFloat8) {
  const Tensor x = float8_tensor<float8_e4m3fn>({0x00, 0x30, 0x38, 0x7E, 0xED, 0x7F});
  {
    OneNode n("DequantizeLinear", std::vector<bool>{true, true}, 1, 19);
    n.input(0, ET::f8e4m3fn, PartialShape(Shape{6})).input(1, ET::f32, PartialShape(Shape{}));
    EXPECT_EQ(n.infer().type, ET::f32);
    const Tensor y = n.run1({x, Tensor::scalar<float>(2.0f)});
    const auto v = y.values<float>();
    EXPECT_EQ(std::vector<float>(v.begin(), v.begin() + 5),
              (std::vector<float>{0.0f, 1.0f, 2.0f, 896.0f, -208.0f}));
    EXPECT_TRUE(std::isnan(v[5]));
  }
  {
    OneNode n("DequantizeLinear", 3, 1, 21);
    const Tensor e5 = float8_tensor<float8_e5m2>({0x00, 0x38, 0x3C, 0x5F, 0xD6});
    const Tensor y = n.run1({e5, Tensor::scalar<float16>(float16(2.0f)), float8_tensor<float8_e5m2>({0})});
    ASSERT_EQ(y.type(), ET::f16);
    std::vector<float> got;
    for (float16 h : y.values<float16>()) got.push_back(static_cast<float>(h));
    EXPECT_EQ(got, (std::vector<float>{0.0f, 1.0f, 2.0f, 896.0f, -192.0f}));
  }
  {
    OneNode n("DequantizeLinear", 3, 1, 21);
    const std::string message = error_of([&] {
      n.run1({x, Tensor::scalar<float>(1.0f), float8_tensor<float8_e4m3fn>({0x01})});
    });
    EXPECT_NE(message.find("zero point must be 0"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace sluice
