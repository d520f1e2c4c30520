// The measuring loops of `sluice bench`: a set of infer requests kept busy until a stop condition holds,
// with each inference's latency, and the progress bar.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/infer_request.hpp"

namespace sluice::tool {

using BenchClock = std::chrono::steady_clock;

// When measuring stops: after `niter` inferences in all or `time_s` seconds, whichever comes first (0:
// no limit; at least one of them is set).
struct StopCondition {
  int64_t niter = 0;
  double time_s = 0;
};

// "100 iterations", "5 s", "100 iterations or 5 s, whichever comes first".
std::string describe(const StopCondition& stop);

struct Measurement {
  std::vector<double> latencies_ms;  // one per measured inference, grouped by request
  double duration_ms = 0;            // from the first start to the end of the last inference
};

// Each request runs one inference at the same time as the others (a thread each for sync, started
// together for async), not measured: every stream and every request's memory is then warm.
void warm_up(std::vector<InferRequest>& requests, bool async);

// -api async: every request is started, and restarted from its own callback until the stop condition
// holds; a latency runs from start_async() to the start of the callback. The callbacks are cleared again
// at the end. The per-request latency storage is reserved up front, so that the callbacks allocate
// nothing. `progress`: draw the progress bar on stderr (from the calling thread, every 100 ms).
// Throws the first inference error (after every request has stopped).
Measurement measure_async(std::vector<InferRequest>& requests, const StopCondition& stop, bool progress);

// -api sync: one application thread per request, each calling infer() in a loop until the stop
// condition holds; a latency is one infer() call. Otherwise as measure_async.
Measurement measure_sync(std::vector<InferRequest>& requests, const StopCondition& stop, bool progress);

}  // namespace sluice::tool
