// The streams properties of a device (PERFORMANCE_HINT, NUM_STREAMS, INFERENCE_NUM_THREADS, ...) as the
// streams heuristic reads them, and its result as a compiled model reports it.
#pragma once

#include "devices/streams_config.hpp"
#include "sluice/dev/property_store.hpp"

namespace sluice::dev {

// What the user asked for. NUM_STREAMS counts only when set explicitly (on the device or at compile):
// its default does not override the hint.
StreamsRequest streams_request(const PropertyStore& properties);

// Records the resolved NUM_STREAMS, INFERENCE_NUM_THREADS and OPTIMAL_NUMBER_OF_INFER_REQUESTS.
void publish_streams(PropertyStore& properties, const StreamsConfig& config);

}  // namespace sluice::dev
