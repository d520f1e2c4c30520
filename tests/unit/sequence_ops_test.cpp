// The sequence and optional operators (src/ops/sequence.cpp), Identity, If and Loop carrying sequences and
// optionals: reference kernels on one-node graphs with values worked out by hand, shape and kind
// inference, the errors for bad positions and axes, and whole graphs compiled on REF and CPU.
#include <functional>
#include <string>
#include <vector>

#include "graph_builder.hpp"
#include "ops_one_node_harness.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using graph::Graph;
using graph::GraphPtr;
using graph::ValueKind;
using ops_test::error_of;
using ops_test::f32;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr ValueKind kSequence{true, false};
constexpr ValueKind kOptionalTensor{false, true};
constexpr ValueKind kOptionalSequence{true, true};

Tensor i64(Shape shape, const std::vector<int64_t>& values) {
  return Tensor::from<int64_t>(std::move(shape), std::span<const int64_t>(values));
}

Tensor seq_f32(std::vector<Tensor> items) { return Tensor::sequence(ElementType::f32, std::move(items)); }

// {1,2}, {3,4,5}, {6}: three f32 vectors of different lengths.
Tensor three_vectors() { return seq_f32({f32({2}, {1, 2}), f32({3}, {3, 4, 5}), f32({1}, {6})}); }

// The first values of each item of a sequence of f32 tensors.
std::vector<std::vector<float>> items_of(const Tensor& seq) {
  EXPECT_TRUE(seq.is_sequence());
  std::vector<std::vector<float>> out;
  for (const Tensor& item : seq.items()) out.push_back(values_of<float>(item));
  return out;
}

using Rows = std::vector<std::vector<float>>;

// Declares input i of a one-node graph as a value of the given kind.
void declare(OneNode& n, size_t i, ElementType type, PartialShape shape, ValueKind kind) {
  n.input(i, type, std::move(shape));
  n.node->inputs[i]->kind = kind;
}

// ---- SequenceEmpty / SequenceConstruct ----

TEST(SequenceEmpty, MakesAnEmptySequenceOfTheDtype) {
  OneNode n("SequenceEmpty", 0, 1, 11);
  Tensor out = n.run1({});
  ASSERT_TRUE(out.is_sequence());
  EXPECT_EQ(out.type(), ElementType::f32);  // the default dtype
  EXPECT_TRUE(out.items().empty());
  n.attr("dtype", int64_t{7});  // onnx.TensorProto.INT64
  EXPECT_EQ(n.run1({}).type(), ElementType::i64);
  const graph::Value& v = n.infer();
  EXPECT_EQ(v.kind, kSequence);
  EXPECT_EQ(v.type, ElementType::i64);
}

TEST(SequenceConstruct, CopiesItsInputsIntoASequence) {
  OneNode n("SequenceConstruct", 2, 1, 11);
  const Tensor a = f32({2}, {1, 2});
  const Tensor b = f32({3}, {3, 4, 5});
  Tensor out = n.run1({a, b});
  EXPECT_EQ(items_of(out), (Rows{{1, 2}, {3, 4, 5}}));
  // The items are copies: the sequence does not keep the inputs' buffers.
  EXPECT_NE(out.items()[0].data(), a.data());
  EXPECT_THAT(error_of([&] {
                n.run({a, i64({1}, {7})});
              }),
              HasSubstr("SequenceConstruct node 'n': input 1 is a i64 tensor [1]"));
}

TEST(SequenceConstruct, InfersTheShapeTheItemsShare) {
  OneNode n("SequenceConstruct", 2, 1, 11);
  n.input(0, ElementType::f32, PartialShape{2, 3});
  n.input(1, ElementType::f32, PartialShape{4, 3});
  const graph::Value& v = n.infer();
  EXPECT_EQ(v.kind, kSequence);
  EXPECT_EQ(v.type, ElementType::f32);
  EXPECT_EQ(v.shape.to_string(), "[?,3]");
  n.input(1, ElementType::i32, PartialShape{2, 3});
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("input 1 has element type i32; input 0 has f32"));
}

// ---- SequenceInsert ----

TEST(SequenceInsert, InsertsAtTheEndByDefaultAndAtAnyPosition) {
  const Tensor x = f32({1}, {9});
  OneNode at_end("SequenceInsert", 2, 1, 11);
  EXPECT_EQ(items_of(at_end.run1({three_vectors(), x})), (Rows{{1, 2}, {3, 4, 5}, {6}, {9}}));
  OneNode at("SequenceInsert", 3, 1, 11);
  EXPECT_EQ(items_of(at.run1({three_vectors(), x, i64({}, {0})})), (Rows{{9}, {1, 2}, {3, 4, 5}, {6}}));
  // A negative position counts from the end: -1 inserts before the last item.
  EXPECT_EQ(items_of(at.run1({three_vectors(), x, i64({}, {-1})})), (Rows{{1, 2}, {3, 4, 5}, {9}, {6}}));
  EXPECT_EQ(items_of(at.run1({three_vectors(), x, i64({}, {-3})})), (Rows{{9}, {1, 2}, {3, 4, 5}, {6}}));
  // Position n (the length) appends; int32 positions are accepted too.
  EXPECT_EQ(items_of(at.run1({three_vectors(), x, Tensor::scalar<int32_t>(3)})),
            (Rows{{1, 2}, {3, 4, 5}, {6}, {9}}));
  // The input sequence is left as it was.
  const Tensor seq = three_vectors();
  at.run1({seq, x, i64({}, {0})});
  EXPECT_EQ(seq.items().size(), 3u);
}

TEST(SequenceInsert, RejectsOutOfRangePositionsAndOtherTypes) {
  OneNode n("SequenceInsert", 3, 1, 11);
  const Tensor x = f32({1}, {9});
  EXPECT_THAT(error_of([&] {
                n.run({three_vectors(), x, i64({}, {4})});
              }),
              HasSubstr("SequenceInsert node 'n': position 4 is out of range for a sequence of 3 tensors; "
                        "expected [-3, 3]"));
  EXPECT_THAT(error_of([&] { n.run({three_vectors(), x, i64({}, {-4})}); }), HasSubstr("position -4"));
  EXPECT_THAT(error_of([&] {
                n.run({three_vectors(), i64({1}, {9}), i64({}, {0})});
              }),
              HasSubstr("input 'tensor' is a i64 tensor [1]; the sequence holds f32 tensors"));
  EXPECT_THAT(error_of([&] {
                n.run({three_vectors(), x, f32({}, {0})});
              }),
              HasSubstr("input 'position' must be an int32 or int64 scalar"));
  EXPECT_THAT(error_of([&] {
                n.run({x, x, i64({}, {0})});
              }),
              HasSubstr("input 0 'input_sequence' is a f32 tensor [1]; expected a sequence"));
}

TEST(SequenceInsert, InfersASequenceAndRejectsATensorInput) {
  OneNode n("SequenceInsert", 2, 1, 11);
  declare(n, 0, ElementType::f32, PartialShape{3}, kSequence);
  n.input(1, ElementType::f32, PartialShape{3});
  const graph::Value& v = n.infer();
  EXPECT_EQ(v.kind, kSequence);
  EXPECT_EQ(v.shape.to_string(), "[3]");
  OneNode ranks("SequenceInsert", 2, 1, 11);
  declare(ranks, 0, ElementType::f32, PartialShape{3}, kSequence);
  ranks.input(1, ElementType::f32, PartialShape{2, 3});
  EXPECT_EQ(ranks.infer().shape.to_string(), "[...]");  // items of different ranks
  n.input(1, ElementType::i64, PartialShape{3});
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("the sequence holds f32 tensors"));
  OneNode t("SequenceInsert", 2, 1, 11);
  t.input(0, ElementType::f32, PartialShape{3});
  t.input(1, ElementType::f32, PartialShape{3});
  EXPECT_THAT(error_of([&] { t.infer(); }),
              HasSubstr("input 0 'input_sequence' is a tensor; expected a sequence"));
}

// ---- SequenceErase / SequenceAt / SequenceLength ----

TEST(SequenceErase, ErasesTheLastItemByDefaultOrThePosition) {
  OneNode last("SequenceErase", 1, 1, 11);
  EXPECT_EQ(items_of(last.run1({three_vectors()})), (Rows{{1, 2}, {3, 4, 5}}));
  OneNode at("SequenceErase", 2, 1, 11);
  EXPECT_EQ(items_of(at.run1({three_vectors(), i64({}, {0})})), (Rows{{3, 4, 5}, {6}}));
  EXPECT_EQ(items_of(at.run1({three_vectors(), i64({}, {-2})})), (Rows{{1, 2}, {6}}));
  EXPECT_THAT(error_of([&] {
                at.run({three_vectors(), i64({}, {3})});
              }),
              HasSubstr("position 3 is out of range for a sequence of 3 tensors; expected [-3, 2]"));
  EXPECT_THAT(error_of([&] { last.run({seq_f32({})}); }), HasSubstr("cannot erase from an empty sequence"));
}

TEST(SequenceAt, ReturnsACopyOfTheItem) {
  OneNode n("SequenceAt", 2, 1, 11);
  const Tensor seq = three_vectors();
  Tensor second = n.run1({seq, i64({}, {1})});
  EXPECT_THAT(values_of<float>(second), ElementsAre(3, 4, 5));
  EXPECT_NE(second.data(), seq.items()[1].data());
  EXPECT_THAT(values_of<float>(n.run1({seq, i64({}, {-1})})), ElementsAre(6));
  EXPECT_THAT(values_of<float>(n.run1({seq, Tensor::scalar<int32_t>(-3)})), ElementsAre(1, 2));
}

TEST(SequenceAt, RejectsAnEmptySequenceAndOutOfRangePositions) {
  OneNode n("SequenceAt", 2, 1, 11);
  EXPECT_THAT(error_of([&] {
                n.run({seq_f32({}), i64({}, {0})});
              }),
              HasSubstr("SequenceAt node 'n': input 'input_sequence' is an empty sequence"));
  EXPECT_THAT(error_of([&] {
                n.run({three_vectors(), i64({}, {3})});
              }),
              HasSubstr("SequenceAt node 'n': position 3 is out of range for a sequence of 3 tensors"));
  EXPECT_THAT(error_of([&] {
                n.run({three_vectors(), i64({}, {-4})});
              }),
              HasSubstr("position -4 is out of range"));
}

TEST(SequenceAt, InfersATensorOfTheItemsTypeAndShape) {
  OneNode n("SequenceAt", 2, 1, 11);
  declare(n, 0, ElementType::f32, PartialShape{Dimension(), 4}, kSequence);
  n.input(1, ElementType::i64, PartialShape(Shape{}));
  const graph::Value& v = n.infer();
  EXPECT_TRUE(v.kind.is_tensor());
  EXPECT_EQ(v.type, ElementType::f32);
  EXPECT_EQ(v.shape.to_string(), "[?,4]");
  n.input(1, ElementType::f32, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("input 'position' has element type f32"));
}

TEST(SequenceLength, CountsTheItems) {
  OneNode n("SequenceLength", 1, 1, 11);
  EXPECT_THAT(values_of<int64_t>(n.run1({three_vectors()})), ElementsAre(3));
  Tensor empty = n.run1({seq_f32({})});
  EXPECT_EQ(empty.type(), ElementType::i64);
  EXPECT_EQ(empty.rank(), 0);
  EXPECT_THAT(values_of<int64_t>(empty), ElementsAre(0));
}

// ---- SplitToSequence ----

// [[0..5], [6..11]]: a 2x6 f32 tensor.
Tensor two_by_six() {
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  return f32({2, 6}, v);
}

TEST(SplitToSequence, ScalarSplitMakesEqualChunksAndAShorterLastOne) {
  OneNode n("SplitToSequence", 2, 1, 11);
  n.attr("axis", int64_t{1});
  Tensor out = n.run1({two_by_six(), i64({}, {4})});
  ASSERT_EQ(out.items().size(), 2u);
  EXPECT_EQ(to_string(out.items()[0].shape()), "[2,4]");
  EXPECT_THAT(values_of<float>(out.items()[0]), ElementsAre(0, 1, 2, 3, 6, 7, 8, 9));
  EXPECT_EQ(to_string(out.items()[1].shape()), "[2,2]");
  EXPECT_THAT(values_of<float>(out.items()[1]), ElementsAre(4, 5, 10, 11));
  EXPECT_THAT(error_of([&] {
                n.run({two_by_six(), i64({}, {0})});
              }),
              HasSubstr("input 'split' is 0; expected a positive chunk length"));
}

TEST(SplitToSequence, ListSplitGivesTheLengths) {
  OneNode n("SplitToSequence", 2, 1, 11);
  n.attr("axis", int64_t{-1});
  Tensor out = n.run1({two_by_six(), i64({3}, {1, 0, 5})});
  ASSERT_EQ(out.items().size(), 3u);
  EXPECT_THAT(values_of<float>(out.items()[0]), ElementsAre(0, 6));
  EXPECT_EQ(to_string(out.items()[1].shape()), "[2,0]");
  EXPECT_THAT(values_of<float>(out.items()[2]), ElementsAre(1, 2, 3, 4, 5, 7, 8, 9, 10, 11));
  EXPECT_THAT(error_of([&] {
                n.run({two_by_six(), i64({2}, {1, 2})});
              }),
              HasSubstr("input 'split' lengths sum to 3; the split axis has extent 6"));
  n.attr("axis", int64_t{2});
  EXPECT_THAT(error_of([&] {
                n.run({two_by_six(), i64({2}, {3, 3})});
              }),
              HasSubstr("SplitToSequence node 'n': axis 2 is out of range for rank 2"));
}

TEST(SplitToSequence, WithoutSplitMakesOnesAndKeepdimsDecides) {
  OneNode keep("SplitToSequence", std::vector<bool>{true}, 1, 11);
  Tensor kept = keep.run1({two_by_six()});
  ASSERT_EQ(kept.items().size(), 2u);
  EXPECT_EQ(to_string(kept.items()[1].shape()), "[1,6]");
  EXPECT_THAT(values_of<float>(kept.items()[1]), ElementsAre(6, 7, 8, 9, 10, 11));
  OneNode drop("SplitToSequence", std::vector<bool>{true}, 1, 11);
  drop.attr("keepdims", int64_t{0}).attr("axis", int64_t{1});
  Tensor dropped = drop.run1({two_by_six()});
  ASSERT_EQ(dropped.items().size(), 6u);
  EXPECT_EQ(to_string(dropped.items()[5].shape()), "[2]");
  EXPECT_THAT(values_of<float>(dropped.items()[5]), ElementsAre(5, 11));
}

TEST(SplitToSequence, InfersTheItemShape) {
  OneNode none("SplitToSequence", std::vector<bool>{true}, 1, 11);
  none.attr("keepdims", int64_t{0});
  none.input(0, ElementType::f32, PartialShape{2, 6});
  const graph::Value& v = none.infer();
  EXPECT_EQ(v.kind, kSequence);
  EXPECT_EQ(v.shape.to_string(), "[6]");
  OneNode scalar("SplitToSequence", 2, 1, 11);
  scalar.attr("axis", int64_t{1});
  scalar.input(0, ElementType::f32, PartialShape{2, 6});
  scalar.constant(1, i64({}, {3}));
  EXPECT_EQ(scalar.infer().shape.to_string(), "[2,3]");
  scalar.constant(1, i64({}, {4}));  // chunks of 4 and 2
  EXPECT_EQ(scalar.infer().shape.to_string(), "[2,?]");
}

// ---- ConcatFromSequence ----

TEST(ConcatFromSequence, ConcatenatesAlongAnExistingAxis) {
  OneNode n("ConcatFromSequence", 1, 1, 11);
  n.attr("axis", int64_t{1});
  const Tensor seq = seq_f32({f32({2, 1}, {1, 2}), f32({2, 2}, {3, 4, 5, 6})});
  Tensor out = n.run1({seq});
  EXPECT_EQ(to_string(out.shape()), "[2,3]");
  EXPECT_THAT(values_of<float>(out), ElementsAre(1, 3, 4, 2, 5, 6));
  n.attr("axis", int64_t{0});
  EXPECT_THAT(
      error_of([&] { n.run({seq}); }),
      HasSubstr(
          "sequence item 1 has shape [2,2]; item 0 has [2,1] (shapes must match except along the axis)"));
  n.attr("axis", int64_t{2});
  EXPECT_THAT(error_of([&] { n.run({seq}); }),
              HasSubstr("ConcatFromSequence node 'n': axis 2 is out of range"));
  EXPECT_THAT(error_of([&] { n.run({seq_f32({})}); }),
              HasSubstr("input 'input_sequence' is an empty sequence"));
}

TEST(ConcatFromSequence, NewAxisStacks) {
  OneNode n("ConcatFromSequence", 1, 1, 11);
  n.attr("axis", int64_t{-1}).attr("new_axis", int64_t{1});
  Tensor out = n.run1({seq_f32({f32({2}, {1, 2}), f32({2}, {3, 4}), f32({2}, {5, 6})})});
  EXPECT_EQ(to_string(out.shape()), "[2,3]");
  EXPECT_THAT(values_of<float>(out), ElementsAre(1, 3, 5, 2, 4, 6));
  // Scalars stack into a vector.
  n.attr("axis", int64_t{0});
  EXPECT_THAT(values_of<float>(n.run1({seq_f32({f32({}, {7}), f32({}, {8})})})), ElementsAre(7, 8));
  EXPECT_THAT(error_of([&] { n.run({three_vectors()}); }), HasSubstr("(stacking needs equal shapes)"));
}

TEST(ConcatFromSequence, CopiesStrings) {
  OneNode n("ConcatFromSequence", 1, 1, 11);
  n.attr("axis", int64_t{0});
  const Tensor a = Tensor::from<std::string>({1}, {std::string("a string longer than the small buffer")});
  const Tensor b = Tensor::from<std::string>({2}, {std::string("b"), std::string("c")});
  Tensor out = n.run1({Tensor::sequence(ElementType::string, {a, b})});
  EXPECT_THAT(values_of<std::string>(out), ElementsAre("a string longer than the small buffer", "b", "c"));
}

TEST(ConcatFromSequence, InfersTheAxisAsDynamic) {
  OneNode n("ConcatFromSequence", 1, 1, 11);
  n.attr("axis", int64_t{0}).attr("new_axis", int64_t{1});
  declare(n, 0, ElementType::f32, PartialShape{2, 3}, kSequence);
  const graph::Value& v = n.infer();
  EXPECT_TRUE(v.kind.is_tensor());
  EXPECT_EQ(v.shape.to_string(), "[?,2,3]");
  n.attr("new_axis", int64_t{0}).attr("axis", int64_t{1});
  EXPECT_EQ(n.infer().shape.to_string(), "[2,?]");
}

// ---- SequenceMap ----

using BodyFn = std::function<std::vector<Tensor>(const Graph&, const std::vector<Tensor>&)>;

class FunctionEnv : public graph::KernelEnv {
 public:
  explicit FunctionEnv(BodyFn fn) : fn_(std::move(fn)) {}
  std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) override {
    return fn_(body, inputs);
  }

 private:
  BodyFn fn_;
};

// A body with declared f32 inputs and outputs of unknown shape and no nodes (a BodyFn computes it).
GraphPtr declared_body(size_t inputs, size_t outputs) {
  auto g = std::make_shared<Graph>();
  g->name = "body";
  for (size_t i = 0; i < inputs; ++i) {
    graph::Value* v = g->add_value("in" + std::to_string(i));
    v->type = ElementType::f32;
    v->is_graph_input = true;
    g->inputs().push_back(v);
  }
  for (size_t i = 0; i < outputs; ++i) {
    graph::Value* v = g->add_value("out" + std::to_string(i));
    v->type = ElementType::f32;
    g->outputs().push_back(v);
  }
  return g;
}

// out0 = item + extra (element-wise, the extra broadcast when it has one element); out1 = the item's length.
std::vector<Tensor> add_and_count(const Graph&, const std::vector<Tensor>& in) {
  Tensor sum(ElementType::f32, in[0].shape());
  for (int64_t i = 0; i < sum.size(); ++i) {
    const float extra = in[1].size() == 1 ? in[1].data<float>()[0] : in[1].data<float>()[i];
    sum.data<float>()[i] = in[0].data<float>()[i] + extra;
  }
  return {sum, f32({}, {static_cast<float>(in[0].size())})};
}

TEST(SequenceMap, RunsTheBodyPerItemWithTensorInputsWhole) {
  OneNode n("SequenceMap", 2, 2, 17);
  n.subgraph("body", declared_body(2, 2));
  FunctionEnv env(add_and_count);
  auto out = n.run({three_vectors(), f32({1}, {10})}, env);
  EXPECT_EQ(items_of(out[0]), (Rows{{11, 12}, {13, 14, 15}, {16}}));
  EXPECT_EQ(items_of(out[1]), (Rows{{2}, {3}, {1}}));
}

TEST(SequenceMap, MapsSequencesTogether) {
  OneNode n("SequenceMap", 2, 2, 17);
  n.subgraph("body", declared_body(2, 2));
  FunctionEnv env(add_and_count);
  const Tensor other = seq_f32({f32({2}, {100, 200}), f32({1}, {1}), f32({1}, {-6})});
  auto out = n.run({three_vectors(), other}, env);
  EXPECT_EQ(items_of(out[0]), (Rows{{101, 202}, {4, 5, 6}, {0}}));
  const Tensor short_seq = seq_f32({f32({1}, {1})});
  EXPECT_THAT(error_of([&] {
                n.run({three_vectors(), short_seq}, env);
              }),
              HasSubstr("SequenceMap node 'n': input 1 is a sequence of 1 tensors; input 0 has 3"));
  // An empty sequence maps to empty sequences of the body's output types.
  out = n.run({seq_f32({}), seq_f32({})}, env);
  EXPECT_TRUE(out[0].is_sequence());
  EXPECT_TRUE(out[0].items().empty());
  EXPECT_EQ(out[0].type(), ElementType::f32);
}

TEST(SequenceMap, InfersSequencesOfTheBodysOutputs) {
  OneNode n("SequenceMap", 2, 1, 17);
  GraphPtr body = declared_body(2, 1);
  body->outputs()[0]->shape = PartialShape{Dimension::dynamic("N")};
  n.subgraph("body", body);
  declare(n, 0, ElementType::f32, PartialShape{Dimension::dynamic("N")}, kSequence);
  n.input(1, ElementType::f32, PartialShape{1});
  const graph::Value& v = n.infer();
  EXPECT_EQ(v.kind, kSequence);
  EXPECT_EQ(v.type, ElementType::f32);
  EXPECT_EQ(v.shape.to_string(), "[N]");
  OneNode bad("SequenceMap", 2, 1, 17);
  bad.subgraph("body", declared_body(1, 1));
  EXPECT_THAT(error_of([&] { bad.infer(); }), HasSubstr("attribute 'body' has 1 inputs; expected 2"));
}

// ---- Optional / OptionalHasElement / OptionalGetElement ----

TEST(Optional, WrapsItsInputOrMakesAnAbsentOptional) {
  OneNode wrap("Optional", 1, 1, 15);
  EXPECT_THAT(values_of<float>(wrap.run1({f32({2}, {1, 2})})), ElementsAre(1, 2));
  declare(wrap, 0, ElementType::f32, PartialShape{2}, kSequence);
  EXPECT_EQ(wrap.infer().kind, kOptionalSequence);
  OneNode none("Optional", 0, 1, 15);
  none.attr("type", graph::TypeAttribute{ElementType::i64, PartialShape{3}, kSequence});
  EXPECT_TRUE(none.run1({}).empty());
  const graph::Value& v = none.infer();
  EXPECT_EQ(v.kind, kOptionalSequence);
  EXPECT_EQ(v.type, ElementType::i64);
  EXPECT_EQ(v.shape.to_string(), "[3]");
  none.attr("type", graph::TypeAttribute{ElementType::f16, PartialShape{}, ValueKind{}});
  EXPECT_EQ(none.infer().kind, kOptionalTensor);
  EXPECT_EQ(none.infer().type, ElementType::f16);
  none.attr("type", graph::TypeAttribute{ElementType::f16, PartialShape{}, kOptionalTensor});
  EXPECT_THAT(error_of([&] { none.infer(); }), HasSubstr("attribute 'type' is an optional tensor"));
  OneNode untyped("Optional", 0, 1, 15);
  EXPECT_THAT(error_of([&] { untyped.infer(); }), HasSubstr("has neither an input nor a 'type' attribute"));
}

TEST(OptionalHasElement, TellsPresentFromAbsent) {
  OneNode n("OptionalHasElement", 1, 1, 15);
  EXPECT_THAT(values_of<bool>(n.run1({three_vectors()})), ElementsAre(true));
  EXPECT_THAT(values_of<bool>(n.run1({Tensor()})), ElementsAre(false));
  declare(n, 0, ElementType::f32, PartialShape{2}, kOptionalSequence);
  EXPECT_EQ(n.infer().type, ElementType::boolean);
  EXPECT_TRUE(n.infer().kind.is_tensor());
}

TEST(OptionalGetElement, UnwrapsAndRejectsAnAbsentOptional) {
  OneNode n("OptionalGetElement", 1, 1, 18);
  const Tensor seq = three_vectors();
  Tensor out = n.run1({seq});
  EXPECT_EQ(items_of(out), (Rows{{1, 2}, {3, 4, 5}, {6}}));
  EXPECT_THAT(error_of([&] { n.run({Tensor()}); }),
              HasSubstr("OptionalGetElement node 'n': input 'input' is an empty optional; expected a value"));
  // Kinds: an optional sequence gives a sequence, an optional tensor a tensor, a sequence stays one.
  declare(n, 0, ElementType::f32, PartialShape{2}, kOptionalSequence);
  EXPECT_EQ(n.infer().kind, kSequence);
  EXPECT_EQ(n.infer().shape.to_string(), "[2]");
  declare(n, 0, ElementType::f32, PartialShape{2}, kOptionalTensor);
  EXPECT_TRUE(n.infer().kind.is_tensor());
  declare(n, 0, ElementType::f32, PartialShape{2}, kSequence);
  EXPECT_EQ(n.infer().kind, kSequence);
}

TEST(Identity, PassesSequencesAndOptionalsThrough) {
  OneNode n("Identity", 1, 1, 16);
  EXPECT_EQ(items_of(n.run1({three_vectors()})), (Rows{{1, 2}, {3, 4, 5}, {6}}));
  declare(n, 0, ElementType::i64, PartialShape{3}, kOptionalSequence);
  const graph::Value& v = n.infer();
  EXPECT_EQ(v.kind, kOptionalSequence);
  EXPECT_EQ(v.type, ElementType::i64);
}

TEST(TakesSequences, OtherOperatorsRejectSequenceInputsAtInference) {
  OneNode n("Add", 2, 1, 14);
  declare(n, 0, ElementType::f32, PartialShape{2}, kSequence);
  n.input(1, ElementType::f32, PartialShape{2});
  EXPECT_THAT(error_of([&] { n.infer(); }), HasSubstr("is a sequence; Add takes tensors only"));
}

// ---- If and Loop carrying sequences (inference) ----

TEST(If, OutputKindsComeFromTheBranches) {
  OneNode n("If", {true}, 1, 16);
  // then: SequenceConstruct(x) of an outer x; else: a declared optional sequence output.
  auto then_body = std::make_shared<Graph>();
  then_body->opset_imports[""] = 16;
  graph::Value* x = then_body->add_value("x");
  x->type = ElementType::f32;
  x->shape = PartialShape{2};
  x->is_graph_input = false;
  x->constant = f32({2}, {1, 2});
  graph::Value* seq = then_body->add_value("seq");
  then_body->add_node("SequenceConstruct", "", {x}, {seq}, "construct");
  then_body->outputs().push_back(seq);
  auto else_body = std::make_shared<Graph>();
  graph::Value* declared = else_body->add_value("declared");
  declared->type = ElementType::f32;
  declared->kind = kOptionalSequence;
  else_body->outputs().push_back(declared);
  n.subgraph("then_branch", then_body);
  n.subgraph("else_branch", else_body);
  n.input(0, ElementType::boolean, PartialShape(Shape{}));
  const graph::Value& v = n.infer();
  EXPECT_EQ(v.kind, kOptionalSequence);
  EXPECT_EQ(v.type, ElementType::f32);
  n.constant(0, Tensor::scalar<bool>(true));  // only the then branch runs
  EXPECT_EQ(n.infer().kind, kSequence);
  EXPECT_EQ(n.infer().shape.to_string(), "[2]");
}

// A Loop body with declared inputs (iteration, condition, one carried value of `carried` kind) and
// outputs (condition, the carried value of `produced` kind, and a scan output of `scanned` kind).
GraphPtr loop_body(ValueKind carried, ValueKind produced, ValueKind scanned) {
  auto g = std::make_shared<Graph>();
  g->name = "body";
  auto add = [&](const std::string& name, ElementType type, ValueKind kind) {
    graph::Value* v = g->add_value(name);
    v->type = type;
    v->shape = PartialShape(Shape{});
    v->kind = kind;
    return v;
  };
  for (graph::Value* in : {add("i", ElementType::i64, {}), add("c", ElementType::boolean, {}),
                           add("v_in", ElementType::f32, carried)}) {
    in->is_graph_input = true;
    g->inputs().push_back(in);
  }
  g->outputs() = {add("c_out", ElementType::boolean, {}), add("v_out", ElementType::f32, produced),
                  add("scan", ElementType::f32, scanned)};
  return g;
}

TEST(Loop, CarriedValuesTakeTheBodysKindAndScanOutputsMustBeTensors) {
  // test_loop16_seq_none's shape: an optional sequence in, a sequence out of the body.
  OneNode n("Loop", 3, 2, 16);
  n.subgraph("body", loop_body(kOptionalSequence, kSequence, ValueKind{}));
  n.input(0, ElementType::i64, PartialShape(Shape{}));
  n.input(1, ElementType::boolean, PartialShape(Shape{}));
  declare(n, 2, ElementType::f32, PartialShape(Shape{}), kOptionalSequence);
  EXPECT_EQ(n.infer(0).kind, kSequence);
  EXPECT_TRUE(n.infer(1).kind.is_tensor());
  OneNode scan("Loop", 3, 2, 16);
  scan.subgraph("body", loop_body(kSequence, kSequence, kSequence));
  declare(scan, 2, ElementType::f32, PartialShape(Shape{}), kSequence);
  EXPECT_THAT(error_of([&] { scan.infer(); }),
              HasSubstr("scan output 0 ('scan') is a sequence; scan outputs stack tensors"));
  OneNode mixed("Loop", 3, 2, 16);
  mixed.subgraph("body", loop_body(ValueKind{}, kSequence, ValueKind{}));
  mixed.input(2, ElementType::f32, PartialShape(Shape{}));
  EXPECT_THAT(error_of([&] { mixed.infer(); }),
              HasSubstr("loop-carried value 0 is a tensor initially but the body makes a sequence"));
}

// ---- whole graphs on REF and CPU ----

class SequenceGraphs : public ::testing::TestWithParam<std::string> {};

// y = ConcatFromSequence(SequenceInsert(SequenceConstruct(x, c), x * 10, position 0), axis 0) and
// n = SequenceLength(SplitToSequence(y, 2)): values worked out by hand.
TEST_P(SequenceGraphs, BuildsSplitsAndConcatenates) {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape{2});
  graph::Value* c = b.constant(f32({1}, {7}));
  graph::Value* seq = b.node("SequenceConstruct", {x, c});
  graph::Value* ten = b.constant(f32({1}, {10}));
  graph::Value* scaled = b.node("Mul", {x, ten});
  graph::Value* inserted = b.node("SequenceInsert", {seq, scaled, b.constant(i64({}, {0}))});
  graph::Value* y = b.node("ConcatFromSequence", {inserted}, {{"axis", int64_t{0}}});
  graph::Value* parts = b.node("SplitToSequence", {y, b.constant(i64({}, {2}))});
  graph::Value* n = b.node("SequenceLength", {parts});
  graph::Value* last = b.node("SequenceAt", {parts, b.constant(i64({}, {-1}))});
  Model model = b.finish({y, n, last});
  EXPECT_EQ(model.output(0).shape.to_string(), "[?]");
  Core core;
  InferRequest request = core.compile_model(model, GetParam()).create_infer_request();
  request.set_tensor("x", f32({2}, {1, 2}));
  request.infer();
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(0).name)), ElementsAre(10, 20, 1, 2, 7));
  EXPECT_THAT(values_of<int64_t>(request.get_tensor(model.output(1).name)), ElementsAre(3));
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(2).name)), ElementsAre(7));
  // A second inference with other values: nothing of the first is kept.
  request.set_tensor("x", f32({2}, {-1, 0}));
  request.infer();
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(0).name)), ElementsAre(-10, 0, -1, 0, 7));
}

// A Loop whose carried value is a sequence: seq = SequenceEmpty(); for i < M: seq = SequenceInsert(seq,
// Cast(i) + x). y = ConcatFromSequence(seq, axis 0, new_axis 1): [x, x + 1, ..., x + M - 1].
TEST_P(SequenceGraphs, LoopCarriesASequence) {
  test::Builder b;
  graph::Value* m = b.input("M", PartialShape(Shape{}), ElementType::i64);
  graph::Value* x = b.input("x", PartialShape(Shape{}), ElementType::f32);
  graph::Value* empty = b.node("SequenceEmpty", {});

  auto body = std::make_shared<Graph>();
  body->name = "loop_body";
  body->opset_imports[""] = 17;
  auto input = [&](const std::string& name, ElementType type, ValueKind kind) {
    graph::Value* v = body->add_value(name);
    v->type = type;
    v->shape = PartialShape(Shape{});
    v->kind = kind;
    v->is_graph_input = true;
    body->inputs().push_back(v);
    return v;
  };
  graph::Value* i = input("i", ElementType::i64, {});
  graph::Value* cond_in = input("cond_in", ElementType::boolean, {});
  graph::Value* seq_in = input("seq_in", ElementType::f32, kSequence);
  graph::Value* outer_x = body->add_value("x");
  outer_x->outer = true;
  graph::Value* i_float = body->add_value("i_float");
  body->add_node("Cast", "", {i}, {i_float}, "cast")->attributes["to"] = int64_t{1};
  graph::Value* item = body->add_value("item");
  body->add_node("Add", "", {i_float, outer_x}, {item}, "add");
  graph::Value* seq_out = body->add_value("seq_out");
  body->add_node("SequenceInsert", "", {seq_in, item}, {seq_out}, "insert");
  graph::Value* cond_out = body->add_value("cond_out");
  body->add_node("Identity", "", {cond_in}, {cond_out}, "cond");
  body->outputs() = {cond_out, seq_out};

  graph::Value* final_seq = b.node("Loop", {m, nullptr, empty}, {{"body", GraphPtr(body)}});
  graph::Value* y =
      b.node("ConcatFromSequence", {final_seq}, {{"axis", int64_t{0}}, {"new_axis", int64_t{1}}});
  Model model = b.finish({y});
  Core core;
  InferRequest request = core.compile_model(model, GetParam()).create_infer_request();
  request.set_tensor("M", i64({}, {4}));
  request.set_tensor("x", f32({}, {0.5f}));
  request.infer();
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(0).name)),
              ElementsAre(0.5f, 1.5f, 2.5f, 3.5f));
}

// Optional(x) and an absent Optional: OptionalHasElement tells them apart; OptionalGetElement unwraps.
TEST_P(SequenceGraphs, OptionalsInAGraph) {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape{2});
  graph::Value* present = b.node("Optional", {x});
  graph::Value* absent =
      b.node("Optional", {}, {{"type", graph::TypeAttribute{ElementType::f32, PartialShape{2}, {}}}});
  graph::Value* has_present = b.node("OptionalHasElement", {present});
  graph::Value* has_absent = b.node("OptionalHasElement", {absent});
  graph::Value* value = b.node("OptionalGetElement", {present});
  graph::Value* doubled = b.node("Add", {value, value});
  Model model = b.finish({has_present, has_absent, doubled});
  Core core;
  InferRequest request = core.compile_model(model, GetParam()).create_infer_request();
  request.set_tensor("x", f32({2}, {1, 2}));
  request.infer();
  EXPECT_THAT(values_of<bool>(request.get_tensor(model.output(0).name)), ElementsAre(true));
  EXPECT_THAT(values_of<bool>(request.get_tensor(model.output(1).name)), ElementsAre(false));
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(2).name)), ElementsAre(2, 4));
}

TEST_P(SequenceGraphs, AddOfASequenceIsRejectedAtCompile) {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape{2});
  graph::Value* seq = b.node("SequenceConstruct", {x});
  graph::Value* sum = b.node("Add", {seq, x});
  const std::string error = error_of([&] {
    Model model = b.finish({sum});
    Core().compile_model(model, GetParam());
  });
  EXPECT_THAT(error, HasSubstr("Add node"));
  EXPECT_THAT(error, HasSubstr("is a sequence; Add takes tensors only"));
}

TEST_P(SequenceGraphs, BadPositionAtRunTimeNamesTheNode) {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape{2});
  graph::Value* p = b.input("p", PartialShape(Shape{}), ElementType::i64);
  graph::Value* seq = b.node("SequenceConstruct", {x, x});
  graph::Value* at = b.node("SequenceAt", {seq, p});
  Model model = b.finish({at});
  Core core;
  InferRequest request = core.compile_model(model, GetParam()).create_infer_request();
  request.set_tensor("x", f32({2}, {1, 2}));
  request.set_tensor("p", i64({}, {-2}));
  request.infer();
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(0).name)), ElementsAre(1, 2));
  request.set_tensor("p", i64({}, {2}));
  const std::string error = error_of([&] { request.infer(); });
  EXPECT_THAT(error, HasSubstr("SequenceAt node"));
  EXPECT_THAT(error, HasSubstr("position 2 is out of range for a sequence of 2 tensors; expected [-2, 1]"));
}

// A sequence of constants (which constant folding may compute ahead) read at a position known only at
// run time.
TEST_P(SequenceGraphs, SequenceOfConstants) {
  test::Builder b;
  graph::Value* p = b.input("p", PartialShape(Shape{}), ElementType::i64);
  graph::Value* seq =
      b.node("SequenceConstruct", {b.constant(f32({2}, {1, 2})), b.constant(f32({2}, {3, 4}))});
  graph::Value* at = b.node("SequenceAt", {seq, p});
  Model model = b.finish({at});
  EXPECT_EQ(model.output(0).shape.to_string(), "[2]");
  Core core;
  CompiledModel compiled = core.compile_model(model, GetParam());
  EXPECT_EQ(compiled.outputs()[0].shape.to_string(), "[2]");
  InferRequest request = compiled.create_infer_request();
  request.set_tensor("p", i64({}, {1}));
  request.infer();
  EXPECT_THAT(values_of<float>(request.get_tensor(model.output(0).name)), ElementsAre(3, 4));
}

INSTANTIATE_TEST_SUITE_P(Devices, SequenceGraphs, ::testing::Values("REF", "CPU"));

}  // namespace
}  // namespace sluice
