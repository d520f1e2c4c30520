// The ONNX sequence and optional operators (reference kernels):
//   SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceErase, SequenceAt, SequenceLength,
//   SplitToSequence, ConcatFromSequence (opset 11), SequenceMap (opset 17),
//   Optional (opset 15), OptionalHasElement and OptionalGetElement (opset 15 and 18).
//
// A sequence travels as a Tensor::sequence (its items are shared handles) and an absent optional as an
// empty Tensor (see sluice/tensor.hpp). Items that enter a sequence and items taken out of one are
// copies: a sequence outlives the buffers its inputs came from, and a kernel downstream of SequenceAt
// may write into its input in place, so a sequence never shares memory with a live tensor.
//
// In the graph, a sequence value's type and shape are those of its items (the shape they all share:
// dynamic dimensions where they differ). Shape inference sets the output kinds; inputs of the wrong kind
// (a tensor where a sequence is expected) are errors naming the node at compile time.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops/misc.hpp"
#include "ops/tensor_common.hpp"

namespace sluice::ops::misc {
namespace {

using graph::Graph;
using graph::ValueKind;
using tensor::constant_ints;

constexpr ValueKind sequence_kind{true, false};

// ---- helpers ----

OpSchema make_seq_schema(std::string op_type, int64_t since, int min_inputs, int max_inputs,
                         int min_outputs = 1, int max_outputs = 1) {
  OpSchema s =
      tensor::make_schema(std::move(op_type), since, min_inputs, max_inputs, min_outputs, max_outputs);
  s.takes_sequences = true;
  s.takes_strings = true;  // sequences only move items; string items are copied with copy_to
  return s;
}

// The least specific of two shapes: the one that accepts every shape either accepts.
PartialShape generalize(const PartialShape& a, const PartialShape& b) {
  if (!a.rank_known() || !b.rank_known() || a.rank() != b.rank()) return PartialShape::unknown_rank();
  std::vector<Dimension> dims;
  for (size_t d = 0; d < a.dims().size(); ++d) dims.push_back(a[d] == b[d] ? a[d] : Dimension());
  return PartialShape(std::move(dims));
}

// Throws naming the node unless input i is (statically) a sequence.
void expect_sequence_input(const InferContext& ctx, size_t i, const char* name) {
  const ValueKind kind = ctx.input_kind(i);
  SLUICE_CHECK(kind.sequence && !kind.optional, where(ctx.node), "input ", i, " '", name, "' is ",
               kind.optional ? "an " : "a ", kind.name(), "; expected a sequence");
}

// Throws naming the node unless input i is a (non-optional) tensor.
void expect_tensor_input(const InferContext& ctx, size_t i, const char* name) {
  const ValueKind kind = ctx.input_kind(i);
  SLUICE_CHECK(kind.is_tensor(), where(ctx.node), "input ", i, " '", name, "' is ",
               kind.optional ? "an " : "a ", kind.name(), "; expected a tensor");
}

// Throws naming the node unless the types are equal (undefined: not yet known, passes).
void expect_same_type(ElementType expected, ElementType got, const Node& node, const std::string& what) {
  SLUICE_CHECK(expected == ElementType::undefined || got == ElementType::undefined || expected == got,
               where(node), what, " has element type ", to_string(got), "; the sequence holds ",
               to_string(expected), " tensors");
}

const std::vector<Tensor>& sequence_items(std::span<const Tensor> in, size_t i, const Node& node,
                                          const char* name) {
  SLUICE_CHECK(i < in.size() && in[i].is_sequence(), where(node), "input ", i, " '", name, "' is a ",
               i < in.size() ? describe(in[i]) : std::string("missing input"), "; expected a sequence");
  return in[i].items();
}

const Tensor& tensor_input(std::span<const Tensor> in, size_t i, const Node& node, const char* name) {
  SLUICE_CHECK(i < in.size() && !in[i].empty() && !in[i].is_sequence(), where(node), "input ", i, " '", name,
               "' is a ", i < in.size() ? describe(in[i]) : std::string("missing input"),
               "; expected a tensor");
  return in[i];
}

// A 'position' input: one integer (int32 or int64).
int64_t read_position(const Tensor& t, const Node& node) {
  SLUICE_CHECK(
      !t.is_sequence() && (t.type() == ElementType::i32 || t.type() == ElementType::i64) && t.size() == 1,
      where(node), "input 'position' must be an int32 or int64 scalar; got a ", describe(t));
  return to_int64s(t)[0];
}

// ---- SequenceEmpty ----

void add_sequence_empty(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceEmpty", 11, 0, 0);
  s.validate = [](const Node& node) {
    if (node.has_attr("dtype")) any_element_type_from_onnx_code(node.attr_int("dtype"), node, "dtype");
  };
  s.infer = [](InferContext& ctx) {
    const int64_t code = ctx.node.attr_int("dtype", 1);  // onnx.TensorProto.FLOAT
    ctx.set_output(0, any_element_type_from_onnx_code(code, ctx.node, "dtype"), PartialShape::unknown_rank());
    ctx.set_output_kind(0, sequence_kind);
  };
  s.reference = [](const Node& node, std::span<const Tensor>, KernelEnv&) {
    const ElementType type = any_element_type_from_onnx_code(node.attr_int("dtype", 1), node, "dtype");
    return std::vector<Tensor>{Tensor::sequence(type, {})};
  };
  registry.add(std::move(s));
}

// ---- SequenceConstruct ----

void add_sequence_construct(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceConstruct", 11, 1, -1);
  s.infer = [](InferContext& ctx) {
    ElementType type = ElementType::undefined;
    PartialShape shape;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      expect_tensor_input(ctx, i, "inputs");
      if (type == ElementType::undefined) type = ctx.input_type(i);
      SLUICE_CHECK(ctx.input_type(i) == ElementType::undefined || ctx.input_type(i) == type, where(ctx.node),
                   "input ", i, " has element type ", to_string(ctx.input_type(i)), "; input 0 has ",
                   to_string(type), " (a sequence holds tensors of one type)");
      shape = i == 0 ? ctx.input_shape(i) : generalize(shape, ctx.input_shape(i));
    }
    ctx.set_output(0, type, shape);
    ctx.set_output_kind(0, sequence_kind);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    std::vector<Tensor> items;
    for (size_t i = 0; i < in.size(); ++i) {
      const Tensor& t = tensor_input(in, i, node, "inputs");
      SLUICE_CHECK(t.type() == in[0].type(), where(node), "input ", i, " is a ", describe(t),
                   "; input 0 is a ", describe(in[0]), " (a sequence holds tensors of one type)");
      items.push_back(t.clone());
    }
    return std::vector<Tensor>{Tensor::sequence(in[0].type(), std::move(items))};
  };
  registry.add(std::move(s));
}

// ---- SequenceInsert / SequenceErase / SequenceAt / SequenceLength ----

// Position p of a sequence of n items, valid in [-n, n - 1] (or [-n, n] when inserting): p < 0 counts
// from the end.
int64_t resolve_position(int64_t p, size_t items, bool inserting, const Node& node) {
  const auto n = static_cast<int64_t>(items);
  const int64_t last = inserting ? n : n - 1;
  SLUICE_CHECK(p >= -n && p <= last, where(node), "position ", p, " is out of range for a sequence of ", n,
               " tensors; expected [", -n, ", ", last, "]");
  return p < 0 ? p + n : p;
}

void infer_position_input(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return;
  expect_tensor_input(ctx, i, "position");
  const ElementType t = ctx.input_type(i);
  SLUICE_CHECK(t == ElementType::undefined || t == ElementType::i32 || t == ElementType::i64, where(ctx.node),
               "input 'position' has element type ", to_string(t), "; expected int32 or int64");
  const PartialShape& shape = ctx.input_shape(i);
  SLUICE_CHECK(!shape.rank_known() || shape.rank() == 0 || (shape.rank() == 1 && shape[0].accepts(1)),
               where(ctx.node), "input 'position' has shape ", shape.to_string(), "; expected a scalar");
}

void add_sequence_insert(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceInsert", 11, 2, 3);
  s.infer = [](InferContext& ctx) {
    expect_sequence_input(ctx, 0, "input_sequence");
    expect_tensor_input(ctx, 1, "tensor");
    infer_position_input(ctx, 2);
    expect_same_type(ctx.input_type(0), ctx.input_type(1), ctx.node, "input 'tensor'");
    const ElementType type =
        ctx.input_type(0) != ElementType::undefined ? ctx.input_type(0) : ctx.input_type(1);
    ctx.set_output(0, type, generalize(ctx.input_shape(0), ctx.input_shape(1)));
    ctx.set_output_kind(0, sequence_kind);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    std::vector<Tensor> items = sequence_items(in, 0, node, "input_sequence");
    const Tensor& t = tensor_input(in, 1, node, "tensor");
    SLUICE_CHECK(t.type() == in[0].type(), where(node), "input 'tensor' is a ", describe(t),
                 "; the sequence holds ", to_string(in[0].type()), " tensors");
    int64_t at = static_cast<int64_t>(items.size());
    if (in.size() > 2 && !in[2].empty())
      at = resolve_position(read_position(in[2], node), items.size(), true, node);
    items.insert(items.begin() + at, t.clone());
    return std::vector<Tensor>{Tensor::sequence(in[0].type(), std::move(items))};
  };
  registry.add(std::move(s));
}

void add_sequence_erase(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceErase", 11, 1, 2);
  s.infer = [](InferContext& ctx) {
    expect_sequence_input(ctx, 0, "input_sequence");
    infer_position_input(ctx, 1);
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
    ctx.set_output_kind(0, sequence_kind);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    std::vector<Tensor> items = sequence_items(in, 0, node, "input_sequence");
    SLUICE_CHECK(!items.empty(), where(node), "cannot erase from an empty sequence");
    const int64_t p = in.size() > 1 && !in[1].empty() ? read_position(in[1], node) : -1;
    items.erase(items.begin() + resolve_position(p, items.size(), false, node));
    return std::vector<Tensor>{Tensor::sequence(in[0].type(), std::move(items))};
  };
  registry.add(std::move(s));
}

void add_sequence_at(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceAt", 11, 2, 2);
  s.infer = [](InferContext& ctx) {
    expect_sequence_input(ctx, 0, "input_sequence");
    infer_position_input(ctx, 1);
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const std::vector<Tensor>& items = sequence_items(in, 0, node, "input_sequence");
    SLUICE_CHECK(!items.empty(), where(node),
                 "input 'input_sequence' is an empty sequence; there is no tensor at ", "position ",
                 in.size() > 1 && !in[1].empty() ? std::to_string(read_position(in[1], node)) : "?");
    const int64_t at = resolve_position(read_position(in[1], node), items.size(), false, node);
    return std::vector<Tensor>{items[static_cast<size_t>(at)].clone()};
  };
  registry.add(std::move(s));
}

void add_sequence_length(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceLength", 11, 1, 1);
  s.infer = [](InferContext& ctx) {
    expect_sequence_input(ctx, 0, "input_sequence");
    ctx.set_output(0, ElementType::i64, PartialShape(Shape{}));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const auto n = static_cast<int64_t>(sequence_items(in, 0, node, "input_sequence").size());
    return std::vector<Tensor>{Tensor::scalar<int64_t>(n)};
  };
  registry.add(std::move(s));
}

// ---- SplitToSequence ----

// The chunk lengths along an axis of extent `extent`: ones when split is absent, equal chunks of
// split[0] (the last one shorter) for a scalar, the given lengths for a 1-D split.
std::vector<int64_t> split_lengths(const Tensor* split, int64_t extent, const Node& node) {
  if (split == nullptr) return std::vector<int64_t>(static_cast<size_t>(extent), 1);
  SLUICE_CHECK(split->type() == ElementType::i32 || split->type() == ElementType::i64, where(node),
               "input 'split' must be int32 or int64; got a ", describe(*split));
  SLUICE_CHECK(split->rank() <= 1, where(node), "input 'split' has shape ", to_string(split->shape()),
               "; expected a scalar or a 1-D tensor");
  const std::vector<int64_t> values = to_int64s(*split);
  if (split->rank() == 0) {
    const int64_t chunk = values[0];
    SLUICE_CHECK(chunk > 0, where(node), "input 'split' is ", chunk, "; expected a positive chunk length");
    std::vector<int64_t> lengths;
    for (int64_t start = 0; start < extent; start += chunk)
      lengths.push_back(std::min(chunk, extent - start));
    return lengths;
  }
  int64_t sum = 0;
  for (int64_t v : values) {
    SLUICE_CHECK(v >= 0, where(node), "input 'split' holds the negative length ", v);
    sum += v;
  }
  SLUICE_CHECK(sum == extent, where(node), "input 'split' lengths sum to ", sum,
               "; the split axis has extent ", extent);
  return values;
}

void infer_split_to_sequence(InferContext& ctx) {
  const Node& node = ctx.node;
  expect_tensor_input(ctx, 0, "input");
  const bool has_split = ctx.has_input(1);
  if (has_split) {
    expect_tensor_input(ctx, 1, "split");
    const ElementType t = ctx.input_type(1);
    SLUICE_CHECK(t == ElementType::undefined || t == ElementType::i32 || t == ElementType::i64, where(node),
                 "input 'split' has element type ", to_string(t), "; expected int32 or int64");
  }
  const PartialShape& in = ctx.input_shape(0);
  PartialShape item = PartialShape::unknown_rank();
  if (in.rank_known()) {
    SLUICE_CHECK(in.rank() >= 1, where(node), "input 'input' is a scalar; expected rank >= 1");
    const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis", 0), in.rank(), node));
    std::vector<Dimension> dims = in.dims();
    if (!has_split) {
      if (node.attr_int("keepdims", 1) == 0) {
        dims.erase(dims.begin() + static_cast<ptrdiff_t>(axis));
      } else {
        dims[axis] = 1;
      }
    } else {
      // A chunk length known when the split is a constant that gives every chunk the same length.
      Dimension chunk;
      if (auto split = constant_ints(ctx, 1); split && !split->empty()) {
        const bool uniform =
            std::all_of(split->begin(), split->end(), [&](int64_t v) { return v == (*split)[0]; });
        const PartialShape& split_shape = ctx.input_shape(1);
        const bool scalar = split_shape.rank_known() && split_shape.rank() == 0;
        const bool divides =
            dims[axis].is_static() && (*split)[0] > 0 && dims[axis].extent() % (*split)[0] == 0;
        if (uniform && (!scalar || divides)) chunk = (*split)[0];
      }
      dims[axis] = chunk;
    }
    item = PartialShape(std::move(dims));
  }
  ctx.set_output(0, ctx.input_type(0), item);
  ctx.set_output_kind(0, sequence_kind);
}

std::vector<Tensor> split_to_sequence(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = tensor_input(in, 0, node, "input");
  SLUICE_CHECK(x.rank() >= 1, where(node), "input 'input' is a scalar; expected rank >= 1");
  const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis", 0), x.rank(), node));
  const bool has_split = in.size() > 1 && !in[1].empty();
  const Shape& shape = x.shape();
  const int64_t extent = shape[axis];
  const std::vector<int64_t> lengths = split_lengths(has_split ? &in[1] : nullptr, extent, node);
  const bool drop_axis = !has_split && node.attr_int("keepdims", 1) == 0;
  const int64_t outer = product(shape, 0, axis);
  const int64_t inner = product(shape, axis + 1, shape.size());
  std::vector<Tensor> items;
  int64_t start = 0;
  for (int64_t len : lengths) {
    Shape item_shape = shape;
    item_shape[axis] = len;
    Tensor item(x.type(), item_shape);
    for (int64_t o = 0; o < outer; ++o) {
      copy_elements(x, (o * extent + start) * inner, item, o * len * inner, len * inner);
    }
    if (drop_axis) {
      item_shape.erase(item_shape.begin() + static_cast<ptrdiff_t>(axis));
      item = item.reshaped(item_shape);
    }
    items.push_back(std::move(item));
    start += len;
  }
  return {Tensor::sequence(x.type(), std::move(items))};
}

void add_split_to_sequence(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SplitToSequence", 11, 1, 2);
  s.validate = [](const Node& node) {
    const int64_t keepdims = node.attr_int("keepdims", 1);
    SLUICE_CHECK(keepdims == 0 || keepdims == 1, where(node), "attribute 'keepdims' is ", keepdims,
                 "; expected 0 or 1");
  };
  s.infer = infer_split_to_sequence;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return split_to_sequence(node, in);
  };
  registry.add(std::move(s));
}

// ---- ConcatFromSequence ----

void infer_concat_from_sequence(InferContext& ctx) {
  const Node& node = ctx.node;
  expect_sequence_input(ctx, 0, "input_sequence");
  const bool new_axis = node.attr_int("new_axis", 0) == 1;
  const PartialShape& item = ctx.input_shape(0);
  PartialShape out = PartialShape::unknown_rank();
  if (item.rank_known()) {
    const int64_t rank = item.rank() + (new_axis ? 1 : 0);
    SLUICE_CHECK(rank >= 1, where(node), "the sequence holds scalars; concatenating them needs new_axis=1");
    const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis"), rank, node));
    std::vector<Dimension> dims = item.dims();
    // The extent along the axis depends on how many tensors the sequence holds (and their extents).
    if (new_axis) {
      dims.insert(dims.begin() + static_cast<ptrdiff_t>(axis), Dimension());
    } else {
      dims[axis] = Dimension();
    }
    out = PartialShape(std::move(dims));
  }
  ctx.set_output(0, ctx.input_type(0), out);
}

std::vector<Tensor> concat_from_sequence(const Node& node, std::span<const Tensor> in) {
  const std::vector<Tensor>& items = sequence_items(in, 0, node, "input_sequence");
  SLUICE_CHECK(!items.empty(), where(node),
               "input 'input_sequence' is an empty sequence; expected at least one ",
               "tensor to concatenate");
  const bool new_axis = node.attr_int("new_axis", 0) == 1;
  Shape first = items[0].shape();
  const int64_t rank = static_cast<int64_t>(first.size()) + (new_axis ? 1 : 0);
  SLUICE_CHECK(rank >= 1, where(node), "the sequence holds scalars; concatenating them needs new_axis=1");
  const auto axis = static_cast<size_t>(normalize_axis(node.attr_int("axis"), rank, node));
  // With new_axis every item is viewed with an extra dimension of 1 at `axis`: stacking is concatenation.
  auto viewed = [&](const Tensor& t) {
    Shape s = t.shape();
    if (new_axis) s.insert(s.begin() + static_cast<ptrdiff_t>(axis), 1);
    return s;
  };
  const Shape base = viewed(items[0]);
  int64_t total = 0;
  for (size_t k = 0; k < items.size(); ++k) {
    const Shape s = viewed(items[k]);
    bool compatible = s.size() == base.size();
    for (size_t d = 0; compatible && d < s.size(); ++d) compatible = d == axis || s[d] == base[d];
    SLUICE_CHECK(compatible, where(node), "sequence item ", k, " has shape ", to_string(items[k].shape()),
                 "; item 0 has ", to_string(items[0].shape()),
                 new_axis ? " (stacking needs equal shapes)" : " (shapes must match except along the axis)");
    total += s[axis];
  }
  Shape out_shape = base;
  out_shape[axis] = total;
  Tensor out(in[0].type(), out_shape);
  const int64_t outer = product(base, 0, axis);
  const int64_t inner = product(base, axis + 1, base.size());
  int64_t offset = 0;
  for (const Tensor& item : items) {
    const int64_t len = viewed(item)[axis];
    for (int64_t o = 0; o < outer; ++o) {
      copy_elements(item, o * len * inner, out, (o * total + offset) * inner, len * inner);
    }
    offset += len;
  }
  return {out};
}

void add_concat_from_sequence(OpRegistry& registry) {
  OpSchema s = make_seq_schema("ConcatFromSequence", 11, 1, 1);
  s.validate = [](const Node& node) {
    SLUICE_CHECK(node.has_attr("axis"), where(node), "attribute 'axis' is missing");
    const int64_t new_axis = node.attr_int("new_axis", 0);
    SLUICE_CHECK(new_axis == 0 || new_axis == 1, where(node), "attribute 'new_axis' is ", new_axis,
                 "; expected 0 or 1");
  };
  s.infer = infer_concat_from_sequence;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return concat_from_sequence(node, in);
  };
  registry.add(std::move(s));
}

// ---- SequenceMap ----

const Graph& map_body(const Node& node) {
  SLUICE_CHECK(node.has_attr("body"), where(node), "attribute 'body' (a graph) is missing");
  const Graph& body = node.attr_graph("body");
  SLUICE_CHECK(body.inputs().size() == node.inputs.size(), where(node), "attribute 'body' has ",
               body.inputs().size(), " inputs; expected ", node.inputs.size(), " (one per node input)");
  SLUICE_CHECK(body.outputs().size() == node.outputs.size(), where(node), "attribute 'body' has ",
               body.outputs().size(), " outputs; the node has ", node.outputs.size());
  return body;
}

void infer_sequence_map(InferContext& ctx) {
  const Node& node = ctx.node;
  const Graph& body = map_body(node);
  expect_sequence_input(ctx, 0, "input_sequence");
  std::vector<std::pair<ElementType, PartialShape>> body_in;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    SLUICE_CHECK(ctx.has_input(i), where(node), "input ", i, " is missing");
    SLUICE_CHECK(!ctx.input_kind(i).optional, where(node), "input ", i, " is an ", ctx.input_kind(i).name(),
                 "; expected a sequence or a tensor");
    // A sequence input gives the body one item at a time, a tensor input the whole tensor: both are
    // described by the value's type and shape.
    body_in.emplace_back(ctx.input_type(i), ctx.input_shape(i));
  }
  std::vector<std::pair<ElementType, PartialShape>> out;
  if (ctx.infer_subgraph) {
    out = ctx.infer_subgraph(body, body_in);
  } else {
    for (const graph::Value* v : body.outputs()) out.emplace_back(v->type, v->shape);
  }
  for (size_t j = 0; j < ctx.num_outputs() && j < out.size(); ++j) {
    ctx.set_output(j, out[j].first, out[j].second);
    ctx.set_output_kind(j, sequence_kind);
  }
}

std::vector<Tensor> run_sequence_map(const Node& node, std::span<const Tensor> in, KernelEnv& env) {
  const Graph& body = map_body(node);
  // Every sequence input must have the length of input 0.
  const size_t length = sequence_items(in, 0, node, "input_sequence").size();
  for (size_t i = 1; i < in.size(); ++i) {
    SLUICE_CHECK(!in[i].empty(), where(node), "input ", i, " is missing");
    if (in[i].is_sequence()) {
      SLUICE_CHECK(in[i].items().size() == length, where(node), "input ", i, " is a sequence of ",
                   in[i].items().size(), " tensors; input 0 has ", length,
                   " (the sequences are mapped together)");
    }
  }
  std::vector<std::vector<Tensor>> results(node.outputs.size());
  for (size_t k = 0; k < length; ++k) {
    std::vector<Tensor> body_inputs;
    for (const Tensor& t : in) body_inputs.push_back(t.is_sequence() ? t.items()[k] : t);
    std::vector<Tensor> out = env.run_subgraph(body, body_inputs);
    SLUICE_CHECK(out.size() == node.outputs.size(), where(node), "the body produced ", out.size(),
                 " outputs; expected ", node.outputs.size());
    for (size_t j = 0; j < out.size(); ++j) {
      SLUICE_CHECK(!out[j].empty() && !out[j].is_sequence(), where(node), "the body's output ", j,
                   " for item ", k, " is a ", describe(out[j]), "; expected a tensor");
      // The body's outputs may alias its inputs or buffers of the body's run: the sequence keeps copies.
      results[j].push_back(out[j].clone());
    }
  }
  std::vector<Tensor> outputs;
  for (size_t j = 0; j < results.size(); ++j) {
    ElementType type = ElementType::undefined;
    if (!results[j].empty()) {
      type = results[j][0].type();
    } else if (node.has_output(j) && node.outputs[j]->type != ElementType::undefined) {
      type = node.outputs[j]->type;
    } else {
      type = body.outputs()[j]->type;
    }
    SLUICE_CHECK(type != ElementType::undefined, where(node), "output ", j,
                 " is an empty sequence whose element type is not known (the body's output '",
                 body.outputs()[j]->name, "' has no declared type)");
    for (size_t k = 0; k < results[j].size(); ++k) {
      SLUICE_CHECK(results[j][k].type() == type, where(node), "the body's output ", j, " for item ", k,
                   " is a ", describe(results[j][k]), "; for item 0 it was ", to_string(type));
    }
    outputs.push_back(Tensor::sequence(type, std::move(results[j])));
  }
  return outputs;
}

void add_sequence_map(OpRegistry& registry) {
  OpSchema s = make_seq_schema("SequenceMap", 17, 1, -1, 1, -1);
  s.validate = [](const Node& node) { map_body(node); };
  s.infer = infer_sequence_map;
  s.reference = run_sequence_map;
  registry.add(std::move(s));
}

// ---- Optional / OptionalHasElement / OptionalGetElement ----

void add_optional(OpRegistry& registry) {
  OpSchema s = make_seq_schema("Optional", 15, 0, 1);
  s.validate = [](const Node& node) {
    SLUICE_CHECK(node.has_input(0) || node.has_attr("type"), where(node),
                 "has neither an input nor a 'type' attribute; the optional's type is unknown");
    if (node.has_attr("type")) {
      const ValueKind kind = node.attr_type("type").kind;
      SLUICE_CHECK(!kind.optional, where(node), "attribute 'type' is an ", kind.name(),
                   "; expected the type of the optional's value (a tensor or a sequence)");
    }
  };
  s.infer = [](InferContext& ctx) {
    const Node& node = ctx.node;
    if (ctx.has_input(0)) {
      const ValueKind in = ctx.input_kind(0);
      SLUICE_CHECK(!in.optional, where(node), "input 'input' is an ", in.name(),
                   "; expected a tensor or a sequence");
      ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
      ctx.set_output_kind(0, ValueKind{in.sequence, true});
      return;
    }
    // Without an input, the type is the attribute's (the type of the value the optional would hold).
    const graph::TypeAttribute& type = node.attr_type("type");
    ctx.set_output(0, type.type, type.shape);
    ctx.set_output_kind(0, ValueKind{type.kind.sequence, true});
  };
  s.reference = [](const Node&, std::span<const Tensor> in, KernelEnv&) {
    // A present optional is its value; no input makes an absent one (an empty Tensor).
    return std::vector<Tensor>{in.empty() ? Tensor() : in[0]};
  };
  registry.add(std::move(s));
}

void add_optional_has_element(OpRegistry& registry) {
  for (int64_t since : {15, 18}) {
    // Opset 18 made the input optional (no input: false) and accepts plain tensors and sequences.
    OpSchema s = make_seq_schema("OptionalHasElement", since, since < 18 ? 1 : 0, 1);
    // Opset 15 asks for an optional input; a plain tensor or sequence reads as a present optional.
    s.infer = [](InferContext& ctx) { ctx.set_output(0, ElementType::boolean, PartialShape(Shape{})); };
    s.reference = [](const Node&, std::span<const Tensor> in, KernelEnv&) {
      return std::vector<Tensor>{Tensor::scalar<bool>(!in.empty() && !in[0].empty())};
    };
    registry.add(std::move(s));
  }
}

void add_optional_get_element(OpRegistry& registry) {
  for (int64_t since : {15, 18}) {
    OpSchema s = make_seq_schema("OptionalGetElement", since, 1, 1);
    // Opset 15 asks for an optional input; a plain tensor or sequence is returned as it is.
    s.infer = [](InferContext& ctx) {
      const ValueKind in = ctx.input_kind(0);
      ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
      ctx.set_output_kind(0, ValueKind{in.sequence, false});
    };
    s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      SLUICE_CHECK(!in.empty() && !in[0].empty(), where(node),
                   "input 'input' is an empty optional; expected a value");
      return std::vector<Tensor>{in[0]};
    };
    registry.add(std::move(s));
  }
}

}  // namespace

void register_sequence_ops(OpRegistry& registry) {
  add_sequence_empty(registry);
  add_sequence_construct(registry);
  add_sequence_insert(registry);
  add_sequence_erase(registry);
  add_sequence_at(registry);
  add_sequence_length(registry);
  add_split_to_sequence(registry);
  add_concat_from_sequence(registry);
  add_sequence_map(registry);
  add_optional(registry);
  add_optional_has_element(registry);
  add_optional_get_element(registry);
}

}  // namespace sluice::ops::misc
