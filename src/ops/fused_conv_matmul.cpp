// com.sluice FusedConv and FusedMatMul: a convolution or matrix product followed by post-operations
// (ops/post_ops.hpp), as the CPU device's fusion passes produce them. The reference kernels compute what
// the unfused ONNX operators compute, step by step, so that a fused graph gives the same results on REF.
//
//   FusedConv(X, W, [B], extras...): Conv's inputs and attributes, then the post-ops.
//   FusedMatMul(A, B, [Bias], extras...): Y = post_ops(alpha * (A x B') + Bias), B' = B with its last two
//     dims swapped when transB = 1, numpy batch broadcasting as in MatMul; Bias is 1-D [N] (N = the last
//     dim of the result). Attributes: alpha (float, default 1), transB (0 or 1, default 0).
#include <algorithm>

#include "ops/nn_common.hpp"
#include "ops/post_ops.hpp"

namespace sluice::graph {

namespace {

using ops::PostOp;
using ops::where;

constexpr const char* sluice_domain = "com.sluice";

size_t binary_count(const std::vector<PostOp>& post_ops) {
  return static_cast<size_t>(
      std::count_if(post_ops.begin(), post_ops.end(), [](const PostOp& op) { return op.binary(); }));
}

// Checks the post-op attributes and that the node has one extra input, after its `first_extra` own
// inputs, per binary post-op.
void validate_post_op_inputs(const Node& node, size_t first_extra) {
  const auto post_ops = ops::post_ops_of(node);
  const size_t binaries = binary_count(post_ops);
  const size_t extras = node.inputs.size() > first_extra ? node.inputs.size() - first_extra : 0;
  SLUICE_CHECK(extras == binaries, where(node), "has ", extras, " post-op input", extras == 1 ? "" : "s",
               " after its first ", first_extra, " inputs; expected ", binaries,
               " (one per binary post-op in 'post_ops')");
  for (size_t i = first_extra; i < node.inputs.size(); ++i) {
    SLUICE_CHECK(node.inputs[i] != nullptr, where(node), "post-op input ", i, " is missing");
  }
}

// Whether `extra` certainly broadcasts to `result` without changing it (numpy rules, unidirectional);
// dims that are not known yet are accepted (the reference kernel checks the concrete shapes).
bool broadcasts_to(const PartialShape& extra, const PartialShape& result) {
  if (!extra.rank_known() || !result.rank_known()) return true;
  if (extra.rank() > result.rank()) return false;
  const size_t offset = result.dims().size() - extra.dims().size();
  for (size_t i = 0; i < extra.dims().size(); ++i) {
    const Dimension& e = extra[i];
    const Dimension& r = result[offset + i];
    if (e.is_static() && r.is_static() && e.extent() != 1 && e.extent() != r.extent()) return false;
  }
  return true;
}

// Checks the post-op inputs' types and shapes against output 0's (already inferred).
void infer_post_op_inputs(InferContext& ctx, size_t first_extra) {
  const auto post_ops = ops::post_ops_of(ctx.node);
  size_t input = first_extra;
  for (size_t step = 0; step < post_ops.size(); ++step) {
    if (!post_ops[step].binary()) continue;
    const std::string what = "post-op " + std::to_string(step) + " (" +
                             ops::post_op_name(post_ops[step].kind) + ") input " + std::to_string(input);
    SLUICE_CHECK(ctx.input_type(input) == ctx.output_type(0), where(ctx.node), what, " has element type ",
                 to_string(ctx.input_type(input)), "; expected ", to_string(ctx.output_type(0)),
                 " like the result");
    SLUICE_CHECK(broadcasts_to(ctx.input_shape(input), ctx.output_shape(0)), where(ctx.node), what,
                 " has shape ", ctx.input_shape(input).to_string(),
                 ", which does not broadcast to the result's shape ", ctx.output_shape(0).to_string());
    ++input;
  }
}

// Applies the post-ops to y in place; extras[i] is the input of the i-th binary step.
template <class T>
void apply_post_ops(const Node& node, const std::vector<PostOp>& post_ops, std::span<const Tensor> extras,
                    Tensor& y) {
  using C = ops::compute_t<T>;
  T* py = y.data<T>();
  const int64_t n = y.size();
  size_t next_extra = 0;
  for (const PostOp& op : post_ops) {
    if (!op.binary()) {
      for (int64_t i = 0; i < n; ++i)
        py[i] = ops::nn::narrow<T>(ops::apply_activation(op, static_cast<C>(py[i])));
      continue;
    }
    const Tensor& other = extras[next_extra++];
    SLUICE_CHECK(!other.empty(), where(node), "post-op input for ", ops::post_op_name(op.kind),
                 " is missing");
    SLUICE_CHECK(other.type() == y.type(), where(node), "post-op input has element type ",
                 to_string(other.type()), "; expected ", to_string(y.type()), " like the result");
    SLUICE_CHECK(ops::broadcast_shapes(y.shape(), other.shape(), node) == y.shape(), where(node),
                 "post-op input of shape ", to_string(other.shape()),
                 " does not broadcast to the result's shape ", to_string(y.shape()));
    const T* po = other.data<T>();
    const bool add = op.kind == ops::PostOpKind::Add;
    ops::for_each_broadcast(y.shape(), other.shape(), y.shape(), [&](int64_t o, int64_t, int64_t io) {
      const C a = static_cast<C>(py[o]);
      const C b = static_cast<C>(po[io]);
      py[o] = ops::nn::narrow<T>(add ? a + b : a * b);
    });
  }
}

void apply_post_ops(const Node& node, std::span<const Tensor> extras, Tensor& y) {
  const auto post_ops = ops::post_ops_of(node);
  if (post_ops.empty()) return;
  ops::dispatch_floating(y.type(), where(node),
                         [&](auto tag) { apply_post_ops<decltype(tag)>(node, post_ops, extras, y); });
}

std::span<const Tensor> extras_of(std::span<const Tensor> in, size_t first_extra) {
  return in.size() > first_extra ? in.subspan(first_extra) : std::span<const Tensor>();
}

// ---- FusedConv ----

void validate_fused_conv(const Node& node) {
  ops::nn::validate_conv_attrs(node);
  validate_post_op_inputs(node, 3);
}

void infer_fused_conv(InferContext& ctx) {
  ops::nn::infer_conv_output(ctx);
  infer_post_op_inputs(ctx, 3);
}

std::vector<Tensor> run_fused_conv(const Node& node, std::span<const Tensor> in, KernelEnv& env) {
  std::vector<Tensor> out = ops::nn::run_conv_reference(node, in.first(std::min<size_t>(in.size(), 3)), env);
  apply_post_ops(node, extras_of(in, 3), out.at(0));
  return out;
}

// ---- FusedMatMul ----

void validate_fused_matmul(const Node& node) {
  node.attr_float("alpha", 1.0f);  // throws when it is not a float
  const int64_t trans_b = node.attr_int("transB", 0);
  SLUICE_CHECK(trans_b == 0 || trans_b == 1, where(node), "attribute 'transB' is ", trans_b,
               "; expected 0 or 1");
  validate_post_op_inputs(node, 3);
}

void infer_fused_matmul(InferContext& ctx) {
  const Node& node = ctx.node;
  ops::nn::check_floating(ctx, 0, "A");
  ops::nn::check_same_type(ctx, 1, "B");
  ops::nn::check_same_type(ctx, 2, "Bias");
  const bool trans_b = node.attr_int("transB", 0) != 0;
  const auto& as = ctx.input_shape(0);
  const auto& bs = ctx.input_shape(1);
  SLUICE_CHECK(!trans_b || !bs.rank_known() || bs.rank() >= 2, where(node), "input B has shape ",
               bs.to_string(), "; transB = 1 needs rank >= 2");
  SLUICE_CHECK(!ctx.has_input(2) || !bs.rank_known() || bs.rank() >= 2, where(node), "input B has shape ",
               bs.to_string(), "; a Bias needs B of rank >= 2 (the result's last dim)");
  const PartialShape out = ops::nn::matmul_output_shape(node, as, bs, trans_b);
  if (ctx.has_input(2) && out.rank_known()) {
    const auto& bias = ctx.input_shape(2);
    const Dimension& n = out[static_cast<size_t>(out.rank() - 1)];
    SLUICE_CHECK(!bias.rank_known() || (bias.rank() == 1 && (bias[0].is_dynamic() || n.is_dynamic() ||
                                                             bias[0].extent() == n.extent())),
                 where(node), "input Bias has shape ", bias.to_string(), "; expected [", n.to_string(),
                 "] (the result's last dim)");
  }
  ctx.set_output(0, ctx.input_type(0), out);
  infer_post_op_inputs(ctx, 3);
}

template <class T>
void fused_matmul_kernel(const Tensor& ta, const Tensor& tb, const Tensor& bias, bool trans_b, float alpha,
                         const Shape& batch_a, const Shape& batch_b, const Shape& batch, int64_t m, int64_t k,
                         int64_t n, Tensor& y) {
  using A = ops::nn::acc_t<T>;
  using C = ops::compute_t<T>;
  const T* pa = ta.data<T>();
  const T* pb = tb.data<T>();
  const T* pbias = bias.empty() ? nullptr : bias.data<T>();
  T* py = y.data<T>();
  // B'[p][j] = pb[p * b_row + j * b_col].
  const int64_t b_row = trans_b ? 1 : n;
  const int64_t b_col = trans_b ? k : 1;
  std::vector<A> acc(static_cast<size_t>(m * n));
  // Rounds to T between steps, as the unfused MatMul, Mul and Add nodes would.
  auto round = [](C v) { return static_cast<C>(ops::nn::narrow<T>(v)); };
  ops::for_each_broadcast(batch_a, batch_b, batch, [&](int64_t o, int64_t ia, int64_t ib) {
    const T* a = pa + ia * m * k;
    const T* b = pb + ib * k * n;
    std::fill(acc.begin(), acc.end(), A(0));
    for (int64_t i = 0; i < m; ++i) {
      A* row = acc.data() + i * n;
      if (trans_b) {
        for (int64_t j = 0; j < n; ++j) {
          A sum = 0;
          for (int64_t p = 0; p < k; ++p)
            sum += ops::nn::widen(a[i * k + p]) * ops::nn::widen(b[j * b_col + p]);
          row[j] = sum;
        }
      } else {
        for (int64_t p = 0; p < k; ++p) {
          const A av = ops::nn::widen(a[i * k + p]);
          const T* brow = b + p * b_row;
          for (int64_t j = 0; j < n; ++j) row[j] += av * ops::nn::widen(brow[j]);
        }
      }
    }
    T* dst = py + o * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        C v = round(static_cast<C>(acc[static_cast<size_t>(i * n + j)]));
        if (alpha != 1.0f) v = round(static_cast<C>(alpha) * v);
        if (pbias) v = v + static_cast<C>(pbias[j]);
        dst[i * n + j] = ops::nn::narrow<T>(v);
      }
    }
  });
}

std::vector<Tensor> run_fused_matmul(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& ta = in[0];
  const Tensor& tb = in[1];
  const Tensor bias = in.size() > 2 ? in[2] : Tensor();
  const bool trans_b = node.attr_int("transB", 0) != 0;
  const float alpha = node.attr_float("alpha", 1.0f);
  SLUICE_CHECK(ta.type() == tb.type() && (bias.empty() || bias.type() == ta.type()), where(node),
               "inputs A, B and Bias have element types ", to_string(ta.type()), ", ", to_string(tb.type()),
               " and ", bias.empty() ? "none" : to_string(bias.type()), "; expected the same type");
  SLUICE_CHECK(ta.rank() >= 1 && tb.rank() >= (trans_b || !bias.empty() ? 2 : 1), where(node),
               "inputs have shapes ", to_string(ta.shape()), " and ", to_string(tb.shape()),
               "; expected rank >= 1 (rank >= 2 for B with transB = 1 or a Bias)");
  Shape a = ta.shape(), b = tb.shape();
  if (trans_b) std::swap(b[b.size() - 1], b[b.size() - 2]);
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  SLUICE_CHECK(b[b.size() - 2] == k, where(node), "inner dimensions do not match: A has shape ",
               to_string(ta.shape()), ", B has shape ", to_string(tb.shape()), " (transB=", trans_b, ")");
  SLUICE_CHECK(bias.empty() || (bias.rank() == 1 && bias.shape()[0] == n), where(node),
               "input Bias has shape ", to_string(bias.shape()), "; expected [", n,
               "] (the result's last dim)");
  const Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  const Shape batch = ops::broadcast_shapes(batch_a, batch_b, node);
  Shape out_shape = batch;
  if (ta.rank() > 1) out_shape.push_back(m);
  if (tb.rank() > 1) out_shape.push_back(n);
  Tensor y(ta.type(), out_shape);
  ops::dispatch_floating(ta.type(), where(node), [&](auto tag) {
    fused_matmul_kernel<decltype(tag)>(ta, tb, bias, trans_b, alpha, batch_a, batch_b, batch, m, k, n, y);
  });
  apply_post_ops(node, extras_of(in, 3), y);
  return {y};
}

}  // namespace

void register_fused_conv_matmul_ops(OpRegistry& registry) {
  registry.add(OpSchema{sluice_domain, "FusedConv", 1, 2, -1, 1, 1, validate_fused_conv, infer_fused_conv,
                        run_fused_conv});
  registry.add(OpSchema{sluice_domain, "FusedMatMul", 1, 2, -1, 1, 1, validate_fused_matmul,
                        infer_fused_matmul, run_fused_matmul});
}

}  // namespace sluice::graph
