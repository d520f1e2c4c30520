#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sluice/sluice.hpp"

using namespace sluice;
using ::testing::HasSubstr;

TEST(ElementType, SizesAndNames) {
  EXPECT_EQ(element_size(ElementType::f32), 4u);
  EXPECT_EQ(element_size(ElementType::bf16), 2u);
  EXPECT_EQ(element_size(ElementType::u64), 8u);
  EXPECT_EQ(element_size(ElementType::boolean), 1u);
  EXPECT_EQ(to_string(ElementType::i16), "i16");
  EXPECT_EQ(parse_element_type("FP32"), ElementType::f32);
  EXPECT_EQ(parse_element_type("bool"), ElementType::boolean);
  EXPECT_EQ(parse_element_type("bf16"), ElementType::bf16);
}

TEST(ElementType, UnknownNameListsAccepted) {
  try {
    parse_element_type("f128");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("f128"));
    EXPECT_THAT(e.what(), HasSubstr("f32, f16, bf16"));
  }
}

TEST(Float16, RoundTripsAndRounds) {
  EXPECT_EQ(float16(1.0f).bits, 0x3c00);
  EXPECT_EQ(float16(-2.0f).bits, 0xc000);
  EXPECT_EQ(float16(65504.0f).bits, 0x7bff);
  EXPECT_EQ(float16(65520.0f).bits, 0x7c00);                // overflows to inf
  EXPECT_EQ(float16(5.960464477539063e-08f).bits, 0x0001);  // smallest subnormal
  EXPECT_EQ(float16(1.0f + 1.0f / 2048).bits, 0x3c00);      // tie rounds to even
  EXPECT_EQ(float16(1.0f + 3.0f / 2048).bits, 0x3c02);      // tie rounds to even (up)
  EXPECT_TRUE(std::isnan(static_cast<float>(float16(std::numeric_limits<float>::quiet_NaN()))));
  for (float v : {0.0f, 0.5f, -3.25f, 1024.0f, 6.1035156e-05f, 3.0517578e-05f}) {
    EXPECT_EQ(static_cast<float>(float16(v)), v);
  }
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(bfloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(static_cast<float>(bfloat16(3.140625f)), 3.140625f);
  EXPECT_EQ(bfloat16(1.00390625f).bits, 0x3f80);  // tie to even
  EXPECT_EQ(bfloat16(1.01171875f).bits, 0x3f82);  // tie to even (up)
  EXPECT_TRUE(std::isnan(static_cast<float>(bfloat16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(Shape, PartialShapes) {
  PartialShape s{Dimension::dynamic("batch"), 3, 224, 224};
  EXPECT_EQ(s.to_string(), "[batch,3,224,224]");
  EXPECT_FALSE(s.is_static());
  EXPECT_TRUE(s.accepts({8, 3, 224, 224}));
  EXPECT_FALSE(s.accepts({8, 3, 224}));
  EXPECT_FALSE(s.accepts({8, 1, 224, 224}));
  EXPECT_EQ(PartialShape::unknown_rank().to_string(), "[...]");
  EXPECT_THROW(s.to_shape(), Error);
  EXPECT_EQ(PartialShape(Shape{2, 3}).to_shape(), (Shape{2, 3}));
}

TEST(Tensor, SliceIsAViewOfRowsThatKeepsTheMemoryAlive) {
  Tensor part;
  {
    Tensor whole = Tensor::from<float>({3, 2}, {1, 2, 3, 4, 5, 6});
    part = whole.slice(1, 3);
    EXPECT_EQ(part.shape(), (Shape{2, 2}));
    EXPECT_EQ(part.data(), whole.data<float>() + 2);
    part.data<float>()[0] = 30;
    EXPECT_EQ(whole.data<float>()[2], 30);
    EXPECT_EQ(whole.slice(3, 3).size(), 0);
    EXPECT_THROW(whole.slice(2, 4), Error);
    EXPECT_THROW(whole.slice(-1, 1), Error);
    EXPECT_THROW(whole.slice(2, 1), Error);
    EXPECT_THROW(Tensor::scalar(1.f).slice(0, 1), Error);
  }
  // The owner is gone; the view still holds the memory.
  EXPECT_EQ(part.data<float>()[0], 30);
  EXPECT_EQ(part.data<float>()[3], 6);
}

TEST(Tensor, OwnsOrWrapsMemory) {
  Tensor owned(ElementType::f32, {2, 3});
  EXPECT_TRUE(owned.owns_memory());
  EXPECT_EQ(owned.byte_size(), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(owned.data()) % 64, 0u);
  for (float v : owned.values<float>()) EXPECT_EQ(v, 0.0f);

  float buffer[6] = {1, 2, 3, 4, 5, 6};
  Tensor wrapped(ElementType::f32, {2, 3}, buffer);
  EXPECT_FALSE(wrapped.owns_memory());
  EXPECT_EQ(wrapped.data(), buffer);
  Tensor copy = wrapped;  // handles share memory
  copy.data<float>()[0] = 42;
  EXPECT_EQ(buffer[0], 42);
  Tensor deep = wrapped.clone();
  deep.data<float>()[1] = 7;
  EXPECT_EQ(buffer[1], 2);
  EXPECT_EQ(wrapped.reshaped({3, 2}).data(), buffer);
}

TEST(Tensor, RejectsBadInput) {
  float buffer[4] = {};
  EXPECT_THROW(Tensor(ElementType::f32, {-1, 2}), Error);
  EXPECT_THROW(Tensor(ElementType::undefined, {2}), Error);
  EXPECT_THROW(Tensor(ElementType::f32, {2}, nullptr), Error);
  try {
    Tensor(ElementType::f32, {2, 3}, buffer, sizeof buffer);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs 24 bytes"));
    EXPECT_THAT(e.what(), HasSubstr("has 16"));
  }
  Tensor t(ElementType::f32, {2, 2}, buffer, sizeof buffer);
  EXPECT_THROW(t.data<int32_t>(), Error);
  EXPECT_THROW(t.reshaped({3}), Error);
  EXPECT_THROW((Tensor::from<float>({3}, {1.0f, 2.0f})), Error);
}

TEST(Properties, TypedAndStringValues) {
  auto [name, value] = props::num_streams(4);
  EXPECT_EQ(name, "NUM_STREAMS");
  EXPECT_EQ(value.as<int64_t>(), 4);
  EXPECT_EQ(Any("AUTO").as<int64_t>(), props::streams_auto);
  EXPECT_EQ(Any("throughput").as<PerformanceMode>(), PerformanceMode::THROUGHPUT);
  EXPECT_EQ(Any(PerformanceMode::LATENCY).to_string(), "LATENCY");
  EXPECT_TRUE(Any("YES").as<bool>());
  EXPECT_FALSE(Any("false").as<bool>());
  EXPECT_EQ(Any("a, b,c").as<std::vector<std::string>>(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_THROW(Any("maybe").as<bool>(), Error);
}

TEST(Properties, NormalizeNamesPropertyAndAccepted) {
  const PropertyInfo* streams = find_property_info("NUM_STREAMS");
  ASSERT_NE(streams, nullptr);
  EXPECT_EQ(normalize_property(*streams, Any("3")).as<int64_t>(), 3);
  EXPECT_EQ(normalize_property(*streams, Any("AUTO")).as<int64_t>(), -1);
  try {
    normalize_property(*streams, Any("many"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("NUM_STREAMS"));
    EXPECT_THAT(e.what(), HasSubstr("'many'"));
    EXPECT_THAT(e.what(), HasSubstr("AUTO"));
  }
  const PropertyInfo* precision = find_property_info("INFERENCE_PRECISION_HINT");
  EXPECT_EQ(normalize_property(*precision, Any("BF16")).as<ElementType>(), ElementType::bf16);
  EXPECT_THROW(normalize_property(*precision, Any("i8")), Error);
  const PropertyInfo* hint = find_property_info("PERFORMANCE_HINT");
  EXPECT_THROW(normalize_property(*hint, Any("FAST")), Error);
  EXPECT_EQ(find_property_info("NO_SUCH_PROPERTY"), nullptr);
}
