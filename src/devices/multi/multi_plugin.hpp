// MULTI (request-level balancing over listed devices) and AUTO (device selection, start-up and runtime
// fallback): docs/multi-device.md.
#pragma once

#include <memory>

#include "sluice/dev/plugin.hpp"

namespace sluice::multi {

std::shared_ptr<dev::IPlugin> make_multi_plugin();
std::shared_ptr<dev::IPlugin> make_auto_plugin();

}  // namespace sluice::multi
