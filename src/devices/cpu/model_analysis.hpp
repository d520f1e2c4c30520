// What a model asks of the memory system: its compute nodes' FLOPs, how many bytes they move and how much
// of the work runs at an arithmetic intensity too low to be fed from DRAM. The streams heuristic
// (devices/streams_config.hpp) chooses threads per stream from it.
//
// Compute nodes: ONNX Conv, ConvTranspose, MatMul and Gemm, and com.sluice FusedConv, FusedMatMul and
// Attention (the CPU fusions' output). Other nodes (elementwise, pooling, normalization) are not counted:
// they are cheap next to the products and their traffic is the products' activations again. Subgraphs
// (If/Loop/Scan bodies) are not visited: how often they run is not known at compile time.
//
// Shapes are the graph's value shapes: a symbolic or dynamic dimension counts as 1 (so a model with a
// dynamic batch is profiled at batch 1, a transformer with a dynamic sequence length at length 1, the most
// memory-bound reading), and a node with an input or output of unknown rank is skipped.
#pragma once

#include "graph/graph.hpp"
#include "util/cpu_topology.hpp"

namespace sluice::cpu {

// Below this many FLOPs per byte a node cannot be fed from DRAM when every core is busy. A core sustains
// 50-150 GFLOPS f32 in oneDNN's AVX2/AVX-512 kernels, while a socket's 100-300 GB/s of DRAM bandwidth
// shared by its 16-64 cores gives each 3-10 GB/s when all of them stream: the balance point is 5-50
// FLOPs/byte. 8 is at the low end, so that only clearly memory-bound nodes count: depthwise convolutions
// (~2), small-batch matrix-vector products (0.5 at batch 1), 1x1 convolutions that expand few channels
// into many (~7), while ordinary 3x3 convolutions (>100) and 1x1 convolutions of ResNet (~20) do not.
inline constexpr double memory_bound_flops_per_byte = 8.0;

struct ComputeProfile {
  double flops = 0;             // 2*MACs of the compute nodes
  double weight_bytes = 0;      // bytes of their constant inputs (weights, biases, constant post-op inputs)
  double activation_bytes = 0;  // bytes of their non-constant inputs + outputs, summed over those nodes
  double max_node_bytes = 0;    // the largest (inputs+weights+outputs) of one such node
  // The FLOP-weighted mean of the nodes' activation bytes (non-constant inputs + outputs): the activation
  // data a stream works on at a random moment, since a node's time is about proportional to its FLOPs.
  // Weights are left out: they stream from memory once per inference whatever the streams do, while the
  // activations one node writes and the next reads stay in cache only if the streams leave room.
  double typical_activation_bytes = 0;
  // FLOPs of the nodes whose data (inputs+weights+outputs) exceeds the L2 of one core AND whose arithmetic
  // intensity (flops / bytes) is below memory_bound_flops_per_byte: work that waits on L3/DRAM.
  double mem_limited_flops = 0;
  int nodes = 0;  // compute nodes counted

  // mem_limited_flops / flops; 0 for a model without compute nodes.
  double mem_limited_share() const { return flops > 0 ? mem_limited_flops / flops : 0.0; }
};

// FLOPs (2*MACs) of one node; -1 when it is not a compute node or a shape it needs has unknown rank.
double node_flops(const graph::Node& node);

ComputeProfile analyze_compute(const graph::Graph& graph, const CpuTopology& topology);

}  // namespace sluice::cpu
