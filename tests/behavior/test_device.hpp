// A device plugin for the MULTI/AUTO tests, registered by a test under a name it picks ("FAST", "SLOW",
// "FLAKY"): a service time per inference that sleeps instead of computing (so that several such devices
// really run at once on a machine with few cores), a number of concurrent inferences, failure injection,
// compile delays, gates and failures, operators it claims not to support, and counters. Its outputs are
// real: it compiles the model on REF and runs a REF request after its service time.
//
//   auto fast = register_test_device(core, "FAST", {.concurrency = 4, .service = 1ms});
//   fast->fail_every = 3;                    // every third inference on FAST fails
//   core.compile_model(model, "MULTI:FAST,REF");
//   EXPECT_EQ(fast->runs.load(), ...);
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/sluice.hpp"

namespace sluice::behavior {

// A gate that can be closed and opened again. pass() waits while it is closed, at most 60 s (then returns
// false), so that a broken runtime fails its test instead of hanging it. Thread-safe.
class Valve {
 public:
  void close();
  void open();
  bool pass();
  int64_t waiting() const;  // threads waiting in pass() now

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = true;
  int64_t waiting_ = 0;
};

// The knobs and counters of one test device, shared by the test, the plugin and its compiled models.
// Every field is thread-safe (atomics, or guarded by its own lock); the test may turn knobs while
// inferences run. A knob is read by each inference (or each compile) when it gets to it.
struct TestDeviceControls {
  std::string name;

  // Speed: each inference sleeps this long before it computes (the CPU stays free).
  std::atomic<int64_t> service_us{0};
  // Concurrency: the streams (inferences at once) of the models compiled from now on; also their
  // NUM_STREAMS and OPTIMAL_NUMBER_OF_INFER_REQUESTS.
  std::atomic<int64_t> concurrency{1};

  // Failure injection (an inference fails with sluice::Error "<NAME>: injected failure ..."):
  std::atomic<bool> fail_all{false};       // every inference
  std::atomic<int64_t> fail_every{0};      // the k-th, 2k-th, ... inference on this device (counted by runs)
  std::atomic<bool> fail_on_value{false};  // the inferences whose first input's first element is fail_value
  std::atomic<float> fail_value{0.f};
  std::atomic<bool> failing{false};  // while set

  // Inferences wait at this valve (after counting themselves in runs and running) while it is closed.
  Valve run_valve;

  // Compile behaviour: a delay, a valve compiles wait at while it is closed, a failure.
  std::atomic<int64_t> compile_delay_ms{0};
  Valve compile_valve;
  std::atomic<bool> compile_fails{false};
  // Operators the device claims it cannot run ("Add (node names)"): non-empty makes AUTO skip it and the
  // core refuse to compile on it.
  void set_unsupported(std::vector<std::string> operators);
  std::vector<std::string> unsupported() const;

  // Counters. runs: inferences started on this device (every attempt); failed: of those, the ones that
  // failed by injection; succeeded: the ones that computed their outputs. running / max_running: inferences
  // inside the device now / at most at once.
  std::atomic<int64_t> runs{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> succeeded{0};
  std::atomic<int64_t> running{0};
  std::atomic<int64_t> max_running{0};
  // Compiles that started, that ended (compiled or failed), and that failed by injection.
  std::atomic<int64_t> compiles_started{0};
  std::atomic<int64_t> compiles_done{0};
  std::atomic<int64_t> compiles_failed{0};
  // The PERFORMANCE_HINT of the last compile that got past the valve (a PerformanceMode; -1: none yet).
  std::atomic<int> compiled_hint{-1};

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> unsupported_;  // guarded by mutex_
};

struct TestDeviceOptions {
  int64_t concurrency = 1;
  std::chrono::microseconds service{0};
};

// Registers a test device named `name` with `core` and returns its controls. The device compiles on the
// core's REF plugin (held by the device, so it outlives the core like any plugin).
std::shared_ptr<TestDeviceControls> register_test_device(Core& core, const std::string& name,
                                                         TestDeviceOptions options = {});

}  // namespace sluice::behavior
