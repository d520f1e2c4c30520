// Operators that generate or transform values along axes: Range, OneHot, EyeLike, Trilu, CumSum,
// ReverseSequence, Unique.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/tensor_common.hpp"

namespace sluice::ops::tensor {
namespace {

// ------------------------------------------------------------------------------------------------- Range

int64_t range_length_int(int64_t start, int64_t limit, int64_t delta) {
  const int64_t span = limit - start;
  if (delta > 0) return span > 0 ? (span - 1) / delta + 1 : 0;
  return span < 0 ? (-span - 1) / (-delta) + 1 : 0;
}

int64_t range_length(ElementType type, double start, double limit, double delta, const Node& node) {
  SLUICE_CHECK(delta != 0.0, where(node), "input 'delta' is 0");
  if (is_integer(type)) {
    return range_length_int(static_cast<int64_t>(start), static_cast<int64_t>(limit),
                            static_cast<int64_t>(delta));
  }
  const double n = std::ceil((limit - start) / delta);
  SLUICE_CHECK(std::isfinite(n), where(node), "the range from ", start, " to ", limit, " by ", delta,
               " has no finite length");
  return std::max<int64_t>(static_cast<int64_t>(n), 0);
}

void add_range(OpRegistry& registry) {
  OpSchema s = make_schema("Range", 11, 3, 3);
  s.infer = [](InferContext& ctx) {
    const ElementType type = ctx.input_type(0);
    for (size_t i = 1; i < 3; ++i) {
      const ElementType t = ctx.input_type(i);
      SLUICE_CHECK(type == ElementType::undefined || t == ElementType::undefined || t == type,
                   where(ctx.node),
                   "inputs 'start', 'limit' and 'delta' must have the same element type; got ",
                   to_string(type), " and ", to_string(t));
    }
    SLUICE_CHECK(type != ElementType::boolean, where(ctx.node), "Range does not take boolean inputs");
    const auto start = constant_doubles(ctx, 0);
    const auto limit = constant_doubles(ctx, 1);
    const auto delta = constant_doubles(ctx, 2);
    Dimension length = Dimension::dynamic();
    if (start && limit && delta && start->size() == 1 && limit->size() == 1 && delta->size() == 1) {
      if (is_integer(type)) {
        const auto s0 = to_int64s(*ctx.input_value(0))[0];
        const auto l0 = to_int64s(*ctx.input_value(1))[0];
        const auto d0 = to_int64s(*ctx.input_value(2))[0];
        SLUICE_CHECK(d0 != 0, where(ctx.node), "input 'delta' is 0");
        length = Dimension(range_length_int(s0, l0, d0));
      } else {
        length = Dimension(range_length(type, (*start)[0], (*limit)[0], (*delta)[0], ctx.node));
      }
    }
    ctx.set_output(0, type, PartialShape({length}));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const ElementType type = in[0].type();
    for (size_t i = 0; i < 3; ++i) {
      SLUICE_CHECK(in[i].type() == type && in[i].size() == 1, where(node),
                   "inputs 'start', 'limit' and 'delta' must be single values of one type; input ", i, " is ",
                   to_string(in[i].type()), " ", to_string(in[i].shape()));
    }
    Tensor out;
    dispatch_numeric(type, where(node) + "Range", [&](auto zero) {
      using T = decltype(zero);
      if constexpr (std::is_integral_v<T>) {
        const auto v = std::vector<int64_t>{to_int64s(in[0])[0], to_int64s(in[1])[0], to_int64s(in[2])[0]};
        SLUICE_CHECK(v[2] != 0, where(node), "input 'delta' is 0");
        const int64_t n = range_length_int(v[0], v[1], v[2]);
        out = Tensor(type, {n});
        T* dst = out.data<T>();
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(v[0] + i * v[2]);
      } else {
        const double start = element_as_double(in[0], 0);
        const double delta = element_as_double(in[2], 0);
        const int64_t n = range_length(type, start, element_as_double(in[1], 0), delta, node);
        out = Tensor(type, {n});
        T* dst = out.data<T>();
        for (int64_t i = 0; i < n; ++i)
          dst[i] = T(static_cast<compute_t<T>>(start + static_cast<double>(i) * delta));
      }
    });
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------ OneHot

int64_t onehot_depth(const Tensor& depth, const Node& node) {
  SLUICE_CHECK(depth.size() == 1 && depth.type() != ElementType::boolean, where(node),
               "input 'depth' must be one numeric value; got ", to_string(depth.type()), " ",
               to_string(depth.shape()));
  const double d = element_as_double(depth, 0);
  SLUICE_CHECK(d >= 1.0, where(node), "input 'depth' is ", d, "; expected a positive depth");
  return static_cast<int64_t>(d);
}

void add_onehot(OpRegistry& registry, int64_t since, bool negative_indices) {
  OpSchema s = make_schema("OneHot", since, 3, 3);
  s.infer = [](InferContext& ctx) {
    const PartialShape& indices = ctx.input_shape(0);
    const ElementType type = ctx.input_type(2);
    if (!indices.rank_known()) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    const int64_t rank = indices.rank() + 1;
    const auto axis = static_cast<size_t>(normalize_axis(ctx.node.attr_int("axis", -1), rank, ctx.node));
    std::vector<Dimension> out = indices.dims();
    Dimension depth = Dimension::dynamic();
    if (const Tensor* d = ctx.input_value(1)) depth = Dimension(onehot_depth(*d, ctx.node));
    out.insert(out.begin() + static_cast<int64_t>(axis), depth);
    ctx.set_output(0, type, PartialShape(out));
  };
  s.reference = [negative_indices](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& indices = in[0];
    SLUICE_CHECK(indices.type() != ElementType::boolean, where(node), "input 'indices' must be numeric");
    const int64_t depth = onehot_depth(in[1], node);
    const Tensor& values = in[2];
    SLUICE_CHECK(values.size() == 2, where(node), "input 'values' has shape ", to_string(values.shape()),
                 "; expected two values [off_value, on_value]");
    const auto axis =
        static_cast<size_t>(normalize_axis(node.attr_int("axis", -1), indices.rank() + 1, node));
    Shape out_shape = indices.shape();
    out_shape.insert(out_shape.begin() + static_cast<int64_t>(axis), depth);
    Tensor out(values.type(), out_shape);
    const int64_t outer = std::accumulate(out_shape.begin(), out_shape.begin() + static_cast<int64_t>(axis),
                                          int64_t{1}, std::multiplies<>());
    const int64_t inner = indices.size() / std::max<int64_t>(outer, 1);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t d = 0; d < depth; ++d) {
        for (int64_t i = 0; i < inner; ++i) {
          auto index = static_cast<int64_t>(element_as_double(indices, o * inner + i));
          if (negative_indices && index < 0 && index >= -depth) index += depth;
          copy_element(values, index == d ? 1 : 0, out, (o * depth + d) * inner + i);
        }
      }
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ----------------------------------------------------------------------------------------------- EyeLike

ElementType eyelike_type(const Node& node, ElementType input_type) {
  return node.has_attr("dtype") ? element_type_from_onnx_code(node.attr_int("dtype"), node, "dtype")
                                : input_type;
}

void add_eyelike(OpRegistry& registry) {
  OpSchema s = make_schema("EyeLike", 9, 1, 1);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    SLUICE_CHECK(!in.rank_known() || in.rank() == 2, where(ctx.node), "input has shape ", in.to_string(),
                 "; expected a 2-D tensor");
    ctx.set_output(0, eyelike_type(ctx.node, ctx.input_type(0)), in.rank_known() ? in : dynamic_shape(2));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    check_rank(in[0], 2, 2, node, "input");
    const ElementType type = eyelike_type(node, in[0].type());
    const int64_t k = node.attr_int("k", 0);
    const int64_t rows = in[0].shape()[0];
    const int64_t cols = in[0].shape()[1];
    Tensor out(type, in[0].shape());
    const Tensor one = scalar_of_type(type, 1.0);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t c = r + k;
      if (c >= 0 && c < cols) copy_element(one, 0, out, r * cols + c);
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------- Trilu

void add_trilu(OpRegistry& registry) {
  OpSchema s = make_schema("Trilu", 14, 1, 2);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    SLUICE_CHECK(!in.rank_known() || in.rank() >= 2, where(ctx.node), "input has shape ", in.to_string(),
                 "; expected rank >= 2");
    if (ctx.has_input(1)) check_integer_input(ctx.input_type(1), ctx.node, "k");
    infer_same_as_input(ctx);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    check_rank(x, 2, INT64_MAX, node, "input");
    const int64_t k = in.size() > 1 && !in[1].empty() ? kernel_scalar_int(in[1], node, "k") : 0;
    const bool upper = node.attr_int("upper", 1) != 0;
    const int64_t rows = x.shape()[x.shape().size() - 2];
    const int64_t cols = x.shape().back();
    Tensor out(x.type(), x.shape());  // zero-filled
    for (int64_t m = 0; m < x.size() / std::max<int64_t>(rows * cols, 1); ++m) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) {
          const bool keep = upper ? c - r >= k : c - r <= k;
          const int64_t i = (m * rows + r) * cols + c;
          if (keep) copy_element(x, i, out, i);
        }
      }
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------ CumSum

void add_cumsum(OpRegistry& registry) {
  OpSchema s = make_schema("CumSum", 11, 2, 2);
  s.infer = [](InferContext& ctx) {
    check_integer_input(ctx.input_type(1), ctx.node, "axis");
    infer_same_as_input(ctx);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    SLUICE_CHECK(x.rank() >= 1, where(node), "input 'x' must have rank >= 1");
    const auto axis =
        static_cast<size_t>(normalize_axis(kernel_scalar_int(in[1], node, "axis"), x.rank(), node));
    const bool exclusive = node.attr_int("exclusive", 0) != 0;
    const bool reverse = node.attr_int("reverse", 0) != 0;
    const Shape& shape = x.shape();
    int64_t outer = 1;
    for (size_t d = 0; d < axis; ++d) outer *= shape[d];
    const int64_t extent = shape[axis];
    int64_t inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    Tensor out(x.type(), shape);
    dispatch_numeric(x.type(), where(node) + "input 'x'", [&](auto zero) {
      using T = decltype(zero);
      using C = compute_t<T>;
      const T* src = x.data<T>();
      T* dst = out.data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          C sum = C(0);
          for (int64_t step = 0; step < extent; ++step) {
            const int64_t j = reverse ? extent - 1 - step : step;
            const int64_t at = (o * extent + j) * inner + i;
            const C value = static_cast<C>(src[at]);
            if (!exclusive) sum = static_cast<C>(sum + value);
            dst[at] = T(sum);
            if (exclusive) sum = static_cast<C>(sum + value);
          }
        }
      }
    });
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// --------------------------------------------------------------------------------------- ReverseSequence

std::pair<size_t, size_t> reverse_sequence_axes(const Node& node) {
  const int64_t batch = node.attr_int("batch_axis", 1);
  const int64_t time = node.attr_int("time_axis", 0);
  SLUICE_CHECK((batch == 0 || batch == 1) && (time == 0 || time == 1) && batch != time, where(node),
               "attributes 'batch_axis' (", batch, ") and 'time_axis' (", time,
               ") must be 0 and 1 in some order");
  return {static_cast<size_t>(batch), static_cast<size_t>(time)};
}

void add_reverse_sequence(OpRegistry& registry) {
  OpSchema s = make_schema("ReverseSequence", 10, 2, 2);
  s.validate = [](const Node& node) { reverse_sequence_axes(node); };
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    SLUICE_CHECK(!in.rank_known() || in.rank() >= 2, where(ctx.node), "input has shape ", in.to_string(),
                 "; expected rank >= 2");
    check_integer_input(ctx.input_type(1), ctx.node, "sequence_lens");
    infer_same_as_input(ctx);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    check_rank(x, 2, INT64_MAX, node, "input");
    const auto [batch_axis, time_axis] = reverse_sequence_axes(node);
    const int64_t batches = x.shape()[batch_axis];
    const int64_t steps = x.shape()[time_axis];
    const auto lens = kernel_ints(in[1], node, "sequence_lens");
    SLUICE_CHECK(static_cast<int64_t>(lens.size()) == batches, where(node), "input 'sequence_lens' has ",
                 lens.size(), " entries; expected one per batch entry (", batches, ")");
    for (int64_t len : lens) {
      SLUICE_CHECK(len >= 0 && len <= steps, where(node), "input 'sequence_lens' holds ", len,
                   "; expected 0 to the time extent ", steps);
    }
    Tensor out(x.type(), x.shape());
    const auto strides = strides_of(x.shape());
    std::vector<int64_t> index(x.shape().size(), 0);
    for (int64_t o = 0; o < x.size(); ++o) {
      const int64_t b = index[batch_axis];
      const int64_t t = index[time_axis];
      const int64_t len = lens[static_cast<size_t>(b)];
      const int64_t source_t = t < len ? len - 1 - t : t;
      copy_element(x, o + (source_t - t) * strides[time_axis], out, o);
      next_index(index, x.shape());
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------ Unique

// Three-way comparison that orders NaN after every number and equal to itself, so sorting is well defined.
template <class C> int compare_values(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    const bool na = std::isnan(a);
    const bool nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
  }
  return a < b ? -1 : (b < a ? 1 : 0);
}

// The groups of equal slices along axis 0 of `x` viewed as [n, slice]: for each slice its group, and for
// each group its first slice and size, groups ordered ascending (sorted) or by first occurrence.
struct UniqueGroups {
  std::vector<int64_t> first;
  std::vector<int64_t> counts;
  std::vector<int64_t> inverse;
};

template <class T> UniqueGroups unique_groups(const Tensor& x, int64_t n, int64_t slice, bool sorted) {
  using C = std::conditional_t<std::is_same_v<T, bool>, bool, compute_t<T>>;
  const T* data = x.data<T>();
  auto compare = [&](int64_t a, int64_t b) {
    for (int64_t j = 0; j < slice; ++j) {
      const int c =
          compare_values<C>(static_cast<C>(data[a * slice + j]), static_cast<C>(data[b * slice + j]));
      if (c != 0) return c;
    }
    return 0;
  };
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
  UniqueGroups g;
  g.inverse.assign(static_cast<size_t>(n), 0);
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || compare(order[i - 1], order[i]) != 0) {
      g.first.push_back(order[i]);
      g.counts.push_back(0);
    }
    g.counts.back() += 1;
    g.inverse[static_cast<size_t>(order[i])] = static_cast<int64_t>(g.first.size()) - 1;
  }
  if (!sorted) {
    std::vector<int64_t> by_first(g.first.size());
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(),
              [&](int64_t a, int64_t b) { return g.first[a] < g.first[b]; });
    std::vector<int64_t> rank(by_first.size());
    for (size_t i = 0; i < by_first.size(); ++i)
      rank[static_cast<size_t>(by_first[i])] = static_cast<int64_t>(i);
    UniqueGroups r;
    for (int64_t group : by_first) {
      r.first.push_back(g.first[static_cast<size_t>(group)]);
      r.counts.push_back(g.counts[static_cast<size_t>(group)]);
    }
    for (int64_t group : g.inverse) r.inverse.push_back(rank[static_cast<size_t>(group)]);
    return r;
  }
  return g;
}

Tensor int64_vector(const std::vector<int64_t>& values) {
  return Tensor::from<int64_t>({static_cast<int64_t>(values.size())}, std::span<const int64_t>(values));
}

void add_unique(OpRegistry& registry) {
  OpSchema s = make_schema("Unique", 11, 1, 1, 1, 4);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    Dimension slices = Dimension::dynamic();
    if (!ctx.node.has_attr("axis")) {
      ctx.set_output(0, type, dynamic_shape(1));
      if (in.rank_known()) slices = product_of_dims(in.dims(), 0, in.dims().size());
    } else if (in.rank_known()) {
      const auto axis = static_cast<size_t>(normalize_axis(ctx.node.attr_int("axis"), in.rank(), ctx.node));
      PartialShape out = in;
      out[axis] = Dimension::dynamic();
      ctx.set_output(0, type, out);
      slices = in[axis];
    } else {
      ctx.set_output(0, type, PartialShape());
    }
    ctx.set_output(1, ElementType::i64, dynamic_shape(1));
    ctx.set_output(2, ElementType::i64, PartialShape({slices}));
    ctx.set_output(3, ElementType::i64, dynamic_shape(1));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const bool has_axis = node.has_attr("axis");
    const Tensor x = has_axis ? in[0] : in[0].reshaped({in[0].size()});
    SLUICE_CHECK(x.rank() >= 1, where(node), "input 'X' must have rank >= 1 when 'axis' is given");
    const auto axis =
        has_axis ? static_cast<size_t>(normalize_axis(node.attr_int("axis"), x.rank(), node)) : 0;
    // Move the axis to the front so that each slice is contiguous.
    std::vector<int64_t> perm{static_cast<int64_t>(axis)};
    for (size_t d = 0; d < x.shape().size(); ++d) {
      if (d != axis) perm.push_back(static_cast<int64_t>(d));
    }
    Shape front_shape;
    for (int64_t p : perm) front_shape.push_back(x.shape()[static_cast<size_t>(p)]);
    Tensor front(x.type(), front_shape);
    {
      const auto strides = strides_of(x.shape());
      std::vector<int64_t> index(front_shape.size(), 0);
      for (int64_t o = 0; o < front.size(); ++o) {
        int64_t offset = 0;
        for (size_t d = 0; d < perm.size(); ++d) offset += index[d] * strides[static_cast<size_t>(perm[d])];
        copy_element(x, offset, front, o);
        next_index(index, front_shape);
      }
    }
    const int64_t n = x.shape()[axis];
    const int64_t slice = n ? front.size() / n : 0;
    const bool sorted = node.attr_int("sorted", 1) != 0;
    const UniqueGroups g = dispatch_all(
        x.type(), [&](auto zero) { return unique_groups<decltype(zero)>(front, n, slice, sorted); });
    Shape y_shape = x.shape();
    y_shape[axis] = static_cast<int64_t>(g.first.size());
    std::vector<std::vector<int64_t>> maps(y_shape.size());
    for (size_t d = 0; d < maps.size(); ++d) {
      if (d == axis) {
        maps[d] = g.first;
      } else {
        for (int64_t i = 0; i < y_shape[d]; ++i) maps[d].push_back(i);
      }
    }
    std::vector<Tensor> outs{gather_by_axis_maps(x, y_shape, maps), int64_vector(g.first),
                             int64_vector(g.inverse), int64_vector(g.counts)};
    outs.resize(node.outputs.size());
    return outs;
  };
  registry.add(std::move(s));
}

}  // namespace

void register_generator_ops(OpRegistry& registry) {
  add_range(registry);
  add_onehot(registry, 9, false);
  add_onehot(registry, 11, true);
  add_eyelike(registry);
  add_trilu(registry);
  add_cumsum(registry);
  add_reverse_sequence(registry);
  add_unique(registry);
}

}  // namespace sluice::ops::tensor
