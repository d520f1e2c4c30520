// Stress: many asynchronous inferences (100000 by default; SLUICE_STRESS_REQUESTS sets the count, e.g.
// fewer under ThreadSanitizer) over three compiled models of different small graphs and properties,
// driven by several application threads at once: some through their own requests and callbacks, some
// through AsyncInferQueues they share. Every job has a unique id written into its input; its output is
// checked against that input in the callback, and every id must be delivered exactly once.
#include <gtest/gtest.h>

#include <any>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "behavior_common.hpp"

namespace sluice::behavior {
namespace {

int64_t stress_requests() {
  const char* env = std::getenv("SLUICE_STRESS_REQUESTS");
  if (!env || !*env) return 100000;
  char* end = nullptr;
  const long long n = std::strtoll(env, &end, 10);
  if (*end != '\0' || n < 1 || n > (int64_t{1} << 20)) {
    ADD_FAILURE() << "SLUICE_STRESS_REQUESTS=" << env << ": expected a count from 1 to 2^20";
    return 1000;
  }
  return n;
}

// The three models, each with the check of its output against its first input.
struct StressModel {
  CompiledModel compiled;
  std::string (*check)(const InferRequest& request);
};

std::string check_affine_request(const InferRequest& r) {
  return check_affine(r.get_input_tensor(0), r.get_output_tensor());
}
std::string check_negate_request(const InferRequest& r) {
  return check_negate(r.get_input_tensor(0), r.get_output_tensor());
}
std::string check_two_input_request(const InferRequest& r) {
  const Tensor a = r.get_input_tensor(0), b = r.get_input_tensor(1), y = r.get_output_tensor();
  if (y.shape() != a.shape() || y.type() != ElementType::f32) return "wrong output shape or type";
  for (int64_t k = 0; k < y.size(); ++k) {
    const float expected = a.data<float>()[k] - 3.f * b.data<float>()[k];
    if (y.data<float>()[k] != expected) {
      return "id " + std::to_string(id_of(a)) + ": element " + std::to_string(k) + " is " +
             std::to_string(y.data<float>()[k]) + "; expected " + std::to_string(expected);
    }
  }
  return {};
}

// Everything the callbacks touch: thread-safe by atomics and Failures.
struct Ledger {
  explicit Ledger(int64_t n) : seen(static_cast<size_t>(n)) {}
  std::vector<std::atomic<uint8_t>> seen;  // per id: how many callbacks delivered it
  std::atomic<int64_t> callbacks{0};
  Failures failures;

  void deliver(int64_t id, const std::exception_ptr& error, const std::string& check_result) {
    ++callbacks;
    if (id < 0 || id >= static_cast<int64_t>(seen.size())) {
      return failures.add("callback for unknown id " + std::to_string(id));
    }
    ++seen[static_cast<size_t>(id)];
    if (error) return failures.add("id " + std::to_string(id) + ": " + inspect(error).message);
    failures.check(check_result);
  }
};

// Waits for a request; its errors already reached its callback (and the Ledger).
void wait_quietly(InferRequest& request) {
  try {
    request.wait();
  } catch (...) {  // NOLINT(bugprone-empty-catch): reported by the callback
  }
}

using StressBehavior = DeviceTest;

TEST_P(StressBehavior, HundredThousandAsyncRequestsOverThreeModels) {
  const int64_t total = stress_requests();
  std::vector<StressModel> models = {
      {compile(affine_model(), {{"PERFORMANCE_HINT", std::string("THROUGHPUT")}}), check_affine_request},
      {compile(negate_model(), two_stream_properties(device())), check_negate_request},
      {compile(two_input_model()), check_two_input_request},
  };
  Ledger ledger(total);
  std::atomic<int64_t> next_id{0};
  // Takes the next unique id, or -1 when every job has been handed out.
  auto take_id = [&]() -> int64_t {
    const int64_t id = next_id.fetch_add(1);
    return id < total ? id : -1;
  };

  // Shared queues, one per model, fed by the queue threads. Their callbacks read the request's own input.
  std::vector<std::unique_ptr<AsyncInferQueue>> queues;
  for (const StressModel& model : models) {
    queues.push_back(std::make_unique<AsyncInferQueue>(model.compiled, 3));
    queues.back()->set_callback(
        [&ledger, &model](InferRequest& request, const std::any& userdata, const std::exception_ptr& error) {
          const int64_t id = std::any_cast<int64_t>(userdata);
          std::string check = error ? std::string() : model.check(request);
          if (!error && check.empty() && id_of(request.get_input_tensor(0)) != id) {
            check = "id " + std::to_string(id) + " ran on the input of id " +
                    std::to_string(id_of(request.get_input_tensor(0)));
          }
          ledger.deliver(id, error, check);
        });
  }

  // A request thread: two requests per model, used in turn. Each request owns its input tensors; they are
  // refilled only after wait() says the request is idle.
  auto request_thread = [&](int t) {
    struct Slot {
      InferRequest request;
      std::vector<Tensor> inputs;
      const StressModel* model = nullptr;
    };
    std::vector<std::unique_ptr<Slot>> slots;
    try {
      for (const StressModel& model : models) {
        for (int k = 0; k < 2; ++k) {
          auto slot = std::make_unique<Slot>();
          slot->model = &model;
          slot->request = model.compiled.create_infer_request();
          for (size_t i = 0; i < slot->request.inputs().size(); ++i) {
            slot->inputs.emplace_back(ElementType::f32, affine_shape);
          }
          Slot* raw = slot.get();  // the callback captures the slot, not a request handle (no cycle)
          slot->request.set_callback([&ledger, raw](const std::exception_ptr& error) {
            const int64_t id = id_of(raw->inputs[0]);
            ledger.deliver(id, error, error ? std::string() : raw->model->check(raw->request));
          });
          slots.push_back(std::move(slot));
        }
      }
      for (size_t turn = 0;; ++turn) {
        Slot& slot = *slots[(turn + static_cast<size_t>(t)) % slots.size()];
        wait_quietly(slot.request);
        const int64_t id = take_id();
        if (id < 0) break;
        fill_unique(slot.inputs[0], id);
        if (slot.inputs.size() > 1) fill_unique(slot.inputs[1], static_cast<int64_t>(turn % 11));
        for (size_t i = 0; i < slot.inputs.size(); ++i) slot.request.set_input_tensor(i, slot.inputs[i]);
        slot.request.start_async();
      }
    } catch (const std::exception& e) {
      ledger.failures.add("request thread " + std::to_string(t) + ": " + e.what());
    }
    // Before the slots (which the callbacks use) go: nothing in flight, no callback set.
    for (auto& slot : slots) {
      wait_quietly(slot->request);
      slot->request.set_callback({});
    }
  };

  // A queue thread: fresh tensors per job (the queue keeps them until the request is reused).
  auto queue_thread = [&](int t) {
    try {
      for (size_t turn = static_cast<size_t>(t);; ++turn) {
        const int64_t id = take_id();
        if (id < 0) break;
        const size_t m = turn % queues.size();
        std::vector<Tensor> inputs = {unique_input(id)};
        if (models[m].compiled.inputs().size() > 1)
          inputs.push_back(unique_input(static_cast<int64_t>(turn % 13)));
        queues[m]->start_async(inputs, id);
      }
    } catch (const std::exception& e) {
      ledger.failures.add("queue thread " + std::to_string(t) + ": " + e.what());
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 2; ++t) threads.emplace_back(request_thread, t);
  for (int t = 0; t < 2; ++t) threads.emplace_back(queue_thread, t);
  for (auto& thread : threads) thread.join();
  for (auto& queue : queues) {
    try {
      queue->wait_all();
    } catch (const std::exception& e) {
      ledger.failures.add(std::string("wait_all: ") + e.what());
    }
  }
  queues.clear();

  EXPECT_EQ(ledger.callbacks.load(), total);
  int64_t missing = 0, duplicated = 0;
  for (const auto& count : ledger.seen) {
    if (count == 0) ++missing;
    if (count > 1) ++duplicated;
  }
  EXPECT_EQ(missing, 0) << "ids never delivered";
  EXPECT_EQ(duplicated, 0) << "ids delivered more than once";
  EXPECT_EQ(ledger.failures.count(), 0u) << ledger.failures.summary();
}

INSTANTIATE_TEST_SUITE_P(Devices, StressBehavior, ::testing::ValuesIn(devices()), device_test_name);

}  // namespace
}  // namespace sluice::behavior
