// SIM: a simulated accelerator for `sluice bench --sim-device SERVICE_MS[:CONCURRENCY]`, benchmark only.
//
// Why it exists: MULTI and AUTO balance requests over devices, and their scheduling is measured by how
// close MULTI over two devices comes to the sum of the devices' standalone throughputs. The real devices of
// this project (CPU, REF) share the same cores, so they cannot add up whatever the scheduler does. SIM is a
// device that uses no CPU: each inference ends a fixed service time after it starts (a timed sleep on one
// of CONCURRENCY stream threads, not a spin), as if an accelerator computed it. It does NOT compute: its
// outputs are zero tensors. It lives in the tool, not the library: no application can get it.
//
// Outputs: zeros of each output port's shape. A dynamic output dimension becomes the batch (dimension 0 of
// the first input as given to the inference) when it is dimension 0, and 1 elsewhere; an output of
// unknown rank becomes [batch]. `sluice bench` makes every input static, so its models' outputs are
// static and this rule rarely applies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/dev/plugin.hpp"

namespace sluice::tool {

constexpr const char* sim_device_name = "SIM";

struct SimDeviceConfig {
  double service_ms = 0;    // > 0: each inference ends this long after it starts
  int64_t concurrency = 1;  // inferences served at once (the streams); NUM_STREAMS reads it back
};

// Parses --sim-device's "SERVICE_MS[:CONCURRENCY]" ("5", "5:4", "2.5:8"); throws sluice::Error saying what
// was expected.
SimDeviceConfig parse_sim_device(const std::string& text);

// "simulated accelerator (benchmark only: fixed 5 ms service, up to 4 at once, no computation)": the
// device's FULL_DEVICE_NAME, also printed by the bench report.
std::string sim_device_description(const SimDeviceConfig& config);

// The SIM plugin, to register with Core::register_plugin. Its compiled models report NUM_STREAMS =
// CONCURRENCY, OPTIMAL_NUMBER_OF_INFER_REQUESTS = 2 x CONCURRENCY (one waiting behind each one served, so
// that a stream never idles between a callback and the next start) and INFERENCE_NUM_THREADS = 0 (no
// computing threads). Properties that steer a real device (PERFORMANCE_HINT, NUM_STREAMS,
// INFERENCE_NUM_THREADS, ...) are accepted, so that MULTI and AUTO can pass theirs on, and change nothing:
// the service time and the concurrency are those of --sim-device.
std::shared_ptr<dev::IPlugin> make_sim_plugin(const SimDeviceConfig& config);

}  // namespace sluice::tool
