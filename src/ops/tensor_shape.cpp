// Operators that produce, re-view or broadcast a tensor: Identity, Dropout, Constant, ConstantOfShape,
// Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, Expand.
#include <algorithm>
#include <random>

#include "ops/tensor_common.hpp"

namespace sluice::ops::tensor {
namespace {

// ---------------------------------------------------------------------------------------------- Identity

void add_identity(OpRegistry& registry) {
  OpSchema s = make_schema("Identity", 1, 1, 1);
  // Opset 14 passes sequences through and opset 16 optionals (an absent one stays absent).
  s.takes_sequences = true;
  s.takes_strings = true;
  s.infer = [](InferContext& ctx) {
    infer_same_as_input(ctx);
    ctx.set_output_kind(0, ctx.input_kind(0));
  };
  s.reference = [](const Node&, std::span<const Tensor> in, KernelEnv&) {
    return std::vector<Tensor>{in[0]};
  };
  registry.add(std::move(s));
}

// ----------------------------------------------------------------------------------------------- Dropout

// How a Dropout version receives its settings.
enum class DropoutForm {
  is_test_attr,         // v1, v6: 'is_test' attribute (0 = training), 'ratio' attribute, mask of type T
  inference_t_mask,     // v7: always inference, mask of type T
  inference_bool_mask,  // v10: always inference, boolean mask
  inputs,               // v12+: 'ratio' and 'training_mode' inputs, 'seed' attribute, boolean mask
};

struct DropoutSettings {
  double ratio = 0.5;
  bool training = false;
  std::optional<int64_t> seed;
};

DropoutSettings dropout_settings(const Node& node, DropoutForm form, std::span<const Tensor> in) {
  DropoutSettings s;
  if (form == DropoutForm::inputs) {
    if (in.size() > 1 && !in[1].empty()) s.ratio = kernel_scalar_double(in[1], node, "ratio");
    if (in.size() > 2 && !in[2].empty()) {
      SLUICE_CHECK(in[2].type() == ElementType::boolean && in[2].size() == 1, where(node),
                   "input 'training_mode' must be a boolean scalar; got ", to_string(in[2].type()), " ",
                   to_string(in[2].shape()));
      s.training = in[2].data<bool>()[0];
    }
    if (node.has_attr("seed")) s.seed = node.attr_int("seed");
  } else {
    s.ratio = node.attr_float("ratio", 0.5f);
    if (form == DropoutForm::is_test_attr) s.training = node.attr_int("is_test", 0) == 0;
  }
  return s;
}

// The uniform [0, 1) doubles of numpy's legacy generator (np.random.seed(seed); np.random.uniform()):
// MT19937 seeded by init_genrand (as std::mt19937 is), 53 bits from two draws. With it, a seeded
// training-mode Dropout keeps the elements the ONNX reference implementation keeps.
class NumpyUniform {
 public:
  explicit NumpyUniform(int64_t seed) : engine_(static_cast<uint32_t>(seed)) {}
  double operator()() {
    const uint32_t a = static_cast<uint32_t>(engine_()) >> 5;
    const uint32_t b = static_cast<uint32_t>(engine_()) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

 private:
  std::mt19937 engine_;
};

// Keeps each element with probability 1 - ratio (uniform >= ratio) and scales kept ones by 1 / (1 - ratio).
Tensor dropout_training(const Node& node, const Tensor& x, const DropoutSettings& s, Tensor& mask) {
  NumpyUniform uniform(*s.seed);
  Tensor y(x.type(), x.shape());
  const double scale = 1.0 / (1.0 - s.ratio);
  const Tensor kept = mask.empty() ? Tensor() : scalar_of_type(mask.type(), 1.0);
  const Tensor dropped = mask.empty() ? Tensor() : scalar_of_type(mask.type(), 0.0);
  dispatch_floating(x.type(), where(node) + "input 'data'", [&](auto zero) {
    using T = decltype(zero);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for (int64_t i = 0; i < x.size(); ++i) {
      const bool keep = uniform() >= s.ratio;
      dst[i] = keep ? T(static_cast<compute_t<T>>(static_cast<double>(src[i]) * scale)) : T(0.0f);
      if (!mask.empty()) copy_element(keep ? kept : dropped, 0, mask, i);
    }
  });
  return y;
}

std::vector<Tensor> run_dropout(const Node& node, DropoutForm form, std::span<const Tensor> in) {
  const DropoutSettings s = dropout_settings(node, form, in);
  const Tensor& x = in[0];
  const bool want_mask = node.has_output(1);
  const ElementType mask_type = form == DropoutForm::is_test_attr || form == DropoutForm::inference_t_mask
                                    ? x.type()
                                    : ElementType::boolean;
  Tensor mask;
  if (want_mask) mask = Tensor(mask_type, x.shape());
  const bool drops = s.training && s.ratio != 0.0;
  if (drops) {
    SLUICE_CHECK(s.ratio > 0.0 && s.ratio < 1.0, where(node), "ratio ", s.ratio,
                 " is out of range; expected 0 <= ratio < 1");
    SLUICE_CHECK(s.seed.has_value(), where(node), "training-mode dropout with ratio ", s.ratio,
                 " gives random results and the node has no 'seed' attribute; Sluice only runs "
                 "reproducible dropout (set 'seed', a ratio of 0, or training_mode false / is_test 1)");
    std::vector<Tensor> outs{dropout_training(node, x, s, mask), mask};
    outs.resize(node.outputs.size());
    return outs;
  }
  if (want_mask) {
    const Tensor one = scalar_of_type(mask_type, 1.0);
    for (int64_t i = 0; i < mask.size(); ++i) copy_element(one, 0, mask, i);
  }
  std::vector<Tensor> outs{x, mask};
  outs.resize(node.outputs.size());
  return outs;
}

void add_dropout(OpRegistry& registry, int64_t since, DropoutForm form) {
  OpSchema s = make_schema("Dropout", since, 1, form == DropoutForm::inputs ? 3 : 1, 1, 2);
  s.validate = [form](const Node& node) {
    if (form == DropoutForm::inputs) return;
    const float ratio = node.attr_float("ratio", 0.5f);
    SLUICE_CHECK(ratio >= 0.0f && ratio < 1.0f, where(node), "attribute 'ratio' is ", ratio,
                 "; expected 0 <= ratio < 1");
  };
  s.infer = [form](InferContext& ctx) {
    const ElementType x = ctx.input_type(0);
    if (x != ElementType::undefined) {
      SLUICE_CHECK(is_floating(x), where(ctx.node), "input 'data' has element type ", to_string(x),
                   "; expected a floating type");
    }
    if (form == DropoutForm::inputs && ctx.has_input(2)) {
      const ElementType t = ctx.input_type(2);
      SLUICE_CHECK(t == ElementType::undefined || t == ElementType::boolean, where(ctx.node),
                   "input 'training_mode' has element type ", to_string(t), "; expected boolean");
    }
    const bool t_mask = form == DropoutForm::is_test_attr || form == DropoutForm::inference_t_mask;
    ctx.set_output(0, x, ctx.input_shape(0));
    ctx.set_output(1, t_mask ? x : ElementType::boolean, ctx.input_shape(0));
  };
  s.reference = [form](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return run_dropout(node, form, in);
  };
  registry.add(std::move(s));
}

// ---------------------------------------------------------------------------------------------- Constant

const char* const constant_value_attrs[] = {"value",      "value_float",  "value_floats",  "value_int",
                                            "value_ints", "value_string", "value_strings", "sparse_value"};

Tensor constant_value(const Node& node) {
  int count = 0;
  for (const char* attr : constant_value_attrs) count += node.has_attr(attr) ? 1 : 0;
  SLUICE_CHECK(count == 1, where(node),
               "expected exactly one of the attributes value, value_float, "
               "value_floats, value_int, value_ints, value_string, value_strings, sparse_value; got ",
               count);
  SLUICE_CHECK(!node.has_attr("value_string") && !node.has_attr("value_strings"), where(node),
               "string constants are not supported (Sluice has no string element type)");
  SLUICE_CHECK(!node.has_attr("sparse_value"), where(node),
               "attribute 'sparse_value' is not supported "
               "(sparse tensors are out of scope); give the constant as a dense 'value'");
  if (node.has_attr("value")) return node.attr_tensor("value");
  if (node.has_attr("value_float")) return Tensor::scalar<float>(node.attr_float("value_float"));
  if (node.has_attr("value_int")) return Tensor::scalar<int64_t>(node.attr_int("value_int"));
  if (node.has_attr("value_floats")) {
    const auto v = node.attr_floats("value_floats");
    return Tensor::from<float>({static_cast<int64_t>(v.size())}, std::span<const float>(v));
  }
  const auto v = node.attr_ints("value_ints");
  return Tensor::from<int64_t>({static_cast<int64_t>(v.size())}, std::span<const int64_t>(v));
}

void add_constant(OpRegistry& registry) {
  OpSchema s = make_schema("Constant", 1, 0, 0);
  s.validate = [](const Node& node) { constant_value(node); };
  s.infer = [](InferContext& ctx) {
    const Tensor value = constant_value(ctx.node);
    ctx.set_output(0, value.type(), PartialShape(value.shape()));
  };
  s.reference = [](const Node& node, std::span<const Tensor>, KernelEnv&) {
    return std::vector<Tensor>{constant_value(node).clone()};
  };
  registry.add(std::move(s));
}

// --------------------------------------------------------------------------------------- ConstantOfShape

Tensor constant_of_shape_value(const Node& node) {
  if (!node.has_attr("value")) return Tensor::scalar<float>(0.0f);
  Tensor value = node.attr_tensor("value");
  SLUICE_CHECK(value.size() == 1, where(node), "attribute 'value' has shape ", to_string(value.shape()),
               "; expected a one-element tensor");
  return value;
}

void check_shape_values(const std::vector<int64_t>& dims, const Node& node, const std::string& input) {
  for (int64_t d : dims) {
    SLUICE_CHECK(d >= 0, where(node), "input '", input, "' holds the negative extent ", d);
  }
}

void add_constant_of_shape(OpRegistry& registry) {
  OpSchema s = make_schema("ConstantOfShape", 9, 1, 1);
  s.validate = [](const Node& node) { constant_of_shape_value(node); };
  s.infer = [](InferContext& ctx) {
    const ElementType type = constant_of_shape_value(ctx.node).type();
    check_integer_input(ctx.input_type(0), ctx.node, "input");
    if (auto dims = constant_ints(ctx, 0)) {
      check_shape_values(*dims, ctx.node, "input");
      ctx.set_output(0, type, PartialShape(Shape(*dims)));
    } else if (ctx.input_shape(0).rank_known() && ctx.input_shape(0).rank() == 1 &&
               ctx.input_shape(0)[0].is_static()) {
      ctx.set_output(0, type, dynamic_shape(ctx.input_shape(0)[0].extent()));
    } else {
      ctx.set_output(0, type, PartialShape());
    }
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    check_rank(in[0], 1, 1, node, "input");
    const auto dims = kernel_ints(in[0], node, "input");
    check_shape_values(dims, node, "input");
    const Tensor value = constant_of_shape_value(node);
    Tensor out(value.type(), Shape(dims));
    for (int64_t i = 0; i < out.size(); ++i) copy_element(value, 0, out, i);
    return std::vector<Tensor>{out};
  };
  registry.add(std::move(s));
}

// ----------------------------------------------------------------------------------------------- Reshape

void check_reshape_target(const std::vector<int64_t>& target, bool allowzero, const Node& node) {
  int inferred = 0;
  bool has_zero = false;
  for (int64_t t : target) {
    SLUICE_CHECK(t >= -1, where(node), "target shape holds ", t, "; expected -1, 0 or a positive extent");
    inferred += t == -1 ? 1 : 0;
    has_zero = has_zero || t == 0;
  }
  SLUICE_CHECK(inferred <= 1, where(node), "target shape holds -1 more than once");
  SLUICE_CHECK(!(allowzero && has_zero && inferred), where(node),
               "with allowzero=1 the target shape may not hold both 0 and -1");
}

// The static output shape of Reshape.
Shape reshape_shape(const Shape& in, const std::vector<int64_t>& target, bool allowzero, const Node& node) {
  check_reshape_target(target, allowzero, node);
  Shape out(target.size());
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allowzero) {
      SLUICE_CHECK(i < in.size(), where(node), "target shape copies dimension ", i, " (a 0) but input ",
                   to_string(in), " has rank ", in.size());
      out[i] = in[i];
    } else if (target[i] == -1) {
      infer_at = static_cast<int64_t>(i);
      continue;
    } else {
      out[i] = target[i];
    }
    known *= out[i];
  }
  const int64_t total = shape_size(in);
  if (infer_at >= 0) {
    SLUICE_CHECK(known != 0 && total % known == 0, where(node), "cannot reshape ", to_string(in), " (", total,
                 " elements) to ", to_string(Shape(target)), ": the -1 cannot be inferred");
    out[static_cast<size_t>(infer_at)] = total / known;
  }
  SLUICE_CHECK(shape_size(out) == total, where(node), "cannot reshape ", to_string(in), " (", total,
               " elements) to ", to_string(out), " (", shape_size(out), " elements)");
  return out;
}

// The -1 extent when the input dims not copied can be matched against the output dims: the static parts
// divide and the dynamic parts cancel by symbol.
Dimension infer_minus_one(const std::vector<Dimension>& rest_in, const std::vector<Dimension>& rest_out) {
  int64_t in_product = 1;
  int64_t out_product = 1;
  std::vector<std::string> in_symbols;
  std::vector<std::string> out_symbols;
  for (const Dimension& d : rest_in) {
    if (d.is_static()) {
      in_product *= d.extent();
    } else {
      if (d.symbol().empty()) return Dimension::dynamic();
      in_symbols.push_back(d.symbol());
    }
  }
  for (const Dimension& d : rest_out) {
    if (d.is_static()) {
      out_product *= d.extent();
    } else {
      if (d.symbol().empty()) return Dimension::dynamic();
      out_symbols.push_back(d.symbol());
    }
  }
  std::sort(in_symbols.begin(), in_symbols.end());
  std::sort(out_symbols.begin(), out_symbols.end());
  if (out_symbols.size() > in_symbols.size()) return Dimension::dynamic();
  std::vector<std::string> left;
  std::set_difference(in_symbols.begin(), in_symbols.end(), out_symbols.begin(), out_symbols.end(),
                      std::back_inserter(left));
  if (left.size() + out_symbols.size() != in_symbols.size()) return Dimension::dynamic();
  if (out_product == 0 || in_product % out_product != 0) return Dimension::dynamic();
  const int64_t extent = in_product / out_product;
  if (left.empty()) return Dimension(extent);
  if (left.size() == 1 && extent == 1) return Dimension::dynamic(left[0]);
  return Dimension::dynamic();
}

PartialShape reshape_partial(const PartialShape& in, const std::vector<int64_t>& target, bool allowzero,
                             const Node& node) {
  check_reshape_target(target, allowzero, node);
  if (in.is_static()) return PartialShape(reshape_shape(in.to_shape(), target, allowzero, node));
  std::vector<Dimension> out(target.size());
  std::vector<bool> copied(in.rank_known() ? static_cast<size_t>(in.rank()) : 0, false);
  int64_t infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == 0 && !allowzero) {
      if (in.rank_known()) {
        SLUICE_CHECK(static_cast<int64_t>(i) < in.rank(), where(node), "target shape copies dimension ", i,
                     " (a 0) but the input has rank ", in.rank());
        out[i] = in[i];
        copied[i] = true;
      }
    } else if (target[i] == -1) {
      infer_at = static_cast<int64_t>(i);
    } else {
      out[i] = Dimension(target[i]);
    }
  }
  if (infer_at >= 0 && in.rank_known()) {
    std::vector<Dimension> rest_in;
    std::vector<Dimension> rest_out;
    for (size_t i = 0; i < copied.size(); ++i) {
      if (!copied[i]) rest_in.push_back(in[i]);
    }
    for (size_t i = 0; i < target.size(); ++i) {
      const bool copied_here = target[i] == 0 && !allowzero;
      if (static_cast<int64_t>(i) != infer_at && !copied_here) rest_out.push_back(out[i]);
    }
    out[static_cast<size_t>(infer_at)] = infer_minus_one(rest_in, rest_out);
  }
  return PartialShape(out);
}

// Reshape-1..4 take the target as attribute 'shape'; later versions as input 1.
void add_reshape(OpRegistry& registry, int64_t since, bool shape_input, bool has_allowzero) {
  OpSchema s = make_schema("Reshape", since, shape_input ? 2 : 1, shape_input ? 2 : 1);
  s.takes_strings = true;  // a view (or the shape): the elements are not touched
  s.validate = [shape_input](const Node& node) {
    if (!shape_input) node.attr_ints("shape");
  };
  s.infer = [shape_input, has_allowzero](InferContext& ctx) {
    const bool allowzero = has_allowzero && ctx.node.attr_int("allowzero", 0) != 0;
    const ElementType type = ctx.input_type(0);
    std::optional<std::vector<int64_t>> target;
    if (shape_input) {
      check_integer_input(ctx.input_type(1), ctx.node, "shape");
      target = constant_ints(ctx, 1);
    } else {
      target = ctx.node.attr_ints("shape");
    }
    if (target) {
      ctx.set_output(0, type, reshape_partial(ctx.input_shape(0), *target, allowzero, ctx.node));
    } else if (ctx.input_shape(1).rank_known() && ctx.input_shape(1).rank() == 1 &&
               ctx.input_shape(1)[0].is_static()) {
      ctx.set_output(0, type, dynamic_shape(ctx.input_shape(1)[0].extent()));
    } else {
      ctx.set_output(0, type, PartialShape());
    }
  };
  s.reference = [shape_input, has_allowzero](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const bool allowzero = has_allowzero && node.attr_int("allowzero", 0) != 0;
    std::vector<int64_t> target;
    if (shape_input) {
      check_rank(in[1], 1, 1, node, "shape");
      target = kernel_ints(in[1], node, "shape");
    } else {
      target = node.attr_ints("shape");
    }
    return std::vector<Tensor>{in[0].reshaped(reshape_shape(in[0].shape(), target, allowzero, node))};
  };
  registry.add(std::move(s));
}

// ----------------------------------------------------------------------------------------------- Flatten

int64_t flatten_axis(const Node& node, int64_t rank) {
  const int64_t axis = node.attr_int("axis", 1);
  SLUICE_CHECK(axis >= -rank && axis <= rank, where(node), "attribute 'axis' is ", axis, "; expected -", rank,
               " to ", rank, " for an input of rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

void add_flatten(OpRegistry& registry) {
  OpSchema s = make_schema("Flatten", 1, 1, 1);
  s.takes_strings = true;  // a view (or the shape): the elements are not touched
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    if (!in.rank_known()) {
      ctx.set_output(0, ctx.input_type(0), dynamic_shape(2));
      return;
    }
    const auto axis = static_cast<size_t>(flatten_axis(ctx.node, in.rank()));
    ctx.set_output(0, ctx.input_type(0),
                   PartialShape({product_of_dims(in.dims(), 0, axis),
                                 product_of_dims(in.dims(), axis, in.dims().size())}));
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Shape& shape = in[0].shape();
    const auto axis = static_cast<size_t>(flatten_axis(node, in[0].rank()));
    int64_t outer = 1;
    for (size_t d = 0; d < axis; ++d) outer *= shape[d];
    int64_t inner = 1;
    for (size_t d = axis; d < shape.size(); ++d) inner *= shape[d];
    return std::vector<Tensor>{in[0].reshaped({outer, inner})};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------- Squeeze, Unsqueeze

// Axes from attribute 'axes' (before v13) or input 1 (v13+); nullopt when given by a non-constant input
// or, where optional, not given at all (`given` tells which).
struct AxesSource {
  bool from_input;
  std::optional<std::vector<int64_t>> values;
  bool given;
};

AxesSource axes_for_infer(const InferContext& ctx, bool from_input) {
  if (from_input) {
    if (!ctx.has_input(1)) return {true, std::nullopt, false};
    check_integer_input(ctx.input_type(1), ctx.node, "axes");
    return {true, constant_ints(ctx, 1), true};
  }
  if (!ctx.node.has_attr("axes")) return {false, std::nullopt, false};
  return {false, ctx.node.attr_ints("axes"), true};
}

std::optional<std::vector<int64_t>> axes_for_kernel(const Node& node, std::span<const Tensor> in,
                                                    bool from_input) {
  if (from_input) {
    if (in.size() < 2 || in[1].empty()) return std::nullopt;
    check_rank(in[1], 0, 1, node, "axes");
    return kernel_ints(in[1], node, "axes");
  }
  if (!node.has_attr("axes")) return std::nullopt;
  return node.attr_ints("axes");
}

// The length of 1-D input 1 (axes, target shape) when its shape says it, or -1.
int64_t input1_length(const InferContext& ctx) {
  const PartialShape axes = input_shape_or_unknown(ctx, 1);
  if (axes.rank_known() && axes.rank() == 1 && axes[0].is_static()) return axes[0].extent();
  if (axes.rank_known() && axes.rank() == 0) return 1;
  return -1;
}

void add_squeeze(OpRegistry& registry, int64_t since, bool axes_input) {
  OpSchema s = make_schema("Squeeze", since, 1, axes_input ? 2 : 1);
  s.takes_strings = true;  // a view (or the shape): the elements are not touched
  s.infer = [axes_input](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    const AxesSource axes = axes_for_infer(ctx, axes_input);
    if (!in.rank_known()) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    if (axes.given && !axes.values) {
      const int64_t n = input1_length(ctx);
      ctx.set_output(0, type, n >= 0 ? dynamic_shape(in.rank() - n) : PartialShape());
      return;
    }
    std::vector<Dimension> out;
    if (!axes.given) {
      for (const Dimension& d : in.dims()) {
        if (d.is_dynamic()) {
          ctx.set_output(0, type, PartialShape());  // a dynamic dim may or may not be 1
          return;
        }
        if (d.extent() != 1) out.push_back(d);
      }
      ctx.set_output(0, type, PartialShape(out));
      return;
    }
    const auto normalized = normalize_axes(*axes.values, in.rank(), ctx.node, "'axes'");
    for (int64_t d = 0; d < in.rank(); ++d) {
      const bool squeezed = std::find(normalized.begin(), normalized.end(), d) != normalized.end();
      const Dimension& dim = in[static_cast<size_t>(d)];
      SLUICE_CHECK(!squeezed || dim.accepts(1), where(ctx.node), "cannot squeeze axis ", d, " of input ",
                   in.to_string(), ": its extent is not 1");
      if (!squeezed) out.push_back(dim);
    }
    ctx.set_output(0, type, PartialShape(out));
  };
  s.reference = [axes_input](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Shape& shape = in[0].shape();
    const auto axes = axes_for_kernel(node, in, axes_input);
    Shape out;
    if (!axes) {
      for (int64_t d : shape) {
        if (d != 1) out.push_back(d);
      }
    } else {
      const auto normalized = normalize_axes(*axes, in[0].rank(), node, "'axes'");
      for (size_t d = 0; d < shape.size(); ++d) {
        const bool squeezed =
            std::find(normalized.begin(), normalized.end(), static_cast<int64_t>(d)) != normalized.end();
        SLUICE_CHECK(!squeezed || shape[d] == 1, where(node), "cannot squeeze axis ", d, " of input ",
                     to_string(shape), ": its extent is not 1");
        if (!squeezed) out.push_back(shape[d]);
      }
    }
    return std::vector<Tensor>{in[0].reshaped(out)};
  };
  registry.add(std::move(s));
}

template <class DimT>
std::vector<DimT> unsqueeze_dims(const std::vector<DimT>& in, const std::vector<int64_t>& axes,
                                 const Node& node) {
  const auto out_rank = static_cast<int64_t>(in.size() + axes.size());
  const auto normalized = normalize_axes(axes, out_rank, node, "'axes'");
  std::vector<DimT> out;
  size_t next = 0;
  for (int64_t d = 0; d < out_rank; ++d) {
    if (std::find(normalized.begin(), normalized.end(), d) != normalized.end()) {
      out.push_back(DimT(1));
    } else {
      out.push_back(in[next++]);
    }
  }
  return out;
}

void add_unsqueeze(OpRegistry& registry, int64_t since, bool axes_input) {
  OpSchema s = make_schema("Unsqueeze", since, axes_input ? 2 : 1, axes_input ? 2 : 1);
  s.takes_strings = true;  // a view (or the shape): the elements are not touched
  s.validate = [axes_input](const Node& node) {
    if (!axes_input) node.attr_ints("axes");
  };
  s.infer = [axes_input](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    const AxesSource axes = axes_for_infer(ctx, axes_input);
    if (!in.rank_known()) {
      ctx.set_output(0, type, PartialShape());
    } else if (!axes.values) {
      const int64_t n = input1_length(ctx);
      ctx.set_output(0, type, n >= 0 ? dynamic_shape(in.rank() + n) : PartialShape());
    } else {
      ctx.set_output(0, type, PartialShape(unsqueeze_dims(in.dims(), *axes.values, ctx.node)));
    }
  };
  s.reference = [axes_input](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const auto axes = axes_for_kernel(node, in, axes_input);
    SLUICE_CHECK(axes.has_value(), where(node), "the axes to insert are missing");
    return std::vector<Tensor>{in[0].reshaped(unsqueeze_dims(in[0].shape(), *axes, node))};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------- Shape, Size

// The [start, end) range of dimensions Shape-15 returns, clamped into [0, rank].
std::pair<int64_t, int64_t> shape_range(const Node& node, int64_t rank, bool has_range) {
  if (!has_range) return {0, rank};
  auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t start = clamp(node.attr_int("start", 0));
  const int64_t end = node.has_attr("end") ? clamp(node.attr_int("end")) : rank;
  return {start, std::max(start, end)};
}

void add_shape(OpRegistry& registry, int64_t since, bool has_range) {
  OpSchema s = make_schema("Shape", since, 1, 1);
  s.takes_strings = true;  // a view (or the shape): the elements are not touched
  s.infer = [has_range](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    if (!in.rank_known()) {
      ctx.set_output(0, ElementType::i64, dynamic_shape(1));
      return;
    }
    const auto [start, end] = shape_range(ctx.node, in.rank(), has_range);
    ctx.set_output(0, ElementType::i64, PartialShape({Dimension(end - start)}));
  };
  s.reference = [has_range](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    const Shape& shape = in[0].shape();
    const auto [start, end] = shape_range(node, in[0].rank(), has_range);
    const std::vector<int64_t> dims(shape.begin() + start, shape.begin() + end);
    return std::vector<Tensor>{Tensor::from<int64_t>({end - start}, std::span<const int64_t>(dims))};
  };
  registry.add(std::move(s));
}

void add_size(OpRegistry& registry) {
  OpSchema s = make_schema("Size", 1, 1, 1);
  s.takes_strings = true;  // a view (or the shape): the elements are not touched
  s.infer = [](InferContext& ctx) { ctx.set_output(0, ElementType::i64, PartialShape(Shape{})); };
  s.reference = [](const Node&, std::span<const Tensor> in, KernelEnv&) {
    return std::vector<Tensor>{Tensor::scalar<int64_t>(in[0].size())};
  };
  registry.add(std::move(s));
}

// ------------------------------------------------------------------------------------------------ Expand

void add_expand(OpRegistry& registry) {
  OpSchema s = make_schema("Expand", 8, 2, 2);
  s.infer = [](InferContext& ctx) {
    const PartialShape& in = ctx.input_shape(0);
    const ElementType type = ctx.input_type(0);
    check_integer_input(ctx.input_type(1), ctx.node, "shape");
    if (auto target = constant_ints(ctx, 1)) {
      check_shape_values(*target, ctx.node, "shape");
      ctx.set_output(0, type, broadcast_partial_shapes(in, PartialShape(Shape(*target)), ctx.node));
      return;
    }
    const int64_t n = input1_length(ctx);
    if (!in.rank_known() || n < 0) {
      ctx.set_output(0, type, PartialShape());
      return;
    }
    // Where the input extent is neither 1 nor dynamic, the target must be 1 or the same extent.
    const int64_t rank = std::max(in.rank(), n);
    PartialShape out = dynamic_shape(rank);
    for (int64_t i = 0; i < in.rank(); ++i) {
      const Dimension& d = in[static_cast<size_t>(in.rank() - 1 - i)];
      if (d.is_static() && d.extent() != 1) out[static_cast<size_t>(rank - 1 - i)] = d;
    }
    ctx.set_output(0, type, out);
  };
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    check_rank(in[1], 1, 1, node, "shape");
    const auto target = kernel_ints(in[1], node, "shape");
    check_shape_values(target, node, "shape");
    const Shape out_shape = broadcast_shapes(in[0].shape(), Shape(target), node);
    const Shape& in_shape = in[0].shape();
    const size_t offset = out_shape.size() - in_shape.size();
    std::vector<std::vector<int64_t>> maps(out_shape.size());
    Shape in_view(out_shape.size(), 1);
    for (size_t d = 0; d < out_shape.size(); ++d) {
      const int64_t in_extent = d >= offset ? in_shape[d - offset] : 1;
      in_view[d] = in_extent;
      for (int64_t i = 0; i < out_shape[d]; ++i) maps[d].push_back(in_extent == 1 ? 0 : i);
    }
    return std::vector<Tensor>{gather_by_axis_maps(in[0].reshaped(in_view), out_shape, maps)};
  };
  registry.add(std::move(s));
}

}  // namespace

void register_shape_ops(OpRegistry& registry) {
  add_identity(registry);
  add_dropout(registry, 1, DropoutForm::is_test_attr);
  add_dropout(registry, 7, DropoutForm::inference_t_mask);
  add_dropout(registry, 10, DropoutForm::inference_bool_mask);
  add_dropout(registry, 12, DropoutForm::inputs);
  add_constant(registry);
  add_constant_of_shape(registry);
  add_reshape(registry, 1, false, false);
  add_reshape(registry, 5, true, false);
  add_reshape(registry, 14, true, true);
  add_flatten(registry);
  add_squeeze(registry, 1, false);
  add_squeeze(registry, 13, true);
  add_unsqueeze(registry, 1, false);
  add_unsqueeze(registry, 13, true);
  add_shape(registry, 1, false);
  add_shape(registry, 15, true);
  add_size(registry);
  add_expand(registry);
}

}  // namespace sluice::ops::tensor
