// AsyncInferQueue (include/sluice/async_infer_queue.hpp) on every device: every userdata delivered once
// with its own outputs, start_async blocking while the pool is full, wait_all, errors with and without a
// callback, callback exceptions, bad tensors, and destruction with work in flight.
#include <gtest/gtest.h>

#include <any>
#include <atomic>
#include <thread>
#include <vector>

#include "behavior_common.hpp"

namespace sluice::behavior {
namespace {

using AsyncInferQueueBehavior = DeviceTest;

TEST_P(AsyncInferQueueBehavior, DeliversEveryUserdataOnceWithItsOwnOutputs) {
  constexpr int job_count = 150;
  for (const Config& config : throughput_configs(device())) {
    CompiledModel compiled = compile(affine_model(), config.properties);
    for (size_t pool : {size_t{0}, size_t{1}, size_t{3}}) {
      SCOPED_TRACE(config.name + ", pool " + std::to_string(pool));
      AsyncInferQueue queue(compiled, pool);
      if (pool == 0) {
        EXPECT_EQ(static_cast<int64_t>(queue.size()),
                  compiled.get_property(props::optimal_number_of_infer_requests));
      } else {
        EXPECT_EQ(queue.size(), pool);
      }
      std::vector<Tensor> inputs;  // unchanged until the callbacks, as start_async requires
      inputs.reserve(job_count);
      for (int i = 0; i < job_count; ++i) inputs.push_back(unique_input(3 * i + 1));
      std::vector<std::atomic<int>> seen(job_count);
      Failures failures;
      queue.set_callback(
          [&](InferRequest& request, const std::any& userdata, const std::exception_ptr& error) {
            const int id = std::any_cast<int>(userdata);
            ++seen[id];
            if (error) return failures.add("job " + std::to_string(id) + ": " + inspect(error).message);
            failures.check(check_affine(inputs[id], request.get_output_tensor()));
          });
      for (int i = 0; i < job_count; ++i) queue.start_async(std::vector<Tensor>{inputs[i]}, i);
      queue.wait_all();
      for (int i = 0; i < job_count; ++i) EXPECT_EQ(seen[i], 1) << "job " << i;
      EXPECT_EQ(failures.count(), 0u) << failures.summary();
      EXPECT_TRUE(queue.is_ready());
    }
  }
}

TEST_P(AsyncInferQueueBehavior, ManyThreadsFeedOneQueue) {
  constexpr int thread_count = 4, per_thread = 60;
  CompiledModel compiled = compile(two_input_model(), two_stream_properties(device()));
  AsyncInferQueue queue(compiled, 4);
  std::vector<std::atomic<int>> seen(thread_count * per_thread);
  Failures failures;
  queue.set_callback([&](InferRequest& request, const std::any& userdata, const std::exception_ptr& error) {
    const int id = std::any_cast<int>(userdata);
    ++seen[id];
    if (error) return failures.add(inspect(error).message);
    const Tensor a = request.get_tensor("a"), b = request.get_tensor("b"), y = request.get_output_tensor();
    if (id_of(a) != id)
      return failures.add("job " + std::to_string(id) + " got input " + std::to_string(id_of(a)));
    for (int64_t k = 0; k < y.size(); ++k) {
      if (y.data<float>()[k] != a.data<float>()[k] - 3.f * b.data<float>()[k]) {
        return failures.add("job " + std::to_string(id) + ": wrong output at " + std::to_string(k));
      }
    }
  });
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < per_thread; ++i) {
          const int id = t * per_thread + i;
          // By name; owned tensors, kept alive by the request until it is reused.
          queue.start_async(
              std::map<std::string, Tensor>{{"a", unique_input(id)}, {"b", unique_input(i % 7)}}, id);
        }
      } catch (const std::exception& e) {
        failures.add(e.what());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  queue.wait_all();
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "job " << i;
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
}

// A pool of one request whose callback is held: start_async must wait until that callback has
// returned, and then run the job (nothing lost).
TEST_P(AsyncInferQueueBehavior, StartAsyncBlocksWhileEveryRequestIsBusy) {
  CompiledModel compiled = compile(affine_model());
  AsyncInferQueue queue(compiled, 1);
  Gate gate;
  std::atomic<bool> first_returned{false}, entered{false};
  std::vector<std::atomic<int>> seen(2);
  Failures failures;
  const Tensor in0 = unique_input(100), in1 = unique_input(200);
  queue.set_callback([&](InferRequest& request, const std::any& userdata, const std::exception_ptr& error) {
    const int id = std::any_cast<int>(userdata);
    ++seen[id];
    if (error) failures.add(inspect(error).message);
    failures.check(check_affine(id == 0 ? in0 : in1, request.get_output_tensor()));
    if (id == 0) {
      entered = true;
      if (!gate.pass()) failures.add("the gate was never opened");
      first_returned = true;
    }
  });
  queue.start_async({in0}, 0);
  EXPECT_FALSE(queue.is_ready());
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  EXPECT_FALSE(queue.is_ready());  // the request stays reserved while its callback runs
  std::atomic<bool> second_started{false}, first_done_when_second_started{false};
  std::thread feeder([&] {
    try {
      queue.start_async({in1}, 1);
      first_done_when_second_started = first_returned.load();
      second_started = true;
    } catch (const std::exception& e) {
      failures.add(e.what());
    }
  });
  gate.open();
  feeder.join();
  queue.wait_all();
  EXPECT_TRUE(second_started);
  EXPECT_TRUE(first_done_when_second_started) << "start_async took the request before its callback returned";
  EXPECT_EQ(seen[0], 1);
  EXPECT_EQ(seen[1], 1);
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  EXPECT_EQ(queue.get_idle_request_id(), 0u);
  // After wait_all the requests are usable directly.
  EXPECT_EQ(check_affine(in1, queue[0].get_output_tensor()), "");
  EXPECT_THROW(queue[1], Error);
}

TEST_P(AsyncInferQueueBehavior, WaitAllWaitsForEveryJob) {
  constexpr int job_count = 12;
  CompiledModel compiled = compile(slow_model(64, 4), single_stream_properties(device()));
  AsyncInferQueue queue(compiled, 3);
  std::atomic<int> calls{0};
  queue.set_callback([&](InferRequest&, const std::any&, const std::exception_ptr&) { ++calls; });
  const Tensor in = unique_input(1, {64, 64});
  for (int i = 0; i < job_count; ++i) queue.start_async({in}, i);
  queue.wait_all();
  EXPECT_EQ(calls, job_count);
  for (size_t i = 0; i < queue.size(); ++i) {
    EXPECT_TRUE(queue[i].wait_for(0ms));
    EXPECT_EQ(check_identity(in, queue[i].get_output_tensor()), "");
  }
  queue.wait_all();  // nothing in flight: returns at once
}

TEST_P(AsyncInferQueueBehavior, InferenceErrorsReachTheCallback) {
  constexpr int job_count = 20;
  CompiledModel compiled = compile(gather_model());
  AsyncInferQueue queue(compiled, 2);
  std::vector<std::atomic<int>> failed(job_count), succeeded(job_count);
  Failures failures;
  queue.set_callback([&](InferRequest& request, const std::any& userdata, const std::exception_ptr& error) {
    const int id = std::any_cast<int>(userdata);
    if (error) {
      const Caught c = inspect(error);
      if (!c.is_error || c.is_cancelled)
        failures.add("job " + std::to_string(id) + ": unexpected " + c.message);
      ++failed[id];
      return;
    }
    ++succeeded[id];
    const Tensor out = request.get_output_tensor();
    if (out.data<float>()[0] != gather_data[id % 5])
      failures.add("job " + std::to_string(id) + ": wrong value");
  });
  for (int i = 0; i < job_count; ++i) {
    // Every third job reads index 9, out of range.
    queue.start_async({gather_indices(i % 3 == 0 ? 9 : i % 5, 0)}, i);
  }
  EXPECT_NO_THROW(queue.wait_all());  // the callback received every error
  for (int i = 0; i < job_count; ++i) {
    EXPECT_EQ(failed[i], i % 3 == 0 ? 1 : 0) << "job " << i;
    EXPECT_EQ(succeeded[i], i % 3 == 0 ? 0 : 1) << "job " << i;
  }
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
}

TEST_P(AsyncInferQueueBehavior, InferenceErrorsWithoutACallbackReachWaitAllOnce) {
  CompiledModel compiled = compile(gather_model());
  AsyncInferQueue queue(compiled, 2);
  for (int i = 0; i < 6; ++i) queue.start_async({gather_indices(i == 2 ? -6 : 1, 2)}, i);
  try {
    queue.wait_all();
    ADD_FAILURE() << "wait_all did not throw the inference's error";
  } catch (const InferCancelled& e) {
    ADD_FAILURE() << "unexpected InferCancelled: " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("-6"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(queue.wait_all());  // once
  for (int i = 0; i < 4; ++i) queue.start_async({gather_indices(1, 2)}, i);
  EXPECT_NO_THROW(queue.wait_all());
}

TEST_P(AsyncInferQueueBehavior, CallbackExceptionsReachWaitAllOnce) {
  constexpr int job_count = 10;
  CompiledModel compiled = compile(affine_model());
  AsyncInferQueue queue(compiled, 2);
  std::atomic<int> calls{0};
  std::atomic<bool> throwing{true};
  queue.set_callback([&](InferRequest&, const std::any& userdata, const std::exception_ptr&) {
    ++calls;
    if (throwing && std::any_cast<int>(userdata) == 3) throw std::runtime_error("callback of job 3");
  });
  const Tensor in = unique_input(1);
  for (int i = 0; i < job_count; ++i) queue.start_async({in}, i);
  try {
    queue.wait_all();
    ADD_FAILURE() << "wait_all did not rethrow the callback's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "callback of job 3");
  }
  EXPECT_EQ(calls, job_count);
  EXPECT_NO_THROW(queue.wait_all());
  // The queue keeps working, every job still delivered.
  for (int i = 0; i < job_count; ++i) queue.start_async({in}, i);
  EXPECT_THROW(queue.wait_all(), std::runtime_error);
  EXPECT_EQ(calls, 2 * job_count);
  throwing = false;
  for (int i = 0; i < job_count; ++i) queue.start_async({in}, i);
  EXPECT_NO_THROW(queue.wait_all());
  EXPECT_EQ(calls, 3 * job_count);
}

TEST_P(AsyncInferQueueBehavior, WaitAllFromTheCallbackThrows) {
  CompiledModel compiled = compile(affine_model());
  AsyncInferQueue queue(compiled, 1);
  std::atomic<int> threw{0};
  queue.set_callback([&](InferRequest&, const std::any&, const std::exception_ptr&) {
    try {
      queue.wait_all();
    } catch (const Error&) {
      ++threw;
    }
  });
  queue.start_async({unique_input(1)}, 0);
  queue.wait_all();
  EXPECT_EQ(threw, 1);
}

TEST_P(AsyncInferQueueBehavior, SetCallbackWhileBusyThrows) {
  CompiledModel compiled = compile(affine_model());
  AsyncInferQueue queue(compiled, 1);
  Gate gate;
  std::atomic<bool> entered{false};
  queue.set_callback([&](InferRequest&, const std::any&, const std::exception_ptr&) {
    entered = true;
    gate.pass();
  });
  queue.start_async({unique_input(1)});
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  EXPECT_THROW(queue.set_callback({}), Error);
  gate.open();
  queue.wait_all();
  std::atomic<int> calls{0};
  queue.set_callback([&](InferRequest&, const std::any&, const std::exception_ptr&) { ++calls; });
  queue.start_async({unique_input(2)});
  queue.wait_all();
  EXPECT_EQ(calls, 1);
}

TEST_P(AsyncInferQueueBehavior, BadTensorsThrowAndTheRequestReturnsToThePool) {
  CompiledModel compiled = compile(two_input_model());
  AsyncInferQueue queue(compiled, 1);
  std::atomic<int> calls{0};
  queue.set_callback([&](InferRequest&, const std::any&, const std::exception_ptr&) { ++calls; });
  const Tensor a = unique_input(1), b = unique_input(2);
  EXPECT_THROW(queue.start_async({a, Tensor(ElementType::f32, {3, 3})}), Error);  // wrong shape
  EXPECT_TRUE(queue.is_ready());
  EXPECT_THROW(queue.start_async({a, b, b}), Error);  // three tensors for two inputs
  EXPECT_TRUE(queue.is_ready());
  EXPECT_THROW(queue.start_async(std::map<std::string, Tensor>{{"nope", a}}), Error);
  EXPECT_TRUE(queue.is_ready());
  EXPECT_THROW(
      queue.start_async(std::map<std::string, Tensor>{{"a", Tensor(ElementType::i64, affine_shape)}}), Error);
  EXPECT_TRUE(queue.is_ready());
  queue.wait_all();
  EXPECT_EQ(calls, 0);
  queue.start_async({a, b}, 7);
  queue.wait_all();
  EXPECT_EQ(calls, 1);
  const Tensor y = queue[0].get_output_tensor();
  EXPECT_EQ(y.data<float>()[5], a.data<float>()[5] - 3.f * b.data<float>()[5]);
}

TEST_P(AsyncInferQueueBehavior, MissingInputThrowsAndTheRequestReturnsToThePool) {
  CompiledModel compiled = compile(two_input_model());
  AsyncInferQueue queue(compiled, 1);
  EXPECT_THROW(queue.start_async({unique_input(1)}), Error);  // "b" never set
  EXPECT_TRUE(queue.is_ready());
  queue.start_async({unique_input(1), unique_input(2)});
  EXPECT_NO_THROW(queue.wait_all());
}

TEST_P(AsyncInferQueueBehavior, DestructorWaitsForWorkInFlight) {
  constexpr int job_count = 9;
  std::atomic<int> calls{0};
  const Tensor in = unique_input(1, {64, 64});
  {
    CompiledModel compiled = compile(slow_model(64, 4), single_stream_properties(device()));
    AsyncInferQueue queue(compiled, 3);
    queue.set_callback([&](InferRequest&, const std::any&, const std::exception_ptr&) { ++calls; });
    for (int i = 0; i < job_count; ++i) queue.start_async({in}, i);
  }
  EXPECT_EQ(calls, job_count);
  // Errors are ignored by the destructor.
  {
    CompiledModel compiled = compile(gather_model());
    AsyncInferQueue queue(compiled, 2);
    for (int i = 0; i < 4; ++i) queue.start_async({gather_indices(100, 0)}, i);
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, AsyncInferQueueBehavior, ::testing::ValuesIn(devices()), device_test_name);

}  // namespace
}  // namespace sluice::behavior
