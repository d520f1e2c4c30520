#include "devices/streams_config.hpp"

#include <algorithm>
#include <cstdio>

#include "sluice/error.hpp"

namespace sluice::dev {

namespace {

// One NUMA node's logical CPUs as slots: its cores' primaries in core order, then their SMT siblings
// (every core's second CPU, then every core's third, ...).
struct NodeCpus {
  int node = 0;
  std::vector<int> primaries;
  std::vector<int> siblings;
};

// A node's share of a thread budget: its slots in order (primaries first).
struct NodeSlots {
  int node = 0;
  int cores = 0;  // physical cores of the node (available ones)
  std::vector<int> cpus;
};

using Streams = std::vector<std::vector<int>>;  // per stream, the CPU of each thread

int physical_cores(const CpuTopology& t) { return static_cast<int>(t.cores.size()); }

// Nodes with the most available cores first (ties: lower id).
std::vector<NodeCpus> nodes_of(const CpuTopology& t) {
  std::vector<NodeCpus> nodes;
  for (int id : t.node_ids()) {
    NodeCpus node;
    node.node = id;
    const std::vector<int> cores = t.cores_of_node(id);
    size_t most_siblings = 0;
    for (int c : cores) {
      node.primaries.push_back(t.cores[static_cast<size_t>(c)].cpus.at(0));
      most_siblings = std::max(most_siblings, t.cores[static_cast<size_t>(c)].cpus.size());
    }
    for (size_t level = 1; level < most_siblings; ++level)
      for (int c : cores) {
        const auto& cpus = t.cores[static_cast<size_t>(c)].cpus;
        if (level < cpus.size()) node.siblings.push_back(cpus[level]);
      }
    nodes.push_back(std::move(node));
  }
  std::stable_sort(nodes.begin(), nodes.end(), [](const NodeCpus& a, const NodeCpus& b) {
    return a.primaries.size() > b.primaries.size();
  });
  return nodes;
}

// Places `total` threads (1 <= total <= logical CPUs): primaries node after node, then siblings node
// after node. Nodes that get no slot are left out.
std::vector<NodeSlots> pick_slots(const CpuTopology& t, int total) {
  const std::vector<NodeCpus> nodes = nodes_of(t);
  std::vector<NodeSlots> picked(nodes.size());
  int left = total;
  for (size_t i = 0; i < nodes.size(); ++i) {
    picked[i].node = nodes[i].node;
    picked[i].cores = static_cast<int>(nodes[i].primaries.size());
    for (int cpu : nodes[i].primaries) {
      if (left == 0) break;
      picked[i].cpus.push_back(cpu);
      --left;
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i)
    for (int cpu : nodes[i].siblings) {
      if (left == 0) break;
      picked[i].cpus.push_back(cpu);
      --left;
    }
  std::erase_if(picked, [](const NodeSlots& n) { return n.cpus.empty(); });
  return picked;
}

// Splits `slots` among `streams` streams: consecutive groups of equal size +-1 (the larger groups first),
// each cut to `max_threads` (0: no cap); with more streams than slots, one slot each, round-robin.
Streams split_slots(const std::vector<int>& slots, int streams, int max_threads) {
  Streams result;
  const int n = static_cast<int>(slots.size());
  if (streams > n) {
    for (int k = 0; k < streams; ++k) result.push_back({slots[static_cast<size_t>(k % n)]});
    return result;
  }
  const int base = n / streams;
  const int extra = n % streams;
  size_t pos = 0;
  for (int k = 0; k < streams; ++k) {
    const int count = base + (k < extra ? 1 : 0);
    const int take = max_threads > 0 ? std::min(count, max_threads) : count;
    result.emplace_back(slots.begin() + static_cast<std::ptrdiff_t>(pos),
                        slots.begin() + static_cast<std::ptrdiff_t>(pos) + take);
    pos += static_cast<size_t>(count);
  }
  return result;
}

// `streams` streams over the nodes' slots: in proportion to the slots (D'Hondt), each within its node;
// with fewer streams than nodes, over all slots together (such streams span nodes).
Streams spread_streams(const std::vector<NodeSlots>& nodes, int streams, int max_threads) {
  Streams result;
  if (static_cast<size_t>(streams) < nodes.size()) {
    std::vector<int> all;
    for (const NodeSlots& n : nodes) all.insert(all.end(), n.cpus.begin(), n.cpus.end());
    return split_slots(all, streams, max_threads);
  }
  std::vector<int> per_node(nodes.size(), 0);
  for (int s = 0; s < streams; ++s) {
    size_t best = 0;
    for (size_t i = 1; i < nodes.size(); ++i) {
      // nodes[i].cpus / (per_node[i] + 1) > nodes[best].cpus / (per_node[best] + 1), in integers.
      if (nodes[i].cpus.size() * static_cast<size_t>(per_node[best] + 1) >
          nodes[best].cpus.size() * static_cast<size_t>(per_node[i] + 1))
        best = i;
    }
    ++per_node[best];
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (per_node[i] == 0) continue;
    Streams part = split_slots(nodes[i].cpus, per_node[i], max_threads);
    result.insert(result.end(), part.begin(), part.end());
  }
  return result;
}

// `streams` streams over `total` threads' slots (spread_streams). A per-stream cap can leave slots idle;
// the budget then shrinks to the threads used and the streams are placed again, so that the idle slots
// are the last ones picked (SMT siblings, not primaries). Each pass uses fewer slots, so this ends.
Streams place_streams(const CpuTopology& t, int total, int streams, int max_threads) {
  if (max_threads > 0) total = static_cast<int>(std::min<int64_t>(total, int64_t{streams} * max_threads));
  Streams placed = spread_streams(pick_slots(t, total), streams, max_threads);
  for (;;) {
    int used = 0;
    for (const auto& cpus : placed) used += static_cast<int>(cpus.size());
    if (streams > total || used >= total) return placed;  // sharing CPUs, or every slot used
    total = used;
    placed = spread_streams(pick_slots(t, total), streams, max_threads);
  }
}

std::string plural(int64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string mib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1 << 20));
  return text;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%%", share * 100);
  return text;
}

// "2 streams x 4 threads", "3 streams x 3/2 threads" (largest/smallest) on "8 cores".
std::string shape_of(const std::vector<int>& threads) {
  const auto [lo, hi] = std::minmax_element(threads.begin(), threads.end());
  std::string text = plural(static_cast<int64_t>(threads.size()), "stream") + " x ";
  if (*lo == *hi) return text + plural(*hi, "thread");
  return text + std::to_string(*hi) + "/" + std::to_string(*lo) + " threads";
}

}  // namespace

int choose_threads_per_stream(const CpuTopology& topology, const cpu::ComputeProfile& model, int threads,
                              std::string* why) {
  const auto say = [&](std::string text) {
    if (why != nullptr) *why = std::move(text);
  };
  if (model.nodes == 0 || model.flops <= 0) {
    say("the model has no compute nodes to split");
    return 1;
  }
  if (model.flops < light_model_flops) {
    say("the model is light (" + std::to_string(static_cast<int64_t>(model.flops / 1e6)) + " MFLOPs)");
    return 1;
  }
  const double share = model.mem_limited_share();
  int tps = share >= mem_bound_share_for_4_threads ? 4 : share >= mem_bound_share_for_2_threads ? 2 : 1;
  std::string reason = percent(share) + " of its FLOPs are in memory-bound nodes";
  // Our threads that share one L3 instance (all of them when the sharing is unknown).
  const int per_l3 =
      std::max(1, topology.cores_per_l3 > 0 ? std::min(topology.cores_per_l3, threads) : threads);
  const auto overflows = [&](int t) {
    const int streams = std::max(1, per_l3 / t);
    return streams * model.typical_activation_bytes > static_cast<double>(topology.l3_bytes);
  };
  const auto working_sets = [&](int t) {
    return "the working sets of " + plural(std::max(1, per_l3 / t), "stream") + " sharing the L3 (" +
           mib(model.typical_activation_bytes) + " each)";
  };
  if (overflows(tps) && tps < 4) {
    const int before = tps;
    while (tps < 4 && overflows(tps)) tps *= 2;
    reason += ", and " + working_sets(before) + " would overflow its " + mib(topology.l3_bytes);
  } else if (overflows(tps)) {
    reason += ", and even " + working_sets(tps) + " overflow its " + mib(topology.l3_bytes);
  } else {
    reason += ", and " + working_sets(tps) + " fit its " + mib(topology.l3_bytes);
  }
  say(reason);
  return tps;
}

StreamsConfig resolve_streams(const CpuTopology& topology, const cpu::ComputeProfile& model,
                              const StreamsRequest& request) {
  SLUICE_CHECK(!topology.cores.empty(), "resolve_streams: the CPU topology has no cores");
  SLUICE_CHECK(request.num_streams >= -1, "NUM_STREAMS is ", request.num_streams,
               "; expected AUTO (-1), 0 (not set) or a positive count");
  SLUICE_CHECK(request.num_threads >= 0, "INFERENCE_NUM_THREADS is ", request.num_threads,
               "; expected 0 (not set) or a positive count");
  SLUICE_CHECK(request.hint_num_requests >= 0, "PERFORMANCE_HINT_NUM_REQUESTS is ", request.hint_num_requests,
               "; expected 0 (no cap) or a positive count");
  SLUICE_CHECK(request.max_threads_per_stream >= 0, "resolve_streams: max_threads_per_stream is ",
               request.max_threads_per_stream, "; expected 0 (no limit) or a positive count");

  const int logical = topology.logical_cpus();
  const int physical = physical_cores(topology);
  const int max_tps = request.max_threads_per_stream;
  // INFERENCE_NUM_THREADS, capped at the logical CPUs (more would only time-slice); 0 when not set.
  const int user_threads =
      request.num_threads > 0 ? static_cast<int>(std::min<int64_t>(request.num_threads, logical)) : 0;
  const std::string threads_text =
      user_threads > 0 ? "INFERENCE_NUM_THREADS=" + std::to_string(request.num_threads) : "";
  const bool throughput_hint = request.hint != PerformanceMode::LATENCY;
  const int cap = static_cast<int>(std::min<int64_t>(request.hint_num_requests, 1 << 20));

  Streams streams;
  std::string reason;
  if (request.num_streams == 0 && !throughput_hint) {
    // LATENCY: one stream on the largest node's cores (or the threads asked for).
    const std::vector<NodeCpus> nodes = nodes_of(topology);
    int total = user_threads > 0 ? user_threads : static_cast<int>(nodes.front().primaries.size());
    if (max_tps > 0) total = std::min(total, max_tps);
    std::vector<int> all;
    for (const NodeSlots& n : pick_slots(topology, total))
      all.insert(all.end(), n.cpus.begin(), n.cpus.end());
    streams.push_back(std::move(all));
    reason = "LATENCY: 1 stream of " + plural(total, "thread") +
             (user_threads > 0
                  ? " (" + threads_text + ")"
                  : " on the " + plural(static_cast<int64_t>(nodes.front().primaries.size()), "core") +
                        " of NUMA node " + std::to_string(nodes.front().node)) +
             (max_tps > 0 && total == max_tps ? ", the device's most per stream" : "");
  } else if (request.num_streams >= 1) {
    // Explicit streams.
    const int n = static_cast<int>(std::min<int64_t>(request.num_streams, 1 << 16));
    const int total = user_threads > 0 ? user_threads : n > physical ? std::min(n, logical) : physical;
    streams = place_streams(topology, total, n, max_tps);
    reason = "NUM_STREAMS=" + std::to_string(n) + " over " +
             (user_threads > 0 ? threads_text : plural(total, n > physical ? "logical CPU" : "core"));
    if (n > total) reason += ", streams sharing CPUs round-robin";
  } else {
    // THROUGHPUT, CUMULATIVE_THROUGHPUT or NUM_STREAMS=AUTO: threads per stream from the model.
    const int total = user_threads > 0 ? user_threads : physical;
    const std::vector<NodeSlots> nodes = pick_slots(topology, total);
    std::string why;
    const int wanted = choose_threads_per_stream(topology, model, total, &why);
    int largest_node = 0;
    for (const NodeSlots& node : nodes) largest_node = std::max(largest_node, node.cores);
    int tps = std::min({wanted, std::max(1, largest_node), total});
    if (tps < wanted)
      why += " (" + std::to_string(wanted) + " wanted, but a stream has only " + plural(tps, "core") + ")";
    if (max_tps > 0) tps = std::min(tps, max_tps);
    for (const NodeSlots& node : nodes) {
      const int slots = static_cast<int>(node.cpus.size());
      int count = std::max(1, slots / tps);
      // Leftover slots become extra threads, unless that passes the cap: then more streams.
      if (max_tps > 0 && (slots + count - 1) / count > max_tps) count = (slots + max_tps - 1) / max_tps;
      Streams part = split_slots(node.cpus, count, max_tps);
      streams.insert(streams.end(), part.begin(), part.end());
    }
    const std::string mode =
        request.num_streams == -1 ? "NUM_STREAMS=AUTO" : std::string(to_string(request.hint));
    reason = mode + ": " + plural(tps, "thread") + " per stream on " +
             (user_threads > 0 ? threads_text : plural(total, "core")) + " because " + why;
    if (max_tps > 0 && tps == max_tps)
      reason += " (the device runs at most " + plural(max_tps, "thread") + " per stream)";
    if (cap > 0 && static_cast<int>(streams.size()) > cap) {
      streams = place_streams(topology, total, cap, max_tps);
      reason += ", then capped by PERFORMANCE_HINT_NUM_REQUESTS=" + std::to_string(cap);
    }
  }

  StreamsConfig config;
  config.streams = static_cast<int>(streams.size());
  config.stream_threads.clear();
  config.total_threads = 0;
  config.threads_per_stream = 0;
  for (auto& cpus : streams) {
    const int threads = static_cast<int>(cpus.size());
    config.stream_threads.push_back(threads);
    config.total_threads += threads;
    config.threads_per_stream = std::max(config.threads_per_stream, threads);
    if (!request.pin) cpus.clear();
  }
  config.stream_cpus = std::move(streams);
  const int per_stream = throughput_hint ? 2 : 1;
  config.optimal_requests = config.streams * per_stream;
  if (cap > 0) config.optimal_requests = std::min(config.optimal_requests, cap);
  config.reason =
      reason + ": " + shape_of(config.stream_threads) + ", " + plural(config.optimal_requests, "request") +
      " in flight (" +
      (per_stream == 2 ? "2 per stream so that the next one is always queued" : "1 per stream") +
      (cap > 0 && config.optimal_requests == cap ? ", capped by PERFORMANCE_HINT_NUM_REQUESTS" : "") + ").";
  return config;
}

}  // namespace sluice::dev
