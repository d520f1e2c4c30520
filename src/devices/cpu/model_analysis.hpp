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
//
// It also estimates the batch size automatic batching (the BATCH device, which gathers batch-1 requests
// into one batched inference) should use for a model: estimate_optimal_batch, the CPU device's
// OPTIMAL_BATCH_SIZE. The model behind it:
//
//   A per-node roofline. The graph is the optimized CPU graph with its batch-1 shapes (dynamic dims count
//   as 1, as above). For a compute node at batch b
//       t(b) = max(b * flops / peak, weight_bytes / bw_weights + b * activation_bytes / bw_act(b)) + dispatch
//   and for every other node t(b) = b * activation_bytes / bw_act(b) + dispatch'. The model's time is the
//   sum, T(b); the per-sample gain of batching is about b * T(1) / T(b) (exactly: below).
//
//   Batching pays in two ways, both captured: weights are read once per inference whatever b is (FC
//   layers, matrix-vector products, the small-M GEMMs of a transformer at short sequences), and the fixed
//   cost of a node (dispatch, OpenMP region) is paid once per inference. Nothing else gains: FLOPs and
//   activations grow with b, so a convolution net on big feature maps, which is compute-bound at batch 1,
//   gets ~1.0 and is left unbatched.
//
//   Constants (rates per thread: a stream of t threads gets t times each; the dispatch costs stay):
//     peak        100 GFLOP/s f32: one core's FMA throughput with AVX-512 (2 x 16 lanes x 2 FLOPs x
//                 ~3 GHz = 190 on Intel, 2 x 8 x 2 x 3.5 GHz = 112 on AMD Zen 4, half that with AVX2),
//                 derated to what oneDNN sustains in big convolutions and GEMMs.
//     DRAM        10 GB/s: a socket's 100-300 GB/s shared by the 16-64 cores that all run streams under
//                 the THROUGHPUT hint (the only hint that batches); one core alone pulls 2-3x that.
//     L3          30 GB/s: what a core sustains streaming from the shared L3 (Intel's mesh ~20-30,
//                 AMD's ~50), the level weights that stay cached between inferences are read from.
//     L2          100 GB/s: one core's L2, for activations that fit it.
//     dispatch    the fixed cost of running a node, whatever its size, paid once per inference:
//                 1.5 us per compute node (a oneDNN primitive's execute: argument maps, its parallel
//                 region), 0.2 us per other node (the executor's step and an own kernel's call; they run
//                 in the executor's one OpenMP region per inference). Measured on this runtime (AMD EPYC
//                 Zen 4, 1 thread): oneDNN MatMuls of [1,16..64] x [16..64, 16..64] cost 0.5-1.5 us a
//                 node, chains of 200 Neg/Relu/Transpose/Softmax on [1,16] 0.1-0.2 us a node.
//   Where data lives: activations (non-constant inputs + outputs of a node, times b) are read at L2
//   bandwidth when they fit the stream's L2 (l2_bytes x threads), at L3 bandwidth when they fit the
//   stream's share of the L3 (l3_bytes x threads / cores_per_l3), else at DRAM's. Weights (constant inputs
//   of the compute nodes) are read from where the model's whole set of them stays between two inferences
//   of the stream, as they are read in the same cyclic order each time, and LRU keeps all or nothing of a
//   cyclic stream: the stream's L2 if they fit in half of it, the L3 if they fit in half of one L3
//   instance, else DRAM. A whole L3 instance, not the stream's share: the streams of a compiled model
//   share one copy of its weights. Half: the other half is the streams' activations. Weights read from
//   cache make batching gain less (a 4x higher bandwidth moves the balance point 4x lower), not nothing:
//   a matrix-vector product is still bound by its weights' L3 bandwidth.
//
//   The per-request gain also counts the runtime's fixed cost of an inference (amortized by batching) and
//   BATCH's own cost per request (added by it): gain(b) = (T(1) + c_inf) / ((T(b) + c_inf) / b + c_req).
//
//   The choice: among b = 1, 2, 4, ..., max_batch (and max_batch itself when it is not a power of two),
//   the best gain; below 1.15 batching is not worth the latency it adds (a request waits for the batch to
//   fill) and the answer is 1; otherwise the smallest b with at least 90% of the best gain, as a bigger
//   batch only adds latency and waiting for the batch to fill. (The best gain, not gain(max_batch): the
//   gain can fall again when a bigger batch's activations spill from L2 to L3 or DRAM.)
//
//   Checked on a 2-core Zen 4 VM (THROUGHPUT, 2 streams of 1 thread): two FC layers of 16 MiB each
//   (the tests' model) measured gains of 2.6 / 5.2 / 7.1 at b = 4 / 8 / 16, estimated 4 / 8 / 16, both
//   choosing 16; that VM's cores each pulled ~19 GB/s from DRAM and its small-M GEMMs ran at ~70 GFLOP/s,
//   which puts the real balance point near b = 7. ResNet-50 and BERT-base (sequence 128) measured
//   0.9-1.0 at b = 4 and 8, estimated 1.0: both left unbatched.
//
//   Ignored: GEMM/convolution efficiency that improves with a bigger M (a 7x7 feature map, M = 1 rows
//   of a GEMM), elementwise compute (exp, erf, Softmax's passes: ~1 ns an element measured for Softmax,
//   so 64 Softmax nodes on [1,64] gain 2.3x at b = 16, not the 11.6x estimated), bf16 and int8 (the peak is
//   f32's; their weights count by their own byte size), the BATCH device's own cost (copying requests into
//   the batch and results out, waiting for it to fill), the per-inference cost outside the nodes (the
//   request's bookkeeping, also amortized by batching), embedding tables (a Gather reads rows, not the
//   table), attention's K/V (activations: no gain), and subgraphs (not visited, like analyze_compute). The
//   numbers are rough on purpose: a shape-only model only has to tell "batch 8-16 helps a lot"
//   (FC/GEMV-heavy) from "batching does nothing" (conv nets).
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

// The constants of estimate_optimal_batch's model (see the top of this file for why these values); the
// rates are per thread of the stream.
inline constexpr double batch_peak_flops_per_thread = 100e9;      // f32 FLOP/s
inline constexpr double batch_dram_bytes_per_thread = 10e9;       // bytes/s, every core streaming
inline constexpr double batch_l3_bytes_per_thread = 30e9;         // bytes/s
inline constexpr double batch_l2_bytes_per_thread = 100e9;        // bytes/s
inline constexpr double batch_compute_dispatch_seconds = 1.5e-6;  // per compute node and inference
inline constexpr double batch_other_dispatch_seconds = 0.2e-6;    // per other node and inference
// The runtime's own cost of an inference (queue, stream wake-up, bookkeeping), which batching pays once per
// batch, and BATCH's own cost per request (gathering, the timer, the callback), which it adds. Measured
// with benchmarks/overhead.py's tiny model on this 2-core machine: 0.5 core-us per request on CPU, 0.5-1.0
// through BATCH:CPU(16)/(4). They keep tiny models, whose inference costs less than BATCH does, unbatched.
inline constexpr double batch_inference_overhead_seconds = 0.5e-6;
inline constexpr double batch_request_overhead_seconds = 1.0e-6;
inline constexpr double batch_min_gain = 1.15;   // below: batching is not worth it
inline constexpr double batch_gain_share = 0.9;  // the smallest batch with this share of the best gain

// The batch size automatic batching should use for this model; see the top of this file.
struct BatchEstimate {
  int batch = 1;      // 1: batching does not pay
  double gain = 1.0;  // per-request speed-up at `batch` vs batch 1 (see the top of this file)
};

// `graph`: the optimized CPU graph with the model's batch-1 shapes. `threads_per_stream`: the threads of
// the stream that runs an inference (>= 1). `max_batch` (>= 1): the largest batch considered. Throws
// sluice::Error when either is below 1.
BatchEstimate estimate_optimal_batch(const graph::Graph& graph, const CpuTopology& topology,
                                     int threads_per_stream, int max_batch = 16);

// The estimate's model, for tests and diagnostics: T(b), the estimated time in seconds of one inference
// at batch b (all nodes, dispatch included) on a stream of `threads_per_stream` threads.
double estimated_batch_time(const graph::Graph& graph, const CpuTopology& topology, int threads_per_stream,
                            int batch);

}  // namespace sluice::cpu
