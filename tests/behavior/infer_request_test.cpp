// The InferRequest contract (include/sluice/infer_request.hpp) on every device: sync and async inference,
// callbacks, errors, busy rules, cancel, many threads, reuse, bound outputs, lifetime with work in flight,
// and the throughput properties.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "behavior_common.hpp"

namespace sluice::behavior {
namespace {

using InferRequestBehavior = DeviceTest;

// --------------------------------------------------------------------------------------------- basics

TEST_P(InferRequestBehavior, InferComputesTheOutput) {
  InferRequest r = compile(affine_model()).create_infer_request();
  const Tensor in = unique_input(7);
  r.set_input_tensor(in);
  r.infer();
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
}

TEST_P(InferRequestBehavior, StartAsyncThenWait) {
  InferRequest r = compile(affine_model()).create_infer_request();
  const Tensor in = unique_input(11);
  r.set_input_tensor(in);
  r.start_async();
  r.wait();
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
  r.wait();  // idle: returns at once, no error
  EXPECT_TRUE(r.wait_for(0ms));
}

TEST_P(InferRequestBehavior, WaitForIsFalseWhileBusyThenTrue) {
  InferRequest r = compile(affine_model()).create_infer_request();
  const Tensor in = unique_input(3);
  r.set_input_tensor(in);
  Gate gate;
  std::atomic<bool> entered{false};
  // The request stays busy for wait/wait_for until its callback returns: hold it there.
  r.set_callback([&](const std::exception_ptr&) {
    entered = true;
    gate.pass();
  });
  r.start_async();
  EXPECT_FALSE(r.wait_for(0ms));
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  EXPECT_FALSE(r.wait_for(0ms));
  EXPECT_FALSE(r.wait_for(1ms));
  gate.open();
  EXPECT_TRUE(r.wait_for(60000ms));
  EXPECT_TRUE(r.wait_for(0ms));
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
  r.set_callback({});
}

TEST_P(InferRequestBehavior, WaitWithNothingStartedReturnsAtOnce) {
  InferRequest r = compile(affine_model()).create_infer_request();
  r.wait();
  EXPECT_TRUE(r.wait_for(0ms));
  // After a synchronous infer() too: nothing is in flight.
  r.set_input_tensor(unique_input(1));
  r.infer();
  r.wait();
  EXPECT_TRUE(r.wait_for(0ms));
}

// ------------------------------------------------------------------------------------------ callbacks

TEST_P(InferRequestBehavior, CallbackRunsOncePerStartWithNullErrorAndSeesTheOutputs) {
  InferRequest r = compile(affine_model()).create_infer_request();
  InferRequest* self = &r;  // not a handle: a callback holding its own request would keep it alive
  std::atomic<int> calls{0}, errors{0};
  Failures failures;
  Tensor in;
  r.set_callback([&](const std::exception_ptr& error) {
    ++calls;
    if (error) ++errors;
    // Inside the callback the request is idle: its tensors are readable.
    failures.check(check_affine(self->get_input_tensor(0), self->get_output_tensor()));
  });
  for (int i = 0; i < 20; ++i) {
    in = unique_input(100 + i);
    r.set_input_tensor(in);
    r.start_async();
    r.wait();
    ASSERT_EQ(calls, i + 1);
    EXPECT_EQ(id_of(r.get_input_tensor(0)), 100 + i);
  }
  // infer() does not call the callback.
  r.infer();
  EXPECT_EQ(calls, 20);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  r.set_callback({});
}

TEST_P(InferRequestBehavior, CallbackStartsTheNextInferenceOnItsOwnRequest) {
  constexpr int chain_length = 40;
  InferRequest r = compile(affine_model()).create_infer_request();
  InferRequest* self = &r;
  std::vector<Tensor> inputs;
  inputs.reserve(chain_length);
  for (int i = 0; i < chain_length; ++i) inputs.push_back(unique_input(1000 + i));
  std::atomic<int> calls{0};
  Failures failures;
  r.set_callback([&](const std::exception_ptr& error) {
    const int step = calls++;
    if (error) return failures.add("step " + std::to_string(step) + ": " + inspect(error).message);
    failures.check(check_affine(inputs[step], self->get_output_tensor()));
    if (step + 1 == chain_length) return;
    try {
      self->set_input_tensor(inputs[step + 1]);
      self->start_async();
    } catch (const std::exception& e) {
      failures.add("starting step " + std::to_string(step + 1) + ": " + e.what());
    }
  });
  r.set_input_tensor(inputs[0]);
  r.start_async();
  // The request never becomes idle between the links: wait() returns after the last one.
  r.wait();
  EXPECT_EQ(calls, chain_length);
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  r.set_callback({});
}

TEST_P(InferRequestBehavior, ManyRequestsCompleteInAnyOrderEachWithItsOwnResult) {
  constexpr int request_count = 16;
  for (const Config& config : throughput_configs(device())) {
    SCOPED_TRACE(config.name);
    CompiledModel compiled = compile(affine_model(), config.properties);
    std::vector<InferRequest> requests(request_count);
    std::vector<Tensor> inputs;
    std::vector<std::atomic<int>> calls(request_count);
    Failures failures;
    for (int i = 0; i < request_count; ++i) {
      requests[i] = compiled.create_infer_request();
      inputs.push_back(unique_input(50 * i + 1));
      requests[i].set_input_tensor(inputs[i]);
      InferRequest* self = &requests[i];
      requests[i].set_callback([&, i, self](const std::exception_ptr& error) {
        ++calls[i];
        if (error) return failures.add("request " + std::to_string(i) + ": " + inspect(error).message);
        failures.check(check_affine(inputs[i], self->get_output_tensor()));
      });
    }
    for (int round = 0; round < 3; ++round) {
      for (auto& r : requests) r.start_async();
      for (auto& r : requests) r.wait();
    }
    for (int i = 0; i < request_count; ++i) {
      EXPECT_EQ(calls[i], 3) << "request " << i;
      EXPECT_EQ(check_affine(inputs[i], requests[i].get_output_tensor()), "") << "request " << i;
      requests[i].set_callback({});
    }
    EXPECT_EQ(failures.count(), 0u) << failures.summary();
  }
}

// ---------------------------------------------------------------------------------------------- errors

TEST_P(InferRequestBehavior, RuntimeFailureReachesTheCallbackAndWait) {
  InferRequest r = compile(gather_model()).create_infer_request();
  std::atomic<int> calls{0};
  std::exception_ptr seen;  // written by the callback, read after wait()
  r.set_callback([&](const std::exception_ptr& error) {
    seen = error;
    ++calls;
  });
  r.set_input_tensor(gather_indices(7, 0));  // 7 is out of range for 5 elements
  r.start_async();
  EXPECT_THROW(r.wait(), Error);
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(seen);
  const Caught caught = inspect(seen);
  EXPECT_TRUE(caught.is_error) << caught.message;
  EXPECT_FALSE(caught.is_cancelled) << caught.message;
  EXPECT_NE(caught.message.find('7'), std::string::npos) << caught.message;
  // Every wait() until the next start rethrows it.
  EXPECT_THROW(r.wait(), Error);
  EXPECT_THROW(r.wait_for(0ms), Error);

  // The request stays usable, asynchronously and synchronously.
  r.set_input_tensor(gather_indices(1, -1));
  r.start_async();
  EXPECT_NO_THROW(r.wait());
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(seen);
  Tensor out = r.get_output_tensor();
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out.data<float>()[0], 11.f);
  EXPECT_EQ(out.data<float>()[1], 14.f);

  r.set_input_tensor(gather_indices(0, 5));
  EXPECT_THROW(r.infer(), Error);
  EXPECT_EQ(calls, 2);  // infer() does not call the callback
  r.set_input_tensor(gather_indices(3, 2));
  r.infer();
  out = r.get_output_tensor();
  EXPECT_EQ(out.data<float>()[0], 13.f);
  EXPECT_EQ(out.data<float>()[1], 12.f);
  r.set_callback({});
}

TEST_P(InferRequestBehavior, MissingInputThrowsAtStartAsync) {
  InferRequest r = compile(two_input_model()).create_infer_request();
  std::atomic<int> calls{0};
  r.set_callback([&](const std::exception_ptr&) { ++calls; });
  r.set_tensor("a", unique_input(4));  // "b" has no tensor
  EXPECT_THROW(r.start_async(), Error);
  EXPECT_THROW(r.infer(), Error);
  r.wait();  // nothing was started
  EXPECT_EQ(calls, 0);
  const Tensor a = unique_input(4), b = unique_input(1);
  r.set_tensor("a", a);
  r.set_tensor("b", b);
  r.start_async();
  r.wait();
  EXPECT_EQ(calls, 1);
  const Tensor out = r.get_output_tensor();
  for (int64_t k = 0; k < out.size(); ++k) {
    EXPECT_EQ(out.data<float>()[k], a.data<float>()[k] - 3.f * b.data<float>()[k]);
  }
  r.set_callback({});
}

// A request queued behind a blocked stream is busy: everything but wait/wait_for/cancel throws.
TEST_P(InferRequestBehavior, BusyRequestRejectsUse) {
  CompiledModel compiled = compile(affine_model(), single_stream_properties(device()));
  StreamBlocker blocker(compiled, unique_input(0));
  ASSERT_TRUE(blocker.entered());
  InferRequest r = compiled.create_infer_request();
  const Tensor in = unique_input(21);
  r.set_input_tensor(in);
  r.start_async();
  EXPECT_THROW(r.start_async(), Error);
  EXPECT_THROW(r.infer(), Error);
  EXPECT_THROW(r.set_input_tensor(unique_input(99)), Error);
  EXPECT_THROW(r.set_output_tensor(0, Tensor(ElementType::f32, affine_shape)), Error);
  EXPECT_THROW(r.get_output_tensor(), Error);
  EXPECT_THROW(r.get_input_tensor(0), Error);
  EXPECT_THROW(r.get_tensor("x"), Error);
  EXPECT_THROW(r.set_callback([](const std::exception_ptr&) {}), Error);
  EXPECT_FALSE(r.wait_for(0ms));
  blocker.release();
  r.wait();
  // The rejected set_input_tensor changed nothing: the output is the one of the original input.
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
}

// infer() from a callback, on another request of the same single-stream model and on the callback's own
// request: the only stream is busy with the callback, so queuing would wait forever; it runs in place.
TEST_P(InferRequestBehavior, SyncInferFromACallbackOnASingleStreamModel) {
  CompiledModel compiled = compile(affine_model(), single_stream_properties(device()));
  InferRequest r = compiled.create_infer_request();
  InferRequest other = compiled.create_infer_request();
  const Tensor in = unique_input(7), other_in = unique_input(8);
  other.set_input_tensor(other_in);
  std::string other_result, own_result;  // written by the callback, read after wait()
  r.set_callback([&](const std::exception_ptr&) {
    other.infer();
    other_result = check_affine(other_in, other.get_output_tensor());
    r.infer();
    own_result = check_affine(in, r.get_output_tensor());
  });
  r.set_input_tensor(in);
  r.start_async();
  ASSERT_TRUE(r.wait_for(60s)) << "infer() from the callback deadlocked";
  EXPECT_EQ(other_result, "");
  EXPECT_EQ(own_result, "");
  r.set_callback({});
}

TEST_P(InferRequestBehavior, WaitWaitsForACallbackThatCalledInferOnItsOwnRequest) {
  // wait() "blocks until the request is idle: its inference and callback have finished". A callback that
  // runs infer() on its own request must still count: here it holds at a gate after infer() returned, and
  // wait_for(0) must say busy until it returns. (The state machine is dev::AsyncRequestBase, shared by
  // every device.)
  CompiledModel compiled = compile(affine_model());
  InferRequest r = compiled.create_infer_request();
  InferRequest* self = &r;
  const Tensor in = unique_input(1);
  r.set_input_tensor(in);
  Gate gate;
  std::atomic<bool> inferred{false}, returned{false}, first{true};
  Failures failures;
  r.set_callback([&](const std::exception_ptr& error) {
    if (error) failures.add(inspect(error).message);
    if (first.exchange(false)) {
      try {
        self->infer();
      } catch (const std::exception& e) {
        failures.add(std::string("infer() in its own callback: ") + e.what());
      }
      inferred = true;
      if (!gate.pass()) failures.add("the gate was never opened");
    }
    returned = true;
  });
  r.start_async();
  ASSERT_TRUE(eventually([&] { return inferred.load(); }));
  bool idle_early = false;
  try {
    idle_early = r.wait_for(0ms);
  } catch (const std::exception& e) {
    failures.add(std::string("wait_for: ") + e.what());
  }
  EXPECT_FALSE(idle_early) << "wait() would return while the request's callback is still running";
  EXPECT_FALSE(returned);
  gate.open();
  ASSERT_TRUE(eventually([&] { return returned.load(); }));
  EXPECT_NO_THROW(r.wait());
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  r.set_callback({});
}

TEST_P(InferRequestBehavior, WaitFromTheOwnCallbackThrows) {
  InferRequest r = compile(affine_model()).create_infer_request();
  InferRequest* self = &r;
  std::atomic<int> threw{0};
  r.set_callback([&](const std::exception_ptr&) {
    try {
      self->wait();
    } catch (const Error&) {
      ++threw;
    }
    try {
      self->wait_for(0ms);
    } catch (const Error&) {
      ++threw;
    }
  });
  r.set_input_tensor(unique_input(5));
  r.start_async();
  r.wait();
  EXPECT_EQ(threw, 2);
  r.set_callback({});
}

TEST_P(InferRequestBehavior, ExceptionFromTheCallbackIsRethrownByWait) {
  CompiledModel compiled = compile(affine_model());
  InferRequest r = compiled.create_infer_request();
  std::atomic<bool> fail{true};
  std::atomic<int> calls{0};
  r.set_callback([&](const std::exception_ptr&) {
    ++calls;
    if (fail) throw std::runtime_error("the callback failed on purpose");
  });
  const Tensor in = unique_input(8);
  r.set_input_tensor(in);
  r.start_async();
  for (int i = 0; i < 2; ++i) {  // rethrown by every wait until the next start
    try {
      r.wait();
      ADD_FAILURE() << "wait() did not rethrow the callback's exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "the callback failed on purpose");
    }
  }
  EXPECT_EQ(calls, 1);
  // The runtime keeps working: this request, and another of the same model.
  fail = false;
  r.start_async();
  EXPECT_NO_THROW(r.wait());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
  InferRequest other = compiled.create_infer_request();
  const Tensor in2 = unique_input(9);
  other.set_input_tensor(in2);
  other.start_async();
  other.wait();
  EXPECT_EQ(check_affine(in2, other.get_output_tensor()), "");
  r.set_callback({});
}

// ---------------------------------------------------------------------------------------------- cancel

TEST_P(InferRequestBehavior, CancelStopsQueuedInferences) {
  constexpr int request_count = 8, cancelled_count = 4;
  const Model model = slow_model(64, 4);
  CompiledModel compiled = compile(model, single_stream_properties(device()));
  const Shape shape = {64, 64};
  StreamBlocker blocker(compiled, unique_input(0, shape));
  ASSERT_TRUE(blocker.entered());

  std::vector<InferRequest> requests(request_count);
  std::vector<Tensor> inputs;
  std::vector<std::exception_ptr> errors(request_count);  // each written by its callback, read after wait()
  std::vector<std::atomic<int>> calls(request_count);
  for (int i = 0; i < request_count; ++i) {
    requests[i] = compiled.create_infer_request();
    inputs.push_back(unique_input(10 * i + 3, shape));
    requests[i].set_input_tensor(inputs[i]);
    requests[i].set_callback([&, i](const std::exception_ptr& error) {
      errors[i] = error;
      ++calls[i];
    });
    requests[i].start_async();
  }
  // The blocker's inference has finished and its callback runs: cancel is a no-op for it.
  blocker.request().cancel();
  // The last ones are still queued behind the blocked stream.
  for (int i = request_count - cancelled_count; i < request_count; ++i) requests[i].cancel();
  blocker.release();
  for (int i = 0; i < request_count; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    if (i < request_count - cancelled_count) {
      EXPECT_NO_THROW(requests[i].wait());
      EXPECT_FALSE(errors[i]) << inspect(errors[i]).message;
      EXPECT_EQ(check_identity(inputs[i], requests[i].get_output_tensor()), "");
    } else {
      EXPECT_THROW(requests[i].wait(), InferCancelled);
      EXPECT_THROW(requests[i].wait(), InferCancelled);
      ASSERT_TRUE(errors[i]);
      EXPECT_TRUE(inspect(errors[i]).is_cancelled) << inspect(errors[i]).message;
    }
    EXPECT_EQ(calls[i], 1);
  }
  // A cancelled request runs normally when started again.
  for (int i = request_count - cancelled_count; i < request_count; ++i) {
    requests[i].start_async();
    EXPECT_NO_THROW(requests[i].wait());
    EXPECT_EQ(calls[i], 2);
    EXPECT_EQ(check_identity(inputs[i], requests[i].get_output_tensor()), "");
  }
  for (auto& r : requests) r.set_callback({});
  EXPECT_NO_THROW(blocker.request().wait());
  EXPECT_EQ(check_identity(unique_input(0, shape), blocker.request().get_output_tensor()), "");
}

TEST_P(InferRequestBehavior, CancelOnAnIdleRequestDoesNothing) {
  InferRequest r = compile(affine_model()).create_infer_request();
  std::atomic<int> calls{0};
  r.set_callback([&](const std::exception_ptr&) { ++calls; });
  r.cancel();  // never started
  EXPECT_TRUE(r.wait_for(0ms));
  const Tensor in = unique_input(6);
  r.set_input_tensor(in);
  r.start_async();
  r.wait();
  r.cancel();  // finished
  EXPECT_NO_THROW(r.wait());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(check_affine(in, r.get_output_tensor()), "");
  r.set_callback({});
}

// -------------------------------------------------------------------------------------------- threads

TEST_P(InferRequestBehavior, ManyApplicationThreadsInferConcurrently) {
  constexpr int thread_count = 8, iterations = 40;
  for (const Config& config : throughput_configs(device())) {
    SCOPED_TRACE(config.name);
    CompiledModel compiled = compile(affine_model(), config.properties);
    Failures failures;
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    threads.reserve(thread_count);
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        try {
          // Two requests per thread, used in turn, each with its own input memory.
          InferRequest requests[2] = {compiled.create_infer_request(), compiled.create_infer_request()};
          for (int i = 0; i < iterations; ++i) {
            InferRequest& r = requests[i % 2];
            const Tensor in = unique_input(t * 10000 + i);
            r.set_input_tensor(in);
            r.infer();
            failures.check(check_affine(in, r.get_output_tensor()));
            ++done;
          }
        } catch (const std::exception& e) {
          failures.add("thread " + std::to_string(t) + ": " + e.what());
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(done, thread_count * iterations);
    EXPECT_EQ(failures.count(), 0u) << failures.summary();
  }
}

// ------------------------------------------------------------------------------------ tensors, reuse

TEST_P(InferRequestBehavior, RequestIsReusedAcrossInputTensors) {
  InferRequest r = compile(affine_model()).create_infer_request();
  const Tensor first = unique_input(30), second = unique_input(31);
  r.set_input_tensor(first);
  r.infer();
  const Tensor out1 = r.get_output_tensor().clone();
  r.set_input_tensor(second);
  r.start_async();
  r.wait();
  EXPECT_EQ(check_affine(first, out1), "");
  EXPECT_EQ(check_affine(second, r.get_output_tensor()), "");
  // The same tensor again with new contents: the memory is used in place, not a copy taken at set time.
  Tensor again = first;
  fill_unique(again, 32);
  r.set_input_tensor(again);
  r.infer();
  EXPECT_EQ(check_affine(unique_input(32), r.get_output_tensor()), "");
  // The tensor get_input_tensor returns, filled in place.
  Tensor bound = r.get_input_tensor(0);
  fill_unique(bound, 33);
  r.start_async();
  r.wait();
  EXPECT_EQ(check_affine(unique_input(33), r.get_output_tensor()), "");
}

TEST_P(InferRequestBehavior, OutputTensorSetByTheUserIsWritten) {
  InferRequest r = compile(affine_model()).create_infer_request();
  Tensor out(ElementType::f32, affine_shape);
  r.set_output_tensor(0, out);
  const Tensor in1 = unique_input(40);
  r.set_input_tensor(in1);
  r.infer();
  EXPECT_EQ(check_affine(in1, out), "");
  const Tensor in2 = unique_input(41);
  r.set_input_tensor(in2);
  r.start_async();
  r.wait();
  EXPECT_EQ(check_affine(in2, out), "");
  EXPECT_EQ(r.get_output_tensor().data(), out.data());
  // Caller memory works the same way.
  std::vector<float> memory(8, -1.f);
  Tensor wrapped(ElementType::f32, affine_shape, memory.data(), memory.size() * sizeof(float));
  r.set_tensor(r.outputs()[0].name, wrapped);
  r.start_async();
  r.wait();
  EXPECT_EQ(check_affine(in2, wrapped), "");
}

// ------------------------------------------------------------------------------------------ lifetime

// Dropping every handle right after start_async: the inference finishes and the callback runs exactly
// once (the request is alive inside it: it reads its outputs through a weak reference).
TEST_P(InferRequestBehavior, DroppedHandlesStillGetTheirCallback) {
  constexpr int request_count = 6;
  std::atomic<int> calls{0};
  Failures failures;
  {
    CompiledModel compiled = compile(slow_model(64, 4), single_stream_properties(device()));
    for (int i = 0; i < request_count; ++i) {
      InferRequest r = compiled.create_infer_request();
      const Tensor in = unique_input(i + 1, {64, 64});
      r.set_input_tensor(in);
      std::weak_ptr<dev::IInferRequest> weak = r.impl();
      r.set_callback([&, weak, in](const std::exception_ptr& error) {
        if (error) {
          failures.add(inspect(error).message);
        } else if (auto impl = weak.lock()) {
          failures.check(check_identity(in, InferRequest(impl).get_output_tensor()));
        } else {
          failures.add("the request was gone inside its own callback");
        }
        ++calls;
      });
      r.start_async();
    }
  }  // the compiled model and every request handle are dropped here, inferences still queued or running
  ASSERT_TRUE(eventually([&] { return calls.load() >= request_count; })) << calls << " callbacks";
  EXPECT_EQ(calls, request_count);
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
}

TEST_P(InferRequestBehavior, CompiledModelDestroyedWithQueuedRequests) {
  constexpr int request_count = 10;
  std::atomic<int> calls{0}, ok{0};
  Gate gate;
  std::atomic<bool> entered{false};
  {
    CompiledModel compiled = compile(affine_model(), single_stream_properties(device()));
    // Hold the only stream so the others are queued when the handles go.
    InferRequest blocker = compiled.create_infer_request();
    blocker.set_input_tensor(unique_input(0));
    blocker.set_callback([&](const std::exception_ptr&) {
      entered = true;
      gate.pass();
    });
    blocker.start_async();
    ASSERT_TRUE(eventually([&] { return entered.load(); }));
    for (int i = 0; i < request_count; ++i) {
      InferRequest r = compiled.create_infer_request();
      r.set_input_tensor(unique_input(i + 1));
      r.set_callback([&](const std::exception_ptr& error) {
        if (!error) ++ok;
        ++calls;
      });
      r.start_async();
    }
  }
  gate.open();
  ASSERT_TRUE(eventually([&] { return calls.load() >= request_count; })) << calls << " callbacks";
  EXPECT_EQ(calls, request_count);
  EXPECT_EQ(ok, request_count);
}

// ------------------------------------------------------------------------------------------ properties

TEST_P(InferRequestBehavior, ThroughputPropertiesAreResolved) {
  const Model model = affine_model();
  for (const Config& config : throughput_configs(device())) {
    SCOPED_TRACE(config.name);
    CompiledModel compiled = compile(model, config.properties);
    const int64_t optimal = compiled.get_property(props::optimal_number_of_infer_requests);
    const int64_t streams = compiled.get_property(props::num_streams);
    EXPECT_GE(optimal, 1);
    EXPECT_GE(streams, 1);
    if (config.properties.count("NUM_STREAMS")) {
      EXPECT_EQ(streams, config.properties.at("NUM_STREAMS").as<int64_t>());
    }
  }
  CompiledModel one = compile(model, single_stream_properties(device()));
  EXPECT_EQ(one.get_property(props::num_streams), 1);
  EXPECT_GE(one.get_property(props::optimal_number_of_infer_requests), 1);
}

// With two streams, two inferences run at once: two callbacks that wait for each other can both
// finish only when two streams run them together (no timing involved).
TEST_P(InferRequestBehavior, TwoStreamsRunTwoInferencesAtOnce) {
  CompiledModel compiled = compile(affine_model(), two_stream_properties(device()));
  ASSERT_EQ(compiled.get_property(props::num_streams), 2);
  std::atomic<int> arrived{0}, met{0};
  InferRequest a = compiled.create_infer_request(), b = compiled.create_infer_request();
  for (InferRequest* r : {&a, &b}) {
    r->set_input_tensor(unique_input(1));
    r->set_callback([&](const std::exception_ptr&) {
      ++arrived;
      if (eventually([&] { return arrived.load() == 2; })) ++met;
    });
  }
  a.start_async();
  b.start_async();
  a.wait();
  b.wait();
  EXPECT_EQ(met, 2) << "the two callbacks never ran at the same time";
  a.set_callback({});
  b.set_callback({});
}

// A diagnostic, not an assertion: how much two slow inferences on two streams overlap in wall time.
// Run with --gtest_also_run_disabled_tests.
TEST_P(InferRequestBehavior, DISABLED_TwoStreamsOverlapInTime) {
  CompiledModel compiled = compile(slow_model(256, 8), two_stream_properties(device()));
  InferRequest a = compiled.create_infer_request(), b = compiled.create_infer_request();
  const Tensor in = unique_input(1, {256, 256});
  a.set_input_tensor(in);
  b.set_input_tensor(in);
  a.infer();  // warm up
  b.infer();
  const auto t0 = std::chrono::steady_clock::now();
  a.infer();
  const auto t1 = std::chrono::steady_clock::now();
  a.start_async();
  b.start_async();
  a.wait();
  b.wait();
  const auto t2 = std::chrono::steady_clock::now();
  const double one = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double two = std::chrono::duration<double, std::milli>(t2 - t1).count();
  std::printf(
      "[ diag ] %s: one inference %.2f ms, two on two streams %.2f ms (ratio %.2f; 1.0 = full overlap)\n",
      device().c_str(), one, two, two / one);
}

INSTANTIATE_TEST_SUITE_P(Devices, InferRequestBehavior, ::testing::ValuesIn(devices()), device_test_name);

}  // namespace
}  // namespace sluice::behavior
