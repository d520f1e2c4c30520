// The streams heuristic (src/devices/streams_config.hpp) on synthetic topologies and compute profiles:
// every rule of the header, and the invariants of every configuration it makes.
#include "devices/streams_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "sluice/error.hpp"

namespace sluice::dev {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Cpus = std::vector<std::vector<int>>;

// `nodes` NUMA nodes of `cores` cores with `smt` threads each, numbered as Linux does: the primaries
// 0..P-1 node after node, then the second threads P..2P-1 in the same order. L2 1 MiB per core; an L3
// of 32 MiB per node.
CpuTopology topology(int nodes, int cores, int smt = 1) {
  CpuTopology t;
  const int physical = nodes * cores;
  for (int n = 0; n < nodes; ++n)
    for (int c = 0; c < cores; ++c) {
      CpuTopology::Core core;
      const int primary = n * cores + c;
      for (int s = 0; s < smt; ++s) core.cpus.push_back(primary + s * physical);
      core.numa_node = n;
      core.package = n;
      t.cores.push_back(core);
    }
  t.numa_nodes = nodes;
  t.l2_bytes = 1 << 20;
  t.l3_bytes = 32 << 20;
  t.cores_per_l3 = cores;
  return t;
}

// `activation_mib`: the typical node's activations (typical_activation_bytes).
cpu::ComputeProfile profile(double flops, double mem_share, double activation_mib) {
  cpu::ComputeProfile p;
  p.flops = flops;
  p.mem_limited_flops = flops * mem_share;
  p.typical_activation_bytes = activation_mib * (1 << 20);
  p.max_node_bytes = 3 * p.typical_activation_bytes;  // not used by the rule: must not matter
  p.weight_bytes = 100 * p.max_node_bytes;
  p.activation_bytes = 10 * p.max_node_bytes;
  p.nodes = flops > 0 ? 10 : 0;
  return p;
}

// ResNet-like: 8 GFLOPs, nothing memory-bound, nodes with a few MiB of activations.
const cpu::ComputeProfile compute_bound = profile(8e9, 0.0, 4);
// A third of the work memory-bound: 2 threads per stream.
const cpu::ComputeProfile partly_memory_bound = profile(6e8, 0.3, 4);
// Mostly memory-bound: 4 threads per stream.
const cpu::ComputeProfile memory_bound = profile(6e8, 0.6, 4);
// Tiny, and memory-bound: still 1 thread per stream.
const cpu::ComputeProfile light = profile(1e6, 0.9, 4);

StreamsRequest request(PerformanceMode hint, int64_t streams = 0, int64_t threads = 0) {
  StreamsRequest r;
  r.hint = hint;
  r.num_streams = streams;
  r.num_threads = threads;
  return r;
}
const StreamsRequest latency = request(PerformanceMode::LATENCY);
const StreamsRequest throughput = request(PerformanceMode::THROUGHPUT);

std::map<int, int> node_of_cpu(const CpuTopology& t) {
  std::map<int, int> node;
  for (const auto& core : t.cores)
    for (int cpu : core.cpus) node[cpu] = core.numa_node;
  return node;
}

std::set<int> primaries(const CpuTopology& t) {
  std::set<int> cpus;
  for (const auto& core : t.cores) cpus.insert(core.cpus[0]);
  return cpus;
}

// What every configuration must satisfy.
void check_invariants(const CpuTopology& t, const StreamsConfig& c, const StreamsRequest& r) {
  SCOPED_TRACE(c.reason);
  ASSERT_GE(c.streams, 1);
  ASSERT_EQ(c.stream_cpus.size(), static_cast<size_t>(c.streams));
  ASSERT_EQ(c.stream_threads.size(), static_cast<size_t>(c.streams));
  int total = 0;
  for (int threads : c.stream_threads) {
    EXPECT_GE(threads, 1);
    if (r.max_threads_per_stream > 0) EXPECT_LE(threads, r.max_threads_per_stream);
    total += threads;
  }
  EXPECT_EQ(c.total_threads, total);
  EXPECT_EQ(c.threads_per_stream, *std::max_element(c.stream_threads.begin(), c.stream_threads.end()));
  EXPECT_GE(c.optimal_requests, 1);
  if (r.hint_num_requests > 0) EXPECT_LE(c.optimal_requests, r.hint_num_requests);
  EXPECT_FALSE(c.reason.empty());
  const auto nodes = node_of_cpu(t);
  std::map<int, int> users;  // cpu -> streams on it
  for (int s = 0; s < c.streams; ++s) {
    const auto& cpus = c.stream_cpus[static_cast<size_t>(s)];
    if (!r.pin) {
      EXPECT_TRUE(cpus.empty());
      continue;
    }
    ASSERT_EQ(cpus.size(), static_cast<size_t>(c.stream_threads[static_cast<size_t>(s)]));
    EXPECT_EQ(std::set<int>(cpus.begin(), cpus.end()).size(), cpus.size()) << "a stream reuses a CPU";
    for (int cpu : cpus) {
      EXPECT_TRUE(nodes.count(cpu)) << "CPU " << cpu << " is not in the topology";
      ++users[cpu];
    }
    // A stream stays in one node, unless there are fewer streams than nodes or one LATENCY stream had to
    // take more threads than a node has.
    std::set<int> stream_nodes;
    for (int cpu : cpus) stream_nodes.insert(nodes.at(cpu));
    if (c.streams >= t.numa_nodes && c.streams > 1) EXPECT_EQ(stream_nodes.size(), 1u) << "stream " << s;
  }
  // Two streams share a CPU only when there are more streams than logical CPUs (explicit NUM_STREAMS) or
  // INFERENCE_NUM_THREADS is smaller than an explicit NUM_STREAMS.
  const bool may_share = r.num_streams >= 1 && (c.streams > t.logical_cpus() ||
                                                (r.num_threads > 0 && r.num_streams > r.num_threads));
  if (r.pin && !may_share)
    for (const auto& [cpu, count] : users) EXPECT_EQ(count, 1) << "CPU " << cpu << " is shared";
  // SMT siblings only when more threads than physical cores are asked for.
  if (r.pin && total <= static_cast<int>(t.cores.size()) && !may_share)
    for (const auto& [cpu, count] : users) EXPECT_TRUE(primaries(t).count(cpu)) << "CPU " << cpu;
}

StreamsConfig resolve(const CpuTopology& t, const cpu::ComputeProfile& p, const StreamsRequest& r) {
  StreamsConfig c = resolve_streams(t, p, r);
  check_invariants(t, c, r);
  return c;
}

TEST(StreamsConfig, LatencyUsesTheLargestNodesPhysicalCores) {
  const StreamsConfig two = resolve(topology(1, 2), compute_bound, latency);
  EXPECT_EQ(two.streams, 1);
  EXPECT_THAT(two.stream_cpus, ElementsAre(ElementsAre(0, 1)));
  EXPECT_EQ(two.optimal_requests, 1);

  // 2 nodes x 8 cores x 2 threads: node 0's primaries only.
  const StreamsConfig big = resolve(topology(2, 8, 2), memory_bound, latency);
  EXPECT_EQ(big.streams, 1);
  EXPECT_EQ(big.threads_per_stream, 8);
  EXPECT_THAT(big.stream_cpus, ElementsAre(ElementsAre(0, 1, 2, 3, 4, 5, 6, 7)));
  EXPECT_EQ(big.optimal_requests, 1);
  EXPECT_THAT(big.reason, HasSubstr("LATENCY"));

  // Node 1 has more of our cores than node 0: node 1.
  CpuTopology uneven = topology(2, 4);
  uneven.cores.erase(uneven.cores.begin(), uneven.cores.begin() + 2);  // node 0 keeps cores 2, 3
  const StreamsConfig on_node1 = resolve(uneven, compute_bound, latency);
  EXPECT_THAT(on_node1.stream_cpus, ElementsAre(ElementsAre(4, 5, 6, 7)));
}

TEST(StreamsConfig, LatencyWithThreads) {
  const CpuTopology t = topology(2, 8, 2);
  auto r = latency;
  r.num_threads = 4;
  EXPECT_THAT(resolve(t, compute_bound, r).stream_cpus, ElementsAre(ElementsAre(0, 1, 2, 3)));
  // More than a node: the stream spans nodes, still without siblings.
  r.num_threads = 12;
  EXPECT_THAT(resolve(t, compute_bound, r).stream_cpus,
              ElementsAre(ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)));
  // More than the physical cores: node 0's siblings next.
  r.num_threads = 19;
  const StreamsConfig smt = resolve(t, compute_bound, r);
  EXPECT_EQ(smt.total_threads, 19);
  EXPECT_THAT(smt.stream_cpus[0], ::testing::IsSupersetOf({0, 15, 16, 17, 18}));
  EXPECT_THAT(smt.stream_cpus[0], ::testing::Not(::testing::Contains(19)));
  // More than the logical CPUs: capped.
  r.num_threads = 100;
  EXPECT_EQ(resolve(t, compute_bound, r).total_threads, 32);
}

TEST(StreamsConfig, ThroughputComputeBoundGivesOneThreadPerStream) {
  const StreamsConfig c = resolve(topology(1, 8), compute_bound, throughput);
  EXPECT_EQ(c.streams, 8);
  EXPECT_EQ(c.threads_per_stream, 1);
  EXPECT_THAT(c.stream_cpus, ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(2), ElementsAre(3),
                                         ElementsAre(4), ElementsAre(5), ElementsAre(6), ElementsAre(7)));
  EXPECT_EQ(c.optimal_requests, 16);
  EXPECT_THAT(c.reason, HasSubstr("THROUGHPUT"));

  const StreamsConfig two = resolve(topology(1, 2), compute_bound, throughput);
  EXPECT_EQ(two.streams, 2);
  EXPECT_EQ(two.optimal_requests, 4);
}

TEST(StreamsConfig, ThroughputMemoryBoundGivesWiderStreams) {
  const CpuTopology t = topology(1, 8);
  const StreamsConfig partly = resolve(t, partly_memory_bound, throughput);
  EXPECT_THAT(partly.stream_cpus,
              ElementsAre(ElementsAre(0, 1), ElementsAre(2, 3), ElementsAre(4, 5), ElementsAre(6, 7)));
  EXPECT_EQ(partly.optimal_requests, 8);
  const StreamsConfig mostly = resolve(t, memory_bound, throughput);
  EXPECT_THAT(mostly.stream_cpus, ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7)));
  EXPECT_EQ(mostly.optimal_requests, 4);
  // A light model stays at one thread per stream, memory-bound or not.
  EXPECT_EQ(resolve(t, light, throughput).streams, 8);
  // On 2 cores, 4 threads per stream are capped at the node's 2 cores.
  const StreamsConfig two = resolve(topology(1, 2), memory_bound, throughput);
  EXPECT_THAT(two.stream_cpus, ElementsAre(ElementsAre(0, 1)));
  EXPECT_EQ(two.optimal_requests, 2);
  EXPECT_THAT(two.reason, HasSubstr("4 wanted"));
}

TEST(StreamsConfig, ThroughputStreamsStayInTheirNode) {
  // 2 nodes x 8 cores x 2 threads, memory-bound: 4 threads per stream, 2 streams per node, primaries only.
  const CpuTopology t = topology(2, 8, 2);
  const StreamsConfig c = resolve(t, memory_bound, throughput);
  EXPECT_THAT(c.stream_cpus, ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7),
                                         ElementsAre(8, 9, 10, 11), ElementsAre(12, 13, 14, 15)));
  // Compute-bound: 16 single-thread streams, one per physical core.
  const StreamsConfig single = resolve(t, compute_bound, throughput);
  EXPECT_EQ(single.streams, 16);
  EXPECT_EQ(single.optimal_requests, 32);
  // 3 cores per node with 2 threads per stream: no stream takes a core of the other node.
  const StreamsConfig odd = resolve(topology(2, 3), partly_memory_bound, throughput);
  EXPECT_THAT(odd.stream_cpus, ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4, 5)));
}

TEST(StreamsConfig, LeftoverCoresBecomeExtraThreads) {
  // 3 cores, 2 threads per stream: one stream, and the third core joins it.
  const StreamsConfig three = resolve(topology(1, 3), partly_memory_bound, throughput);
  EXPECT_EQ(three.streams, 1);
  EXPECT_EQ(three.threads_per_stream, 3);
  EXPECT_THAT(three.stream_cpus, ElementsAre(ElementsAre(0, 1, 2)));
  // 5 cores: streams of 3 and 2.
  const StreamsConfig five = resolve(topology(1, 5), partly_memory_bound, throughput);
  EXPECT_THAT(five.stream_cpus, ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4)));
  EXPECT_EQ(five.threads_per_stream, 3);
  EXPECT_EQ(five.total_threads, 5);
}

TEST(StreamsConfig, CacheOverflowWidensStreams) {
  // Nothing memory-bound, but 6 MiB of activations per node: 8 single-thread streams would need 48 MiB
  // of a 32 MiB L3, 4 streams of 2 threads need 24 MiB.
  const CpuTopology t = topology(1, 8);
  const cpu::ComputeProfile big_nodes = profile(8e9, 0.0, 6);
  std::string why;
  EXPECT_EQ(choose_threads_per_stream(t, big_nodes, 8, &why), 2);
  EXPECT_THAT(why, HasSubstr("overflow"));
  EXPECT_EQ(resolve(t, big_nodes, throughput).streams, 4);
  // 20 MiB per node: even 2 streams overflow; 4 threads per stream is the most.
  EXPECT_EQ(choose_threads_per_stream(t, profile(8e9, 0.0, 20), 8), 4);
  // With 4 threads only 4 streams could share the L3: 4 x 6 MiB fit.
  EXPECT_EQ(choose_threads_per_stream(t, big_nodes, 4), 1);
  // An L3 of unknown sharing is shared by all the threads.
  CpuTopology unknown = t;
  unknown.cores_per_l3 = 0;
  EXPECT_EQ(choose_threads_per_stream(unknown, big_nodes, 8), 2);
}

TEST(StreamsConfig, ChooseThreadsPerStream) {
  const CpuTopology t = topology(1, 8);
  std::string why;
  EXPECT_EQ(choose_threads_per_stream(t, cpu::ComputeProfile{}, 8, &why), 1);
  EXPECT_THAT(why, HasSubstr("no compute nodes"));
  EXPECT_EQ(choose_threads_per_stream(t, light, 8, &why), 1);
  EXPECT_THAT(why, HasSubstr("light"));
  EXPECT_EQ(choose_threads_per_stream(t, profile(6e8, 0.19, 1), 8), 1);
  EXPECT_EQ(choose_threads_per_stream(t, profile(6e8, 0.2, 1), 8), 2);
  EXPECT_EQ(choose_threads_per_stream(t, profile(6e8, 0.49, 1), 8), 2);
  EXPECT_EQ(choose_threads_per_stream(t, profile(6e8, 0.5, 1), 8, &why), 4);
  EXPECT_THAT(why, HasSubstr("50% of its FLOPs"));
}

TEST(StreamsConfig, HintNumRequestsCapsStreamsAndRequests) {
  const CpuTopology t = topology(1, 8);
  auto r = throughput;
  r.hint_num_requests = 2;
  const StreamsConfig two = resolve(t, compute_bound, r);
  EXPECT_THAT(two.stream_cpus, ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7)));
  EXPECT_EQ(two.optimal_requests, 2);
  EXPECT_THAT(two.reason, HasSubstr("PERFORMANCE_HINT_NUM_REQUESTS"));
  r.hint_num_requests = 3;
  const StreamsConfig three = resolve(t, compute_bound, r);
  EXPECT_THAT(three.stream_threads, ElementsAre(3, 3, 2));
  EXPECT_EQ(three.optimal_requests, 3);
  // A cap above the streams leaves them, and caps only the requests.
  r.hint_num_requests = 12;
  const StreamsConfig many = resolve(t, compute_bound, r);
  EXPECT_EQ(many.streams, 8);
  EXPECT_EQ(many.optimal_requests, 12);
  // Capped to 1 on two nodes: the one stream takes every core.
  r.hint_num_requests = 1;
  const StreamsConfig one = resolve(topology(2, 4), compute_bound, r);
  EXPECT_EQ(one.streams, 1);
  EXPECT_EQ(one.total_threads, 8);
  // It does not cap explicit streams, only their requests.
  auto e = request(PerformanceMode::THROUGHPUT, 4);
  e.hint_num_requests = 2;
  const StreamsConfig explicit_streams = resolve(t, compute_bound, e);
  EXPECT_EQ(explicit_streams.streams, 4);
  EXPECT_EQ(explicit_streams.optimal_requests, 2);
}

TEST(StreamsConfig, ThroughputWithThreads) {
  const CpuTopology t = topology(1, 8);
  // 4 threads in all: the first 4 cores.
  const StreamsConfig four = resolve(t, compute_bound, request(PerformanceMode::THROUGHPUT, 0, 4));
  EXPECT_THAT(four.stream_cpus, ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(2), ElementsAre(3)));
  // More than the CPUs: capped.
  EXPECT_EQ(resolve(t, compute_bound, request(PerformanceMode::THROUGHPUT, 0, 12)).total_threads, 8);
  // More than the physical cores with SMT: the siblings make streams of their own.
  const CpuTopology smt = topology(2, 8, 2);
  const StreamsConfig c = resolve(smt, compute_bound, request(PerformanceMode::THROUGHPUT, 0, 24));
  EXPECT_EQ(c.streams, 24);
  EXPECT_EQ(c.total_threads, 24);
}

TEST(StreamsConfig, AutoAndCumulativeThroughputFollowThroughput) {
  const CpuTopology t = topology(2, 8, 2);
  const StreamsConfig tp = resolve(t, partly_memory_bound, throughput);
  const StreamsConfig cumulative =
      resolve(t, partly_memory_bound, request(PerformanceMode::CUMULATIVE_THROUGHPUT));
  EXPECT_EQ(cumulative.stream_cpus, tp.stream_cpus);
  EXPECT_EQ(cumulative.optimal_requests, tp.optimal_requests);
  // AUTO under LATENCY: THROUGHPUT's streams, one request per stream.
  const StreamsConfig autos = resolve(t, partly_memory_bound, request(PerformanceMode::LATENCY, -1));
  EXPECT_EQ(autos.stream_cpus, tp.stream_cpus);
  EXPECT_EQ(autos.optimal_requests, autos.streams);
  EXPECT_THAT(autos.reason, HasSubstr("AUTO"));
}

TEST(StreamsConfig, ExplicitStreams) {
  const CpuTopology t = topology(1, 8);
  const StreamsConfig two = resolve(t, compute_bound, request(PerformanceMode::LATENCY, 2));
  EXPECT_THAT(two.stream_cpus, ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7)));
  EXPECT_EQ(two.optimal_requests, 2);  // 1 per stream under LATENCY
  EXPECT_EQ(resolve(t, compute_bound, request(PerformanceMode::THROUGHPUT, 2)).optimal_requests, 4);
  // 8 / 3: the leftover cores are extra threads rather than idle.
  EXPECT_THAT(resolve(t, compute_bound, request(PerformanceMode::LATENCY, 3)).stream_threads,
              ElementsAre(3, 3, 2));
  // The model does not matter.
  EXPECT_EQ(resolve(t, memory_bound, request(PerformanceMode::THROUGHPUT, 8)).streams, 8);
  // With INFERENCE_NUM_THREADS: 2 streams over 6 threads.
  EXPECT_THAT(resolve(t, compute_bound, request(PerformanceMode::LATENCY, 2, 6)).stream_cpus,
              ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4, 5)));
}

TEST(StreamsConfig, ExplicitStreamsOnTwoNodes) {
  const CpuTopology t = topology(2, 8, 2);
  // 3 streams: two on node 0, one on node 1, none spanning.
  EXPECT_THAT(resolve(t, compute_bound, request(PerformanceMode::THROUGHPUT, 3)).stream_cpus,
              ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7),
                          ElementsAre(8, 9, 10, 11, 12, 13, 14, 15)));
  // 1 stream: all the cores, across the nodes.
  const StreamsConfig one = resolve(t, compute_bound, request(PerformanceMode::LATENCY, 1));
  EXPECT_EQ(one.total_threads, 16);
  EXPECT_EQ(one.optimal_requests, 1);
  // 20 streams on 16 cores: 4 of them on SMT siblings, no CPU shared.
  const StreamsConfig twenty = resolve(t, compute_bound, request(PerformanceMode::THROUGHPUT, 20));
  EXPECT_EQ(twenty.streams, 20);
  EXPECT_EQ(twenty.total_threads, 20);
}

TEST(StreamsConfig, ExplicitStreamsBeyondTheCpusShareThemRoundRobin) {
  const StreamsConfig c = resolve(topology(1, 2), compute_bound, request(PerformanceMode::THROUGHPUT, 5));
  EXPECT_EQ(c.streams, 5);
  EXPECT_EQ(c.threads_per_stream, 1);
  EXPECT_THAT(c.stream_cpus,
              ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(0), ElementsAre(1), ElementsAre(0)));
  EXPECT_EQ(c.optimal_requests, 10);
  EXPECT_THAT(c.reason, HasSubstr("round-robin"));
  // INFERENCE_NUM_THREADS=2 with 4 streams on 8 cores: the 4 streams share 2 CPUs.
  const StreamsConfig shared =
      resolve(topology(1, 8), compute_bound, request(PerformanceMode::LATENCY, 4, 2));
  EXPECT_THAT(shared.stream_cpus,
              ElementsAre(ElementsAre(0), ElementsAre(1), ElementsAre(0), ElementsAre(1)));
}

TEST(StreamsConfig, ReferenceDeviceRunsOneThreadPerStream) {
  const CpuTopology t = topology(1, 8);
  auto r = throughput;
  r.max_threads_per_stream = 1;
  const StreamsConfig tp = resolve(t, memory_bound, r);
  EXPECT_EQ(tp.streams, 8);
  EXPECT_EQ(tp.threads_per_stream, 1);
  EXPECT_EQ(tp.optimal_requests, 16);
  auto l = latency;
  l.max_threads_per_stream = 1;
  const StreamsConfig lat = resolve(t, compute_bound, l);
  EXPECT_THAT(lat.stream_cpus, ElementsAre(ElementsAre(0)));
  auto e = request(PerformanceMode::THROUGHPUT, 2);
  e.max_threads_per_stream = 1;
  const StreamsConfig two = resolve(t, compute_bound, e);
  EXPECT_THAT(two.stream_cpus, ElementsAre(ElementsAre(0), ElementsAre(1)));
  // A cap of 2 with 5 cores: streams of 2, 2 and 1 rather than 3 and 2.
  auto c2 = throughput;
  c2.max_threads_per_stream = 2;
  EXPECT_THAT(resolve(topology(1, 5), memory_bound, c2).stream_threads, ElementsAre(2, 2, 1));
}

TEST(StreamsConfig, UnpinnedKeepsTheCountsWithoutCpus) {
  auto r = throughput;
  r.pin = false;
  const StreamsConfig c = resolve(topology(1, 8), partly_memory_bound, r);
  EXPECT_EQ(c.streams, 4);
  EXPECT_THAT(c.stream_threads, ElementsAre(2, 2, 2, 2));
  for (const auto& cpus : c.stream_cpus) EXPECT_TRUE(cpus.empty());
}

TEST(StreamsConfig, RejectsBadRequests) {
  const CpuTopology t = topology(1, 2);
  EXPECT_THROW(resolve_streams(t, compute_bound, request(PerformanceMode::THROUGHPUT, -2)), Error);
  EXPECT_THROW(resolve_streams(t, compute_bound, request(PerformanceMode::THROUGHPUT, 0, -1)), Error);
  EXPECT_THROW(resolve_streams(CpuTopology{}, compute_bound, throughput), Error);
}

TEST(StreamsConfig, InvariantsHoldEverywhere) {
  const std::vector<CpuTopology> topologies = {topology(1, 1), topology(1, 2),    topology(1, 3),
                                               topology(1, 8), topology(2, 8, 2), topology(4, 3, 2),
                                               topology(2, 6)};
  const std::vector<cpu::ComputeProfile> profiles = {
      cpu::ComputeProfile{}, light, compute_bound, partly_memory_bound, memory_bound, profile(8e9, 0, 40)};
  int checked = 0;
  for (const auto& t : topologies)
    for (const auto& p : profiles)
      for (auto hint : {PerformanceMode::LATENCY, PerformanceMode::THROUGHPUT})
        for (int64_t streams : {0, -1, 1, 2, 3, 7, 40})
          for (int64_t threads : {0, 1, 5, 64})
            for (int64_t cap : {0, 1, 3})
              for (int max_tps : {0, 1, 2})
                for (bool pin : {true, false}) {
                  StreamsRequest r = request(hint, streams, threads);
                  r.hint_num_requests = cap;
                  r.max_threads_per_stream = max_tps;
                  r.pin = pin;
                  SCOPED_TRACE(describe(t) + " streams " + std::to_string(streams) + " threads " +
                               std::to_string(threads) + " cap " + std::to_string(cap) + " max " +
                               std::to_string(max_tps));
                  const StreamsConfig c = resolve(t, p, r);
                  if (streams >= 1) EXPECT_EQ(c.streams, streams);
                  if (streams == 0 && hint == PerformanceMode::LATENCY) EXPECT_EQ(c.streams, 1);
                  if (HasFailure()) return;
                  ++checked;
                }
  EXPECT_GT(checked, 10000);
}

}  // namespace
}  // namespace sluice::dev
