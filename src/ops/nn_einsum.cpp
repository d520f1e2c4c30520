// Einsum: a general Einstein-summation parser (explicit and implicit output, ellipsis broadcasting,
// repeated labels within an operand for diagonals) and a reference kernel that loops over every label.
#include <algorithm>
#include <array>
#include <cctype>

#include "ops/nn_common.hpp"

namespace sluice::ops::nn {
namespace {

constexpr int ellipsis_label = -1;

// One operand's (or the output's) subscripts: letters as their char code, ellipsis_label for "...".
struct EinsumTerm {
  std::vector<int> labels;
  bool has_ellipsis() const {
    return std::find(labels.begin(), labels.end(), ellipsis_label) != labels.end();
  }
  size_t letter_count() const { return labels.size() - (has_ellipsis() ? 1 : 0); }
};

struct EinsumSpec {
  std::vector<EinsumTerm> inputs;
  EinsumTerm output;
  bool explicit_output = false;
};

EinsumTerm parse_term(const std::string& text, const Node& node) {
  EinsumTerm term;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      term.labels.push_back(c);
    } else if (c == '.' && text.compare(i, 3, "...") == 0) {
      SLUICE_CHECK(!term.has_ellipsis(), where(node), "equation term '", text,
                   "' has more than one ellipsis");
      term.labels.push_back(ellipsis_label);
      i += 2;
    } else {
      throw_error(where(node), "equation term '", text, "' has the character '", c,
                  "'; expected letters and at most one '...'");
    }
  }
  return term;
}

EinsumSpec parse_equation(const Node& node) {
  std::string equation;
  for (char c : node.attr_string("equation")) {
    if (!std::isspace(static_cast<unsigned char>(c))) equation.push_back(c);
  }
  EinsumSpec spec;
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    spec.inputs.push_back(parse_term(lhs.substr(start, comma - start), node));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (arrow != std::string::npos) {
    spec.explicit_output = true;
    spec.output = parse_term(equation.substr(arrow + 2), node);
    std::vector<int> seen;
    for (int label : spec.output.labels) {
      SLUICE_CHECK(std::find(seen.begin(), seen.end(), label) == seen.end(), where(node), "equation '",
                   node.attr_string("equation"), "': output label '", static_cast<char>(label),
                   "' is repeated");
      seen.push_back(label);
      const bool in_inputs = label == ellipsis_label ||
                             std::any_of(spec.inputs.begin(), spec.inputs.end(), [&](const EinsumTerm& t) {
                               return std::count(t.labels.begin(), t.labels.end(), label) > 0;
                             });
      SLUICE_CHECK(in_inputs, where(node), "equation '", node.attr_string("equation"), "': output label '",
                   static_cast<char>(label), "' does not appear in any input");
    }
  }
  return spec;
}

// Implicit output: the ellipsis (when any input has one), then the letters that occur exactly once over
// all inputs, in ASCII order.
EinsumTerm implicit_output(const EinsumSpec& spec) {
  std::array<int, 128> counts{};
  bool ellipsis = false;
  for (const auto& term : spec.inputs) {
    for (int label : term.labels) {
      if (label == ellipsis_label) {
        ellipsis = true;
      } else {
        ++counts[static_cast<size_t>(label)];
      }
    }
  }
  EinsumTerm out;
  if (ellipsis) out.labels.push_back(ellipsis_label);
  for (int c = 0; c < 128; ++c) {
    if (counts[static_cast<size_t>(c)] == 1) out.labels.push_back(c);
  }
  return out;
}

// The iteration space: every dimension (the output's first, then the summed ones) and, per operand axis,
// the dimension it runs along.
struct EinsumPlan {
  std::vector<Dimension> dims;
  size_t output_dims = 0;
  std::vector<std::vector<size_t>> axis_dim;
};

// Combines two extents of one label: static extents must agree, except that 1 broadcasts when allowed.
Dimension merge_extent(const Dimension& a, const Dimension& b, bool broadcast, const Node& node, int label) {
  if (a.is_dynamic()) return b.is_static() && !(broadcast && b.extent() == 1) ? b : a;
  if (b.is_dynamic()) return broadcast && a.extent() == 1 ? b : a;
  if (a.extent() == b.extent()) return a;
  if (broadcast && (a.extent() == 1 || b.extent() == 1)) return a.extent() == 1 ? b : a;
  if (label == ellipsis_label) {
    throw_error(where(node), "dimensions covered by '...' do not broadcast: ", a.extent(), " vs ",
                b.extent());
  }
  throw_error(where(node), "label '", static_cast<char>(label), "' has extent ", a.extent(),
              " in one place and ", b.extent(), " in another");
}

EinsumPlan plan_einsum(const Node& node, const EinsumSpec& spec, const std::vector<PartialShape>& shapes) {
  SLUICE_CHECK(spec.inputs.size() == shapes.size(), where(node), "equation '", node.attr_string("equation"),
               "' has ", spec.inputs.size(), " input terms but the node has ", shapes.size(), " inputs");
  size_t ellipsis_rank = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const EinsumTerm& term = spec.inputs[i];
    const size_t rank = static_cast<size_t>(shapes[i].rank());
    const size_t letters = term.letter_count();
    SLUICE_CHECK(rank == letters || (term.has_ellipsis() && rank > letters), where(node), "input ", i,
                 " has shape ", shapes[i].to_string(), " but its equation term has ", letters, " letters",
                 term.has_ellipsis() ? " and an ellipsis" : "");
    ellipsis_rank = std::max(ellipsis_rank, rank - letters);
  }
  const EinsumTerm output = spec.explicit_output ? spec.output : implicit_output(spec);
  // Label ids: letters by char code, ellipsis dim j (right-aligned) as 128 + j.
  std::vector<int> order;
  const auto add_label = [&](int id) {
    if (std::find(order.begin(), order.end(), id) == order.end()) order.push_back(id);
  };
  const auto expand = [&](const EinsumTerm& term, size_t rank) {
    std::vector<int> ids;
    for (int label : term.labels) {
      if (label != ellipsis_label) {
        ids.push_back(label);
        continue;
      }
      const size_t count = rank - term.letter_count();
      for (size_t j = ellipsis_rank - count; j < ellipsis_rank; ++j) ids.push_back(128 + static_cast<int>(j));
    }
    return ids;
  };
  for (int id : expand(output, output.letter_count() + ellipsis_rank)) add_label(id);
  EinsumPlan plan;
  plan.output_dims = order.size();
  std::vector<std::vector<int>> operand_ids;
  for (size_t i = 0; i < shapes.size(); ++i) {
    operand_ids.push_back(expand(spec.inputs[i], static_cast<size_t>(shapes[i].rank())));
    for (int id : operand_ids.back()) add_label(id);
  }
  plan.dims.assign(order.size(), Dimension(1));
  std::vector<bool> seen(order.size(), false);
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<size_t> axes;
    for (size_t a = 0; a < operand_ids[i].size(); ++a) {
      const int id = operand_ids[i][a];
      const size_t d = static_cast<size_t>(std::find(order.begin(), order.end(), id) - order.begin());
      const bool broadcast = id >= 128;
      plan.dims[d] =
          seen[d] ? merge_extent(plan.dims[d], shapes[i][a], broadcast, node, broadcast ? ellipsis_label : id)
                  : shapes[i][a];
      seen[d] = true;
      axes.push_back(d);
    }
    plan.axis_dim.push_back(axes);
  }
  return plan;
}

void validate_einsum(const Node& node) { parse_equation(node); }

void infer_einsum(InferContext& ctx) {
  const Node& node = ctx.node;
  const EinsumSpec spec = parse_equation(node);
  std::vector<PartialShape> shapes;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    check_same_type(ctx, i, "Inputs");
    shapes.push_back(ctx.input_shape(i));
  }
  SLUICE_CHECK(ctx.input_type(0) != ElementType::boolean, where(node),
               "inputs are boolean; expected numeric");
  const bool ranks_known =
      std::all_of(shapes.begin(), shapes.end(), [](const PartialShape& s) { return s.rank_known(); });
  if (!ranks_known) {
    const EinsumTerm out = spec.explicit_output ? spec.output : implicit_output(spec);
    ctx.set_output(
        0, ctx.input_type(0),
        out.has_ellipsis() ? PartialShape() : PartialShape(std::vector<Dimension>(out.labels.size())));
    return;
  }
  const EinsumPlan plan = plan_einsum(node, spec, shapes);
  ctx.set_output(
      0, ctx.input_type(0),
      PartialShape(std::vector<Dimension>(plan.dims.begin(), plan.dims.begin() + plan.output_dims)));
}

template <class T>
void einsum_kernel(const EinsumPlan& plan, const Shape& extents, std::span<const Tensor> in, Tensor& y) {
  using A = acc_t<T>;
  const size_t operands = in.size();
  const size_t all = extents.size();
  // strides[i][d]: how far operand i moves along dimension d (0 where it does not run along d).
  std::vector<std::vector<int64_t>> strides(operands, std::vector<int64_t>(all, 0));
  for (size_t i = 0; i < operands; ++i) {
    const auto own = strides_of(in[i].shape());
    for (size_t a = 0; a < plan.axis_dim[i].size(); ++a) {
      const size_t d = plan.axis_dim[i][a];
      if (in[i].shape()[a] != 1 || extents[d] == 1) strides[i][d] += own[a];
    }
  }
  const Shape out_extents(extents.begin(), extents.begin() + static_cast<int64_t>(plan.output_dims));
  const Shape sum_extents(extents.begin() + static_cast<int64_t>(plan.output_dims), extents.end());
  if (shape_size(out_extents) == 0) return;
  std::vector<const T*> data;
  for (const auto& t : in) data.push_back(t.data<T>());
  T* dst = y.data<T>();
  std::vector<int64_t> out_index(out_extents.size(), 0);
  std::vector<int64_t> base(operands), offset(operands);
  int64_t o = 0;
  do {
    for (size_t i = 0; i < operands; ++i) {
      base[i] = 0;
      for (size_t d = 0; d < out_extents.size(); ++d) base[i] += out_index[d] * strides[i][d];
    }
    A acc = 0;
    std::vector<int64_t> sum_index(sum_extents.size(), 0);
    if (shape_size(sum_extents) > 0) {
      do {
        A product = 1;
        for (size_t i = 0; i < operands; ++i) {
          int64_t off = base[i];
          for (size_t d = 0; d < sum_extents.size(); ++d)
            off += sum_index[d] * strides[i][plan.output_dims + d];
          product *= widen(data[i][off]);
        }
        acc += product;
      } while (next_index(sum_index, sum_extents));
    }
    dst[o++] = narrow<T>(acc);
  } while (next_index(out_index, out_extents));
}

std::vector<Tensor> run_einsum(const Node& node, std::span<const Tensor> in, KernelEnv&) {
  const EinsumSpec spec = parse_equation(node);
  std::vector<PartialShape> shapes;
  for (const auto& t : in) {
    SLUICE_CHECK(t.type() == in[0].type(), where(node), "inputs have element types ", to_string(in[0].type()),
                 " and ", to_string(t.type()), "; expected one type");
    shapes.emplace_back(t.shape());
  }
  const EinsumPlan plan = plan_einsum(node, spec, shapes);
  Shape extents;
  for (const auto& d : plan.dims) extents.push_back(d.extent());
  Tensor y(in[0].type(), Shape(extents.begin(), extents.begin() + static_cast<int64_t>(plan.output_dims)));
  dispatch_numeric(in[0].type(), where(node), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) einsum_kernel<T>(plan, extents, in, y);
  });
  return {y};
}

}  // namespace

void register_einsum_ops(OpRegistry& registry) {
  registry.add(OpSchema{"", "Einsum", 12, 1, -1, 1, 1, validate_einsum, infer_einsum, run_einsum});
}

}  // namespace sluice::ops::nn
