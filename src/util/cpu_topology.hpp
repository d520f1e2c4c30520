// The machine as this process sees it: the physical cores it may run on, their SMT siblings, NUMA nodes
// and cache sizes, read from Linux sysfs (no hwloc). The streams heuristic (devices/streams_config.hpp)
// places inference threads with it.
//
// Only the logical CPUs in the process's affinity mask count: a container or `taskset` that allows 4 of
// 64 CPUs gives a topology of (at most) 4 logical CPUs, grouped into the physical cores they belong to.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct CpuTopology {
  struct Core {  // one physical core available to this process
    std::vector<int>
        cpus;           // its logical CPUs available to us (SMT siblings), ascending; cpus[0] is the primary
    int numa_node = 0;  // the OS's node id (not renumbered: a process bound to node 1 sees node 1)
    int package = 0;
  };
  std::vector<Core> cores;      // ordered by NUMA node, then package, then first cpu
  int numa_nodes = 1;           // nodes that have at least one available core
  size_t l1d_bytes = 32 << 10;  // per core
  size_t l2_bytes = 1 << 20;    // per core
  size_t l3_bytes = 8 << 20;    // per L3 instance (shared)
  int cores_per_l3 = 0;         // cores sharing one L3 (0 = unknown -> all cores)

  int logical_cpus() const;
  std::vector<int> cores_of_node(int node) const;  // indices into `cores`
  std::vector<int> node_ids() const;               // the nodes that have available cores, ascending
};

// Reads <sysfs_root>/devices/system/cpu/cpuN/topology/{core_id,physical_package_id,thread_siblings_list},
// <sysfs_root>/devices/system/node/nodeN/cpulist, and the cache/indexK/{level,type,size,shared_cpu_list}
// of the first allowed CPU (cpu0 when it has none), keeping only the logical CPUs in `allowed` (empty:
// this process's sched_getaffinity set). Anything missing or unreadable falls back: a CPU without
// topology files is a core of its own, a CPU in no node's cpulist is on node 0, a cache level that is not
// described keeps the default above. Cache sizes are per core: an L1d or L2 that several cores share
// (shared_cpu_list) is divided among them; cores_per_l3 counts the physical cores (available or not)
// in the L3's shared_cpu_list.
CpuTopology read_cpu_topology(const std::string& sysfs_root = "/sys", std::vector<int> allowed = {});

// The host's topology, read once (thread-safe) from /sys and the affinity mask at the first call.
const CpuTopology& host_topology();

// One line: "2 cores (2 logical CPUs), 1 NUMA node, L2 1 MiB/core, L3 32 MiB".
std::string describe(const CpuTopology& topology);

// The kernel's cpulist syntax: "0-3,8,10-11" (ranges may have a stride, "0-6:2"; an empty string is an
// empty list). Returns the CPUs ascending, without duplicates; throws sluice::Error when malformed.
std::vector<int> parse_cpu_list(std::string_view text);

// A sysfs cache size: "32K", "1024K", "32M", "1G" or a plain number of bytes. Throws sluice::Error when
// malformed.
size_t parse_cache_size(std::string_view text);

// This process's allowed logical CPUs (sched_getaffinity), ascending; {0} when it cannot be read.
std::vector<int> process_affinity();

}  // namespace sluice
