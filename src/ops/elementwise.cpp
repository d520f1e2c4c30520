// The elementwise operator family: registration and the shared helpers of elementwise_util.hpp.
#include "ops/elementwise_util.hpp"

namespace sluice::ops::elementwise {

std::string describe_types(TypeSet set) {
  std::vector<std::string_view> names;
  for (auto type : {ElementType::f32, ElementType::f16, ElementType::bf16, ElementType::f64, ElementType::i8,
                    ElementType::i16, ElementType::i32, ElementType::i64, ElementType::u8, ElementType::u16,
                    ElementType::u32, ElementType::u64, ElementType::boolean}) {
    if (in_set(set, type)) names.push_back(to_string(type));
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

void throw_type_error(const Node& node, const std::string& input_name, ElementType type, TypeSet allowed) {
  throw_error(where(node), "input '", input_name, "' has element type ", to_string(type), "; expected ",
              describe_types(allowed));
}

void check_input_type(const Node& node, const std::string& input_name, ElementType type, TypeSet allowed) {
  if (type != ElementType::undefined && !in_set(allowed, type)) {
    throw_type_error(node, input_name, type, allowed);
  }
}

void check_same_type(const Node& node, const std::string& input_name, ElementType type,
                     const std::string& first_name, ElementType first_type) {
  if (type == ElementType::undefined || first_type == ElementType::undefined || type == first_type) return;
  throw_error(where(node), "input '", input_name, "' has element type ", to_string(type), "; expected ",
              to_string(first_type), " like input '", first_name, "'");
}

std::vector<int64_t> broadcast_offsets(const Shape& in, const Shape& out) {
  std::vector<int64_t> offsets(static_cast<size_t>(shape_size(out)));
  for_each_broadcast(in, out, out, [&](int64_t o, int64_t i, int64_t) { offsets[o] = i; });
  return offsets;
}

const Tensor& required_input(const Node& node, std::span<const Tensor> inputs, size_t i,
                             const std::string& input_name) {
  SLUICE_CHECK(i < inputs.size() && !inputs[i].empty(), where(node), "input '", input_name, "' (input ", i,
               ") is required but missing");
  return inputs[i];
}

void infer_unary(InferContext& ctx, TypeSet allowed, const std::string& input_name, ElementType out_type) {
  SLUICE_CHECK(ctx.has_input(0), where(ctx.node), "input '", input_name, "' is required but missing");
  const ElementType type = ctx.input_type(0);
  check_input_type(ctx.node, input_name, type, allowed);
  ctx.set_output(0, out_type == ElementType::undefined ? type : out_type, ctx.input_shape(0));
}

void infer_broadcasting(InferContext& ctx, TypeSet allowed, const std::vector<std::string>& input_names,
                        ElementType out_type) {
  SLUICE_CHECK(ctx.has_input(0), where(ctx.node), "input '", input_names.at(0), "' is required but missing");
  const ElementType type = ctx.input_type(0);
  check_input_type(ctx.node, input_names[0], type, allowed);
  PartialShape shape = ctx.input_shape(0);
  for (size_t i = 1; i < ctx.num_inputs() && i < input_names.size(); ++i) {
    if (!ctx.has_input(i)) continue;
    check_same_type(ctx.node, input_names[i], ctx.input_type(i), input_names[0], type);
    shape = broadcast_partial_shapes(shape, ctx.input_shape(i), ctx.node);
  }
  ctx.set_output(0, out_type == ElementType::undefined ? type : out_type, std::move(shape));
}

}  // namespace sluice::ops::elementwise

namespace sluice::graph {

void register_elementwise_ops(OpRegistry& registry) {
  using namespace ops::elementwise;
  register_unary_math_ops(registry);
  register_activation_ops(registry);
  register_binary_ops(registry);
  register_select_ops(registry);
  register_cast_ops(registry);
}

}  // namespace sluice::graph
