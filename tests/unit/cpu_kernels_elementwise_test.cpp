// The CPU device's elementwise kernels (src/devices/cpu/kernels_elementwise.cpp) against the reference
// kernels, and the vectorizable approximations of vec_math.hpp against libm.
//
// Tolerances: arithmetic, comparisons, selection, Clip and Cast must match the reference exactly (to 1e-7
// relative where the harness compares, so within one float rounding); Exp, Log, Tanh, Sigmoid and Erf within
// rtol 1e-6 / atol 1e-7 (the approximations are within 3e-7 relative of the exact value, libm's float
// functions within about 1 ulp); HardSigmoid within rtol 1e-6 / atol 1e-7 (the AVX-512 build of the kernel
// fuses alpha * x + beta into one rounding); the composite activations (Gelu, Softplus, Mish, Elu, Selu)
// within rtol 1e-5 / atol 1e-6, since the reference's own formulas cancel there (1 + erf(x) for x << 0).
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu_kernel_harness.hpp"
#include "devices/cpu/vec_math.hpp"
#include "ops_one_node_harness.hpp"

namespace sluice {
namespace {

using cpu_test::random_tensor;
using ops_test::OneNode;

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

std::mt19937& rng() {
  static std::mt19937 r(20240611);
  return r;
}

// A one-node graph of `op` whose inputs are declared with the types and shapes of `in` (empty tensors:
// omitted optional inputs); inputs flagged in `constant` are constants with their values.
std::unique_ptr<OneNode> node_for(const std::string& op, int64_t opset, const std::vector<Tensor>& in,
                                  const std::vector<bool>& constant = {}) {
  std::vector<bool> present;
  present.reserve(in.size());
  for (const Tensor& t : in) present.push_back(!t.empty());
  auto one = std::make_unique<OneNode>(op, present, size_t{1}, opset);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].empty()) continue;
    if (i < constant.size() && constant[i]) {
      one->constant(i, in[i]);
    } else {
      one->input(i, in[i].type(), PartialShape(in[i].shape()));
    }
  }
  return one;
}

bool is_ours(const std::string& impl) { return impl.rfind("sluice:", 0) == 0; }

// The harness's comparison, plus: the kernel that ran is one of this file's.
void check(OneNode& one, const std::vector<Tensor>& in, double rtol = 1e-5, double atol = 1e-6) {
  const std::string impl = cpu_test::expect_cpu_matches_ref(one, in, rtol, atol);
  EXPECT_TRUE(is_ours(impl)) << one.node->describe() << ": impl '" << impl << "'";
}

// Like check(), but equal values (infinities included) and NaN/NaN always match, so that special values
// can be compared; rtol 0 asks for identical values.
void check_values(OneNode& one, const std::vector<Tensor>& in, double rtol = 0, double atol = 0) {
  cpu_test::CpuRun cpu = cpu_test::run_cpu_kernel(one, in);
  ASSERT_TRUE(is_ours(cpu.impl)) << one.node->describe() << ": impl '" << cpu.impl << "'";
  const std::vector<Tensor> ref = one.run(in);
  ASSERT_EQ(cpu.outputs.size(), ref.size());
  const Tensor& c = cpu.outputs[0];
  const Tensor& r = ref[0];
  ASSERT_EQ(c.type(), r.type());
  ASSERT_EQ(c.shape(), r.shape());
  int failures = 0;
  for (int64_t i = 0; i < r.size() && failures < 5; ++i) {
    const double cv = cpu_test::element_as_double(c, i), rv = cpu_test::element_as_double(r, i);
    if (cv == rv || (std::isnan(cv) && std::isnan(rv)) || std::abs(cv - rv) <= atol + rtol * std::abs(rv)) {
      continue;
    }
    ADD_FAILURE() << one.node->describe() << " element " << i << ": cpu " << cv << ", ref " << rv;
    ++failures;
  }
}

std::string shape_str(const Shape& s) { return to_string(s); }
std::string tname(ElementType t) { return std::string(to_string(t)); }

// Random data for each element type, ints in [lo, hi].
Tensor random_values(ElementType type, const Shape& shape, double lo = -5, double hi = 5) {
  return random_tensor(type, shape, rng(), lo, hi);
}

// f32 values on a grid of halves, so that comparisons see ties.
Tensor grid_f32(const Shape& shape) {
  Tensor t = random_tensor(ElementType::f32, shape, rng(), -2, 2);
  for (float& v : t.values<float>()) v = std::round(v * 2) / 2;
  return t;
}

// Values of `type` converted from f32 values by the reference Cast (so they are exactly representable).
Tensor f32_as(ElementType type, const Tensor& values) {
  if (type == ElementType::f32) return values;
  static const std::pair<ElementType, int64_t> codes[] = {
      {ElementType::f32, 1},     {ElementType::u8, 2},   {ElementType::i8, 3},
      {ElementType::i32, 6},     {ElementType::i64, 7},  {ElementType::f16, 10},
      {ElementType::boolean, 9}, {ElementType::f64, 11}, {ElementType::bf16, 16}};
  int64_t code = 0;
  for (const auto& [t, c] : codes) {
    if (t == type) code = c;
  }
  OneNode cast("Cast", 1, 1, 13);
  cast.attr("to", code);
  return cast.run1({values});
}

// Binary broadcasting cases: equal shapes, a scalar operand, a row (bias) broadcast, a column broadcast,
// general N-d broadcasts, rank 0, empty tensors, and sizes large enough to run on several threads.
const std::vector<std::pair<Shape, Shape>>& broadcast_cases() {
  static const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 5, 7}, {3, 5, 7}},
      {{}, {4, 33}},
      {{4, 33}, {}},
      {{1}, {37}},
      {{2, 17, 31}, {31}},
      {{1, 1, 31}, {2, 17, 31}},
      {{5, 19, 23}, {19, 1}},
      {{5, 19, 1}, {5, 19, 23}},
      {{3, 1, 5}, {1, 4, 1}},
      {{2, 3, 1, 7}, {3, 5, 1}},
      {{4, 1, 6, 1, 3}, {1, 5, 6, 2, 1}},
      {{4, 1, 6}, {4, 1, 6}},
      {{}, {}},
      {{1, 1}, {}},
      {{0, 3}, {3}},
      {{2, 0, 3}, {1, 3}},
      {{40001}, {40001}},
      {{300, 257}, {257}},
      {{257, 300}, {257, 1}},
      {{64, 3, 129}, {64, 1, 129}},
      {{33000}, {}},
      {{2, 1, 9000}, {1, 3, 9000}},
  };
  return cases;
}

// --------------------------------------------------------------------------------------------- vec_math

// Relative error of f against the double-precision reference g over every 97th float (both signs), with
// infinities, NaN and zeros: <= max_rel where the exact result is a normal float, equal where it is
// infinite or NaN, within the smallest normal where it is subnormal.
template <class F, class G> void sweep(const char* name, F f, G g, double max_rel) {
  std::vector<float> xs;
  for (uint32_t b = 0; b < 0x7f800000u; b += 97) {
    xs.push_back(std::bit_cast<float>(b));
    xs.push_back(std::bit_cast<float>(b | 0x80000000u));
  }
  for (float v : {inf, -inf, qnan, 0.0f, -0.0f, 88.72f, 88.73f, -87.3f, -103.9f, 0.625f, 0.9375f, 3.925f}) {
    xs.push_back(v);
  }
  std::vector<float> ys(xs.size());
  // The vectorized form, as the kernels call it.
#pragma omp simd
  for (size_t i = 0; i < xs.size(); ++i) ys[i] = f(xs[i]);
  double worst = 0;
  float worst_x = 0;
  int failures = 0;
  for (size_t i = 0; i < xs.size() && failures < 5; ++i) {
    const double want = g(static_cast<double>(xs[i]));
    const float got = ys[i];
    const float want_f = static_cast<float>(want);
    if (std::isnan(want)) {
      if (!std::isnan(got)) {
        ADD_FAILURE() << name << "(" << xs[i] << ") = " << got << ", want NaN";
        ++failures;
      }
    } else if (std::isinf(want_f)) {
      if (got != want_f) {
        ADD_FAILURE() << name << "(" << xs[i] << ") = " << got << ", want " << want_f;
        ++failures;
      }
    } else if (std::abs(want) < std::numeric_limits<float>::min()) {
      if (!(std::abs(got - want) <= std::numeric_limits<float>::min())) {
        ADD_FAILURE() << name << "(" << xs[i] << ") = " << got << ", want " << want;
        ++failures;
      }
    } else {
      const double rel = std::abs(got - want) / std::abs(want);
      if (!(rel <= worst)) {
        worst = std::isnan(rel) ? 1e9 : rel;
        worst_x = xs[i];
      }
    }
  }
  EXPECT_LE(worst, max_rel) << name << " worst at x = " << worst_x;
}

TEST(CpuVecMath, ExpMatchesLibm) {
  sweep(
      "exp", [](float x) { return cpu::exp_approx(x); }, [](double x) { return std::exp(x); }, 3e-7);
  EXPECT_EQ(cpu::exp_approx(0.0f), 1.0f);
  EXPECT_EQ(cpu::exp_approx(89.0f), inf);
  EXPECT_EQ(cpu::exp_approx(-104.0f), 0.0f);
  EXPECT_EQ(cpu::exp_approx(-inf), 0.0f);
  EXPECT_GT(cpu::exp_approx(-100.0f), 0.0f);  // subnormal, not flushed
  EXPECT_TRUE(std::isfinite(cpu::exp_approx(88.72f)));
}

TEST(CpuVecMath, LogMatchesLibm) {
  sweep(
      "log", [](float x) { return cpu::log_approx(x); }, [](double x) { return std::log(x); }, 3e-7);
  EXPECT_EQ(cpu::log_approx(1.0f), 0.0f);
  EXPECT_EQ(cpu::log_approx(0.0f), -inf);
  EXPECT_EQ(cpu::log_approx(-0.0f), -inf);
  EXPECT_EQ(cpu::log_approx(inf), inf);
  EXPECT_TRUE(std::isnan(cpu::log_approx(-1.0f)));
  EXPECT_NEAR(cpu::log_approx(1e-45f), std::log(static_cast<double>(1e-45f)), 1e-5);  // subnormal input
}

TEST(CpuVecMath, TanhMatchesLibm) {
  sweep(
      "tanh", [](float x) { return cpu::tanh_approx(x); }, [](double x) { return std::tanh(x); }, 3e-7);
  EXPECT_EQ(cpu::tanh_approx(inf), 1.0f);
  EXPECT_EQ(cpu::tanh_approx(-inf), -1.0f);
  EXPECT_EQ(cpu::tanh_approx(1e-30f), 1e-30f);
}

TEST(CpuVecMath, SigmoidMatchesLibm) {
  sweep(
      "sigmoid", [](float x) { return cpu::sigmoid_approx(x); },
      [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 3e-7);
  EXPECT_EQ(cpu::sigmoid_approx(inf), 1.0f);
  EXPECT_EQ(cpu::sigmoid_approx(-inf), 0.0f);
  EXPECT_EQ(cpu::sigmoid_approx(0.0f), 0.5f);
}

TEST(CpuVecMath, ErfMatchesLibm) {
  sweep(
      "erf", [](float x) { return cpu::erf_approx(x); }, [](double x) { return std::erf(x); }, 3e-7);
  EXPECT_EQ(cpu::erf_approx(inf), 1.0f);
  EXPECT_EQ(cpu::erf_approx(-inf), -1.0f);
  EXPECT_EQ(cpu::erf_approx(0.0f), 0.0f);
}

TEST(CpuVecMath, Log1pMatchesLibm) {
  double worst = 0;
  for (float x = 1e-12f; x < 1e6f; x *= 1.001f) {
    const double want = std::log1p(static_cast<double>(x));
    worst = std::max(worst, std::abs(cpu::log1p_approx(x) - want) / want);
  }
  EXPECT_LE(worst, 3e-7);
  EXPECT_EQ(cpu::log1p_approx(0.0f), 0.0f);
}

// ------------------------------------------------------------------------------------------- binary ops

TEST(CpuEltwiseBinary, ArithmeticEveryTypeAndBroadcast) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    for (ElementType type : {ElementType::f32, ElementType::i32, ElementType::i64}) {
      for (const auto& [sa, sb] : broadcast_cases()) {
        SCOPED_TRACE(std::string(op) + " " + tname(type) + " " + shape_str(sa) + " " + shape_str(sb));
        Tensor a = random_values(type, sa, -100, 100);
        Tensor b = random_values(type, sb, -100, 100);
        if (type != ElementType::f32 && std::string(op) == "Div") {
          // Nonzero divisors, with -1 among them (the wrapping case).
          for (int64_t i = 0; i < b.size(); ++i) {
            const double v = cpu_test::element_as_double(b, i);
            const double fixed = v == 0 ? -1 : v;
            if (type == ElementType::i32) b.data<int32_t>()[i] = static_cast<int32_t>(fixed);
            if (type == ElementType::i64) b.data<int64_t>()[i] = static_cast<int64_t>(fixed);
          }
        }
        auto one = node_for(op, 14, {a, b});
        check(*one, {a, b});
      }
    }
  }
}

TEST(CpuEltwiseBinary, IntegerWrapAndTruncation) {
  const int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  const std::vector<int32_t> a = {lo, hi, -7, 7, -7, 7, lo, 0, 5};
  const std::vector<int32_t> b = {-1, 2, 2, -2, -2, 2, 1, -3, 7};
  const Tensor ta = Tensor::from<int32_t>({9}, std::span<const int32_t>(a));
  const Tensor tb = Tensor::from<int32_t>({9}, std::span<const int32_t>(b));
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    auto one = node_for(op, 14, {ta, tb});
    check_values(*one, {ta, tb});
  }
}

TEST(CpuEltwiseBinary, IntegerDivisionByZeroThrowsLikeTheReference) {
  const Tensor a = Tensor::from<int64_t>({3}, std::vector<int64_t>{1, 2, 3});
  const Tensor b = Tensor::from<int64_t>({3}, std::vector<int64_t>{1, 0, 3});
  auto one = node_for("Div", 14, {a, b});
  EXPECT_THROW(cpu_test::run_cpu_kernel(*one, {a, b}), Error);
  EXPECT_THROW(one->run({a, b}), Error);
  const std::string message = ops_test::error_of([&] { cpu_test::run_cpu_kernel(*one, {a, b}); });
  EXPECT_NE(message.find("division by zero"), std::string::npos) << message;
}

TEST(CpuEltwiseBinary, MaxMinTwoInputs) {
  for (const char* op : {"Max", "Min"}) {
    for (ElementType type : {ElementType::f32, ElementType::i32, ElementType::i64}) {
      for (const auto& [sa, sb] : broadcast_cases()) {
        SCOPED_TRACE(std::string(op) + " " + tname(type) + " " + shape_str(sa) + " " + shape_str(sb));
        Tensor a = random_values(type, sa, -100, 100);
        Tensor b = random_values(type, sb, -100, 100);
        auto one = node_for(op, 13, {a, b});
        check(*one, {a, b});
      }
    }
  }
  // NaN propagates from either side.
  const Tensor a = ops_test::f32({5}, {qnan, 1.0f, qnan, -0.0f, 3.0f});
  const Tensor b = ops_test::f32({5}, {1.0f, qnan, qnan, 0.0f, -inf});
  for (const char* op : {"Max", "Min"}) {
    auto one = node_for(op, 13, {a, b});
    check_values(*one, {a, b});
  }
}

TEST(CpuEltwiseBinary, SumAndMeanOfTwo) {
  for (const char* op : {"Sum", "Mean"}) {
    for (const auto& [sa, sb] : broadcast_cases()) {
      SCOPED_TRACE(std::string(op) + " " + shape_str(sa) + " " + shape_str(sb));
      Tensor a = random_values(ElementType::f32, sa);
      Tensor b = random_values(ElementType::f32, sb);
      auto one = node_for(op, 13, {a, b});
      check(*one, {a, b});
    }
  }
}

TEST(CpuEltwiseBinary, PowGeneralAndConstantExponents) {
  for (const auto& [sa, sb] : broadcast_cases()) {
    SCOPED_TRACE(shape_str(sa) + " " + shape_str(sb));
    Tensor a = random_values(ElementType::f32, sa, 0.1, 3);
    Tensor b = random_values(ElementType::f32, sb, -2, 2);
    auto one = node_for("Pow", 15, {a, b});
    check(*one, {a, b});
  }
  // Negative bases (NaN for fractional exponents), with the exponent an input rather than a constant.
  Tensor a = random_values(ElementType::f32, {7, 9});
  Tensor b = grid_f32({9});
  auto mixed = node_for("Pow", 15, {a, b});
  check(*mixed, {a, b});
  // Constant exponents with fast paths (and 3, without one), scalar and repeated, on special bases.
  const Tensor base =
      ops_test::f32({11}, {2.5f, -2.5f, 0.0f, -0.0f, inf, -inf, qnan, 1e-20f, 1e20f, -3.0f, 0.7f});
  for (float e : {2.0f, 0.5f, 1.0f, 0.0f, 3.0f}) {
    SCOPED_TRACE(e);
    for (const Shape& es : {Shape{}, Shape{11}, Shape{1}}) {
      const Tensor exponent = ops_test::f32(es, std::vector<float>(static_cast<size_t>(shape_size(es)), e));
      auto one = node_for("Pow", 15, {base, exponent}, {false, true});
      check_values(*one, {base, exponent});
    }
  }
  // A constant exponent that widens the output takes the general path.
  const Tensor wide = ops_test::f32({2, 11}, std::vector<float>(22, 2.0f));
  auto widening = node_for("Pow", 15, {base, wide}, {false, true});
  check_values(*widening, {base, wide});
}

TEST(CpuEltwiseBinary, Comparisons) {
  for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) {
    for (ElementType type : {ElementType::f32, ElementType::i32, ElementType::i64}) {
      for (const auto& [sa, sb] : broadcast_cases()) {
        SCOPED_TRACE(std::string(op) + " " + tname(type) + " " + shape_str(sa) + " " + shape_str(sb));
        Tensor a = type == ElementType::f32 ? grid_f32(sa) : random_values(type, sa, -2, 2);
        Tensor b = type == ElementType::f32 ? grid_f32(sb) : random_values(type, sb, -2, 2);
        auto one = node_for(op, 16, {a, b});
        check(*one, {a, b});
      }
    }
    const Tensor a = ops_test::f32({4}, {qnan, 1.0f, -0.0f, inf});
    const Tensor b = ops_test::f32({4}, {qnan, qnan, 0.0f, inf});
    auto one = node_for(op, 16, {a, b});
    check_values(*one, {a, b});
  }
}

TEST(CpuEltwiseBinary, Logic) {
  for (const char* op : {"And", "Or", "Xor"}) {
    for (const auto& [sa, sb] : broadcast_cases()) {
      SCOPED_TRACE(std::string(op) + " " + shape_str(sa) + " " + shape_str(sb));
      Tensor a = random_values(ElementType::boolean, sa);
      Tensor b = random_values(ElementType::boolean, sb);
      auto one = node_for(op, 7, {a, b});
      check(*one, {a, b});
    }
  }
}

TEST(CpuEltwiseBinary, DeclinesWhatItDoesNotHandle) {
  const auto declined = [](const std::string& op, int64_t opset, const std::vector<Tensor>& in) {
    auto one = node_for(op, opset, in);
    return cpu_test::run_cpu_kernel(*one, in).impl.empty();
  };
  const Tensor f64 = random_values(ElementType::f64, {3});
  EXPECT_TRUE(declined("Add", 14, {f64, f64}));
  const Tensor i8 = random_values(ElementType::i8, {3});
  EXPECT_TRUE(declined("Mul", 14, {i8, i8}));
  const Tensor f = random_values(ElementType::f32, {3});
  EXPECT_TRUE(declined("Max", 13, {f, f, f}));
  EXPECT_TRUE(declined("Max", 13, {f}));
  const Tensor i = random_values(ElementType::i32, {3});
  EXPECT_TRUE(declined("Pow", 15, {i, i}));
  EXPECT_TRUE(declined("Pow", 15, {f, i}));
  EXPECT_TRUE(declined("Sin", 7, {random_values(ElementType::f64, {3})}));
  EXPECT_TRUE(declined("Neg", 13, {random_values(ElementType::i8, {3})}));
}

// -------------------------------------------------------------------------------------------------- Where

TEST(CpuEltwiseWhere, EveryTypeAndBroadcast) {
  const std::vector<std::array<Shape, 3>> cases = {
      {Shape{3, 5, 7}, Shape{3, 5, 7}, Shape{3, 5, 7}},
      {Shape{}, Shape{4, 33}, Shape{4, 33}},
      {Shape{4, 33}, Shape{}, Shape{4, 33}},
      {Shape{4, 33}, Shape{4, 33}, Shape{}},
      {Shape{4, 33}, Shape{}, Shape{}},
      {Shape{1, 1, 9, 9}, Shape{2, 4, 9, 9}, Shape{}},  // an attention mask
      {Shape{2, 17, 31}, Shape{31}, Shape{2, 17, 31}},
      {Shape{5, 19, 1}, Shape{5, 19, 23}, Shape{19, 23}},
      {Shape{3, 1, 5}, Shape{1, 4, 1}, Shape{4, 5}},
      {Shape{}, Shape{}, Shape{}},
      {Shape{0, 3}, Shape{3}, Shape{1}},
      {Shape{300, 257}, Shape{257}, Shape{300, 1}},
      {Shape{40001}, Shape{40001}, Shape{40001}},
  };
  for (ElementType type :
       {ElementType::f32, ElementType::i32, ElementType::i64, ElementType::boolean, ElementType::f16}) {
    for (const auto& s : cases) {
      SCOPED_TRACE(tname(type) + " " + shape_str(s[0]) + " " + shape_str(s[1]) + " " + shape_str(s[2]));
      const Tensor c = random_values(ElementType::boolean, s[0]);
      const Tensor x = random_values(type, s[1]);
      const Tensor y = random_values(type, s[2]);
      auto one = node_for("Where", 16, {c, x, y});
      check(*one, {c, x, y});
    }
  }
}

// --------------------------------------------------------------------------------------------- Unary ops

struct UnaryCase {
  const char* op;
  int64_t opset;
  double rtol, atol;
  double lo, hi;  // random inputs in [lo, hi)
};

const UnaryCase unary_cases[] = {
    {"Relu", 14, 0, 0, -5, 5},
    {"Neg", 13, 0, 0, -5, 5},
    {"Abs", 13, 0, 0, -5, 5},
    {"Reciprocal", 13, 0, 0, -5, 5},
    {"Floor", 13, 0, 0, -50, 50},
    {"Ceil", 13, 0, 0, -50, 50},
    {"Sqrt", 13, 0, 0, -1, 100},
    {"Sign", 13, 0, 0, -5, 5},
    {"Sin", 7, 0, 0, -10, 10},
    {"Cos", 7, 0, 0, -10, 10},
    {"Exp", 13, 1e-6, 1e-7, -80, 80},
    {"Log", 13, 1e-6, 1e-7, -1, 100},
    {"Tanh", 13, 1e-6, 1e-7, -12, 12},
    {"Sigmoid", 13, 1e-6, 1e-7, -90, 30},
    {"Erf", 13, 1e-6, 1e-7, -5, 5},
    {"Softplus", 1, 1e-5, 1e-6, -30, 30},
    {"Mish", 18, 1e-5, 1e-6, -30, 30},
    {"Elu", 6, 1e-5, 1e-6, -10, 10},
    {"Selu", 6, 1e-5, 1e-6, -10, 10},
    {"LeakyRelu", 16, 0, 0, -5, 5},
    {"HardSigmoid", 6, 1e-6, 1e-7, -8, 8},
    {"HardSwish", 14, 0, 0, -8, 8},
    {"Gelu", 20, 1e-5, 1e-6, -8, 8},
};

TEST(CpuEltwiseUnary, F32EveryOpAndShape) {
  for (const UnaryCase& uc : unary_cases) {
    for (const Shape& shape :
         {Shape{7, 13}, Shape{}, Shape{0, 5}, Shape{1}, Shape{40001}, Shape{3, 17, 129}}) {
      SCOPED_TRACE(std::string(uc.op) + " " + shape_str(shape));
      const Tensor x = random_values(ElementType::f32, shape, uc.lo, uc.hi);
      auto one = node_for(uc.op, uc.opset, {x});
      check(*one, {x}, uc.rtol == 0 ? 1e-7 : uc.rtol, uc.atol);
    }
  }
}

TEST(CpuEltwiseUnary, F32SpecialValues) {
  std::vector<float> values = {0.0f,        -0.0f,    1e-30f, -1e-30f, 1e-6f, -1e-6f, 0.5f,    -0.5f,
                               1.0f,        -1.0f,    1.5f,   -2.5f,   10.0f, -10.0f, 20.0f,   -20.0f,
                               50.0f,       -50.0f,   88.0f,  88.7f,   89.0f, -88.0f, -100.0f, 100.0f,
                               1e10f,       -1e10f,   3e38f,  -3e38f,  inf,   -inf,   qnan,    8388607.5f,
                               -8388607.5f, 1.2e-38f, 1e-45f, 0.9375f};
  const Tensor x = ops_test::f32({static_cast<int64_t>(values.size())}, values);
  for (const UnaryCase& uc : unary_cases) {
    SCOPED_TRACE(uc.op);
    auto one = node_for(uc.op, uc.opset, {x});
    check_values(*one, {x}, uc.rtol == 0 ? 1e-7 : uc.rtol, uc.atol);
  }
}

TEST(CpuEltwiseUnary, AttributesAndGeluTanh) {
  const Tensor x = random_values(ElementType::f32, {5, 41}, -6, 6);
  {
    auto one = node_for("LeakyRelu", 16, {x});
    one->attr("alpha", 0.3f);
    check(*one, {x});
  }
  {
    auto one = node_for("Elu", 6, {x});
    one->attr("alpha", 0.7f);
    check(*one, {x});
  }
  {
    auto one = node_for("Selu", 6, {x});
    one->attr("alpha", 1.5f).attr("gamma", 2.0f);
    check(*one, {x});
  }
  {
    auto one = node_for("HardSigmoid", 6, {x});
    one->attr("alpha", 0.25f).attr("beta", 0.4f);
    check(*one, {x});
  }
  for (const char* approximate : {"none", "tanh"}) {
    auto one = node_for("Gelu", 20, {x});
    one->attr("approximate", std::string(approximate));
    check(*one, {x});
  }
}

TEST(CpuEltwiseUnary, IntegerOps) {
  for (ElementType type : {ElementType::i32, ElementType::i64}) {
    for (const char* op : {"Relu", "Neg", "Abs", "Sign"}) {
      for (const Shape& shape : {Shape{7, 13}, Shape{}, Shape{0}, Shape{40001}}) {
        SCOPED_TRACE(std::string(op) + " " + tname(type) + " " + shape_str(shape));
        const Tensor x = random_values(type, shape, -1000, 1000);
        auto one = node_for(op, 14, {x});
        check(*one, {x});
      }
    }
  }
  // The most negative value: Neg and Abs wrap.
  const Tensor x =
      Tensor::from<int32_t>({3}, std::vector<int32_t>{std::numeric_limits<int32_t>::min(), -1, 0});
  for (const char* op : {"Neg", "Abs", "Sign", "Relu"}) {
    auto one = node_for(op, 14, {x});
    check_values(*one, {x});
  }
}

TEST(CpuEltwiseUnary, Not) {
  for (const Shape& shape : {Shape{7, 13}, Shape{}, Shape{0}, Shape{40001}}) {
    const Tensor x = random_values(ElementType::boolean, shape);
    auto one = node_for("Not", 1, {x});
    check(*one, {x});
  }
}

// -------------------------------------------------------------------------------------------------- Clip

TEST(CpuEltwiseClip, AttributesBeforeOpset11) {
  const Tensor x = ops_test::f32({7}, {-5.0f, -1.0f, 0.0f, 0.5f, 3.0f, qnan, 1e30f});
  {
    auto one = node_for("Clip", 6, {x});
    one->attr("min", -1.5f).attr("max", 2.0f);
    check_values(*one, {x});
  }
  {
    auto one = node_for("Clip", 6, {x});
    one->attr("min", 0.0f);
    check_values(*one, {x});
  }
  {
    auto one = node_for("Clip", 6, {x});  // no bounds: lowest..max, NaN kept
    check_values(*one, {x});
  }
}

TEST(CpuEltwiseClip, BoundInputsConstantOrNot) {
  for (ElementType type : {ElementType::f32, ElementType::i32, ElementType::i64}) {
    for (const Shape& shape : {Shape{7, 13}, Shape{}, Shape{0, 2}, Shape{40001}}) {
      SCOPED_TRACE(tname(type) + " " + shape_str(shape));
      const Tensor x = random_values(type, shape, -10, 10);
      const Tensor lo = f32_as(type, ops_test::f32({}, {-3.0f}));
      const Tensor hi = f32_as(type, ops_test::f32({1}, {4.0f}));
      const Tensor none;
      for (bool constant : {false, true}) {
        auto both = node_for("Clip", 13, {x, lo, hi}, {false, constant, constant});
        check(*both, {x, lo, hi});
        auto min_only = node_for("Clip", 13, {x, lo}, {false, constant});
        check(*min_only, {x, lo});
        auto max_only = node_for("Clip", 13, {x, none, hi}, {false, constant, constant});
        check(*max_only, {x, none, hi});
        auto inverted = node_for("Clip", 13, {x, hi, lo}, {false, constant, constant});  // lo > hi: hi wins
        check(*inverted, {x, hi, lo});
      }
      auto bare = node_for("Clip", 13, {x});
      check(*bare, {x});
    }
  }
  // Opset 11: f32 only.
  const Tensor x = ops_test::f32({4}, {-inf, -1.0f, qnan, inf});
  const Tensor lo = ops_test::f32({}, {-0.5f});
  auto one = node_for("Clip", 11, {x, lo});
  check_values(*one, {x, lo});
}

// --------------------------------------------------------------------------------------------------- Cast

TEST(CpuEltwiseCast, EveryPairMatchesTheReference) {
  std::vector<float> values = {0.0f,          -0.0f,       0.4f,        -0.6f,    1.5f,  -2.5f,  127.7f,
                               128.5f,        -129.2f,     255.9f,      256.1f,   3e9f,  -3e9f,  1e20f,
                               -1e20f,        65504.0f,    65520.0f,    70000.0f, 1e-8f, qnan,   inf,
                               -inf,          1.0f / 3,    16777217.0f, -1.0f,    2.0f,  1e-40f, -qnan,
                               3.3895314e38f, 1.00390625f, 1.01171875f};
  std::uniform_real_distribution<float> dist(-300, 300);
  for (int i = 0; i < 40; ++i) values.push_back(dist(rng()));
  const Tensor source = ops_test::f32({static_cast<int64_t>(values.size())}, values);
  const ElementType types[] = {ElementType::f32,  ElementType::f64, ElementType::f16,
                               ElementType::bf16, ElementType::i8,  ElementType::u8,
                               ElementType::i32,  ElementType::i64, ElementType::boolean};
  const std::pair<ElementType, int64_t> codes[] = {
      {ElementType::f32, 1},     {ElementType::u8, 2},   {ElementType::i8, 3},
      {ElementType::i32, 6},     {ElementType::i64, 7},  {ElementType::f16, 10},
      {ElementType::boolean, 9}, {ElementType::f64, 11}, {ElementType::bf16, 16}};
  for (ElementType from : types) {
    const Tensor in = f32_as(from, source);
    for (const auto& [to, code] : codes) {
      SCOPED_TRACE(tname(from) + " -> " + tname(to));
      auto one = node_for("Cast", 13, {in});
      one->attr("to", code);
      check_values(*one, {in});
    }
  }
  // Parallel sizes, rank 0 and empty.
  for (const Shape& shape : {Shape{}, Shape{0, 4}, Shape{40001}}) {
    const Tensor in = random_values(ElementType::f32, shape, -1000, 1000);
    for (int64_t code : {7, 10, 16, 9, 3}) {
      auto one = node_for("Cast", 13, {in});
      one->attr("to", code);
      check_values(*one, {in});
    }
  }
}

// -------------------------------------------------------------------------------------------- In place

// Plans the node's CPU kernel, expects inplace_input() == `k`, and runs it with output 0 in (a copy of)
// input k's buffer; the result must match the reference on the untouched inputs.
void check_in_place(OneNode& one, const std::vector<Tensor>& inputs, int k, double rtol = 0,
                    double atol = 0) {
  graph::Node& node = *one.node;
  graph::infer_node(node);
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  static cpu::WeightCache weights;
  const cpu::CpuConfig config;
  cpu::PlanContext ctx{node, {}, {}, config, engine, weights};
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    cpu::ValueInfo info;
    if (node.inputs[i]) {
      info.type = inputs[i].type();
      info.shape = inputs[i].shape();
      if (node.inputs[i]->is_constant()) info.constant = &node.inputs[i]->constant;
    }
    ctx.inputs.push_back(info);
  }
  ctx.outputs.push_back({node.outputs[0]->type, node.outputs[0]->shape.to_shape()});
  std::unique_ptr<cpu::Kernel> kernel;
  for (const auto& entry : *cpu::KernelRegistry::instance().find("", node.op_type)) {
    if ((kernel = entry.factory(ctx))) break;
  }
  ASSERT_TRUE(kernel);
  ASSERT_EQ(kernel->inplace_input(), k) << node.describe();
  if (k < 0) return;
  std::vector<Tensor> ins;
  ins.reserve(inputs.size());
  for (const Tensor& t : inputs) ins.push_back(t ? t.clone() : Tensor());
  std::vector<Tensor> outs = {Tensor(ctx.outputs[0].type, ctx.outputs[0].shape, ins[k].data())};
  ops_test::NoSubgraphs env;
  cpu::RunContext run{ins, outs, nullptr, nullptr, &env};
  kernel->run(run, nullptr);
  const Tensor ref = one.run(inputs).at(0);
  ASSERT_EQ(ref.size(), outs[0].size());
  for (int64_t i = 0; i < ref.size(); ++i) {
    const double c = cpu_test::element_as_double(outs[0], i), r = cpu_test::element_as_double(ref, i);
    if (c == r || (std::isnan(c) && std::isnan(r)) || std::abs(c - r) <= atol + rtol * std::abs(r)) continue;
    ADD_FAILURE() << node.describe() << " in place, element " << i << ": " << c << " vs " << r;
    return;
  }
}

TEST(CpuEltwiseInPlace, KernelsRunInTheirInputsBuffer) {
  const Tensor big = random_values(ElementType::f32, {40, 1001});
  const Tensor row = random_values(ElementType::f32, {1001});
  {
    auto one = node_for("Add", 14, {big, row});
    check_in_place(*one, {big, row}, 0);
  }
  {
    auto one = node_for("Mul", 14, {row, big});  // the full-shape operand is input 1
    check_in_place(*one, {row, big}, 1);
  }
  {
    auto one = node_for("Less", 13, {big, row});  // a bool output cannot take an f32 buffer
    check_in_place(*one, {big, row}, -1);
  }
  {
    auto one = node_for("Gelu", 20, {big});
    check_in_place(*one, {big}, 0, 1e-5, 1e-6);
  }
  {
    const Tensor special = ops_test::f32({6}, {-inf, -0.0f, 4.0f, -4.0f, inf, 0.25f});
    const Tensor half = ops_test::f32({}, {0.5f});
    auto one = node_for("Pow", 15, {special, half}, {false, true});
    check_in_place(*one, {special, half}, 0);
    auto sqrt = node_for("Sqrt", 13, {special});
    check_in_place(*sqrt, {special}, 0);
  }
  {
    const Tensor c = random_values(ElementType::boolean, {1001});
    const Tensor y = random_values(ElementType::f32, {});
    auto one = node_for("Where", 16, {c, big, y});
    check_in_place(*one, {c, big, y}, 1);
    auto on_y = node_for("Where", 16, {c, y, big});
    check_in_place(*on_y, {c, y, big}, 2);
  }
  {
    auto one = node_for("Cast", 13, {big});
    one->attr("to", int64_t{6});  // f32 -> i32: same size
    check_in_place(*one, {big}, 0);
    auto wider = node_for("Cast", 13, {big});
    wider->attr("to", int64_t{7});  // f32 -> i64
    check_in_place(*wider, {big}, -1);
  }
  {
    const Tensor lo = ops_test::f32({}, {-0.5f});
    auto one = node_for("Clip", 13, {big, lo});
    check_in_place(*one, {big, lo}, 0);
  }
}

// ------------------------------------------------------------------------------------------------ Speed

// Not a test: ns per element of a few hot kernels, run by hand:
//   OMP_NUM_THREADS=1 sluice_unit_tests --gtest_also_run_disabled_tests --gtest_filter='*EltwiseSpeed*'
void time_kernel(const char* what, OneNode& one, const std::vector<Tensor>& inputs) {
  graph::Node& node = *one.node;
  graph::infer_node(node);
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  static cpu::WeightCache weights;
  const cpu::CpuConfig config;
  cpu::PlanContext ctx{node, {}, {}, config, engine, weights};
  for (const Tensor& t : inputs) ctx.inputs.push_back({t.type(), t.shape()});
  ctx.outputs.push_back({node.outputs[0]->type, node.outputs[0]->shape.to_shape()});
  std::unique_ptr<cpu::Kernel> kernel;
  for (const auto& entry : *cpu::KernelRegistry::instance().find("", node.op_type)) {
    if ((kernel = entry.factory(ctx))) break;
  }
  ASSERT_TRUE(kernel);
  std::vector<Tensor> outs = {Tensor(ctx.outputs[0].type, ctx.outputs[0].shape)};
  ops_test::NoSubgraphs env;
  cpu::RunContext run{inputs, outs, nullptr, nullptr, &env};
  for (int i = 0; i < 20; ++i) kernel->run(run, nullptr);
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const int iters = 200;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) kernel->run(run, nullptr);
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, ns / iters / static_cast<double>(outs[0].size()));
  }
  std::printf("%-40s %8.3f ns/element (%d threads, %s)\n", what, best, omp_get_max_threads(),
              kernel->impl_name().c_str());
}

TEST(CpuEltwiseSpeed, DISABLED_HotKernels) {
  const Tensor a = random_values(ElementType::f32, {1, 128, 768});
  const Tensor b = random_values(ElementType::f32, {1, 128, 768});
  const Tensor bias = random_values(ElementType::f32, {768});
  const Tensor h = random_values(ElementType::f32, {1, 128, 3072});
  auto add = node_for("Add", 14, {a, b});
  time_kernel("Add [1,128,768] + [1,128,768]", *add, {a, b});
  auto add_bias = node_for("Add", 14, {a, bias});
  time_kernel("Add [1,128,768] + [768]", *add_bias, {a, bias});
  auto gelu = node_for("Gelu", 20, {h});
  time_kernel("Gelu [1,128,3072]", *gelu, {h});
  auto gelu_tanh = node_for("Gelu", 20, {h});
  gelu_tanh->attr("approximate", std::string("tanh"));
  time_kernel("Gelu tanh [1,128,3072]", *gelu_tanh, {h});
  auto sigmoid = node_for("Sigmoid", 13, {h});
  time_kernel("Sigmoid [1,128,3072]", *sigmoid, {h});
  auto ref_gelu = node_for("Gelu", 20, {h});
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) ref_gelu->run({h});
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-40s %8.3f ns/element (reference kernel)\n", "Gelu [1,128,3072]", ns / 5 / h.size());
}

}  // namespace
}  // namespace sluice
