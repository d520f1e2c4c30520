// Loss operators: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12; later versions only
// widen the types), with reduction none/sum/mean, optional class weights and ignore_index, any rank
// (N, C, d1, ..., dk).
#include <cmath>
#include <limits>

#include "ops/common.hpp"

namespace sluice::ops {
namespace {

enum class Reduction { none, sum, mean };

Reduction reduction_of(const Node& node) {
  const std::string reduction = node.attr_string("reduction", "mean");
  if (reduction == "none") return Reduction::none;
  if (reduction == "sum") return Reduction::sum;
  if (reduction == "mean") return Reduction::mean;
  throw_error(where(node), "attribute 'reduction' is '", reduction, "'; expected 'none', 'sum' or 'mean'");
}

// Input names of the two operators, for messages.
struct LossNames {
  const char* input;
  const char* target;
  const char* weight;
};

constexpr LossNames nll_names{"input", "target", "weight"};
constexpr LossNames sce_names{"scores", "labels", "weights"};

void validate_loss(const Node& node) { reduction_of(node); }

// Two dimensions that must be equal; returns the more precise one.
Dimension merge_equal_dims(const Dimension& a, const Dimension& b, const Node& node,
                           const std::string& what) {
  if (a.is_static() && b.is_static()) {
    SLUICE_CHECK(a.extent() == b.extent(), where(node), what, ": ", a.extent(), " vs ", b.extent());
    return a;
  }
  if (a.is_static()) return a;
  if (b.is_static()) return b;
  return a.symbol().empty() ? b : a;
}

// Checks the inputs of a loss and returns the shape of the unreduced loss: the target's shape, refined
// by the input's (N, d1, ..., dk).
PartialShape infer_loss_inputs(const InferContext& ctx, const LossNames& names) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(0);
  SLUICE_CHECK(type == ElementType::undefined || is_floating(type), where(node), "input '", names.input,
               "' has element type ", to_string(type), "; expected a floating type");
  const ElementType target_type = ctx.input_type(1);
  SLUICE_CHECK(target_type == ElementType::undefined || target_type == ElementType::i32 ||
                   target_type == ElementType::i64,
               where(node), "input '", names.target, "' has element type ", to_string(target_type),
               "; expected i32 or i64");
  const PartialShape& in = ctx.input_shape(0);
  const PartialShape& target = ctx.input_shape(1);
  SLUICE_CHECK(!in.rank_known() || in.rank() >= 2, where(node), "input '", names.input, "' has shape ",
               in.to_string(), "; expected rank >= 2 (N, C, d1, ..., dk)");
  if (ctx.has_input(2)) {
    const ElementType weight_type = ctx.input_type(2);
    SLUICE_CHECK(
        weight_type == ElementType::undefined || type == ElementType::undefined || weight_type == type,
        where(node), "input '", names.weight, "' has element type ", to_string(weight_type), "; expected ",
        to_string(type), " like input '", names.input, "'");
    const PartialShape& weight = ctx.input_shape(2);
    SLUICE_CHECK(weight.rank() == -1 || weight.rank() == 1, where(node), "input '", names.weight,
                 "' has shape ", weight.to_string(), "; expected a 1-D tensor of C weights");
    if (weight.rank() == 1 && in.rank_known()) {
      merge_equal_dims(weight[0], in[1], node,
                       std::string("input '") + names.weight + "' and the class dimension of input '" +
                           names.input + "' differ");
    }
  }
  if (!in.rank_known()) return target;
  std::vector<Dimension> expected;
  for (int64_t d = 0; d < in.rank(); ++d) {
    if (d != 1) expected.push_back(in[static_cast<size_t>(d)]);
  }
  if (!target.rank_known()) return PartialShape(std::move(expected));
  SLUICE_CHECK(target.rank() == in.rank() - 1, where(node), "input '", names.target, "' has shape ",
               target.to_string(), "; expected rank ", in.rank() - 1, " for input '", names.input,
               "' of shape ", in.to_string());
  for (size_t d = 0; d < expected.size(); ++d) {
    expected[d] = merge_equal_dims(target[d], expected[d], node,
                                   std::string("input '") + names.target + "' " + target.to_string() +
                                       " does not match input '" + names.input + "' " + in.to_string());
  }
  return PartialShape(std::move(expected));
}

void infer_loss(InferContext& ctx, const LossNames& names, bool has_log_prob) {
  const PartialShape loss_shape = infer_loss_inputs(ctx, names);
  const ElementType type = ctx.input_type(0);
  const bool reduced = reduction_of(ctx.node) != Reduction::none;
  ctx.set_output(0, type, reduced ? PartialShape(Shape{}) : loss_shape);
  if (has_log_prob && ctx.num_outputs() > 1) ctx.set_output(1, type, ctx.input_shape(0));
}

// The accumulator type: double, or float for the 16-bit floats.
template <class T> using loss_acc_t = std::conditional_t<(sizeof(T) == 2), float, double>;

// Checks the runtime shapes of input (N, C, d...), target (N, d...) and weight (C).
void check_loss_shapes(const Node& node, const Tensor& input, const Tensor& target, const Tensor& weight,
                       const LossNames& names) {
  const Shape& in = input.shape();
  SLUICE_CHECK(in.size() >= 2, where(node), "input '", names.input, "' has shape ", to_string(in),
               "; expected rank >= 2 (N, C, d1, ..., dk)");
  Shape expected = in;
  expected.erase(expected.begin() + 1);
  SLUICE_CHECK(target.shape() == expected, where(node), "input '", names.target, "' has shape ",
               to_string(target.shape()), "; expected ", to_string(expected), " for input '", names.input,
               "' of shape ", to_string(in));
  SLUICE_CHECK(is_integer(target.type()), where(node), "input '", names.target, "' has element type ",
               to_string(target.type()), "; expected i32 or i64");
  if (!weight.empty()) {
    SLUICE_CHECK(weight.shape() == Shape{in[1]}, where(node), "input '", names.weight, "' has shape ",
                 to_string(weight.shape()), "; expected [", in[1], "]");
    SLUICE_CHECK(weight.type() == input.type(), where(node), "input '", names.weight, "' has element type ",
                 to_string(weight.type()), "; expected ", to_string(input.type()));
  }
}

// The negative log-likelihood of log-probabilities `log_prob` laid out as (N, C, D) for targets laid out
// as (N, D); returns the loss tensor of the node's reduction.
template <class T>
Tensor nll_typed(const Node& node, const std::vector<loss_acc_t<T>>& log_prob, const Shape& input_shape,
                 const Tensor& target, const Tensor& weight, const LossNames& names) {
  using A = loss_acc_t<T>;
  const int64_t n_count = input_shape[0];
  const int64_t classes = input_shape[1];
  const int64_t inner = shape_size(input_shape) / std::max<int64_t>(n_count * classes, 1);
  const std::vector<int64_t> labels = to_int64s(target);
  const bool has_ignore_index = node.has_attr("ignore_index");
  const int64_t ignore_index = has_ignore_index ? node.attr_int("ignore_index") : 0;
  const T* weights = weight.empty() ? nullptr : weight.data<T>();
  const Reduction reduction = reduction_of(node);
  std::vector<A> losses(labels.size());
  A loss_sum = 0;
  A weight_sum = 0;
  for (int64_t n = 0; n < n_count; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      const auto at = static_cast<size_t>(n * inner + d);
      const int64_t label = labels[at];
      if (has_ignore_index && label == ignore_index) continue;
      SLUICE_CHECK(label >= 0 && label < classes, where(node), "input '", names.target, "' holds class ",
                   label, " at element ", at, "; expected a class in [0, ", classes, ")",
                   has_ignore_index ? " or ignore_index" : "");
      const A w = weights ? static_cast<A>(weights[label]) : A(1);
      losses[at] = -log_prob[static_cast<size_t>((n * classes + label) * inner + d)] * w;
      loss_sum += losses[at];
      weight_sum += w;
    }
  }
  if (reduction == Reduction::none) {
    Tensor out(element_type_v<T>, target.shape());
    T* dst = out.data<T>();
    for (size_t i = 0; i < losses.size(); ++i) dst[i] = static_cast<T>(losses[i]);
    return out;
  }
  const A total = reduction == Reduction::sum ? loss_sum : loss_sum / weight_sum;
  return Tensor::scalar<T>(static_cast<T>(total));
}

template <class T> std::vector<loss_acc_t<T>> to_acc(const Tensor& tensor) {
  std::vector<loss_acc_t<T>> values(static_cast<size_t>(tensor.size()));
  const T* src = tensor.data<T>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<loss_acc_t<T>>(src[i]);
  return values;
}

// Log-softmax over axis 1 of scores laid out as (N, C, D).
template <class A> std::vector<A> log_softmax_axis1(const std::vector<A>& scores, const Shape& shape) {
  const int64_t n_count = shape[0];
  const int64_t classes = shape[1];
  const int64_t inner = shape_size(shape) / std::max<int64_t>(n_count * classes, 1);
  std::vector<A> out(scores.size());
  for (int64_t n = 0; n < n_count; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      auto at = [&](int64_t c) { return static_cast<size_t>((n * classes + c) * inner + d); };
      A top = -std::numeric_limits<A>::infinity();
      for (int64_t c = 0; c < classes; ++c) top = std::max(top, scores[at(c)]);
      A sum = 0;
      for (int64_t c = 0; c < classes; ++c) sum += std::exp(scores[at(c)] - top);
      const A log_sum = std::log(sum);
      for (int64_t c = 0; c < classes; ++c) out[at(c)] = scores[at(c)] - top - log_sum;
    }
  }
  return out;
}

std::vector<Tensor> run_nll(const Node& node, std::span<const Tensor> inputs) {
  const Tensor& input = inputs[0];
  const Tensor empty;
  const Tensor& weight = inputs.size() > 2 ? inputs[2] : empty;
  check_loss_shapes(node, input, inputs[1], weight, nll_names);
  return {dispatch_floating(input.type(), where(node) + "input 'input'", [&](auto tag) {
    using T = decltype(tag);
    return nll_typed<T>(node, to_acc<T>(input), input.shape(), inputs[1], weight, nll_names);
  })};
}

std::vector<Tensor> run_sce(const Node& node, std::span<const Tensor> inputs) {
  const Tensor& scores = inputs[0];
  const Tensor empty;
  const Tensor& weight = inputs.size() > 2 ? inputs[2] : empty;
  check_loss_shapes(node, scores, inputs[1], weight, sce_names);
  const bool want_log_prob = node.has_output(1);
  return dispatch_floating(scores.type(), where(node) + "input 'scores'", [&](auto tag) {
    using T = decltype(tag);
    const auto log_prob = log_softmax_axis1(to_acc<T>(scores), scores.shape());
    std::vector<Tensor> outputs{nll_typed<T>(node, log_prob, scores.shape(), inputs[1], weight, sce_names),
                                Tensor()};
    if (want_log_prob) {
      Tensor out(scores.type(), scores.shape());
      T* dst = out.data<T>();
      for (size_t i = 0; i < log_prob.size(); ++i) dst[i] = static_cast<T>(log_prob[i]);
      outputs[1] = out;
    }
    if (node.outputs.size() < 2) outputs.pop_back();
    return outputs;
  });
}

OpSchema make_loss_schema(const char* name, bool is_sce) {
  OpSchema schema;
  schema.domain = graph::onnx_domain;
  schema.op_type = name;
  schema.since_version = 12;
  schema.min_inputs = 2;
  schema.max_inputs = 3;
  schema.min_outputs = 1;
  schema.max_outputs = is_sce ? 2 : 1;
  schema.validate = validate_loss;
  if (is_sce) {
    schema.infer = [](InferContext& ctx) { infer_loss(ctx, sce_names, true); };
    schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
      return run_sce(node, inputs);
    };
  } else {
    schema.infer = [](InferContext& ctx) { infer_loss(ctx, nll_names, false); };
    schema.reference = [](const Node& node, std::span<const Tensor> inputs, KernelEnv&) {
      return run_nll(node, inputs);
    };
  }
  return schema;
}

}  // namespace
}  // namespace sluice::ops

namespace sluice::graph {

void register_loss_ops(OpRegistry& registry) {
  registry.add(ops::make_loss_schema("NegativeLogLikelihoodLoss", false));
  registry.add(ops::make_loss_schema("SoftmaxCrossEntropyLoss", true));
}

}  // namespace sluice::graph
