// Shared pieces of the device behaviour suite: the device list, per-device properties, the test models
// (built with test::Builder), inputs with unique values and their checks, and synchronization helpers that
// never rely on timing (bounded waits only guard against hangs).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "graph_builder.hpp"
#include "sluice/sluice.hpp"

namespace sluice::behavior {

using namespace std::chrono_literals;

// Every test of the suite runs once per device of this list. BATCH gathers 4 requests: tests with fewer
// requests in flight exercise its timeout, the others its full batches. MULTI balances over CPU and REF;
// AUTO (LATENCY) chooses the CPU.
inline const std::vector<std::string>& devices() {
  static const std::vector<std::string> list = {"REF",          "CPU",           "BATCH:CPU(4)",
                                                "BATCH:REF(4)", "MULTI:CPU,REF", "AUTO"};
  return list;
}

// Device-wide properties the suite sets before each test: BATCH's default timeout (1 s) would make every
// test that runs one request at a time wait for it.
inline AnyMap suite_device_properties(const std::string& device) {
  if (device.rfind("BATCH:", 0) == 0) return {{"AUTO_BATCH_TIMEOUT", int64_t{5}}};
  return {};
}

// A gtest-safe name for a device ("MULTI:CPU,REF" -> "MULTI_CPU_REF").
inline std::string device_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// One stream: inferences run one at a time in start order (the cancel and busy tests rely on it).
inline AnyMap single_stream_properties(const std::string& /*device*/) {
  return {{"NUM_STREAMS", int64_t{1}}};
}
inline AnyMap two_stream_properties(const std::string& /*device*/) { return {{"NUM_STREAMS", int64_t{2}}}; }

// The configurations a device is expected to run concurrent inferences with.
struct Config {
  std::string name;
  AnyMap properties;
};
inline std::vector<Config> throughput_configs(const std::string& device) {
  return {{"default", {}},
          {"THROUGHPUT", {{"PERFORMANCE_HINT", std::string("THROUGHPUT")}}},
          {"NUM_STREAMS=2", two_stream_properties(device)}};
}

// ---------------------------------------------------------------------------------------------- models

// The shape of the affine models' input and output.
inline const Shape affine_shape = {2, 4};

// y = x * 2 + 1 (exact in f32 for the inputs below, on every device).
inline Model affine_model() {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape(affine_shape));
  graph::Value* y =
      b.node("Add", {b.node("Mul", {x, b.constant(Tensor::scalar(2.f))}), b.constant(Tensor::scalar(1.f))});
  return b.finish({y});
}

// y = 5 - x, written as Neg(x) + 5.
inline Model negate_model() {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape(affine_shape));
  graph::Value* y = b.node("Add", {b.node("Neg", {x}), b.constant(Tensor::scalar(5.f))});
  return b.finish({y});
}

// Two inputs: y = a - 3 * b.
inline Model two_input_model() {
  test::Builder b;
  graph::Value* a = b.input("a", PartialShape(affine_shape));
  graph::Value* bb = b.input("b", PartialShape(affine_shape));
  graph::Value* y = b.node("Sub", {a, b.node("Mul", {bb, b.constant(Tensor::scalar(3.f))})});
  return b.finish({y});
}

// The data Gather reads; the model's inference fails at run time for an index outside [-5, 5).
inline const std::vector<float> gather_data = {10, 11, 12, 13, 14};

// y = Gather(data, indices) with `indices` an i64 [2] input: an out-of-range index throws during the
// inference (on REF and CPU), not when it is set.
inline Model gather_model() {
  test::Builder b;
  graph::Value* indices = b.input("indices", PartialShape({2}), ElementType::i64);
  graph::Value* data = b.constant(Tensor::from<float>({5}, std::span<const float>(gather_data)));
  graph::Value* y = b.node("Gather", {data, indices}, {{"axis", int64_t{0}}});
  return b.finish({y});
}

inline Tensor gather_indices(int64_t a, int64_t b) { return Tensor::from<int64_t>({2}, {a, b}); }

// A chain of `depth` [n, n] matrix products with the identity: slow enough to queue work behind, and
// still y == x exactly.
inline Model slow_model(int64_t n = 128, int depth = 8) {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape({n, n}));
  Tensor identity(ElementType::f32, {n, n});
  for (int64_t i = 0; i < n; ++i) identity.data<float>()[i * n + i] = 1.f;
  graph::Value* y = x;
  for (int i = 0; i < depth; ++i) y = b.node("MatMul", {y, b.constant(identity)});
  return b.finish({y});
}

// --------------------------------------------------------------------------------------- inputs, checks

// A tensor of `shape` whose every element tells `id` and its position: id + k / 4 (exact in f32 for ids
// below 2^21), so any output computed from it identifies the input it came from.
inline Tensor unique_input(int64_t id, const Shape& shape = affine_shape) {
  Tensor t(ElementType::f32, shape);
  auto values = t.values<float>();
  for (size_t k = 0; k < values.size(); ++k) {
    values[k] = static_cast<float>(id) + static_cast<float>(k % 64) * 0.25f;
  }
  return t;
}

// Fills an existing tensor in place like unique_input.
inline void fill_unique(Tensor& t, int64_t id) {
  auto values = t.values<float>();
  for (size_t k = 0; k < values.size(); ++k) {
    values[k] = static_cast<float>(id) + static_cast<float>(k % 64) * 0.25f;
  }
}

// The id unique_input wrote into `t`.
inline int64_t id_of(const Tensor& t) { return static_cast<int64_t>(t.data<float>()[0]); }

// Checks that out[k] == f(in[k]) for every element; returns "" when it holds, otherwise what differs.
template <class F> std::string check_elementwise(const Tensor& in, const Tensor& out, F f) {
  if (out.type() != ElementType::f32 || out.shape() != in.shape()) {
    return "output has type " + std::string(to_string(out.type())) + " and shape " + to_string(out.shape()) +
           "; expected f32 " + to_string(in.shape());
  }
  for (int64_t k = 0; k < in.size(); ++k) {
    const float expected = f(in.data<float>()[k]);
    if (out.data<float>()[k] != expected) {
      return "element " + std::to_string(k) + " is " + std::to_string(out.data<float>()[k]) + "; expected " +
             std::to_string(expected) + " (input id " + std::to_string(id_of(in)) + ")";
    }
  }
  return {};
}

inline std::string check_affine(const Tensor& in, const Tensor& out) {
  return check_elementwise(in, out, [](float x) { return x * 2.f + 1.f; });
}
inline std::string check_negate(const Tensor& in, const Tensor& out) {
  return check_elementwise(in, out, [](float x) { return 5.f - x; });
}
inline std::string check_identity(const Tensor& in, const Tensor& out) {
  return check_elementwise(in, out, [](float x) { return x; });
}

// ------------------------------------------------------------------------------------------ concurrency

// Waits (bounded: 60 s) until `pred` holds; false on timeout. Only a guard against hangs, never a speed
// assertion.
template <class Pred> bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A gate callbacks can be held at until the test opens it. pass() gives up after 60 s (returning false)
// so that a broken runtime fails the test instead of hanging it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  bool pass() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 60s, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Failures seen on runtime or application threads, reported by the test's own thread.
class Failures {
 public:
  void add(const std::string& message) {
    std::lock_guard lock(mutex_);
    ++count_;
    if (messages_.size() < 8) messages_.push_back(message);
  }
  void check(const std::string& message) {
    if (!message.empty()) add(message);
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::string summary() const {
    std::lock_guard lock(mutex_);
    std::string s;
    for (const auto& m : messages_) s += "\n  " + m;
    return s;
  }

 private:
  mutable std::mutex mutex_;
  size_t count_ = 0;
  std::vector<std::string> messages_;
};

// The message of an exception_ptr's exception, and whether it is a sluice::Error / InferCancelled.
struct Caught {
  bool is_error = false;      // sluice::Error (or derived)
  bool is_cancelled = false;  // sluice::InferCancelled
  std::string message;
};
inline Caught inspect(const std::exception_ptr& error) {
  Caught c;
  try {
    std::rethrow_exception(error);
  } catch (const InferCancelled& e) {
    c.is_error = c.is_cancelled = true;
    c.message = e.what();
  } catch (const Error& e) {
    c.is_error = true;
    c.message = e.what();
  } catch (const std::exception& e) {
    c.message = e.what();
  } catch (...) {
    c.message = "(not a std::exception)";
  }
  return c;
}

// Holds the only stream of a single-stream compiled model: a request whose callback waits at a gate.
// Callbacks run on the stream that ran the inference (dev::AsyncInferRequest calls them from the stream
// thread), so every inference started after this one stays queued until release(). On MULTI and AUTO,
// whose requests are served by a pool of worker requests, it takes every worker (one request each, started
// together): the first one's callback holds its device's stream, the others wait behind a held stream or
// hold one themselves, so the next requests wait in the device's queue. The test must check entered()
// before relying on it.
class StreamBlocker {
 public:
  StreamBlocker(const CompiledModel& model, const Tensor& input) {
    const size_t count =
        pooled(model) ? static_cast<size_t>(model.get_property(props::optimal_number_of_infer_requests)) : 1;
    requests_.resize(count);
    for (size_t i = 0; i < count; ++i) {
      InferRequest& r = requests_[i];
      r = model.create_infer_request();
      r.set_input_tensor(input);
      r.set_callback([this, i](const std::exception_ptr&) {
        if (i == 0) entered_ = true;
        gate_.pass();
      });
    }
    for (InferRequest& r : requests_) r.start_async();
  }
  ~StreamBlocker() {
    release();
    for (InferRequest& r : requests_) {
      try {
        r.wait();
        r.set_callback({});
      } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; the tests check results
      }
    }
  }
  StreamBlocker(const StreamBlocker&) = delete;
  StreamBlocker& operator=(const StreamBlocker&) = delete;

  // Whether the first request's blocking callback is running now (waits for it, bounded).
  bool entered() {
    return eventually([&] { return entered_.load(); });
  }
  void release() { gate_.open(); }
  InferRequest& request() { return requests_.front(); }

 private:
  // Whether the model's requests are served by a pool of worker requests (MULTI, AUTO).
  static bool pooled(const CompiledModel& model) {
    try {
      model.get_property(props::served_requests);
      return true;
    } catch (const Error&) {
      return false;
    }
  }

  std::vector<InferRequest> requests_;
  Gate gate_;
  std::atomic<bool> entered_{false};
};

// The fixture of every per-device test: the device name and a Core.
class DeviceTest : public ::testing::TestWithParam<std::string> {
 protected:
  DeviceTest() {
    const AnyMap properties = suite_device_properties(device());
    if (!properties.empty()) core_.set_property(device(), properties);
  }
  const std::string& device() const { return GetParam(); }
  CompiledModel compile(const Model& model, const AnyMap& properties = {}) {
    return core_.compile_model(model, device(), properties);
  }
  Core core_;
};

}  // namespace sluice::behavior
