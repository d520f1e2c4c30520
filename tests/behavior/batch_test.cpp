// The BATCH device's own behaviour (docs/batching.md), on each device it batches: full batches and the
// timeout path give every request its own result, zero-copy slot tensors, tensors the application sets,
// batching along a LAYOUT's 'N', models that cannot be batched, errors and cancel inside a batch, the
// properties and counters, and many requests from many threads.
//
// Determinism: no assertion depends on timing. A test that needs a batch to fill uses a timeout of 10
// minutes, so that a request missing from the batch hangs into a bounded (60 s) wait and fails; a test of
// the timeout path uses 1 ms with fewer requests than the batch, which can only run by timing out.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "behavior_common.hpp"

namespace sluice::behavior {
namespace {

constexpr int64_t batch_size = 4;
// Long enough that a batch only ever runs because it is full (a test waits at most 60 s).
constexpr int64_t huge_timeout_ms = 600000;

AnyMap with_timeout(int64_t ms, AnyMap properties = {}) {
  properties["AUTO_BATCH_TIMEOUT"] = ms;
  return properties;
}

int64_t full_batches(const CompiledModel& compiled) {
  return compiled.get_property(props::auto_batch_full_batches);
}
int64_t timed_out(const CompiledModel& compiled) {
  return compiled.get_property(props::auto_batch_timed_out);
}

// How a started request ended, waiting for it at most 60 s (a hang is a failure, not a stuck test).
struct Outcome {
  bool finished = false;
  bool error = false;      // wait threw
  bool is_error = false;   // ... a sluice::Error
  bool cancelled = false;  // ... a sluice::InferCancelled
  std::string message;
};
Outcome wait_bounded(InferRequest& request) {
  Outcome o;
  try {
    o.finished = request.wait_for(60000ms);
    if (!o.finished) o.message = "the request was still busy after 60 s";
  } catch (...) {
    const Caught c = inspect(std::current_exception());
    o.finished = o.error = true;
    o.is_error = c.is_error;
    o.cancelled = c.is_cancelled;
    o.message = c.message;
  }
  return o;
}
// "" when the request ended without error within 60 s; else what happened.
std::string succeeded(InferRequest& request) {
  const Outcome o = wait_bounded(request);
  if (!o.finished) return o.message;
  return o.error ? "the inference failed: " + o.message : std::string();
}

// The message of the sluice::Error that `f` throws; "" (and a test failure) when it throws none.
template <class F> std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a sluice::Error, got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected a sluice::Error, nothing was thrown";
  return {};
}

// A test assertion that `message` holds every one of `pieces`.
::testing::AssertionResult holds(const std::string& message, const std::vector<std::string>& pieces) {
  for (const std::string& piece : pieces) {
    if (message.find(piece) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "the message \"" << message << "\" does not say \"" << piece << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------------------- a model batched on dim 1

// x [3, 1, 4], y = MatMul(x, W) + B with W [4, 4] and B [3, 1, 4]: every output element depends on a whole
// row of its own sample and on its position, so a request given another's rows, or rows out of order,
// shows. The batch is dimension 1 (LAYOUT "?N?"). Exact in f32 for unique_input's values.
const Shape dim1_shape = {3, 1, 4};
float dim1_weight(int64_t k, int64_t j) { return static_cast<float>((k * 4 + j) % 5) - 2.f; }
float dim1_bias(int64_t i, int64_t j) { return static_cast<float>(10 * i + j); }

// The constants of dim1_model's MatMul and Add.
struct Dim1Constants {
  Tensor w{ElementType::f32, {4, 4}};
  Tensor bias{ElementType::f32, dim1_shape};
  Dim1Constants() {
    for (int64_t k = 0; k < 4; ++k) {
      for (int64_t j = 0; j < 4; ++j) w.data<float>()[k * 4 + j] = dim1_weight(k, j);
    }
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 4; ++j) bias.data<float>()[i * 4 + j] = dim1_bias(i, j);
    }
  }
};

Model dim1_model() {
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape(dim1_shape));
  const Dim1Constants c;
  const Tensor &w = c.w, &bias = c.bias;
  graph::Value* y = b.node("Add", {b.node("MatMul", {x, b.constant(w)}), b.constant(bias)});
  return b.finish({y});
}

std::string check_dim1(const Tensor& in, const Tensor& out) {
  if (out.type() != ElementType::f32 || out.shape() != dim1_shape) {
    return "output has type " + std::string(to_string(out.type())) + " and shape " + to_string(out.shape()) +
           "; expected f32 " + to_string(dim1_shape);
  }
  const float* x = in.data<float>();
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 4; ++j) {
      float expected = dim1_bias(i, j);
      for (int64_t k = 0; k < 4; ++k) expected += x[i * 4 + k] * dim1_weight(k, j);
      const float got = out.data<float>()[i * 4 + j];
      if (got != expected) {
        return "y[" + std::to_string(i) + ",0," + std::to_string(j) + "] is " + std::to_string(got) +
               "; expected " + std::to_string(expected) + " (input id " + std::to_string(id_of(in)) + ")";
      }
    }
  }
  return {};
}

// ------------------------------------------------------------------------------------------- the fixture

// Parameterized over the device BATCH batches on ("CPU", "REF"). The core's BATCH defaults are left as
// they are: every test gives AUTO_BATCH_TIMEOUT to its compile.
class BatchBehavior : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& inner() const { return GetParam(); }
  std::string batch_device(int64_t n = batch_size) const {
    return "BATCH:" + inner() + "(" + std::to_string(n) + ")";
  }
  CompiledModel compile(const Model& model, const AnyMap& properties) {
    return core_.compile_model(model, batch_device(), properties);
  }
  // `n` requests of a fresh compiled model: request k gets slot k of the first batch.
  static std::vector<InferRequest> make_requests(const CompiledModel& compiled, size_t n) {
    std::vector<InferRequest> requests;
    for (size_t k = 0; k < n; ++k) requests.push_back(compiled.create_infer_request());
    return requests;
  }
  Core core_;
};

// ------------------------------------------------------------------------------------------ full batches

TEST_P(BatchBehavior, FourRequestsStartedTogetherRunAsOneFullBatch) {
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<Tensor> inputs;
    for (int k = 0; k < batch_size; ++k) {
      inputs.push_back(unique_input(round * 10 + k));
      requests[k].set_input_tensor(inputs.back());
    }
    for (auto& r : requests) r.start_async();
    for (int k = 0; k < batch_size; ++k) {
      ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
      EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
    }
    EXPECT_EQ(full_batches(compiled), round + 1);
    EXPECT_EQ(timed_out(compiled), 0);
  }
}

TEST_P(BatchBehavior, RequestsRestartedFromTheirCallbacksFillTheNextBatch) {
  constexpr int rounds = 6;
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  // inputs[k][round]: fixed before anything starts, read by the callbacks.
  std::vector<std::vector<Tensor>> inputs(batch_size);
  for (int k = 0; k < batch_size; ++k) {
    for (int round = 0; round < rounds; ++round) inputs[k].push_back(unique_input(100 * round + k));
  }
  std::vector<std::atomic<int>> calls(batch_size);
  Failures failures;
  for (int k = 0; k < batch_size; ++k) {
    InferRequest* self = &requests[k];  // not a handle: that would keep the request alive
    requests[k].set_callback([&, self, k](const std::exception_ptr& error) {
      const int round = calls[k]++;
      const std::string who = "request " + std::to_string(k) + " round " + std::to_string(round);
      if (error) return failures.add(who + ": " + inspect(error).message);
      if (std::string check = check_affine(inputs[k][round], self->get_output_tensor()); !check.empty()) {
        failures.add(check.insert(0, who + ": "));
      }
      if (round + 1 == rounds) return;
      try {
        self->set_input_tensor(inputs[k][round + 1]);
        self->start_async();
      } catch (const std::exception& e) {
        failures.add(who + ": restarting failed: " + e.what());
      }
    });
    requests[k].set_input_tensor(inputs[k][0]);
  }
  for (auto& r : requests) r.start_async();
  // Every round is a full batch: one request missing from a round would hang the others (huge timeout).
  ASSERT_TRUE(eventually([&] {
    int done = 0;
    for (auto& c : calls) done += c.load();
    return done == rounds * batch_size;
  })) << "callbacks so far: "
      << calls[0] << " " << calls[1] << " " << calls[2] << " " << calls[3] << failures.summary();
  for (auto& r : requests) {
    EXPECT_EQ(succeeded(r), "");
    r.set_callback({});
  }
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  EXPECT_EQ(full_batches(compiled), rounds);
  EXPECT_EQ(timed_out(compiled), 0);
}

// --------------------------------------------------------------------------------------- the timeout path

TEST_P(BatchBehavior, ARequestAloneRunsAfterTheTimeoutAndIsCounted) {
  CompiledModel compiled = compile(affine_model(), with_timeout(1));
  EXPECT_EQ(compiled.get_property(props::auto_batch_timeout), 1);
  std::vector<InferRequest> requests = make_requests(compiled, 2);
  for (int round = 0; round < 3; ++round) {
    const Tensor in = unique_input(round + 1);
    requests[0].set_input_tensor(in);
    requests[0].start_async();
    ASSERT_EQ(succeeded(requests[0]), "");
    EXPECT_EQ(check_affine(in, requests[0].get_output_tensor()), "");
    EXPECT_EQ(timed_out(compiled), round + 1);
  }
  // infer() takes the same path.
  const Tensor in = unique_input(50);
  requests[0].set_input_tensor(in);
  requests[0].infer();
  EXPECT_EQ(check_affine(in, requests[0].get_output_tensor()), "");
  EXPECT_EQ(timed_out(compiled), 4);
  // Two of four: both wait out the timeout, each runs alone with its own input.
  const Tensor a = unique_input(60), b = unique_input(61);
  requests[0].set_input_tensor(a);
  requests[1].set_input_tensor(b);
  requests[0].start_async();
  requests[1].start_async();
  ASSERT_EQ(succeeded(requests[0]), "");
  ASSERT_EQ(succeeded(requests[1]), "");
  EXPECT_EQ(check_affine(a, requests[0].get_output_tensor()), "");
  EXPECT_EQ(check_affine(b, requests[1].get_output_tensor()), "");
  EXPECT_EQ(timed_out(compiled), 6);
  EXPECT_EQ(full_batches(compiled), 0);
}

TEST_P(BatchBehavior, TimeoutSetOnTheCompiledModelTakesEffect) {
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  EXPECT_EQ(compiled.get_property(props::auto_batch_timeout), huge_timeout_ms);
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);

  // Down to 1 ms: a lone request now runs (with the 10-minute timeout it would still be waiting).
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
  EXPECT_EQ(compiled.get_property(props::auto_batch_timeout), 1);
  Tensor in = unique_input(1);
  requests[0].set_input_tensor(in);
  requests[0].start_async();
  ASSERT_EQ(succeeded(requests[0]), "");
  EXPECT_EQ(check_affine(in, requests[0].get_output_tensor()), "");
  EXPECT_EQ(timed_out(compiled), 1);

  // As a string, back to 10 minutes: a lone request waits for its batch; three more fill it.
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", std::to_string(huge_timeout_ms)}});
  EXPECT_EQ(compiled.get_property(props::auto_batch_timeout), huge_timeout_ms);
  std::vector<Tensor> inputs;
  for (int k = 0; k < batch_size; ++k) {
    inputs.push_back(unique_input(10 + k));
    requests[k].set_input_tensor(inputs.back());
  }
  requests[0].start_async();
  EXPECT_FALSE(requests[0].wait_for(20ms)) << "a lone request ran although the timeout is 10 minutes";
  for (int k = 1; k < batch_size; ++k) requests[k].start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
  }
  EXPECT_EQ(full_batches(compiled), 1);
  EXPECT_EQ(timed_out(compiled), 1);

  // 0: a request never waits.
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{0}}});
  EXPECT_EQ(compiled.get_property(props::auto_batch_timeout), 0);
  in = unique_input(30);
  requests[2].set_input_tensor(in);
  requests[2].start_async();
  ASSERT_EQ(succeeded(requests[2]), "");
  EXPECT_EQ(check_affine(in, requests[2].get_output_tensor()), "");
  EXPECT_EQ(full_batches(compiled), 1);
}

TEST_P(BatchBehavior, BadTimeoutValuesAreErrorsNamingTheProperty) {
  CompiledModel compiled = compile(affine_model(), with_timeout(7));
  const std::vector<Any> bad = {Any(int64_t{-1}), Any("-5"), Any("soon"), Any(1.5), Any("2.5"), Any(true)};
  for (const Any& value : bad) {
    SCOPED_TRACE("AUTO_BATCH_TIMEOUT=" + value.to_string());
    const AnyMap properties = {{"AUTO_BATCH_TIMEOUT", value}};
    EXPECT_TRUE(holds(error_of([&] { compiled.set_property(properties); }), {"AUTO_BATCH_TIMEOUT"}));
    EXPECT_EQ(compiled.get_property(props::auto_batch_timeout), 7) << "a refused value changed the timeout";
    EXPECT_TRUE(holds(error_of([&] { compile(affine_model(), properties); }), {"AUTO_BATCH_TIMEOUT"}));
    EXPECT_TRUE(holds(error_of([&] { core_.set_property("BATCH", properties); }), {"AUTO_BATCH_TIMEOUT"}));
  }
  // The counters and the batch are read-only.
  for (const char* name : {"AUTO_BATCH_FULL_BATCHES", "AUTO_BATCH_TIMED_OUT", "OPTIMAL_BATCH_SIZE"}) {
    EXPECT_TRUE(holds(error_of([&] { compiled.set_property({{name, int64_t{3}}}); }), {name}));
  }
  EXPECT_EQ(compiled.get_property(props::optimal_batch_size), batch_size);
  EXPECT_EQ(full_batches(compiled), 0);
}

// --------------------------------------------------------------------------------------------- zero copy

TEST_P(BatchBehavior, SlotTensorsAreConsecutivePartsOfTheBatchAndFillInPlace) {
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  std::vector<Tensor> ins, outs;
  for (auto& r : requests) {
    ins.push_back(r.get_input_tensor(0));
    outs.push_back(r.get_output_tensor(0));
  }
  const auto* in0 = static_cast<const char*>(ins[0].data());
  const auto* out0 = static_cast<const char*>(outs[0].data());
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(ins[k].shape(), affine_shape);
    ASSERT_EQ(outs[k].shape(), affine_shape);
    EXPECT_EQ(static_cast<const char*>(ins[k].data()) - in0, static_cast<ptrdiff_t>(k * ins[0].byte_size()))
        << "input of request " << k << " is not part " << k << " of one batched buffer";
    EXPECT_EQ(static_cast<const char*>(outs[k].data()) - out0,
              static_cast<ptrdiff_t>(k * outs[0].byte_size()))
        << "output of request " << k << " is not part " << k << " of one batched buffer";
  }
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<Tensor> expected;
    for (int k = 0; k < batch_size; ++k) {
      fill_unique(ins[k], 40 * round + k);
      expected.push_back(ins[k].clone());
    }
    for (auto& r : requests) r.start_async();
    for (int k = 0; k < batch_size; ++k) {
      ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
      const Tensor out = requests[k].get_output_tensor();
      EXPECT_EQ(out.data(), outs[k].data()) << "request " << k << ": the output moved";
      EXPECT_EQ(requests[k].get_input_tensor(0).data(), ins[k].data()) << "request " << k;
      EXPECT_EQ(check_affine(expected[k], out), "") << "request " << k;
    }
  }
  EXPECT_EQ(full_batches(compiled), 3);

  // The timeout path reads and writes the same slot tensors.
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
  fill_unique(ins[2], 77);
  const Tensor expected = ins[2].clone();
  requests[2].start_async();
  ASSERT_EQ(succeeded(requests[2]), "");
  EXPECT_EQ(requests[2].get_output_tensor().data(), outs[2].data());
  EXPECT_EQ(check_affine(expected, outs[2]), "");
  EXPECT_EQ(timed_out(compiled), 1);
}

// ------------------------------------------------------------------------------------------ user tensors

TEST_P(BatchBehavior, UserTensorsGetTheResultsAndInputsStayUnchanged) {
  // Half the requests of the batch use the application's own buffers, half the slots' tensors.
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  std::vector<std::vector<float>> in_buffers(batch_size), out_buffers(batch_size);
  std::vector<Tensor> user_in(batch_size), user_out(batch_size), expected(batch_size);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    for (int k = 0; k < batch_size; ++k) {
      if (k % 2 == 0) {
        const Tensor values = unique_input(200 + 10 * round + k);
        in_buffers[k].assign(values.values<float>().begin(), values.values<float>().end());
        out_buffers[k].assign(values.size(), -123.f);
        user_in[k] = Tensor(ElementType::f32, affine_shape, in_buffers[k].data());
        user_out[k] = Tensor(ElementType::f32, affine_shape, out_buffers[k].data());
        requests[k].set_input_tensor(user_in[k]);
        requests[k].set_output_tensor(0, user_out[k]);
        expected[k] = values;
      } else {
        Tensor in = requests[k].get_input_tensor(0);
        fill_unique(in, 200 + 10 * round + k);
        expected[k] = in.clone();
      }
    }
    for (auto& r : requests) r.start_async();
    for (int k = 0; k < batch_size; ++k) {
      ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
      EXPECT_EQ(check_affine(expected[k], requests[k].get_output_tensor()), "") << "request " << k;
      if (k % 2 == 0) {
        EXPECT_EQ(requests[k].get_output_tensor().data(), out_buffers[k].data()) << "request " << k;
        EXPECT_EQ(requests[k].get_input_tensor(0).data(), in_buffers[k].data()) << "request " << k;
        EXPECT_EQ(check_affine(expected[k], user_out[k]), "") << "request " << k << ": the user's output";
        EXPECT_EQ(check_identity(expected[k], user_in[k]), "")
            << "request " << k << ": the user's input changed";
      }
    }
  }
  EXPECT_EQ(full_batches(compiled), 2);

  // The timeout path: a lone request with the application's buffers.
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
  const Tensor values = unique_input(300);
  std::vector<float> in_buffer(values.values<float>().begin(), values.values<float>().end());
  std::vector<float> out_buffer(values.size(), -123.f);
  const Tensor in(ElementType::f32, affine_shape, in_buffer.data());
  const Tensor out(ElementType::f32, affine_shape, out_buffer.data());
  requests[3].set_input_tensor(in);
  requests[3].set_output_tensor(0, out);
  requests[3].start_async();
  ASSERT_EQ(succeeded(requests[3]), "");
  EXPECT_EQ(requests[3].get_output_tensor().data(), out_buffer.data());
  EXPECT_EQ(check_affine(values, out), "");
  EXPECT_EQ(check_identity(values, in), "") << "the user's input changed";
  EXPECT_EQ(timed_out(compiled), 1);
}

// ------------------------------------------------------------------------------------------------ LAYOUT

TEST_P(BatchBehavior, LayoutPutsTheBatchOnDimensionOne) {
  const Model model = dim1_model();
  const std::string y = model.outputs()[0].name;
  const std::vector<std::vector<std::string>> layouts = {{"x:?N?", y + ":?N?"}, {"?N?"}};
  for (const auto& layout : layouts) {
    SCOPED_TRACE("LAYOUT " + Any(layout).to_string());
    CompiledModel compiled = compile(model, with_timeout(huge_timeout_ms, {{"LAYOUT", layout}}));
    ASSERT_EQ(compiled.inputs().size(), 1u);
    EXPECT_EQ(compiled.inputs()[0].shape, PartialShape(dim1_shape));
    EXPECT_EQ(compiled.outputs()[0].shape, PartialShape(dim1_shape));

    // Full batches; requests 0 and 1 fill their slot's tensor, 2 and 3 set their own.
    std::vector<InferRequest> requests = make_requests(compiled, batch_size);
    for (int round = 0; round < 2; ++round) {
      std::vector<Tensor> inputs;
      for (int k = 0; k < batch_size; ++k) {
        const int64_t id = 20 * round + k + 1;
        if (k < 2) {
          Tensor in = requests[k].get_input_tensor(0);
          ASSERT_EQ(in.shape(), dim1_shape);
          fill_unique(in, id);
          inputs.push_back(in.clone());
        } else {
          inputs.push_back(unique_input(id, dim1_shape));
          requests[k].set_input_tensor(inputs.back());
        }
      }
      for (auto& r : requests) r.start_async();
      for (int k = 0; k < batch_size; ++k) {
        ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
        EXPECT_EQ(check_dim1(inputs[k], requests[k].get_output_tensor()), "")
            << "round " << round << " request " << k;
      }
    }
    EXPECT_EQ(full_batches(compiled), 2);
    EXPECT_EQ(timed_out(compiled), 0);

    // The timeout path: two of four, each alone.
    compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
    const Tensor a = unique_input(90, dim1_shape), b = unique_input(91, dim1_shape);
    requests[1].set_input_tensor(a);
    requests[3].set_input_tensor(b);
    requests[1].start_async();
    requests[3].start_async();
    ASSERT_EQ(succeeded(requests[1]), "");
    ASSERT_EQ(succeeded(requests[3]), "");
    EXPECT_EQ(check_dim1(a, requests[1].get_output_tensor()), "");
    EXPECT_EQ(check_dim1(b, requests[3].get_output_tensor()), "");
    EXPECT_EQ(timed_out(compiled), 2);
  }
}

TEST_P(BatchBehavior, PortsWithTheBatchOnDifferentDimensions) {
  // Input 0 and output 1 batch on dimension 1, input 1 and output 0 on dimension 0: each port's own axis
  // is used (an axis taken from the wrong port would hand a request another's rows).
  test::Builder b;
  graph::Value* a = b.input("a", PartialShape(dim1_shape));
  graph::Value* x = b.input("b", PartialShape(affine_shape));
  const Dim1Constants c;
  const Tensor &w = c.w, &bias = c.bias;
  graph::Value* ya = b.node("Add", {b.node("MatMul", {a, b.constant(w)}), b.constant(bias)});
  graph::Value* yb =
      b.node("Add", {b.node("Mul", {x, b.constant(Tensor::scalar(2.f))}), b.constant(Tensor::scalar(1.f))});
  const Model model = b.finish({yb, ya});
  const std::vector<std::string> layout = {"a:?N?", model.outputs()[1].name + ":?N?"};
  CompiledModel compiled = compile(model, with_timeout(huge_timeout_ms, {{"LAYOUT", layout}}));
  EXPECT_EQ(compiled.inputs()[0].shape, PartialShape(dim1_shape));
  EXPECT_EQ(compiled.inputs()[1].shape, PartialShape(affine_shape));
  EXPECT_EQ(compiled.outputs()[0].shape, PartialShape(affine_shape));
  EXPECT_EQ(compiled.outputs()[1].shape, PartialShape(dim1_shape));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  std::vector<Tensor> as, bs;
  const auto run = [&](size_t count) {
    as.clear();
    bs.clear();
    for (size_t k = 0; k < count; ++k) {
      as.push_back(unique_input(static_cast<int64_t>(k) + 1, dim1_shape));
      bs.push_back(unique_input(static_cast<int64_t>(k) + 50));
      requests[k].set_input_tensor(0, as.back());
      requests[k].set_input_tensor(1, bs.back());
    }
    for (size_t k = 0; k < count; ++k) requests[k].start_async();
    for (size_t k = 0; k < count; ++k) {
      ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
      EXPECT_EQ(check_affine(bs[k], requests[k].get_output_tensor(0)), "") << "request " << k;
      EXPECT_EQ(check_dim1(as[k], requests[k].get_output_tensor(1)), "") << "request " << k;
    }
  };
  run(batch_size);
  EXPECT_EQ(full_batches(compiled), 1);
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
  run(3);
  EXPECT_EQ(timed_out(compiled), 3);
}

TEST_P(BatchBehavior, ModelsThatCannotBeBatchedAreErrorsAtCompile) {
  {  // An output that does not grow with the batch: ReduceSum over the batch axis mixes the requests.
    test::Builder b;
    graph::Value* x = b.input("x", PartialShape(affine_shape));
    graph::Value* sum =
        b.node("ReduceSum", {x, b.constant(Tensor::from<int64_t>({1}, {0}))}, {{"keepdims", int64_t{0}}});
    const Model model = b.finish({sum});
    const std::string message = error_of([&] { compile(model, {}); });
    EXPECT_TRUE(holds(message, {"'" + model.outputs()[0].name + "'"}));
  }
  // The message of compiling the affine model (or `model`) with these LAYOUT entries.
  const auto layout_error = [&](std::vector<std::string> layout, const Model& model = affine_model()) {
    return error_of([&] { compile(model, {{"LAYOUT", std::move(layout)}}); });
  };
  {  // The batch on dimension 1 for the input only: the output's dimension 0 does not scale.
    const Model model = dim1_model();
    EXPECT_TRUE(holds(layout_error({"x:?N?"}, model), {"'" + model.outputs()[0].name + "'"}));
  }
  {  // A dynamic dimension other than the batch.
    test::Builder b;
    graph::Value* x = b.input("x", PartialShape({Dimension(2), Dimension()}));
    const Model model = b.finish({b.node("Mul", {x, b.constant(Tensor::scalar(2.f))})});
    EXPECT_TRUE(holds(error_of([&] { compile(model, {}); }), {"'x'", "dynamic"}));
  }
  // LAYOUTs without 'N', or naming no port of the model.
  EXPECT_TRUE(holds(layout_error({"x:C?"}), {"C?", "'N'"}));
  EXPECT_TRUE(holds(layout_error({"HW"}), {"'N'"}));
  EXPECT_TRUE(holds(layout_error({"nope:N?"}), {"nope"}));
}

TEST_P(BatchBehavior, BadDeviceStringsAreClearErrors) {
  const Model model = affine_model();
  struct Case {
    std::string device;
    std::string says;  // a piece the message must hold
  };
  const std::vector<Case> cases = {
      {"BATCH", "BATCH:<device>"},
      {"BATCH:", "BATCH:<device>"},
      {"BATCH:" + inner() + "(0)", "at least 1"},
      {"BATCH:" + inner() + "(x)", "'x'"},
      {"BATCH:" + inner() + "(-2)", "'-2'"},
      {"BATCH:" + inner() + "()", "positive integer"},
      {"BATCH:NOPE(2)", "NOPE"},
      {"BATCH:BATCH:" + inner() + "(2)", "BATCH cannot batch BATCH"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.device);
    const std::string message = error_of([&] { core_.compile_model(model, c.device, with_timeout(1)); });
    EXPECT_TRUE(holds(message, {c.says}));
    if (c.device != "BATCH:NOPE(2)") {
      EXPECT_TRUE(holds(message, {"'" + c.device + "'"}));
    }
  }
}

// --------------------------------------------------------------------------------------- runtime errors

TEST_P(BatchBehavior, AnErrorInABatchReachesEveryRequestOfIt) {
  CompiledModel compiled = compile(gather_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  std::vector<std::atomic<int>> calls(batch_size), errors(batch_size);
  for (int k = 0; k < batch_size; ++k) {
    requests[k].set_callback([&, k](const std::exception_ptr& error) {
      ++calls[k];
      if (error && inspect(error).is_error) ++errors[k];
    });
  }
  // Request 2's index 7 is outside the data: the batched Gather fails, and so does every request of it.
  const std::vector<std::pair<int64_t, int64_t>> bad = {{0, 1}, {2, 3}, {7, 0}, {4, -1}};
  for (int k = 0; k < batch_size; ++k)
    requests[k].set_input_tensor(gather_indices(bad[k].first, bad[k].second));
  for (auto& r : requests) r.start_async();
  for (int k = 0; k < batch_size; ++k) {
    const Outcome o = wait_bounded(requests[k]);
    ASSERT_TRUE(o.finished) << "request " << k << ": " << o.message;
    EXPECT_TRUE(o.error && o.is_error && !o.cancelled) << "request " << k << ": " << o.message;
    // Every wait until the next start rethrows it.
    EXPECT_TRUE(wait_bounded(requests[k]).is_error) << "request " << k;
    EXPECT_EQ(calls[k], 1) << "request " << k;
    EXPECT_EQ(errors[k], 1) << "request " << k;
  }

  // The same requests work again.
  const std::vector<std::pair<int64_t, int64_t>> good = {{0, 1}, {2, 3}, {1, 4}, {4, -1}};
  for (int k = 0; k < batch_size; ++k) {
    requests[k].set_input_tensor(gather_indices(good[k].first, good[k].second));
  }
  for (auto& r : requests) r.start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    const Tensor y = requests[k].get_output_tensor();
    ASSERT_EQ(y.shape(), (Shape{2}));
    const auto at = [](int64_t i) { return gather_data[static_cast<size_t>(i < 0 ? i + 5 : i)]; };
    EXPECT_EQ(y.data<float>()[0], at(good[k].first)) << "request " << k;
    EXPECT_EQ(y.data<float>()[1], at(good[k].second)) << "request " << k;
    EXPECT_EQ(calls[k], 2) << "request " << k;
    EXPECT_EQ(errors[k], 1) << "request " << k;
  }
  EXPECT_EQ(full_batches(compiled), 2);
  EXPECT_EQ(timed_out(compiled), 0);

  // On the timeout path each request runs alone: only the bad one fails.
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
  requests[0].set_input_tensor(gather_indices(3, 9));
  requests[1].set_input_tensor(gather_indices(3, 2));
  requests[0].start_async();
  requests[1].start_async();
  const Outcome failed = wait_bounded(requests[0]);
  EXPECT_TRUE(failed.finished && failed.is_error && !failed.cancelled) << failed.message;
  ASSERT_EQ(succeeded(requests[1]), "");
  EXPECT_EQ(requests[1].get_output_tensor().data<float>()[0], 13.f);
  EXPECT_EQ(requests[1].get_output_tensor().data<float>()[1], 12.f);
  EXPECT_EQ(timed_out(compiled), 2);
  for (auto& r : requests) r.set_callback({});
}

// ---------------------------------------------------------------------------------------------- cancel

TEST_P(BatchBehavior, CancelTakesAGatheringRequestBackAtOnce) {
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  std::atomic<int> cancelled_callbacks{0};
  requests[0].set_callback([&](const std::exception_ptr& error) {
    if (error && inspect(error).is_cancelled) ++cancelled_callbacks;
  });
  std::vector<Tensor> inputs;
  for (int k = 0; k < batch_size; ++k) {
    inputs.push_back(unique_input(k + 1));
    requests[k].set_input_tensor(inputs.back());
  }

  // Alone in its batch: taken back by cancel() itself, before it returns.
  requests[0].start_async();
  EXPECT_FALSE(requests[0].wait_for(0ms));
  requests[0].cancel();
  Outcome o = wait_bounded(requests[0]);
  EXPECT_TRUE(o.finished && o.cancelled) << o.message;
  EXPECT_EQ(cancelled_callbacks, 1);
  EXPECT_EQ(full_batches(compiled), 0);
  EXPECT_EQ(timed_out(compiled), 0);

  // With another gathered: only the cancelled one leaves.
  requests[1].start_async();
  requests[0].start_async();
  requests[0].cancel();
  o = wait_bounded(requests[0]);
  EXPECT_TRUE(o.finished && o.cancelled) << o.message;
  EXPECT_EQ(cancelled_callbacks, 2);
  EXPECT_FALSE(requests[1].wait_for(0ms)) << "request 1 ran without a full batch";
  EXPECT_EQ(full_batches(compiled), 0);
  EXPECT_EQ(timed_out(compiled), 0);

  // Restarted with the others: one full batch, every result right.
  requests[0].start_async();
  requests[2].start_async();
  requests[3].start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
  }
  EXPECT_EQ(cancelled_callbacks, 2);
  EXPECT_EQ(full_batches(compiled), 1);
  EXPECT_EQ(timed_out(compiled), 0);
  requests[0].set_callback({});
}

TEST_P(BatchBehavior, CancelOfARequestHandedToTheDeviceDropsOnlyItsResult) {
  // docs/batching.md: a request already in a running batch is not taken out of it (that would cancel the
  // others); it runs to its end and ends with InferCancelled. Request 0's callback holds the batch's
  // completion at a gate, so requests 1..3 are still running when request 2 is cancelled.
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  Gate gate;
  std::atomic<bool> entered{false};
  requests[0].set_callback([&](const std::exception_ptr&) {
    entered = true;
    gate.pass();
  });
  std::vector<Tensor> inputs;
  for (int k = 0; k < batch_size; ++k) {
    inputs.push_back(unique_input(k + 1));
    requests[k].set_input_tensor(inputs.back());
  }
  for (auto& r : requests) r.start_async();
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  requests[2].cancel();
  gate.open();
  for (int k = 0; k < batch_size; ++k) {
    const Outcome o = wait_bounded(requests[k]);
    ASSERT_TRUE(o.finished) << "request " << k << ": " << o.message;
    if (k == 2) {
      EXPECT_TRUE(o.cancelled) << "request 2: " << (o.error ? o.message : "no error");
    } else {
      EXPECT_FALSE(o.error) << "request " << k << ": " << o.message;
      EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
    }
  }
  EXPECT_EQ(full_batches(compiled), 1);
  requests[0].set_callback({});

  // The cancelled request runs normally in the next batch.
  for (auto& r : requests) r.start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
  }
  EXPECT_EQ(full_batches(compiled), 2);
}

// ------------------------------------------------------------------------------------------- callbacks

TEST_P(BatchBehavior, CallbacksOfABatchRunInSlotOrder) {
  // docs/batching.md ("Gathering"): when the batched request finishes, each request's callback is called
  // in slot order. Started in another order here (slot k is request k: a fresh model's requests take the
  // lowest free slots in turn).
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  std::mutex mutex;
  std::vector<int> order;  // guarded by mutex
  for (int k = 0; k < batch_size; ++k) {
    requests[k].set_input_tensor(unique_input(k));
    requests[k].set_callback([&, k](const std::exception_ptr&) {
      std::lock_guard lock(mutex);
      order.push_back(k);
    });
  }
  for (int k : {3, 1, 0, 2}) requests[k].start_async();
  for (auto& r : requests) ASSERT_EQ(succeeded(r), "");
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  for (auto& r : requests) r.set_callback({});
}

TEST_P(BatchBehavior, InferOnTheSameRequestFromItsCallbackRunsAlone) {
  // From a batch's callback and from a lone (timed-out) request's callback: infer() on the request itself
  // runs at once, alone; a 10-minute timeout would hang anything that waited for a batch.
  for (const int64_t first_timeout : {huge_timeout_ms, int64_t{1}}) {
    SCOPED_TRACE("first inference " + std::string(first_timeout == 1 ? "timed out" : "in a full batch"));
    CompiledModel compiled = compile(affine_model(), with_timeout(first_timeout));
    const size_t started = first_timeout == 1 ? 1 : batch_size;
    std::vector<InferRequest> requests = make_requests(compiled, batch_size);
    const Tensor again = unique_input(900);
    Failures failures;
    std::atomic<bool> ran{false}, returned{false};
    InferRequest* self = &requests[0];
    requests[0].set_callback([&](const std::exception_ptr& error) {
      if (error) {
        failures.add(inspect(error).message);
      } else {
        try {
          compiled.set_property({{"AUTO_BATCH_TIMEOUT", huge_timeout_ms}});
          self->set_input_tensor(again);
          self->infer();
          failures.check(check_affine(again, self->get_output_tensor()));
          ran = true;
        } catch (const std::exception& e) {
          failures.add(std::string("infer() in its own callback: ") + e.what());
        }
      }
      returned = true;  // the last thing the callback touches (wait() may return before it: see below)
    });
    std::vector<Tensor> inputs;
    for (size_t k = 0; k < started; ++k) {
      inputs.push_back(unique_input(static_cast<int64_t>(k) + 1));
      requests[k].set_input_tensor(inputs.back());
    }
    for (size_t k = 0; k < started; ++k) requests[k].start_async();
    for (size_t k = 0; k < started; ++k) {
      ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
      if (k > 0) {
        EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
      }
    }
    ASSERT_TRUE(eventually([&] { return returned.load(); }));
    EXPECT_TRUE(ran);
    EXPECT_EQ(failures.count(), 0u) << failures.summary();
    requests[0].set_callback({});
  }
}

// ------------------------------------------------------------------------------------------- lifetime

TEST_P(BatchBehavior, DroppedHandlesWithABatchInFlightStillGetTheirCallbacks) {
  // Every handle (the compiled model's and the requests') goes while a full batch is held at a gate, and
  // while two requests gather for a batch that will not fill. The callbacks hold the tensors, not the
  // requests; the results land in the output tensors the application set.
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto failures = std::make_shared<Failures>();
  Gate gate;
  std::atomic<bool> entered{false};
  int started = 0;
  {
    CompiledModel full = compile(affine_model(), with_timeout(huge_timeout_ms));
    CompiledModel partial = compile(affine_model(), with_timeout(50));
    const auto start = [&](const CompiledModel& compiled, int64_t id, bool hold) {
      InferRequest r = compiled.create_infer_request();
      const Tensor in = unique_input(id);
      const Tensor out(ElementType::f32, affine_shape);
      r.set_input_tensor(in);
      r.set_output_tensor(0, out);
      r.set_callback([calls, failures, in, out, hold, &gate, &entered](const std::exception_ptr& error) {
        if (hold) {
          entered = true;
          gate.pass();
        }
        if (error) {
          failures->add(inspect(error).message);
        } else {
          failures->check(check_affine(in, out));
        }
        ++*calls;
      });
      r.start_async();
      ++started;
      return r;
    };
    std::vector<InferRequest> held;
    held.reserve(batch_size);
    for (int k = 0; k < batch_size; ++k) held.push_back(start(full, k + 1, k == 0));
    ASSERT_TRUE(eventually([&] { return entered.load(); }));
    start(partial, 10, false);
    start(partial, 11, false);
  }  // every handle goes here
  gate.open();
  ASSERT_TRUE(eventually([&] { return calls->load() >= started; })) << calls->load() << " callbacks";
  EXPECT_EQ(calls->load(), started);
  EXPECT_EQ(failures->count(), 0u) << failures->summary();
}

// -------------------------------------------------------------------------------------------- properties

TEST_P(BatchBehavior, PropertiesReportTheBatchAndTheUnderlyingDevice) {
  const Model model = affine_model();
  CompiledModel compiled = compile(model, with_timeout(huge_timeout_ms));
  EXPECT_EQ(compiled.get_property(props::optimal_batch_size), batch_size);
  EXPECT_EQ(full_batches(compiled), 0);
  EXPECT_EQ(timed_out(compiled), 0);
  const auto supported = compiled.get_property(props::supported_properties);
  for (const char* name : {"AUTO_BATCH_TIMEOUT", "OPTIMAL_BATCH_SIZE", "AUTO_BATCH_FULL_BATCHES",
                           "AUTO_BATCH_TIMED_OUT", "NUM_STREAMS", "OPTIMAL_NUMBER_OF_INFER_REQUESTS"}) {
    EXPECT_NE(std::find(supported.begin(), supported.end(), name), supported.end()) << name;
  }
  // Without AUTO_BATCH_TIMEOUT: the default, 1000 ms.
  EXPECT_EQ(core_.compile_model(model, batch_device(), {}).get_property(props::auto_batch_timeout), 1000);

  // OPTIMAL_NUMBER_OF_INFER_REQUESTS: the batch times the underlying device's with the same properties.
  const std::vector<AnyMap> configs = {
      {}, {{"PERFORMANCE_HINT", std::string("THROUGHPUT")}}, {{"NUM_STREAMS", int64_t{2}}}};
  for (const AnyMap& config : configs) {
    SCOPED_TRACE("config of " + std::to_string(config.size()) + " properties" +
                 (config.empty() ? "" : ": " + config.begin()->first));
    AnyMap direct_config = config;
    direct_config["ALLOW_AUTO_BATCHING"] = false;
    const CompiledModel direct = core_.compile_model(model, inner(), direct_config);
    const CompiledModel batched = core_.compile_model(model, batch_device(), with_timeout(1, config));
    EXPECT_EQ(batched.get_property(props::optimal_number_of_infer_requests),
              batch_size * direct.get_property(props::optimal_number_of_infer_requests));
    EXPECT_EQ(batched.get_property(props::num_streams), direct.get_property(props::num_streams));
  }
  // NUM_STREAMS given to BATCH reaches the underlying device.
  const CompiledModel two = core_.compile_model(model, batch_device(), with_timeout(1, {{"NUM_STREAMS", 2}}));
  EXPECT_EQ(two.get_property(props::num_streams), 2);

  // The ports are the model's own: one request's shapes.
  ASSERT_EQ(compiled.inputs().size(), 1u);
  ASSERT_EQ(compiled.outputs().size(), 1u);
  EXPECT_EQ(compiled.inputs()[0].name, "x");
  EXPECT_EQ(compiled.inputs()[0].type, ElementType::f32);
  EXPECT_EQ(compiled.inputs()[0].shape, PartialShape(affine_shape));
  EXPECT_EQ(compiled.outputs()[0].name, model.outputs()[0].name);
  EXPECT_EQ(compiled.outputs()[0].shape, PartialShape(affine_shape));
  InferRequest r = compiled.create_infer_request();
  EXPECT_EQ(r.inputs()[0].shape, PartialShape(affine_shape));
  EXPECT_EQ(r.outputs()[0].shape, PartialShape(affine_shape));
  EXPECT_EQ(r.get_input_tensor(0).shape(), affine_shape);
  EXPECT_EQ(r.get_output_tensor(0).shape(), affine_shape);
  // A tensor of the batched shape is refused: the application sees batch 1.
  EXPECT_THROW(r.set_input_tensor(Tensor(ElementType::f32, {8, 4})), Error);

  // A dynamic batch dimension: one request is batch 1.
  {
    test::Builder b;
    graph::Value* x = b.input("x", PartialShape({Dimension(), Dimension(4)}));
    const Model dynamic = b.finish({b.node(
        "Add", {b.node("Mul", {x, b.constant(Tensor::scalar(2.f))}), b.constant(Tensor::scalar(1.f))})});
    CompiledModel one = core_.compile_model(dynamic, batch_device(), with_timeout(1));
    EXPECT_EQ(one.inputs()[0].shape, PartialShape(Shape{1, 4}));
    EXPECT_EQ(one.outputs()[0].shape, PartialShape(Shape{1, 4}));
    InferRequest d = one.create_infer_request();
    const Tensor in = unique_input(8, {1, 4});
    d.set_input_tensor(in);
    d.start_async();
    ASSERT_EQ(succeeded(d), "");
    EXPECT_EQ(check_affine(in, d.get_output_tensor()), "");
  }

  // A batch of 1: every request is a full batch at once.
  {
    CompiledModel single = core_.compile_model(model, batch_device(1), with_timeout(huge_timeout_ms));
    EXPECT_EQ(single.get_property(props::optimal_batch_size), 1);
    InferRequest s = single.create_infer_request();
    for (int i = 0; i < 3; ++i) {
      const Tensor in = unique_input(60 + i);
      s.set_input_tensor(in);
      s.start_async();
      ASSERT_EQ(succeeded(s), "");
      EXPECT_EQ(check_affine(in, s.get_output_tensor()), "");
    }
    EXPECT_EQ(full_batches(single), 3);
    EXPECT_EQ(timed_out(single), 0);
  }

  // "BATCH:<device>" without a size: the device's choice, and it runs.
  CompiledModel automatic = core_.compile_model(model, "BATCH:" + inner(), with_timeout(1));
  const int64_t chosen = automatic.get_property(props::optimal_batch_size);
  EXPECT_GE(chosen, 1);
  InferRequest a = automatic.create_infer_request();
  const Tensor in = unique_input(5);
  a.set_input_tensor(in);
  a.start_async();
  ASSERT_EQ(succeeded(a), "");
  EXPECT_EQ(check_affine(in, a.get_output_tensor()), "");
  EXPECT_EQ(full_batches(automatic) * chosen + timed_out(automatic), 1);
}

TEST_P(BatchBehavior, ProfilingReachesEachRequest) {
  CompiledModel compiled =
      compile(affine_model(), with_timeout(huge_timeout_ms, {{"ENABLE_PROFILING", true}}));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size);
  for (int k = 0; k < batch_size; ++k) requests[k].set_input_tensor(unique_input(k));
  for (auto& r : requests) r.start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    EXPECT_FALSE(requests[k].get_profiling_info().empty()) << "request " << k << " (full batch)";
  }
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{1}}});
  requests[1].start_async();
  ASSERT_EQ(succeeded(requests[1]), "");
  EXPECT_FALSE(requests[1].get_profiling_info().empty()) << "timed out";
}

// --------------------------------------------------------------------------------- infer in a callback

TEST_P(BatchBehavior, InferFromACallbackRunsAloneInPlace) {
  // infer() on the batch's own completion thread cannot wait for a batch (the thread is needed to run it):
  // it must run the request alone, at once. With a 10-minute timeout anything else hangs the test.
  CompiledModel compiled = compile(affine_model(), with_timeout(huge_timeout_ms));
  std::vector<InferRequest> requests = make_requests(compiled, batch_size + 1);
  InferRequest* inner_request = &requests[batch_size];
  const Tensor inner_in = unique_input(500);
  inner_request->set_input_tensor(inner_in);
  Failures failures;
  std::atomic<bool> ran{false};
  requests[0].set_callback([&](const std::exception_ptr& error) {
    if (error) return failures.add(inspect(error).message);
    try {
      inner_request->infer();
      failures.check(check_affine(inner_in, inner_request->get_output_tensor()));
      ran = true;
    } catch (const std::exception& e) {
      failures.add(std::string("infer() in the callback: ") + e.what());
    }
  });
  std::vector<Tensor> inputs;
  for (int k = 0; k < batch_size; ++k) {
    inputs.push_back(unique_input(k + 1));
    requests[k].set_input_tensor(inputs.back());
  }
  for (int k = 0; k < batch_size; ++k) requests[k].start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
  }
  EXPECT_TRUE(ran);
  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  EXPECT_EQ(full_batches(compiled), 1);
  requests[0].set_callback({});
}

// ---------------------------------------------------------------------------------------- many requests

TEST_P(BatchBehavior, ManyRequestsFromSeveralThreadsEachGetTheirOwnResult) {
  constexpr int threads_count = 4, per_thread = 6, rounds = 40;
  constexpr int total_requests = threads_count * per_thread;
  // Two streams underneath: requests that time out run alone in parallel, beside full batches.
  CompiledModel compiled = compile(affine_model(), with_timeout(2, {{"NUM_STREAMS", int64_t{2}}}));
  // Request r belongs to thread r % 4: each batch of 4 slots mixes every thread's requests.
  std::vector<InferRequest> requests = make_requests(compiled, total_requests);
  std::vector<std::atomic<int>> callbacks(total_requests), starts(total_requests);
  for (int r = 0; r < total_requests; ++r) {
    requests[r].set_callback([&callbacks, r](const std::exception_ptr&) { ++callbacks[r]; });
  }
  // Whether request r sits out `round`: one in five, so that some batches fill and some time out (every
  // request started ends either way: its batch fills or its timeout passes).
  const auto skips = [](int r, int round) { return (r * 7 + round * 3) % 5 == 0; };
  Failures failures;
  std::atomic<int64_t> checked{0};
  auto run = [&](int t) {
    try {
      std::vector<Tensor> inputs(total_requests);
      for (int round = 0; round < rounds; ++round) {
        for (int r = t; r < total_requests; r += threads_count) {
          if (skips(r, round)) continue;
          const int64_t id = int64_t{round} * total_requests + r;
          if (t % 2 == 0) {  // the application's tensor
            inputs[r] = unique_input(id);
            requests[r].set_input_tensor(inputs[r]);
          } else {  // the slot's own, filled in place
            Tensor in = requests[r].get_input_tensor(0);
            fill_unique(in, id);
            inputs[r] = in.clone();
          }
          requests[r].start_async();
          ++starts[r];
        }
        for (int r = t; r < total_requests; r += threads_count) {
          if (skips(r, round)) continue;
          const int64_t id = int64_t{round} * total_requests + r;
          std::string what = "request " + std::to_string(r) + " round " + std::to_string(round);
          const std::string result = succeeded(requests[r]);
          if (!result.empty()) return failures.add(what.append(": ").append(result));
          failures.check(check_affine(inputs[r], requests[r].get_output_tensor()));
          if (id_of(requests[r].get_input_tensor(0)) != id) failures.add(what + ": its input changed");
          ++checked;
        }
      }
    } catch (const std::exception& e) {
      failures.add("thread " + std::to_string(t) + ": " + e.what());
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(threads_count);
  for (int t = 0; t < threads_count; ++t) threads.emplace_back(run, t);
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(failures.count(), 0u) << failures.summary();
  int64_t started = 0;
  for (int r = 0; r < total_requests; ++r) {
    EXPECT_EQ(callbacks[r], starts[r]) << "request " << r;
    started += starts[r];
    requests[r].set_callback({});
  }
  EXPECT_EQ(checked, started);
  EXPECT_GT(started, int64_t{total_requests} * rounds / 2);
  // Every inference ran either in a full batch or alone after the timeout, exactly once.
  EXPECT_EQ(full_batches(compiled) * batch_size + timed_out(compiled), started)
      << full_batches(compiled) << " full batches, " << timed_out(compiled) << " timed out";
}

// ----------------------------------------------------------------------------------- requests come and go

TEST_P(BatchBehavior, RequestsCreatedAndDestroyedRepeatedlyKeepWorking) {
  CompiledModel compiled = compile(affine_model(), with_timeout(1));
  const void* first_slot = compiled.create_infer_request().get_input_tensor(0).data();
  auto delivered = std::make_shared<std::atomic<int>>(0);
  auto failures = std::make_shared<Failures>();
  int dropped_in_flight = 0;
  for (int i = 0; i < 100; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    std::vector<InferRequest> requests = make_requests(compiled, 3);
    std::vector<Tensor> inputs, outputs;
    for (int k = 0; k < 3; ++k) {
      inputs.push_back(unique_input(10 * i + k));
      outputs.emplace_back(ElementType::f32, affine_shape);
      requests[k].set_input_tensor(inputs[k]);
      requests[k].set_output_tensor(0, outputs[k]);
    }
    if (i % 10 == 9) {
      // Dropped while in flight: each finishes, its callback still runs and its result lands in its output
      // tensor. The callback holds the tensors, not the request.
      for (int k = 0; k < 3; ++k) {
        requests[k].set_callback(
            [delivered, failures, in = inputs[k], out = outputs[k]](const std::exception_ptr& e) {
              if (e) {
                failures->add(inspect(e).message);
              } else {
                failures->check(check_affine(in, out));
              }
              ++*delivered;
            });
        requests[k].start_async();
      }
      dropped_in_flight += 3;
      continue;
    }
    for (auto& r : requests) r.start_async();
    for (int k = 0; k < 3; ++k) {
      ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
      EXPECT_EQ(check_affine(inputs[k], outputs[k]), "") << "request " << k;
    }
  }
  ASSERT_TRUE(eventually([&] { return delivered->load() == dropped_in_flight; }))
      << delivered->load() << " of " << dropped_in_flight << " callbacks";
  EXPECT_EQ(failures->count(), 0u) << failures->summary();
  // Each inference ran once: in a full batch (a new request can join requests of the last iteration that
  // are still gathering) or alone after the timeout.
  const int64_t batches_before = full_batches(compiled);
  EXPECT_EQ(batches_before * batch_size + timed_out(compiled), 300);

  // The slots came back: once the last requests are gone, four new ones take the first batch's slots again
  // (a request that ended may be released a moment after its wait returns, hence `eventually`) and fill
  // a batch.
  std::vector<InferRequest> requests;
  ASSERT_TRUE(eventually([&] {
    requests.clear();  // the last try's requests free their slots first
    requests = make_requests(compiled, batch_size);
    const auto* base = static_cast<const char*>(first_slot);
    for (int k = 0; k < batch_size; ++k) {
      const auto* data = static_cast<const char*>(requests[k].get_input_tensor(0).data());
      if (data != base + k * requests[k].get_input_tensor(0).byte_size()) return false;
    }
    return true;
  })) << "the slots of destroyed requests were not reused";
  compiled.set_property({{"AUTO_BATCH_TIMEOUT", huge_timeout_ms}});
  std::vector<Tensor> inputs;
  for (int k = 0; k < batch_size; ++k) {
    inputs.push_back(unique_input(7000 + k));
    requests[k].set_input_tensor(inputs.back());
  }
  for (auto& r : requests) r.start_async();
  for (int k = 0; k < batch_size; ++k) {
    ASSERT_EQ(succeeded(requests[k]), "") << "request " << k;
    EXPECT_EQ(check_affine(inputs[k], requests[k].get_output_tensor()), "") << "request " << k;
  }
  EXPECT_EQ(full_batches(compiled), batches_before + 1);
}

INSTANTIATE_TEST_SUITE_P(Devices, BatchBehavior, ::testing::Values("CPU", "REF"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace sluice::behavior
