#include <algorithm>
#include <exception>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core.hpp"
#include "sluice/error.hpp"
#include "sluice/properties.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/default_model.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

void print_ports(const char* title, const std::vector<PortInfo>& ports) {
  std::cout << title << " (" << ports.size() << "):\n";
  for (const PortInfo& port : ports) {
    std::cout << "  " << port.name << ": " << (port.optional ? "optional " : "")
              << (port.sequence ? "sequence of " : "") << to_string(port.type) << ' '
              << port.shape.to_string() << '\n';
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

// Kernels are chosen per execution plan, and a plan needs static input shapes: -s NAME=DIMS sets an
// input's shape, and any dimension still dynamic is taken as 1 (said on the output, as the choice may
// depend on it).
void make_static(Model& model, const std::vector<std::string>& shape_items) {
  std::map<std::string, PartialShape> shapes;
  for (const auto& [name, dims] : parse_named(shape_items, "-s")) {
    find_input(model, name, "-s");
    shapes.emplace(name,
                   PartialShape(parse_dims(dims, std::string("-s ").append(name).append("=").append(dims))));
  }
  for (const PortInfo& port : model.inputs()) {
    if (shapes.count(port.name) || port.shape.is_static()) continue;
    SLUICE_CHECK(port.shape.rank_known(), "input '", port.name,
                 "' has an unknown rank: give its shape with -s ", port.name, "=DIMS");
    PartialShape shape = port.shape;
    for (Dimension& dim : shape.dims()) {
      if (dim.is_dynamic()) dim = Dimension(1);
    }
    std::cout << "note: input '" << port.name << "' " << port.shape.to_string() << " is planned as "
              << shape.to_string() << " (dynamic dimensions as 1; -s " << port.name << "=DIMS to choose)\n";
    shapes.emplace(port.name, shape);
  }
  if (!shapes.empty()) model.reshape(shapes);
}

struct KernelCounts {
  int nodes = 0;
  int native = 0;
  int fallback = 0;
  std::map<std::string, int> kernels;  // implementation name -> nodes
};

// One EXECUTION_KERNELS entry, "NODE (OP_TYPE): IMPL", split from the right (node names may hold
// anything; op types and implementation names hold neither " (" nor "): ").
std::pair<std::string, std::string> op_type_and_kernel(const std::string& entry) {
  const size_t colon = entry.rfind("): ");
  const size_t paren = colon == std::string::npos ? colon : entry.rfind(" (", colon);
  SLUICE_CHECK(paren != std::string::npos, "EXECUTION_KERNELS entry '", entry,
               "' is not of the form 'NODE (OP_TYPE): KERNEL'");
  return {entry.substr(paren + 2, colon - paren - 2), entry.substr(colon + 3)};
}

void print_kernel_table(const std::map<std::string, KernelCounts>& by_op) {
  std::vector<std::pair<std::string, KernelCounts>> rows(by_op.begin(), by_op.end());
  // Fallbacks first (what the question is usually about), then most used, then by name.
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if ((a.second.fallback > 0) != (b.second.fallback > 0)) return a.second.fallback > 0;
    return a.second.nodes > b.second.nodes;
  });
  size_t width = 8;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::cout << "  " << std::string(width - 8, ' ') << "operator  nodes  native  fallback  kernels\n";
  for (const auto& [op, counts] : rows) {
    std::ostringstream kernels;
    const char* separator = "";
    for (const auto& [impl, n] : counts.kernels) {
      kernels << separator << impl << (counts.kernels.size() > 1 ? " x" + std::to_string(n) : "");
      separator = ", ";
    }
    std::string nodes = std::to_string(counts.nodes);
    std::string native = std::to_string(counts.native);
    std::string fallback = std::to_string(counts.fallback);
    std::cout << "  " << std::string(width - op.size(), ' ') << op << std::string(7 - nodes.size(), ' ')
              << nodes << std::string(8 - native.size(), ' ') << native
              << std::string(10 - fallback.size(), ' ') << fallback << "  " << kernels.str() << '\n';
  }
}

// REF runs every node on the reference interpreter: that is its native path, so there is no fallback.
void print_reference_kernels(const Model& model) {
  std::map<std::string, KernelCounts> by_op;
  for (const auto& [op, count] : model.operator_counts()) {
    by_op[op] = KernelCounts{count, count, 0, {{"ref", count}}};
  }
  std::cout << "REF: reference interpreter, every operator native (the model's nodes, as given)\n";
  print_kernel_table(by_op);
}

// A device's kernel per planned node, from its compiled model's EXECUTION_KERNELS. Returns false when
// the device could not compile the model (the reason printed).
bool print_device_kernels(Core& core, const Model& model, const std::string& device) {
  if (device == "REF") {
    print_reference_kernels(model);
    return true;
  }
  CompiledModel compiled;
  try {
    compiled = core.compile_model(model, device);
  } catch (const std::exception& e) {
    std::cout << device << ": cannot compile the model: " << one_line(e.what()) << '\n';
    return false;
  }
  // Virtual devices (BATCH, MULTI, AUTO) run on others: the answer is theirs, whatever they pass on.
  const auto supported = compiled.get_property(props::supported_properties);
  const auto executing = compiled.get_property(props::execution_devices);
  if (executing != std::vector<std::string>{device} ||
      std::find(supported.begin(), supported.end(), "EXECUTION_KERNELS") == supported.end()) {
    std::cout << device << ": does not report its own kernels; it runs on";
    const char* separator = " ";
    for (const std::string& name : executing) {
      std::cout << separator << name;
      separator = ", ";
    }
    std::cout << " (ask those with -d)\n";
    return true;
  }
  const auto entries = compiled.get_property(props::execution_kernels);
  if (entries.empty()) {
    std::cout << device << ": reports no kernels (no execution plan)\n";
    return true;
  }
  std::map<std::string, KernelCounts> by_op;
  int nodes = 0;
  int fallback = 0;
  for (const std::string& entry : entries) {
    const auto [op, impl] = op_type_and_kernel(entry);
    KernelCounts& counts = by_op[op];
    const bool reference = impl == "ref";
    ++counts.nodes;
    ++(reference ? counts.fallback : counts.native);
    ++counts.kernels[impl];
    ++nodes;
    fallback += reference ? 1 : 0;
  }
  std::cout << device << ": " << nodes << " planned nodes, " << nodes - fallback << " native, " << fallback
            << " on the reference kernel (fallback)\n";
  print_kernel_table(by_op);
  return true;
}

}  // namespace

int run_info_command(const InfoOptions& options) {
  Core core;
  Model model = options.model_path.empty() ? core.read_model(default_model_bytes())
                                           : core.read_model(options.model_path);
  std::cout << "model: " << (options.model_path.empty() ? "(built-in default model)" : options.model_path);
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

  // Default: the real devices there are (virtual ones run on them).
  std::vector<std::string> devices = options.devices;
  if (devices.empty()) {
    for (const std::string& device : core.available_devices()) {
      if (device == "CPU" || device == "REF") devices.push_back(device);
    }
  }
  if (devices.empty()) return 0;
  if (!unsupported.empty()) {
    std::cout << "kernels per device: none (no device runs a model with unsupported operators)\n";
    return 0;
  }
  make_static(model, options.shapes);
  std::cout << "kernels per device (nodes as planned: after fusion and constant folding, so the operators "
               "may differ from the model's; an If, Loop or Scan counts as one node, its bodies run on "
               "its kernel):\n";
  bool all = true;
  for (const std::string& device : devices) all = print_device_kernels(core, model, device) && all;
  return all ? 0 : 1;
}

}  // namespace sluice::tool
