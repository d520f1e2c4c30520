// Cast and CastLike between every pair of element types.
//
// Conversions: to bool is "nonzero" (NaN is true); floating to integer truncates toward zero and
// saturates at the integer type's limits (NaN gives 0); integer to integer wraps; to f16 rounds to
// nearest even; to bf16 truncates the float value (as the ONNX reference implementation does), keeping
// NaN a NaN. Strings, float8, 4-bit and complex types are out of scope and rejected with an error.
#include <array>
#include <string_view>
#include <variant>

#include "graph/onnx_data_types.hpp"
#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

namespace {

// The target type of a Cast node: `to` is a DataType code, or its name in opset 1 models.
ElementType cast_target(const Node& node) {
  SLUICE_CHECK(node.has_attr("to"), where(node), "attribute 'to' is required but missing");
  if (std::holds_alternative<std::string>(node.attributes.at("to"))) {
    const std::string name = node.attr_string("to");
    if (const graph::OnnxDataType* entry = graph::find_onnx_data_type(name)) {
      return element_type_from_onnx_code(entry->code, node, "to");
    }
    throw_error(where(node), "attribute 'to' is '", name,
                "', which is not an onnx.TensorProto.DataType name");
  }
  return element_type_from_onnx_code(node.attr_int("to"), node, "to");
}

bfloat16 truncate_to_bfloat16(float value) {
  if (std::isnan(value)) return bfloat16::from_bits(std::signbit(value) ? 0xFFC0 : 0x7FC0);
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bfloat16::from_bits(static_cast<uint16_t>(bits >> 16));
}

template <class To, class From> To cast_value(From value) {
  if constexpr (std::is_same_v<To, bfloat16> && !std::is_same_v<From, bfloat16>) {
    return truncate_to_bfloat16(convert<float>(value));
  } else {
    return convert<To>(value);
  }
}

Tensor cast_tensor(const Tensor& input, ElementType to, const Node& node) {
  return dispatch_set<all_types>(input.type(), node, "input", [&](auto from_tag) {
    using From = decltype(from_tag);
    return dispatch_set<all_types>(to, node, "to", [&](auto to_tag) {
      using To = decltype(to_tag);
      Tensor out(to, input.shape());
      const From* in = input.data<From>();
      To* o = out.data<To>();
      for (int64_t i = 0; i < input.size(); ++i) o[i] = cast_value<To>(in[i]);
      return out;
    });
  });
}

void register_cast(OpRegistry& r) {
  OpSchema schema;
  schema.op_type = "Cast";
  schema.since_version = 1;
  schema.min_inputs = 1;
  schema.max_inputs = 1;
  schema.validate = [](const Node& node) { (void)cast_target(node); };
  schema.infer = [](InferContext& ctx) { infer_unary(ctx, all_types, "input", cast_target(ctx.node)); };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& input = required_input(node, inputs, 0, "input");
    return std::vector<Tensor>{cast_tensor(input, cast_target(node), node)};
  };
  r.add(std::move(schema));
}

void register_cast_like(OpRegistry& r) {
  OpSchema schema;
  schema.op_type = "CastLike";
  schema.since_version = 15;
  schema.min_inputs = 2;
  schema.max_inputs = 2;
  schema.infer = [](InferContext& ctx) {
    SLUICE_CHECK(ctx.has_input(1), where(ctx.node), "input 'target_type' is required but missing");
    const ElementType target = ctx.input_type(1);
    check_input_type(ctx.node, "target_type", target, all_types);
    infer_unary(ctx, all_types, "input", target);
    if (target == ElementType::undefined) ctx.set_output(0, ElementType::undefined, ctx.input_shape(0));
  };
  schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
    const Tensor& input = required_input(node, inputs, 0, "input");
    const Tensor& target = required_input(node, inputs, 1, "target_type");
    return std::vector<Tensor>{cast_tensor(input, target.type(), node)};
  };
  r.add(std::move(schema));
}

}  // namespace

void register_cast_ops(OpRegistry& registry) {
  register_cast(registry);
  register_cast_like(registry);
}

}  // namespace sluice::ops::elementwise
