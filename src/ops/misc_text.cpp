// TfIdfVectorizer (opset 9). (Optional, OptionalHasElement and OptionalGetElement are in sequence.cpp.)
//
// TfIdfVectorizer counts, per row, the n-grams of its pool (pool_int64s; Sluice has no string tensors,
// so pool_strings is rejected). An n-gram of length n starting at position s with skip k is
// x[s], x[s + k + 1], ..., x[s + (n - 1)(k + 1)]; skips run from 0 to max_skip_count, but unigrams are
// counted once (as in the ONNX reference). The count of the i-th pool n-gram lands at output column
// ngram_indexes[i], weighted by weights[i] (the spec's reading: one weight per pool n-gram).
#include <algorithm>
#include <map>

#include "ops/misc.hpp"

namespace sluice::ops::misc {
namespace {

// ---- TfIdfVectorizer ----------------------------------------------------------------------------

enum class TfIdfMode { tf, idf, tfidf };

// The vectorizer's attributes, checked and decoded.
struct TfIdfConfig {
  TfIdfMode mode = TfIdfMode::tf;
  int64_t min_gram = 1;
  int64_t max_gram = 1;
  int64_t max_skip = 0;
  std::map<std::vector<int64_t>, size_t> pool;  // n-gram -> its position among the pool's n-grams
  std::vector<int64_t> ngram_indexes;           // output column of each pool n-gram
  std::vector<float> weights;                   // one per pool n-gram
  int64_t output_size = 0;
};

TfIdfMode tfidf_mode(const Node& node) {
  const std::string mode = node.attr_string("mode");
  if (mode == "TF") return TfIdfMode::tf;
  if (mode == "IDF") return TfIdfMode::idf;
  if (mode == "TFIDF") return TfIdfMode::tfidf;
  throw_error(where(node), "attribute 'mode' is '", mode, "'; expected TF, IDF or TFIDF");
}

void read_gram_lengths(const Node& node, TfIdfConfig& c) {
  c.min_gram = node.attr_int("min_gram_length");
  c.max_gram = node.attr_int("max_gram_length");
  c.max_skip = node.attr_int("max_skip_count");
  SLUICE_CHECK(c.min_gram >= 1, where(node), "attribute 'min_gram_length' is ", c.min_gram,
               "; expected at least 1");
  SLUICE_CHECK(c.max_gram >= c.min_gram, where(node), "attribute 'max_gram_length' is ", c.max_gram,
               "; expected at least min_gram_length (", c.min_gram, ")");
  SLUICE_CHECK(c.max_skip >= 0, where(node), "attribute 'max_skip_count' is ", c.max_skip,
               "; expected a non-negative count");
}

// Splits pool_int64s into n-grams: ngram_counts[i] is where the (i+1)-grams start.
std::vector<std::vector<int64_t>> split_pool(const Node& node) {
  SLUICE_CHECK(!node.has_attr("pool_strings"), where(node),
               "attribute 'pool_strings' needs string tensors, which Sluice does not support; "
               "use pool_int64s");
  const std::vector<int64_t> pool = node.attr_ints("pool_int64s");
  const std::vector<int64_t> counts = node.attr_ints("ngram_counts");
  SLUICE_CHECK(!counts.empty() && counts[0] == 0, where(node),
               "attribute 'ngram_counts' must start with 0 (where the unigrams start)");
  std::vector<std::vector<int64_t>> ngrams;
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t begin = counts[i];
    const int64_t end = i + 1 < counts.size() ? counts[i + 1] : static_cast<int64_t>(pool.size());
    SLUICE_CHECK(begin <= end && end <= static_cast<int64_t>(pool.size()), where(node),
                 "attribute 'ngram_counts' holds ", begin, " at ", i,
                 "; expected non-decreasing offsets into pool_int64s (", pool.size(), " values)");
    const int64_t n = static_cast<int64_t>(i) + 1;
    SLUICE_CHECK((end - begin) % n == 0, where(node), "pool_int64s[", begin, ":", end, "] holds ",
                 end - begin, " values; expected a whole number of ", n, "-grams");
    for (int64_t p = begin; p < end; p += n) ngrams.emplace_back(pool.begin() + p, pool.begin() + p + n);
  }
  return ngrams;
}

void read_pool(const Node& node, TfIdfConfig& c) {
  const std::vector<std::vector<int64_t>> ngrams = split_pool(node);
  c.ngram_indexes = node.attr_ints("ngram_indexes");
  SLUICE_CHECK(c.ngram_indexes.size() == ngrams.size() && !ngrams.empty(), where(node),
               "attribute 'ngram_indexes' has ", c.ngram_indexes.size(),
               " entries; expected one per pool n-gram (", ngrams.size(), "), at least one");
  for (size_t i = 0; i < ngrams.size(); ++i) {
    SLUICE_CHECK(c.ngram_indexes[i] >= 0, where(node), "attribute 'ngram_indexes' holds ", c.ngram_indexes[i],
                 " at ", i, "; expected non-negative output columns");
    SLUICE_CHECK(c.pool.emplace(ngrams[i], i).second, where(node), "pool n-gram ", i,
                 " appears twice in pool_int64s");
    c.output_size = std::max(c.output_size, c.ngram_indexes[i] + 1);
  }
  c.weights = node.attr_floats("weights", std::vector<float>(ngrams.size(), 1.0f));
  SLUICE_CHECK(c.weights.size() == ngrams.size(), where(node), "attribute 'weights' has ", c.weights.size(),
               " entries; expected one per pool n-gram (", ngrams.size(), ")");
}

TfIdfConfig tfidf_config(const Node& node) {
  TfIdfConfig c;
  c.mode = tfidf_mode(node);
  read_gram_lengths(node, c);
  read_pool(node, c);
  return c;
}

void infer_tfidf(InferContext& ctx) {
  const Node& node = ctx.node;
  const TfIdfConfig c = tfidf_config(node);
  const ElementType type = ctx.input_type(0);
  SLUICE_CHECK(type == ElementType::i32 || type == ElementType::i64, where(node), "input 'X' is ",
               to_string(type), "; expected i32 or i64 (string inputs are not supported)");
  const PartialShape& x = ctx.input_shape(0);
  SLUICE_CHECK(!x.rank_known() || x.rank() == 1 || x.rank() == 2, where(node), "input 'X' has shape ",
               x.to_string(), "; expected [C] or [N, C]");
  PartialShape out = PartialShape::unknown_rank();
  if (x.rank() == 1) out = PartialShape({Dimension(c.output_size)});
  if (x.rank() == 2) out = PartialShape({x[0], Dimension(c.output_size)});
  ctx.set_output(0, ElementType::f32, out);
}

// Counts, for one row, how often each pool n-gram occurs.
std::vector<int64_t> count_row(const TfIdfConfig& c, std::span<const int64_t> row) {
  std::vector<int64_t> counts(c.ngram_indexes.size(), 0);
  const int64_t length = static_cast<int64_t>(row.size());
  int64_t shortest = c.min_gram;
  std::vector<int64_t> gram;
  for (int64_t skip = 0; skip <= c.max_skip && shortest <= c.max_gram; ++skip) {
    const int64_t step = skip + 1;
    for (int64_t start = 0; start < length; ++start) {
      gram.clear();
      for (int64_t n = 1, at = start; n <= c.max_gram && at < length; ++n, at += step) {
        gram.push_back(row[static_cast<size_t>(at)]);
        if (n < shortest) continue;
        const auto hit = c.pool.find(gram);
        if (hit != c.pool.end()) ++counts[hit->second];
      }
    }
    if (shortest == 1) shortest = 2;  // unigrams do not depend on the skip: count them once
  }
  return counts;
}

float weigh(const TfIdfConfig& c, size_t ngram, int64_t count) {
  switch (c.mode) {
    case TfIdfMode::tf: return static_cast<float>(count);
    case TfIdfMode::idf: return count > 0 ? c.weights[ngram] : 0.0f;
    case TfIdfMode::tfidf: return static_cast<float>(count) * c.weights[ngram];
  }
  return 0.0f;
}

std::vector<Tensor> tfidf_kernel(const Node& node, std::span<const Tensor> in) {
  const TfIdfConfig c = tfidf_config(node);
  const Tensor& x = in[0];
  SLUICE_CHECK(x.type() == ElementType::i32 || x.type() == ElementType::i64, where(node), "input 'X' is ",
               to_string(x.type()), "; expected i32 or i64 (string inputs are not supported)");
  SLUICE_CHECK(x.rank() == 1 || x.rank() == 2, where(node), "input 'X' has shape ", to_string(x.shape()),
               "; expected [C] or [N, C]");
  const int64_t rows = x.rank() == 2 ? x.shape()[0] : 1;
  const int64_t columns = x.shape().back();
  const std::vector<int64_t> values = to_int64s(x);
  Shape out_shape = x.rank() == 2 ? Shape{rows, c.output_size} : Shape{c.output_size};
  Tensor out(ElementType::f32, out_shape);
  float* y = out.data<float>();
  std::fill(y, y + out.size(), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const std::span<const int64_t> row(values.data() + r * columns, static_cast<size_t>(columns));
    const std::vector<int64_t> counts = count_row(c, row);
    for (size_t i = 0; i < counts.size(); ++i) {
      y[r * c.output_size + c.ngram_indexes[i]] += weigh(c, i, counts[i]);
    }
  }
  return {out};
}

void register_tfidf(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "TfIdfVectorizer";
  s.since_version = 9;
  s.min_inputs = 1;
  s.max_inputs = 1;
  s.validate = [](const Node& node) { tfidf_config(node); };
  s.infer = infer_tfidf;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return tfidf_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace

void register_text_ops(OpRegistry& registry) { register_tfidf(registry); }

}  // namespace sluice::ops::misc
