// The device-author async core on a fake device request: StreamsExecutor (queue order, cancel, every
// stream used, destruction from its own thread) and AsyncInferRequest (busy state, callbacks, errors,
// cancel, lifetime). The rest of the behaviour suite checks the same contract through real devices.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "behavior_common.hpp"
#include "sluice/dev/async_infer_request.hpp"
#include "sluice/dev/streams_executor.hpp"
#include "sluice/infer_request.hpp"

namespace sluice::dev {
namespace {

using behavior::eventually;
using behavior::Gate;
using namespace std::chrono_literals;

struct RecordingTask : StreamTask {
  std::function<void(int)> fn;
  explicit RecordingTask(std::function<void(int)> f) : fn(std::move(f)) {}
  void run_on_stream(int stream) noexcept override { fn(stream); }
};

TEST(StreamsExecutor, RunsTasksInOrderOnEveryStreamAndKnowsItsThreads) {
  std::atomic<int> started{0};
  StreamsExecutor executor(3, [&](int) { ++started; });
  EXPECT_EQ(executor.streams(), 3);
  EXPECT_EQ(executor.current_stream(), -1);
  ASSERT_TRUE(eventually([&] { return started == 3; }));

  // Three tasks that wait for each other can only finish if three streams run them at once.
  std::mutex mutex;
  std::set<int> streams_seen;
  std::atomic<int> arrived{0};
  std::vector<std::unique_ptr<RecordingTask>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(std::make_unique<RecordingTask>([&](int stream) {
      EXPECT_EQ(executor.current_stream(), stream);
      ++arrived;
      while (arrived < 3) std::this_thread::yield();
      std::lock_guard lock(mutex);
      streams_seen.insert(stream);
    }));
  }
  for (auto& t : tasks) executor.submit(*t);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return streams_seen.size() == 3;
  }));
  EXPECT_EQ(streams_seen, (std::set<int>{0, 1, 2}));
}

TEST(StreamsExecutor, OneStreamRunsFifoAndCancelRemovesOnlyQueuedTasks) {
  StreamsExecutor executor(1);
  Gate gate;
  std::vector<int> order;
  std::mutex mutex;
  RecordingTask blocker([&](int) { gate.pass(); });
  std::vector<std::unique_ptr<RecordingTask>> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(std::make_unique<RecordingTask>([&, i](int) {
      std::lock_guard lock(mutex);
      order.push_back(i);
    }));
  }
  executor.submit(blocker);
  for (auto& t : tasks) executor.submit(*t);
  EXPECT_TRUE(executor.cancel(*tasks[2]));
  EXPECT_TRUE(executor.cancel(*tasks[4]));   // the tail
  EXPECT_FALSE(executor.cancel(*tasks[4]));  // no longer queued
  RecordingTask never([](int) {});
  EXPECT_FALSE(executor.cancel(never));
  executor.submit(*tasks[4]);  // queued again after the tail was removed
  gate.open();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return order.size() == 4;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 3, 4}));
}

TEST(StreamsExecutor, RunAndWaitRunsOnAStreamAndRethrows) {
  StreamsExecutor executor(2);
  int ran_on = -1;
  executor.run_and_wait([&](int stream) {
    EXPECT_EQ(executor.current_stream(), stream);
    ran_on = stream;
  });
  EXPECT_GE(ran_on, 0);
  EXPECT_THROW(executor.run_and_wait([](int) { throw Error("planning failed"); }), Error);
  // From a stream's own thread it would wait for itself when the other streams are busy: refused.
  std::exception_ptr nested;
  executor.run_and_wait([&](int) {
    try {
      executor.run_and_wait([](int) {});
    } catch (...) {
      nested = std::current_exception();
    }
  });
  EXPECT_THROW(std::rethrow_exception(nested), Error);
}

TEST(StreamsExecutor, DestructorDrainsTheQueue) {
  std::atomic<int> ran{0};
  std::vector<std::unique_ptr<RecordingTask>> tasks;
  for (int i = 0; i < 50; ++i) tasks.push_back(std::make_unique<RecordingTask>([&](int) { ++ran; }));
  {
    StreamsExecutor executor(2);
    for (auto& t : tasks) executor.submit(*t);
  }
  EXPECT_EQ(ran, 50);
}

TEST(StreamsExecutor, CanBeDestroyedByItsOwnTask) {
  auto executor = std::make_shared<StreamsExecutor>(2);
  std::atomic<bool> done{false};
  struct SelfDestruct : StreamTask {
    std::shared_ptr<StreamsExecutor> owner;
    std::atomic<bool>* done;
    void run_on_stream(int) noexcept override {
      owner.reset();  // the last reference: the destructor runs on this stream's thread
      *done = true;
    }
  } task;
  task.owner = executor;
  task.done = &done;
  executor->submit(task);
  executor.reset();  // the task holds the last reference now (or already ran)
  ASSERT_TRUE(eventually([&] { return done.load(); }));
}

// A device request computing y = x + 1 on one f32, optionally held at a gate, failing for negative x.
class FakeRequest : public InferRequestBase {
 public:
  FakeRequest()
      : InferRequestBase({{"x", ElementType::f32, PartialShape(Shape{1})}},
                         {{"y", ElementType::f32, PartialShape(Shape{1})}}) {}
  Gate* gate = nullptr;
  std::atomic<bool> entered{false};  // run() began
  std::atomic<int> runs{0};
  std::atomic<int> last_stream{-1};

 protected:
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>&, std::vector<Tensor>& outputs,
           int stream) override {
    entered = true;
    if (gate) gate->pass();
    if (cancel_flag()->load()) throw InferCancelled("fake device: cancelled while running");
    ++runs;
    last_stream = stream;
    const float x = inputs[0].data<float>()[0];
    SLUICE_CHECK(x >= 0, "fake device: negative input ", x);
    outputs[0] = Tensor::from<float>({1}, {x + 1});
  }
};

struct AsyncFixture : ::testing::Test {
  std::shared_ptr<StreamsExecutor> executor = std::make_shared<StreamsExecutor>(2);
  std::shared_ptr<FakeRequest> fake = std::make_shared<FakeRequest>();
  InferRequest request{std::make_shared<AsyncInferRequest>(fake, executor)};

  void set_x(float x) { request.set_input_tensor(Tensor::from<float>({1}, {x})); }
  float y() { return request.get_output_tensor().data<float>()[0]; }
};

TEST_F(AsyncFixture, InferRunsOnAStreamAndWaitWithNothingStartedReturns) {
  request.wait();
  EXPECT_TRUE(request.wait_for(0ms));
  set_x(2);
  request.infer();
  EXPECT_EQ(y(), 3);
  EXPECT_GE(fake->last_stream.load(), 0);
  set_x(5);
  request.start_async();
  request.wait();
  EXPECT_EQ(y(), 6);
}

TEST_F(AsyncFixture, BusyRequestRejectsUseUntilIdle) {
  Gate gate;
  fake->gate = &gate;
  set_x(1);
  request.start_async();
  EXPECT_FALSE(request.wait_for(0ms));
  EXPECT_THROW(request.start_async(), Error);
  EXPECT_THROW(request.infer(), Error);
  EXPECT_THROW(set_x(5), Error);
  EXPECT_THROW(request.get_output_tensor(), Error);
  EXPECT_THROW(request.set_callback({}), Error);
  gate.open();
  request.wait();
  EXPECT_EQ(y(), 2);
}

TEST_F(AsyncFixture, CallbackSeesResultAndCanChainOnItsOwnRequest) {
  std::atomic<int> calls{0};
  std::vector<float> seen;  // written only by the callback, which runs one at a time for one request
  request.set_callback([&](std::exception_ptr error) {
    EXPECT_FALSE(error);
    seen.push_back(y());
    if (++calls < 10) {
      set_x(static_cast<float>(calls.load()));
      request.start_async();
    }
  });
  set_x(0);
  request.start_async();
  ASSERT_TRUE(eventually([&] { return calls == 10; }));
  request.wait();
  ASSERT_EQ(seen.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], static_cast<float>(i + 1));
  request.set_callback({});  // the callback captures the request by reference only; clearing is tidy
}

TEST_F(AsyncFixture, ErrorsReachCallbackAndWaitAndTheRequestStaysUsable) {
  std::exception_ptr got;
  std::atomic<int> calls{0};
  request.set_callback([&](std::exception_ptr error) {
    got = error;
    ++calls;
  });
  set_x(-1);
  request.start_async();
  EXPECT_THROW(request.wait(), Error);
  EXPECT_THROW(request.wait(), Error);  // every wait until the next start
  ASSERT_EQ(calls, 1);
  ASSERT_TRUE(got);
  EXPECT_THROW(std::rethrow_exception(got), Error);
  set_x(4);
  request.start_async();
  request.wait();
  EXPECT_EQ(y(), 5);
  EXPECT_FALSE(got);

  // infer() reports errors by throwing and does not call the callback.
  set_x(-2);
  EXPECT_THROW(request.infer(), Error);
  EXPECT_EQ(calls, 2);
}

TEST_F(AsyncFixture, CallbackExceptionsAndWaitInsideTheCallback) {
  std::atomic<bool> wait_threw{false};
  request.set_callback([&](std::exception_ptr) {
    try {
      request.wait();
    } catch (const Error&) {
      wait_threw = true;
    }
    throw std::runtime_error("callback failed");
  });
  set_x(1);
  request.start_async();
  EXPECT_THROW(request.wait(), std::runtime_error);
  EXPECT_TRUE(wait_threw);
  EXPECT_EQ(y(), 2);
}

TEST_F(AsyncFixture, MissingInputThrowsAtStart) {
  EXPECT_THROW(request.start_async(), Error);
  request.wait();  // nothing was started
}

TEST(AsyncInferRequest, CancelEndsOnlyQueuedInferences) {
  auto executor = std::make_shared<StreamsExecutor>(1);
  Gate gate;
  auto blocked = std::make_shared<FakeRequest>();
  blocked->gate = &gate;
  InferRequest first(std::make_shared<AsyncInferRequest>(blocked, executor));
  auto fake = std::make_shared<FakeRequest>();
  InferRequest second(std::make_shared<AsyncInferRequest>(fake, executor));
  first.set_input_tensor(Tensor::from<float>({1}, {1}));
  second.set_input_tensor(Tensor::from<float>({1}, {1}));
  std::exception_ptr got;
  second.set_callback([&](std::exception_ptr e) { got = e; });
  first.start_async();
  ASSERT_TRUE(eventually([&] { return blocked->entered.load(); }));
  second.start_async();  // queued behind the blocked one on the only stream
  second.cancel();
  EXPECT_THROW(second.wait(), InferCancelled);
  ASSERT_TRUE(got);
  EXPECT_THROW(std::rethrow_exception(got), InferCancelled);
  EXPECT_EQ(fake->runs, 0);
  gate.open();
  first.wait();
  EXPECT_EQ(first.get_output_tensor().data<float>()[0], 2);
  first.cancel();   // idle: no effect
  second.cancel();  // idle: no effect
  second.start_async();
  second.wait();
  EXPECT_EQ(fake->runs, 1);
}

TEST(AsyncInferRequest, CancelReachesARunningInference) {
  auto executor = std::make_shared<StreamsExecutor>(1);
  Gate gate;
  auto fake = std::make_shared<FakeRequest>();
  fake->gate = &gate;
  InferRequest request(std::make_shared<AsyncInferRequest>(fake, executor));
  request.set_input_tensor(Tensor::from<float>({1}, {1}));
  request.start_async();
  ASSERT_TRUE(eventually([&] { return fake->entered.load(); }));
  request.cancel();  // running: the device sees the flag at its next step (here: after the gate)
  gate.open();
  EXPECT_THROW(request.wait(), InferCancelled);
  // The flag is reset by the next start.
  request.start_async();
  request.wait();
  EXPECT_EQ(request.get_output_tensor().data<float>()[0], 2);
}

TEST(AsyncInferRequest, WorkInFlightKeepsRequestAndExecutorAlive) {
  std::atomic<int> calls{0};
  Gate gate;
  auto fake = std::make_shared<FakeRequest>();
  fake->gate = &gate;
  std::weak_ptr<FakeRequest> watch = fake;
  {
    auto executor = std::make_shared<StreamsExecutor>(1);
    InferRequest request(std::make_shared<AsyncInferRequest>(std::move(fake), executor));
    request.set_input_tensor(Tensor::from<float>({1}, {1}));
    request.set_callback([&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++calls;
    });
    request.start_async();
  }  // every handle dropped with the inference in flight
  gate.open();
  ASSERT_TRUE(eventually([&] { return calls == 1 && watch.expired(); }));
}

}  // namespace
}  // namespace sluice::dev
