#include "devices/cpu/model_analysis.hpp"

#include <algorithm>
#include <vector>

#include "sluice/error.hpp"

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

// The bytes one node moves: its constant inputs (weights) and its non-constant inputs and outputs
// (activations). `known` is false when one of them has an unknown rank.
struct Traffic {
  double weights = 0;
  double activations = 0;
  bool known = true;
};

Traffic traffic_of(const graph::Node& node) {
  Traffic t;
  for (const graph::Value* v : node.inputs) {
    if (v == nullptr) continue;
    if (!v->shape.rank_known()) t.known = false;
    (v->is_constant() ? t.weights : t.activations) += bytes_of(*v);
  }
  for (const graph::Value* v : node.outputs) {
    if (v == nullptr) continue;
    if (!v->shape.rank_known()) t.known = false;
    t.activations += bytes_of(*v);
  }
  return t;
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
    const Traffic traffic = traffic_of(node);
    if (!traffic.known) continue;
    const double weights = traffic.weights;
    const double activations = traffic.activations;
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

namespace {

// Where the data of one stream lives, and how fast it reads from there (see the top of the header).
class MemoryModel {
 public:
  MemoryModel(const graph::Graph& graph, const CpuTopology& topology, int threads) : threads_(threads) {
    // The cores sharing one L3; unknown: all of ours. A stream of more threads than that spans several
    // L3 instances and has at most all of each.
    const int per_l3 = topology.cores_per_l3 > 0 ? topology.cores_per_l3
                                                 : std::max<int>(1, static_cast<int>(topology.cores.size()));
    l2_share_ = static_cast<double>(topology.l2_bytes) * threads;
    l3_share_ = static_cast<double>(topology.l3_bytes) * threads / per_l3;
    // The model's weights are all read in the same order every inference: LRU keeps all of them between
    // two inferences or, as a cyclic stream larger than the cache evicts itself, none. Half the cache:
    // the activations of the streams need the rest. The L3's whole size, not the stream's share: the
    // streams of a compiled model share one copy of the weights.
    double weights = 0;
    for (const auto& node : graph.nodes()) {
      if (node_flops(*node) < 0) continue;
      const Traffic t = traffic_of(*node);
      if (t.known) weights += t.weights;
    }
    if (weights <= 0.5 * l2_share_)
      weight_rate_ = batch_l2_bytes_per_thread;
    else if (weights <= 0.5 * static_cast<double>(topology.l3_bytes))
      weight_rate_ = batch_l3_bytes_per_thread;
    else
      weight_rate_ = batch_dram_bytes_per_thread;
    weight_rate_ *= threads;
  }

  // Seconds to read `bytes` of activations: from the level they fit, as one node's working set.
  double activation_seconds(double bytes) const {
    const double rate = bytes <= l2_share_   ? batch_l2_bytes_per_thread
                        : bytes <= l3_share_ ? batch_l3_bytes_per_thread
                                             : batch_dram_bytes_per_thread;
    return bytes / (rate * threads_);
  }
  double weight_seconds(double bytes) const { return bytes / weight_rate_; }

 private:
  int threads_;
  double l2_share_ = 0;
  double l3_share_ = 0;
  double weight_rate_ = 0;  // bytes/s of the whole stream
};

double batch_time(const graph::Graph& graph, const MemoryModel& memory, int threads, int batch) {
  const double b = batch;
  const double peak = batch_peak_flops_per_thread * threads;
  double total = 0;
  for (const auto& node_ptr : graph.nodes()) {
    const graph::Node& node = *node_ptr;
    const double flops = node_flops(node);
    total += flops < 0 ? batch_other_dispatch_seconds : batch_compute_dispatch_seconds;
    const Traffic t = traffic_of(node);
    if (!t.known) continue;  // its work is unknown; its dispatch is not
    const double activations = memory.activation_seconds(b * t.activations);
    if (flops < 0) {
      // Elementwise, pooling, normalization, data movement: work that grows with the batch. Their
      // constant inputs (an embedding table a Gather reads rows of, a Reshape's shape) are not read whole.
      total += activations;
    } else {
      total += std::max(b * flops / peak, memory.weight_seconds(t.weights) + activations);
    }
  }
  return total;
}

}  // namespace

double estimated_batch_time(const graph::Graph& graph, const CpuTopology& topology, int threads_per_stream,
                            int batch) {
  SLUICE_CHECK(threads_per_stream >= 1, "estimated_batch_time: threads_per_stream is ", threads_per_stream,
               ", expected at least 1");
  SLUICE_CHECK(batch >= 1, "estimated_batch_time: batch is ", batch, ", expected at least 1");
  const MemoryModel memory(graph, topology, threads_per_stream);
  return batch_time(graph, memory, threads_per_stream, batch);
}

BatchEstimate estimate_optimal_batch(const graph::Graph& graph, const CpuTopology& topology,
                                     int threads_per_stream, int max_batch) {
  SLUICE_CHECK(threads_per_stream >= 1, "estimate_optimal_batch: threads_per_stream is ", threads_per_stream,
               ", expected at least 1");
  SLUICE_CHECK(max_batch >= 1, "estimate_optimal_batch: max_batch is ", max_batch, ", expected at least 1");
  const MemoryModel memory(graph, topology, threads_per_stream);
  const double t1 = batch_time(graph, memory, threads_per_stream, 1);
  if (t1 <= 0) return {};  // an empty graph: nothing to gain

  // The candidates: powers of two up to max_batch, and max_batch itself.
  std::vector<BatchEstimate> candidates;
  for (int b = 1; b <= max_batch; b *= 2) {
    candidates.push_back({b, 0.0});
    if (b > max_batch / 2) break;  // b * 2 would pass max_batch (or overflow)
  }
  if (candidates.back().batch != max_batch) candidates.push_back({max_batch, 0.0});
  // Per request: unbatched, one inference and the runtime's cost of it; batched, a b-th of both, plus
  // what BATCH itself costs the request (gathering, the timer, its callback).
  const double unbatched = t1 + batch_inference_overhead_seconds;
  double best = 0;
  for (BatchEstimate& c : candidates) {
    const double batched =
        (batch_time(graph, memory, threads_per_stream, c.batch) + batch_inference_overhead_seconds) /
            c.batch +
        batch_request_overhead_seconds;
    c.gain = c.batch == 1 ? 1.0 : unbatched / batched;
    best = std::max(best, c.gain);
  }
  if (best < batch_min_gain) return {};
  for (const BatchEstimate& c : candidates)
    if (c.gain >= batch_gain_share * best) return c;
  return candidates.back();  // not reached: the best candidate passes
}

}  // namespace sluice::cpu
