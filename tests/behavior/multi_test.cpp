// MULTI and AUTO behaviour beyond the generic device suite (docs/multi-device.md): balancing, priorities,
// dropped devices, runtime and start-up fallback, device selection, and a stress test, over test devices
// (test_device.hpp) whose speed, concurrency, failures and compiles the tests control. Verdicts never
// depend on timing: ordering is forced with valves (held inferences or compiles), and bounded waits only
// guard against hangs. Every output is checked against its own input (affine_model: y = 2x + 1).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "behavior_common.hpp"
#include "test_device.hpp"

namespace sluice::behavior {
namespace {

// SERVED_REQUESTS as a map ("CPU:12" -> CPU: 12).
std::map<std::string, int64_t> served(const CompiledModel& model) {
  std::map<std::string, int64_t> out;
  for (const std::string& entry : model.get_property(props::served_requests)) {
    const size_t colon = entry.rfind(':');
    EXPECT_NE(colon, std::string::npos) << "SERVED_REQUESTS entry '" << entry << "' is not NAME:COUNT";
    if (colon == std::string::npos) continue;
    out[entry.substr(0, colon)] = std::stoll(entry.substr(colon + 1));
  }
  return out;
}

int64_t total(const std::map<std::string, int64_t>& counts) {
  int64_t n = 0;
  for (const auto& [name, count] : counts) n += count;
  return n;
}

std::vector<std::string> execution_devices(const CompiledModel& model) {
  return model.get_property(props::execution_devices);
}

using Names = std::vector<std::string>;

// One synchronous inference of input `id`: "" when it succeeded with the right output, else what went
// wrong (the error's message, or the wrong value).
std::string infer_checked(const CompiledModel& model, int64_t id) {
  try {
    InferRequest r = model.create_infer_request();
    const Tensor in = unique_input(id);
    r.set_input_tensor(in);
    r.infer();
    const std::string bad = check_affine(in, r.get_output_tensor());
    return bad.empty() ? "" : "wrong output: " + bad;
  } catch (const std::exception& e) {
    return e.what();
  }
}

// Runs jobs with unique ids [first, first + count) over `parallel` requests of a compiled model; each
// request starts its next job from its own callback, until the ids run out or stop() is called. Each
// callback checks its output against its own input; every job must be delivered by exactly one callback.
// An error is a failure unless `accept_error(id, message)` returns true (then it is counted in errors()).
//
// Thread-safety: a slot's request and id are touched only by the thread that starts it and then by its
// callbacks, one at a time; everything else is atomic or guarded (Failures).
class Jobs {
 public:
  using ErrorFilter = std::function<bool(int64_t id, const std::string& message)>;

  Jobs(CompiledModel model, size_t parallel, int64_t first, int64_t count, ErrorFilter accept_error = {})
      : model_(std::move(model)),
        first_(first),
        count_(count),
        accept_error_(std::move(accept_error)),
        seen_(static_cast<size_t>(count)),
        slots_(parallel) {
    for (size_t i = 0; i < parallel; ++i) {
      slots_[i].request = model_.create_infer_request();
      slots_[i].request.set_callback([this, i](std::exception_ptr error) { on_done(i, error); });
    }
  }
  ~Jobs() {
    stop();
    drain();
  }
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  void start() {
    for (size_t i = 0; i < slots_.size(); ++i) {
      ++active_;
      start_next(i);
    }
  }
  // Waits (bounded) until the jobs run out (or stop() was called) and every one in flight has ended;
  // false when they did not.
  bool drain() {
    const bool ended = eventually([&] { return active_.load() == 0; });
    if (ended) {
      for (Slot& s : slots_) {
        try {
          s.request.wait();
        } catch (...) {  // NOLINT(bugprone-empty-catch): its callback reported it
        }
      }
    }
    return ended;
  }
  void stop() { stop_ = true; }

  int64_t issued() const { return std::min(next_.load(), count_); }
  int64_t delivered() const { return delivered_.load(); }
  int64_t errors() const { return errors_.load(); }
  const Failures& failures() const { return failures_; }
  // Checks that every issued job was delivered exactly once, and none past them.
  std::string check_ledger() const {
    const int64_t n = issued();
    for (int64_t k = 0; k < count_; ++k) {
      const int times = seen_[static_cast<size_t>(k)].load();
      if (k < n && times != 1)
        return "job " + std::to_string(first_ + k) + " was delivered " + std::to_string(times) + " times";
      if (k >= n && times != 0)
        return "job " + std::to_string(first_ + k) + " was never issued but delivered";
    }
    if (delivered_.load() != n)
      return std::to_string(delivered_.load()) + " callbacks for " + std::to_string(n) + " jobs";
    return {};
  }

 private:
  struct Slot {
    InferRequest request;
    int64_t id = -1;
    Tensor input;
  };

  void start_next(size_t i) {
    Slot& s = slots_[i];
    const int64_t k = stop_.load() ? count_ : next_++;
    if (k >= count_) {
      --active_;
      return;
    }
    s.id = first_ + k;
    s.input = unique_input(s.id);
    try {
      s.request.set_input_tensor(s.input);
      s.request.start_async();
    } catch (const std::exception& e) {
      failures_.add("job " + std::to_string(s.id) + " did not start: " + e.what());
      --active_;
    }
  }

  void on_done(size_t i, const std::exception_ptr& error) {
    Slot& s = slots_[i];
    const int64_t k = s.id - first_;
    if (k < 0 || k >= count_) {
      failures_.add("callback for unknown job " + std::to_string(s.id));
    } else {
      ++seen_[static_cast<size_t>(k)];
    }
    if (error) {
      const std::string message = inspect(error).message;
      if (accept_error_ && accept_error_(s.id, message)) {
        ++errors_;
      } else {
        failures_.add("job " + std::to_string(s.id) + ": " + message);
      }
    } else {
      try {
        failures_.check(check_affine(s.input, s.request.get_output_tensor()));
      } catch (const std::exception& e) {
        failures_.add("job " + std::to_string(s.id) + ": reading its output: " + e.what());
      }
    }
    ++delivered_;
    start_next(i);
  }

  CompiledModel model_;
  const int64_t first_, count_;
  ErrorFilter accept_error_;
  std::vector<std::atomic<int>> seen_;  // per job: callbacks that delivered it
  std::vector<Slot> slots_;
  std::atomic<int64_t> next_{0};       // the next job to issue (offset from first_)
  std::atomic<int64_t> active_{0};     // slots still running jobs
  std::atomic<int64_t> delivered_{0};  // callbacks
  std::atomic<int64_t> errors_{0};     // accepted errors
  std::atomic<bool> stop_{false};
  Failures failures_;
};

// Expects a finished Jobs run to be complete and clean.
#define EXPECT_JOBS_CLEAN(jobs)                                              \
  do {                                                                       \
    EXPECT_TRUE((jobs).drain()) << "requests still in flight after 60 s";    \
    EXPECT_EQ((jobs).failures().count(), 0u) << (jobs).failures().summary(); \
    EXPECT_EQ((jobs).check_ledger(), "");                                    \
  } while (0)

// Whether a started request ends within 60 s (a guard against hangs), however it ends.
bool ends(InferRequest& request) {
  try {
    return request.wait_for(60s);
  } catch (...) {
    return true;
  }
}

// What wait() rethrows for a request that has ended ("" when it succeeded).
Caught ended_with(InferRequest& request) {
  try {
    request.wait();
    return {};
  } catch (...) {
    return inspect(std::current_exception());
  }
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class MultiTest : public ::testing::Test {
 protected:
  std::shared_ptr<TestDeviceControls> add(const std::string& name, int64_t concurrency = 1,
                                          std::chrono::microseconds service = 0us) {
    return register_test_device(core_, name, {concurrency, service});
  }
  CompiledModel compile(const std::string& device, const AnyMap& properties = {}) {
    return core_.compile_model(model_, device, properties);
  }

  Core core_;
  Model model_ = affine_model();
};

using AutoTest = MultiTest;

AnyMap hint(PerformanceMode mode) { return {{"PERFORMANCE_HINT", mode}}; }

// ------------------------------------------------------------------------------------------- the device

// The test device itself: real outputs, its streams run at once, every kind of failure injection, its
// compile failures and claimed unsupported operators.
TEST_F(MultiTest, TestDeviceComputesRunsConcurrentlyAndFailsOnDemand) {
  auto dev = add("FAST", 3, 100us);
  CompiledModel compiled = compile("FAST");
  EXPECT_EQ(compiled.get_property(props::optimal_number_of_infer_requests), 3);
  EXPECT_EQ(compiled.get_property(props::num_streams), 3);
  EXPECT_EQ(infer_checked(compiled, 7), "");

  // Three inferences held inside the device at once: it runs them concurrently.
  dev->run_valve.close();
  std::vector<InferRequest> requests(3);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i] = compiled.create_infer_request();
    requests[i].set_input_tensor(unique_input(static_cast<int64_t>(10 + i)));
    requests[i].start_async();
  }
  EXPECT_TRUE(eventually([&] { return dev->run_valve.waiting() == 3; }));
  dev->run_valve.open();
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(requests[i].wait_for(60s));
    EXPECT_EQ(check_affine(requests[i].get_input_tensor(0), requests[i].get_output_tensor()), "");
  }
  EXPECT_EQ(dev->max_running.load(), 3);
  EXPECT_EQ(dev->runs.load(), 4);
  EXPECT_EQ(dev->succeeded.load(), 4);

  dev->fail_every = 2;  // runs #5 (ok), #6 (fails)
  EXPECT_EQ(infer_checked(compiled, 1), "");
  EXPECT_TRUE(contains(infer_checked(compiled, 2), "FAST: injected failure of inference #6"));
  dev->fail_every = 0;
  dev->fail_value = 42.f;
  dev->fail_on_value = true;
  EXPECT_NE(infer_checked(compiled, 42), "");
  EXPECT_EQ(infer_checked(compiled, 43), "");
  dev->fail_on_value = false;
  dev->failing = true;
  EXPECT_NE(infer_checked(compiled, 3), "");
  dev->failing = false;
  dev->fail_all = true;
  EXPECT_NE(infer_checked(compiled, 4), "");
  dev->fail_all = false;
  EXPECT_EQ(infer_checked(compiled, 5), "");
  EXPECT_EQ(dev->failed.load(), 4);
  EXPECT_EQ(dev->runs.load(), dev->failed.load() + dev->succeeded.load());

  dev->compile_fails = true;
  try {
    compile("FAST");
    ADD_FAILURE() << "the injected compile failure did not throw";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "FAST: injected compile failure")) << e.what();
  }
  dev->compile_fails = false;
  dev->set_unsupported({"Add (the test says so)"});
  EXPECT_THROW(compile("FAST"), Error);
}

// --------------------------------------------------------------------------------------------- MULTI

// FAST (4 at once, 1 ms each) and SLOW (1 at once, 50 ms): SLOW serves strictly fewer of 200 requests, the
// counters add up, and each device's counter matches what it really ran. Ordering is forced: FAST's
// inferences are held until SLOW has taken one, so both are used whatever the timing.
TEST_F(MultiTest, BalancesInProportionToSpeed) {
  auto fast = add("FAST", 4, 1000us);
  auto slow = add("SLOW", 1, 50000us);
  CompiledModel multi = compile("MULTI:FAST,SLOW");
  EXPECT_EQ(execution_devices(multi), (Names{"FAST", "SLOW"}));
  EXPECT_EQ(multi.get_property(props::optimal_number_of_infer_requests), 5);

  fast->run_valve.close();
  constexpr int n = 200;
  std::vector<InferRequest> requests(n);
  std::vector<Tensor> inputs(n);
  for (int i = 0; i < n; ++i) {
    requests[i] = multi.create_infer_request();
    inputs[i] = unique_input(i);
    requests[i].set_input_tensor(inputs[i]);
  }
  for (auto& r : requests) r.start_async();
  // FAST's four workers are held, so the fifth request went to SLOW.
  ASSERT_TRUE(eventually([&] { return slow->runs.load() >= 1 && fast->run_valve.waiting() == 4; }));
  fast->run_valve.open();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(requests[i].wait_for(60s)) << "request " << i << " did not end";
    EXPECT_EQ(check_affine(inputs[i], requests[i].get_output_tensor()), "");
  }
  const auto counts = served(multi);
  EXPECT_EQ(total(counts), n);
  EXPECT_EQ(counts.at("FAST"), fast->succeeded.load());
  EXPECT_EQ(counts.at("SLOW"), slow->succeeded.load());
  EXPECT_EQ(fast->runs.load() + slow->runs.load(), n) << "a request ran twice";
  EXPECT_GE(counts.at("SLOW"), 1);
  EXPECT_LT(counts.at("SLOW"), counts.at("FAST"))
      << "FAST " << counts.at("FAST") << ", SLOW " << counts.at("SLOW");
}

TEST_F(MultiTest, OptimalNumberOfInferRequestsIsTheSumOfWorkers) {
  add("FAST", 3);
  add("SLOW", 2);
  EXPECT_EQ(compile("MULTI:FAST,SLOW").get_property(props::optimal_number_of_infer_requests), 5);
  CompiledModel counted = compile("MULTI:FAST(6),SLOW(1)");
  EXPECT_EQ(counted.get_property(props::optimal_number_of_infer_requests), 7);
  EXPECT_EQ(execution_devices(counted), (Names{"FAST", "SLOW"}));
  EXPECT_EQ(counted.get_property(props::multi_device_priorities), (Names{"FAST(6)", "SLOW(1)"}));
  // Properties MULTI does not own come from the first device.
  EXPECT_EQ(counted.get_property(props::num_streams), 3);
  EXPECT_EQ(infer_checked(counted, 1), "");
}

// With every device idle, one request at a time always goes to the first device of the list, in either
// order. (A synchronous infer() loop: each request has ended before the next starts.)
TEST_F(MultiTest, OneRequestAtATimeGoesToTheFirstDevice) {
  add("AAA", 2);
  add("BBB", 2);
  for (const std::string& list : std::vector<std::string>{"MULTI:AAA,BBB", "MULTI:BBB,AAA"}) {
    SCOPED_TRACE(list);
    const std::string first = list.substr(6, 3), second = list.substr(10, 3);
    CompiledModel multi = compile(list);
    // One request, reused: the next inference starts as soon as the last one's wait() returns.
    constexpr int n = 2000;
    InferRequest r = multi.create_infer_request();
    Tensor in = unique_input(0);
    r.set_input_tensor(in);
    for (int i = 0; i < n; ++i) {
      fill_unique(in, i);
      r.infer();
      ASSERT_EQ(check_affine(in, r.get_output_tensor()), "");
    }
    const auto counts = served(multi);
    EXPECT_EQ(counts.at(first), n);
    EXPECT_EQ(counts.at(second), 0) << second << " took requests while " << first << " was idle";
  }
}

// Same, with each request started from the callback of the one before (AsyncInferQueue's pattern): once
// the callback has run, the first device is idle again, so it should take every request. A single
// request chained this way is the common low-latency pipeline.
TEST_F(MultiTest, OneRequestChainedFromItsCallbackStaysOnTheFirstDevice) {
  add("AAA", 1);
  add("BBB", 1);
  CompiledModel multi = compile("MULTI:AAA,BBB");
  Jobs jobs(multi, 1, 0, 100);
  jobs.start();
  EXPECT_JOBS_CLEAN(jobs);
  const auto counts = served(multi);
  EXPECT_EQ(counts.at("AAA"), 100);
  EXPECT_EQ(counts.at("BBB"), 0);
}

TEST_F(MultiTest, PrioritiesFromThePropertyForMultiAlone) {
  auto fast = add("FAST", 2);
  auto slow = add("SLOW", 2);
  try {
    compile("MULTI");
    ADD_FAILURE() << "MULTI without devices compiled";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "MULTI_DEVICE_PRIORITIES")) << e.what();
  }

  core_.set_property("MULTI", {{"MULTI_DEVICE_PRIORITIES", std::string("SLOW,FAST")}});
  CompiledModel by_core = compile("MULTI");
  EXPECT_EQ(by_core.get_property(props::multi_device_priorities), (Names{"SLOW", "FAST"}));
  EXPECT_EQ(execution_devices(by_core), (Names{"SLOW", "FAST"}));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(infer_checked(by_core, i), "");
  EXPECT_EQ(served(by_core).at("SLOW"), 20);

  // A compile property overrides the core's.
  CompiledModel by_compile = compile("MULTI", {{"MULTI_DEVICE_PRIORITIES", Names{"FAST", "SLOW"}}});
  EXPECT_EQ(by_compile.get_property(props::multi_device_priorities), (Names{"FAST", "SLOW"}));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(infer_checked(by_compile, i), "");
  EXPECT_EQ(served(by_compile).at("FAST"), 20);

  // The device string's list wins over the property.
  CompiledModel listed = compile("MULTI:FAST", {{"MULTI_DEVICE_PRIORITIES", Names{"SLOW"}}});
  EXPECT_EQ(execution_devices(listed), (Names{"FAST"}));
}

TEST_F(MultiTest, DropsADeviceThatFailsToCompile) {
  auto broken = add("BROKEN");
  broken->compile_fails = true;
  CompiledModel multi = compile("MULTI:BROKEN,REF");
  EXPECT_EQ(execution_devices(multi), (Names{"REF"}));
  const Names dropped = multi.get_property(props::dropped_devices);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].rfind("BROKEN: ", 0), 0u) << dropped[0];
  EXPECT_TRUE(contains(dropped[0], "injected compile failure")) << dropped[0];
  EXPECT_EQ(infer_checked(multi, 3), "");
  EXPECT_EQ(served(multi), (std::map<std::string, int64_t>{{"REF", 1}}));

  // Properties go to every device: one a device does not know drops it, naming the property.
  broken->compile_fails = false;
  CompiledModel picky = compile("MULTI:BROKEN,REF", {{"INFERENCE_NUM_THREADS", int64_t{1}}});
  EXPECT_EQ(execution_devices(picky), (Names{"REF"}));
  const Names why = picky.get_property(props::dropped_devices);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_TRUE(why[0].rfind("BROKEN: ", 0) == 0 && contains(why[0], "INFERENCE_NUM_THREADS")) << why[0];
}

TEST_F(MultiTest, AllDevicesFailingToCompileIsAnErrorListingEach) {
  add("BROKEN")->compile_fails = true;
  add("PICKY")->set_unsupported({"Add (Add_3)"});
  try {
    compile("MULTI:BROKEN,PICKY");
    ADD_FAILURE() << "MULTI compiled with no device that can";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "BROKEN: ") && contains(message, "injected compile failure")) << message;
    EXPECT_TRUE(contains(message, "PICKY: ") && contains(message, "Add (Add_3)")) << message;
  }
}

// MULTI has no runtime fallback: a request failing on a device ends with that device's error. The first
// request (every device idle) goes to FLAKY; with many at once, every failure is one of FLAKY's and every
// success has the right output.
TEST_F(MultiTest, ARequestFailingOnADeviceEndsWithItsError) {
  auto flaky = add("FLAKY", 2, 200us);
  flaky->fail_all = true;
  CompiledModel multi = compile("MULTI:FLAKY,REF");
  EXPECT_TRUE(contains(infer_checked(multi, 1), "FLAKY: injected failure"))
      << "the first request went to REF";

  Jobs jobs(multi, 8, 100, 200,
            [](int64_t, const std::string& m) { return contains(m, "FLAKY: injected failure"); });
  jobs.start();
  EXPECT_JOBS_CLEAN(jobs);
  EXPECT_EQ(jobs.errors() + 1, flaky->failed.load());
  EXPECT_EQ(flaky->succeeded.load(), 0);
  const auto counts = served(multi);
  EXPECT_EQ(total(counts), 201);
  EXPECT_EQ(counts.at("FLAKY"), flaky->runs.load());
}

// Cancel: a request still queued is taken back at once; one a device runs is left to run to its end and
// then ends with InferCancelled. FAST has one worker, held inside the device by its run valve.
TEST_F(MultiTest, CancelTakesBackQueuedRequestsAndDropsRunningOnes) {
  auto fast = add("FAST", 1);
  CompiledModel multi = compile("MULTI:FAST");
  fast->run_valve.close();
  InferRequest running = multi.create_infer_request(), queued = multi.create_infer_request();
  running.set_input_tensor(unique_input(1));
  queued.set_input_tensor(unique_input(2));
  running.start_async();
  ASSERT_TRUE(eventually([&] { return fast->run_valve.waiting() == 1; }));
  queued.start_async();
  queued.cancel();
  ASSERT_TRUE(ends(queued)) << "a queued request was not taken back";
  EXPECT_TRUE(ended_with(queued).is_cancelled);

  running.cancel();
  // The device holds it: it cannot have ended (not a timing verdict: ending now would be the bug).
  EXPECT_FALSE(running.wait_for(50ms));
  fast->run_valve.open();
  ASSERT_TRUE(ends(running));
  EXPECT_TRUE(ended_with(running).is_cancelled);
  EXPECT_EQ(fast->runs.load(), 1) << "the cancelled queued request ran";
  EXPECT_EQ(fast->succeeded.load(), 1);

  // Both are usable again, on the same worker.
  for (InferRequest* r : {&running, &queued}) {
    const Tensor in = unique_input(r == &running ? 3 : 4);
    r->set_input_tensor(in);
    r->infer();
    EXPECT_EQ(check_affine(in, r->get_output_tensor()), "");
  }
}

// Dynamic outputs are copied out of the worker (whose tensor its next request reuses): many requests of
// different batch sizes at once, each output checked against its own input; an output tensor the
// application set of the right shape is written in place.
TEST_F(MultiTest, DynamicOutputsAreCopiedPerRequest) {
  auto fast = add("FAST", 2, 200us);
  auto slow = add("SLOW", 1, 1000us);
  test::Builder builder;
  graph::Value* x = builder.input("x", PartialShape({Dimension::dynamic("batch"), Dimension(4)}));
  graph::Value* y = builder.node("Add", {builder.node("Mul", {x, builder.constant(Tensor::scalar(2.f))}),
                                         builder.constant(Tensor::scalar(1.f))});
  CompiledModel multi = core_.compile_model(builder.finish({y}), "MULTI:FAST,SLOW");
  constexpr int n = 60;
  std::vector<InferRequest> requests(n);
  std::vector<Tensor> inputs(n);
  for (int i = 0; i < n; ++i) {
    requests[i] = multi.create_infer_request();
    inputs[i] = unique_input(i, Shape{1 + i % 4, 4});
    requests[i].set_input_tensor(inputs[i]);
  }
  const Tensor preset(ElementType::f32, Shape{1 + 7 % 4, 4});
  requests[7].set_output_tensor(0, preset);
  for (auto& r : requests) r.start_async();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(requests[i].wait_for(60s));
    EXPECT_EQ(check_affine(inputs[i], requests[i].get_output_tensor()), "") << "request " << i;
  }
  EXPECT_EQ(check_affine(inputs[7], preset), "") << "the output tensor the application set was not written";
  EXPECT_EQ(fast->succeeded.load() + slow->succeeded.load(), n);
}

// --------------------------------------------------------------------------------------------- AUTO

// Runtime fallback: requests that fail on FLAKY run again on REF, and all of them succeed. FLAKY fails
// every inference, then every other one, then while a flag is set.
TEST_F(AutoTest, RuntimeFallbackRetriesAFailedRequestOnAnotherDevice) {
  auto flaky = add("FLAKY", 2, 200us);
  CompiledModel autom = compile("AUTO:FLAKY,REF", hint(PerformanceMode::CUMULATIVE_THROUGHPUT));
  EXPECT_EQ(execution_devices(autom), (Names{"FLAKY", "REF"}));

  flaky->fail_all = true;
  EXPECT_EQ(infer_checked(autom, 1), "");  // FLAKY first (idle), then REF
  EXPECT_EQ(flaky->runs.load(), 1);
  {
    Jobs jobs(autom, 8, 100, 200);
    jobs.start();
    EXPECT_JOBS_CLEAN(jobs);
  }
  EXPECT_EQ(flaky->succeeded.load(), 0);
  auto counts = served(autom);
  EXPECT_EQ(counts.at("FLAKY"), 0);
  EXPECT_EQ(counts.at("REF"), 201);

  flaky->fail_all = false;
  flaky->fail_every = 2;
  {
    Jobs jobs(autom, 8, 1000, 200);
    jobs.start();
    EXPECT_JOBS_CLEAN(jobs);
  }
  flaky->fail_every = 0;
  flaky->failing = true;
  {
    Jobs jobs(autom, 4, 2000, 50);
    jobs.start();
    EXPECT_JOBS_CLEAN(jobs);
  }
  flaky->failing = false;
  EXPECT_EQ(infer_checked(autom, 3), "");
  counts = served(autom);
  EXPECT_EQ(total(counts), 201 + 200 + 50 + 1);
  EXPECT_EQ(counts.at("FLAKY"), flaky->succeeded.load());
  EXPECT_EQ(flaky->runs.load(), flaky->failed.load() + flaky->succeeded.load());
}

// A request that fails on every device ends with an error, after one attempt on each.
TEST_F(AutoTest, RuntimeFallbackEndsWithTheErrorWhenEveryDeviceFailed) {
  auto one = add("ONE");
  auto two = add("TWO");
  one->fail_all = two->fail_all = true;
  CompiledModel autom = compile("AUTO:ONE,TWO", hint(PerformanceMode::CUMULATIVE_THROUGHPUT));
  EXPECT_TRUE(contains(infer_checked(autom, 1), "injected failure"));
  EXPECT_EQ(one->runs.load(), 1);
  EXPECT_EQ(two->runs.load(), 1);
}

TEST_F(AutoTest, WithoutRuntimeFallbackAFailedRequestFails) {
  auto flaky = add("FLAKY", 2, 200us);
  flaky->fail_all = true;
  AnyMap properties = hint(PerformanceMode::CUMULATIVE_THROUGHPUT);
  properties["ENABLE_RUNTIME_FALLBACK"] = false;
  CompiledModel autom = compile("AUTO:FLAKY,REF", properties);
  EXPECT_TRUE(contains(infer_checked(autom, 1), "FLAKY: injected failure"));
  Jobs jobs(autom, 8, 100, 200,
            [](int64_t, const std::string& m) { return contains(m, "FLAKY: injected failure"); });
  jobs.start();
  EXPECT_JOBS_CLEAN(jobs);
  EXPECT_EQ(jobs.errors() + 1, flaky->runs.load());
}

// A request the application cancelled while it ran on a device that then failed is not run again on
// another device: it ends with InferCancelled, and the other device never sees it.
TEST_F(AutoTest, ACancelledRequestIsNotRetried) {
  auto flaky = add("FLAKY", 1);
  auto other = add("OTHER", 1);
  flaky->fail_all = true;
  CompiledModel autom = compile("AUTO:FLAKY,OTHER", hint(PerformanceMode::CUMULATIVE_THROUGHPUT));
  flaky->run_valve.close();
  InferRequest r = autom.create_infer_request();
  r.set_input_tensor(unique_input(1));
  r.start_async();
  ASSERT_TRUE(eventually([&] { return flaky->run_valve.waiting() == 1; }));
  r.cancel();
  flaky->run_valve.open();
  ASSERT_TRUE(ends(r));
  EXPECT_TRUE(ended_with(r).is_cancelled);
  EXPECT_EQ(other->runs.load(), 0) << "the cancelled request was retried on OTHER";
}

// Start-up fallback: the preferred device's compile is held at a valve. AUTO returns at once and serves on
// the CPU; when the valve opens, the device joins while 16 requests keep running (each started from the
// last one's callback), and the CPU stops taking new ones. No request is lost or run twice, every output
// is right, and afterwards every new request runs on the device.
TEST_F(AutoTest, StartupFallbackServesOnCpuUntilThePreferredDeviceIsReady) {
  auto accel = add("ACCEL", 2, 200us);
  accel->compile_valve.close();
  CompiledModel autom = compile("AUTO:ACCEL,CPU");
  EXPECT_EQ(accel->compiles_done.load(), 0) << "AUTO waited for the preferred device";
  EXPECT_EQ(execution_devices(autom), (Names{"CPU"}));
  ASSERT_TRUE(eventually([&] { return accel->compile_valve.waiting() == 1; }));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(infer_checked(autom, i), "");
  EXPECT_EQ(served(autom).at("CPU"), 20);
  EXPECT_EQ(accel->runs.load(), 0);

  Jobs jobs(autom, 16, 1000, 50000);
  jobs.start();
  ASSERT_TRUE(eventually([&] { return jobs.delivered() >= 200; }));
  accel->compile_valve.open();
  ASSERT_TRUE(eventually([&] { return execution_devices(autom) == Names{"ACCEL"}; }))
      << "the preferred device never took over";
  ASSERT_TRUE(eventually([&] { return accel->succeeded.load() >= 200; }));
  jobs.stop();
  EXPECT_JOBS_CLEAN(jobs);
  EXPECT_EQ(jobs.issued(), jobs.delivered());

  auto counts = served(autom);
  EXPECT_EQ(total(counts), 20 + jobs.issued());
  EXPECT_EQ(counts.at("ACCEL"), accel->runs.load()) << "a request ran twice on ACCEL";
  EXPECT_EQ(accel->compiled_hint.load(), static_cast<int>(PerformanceMode::LATENCY));
  EXPECT_EQ(autom.get_property(props::optimal_number_of_infer_requests), 2);

  // Every new request runs on ACCEL now.
  const int64_t cpu_before = counts.at("CPU"), accel_before = accel->runs.load();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(infer_checked(autom, i), "");
  counts = served(autom);
  EXPECT_EQ(counts.at("CPU"), cpu_before);
  EXPECT_EQ(accel->runs.load(), accel_before + 20);
}

// When the preferred device is ready, the requests queued for the CPU move to it. The CPU's workers are
// all held (their callbacks wait at a gate), so only the device can run the queued ones.
TEST_F(AutoTest, QueuedRequestsMoveToThePreferredDeviceWhenItIsReady) {
  auto accel = add("ACCEL", 2);
  accel->compile_valve.close();
  CompiledModel autom = compile("AUTO:ACCEL,CPU");
  const int64_t cpu_workers = autom.get_property(props::optimal_number_of_infer_requests);
  // Shared with the callbacks, and opened however the test ends, so that none outlives them.
  auto gate = std::make_shared<Gate>();
  auto held = std::make_shared<std::atomic<int>>(0);
  std::vector<InferRequest> blockers(static_cast<size_t>(cpu_workers));
  std::vector<Tensor> blocker_inputs(blockers.size());
  struct Opener {
    std::shared_ptr<Gate> gate;
    ~Opener() { gate->open(); }
  } opener{gate};
  for (size_t i = 0; i < blockers.size(); ++i) {
    blockers[i] = autom.create_infer_request();
    blocker_inputs[i] = unique_input(static_cast<int64_t>(i));
    blockers[i].set_input_tensor(blocker_inputs[i]);
    blockers[i].set_callback([gate, held](std::exception_ptr) {
      ++*held;
      gate->pass();
    });
    blockers[i].start_async();
  }
  ASSERT_TRUE(eventually([&] { return held->load() >= 1; }));

  constexpr int n = 6;
  std::vector<InferRequest> queued(n);
  std::vector<Tensor> inputs(n);
  for (int i = 0; i < n; ++i) {
    queued[i] = autom.create_infer_request();
    inputs[i] = unique_input(100 + i);
    queued[i].set_input_tensor(inputs[i]);
    queued[i].start_async();
  }
  accel->compile_valve.open();
  // Every CPU worker is still held: the queued requests can only have run on ACCEL.
  EXPECT_TRUE(eventually([&] { return accel->succeeded.load() == n; })) << "queued requests stayed queued";
  gate->open();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(ends(queued[i]));
    EXPECT_EQ(check_affine(inputs[i], queued[i].get_output_tensor()), "");
  }
  for (size_t i = 0; i < blockers.size(); ++i) {
    ASSERT_TRUE(ends(blockers[i]));
    EXPECT_EQ(check_affine(blocker_inputs[i], blockers[i].get_output_tensor()), "");
    blockers[i].set_callback({});
  }
  const auto counts = served(autom);
  EXPECT_EQ(counts.at("CPU"), cpu_workers);
  EXPECT_EQ(counts.at("ACCEL"), n);
}

// Listed request counts hold for the start-up CPU and for the preferred device.
TEST_F(AutoTest, StartupFallbackHonoursListedRequestCounts) {
  auto accel = add("ACCEL", 2);
  accel->compile_valve.close();
  CompiledModel autom = compile("AUTO:ACCEL(3),CPU(2)");
  EXPECT_EQ(autom.get_property(props::optimal_number_of_infer_requests), 2);
  accel->compile_valve.open();
  ASSERT_TRUE(eventually([&] { return execution_devices(autom) == Names{"ACCEL"}; }));
  EXPECT_EQ(autom.get_property(props::optimal_number_of_infer_requests), 3);
  EXPECT_EQ(infer_checked(autom, 1), "");
}

// Runtime fallback also reaches the CPU that served during start-up, after it stopped taking new requests.
TEST_F(AutoTest, RuntimeFallbackUsesTheRetiredStartupCpu) {
  auto accel = add("ACCEL", 2);
  CompiledModel autom = compile("AUTO:ACCEL,CPU");
  ASSERT_TRUE(eventually([&] { return execution_devices(autom) == Names{"ACCEL"}; }));
  accel->fail_all = true;
  const int64_t cpu_before = served(autom).at("CPU");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(infer_checked(autom, i), "");
  EXPECT_EQ(accel->runs.load(), 10) << "each request is tried on ACCEL first";
  EXPECT_EQ(served(autom).at("CPU"), cpu_before + 10);
}

TEST_F(AutoTest, WithoutStartupFallbackAutoWaitsForThePreferredDevice) {
  auto accel = add("ACCEL", 2);
  accel->compile_valve.close();
  auto pending = std::async(std::launch::async, [&] {
    return compile("AUTO:ACCEL,CPU", {{"ENABLE_STARTUP_FALLBACK", false}});
  });
  ASSERT_TRUE(eventually([&] { return accel->compile_valve.waiting() == 1; }));
  // Not a timing verdict: the device's compile is held, so a compile_model that waits for it cannot have
  // returned; one that returned early is the bug.
  EXPECT_EQ(pending.wait_for(100ms), std::future_status::timeout) << "AUTO did not wait for ACCEL";
  accel->compile_valve.open();
  CompiledModel autom = pending.get();
  EXPECT_EQ(execution_devices(autom), (Names{"ACCEL"}));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(infer_checked(autom, i), "");
  EXPECT_EQ(served(autom), (std::map<std::string, int64_t>{{"ACCEL", 10}}));
  EXPECT_EQ(accel->succeeded.load(), 10);
}

TEST_F(AutoTest, APreferredDeviceThatFailsToCompileLeavesCpuServing) {
  auto accel = add("ACCEL", 2);
  accel->compile_fails = true;
  CompiledModel autom = compile("AUTO:ACCEL,CPU");
  ASSERT_TRUE(eventually([&] { return accel->compiles_done.load() == 1; }));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(infer_checked(autom, i), "");
  EXPECT_EQ(execution_devices(autom), (Names{"CPU"}));
  EXPECT_EQ(served(autom).at("CPU"), 10);
  EXPECT_EQ(accel->runs.load(), 0);

  // Without start-up fallback: the next candidate, and the failure in DROPPED_DEVICES.
  CompiledModel waited = compile("AUTO:ACCEL,CPU", {{"ENABLE_STARTUP_FALLBACK", false}});
  EXPECT_EQ(execution_devices(waited), (Names{"CPU"}));
  const Names dropped = waited.get_property(props::dropped_devices);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_TRUE(dropped[0].rfind("ACCEL: ", 0) == 0 && contains(dropped[0], "injected compile failure"))
      << dropped[0];
}

// The background compile holds what it needs: the application may destroy its Core meanwhile.
TEST_F(AutoTest, TheCoreMayBeDestroyedWhileThePreferredDeviceCompiles) {
  auto core = std::make_unique<Core>();
  auto accel = register_test_device(*core, "ACCEL", {2, 0us});
  accel->compile_valve.close();
  CompiledModel autom = core->compile_model(model_, "AUTO:ACCEL,CPU");
  ASSERT_TRUE(eventually([&] { return accel->compile_valve.waiting() == 1; }));
  core.reset();
  accel->compile_valve.open();
  ASSERT_TRUE(eventually([&] { return execution_devices(autom) == Names{"ACCEL"}; }));
  for (int i = 0; i < 10; ++i) ASSERT_EQ(infer_checked(autom, i), "");
  EXPECT_EQ(accel->succeeded.load(), 10);
}

// Default candidates: devices other than CPU and REF first, then CPU, then REF.
TEST_F(AutoTest, PrefersOtherDevicesOverCpuAndRef) {
  auto accel = add("ACCEL", 2);
  CompiledModel autom = compile("AUTO", {{"ENABLE_STARTUP_FALLBACK", false}});
  EXPECT_EQ(autom.get_property(props::multi_device_priorities), (Names{"ACCEL", "CPU", "REF"}));
  EXPECT_EQ(execution_devices(autom), (Names{"ACCEL"}));
  EXPECT_EQ(infer_checked(autom, 1), "");
  EXPECT_EQ(accel->succeeded.load(), 1);
}

// Among the other devices, registration order (the brief's contract): ZETA registered before ALPHA.
TEST_F(AutoTest, DefaultPriorityFollowsRegistrationOrder) {
  add("ZETA");
  add("ALPHA");
  CompiledModel autom = compile("AUTO", {{"ENABLE_STARTUP_FALLBACK", false}});
  EXPECT_EQ(autom.get_property(props::multi_device_priorities), (Names{"ZETA", "ALPHA", "CPU", "REF"}));
  EXPECT_EQ(execution_devices(autom), (Names{"ZETA"}));
}

TEST_F(AutoTest, SkipsADeviceWithUnsupportedOperators) {
  auto picky = add("PICKY", 2);
  picky->set_unsupported({"Add (Add_3)"});
  CompiledModel autom = compile("AUTO:PICKY,CPU");
  EXPECT_EQ(execution_devices(autom), (Names{"CPU"}));
  EXPECT_EQ(infer_checked(autom, 1), "");
  CompiledModel all = compile("AUTO:PICKY,REF,CPU", hint(PerformanceMode::CUMULATIVE_THROUGHPUT));
  EXPECT_EQ(execution_devices(all), (Names{"REF", "CPU"}));
  EXPECT_EQ(picky->compiles_started.load(), 0);
  try {
    compile("AUTO:PICKY");
    ADD_FAILURE() << "AUTO compiled on a device that cannot run the model";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "PICKY") && contains(e.what(), "Add (Add_3)")) << e.what();
  }
}

// LATENCY and THROUGHPUT choose the first candidate (compiled with that hint); CUMULATIVE_THROUGHPUT uses
// all of them, each compiled for THROUGHPUT. A first candidate that fails to compile gives way to the next.
TEST_F(AutoTest, HintsChooseOneDeviceOrAll) {
  auto fast = add("FAST", 2);
  auto slow = add("SLOW", 2);
  CompiledModel latency = compile("AUTO:FAST,SLOW");
  EXPECT_EQ(execution_devices(latency), (Names{"FAST"}));
  EXPECT_EQ(fast->compiled_hint.load(), static_cast<int>(PerformanceMode::LATENCY));
  CompiledModel throughput = compile("AUTO:FAST,SLOW", hint(PerformanceMode::THROUGHPUT));
  EXPECT_EQ(execution_devices(throughput), (Names{"FAST"}));
  EXPECT_EQ(fast->compiled_hint.load(), static_cast<int>(PerformanceMode::THROUGHPUT));
  EXPECT_EQ(slow->compiles_started.load(), 0);

  CompiledModel all = compile("AUTO:FAST,SLOW", hint(PerformanceMode::CUMULATIVE_THROUGHPUT));
  EXPECT_EQ(execution_devices(all), (Names{"FAST", "SLOW"}));
  EXPECT_EQ(all.get_property(props::optimal_number_of_infer_requests), 4);
  EXPECT_EQ(slow->compiled_hint.load(), static_cast<int>(PerformanceMode::THROUGHPUT));
  EXPECT_EQ(infer_checked(all, 1), "");

  // MULTI_DEVICE_PRIORITIES for AUTO alone.
  CompiledModel by_property = compile("AUTO", {{"MULTI_DEVICE_PRIORITIES", std::string("SLOW,FAST")}});
  EXPECT_EQ(execution_devices(by_property), (Names{"SLOW"}));

  fast->compile_fails = true;
  CompiledModel next = compile("AUTO:FAST,SLOW");
  EXPECT_EQ(execution_devices(next), (Names{"SLOW"}));
  const Names dropped = next.get_property(props::dropped_devices);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].rfind("FAST: ", 0), 0u) << dropped[0];
}

// --------------------------------------------------------------------------------------------- stress

// Several application threads, each with its own requests chained by callbacks, plus one thread of
// synchronous inferences, over FAST, SLOW and FLAKY (failing every third inference) with runtime fallback
// (AUTO CUMULATIVE_THROUGHPUT): every job succeeds exactly once with its own output, and the counters add
// up, each device's matching what it really computed.
TEST_F(AutoTest, StressManyThreadsOverFastSlowAndFlaky) {
  auto fast = add("FAST", 4, 100us);
  auto slow = add("SLOW", 2, 2000us);
  auto flaky = add("FLAKY", 2, 300us);
  flaky->fail_every = 3;
  CompiledModel autom = compile("AUTO:FAST,SLOW,FLAKY", hint(PerformanceMode::CUMULATIVE_THROUGHPUT));
  EXPECT_EQ(autom.get_property(props::optimal_number_of_infer_requests), 8);

  constexpr int threads = 3;
  constexpr int64_t per_thread = 1500, sync_jobs = 300;
  std::vector<std::unique_ptr<Jobs>> jobs;
  for (int t = 0; t < threads; ++t)
    jobs.push_back(std::make_unique<Jobs>(autom, 6, t * per_thread, per_thread));
  std::vector<std::thread> starters;
  for (auto& j : jobs) starters.emplace_back([&j] { j->start(); });
  Failures sync_failures;
  std::thread sync([&] {
    for (int64_t i = 0; i < sync_jobs; ++i)
      sync_failures.check(infer_checked(autom, threads * per_thread + i));
  });
  for (auto& t : starters) t.join();
  sync.join();
  for (auto& j : jobs) {
    ASSERT_TRUE(eventually([&] { return j->delivered() == per_thread; })) << "jobs lost";
    EXPECT_JOBS_CLEAN(*j);
  }
  EXPECT_EQ(sync_failures.count(), 0u) << sync_failures.summary();

  const auto counts = served(autom);
  EXPECT_EQ(total(counts), threads * per_thread + sync_jobs);
  EXPECT_EQ(counts.at("FAST"), fast->succeeded.load());
  EXPECT_EQ(counts.at("SLOW"), slow->succeeded.load());
  EXPECT_EQ(counts.at("FLAKY"), flaky->succeeded.load());
  EXPECT_EQ(flaky->runs.load(), flaky->failed.load() + flaky->succeeded.load());
  EXPECT_EQ(fast->failed.load() + slow->failed.load(), 0);
}

// The same over MULTI (no fallback): a job either succeeds with its own output or ends with FLAKY's
// error, and the errors are exactly FLAKY's injected failures.
TEST_F(MultiTest, StressManyThreadsOverFastSlowAndFlaky) {
  auto fast = add("FAST", 4, 100us);
  auto slow = add("SLOW", 2, 2000us);
  auto flaky = add("FLAKY", 2, 300us);
  flaky->fail_every = 3;
  CompiledModel multi = compile("MULTI:FAST,SLOW,FLAKY");
  constexpr int threads = 3;
  constexpr int64_t per_thread = 1500;
  auto flaky_error = [](int64_t, const std::string& m) { return contains(m, "FLAKY: injected failure"); };
  std::vector<std::unique_ptr<Jobs>> jobs;
  for (int t = 0; t < threads; ++t) {
    jobs.push_back(std::make_unique<Jobs>(multi, 6, t * per_thread, per_thread, flaky_error));
  }
  std::vector<std::thread> starters;
  for (auto& j : jobs) starters.emplace_back([&j] { j->start(); });
  for (auto& t : starters) t.join();
  int64_t errors = 0;
  for (auto& j : jobs) {
    ASSERT_TRUE(eventually([&] { return j->delivered() == per_thread; })) << "jobs lost";
    EXPECT_JOBS_CLEAN(*j);
    errors += j->errors();
  }
  EXPECT_EQ(errors, flaky->failed.load());
  const auto counts = served(multi);
  EXPECT_EQ(total(counts), threads * per_thread);
  EXPECT_EQ(counts.at("FAST"), fast->runs.load());
  EXPECT_EQ(counts.at("SLOW"), slow->runs.load());
  EXPECT_EQ(counts.at("FLAKY"), flaky->runs.load());
}

}  // namespace
}  // namespace sluice::behavior
