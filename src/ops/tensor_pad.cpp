// Padding operators: Pad (v1 'paddings', v2 'pads' attributes; v11+ inputs; v18 axes; v19 wrap mode) and
// CenterCropPad.
#include <algorithm>

#include "ops/tensor_common.hpp"

namespace sluice::ops::tensor {
namespace {

// How a Pad version receives its pads.
enum class PadForm {
  paddings_attr,  // v1: attribute 'paddings', attribute 'value'
  pads_attr,      // v2: attribute 'pads', attribute 'value'
  inputs,         // v11: inputs 'pads' and 'constant_value'
  inputs_axes,    // v18: inputs 'pads', 'constant_value' and 'axes'
};

bool pads_from_inputs(PadForm form) { return form == PadForm::inputs || form == PadForm::inputs_axes; }

std::string check_pad_mode(const Node& node, bool allow_wrap) {
  std::string mode = node.attr_string("mode", "constant");
  const bool known =
      mode == "constant" || mode == "reflect" || mode == "edge" || (allow_wrap && mode == "wrap");
  SLUICE_CHECK(known, where(node), "attribute 'mode' is '", mode, "'; expected constant, reflect, edge",
               allow_wrap ? " or wrap" : " (wrap needs opset 19)");
  return mode;
}

// Expands pads given for `axes` into begin pads of every axis followed by end pads of every axis.
std::vector<int64_t> full_pads(const std::vector<int64_t>& pads,
                               const std::optional<std::vector<int64_t>>& axes, int64_t rank,
                               const Node& node) {
  if (!axes) {
    SLUICE_CHECK(static_cast<int64_t>(pads.size()) == 2 * rank, where(node), "'pads' has ", pads.size(),
                 " entries; expected 2 * rank = ", 2 * rank);
    return pads;
  }
  const auto normalized = normalize_axes(*axes, rank, node, "'axes'");
  const size_t n = normalized.size();
  SLUICE_CHECK(pads.size() == 2 * n, where(node), "'pads' has ", pads.size(), " entries; expected 2 * ", n,
               " for the ", n, " axes given");
  std::vector<int64_t> full(static_cast<size_t>(2 * rank), 0);
  for (size_t i = 0; i < n; ++i) {
    full[static_cast<size_t>(normalized[i])] = pads[i];
    full[static_cast<size_t>(normalized[i] + rank)] = pads[i + n];
  }
  return full;
}

std::vector<int64_t> attr_pads(const Node& node, PadForm form) {
  return node.attr_ints(form == PadForm::paddings_attr ? "paddings" : "pads");
}

// The input coordinate an output coordinate `c` (relative to the first kept input element) reads in a
// non-constant mode, for `kept` kept input elements; -1 for the constant fill.
int64_t padded_source(int64_t c, int64_t kept, const std::string& mode) {
  if (c >= 0 && c < kept) return c;
  if (mode == "constant") return -1;
  if (mode == "edge") return std::clamp<int64_t>(c, 0, kept - 1);
  if (mode == "wrap") return ((c % kept) + kept) % kept;
  if (kept == 1) return 0;  // reflect
  const int64_t period = 2 * (kept - 1);
  const int64_t m = ((c % period) + period) % period;
  return m > kept - 1 ? period - m : m;
}

// Pads (or, for negative pads, crops) every axis: negative pads crop first, then the kept part is padded.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, const Tensor& fill,
           const Node& node) {
  const auto rank = static_cast<size_t>(x.rank());
  Shape out_shape(rank);
  std::vector<std::vector<int64_t>> maps(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t extent = x.shape()[d];
    const int64_t begin = pads[d];
    const int64_t end = pads[d + rank];
    const int64_t crop_begin = std::max<int64_t>(0, -begin);
    const int64_t kept = extent - crop_begin - std::max<int64_t>(0, -end);
    out_shape[d] = extent + begin + end;
    SLUICE_CHECK(kept >= 0 && out_shape[d] >= 0, where(node), "pads ", begin, " and ", end, " on axis ", d,
                 " crop more than its extent ", extent);
    SLUICE_CHECK(mode == "constant" || kept > 0 || out_shape[d] == 0, where(node), "cannot pad axis ", d,
                 " in mode '", mode, "': no input elements remain to pad from");
    const int64_t pad_begin = std::max<int64_t>(0, begin);
    for (int64_t o = 0; o < out_shape[d]; ++o) {
      const int64_t source = padded_source(o - pad_begin, kept, mode);
      maps[d].push_back(source < 0 ? -1 : source + crop_begin);
    }
  }
  return gather_by_axis_maps(x, out_shape, maps, fill.data());
}

PartialShape pad_shape(const PartialShape& in, const std::vector<int64_t>& pads) {
  PartialShape out = in;
  const size_t rank = in.dims().size();
  for (size_t d = 0; d < rank; ++d) {
    const int64_t change = pads[d] + pads[d + rank];
    if (in[d].is_static()) {
      out[d] = Dimension(std::max<int64_t>(in[d].extent() + change, 0));
    } else if (change != 0) {
      out[d] = Dimension::dynamic();
    }
  }
  return out;
}

void add_pad(OpRegistry& registry, int64_t since, PadForm form, bool allow_wrap) {
  const int max_inputs = form == PadForm::inputs_axes ? 4 : pads_from_inputs(form) ? 3 : 1;
  OpSchema s = make_schema("Pad", since, pads_from_inputs(form) ? 2 : 1, max_inputs);
  s.validate = [form, allow_wrap](const Node& node) {
    check_pad_mode(node, allow_wrap);
    if (!pads_from_inputs(form)) attr_pads(node, form);
  };
  s.infer = [form](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    std::optional<std::vector<int64_t>> pads;
    std::optional<std::vector<int64_t>> axes;
    bool known = true;
    if (pads_from_inputs(form)) {
      check_integer_input(ctx.input_type(1), ctx.node, "pads");
      pads = constant_ints(ctx, 1);
      if (ctx.has_input(2) && type != ElementType::undefined) {
        const ElementType value_type = ctx.input_type(2);
        SLUICE_CHECK(value_type == ElementType::undefined || value_type == type, where(ctx.node),
                     "input 'constant_value' has element type ", to_string(value_type), "; expected ",
                     to_string(type), " like input 'data'");
      }
      if (form == PadForm::inputs_axes && ctx.has_input(3)) {
        check_integer_input(ctx.input_type(3), ctx.node, "axes");
        axes = constant_ints(ctx, 3);
        known = axes.has_value();
      }
      known = known && pads.has_value();
    } else {
      pads = attr_pads(ctx.node, form);
    }
    if (!in.rank_known()) {
      ctx.set_output(0, type, PartialShape());
    } else if (!known) {
      ctx.set_output(0, type, dynamic_shape(in.rank()));
    } else {
      ctx.set_output(0, type, pad_shape(in, full_pads(*pads, axes, in.rank(), ctx.node)));
    }
  };
  s.reference = [form, allow_wrap](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    const std::string mode = check_pad_mode(node, allow_wrap);
    std::vector<int64_t> pads;
    std::optional<std::vector<int64_t>> axes;
    Tensor fill;
    if (pads_from_inputs(form)) {
      check_rank(in[1], 1, 1, node, "pads");
      pads = kernel_ints(in[1], node, "pads");
      if (in.size() > 2 && !in[2].empty()) {
        SLUICE_CHECK(in[2].type() == x.type() && in[2].size() == 1, where(node),
                     "input 'constant_value' must be one value of type ", to_string(x.type()), "; got ",
                     to_string(in[2].type()), " ", to_string(in[2].shape()));
        fill = in[2];
      }
      if (in.size() > 3 && !in[3].empty()) axes = kernel_ints(in[3], node, "axes");
    } else {
      pads = attr_pads(node, form);
      fill = scalar_of_type(x.type(), node.attr_float("value", 0.0f));
    }
    if (fill.empty()) fill = scalar_of_type(x.type(), 0.0);
    return std::vector<Tensor>{pad(x, full_pads(pads, axes, x.rank(), node), mode, fill, node)};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------ CenterCropPad

std::vector<int64_t> crop_pad_axes(const Node& node, int64_t rank) {
  if (!node.has_attr("axes")) {
    std::vector<int64_t> axes(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d) axes[static_cast<size_t>(d)] = d;
    return axes;
  }
  return normalize_axes(node.attr_ints("axes"), rank, node, "attribute 'axes'");
}

void add_center_crop_pad(OpRegistry& registry) {
  OpSchema s = make_schema("CenterCropPad", 18, 2, 2);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    check_integer_input(ctx.input_type(1), ctx.node, "shape");
    if (!in.rank_known()) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    const auto axes = crop_pad_axes(ctx.node, in.rank());
    const auto target = constant_ints(ctx, 1);
    PartialShape out = in;
    if (target) {
      SLUICE_CHECK(target->size() == axes.size(), where(ctx.node), "input 'shape' has ", target->size(),
                   " entries; expected one per axis (", axes.size(), ")");
    }
    for (size_t i = 0; i < axes.size(); ++i) {
      out[static_cast<size_t>(axes[i])] = target ? Dimension((*target)[i]) : Dimension::dynamic();
    }
    ctx.set_output(0, type, out);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Tensor& x = in[0];
    const auto axes = crop_pad_axes(node, x.rank());
    const auto target = kernel_ints(in[1], node, "shape");
    SLUICE_CHECK(target.size() == axes.size(), where(node), "input 'shape' has ", target.size(),
                 " entries; expected one per axis (", axes.size(), ")");
    Shape out_shape = x.shape();
    std::vector<std::vector<int64_t>> maps(out_shape.size());
    for (size_t i = 0; i < axes.size(); ++i) {
      SLUICE_CHECK(target[i] >= 0, where(node), "input 'shape' holds the negative extent ", target[i]);
      out_shape[static_cast<size_t>(axes[i])] = target[i];
    }
    for (size_t d = 0; d < out_shape.size(); ++d) {
      const int64_t extent = x.shape()[d];
      // Cropping starts floor((extent - target) / 2) in; padding puts floor((target - extent) / 2) before.
      const int64_t shift =
          out_shape[d] <= extent ? (extent - out_shape[d]) / 2 : -((out_shape[d] - extent) / 2);
      for (int64_t o = 0; o < out_shape[d]; ++o) {
        const int64_t source = o + shift;
        maps[d].push_back(source >= 0 && source < extent ? source : -1);
      }
    }
    const Tensor zero = scalar_of_type(x.type(), 0.0);
    return std::vector<Tensor>{gather_by_axis_maps(x, out_shape, maps, zero.data())};
  };
  registry.add(std::move(s));
}

}  // namespace

void register_pad_ops(OpRegistry& registry) {
  add_pad(registry, 1, PadForm::paddings_attr, false);
  add_pad(registry, 2, PadForm::pads_attr, false);
  add_pad(registry, 11, PadForm::inputs, false);
  add_pad(registry, 18, PadForm::inputs_axes, false);
  add_pad(registry, 19, PadForm::inputs_axes, true);
  add_center_crop_pad(registry);
}

}  // namespace sluice::ops::tensor
