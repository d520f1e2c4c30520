// The CPU device's oneDNN kernels (convolution, pooling, matrix products) against the reference kernels.
#include <gtest/gtest.h>

#include "cpu_kernel_harness.hpp"
#include "ops/post_ops.hpp"

namespace sluice {
namespace {

using cpu_test::expect_cpu_matches_ref;
using cpu_test::random_tensor;
using ops_test::OneNode;

struct MatMulCase {
  Shape a, b;
  bool b_constant;
};

TEST(CpuDnnlKernels, MatMulMatchesReference) {
  std::mt19937 rng(7);
  const std::vector<MatMulCase> cases = {
      {{4, 8}, {8, 5}, true},           {{2, 3, 8}, {8, 5}, true},
      {{2, 3, 8}, {8, 5}, false},       {{2, 3, 4, 8}, {2, 3, 8, 5}, false},
      {{2, 30, 3}, {2, 3, 2}, false},   {{1, 3, 8}, {4, 8, 5}, false},
      {{4, 3, 8}, {1, 8, 5}, false},    {{3, 7}, {7, 1}, true},
      {{2, 1, 3, 8}, {4, 8, 6}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(to_string(c.a) + " x " + to_string(c.b) + (c.b_constant ? " (constant B)" : ""));
    OneNode one("MatMul", 2, 1, 13);
    Tensor a = random_tensor(ElementType::f32, c.a, rng), b = random_tensor(ElementType::f32, c.b, rng);
    one.input(0, ElementType::f32, PartialShape(c.a));
    if (c.b_constant) {
      one.constant(1, b);
    } else {
      one.input(1, ElementType::f32, PartialShape(c.b));
    }
    expect_cpu_matches_ref(one, {a, b}, 1e-4, 1e-5);
  }
}

TEST(CpuDnnlKernels, GemmMatchesReference) {
  std::mt19937 rng(8);
  for (int trans_a = 0; trans_a < 2; ++trans_a) {
    for (int trans_b = 0; trans_b < 2; ++trans_b) {
      for (float alpha : {1.f, 0.5f}) {
        SCOPED_TRACE("transA " + std::to_string(trans_a) + " transB " + std::to_string(trans_b) + " alpha " +
                     std::to_string(alpha));
        OneNode one("Gemm", 3, 1, 13);
        one.attr("transA", int64_t{trans_a}).attr("transB", int64_t{trans_b}).attr("alpha", alpha);
        const Shape as = trans_a ? Shape{6, 4} : Shape{4, 6};
        const Shape bs = trans_b ? Shape{5, 6} : Shape{6, 5};
        Tensor a = random_tensor(ElementType::f32, as, rng), b = random_tensor(ElementType::f32, bs, rng);
        Tensor c = random_tensor(ElementType::f32, {5}, rng);
        one.input(0, ElementType::f32, PartialShape(as)).constant(1, b).constant(2, c);
        expect_cpu_matches_ref(one, {a, b, c}, 1e-4, 1e-5);
      }
    }
  }
}

TEST(CpuDnnlKernels, ConvMatchesReference) {
  std::mt19937 rng(9);
  struct ConvCase {
    Shape x, w;
    int64_t group;
    std::vector<int64_t> strides, pads, dilations;
    std::string auto_pad;
  };
  const std::vector<ConvCase> cases = {
      {{1, 3, 9, 9}, {8, 3, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, "NOTSET"},
      {{2, 16, 8, 8}, {32, 16, 1, 1}, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, "NOTSET"},
      {{1, 8, 10, 7}, {8, 1, 3, 3}, 8, {2, 2}, {1, 0, 1, 2}, {1, 1}, "NOTSET"},
      {{1, 4, 11, 11}, {6, 2, 3, 3}, 2, {2, 1}, {}, {2, 1}, "SAME_UPPER"},
      {{1, 3, 12}, {5, 3, 4}, 1, {3}, {}, {1}, "SAME_LOWER"},
      {{1, 2, 5, 6, 7}, {4, 2, 2, 3, 2}, 1, {1, 2, 1}, {0, 1, 1, 0, 1, 1}, {1, 1, 1}, "NOTSET"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(to_string(c.x) + " * " + to_string(c.w) + " group " + std::to_string(c.group));
    for (bool bias : {false, true}) {
      OneNode one("Conv", bias ? 3 : 2, 1, 11);
      one.attr("group", c.group).attr("strides", c.strides).attr("dilations", c.dilations);
      if (c.auto_pad == "NOTSET") {
        one.attr("pads", c.pads);
      } else {
        one.attr("auto_pad", c.auto_pad);
      }
      Tensor x = random_tensor(ElementType::f32, c.x, rng), w = random_tensor(ElementType::f32, c.w, rng);
      Tensor b = random_tensor(ElementType::f32, {c.w[0]}, rng);
      one.input(0, ElementType::f32, PartialShape(c.x)).constant(1, w);
      std::vector<Tensor> inputs = {x, w};
      if (bias) {
        one.constant(2, b);
        inputs.push_back(b);
      }
      const std::string impl = expect_cpu_matches_ref(one, inputs, 1e-4, 1e-4);
      EXPECT_NE(impl, "ref");
    }
  }
}

TEST(CpuDnnlKernels, ConvInBf16IsCloseToReference) {
  if (dnnl::get_effective_cpu_isa() < dnnl::cpu_isa::avx512_core) GTEST_SKIP() << "no AVX-512 for bf16";
  std::mt19937 rng(10);
  OneNode one("Conv", 3, 1, 11);
  one.attr("pads", std::vector<int64_t>{1, 1, 1, 1});
  Tensor x = random_tensor(ElementType::f32, {1, 16, 14, 14}, rng),
         w = random_tensor(ElementType::f32, {32, 16, 3, 3}, rng, -0.2, 0.2);
  Tensor b = random_tensor(ElementType::f32, {32}, rng);
  one.input(0, ElementType::f32, PartialShape({1, 16, 14, 14})).constant(1, w).constant(2, b);
  cpu::CpuConfig config;
  config.precision = ElementType::bf16;
  // bf16 keeps 8 bits of mantissa: about 3 significant digits per product.
  expect_cpu_matches_ref(one, {x, w, b}, 3e-2, 5e-2, config);
}

TEST(CpuDnnlKernels, PoolingMatchesReference) {
  std::mt19937 rng(11);
  struct PoolCase {
    std::string op;
    std::vector<int64_t> kernel, strides, pads;
    int64_t ceil_mode, count_include_pad;
  };
  const std::vector<PoolCase> cases = {
      {"MaxPool", {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 0},
      {"MaxPool", {3, 3}, {2, 2}, {0, 0, 0, 0}, 1, 0},
      {"AveragePool", {2, 2}, {2, 2}, {0, 0, 0, 0}, 0, 0},
      {"AveragePool", {3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 1},
      {"AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, 1, 0},
      {"GlobalAveragePool", {}, {}, {}, 0, 0},
      {"GlobalMaxPool", {}, {}, {}, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.op + " ceil " + std::to_string(c.ceil_mode) + " include_pad " +
                 std::to_string(c.count_include_pad));
    OneNode one(c.op, 1, 1, 11);
    if (!c.kernel.empty()) {
      one.attr("kernel_shape", c.kernel)
          .attr("strides", c.strides)
          .attr("pads", c.pads)
          .attr("ceil_mode", c.ceil_mode);
      if (c.op == "AveragePool") one.attr("count_include_pad", c.count_include_pad);
    }
    const Shape xs = {2, 5, 10, 9};
    Tensor x = random_tensor(ElementType::f32, xs, rng);
    one.input(0, ElementType::f32, PartialShape(xs));
    expect_cpu_matches_ref(one, {x}, 1e-5, 1e-6);
  }
}

// Makes `one` (built with the op's name and domain "") the com.sluice operator with these post-ops.
void make_fused(OneNode& one, const std::vector<ops::PostOp>& post_ops) {
  one.node->domain = "com.sluice";
  one.node->opset_version = 1;
  one.node->schema = graph::OpRegistry::instance().find("com.sluice", one.node->op_type, 1);
  ASSERT_NE(one.node->schema, nullptr) << one.node->op_type;
  ops::set_post_ops(*one.node, post_ops);
}

// Every activation a fusion can put after a convolution or matrix product.
std::vector<ops::PostOp> unary_post_ops() {
  using ops::PostOpKind;
  return {{PostOpKind::Relu},
          {PostOpKind::LeakyRelu, 0.1f},
          {PostOpKind::Clip, -0.5f, 0.5f},
          {PostOpKind::Sigmoid},
          {PostOpKind::Tanh},
          {PostOpKind::HardSigmoid, 0.2f, 0.5f},
          {PostOpKind::HardSwish},
          {PostOpKind::Swish},
          {PostOpKind::Gelu},
          {PostOpKind::GeluTanh},
          {PostOpKind::Elu, 1.f}};
}

// A fused matrix product without a bias (2 inputs, only unary post-ops) runs on oneDNN: it went to the
// reference kernel when the post-op builder expected the absent bias slot to be there.
TEST(CpuDnnlKernels, FusedMatMulWithoutBiasRunsOnOneDnn) {
  std::mt19937 rng(12);
  struct Case {
    Shape a, b;
    bool b_constant;
    int64_t trans_b;
    float alpha;
  };
  const std::vector<Case> cases = {
      {{16, 64}, {64, 32}, true, 0, 1.f},       // constant 2-D weights: rows folded
      {{2, 3, 16}, {16, 8}, true, 0, 0.25f},    // folded batch; a scale (MatMul then Mul or Div by a scalar)
      {{2, 3, 16}, {8, 16}, true, 1, 1.f},      // transB (Gemm and Linear exports)
      {{2, 4, 16}, {2, 16, 8}, false, 0, 1.f},  // batched product of two activations
  };
  for (const auto& c : cases) {
    for (const ops::PostOp& op : unary_post_ops()) {
      SCOPED_TRACE(to_string(c.a) + " x " + to_string(c.b) + " transB " + std::to_string(c.trans_b) +
                   " alpha " + std::to_string(c.alpha) + " " + ops::post_op_name(op.kind));
      OneNode one("FusedMatMul", 2, 1, 1);
      make_fused(one, {op});
      one.attr("transB", c.trans_b).attr("alpha", c.alpha);
      Tensor a = random_tensor(ElementType::f32, c.a, rng), b = random_tensor(ElementType::f32, c.b, rng);
      one.input(0, ElementType::f32, PartialShape(c.a));
      if (c.b_constant) {
        one.constant(1, b);
      } else {
        one.input(1, ElementType::f32, PartialShape(c.b));
      }
      const std::string impl = expect_cpu_matches_ref(one, {a, b}, 1e-4, 1e-5);
      EXPECT_NE(impl, "ref");
    }
  }
}

// The same for a convolution without a bias, and for a chain with a binary post-op after the
// activation (the extra input then follows an absent bias slot).
TEST(CpuDnnlKernels, FusedConvWithoutBiasRunsOnOneDnn) {
  std::mt19937 rng(13);
  const Shape xs = {1, 8, 9, 9}, ws = {16, 8, 3, 3}, ys = {1, 16, 9, 9};
  for (const ops::PostOp& op : unary_post_ops()) {
    SCOPED_TRACE(ops::post_op_name(op.kind));
    OneNode one("FusedConv", 2, 1, 1);
    make_fused(one, {op});
    one.attr("pads", std::vector<int64_t>{1, 1, 1, 1});
    Tensor x = random_tensor(ElementType::f32, xs, rng),
           w = random_tensor(ElementType::f32, ws, rng, -0.3, 0.3);
    one.input(0, ElementType::f32, PartialShape(xs)).constant(1, w);
    EXPECT_NE(expect_cpu_matches_ref(one, {x, w}, 1e-4, 1e-5), "ref");
  }
  {
    SCOPED_TRACE("Relu then Mul");
    OneNode one("FusedConv", std::vector<bool>{true, true, false, true}, 1, 1);
    make_fused(one, {{ops::PostOpKind::Relu}, {ops::PostOpKind::Mul}});
    one.attr("pads", std::vector<int64_t>{1, 1, 1, 1});
    Tensor x = random_tensor(ElementType::f32, xs, rng),
           w = random_tensor(ElementType::f32, ws, rng, -0.3, 0.3);
    Tensor m = random_tensor(ElementType::f32, ys, rng);
    one.input(0, ElementType::f32, PartialShape(xs))
        .constant(1, w)
        .input(3, ElementType::f32, PartialShape(ys));
    EXPECT_NE(expect_cpu_matches_ref(one, {x, w, Tensor(), m}, 1e-4, 1e-5), "ref");
  }
}

// A bias that is computed (not a constant) is read as it arrives, and a Gemm's beta scales a constant C:
// neither needs the reference kernel.
TEST(CpuDnnlKernels, ComputedBiasAndGemmBeta) {
  std::mt19937 rng(14);
  const Shape as = {6, 16}, bs = {16, 8};
  Tensor a = random_tensor(ElementType::f32, as, rng), b = random_tensor(ElementType::f32, bs, rng);
  Tensor c = random_tensor(ElementType::f32, {8}, rng);
  for (float alpha : {1.f, 0.5f}) {
    for (float beta : {1.f, 0.5f, 2.f}) {
      for (bool c_constant : {true, false}) {
        SCOPED_TRACE("Gemm alpha " + std::to_string(alpha) + " beta " + std::to_string(beta) +
                     (c_constant ? " constant C" : " computed C"));
        OneNode one("Gemm", 3, 1, 13);
        one.attr("alpha", alpha).attr("beta", beta);
        one.input(0, ElementType::f32, PartialShape(as)).constant(1, b);
        if (c_constant) {
          one.constant(2, c);
        } else {
          one.input(2, ElementType::f32, PartialShape({8}));
        }
        // A computed C can be added as it arrives only when beta / alpha is 1 (it is not scaled).
        if (c_constant || beta == alpha) {
          EXPECT_NE(expect_cpu_matches_ref(one, {a, b, c}, 1e-4, 1e-5), "ref");
        } else {
          const cpu_test::CpuRun run = cpu_test::run_cpu_kernel(one, {a, b, c});
          EXPECT_TRUE(run.impl.empty()) << run.impl;
        }
      }
    }
  }
  {
    SCOPED_TRACE("FusedMatMul, computed bias, Relu");
    OneNode one("FusedMatMul", 3, 1, 1);
    make_fused(one, {{ops::PostOpKind::Relu}});
    one.input(0, ElementType::f32, PartialShape(as))
        .constant(1, b)
        .input(2, ElementType::f32, PartialShape({8}));
    EXPECT_NE(expect_cpu_matches_ref(one, {a, b, c}, 1e-4, 1e-5), "ref");
  }
  {
    SCOPED_TRACE("Conv, computed bias");
    const Shape xs = {1, 4, 7, 7}, ws = {8, 4, 3, 3};
    Tensor x = random_tensor(ElementType::f32, xs, rng), w = random_tensor(ElementType::f32, ws, rng);
    OneNode one("Conv", 3, 1, 11);
    one.input(0, ElementType::f32, PartialShape(xs))
        .constant(1, w)
        .input(2, ElementType::f32, PartialShape({8}));
    Tensor bias = random_tensor(ElementType::f32, {8}, rng);
    EXPECT_NE(expect_cpu_matches_ref(one, {x, w, bias}, 1e-4, 1e-5), "ref");
  }
}

}  // namespace
}  // namespace sluice
