#include "tools/sluice/profile_table.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <string>

namespace sluice::tool {
namespace {

std::string fixed(double value, int decimals) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(decimals) << value;
  return text.str();
}

}  // namespace

void print_profile_table(std::ostream& out, const std::vector<ProfilingInfo>& records) {
  if (records.empty()) {
    out << "profile: no records (the device reported no per-node times)\n";
    return;
  }
  std::vector<const ProfilingInfo*> sorted;
  double total_us = 0;
  for (const ProfilingInfo& record : records) {
    sorted.push_back(&record);
    total_us += record.real_time_us;
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const ProfilingInfo* a, const ProfilingInfo* b) {
    return a->real_time_us > b->real_time_us;
  });

  const std::string total_label = "total (" + std::to_string(records.size()) + " nodes)";
  // Columns as wide as their longest entry, so that the table stays aligned for any model.
  size_t name_width = std::max(total_label.size(), std::string("node").size());
  size_t type_width = std::string("op type").size();
  size_t exec_width = std::string("exec type").size();
  for (const ProfilingInfo* record : sorted) {
    name_width = std::max(name_width, record->node_name.size());
    type_width = std::max(type_width, record->node_type.size());
    exec_width = std::max(exec_width, record->exec_type.size());
  }
  const int time_width = std::max<int>(9, static_cast<int>(fixed(total_us / 1000, 3).size()));
  auto row = [&](const std::string& name, const std::string& type, const std::string& exec,
                 const std::string& time, const std::string& share) {
    out << std::left << std::setw(static_cast<int>(name_width)) << name << "  "
        << std::setw(static_cast<int>(type_width)) << type << "  " << std::setw(static_cast<int>(exec_width))
        << exec << "  " << std::right << std::setw(time_width) << time << "  " << std::setw(7) << share
        << '\n';
  };
  row("node", "op type", "exec type", "time (ms)", "% total");
  for (const ProfilingInfo* record : sorted) {
    double share = total_us > 0 ? 100.0 * record->real_time_us / total_us : 0.0;
    row(record->node_name, record->node_type, record->exec_type, fixed(record->real_time_us / 1000, 3),
        fixed(share, 1) + "%");
  }
  row(total_label, "", "", fixed(total_us / 1000, 3), total_us > 0 ? "100.0%" : "0.0%");
}

}  // namespace sluice::tool
