// How the CPU and REF devices resolve PERFORMANCE_HINT, NUM_STREAMS, INFERENCE_NUM_THREADS and
// PERFORMANCE_HINT_NUM_REQUESTS into streams, as compiled models report them; and that streams run
// inferences side by side. The heuristic's own rules are tested on synthetic machines in
// streams_config_test.cpp; here it is the wiring on this machine.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "graph_builder.hpp"
#include "sluice/core.hpp"
#include "util/cpu_topology.hpp"

namespace sluice {
namespace {

using test::Builder;

Model conv_model() {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({1, 8, 16, 16}));
  std::vector<float> w(16 * 8 * 9, 0.01f);
  return b.finish({b.node("Conv", {x, b.constant(Tensor::from<float>({16, 8, 3, 3}, w))})});
}

int64_t prop(const CompiledModel& c, const char* name) { return c.get_property(name).as<int64_t>(); }

class Streams : public ::testing::TestWithParam<std::string> {};

TEST_P(Streams, HintsResolveToStreamsThreadsAndRequests) {
  const std::string device = GetParam();
  const int64_t cores = static_cast<int64_t>(host_topology().cores.size());
  Core core;
  Model model = conv_model();

  CompiledModel latency = core.compile_model(model, device);  // LATENCY is the default
  EXPECT_EQ(latency.get_property(props::performance_hint), PerformanceMode::LATENCY);
  EXPECT_EQ(prop(latency, "NUM_STREAMS"), 1);
  EXPECT_EQ(prop(latency, "OPTIMAL_NUMBER_OF_INFER_REQUESTS"), 1);
  EXPECT_EQ(prop(latency, "INFERENCE_NUM_THREADS"), device == "REF" ? 1 : cores);

  // Without automatic batching, which would wrap this small model in BATCH (auto_batching_test.cpp).
  CompiledModel throughput = core.compile_model(
      model, device,
      {props::performance_hint(PerformanceMode::THROUGHPUT), props::allow_auto_batching(false)});
  const int64_t streams = prop(throughput, "NUM_STREAMS");
  EXPECT_GE(streams, 1);
  EXPECT_LE(streams, cores);
  EXPECT_LE(prop(throughput, "INFERENCE_NUM_THREADS"), cores);
  EXPECT_EQ(prop(throughput, "OPTIMAL_NUMBER_OF_INFER_REQUESTS"), 2 * streams);
  if (device == "REF") EXPECT_EQ(streams, cores) << "REF is single-threaded: one stream per core";

  // PERFORMANCE_HINT_NUM_REQUESTS caps the streams and the requests.
  CompiledModel capped = core.compile_model(
      model, device,
      {props::performance_hint(PerformanceMode::THROUGHPUT), props::performance_hint_num_requests(1)});
  EXPECT_EQ(prop(capped, "NUM_STREAMS"), 1);
  EXPECT_EQ(prop(capped, "OPTIMAL_NUMBER_OF_INFER_REQUESTS"), 1);

  // An explicit NUM_STREAMS overrides the hint, also beyond the cores; AUTO means THROUGHPUT's choice.
  CompiledModel three = core.compile_model(model, device, {props::num_streams(cores + 1)});
  EXPECT_EQ(prop(three, "NUM_STREAMS"), cores + 1);
  CompiledModel autos = core.compile_model(model, device, {{"NUM_STREAMS", "AUTO"}});
  EXPECT_EQ(prop(autos, "NUM_STREAMS"), streams);

  // Set on the device, NUM_STREAMS is explicit for every later compile; the device's own default is not.
  Core other;
  other.set_property(device, {props::num_streams(2)});
  EXPECT_EQ(prop(other.compile_model(model, device), "NUM_STREAMS"), 2);
  EXPECT_EQ(other.get_property(device, "NUM_STREAMS").as<int64_t>(), 2);
}

// Two streams run two inferences at the same time: the first request's callback holds its stream until
// the second request has finished, which only another stream can do (with one stream the callback gives
// up after 10 s and the test fails).
TEST_P(Streams, TwoStreamsRunTwoRequestsAtOnce) {
  Core core;
  CompiledModel compiled = core.compile_model(conv_model(), GetParam(), {props::num_streams(2)});
  std::atomic<int> started{0};
  std::atomic<bool> overlapped{false};
  std::atomic<bool> second_done{false};
  std::vector<InferRequest> requests;
  for (int i = 0; i < 2; ++i) {
    requests.push_back(compiled.create_infer_request());
    requests.back().set_input_tensor(Tensor(ElementType::f32, {1, 8, 16, 16}));
  }
  requests[0].set_callback([&](std::exception_ptr) {
    ++started;
    for (int i = 0; i < 10000 && !second_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    overlapped = second_done.load();
  });
  requests[1].set_callback([&](std::exception_ptr) { second_done = true; });
  requests[0].start_async();
  while (started == 0) std::this_thread::yield();  // the first stream is now held in the callback
  requests[1].start_async();
  requests[0].wait();
  requests[1].wait();
  EXPECT_TRUE(overlapped) << "the second request did not run while the first stream was busy";
}

INSTANTIATE_TEST_SUITE_P(Devices, Streams, ::testing::Values("CPU", "REF"));

}  // namespace
}  // namespace sluice
