// The streams heuristic: turns PERFORMANCE_HINT, NUM_STREAMS, INFERENCE_NUM_THREADS and
// PERFORMANCE_HINT_NUM_REQUESTS into a concrete configuration (how many streams, how many threads each,
// on which logical CPUs) for the machine's topology and the model's compute profile. A pure function: the
// CPU and REF devices call it at compile time. The rules:
//
// Which CPUs. A thread budget T is placed on "slots": first one logical CPU per physical core (the
// core's primary), NUMA node after node (the node with the most available cores first; ties: lower id),
// and only when T exceeds the physical cores, the cores' SMT siblings, again node after node. T is
// capped at the logical CPUs: more threads than CPUs only time-slice. Within a node, slots follow the
// cores' order, so a stream gets consecutive cores.
//
// LATENCY (NUM_STREAMS not set): 1 stream. T = INFERENCE_NUM_THREADS if set, else the physical cores of
// the NUMA node with the most available cores (one thread per core, on its primary CPU): one inference's
// threads then share a memory controller and never wait on the interconnect.
//
// THROUGHPUT, CUMULATIVE_THROUGHPUT (one device: the same) or NUM_STREAMS=AUTO: T = INFERENCE_NUM_THREADS
// if set, else all physical cores. Threads per stream (tps) come from the model (choose_threads_per_stream
// below): 1, 2 or 4, capped by max_threads_per_stream, by the physical cores of the largest node and by T.
// Each node with n slots gets max(1, n / tps) streams of consecutive slots; its leftover n % tps slots go
// one each, as an extra thread, to its first streams (more streams where that would pass
// max_threads_per_stream), so that every core works and no stream spans two nodes. When
// PERFORMANCE_HINT_NUM_REQUESTS (> 0) is below that stream count, the streams are that many, spread over
// the slots as for explicit streams (so they get more threads each).
//
// NUM_STREAMS = N >= 1 (explicit; any hint): T = INFERENCE_NUM_THREADS if set, else the physical cores,
// or N when N exceeds them (up to the logical CPUs: each stream gets an SMT sibling of its own before
// streams share a CPU). N streams are spread over the nodes in proportion to their slots (D'Hondt: the
// next stream goes to the node where it would get the most threads); within a node the streams split its
// slots into consecutive groups of equal size +-1 (so threads per stream is T / N, or one more on some
// streams where T / N leaves a remainder, rather than leaving cores idle). Fewer streams than nodes span
// nodes (N = 1 uses all T threads). More streams than slots in a node share its CPUs round-robin, one
// thread each: the only case where two streams share a CPU. PERFORMANCE_HINT_NUM_REQUESTS does not cap N.
//
// max_threads_per_stream (REF passes 1: its interpreter is single-threaded) caps every stream's threads;
// slots a capped stream cannot use stay idle (with THROUGHPUT, the node gets more streams instead).
//
// OPTIMAL_NUMBER_OF_INFER_REQUESTS: requests per stream times streams, capped by
// PERFORMANCE_HINT_NUM_REQUESTS when > 0. Under THROUGHPUT and CUMULATIVE_THROUGHPUT 2 per stream, so
// that a stream finishing an inference always finds the next one queued while the application handles
// the finished one; under LATENCY 1 (no queueing: each request runs at once), so LATENCY gives 1, and
// LATENCY with explicit N streams gives N.
//
// Threads per stream from the model (THROUGHPUT / AUTO), in the spirit of OpenVINO's memory-bandwidth
// pressure heuristic: single-thread streams are the most efficient (no barriers inside an inference) as
// long as the streams do not fight over memory. So tps = 1 unless:
//   - bandwidth: a share s of the model's FLOPs is in memory-bound nodes (ComputeProfile::
//     mem_limited_flops: data larger than one core's L2 at under 8 FLOPs/byte). s >= 0.2 gives 2, s >= 0.5
//     gives 4. A stream of k threads splits each such node's data k ways, so that a thread's part of a node
//     and of the next node's input stays in its own L2 instead of going to L3/DRAM; and fewer streams mean
//     fewer independent activation sets competing for the same bandwidth.
//   - cache: the streams that share one L3 each keep their current node's activations there (the
//     output one node writes is the input the next one reads; ComputeProfile::typical_activation_bytes,
//     the FLOP-weighted mean over the nodes). When (our cores sharing the L3 / tps) * that exceeds the L3,
//     the streams evict each other's activations and every node reads its input from DRAM; tps doubles
//     (up to 4) until they fit, halving the streams that share the L3. Weights do not count: they stream
//     from memory once per inference however the cores are grouped.
//   - light models (under 5e7 FLOPs, ~0.5 ms on one core) and models without compute nodes keep tps = 1:
//     a thread team's per-node barriers would eat what splitting their nodes saves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "devices/cpu/model_analysis.hpp"
#include "sluice/properties.hpp"
#include "util/cpu_topology.hpp"

namespace sluice::dev {

struct StreamsRequest {  // what the user asked for (already validated property values)
  PerformanceMode hint = PerformanceMode::LATENCY;
  int64_t num_streams = 0;  // 0: not set (the hint decides); -1: AUTO (as THROUGHPUT decides); >=1 explicit
  int64_t num_threads = 0;  // INFERENCE_NUM_THREADS: 0 not set; else the total threads over all streams
  int64_t hint_num_requests = 0;   // 0 no cap; else caps the streams (THROUGHPUT/AUTO only) and the requests
  int max_threads_per_stream = 0;  // 0: no limit; REF passes 1 (it is single-threaded)
  bool pin = true;                 // pin threads to cores
};

struct StreamsConfig {
  int streams = 1;
  int threads_per_stream = 1;                 // the largest stream's thread count
  std::vector<std::vector<int>> stream_cpus;  // per stream: the logical CPU of each thread (empty when !pin)
  std::vector<int> stream_threads;            // per stream: its thread count
  int total_threads = 1;
  int optimal_requests = 1;  // OPTIMAL_NUMBER_OF_INFER_REQUESTS
  std::string reason;        // one sentence: why this choice (for logs and docs)
};

// Light models: below this many FLOPs per inference, streams keep one thread each.
inline constexpr double light_model_flops = 5e7;
// Shares of mem_limited_flops that call for 2 and 4 threads per stream.
inline constexpr double mem_bound_share_for_2_threads = 0.2;
inline constexpr double mem_bound_share_for_4_threads = 0.5;

// The model's preferred threads per stream (1, 2 or 4) when `threads` threads run streams on
// `topology` (the rule above, before the caps); `why` (optional) gets the reason as a phrase.
int choose_threads_per_stream(const CpuTopology& topology, const cpu::ComputeProfile& model, int threads,
                              std::string* why = nullptr);

// The configuration for a request; throws sluice::Error for out-of-range request values or a topology
// without cores.
StreamsConfig resolve_streams(const CpuTopology& topology, const cpu::ComputeProfile& model,
                              const StreamsRequest& request);

}  // namespace sluice::dev
