#include <iostream>
#include <string>
#include <vector>

#include "sluice/core.hpp"
#include "sluice/error.hpp"
#include "tools/sluice/commands.hpp"
#include "tools/sluice/tool_util.hpp"

namespace sluice::tool {
namespace {

// The property's value as text; a property that cannot be read shows why instead.
std::string property_text(const Core& core, const std::string& device, const std::string& name) {
  try {
    return core.get_property(device, name).to_string();
  } catch (const std::exception& e) {
    return "(not readable: " + one_line(e.what()) + ")";
  }
}

}  // namespace

int run_devices_command() {
  Core core;
  std::vector<std::string> devices = core.available_devices();
  if (devices.empty()) std::cout << "no devices available\n";
  for (const std::string& device : devices) {
    std::cout << device << '\n';
    std::cout << "  FULL_DEVICE_NAME: " << property_text(core, device, "FULL_DEVICE_NAME") << '\n';
    std::cout << "  SUPPORTED_PROPERTIES:\n";
    for (const std::string& name : core.get_property(device, props::supported_properties)) {
      if (name == props::supported_properties.name) continue;
      std::cout << "    " << name << ": " << property_text(core, device, name) << '\n';
    }
  }
  return 0;
}

}  // namespace sluice::tool
