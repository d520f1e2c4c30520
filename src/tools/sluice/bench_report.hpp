// The results of `sluice bench`: latency statistics, the text summary and the JSON report.
#pragma once

#include <cstdint>
#include <optional>
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

// A batching compiled model's settings and counters (the BATCH device's, or CPU THROUGHPUT's wrapped in
// BATCH by ALLOW_AUTO_BATCHING). Read with get_property; a value the device does not report stays -1.
struct AutoBatchInfo {
  int64_t batch = -1;       // OPTIMAL_BATCH_SIZE of the compiled model: the batch it runs
  int64_t timeout_ms = -1;  // AUTO_BATCH_TIMEOUT
  // The counters' growth over the measured inferences (the warm-up's, whose first lone request always
  // waits out the timeout, are left out): batches that ran full, and requests that waited out the timeout
  // and ran unbatched.
  int64_t full_batches = -1;  // AUTO_BATCH_FULL_BATCHES
  int64_t timed_out = -1;     // AUTO_BATCH_TIMED_OUT
};

// A MULTI or AUTO compiled model's devices (it reports SERVED_REQUESTS): EXECUTION_DEVICES after the
// measurement, and the requests each device completed during it (SERVED_REQUESTS's growth, so that the
// warm-up is left out; the counts add up to the measured inferences), in the device's order.
struct MultiDeviceInfo {
  std::vector<std::string> execution_devices;
  std::vector<std::pair<std::string, int64_t>> served;
};

// Everything one `sluice bench` run measured, with what it ran.
struct BenchReport {
  std::string model;     // the path, or "(built-in default model)"
  std::string device;    // as given to compile_model
  std::string api;       // "async" or "sync"
  std::string hint;      // PERFORMANCE_HINT as set: "LATENCY", "THROUGHPUT", ..., or "none" (not set)
  std::string nstreams;  // NUM_STREAMS as asked (-nstreams or the sweep): "2", "AUTO"; empty: not set
  std::string label;     // --sweep: the configuration, "s=2 r=4" (" b=8" when batches are swept)
  int64_t requests = 1;  // infer requests in flight at once (-nireq as resolved)
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
  int64_t peak_rss_kb = 0;                  // the process's peak resident set size at the end (getrusage)
  std::optional<AutoBatchInfo> auto_batch;  // a batching compiled model only (it has the counters)
  std::optional<MultiDeviceInfo> multi;     // a MULTI/AUTO compiled model only (it has SERVED_REQUESTS)
  // --sim-device: what the simulated device SIM is (its FULL_DEVICE_NAME), said in the report because its
  // results are not computed; empty when SIM is not registered.
  std::string simulated_device;
  std::string error;  // --sweep: why this configuration could not be measured (then nothing was)

  // A resolved property's value as text, or "?" when the device has no such property.
  std::string property(const std::string& name) const;
};

// A latency in milliseconds as text: two decimals, or three significant digits below 1 ms (a tiny model's
// inference takes microseconds: "0.000450").
std::string format_ms(double ms);

// The benchmark_app-like results block: Count, Duration, Latency (median ... p99), Throughput, peak RSS,
// a batching compiled model's batch, timeout and counters, and a MULTI/AUTO model's requests per device.
void print_results(std::ostream& out, const BenchReport& report);
// The side-by-side table of runs under different hints: hint, NUM_STREAMS, INFERENCE_NUM_THREADS,
// requests, FPS, median, p90 and p99 latency.
void print_hint_table(std::ostream& out, const std::vector<BenchReport>& reports);
// A sweep's auto-batching columns, added (to the text and HTML tables) where some run was batched:
// AUTO_BATCH_TIMEOUT as compiled, and the full batches and timed-out requests of the measurement. A run
// that was not batched, or a value the device does not report, shows "-".
bool any_batched(const std::vector<BenchReport>& grid, const BenchReport& hint);
std::vector<std::string> auto_batch_headers();
std::vector<std::string> auto_batch_cells(const BenchReport& report);

// The table of a sweep: one row per configuration (then the hint's), FPS and latencies, and each
// row's FPS as a share of the best configuration's. `best` indexes `grid` (-1: none measured). When a run
// was batched (auto_batch), the AUTO_BATCH_TIMEOUT and counter columns are added.
void print_sweep_table(std::ostream& out, const std::vector<BenchReport>& grid, const BenchReport& hint,
                       int best);

// The JSON files; each throws sluice::Error when the file cannot be written.
// One run: the report as a JSON object (keys as in BENCHMARKS.md).
void write_json_report(const std::string& path, const BenchReport& report);
// Several runs (one per -hint): {"runs": [report, ...]}.
void write_json_runs(const std::string& path, const std::vector<BenchReport>& reports);
// A sweep: {"sweep": [report, ...], "hint": report, "best": report or null}.
void write_json_sweep(const std::string& path, const std::vector<BenchReport>& grid, const BenchReport& hint,
                      int best);

// A self-contained HTML page (no external scripts or styles) with an inline SVG chart of throughput
// (y) against median latency (x), one labelled point per configuration and the hint's point marked,
// and the sweep table. `title` heads the page (model, device, ...); `summary` follows it (how the hint
// compares with the best configuration); `legend` explains the point labels ("s=NUM_STREAMS r=requests").
void write_sweep_html(const std::string& path, const std::string& title, const std::string& summary,
                      const std::string& legend, const std::vector<BenchReport>& grid,
                      const BenchReport& hint, int best);

}  // namespace sluice::tool
