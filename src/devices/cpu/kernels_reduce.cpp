// The CPU device's own reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL2 and
// ReduceSumSquare (f32; Sum, Max and Min also i64), ArgMax and ArgMin (f32).
//
// A reduction is first reduced to its essential shape: dims of extent 1 dropped, neighbours that are both
// reduced or both kept merged. Most land on [outer, reduced, inner]: inner = 1 reduces contiguous rows
// (vectorized; one long row is cut into pieces whose partial results are combined), inner > 1 accumulates
// whole rows into a block of column accumulators. Anything else walks each output's elements. Sums,
// products and squares accumulate in double as the reference does, so results agree to f32 rounding.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "devices/cpu/kernels_data_movement.hpp"

namespace sluice::cpu {
namespace {

using dm::max_rank;
using dm::parallel_bytes;
using graph::Node;

enum class Kind { sum, mean, max, min, prod, l2, sum_square };

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// ------------------------------------------------------------------------------------- f32 inner loops

SLUICE_TARGET_CLONES double row_sum(const float* x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

SLUICE_TARGET_CLONES double row_sum_square(const float* x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const auto d = static_cast<double>(x[i]);
    s += d * d;
  }
  return s;
}

SLUICE_TARGET_CLONES double row_prod(const float* x, int64_t n) {
  double p = 1.0;
#pragma omp simd reduction(* : p)
  for (int64_t i = 0; i < n; ++i) p *= static_cast<double>(x[i]);
  return p;
}

// Max (or min) of a row; NaN when any element is NaN, as the reference.
SLUICE_TARGET_CLONES double row_extreme(const float* x, int64_t n, bool max) {
  int nan = 0;
  float m;
  if (max) {
    m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t i = 0; i < n; ++i) {
      m = std::max(m, x[i]);
      nan |= x[i] != x[i];
    }
  } else {
    m = std::numeric_limits<float>::infinity();
#pragma omp simd reduction(min : m) reduction(| : nan)
    for (int64_t i = 0; i < n; ++i) {
      m = std::min(m, x[i]);
      nan |= x[i] != x[i];
    }
  }
  return nan ? nan_value : static_cast<double>(m);
}

// acc[j] op= row[j] for `rows` rows `stride` apart, j < cols.
SLUICE_TARGET_CLONES void columns_sum(const float* x, int64_t rows, int64_t stride, int64_t cols, double* acc,
                                      bool square) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
    if (square) {  // NOLINT(bugprone-branch-clone): the branches differ inside their simd pragmas
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) acc[j] += static_cast<double>(row[j]) * static_cast<double>(row[j]);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) acc[j] += static_cast<double>(row[j]);
    }
  }
}

SLUICE_TARGET_CLONES void columns_prod(const float* x, int64_t rows, int64_t stride, int64_t cols,
                                       double* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) acc[j] *= static_cast<double>(row[j]);
  }
}

// NaN sticks: once acc[j] is NaN neither comparison replaces it.
SLUICE_TARGET_CLONES void columns_extreme(const float* x, int64_t rows, int64_t stride, int64_t cols,
                                          float* acc, bool max) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
    if (max) {  // NOLINT(bugprone-branch-clone): the branches differ inside their simd pragmas
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) acc[j] = (row[j] > acc[j] || row[j] != row[j]) ? row[j] : acc[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) acc[j] = (row[j] < acc[j] || row[j] != row[j]) ? row[j] : acc[j];
    }
  }
}

// --------------------------------------------------------------------------------- kinds and element types

// What an accumulator starts from.
double identity_f32(Kind kind) {
  switch (kind) {
    case Kind::max: return -std::numeric_limits<double>::infinity();
    case Kind::min: return std::numeric_limits<double>::infinity();
    case Kind::prod: return 1.0;
    default: return 0.0;
  }
}

double combine_f32(Kind kind, double a, double b) {
  switch (kind) {
    case Kind::max: return std::isnan(a) || std::isnan(b) ? nan_value : std::max(a, b);
    case Kind::min: return std::isnan(a) || std::isnan(b) ? nan_value : std::min(a, b);
    case Kind::prod: return a * b;
    default: return a + b;
  }
}

float finish_f32(Kind kind, double acc, int64_t count) {
  switch (kind) {
    case Kind::mean: return static_cast<float>(count == 0 ? nan_value : acc / static_cast<double>(count));
    case Kind::l2: return static_cast<float>(std::sqrt(acc));
    default: return static_cast<float>(acc);
  }
}

double reduce_row_f32(Kind kind, const float* x, int64_t n) {
  switch (kind) {
    case Kind::max: return row_extreme(x, n, true);
    case Kind::min: return row_extreme(x, n, false);
    case Kind::prod: return row_prod(x, n);
    case Kind::l2:
    case Kind::sum_square: return row_sum_square(x, n);
    default: return row_sum(x, n);
  }
}

// i64 (Sum, Max, Min): sums wrap around as the element type would.
int64_t identity_i64(Kind kind) {
  if (kind == Kind::max) return std::numeric_limits<int64_t>::lowest();
  if (kind == Kind::min) return std::numeric_limits<int64_t>::max();
  return 0;
}

int64_t combine_i64(Kind kind, int64_t a, int64_t b) {
  if (kind == Kind::max) return std::max(a, b);
  if (kind == Kind::min) return std::min(a, b);
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

int64_t reduce_row_i64(Kind kind, const int64_t* x, int64_t n) {
  int64_t acc = identity_i64(kind);
  if (kind == Kind::sum) {
    uint64_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += static_cast<uint64_t>(x[i]);
    return static_cast<int64_t>(s);
  }
  for (int64_t i = 0; i < n; ++i) acc = combine_i64(kind, acc, x[i]);
  return acc;
}

// ---------------------------------------------------------------------------------------------- geometry

// The essential shape of a reduction (see the file comment) and its [outer, reduced, inner] form when it
// has one.
struct Geometry {
  bool noop = false;    // noop_with_empty_axes with no axes: output = input
  int64_t outputs = 0;  // output elements
  int64_t group = 0;    // input elements per output element
  int n = 0;            // segments
  int64_t extent[max_rank] = {};
  bool reduced[max_rank] = {};
  bool three_level = false;
  int64_t outer = 1, middle = 1, inner = 1;  // middle: the reduced extent
};

Geometry make_geometry(const Shape& in, const bool* reduced) {
  Geometry g;
  g.outputs = 1;
  g.group = 1;
  for (size_t d = 0; d < in.size(); ++d) (reduced[d] ? g.group : g.outputs) *= in[d];
  if (g.outputs == 0 || g.group == 0) return g;  // nothing to read: outputs are empty or identities
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] == 1) continue;
    if (g.n > 0 && g.reduced[g.n - 1] == reduced[d]) {
      g.extent[g.n - 1] *= in[d];
      continue;
    }
    g.extent[g.n] = in[d];
    g.reduced[g.n] = reduced[d];
    ++g.n;
  }
  // [K], [R], [K R], [R K], [K R K]
  const int first_reduced = g.n > 0 && g.reduced[0] ? 0 : 1;
  if (g.n <= first_reduced + 2) {
    g.three_level = true;
    for (int s = 0; s < g.n; ++s) {
      const int level = s - first_reduced + 1;  // 0 outer, 1 reduced, 2 inner
      (level == 0 ? g.outer : level == 1 ? g.middle : g.inner) = g.extent[s];
    }
  }
  return g;
}

// ------------------------------------------------------------------------------------------------ kernel

// Row pieces: a long reduced row is cut into at most this many pieces (partials in the scratch), for at
// most `split_outputs` outputs.
constexpr int64_t max_pieces = 64;
constexpr int64_t split_outputs = 16;
constexpr int64_t column_block = 256;

class ReduceKernel final : public Kernel {
 public:
  struct Settings {
    Kind kind = Kind::sum;
    ElementType type = ElementType::f32;
    bool keepdims = true;
    bool noop_with_empty_axes = false;
    std::string where;
  };
  // `planned`: the geometry when the axes were known at planning; otherwise input 1 is read at run time.
  ReduceKernel(Settings s, std::optional<Geometry> planned) : s_(std::move(s)), planned_(planned) {}

  std::string impl_name() const override { return "sluice:reduce"; }
  size_t scratch_bytes() const override { return split_outputs * max_pieces * sizeof(double); }

  void run(RunContext& ctx, KernelState*) const override {
    const Geometry g = planned_ ? *planned_ : runtime_geometry(ctx);
    const Tensor& x = ctx.inputs[0];
    Tensor& y = ctx.outputs[0];
    if (g.noop) {
      if (x.byte_size() > 0) std::memcpy(y.data(), x.data(), x.byte_size());
      return;
    }
    if (s_.type == ElementType::f32) {
      run_f32(g, static_cast<const float*>(x.data()), static_cast<float*>(y.data()),
              static_cast<double*>(ctx.scratch));
    } else {
      run_i64(g, static_cast<const int64_t*>(x.data()), static_cast<int64_t*>(y.data()));
    }
  }

  // The geometry for axes given as values (nullptr, 0 values: none given); throws naming the node for
  // invalid axes and when the result would not have the planned output shape.
  Geometry geometry_for(const Shape& in, const int64_t* axes, int64_t n_axes, const Shape& planned) const {
    const auto rank = static_cast<int64_t>(in.size());
    bool reduced[max_rank] = {};
    Geometry g;
    if (n_axes == 0) {
      if (s_.noop_with_empty_axes) {
        g.noop = true;
        SLUICE_CHECK(planned == in, s_.where, "the output was planned as ", to_string(planned),
                     "; expected the input's shape ", to_string(in));
        return g;
      }
      std::fill(reduced, reduced + rank, true);
    }
    for (int64_t i = 0; i < n_axes; ++i) {
      const int64_t axis = axes[i];
      SLUICE_CHECK(axis >= -rank && axis < rank, s_.where, "axis ", axis, " is out of range for rank ", rank);
      const int64_t a = axis < 0 ? axis + rank : axis;
      SLUICE_CHECK(!reduced[a], s_.where, "axis ", axis, " is listed twice in axes");
      reduced[a] = true;
    }
    bool same = true;
    size_t o = 0;
    for (int64_t d = 0; d < rank; ++d) {
      if (reduced[d] && !s_.keepdims) continue;
      same = same && o < planned.size() && planned[o] == (reduced[d] ? 1 : in[static_cast<size_t>(d)]);
      ++o;
    }
    SLUICE_CHECK(same && o == planned.size(), s_.where, "the reduced output does not have the planned shape ",
                 to_string(planned));
    return make_geometry(in, reduced);
  }

 private:
  Geometry runtime_geometry(const RunContext& ctx) const {
    int64_t axes[max_rank];
    int64_t n = 0;
    if (ctx.inputs.size() > 1 && ctx.inputs[1])
      n = dm::read_ints(ctx.inputs[1], axes, max_rank, s_.where, "axes");
    return geometry_for(ctx.inputs[0].shape(), axes, n, ctx.outputs[0].shape());
  }

  void run_f32(const Geometry& g, const float* x, float* y, double* partials) const {
    const Kind kind = s_.kind;
    if (g.outputs == 0) return;
    if (g.group == 0) {
      std::fill(y, y + g.outputs, finish_f32(kind, identity_f32(kind), 0));
      return;
    }
    const int64_t count = g.group;
    if (!g.three_level) {
      run_general(g, [&](int64_t o, int64_t offset, auto&& each) {
        double acc = identity_f32(kind);
        each([&](int64_t i) {
          const auto v = static_cast<double>(x[offset + i]);
          acc = combine_f32(kind, acc, kind == Kind::l2 || kind == Kind::sum_square ? v * v : v);
        });
        y[o] = finish_f32(kind, acc, count);
      });
      return;
    }
    const int64_t outer = g.outer, r = g.middle, inner = g.inner;
    if (inner == 1) {
      const int64_t pieces = std::min(max_pieces, r * 4 / (4 * parallel_bytes));
      if (outer <= split_outputs && pieces > 1) {
        // Few long rows: partial results of each piece, then combined in a fixed order.
        parallel_for(outer * pieces, 1, [&](int64_t begin, int64_t end) {
          for (int64_t u = begin; u < end; ++u) {
            const int64_t o = u / pieces, p = u % pieces;
            const int64_t b = r * p / pieces, e = r * (p + 1) / pieces;
            partials[u] = reduce_row_f32(kind, x + o * r + b, e - b);
          }
        });
        for (int64_t o = 0; o < outer; ++o) {
          double acc = partials[o * pieces];
          for (int64_t p = 1; p < pieces; ++p) acc = combine_f32(kind, acc, partials[o * pieces + p]);
          y[o] = finish_f32(kind, acc, count);
        }
        return;
      }
      parallel_for(outer, std::max<int64_t>(1, parallel_bytes / (r * 4)), [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o)
          y[o] = finish_f32(kind, reduce_row_f32(kind, x + o * r, r), count);
      });
      return;
    }
    const int64_t blocks = (inner + column_block - 1) / column_block;
    const int64_t grain = std::max<int64_t>(1, parallel_bytes / (r * std::min(inner, column_block) * 4));
    parallel_for(outer * blocks, grain, [&](int64_t begin, int64_t end) {
      double acc[column_block];
      float extreme[column_block];
      for (int64_t u = begin; u < end; ++u) {
        const int64_t o = u / blocks, j0 = (u - o * blocks) * column_block;
        const int64_t cols = std::min(column_block, inner - j0);
        const float* base = x + o * r * inner + j0;
        float* out = y + o * inner + j0;
        if (kind == Kind::max || kind == Kind::min) {
          std::fill(extreme, extreme + cols, static_cast<float>(identity_f32(kind)));
          columns_extreme(base, r, inner, cols, extreme, kind == Kind::max);
          std::copy(extreme, extreme + cols, out);
          continue;
        }
        std::fill(acc, acc + cols, identity_f32(kind));
        if (kind == Kind::prod) {
          columns_prod(base, r, inner, cols, acc);
        } else {
          columns_sum(base, r, inner, cols, acc, kind == Kind::l2 || kind == Kind::sum_square);
        }
        for (int64_t j = 0; j < cols; ++j) out[j] = finish_f32(kind, acc[j], count);
      }
    });
  }

  void run_i64(const Geometry& g, const int64_t* x, int64_t* y) const {
    const Kind kind = s_.kind;
    if (g.outputs == 0) return;
    if (g.group == 0) {
      std::fill(y, y + g.outputs, identity_i64(kind));
      return;
    }
    if (!g.three_level) {
      run_general(g, [&](int64_t o, int64_t offset, auto&& each) {
        int64_t acc = identity_i64(kind);
        each([&](int64_t i) { acc = combine_i64(kind, acc, x[offset + i]); });
        y[o] = acc;
      });
      return;
    }
    const int64_t outer = g.outer, r = g.middle, inner = g.inner;
    if (inner == 1) {
      parallel_for(outer, std::max<int64_t>(1, parallel_bytes / (r * 8)), [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) y[o] = reduce_row_i64(kind, x + o * r, r);
      });
      return;
    }
    parallel_for(outer, std::max<int64_t>(1, parallel_bytes / (r * inner * 8)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t o = begin; o < end; ++o) {
                     int64_t* out = y + o * inner;
                     std::fill(out, out + inner, identity_i64(kind));
                     for (int64_t k = 0; k < r; ++k) {
                       const int64_t* row = x + (o * r + k) * inner;
                       for (int64_t j = 0; j < inner; ++j) out[j] = combine_i64(kind, out[j], row[j]);
                     }
                   }
                 });
  }

  // Any essential shape: per output, f(o, offset of its first element, each) where each(g) calls g(i)
  // with the offset of every element of the group relative to the first.
  template <class F> void run_general(const Geometry& g, F&& f) const {
    int64_t stride[max_rank];
    int64_t s = 1;
    for (int d = g.n; d-- > 0;) {
      stride[d] = s;
      s *= g.extent[d];
    }
    parallel_for(g.outputs, std::max<int64_t>(1, parallel_bytes / (g.group * 4)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t o = begin; o < end; ++o) {
                     int64_t rest = o, offset = 0;
                     for (int d = g.n; d-- > 0;) {
                       if (g.reduced[d]) continue;
                       offset += (rest % g.extent[d]) * stride[d];
                       rest /= g.extent[d];
                     }
                     f(o, offset, [&](auto&& visit) {
                       int64_t index[max_rank] = {};
                       int64_t rel = 0;
                       for (int64_t k = 0; k < g.group; ++k) {
                         visit(rel);
                         for (int d = g.n; d-- > 0;) {
                           if (!g.reduced[d]) continue;
                           rel += stride[d];
                           if (++index[d] < g.extent[d]) break;
                           rel -= stride[d] * g.extent[d];
                           index[d] = 0;
                         }
                       }
                     });
                   }
                 });
  }

  Settings s_;
  std::optional<Geometry> planned_;
};

struct ReduceOp {
  const char* name;
  Kind kind;
  int64_t axes_input_since;  // 13 for ReduceSum, 18 for the others
  bool i64;                  // also takes i64
};

std::unique_ptr<Kernel> make_reduce(PlanContext& ctx, const ReduceOp& op) {
  const Node& node = ctx.node;
  if (ctx.inputs.empty() || ctx.inputs[0].blocked() || !ctx.outputs[0].present()) return nullptr;
  const ElementType type = ctx.inputs[0].type;
  if (type != ElementType::f32 && !(op.i64 && type == ElementType::i64)) return nullptr;
  const Shape& in = ctx.inputs[0].shape;
  if (static_cast<int>(in.size()) > max_rank || ctx.outputs[0].type != type) return nullptr;
  ReduceKernel::Settings s;
  s.kind = op.kind;
  s.type = type;
  s.keepdims = node.attr_int("keepdims", 1) != 0;
  s.where = dm::where_of(node);
  const bool axes_input = node.opset_version >= op.axes_input_since;
  int64_t axes[max_rank];
  int64_t n_axes = 0;
  bool known = true;
  if (axes_input) {
    s.noop_with_empty_axes = node.attr_int("noop_with_empty_axes", 0) != 0;
    if (node.has_attr("axes")) return nullptr;
    if (ctx.inputs.size() > 1 && ctx.inputs[1].present()) {
      if (!dm::is_index_type(ctx.inputs[1].type)) return nullptr;
      if (const Tensor* t = ctx.inputs[1].constant) {
        if (t->size() > max_rank || t->rank() > 1) return nullptr;
        for (int64_t i = 0; i < t->size(); ++i) axes[i] = dm::int_at(*t, i);
        n_axes = t->size();
      } else {
        known = false;
      }
    }
  } else {
    const auto attr = node.attr_ints("axes", {});
    if (static_cast<int64_t>(attr.size()) > max_rank) return nullptr;
    for (int64_t a : attr) {
      if (a < 0 && node.opset_version < 11) return nullptr;  // the reference rejects it
    }
    std::copy(attr.begin(), attr.end(), axes);
    n_axes = static_cast<int64_t>(attr.size());
  }
  auto kernel = std::make_unique<ReduceKernel>(s, std::nullopt);
  if (!known) return kernel;
  try {
    return std::make_unique<ReduceKernel>(s, kernel->geometry_for(in, axes, n_axes, ctx.outputs[0].shape));
  } catch (const Error&) {
    return nullptr;  // invalid axes: the reference kernel reports them
  }
}

// ----------------------------------------------------------------------------------------- ArgMax/ArgMin

// The index of the first (or last) extreme element of a row; a NaN counts as the extreme, as in numpy.
SLUICE_TARGET_CLONES int64_t arg_row(const float* x, int64_t n, bool max, bool last) {
  const float m = static_cast<float>(row_extreme(x, n, max));
  const bool nan = m != m;
  if (last) {
    for (int64_t i = n; i-- > 0;) {
      if (nan ? x[i] != x[i] : x[i] == m) return i;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (nan ? x[i] != x[i] : x[i] == m) return i;
    }
  }
  return 0;
}

// Columns [0, cols) of an [extent, stride] block: the reference's replacement rule, element by element.
SLUICE_TARGET_CLONES void arg_columns(const float* x, int64_t extent, int64_t stride, int64_t cols, bool max,
                                      bool last, float* best, int64_t* index) {
  for (int64_t j = 0; j < cols; ++j) {
    best[j] = x[j];
    index[j] = 0;
  }
  for (int64_t k = 1; k < extent; ++k) {
    const float* row = x + k * stride;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      const float v = row[j], b = best[j];
      const bool better = max ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
      const bool replace = b != b ? (last && v != v) : (v != v || better);
      best[j] = replace ? v : b;
      index[j] = replace ? k : index[j];
    }
  }
}

class ArgKernel final : public Kernel {
 public:
  ArgKernel(bool max, bool last, int64_t outer, int64_t extent, int64_t inner)
      : max_(max), last_(last), outer_(outer), extent_(extent), inner_(inner) {}

  std::string impl_name() const override { return max_ ? "sluice:argmax" : "sluice:argmin"; }

  void run(RunContext& ctx, KernelState*) const override {
    const float* x = static_cast<const float*>(ctx.inputs[0].data());
    auto* y = static_cast<int64_t*>(ctx.outputs[0].data());
    const int64_t extent = extent_, inner = inner_;
    if (outer_ * inner == 0) return;
    if (inner == 1) {
      parallel_for(outer_, std::max<int64_t>(1, parallel_bytes / (extent * 4)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t o = begin; o < end; ++o)
                       y[o] = arg_row(x + o * extent, extent, max_, last_);
                   });
      return;
    }
    const int64_t blocks = (inner + column_block - 1) / column_block;
    const int64_t grain = std::max<int64_t>(1, parallel_bytes / (extent * std::min(inner, column_block) * 4));
    parallel_for(outer_ * blocks, grain, [&](int64_t begin, int64_t end) {
      float best[column_block];
      for (int64_t u = begin; u < end; ++u) {
        const int64_t o = u / blocks, j0 = (u - o * blocks) * column_block;
        arg_columns(x + o * extent * inner + j0, extent, inner, std::min(column_block, inner - j0), max_,
                    last_, best, y + o * inner + j0);
      }
    });
  }

 private:
  bool max_, last_;
  int64_t outer_, extent_, inner_;
};

std::unique_ptr<Kernel> make_arg(PlanContext& ctx, bool max) {
  const Node& node = ctx.node;
  if (ctx.inputs.empty() || ctx.inputs[0].type != ElementType::f32 || ctx.inputs[0].blocked()) return nullptr;
  const Shape& shape = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(shape.size());
  int64_t axis = node.attr_int("axis", 0);
  if (rank == 0 || axis < -rank || axis >= rank || (axis < 0 && node.opset_version < 11)) return nullptr;
  if (axis < 0) axis += rank;
  const bool last = node.opset_version >= 12 && node.attr_int("select_last_index", 0) != 0;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[static_cast<size_t>(d)];
  const int64_t extent = shape[static_cast<size_t>(axis)];
  if (extent == 0) return nullptr;  // the reference reports the empty axis
  return std::make_unique<ArgKernel>(max, last, outer, extent, inner);
}

}  // namespace

void register_reduce_kernels(KernelRegistry& registry) {
  static const ReduceOp ops[] = {
      {"ReduceSum", Kind::sum, 13, true},
      {"ReduceMean", Kind::mean, 18, false},
      {"ReduceMax", Kind::max, 18, true},
      {"ReduceMin", Kind::min, 18, true},
      {"ReduceProd", Kind::prod, 18, false},
      {"ReduceL2", Kind::l2, 18, false},
      {"ReduceSumSquare", Kind::sum_square, 18, false},
  };
  for (const ReduceOp& op : ops) {
    registry.add("", op.name, {[&op](PlanContext& ctx) { return make_reduce(ctx, op); }, false});
  }
  registry.add("", "ArgMax", {[](PlanContext& ctx) { return make_arg(ctx, true); }, false});
  registry.add("", "ArgMin", {[](PlanContext& ctx) { return make_arg(ctx, false); }, false});
}

}  // namespace sluice::cpu
