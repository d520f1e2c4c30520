#include "ops/common.hpp"
#include "ops/nn_common.hpp"

namespace sluice::graph {

void register_nn_ops(OpRegistry& registry) {
  ops::nn::register_conv_ops(registry);
  ops::nn::register_conv_extra_ops(registry);
  ops::nn::register_pool_ops(registry);
  ops::nn::register_norm_ops(registry);
  ops::nn::register_matmul_ops(registry);
  ops::nn::register_einsum_ops(registry);
  ops::nn::register_softmax_ops(registry);
  ops::nn::register_layout_ops(registry);
}

}  // namespace sluice::graph
