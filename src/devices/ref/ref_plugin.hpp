// The REF device: a single-threaded interpreter over the graph with the reference kernels. It defines
// what every other device must compute.
#pragma once

#include <memory>

#include "sluice/dev/plugin.hpp"

namespace sluice::ref {

std::shared_ptr<dev::IPlugin> make_ref_plugin();

}  // namespace sluice::ref
