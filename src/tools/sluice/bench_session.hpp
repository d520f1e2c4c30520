// The pieces of `sluice bench` that its modes share: the model read once, and one measured run of a
// configuration (hint, NUM_STREAMS, requests, batch) from compile to report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/core.hpp"
#include "tools/sluice/bench_report.hpp"
#include "tools/sluice/bench_runner.hpp"
#include "tools/sluice/commands.hpp"

namespace sluice::tool {

// What one run sets on top of the options common to every run.
struct RunPlan {
  std::string hint;         // latency|throughput|cumulative_throughput|none (none: PERFORMANCE_HINT not set)
  std::string nstreams;     // NUM_STREAMS: a count or "AUTO"; empty: not set
  int64_t nireq = 0;        // 0: OPTIMAL_NUMBER_OF_INFER_REQUESTS for async, 1 for sync
  int64_t batch = 0;        // 0: -b if given, else the model's
  std::string label;        // --sweep: "s=2 r=4", "t=5 r=8"
  int64_t timeout_ms = -1;  // AUTO_BATCH_TIMEOUT (a BATCH device's --sweep); -1: not set
};

// Prepared once per command: the device chosen and the model read (each run reshapes its own clone).
struct BenchSession {
  BenchSession(const BenchOptions& options, const StopCondition& stop);

  const BenchOptions& options;
  StopCondition stop;
  Core core;
  std::string device;
  std::string model_name;  // the path, or "(built-in default model)"
  Model model;
  double read_ms = 0;
  bool progress = false;    // draw the progress bar (stdout is a terminal)
  bool shape_notes = true;  // print the notes on dynamic dimensions (once)
  // --sim-device: SIM's FULL_DEVICE_NAME, "simulated accelerator (...)" (SIM is registered with `core`);
  // else empty.
  std::string sim_description;
};

// How much a run prints: everything (a normal run), or nothing but its one result line (a sweep).
enum class Verbosity { full, brief };

// Whether `device` names the BATCH virtual device ("BATCH", "BATCH:CPU(4)"): its --sweep is a grid of
// AUTO_BATCH_TIMEOUT x requests instead of NUM_STREAMS x requests.
bool is_batch_device(const std::string& device);

// The model (reshaped by -shape, the plan's batch or -b) compiled on the session's device with the plan's
// properties; `compile_ms`, where given, receives the time compile_model took. Throws sluice::Error when
// it cannot be compiled.
CompiledModel compile_for(BenchSession& session, const RunPlan& plan, double* compile_ms = nullptr);

// Compiles the model for `plan`, creates the requests with random inputs, warms them up and measures.
// Throws sluice::Error for a configuration that cannot be compiled or run.
BenchReport run_once(BenchSession& session, const RunPlan& plan, Verbosity verbosity);

// The upper-case PERFORMANCE_HINT value of a -hint item ("none" stays "none").
std::string hint_name(const std::string& hint);

// `sluice bench --sweep`: the grid of NUM_STREAMS x requests (x batch) -- on a BATCH device, of
// AUTO_BATCH_TIMEOUT x requests --, the hint's run, the table, the HTML page and the JSON. Returns the exit
// code.
int run_sweep(BenchSession& session, const std::string& hint);

}  // namespace sluice::tool
