// Operators that rearrange elements: Transpose, Concat, Split, Slice, Tile.
#include <algorithm>
#include <climits>

#include "ops/tensor_common.hpp"

namespace sluice::ops::tensor {
namespace {

// --------------------------------------------------------------------------------------------- Transpose

std::vector<int64_t> transpose_perm(const Node& node, int64_t rank) {
  if (!node.has_attr("perm")) {
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d) perm[static_cast<size_t>(d)] = rank - 1 - d;
    return perm;
  }
  auto perm = node.attr_ints("perm");
  SLUICE_CHECK(static_cast<int64_t>(perm.size()) == rank, where(node), "attribute 'perm' has ", perm.size(),
               " entries; the input has rank ", rank);
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t p : perm) {
    SLUICE_CHECK(p >= 0 && p < rank && !seen[static_cast<size_t>(p)], where(node),
                 "attribute 'perm' is not a permutation of 0..", rank - 1);
    seen[static_cast<size_t>(p)] = true;
  }
  return perm;
}

Tensor transpose(const Tensor& in, const std::vector<int64_t>& perm) {
  Shape out_shape(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) out_shape[d] = in.shape()[static_cast<size_t>(perm[d])];
  Tensor out(in.type(), out_shape);
  const auto in_strides = strides_of(in.shape());
  std::vector<int64_t> index(perm.size(), 0);
  for (int64_t o = 0; o < out.size(); ++o) {
    int64_t offset = 0;
    for (size_t d = 0; d < perm.size(); ++d) offset += index[d] * in_strides[static_cast<size_t>(perm[d])];
    copy_element(in, offset, out, o);
    next_index(index, out_shape);
  }
  return out;
}

void add_transpose(OpRegistry& registry) {
  OpSchema s = make_schema("Transpose", 1, 1, 1);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    if (!in.rank_known()) {
      const int64_t rank =
          ctx.node.has_attr("perm") ? static_cast<int64_t>(ctx.node.attr_ints("perm").size()) : -1;
      ctx.set_output(0, ctx.input_type(0), rank >= 0 ? dynamic_shape(rank) : PartialShape());
      return;
    }
    const auto perm = transpose_perm(ctx.node, in.rank());
    std::vector<Dimension> out;
    out.reserve(perm.size());
    for (int64_t p : perm) out.push_back(in[static_cast<size_t>(p)]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return std::vector<Tensor>{transpose(in[0], transpose_perm(node, in[0].rank()))};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------ Concat

int64_t concat_axis(const Node& node, int64_t rank, bool axis_optional) {
  const int64_t axis = axis_optional ? node.attr_int("axis", 1) : node.attr_int("axis");
  return normalize_axis(axis, rank, node);
}

void add_concat(OpRegistry& registry, int64_t since, bool axis_optional) {
  OpSchema s = make_schema("Concat", since, 1, -1);
  s.validate = [axis_optional](const Node& node) {
    if (!axis_optional) node.attr_int("axis");
  };
  s.infer = [axis_optional](InferContext& ctx) {
    ElementType type = ElementType::undefined;
    int64_t rank = -1;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const ElementType t = ctx.input_type(i);
      SLUICE_CHECK(type == ElementType::undefined || t == ElementType::undefined || t == type,
                   where(ctx.node), "input ", i, " has element type ", to_string(t), "; input 0 has ",
                   to_string(type));
      if (t != ElementType::undefined) type = t;
      const PartialShape& shape = ctx.input_shape(i);
      if (!shape.rank_known()) continue;
      SLUICE_CHECK(rank < 0 || shape.rank() == rank, where(ctx.node), "input ", i, " has rank ", shape.rank(),
                   "; the other inputs have rank ", rank);
      rank = shape.rank();
    }
    if (rank < 0) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    SLUICE_CHECK(rank > 0, where(ctx.node), "cannot concatenate scalars");
    const auto axis = static_cast<size_t>(concat_axis(ctx.node, rank, axis_optional));
    PartialShape out = dynamic_shape(rank);
    int64_t total = 0;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const PartialShape& shape = ctx.input_shape(i);
      if (!shape.rank_known()) {
        total = -1;
        continue;
      }
      for (size_t d = 0; d < static_cast<size_t>(rank); ++d) {
        if (d == axis) continue;
        out[d] = merge_dims(out[d], shape[d], ctx.node,
                            "input " + std::to_string(i) + " axis " + std::to_string(d));
      }
      if (total >= 0 && shape[axis].is_static()) {
        total += shape[axis].extent();
      } else {
        total = -1;
      }
    }
    if (total >= 0) out[axis] = Dimension(total);
    ctx.set_output(0, type, out);
  };
  s.reference = [axis_optional](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& first = in[0];
    SLUICE_CHECK(first.rank() > 0, where(node), "cannot concatenate scalars");
    const auto axis = static_cast<size_t>(concat_axis(node, first.rank(), axis_optional));
    Shape out_shape = first.shape();
    out_shape[axis] = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      SLUICE_CHECK(in[i].type() == first.type(), where(node), "input ", i, " has element type ",
                   to_string(in[i].type()), "; input 0 has ", to_string(first.type()));
      SLUICE_CHECK(in[i].rank() == first.rank(), where(node), "input ", i, " has shape ",
                   to_string(in[i].shape()), "; input 0 has ", to_string(first.shape()));
      for (size_t d = 0; d < out_shape.size(); ++d) {
        SLUICE_CHECK(d == axis || in[i].shape()[d] == first.shape()[d], where(node), "input ", i,
                     " has shape ", to_string(in[i].shape()), "; input 0 has ", to_string(first.shape()),
                     " (only axis ", axis, " may differ)");
      }
      out_shape[axis] += in[i].shape()[axis];
    }
    Tensor out(first.type(), out_shape);
    int64_t outer = 1;
    for (size_t d = 0; d < axis; ++d) outer *= out_shape[d];
    const size_t esize = element_size(first.type());
    auto* dst = static_cast<char*>(out.data());
    for (int64_t o = 0; o < outer; ++o) {
      for (const Tensor& t : in) {
        const size_t chunk = static_cast<size_t>(t.size() / std::max<int64_t>(outer, 1)) * esize;
        if (chunk == 0) continue;
        std::memcpy(dst, static_cast<const char*>(t.data()) + o * chunk, chunk);
        dst += chunk;
      }
    }
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------- Split

// Where a Split version takes its part sizes from.
enum class SplitForm {
  input_or_attr,         // v1: optional input 'split' or attribute 'split'
  attr,                  // v2, v11: attribute 'split'
  input,                 // v13: optional input 'split'
  input_or_num_outputs,  // v18: optional input 'split' or attribute 'num_outputs'
};

// The part sizes along an axis of extent `extent` (-1 when unknown: returns the known sizes only when
// the split is explicit, else nullopt). With `for_inference`, a 'num_outputs' split that leaves no last
// part gives nullopt instead of an error: the node may sit in an If branch that never runs with that
// extent, and the kernel still rejects it.
std::optional<std::vector<int64_t>> split_sizes(const Node& node, int64_t extent,
                                                const std::optional<std::vector<int64_t>>& split,
                                                size_t outputs, bool for_inference) {
  if (split) {
    SLUICE_CHECK(split->size() == outputs, where(node), "'split' has ", split->size(),
                 " entries but the node has ", outputs, " outputs");
    int64_t sum = 0;
    for (int64_t v : *split) {
      SLUICE_CHECK(v >= 0, where(node), "'split' holds the negative size ", v);
      sum += v;
    }
    SLUICE_CHECK(extent < 0 || sum == extent, where(node), "'split' sizes add up to ", sum,
                 " but the split axis has extent ", extent);
    return split;
  }
  if (extent < 0) return std::nullopt;
  const auto n = static_cast<int64_t>(outputs);
  if (node.has_attr("num_outputs")) {
    const int64_t num = node.attr_int("num_outputs");
    SLUICE_CHECK(num == n, where(node), "attribute 'num_outputs' is ", num, " but the node has ", n,
                 " outputs");
    const int64_t chunk = (extent + n - 1) / n;
    const int64_t last = extent - chunk * (n - 1);
    if (last < 0 && for_inference) return std::nullopt;
    SLUICE_CHECK(last >= 0, where(node), "cannot split extent ", extent, " into ", n, " parts of ceil(",
                 extent, "/", n, ") = ", chunk);
    std::vector<int64_t> sizes(outputs, chunk);
    sizes.back() = last;
    return sizes;
  }
  SLUICE_CHECK(extent % n == 0, where(node), "cannot split extent ", extent, " into ", n,
               " equal parts; give 'split'", node.opset_version >= 18 ? " or 'num_outputs'" : "");
  return std::vector<int64_t>(outputs, extent / n);
}

std::optional<std::vector<int64_t>> split_attr(const Node& node, SplitForm form) {
  if ((form == SplitForm::input_or_attr || form == SplitForm::attr) && node.has_attr("split")) {
    return node.attr_ints("split");
  }
  return std::nullopt;
}

bool split_from_input(SplitForm form) { return form != SplitForm::attr; }

void add_split(OpRegistry& registry, int64_t since, SplitForm form) {
  OpSchema s = make_schema("Split", since, 1, split_from_input(form) ? 2 : 1, 1, -1);
  s.validate = [form](const Node& node) {
    if (form == SplitForm::input_or_num_outputs) {
      SLUICE_CHECK(!(node.has_input(1) && node.has_attr("num_outputs")), where(node),
                   "give either input 'split' or attribute 'num_outputs', not both");
    }
  };
  s.infer = [form](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    std::optional<std::vector<int64_t>> split = split_attr(ctx.node, form);
    bool split_unknown = false;
    if (split_from_input(form) && ctx.has_input(1)) {
      check_integer_input(ctx.input_type(1), ctx.node, "split");
      split = constant_ints(ctx, 1);
      split_unknown = !split.has_value();
    }
    if (!in.rank_known()) {
      for (size_t i = 0; i < ctx.num_outputs(); ++i) ctx.set_output(i, type, PartialShape());
      return;
    }
    const auto axis = static_cast<size_t>(normalize_axis(ctx.node.attr_int("axis", 0), in.rank(), ctx.node));
    const int64_t extent = in[axis].is_static() ? in[axis].extent() : -1;
    const auto sizes =
        split_unknown ? std::nullopt : split_sizes(ctx.node, extent, split, ctx.num_outputs(), true);
    for (size_t i = 0; i < ctx.num_outputs(); ++i) {
      PartialShape out = in;
      out[axis] = sizes ? Dimension((*sizes)[i]) : Dimension::dynamic();
      ctx.set_output(i, type, out);
    }
  };
  s.reference = [form](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    std::optional<std::vector<int64_t>> split = split_attr(node, form);
    if (split_from_input(form) && in.size() > 1 && !in[1].empty()) split = kernel_ints(in[1], node, "split");
    SLUICE_CHECK(x.rank() > 0, where(node), "cannot split a scalar");
    const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis", 0), x.rank(), node));
    const auto sizes = *split_sizes(node, x.shape()[axis], split, node.outputs.size(), false);
    std::vector<Tensor> outs;
    int64_t begin = 0;
    for (int64_t size : sizes) {
      std::vector<std::vector<int64_t>> maps(x.shape().size());
      Shape out_shape = x.shape();
      out_shape[axis] = size;
      for (size_t d = 0; d < maps.size(); ++d) {
        for (int64_t i = 0; i < out_shape[d]; ++i) maps[d].push_back(d == axis ? begin + i : i);
      }
      outs.push_back(gather_by_axis_maps(x, out_shape, maps));
      begin += size;
    }
    return outs;
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------- Slice

struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};

// One axis of a slice, after normalization: the first index, the step and the element count.
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

SliceRange slice_range(int64_t start, int64_t end, int64_t step, int64_t extent) {
  SliceRange r;
  r.step = step;
  if (extent == 0) return r;
  if (start < 0) start += extent;
  if (end < 0) end += extent;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, extent);
    end = std::clamp<int64_t>(end, 0, extent);
    r.count = end > start ? (end - start - 1) / step + 1 : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, extent - 1);
    end = std::clamp<int64_t>(end, -1, extent - 1);
    r.count = start > end ? (start - end - 1) / (-step) + 1 : 0;
  }
  r.start = start;
  return r;
}

// Checks the lengths and steps of slice parameters and normalizes the axes for `rank`.
SliceParams checked_slice_params(SliceParams p, int64_t rank, const Node& node) {
  SLUICE_CHECK(p.starts.size() == p.ends.size(), where(node), "'starts' has ", p.starts.size(),
               " entries and 'ends' ", p.ends.size(), "; expected the same");
  if (p.axes.empty()) {
    for (size_t i = 0; i < p.starts.size(); ++i) p.axes.push_back(static_cast<int64_t>(i));
  }
  if (p.steps.empty()) p.steps.assign(p.starts.size(), 1);
  SLUICE_CHECK(p.axes.size() == p.starts.size() && p.steps.size() == p.starts.size(), where(node),
               "'starts', 'ends', 'axes' and 'steps' must have the same length; got ", p.starts.size(), ", ",
               p.ends.size(), ", ", p.axes.size(), ", ", p.steps.size());
  for (int64_t step : p.steps) {
    SLUICE_CHECK(step != 0 && step != INT64_MIN, where(node), "'steps' holds ", step,
                 "; expected a non-zero step");
  }
  p.axes = normalize_axes(p.axes, rank, node, "'axes'");
  return p;
}

// v1 takes starts/ends/axes as attributes; v10+ as inputs 1..4.
std::optional<SliceParams> slice_params_for_infer(const InferContext& ctx, bool from_inputs) {
  SliceParams p;
  if (!from_inputs) {
    p.starts = ctx.node.attr_ints("starts");
    p.ends = ctx.node.attr_ints("ends");
    p.axes = ctx.node.attr_ints("axes", {});
    return p;
  }
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i)) check_integer_input(ctx.input_type(i), ctx.node, "starts/ends/axes/steps");
  }
  auto starts = constant_ints(ctx, 1);
  auto ends = constant_ints(ctx, 2);
  auto axes =
      ctx.has_input(3) ? constant_ints(ctx, 3) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
  auto steps =
      ctx.has_input(4) ? constant_ints(ctx, 4) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
  if (!starts || !ends || !axes || !steps) return std::nullopt;
  return SliceParams{*starts, *ends, *axes, *steps};
}

SliceParams slice_params_for_kernel(const Node& node, std::span<const Tensor> in, bool from_inputs) {
  if (!from_inputs) return {node.attr_ints("starts"), node.attr_ints("ends"), node.attr_ints("axes", {}), {}};
  SliceParams p;
  p.starts = kernel_ints(in[1], node, "starts");
  p.ends = kernel_ints(in[2], node, "ends");
  if (in.size() > 3 && !in[3].empty()) p.axes = kernel_ints(in[3], node, "axes");
  if (in.size() > 4 && !in[4].empty()) p.steps = kernel_ints(in[4], node, "steps");
  return p;
}

// The extent of a sliced dynamic dimension when the slice keeps all of it (0 to "infinity", step 1).
bool keeps_whole_axis(int64_t start, int64_t end, int64_t step) {
  return step == 1 && start == 0 && end >= INT32_MAX;
}

void add_slice(OpRegistry& registry, int64_t since, bool from_inputs) {
  OpSchema s = make_schema("Slice", since, from_inputs ? 3 : 1, from_inputs ? 5 : 1);
  s.validate = [from_inputs](const Node& node) {
    if (!from_inputs) {
      node.attr_ints("starts");
      node.attr_ints("ends");
    }
  };
  s.infer = [from_inputs](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    if (!in.rank_known()) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    const auto params = slice_params_for_infer(ctx, from_inputs);
    if (!params) {
      ctx.set_output(0, type, dynamic_shape(in.rank()));
      return;
    }
    const SliceParams p = checked_slice_params(*params, in.rank(), ctx.node);
    PartialShape out = in;
    for (size_t i = 0; i < p.axes.size(); ++i) {
      const auto axis = static_cast<size_t>(p.axes[i]);
      if (in[axis].is_static()) {
        out[axis] = Dimension(slice_range(p.starts[i], p.ends[i], p.steps[i], in[axis].extent()).count);
      } else if (!keeps_whole_axis(p.starts[i], p.ends[i], p.steps[i])) {
        out[axis] = Dimension::dynamic();
      }
    }
    ctx.set_output(0, type, out);
  };
  s.reference = [from_inputs](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    const SliceParams p =
        checked_slice_params(slice_params_for_kernel(node, in, from_inputs), x.rank(), node);
    std::vector<SliceRange> ranges(x.shape().size());
    for (size_t d = 0; d < ranges.size(); ++d) ranges[d] = {0, 1, x.shape()[d]};
    for (size_t i = 0; i < p.axes.size(); ++i) {
      const auto axis = static_cast<size_t>(p.axes[i]);
      ranges[axis] = slice_range(p.starts[i], p.ends[i], p.steps[i], x.shape()[axis]);
    }
    Shape out_shape(ranges.size());
    std::vector<std::vector<int64_t>> maps(ranges.size());
    for (size_t d = 0; d < ranges.size(); ++d) {
      out_shape[d] = ranges[d].count;
      for (int64_t i = 0; i < ranges[d].count; ++i) maps[d].push_back(ranges[d].start + i * ranges[d].step);
    }
    return std::vector<Tensor>{gather_by_axis_maps(x, out_shape, maps)};
  };
  registry.add(std::move(s));
}

// -------------------------------------------------------------------------------------------------- Tile

Tensor tile(const Tensor& x, const std::vector<int64_t>& repeats, const Node& node) {
  SLUICE_CHECK(static_cast<int64_t>(repeats.size()) == x.rank(), where(node), "'repeats' has ",
               repeats.size(), " entries; the input has rank ", x.rank());
  Shape out_shape(repeats.size());
  std::vector<std::vector<int64_t>> maps(repeats.size());
  for (size_t d = 0; d < repeats.size(); ++d) {
    SLUICE_CHECK(repeats[d] >= 0, where(node), "'repeats' holds the negative count ", repeats[d]);
    out_shape[d] = x.shape()[d] * repeats[d];
    for (int64_t i = 0; i < out_shape[d]; ++i) maps[d].push_back(i % x.shape()[d]);
  }
  return gather_by_axis_maps(x, out_shape, maps);
}

// Tile-6+: input 'repeats' holds one count per axis.
void add_tile(OpRegistry& registry) {
  OpSchema s = make_schema("Tile", 6, 2, 2);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    check_integer_input(ctx.input_type(1), ctx.node, "repeats");
    if (!in.rank_known()) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    const auto repeats = constant_ints(ctx, 1);
    if (!repeats) {
      PartialShape out = dynamic_shape(in.rank());
      ctx.set_output(0, type, out);
      return;
    }
    SLUICE_CHECK(static_cast<int64_t>(repeats->size()) == in.rank(), where(ctx.node), "'repeats' has ",
                 repeats->size(), " entries; the input has rank ", in.rank());
    PartialShape out = in;
    for (size_t d = 0; d < repeats->size(); ++d) {
      SLUICE_CHECK((*repeats)[d] >= 0, where(ctx.node), "'repeats' holds the negative count ", (*repeats)[d]);
      out[d] = multiply_dims(in[d], Dimension((*repeats)[d]));
    }
    ctx.set_output(0, type, out);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    check_rank(in[1], 1, 1, node, "repeats");
    return std::vector<Tensor>{tile(in[0], kernel_ints(in[1], node, "repeats"), node)};
  };
  registry.add(std::move(s));
}

// Tile-1: inputs 'tiles' (a count) and 'axis' (the axis to repeat along), both scalars.
void add_tile_v1(OpRegistry& registry) {
  OpSchema s = make_schema("Tile", 1, 3, 3);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    const auto tiles = constant_ints(ctx, 1);
    const auto axis = constant_ints(ctx, 2);
    if (!in.rank_known() || !tiles || !axis) {
      ctx.set_output(0, type, in.rank_known() ? dynamic_shape(in.rank()) : PartialShape());
      return;
    }
    SLUICE_CHECK(tiles->size() == 1 && axis->size() == 1, where(ctx.node),
                 "inputs 'tiles' and 'axis' must be single values");
    PartialShape out = in;
    const auto a = static_cast<size_t>(normalize_axis((*axis)[0], in.rank(), ctx.node));
    out[a] = multiply_dims(in[a], Dimension((*tiles)[0]));
    ctx.set_output(0, type, out);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const int64_t tiles = kernel_scalar_int(in[1], node, "tiles");
    const auto axis =
        static_cast<size_t>(normalize_axis(kernel_scalar_int(in[2], node, "axis"), in[0].rank(), node));
    std::vector<int64_t> repeats(static_cast<size_t>(in[0].rank()), 1);
    repeats[axis] = tiles;
    return std::vector<Tensor>{tile(in[0], repeats, node)};
  };
  registry.add(std::move(s));
}

}  // namespace

void register_layout_ops(OpRegistry& registry) {
  add_transpose(registry);
  add_concat(registry, 1, true);
  add_concat(registry, 4, false);
  add_split(registry, 1, SplitForm::input_or_attr);
  add_split(registry, 2, SplitForm::attr);
  add_split(registry, 13, SplitForm::input);
  add_split(registry, 18, SplitForm::input_or_num_outputs);
  add_slice(registry, 1, false);
  add_slice(registry, 10, true);
  add_tile_v1(registry);
  add_tile(registry);
}

}  // namespace sluice::ops::tensor
