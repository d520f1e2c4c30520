// Values that are not plain numeric tensors, end to end: string tensors, sequences and optionals in the
// Tensor type, at the request's ports (checks, unset optional inputs, results) and through every device
// that runs them (REF, CPU with its reference fallback, MULTI), plus the errors for operators and devices
// that do not take them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph_builder.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using test::Builder;
using ::testing::HasSubstr;

Tensor strings(Shape shape, std::initializer_list<std::string> values) {
  return Tensor::from<std::string>(std::move(shape), values);
}

std::vector<std::string> string_values(const Tensor& t) {
  auto v = t.values<std::string>();
  return {v.begin(), v.end()};
}

// ---- Tensor --------------------------------------------------------------------------------------------

TEST(StringTensor, OwnedElementsAreConstructedCopiedAndIndependent) {
  Tensor empty(ElementType::string, {3});
  EXPECT_EQ(string_values(empty), (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(empty.byte_size(), 3 * sizeof(std::string));

  // Long strings live on the heap: a byte-wise copy would share (and double-free) them.
  const std::string long_text(100, 'x');
  Tensor t = strings({2, 2}, {"a", long_text, "", "héllo"});
  Tensor copy = t.clone();
  t.data<std::string>()[1] = "changed";
  EXPECT_EQ(string_values(copy), (std::vector<std::string>{"a", long_text, "", "héllo"}));

  Tensor dst(ElementType::string, {4});
  copy.copy_to(dst);
  EXPECT_EQ(dst.data<std::string>()[1], long_text);

  Tensor row = copy.slice(1, 2);
  EXPECT_EQ(string_values(row), (std::vector<std::string>{"", "héllo"}));
}

TEST(StringTensor, CopyToChecksTypeAndCount) {
  Tensor s = strings({2}, {"a", "b"});
  Tensor f(ElementType::f32, {2});
  EXPECT_THAT([&] { s.copy_to(f); },
              ::testing::ThrowsMessage<Error>(HasSubstr("cannot copy a string tensor")));
  Tensor three(ElementType::string, {3});
  EXPECT_THROW(s.copy_to(three), Error);
}

TEST(SequenceTensor, HoldsItemsOfOneType) {
  Tensor a = Tensor::from<float>({2}, {1, 2});
  Tensor b = Tensor::from<float>({1, 3}, {3, 4, 5});
  Tensor seq = Tensor::sequence(ElementType::f32, {a, b});
  EXPECT_TRUE(seq.is_sequence());
  EXPECT_FALSE(seq.empty());
  EXPECT_EQ(seq.type(), ElementType::f32);
  EXPECT_EQ(seq.size(), 0);
  EXPECT_EQ(seq.byte_size(), 0u);
  ASSERT_EQ(seq.items().size(), 2u);
  EXPECT_EQ(seq.items()[1].shape(), (Shape{1, 3}));
  EXPECT_EQ(describe(seq), "sequence of 2 f32 tensors");
  EXPECT_TRUE(Tensor::sequence(ElementType::i64, {}).items().empty());

  // Items are shared; clone copies them.
  Tensor deep = seq.clone();
  a.data<float>()[0] = 100;
  EXPECT_EQ(seq.items()[0].data<float>()[0], 100);
  EXPECT_EQ(deep.items()[0].data<float>()[0], 1);
}

TEST(SequenceTensor, RejectsMixedItemsAndTensorOperations) {
  Tensor f = Tensor::from<float>({1}, {1});
  Tensor i = Tensor::from<int64_t>({1}, {1});
  EXPECT_THAT(
      [&] {
        Tensor::sequence(ElementType::f32, {f, i});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("item 1 is a i64 tensor [1]")));
  Tensor seq = Tensor::sequence(ElementType::f32, {f});
  EXPECT_THAT([&] { Tensor::sequence(ElementType::f32, {seq}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("item 0 is a sequence")));
  EXPECT_THROW(Tensor::sequence(ElementType::f32, {Tensor()}), Error);
  EXPECT_THROW(seq.reshaped({1}), Error);
  EXPECT_THROW(seq.slice(0, 1), Error);
  EXPECT_THROW(seq.copy_to(f), Error);
  EXPECT_THAT([&] { (void)f.items(); }, ::testing::ThrowsMessage<Error>(HasSubstr("not a sequence")));
}

// ---- Models through the devices -----------------------------------------------------------------------

const std::vector<std::string> devices = {"REF", "CPU", "MULTI:CPU,REF"};

class ValueKinds : public ::testing::TestWithParam<std::string> {
 protected:
  Core core;
};

// seq (sequence of f32 [?]) -> SequenceLength, SequenceAt(seq, 1), and seq itself.
Model sequence_model() {
  Builder b;
  graph::Value* seq = b.input("seq", PartialShape({Dimension::dynamic()}));
  seq->kind.sequence = true;
  graph::Value* length = b.node("SequenceLength", {seq});
  graph::Value* second = b.node("SequenceAt", {seq, b.constant(Tensor::scalar<int64_t>(1))});
  graph::Value* same = b.node("Identity", {seq});
  return b.finish({length, second, same});
}

TEST_P(ValueKinds, SequenceInputsAndOutputs) {
  Model model = sequence_model();
  CompiledModel compiled = core.compile_model(model, GetParam());
  ASSERT_EQ(compiled.inputs().size(), 1u);
  EXPECT_TRUE(compiled.inputs()[0].sequence);
  EXPECT_FALSE(compiled.outputs()[0].sequence);
  EXPECT_TRUE(compiled.outputs()[2].sequence);
  InferRequest request = compiled.create_infer_request();
  for (int round = 0; round < 2; ++round) {  // the second run reuses the CPU's plan
    const float base = static_cast<float>(round * 10);
    Tensor seq = Tensor::sequence(ElementType::f32, {Tensor::from<float>({1}, {base}),
                                                     Tensor::from<float>({3}, {base + 1, base + 2, base + 3}),
                                                     Tensor::from<float>({0}, {})});
    request.set_input_tensor(0, seq);
    request.infer();
    EXPECT_EQ(request.get_output_tensor(0).data<int64_t>()[0], 3);
    Tensor second = request.get_output_tensor(1);
    ASSERT_EQ(second.shape(), (Shape{3}));
    EXPECT_EQ(second.data<float>()[2], base + 3);
    Tensor same = request.get_output_tensor(2);
    ASSERT_TRUE(same.is_sequence());
    ASSERT_EQ(same.items().size(), 3u);
    EXPECT_EQ(same.items()[1].data<float>()[0], base + 1);
    EXPECT_EQ(same.items()[2].shape(), (Shape{0}));
  }
}

TEST_P(ValueKinds, SequencePortChecks) {
  CompiledModel compiled = core.compile_model(sequence_model(), GetParam());
  InferRequest request = compiled.create_infer_request();
  EXPECT_THAT([&] { request.set_input_tensor(0, Tensor::from<float>({1}, {1})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected a sequence of f32 tensors")));
  EXPECT_THAT([&] { request.set_input_tensor(0, Tensor::sequence(ElementType::i64, {})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("element type i64; expected f32")));
  Tensor two_d = Tensor::sequence(ElementType::f32, {Tensor::from<float>({1, 1}, {1})});
  EXPECT_THAT([&] { request.set_input_tensor(0, two_d); },
              ::testing::ThrowsMessage<Error>(HasSubstr("sequence item 0 has shape [1,1]")));
  EXPECT_THAT([&] { (void)request.get_input_tensor(0); },
              ::testing::ThrowsMessage<Error>(HasSubstr("Tensor::sequence")));
  EXPECT_THAT([&] { request.infer(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("input 'seq' has no tensor")));
  // SequenceAt past the end is the kernel's error, and the request stays usable.
  request.set_input_tensor(0, Tensor::sequence(ElementType::f32, {Tensor::from<float>({1}, {1})}));
  EXPECT_THAT([&] { request.infer(); }, ::testing::ThrowsMessage<Error>(HasSubstr("SequenceAt")));
  request.set_input_tensor(
      0, Tensor::sequence(ElementType::f32, {Tensor::from<float>({1}, {1}), Tensor::from<float>({1}, {2})}));
  request.infer();
  EXPECT_EQ(request.get_output_tensor(1).data<float>()[0], 2);
}

TEST_P(ValueKinds, TensorPortRejectsSequenceAndEmpty) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({2}));
  Model model = b.finish({b.node("Neg", {x})});
  InferRequest request = core.compile_model(model, GetParam()).create_infer_request();
  EXPECT_THAT([&] { request.set_input_tensor(0, Tensor::sequence(ElementType::f32, {})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected a f32 tensor")));
  EXPECT_THAT([&] { request.set_input_tensor(0, Tensor()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("the tensor is empty")));
}

// x: optional f32 tensor -> OptionalHasElement(x)
TEST_P(ValueKinds, UnsetOptionalInputIsAbsent) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({2}));
  x->kind.optional = true;
  Model model = b.finish({b.node("OptionalHasElement", {x})});
  CompiledModel compiled = core.compile_model(model, GetParam());
  EXPECT_TRUE(compiled.inputs()[0].optional);
  InferRequest request = compiled.create_infer_request();
  request.infer();  // no tensor set: the optional holds nothing
  EXPECT_FALSE(request.get_output_tensor(0).data<bool>()[0]);
  request.set_input_tensor(0, Tensor::from<float>({2}, {1, 2}));
  request.infer();
  EXPECT_TRUE(request.get_output_tensor(0).data<bool>()[0]);
  request.set_input_tensor(0, Tensor());  // explicitly absent again
  request.infer();
  EXPECT_FALSE(request.get_output_tensor(0).data<bool>()[0]);
}

// x: optional f32 tensor of dynamic shape, given straight back as the output; absent in, absent out.
TEST_P(ValueKinds, OptionalInputAsOutput) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({Dimension::dynamic()}));
  x->kind.optional = true;
  Model model = b.finish({b.node("Identity", {x})});
  InferRequest request = core.compile_model(model, GetParam()).create_infer_request();
  for (int64_t n : {3, 1}) {
    Tensor value(ElementType::f32, {n});
    value.data<float>()[0] = static_cast<float>(n);
    request.set_input_tensor(0, value);
    request.infer();
    Tensor out = request.get_output_tensor(0);
    ASSERT_EQ(out.shape(), (Shape{n}));
    EXPECT_EQ(out.data<float>()[0], static_cast<float>(n));
  }
  request.set_input_tensor(0, Tensor());
  request.infer();
  EXPECT_TRUE(request.get_output_tensor(0).empty());
}

// a, b: string [2] -> StringConcat(a, b), with the output bound to the application's tensor.
TEST_P(ValueKinds, StringTensorsInAndOut) {
  Builder b(20);
  graph::Value* a = b.input("a", PartialShape({2}), ElementType::string);
  graph::Value* c = b.input("b", PartialShape({2}), ElementType::string);
  Model model = b.finish({b.node("StringConcat", {a, c})});
  CompiledModel compiled = core.compile_model(model, GetParam());
  EXPECT_EQ(compiled.outputs()[0].type, ElementType::string);
  InferRequest request = compiled.create_infer_request();
  const std::string long_text(64, 'z');
  request.set_input_tensor(0, strings({2}, {"ab", long_text}));
  request.set_input_tensor(1, strings({2}, {"c", "!"}));
  Tensor bound(ElementType::string, {2});
  request.set_output_tensor(0, bound);
  request.infer();
  EXPECT_EQ(string_values(bound), (std::vector<std::string>{"abc", long_text + "!"}));
  EXPECT_EQ(request.get_output_tensor(0).data(), bound.data());
}

// Shape inference, when the model is made, rejects them for operators that do not take them.
TEST(ValueKindsModel, OperatorsWithoutSupportRejectThem) {
  {
    Builder b;
    graph::Value* seq = b.input("seq", PartialShape({2}));
    seq->kind.sequence = true;
    graph::Value* relu = b.node("Relu", {seq});
    EXPECT_THAT(
        [&] { b.finish({relu}); },
        ::testing::ThrowsMessage<Error>(HasSubstr("input 0 ('seq') is a sequence; Relu takes tensors only")));
  }
  {
    Builder b;
    graph::Value* s = b.input("s", PartialShape({2}), ElementType::string);
    graph::Value* sum = b.node("Add", {s, s});
    EXPECT_THAT([&] { b.finish({sum}); },
                ::testing::ThrowsMessage<Error>(HasSubstr("has string elements; Add does not take strings")));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, ValueKinds, ::testing::ValuesIn(devices), [](const auto& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

TEST(ValueKindsBatch, SequencesAndStringsCannotBeBatched) {
  Core core;
  EXPECT_THAT([&] { core.compile_model(sequence_model(), "BATCH:CPU(2)"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("input 'seq' is a sequence")));
  Builder b(20);
  graph::Value* a = b.input("a", PartialShape({1, 2}), ElementType::string);
  Model model = b.finish({b.node("StringConcat", {a, a})});
  EXPECT_THAT([&] { core.compile_model(model, "BATCH:CPU(2)"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("input 'a' is a string tensor")));
}

}  // namespace
}  // namespace sluice
