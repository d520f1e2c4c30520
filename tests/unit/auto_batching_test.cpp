// Implicit automatic batching (Core::compile_model wrapping a THROUGHPUT compile in BATCH when the device's
// OPTIMAL_BATCH_SIZE for the model is above 1) and the batch-dimension finder (devices/batch/batch_layout).
#include <gtest/gtest.h>

#include <random>

#include "devices/batch/batch_layout.hpp"
#include "graph_builder.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float scale = 1.f) {
  Tensor t(ElementType::f32, shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (float& v : t.values<float>()) v = dist(rng);
  return t;
}

// Two FC layers at batch 1 with 32 MiB of weights: matrix-vector products bound by reading the weights,
// which batching reads once for the whole batch (the CPU's estimate says so: optimal_batch_test.cpp).
Model big_fc_mlp(PartialShape input = Shape{1, 1024}) {
  test::Builder b;
  auto* x = b.input("x", std::move(input));
  auto* h =
      b.node("Relu", {b.node("Add", {b.node("MatMul", {x, b.constant(random_tensor({1024, 4096}, 1, 0.03f))}),
                                     b.constant(random_tensor({4096}, 2))})});
  auto* y = b.node("Add", {b.node("MatMul", {h, b.constant(random_tensor({4096, 1024}, 3, 0.03f))}),
                           b.constant(random_tensor({1024}, 4))});
  return b.finish({y});
}

bool is_batched(const CompiledModel& compiled) {
  try {
    compiled.get_property(props::auto_batch_timeout);
    return true;
  } catch (const Error&) {
    return false;
  }
}

const AnyMap throughput = {{"PERFORMANCE_HINT", std::string("THROUGHPUT")}};

TEST(AutoBatching, OptimalBatchSizePerDevice) {
  Core core;
  const Model mlp = big_fc_mlp();
  EXPECT_GT(core.optimal_batch_size(mlp, "CPU", throughput), 1);
  EXPECT_EQ(core.optimal_batch_size(mlp, "REF", throughput), 1);
  // Capped by the requests the application says it keeps in flight.
  AnyMap two = throughput;
  two["PERFORMANCE_HINT_NUM_REQUESTS"] = int64_t{2};
  EXPECT_LE(core.optimal_batch_size(mlp, "CPU", two), 2);
  // The CPU compiled model reports the same estimate.
  const CompiledModel plain = core.compile_model(mlp, "CPU", {{"ALLOW_AUTO_BATCHING", false}});
  EXPECT_EQ(plain.get_property(props::optimal_batch_size), core.optimal_batch_size(mlp, "CPU"));
  EXPECT_THROW(core.optimal_batch_size(Model(), "CPU"), Error);
}

TEST(AutoBatching, ThroughputCompileIsBatchedWhenItPaysAndComputesTheSame) {
  Core core;
  const Model mlp = big_fc_mlp();
  CompiledModel batched = core.compile_model(mlp, "CPU", throughput);
  ASSERT_TRUE(is_batched(batched));
  const int64_t batch = batched.get_property(props::optimal_batch_size);
  EXPECT_EQ(batch, core.optimal_batch_size(mlp, "CPU", throughput));
  EXPECT_EQ(batched.inputs()[0].shape.to_shape(), (Shape{1, 1024}));  // the application's batch-1 ports
  EXPECT_EQ(batched.get_property(props::optimal_number_of_infer_requests) % batch, 0);

  // A full batch of requests, each checked against REF on its own input.
  batched.set_property({{"AUTO_BATCH_TIMEOUT", int64_t{600000}}});  // only a full batch can run
  const CompiledModel ref = core.compile_model(mlp, "REF");
  std::vector<InferRequest> requests;
  std::vector<Tensor> inputs;
  for (int64_t i = 0; i < batch; ++i) {
    requests.push_back(batched.create_infer_request());
    inputs.push_back(random_tensor({1, 1024}, 100 + static_cast<uint32_t>(i)));
    requests.back().set_input_tensor(inputs.back());
    requests.back().start_async();
  }
  for (int64_t i = 0; i < batch; ++i) {
    ASSERT_TRUE(requests[i].wait_for(std::chrono::seconds(60))) << "the batch never ran";
    InferRequest expected = ref.create_infer_request();
    expected.set_input_tensor(inputs[i]);
    expected.infer();
    const Tensor got = requests[i].get_output_tensor(), want = expected.get_output_tensor();
    ASSERT_EQ(got.shape(), want.shape());
    for (int64_t k = 0; k < got.size(); ++k) {
      ASSERT_NEAR(got.data<float>()[k], want.data<float>()[k], 1e-3f) << "request " << i << " element " << k;
    }
  }
  EXPECT_EQ(batched.get_property(props::auto_batch_full_batches), 1);
  EXPECT_EQ(batched.get_property(props::auto_batch_timed_out), 0);
}

TEST(AutoBatching, NotBatchedWhenSwitchedOffOrNotThroughputOrCapped) {
  Core core;
  const Model mlp = big_fc_mlp();
  AnyMap off = throughput;
  off["ALLOW_AUTO_BATCHING"] = false;
  EXPECT_FALSE(is_batched(core.compile_model(mlp, "CPU", off)));
  EXPECT_FALSE(is_batched(core.compile_model(mlp, "CPU", {{"PERFORMANCE_HINT", std::string("LATENCY")}})));
  EXPECT_FALSE(is_batched(core.compile_model(mlp, "CPU")));  // the default hint is LATENCY
  AnyMap one = throughput;
  one["PERFORMANCE_HINT_NUM_REQUESTS"] = int64_t{1};
  EXPECT_FALSE(is_batched(core.compile_model(mlp, "CPU", one)));
  EXPECT_FALSE(is_batched(core.compile_model(mlp, "REF", throughput)));
  // Switched off on the device: every later compile of it.
  core.set_property("CPU", {{"ALLOW_AUTO_BATCHING", false}});
  EXPECT_FALSE(is_batched(core.compile_model(mlp, "CPU", throughput)));
  core.set_property("CPU", {{"ALLOW_AUTO_BATCHING", true}});
  EXPECT_TRUE(is_batched(core.compile_model(mlp, "CPU", throughput)));
}

TEST(AutoBatching, AModelWithoutAUsableBatchDimensionRunsUnbatched) {
  Core core;
  // Dimension 0 is 3 and the model sums over it: its output does not grow with a batch.
  test::Builder b;
  auto* x = b.input("x", Shape{3, 1024});
  auto* h = b.node("MatMul", {x, b.constant(random_tensor({1024, 4096}, 5, 0.03f))});
  auto* y = b.node("ReduceSum", {h, b.constant(Tensor::from<int64_t>({1}, {0}))}, {{"keepdims", int64_t{0}}});
  const Model model = b.finish({y});
  const CompiledModel compiled = core.compile_model(model, "CPU", throughput);
  EXPECT_FALSE(is_batched(compiled));
  // Asked for explicitly, it is an error that names the output.
  try {
    core.compile_model(model, "BATCH:CPU(4)");
    FAIL() << "batching a model whose output does not grow with the batch must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be batched"), std::string::npos) << e.what();
  }
}

// -------------------------------------------------------------------------------------- find_batch_layout

TEST(BatchLayout, DimensionZeroByDefaultAndTheRequestShapes) {
  // A dynamic batch becomes 1 per request; a static one stays (a request of [2, 1024] is batched to 2N).
  const batch::BatchLayout dynamic =
      batch::find_batch_layout(big_fc_mlp(PartialShape({Dimension(), 1024})), {}, 4);
  EXPECT_EQ(dynamic.inputs[0].shape.to_shape(), (Shape{1, 1024}));
  EXPECT_EQ(dynamic.outputs[0].shape.to_shape(), (Shape{1, 1024}));
  EXPECT_EQ(dynamic.input_axes, std::vector<size_t>{0});
  const batch::BatchLayout two = batch::find_batch_layout(big_fc_mlp(Shape{2, 1024}), {}, 4);
  EXPECT_EQ(two.inputs[0].shape.to_shape(), (Shape{2, 1024}));
  EXPECT_EQ(two.outputs[0].shape.to_shape(), (Shape{2, 1024}));
}

TEST(BatchLayout, LayoutMovesTheBatchDimension) {
  test::Builder b;
  auto* x = b.input("x", Shape{3, 1, 8});  // [sequence, batch, hidden]
  auto* y = b.node("Relu", {x});
  const Model model = b.finish({y});
  const std::string out = model.outputs()[0].name;
  const auto layout = batch::find_batch_layout(model, {"?N..."}, 4);
  EXPECT_EQ(layout.input_axes, std::vector<size_t>{1});
  EXPECT_EQ(layout.output_axes, std::vector<size_t>{1});
  const auto named = batch::find_batch_layout(model, {"x:TNC", out + ":?N?"}, 4);
  EXPECT_EQ(named.input_axes, std::vector<size_t>{1});
  EXPECT_EQ(named.output_axes, std::vector<size_t>{1});
  // Dimension 0 (the default) is the sequence: the batch of 4 would be [12, 1, 8], which this model
  // computes fine, so it is accepted; the layout is the application's to get right.
  EXPECT_NO_THROW(batch::find_batch_layout(model, {}, 4));
}

TEST(BatchLayout, ClearErrors) {
  test::Builder b;
  auto* x = b.input("x", PartialShape({Dimension(), Dimension(), 8}));
  const Model dynamic = b.finish({b.node("Relu", {x})});
  const auto message = [](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message([&] { batch::find_batch_layout(dynamic, {}, 4); }).find("dimension 1 of input 'x'"),
            std::string::npos);
  const Model mlp = big_fc_mlp();
  EXPECT_NE(message([&] { batch::find_batch_layout(mlp, {"x:CCN"}, 4); }).find("has no dimension 2"),
            std::string::npos);
  // Batching along 1024 breaks the MatMul: reshaping fails, and says so.
  EXPECT_NE(message([&] { batch::find_batch_layout(mlp, {"x:CN"}, 4); }).find("reshaping it failed"),
            std::string::npos);
  EXPECT_NE(message([&] {
              batch::find_batch_layout(mlp, {"x:NC", "x:NC"}, 4);
            }).find("twice"),
            std::string::npos);
  EXPECT_NE(message([&] { batch::find_batch_layout(mlp, {"HW"}, 4); }).find("no batch dimension"),
            std::string::npos);
  EXPECT_NE(message([&] { batch::find_batch_layout(mlp, {"nope:NC"}, 4); }).find("no input or output 'nope'"),
            std::string::npos);
  EXPECT_NE(message([&] { batch::find_batch_layout(mlp, {"N...C"}, 4); }).find("may only end"),
            std::string::npos);
  EXPECT_NE(message([&] { batch::find_batch_layout(mlp, {}, 0); }).find("at least 1"), std::string::npos);
}

}  // namespace
}  // namespace sluice
