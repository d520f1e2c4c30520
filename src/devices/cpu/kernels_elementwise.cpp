// The CPU device's own elementwise kernels: binary arithmetic, comparisons and logic with numpy
// broadcasting, Where, unary math and activations, Clip, and Cast. f32 is the hot path: its loops are simple
// `#pragma omp simd` loops over raw pointers, compiled for several ISAs (target_clones) and calling the
// branch-free approximations of vec_math.hpp for transcendental functions. Other types run plain loops.
// Every kernel splits its output into contiguous chunks across the OpenMP team (parallel_for).
//
// Each factory returns nullptr for what it does not handle (other element types, unsupported attributes,
// shapes that do not broadcast); the reference kernel then runs. Results match the reference kernels
// (src/ops/elementwise*.cpp) exactly for arithmetic, comparisons, selection and Cast, and within a few
// 1e-7 relative for the transcendental functions (see vec_math.hpp).
//
// Broadcasting: at plan time the output's dimensions are collapsed into the fewest runs that every input
// either spans fully or broadcasts over (adjacent dimensions with the same broadcast pattern merge), and
// each input gets a stride per collapsed dimension (0 where it broadcasts). Equal shapes become one
// contiguous run, a scalar operand a stride-0 run, a bias ([.., 1, N]) a row broadcast whose inner runs are
// contiguous, a [.., M, 1] operand a column broadcast whose inner runs read one value. At run time a chunk
// is walked row by row along the innermost collapsed dimension, each row one call of a vectorized loop.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

#include "devices/cpu/kernel.hpp"
#include "devices/cpu/vec_math.hpp"
#include "ops/elementwise_util.hpp"

// The hot f32 loops are compiled for AVX-512, AVX2 and the x86-64 baseline (SLUICE_TARGET_CLONES); the
// library itself is built without -march flags.

namespace sluice::cpu {
namespace {

using graph::Node;

// Elements per chunk handed to a thread: below this a tensor runs inline on the calling thread.
constexpr int64_t default_grain = 16 * 1024;
// For element functions that call libm (Sin, Cos, general Pow): ~10x the cost per element.
constexpr int64_t slow_grain = 2 * 1024;
// The most collapsed broadcast dimensions a plan keeps (fixed arrays, so run() allocates nothing).
constexpr int max_rank = 8;

std::string where_of(const Node& node) { return node.describe() + ": "; }

// ------------------------------------------------------------------------------------------ Broadcasting

template <int N> struct BroadcastPlan {
  int rank = 1;
  int64_t total = 0;
  int64_t dims[max_rank] = {};
  int64_t strides[N][max_rank] = {};  // elements; 0 where the input broadcasts
};

// Plans the broadcast of N input shapes to `out`; false when they do not broadcast to it or need more than
// max_rank collapsed dimensions.
template <int N> bool make_plan(const Shape* const (&in)[N], const Shape& out, BroadcastPlan<N>& plan) {
  const int rank = static_cast<int>(out.size());
  for (int k = 0; k < N; ++k) {
    if (static_cast<int>(in[k]->size()) > rank) return false;
  }
  plan.total = shape_size(out);
  // Runs of output dimensions (extent > 1) with their pattern: bit k set when input k spans the dimension.
  int64_t extents[64];
  unsigned patterns[64];
  int runs = 0;
  if (rank > 64) return false;
  for (int d = 0; d < rank; ++d) {
    const int64_t extent = out[d];
    unsigned pattern = 0;
    for (int k = 0; k < N; ++k) {
      const int offset = rank - static_cast<int>(in[k]->size());
      const int64_t dim = d >= offset ? (*in[k])[d - offset] : 1;
      if (dim == extent) {
        pattern |= 1u << k;
      } else if (dim != 1) {
        return false;
      }
    }
    if (extent == 1) continue;  // nobody spans it in a way that matters
    if (runs > 0 && patterns[runs - 1] == pattern) {
      extents[runs - 1] *= extent;
    } else {
      extents[runs] = extent;
      patterns[runs] = pattern;
      ++runs;
    }
  }
  if (runs == 0) {  // every extent 1 (a scalar output): one element that every input holds
    extents[0] = 1;
    patterns[0] = (1u << N) - 1;
    runs = 1;
  }
  if (runs > max_rank) return false;
  plan.rank = runs;
  for (int k = 0; k < N; ++k) {
    int64_t stride = 1;
    for (int d = runs; d-- > 0;) {
      plan.dims[d] = extents[d];
      if (patterns[d] & (1u << k)) {
        plan.strides[k][d] = stride;
        stride *= extents[d];
      } else {
        plan.strides[k][d] = 0;
      }
    }
  }
  return true;
}

// Calls seg(out_offset, in_offsets, length) for the runs along the innermost collapsed dimension that
// cover output elements [begin, end). Within a run input k advances by plan.strides[k][rank - 1] (0 or 1).
template <int N, class Seg> void walk(const BroadcastPlan<N>& plan, int64_t begin, int64_t end, Seg&& seg) {
  const int r = plan.rank;
  const int64_t inner = plan.dims[r - 1];
  int64_t idx[max_rank] = {};
  int64_t row = begin / inner;
  int64_t j = begin % inner;
  for (int d = r - 1; d-- > 0;) {
    idx[d] = row % plan.dims[d];
    row /= plan.dims[d];
  }
  int64_t o = begin;
  while (o < end) {
    int64_t off[N];
    for (int k = 0; k < N; ++k) {
      int64_t v = j * plan.strides[k][r - 1];
      for (int d = 0; d < r - 1; ++d) v += idx[d] * plan.strides[k][d];
      off[k] = v;
    }
    const int64_t len = std::min(inner - j, end - o);
    seg(o, off, len);
    o += len;
    j = 0;
    for (int d = r - 1; d-- > 0;) {
      if (++idx[d] < plan.dims[d]) break;
      idx[d] = 0;
    }
  }
}

// --------------------------------------------------------------------------------------------- Binary ops

enum class BinOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Max,
  Min,
  Mean,
  Equal,
  Less,
  Greater,
  LessOrEqual,
  GreaterOrEqual,
  And,
  Or,
  Xor,
};

bool is_comparison(BinOp op) { return op >= BinOp::Equal && op <= BinOp::GreaterOrEqual; }
bool is_logic(BinOp op) { return op >= BinOp::And; }

// One run of a binary op: o[i] = f(a[i * sa], b[i * sb]) for strides 0 or 1. `o` may be `a` or `b` itself
// (in place): each element is read before it is written at the same index.
template <class T, class R, class F>
[[gnu::always_inline]] inline void binary_run(const T* a, int64_t sa, const T* b, int64_t sb, R* o, int64_t n,
                                              F f) {
  if (sa != 0 && sb != 0) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa != 0) {
    const T bv = b[0];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (sb != 0) {
    const T av = a[0];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    const R v = f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

// Max/Min with NaN propagation (the first NaN operand wins), like the reference's max_of/min_of.
inline float max_f32(float a, float b) {
  float r = blend(a < b, b, a);
  r = blend(b != b, b, r);
  return blend(a != a, a, r);
}
inline float min_f32(float a, float b) {
  float r = blend(b < a, b, a);
  r = blend(b != b, b, r);
  return blend(a != a, a, r);
}

SLUICE_TARGET_CLONES void binary_f32(BinOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                                     float* o, int64_t n) {
  switch (op) {
    case BinOp::Add: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x + y; }); break;
    case BinOp::Sub: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x - y; }); break;
    case BinOp::Mul: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x * y; }); break;
    case BinOp::Div: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x / y; }); break;
    case BinOp::Max: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return max_f32(x, y); }); break;
    case BinOp::Min: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return min_f32(x, y); }); break;
    case BinOp::Mean: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return (x + y) / 2.0f; }); break;
    default: break;
  }
}

SLUICE_TARGET_CLONES void compare_f32(BinOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                                      bool* o, int64_t n) {
  switch (op) {
    case BinOp::Equal: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x == y; }); break;
    case BinOp::Less: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x < y; }); break;
    case BinOp::Greater: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x > y; }); break;
    case BinOp::LessOrEqual: binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x <= y; }); break;
    case BinOp::GreaterOrEqual:
      binary_run(a, sa, b, sb, o, n, [](float x, float y) { return x >= y; });
      break;
    default: break;
  }
}

// General Pow: libm's powf per element, as the reference computes it.
void pow_f32(const float* a, int64_t sa, const float* b, int64_t sb, float* o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = std::pow(a[i * sa], b[i * sb]);
}

// Integer arithmetic wraps around (two's complement), like the reference's add_values & co.
template <class T>
void binary_int(BinOp op, const T* a, int64_t sa, const T* b, int64_t sb, T* o, int64_t n) {
  using U = std::make_unsigned_t<T>;
  switch (op) {
    case BinOp::Add:
      binary_run(a, sa, b, sb, o, n,
                 [](T x, T y) { return static_cast<T>(static_cast<U>(x) + static_cast<U>(y)); });
      break;
    case BinOp::Sub:
      binary_run(a, sa, b, sb, o, n,
                 [](T x, T y) { return static_cast<T>(static_cast<U>(x) - static_cast<U>(y)); });
      break;
    case BinOp::Mul:
      binary_run(a, sa, b, sb, o, n,
                 [](T x, T y) { return static_cast<T>(static_cast<U>(x) * static_cast<U>(y)); });
      break;
    case BinOp::Max: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x < y ? y : x; }); break;
    case BinOp::Min: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return y < x ? y : x; }); break;
    default: break;
  }
}

// Integer division truncating toward zero; x / -1 wraps (INT_MIN / -1 = INT_MIN), like the reference.
// Division by zero writes 0 and reports it through `zero` (the kernel then throws like the reference).
template <class T>
void divide_int(const T* a, int64_t sa, const T* b, int64_t sb, T* o, int64_t n, bool& zero) {
  using U = std::make_unsigned_t<T>;
  for (int64_t i = 0; i < n; ++i) {
    const T x = a[i * sa];
    const T y = b[i * sb];
    if (y == 0) {
      zero = true;
      o[i] = 0;
    } else {
      o[i] = y == -1 ? static_cast<T>(U{0} - static_cast<U>(x)) : static_cast<T>(x / y);
    }
  }
}

template <class T>
void compare_int(BinOp op, const T* a, int64_t sa, const T* b, int64_t sb, bool* o, int64_t n) {
  switch (op) {
    case BinOp::Equal: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x == y; }); break;
    case BinOp::Less: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x < y; }); break;
    case BinOp::Greater: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x > y; }); break;
    case BinOp::LessOrEqual: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x <= y; }); break;
    case BinOp::GreaterOrEqual: binary_run(a, sa, b, sb, o, n, [](T x, T y) { return x >= y; }); break;
    default: break;
  }
}

// Booleans as bytes; any nonzero byte is true, like the reference's && and ||.
void logic_bool(BinOp op, const uint8_t* a, int64_t sa, const uint8_t* b, int64_t sb, uint8_t* o, int64_t n) {
  switch (op) {
    case BinOp::And:
      binary_run(a, sa, b, sb, o, n,
                 [](uint8_t x, uint8_t y) { return static_cast<uint8_t>((x != 0) & (y != 0)); });
      break;
    case BinOp::Or:
      binary_run(a, sa, b, sb, o, n,
                 [](uint8_t x, uint8_t y) { return static_cast<uint8_t>((x != 0) | (y != 0)); });
      break;
    case BinOp::Xor:
      binary_run(a, sa, b, sb, o, n,
                 [](uint8_t x, uint8_t y) { return static_cast<uint8_t>((x != 0) ^ (y != 0)); });
      break;
    default: break;
  }
}

// The output may take the buffer of an input of the output's shape and type (input 0 preferred).
int inplace_candidate(const PlanContext& ctx, std::initializer_list<int> inputs) {
  const ValueInfo& out = ctx.outputs[0];
  for (int i : inputs) {
    const ValueInfo& in = ctx.inputs[i];
    if (in.type == out.type && in.shape == out.shape) return i;
  }
  return -1;
}

class BinaryKernel final : public Kernel {
 public:
  BinaryKernel(BinOp op, ElementType type, const BroadcastPlan<2>& plan, int inplace, std::string where)
      : op_(op), type_(type), plan_(plan), inplace_(inplace), where_(std::move(where)) {}

  std::string impl_name() const override { return "sluice:binary"; }
  int inplace_input() const override { return inplace_; }

  void run(RunContext& ctx, KernelState*) const override {
    const char* a = static_cast<const char*>(ctx.inputs[0].data());
    const char* b = static_cast<const char*>(ctx.inputs[1].data());
    char* o = static_cast<char*>(ctx.outputs[0].data());
    SLUICE_CHECK(ctx.outputs[0].size() == plan_.total, where_, "output holds ", ctx.outputs[0].size(),
                 " elements; planned ", plan_.total);
    const size_t in_size = element_size(type_);
    const size_t out_size = element_size(ctx.outputs[0].type());
    const int64_t sa = plan_.strides[0][plan_.rank - 1];
    const int64_t sb = plan_.strides[1][plan_.rank - 1];
    std::atomic<bool> zero_division{false};
    const int64_t grain = op_ == BinOp::Pow ? slow_grain : default_grain;
    parallel_for(plan_.total, grain, [&](int64_t begin, int64_t end) {
      bool zero = false;
      walk(plan_, begin, end, [&](int64_t out_at, const int64_t* in_at, int64_t n) {
        const void* pa = a + in_at[0] * in_size;
        const void* pb = b + in_at[1] * in_size;
        void* po = o + out_at * out_size;
        run_segment(pa, sa, pb, sb, po, n, zero);
      });
      if (zero) zero_division.store(true, std::memory_order_relaxed);
    });
    SLUICE_CHECK(!zero_division.load(), where_, "integer division by zero");
  }

 private:
  void run_segment(const void* a, int64_t sa, const void* b, int64_t sb, void* o, int64_t n,
                   bool& zero) const {
    switch (type_) {
      case ElementType::f32: {
        const auto* fa = static_cast<const float*>(a);
        const auto* fb = static_cast<const float*>(b);
        if (is_comparison(op_)) {
          compare_f32(op_, fa, sa, fb, sb, static_cast<bool*>(o), n);
        } else if (op_ == BinOp::Pow) {
          pow_f32(fa, sa, fb, sb, static_cast<float*>(o), n);
        } else {
          binary_f32(op_, fa, sa, fb, sb, static_cast<float*>(o), n);
        }
        break;
      }
      case ElementType::i32: run_int<int32_t>(a, sa, b, sb, o, n, zero); break;
      case ElementType::i64: run_int<int64_t>(a, sa, b, sb, o, n, zero); break;
      case ElementType::boolean:
        logic_bool(op_, static_cast<const uint8_t*>(a), sa, static_cast<const uint8_t*>(b), sb,
                   static_cast<uint8_t*>(o), n);
        break;
      default: break;
    }
  }

  template <class T>
  void run_int(const void* a, int64_t sa, const void* b, int64_t sb, void* o, int64_t n, bool& zero) const {
    const auto* ta = static_cast<const T*>(a);
    const auto* tb = static_cast<const T*>(b);
    if (is_comparison(op_)) {
      compare_int(op_, ta, sa, tb, sb, static_cast<bool*>(o), n);
    } else if (op_ == BinOp::Div) {
      divide_int(ta, sa, tb, sb, static_cast<T*>(o), n, zero);
    } else {
      binary_int(op_, ta, sa, tb, sb, static_cast<T*>(o), n);
    }
  }

  BinOp op_;
  ElementType type_;
  BroadcastPlan<2> plan_;
  int inplace_;
  std::string where_;
};

// ---------------------------------------------------------------------------------------------- Unary ops

enum class UnOp : uint8_t {
  Copy,
  Relu,
  LeakyRelu,
  Sigmoid,
  Tanh,
  Exp,
  Log,
  Neg,
  Abs,
  Erf,
  Reciprocal,
  Floor,
  Ceil,
  Softplus,
  Elu,
  Selu,
  HardSigmoid,
  HardSwish,
  Gelu,
  GeluTanh,
  Sign,
  Mish,
  Square,  // Pow with exponent 2
  Clip,
  // Not vectorized here: libm (Sin, Cos) or intrinsics (Sqrt).
  Sqrt,
  SqrtPow,  // Pow with exponent 0.5: sqrt, but +0 for -0 and +inf for -inf
  Sin,
  Cos,
  Not,   // bool
  Fill,  // Pow with exponent 0: 1 everywhere
};

struct UnaryParams {
  float alpha = 0, beta = 0, gamma = 0;
};

// floor/ceil without libm (which does not inline below SSE4.1): floats of magnitude >= 2^23, infinities and
// NaN are their own floor; the rest truncate through int32. The result has x's sign (floor(-0) = -0,
// ceil(-0.5) = -0).
inline float floor_f32(float x) {
  const bool small = vm_detail::abs_bits(x) < 8388608.0f;
  const float xs = blend(small, x, 0.0f);
  const float t = static_cast<float>(static_cast<int32_t>(xs));
  const float f = t - blend(t > xs, 1.0f, 0.0f);
  return blend(small, vm_detail::copysign_bits(f, x), x);
}
inline float ceil_f32(float x) {
  const bool small = vm_detail::abs_bits(x) < 8388608.0f;
  const float xs = blend(small, x, 0.0f);
  const float t = static_cast<float>(static_cast<int32_t>(xs));
  const float f = t + blend(t < xs, 1.0f, 0.0f);
  return blend(small, vm_detail::copysign_bits(f, x), x);
}

// The reference's softplus: x + log1p(e^-x) for x > 0, else log1p(e^x).
inline float softplus_f32(float x) {
  const float l = log1p_approx(exp_approx(-vm_detail::abs_bits(x)));
  return blend(x > 0.0f, x + l, l);
}

template <class F> [[gnu::always_inline]] inline void unary_run(const float* x, float* y, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

SLUICE_TARGET_CLONES void unary_f32(UnOp op, const UnaryParams& p, const float* x, float* y, int64_t n) {
  const float alpha = p.alpha, beta = p.beta, gamma = p.gamma;
  switch (op) {
    case UnOp::Copy:
      if (x != y) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
      break;
    case UnOp::Relu: unary_run(x, y, n, [](float v) { return blend(v < 0.0f, 0.0f, v); }); break;
    case UnOp::LeakyRelu: unary_run(x, y, n, [=](float v) { return blend(v < 0.0f, alpha * v, v); }); break;
    case UnOp::Sigmoid: unary_run(x, y, n, [](float v) { return sigmoid_approx(v); }); break;
    case UnOp::Tanh: unary_run(x, y, n, [](float v) { return tanh_approx(v); }); break;
    case UnOp::Exp: unary_run(x, y, n, [](float v) { return exp_approx(v); }); break;
    case UnOp::Log: unary_run(x, y, n, [](float v) { return log_approx(v); }); break;
    case UnOp::Neg: unary_run(x, y, n, [](float v) { return -v; }); break;
    case UnOp::Abs: unary_run(x, y, n, [](float v) { return vm_detail::abs_bits(v); }); break;
    case UnOp::Erf: unary_run(x, y, n, [](float v) { return erf_approx(v); }); break;
    case UnOp::Reciprocal: unary_run(x, y, n, [](float v) { return 1.0f / v; }); break;
    case UnOp::Floor: unary_run(x, y, n, [](float v) { return floor_f32(v); }); break;
    case UnOp::Ceil: unary_run(x, y, n, [](float v) { return ceil_f32(v); }); break;
    case UnOp::Softplus: unary_run(x, y, n, [](float v) { return softplus_f32(v); }); break;
    case UnOp::Elu:
      unary_run(x, y, n, [=](float v) { return blend(v < 0.0f, alpha * (exp_approx(v) - 1.0f), v); });
      break;
    case UnOp::Selu:
      unary_run(x, y, n, [=](float v) { return gamma * blend(v > 0.0f, v, alpha * exp_approx(v) - alpha); });
      break;
    case UnOp::HardSigmoid:
      unary_run(x, y, n, [=](float v) {
        const float h = alpha * v + beta;
        return blend(h < 0.0f, 0.0f, blend(h > 1.0f, 1.0f, h));
      });
      break;
    case UnOp::HardSwish:
      unary_run(x, y, n, [](float v) {
        const float h = v / 6.0f + 0.5f;
        return v * blend(h < 0.0f, 0.0f, blend(h > 1.0f, 1.0f, h));
      });
      break;
    case UnOp::Gelu:
      unary_run(x, y, n, [](float v) {
        return 0.5f * v * (1.0f + erf_approx(v * static_cast<float>(std::numbers::sqrt2 / 2)));
      });
      break;
    case UnOp::GeluTanh:
      // alpha: sqrt(2 / pi) as the reference computes it.
      unary_run(x, y, n, [=](float v) {
        return 0.5f * v * (1.0f + tanh_approx(alpha * (v + 0.044715f * v * v * v)));
      });
      break;
    case UnOp::Sign:
      unary_run(x, y, n, [](float v) { return blend(v > 0.0f, 1.0f, blend(v < 0.0f, -1.0f, v)); });
      break;
    case UnOp::Mish: unary_run(x, y, n, [](float v) { return v * tanh_approx(softplus_f32(v)); }); break;
    case UnOp::Square: unary_run(x, y, n, [](float v) { return v * v; }); break;
    case UnOp::Clip:
      // alpha: lower bound, beta: upper bound; NaN stays NaN, the upper bound wins when lo > hi.
      unary_run(x, y, n, [=](float v) {
        const float l = blend(v < alpha, alpha, v);
        return blend(l > beta, beta, l);
      });
      break;
    case UnOp::Fill: unary_run(x, y, n, [](float) { return 1.0f; }); break;
    default: break;
  }
}

// Sqrt with intrinsics: GCC vectorizes sqrtf only under -fno-math-errno, which this library does not use.
// Exact (IEEE sqrt is correctly rounded), so every ISA gives the same result.
__attribute__((target("avx512f"))) void sqrt_avx512(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_maskz_sqrt_ps(0xffff, _mm512_loadu_ps(x + i)));
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(y + i, mask, _mm512_maskz_sqrt_ps(mask, _mm512_maskz_loadu_ps(mask, x + i)));
  }
}
__attribute__((target("avx"))) void sqrt_avx(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_sqrt_ps(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) _mm_store_ss(y + i, _mm_sqrt_ss(_mm_load_ss(x + i)));
}
void sqrt_sse(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
  for (; i < n; ++i) _mm_store_ss(y + i, _mm_sqrt_ss(_mm_load_ss(x + i)));
}
using SqrtFn = void (*)(const float*, float*, int64_t);
SqrtFn pick_sqrt() {
  if (__builtin_cpu_supports("avx512f")) return sqrt_avx512;
  if (__builtin_cpu_supports("avx")) return sqrt_avx;
  return sqrt_sse;
}

// pow(x, 0.5) differs from sqrt(x) = s for -0 (+0) and -inf (+inf).
SLUICE_TARGET_CLONES void fix_sqrt_pow(const float* x, const float* s, float* y, int64_t n) {
  constexpr float inf = std::numeric_limits<float>::infinity();
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = blend(x[i] == -inf, inf, s[i] + 0.0f);
}

void run_unary_f32(UnOp op, const UnaryParams& p, const float* x, float* y, int64_t n) {
  static const SqrtFn sqrt_fn = pick_sqrt();
  switch (op) {
    case UnOp::Sqrt: sqrt_fn(x, y, n); break;
    case UnOp::SqrtPow: {
      // Through a stack block, since the fix-up reads x again and y may be x (in place).
      float s[256];
      for (int64_t i = 0; i < n; i += 256) {
        const int64_t len = std::min<int64_t>(256, n - i);
        sqrt_fn(x + i, s, len);
        fix_sqrt_pow(x + i, s, y + i, len);
      }
      break;
    }
    case UnOp::Sin:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sin(x[i]);
      break;
    case UnOp::Cos:
      for (int64_t i = 0; i < n; ++i) y[i] = std::cos(x[i]);
      break;
    default: unary_f32(op, p, x, y, n); break;
  }
}

template <class T> void unary_int(UnOp op, const T* x, T* y, int64_t n) {
  using U = std::make_unsigned_t<T>;
  switch (op) {
    case UnOp::Relu:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0 ? T{0} : x[i];
      break;
    case UnOp::Neg:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(U{0} - static_cast<U>(x[i]));
      break;
    case UnOp::Abs:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0 ? static_cast<T>(U{0} - static_cast<U>(x[i])) : x[i];
      break;
    case UnOp::Sign:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>((x[i] > 0) - (x[i] < 0));
      break;
    default: break;
  }
}

// Clip bounds, as the reference reads them: attributes before opset 11, optional scalar inputs after.
struct ClipBounds {
  bool from_inputs = false;
  float lo = 0, hi = 0;  // the attributes (f32 only)
};

class UnaryKernel final : public Kernel {
 public:
  UnaryKernel(UnOp op, ElementType type, UnaryParams params, int64_t total, std::string where,
              ClipBounds clip = {})
      : op_(op), type_(type), params_(params), total_(total), where_(std::move(where)), clip_(clip) {}

  std::string impl_name() const override { return "sluice:unary"; }
  int inplace_input() const override { return 0; }

  void run(RunContext& ctx, KernelState*) const override {
    const Tensor& in = ctx.inputs[0];
    Tensor& out = ctx.outputs[0];
    SLUICE_CHECK(in.size() == total_ && out.size() == total_, where_, "input holds ", in.size(),
                 " elements, output ", out.size(), "; planned ", total_);
    const int64_t grain = (op_ == UnOp::Sin || op_ == UnOp::Cos) ? slow_grain : default_grain;
    switch (type_) {
      case ElementType::f32: {
        UnaryParams p = params_;
        if (op_ == UnOp::Clip && clip_.from_inputs) {
          p.alpha = -std::numeric_limits<float>::infinity();
          p.beta = std::numeric_limits<float>::infinity();
          if (ctx.inputs.size() > 1 && !ctx.inputs[1].empty()) p.alpha = bound<float>(ctx.inputs[1], "min");
          if (ctx.inputs.size() > 2 && !ctx.inputs[2].empty()) p.beta = bound<float>(ctx.inputs[2], "max");
        }
        const auto* x = static_cast<const float*>(in.data());
        auto* y = static_cast<float*>(out.data());
        parallel_for(total_, grain,
                     [&](int64_t b, int64_t e) { run_unary_f32(op_, p, x + b, y + b, e - b); });
        break;
      }
      case ElementType::i32: run_int<int32_t>(ctx); break;
      case ElementType::i64: run_int<int64_t>(ctx); break;
      case ElementType::boolean: {
        const auto* x = static_cast<const uint8_t*>(in.data());
        auto* y = static_cast<uint8_t*>(out.data());
        parallel_for(total_, default_grain, [&](int64_t b, int64_t e) {
#pragma omp simd
          for (int64_t i = b; i < e; ++i) y[i] = x[i] == 0;
        });
        break;
      }
      default: break;
    }
  }

 private:
  // A Clip bound input: one element of the input's type (checked at plan time; checked again here since
  // the planned shape is all a non-constant bound promises).
  template <class T> T bound(const Tensor& t, const char* name) const {
    SLUICE_CHECK(t.type() == type_ && t.size() == 1, where_, "input '", name, "' has shape ",
                 to_string(t.shape()), " and type ", to_string(t.type()), "; expected a scalar of type ",
                 to_string(type_));
    return *static_cast<const T*>(t.data());
  }

  template <class T> void run_int(RunContext& ctx) const {
    const auto* x = static_cast<const T*>(ctx.inputs[0].data());
    auto* y = static_cast<T*>(ctx.outputs[0].data());
    if (op_ == UnOp::Clip) {
      T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
      if (ctx.inputs.size() > 1 && !ctx.inputs[1].empty()) lo = bound<T>(ctx.inputs[1], "min");
      if (ctx.inputs.size() > 2 && !ctx.inputs[2].empty()) hi = bound<T>(ctx.inputs[2], "max");
      parallel_for(total_, default_grain, [&](int64_t b, int64_t e) {
#pragma omp simd
        for (int64_t i = b; i < e; ++i) {
          const T l = x[i] < lo ? lo : x[i];
          y[i] = l > hi ? hi : l;
        }
      });
      return;
    }
    parallel_for(total_, default_grain,
                 [&](int64_t b, int64_t e) { unary_int<T>(op_, x + b, y + b, e - b); });
  }

  UnOp op_;
  ElementType type_;
  UnaryParams params_;
  int64_t total_;
  std::string where_;
  ClipBounds clip_;
};

// -------------------------------------------------------------------------------------------------- Where

// o[i] = c[i] ? x[i] : y[i] over bit patterns of E, each operand at stride 0 or 1 (SC, SX, SY). Both
// values are loaded and selected with a mask, so that the loop if-converts for every ISA.
template <class E, bool SC, bool SX, bool SY>
[[gnu::always_inline]] inline void where_run(const uint8_t* c, const E* x, const E* y, E* o, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const E m = static_cast<E>(E{0} - static_cast<E>(c[SC ? i : 0] != 0));
    o[i] = static_cast<E>((x[SX ? i : 0] & m) | (y[SY ? i : 0] & static_cast<E>(~m)));
  }
}

template <class E>
void where_segment(unsigned pattern, const uint8_t* c, const E* x, const E* y, E* o, int64_t n) {
  switch (pattern) {
    case 0: where_run<E, false, false, false>(c, x, y, o, n); break;
    case 1: where_run<E, true, false, false>(c, x, y, o, n); break;
    case 2: where_run<E, false, true, false>(c, x, y, o, n); break;
    case 3: where_run<E, true, true, false>(c, x, y, o, n); break;
    case 4: where_run<E, false, false, true>(c, x, y, o, n); break;
    case 5: where_run<E, true, false, true>(c, x, y, o, n); break;
    case 6: where_run<E, false, true, true>(c, x, y, o, n); break;
    default: where_run<E, true, true, true>(c, x, y, o, n); break;
  }
}

// The 4-byte case (f32, i32) is the common one (attention masks): compiled for each ISA.
SLUICE_TARGET_CLONES void where_segment4(unsigned pattern, const uint8_t* c, const uint32_t* x,
                                         const uint32_t* y, uint32_t* o, int64_t n) {
  where_segment<uint32_t>(pattern, c, x, y, o, n);
}

class WhereKernel final : public Kernel {
 public:
  WhereKernel(size_t element, const BroadcastPlan<3>& plan, int inplace, std::string where)
      : element_(element), plan_(plan), inplace_(inplace), where_(std::move(where)) {}

  std::string impl_name() const override { return "sluice:where"; }
  int inplace_input() const override { return inplace_; }

  void run(RunContext& ctx, KernelState*) const override {
    SLUICE_CHECK(ctx.outputs[0].size() == plan_.total, where_, "output holds ", ctx.outputs[0].size(),
                 " elements; planned ", plan_.total);
    const auto* c = static_cast<const uint8_t*>(ctx.inputs[0].data());
    const char* x = static_cast<const char*>(ctx.inputs[1].data());
    const char* y = static_cast<const char*>(ctx.inputs[2].data());
    char* o = static_cast<char*>(ctx.outputs[0].data());
    const int r = plan_.rank - 1;
    const unsigned pattern = (plan_.strides[0][r] != 0 ? 1u : 0u) | (plan_.strides[1][r] != 0 ? 2u : 0u) |
                             (plan_.strides[2][r] != 0 ? 4u : 0u);
    const size_t es = element_;
    parallel_for(plan_.total, default_grain, [&](int64_t begin, int64_t end) {
      walk(plan_, begin, end, [&](int64_t at, const int64_t* in, int64_t n) {
        const uint8_t* pc = c + in[0];
        const char* px = x + in[1] * es;
        const char* py = y + in[2] * es;
        char* po = o + at * es;
        switch (es) {
          case 1:
            where_segment(pattern, pc, reinterpret_cast<const uint8_t*>(px),
                          reinterpret_cast<const uint8_t*>(py), reinterpret_cast<uint8_t*>(po), n);
            break;
          case 2:
            where_segment(pattern, pc, reinterpret_cast<const uint16_t*>(px),
                          reinterpret_cast<const uint16_t*>(py), reinterpret_cast<uint16_t*>(po), n);
            break;
          case 4:
            where_segment4(pattern, pc, reinterpret_cast<const uint32_t*>(px),
                           reinterpret_cast<const uint32_t*>(py), reinterpret_cast<uint32_t*>(po), n);
            break;
          default:
            where_segment(pattern, pc, reinterpret_cast<const uint64_t*>(px),
                          reinterpret_cast<const uint64_t*>(py), reinterpret_cast<uint64_t*>(po), n);
            break;
        }
      });
    });
  }

 private:
  size_t element_;
  BroadcastPlan<3> plan_;
  int inplace_;
  std::string where_;
};

// --------------------------------------------------------------------------------------------------- Cast

// The reference's conversions (ops::elementwise::convert), with its bf16 rule: truncation of the float
// value, NaN kept a (quiet) NaN of the same sign.
inline bfloat16 truncate_to_bfloat16(float value) {
  if (std::isnan(value)) return bfloat16::from_bits(std::signbit(value) ? 0xFFC0 : 0x7FC0);
  return bfloat16::from_bits(static_cast<uint16_t>(std::bit_cast<uint32_t>(value) >> 16));
}

template <class To, class From> To cast_value(From value) {
  if constexpr (std::is_same_v<To, bfloat16> && !std::is_same_v<From, bfloat16>) {
    return truncate_to_bfloat16(ops::elementwise::convert<float>(value));
  } else {
    return ops::elementwise::convert<To>(value);
  }
}

template <class To, class From> void cast_run(const void* in, void* out, int64_t n) {
  const auto* x = static_cast<const From*>(in);
  auto* y = static_cast<To*>(out);
  if constexpr (std::is_same_v<To, From>) {
    if (x != y) std::memmove(y, x, static_cast<size_t>(n) * sizeof(To));
  } else if constexpr (std::is_same_v<From, float> && std::is_same_v<To, bool>) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] != 0.0f;  // NaN is true
  } else if constexpr (std::is_same_v<To, float> && std::is_arithmetic_v<From>) {
    // Exact or correctly rounded conversions that vectorize (i64 -> f32 rounds once, like static_cast).
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = cast_value<To>(x[i]);
  }
}

using CastFn = void (*)(const void*, void*, int64_t);

// Calls f(T{}) for the element types Cast handles; false for the others.
template <class F> bool cast_dispatch(ElementType type, F&& f) {
  switch (type) {
    case ElementType::f32: f(float{}); return true;
    case ElementType::f64: f(double{}); return true;
    case ElementType::f16: f(float16{}); return true;
    case ElementType::bf16: f(bfloat16{}); return true;
    case ElementType::i8: f(int8_t{}); return true;
    case ElementType::u8: f(uint8_t{}); return true;
    case ElementType::i32: f(int32_t{}); return true;
    case ElementType::i64: f(int64_t{}); return true;
    case ElementType::boolean: f(bool{}); return true;
    default: return false;
  }
}

CastFn cast_function(ElementType from, ElementType to) {
  CastFn fn = nullptr;
  cast_dispatch(from, [&](auto from_tag) {
    cast_dispatch(to, [&](auto to_tag) { fn = cast_run<decltype(to_tag), decltype(from_tag)>; });
  });
  return fn;
}

class CastKernel final : public Kernel {
 public:
  CastKernel(CastFn fn, size_t in_size, size_t out_size, int64_t total, std::string where)
      : fn_(fn), in_size_(in_size), out_size_(out_size), total_(total), where_(std::move(where)) {}

  std::string impl_name() const override { return "sluice:cast"; }
  // Same-index reads before writes; the planner reuses only a buffer of the output's byte size.
  int inplace_input() const override { return in_size_ == out_size_ ? 0 : -1; }

  void run(RunContext& ctx, KernelState*) const override {
    SLUICE_CHECK(ctx.inputs[0].size() == total_ && ctx.outputs[0].size() == total_, where_, "input holds ",
                 ctx.inputs[0].size(), " elements, output ", ctx.outputs[0].size(), "; planned ", total_);
    const char* x = static_cast<const char*>(ctx.inputs[0].data());
    char* y = static_cast<char*>(ctx.outputs[0].data());
    parallel_for(total_, default_grain,
                 [&](int64_t b, int64_t e) { fn_(x + b * in_size_, y + b * out_size_, e - b); });
  }

 private:
  CastFn fn_;
  size_t in_size_, out_size_;
  int64_t total_;
  std::string where_;
};

// -------------------------------------------------------------------------------------------- Factories

bool has_inputs(const PlanContext& ctx, size_t count) {
  if (ctx.inputs.size() != count || ctx.outputs.empty() || !ctx.outputs[0].present()) return false;
  for (size_t i = 0; i < count; ++i) {
    if (!ctx.inputs[i].present()) return false;
  }
  return true;
}

bool all_equal(const Tensor& t, float& value) {
  if (t.type() != ElementType::f32 || t.size() == 0) return false;
  const auto* p = static_cast<const float*>(t.data());
  value = p[0];
  for (int64_t i = 1; i < t.size(); ++i) {
    if (std::bit_cast<uint32_t>(p[i]) != std::bit_cast<uint32_t>(value)) return false;
  }
  return true;
}

std::unique_ptr<Kernel> make_binary(PlanContext& ctx, BinOp op) {
  if (!has_inputs(ctx, 2)) return nullptr;
  const ElementType type = ctx.inputs[0].type;
  if (ctx.inputs[1].type != type) return nullptr;
  const ElementType out_type = ctx.outputs[0].type;
  bool type_ok = false;
  if (is_logic(op)) {
    type_ok = type == ElementType::boolean;
  } else if (op == BinOp::Pow || op == BinOp::Mean) {
    type_ok = type == ElementType::f32;
  } else {
    type_ok = type == ElementType::f32 || type == ElementType::i32 || type == ElementType::i64;
  }
  if (!type_ok) return nullptr;
  if (out_type != (is_comparison(op) ? ElementType::boolean : type)) return nullptr;
  const Shape& out = ctx.outputs[0].shape;
  // Pow by a constant exponent with one value that does not widen the output: a unary map.
  float exponent = 0;
  if (op == BinOp::Pow && ctx.inputs[1].constant && ctx.inputs[0].shape == out &&
      all_equal(*ctx.inputs[1].constant, exponent)) {
    const bool fast = exponent == 1.0f || exponent == 2.0f || exponent == 0.5f || exponent == 0.0f;
    if (fast) {
      const UnOp unary = exponent == 1.0f   ? UnOp::Copy
                         : exponent == 2.0f ? UnOp::Square
                         : exponent == 0.5f ? UnOp::SqrtPow
                                            : UnOp::Fill;
      return std::make_unique<UnaryKernel>(unary, type, UnaryParams{}, shape_size(out), where_of(ctx.node));
    }
  }
  BroadcastPlan<2> plan;
  const Shape* shapes[2] = {&ctx.inputs[0].shape, &ctx.inputs[1].shape};
  if (!make_plan(shapes, out, plan)) return nullptr;
  const int inplace = inplace_candidate(ctx, {0, 1});
  return std::make_unique<BinaryKernel>(op, type, plan, inplace, where_of(ctx.node));
}

// Max, Min, Sum, Mean: the variadic folds, for exactly two inputs.
std::unique_ptr<Kernel> make_variadic(PlanContext& ctx, BinOp op) {
  if (ctx.inputs.size() != 2) return nullptr;
  // The reference's Sum and Mean take floating types only (Max and Min every numeric type).
  if (op == BinOp::Add && ctx.inputs[0].type != ElementType::f32) return nullptr;
  return make_binary(ctx, op);
}

std::unique_ptr<Kernel> make_unary(PlanContext& ctx, UnOp op) {
  if (!has_inputs(ctx, 1)) return nullptr;
  const Node& node = ctx.node;
  const ElementType type = ctx.inputs[0].type;
  if (ctx.outputs[0].type != type || ctx.outputs[0].shape != ctx.inputs[0].shape) return nullptr;
  const bool int_ok = op == UnOp::Relu || op == UnOp::Neg || op == UnOp::Abs || op == UnOp::Sign;
  if (op == UnOp::Not) {
    if (type != ElementType::boolean) return nullptr;
  } else if (type != ElementType::f32 &&
             !(int_ok && (type == ElementType::i32 || type == ElementType::i64))) {
    return nullptr;
  }
  UnaryParams p;
  switch (op) {
    case UnOp::LeakyRelu: p.alpha = node.attr_float("alpha", 0.01f); break;
    case UnOp::Elu: p.alpha = node.attr_float("alpha", 1.0f); break;
    case UnOp::Selu:
      p.alpha = node.attr_float("alpha", 1.67326319217681884765625f);
      p.gamma = node.attr_float("gamma", 1.05070102214813232421875f);
      break;
    case UnOp::HardSigmoid:
      p.alpha = node.attr_float("alpha", 0.2f);
      p.beta = node.attr_float("beta", 0.5f);
      break;
    case UnOp::Gelu: {
      const std::string approximate = node.attr_string("approximate", "none");
      if (approximate == "tanh") {
        op = UnOp::GeluTanh;
        p.alpha = std::sqrt(2.0f / std::numbers::pi_v<float>);
      } else if (approximate != "none") {
        return nullptr;  // the reference reports the bad attribute
      }
      break;
    }
    default: break;
  }
  return std::make_unique<UnaryKernel>(op, type, p, shape_size(ctx.inputs[0].shape), where_of(node));
}

std::unique_ptr<Kernel> make_clip(PlanContext& ctx) {
  if (ctx.inputs.empty() || ctx.inputs.size() > 3 || !ctx.inputs[0].present() || ctx.outputs.empty()) {
    return nullptr;
  }
  const Node& node = ctx.node;
  const ElementType type = ctx.inputs[0].type;
  if (ctx.outputs[0].type != type || ctx.outputs[0].shape != ctx.inputs[0].shape) return nullptr;
  ClipBounds clip;
  UnaryParams p;
  if (node.opset_version < 11) {
    if (type != ElementType::f32 || ctx.inputs.size() != 1) return nullptr;
    p.alpha = node.attr_float("min", std::numeric_limits<float>::lowest());
    p.beta = node.attr_float("max", std::numeric_limits<float>::max());
  } else {
    const bool int_ok = node.opset_version >= 12 && (type == ElementType::i32 || type == ElementType::i64);
    if (type != ElementType::f32 && !int_ok) return nullptr;
    for (size_t i = 1; i < ctx.inputs.size(); ++i) {
      const ValueInfo& bound = ctx.inputs[i];
      if (bound.present() && (bound.type != type || shape_size(bound.shape) != 1)) return nullptr;
    }
    clip.from_inputs = true;
  }
  return std::make_unique<UnaryKernel>(UnOp::Clip, type, p, shape_size(ctx.inputs[0].shape), where_of(node),
                                       clip);
}

std::unique_ptr<Kernel> make_where(PlanContext& ctx) {
  if (!has_inputs(ctx, 3)) return nullptr;
  const ElementType type = ctx.inputs[1].type;
  if (ctx.inputs[0].type != ElementType::boolean || ctx.inputs[2].type != type ||
      ctx.outputs[0].type != type) {
    return nullptr;
  }
  const size_t es = element_size(type);
  if (type == ElementType::undefined || !(es == 1 || es == 2 || es == 4 || es == 8)) return nullptr;
  BroadcastPlan<3> plan;
  const Shape* shapes[3] = {&ctx.inputs[0].shape, &ctx.inputs[1].shape, &ctx.inputs[2].shape};
  if (!make_plan(shapes, ctx.outputs[0].shape, plan)) return nullptr;
  const int inplace = inplace_candidate(ctx, {1, 2, 0});
  return std::make_unique<WhereKernel>(es, plan, inplace, where_of(ctx.node));
}

std::unique_ptr<Kernel> make_cast(PlanContext& ctx) {
  if (ctx.inputs.empty() || !ctx.inputs[0].present() || ctx.outputs.empty() || !ctx.outputs[0].present()) {
    return nullptr;
  }
  const ElementType from = ctx.inputs[0].type, to = ctx.outputs[0].type;
  if (ctx.outputs[0].shape != ctx.inputs[0].shape) return nullptr;
  CastFn fn = cast_function(from, to);
  if (!fn) return nullptr;
  return std::make_unique<CastKernel>(fn, element_size(from), element_size(to),
                                      shape_size(ctx.inputs[0].shape), where_of(ctx.node));
}

}  // namespace

void register_elementwise_kernels(KernelRegistry& registry) {
  const std::pair<const char*, BinOp> binary[] = {
      {"Add", BinOp::Add},
      {"Sub", BinOp::Sub},
      {"Mul", BinOp::Mul},
      {"Div", BinOp::Div},
      {"Pow", BinOp::Pow},
      {"Equal", BinOp::Equal},
      {"Less", BinOp::Less},
      {"Greater", BinOp::Greater},
      {"LessOrEqual", BinOp::LessOrEqual},
      {"GreaterOrEqual", BinOp::GreaterOrEqual},
      {"And", BinOp::And},
      {"Or", BinOp::Or},
      {"Xor", BinOp::Xor},
  };
  for (const auto& entry : binary) {
    const auto op = entry.second;
    registry.add("", entry.first, {[op](PlanContext& ctx) { return make_binary(ctx, op); }, false});
  }
  const std::pair<const char*, BinOp> variadic[] = {
      {"Max", BinOp::Max}, {"Min", BinOp::Min}, {"Sum", BinOp::Add}, {"Mean", BinOp::Mean}};
  for (const auto& entry : variadic) {
    const auto op = entry.second;
    registry.add("", entry.first, {[op](PlanContext& ctx) { return make_variadic(ctx, op); }, false});
  }
  const std::pair<const char*, UnOp> unary[] = {
      {"Relu", UnOp::Relu},
      {"LeakyRelu", UnOp::LeakyRelu},
      {"Sigmoid", UnOp::Sigmoid},
      {"Tanh", UnOp::Tanh},
      {"Exp", UnOp::Exp},
      {"Log", UnOp::Log},
      {"Sqrt", UnOp::Sqrt},
      {"Neg", UnOp::Neg},
      {"Abs", UnOp::Abs},
      {"Erf", UnOp::Erf},
      {"Reciprocal", UnOp::Reciprocal},
      {"Floor", UnOp::Floor},
      {"Ceil", UnOp::Ceil},
      {"Sin", UnOp::Sin},
      {"Cos", UnOp::Cos},
      {"Softplus", UnOp::Softplus},
      {"Elu", UnOp::Elu},
      {"Selu", UnOp::Selu},
      {"HardSigmoid", UnOp::HardSigmoid},
      {"HardSwish", UnOp::HardSwish},
      {"Gelu", UnOp::Gelu},
      {"Sign", UnOp::Sign},
      {"Mish", UnOp::Mish},
      {"Not", UnOp::Not},
  };
  for (const auto& entry : unary) {
    const auto op = entry.second;
    registry.add("", entry.first, {[op](PlanContext& ctx) { return make_unary(ctx, op); }, false});
  }
  registry.add("", "Clip", {make_clip, false});
  registry.add("", "Where", {make_where, false});
  registry.add("", "Cast", {make_cast, false});
  registry.add("", "CastLike", {make_cast, false});
}

}  // namespace sluice::cpu
