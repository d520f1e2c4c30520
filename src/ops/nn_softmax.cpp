// Softmax, LogSoftmax and Hardmax. Before opset 13 they work on the input coerced to 2-D at `axis`
// (default 1): rows are the product of the dims before the axis. From opset 13 they work along the one
// axis (default -1).
#include <algorithm>
#include <cmath>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

enum class SoftmaxKind { softmax, log_softmax, hardmax };

bool coerced_to_2d(const Node& node) { return node.opset_version < 13; }

int64_t softmax_axis(const Node& node, int64_t rank) {
  const int64_t fallback = coerced_to_2d(node) ? 1 : -1;
  return normalize_axis(node.attr_int("axis", fallback), rank, node);
}

void infer_softmax(InferContext& ctx) {
  check_floating(ctx, 0, "input");
  const auto& xs = ctx.input_shape(0);
  if (xs.rank_known()) softmax_axis(ctx.node, xs.rank());
  ctx.set_output(0, ctx.input_type(0), xs);
}

// The input seen as outer x extent x inner, the operation running along `extent`.
struct Lanes {
  int64_t outer = 1, extent = 1, inner = 1;
};

Lanes lanes_of(const Node& node, const Shape& shape) {
  const int64_t axis = softmax_axis(node, static_cast<int64_t>(shape.size()));
  Lanes lanes;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    const int64_t e = shape[static_cast<size_t>(d)];
    if (d < axis) {
      lanes.outer *= e;
    } else if (d == axis || coerced_to_2d(node)) {
      lanes.extent *= e;
    } else {
      lanes.inner *= e;
    }
  }
  return lanes;
}

template <class T> void softmax_lane(const T* x, T* y, int64_t extent, int64_t stride, SoftmaxKind kind) {
  using A = acc_t<T>;
  int64_t arg_max = 0;
  A max = widen(x[0]);
  for (int64_t i = 1; i < extent; ++i) {
    const A v = widen(x[i * stride]);
    if (v > max) {
      max = v;
      arg_max = i;
    }
  }
  if (kind == SoftmaxKind::hardmax) {
    for (int64_t i = 0; i < extent; ++i) y[i * stride] = narrow<T>(i == arg_max ? 1 : 0);
    return;
  }
  A sum = 0;
  for (int64_t i = 0; i < extent; ++i) sum += std::exp(widen(x[i * stride]) - max);
  const A log_sum = std::log(sum);
  for (int64_t i = 0; i < extent; ++i) {
    const A shifted = widen(x[i * stride]) - max;
    y[i * stride] = narrow<T>(kind == SoftmaxKind::softmax ? std::exp(shifted) / sum : shifted - log_sum);
  }
}

std::vector<Tensor> run_softmax(const Node& node, std::span<const Tensor> in, SoftmaxKind kind) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.rank() >= 1, where(node), "input is a scalar; expected rank >= 1");
  const Lanes lanes = lanes_of(node, x.shape());
  Tensor y(x.type(), x.shape());
  if (x.size() == 0) return {y};
  dispatch_floating(x.type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t o = 0; o < lanes.outer; ++o) {
      for (int64_t i = 0; i < lanes.inner; ++i) {
        const int64_t base = o * lanes.extent * lanes.inner + i;
        softmax_lane(src + base, dst + base, lanes.extent, lanes.inner, kind);
      }
    }
  });
  return {y};
}

void add_family(OpRegistry& registry, const char* op, SoftmaxKind kind) {
  const RefKernel kernel = [kind](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return run_softmax(node, in, kind);
  };
  registry.add(OpSchema{"", op, 1, 1, 1, 1, 1, nullptr, infer_softmax, kernel});
  registry.add(OpSchema{"", op, 13, 1, 1, 1, 1, nullptr, infer_softmax, kernel});
}

}  // namespace

void register_softmax_ops(OpRegistry& registry) {
  add_family(registry, "Softmax", SoftmaxKind::softmax);
  add_family(registry, "LogSoftmax", SoftmaxKind::log_softmax);
  add_family(registry, "Hardmax", SoftmaxKind::hardmax);
}

}  // namespace sluice::ops::nn
