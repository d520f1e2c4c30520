// TfIdfVectorizer, OptionalHasElement and OptionalGetElement: reference kernels, shape inference and
// validation on one-node graphs. Expected values are the ONNX example (uni- and bigrams with skips) and
// counts done by hand (listed next to each case).
#include <memory>

#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::expect_near;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Ints = std::vector<int64_t>;

Tensor i64s(Shape shape, std::vector<int64_t> v) {
  return Tensor::from<int64_t>(std::move(shape), std::span<const int64_t>(v));
}

// A TfIdfVectorizer node (opset 9) with the given settings.
std::unique_ptr<OneNode> tfidf(const std::string& mode, int64_t min_gram, int64_t max_gram, int64_t max_skip,
                               Ints counts, Ints indexes, Ints pool) {
  auto n = std::make_unique<OneNode>("TfIdfVectorizer", 1, 1, 9);
  n->attr("mode", mode)
      .attr("min_gram_length", min_gram)
      .attr("max_gram_length", max_gram)
      .attr("max_skip_count", max_skip)
      .attr("ngram_counts", std::move(counts))
      .attr("ngram_indexes", std::move(indexes))
      .attr("pool_int64s", std::move(pool));
  return n;
}

// The ONNX example: unigrams 2, 3, 5, 4 and bigrams (5,6), (7,8), (6,7), skips up to 5.
std::unique_ptr<OneNode> onnx_example() {
  return tfidf("TF", 1, 2, 5, {0, 4}, {0, 1, 2, 3, 4, 5, 6}, {2, 3, 5, 4, 5, 6, 7, 8, 6, 7});
}

// ---- TfIdfVectorizer ----------------------------------------------------------------------------

TEST(TfIdfVectorizer, OnnxExampleCountsUnigramsOnceAndBigramsAtEverySkip) {
  auto n = onnx_example();
  auto out = n->run({Tensor::from<int32_t>({12}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8})});
  EXPECT_EQ(to_string(out[0].shape()), "[7]");
  EXPECT_EQ(out[0].type(), ElementType::f32);
  // (7,8) occurs at positions (5,6) skip 0, (5,11) skip 5 and (8,11) skip 2.
  expect_near(out[0], {0, 3, 1, 0, 1, 3, 1}, 0);
}

TEST(TfIdfVectorizer, BatchRowsAreCountedSeparately) {
  auto n = onnx_example();
  auto out = n->run({i64s({2, 6}, {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8})});
  EXPECT_EQ(to_string(out[0].shape()), "[2,7]");
  expect_near(out[0], {0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}, 0);
}

// Pool: unigrams 2, 3 and bigram (2,3), written to columns 2, 0, 1. In [2,3,3,2,3] (no skips) 2 occurs
// twice, 3 three times and (2,3) twice.
std::unique_ptr<OneNode> weighted(const std::string& mode) {
  auto n = tfidf(mode, 1, 2, 0, {0, 2}, {2, 0, 1}, {2, 3, 2, 3});
  n->attr("weights", std::vector<float>{0.5f, 2.0f, 4.0f});
  return n;
}

TEST(TfIdfVectorizer, TfModeIgnoresWeightsAndFollowsNgramIndexes) {
  auto n = weighted("TF");
  expect_near(n->run({i64s({5}, {2, 3, 3, 2, 3})})[0], {3, 2, 2}, 0);
}

TEST(TfIdfVectorizer, IdfModeWritesTheWeightOfEachPresentNgram) {
  auto n = weighted("IDF");
  expect_near(n->run({i64s({5}, {2, 3, 3, 2, 3})})[0], {2, 4, 0.5}, 0);
  // Only 3 occurs: the other columns stay 0.
  expect_near(n->run({i64s({2}, {3, 3})})[0], {2, 0, 0}, 0);
}

TEST(TfIdfVectorizer, IdfModeWithoutWeightsMarksPresence) {
  auto n = tfidf("IDF", 1, 2, 0, {0, 2}, {2, 0, 1}, {2, 3, 2, 3});
  expect_near(n->run({i64s({3}, {3, 3, 3})})[0], {1, 0, 0}, 0);
}

TEST(TfIdfVectorizer, TfIdfModeScalesCountsByWeights) {
  auto n = weighted("TFIDF");
  expect_near(n->run({i64s({5}, {2, 3, 3, 2, 3})})[0], {6, 8, 1}, 0);
}

TEST(TfIdfVectorizer, MinGramLengthSkipsShorterNgrams) {
  // Unigram 2 and bigram (2,3); only bigrams count. In [2,9,3,2,3], (2,3) occurs at (3,4) with skip 0
  // and at (0,2) with skip 1.
  auto n = tfidf("TF", 2, 2, 1, {0, 1}, {0, 1}, {2, 2, 3});
  expect_near(n->run({i64s({5}, {2, 9, 3, 2, 3})})[0], {0, 2}, 0);
}

TEST(TfIdfVectorizer, UnigramsOnlyAreCountedOnceWhateverTheSkip) {
  auto n = tfidf("TF", 1, 1, 3, {0}, {0}, {5});
  expect_near(n->run({i64s({3}, {5, 7, 5})})[0], {2}, 0);
}

TEST(TfIdfVectorizer, EmptyRowGivesZeros) {
  auto n = onnx_example();
  auto out = n->run({i64s({2, 0}, {})});
  EXPECT_EQ(to_string(out[0].shape()), "[2,7]");
  expect_near(out[0], std::vector<double>(14, 0.0), 0);
}

TEST(TfIdfVectorizer, InfersOutputWidthFromNgramIndexes) {
  auto batch = onnx_example();
  batch->input(0, ElementType::i64, PartialShape({Dimension::dynamic("n"), 6}));
  batch->infer();
  EXPECT_EQ(batch->out_type(0), ElementType::f32);
  EXPECT_EQ(batch->out_shape(0), "[n,7]");

  auto single = tfidf("TF", 1, 1, 0, {0}, {4, 1}, {2, 3});
  single->input(0, ElementType::i32, PartialShape({Dimension()}));
  single->infer();
  EXPECT_EQ(single->out_shape(0), "[5]");
}

TEST(TfIdfVectorizer, RejectsBadInputs) {
  auto rank3 = onnx_example();
  rank3->input(0, ElementType::i64, PartialShape({1, 2, 3}));
  EXPECT_THAT(error_of([&] { rank3->infer(); }), HasSubstr("expected [C] or [N, C]"));

  auto floats = onnx_example();
  floats->input(0, ElementType::f32, PartialShape({3}));
  EXPECT_THAT(error_of([&] { floats->infer(); }), HasSubstr("input 'X' is f32; expected i32 or i64"));

  auto run_floats = onnx_example();
  EXPECT_THAT(error_of([&] { run_floats->run({Tensor::from<float>({1}, {2.0f})}); }),
              HasSubstr("expected i32 or i64"));
}

TEST(TfIdfVectorizer, RejectsBadAttributes) {
  OneNode strings("TfIdfVectorizer", 1, 1, 9);
  strings.attr("mode", std::string("TF"))
      .attr("min_gram_length", int64_t{1})
      .attr("max_gram_length", int64_t{1})
      .attr("max_skip_count", int64_t{0})
      .attr("ngram_counts", Ints{0})
      .attr("ngram_indexes", Ints{0})
      .attr("pool_strings", std::vector<std::string>{"a"});
  EXPECT_THAT(error_of([&] { strings.run({i64s({1}, {1})}); }),
              HasSubstr("'pool_strings' needs string tensors, which Sluice does not support"));

  auto mode = tfidf("BM25", 1, 1, 0, {0}, {0}, {2});
  EXPECT_THAT(error_of([&] { mode->run({i64s({1}, {2})}); }),
              HasSubstr("attribute 'mode' is 'BM25'; expected TF, IDF or TFIDF"));

  auto lengths = tfidf("TF", 2, 1, 0, {0}, {0}, {2});
  EXPECT_THAT(error_of([&] { lengths->run({i64s({1}, {2})}); }),
              HasSubstr("'max_gram_length' is 1; expected at least min_gram_length (2)"));

  auto skip = tfidf("TF", 1, 1, -1, {0}, {0}, {2});
  EXPECT_THAT(error_of([&] { skip->run({i64s({1}, {2})}); }), HasSubstr("'max_skip_count' is -1"));

  auto odd_bigrams = tfidf("TF", 1, 2, 0, {0, 1}, {0, 1}, {2, 3, 4, 5});
  EXPECT_THAT(error_of([&] { odd_bigrams->run({i64s({1}, {2})}); }),
              HasSubstr("pool_int64s[1:4] holds 3 values; expected a whole number of 2-grams"));

  auto offsets = tfidf("TF", 1, 2, 0, {0, 5}, {0}, {2, 3});
  EXPECT_THAT(error_of([&] { offsets->run({i64s({1}, {2})}); }),
              HasSubstr("expected non-decreasing offsets into pool_int64s (2 values)"));

  auto indexes = tfidf("TF", 1, 1, 0, {0}, {0}, {2, 3});
  EXPECT_THAT(error_of([&] { indexes->run({i64s({1}, {2})}); }),
              HasSubstr("'ngram_indexes' has 1 entries; expected one per pool n-gram (2)"));

  auto negative = tfidf("TF", 1, 1, 0, {0}, {-1}, {2});
  EXPECT_THAT(error_of([&] { negative->run({i64s({1}, {2})}); }), HasSubstr("'ngram_indexes' holds -1"));

  auto duplicate = tfidf("TF", 1, 1, 0, {0}, {0, 1}, {2, 2});
  EXPECT_THAT(error_of([&] { duplicate->run({i64s({1}, {2})}); }), HasSubstr("appears twice in pool_int64s"));

  auto weights = tfidf("TFIDF", 1, 1, 0, {0}, {0, 1}, {2, 3});
  weights->attr("weights", std::vector<float>{1.0f});
  EXPECT_THAT(error_of([&] { weights->run({i64s({1}, {2})}); }),
              HasSubstr("'weights' has 1 entries; expected one per pool n-gram (2)"));

  OneNode missing("TfIdfVectorizer", 1, 1, 9);
  missing.attr("mode", std::string("TF"));
  EXPECT_THAT(error_of([&] { missing.run({i64s({1}, {2})}); }), HasSubstr("min_gram_length"));
}

// ---- OptionalHasElement / OptionalGetElement ----------------------------------------------------

TEST(OptionalHasElement, TensorInputHasAnElement) {
  OneNode n("OptionalHasElement", 1, 1, 18);
  auto out = n.run({Tensor::from<float>({2}, {1.0f, 2.0f})});
  EXPECT_EQ(out[0].type(), ElementType::boolean);
  EXPECT_EQ(to_string(out[0].shape()), "[]");
  EXPECT_THAT(values_of<bool>(out[0]), ElementsAre(true));
}

TEST(OptionalHasElement, OmittedInputHasNone) {
  OneNode named_empty("OptionalHasElement", std::vector<bool>{false}, 1, 18);
  EXPECT_THAT(values_of<bool>(named_empty.run({Tensor()})[0]), ElementsAre(false));
  OneNode no_input("OptionalHasElement", 0, 1, 18);
  EXPECT_THAT(values_of<bool>(no_input.run({})[0]), ElementsAre(false));
}

TEST(OptionalHasElement, InfersScalarBool) {
  OneNode n("OptionalHasElement", 1, 1, 15);
  n.input(0, ElementType::i32, PartialShape({3, 4}));
  n.infer();
  EXPECT_EQ(n.out_type(0), ElementType::boolean);
  EXPECT_EQ(n.out_shape(0), "[]");
  OneNode empty("OptionalHasElement", 0, 1, 18);
  empty.infer();
  EXPECT_EQ(empty.out_shape(0), "[]");
}

TEST(OptionalHasElement, Opset15RequiresItsInput) {
  OneNode n("OptionalHasElement", 0, 1, 15);
  EXPECT_THAT(error_of([&] { graph::check_arity(*n.node); }), HasSubstr("OptionalHasElement"));
}

TEST(OptionalGetElement, TensorInputPassesThrough) {
  OneNode n("OptionalGetElement", 1, 1, 18);
  auto out = n.run({Tensor::from<float>({4}, {1.0f, 2.0f, 3.0f, 4.0f})});
  EXPECT_EQ(to_string(out[0].shape()), "[4]");
  EXPECT_THAT(values_of<float>(out[0]), ElementsAre(1.0f, 2.0f, 3.0f, 4.0f));

  OneNode infer("OptionalGetElement", 1, 1, 15);
  infer.input(0, ElementType::i64, PartialShape({Dimension::dynamic("n"), 2}));
  infer.infer();
  EXPECT_EQ(infer.out_type(0), ElementType::i64);
  EXPECT_EQ(infer.out_shape(0), "[n,2]");
}

TEST(OptionalGetElement, EmptyOptionalIsAnError) {
  OneNode n("OptionalGetElement", std::vector<bool>{false}, 1, 18);
  EXPECT_THAT(error_of([&] { n.run({Tensor()}); }), HasSubstr("is an empty optional; expected a value"));
}

}  // namespace
}  // namespace sluice
