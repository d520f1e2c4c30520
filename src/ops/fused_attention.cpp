// com.sluice Attention: fused scaled dot-product attention, what the CPU device's attention fusion makes
// of the chain MatMul(Q, K^T) -> Mul(scale) -> Add(mask) -> Softmax(axis -1) -> MatMul(V).
//
//   inputs   Q [..., Sq, D], K [..., Sk, D] ([..., D, Sk] when k_transposed = 1), V [..., Sk, Dv], and an
//            optional additive mask broadcastable (numpy rules, never growing the result) to [..., Sq, Sk]
//   output   Y [..., Sq, Dv] = softmax(scale * Q K^T + mask, last axis) V
//   attrs    scale (float, required), k_transposed (int, 0 or 1, default 0)
// Q, K and V have the same rank (>= 3) and the same leading ("batch") dims, e.g. [B, H]. f32 only.
//
// The reference kernel reproduces the reference kernels of the decomposed chain bit for bit: dot products
// accumulated in double in index order and rounded to f32 (MatMul), the scale and mask applied in f32 (Mul,
// Add), Softmax in double with its max subtraction (a row whose scores are all -inf gives NaN, as there),
// and the second product like the first. So a graph gives the same numbers on REF fused or not.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/common.hpp"

namespace sluice::ops {
namespace {

constexpr const char* fused_domain = "com.sluice";

// The value of two dims that must be equal: the static one when either is static; throws `mismatch` when
// both are static and differ. Two dynamic dims keep the first one's symbol (or the second's).
template <class F> Dimension merge_dims(const Dimension& a, const Dimension& b, F&& mismatch) {
  if (a.is_static() && b.is_static()) {
    if (a.extent() != b.extent()) mismatch();
    return a;
  }
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  return a.symbol().empty() ? b : a;
}

void validate_attention(const Node& node) {
  SLUICE_CHECK(node.has_attr("scale"), where(node), "attribute 'scale' is required (the factor applied to ",
               "Q K^T)");
  const float scale = node.attr_float("scale");  // throws naming the node when not a float
  SLUICE_CHECK(std::isfinite(scale), where(node), "attribute 'scale' is ", scale,
               "; expected a finite value");
  const int64_t kt = node.attr_int("k_transposed", 0);
  SLUICE_CHECK(kt == 0 || kt == 1, where(node), "attribute 'k_transposed' is ", kt, "; expected 0 or 1");
}

void check_f32(const Node& node, ElementType type, size_t i, const char* name) {
  // undefined: the type is not known yet (shape inference on a partially typed graph).
  SLUICE_CHECK(type == ElementType::f32 || type == ElementType::undefined, where(node), "input ", i, " (",
               name, ") has element type ", to_string(type), "; Attention supports f32 only");
}

// The output shape for the inputs' (partial) shapes; throws naming the node when they are inconsistent.
// `mask` is null when the node has no mask.
PartialShape attention_shape(const Node& node, const PartialShape& q, const PartialShape& k,
                             const PartialShape& v, const PartialShape* mask) {
  const bool kt = node.attr_int("k_transposed", 0) != 0;
  const PartialShape* shapes[] = {&q, &k, &v};
  const char* names[] = {"Q", "K", "V"};
  int64_t rank = -1;
  for (int i = 0; i < 3; ++i) {
    const PartialShape& s = *shapes[i];
    if (!s.rank_known()) continue;
    SLUICE_CHECK(s.rank() >= 3, where(node), "input ", i, " (", names[i], ") has shape ", s.to_string(),
                 "; expected rank >= 3 ([batch..., rows, cols])");
    SLUICE_CHECK(rank < 0 || s.rank() == rank, where(node), "Q, K and V have shapes ", q.to_string(), ", ",
                 k.to_string(), " and ", v.to_string(), "; expected the same rank");
    rank = s.rank();
  }
  if (rank < 0) return PartialShape();
  const auto r = static_cast<size_t>(rank);
  const auto fail = [&](const std::string& what) {
    throw_error(where(node), what, ": Q has shape ", q.to_string(), ", K ", k.to_string(),
                " (k_transposed=", kt ? 1 : 0, "), V ", v.to_string());
  };
  // Dims of unknown-rank inputs are dynamic.
  const auto dim = [&](const PartialShape& s, size_t i) { return s.rank_known() ? s[i] : Dimension(); };
  std::vector<Dimension> out;
  for (size_t i = 0; i + 2 < r; ++i) {
    const auto mismatch = [&] { fail("batch dim " + std::to_string(i) + " differs"); };
    out.push_back(merge_dims(merge_dims(dim(q, i), dim(k, i), mismatch), dim(v, i), mismatch));
  }
  const Dimension sq = dim(q, r - 2);
  merge_dims(dim(q, r - 1), dim(k, kt ? r - 2 : r - 1), [&] { fail("the depth D of Q and K differs"); });
  const Dimension sk = merge_dims(dim(k, kt ? r - 1 : r - 2), dim(v, r - 2),
                                  [&] { fail("the key count Sk of K and V differs"); });
  if (mask && mask->rank_known()) {
    std::vector<Dimension> scores = out;
    scores.push_back(sq);
    scores.push_back(sk);
    const PartialShape target(scores);
    SLUICE_CHECK(mask->rank() <= rank, where(node), "input 3 (mask) has shape ", mask->to_string(),
                 "; expected it to broadcast to the scores' shape ", target.to_string());
    const size_t offset = r - static_cast<size_t>(mask->rank());
    for (size_t i = 0; i < static_cast<size_t>(mask->rank()); ++i) {
      const Dimension& m = (*mask)[i];
      const Dimension& t = scores[offset + i];
      SLUICE_CHECK(m.is_dynamic() || m.extent() == 1 || t.is_dynamic() || m.extent() == t.extent(),
                   where(node), "input 3 (mask) has shape ", mask->to_string(),
                   "; expected it to broadcast to the scores' shape ", target.to_string());
    }
  }
  out.push_back(sq);
  out.push_back(dim(v, r - 1));
  return PartialShape(out);
}

void infer_attention(InferContext& ctx) {
  const Node& node = ctx.node;
  const char* names[] = {"Q", "K", "V", "mask"};
  for (size_t i = 0; i < 4; ++i) {
    if (ctx.has_input(i)) check_f32(node, ctx.input_type(i), i, names[i]);
  }
  const PartialShape* mask = ctx.has_input(3) ? &ctx.input_shape(3) : nullptr;
  const PartialShape out =
      attention_shape(node, ctx.input_shape(0), ctx.input_shape(1), ctx.input_shape(2), mask);
  ctx.set_output(0, ElementType::f32, out);
}

// Softmax of one row in place, as the Softmax reference kernel computes an f32 lane: max, exp and sum in
// double, the quotient rounded to f32.
void softmax_row(float* x, int64_t n) {
  if (n == 0) return;
  double max = x[0];
  for (int64_t j = 1; j < n; ++j) {
    if (static_cast<double>(x[j]) > max) max = x[j];
  }
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(x[j]) - max);
  for (int64_t j = 0; j < n; ++j) x[j] = static_cast<float>(std::exp(static_cast<double>(x[j]) - max) / sum);
}

std::vector<Tensor> run_attention(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& q = in[0];
  const Tensor& k = in[1];
  const Tensor& v = in[2];
  const Tensor mask = in.size() > 3 ? in[3] : Tensor();
  const char* names[] = {"Q", "K", "V", "mask"};
  for (size_t i = 0; i < 4; ++i) {
    if (i < in.size() && !in[i].empty()) {
      SLUICE_CHECK(in[i].type() == ElementType::f32, where(node), "input ", i, " (", names[i],
                   ") has element type ", to_string(in[i].type()), "; Attention supports f32 only");
    }
  }
  const PartialShape mask_shape = mask.empty() ? PartialShape() : PartialShape(mask.shape());
  const Shape out_shape = attention_shape(node, PartialShape(q.shape()), PartialShape(k.shape()),
                                          PartialShape(v.shape()), mask.empty() ? nullptr : &mask_shape)
                              .to_shape();
  Tensor y(ElementType::f32, out_shape);
  if (y.size() == 0) return {y};

  const size_t r = out_shape.size();
  const bool kt = node.attr_int("k_transposed", 0) != 0;
  const float scale = node.attr_float("scale");
  const int64_t sq = q.shape()[r - 2], d = q.shape()[r - 1];
  const int64_t sk = v.shape()[r - 2], dv = v.shape()[r - 1];
  const int64_t batch = shape_size(Shape(out_shape.begin(), out_shape.end() - 2));

  Shape score_shape(out_shape.begin(), out_shape.end() - 2);
  score_shape.push_back(sq);
  score_shape.push_back(sk);
  const std::vector<int64_t> mask_strides =
      mask.empty() ? std::vector<int64_t>(r, 0) : broadcast_strides(mask.shape(), score_shape);
  const Shape batch_dims(out_shape.begin(), out_shape.end() - 2);
  std::vector<int64_t> batch_index(r - 2, 0);

  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const float* pm = mask.empty() ? nullptr : mask.data<float>();
  float* py = y.data<float>();
  std::vector<float> row(static_cast<size_t>(sk));
  std::vector<float> k_columns(kt ? 0 : static_cast<size_t>(d * sk));  // K^T [D, Sk] of one batch item
  std::vector<double> scores(static_cast<size_t>(sk)), out(static_cast<size_t>(dv));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t mask_base = 0;
    for (size_t i = 0; i + 2 < r; ++i) mask_base += batch_index[i] * mask_strides[i];
    const float* qb = pq + b * sq * d;
    const float* vb = pv + b * sk * dv;
    // K^T row-major, as the chain's Transpose makes it, so that the loops below run along contiguous rows.
    const float* kt_rows = pk + b * sk * d;
    if (!kt) {
      for (int64_t j = 0; j < sk; ++j) {
        for (int64_t p = 0; p < d; ++p) k_columns[static_cast<size_t>(p * sk + j)] = kt_rows[j * d + p];
      }
      kt_rows = k_columns.data();
    }
    for (int64_t i = 0; i < sq; ++i) {
      // The loop order of the MatMul reference (outer over the inner dimension): each sum is accumulated
      // in the same order, so the results are the same bits.
      std::fill(scores.begin(), scores.end(), 0.0);
      for (int64_t p = 0; p < d; ++p) {
        const double a = qb[i * d + p];
        const float* krow = kt_rows + p * sk;
        for (int64_t j = 0; j < sk; ++j) scores[static_cast<size_t>(j)] += a * static_cast<double>(krow[j]);
      }
      for (int64_t j = 0; j < sk; ++j) {
        float s = static_cast<float>(scores[static_cast<size_t>(j)]) * scale;
        if (pm) s = s + pm[mask_base + i * mask_strides[r - 2] + j * mask_strides[r - 1]];
        row[static_cast<size_t>(j)] = s;
      }
      softmax_row(row.data(), sk);
      std::fill(out.begin(), out.end(), 0.0);
      for (int64_t j = 0; j < sk; ++j) {
        const double a = row[static_cast<size_t>(j)];
        const float* vrow = vb + j * dv;
        for (int64_t c = 0; c < dv; ++c) out[static_cast<size_t>(c)] += a * static_cast<double>(vrow[c]);
      }
      float* yrow = py + (b * sq + i) * dv;
      for (int64_t c = 0; c < dv; ++c) yrow[c] = static_cast<float>(out[static_cast<size_t>(c)]);
    }
    for (size_t i = r - 2; i-- > 0;) {
      if (++batch_index[i] < batch_dims[i]) break;
      batch_index[i] = 0;
    }
  }
  return {y};
}

}  // namespace
}  // namespace sluice::ops

namespace sluice::graph {

void register_fused_attention_op(OpRegistry& registry) {
  registry.add(OpSchema{ops::fused_domain, "Attention", 1, 3, 4, 1, 1, ops::validate_attention,
                        ops::infer_attention, ops::run_attention});
}

}  // namespace sluice::graph
