// BATCH: the automatic-batching virtual device (docs/batching.md). "BATCH:CPU(8)" gathers batch-1
// requests into batches of 8 run by one CPU inference; "BATCH:CPU" takes the batch from the CPU's
// OPTIMAL_BATCH_SIZE for the model.
#pragma once

#include <memory>

#include "sluice/dev/plugin.hpp"

namespace sluice::batch {

std::shared_ptr<dev::IPlugin> make_batch_plugin();

}  // namespace sluice::batch
