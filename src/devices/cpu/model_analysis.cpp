#include "devices/cpu/model_analysis.hpp"

#include <algorithm>

namespace sluice::cpu {

namespace {

constexpr const char* sluice_domain = "com.sluice";

bool known(const graph::Value* v) { return v != nullptr && v->shape.rank_known(); }

// Extent of a dimension; dynamic (symbolic or unknown) dims count as 1.
double extent(const Dimension& d) { return d.is_static() ? static_cast<double>(d.extent()) : 1.0; }

double elements(const PartialShape& shape) {
  double n = 1;
  for (const Dimension& d : shape.dims()) n *= extent(d);
  return n;
}

// The product of dims [first, rank).
double elements_from(const PartialShape& shape, size_t first) {
  double n = 1;
  for (size_t i = first; i < shape.dims().size(); ++i) n *= extent(shape[i]);
  return n;
}

// Dim i counted from the end (1 = last); 1 when the rank is too small.
double dim_from_end(const PartialShape& shape, size_t i) {
  const size_t rank = shape.dims().size();
  return i <= rank ? extent(shape[rank - i]) : 1.0;
}

double bytes_of(const graph::Value& v) {
  // An untyped value (a graph not fully inferred) is taken as f32, the type compute nodes mostly have.
  const size_t element = v.type == ElementType::undefined ? 4 : std::max<size_t>(element_size(v.type), 1);
  return elements(v.shape) * static_cast<double>(element);
}

bool is_op(const graph::Node& node, const char* domain, const char* op) {
  return node.domain == domain && node.op_type == op;
}

}  // namespace

double node_flops(const graph::Node& node) {
  const auto in = [&](size_t i) { return node.has_input(i) ? node.inputs[i] : nullptr; };
  const graph::Value* y = node.has_output(0) ? node.outputs[0] : nullptr;
  double macs = -1;
  if (is_op(node, graph::onnx_domain, "Conv") || is_op(node, sluice_domain, "FusedConv")) {
    // W is [M, C/group, k...]: each output element sums C/group * prod(k) products, so `group` is
    // accounted for by W's shape itself.
    if (!known(in(1)) || !known(y) || in(1)->shape.rank() < 1) return -1;
    macs = elements(y->shape) * elements_from(in(1)->shape, 1);
  } else if (is_op(node, graph::onnx_domain, "ConvTranspose")) {
    // W is [C, M/group, k...]: each input element is scattered into M/group * prod(k) outputs.
    if (!known(in(0)) || !known(in(1)) || in(1)->shape.rank() < 1) return -1;
    macs = elements(in(0)->shape) * elements_from(in(1)->shape, 1);
  } else if (is_op(node, graph::onnx_domain, "MatMul") || is_op(node, sluice_domain, "FusedMatMul")) {
    // Y [..., M, N] with K = A's last dim (also for a 1-D A); transB does not change K.
    if (!known(in(0)) || !known(y) || in(0)->shape.rank() < 1) return -1;
    macs = elements(y->shape) * dim_from_end(in(0)->shape, 1);
  } else if (is_op(node, graph::onnx_domain, "Gemm")) {
    if (!known(in(0)) || !known(y) || in(0)->shape.rank() != 2) return -1;
    const bool trans_a = node.attr_int("transA", 0) != 0;
    macs = elements(y->shape) * extent(in(0)->shape[trans_a ? 0 : 1]);
  } else if (is_op(node, sluice_domain, "Attention")) {
    // Q [..., Sq, D] x K^T -> scores [..., Sq, Sk], then scores x V [..., Sk, Dv] -> Y [..., Sq, Dv].
    if (!known(in(0)) || !known(in(2)) || !known(y) || in(2)->shape.rank() < 2) return -1;
    const double sk = dim_from_end(in(2)->shape, 2);
    macs = elements(in(0)->shape) * sk + elements(y->shape) * sk;
  } else {
    return -1;
  }
  return 2 * macs;
}

ComputeProfile analyze_compute(const graph::Graph& graph, const CpuTopology& topology) {
  ComputeProfile profile;
  double weighted_activations = 0;  // sum of flops * activation bytes
  for (const auto& node_ptr : graph.nodes()) {
    const graph::Node& node = *node_ptr;
    const double flops = node_flops(node);
    if (flops < 0) continue;
    bool shapes_known = true;
    double weights = 0;
    double activations = 0;
    for (const graph::Value* v : node.inputs) {
      if (v == nullptr) continue;
      if (!v->shape.rank_known()) shapes_known = false;
      (v->is_constant() ? weights : activations) += bytes_of(*v);
    }
    for (const graph::Value* v : node.outputs) {
      if (v == nullptr) continue;
      if (!v->shape.rank_known()) shapes_known = false;
      activations += bytes_of(*v);
    }
    if (!shapes_known) continue;
    const double bytes = weights + activations;
    profile.flops += flops;
    profile.weight_bytes += weights;
    profile.activation_bytes += activations;
    profile.max_node_bytes = std::max(profile.max_node_bytes, bytes);
    weighted_activations += flops * activations;
    if (bytes > static_cast<double>(topology.l2_bytes) && flops < memory_bound_flops_per_byte * bytes)
      profile.mem_limited_flops += flops;
    ++profile.nodes;
  }
  if (profile.flops > 0) profile.typical_activation_bytes = weighted_activations / profile.flops;
  return profile;
}

}  // namespace sluice::cpu
