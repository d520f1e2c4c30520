// The sysfs topology reader (src/util/cpu_topology.hpp) on fake sysfs trees written by the tests, and a
// smoke test on the host.
#include "util/cpu_topology.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "sluice/error.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fake sysfs root in a fresh temporary directory, removed at the end of the test.
class FakeSysfs {
 public:
  FakeSysfs() {
    std::string pattern = (fs::temp_directory_path() / "sluice_sysfs_XXXXXX").string();
    root_ = ::mkdtemp(pattern.data());
  }
  ~FakeSysfs() { fs::remove_all(root_); }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  const std::string& root() const { return root_; }
  // Writes `text` + "\n" at root/relative, creating the directories.
  void write(const std::string& relative, const std::string& text) const {
    const fs::path path = fs::path(root_) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text << "\n";
  }
  void cpu(int cpu, int package, int core_id, const std::string& siblings) const {
    const std::string dir = "devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    write(dir + "physical_package_id", std::to_string(package));
    write(dir + "core_id", std::to_string(core_id));
    write(dir + "thread_siblings_list", siblings);
  }
  void node(int node, const std::string& cpulist) const {
    write("devices/system/node/node" + std::to_string(node) + "/cpulist", cpulist);
  }
  void cache(int cpu, int index, int level, const std::string& type, const std::string& size,
             const std::string& shared) const {
    const std::string dir =
        "devices/system/cpu/cpu" + std::to_string(cpu) + "/cache/index" + std::to_string(index) + "/";
    write(dir + "level", std::to_string(level));
    write(dir + "type", type);
    write(dir + "size", size);
    if (!shared.empty()) write(dir + "shared_cpu_list", shared);
  }

 private:
  std::string root_;
};

// Two packages of 4 cores with 2 hardware threads each, one NUMA node per package, numbered as Linux
// does on Intel servers: cpu0-3 are package 0's cores, cpu4-7 package 1's, cpu8-15 their SMT siblings.
// L1d 48K and L2 2M per core, an L3 of 32M per package.
void write_two_socket_smt(const FakeSysfs& fs) {
  for (int cpu = 0; cpu < 16; ++cpu) {
    const int primary = cpu % 8;
    const int package = primary / 4;
    fs.cpu(cpu, package, primary % 4, std::to_string(primary) + "," + std::to_string(primary + 8));
  }
  fs.node(0, "0-3,8-11");
  fs.node(1, "4-7,12-15");
  fs.cache(0, 0, 1, "Data", "48K", "0,8");
  fs.cache(0, 1, 1, "Instruction", "32K", "0,8");
  fs.cache(0, 2, 2, "Unified", "2048K", "0,8");
  fs.cache(0, 3, 3, "Unified", "32M", "0-3,8-11");
  // Other files sysfs has next to cpuN: they must not be taken for CPUs.
  fs.write("devices/system/cpu/online", "0-15");
  fs.write("devices/system/cpu/cpufreq/boost", "1");
}

std::vector<int> all_cpus(const CpuTopology& t) {
  std::vector<int> cpus;
  for (const auto& core : t.cores) cpus.insert(cpus.end(), core.cpus.begin(), core.cpus.end());
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

TEST(CpuList, ParsesRangesSinglesAndStrides) {
  EXPECT_THAT(parse_cpu_list("0-3,8,10-11"), ElementsAre(0, 1, 2, 3, 8, 10, 11));
  EXPECT_THAT(parse_cpu_list("5"), ElementsAre(5));
  EXPECT_THAT(parse_cpu_list("8,0-1,1"), ElementsAre(0, 1, 8));  // sorted, no duplicates
  EXPECT_THAT(parse_cpu_list("0-6:2"), ElementsAre(0, 2, 4, 6));
  EXPECT_TRUE(parse_cpu_list("").empty());
}

TEST(CpuList, RejectsMalformedLists) {
  for (const char* bad : {"3-1", "a", "1,,2", "-1", "1-", "0-4:0", "1 2"}) {
    try {
      parse_cpu_list(bad);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(bad));
    }
  }
}

TEST(CacheSize, ParsesSuffixes) {
  EXPECT_EQ(parse_cache_size("32K"), 32u << 10);
  EXPECT_EQ(parse_cache_size("1024K"), 1u << 20);
  EXPECT_EQ(parse_cache_size("32M"), 32u << 20);
  EXPECT_EQ(parse_cache_size("1G"), size_t{1} << 30);
  EXPECT_EQ(parse_cache_size("512"), 512u);
  for (const char* bad : {"", "K", "12Q", "1.5M", "32KB"}) EXPECT_THROW(parse_cache_size(bad), Error) << bad;
}

TEST(CpuTopology, TwoSocketsTwoNodesWithSmt) {
  FakeSysfs fs;
  write_two_socket_smt(fs);
  std::vector<int> every(16);
  for (int i = 0; i < 16; ++i) every[static_cast<size_t>(i)] = i;
  const CpuTopology t = read_cpu_topology(fs.root(), every);

  ASSERT_EQ(t.cores.size(), 8u);
  EXPECT_EQ(t.logical_cpus(), 16);
  EXPECT_EQ(t.numa_nodes, 2);
  for (size_t i = 0; i < 8; ++i) {
    const int primary = static_cast<int>(i);
    EXPECT_THAT(t.cores[i].cpus, ElementsAre(primary, primary + 8)) << "core " << i;
    EXPECT_EQ(t.cores[i].numa_node, primary / 4) << "core " << i;
    EXPECT_EQ(t.cores[i].package, primary / 4) << "core " << i;
  }
  EXPECT_THAT(t.cores_of_node(0), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(t.cores_of_node(1), ElementsAre(4, 5, 6, 7));
  EXPECT_TRUE(t.cores_of_node(2).empty());
  EXPECT_THAT(t.node_ids(), ElementsAre(0, 1));
  // Per core: the SMT siblings share one core's L1d and L2, which are not divided.
  EXPECT_EQ(t.l1d_bytes, 48u << 10);
  EXPECT_EQ(t.l2_bytes, 2u << 20);
  EXPECT_EQ(t.l3_bytes, 32u << 20);
  EXPECT_EQ(t.cores_per_l3, 4);
  EXPECT_EQ(describe(t), "8 cores (16 logical CPUs), 2 NUMA nodes, L2 2 MiB/core, L3 32 MiB per 4 cores");
}

TEST(CpuTopology, KeepsOnlyTheAllowedCpus) {
  FakeSysfs fs;
  write_two_socket_smt(fs);
  // Unsorted and duplicated: the reader sorts them.
  const CpuTopology t = read_cpu_topology(fs.root(), {13, 1, 9, 2, 5, 1});
  ASSERT_EQ(t.cores.size(), 3u);
  EXPECT_THAT(t.cores[0].cpus, ElementsAre(1, 9));
  EXPECT_THAT(t.cores[1].cpus, ElementsAre(2));  // its sibling 10 is not ours
  EXPECT_THAT(t.cores[2].cpus, ElementsAre(5, 13));
  EXPECT_EQ(t.cores[2].numa_node, 1);
  EXPECT_EQ(t.numa_nodes, 2);
  EXPECT_EQ(t.logical_cpus(), 5);
  // The L3 is still shared by 4 physical cores, ours or not.
  EXPECT_EQ(t.cores_per_l3, 4);

  // Only node 1's CPUs: one node, keeping the OS's id; caches from the first allowed CPU, which has no
  // cache directory here, so cpu0's.
  const CpuTopology node1 = read_cpu_topology(fs.root(), {4, 12, 6});
  EXPECT_EQ(node1.numa_nodes, 1);
  EXPECT_THAT(node1.node_ids(), ElementsAre(1));
  ASSERT_EQ(node1.cores.size(), 2u);
  EXPECT_THAT(node1.cores[0].cpus, ElementsAre(4, 12));
  EXPECT_THAT(node1.cores[1].cpus, ElementsAre(6));
  EXPECT_TRUE(node1.cores_of_node(0).empty());
  EXPECT_THAT(node1.cores_of_node(1), ElementsAre(0, 1));
  EXPECT_EQ(node1.l2_bytes, 2u << 20);
}

TEST(CpuTopology, OrdersCoresByNodeThenPackageThenCpu) {
  // Node 0 holds the high CPU numbers, node 1 the low ones: node order wins over CPU numbers.
  FakeSysfs fs;
  for (int cpu = 0; cpu < 4; ++cpu) fs.cpu(cpu, cpu < 2 ? 1 : 0, cpu % 2, std::to_string(cpu));
  fs.node(0, "2-3");
  fs.node(1, "0-1");
  const CpuTopology t = read_cpu_topology(fs.root(), {0, 1, 2, 3});
  ASSERT_EQ(t.cores.size(), 4u);
  EXPECT_THAT(t.cores[0].cpus, ElementsAre(2));
  EXPECT_THAT(t.cores[1].cpus, ElementsAre(3));
  EXPECT_THAT(t.cores[2].cpus, ElementsAre(0));
  EXPECT_EQ(t.cores[2].numa_node, 1);
  EXPECT_EQ(t.cores[2].package, 1);
}

TEST(CpuTopology, MissingFilesFallBack) {
  // cpu0: no topology at all; cpu1 and cpu2: core_id 0 in different packages and no siblings list (the
  // same core_id in two packages is two cores); cpu3 and cpu4: a malformed siblings list, falling back to
  // core_id, which they share (one core with 2 threads). No node directory, no cache information.
  FakeSysfs fs;
  fs.write("devices/system/cpu/cpu0/online", "1");
  fs.write("devices/system/cpu/cpu1/topology/core_id", "0");
  fs.write("devices/system/cpu/cpu1/topology/physical_package_id", "0");
  fs.write("devices/system/cpu/cpu2/topology/core_id", "0");
  fs.write("devices/system/cpu/cpu2/topology/physical_package_id", "1");
  for (int cpu : {3, 4}) {
    fs.write("devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/core_id", "7");
    fs.write("devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list", "garbage");
  }
  // A cache entry with a malformed size and one without a type: both ignored, the defaults stay.
  fs.cache(0, 0, 2, "Unified", "lots", "0");
  fs.write("devices/system/cpu/cpu0/cache/index1/level", "3");
  fs.write("devices/system/cpu/cpu0/cache/index1/size", "64M");

  const CpuTopology t = read_cpu_topology(fs.root(), {0, 1, 2, 3, 4});
  ASSERT_EQ(t.cores.size(), 4u);
  EXPECT_THAT(t.cores[0].cpus, ElementsAre(0));
  EXPECT_THAT(t.cores[1].cpus, ElementsAre(1));
  EXPECT_THAT(t.cores[2].cpus, ElementsAre(3, 4));
  EXPECT_THAT(t.cores[3].cpus, ElementsAre(2));  // package 1 sorts after package 0
  EXPECT_EQ(t.cores[3].package, 1);
  for (const auto& core : t.cores) EXPECT_EQ(core.numa_node, 0);
  EXPECT_EQ(t.numa_nodes, 1);
  const CpuTopology defaults;
  EXPECT_EQ(t.l1d_bytes, defaults.l1d_bytes);
  EXPECT_EQ(t.l2_bytes, defaults.l2_bytes);
  EXPECT_EQ(t.l3_bytes, defaults.l3_bytes);
  EXPECT_EQ(t.cores_per_l3, 0);
}

TEST(CpuTopology, NoSysfsGivesOneCorePerAllowedCpu) {
  FakeSysfs fs;  // empty
  const CpuTopology t = read_cpu_topology(fs.root() + "/nothing-here", {3, 1});
  ASSERT_EQ(t.cores.size(), 2u);
  EXPECT_THAT(t.cores[0].cpus, ElementsAre(1));
  EXPECT_THAT(t.cores[1].cpus, ElementsAre(3));
  EXPECT_EQ(t.numa_nodes, 1);
  EXPECT_EQ(describe(t), "2 cores (2 logical CPUs), 1 NUMA node, L2 1 MiB/core, L3 8 MiB");
}

TEST(CpuTopology, SharedL2IsDividedAmongItsCores) {
  // A cluster of 4 single-threaded cores sharing a 2M L2 (as on hybrid CPUs' efficient cores), and the L3
  // shared by all 8 cores of the package.
  FakeSysfs fs;
  for (int cpu = 0; cpu < 8; ++cpu) fs.cpu(cpu, 0, cpu, std::to_string(cpu));
  fs.cache(0, 0, 1, "Data", "32K", "0");
  fs.cache(0, 2, 2, "Unified", "2M", "0-3");
  fs.cache(0, 3, 3, "Unified", "24M", "0-7");
  const CpuTopology t = read_cpu_topology(fs.root(), {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(t.l1d_bytes, 32u << 10);
  EXPECT_EQ(t.l2_bytes, 512u << 10);
  EXPECT_EQ(t.l3_bytes, 24u << 20);
  EXPECT_EQ(t.cores_per_l3, 8);
  EXPECT_EQ(describe(t), "8 cores (8 logical CPUs), 1 NUMA node, L2 512 KiB/core, L3 24 MiB");
}

TEST(CpuTopology, HostMatchesTheAffinityMask) {
  const CpuTopology& t = host_topology();
  EXPECT_EQ(&t, &host_topology());  // read once
  ASSERT_GE(t.cores.size(), 1u);
  EXPECT_EQ(all_cpus(t), process_affinity());
  for (const auto& core : t.cores) {
    ASSERT_FALSE(core.cpus.empty());
    EXPECT_TRUE(std::is_sorted(core.cpus.begin(), core.cpus.end()));
  }
  EXPECT_GE(t.numa_nodes, 1);
  EXPECT_GT(t.l2_bytes, 0u);
  EXPECT_GT(t.l3_bytes, 0u);
  EXPECT_THAT(describe(t), HasSubstr(std::to_string(t.cores.size()) + " core"));
  std::cout << "host: " << describe(t) << "\n";
}

}  // namespace
}  // namespace sluice
