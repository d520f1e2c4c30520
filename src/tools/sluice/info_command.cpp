#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core.hpp"
#include "tools/sluice/commands.hpp"

namespace sluice::tool {
namespace {

void print_ports(const char* title, const std::vector<PortInfo>& ports) {
  std::cout << title << " (" << ports.size() << "):\n";
  for (const PortInfo& port : ports) {
    std::cout << "  " << port.name << ": " << to_string(port.type) << ' ' << port.shape.to_string() << '\n';
  }
}

void print_opsets(const std::map<std::string, int64_t>& opsets) {
  std::cout << "opsets:";
  const char* separator = " ";
  for (const auto& [domain, version] : opsets) {
    std::cout << separator << (domain.empty() ? "ai.onnx" : domain) << ' ' << version;
    separator = ", ";
  }
  std::cout << '\n';
}

// Most used first, then by name.
void print_operator_histogram(const std::map<std::string, int>& counts) {
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  int total = 0;
  for (const auto& entry : sorted) total += entry.second;
  std::cout << "operators (" << total << " nodes, " << sorted.size() << " types):\n";
  for (const auto& [op, count] : sorted) std::cout << "  " << count << ' ' << op << '\n';
}

}  // namespace

int run_info_command(const InfoOptions& options) {
  Core core;
  Model model = core.read_model(options.model_path);
  std::cout << "model: " << options.model_path;
  if (!model.name().empty()) std::cout << " (" << model.name() << ')';
  std::cout << '\n';
  print_ports("inputs", model.inputs());
  print_ports("outputs", model.outputs());
  print_opsets(model.opsets());
  print_operator_histogram(model.operator_counts());
  std::vector<std::string> unsupported = model.unsupported_operators();
  std::cout << "unsupported operators: "
            << (unsupported.empty() ? "none" : std::to_string(unsupported.size())) << '\n';
  for (const std::string& op : unsupported) std::cout << "  " << op << '\n';
  return 0;
}

}  // namespace sluice::tool
