// Pooling: MaxPool (with Indices), AveragePool, LpPool, their global forms, and MaxUnpool.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

enum class PoolKind { max, average, lp };

// Reads LpPool's and GlobalLpPool's `p`: a float before opset 2, an int afterwards (either is accepted).
double read_p(const Node& node) {
  const auto it = node.attributes.find("p");
  if (it == node.attributes.end()) return 2.0;
  if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  if (const auto* f = std::get_if<float>(&it->second)) return *f;
  throw_error(where(node), "attribute 'p' must be an int or a float");
}

void validate_pool(const Node& node) {
  validate_window_attrs(node);
  SLUICE_CHECK(node.has_attr("kernel_shape"), where(node), "attribute 'kernel_shape' is required");
  const size_t spatial = node.attr_ints("kernel_shape").size();
  SLUICE_CHECK(spatial > 0, where(node),
               "attribute 'kernel_shape' is empty; expected one value per spatial dim");
  read_window(node, node.attr_ints("kernel_shape"));
  const int64_t order = node.attr_int("storage_order", 0);
  SLUICE_CHECK(order == 0 || order == 1, where(node), "attribute 'storage_order' is ", order,
               "; expected 0 (row major) or 1 (column major)");
  if (node.has_attr("p")) {
    SLUICE_CHECK(read_p(node) > 0, where(node), "attribute 'p' is ", read_p(node),
                 "; expected a positive value");
  }
}

void check_pool_types(InferContext& ctx, PoolKind kind) {
  const ElementType type = ctx.input_type(0);
  const bool ok =
      is_floating(type) || (kind == PoolKind::max && (type == ElementType::i8 || type == ElementType::u8));
  SLUICE_CHECK(ok, where(ctx.node), "input X has element type ", to_string(type), "; expected ",
               kind == PoolKind::max ? "f32, f16, bf16, f64, i8 or u8" : "f32, f16, bf16 or f64");
}

void infer_pool(InferContext& ctx, PoolKind kind) {
  check_pool_types(ctx, kind);
  const Node& node = ctx.node;
  const Window window = read_window(node, node.attr_ints("kernel_shape"));
  const auto& xs = ctx.input_shape(0);
  PartialShape out;
  if (xs.rank_known()) {
    SLUICE_CHECK(static_cast<size_t>(xs.rank()) == window.rank() + 2, where(node), "input X has shape ",
                 xs.to_string(), "; expected rank ", window.rank() + 2, " (batch, channels and ",
                 window.rank(), " spatial dims from kernel_shape)");
    std::vector<Dimension> dims{xs[0], xs[1]};
    for (size_t d = 0; d < window.rank(); ++d) dims.push_back(forward_dim(window, d, xs[d + 2], node));
    out = PartialShape(dims);
  } else {
    out = PartialShape(std::vector<Dimension>(window.rank() + 2));
  }
  ctx.set_output(0, ctx.input_type(0), out);
  set_output_if_present(ctx, 1, ElementType::i64, out);
}

// For one spatial dim: the input positions each output position reads, and how many window positions
// fall inside the padded input (the divisor of AveragePool with count_include_pad).
struct DimTaps {
  std::vector<std::vector<int64_t>> taps;
  std::vector<int64_t> padded_count;
};

DimTaps plan_taps(const WindowPlan& plan, size_t d) {
  DimTaps result;
  // With ceil_mode the last window may reach past the end pad; like the ONNX reference, the padded input
  // is extended to cover it, so those positions count as padding.
  const int64_t padded_end =
      std::max(plan.in[d] + plan.pad_end[d], (plan.out[d] - 1) * plan.strides[d] - plan.pad_begin[d] +
                                                 (plan.kernel[d] - 1) * plan.dilations[d] + 1);
  for (int64_t o = 0; o < plan.out[d]; ++o) {
    std::vector<int64_t> taps;
    int64_t padded = 0;
    for (int64_t k = 0; k < plan.kernel[d]; ++k) {
      const int64_t pos = o * plan.strides[d] - plan.pad_begin[d] + k * plan.dilations[d];
      if (pos >= 0 && pos < plan.in[d]) taps.push_back(pos);
      if (pos >= -plan.pad_begin[d] && pos < padded_end) ++padded;
    }
    result.taps.push_back(std::move(taps));
    result.padded_count.push_back(padded);
  }
  return result;
}

// The flat offsets (within one plane) of the input positions of one output position.
void gather_offsets(const std::vector<DimTaps>& dims, const std::vector<int64_t>& o, const Shape& in,
                    bool column_major, std::vector<int64_t>& offsets, std::vector<int64_t>& order_offsets) {
  offsets.assign(1, 0);
  order_offsets.assign(1, 0);
  int64_t col_stride = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    const auto& taps = dims[d].taps[static_cast<size_t>(o[d])];
    std::vector<int64_t> next, next_order;
    next.reserve(offsets.size() * taps.size());
    for (size_t i = 0; i < offsets.size(); ++i) {
      for (int64_t t : taps) {
        next.push_back(offsets[i] * in[d] + t);
        next_order.push_back(column_major ? order_offsets[i] + t * col_stride : next.back());
      }
    }
    col_stride *= in[d];
    offsets.swap(next);
    order_offsets.swap(next_order);
  }
}

struct PoolParams {
  PoolKind kind = PoolKind::max;
  bool count_include_pad = false;
  bool column_major = false;
  double p = 2.0;
};

template <class T>
void pool_kernel(const WindowPlan& plan, const PoolParams& params, int64_t planes, const T* x, T* y,
                 int64_t* indices) {
  using A = acc_t<T>;
  std::vector<DimTaps> dims;
  for (size_t d = 0; d < plan.in.size(); ++d) dims.push_back(plan_taps(plan, d));
  const int64_t in_size = shape_size(plan.in);
  const int64_t out_size = shape_size(plan.out);
  if (out_size == 0) return;
  std::vector<int64_t> o(plan.out.size(), 0), offsets, order_offsets;
  int64_t oi = 0;
  do {
    gather_offsets(dims, o, plan.in, params.column_major, offsets, order_offsets);
    int64_t padded = 1;
    for (size_t d = 0; d < dims.size(); ++d) padded *= dims[d].padded_count[static_cast<size_t>(o[d])];
    for (int64_t c = 0; c < planes; ++c) {
      const T* src = x + c * in_size;
      const int64_t out_at = c * out_size + oi;
      if (params.kind == PoolKind::max) {
        A best = std::numeric_limits<A>::lowest();
        if constexpr (std::numeric_limits<A>::has_infinity) best = -std::numeric_limits<A>::infinity();
        int64_t best_at = -1;
        for (size_t i = 0; i < offsets.size(); ++i) {
          const A v = widen(src[offsets[i]]);
          if (best_at < 0 || v > best) {
            best = v;
            best_at = static_cast<int64_t>(i);
          }
        }
        y[out_at] = narrow<T>(best);
        if (indices)
          indices[out_at] = best_at < 0 ? -1 : c * in_size + order_offsets[static_cast<size_t>(best_at)];
      } else if constexpr (!is_floating_v<T>) {
        throw_error("average and Lp pooling need a floating element type");
      } else if (params.kind == PoolKind::average) {
        A sum = 0;
        for (int64_t off : offsets) sum += widen(src[off]);
        const int64_t count = params.count_include_pad ? padded : static_cast<int64_t>(offsets.size());
        y[out_at] = narrow<T>(count > 0 ? sum / static_cast<A>(count) : A(0));
      } else {
        A sum = 0;
        for (int64_t off : offsets) sum += static_cast<A>(std::pow(std::abs(widen(src[off])), params.p));
        y[out_at] = narrow<T>(std::pow(sum, 1.0 / params.p));
      }
    }
    ++oi;
  } while (next_index(o, plan.out));
}

std::vector<Tensor> run_pool(const Node& node, std::span<const Tensor> in, PoolParams params) {
  const Tensor& x = in[0];
  const Window window = read_window(node, node.attr_ints("kernel_shape"));
  SLUICE_CHECK(static_cast<size_t>(x.rank()) == window.rank() + 2, where(node), "input X has shape ",
               to_string(x.shape()), "; expected rank ", window.rank() + 2);
  const WindowPlan plan = plan_forward(window, spatial_of(x.shape()), node);
  Shape out_shape{x.shape()[0], x.shape()[1]};
  out_shape.insert(out_shape.end(), plan.out.begin(), plan.out.end());
  Tensor y(x.type(), out_shape);
  Tensor indices;
  if (node.has_output(1)) indices = Tensor(ElementType::i64, out_shape);
  const int64_t planes = x.shape()[0] * x.shape()[1];
  const auto run = [&](auto tag) {
    using T = decltype(tag);
    pool_kernel<T>(plan, params, planes, x.data<T>(), y.data<T>(),
                   indices.empty() ? nullptr : indices.data<int64_t>());
  };
  if (params.kind == PoolKind::max && (x.type() == ElementType::i8 || x.type() == ElementType::u8)) {
    dispatch_all(x.type(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) run(tag);
    });
  } else {
    dispatch_floating(x.type(), where(node), run);
  }
  std::vector<Tensor> outputs{y};
  if (node.outputs.size() > 1) outputs.push_back(indices);
  return outputs;
}

std::vector<Tensor> run_max_pool(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  PoolParams params;
  params.kind = PoolKind::max;
  params.column_major = node.attr_int("storage_order", 0) == 1;
  return run_pool(node, in, params);
}

std::vector<Tensor> run_average_pool(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  PoolParams params;
  params.kind = PoolKind::average;
  params.count_include_pad = node.attr_int("count_include_pad", 0) != 0;
  return run_pool(node, in, params);
}

std::vector<Tensor> run_lp_pool(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  PoolParams params;
  params.kind = PoolKind::lp;
  params.p = read_p(node);
  return run_pool(node, in, params);
}

// ---- Global pools ----

void infer_global_pool(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  const auto& xs = ctx.input_shape(0);
  if (!xs.rank_known()) {
    ctx.set_output(0, ctx.input_type(0), PartialShape());
    return;
  }
  SLUICE_CHECK(xs.rank() >= 2, where(ctx.node), "input X has shape ", xs.to_string(),
               "; expected rank >= 2 (batch, channels, spatial dims)");
  std::vector<Dimension> dims{xs[0], xs[1]};
  dims.resize(static_cast<size_t>(xs.rank()), Dimension(1));
  ctx.set_output(0, ctx.input_type(0), PartialShape(dims));
}

std::vector<Tensor> run_global_pool(const Node& node, std::span<const Tensor> in, PoolKind kind) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() >= 2, where(node), "input X has shape ", to_string(x.shape()),
               "; expected rank >= 2");
  Shape out_shape(x.shape().size(), 1);
  out_shape[0] = x.shape()[0];
  out_shape[1] = x.shape()[1];
  Tensor y(x.type(), out_shape);
  const int64_t planes = x.shape()[0] * x.shape()[1];
  const int64_t plane = planes == 0 ? 0 : x.size() / planes;
  const double p = kind == PoolKind::lp ? read_p(node) : 2.0;
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    using A = acc_t<T>;
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t c = 0; c < planes; ++c) {
      A result = kind == PoolKind::max ? -std::numeric_limits<A>::infinity() : A(0);
      for (int64_t i = 0; i < plane; ++i) {
        const A v = widen(src[c * plane + i]);
        if (kind == PoolKind::max) {
          result = i == 0 || v > result ? v : result;
        } else if (kind == PoolKind::average) {
          result += v;
        } else {
          result += static_cast<A>(std::pow(std::abs(v), p));
        }
      }
      if (kind == PoolKind::average) result = plane > 0 ? result / static_cast<A>(plane) : A(0);
      if (kind == PoolKind::lp) result = static_cast<A>(std::pow(result, 1.0 / p));
      dst[c] = narrow<T>(result);
    }
  });
  return {y};
}

// ---- MaxUnpool ----

void validate_max_unpool(const Node& node) {
  validate_window_attrs(node);
  SLUICE_CHECK(node.has_attr("kernel_shape"), where(node), "attribute 'kernel_shape' is required");
  read_window(node, node.attr_ints("kernel_shape"));
}

Dimension unpool_dim(const Window& window, size_t d, const Dimension& in, const Node& node) {
  if (in.is_dynamic()) return Dimension();
  const int64_t out = (in.extent() - 1) * window.strides[d] + window.kernel[d] - window.pads[d] -
                      window.pads[d + window.rank()];
  SLUICE_CHECK(out >= 0, where(node), "spatial dimension ", d, ": the output extent would be ", out,
               " (input extent ", in.extent(), ")");
  return out;
}

void infer_max_unpool(InferContext& ctx) {
  check_floating(ctx, 0, "X");
  const Node& node = ctx.node;
  SLUICE_CHECK(is_integer(ctx.input_type(1)), where(node), "input I has element type ",
               to_string(ctx.input_type(1)), "; expected i64");
  const Window window = read_window(node, node.attr_ints("kernel_shape"));
  const size_t rank = window.rank() + 2;
  const auto& xs = ctx.input_shape(0);
  SLUICE_CHECK(!xs.rank_known() || static_cast<size_t>(xs.rank()) == rank, where(node), "input X has shape ",
               xs.to_string(), "; expected rank ", rank, " (from kernel_shape)");
  if (ctx.has_input(2)) {
    if (const Tensor* shape = ctx.input_value(2)) {
      const Shape dims = to_int64s(*shape);
      SLUICE_CHECK(dims.size() == rank, where(node), "input output_shape is ", to_string(dims), "; expected ",
                   rank, " values");
      ctx.set_output(0, ctx.input_type(0), PartialShape(dims));
    } else {
      ctx.set_output(0, ctx.input_type(0), PartialShape(std::vector<Dimension>(rank)));
    }
    return;
  }
  std::vector<Dimension> dims{Dimension(), Dimension()};
  if (xs.rank_known()) dims = {xs[0], xs[1]};
  for (size_t d = 0; d < window.rank(); ++d) {
    dims.push_back(unpool_dim(window, d, xs.rank_known() ? xs[d + 2] : Dimension(), node));
  }
  ctx.set_output(0, ctx.input_type(0), PartialShape(dims));
}

// Like the ONNX reference: the indices address the output of the default extents; an output_shape input
// may only enlarge that output, which then sits at its origin (the rest is zeros).
std::vector<Tensor> run_max_unpool(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const Tensor& x = in[0];
  const Tensor& idx = in[1];
  const Window window = read_window(node, node.attr_ints("kernel_shape"));
  SLUICE_CHECK(static_cast<size_t>(x.rank()) == window.rank() + 2, where(node), "input X has shape ",
               to_string(x.shape()), "; expected rank ", window.rank() + 2);
  SLUICE_CHECK(idx.shape() == x.shape(), where(node), "input I has shape ", to_string(idx.shape()),
               "; expected X's shape ", to_string(x.shape()));
  Shape inferred{x.shape()[0], x.shape()[1]};
  for (size_t d = 0; d < window.rank(); ++d)
    inferred.push_back(unpool_dim(window, d, x.shape()[d + 2], node).extent());
  Shape out_shape = inferred;
  if (in.size() > 2 && !in[2].empty()) {
    out_shape = to_int64s(in[2]);
    SLUICE_CHECK(out_shape.size() == inferred.size(), where(node), "input output_shape is ",
                 to_string(out_shape), "; expected ", inferred.size(), " values");
    for (size_t d = 0; d < out_shape.size(); ++d) {
      SLUICE_CHECK(out_shape[d] >= inferred[d], where(node), "input output_shape is ", to_string(out_shape),
                   "; expected at least the default output shape ", to_string(inferred));
    }
  }
  Tensor y(x.type(), out_shape);
  const auto indices = to_int64s(idx);
  const int64_t inferred_size = shape_size(inferred);
  const auto out_strides = strides_of(out_shape);
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (size_t i = 0; i < indices.size(); ++i) {
      SLUICE_CHECK(indices[i] >= 0 && indices[i] < inferred_size, where(node), "input I holds index ",
                   indices[i], " at position ", i, "; expected values in [0, ", inferred_size, ")");
      int64_t rest = indices[i], at = 0;
      for (size_t d = inferred.size(); d-- > 0;) {
        at += (rest % inferred[d]) * out_strides[d];
        rest /= inferred[d];
      }
      dst[at] = src[i];
    }
  });
  return {y};
}

OpSchema pool_schema(const char* op, int64_t since, int max_outputs, PoolKind kind, RefKernel kernel) {
  return OpSchema{"",
                  op,
                  since,
                  1,
                  1,
                  1,
                  max_outputs,
                  validate_pool,
                  [kind](InferContext& ctx) { infer_pool(ctx, kind); },
                  std::move(kernel)};
}

OpSchema global_pool_schema(const char* op, int64_t since, PoolKind kind) {
  return OpSchema{"",
                  op,
                  since,
                  1,
                  1,
                  1,
                  1,
                  nullptr,
                  infer_global_pool,
                  [kind](const Node& node, std::span<const Tensor> in, KernelEnv&) {
                    return run_global_pool(node, in, kind);
                  }};
}

}  // namespace

void register_pool_ops(OpRegistry& registry) {
  registry.add(pool_schema("MaxPool", 1, 1, PoolKind::max, run_max_pool));
  registry.add(pool_schema("MaxPool", 8, 2, PoolKind::max, run_max_pool));
  registry.add(pool_schema("AveragePool", 1, 1, PoolKind::average, run_average_pool));
  registry.add(pool_schema("LpPool", 1, 1, PoolKind::lp, run_lp_pool));
  registry.add(global_pool_schema("GlobalMaxPool", 1, PoolKind::max));
  registry.add(global_pool_schema("GlobalAveragePool", 1, PoolKind::average));
  registry.add(global_pool_schema("GlobalLpPool", 1, PoolKind::lp));
  registry.add(
      OpSchema{"", "MaxUnpool", 9, 2, 3, 1, 1, validate_max_unpool, infer_max_unpool, run_max_unpool});
}

}  // namespace sluice::ops::nn
