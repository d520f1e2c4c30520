// The 4-bit integer types i4 / u4 (ONNX INT4 / UINT4): reading packed TensorProto data (raw_data and
// int32_data, odd and even counts) into one-element-per-byte tensors, and Cast / CastLike /
// QuantizeLinear / DequantizeLinear with them as one-node models on the REF and CPU devices (the CPU
// declines these types and falls back to the reference kernels).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "frontend/onnx_internal.hpp"
#include "graph/graph.hpp"
#include "graph/onnx_data_types.hpp"
#include "graph_builder.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using ET = ElementType;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan = std::numeric_limits<float>::quiet_NaN();

// The ONNX DataType codes.
constexpr int64_t onnx_float = 1, onnx_uint8 = 2, onnx_int8 = 3, onnx_string = 8, onnx_float16 = 10,
                  onnx_uint4 = 21, onnx_int4 = 22;

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A 1-D tensor of a 4-bit type holding `values` (one per byte).
Tensor tensor_4bit(ET type, const std::vector<int>& values, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  Tensor t(type, shape);
  auto* p = static_cast<uint8_t*>(t.data());
  for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<uint8_t>(values[i]);
  return t;
}

// The values of an i4 / u4 tensor (or i8 / u8).
std::vector<int> values_4bit(const Tensor& t) {
  std::vector<int> out;
  const auto* p = static_cast<const uint8_t*>(t.data());
  const bool is_signed = t.type() == ET::i4 || t.type() == ET::i8;
  for (int64_t i = 0; i < t.size(); ++i) out.push_back(is_signed ? static_cast<int8_t>(p[i]) : p[i]);
  return out;
}

std::vector<float> floats_of(const Tensor& t) {
  const auto v = t.values<float>();
  return std::vector<float>(v.begin(), v.end());
}

Tensor f32(const std::vector<float>& v, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(v.size())};
  return Tensor::from<float>(shape, std::span<const float>(v));
}

// ---- The element types ----------------------------------------------------------------------------------

TEST(Int4, ElementTypes) {
  EXPECT_EQ(element_size(ET::i4), 1u);
  EXPECT_EQ(element_size(ET::u4), 1u);
  EXPECT_EQ(to_string(ET::i4), "i4");
  EXPECT_EQ(to_string(ET::u4), "u4");
  EXPECT_EQ(parse_element_type("i4"), ET::i4);
  EXPECT_EQ(parse_element_type("U4"), ET::u4);
  EXPECT_EQ(element_type_v<int4>, ET::i4);
  EXPECT_EQ(element_type_v<uint4>, ET::u4);
  EXPECT_EQ(element_type_v<int8_t>, ET::i8);  // stays the 8-bit type
  EXPECT_EQ(element_type_v<uint8_t>, ET::u8);
  EXPECT_TRUE(is_int4(ET::i4) && is_int4(ET::u4) && !is_int4(ET::i8));
  EXPECT_FALSE(is_integer(ET::i4));  // arithmetic does not take them
  EXPECT_EQ(graph::element_type_from_onnx(22, "t"), ET::i4);
  EXPECT_EQ(graph::element_type_from_onnx(21, "t"), ET::u4);
  EXPECT_THAT(error_of([] { graph::element_type_from_onnx(23, "t"); }), HasSubstr("FLOAT4E2M1"));
}

// ---- Reading packed TensorProto data ----------------------------------------------------------------------

onnx::TensorProto proto_of(int32_t data_type, const std::vector<int64_t>& dims) {
  onnx::TensorProto t;
  t.set_name("w");
  t.set_data_type(data_type);
  for (int64_t d : dims) t.add_dims(d);
  return t;
}

Tensor read(const onnx::TensorProto& proto) {
  return frontend::detail::tensor_from_proto(proto, "", "tensor 'w'");
}

TEST(Int4Proto, RawDataOddCountLowNibbleFirst) {
  onnx::TensorProto p = proto_of(onnx_int4, {5});
  p.set_raw_data(std::string("\x21\xF8\x07", 3));  // 1, 2 | -8, -1 | 7, padding
  const Tensor t = read(p);
  EXPECT_EQ(t.type(), ET::i4);
  EXPECT_EQ(t.shape(), (Shape{5}));
  EXPECT_EQ(t.byte_size(), 5u);
  EXPECT_EQ(values_4bit(t), (std::vector<int>{1, 2, -8, -1, 7}));

  p.set_data_type(onnx_uint4);
  EXPECT_EQ(values_4bit(read(p)), (std::vector<int>{1, 2, 8, 15, 7}));
}

TEST(Int4Proto, RawDataEvenCount) {
  onnx::TensorProto p = proto_of(onnx_uint4, {2, 2});
  p.set_raw_data(std::string("\x9A\x0F", 2));
  const Tensor t = read(p);
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  EXPECT_EQ(values_4bit(t), (std::vector<int>{10, 9, 15, 0}));
  p.set_data_type(onnx_int4);
  EXPECT_EQ(values_4bit(read(p)), (std::vector<int>{-6, -7, -1, 0}));
}

TEST(Int4Proto, RawDataOfTheWrongSizeIsAnError) {
  onnx::TensorProto p = proto_of(onnx_int4, {5});
  p.set_raw_data(std::string("\x21\xF8", 2));  // needs ceil(5 / 2) = 3
  EXPECT_THAT(error_of([&] { read(p); }), AllOf(HasSubstr("tensor 'w'"), HasSubstr("raw_data has 2 bytes"),
                                                HasSubstr("(3 bytes, two elements per byte)")));
  p.set_raw_data(std::string("\x21\xF8\x07\x00\x00", 5));  // one byte per element is not accepted
  EXPECT_THAT(error_of([&] { read(p); }), HasSubstr("raw_data has 5 bytes"));
}

TEST(Int4Proto, Int32DataHoldsPackedBytes) {
  // As the ONNX backend tests store them: test_cast_INT4_to_INT8's first values.
  onnx::TensorProto p = proto_of(onnx_int4, {5});
  for (int v : {136, 169, 7}) p.add_int32_data(v);  // 0x88, 0xA9, 0x07
  EXPECT_EQ(values_4bit(read(p)), (std::vector<int>{-8, -8, -7, -6, 7}));
  p.set_data_type(onnx_uint4);
  EXPECT_EQ(values_4bit(read(p)), (std::vector<int>{8, 8, 9, 10, 7}));

  onnx::TensorProto even = proto_of(onnx_int4, {4});
  for (int v : {0x21, -8}) even.add_int32_data(v);  // a byte given as a signed value: 0xF8
  EXPECT_EQ(values_4bit(read(even)), (std::vector<int>{1, 2, -8, -1}));

  onnx::TensorProto wrong = proto_of(onnx_int4, {5});
  for (int v : {1, 2, 3, 4, 5}) wrong.add_int32_data(v);  // one per element: not packed
  EXPECT_THAT(error_of([&] { read(wrong); }),
              AllOf(HasSubstr("int32_data has 5 values"), HasSubstr("expected 3")));
  onnx::TensorProto big = proto_of(onnx_uint4, {2});
  big.add_int32_data(300);
  EXPECT_THAT(error_of([&] { read(big); }), HasSubstr("int32_data[0] = 300"));
}

TEST(Int4Proto, EmptyTensor) {
  onnx::TensorProto p = proto_of(onnx_int4, {0, 3});
  p.set_raw_data("");
  EXPECT_EQ(read(p).size(), 0);
}

// ---- One-node models on REF and CPU ---------------------------------------------------------------------

using Attrs = std::map<std::string, graph::AttributeValue>;

using test::one_node_model;

Tensor run_on(const std::string& device, const std::string& op, int64_t opset,
              const std::vector<Tensor>& inputs, Attrs attrs = {}) {
  static Core core;
  CompiledModel compiled = core.compile_model(one_node_model(op, opset, inputs, std::move(attrs)), device);
  InferRequest request = compiled.create_infer_request();
  for (size_t i = 0; i < inputs.size(); ++i) request.set_input_tensor(i, inputs[i]);
  request.infer();
  return request.get_output_tensor(0).clone();
}

const char* const devices[] = {"REF", "CPU"};

TEST(Int4Cast, FloatToInt4RoundsToNearestEvenAndSaturates) {
  const Tensor x =
      f32({-9.0f, -8.5f, -7.5f, -0.5f, 0.5f, 1.5f, 2.5f, 6.5f, 7.5f, 100.0f, nan, -inf, inf, 3.49f});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor i4 = run_on(device, "Cast", 21, {x}, {{"to", onnx_int4}});
    EXPECT_EQ(i4.type(), ET::i4);
    EXPECT_EQ(values_4bit(i4), (std::vector<int>{-8, -8, -8, 0, 0, 2, 2, 6, 7, 7, 0, -8, 7, 3}));
    const Tensor u4 = run_on(device, "Cast", 21, {x}, {{"to", onnx_uint4}});
    EXPECT_EQ(u4.type(), ET::u4);
    EXPECT_EQ(values_4bit(u4), (std::vector<int>{0, 0, 0, 0, 0, 2, 2, 6, 8, 15, 0, 0, 15, 3}));
  }
}

TEST(Int4Cast, Float16AndIntegersToInt4) {
  std::vector<float16> h;
  for (float v : {-9.0f, -2.5f, 7.5f, 8.0f}) h.push_back(float16(v));
  const Tensor xh = Tensor::from<float16>({4}, std::span<const float16>(h));
  const Tensor x8 =
      Tensor::from<int8_t>({6}, {int8_t{-128}, int8_t{-9}, int8_t{-8}, int8_t{7}, int8_t{8}, int8_t{127}});
  const Tensor x64 = Tensor::from<int64_t>(
      {3}, {std::numeric_limits<int64_t>::min(), int64_t{5}, std::numeric_limits<int64_t>::max()});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {xh}, {{"to", onnx_int4}})),
              (std::vector<int>{-8, -2, 7, 7}));
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {x8}, {{"to", onnx_int4}})),
              (std::vector<int>{-8, -8, -8, 7, 7, 7}));
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {x8}, {{"to", onnx_uint4}})),
              (std::vector<int>{0, 0, 0, 7, 8, 15}));
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {x64}, {{"to", onnx_int4}})),
              (std::vector<int>{-8, 5, 7}));
  }
}

TEST(Int4Cast, FromInt4IsExact) {
  const Tensor i4 = tensor_4bit(ET::i4, {-8, -1, 0, 7});
  const Tensor u4 = tensor_4bit(ET::u4, {0, 7, 8, 15});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    EXPECT_EQ(floats_of(run_on(device, "Cast", 21, {i4}, {{"to", onnx_float}})),
              (std::vector<float>{-8, -1, 0, 7}));
    EXPECT_EQ(floats_of(run_on(device, "Cast", 21, {u4}, {{"to", onnx_float}})),
              (std::vector<float>{0, 7, 8, 15}));
    const Tensor h = run_on(device, "Cast", 21, {i4}, {{"to", onnx_float16}});
    ASSERT_EQ(h.type(), ET::f16);
    EXPECT_EQ(static_cast<float>(h.values<float16>()[0]), -8.0f);
    const Tensor i8 = run_on(device, "Cast", 21, {i4}, {{"to", onnx_int8}});
    EXPECT_EQ(i8.type(), ET::i8);
    EXPECT_EQ(values_4bit(i8), (std::vector<int>{-8, -1, 0, 7}));
    const Tensor u8 = run_on(device, "Cast", 21, {u4}, {{"to", onnx_uint8}});
    EXPECT_EQ(u8.type(), ET::u8);
    EXPECT_EQ(values_4bit(u8), (std::vector<int>{0, 7, 8, 15}));
    // Between the 4-bit types: saturating.
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {i4}, {{"to", onnx_uint4}})),
              (std::vector<int>{0, 0, 0, 7}));
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {u4}, {{"to", onnx_int4}})),
              (std::vector<int>{0, 7, 7, 7}));
  }
}

TEST(Int4Cast, StringsAndCastLike) {
  const Tensor i4 = tensor_4bit(ET::i4, {-8, 7});
  const std::vector<std::string> s{"3.5", "-2.5", "-100", "12"};
  const Tensor strings = Tensor::from<std::string>({4}, std::span<const std::string>(s));
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor text = run_on(device, "Cast", 21, {i4}, {{"to", onnx_string}});
    EXPECT_EQ(text.values<std::string>()[0], "-8");
    EXPECT_EQ(text.values<std::string>()[1], "7");
    EXPECT_EQ(values_4bit(run_on(device, "Cast", 21, {strings}, {{"to", onnx_int4}})),
              (std::vector<int>{4, -2, -8, 7}));
    const Tensor like = run_on(device, "CastLike", 21, {f32({-3.5f, 20.0f}), tensor_4bit(ET::u4, {0})});
    EXPECT_EQ(like.type(), ET::u4);
    EXPECT_EQ(values_4bit(like), (std::vector<int>{0, 15}));
  }
}

TEST(Int4Quantize, QuantizeLinearPerTensor) {
  const Tensor x = f32({0, 2, 3, 5, -100, 100, 1});
  const Tensor scale = Tensor::scalar<float>(2.0f);
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    // x / 2 = 0, 1, 1.5, 2.5, -50, 50, 0.5: rounded to nearest even, plus the zero point 1, saturated.
    const Tensor i4 = run_on(device, "QuantizeLinear", 21, {x, scale, tensor_4bit(ET::i4, {1}, Shape{})});
    EXPECT_EQ(i4.type(), ET::i4);
    EXPECT_EQ(values_4bit(i4), (std::vector<int>{1, 2, 3, 3, -8, 7, 1}));
    const Tensor u4 = run_on(device, "QuantizeLinear", 21, {x, scale, tensor_4bit(ET::u4, {1}, Shape{})});
    EXPECT_EQ(u4.type(), ET::u4);
    EXPECT_EQ(values_4bit(u4), (std::vector<int>{1, 2, 3, 3, 0, 15, 1}));
    // The type from output_dtype, without a zero point.
    const Tensor dtype = run_on(device, "QuantizeLinear", 21, {x, scale}, {{"output_dtype", onnx_uint4}});
    EXPECT_EQ(dtype.type(), ET::u4);
    EXPECT_EQ(values_4bit(dtype), (std::vector<int>{0, 1, 2, 2, 0, 15, 0}));
  }
}

TEST(Int4Quantize, QuantizeLinearPerAxis) {
  const Tensor x = f32({1, -3, 9, 4, -40, 8}, Shape{2, 3});
  const Tensor scales = f32({1, 4});
  const Tensor zps = tensor_4bit(ET::i4, {0, -2});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor y = run_on(device, "QuantizeLinear", 21, {x, scales, zps}, {{"axis", int64_t{0}}});
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(values_4bit(y), (std::vector<int>{1, -3, 7, -1, -8, 0}));
  }
}

TEST(Int4Quantize, DequantizeLinearPerTensorAndPerAxis) {
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const Tensor y = run_on(device, "DequantizeLinear", 21,
                            {tensor_4bit(ET::i4, {-8, -1, 0, 7}), Tensor::scalar<float>(0.5f),
                             tensor_4bit(ET::i4, {-1}, Shape{})});
    EXPECT_EQ(floats_of(y), (std::vector<float>{-3.5f, 0.0f, 0.5f, 4.0f}));
    const Tensor z =
        run_on(device, "DequantizeLinear", 21,
               {tensor_4bit(ET::u4, {0, 15, 3, 4}, Shape{2, 2}), f32({1, 2}), tensor_4bit(ET::u4, {1, 15})},
               {{"axis", int64_t{0}}});
    EXPECT_EQ(floats_of(z), (std::vector<float>{-1.0f, 14.0f, -24.0f, -22.0f}));
  }
}

TEST(Int4Quantize, Int4NeedsOpset21) {
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    EXPECT_THAT(error_of([&] {
                  run_on(device, "QuantizeLinear", 19,
                         {f32({1}), Tensor::scalar<float>(1.0f), tensor_4bit(ET::i4, {0}, Shape{})});
                }),
                AllOf(HasSubstr("quantized type i4 is not supported"), HasSubstr("u8, i8 or a float8 type")));
    EXPECT_THAT(
        error_of([&] {
          run_on(device, "DequantizeLinear", 19, {tensor_4bit(ET::u4, {1}), Tensor::scalar<float>(1.0f)});
        }),
        HasSubstr("input 'x' is u4"));
  }
}

TEST(Int4Errors, OtherOperatorsRejectInt4Clearly) {
  const Tensor a = tensor_4bit(ET::i4, {1, 2});
  for (const char* device : devices) {
    SCOPED_TRACE(device);
    const std::string message = error_of([&] { run_on(device, "Add", 14, {a, a}); });
    EXPECT_THAT(message, AllOf(HasSubstr("Add"), HasSubstr("i4"))) << message;
  }
}

}  // namespace
}  // namespace sluice
