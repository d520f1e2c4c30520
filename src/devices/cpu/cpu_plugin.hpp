// The CPU device: the graph after the standard passes and the CPU fusions, run by the executor with
// oneDNN primitives, the device's own vectorized kernels, and the reference kernels for the rest.
#pragma once

#include <memory>

#include "sluice/dev/plugin.hpp"

namespace sluice::cpu {

std::shared_ptr<dev::IPlugin> make_cpu_plugin();

}  // namespace sluice::cpu
