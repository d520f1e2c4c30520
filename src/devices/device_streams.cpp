#include "devices/device_streams.hpp"

namespace sluice::dev {

StreamsRequest streams_request(const PropertyStore& properties) {
  StreamsRequest request;
  request.hint = properties.get("PERFORMANCE_HINT").as<PerformanceMode>();
  if (properties.is_set("NUM_STREAMS")) request.num_streams = properties.get("NUM_STREAMS").as<int64_t>();
  request.num_threads = properties.get("INFERENCE_NUM_THREADS").as<int64_t>();
  request.hint_num_requests = properties.get("PERFORMANCE_HINT_NUM_REQUESTS").as<int64_t>();
  request.pin = properties.supports("ENABLE_CPU_PINNING") && properties.get("ENABLE_CPU_PINNING").as<bool>();
  return request;
}

void publish_streams(PropertyStore& properties, const StreamsConfig& config) {
  properties.set_computed("NUM_STREAMS", int64_t{config.streams});
  properties.set_computed("INFERENCE_NUM_THREADS", int64_t{config.total_threads});
  properties.set_computed("OPTIMAL_NUMBER_OF_INFER_REQUESTS", int64_t{config.optimal_requests});
}

}  // namespace sluice::dev
