// The CPU device's compile-time graph fusions. They run after graph::default_pass_manager() (shapes
// inferred, constants folded, dead code removed, operators resolved) and rewrite patterns of ONNX nodes
// into fewer, larger nodes that the CPU kernels run in one pass over memory:
//
//   fold_batchnorm   Conv (constant W, B) -> BatchNormalization (inference, constant parameters)
//                    => Conv with the normalization folded into W and B
//   fuse_gelu        the erf and tanh decompositions of GELU that torch exports => Gelu (opset 20)
//   fuse_layer_norm  ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add over the last axis
//                    (torch's LayerNorm at opset < 17) => LayerNormalization (opset 17)
//   fuse_attention   MatMul(Q, K^T) [-> Div/Mul scalar] [-> Add mask] -> Softmax(last axis) -> MatMul(., V)
//                    => com.sluice Attention (only when that operator is registered)
//   fuse_conv        Conv -> activations, residual/broadcast Add, constant Mul => com.sluice FusedConv
//   fuse_matmul      MatMul [-> Mul/Div scalar] [-> Add bias [N]] -> post-ops, and Gemm
//                    => com.sluice FusedMatMul
//
// Every pass fuses a value only when its one use is inside the pattern and it is not a graph output, keeps
// every value's type and shape, resolves the schema of each node it creates (shape inference of the new
// node must agree, else the pattern is left as it is), and names a fused node after the node it replaces
// (the Conv, MatMul or Gemm; the last node of the pattern for Gelu and LayerNormalization; the first MatMul
// for Attention), so that profiles stay readable.
#pragma once

#include <set>
#include <string>

#include "graph/passes.hpp"

namespace sluice::cpu {

class FoldBatchNormPass : public graph::Pass {
 public:
  std::string name() const override { return "fold_batchnorm"; }

 private:
  bool apply_impl(graph::Graph& graph) override;
};

class FuseGeluPass : public graph::Pass {
 public:
  std::string name() const override { return "fuse_gelu"; }

 private:
  bool apply_impl(graph::Graph& graph) override;
};

class FuseLayerNormPass : public graph::Pass {
 public:
  std::string name() const override { return "fuse_layer_norm"; }

 private:
  bool apply_impl(graph::Graph& graph) override;
};

class FuseAttentionPass : public graph::Pass {
 public:
  std::string name() const override { return "fuse_attention"; }

 private:
  bool apply_impl(graph::Graph& graph) override;
};

class FuseConvPass : public graph::Pass {
 public:
  std::string name() const override { return "fuse_conv"; }

 private:
  bool apply_impl(graph::Graph& graph) override;
};

class FuseMatMulPass : public graph::Pass {
 public:
  std::string name() const override { return "fuse_matmul"; }

 private:
  bool apply_impl(graph::Graph& graph) override;
};

// The passes above in the order they should run: the normalization and activation patterns first (so that
// Gelu and folded convolutions exist when the post-op chains are built), attention before fuse_matmul
// (which would otherwise take its first MatMul and scaling), then fuse_conv and fuse_matmul.
graph::PassManager cpu_fusion_passes();

// The CPU device's whole graph pipeline: the standard passes, the fusions, then the standard passes again
// (fusions leave constants and dead values behind), skipping the passes named in `disabled`. Names that
// neither pipeline knows are ignored here: the plugin rejects them first.
void optimize_for_cpu(graph::Graph& graph, const std::set<std::string>& disabled);

}  // namespace sluice::cpu
