// Post-operations of the fused operators (com.sluice FusedConv and FusedMatMul): what the CPU device's
// fusion passes fold into a convolution or matrix product, applied in order to its result.
//
// On a fused node they are three attributes of equal length:
//   post_ops       strings: the kind of each step (the ONNX operator it replaces, by name below)
//   post_op_alpha  floats:  its first parameter (0 when it has none)
//   post_op_beta   floats:  its second parameter (0 when it has none)
// A binary step ("Add", "Mul") consumes the node's next extra input, in order after the operator's own
// inputs (FusedConv: X, W, B; FusedMatMul: A, B, Bias); that input broadcasts to the result's shape
// (numpy rules, the result's shape never changes) and the result is always the left operand.
#pragma once

#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace sluice::ops {

enum class PostOpKind {
  Add,          // binary: y = x + other
  Mul,          // binary: y = x * other
  Relu,         // max(x, 0)
  LeakyRelu,    // x >= 0 ? x : alpha * x
  Clip,         // min(max(x, alpha), beta)
  Sigmoid,      // 1 / (1 + exp(-x))
  Tanh,         // tanh(x)
  HardSigmoid,  // max(0, min(1, alpha * x + beta))
  HardSwish,    // x * max(0, min(1, x / 6 + 0.5))
  Swish,        // x * sigmoid(x) (SiLU)
  Gelu,         // 0.5 x (1 + erf(x / sqrt 2))
  GeluTanh,     // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  Elu,          // x >= 0 ? x : alpha * (exp(x) - 1)
};

struct PostOp {
  PostOpKind kind;
  float alpha = 0;
  float beta = 0;
  bool binary() const { return kind == PostOpKind::Add || kind == PostOpKind::Mul; }
};

// The kind named `name` ("Relu", "Add", ...); throws sluice::Error listing the known names otherwise.
PostOpKind post_op_kind(const std::string& name);
std::string post_op_name(PostOpKind kind);

// Reads and checks the node's post-op attributes (missing attributes: no post-ops). Throws naming the
// node when the three attributes differ in length or name an unknown kind.
std::vector<PostOp> post_ops_of(const graph::Node& node);
// Writes the node's post-op attributes.
void set_post_ops(graph::Node& node, const std::vector<PostOp>& post_ops);

// Applies a unary (non-binary) post-op to one value.
float apply_activation(const PostOp& op, float x);
// The same in double precision (the f64 reference kernels).
double apply_activation(const PostOp& op, double x);

}  // namespace sluice::ops
