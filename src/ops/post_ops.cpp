#include "ops/post_ops.hpp"

#include <cmath>
#include <numbers>

#include "ops/common.hpp"

namespace sluice::ops {

namespace {

struct KindName {
  PostOpKind kind;
  const char* name;
};

constexpr KindName kind_names[] = {
    {PostOpKind::Add, "Add"},
    {PostOpKind::Mul, "Mul"},
    {PostOpKind::Relu, "Relu"},
    {PostOpKind::LeakyRelu, "LeakyRelu"},
    {PostOpKind::Clip, "Clip"},
    {PostOpKind::Sigmoid, "Sigmoid"},
    {PostOpKind::Tanh, "Tanh"},
    {PostOpKind::HardSigmoid, "HardSigmoid"},
    {PostOpKind::HardSwish, "HardSwish"},
    {PostOpKind::Swish, "Swish"},
    {PostOpKind::Gelu, "Gelu"},
    {PostOpKind::GeluTanh, "GeluTanh"},
    {PostOpKind::Elu, "Elu"},
};

// min(1, max(0, x)) that keeps NaN, as the HardSigmoid and HardSwish reference kernels compute it.
template <class C> C clamp01(C x) {
  if (x < C{0}) return C{0};
  if (x > C{1}) return C{1};
  return x;
}

// The numerically stable form the Sigmoid reference kernel uses.
template <class C> C sigmoid_of(C x) {
  if (x >= C{0}) return C{1} / (C{1} + std::exp(-x));
  const C e = std::exp(x);
  return e / (C{1} + e);
}

}  // namespace

PostOpKind post_op_kind(const std::string& name) {
  for (const auto& [kind, kind_name] : kind_names) {
    if (name == kind_name) return kind;
  }
  std::string known;
  for (const auto& [kind, kind_name] : kind_names)
    known += (known.empty() ? "" : ", ") + std::string(kind_name);
  throw_error("unknown post-op '", name, "'; known post-ops: ", known);
}

std::string post_op_name(PostOpKind kind) {
  for (const auto& [k, name] : kind_names) {
    if (k == kind) return name;
  }
  throw_error("post_op_name: invalid PostOpKind ", static_cast<int>(kind));
}

std::vector<PostOp> post_ops_of(const graph::Node& node) {
  const auto names = node.attr_strings("post_ops", {});
  // post_op_alpha / post_op_beta may be left out when every step has no parameter (read as zeros); when
  // given they must have one value per step.
  const auto alphas = node.attr_floats("post_op_alpha", {});
  const auto betas = node.attr_floats("post_op_beta", {});
  SLUICE_CHECK((!node.has_attr("post_op_alpha") || alphas.size() == names.size()) &&
                   (!node.has_attr("post_op_beta") || betas.size() == names.size()),
               node.describe(), ": attributes 'post_ops' (", names.size(), " values), 'post_op_alpha' (",
               alphas.size(), ") and 'post_op_beta' (", betas.size(), ") must have the same length");
  std::vector<PostOp> ops;
  ops.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    PostOp op{PostOpKind::Relu};
    try {
      op.kind = post_op_kind(names[i]);
    } catch (const Error& e) {
      throw_error(node.describe(), ": attribute 'post_ops' value ", i, ": ", e.what());
    }
    op.alpha = i < alphas.size() ? alphas[i] : 0.0f;
    op.beta = i < betas.size() ? betas[i] : 0.0f;
    ops.push_back(op);
  }
  return ops;
}

void set_post_ops(graph::Node& node, const std::vector<PostOp>& post_ops) {
  std::vector<std::string> names;
  std::vector<float> alphas, betas;
  for (const PostOp& op : post_ops) {
    names.push_back(post_op_name(op.kind));
    alphas.push_back(op.alpha);
    betas.push_back(op.beta);
  }
  node.attributes["post_ops"] = std::move(names);
  node.attributes["post_op_alpha"] = std::move(alphas);
  node.attributes["post_op_beta"] = std::move(betas);
}

namespace {

// The formulas of the ONNX reference kernels that each step replaces, in the same order of operations,
// so that a fused graph computes what the unfused one did.
template <class C> C apply_activation_as(const PostOp& op, C x) {
  const C alpha = static_cast<C>(op.alpha);
  const C beta = static_cast<C>(op.beta);
  switch (op.kind) {
    case PostOpKind::Relu: return x < C{0} ? C{0} : x;
    case PostOpKind::LeakyRelu: return x < C{0} ? alpha * x : x;
    case PostOpKind::Clip: {
      const C low_bounded = x < alpha ? alpha : x;
      return low_bounded > beta ? beta : low_bounded;
    }
    case PostOpKind::Sigmoid: return sigmoid_of(x);
    case PostOpKind::Tanh: return std::tanh(x);
    case PostOpKind::HardSigmoid: return clamp01(alpha * x + beta);
    case PostOpKind::HardSwish: return x * clamp01(x / C{6} + C{0.5});
    case PostOpKind::Swish: return x * sigmoid_of(x);
    case PostOpKind::Gelu: return C{0.5} * x * (C{1} + std::erf(x / std::numbers::sqrt2_v<C>));
    case PostOpKind::GeluTanh: {
      const C k = std::sqrt(C{2} / std::numbers::pi_v<C>);
      return C{0.5} * x * (C{1} + std::tanh(k * (x + C{0.044715} * x * x * x)));
    }
    case PostOpKind::Elu: return x < C{0} ? alpha * (std::exp(x) - C{1}) : x;
    case PostOpKind::Add:
    case PostOpKind::Mul: break;
  }
  throw_error("apply_activation: post-op ", post_op_name(op.kind), " is binary; it needs its extra input");
}

}  // namespace

float apply_activation(const PostOp& op, float x) { return apply_activation_as<float>(op, x); }
double apply_activation(const PostOp& op, double x) { return apply_activation_as<double>(op, x); }

}  // namespace sluice::ops
