// The operators of the com.sluice domain: what the CPU device's fusion passes produce. Each has shape
// inference and a reference kernel like every ONNX operator, so a fused graph also runs on REF.
#include "graph/op_registry.hpp"

namespace sluice::graph {

void register_fused_conv_matmul_ops(OpRegistry& registry);
void register_fused_attention_op(OpRegistry& registry);

void register_fused_ops(OpRegistry& registry) {
  register_fused_conv_matmul_ops(registry);
  register_fused_attention_op(registry);
}

}  // namespace sluice::graph
