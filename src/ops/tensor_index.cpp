// Index-driven operators: Gather, GatherElements, GatherND, Scatter, ScatterElements, ScatterND, Compress,
// NonZero.
#include <algorithm>

#include "ops/tensor_common.hpp"

namespace sluice::ops::tensor {
namespace {

// An index into an axis of `extent`, negative counting from the end; throws naming the node when out of
// range.
int64_t checked_index(int64_t index, int64_t extent, const Node& node, const std::string& what) {
  SLUICE_CHECK(index >= -extent && index < extent, where(node), what, " holds index ", index,
               ", out of range for an axis of extent ", extent);
  return index < 0 ? index + extent : index;
}

// ------------------------------------------------------------------------------------------------ Gather

void add_gather(OpRegistry& registry) {
  OpSchema s = make_schema("Gather", 1, 2, 2);
  s.infer = [](InferContext& ctx) {
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& indices = ctx.input_shape(1);
    check_integer_input(ctx.input_type(1), ctx.node, "indices");
    if (!data.rank_known() || !indices.rank_known()) {
      ctx.set_output(0, ctx.input_type(0), PartialShape());
      return;
    }
    SLUICE_CHECK(data.rank() >= 1, where(ctx.node), "input 'data' must have rank >= 1");
    const auto axis =
        static_cast<size_t>(normalize_axis(ctx.node.attr_int("axis", 0), data.rank(), ctx.node));
    std::vector<Dimension> out(data.dims().begin(), data.dims().begin() + static_cast<int64_t>(axis));
    out.insert(out.end(), indices.dims().begin(), indices.dims().end());
    out.insert(out.end(), data.dims().begin() + static_cast<int64_t>(axis) + 1, data.dims().end());
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& data = in[0];
    SLUICE_CHECK(data.rank() >= 1, where(node), "input 'data' must have rank >= 1");
    const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis", 0), data.rank(), node));
    const auto indices = kernel_ints(in[1], node, "indices");
    const Shape& shape = data.shape();
    Shape out_shape(shape.begin(), shape.begin() + static_cast<int64_t>(axis));
    out_shape.insert(out_shape.end(), in[1].shape().begin(), in[1].shape().end());
    out_shape.insert(out_shape.end(), shape.begin() + static_cast<int64_t>(axis) + 1, shape.end());
    Tensor out(data.type(), out_shape);
    const int64_t outer = product(shape, 0, axis);
    const int64_t extent = shape[axis];
    const int64_t inner = product(shape, axis + 1, shape.size());
    const size_t chunk = static_cast<size_t>(inner) * element_size(data.type());
    const auto* src = static_cast<const char*>(data.data());
    auto* dst = static_cast<char*>(out.data());
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t index : indices) {
        const int64_t i = checked_index(index, extent, node, "input 'indices'");
        if (chunk) std::memcpy(dst, src + (o * extent + i) * static_cast<int64_t>(chunk), chunk);
        dst += chunk;
      }
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ---------------------------------------------------------------------------------------- GatherElements

// The data element read by (or written by, for scatters) each element of an index tensor of `index_shape`
// along `axis` of a tensor of `data_shape`.
std::vector<int64_t> element_targets(const Shape& data_shape, const Shape& index_shape,
                                     const std::vector<int64_t>& indices, size_t axis, const Node& node) {
  SLUICE_CHECK(data_shape.size() == index_shape.size(), where(node), "input 'indices' has shape ",
               to_string(index_shape), "; expected the rank of 'data' ", to_string(data_shape));
  for (size_t d = 0; d < data_shape.size(); ++d) {
    SLUICE_CHECK(d == axis || index_shape[d] <= data_shape[d], where(node), "input 'indices' has shape ",
                 to_string(index_shape), ", larger than 'data' ", to_string(data_shape), " on axis ", d);
  }
  const auto strides = strides_of(data_shape);
  std::vector<int64_t> targets(indices.size());
  std::vector<int64_t> index(index_shape.size(), 0);
  for (size_t n = 0; n < indices.size(); ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d) {
      const int64_t i =
          d == axis ? checked_index(indices[n], data_shape[d], node, "input 'indices'") : index[d];
      offset += i * strides[d];
    }
    targets[n] = offset;
    next_index(index, index_shape);
  }
  return targets;
}

void infer_same_rank_indices(InferContext& ctx, size_t shape_input) {
  check_integer_input(ctx.input_type(1), ctx.node, "indices");
  const PartialShape& data = ctx.input_shape(0);
  const PartialShape& indices = ctx.input_shape(1);
  if (data.rank_known() && indices.rank_known()) {
    SLUICE_CHECK(data.rank() == indices.rank(), where(ctx.node), "input 'indices' has rank ", indices.rank(),
                 "; expected the rank of 'data', ", data.rank());
    normalize_axis(ctx.node.attr_int("axis", 0), data.rank(), ctx.node);
  }
  ctx.set_output(0, ctx.input_type(0), ctx.input_shape(shape_input));
}

void add_gather_elements(OpRegistry& registry) {
  OpSchema s = make_schema("GatherElements", 11, 2, 2);
  s.infer = [](InferContext& ctx) { infer_same_rank_indices(ctx, 1); };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& data = in[0];
    SLUICE_CHECK(data.rank() >= 1, where(node), "input 'data' must have rank >= 1");
    const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis", 0), data.rank(), node));
    const auto targets =
        element_targets(data.shape(), in[1].shape(), kernel_ints(in[1], node, "indices"), axis, node);
    Tensor out(data.type(), in[1].shape());
    for (size_t n = 0; n < targets.size(); ++n) copy_element(data, targets[n], out, static_cast<int64_t>(n));
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ---------------------------------------------------------------------------------------------- GatherND

// The flat offsets into data of the slices named by GatherND/ScatterND indices: one offset per index
// tuple, each the start of a contiguous slice of `slice_size` elements.
struct NdTargets {
  std::vector<int64_t> offsets;
  int64_t slice_size = 1;
};

NdTargets nd_targets(const Shape& data_shape, const Tensor& indices_tensor, int64_t batch_dims,
                     const Node& node) {
  const Shape& ishape = indices_tensor.shape();
  const auto r = static_cast<int64_t>(data_shape.size());
  const auto q = static_cast<int64_t>(ishape.size());
  SLUICE_CHECK(q >= 1 && r >= 1, where(node), "inputs 'data' and 'indices' must have rank >= 1");
  SLUICE_CHECK(batch_dims >= 0 && batch_dims < std::min(q, r), where(node), "attribute 'batch_dims' is ",
               batch_dims, "; expected 0 to ", std::min(q, r) - 1);
  const int64_t k = ishape.back();
  SLUICE_CHECK(k >= 1 && k <= r - batch_dims, where(node), "the last dimension of 'indices' is ", k,
               "; expected 1 to ", r - batch_dims, " (rank of 'data' minus batch_dims)");
  for (int64_t d = 0; d < batch_dims; ++d) {
    SLUICE_CHECK(ishape[static_cast<size_t>(d)] == data_shape[static_cast<size_t>(d)], where(node),
                 "batch dimension ", d, " differs: 'data' ", to_string(data_shape), ", 'indices' ",
                 to_string(ishape));
  }
  const auto b = static_cast<size_t>(batch_dims);
  const auto kk = static_cast<size_t>(k);
  NdTargets t;
  t.slice_size = product(data_shape, b + kk, data_shape.size());
  const int64_t batch_size = product(data_shape, b, data_shape.size());  // data elements per batch entry
  const int64_t tuples_per_batch = product(ishape, b, ishape.size() - 1);
  const auto strides = strides_of(data_shape);
  const auto indices = kernel_ints(indices_tensor, node, "indices");
  const int64_t tuples = static_cast<int64_t>(indices.size()) / k;
  for (int64_t n = 0; n < tuples; ++n) {
    int64_t offset = (tuples_per_batch ? n / tuples_per_batch : 0) * batch_size;
    for (size_t j = 0; j < kk; ++j) {
      const int64_t extent = data_shape[b + j];
      offset += checked_index(indices[static_cast<size_t>(n * k) + j], extent, node, "input 'indices'") *
                strides[b + j];
    }
    t.offsets.push_back(offset);
  }
  return t;
}

void add_gather_nd(OpRegistry& registry, int64_t since, bool has_batch_dims) {
  OpSchema s = make_schema("GatherND", since, 2, 2);
  s.infer = [has_batch_dims](InferContext& ctx) {
    check_integer_input(ctx.input_type(1), ctx.node, "indices");
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& indices = ctx.input_shape(1);
    const int64_t b = has_batch_dims ? ctx.node.attr_int("batch_dims", 0) : 0;
    if (!data.rank_known() || !indices.rank_known() || indices.rank() == 0 ||
        indices.dims().back().is_dynamic()) {
      ctx.set_output(0, ctx.input_type(0), PartialShape());
      return;
    }
    const int64_t k = indices.dims().back().extent();
    SLUICE_CHECK(k >= 1 && b >= 0 && k + b <= data.rank(), where(ctx.node),
                 "the last dimension of 'indices' is ", k, " with batch_dims ", b,
                 "; expected k + batch_dims <= rank of 'data' (", data.rank(), ")");
    std::vector<Dimension> out(indices.dims().begin(), indices.dims().end() - 1);
    for (int64_t d = 0; d < b && d < static_cast<int64_t>(out.size()); ++d) {
      out[static_cast<size_t>(d)] = merge_dims(out[static_cast<size_t>(d)], data[static_cast<size_t>(d)],
                                               ctx.node, "batch dimension " + std::to_string(d));
    }
    out.insert(out.end(), data.dims().begin() + b + k, data.dims().end());
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
  };
  s.reference = [has_batch_dims](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& data = in[0];
    const int64_t b = has_batch_dims ? node.attr_int("batch_dims", 0) : 0;
    const NdTargets t = nd_targets(data.shape(), in[1], b, node);
    const Shape& ishape = in[1].shape();
    Shape out_shape(ishape.begin(), ishape.end() - 1);
    const auto first_sliced = static_cast<int64_t>(b + ishape.back());
    out_shape.insert(out_shape.end(), data.shape().begin() + first_sliced, data.shape().end());
    Tensor out(data.type(), out_shape);
    int64_t o = 0;
    for (int64_t offset : t.offsets) {
      for (int64_t j = 0; j < t.slice_size; ++j) copy_element(data, offset + j, out, o++);
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// --------------------------------------------------------------------------------------------- Scatters

enum class Reduction { none, add, mul, max, min };

// The reductions a version accepts: none only (v11), + add/mul (v16), + max/min (v18).
Reduction scatter_reduction(const Node& node, int level) {
  const std::string r = node.attr_string("reduction", "none");
  if (r == "none") return Reduction::none;
  if (level >= 1 && r == "add") return Reduction::add;
  if (level >= 1 && r == "mul") return Reduction::mul;
  if (level >= 2 && r == "max") return Reduction::max;
  if (level >= 2 && r == "min") return Reduction::min;
  throw_error(where(node), "attribute 'reduction' is '", r, "'; expected ",
              level == 0   ? "none (reductions need opset 16)"
              : level == 1 ? "none, add or mul (max and min need opset 18)"
                           : "none, add, mul, max or min");
}

template <class T> T reduce(T a, T b, Reduction r) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (r) {
      case Reduction::add:
      case Reduction::max: return a || b;
      case Reduction::mul:
      case Reduction::min: return a && b;
      default: return b;
    }
  } else {
    using C = compute_t<T>;
    const C x = static_cast<C>(a);
    const C y = static_cast<C>(b);
    switch (r) {
      case Reduction::add: return T(static_cast<C>(x + y));
      case Reduction::mul: return T(static_cast<C>(x * y));
      case Reduction::max: return T(std::max(x, y));
      case Reduction::min: return T(std::min(x, y));
      default: return b;
    }
  }
}

// out[dst[n]] = reduce(out[dst[n]], updates[src[n]]) in order, on a copy of data.
Tensor scatter(const Tensor& data, const Tensor& updates,
               const std::vector<std::pair<int64_t, int64_t>>& writes, Reduction r, const Node& node) {
  SLUICE_CHECK(updates.type() == data.type(), where(node), "input 'updates' has element type ",
               to_string(updates.type()), "; expected ", to_string(data.type()), " like 'data'");
  Tensor out = data.clone();
  dispatch_all(data.type(), [&](auto zero) {
    using T = decltype(zero);
    T* dst = out.data<T>();
    const T* src = updates.data<T>();
    for (const auto& [d, u] : writes) dst[d] = reduce(dst[d], src[u], r);
  });
  return out;
}

void add_scatter_elements(OpRegistry& registry, const std::string& op_type, int64_t since, int level) {
  OpSchema s = make_schema(op_type, since, 3, 3);
  s.validate = [level](const Node& node) { scatter_reduction(node, level); };
  s.infer = [](InferContext& ctx) {
    infer_same_rank_indices(ctx, 0);
    const PartialShape& indices = ctx.input_shape(1);
    const PartialShape& updates = ctx.input_shape(2);
    if (indices.rank_known() && updates.rank_known()) {
      SLUICE_CHECK(indices.rank() == updates.rank(), where(ctx.node), "inputs 'indices' ",
                   indices.to_string(), " and 'updates' ", updates.to_string(), " must have the same shape");
      for (size_t d = 0; d < indices.dims().size(); ++d)
        merge_dims(indices[d], updates[d], ctx.node, "'updates'");
    }
  };
  s.reference = [level](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& data = in[0];
    SLUICE_CHECK(data.rank() >= 1, where(node), "input 'data' must have rank >= 1");
    SLUICE_CHECK(in[1].shape() == in[2].shape(), where(node), "inputs 'indices' ", to_string(in[1].shape()),
                 " and 'updates' ", to_string(in[2].shape()), " must have the same shape");
    const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis", 0), data.rank(), node));
    const auto targets =
        element_targets(data.shape(), in[1].shape(), kernel_ints(in[1], node, "indices"), axis, node);
    std::vector<std::pair<int64_t, int64_t>> writes;
    for (size_t n = 0; n < targets.size(); ++n) writes.emplace_back(targets[n], static_cast<int64_t>(n));
    return std::vector<Tensor>{scatter(data, in[2], writes, scatter_reduction(node, level), node)};
  };
  registry.add(std::move(s));
}

void add_scatter_nd(OpRegistry& registry, int64_t since, int level) {
  OpSchema s = make_schema("ScatterND", since, 3, 3);
  s.validate = [level](const Node& node) { scatter_reduction(node, level); };
  s.infer = [](InferContext& ctx) {
    check_integer_input(ctx.input_type(1), ctx.node, "indices");
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
  };
  s.reference = [level](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& data = in[0];
    const NdTargets t = nd_targets(data.shape(), in[1], 0, node);
    const Shape& ishape = in[1].shape();
    Shape expected(ishape.begin(), ishape.end() - 1);
    expected.insert(expected.end(), data.shape().begin() + ishape.back(), data.shape().end());
    SLUICE_CHECK(in[2].shape() == expected, where(node), "input 'updates' has shape ",
                 to_string(in[2].shape()),
                 "; expected indices.shape[:-1] + data.shape[k:] = ", to_string(expected));
    std::vector<std::pair<int64_t, int64_t>> writes;
    int64_t u = 0;
    for (int64_t offset : t.offsets) {
      for (int64_t j = 0; j < t.slice_size; ++j) writes.emplace_back(offset + j, u++);
    }
    return std::vector<Tensor>{scatter(data, in[2], writes, scatter_reduction(node, level), node)};
  };
  registry.add(std::move(s));
}

// ---------------------------------------------------------------------------------------------- Compress

void add_compress(OpRegistry& registry) {
  OpSchema s = make_schema("Compress", 9, 2, 2);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType cond_type = ctx.input_type(1);
    SLUICE_CHECK(cond_type == ElementType::undefined || cond_type == ElementType::boolean, where(ctx.node),
                 "input 'condition' has element type ", to_string(cond_type), "; expected boolean");
    const Tensor* cond = ctx.input_value(1);
    Dimension selected = Dimension::dynamic();
    if (!ctx.node.has_attr("axis")) {
      if (cond && cond->type() == ElementType::boolean) {
        const auto values = cond->values<bool>();
        selected = Dimension(std::count(values.begin(), values.end(), true));
      }
      ctx.set_output(0, ctx.input_type(0), PartialShape({selected}));
      return;
    }
    if (!in.rank_known()) {
      ctx.set_output(0, ctx.input_type(0), PartialShape());
      return;
    }
    const auto axis = static_cast<size_t>(normalize_axis(ctx.node.attr_int("axis"), in.rank(), ctx.node));
    PartialShape out = in;
    if (cond && cond->type() == ElementType::boolean && in[axis].is_static()) {
      const auto values = cond->values<bool>();
      const auto n = std::min<int64_t>(in[axis].extent(), static_cast<int64_t>(values.size()));
      selected = Dimension(std::count(values.begin(), values.begin() + n, true));
    }
    out[axis] = selected;
    ctx.set_output(0, ctx.input_type(0), out);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const bool has_axis = node.has_attr("axis");
    const Tensor x = has_axis ? in[0] : in[0].reshaped({in[0].size()});
    const Tensor& cond = in[1];
    SLUICE_CHECK(cond.type() == ElementType::boolean && cond.rank() == 1, where(node),
                 "input 'condition' must be a 1-D boolean tensor; got ", to_string(cond.type()), " ",
                 to_string(cond.shape()));
    SLUICE_CHECK(x.rank() >= 1, where(node), "input 'input' must have rank >= 1 when 'axis' is given");
    const auto axis =
        has_axis ? static_cast<size_t>(normalize_axis(node.attr_int("axis"), x.rank(), node)) : 0;
    const auto values = cond.values<bool>();
    const int64_t extent = x.shape()[axis];
    for (size_t i = static_cast<size_t>(extent); i < values.size(); ++i) {
      SLUICE_CHECK(!values[i], where(node), "input 'condition' selects index ", i, ", beyond the extent ",
                   extent, " of the compressed axis");
    }
    std::vector<std::vector<int64_t>> maps(x.shape().size());
    Shape out_shape = x.shape();
    for (size_t d = 0; d < maps.size(); ++d) {
      for (int64_t i = 0; i < x.shape()[d]; ++i) {
        const bool selected = static_cast<size_t>(i) < values.size() && values[static_cast<size_t>(i)];
        if (d != axis || selected) maps[d].push_back(i);
      }
      out_shape[d] = static_cast<int64_t>(maps[d].size());
    }
    return std::vector<Tensor>{gather_by_axis_maps(x, out_shape, maps)};
  };
  registry.add(std::move(s));
}

// ----------------------------------------------------------------------------------------------- NonZero

void add_nonzero(OpRegistry& registry) {
  OpSchema s = make_schema("NonZero", 9, 1, 1);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    ctx.set_output(
        0, ElementType::i64,
        PartialShape({in.rank_known() ? Dimension(in.rank()) : Dimension::dynamic(), Dimension::dynamic()}));
  };
  s.reference = [](const Node&, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    const Shape& shape = x.shape();
    std::vector<std::vector<int64_t>> coords(shape.size());
    std::vector<int64_t> index(shape.size(), 0);
    int64_t count = 0;
    for (int64_t i = 0; i < x.size(); ++i) {
      if (element_as_double(x, i) != 0.0) {
        for (size_t d = 0; d < shape.size(); ++d) coords[d].push_back(index[d]);
        ++count;
      }
      next_index(index, shape);
    }
    Tensor out(ElementType::i64, {static_cast<int64_t>(shape.size()), count});
    int64_t* dst = out.data<int64_t>();
    for (const auto& row : coords) dst = std::copy(row.begin(), row.end(), dst);
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

}  // namespace

void register_index_ops(OpRegistry& registry) {
  add_gather(registry);
  add_gather_elements(registry);
  add_gather_nd(registry, 11, false);
  add_gather_nd(registry, 12, true);
  add_scatter_elements(registry, "Scatter", 9, 0);
  add_scatter_elements(registry, "ScatterElements", 11, 0);
  add_scatter_elements(registry, "ScatterElements", 16, 1);
  add_scatter_elements(registry, "ScatterElements", 18, 2);
  add_scatter_nd(registry, 11, 0);
  add_scatter_nd(registry, 16, 1);
  add_scatter_nd(registry, 18, 2);
  add_compress(registry);
  add_nonzero(registry);
}

}  // namespace sluice::ops::tensor
