#include "ops/tensor_common.hpp"

namespace sluice::graph {

void register_tensor_ops(OpRegistry& registry) {
  ops::tensor::register_shape_ops(registry);
  ops::tensor::register_layout_ops(registry);
  ops::tensor::register_pad_ops(registry);
  ops::tensor::register_index_ops(registry);
  ops::tensor::register_resize_ops(registry);
  ops::tensor::register_generator_ops(registry);
}

}  // namespace sluice::graph
