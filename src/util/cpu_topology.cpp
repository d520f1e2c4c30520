#include "util/cpu_topology.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "sluice/error.hpp"

namespace sluice {

namespace {

namespace fs = std::filesystem;

// The first line of a sysfs file without surrounding blanks; nullopt when it cannot be read.
std::optional<std::string> read_line(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  if (in.bad()) return std::nullopt;
  const auto first = line.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return std::string();
  const auto last = line.find_last_not_of(" \t\r\n");
  return line.substr(first, last - first + 1);
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<int> read_int(const fs::path& path) {
  const auto line = read_line(path);
  return line ? parse_int(*line) : std::nullopt;
}

std::optional<std::vector<int>> read_cpu_list(const fs::path& path) {
  const auto line = read_line(path);
  if (!line) return std::nullopt;
  try {
    return parse_cpu_list(*line);
  } catch (const Error&) {
    return std::nullopt;  // a malformed file is a missing file: the caller falls back
  }
}

// The numbers N of the entries "<prefix>N" of a directory, ascending; empty when it cannot be read.
std::vector<int> numbered_entries(const fs::path& dir, std::string_view prefix) {
  std::vector<int> ids;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (const auto id = parse_int(std::string_view(name).substr(prefix.size())); id && *id >= 0)
      ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// What identifies a physical core: its package and the first CPU of its thread siblings, or (when the
// siblings list is missing) its package and core_id, or (with no topology at all) the CPU itself. The
// siblings list comes first because core_id is only unique within a die on multi-die packages.
struct CoreKey {
  int kind = 0;  // 0: package + first sibling, 1: package + core_id, 2: the CPU alone
  int package = 0;
  int id = 0;
  bool operator<(const CoreKey& other) const {
    return std::tie(kind, package, id) < std::tie(other.kind, other.package, other.id);
  }
};

struct CpuInfo {
  CoreKey key;
  int package = 0;
};

CpuInfo read_cpu_info(const fs::path& cpu_root, int cpu) {
  const fs::path topo = cpu_root / ("cpu" + std::to_string(cpu)) / "topology";
  CpuInfo info;
  info.package = std::max(0, read_int(topo / "physical_package_id").value_or(0));  // -1 on some VMs
  const auto siblings = read_cpu_list(topo / "thread_siblings_list");
  if (siblings && std::binary_search(siblings->begin(), siblings->end(), cpu)) {
    info.key = {0, info.package, siblings->front()};
  } else if (const auto core_id = read_int(topo / "core_id")) {
    info.key = {1, info.package, *core_id};
  } else {
    info.key = {2, 0, cpu};
  }
  return info;
}

std::string format_bytes(size_t bytes) {
  if (bytes != 0 && bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes != 0 && bytes % (size_t{1} << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

}  // namespace

int CpuTopology::logical_cpus() const {
  int n = 0;
  for (const Core& core : cores) n += static_cast<int>(core.cpus.size());
  return n;
}

std::vector<int> CpuTopology::cores_of_node(int node) const {
  std::vector<int> indices;
  for (size_t i = 0; i < cores.size(); ++i)
    if (cores[i].numa_node == node) indices.push_back(static_cast<int>(i));
  return indices;
}

std::vector<int> CpuTopology::node_ids() const {
  std::set<int> ids;
  for (const Core& core : cores) ids.insert(core.numa_node);
  return {ids.begin(), ids.end()};
}

std::vector<int> parse_cpu_list(std::string_view text) {
  std::set<int> cpus;
  const auto number = [&](std::string_view piece) {
    const auto value = parse_int(piece);
    SLUICE_CHECK(value && *value >= 0, "cpu list '", text, "': '", piece,
                 "' is not a CPU number; expected a list such as 0-3,8,10-11");
    return *value;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    pos = comma + 1;
    SLUICE_CHECK(!item.empty(), "cpu list '", text,
                 "' has an empty item; expected a list such as 0-3,8,10-11");
    int stride = 1;
    if (const size_t colon = item.find(':'); colon != std::string_view::npos) {
      stride = number(item.substr(colon + 1));
      SLUICE_CHECK(stride > 0, "cpu list '", text, "' has stride 0 in '", item, "'; expected >= 1");
      item = item.substr(0, colon);
    }
    const size_t dash = item.find('-');
    const int first = number(item.substr(0, dash));
    const int last = dash == std::string_view::npos ? first : number(item.substr(dash + 1));
    SLUICE_CHECK(first <= last, "cpu list '", text, "' has the descending range '", item,
                 "'; expected first <= last");
    for (int cpu = first; cpu <= last; cpu += stride) cpus.insert(cpu);
  }
  return {cpus.begin(), cpus.end()};
}

size_t parse_cache_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  SLUICE_CHECK(digits > 0 && digits <= 12 && text.size() - digits <= 1, "cache size '", text,
               "' is malformed; expected a number with an optional K, M or G suffix, such as 1024K");
  size_t value = 0;
  std::from_chars(text.data(), text.data() + digits, value);
  if (digits == text.size()) return value;
  switch (text[digits]) {
    case 'K':
    case 'k': return value << 10;
    case 'M':
    case 'm': return value << 20;
    case 'G':
    case 'g': return value << 30;
    default:
      throw_error("cache size '", text, "' has the unknown suffix '", text.substr(digits),
                  "'; expected K, M or G");
  }
}

std::vector<int> process_affinity() {
  // The mask may be larger than cpu_set_t's 1024 CPUs: grow it until the kernel accepts its size.
  for (int ncpus = 1024; ncpus <= (1 << 16); ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (set == nullptr) break;
    const size_t size = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0) {
      std::vector<int> cpus;
      for (int cpu = 0; cpu < ncpus; ++cpu)
        if (CPU_ISSET_S(cpu, size, set)) cpus.push_back(cpu);
      CPU_FREE(set);
      if (!cpus.empty()) return cpus;
      break;
    }
    CPU_FREE(set);
    if (errno != EINVAL) break;
  }
  return {0};
}

CpuTopology read_cpu_topology(const std::string& sysfs_root, std::vector<int> allowed) {
  const fs::path cpu_root = fs::path(sysfs_root) / "devices" / "system" / "cpu";
  const fs::path node_root = fs::path(sysfs_root) / "devices" / "system" / "node";
  if (allowed.empty()) allowed = process_affinity();
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  allowed.erase(std::remove_if(allowed.begin(), allowed.end(), [](int cpu) { return cpu < 0; }),
                allowed.end());
  SLUICE_CHECK(!allowed.empty(), "read_cpu_topology: no logical CPU is allowed; expected at least one");

  // Every CPU sysfs knows (available or not): cache sharing counts the cores of other processes too.
  std::map<int, CpuInfo> info;
  for (int cpu : numbered_entries(cpu_root, "cpu")) info[cpu] = read_cpu_info(cpu_root, cpu);
  for (int cpu : allowed)
    if (!info.count(cpu)) info[cpu] = read_cpu_info(cpu_root, cpu);  // falls back to a core of its own

  std::map<int, int> node_of;
  for (int node : numbered_entries(node_root, "node")) {
    const auto cpus = read_cpu_list(node_root / ("node" + std::to_string(node)) / "cpulist");
    if (!cpus) continue;
    for (int cpu : *cpus) node_of.emplace(cpu, node);
  }

  CpuTopology topology;
  std::map<CoreKey, CpuTopology::Core> cores;
  for (int cpu : allowed) {  // ascending, so each core's cpus come out ascending
    const CpuInfo& ci = info.at(cpu);
    auto [it, fresh] = cores.try_emplace(ci.key);
    if (fresh) {
      it->second.package = ci.package;
      // SMT siblings share a node; the first one decides should sysfs ever disagree.
      const auto node = node_of.find(cpu);
      it->second.numa_node = node == node_of.end() ? 0 : node->second;
    }
    it->second.cpus.push_back(cpu);
  }
  for (auto& [key, core] : cores) topology.cores.push_back(std::move(core));
  std::sort(topology.cores.begin(), topology.cores.end(), [](const auto& a, const auto& b) {
    return std::tie(a.numa_node, a.package, a.cpus[0]) < std::tie(b.numa_node, b.package, b.cpus[0]);
  });
  topology.numa_nodes = std::max<int>(1, static_cast<int>(topology.node_ids().size()));

  // Physical cores among a list of CPUs (by the system-wide core keys; unknown CPUs are cores of their own).
  const auto physical_cores = [&](const std::vector<int>& cpus) {
    std::set<CoreKey> keys;
    for (int cpu : cpus) {
      const auto it = info.find(cpu);
      keys.insert(it == info.end() ? CoreKey{2, 0, cpu} : it->second.key);
    }
    return std::max<int>(1, static_cast<int>(keys.size()));
  };

  // Caches: those of the first allowed CPU (a hybrid CPU's cores differ; we describe the ones we run on).
  int cache_cpu = allowed.front();
  if (!fs::exists(cpu_root / ("cpu" + std::to_string(cache_cpu)) / "cache")) cache_cpu = 0;
  const fs::path cache_root = cpu_root / ("cpu" + std::to_string(cache_cpu)) / "cache";
  for (int index : numbered_entries(cache_root, "index")) {
    const fs::path dir = cache_root / ("index" + std::to_string(index));
    const auto level = read_int(dir / "level");
    const auto type = read_line(dir / "type");
    const auto size_text = read_line(dir / "size");
    if (!level || !type || !size_text || *type == "Instruction") continue;
    size_t size = 0;
    try {
      size = parse_cache_size(*size_text);
    } catch (const Error&) {
      continue;  // keep the default for this level
    }
    if (size == 0) continue;
    const auto shared = read_cpu_list(dir / "shared_cpu_list");
    const int sharing = shared ? physical_cores(*shared) : 1;
    if (*level == 1) {
      topology.l1d_bytes = size / static_cast<size_t>(sharing);
    } else if (*level == 2) {
      topology.l2_bytes = size / static_cast<size_t>(sharing);
    } else if (*level == 3) {
      topology.l3_bytes = size;
      topology.cores_per_l3 = shared ? sharing : 0;
    }
  }
  return topology;
}

const CpuTopology& host_topology() {
  static const CpuTopology topology = read_cpu_topology();
  return topology;
}

std::string describe(const CpuTopology& topology) {
  const auto plural = [](size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  std::string text = plural(topology.cores.size(), "core") + " (" +
                     plural(static_cast<size_t>(topology.logical_cpus()), "logical CPU") + "), " +
                     plural(static_cast<size_t>(topology.numa_nodes), "NUMA node") + ", L2 " +
                     format_bytes(topology.l2_bytes) + "/core, L3 " + format_bytes(topology.l3_bytes);
  if (topology.cores_per_l3 > 0 && static_cast<size_t>(topology.cores_per_l3) < topology.cores.size())
    text += " per " + std::to_string(topology.cores_per_l3) + " cores";
  return text;
}

}  // namespace sluice
