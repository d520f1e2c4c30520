// MatMul (numpy batched matrix product) and Gemm.
#include <algorithm>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

void check_matmul_types(InferContext& ctx) {
  const ElementType type = ctx.input_type(0);
  SLUICE_CHECK(type != ElementType::boolean, where(ctx.node), "input A has element type boolean; expected a ",
               "numeric type");
  check_same_type(ctx, 1, "B");
}

// out[i, j] (row-major M x N) = sum_k a[i * a_row + k * a_col] * b[k * b_row + j * b_col], accumulated in
// acc_t<T>; the result stays in `acc` (M * N values).
template <class T>
void matrix_product(const T* a, int64_t a_row, int64_t a_col, const T* b, int64_t b_row, int64_t b_col,
                    int64_t m, int64_t k, int64_t n, std::vector<acc_t<T>>& acc) {
  using A = acc_t<T>;
  acc.assign(static_cast<size_t>(m * n), A(0));
  if (b_col != 1 && b_row == 1) {
    // B transposed: rows of A and B are both contiguous along k when A is not transposed.
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const T* bcol = b + j * b_col;
        A sum = 0;
        for (int64_t p = 0; p < k; ++p) sum += widen(a[i * a_row + p * a_col]) * widen(bcol[p]);
        acc[static_cast<size_t>(i * n + j)] = sum;
      }
    }
    return;
  }
  for (int64_t i = 0; i < m; ++i) {
    A* out = acc.data() + i * n;
    for (int64_t p = 0; p < k; ++p) {
      const A av = widen(a[i * a_row + p * a_col]);
      const T* brow = b + p * b_row;
      if (b_col == 1) {
        for (int64_t j = 0; j < n; ++j) out[j] += av * widen(brow[j]);
      } else {
        for (int64_t j = 0; j < n; ++j) out[j] += av * widen(brow[j * b_col]);
      }
    }
  }
}

// ---- MatMul ----

void infer_matmul(InferContext& ctx) {
  check_matmul_types(ctx);
  ctx.set_output(0, ctx.input_type(0),
                 matmul_output_shape(ctx.node, ctx.input_shape(0), ctx.input_shape(1), false));
}

std::vector<Tensor> run_matmul(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& ta = in[0];
  const Tensor& tb = in[1];
  SLUICE_CHECK(ta.type() == tb.type(), where(node), "inputs have element types ", to_string(ta.type()),
               " and ", to_string(tb.type()), "; expected the same type");
  SLUICE_CHECK(ta.rank() >= 1 && tb.rank() >= 1, where(node), "inputs have shapes ", to_string(ta.shape()),
               " and ", to_string(tb.shape()), "; MatMul needs rank >= 1");
  Shape a = ta.shape(), b = tb.shape();
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  SLUICE_CHECK(b[b.size() - 2] == k, where(node), "inner dimensions do not match: A has shape ",
               to_string(ta.shape()), ", B has shape ", to_string(tb.shape()));
  const Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  const Shape batch = broadcast_shapes(batch_a, batch_b, node);
  Shape out_shape = batch;
  if (ta.rank() > 1) out_shape.push_back(m);
  if (tb.rank() > 1) out_shape.push_back(n);
  Tensor y(ta.type(), out_shape);
  dispatch_numeric(ta.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const T* pa = ta.data<T>();
      const T* pb = tb.data<T>();
      T* py = y.data<T>();
      std::vector<acc_t<T>> acc;
      for_each_broadcast(batch_a, batch_b, batch, [&](int64_t o, int64_t ia, int64_t ib) {
        matrix_product(pa + ia * m * k, k, 1, pb + ib * k * n, n, 1, m, k, n, acc);
        T* dst = py + o * m * n;
        for (size_t i = 0; i < acc.size(); ++i) dst[i] = narrow<T>(acc[i]);
      });
    }
  });
  return {y};
}

// ---- Gemm ----

Dimension dim2(const PartialShape& s, size_t i) { return s.rank_known() ? s[i] : Dimension(); }

void check_gemm_bias(const Node& node, const PartialShape& cs, const Dimension& m, const Dimension& n) {
  if (!cs.rank_known()) return;
  SLUICE_CHECK(cs.rank() <= 2, where(node), "input C has shape ", cs.to_string(),
               "; expected rank <= 2, broadcastable to [M, N]");
  const Dimension targets[] = {m, n};
  for (int64_t i = 0; i < cs.rank(); ++i) {
    const Dimension& c = cs[static_cast<size_t>(i)];
    const Dimension& t = targets[2 - cs.rank() + i];
    SLUICE_CHECK(c.is_dynamic() || t.is_dynamic() || c.extent() == 1 || c.extent() == t.extent(), where(node),
                 "input C has shape ", cs.to_string(), "; expected it to broadcast to [", m.to_string(), ",",
                 n.to_string(), "]");
  }
}

void infer_gemm(InferContext& ctx) {
  check_matmul_types(ctx);
  check_same_type(ctx, 2, "C");
  const Node& node = ctx.node;
  const auto& as = ctx.input_shape(0);
  const auto& bs = ctx.input_shape(1);
  SLUICE_CHECK(!as.rank_known() || as.rank() == 2, where(node), "input A has shape ", as.to_string(),
               "; expected rank 2");
  SLUICE_CHECK(!bs.rank_known() || bs.rank() == 2, where(node), "input B has shape ", bs.to_string(),
               "; expected rank 2");
  const bool ta = node.attr_int("transA", 0) != 0;
  const bool tb = node.attr_int("transB", 0) != 0;
  const Dimension m = dim2(as, ta ? 1 : 0), ka = dim2(as, ta ? 0 : 1);
  const Dimension kb = dim2(bs, tb ? 1 : 0), n = dim2(bs, tb ? 0 : 1);
  SLUICE_CHECK(ka.is_dynamic() || kb.is_dynamic() || ka.extent() == kb.extent(), where(node),
               "inner dimensions do not match: A has shape ", as.to_string(), " (transA=", ta,
               "), B has shape ", bs.to_string(), " (transB=", tb, ")");
  if (ctx.has_input(2)) check_gemm_bias(node, ctx.input_shape(2), m, n);
  ctx.set_output(0, ctx.input_type(0), PartialShape({m, n}));
}

template <class T>
void gemm_kernel(const Node& node, const Tensor& ta, const Tensor& tb, const Tensor& tc, Tensor& y,
                 bool trans_a, bool trans_b) {
  const int64_t m = y.shape()[0], n = y.shape()[1];
  const int64_t k = trans_a ? ta.shape()[0] : ta.shape()[1];
  std::vector<acc_t<T>> acc;
  matrix_product(ta.data<T>(), trans_a ? 1 : k, trans_a ? m : 1, tb.data<T>(), trans_b ? 1 : n,
                 trans_b ? k : 1, m, k, n, acc);
  const double alpha = node.attr_float("alpha", 1.0f);
  const double beta = node.attr_float("beta", 1.0f);
  const Shape out_shape{m, n};
  Shape c_shape = tc.empty() ? Shape{} : tc.shape();
  const T* pc = tc.empty() ? nullptr : tc.data<T>();
  T* py = y.data<T>();
  for_each_broadcast(out_shape, c_shape, out_shape, [&](int64_t o, int64_t, int64_t ic) {
    if constexpr (is_floating_v<T>) {
      using A = acc_t<T>;
      const A c = pc ? static_cast<A>(beta) * widen(pc[ic]) : A(0);
      py[o] = narrow<T>(static_cast<A>(alpha) * acc[static_cast<size_t>(o)] + c);
    } else {
      const auto c = pc ? static_cast<acc_t<T>>(beta) * widen(pc[ic]) : acc_t<T>(0);
      py[o] = narrow<T>(static_cast<acc_t<T>>(alpha) * acc[static_cast<size_t>(o)] + c);
    }
  });
}

std::vector<Tensor> run_gemm(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& ta = in[0];
  const Tensor& tb = in[1];
  const Tensor tc = in.size() > 2 ? in[2] : Tensor();
  SLUICE_CHECK(ta.rank() == 2 && tb.rank() == 2, where(node), "inputs A and B have shapes ",
               to_string(ta.shape()), " and ", to_string(tb.shape()), "; expected rank 2");
  SLUICE_CHECK(tb.type() == ta.type() && (tc.empty() || tc.type() == ta.type()), where(node),
               "inputs A, B and C must have the same element type");
  const bool trans_a = node.attr_int("transA", 0) != 0;
  const bool trans_b = node.attr_int("transB", 0) != 0;
  const int64_t m = ta.shape()[trans_a ? 1 : 0], k = ta.shape()[trans_a ? 0 : 1];
  const int64_t kb = tb.shape()[trans_b ? 1 : 0], n = tb.shape()[trans_b ? 0 : 1];
  SLUICE_CHECK(k == kb, where(node), "inner dimensions do not match: A has shape ", to_string(ta.shape()),
               " (transA=", trans_a, "), B has shape ", to_string(tb.shape()), " (transB=", trans_b, ")");
  if (!tc.empty()) check_gemm_bias(node, PartialShape(tc.shape()), m, n);
  Tensor y(ta.type(), Shape{m, n});
  dispatch_numeric(ta.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) gemm_kernel<T>(node, ta, tb, tc, y, trans_a, trans_b);
  });
  return {y};
}

}  // namespace

void register_matmul_ops(OpRegistry& registry) {
  registry.add(OpSchema{"", "MatMul", 1, 2, 2, 1, 1, nullptr, infer_matmul, run_matmul});
  registry.add(OpSchema{"", "Gemm", 1, 3, 3, 1, 1, nullptr, infer_gemm, run_gemm});
  registry.add(OpSchema{"", "Gemm", 11, 2, 3, 1, 1, nullptr, infer_gemm, run_gemm});
}

PartialShape matmul_output_shape(const Node& node, const PartialShape& as, const PartialShape& bs,
                                 bool trans_b) {
  if (!as.rank_known() || !bs.rank_known()) return PartialShape();
  SLUICE_CHECK(as.rank() >= 1 && bs.rank() >= 1, where(node), "inputs have shapes ", as.to_string(), " and ",
               bs.to_string(), "; a matrix product needs rank >= 1");
  SLUICE_CHECK(!trans_b || bs.rank() >= 2, where(node), "input B has shape ", bs.to_string(),
               "; transB = 1 needs rank >= 2");
  std::vector<Dimension> a = as.dims(), b = bs.dims();
  if (trans_b) std::swap(b[b.size() - 1], b[b.size() - 2]);
  if (a.size() == 1) a.insert(a.begin(), Dimension(1));
  if (b.size() == 1) b.emplace_back(1);
  const Dimension& ka = a.back();
  const Dimension& kb = b[b.size() - 2];
  SLUICE_CHECK(ka.is_dynamic() || kb.is_dynamic() || ka.extent() == kb.extent(), where(node),
               "inner dimensions do not match: A has shape ", as.to_string(), ", B has shape ",
               bs.to_string(), trans_b ? " (transB=1)" : "");
  const PartialShape batch_a(std::vector<Dimension>(a.begin(), a.end() - 2));
  const PartialShape batch_b(std::vector<Dimension>(b.begin(), b.end() - 2));
  std::vector<Dimension> out = broadcast_partial_shapes(batch_a, batch_b, node).dims();
  if (as.rank() > 1) out.push_back(a[a.size() - 2]);
  if (bs.rank() > 1) out.push_back(b.back());
  return PartialShape(out);
}

}  // namespace sluice::ops::nn
