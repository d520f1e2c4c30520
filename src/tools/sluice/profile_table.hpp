// The per-node profile of an inference (compiled with ENABLE_PROFILING) as a text table; shared by
// `sluice run --profile` and `sluice bench -pc`.
#pragma once

#include <ostream>
#include <vector>

#include "sluice/infer_request.hpp"

namespace sluice::tool {

// Prints a header "node  op type  exec type  time (ms)  % total", one row per record, longest first
// (records of equal time keep the device's order), then a "total" line with the summed time. Without
// records (a device that does not profile) prints one line saying so instead.
void print_profile_table(std::ostream& out, const std::vector<ProfilingInfo>& records);

}  // namespace sluice::tool
