// The subcommands of the `sluice` command-line tool. Each returns the process exit code and throws
// sluice::Error (or std::exception) for errors, which main() prints as one "sluice: error: ..." line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::tool {

// `sluice devices`: every available device with its name and supported properties.
int run_devices_command();

// `sluice info [MODEL] [-d DEV]... [-s NAME=DIMS]...`: ports, opsets, operator histogram, unsupported
// operators, and per device the kernel of each planned node by operator type: native or fallback.
struct InfoOptions {
  std::string model_path;            // empty: the built-in default model
  std::vector<std::string> devices;  // empty: CPU and REF (those available)
  std::vector<std::string> shapes;   // "NAME=DIMS" for dynamic inputs (other dynamic dims: 1)
};
int run_info_command(const InfoOptions& options);

// `sluice run [MODEL] ...`: one inference with given or random inputs.
struct RunOptions {
  std::string model_path;               // empty: the built-in default model
  std::string device;                   // empty: CPU if available, else REF
  std::vector<std::string> inputs;      // "NAME=FILE.npy"
  std::vector<std::string> shapes;      // "NAME=[1,3,224,224]"
  std::vector<std::string> properties;  // "KEY=VALUE"
  std::string output_dir;               // empty: no files written
  uint64_t seed = 0;
  bool profile = false;  // compile with ENABLE_PROFILING and print the per-node profile table
};
int run_run_command(const RunOptions& options);

// `sluice bench [-m MODEL] ...`: inference speed, in the manner of OpenVINO's benchmark_app: -nireq
// requests kept busy asynchronously (or, with -api sync, one application thread per request calling
// infer()), once per -hint; --sweep measures a grid of NUM_STREAMS x requests (x batch) against the hint
// (on a BATCH device, AUTO_BATCH_TIMEOUT x requests against the device's default configuration).
struct BenchOptions {
  std::string model_path;           // empty: the built-in default model
  std::string device;               // empty: CPU if available, else REF
  int64_t niter = 0;                // 0: not given
  double time_s = 0;                // 0: not given (neither -niter nor -t: 10 s; 3 s per run in --sweep)
  int64_t batch = 0;                // 0: not given; else every input's dimension 0 is set to it
  std::vector<std::string> shapes;  // "name[1,3,224,224]", "[1,3,224,224]" (every input), ','-joined
  int64_t nthreads = -1;            // -1: not given; else INFERENCE_NUM_THREADS
  std::string nstreams;             // empty: not given; else NUM_STREAMS: "AUTO" or a count >= 1
  int64_t nireq = 0;                // 0: not given (async: OPTIMAL_NUMBER_OF_INFER_REQUESTS; sync: 1)
  std::string infer_precision;      // empty: not given; else INFERENCE_PRECISION_HINT (f32, bf16)
  // Empty: not given (throughput for -api async, latency for sync, as benchmark_app); else a ','-joined
  // list of latency|throughput|cumulative_throughput|none (none: PERFORMANCE_HINT not set), one run each.
  std::string hint;
  std::string api = "async";            // async (start_async + callbacks) or sync (infer() per thread)
  bool profile = false;                 // -pc: ENABLE_PROFILING and the profile table of the last inference
  std::string json_path;                // empty: no JSON report
  std::vector<std::string> properties;  // "KEY=VALUE": further compile properties
  uint64_t seed = 0;                    // of the random input data
  bool sweep =
      false;  // --sweep: the NUM_STREAMS (BATCH: AUTO_BATCH_TIMEOUT) x nireq (x batch) grid, the hint
  std::string sweep_batch;     // empty: the model's batch; else ','-joined batch sizes
  std::string sweep_streams;   // empty: 1, 2, 4, ... up to the cores, and 2x cores
  std::string sweep_timeouts;  // BATCH device: AUTO_BATCH_TIMEOUT values (ms); empty: 1,5,20,100
  std::string sweep_html = "sluice-sweep.html";  // the sweep's HTML report
  // --sim-device: empty: not given; else "SERVICE_MS[:CONCURRENCY]", and the benchmark-only simulated
  // accelerator SIM is registered (sim_device.hpp), usable as -d SIM or in MULTI:CPU,SIM
  std::string sim_device;
};
int run_bench_command(const BenchOptions& options);

// `sluice conformance DIR ...`: runs the ONNX backend node test cases of a folder on a device.
struct ConformanceOptions {
  std::string tests_dir;
  std::string device;             // empty: CPU if available, else REF
  std::string filter;             // std::regex searched in each case's folder name; empty: every case
  std::string json_path;          // empty: no JSON report
  std::string expectations_path;  // empty: every failure is unexpected
  int jobs = 1;
};
int run_conformance_command(const ConformanceOptions& options);

}  // namespace sluice::tool
