// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear, and the helpers of ops/quantization.hpp.
//
// Quantized element types: u8 and i8 (every version), the float8 types (opset 19 on), u16 and i16 (opset 21
// on), u4 and i4 (opset 21 on: range [0, 15] / [-8, 7], saturating like the 8-bit types; in memory one
// element per byte), i32 (DequantizeLinear's input). float4 has no Sluice element type; models using it
// are rejected with an error naming the node.
//
// float8 (as the ONNX reference implementation): QuantizeLinear computes x / y_scale in the usual
// precision and casts it to the float8 type like Cast, rounding to nearest even, clamping to +-max with
// `saturate` (the default) or giving NaN (infinity for f8e5m2) without; DequantizeLinear multiplies the
// exact float value by x_scale. A float8 zero point is optional and must be zero (an error otherwise).
#include "ops/quantization.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/elementwise_util.hpp"

namespace sluice::ops::quant {

IntRange int_range(ElementType type) {
  switch (type) {
    case ElementType::u8: return {0, 255};
    case ElementType::i8: return {-128, 127};
    case ElementType::u16: return {0, 65535};
    case ElementType::i16: return {-32768, 32767};
    case ElementType::i32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    case ElementType::u4: return {uint4::min, uint4::max};
    case ElementType::i4: return {int4::min, int4::max};
    default: break;
  }
  throw_error("int_range: element type ", to_string(type), " is not a quantized integer type");
}

double round_to_precision(double v, ElementType type) {
  switch (type) {
    case ElementType::f32: return static_cast<float>(v);
    case ElementType::f16: return static_cast<float>(float16(static_cast<float>(v)));
    case ElementType::bf16: return static_cast<float>(bfloat16(static_cast<float>(v)));
    default: return v;
  }
}

int64_t round_and_saturate(double v, int64_t zero_point, IntRange range) {
  if (std::isnan(v)) return range.lo;
  const double q = std::nearbyint(v) + static_cast<double>(zero_point);
  if (q <= static_cast<double>(range.lo)) return range.lo;
  if (q >= static_cast<double>(range.hi)) return range.hi;
  return static_cast<int64_t>(q);
}

Tensor int_tensor(ElementType type, Shape shape, const std::vector<int64_t>& values) {
  Tensor out(type, std::move(shape));
  if (is_int4(type)) {  // one element per byte: the int8_t / uint8_t value
    auto* p = static_cast<uint8_t*>(out.data());
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<uint8_t>(values[i]);
    return out;
  }
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(out.data());
    for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return out;
}

Tensor numeric_tensor(ElementType type, Shape shape, const std::vector<double>& values) {
  Tensor out(type, std::move(shape));
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(out.data());
    for (size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
        p[i] = T(static_cast<float>(values[i]));
      } else {
        p[i] = static_cast<T>(values[i]);
      }
    }
  });
  return out;
}

ParamLayout param_layout(const Node& node, const Shape& x, const Shape& scale, int64_t axis,
                         int64_t block_size, bool allow_per_axis, const std::string& scale_name) {
  ParamLayout layout;
  if (shape_size(scale) == 1) {
    layout.inner = shape_size(x);
    return layout;
  }
  SLUICE_CHECK(allow_per_axis, where(node), "input '", scale_name, "' has shape ", to_string(scale),
               "; this opset version only allows per-tensor quantization (a scalar or 1-element scale)");
  SLUICE_CHECK(!x.empty(), where(node), "input '", scale_name, "' has shape ", to_string(scale),
               " but x is a scalar; expected a scalar or 1-element scale");
  const int64_t rank = static_cast<int64_t>(x.size());
  const size_t a = static_cast<size_t>(normalize_axis(axis, rank, node));
  layout.outer = product(x, 0, a);
  layout.axis_extent = x[a];
  layout.inner = product(x, a + 1, x.size());
  if (block_size <= 0) {
    SLUICE_CHECK(scale.size() == 1 && scale[0] == x[a], where(node), "input '", scale_name, "' has shape ",
                 to_string(scale), "; for per-axis quantization along axis ", a, " of x ", to_string(x),
                 " expected [", x[a], "] (or a scalar for per-tensor quantization)");
    layout.kind = ParamLayout::Kind::per_axis;
    return layout;
  }
  Shape expected = x;
  expected[a] = (x[a] + block_size - 1) / block_size;
  SLUICE_CHECK(scale == expected, where(node), "input '", scale_name, "' has shape ", to_string(scale),
               "; for blocked quantization of x ", to_string(x), " along axis ", a, " with block_size ",
               block_size, " expected ", to_string(expected));
  layout.kind = ParamLayout::Kind::blocked;
  layout.block_size = block_size;
  layout.param_axis_extent = expected[a];
  return layout;
}

void check_zero_point_shape(const Node& node, const Shape& scale, const Shape& zero_point,
                            const std::string& zero_point_name) {
  const bool both_single = shape_size(scale) == 1 && shape_size(zero_point) == 1;
  SLUICE_CHECK(both_single || scale == zero_point, where(node), "input '", zero_point_name, "' has shape ",
               to_string(zero_point), "; expected the scale's shape ", to_string(scale));
}

void check_param_shapes(const Node& node, const PartialShape& x, const PartialShape& scale,
                        const PartialShape* zero_point, int64_t axis, int64_t block_size,
                        bool allow_per_axis) {
  if (!x.is_static() || !scale.is_static()) return;
  param_layout(node, x.to_shape(), scale.to_shape(), axis, block_size, allow_per_axis, "scale");
  if (zero_point && zero_point->is_static()) {
    check_zero_point_shape(node, scale.to_shape(), zero_point->to_shape(), "zero_point");
  }
}

namespace {

// Which features an opset version of QuantizeLinear / DequantizeLinear has.
struct QuantVersion {
  int64_t since = 10;
  bool per_axis() const { return since >= 13; }
  bool sixteen_bit() const { return since >= 21; }
  bool four_bit() const { return since >= 21; }
  bool blocked() const { return since >= 21; }
  bool float_scales() const { return since >= 19; }  // f16 / bf16 scales and x
  bool float8() const { return since >= 19; }        // float8 quantized types, `saturate`
};

bool is_storage_type(ElementType type, QuantVersion v) {
  switch (type) {
    case ElementType::u8:
    case ElementType::i8: return true;
    case ElementType::u16:
    case ElementType::i16: return v.sixteen_bit();
    case ElementType::u4:
    case ElementType::i4: return v.four_bit();
    default: return v.float8() && is_float8(type);
  }
}

std::string storage_types(QuantVersion v) {
  return v.sixteen_bit() ? "u8, i8, u16, i16, u4, i4 or a float8 type"
         : v.float8()    ? "u8, i8 or a float8 type"
                         : "u8 or i8";
}

// The values of an integer tensor, the 4-bit types included.
std::vector<int64_t> int_values(const Tensor& t) {
  if (!is_int4(t.type())) return to_int64s(t);
  std::vector<int64_t> out(static_cast<size_t>(t.size()));
  const auto* bytes = static_cast<const uint8_t*>(t.data());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = t.type() == ElementType::i4 ? static_cast<int8_t>(bytes[i]) : bytes[i];
  }
  return out;
}

// The values of a float8 tensor (exact as doubles).
std::vector<double> float8_values(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.size()));
  const auto* bits = static_cast<const uint8_t*>(t.data());
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.type()) {
      case ElementType::f8e4m3fn: out[i] = float8_e4m3fn::from_bits(bits[i]); break;
      case ElementType::f8e4m3fnuz: out[i] = float8_e4m3fnuz::from_bits(bits[i]); break;
      case ElementType::f8e5m2: out[i] = float8_e5m2::from_bits(bits[i]); break;
      case ElementType::f8e5m2fnuz: out[i] = float8_e5m2fnuz::from_bits(bits[i]); break;
      default: throw_error("float8_values: element type ", to_string(t.type()), " is not a float8 type");
    }
  }
  return out;
}

// A float8 tensor of `type` holding `values` (x / scale), each narrowed to float with round-to-odd so that
// the rounding to float8 is the only one that counts.
Tensor float8_tensor(ElementType type, Shape shape, const std::vector<double>& values, bool saturate) {
  Tensor out(type, std::move(shape));
  auto* bits = static_cast<uint8_t*>(out.data());
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = elementwise::narrow_round_to_odd(values[i]);
    switch (type) {
      case ElementType::f8e4m3fn: bits[i] = float8_e4m3fn::from_float(v, saturate).bits; break;
      case ElementType::f8e4m3fnuz: bits[i] = float8_e4m3fnuz::from_float(v, saturate).bits; break;
      case ElementType::f8e5m2: bits[i] = float8_e5m2::from_float(v, saturate).bits; break;
      case ElementType::f8e5m2fnuz: bits[i] = float8_e5m2fnuz::from_float(v, saturate).bits; break;
      default: throw_error("float8_tensor: element type ", to_string(type), " is not a float8 type");
    }
  }
  return out;
}

// A float8 zero point carries no offset: the reference implementation requires it to be zero.
void check_float8_zero_point(const Node& node, const Tensor& zp, const std::string& name) {
  for (double v : float8_values(zp)) {
    SLUICE_CHECK(v == 0.0, where(node), "input '", name, "' holds ", v, "; a float8 zero point must be 0");
  }
}

void check_attr_version(const Node& node, const std::string& attr, int64_t needed) {
  SLUICE_CHECK(!node.has_attr(attr) || node.opset_version >= needed, where(node), "attribute '", attr,
               "' needs opset ", needed, "; the model imports opset ", node.opset_version);
}

void validate_quant_common(const Node& node, QuantVersion v) {
  check_attr_version(node, "axis", 13);
  check_attr_version(node, "block_size", 21);
  SLUICE_CHECK(node.attr_int("block_size", 0) >= 0, where(node), "attribute 'block_size' is ",
               node.attr_int("block_size", 0), "; expected a value >= 0");
}

// The numpy result type of x / scale: f64 for an integer x, else the wider float type.
ElementType division_precision(ElementType x, ElementType scale) {
  if (!is_floating(x) || x == ElementType::f64 || scale == ElementType::f64) return ElementType::f64;
  if (x == scale) return x;
  return ElementType::f32;
}

// ---- QuantizeLinear -----------------------------------------------------------------------------

void validate_quantize(const Node& node, QuantVersion v) {
  validate_quant_common(node, v);
  check_attr_version(node, "output_dtype", 21);
  check_attr_version(node, "precision", 23);
  check_attr_version(node, "saturate", 19);
  if (node.has_attr("output_dtype")) {
    const ElementType t =
        any_element_type_from_onnx_code(node.attr_int("output_dtype"), node, "output_dtype");
    SLUICE_CHECK(is_storage_type(t, v), where(node), "attribute 'output_dtype' names ", to_string(t),
                 "; expected ", storage_types(v));
  }
  if (node.has_attr("precision")) {
    const ElementType t = element_type_from_onnx_code(node.attr_int("precision"), node, "precision");
    SLUICE_CHECK(is_floating(t), where(node), "attribute 'precision' names ", to_string(t),
                 "; expected a floating type");
  }
}

ElementType quantize_output_type(const Node& node, ElementType zero_point_type, QuantVersion v) {
  ElementType out = ElementType::u8;
  if (node.has_attr("output_dtype")) {
    out = any_element_type_from_onnx_code(node.attr_int("output_dtype"), node, "output_dtype");
  }
  if (zero_point_type != ElementType::undefined) {
    SLUICE_CHECK(!node.has_attr("output_dtype") || out == zero_point_type, where(node),
                 "attribute 'output_dtype' names ", to_string(out), " but input 'y_zero_point' is ",
                 to_string(zero_point_type), "; they must agree");
    out = zero_point_type;
  }
  SLUICE_CHECK(is_storage_type(out, v), where(node), "quantized type ", to_string(out),
               " is not supported; expected ", storage_types(v));
  return out;
}

void check_quantize_input_types(const Node& node, ElementType x, ElementType scale, QuantVersion v) {
  const bool x_ok = x == ElementType::f32 || x == ElementType::i32 ||
                    (v.float_scales() && (x == ElementType::f16 || x == ElementType::bf16));
  SLUICE_CHECK(x_ok, where(node), "input 'x' is ", to_string(x), "; expected ",
               v.float_scales() ? "f32, f16, bf16 or i32" : "f32 or i32");
  const bool scale_ok = v.float_scales() ? is_floating(scale) : scale == ElementType::f32;
  SLUICE_CHECK(scale_ok, where(node), "input 'y_scale' is ", to_string(scale), "; expected ",
               v.float_scales() ? "a floating type" : "f32");
}

void infer_quantize(InferContext& ctx, QuantVersion v) {
  const Node& node = ctx.node;
  check_quantize_input_types(node, ctx.input_type(0), ctx.input_type(1), v);
  const ElementType zp_type = ctx.has_input(2) ? ctx.input_type(2) : ElementType::undefined;
  const ElementType out = quantize_output_type(node, zp_type, v);
  check_param_shapes(node, ctx.input_shape(0), ctx.input_shape(1),
                     ctx.has_input(2) ? &ctx.input_shape(2) : nullptr, node.attr_int("axis", 1),
                     node.attr_int("block_size", 0), v.per_axis());
  ctx.set_output(0, out, ctx.input_shape(0));
}

std::vector<Tensor> quantize_kernel(const Node& node, std::span<const Tensor> in, QuantVersion v) {
  const Tensor& x = in[0];
  const Tensor& scale = in[1];
  const Tensor zp = in.size() > 2 ? in[2] : Tensor();
  check_quantize_input_types(node, x.type(), scale.type(), v);
  const ElementType out_type = quantize_output_type(node, zp ? zp.type() : ElementType::undefined, v);
  const ParamLayout layout = param_layout(node, x.shape(), scale.shape(), node.attr_int("axis", 1),
                                          node.attr_int("block_size", 0), v.per_axis(), "y_scale");
  if (zp) check_zero_point_shape(node, scale.shape(), zp.shape(), "y_zero_point");
  ElementType precision = division_precision(x.type(), scale.type());
  if (node.has_attr("precision")) {
    precision = element_type_from_onnx_code(node.attr_int("precision"), node, "precision");
  }
  const std::vector<double> xs = to_doubles(x);
  const std::vector<double> scales = to_doubles(scale);
  if (is_float8(out_type)) {
    if (zp) check_float8_zero_point(node, zp, "y_zero_point");
    std::vector<double> qs(xs.size());
    for (int64_t o = 0, idx = 0; o < layout.outer; ++o) {
      for (int64_t a = 0; a < layout.axis_extent; ++a) {
        for (int64_t i = 0; i < layout.inner; ++i, ++idx) {
          const int64_t p = layout.param_index(o, a, i);
          qs[idx] = round_to_precision(
              round_to_precision(xs[idx], precision) / round_to_precision(scales[p], precision), precision);
        }
      }
    }
    return {float8_tensor(out_type, x.shape(), qs, node.attr_int("saturate", 1) != 0)};
  }
  const std::vector<int64_t> zps = zp ? int_values(zp) : std::vector<int64_t>(scales.size(), 0);
  const IntRange range = int_range(out_type);
  std::vector<int64_t> ys(xs.size());
  for (int64_t o = 0, idx = 0; o < layout.outer; ++o) {
    for (int64_t a = 0; a < layout.axis_extent; ++a) {
      for (int64_t i = 0; i < layout.inner; ++i, ++idx) {
        const int64_t p = layout.param_index(o, a, i);
        const double q = round_to_precision(
            round_to_precision(xs[idx], precision) / round_to_precision(scales[p], precision), precision);
        ys[idx] = round_and_saturate(q, zps[p], range);
      }
    }
  }
  return {int_tensor(out_type, x.shape(), ys)};
}

// ---- DequantizeLinear ---------------------------------------------------------------------------

void validate_dequantize(const Node& node, QuantVersion v) {
  validate_quant_common(node, v);
  check_attr_version(node, "output_dtype", 23);
  if (node.has_attr("output_dtype")) {
    const ElementType t =
        any_element_type_from_onnx_code(node.attr_int("output_dtype"), node, "output_dtype");
    SLUICE_CHECK(is_floating(t), where(node), "attribute 'output_dtype' names ", to_string(t),
                 "; expected a floating type");
  }
}

void check_dequantize_input_types(const Node& node, ElementType x, ElementType scale, ElementType zp,
                                  QuantVersion v) {
  SLUICE_CHECK(is_storage_type(x, v) || x == ElementType::i32, where(node), "input 'x' is ", to_string(x),
               "; expected ", storage_types(v), " or i32");
  const bool scale_ok = v.float_scales() ? is_floating(scale) : scale == ElementType::f32;
  SLUICE_CHECK(scale_ok, where(node), "input 'x_scale' is ", to_string(scale), "; expected ",
               v.float_scales() ? "a floating type" : "f32");
  SLUICE_CHECK(zp == ElementType::undefined || zp == x, where(node), "input 'x_zero_point' is ",
               to_string(zp), "; expected x's type ", to_string(x));
}

ElementType dequantize_output_type(const Node& node, ElementType scale) {
  if (node.has_attr("output_dtype")) {
    return any_element_type_from_onnx_code(node.attr_int("output_dtype"), node, "output_dtype");
  }
  return scale;
}

void infer_dequantize(InferContext& ctx, QuantVersion v) {
  const Node& node = ctx.node;
  const ElementType zp_type = ctx.has_input(2) ? ctx.input_type(2) : ElementType::undefined;
  check_dequantize_input_types(node, ctx.input_type(0), ctx.input_type(1), zp_type, v);
  check_param_shapes(node, ctx.input_shape(0), ctx.input_shape(1),
                     ctx.has_input(2) ? &ctx.input_shape(2) : nullptr, node.attr_int("axis", 1),
                     node.attr_int("block_size", 0), v.per_axis());
  ctx.set_output(0, dequantize_output_type(node, ctx.input_type(1)), ctx.input_shape(0));
}

std::vector<Tensor> dequantize_kernel(const Node& node, std::span<const Tensor> in, QuantVersion v) {
  const Tensor& x = in[0];
  const Tensor& scale = in[1];
  const Tensor zp = in.size() > 2 ? in[2] : Tensor();
  check_dequantize_input_types(node, x.type(), scale.type(), zp ? zp.type() : ElementType::undefined, v);
  const ParamLayout layout = param_layout(node, x.shape(), scale.shape(), node.attr_int("axis", 1),
                                          node.attr_int("block_size", 0), v.per_axis(), "x_scale");
  if (zp) check_zero_point_shape(node, scale.shape(), zp.shape(), "x_zero_point");
  // numpy: x.astype(float32) - zero_point, times the scale in the wider of f32 and the scale's type.
  const ElementType precision = scale.type() == ElementType::f64 ? ElementType::f64 : ElementType::f32;
  const std::vector<double> scales = to_doubles(scale);
  if (is_float8(x.type())) {
    if (zp) check_float8_zero_point(node, zp, "x_zero_point");
    const std::vector<double> xs = float8_values(x);  // exact in f32
    std::vector<double> ys(xs.size());
    for (int64_t o = 0, idx = 0; o < layout.outer; ++o) {
      for (int64_t a = 0; a < layout.axis_extent; ++a) {
        for (int64_t i = 0; i < layout.inner; ++i, ++idx) {
          ys[idx] = round_to_precision(xs[idx] * scales[layout.param_index(o, a, i)], precision);
        }
      }
    }
    return {numeric_tensor(dequantize_output_type(node, scale.type()), x.shape(), ys)};
  }
  const std::vector<int64_t> xs = int_values(x);
  const std::vector<int64_t> zps = zp ? int_values(zp) : std::vector<int64_t>(scales.size(), 0);
  std::vector<double> ys(xs.size());
  for (int64_t o = 0, idx = 0; o < layout.outer; ++o) {
    for (int64_t a = 0; a < layout.axis_extent; ++a) {
      for (int64_t i = 0; i < layout.inner; ++i, ++idx) {
        const int64_t p = layout.param_index(o, a, i);
        const double dx = round_to_precision(round_to_precision(static_cast<double>(xs[idx]), precision) -
                                                 round_to_precision(static_cast<double>(zps[p]), precision),
                                             precision);
        ys[idx] = round_to_precision(dx * scales[p], precision);
      }
    }
  }
  return {numeric_tensor(dequantize_output_type(node, scale.type()), x.shape(), ys)};
}

// ---- DynamicQuantizeLinear ----------------------------------------------------------------------

void infer_dynamic_quantize(InferContext& ctx) {
  SLUICE_CHECK(ctx.input_type(0) == ElementType::f32, where(ctx.node), "input 'x' is ",
               to_string(ctx.input_type(0)), "; expected f32");
  ctx.set_output(0, ElementType::u8, ctx.input_shape(0));
  ctx.set_output(1, ElementType::f32, PartialShape(Shape{}));
  ctx.set_output(2, ElementType::u8, PartialShape(Shape{}));
}

std::vector<Tensor> dynamic_quantize_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = in[0];
  SLUICE_CHECK(x.type() == ElementType::f32, where(node), "input 'x' is ", to_string(x.type()),
               "; expected f32");
  const auto xs = x.values<float>();
  float max_x = 0.0f, min_x = 0.0f;
  for (float v : xs) {
    SLUICE_CHECK(std::isfinite(v), where(node), "input 'x' holds a non-finite value (", v,
                 "); the quantization range is undefined");
    max_x = std::max(max_x, v);
    min_x = std::min(min_x, v);
  }
  const float scale = max_x == min_x ? 1.0f : (max_x - min_x) / 255.0f;
  const float initial_zero_point = 0.0f - min_x / scale;
  const float zero_point = std::nearbyint(std::clamp(initial_zero_point, 0.0f, 255.0f));
  const IntRange range{0, 255};
  std::vector<int64_t> ys(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    ys[i] = round_and_saturate(static_cast<double>(xs[i] / scale), static_cast<int64_t>(zero_point), range);
  }
  return {int_tensor(ElementType::u8, x.shape(), ys), Tensor::scalar<float>(scale),
          Tensor::scalar<uint8_t>(static_cast<uint8_t>(zero_point))};
}

void register_quantize_linear(OpRegistry& registry) {
  for (int64_t since : {10, 13, 19, 21, 23}) {
    const QuantVersion v{since};
    OpSchema s;
    s.op_type = "QuantizeLinear";
    s.since_version = since;
    s.min_inputs = 2;
    s.max_inputs = 3;
    s.validate = [v](const Node& node) { validate_quantize(node, v); };
    s.infer = [v](InferContext& ctx) { infer_quantize(ctx, v); };
    s.reference = [v](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return quantize_kernel(node, in, v);
    };
    registry.add(std::move(s));
  }
}

void register_dequantize_linear(OpRegistry& registry) {
  for (int64_t since : {10, 13, 19, 21, 23}) {
    const QuantVersion v{since};
    OpSchema s;
    s.op_type = "DequantizeLinear";
    s.since_version = since;
    s.min_inputs = 2;
    s.max_inputs = 3;
    s.validate = [v](const Node& node) { validate_dequantize(node, v); };
    s.infer = [v](InferContext& ctx) { infer_dequantize(ctx, v); };
    s.reference = [v](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return dequantize_kernel(node, in, v);
    };
    registry.add(std::move(s));
  }
}

void register_dynamic_quantize_linear(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "DynamicQuantizeLinear";
  s.since_version = 11;
  s.min_inputs = 1;
  s.max_inputs = 1;
  s.min_outputs = 3;
  s.max_outputs = 3;
  s.infer = infer_dynamic_quantize;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return dynamic_quantize_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace
}  // namespace sluice::ops::quant

namespace sluice::graph {

void register_quantization_ops(OpRegistry& registry) {
  ops::quant::register_quantize_linear(registry);
  ops::quant::register_dequantize_linear(registry);
  ops::quant::register_dynamic_quantize_linear(registry);
  ops::quant::register_quantized_matmul_ops(registry);
  ops::quant::register_quantized_conv_ops(registry);
}

}  // namespace sluice::graph
