// The results of `sluice bench`: latency statistics, the text summary and the JSON report.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sluice/model.hpp"

namespace sluice::tool {

// Statistics of per-inference latencies, in milliseconds. Percentiles are nearest-rank (the smallest
// latency that at least p% of the inferences did not exceed); the median of an even count is the mean of
// the two middle values.
struct LatencyStats {
  double median = 0;
  double average = 0;
  double min = 0;
  double max = 0;
  double p90 = 0;
  double p99 = 0;
};
// Throws sluice::Error when there are no latencies.
LatencyStats latency_stats(std::vector<double> latencies_ms);

// Everything one `sluice bench` run measured, with what it ran.
struct BenchReport {
  std::string model;     // the path, or "(built-in default model)"
  std::string device;    // as given to compile_model
  std::string api;       // "sync"
  int64_t requests = 1;  // infer requests in flight at once
  int64_t batch = 1;     // samples per inference: -b, else dimension 0 of the first input (1 for a scalar)
  std::vector<PortInfo> inputs;  // as compiled (static shapes)
  uint64_t seed = 0;             // of the random input data
  double read_ms = 0;
  double compile_ms = 0;
  double first_inference_ms = 0;  // the warm-up inference, not part of the statistics
  int64_t count = 0;              // measured inferences
  double duration_ms = 0;         // wall time of the measured inferences
  LatencyStats latency;
  double throughput_fps = 0;  // batch * count / duration
  // The compiled model's properties (its SUPPORTED_PROPERTIES), values as text, in the device's order.
  std::vector<std::pair<std::string, std::string>> properties;
  int64_t peak_rss_kb = 0;  // the process's peak resident set size at the end (getrusage)
};

// The benchmark_app-like results block: Count, Duration, Latency (median ... p99), Throughput, peak RSS.
void print_results(std::ostream& out, const BenchReport& report);
// Writes the report as a JSON object (keys as in BENCHMARKS.md); throws sluice::Error when the file
// cannot be written.
void write_json_report(const std::string& path, const BenchReport& report);

}  // namespace sluice::tool
