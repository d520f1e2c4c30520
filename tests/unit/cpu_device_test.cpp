// The CPU device through the public API: differential runs of the fused patterns against REF on random
// graphs, dynamic and data-dependent shapes, subgraphs, properties, bound outputs and runtime errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <dnnl.hpp>
#include <functional>
#include <random>
#include <thread>

#include "graph_builder.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using test::Builder;
using ::testing::HasSubstr;

Tensor random_f32(const Shape& shape, std::mt19937& rng, float lo = -1, float hi = 1) {
  Tensor t(ElementType::f32, shape);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& v : t.values<float>()) v = dist(rng);
  return t;
}

// Runs `model` on CPU and on REF with the same inputs; expects every output within rtol (relative L2
// error per output) and returns CPU's profile.
std::vector<ProfilingInfo> expect_cpu_matches_ref(const Model& model, const std::vector<Tensor>& inputs,
                                                  double rtol = 1e-5, AnyMap cpu_props = {}) {
  Core core;
  cpu_props["ENABLE_PROFILING"] = true;
  std::vector<std::vector<Tensor>> results;
  std::vector<ProfilingInfo> profile;
  for (const std::string device : {"CPU", "REF"}) {
    CompiledModel compiled = core.compile_model(model, device, device == "CPU" ? cpu_props : AnyMap{});
    InferRequest request = compiled.create_infer_request();
    for (size_t i = 0; i < inputs.size(); ++i) request.set_input_tensor(i, inputs[i]);
    request.infer();
    std::vector<Tensor> outs;
    for (size_t o = 0; o < compiled.outputs().size(); ++o)
      outs.push_back(request.get_output_tensor(o).clone());
    results.push_back(outs);
    if (device == "CPU") profile = request.get_profiling_info();
  }
  for (size_t o = 0; o < results[0].size(); ++o) {
    const Tensor& cpu = results[0][o];
    const Tensor& ref = results[1][o];
    EXPECT_EQ(cpu.shape(), ref.shape());
    if (cpu.shape() != ref.shape()) continue;
    double diff = 0, norm = 0;
    for (int64_t i = 0; i < ref.size(); ++i) {
      const double r = ref.data<float>()[i], c = cpu.data<float>()[i];
      diff += (c - r) * (c - r);
      norm += r * r;
    }
    EXPECT_LE(std::sqrt(diff / std::max(norm, 1e-30)), rtol) << "output " << o;
  }
  return profile;
}

// Whether oneDNN runs bf16 natively here, as the CPU device decides it.
bool dnnl_native_bf16_for_tests() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

int count_type(const std::vector<ProfilingInfo>& profile, const std::string& type) {
  return static_cast<int>(std::count_if(profile.begin(), profile.end(),
                                        [&](const ProfilingInfo& p) { return p.node_type == type; }));
}

// A random conv block: Conv -> BatchNormalization -> activation -> (+ residual) -> activation, as the
// fusions see it in CNNs.
// EXECUTION_KERNELS lists each planned node's kernel: CumSum has no CPU kernel and falls back to the
// reference one; Relu runs on the CPU's own. A dynamic model is planned at its first inference.
TEST(CpuDevice, ExecutionKernelsNameTheFallback) {
  Builder b;
  auto* x = b.input("x", PartialShape({Dimension(), 8}));
  auto* y = b.node("CumSum", {b.node("Relu", {x}), b.constant(Tensor::scalar<int64_t>(1))});
  const Model model = b.finish({y});
  Core core;
  CompiledModel compiled = core.compile_model(model, "CPU");
  EXPECT_TRUE(compiled.get_property(props::execution_kernels).empty());  // nothing planned yet
  InferRequest r = compiled.create_infer_request();
  r.set_input_tensor(Tensor(ElementType::f32, {2, 8}));
  r.infer();
  const auto kernels = compiled.get_property(props::execution_kernels);
  ASSERT_EQ(kernels.size(), 2u) << ::testing::PrintToString(kernels);
  bool cumsum_ref = false, relu_native = false;
  for (const auto& k : kernels) {
    if (k.find("(CumSum): ref") != std::string::npos) cumsum_ref = true;
    if (k.find("(Relu): ") != std::string::npos && k.find(": ref") == std::string::npos) relu_native = true;
  }
  EXPECT_TRUE(cumsum_ref) << ::testing::PrintToString(kernels);
  EXPECT_TRUE(relu_native) << ::testing::PrintToString(kernels);
}

TEST(CpuDevice, RandomConvBlocksMatchReference) {
  const std::vector<std::string> activations = {
      "", "Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Clip", "Elu", "SiLU"};
  for (int seed = 0; seed < 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    const int64_t c = 4 + pick(3) * 4, h = 5 + pick(6), batch = 1 + pick(2);
    const int64_t k = 1 + 2 * pick(2), group = pick(3) == 0 ? c : 1;
    Builder b;
    graph::Value* x = b.input("x", PartialShape({batch, c, h, h}));
    graph::Value* w = b.constant(random_f32({c, c / group, k, k}, rng, -0.5, 0.5));
    graph::Value* bias = b.constant(random_f32({c}, rng));
    graph::Value* y = b.node("Conv", {x, w, bias},
                             {{"pads", std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2}}, {"group", group}});
    if (pick(2)) {
      y = b.node("BatchNormalization",
                 {y, b.constant(random_f32({c}, rng, 0.5, 1.5)), b.constant(random_f32({c}, rng)),
                  b.constant(random_f32({c}, rng)), b.constant(random_f32({c}, rng, 0.5, 2))},
                 {{"epsilon", 1e-5f}});
    }
    auto activate = [&](graph::Value* v) {
      const std::string act = activations[pick(static_cast<int>(activations.size()))];
      if (act.empty()) return v;
      if (act == "SiLU") return b.node("Mul", {v, b.node("Sigmoid", {v})});
      if (act == "Clip")
        return b.node("Clip", {v, b.constant(Tensor::scalar(0.f)), b.constant(Tensor::scalar(6.f))});
      if (act == "LeakyRelu") return b.node(act, {v}, {{"alpha", 0.1f}});
      if (act == "Elu") return b.node(act, {v}, {{"alpha", 0.7f}});
      return b.node(act, {v});
    };
    y = activate(y);
    if (pick(2)) y = activate(pick(2) ? b.node("Add", {y, x}) : b.node("Add", {x, y}));
    Model model = b.finish({y});
    const auto profile = expect_cpu_matches_ref(model, {random_f32({batch, c, h, h}, rng)}, 1e-5);
    EXPECT_EQ(count_type(profile, "Conv") + count_type(profile, "FusedConv"), 1);
    EXPECT_EQ(count_type(profile, "BatchNormalization"), 0) << "BatchNormalization was not folded";
  }
}

// A transformer block: MatMul + bias -> GELU (erf decomposition) -> MatMul + bias -> residual -> LayerNorm
// (decomposed), then attention with a mask.
TEST(CpuDevice, TransformerBlockMatchesReference) {
  for (int seed = 0; seed < 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(100 + seed);
    const int64_t batch = 1 + seed % 2, seq = 7 + seed, hidden = 16, heads = 2, head = hidden / heads;
    Builder b;
    graph::Value* x = b.input("x", PartialShape({batch, seq, hidden}));
    graph::Value* mask = b.input("mask", PartialShape({batch, 1, 1, seq}));
    auto linear = [&](graph::Value* v, int64_t in, int64_t out) {
      return b.node("Add", {b.node("MatMul", {v, b.constant(random_f32({in, out}, rng, -0.3, 0.3))}),
                            b.constant(random_f32({out}, rng))});
    };
    auto split_heads = [&](graph::Value* v) {
      graph::Value* r =
          b.node("Reshape", {v, b.constant(Tensor::from<int64_t>({4}, {batch, seq, heads, head}))});
      return b.node("Transpose", {r}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    };
    graph::Value* q = split_heads(linear(x, hidden, hidden));
    graph::Value* kt = b.node("Transpose", {split_heads(linear(x, hidden, hidden))},
                              {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
    graph::Value* v = split_heads(linear(x, hidden, hidden));
    graph::Value* scores =
        b.node("Div", {b.node("MatMul", {q, kt}), b.constant(Tensor::scalar(std::sqrt(float(head))))});
    graph::Value* probs = b.node("Softmax", {b.node("Add", {scores, mask})}, {{"axis", int64_t{-1}}});
    graph::Value* ctx =
        b.node("Transpose", {b.node("MatMul", {probs, v})}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    ctx = b.node("Reshape", {ctx, b.constant(Tensor::from<int64_t>({3}, {batch, seq, hidden}))});
    graph::Value* h = b.node("Add", {linear(ctx, hidden, hidden), x});
    // LayerNorm as torch exports it.
    graph::Value* mean = b.node("ReduceMean", {h}, {{"axes", std::vector<int64_t>{-1}}});
    graph::Value* centered = b.node("Sub", {h, mean});
    graph::Value* var = b.node("ReduceMean", {b.node("Pow", {centered, b.constant(Tensor::scalar(2.f))})},
                               {{"axes", std::vector<int64_t>{-1}}});
    graph::Value* normed =
        b.node("Div", {centered, b.node("Sqrt", {b.node("Add", {var, b.constant(Tensor::scalar(1e-5f))})})});
    h = b.node("Add", {b.node("Mul", {normed, b.constant(random_f32({hidden}, rng, 0.5, 1.5))}),
                       b.constant(random_f32({hidden}, rng))});
    // FFN with GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt 2)).
    graph::Value* f = linear(h, hidden, 4 * hidden);
    graph::Value* erf = b.node("Erf", {b.node("Div", {f, b.constant(Tensor::scalar(1.4142135f))})});
    graph::Value* gelu =
        b.node("Mul", {b.node("Mul", {f, b.node("Add", {erf, b.constant(Tensor::scalar(1.f))})}),
                       b.constant(Tensor::scalar(0.5f))});
    graph::Value* y = b.node("Add", {linear(gelu, 4 * hidden, hidden), h});
    Model model = b.finish({y});
    Tensor mask_value = random_f32({batch, 1, 1, seq}, rng, -3, 0);
    mask_value.data<float>()[0] = -10000.f;
    const auto profile =
        expect_cpu_matches_ref(model, {random_f32({batch, seq, hidden}, rng), mask_value}, 1e-5);
    EXPECT_EQ(count_type(profile, "MatMul"), 0) << "every MatMul should be fused";
    EXPECT_GE(count_type(profile, "FusedMatMul"), 5);
  }
}

// y = MatMul(x, W) + b with x [batch, 8]: one model, many batch sizes, more than the plan cache holds.
TEST(CpuDevice, DynamicBatchRunsEveryShape) {
  std::mt19937 rng(5);
  Builder b;
  graph::Value* x = b.input("x", PartialShape({Dimension::dynamic("batch"), 8}));
  graph::Value* y = b.node("Relu", {b.node("Add", {b.node("MatMul", {x, b.constant(random_f32({8, 5}, rng))}),
                                                   b.constant(random_f32({5}, rng))})});
  Model model = b.finish({y});
  Core core;
  CompiledModel cpu = core.compile_model(model, "CPU");
  CompiledModel ref = core.compile_model(model, "REF");
  InferRequest rc = cpu.create_infer_request(), rr = ref.create_infer_request();
  for (int64_t batch : {1, 3, 2, 1, 7, 0, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 6, 5, 4, 3, 1}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    Tensor in = random_f32({batch, 8}, rng);
    rc.set_input_tensor(in);
    rr.set_input_tensor(in);
    rc.infer();
    rr.infer();
    const Tensor a = rc.get_output_tensor(), e = rr.get_output_tensor();
    ASSERT_EQ(a.shape(), e.shape());
    for (int64_t i = 0; i < e.size(); ++i) EXPECT_NEAR(a.data<float>()[i], e.data<float>()[i], 1e-5);
  }
  EXPECT_GT(cpu.get_property("ARENA_BYTES").as<int64_t>(), 0);
  EXPECT_GT(cpu.get_property("WEIGHTS_BYTES").as<int64_t>(), 0);
}

// NonZero's output shape depends on the data: the nodes after it run on reference kernels that allocate.
TEST(CpuDevice, DataDependentShapes) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({6}));
  graph::Value* nz = b.node("NonZero", {b.node("Relu", {x})});
  graph::Value* y =
      b.node("ReduceSum", {b.node("Cast", {nz}, {{"to", int64_t{1}}})}, {{"keepdims", int64_t{0}}});
  Model model = b.finish({y, b.node("Neg", {x})});
  Core core;
  CompiledModel cpu = core.compile_model(model, "CPU");
  InferRequest r = cpu.create_infer_request();
  for (auto values : {std::vector<float>{1, -1, 2, 0, 3, -4}, std::vector<float>{-1, -1, 5, 0, 0, 0}}) {
    r.set_input_tensor(Tensor::from<float>({6}, std::span<const float>(values)));
    r.infer();
    float expected = 0;
    for (size_t i = 0; i < values.size(); ++i) expected += values[i] > 0 ? static_cast<float>(i) : 0;
    EXPECT_EQ(r.get_output_tensor(0).data<float>()[0], expected);
    EXPECT_EQ(r.get_output_tensor(1).data<float>()[2], -values[2]);
  }
}

// An If whose branches read a value of the main graph by name.
TEST(CpuDevice, SubgraphsReadOuterValues) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({3}));
  graph::Value* cond = b.input("cond", PartialShape(Shape{}), ElementType::boolean);
  graph::Value* doubled = b.node("Add", {x, x});
  auto branch = [&](const std::string& op) {
    auto g = std::make_shared<graph::Graph>();
    g->name = op;
    g->opset_imports[""] = 17;
    graph::Value* outer = g->add_value(doubled->name);
    outer->outer = true;
    outer->type = ElementType::f32;
    outer->shape = PartialShape({3});
    graph::Value* out = g->add_value(op + "_y");
    g->add_node(op, "", {outer}, {out}, op);
    g->outputs() = {out};
    return g;
  };
  // Values computed between `doubled` and the If: the memory plan must not give them `doubled`'s buffer,
  // which the If reads by name only.
  graph::Value* chain = b.node("Neg", {b.node("Abs", {b.node("Neg", {x})})});
  graph::Value* y = b.node("If", {cond}, {{"then_branch", branch("Neg")}, {"else_branch", branch("Abs")}});
  Model model = b.finish({y, chain});
  Core core;
  InferRequest r = core.compile_model(model, "CPU").create_infer_request();
  r.set_tensor("x", Tensor::from<float>({3}, {1, -2, 3}));
  r.set_tensor("cond", Tensor::scalar(true));
  r.infer();
  EXPECT_EQ(r.get_output_tensor(0).data<float>()[1], 4.f);
  r.set_tensor("cond", Tensor::scalar(false));
  r.infer();
  EXPECT_EQ(r.get_output_tensor(0).data<float>()[1], 4.f);
  EXPECT_EQ(r.get_output_tensor(0).data<float>()[0], 2.f);
  EXPECT_EQ(r.get_output_tensor(1).data<float>()[1], -2.f);
}

TEST(CpuDevice, BoundOutputIsWrittenAndInputsAreUntouched) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({2, 3}));
  Model model = b.finish({b.node("Relu", {x}), b.node("Identity", {x})});
  Core core;
  InferRequest r = core.compile_model(model, "CPU").create_infer_request();
  std::vector<float> in = {1, -2, 3, -4, 5, -6};
  std::vector<float> out(6, 99.f);
  r.set_tensor("x", Tensor(ElementType::f32, {2, 3}, in.data()));
  r.set_output_tensor(0, Tensor(ElementType::f32, {2, 3}, out.data()));
  r.infer();
  EXPECT_EQ(out, (std::vector<float>{1, 0, 3, 0, 5, 0}));
  EXPECT_EQ(in, (std::vector<float>{1, -2, 3, -4, 5, -6}));
  EXPECT_EQ(r.get_output_tensor(1).data<float>()[1], -2.f);
  // A later inference overwrites the request's own output tensors (as get_tensor documents).
  in[1] = 7;
  r.infer();
  EXPECT_EQ(r.get_output_tensor(1).data<float>()[1], 7.f);
  EXPECT_EQ(out[1], 7.f);
}

TEST(CpuDevice, RuntimeErrorsNameTheNode) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({4}));
  graph::Value* idx = b.input("idx", PartialShape({2}), ElementType::i64);
  Model model = b.finish({b.node("Gather", {x, idx})});
  Core core;
  InferRequest r = core.compile_model(model, "CPU").create_infer_request();
  r.set_tensor("x", Tensor::from<float>({4}, {1, 2, 3, 4}));
  r.set_tensor("idx", Tensor::from<int64_t>({2}, {1, 9}));
  try {
    r.infer();
    FAIL() << "no error for an index out of range";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("Gather"));
    EXPECT_THAT(e.what(), HasSubstr("9"));
  }
  r.set_tensor("idx", Tensor::from<int64_t>({2}, {1, -1}));
  r.infer();
  EXPECT_EQ(r.get_output_tensor().data<float>()[1], 4.f);
}

TEST(CpuDevice, PropertiesAreResolved) {
  Builder b;
  graph::Value* x = b.input("x", PartialShape({1, 4, 6, 6}));
  std::mt19937 rng(1);
  Model model = b.finish({b.node("Conv", {x, b.constant(random_f32({8, 4, 3, 3}, rng))})});
  Core core;
  CompiledModel c = core.compile_model(model, "CPU", {{"INFERENCE_NUM_THREADS", int64_t{1}}});
  EXPECT_EQ(c.get_property("INFERENCE_NUM_THREADS").as<int64_t>(), 1);
  EXPECT_EQ(c.get_property("NUM_STREAMS").as<int64_t>(), 1);
  EXPECT_EQ(c.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS").as<int64_t>(), 1);
  EXPECT_GT(c.get_property("WEIGHTS_BYTES").as<int64_t>(), 0);  // planned at compile: static shapes
  EXPECT_GT(c.get_property("ARENA_BYTES").as<int64_t>(), 0);
  CompiledModel all = core.compile_model(model, "CPU");
  EXPECT_GE(all.get_property("INFERENCE_NUM_THREADS").as<int64_t>(), 1);
  // bf16 resolves to bf16 only where the CPU has it natively (oneDNN's view: ONEDNN_MAX_CPU_ISA can hide
  // it; ctest runs this test again that way).
  const bool native = dnnl_native_bf16_for_tests();
  CompiledModel low = core.compile_model(model, "CPU", {{"INFERENCE_PRECISION_HINT", std::string("bf16")}});
  EXPECT_EQ(low.get_property("INFERENCE_PRECISION_HINT").as<ElementType>(),
            native ? ElementType::bf16 : ElementType::f32);
  auto caps = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES").as<std::vector<std::string>>();
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "BF16"), native ? 1 : 0);
  EXPECT_THAT(
      [&] {
        core.compile_model(model, "CPU", {{"NUM_STREAMS", int64_t{0}}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("NUM_STREAMS")));
  EXPECT_THAT(
      [&] {
        core.compile_model(model, "CPU", {{"DISABLED_PASSES", std::string("no_such_pass")}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("fold_batchnorm")));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Requests of one compiled model run from several threads at once, with different input shapes: the
// plan cache, the packed weights and the oneDNN primitives are shared; every result must be right.
TEST(CpuDevice, ConcurrentRequestsOfOneModel) {
  std::mt19937 rng(21);
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape({Dimension::dynamic("batch"), 4, 8, 8}));
  graph::Value* c =
      b.node("Relu",
             {b.node("Conv", {x, b.constant(random_f32({8, 4, 3, 3}, rng)), b.constant(random_f32({8}, rng))},
                     {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  graph::Value* y = b.node(
      "Gemm", {b.node("Flatten", {b.node("GlobalAveragePool", {c})}), b.constant(random_f32({8, 5}, rng))});
  Model model = b.finish({y});
  Core core;
  CompiledModel cpu = core.compile_model(model, "CPU", {{"INFERENCE_NUM_THREADS", int64_t{1}}});
  CompiledModel ref = core.compile_model(model, "REF");
  constexpr int threads = 4, runs = 25;
  std::vector<Tensor> inputs, expected;
  for (int t = 0; t < threads; ++t) {
    inputs.push_back(random_f32({1 + t % 3, 4, 8, 8}, rng));
    InferRequest r = ref.create_infer_request();
    r.set_input_tensor(inputs.back());
    r.infer();
    expected.push_back(r.get_output_tensor().clone());
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      InferRequest r = cpu.create_infer_request();
      for (int i = 0; i < runs; ++i) {
        // Alternate between this thread's shape and another's, so that plans are made and found
        // concurrently.
        const int which = i % 2 ? t : (t + 1) % threads;
        r.set_input_tensor(inputs[which]);
        r.infer();
        const Tensor out = r.get_output_tensor();
        for (int64_t k = 0; k < out.size(); ++k) {
          if (std::abs(out.data<float>()[k] - expected[which].data<float>()[k]) > 1e-4f) {
            ++wrong;
            break;
          }
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(wrong.load(), 0) << "inferences with wrong results";
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Branches joined by Concat, then an activation and an Add that no convolution absorbs: they run on the
// blocked layout (oneDNN eltwise and binary), with no reorder before the last convolution.
TEST(CpuDevice, BlockedLayoutsFlowThroughUnfusedElementwise) {
  std::mt19937 rng(31);
  test::Builder b;
  graph::Value* x = b.input("x", PartialShape({1, 16, 10, 10}));
  auto conv = [&](graph::Value* in, int64_t in_c, int64_t out_c) {
    return b.node("Conv", {in, b.constant(random_f32({out_c, in_c, 3, 3}, rng, -0.3f, 0.3f))},
                  {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  };
  graph::Value* joined = b.node("Concat", {conv(x, 16, 16), conv(x, 16, 16)}, {{"axis", int64_t{1}}});
  graph::Value* other = b.node("Concat", {conv(x, 16, 16), conv(x, 16, 16)}, {{"axis", int64_t{1}}});
  graph::Value* act = b.node("Sigmoid", {joined});
  graph::Value* sum = b.node("Add", {act, other});
  graph::Value* y = conv(b.node("Relu", {b.node("Mul", {sum, other})}), 32, 16);
  Model model = b.finish({y});
  const auto profile = expect_cpu_matches_ref(model, {random_f32({1, 16, 10, 10}, rng)}, 1e-5);
  for (const ProfilingInfo& p : profile) {
    // The one reorder allowed: the graph output's, to row-major.
    const bool output_reorder = p.node_name.size() > 7 && p.node_name.ends_with("/output");
    EXPECT_TRUE(p.node_type != "Reorder" || output_reorder) << p.node_name << ": a reorder inside a chain";
    if (p.node_type == "Sigmoid" || p.node_type == "Add" || p.node_type == "Mul" || p.node_type == "Concat") {
      EXPECT_EQ(p.exec_type.rfind("sluice:", 0), std::string::npos) << p.node_name << " ran " << p.exec_type;
    }
  }
}

// A product or convolution without a bias, then an activation, fuses into a node with no bias input; it
// must run on oneDNN (it ran on the reference kernel, ~8x slower, while the same with a bias did not).
// So must one whose bias is computed rather than constant (read as it arrives).
TEST(CpuDevice, FusedNodesWithoutConstantBiasRunOnOneDnn) {
  std::mt19937 rng(41);
  struct Case {
    std::string name;
    Shape x;
    std::function<graph::Value*(Builder&, graph::Value*)> build;
    std::string fused;             // the fused node's type in the profile
    std::vector<Shape> more = {};  // the shapes of the inputs `build` adds after x
  };
  const std::vector<Case> cases = {
      {"MatMul + Relu",
       {16, 64},
       [&](Builder& b, graph::Value* x) {
         return b.node("Relu", {b.node("MatMul", {x, b.constant(random_f32({64, 32}, rng))})});
       },
       "FusedMatMul"},
      {"Gemm transB + Sigmoid",
       {16, 64},
       [&](Builder& b, graph::Value* x) {
         return b.node("Sigmoid", {b.node("Gemm", {x, b.constant(random_f32({32, 64}, rng))},
                                          {{"transB", int64_t{1}}})});
       },
       "FusedMatMul"},
      {"MatMul + Tanh + Clip",
       {2, 8, 64},
       [&](Builder& b, graph::Value* x) {
         graph::Value* t = b.node("Tanh", {b.node("MatMul", {x, b.constant(random_f32({64, 32}, rng))})});
         return b.node("Clip", {t, b.constant(Tensor::scalar(-0.5f)), b.constant(Tensor::scalar(0.5f))});
       },
       "FusedMatMul"},
      {"Conv + Relu",
       {1, 8, 12, 12},
       [&](Builder& b, graph::Value* x) {
         return b.node("Relu", {b.node("Conv", {x, b.constant(random_f32({16, 8, 3, 3}, rng, -0.3f, 0.3f))},
                                       {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
       },
       "FusedConv"},
      {"Gemm + computed C + Relu",
       {16, 64},
       [&](Builder& b, graph::Value* x) {
         graph::Value* c = b.node("Sigmoid", {b.input("c", PartialShape({32}))});
         return b.node("Relu", {b.node("Gemm", {x, b.constant(random_f32({32, 64}, rng)), c},
                                       {{"transB", int64_t{1}}})});
       },
       "FusedMatMul",
       {{32}}},
      {"Conv + computed bias",
       {1, 8, 12, 12},
       [&](Builder& b, graph::Value* x) {
         graph::Value* bias = b.node("Sigmoid", {b.input("bias", PartialShape({16}))});
         return b.node("Relu",
                       {b.node("Conv", {x, b.constant(random_f32({16, 8, 3, 3}, rng, -0.3f, 0.3f)), bias},
                               {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
       },
       "FusedConv",
       {{16}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Builder b;
    graph::Value* x = b.input("x", PartialShape(c.x));
    Model model = b.finish({c.build(b, x)});
    std::vector<Tensor> inputs{random_f32(c.x, rng)};
    for (const Shape& shape : c.more) inputs.push_back(random_f32(shape, rng));
    const auto profile = expect_cpu_matches_ref(model, inputs, 1e-5);
    int fused = 0;
    for (const ProfilingInfo& p : profile) {
      if (p.node_type != c.fused) continue;
      ++fused;
      EXPECT_NE(p.exec_type, "ref") << p.node_name;
      EXPECT_EQ(p.exec_type.rfind("sluice:", 0), std::string::npos) << p.node_name << " ran " << p.exec_type;
    }
    EXPECT_EQ(fused, 1) << "expected one " << c.fused << " in the profile";
  }
}

// oneDNN 2.6 computes a post-op chain with two eltwise steps of one algorithm but different parameters
// wrongly (it uses the first one's for both): such chains must still match REF. Gemm's alpha merges into
// a HardSigmoid's linear step and stays on oneDNN; the others go to the reference kernel.
TEST(CpuDevice, ActivationChainsWithARepeatedAlgorithmMatchReference) {
  std::mt19937 rng(43);
  auto conv = [&](Builder& b, graph::Value* x) {
    return b.node(
        "Conv",
        {x, b.constant(random_f32({16, 8, 3, 3}, rng, -0.3f, 0.3f)), b.constant(random_f32({16}, rng))},
        {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  };
  auto clip = [&](Builder& b, graph::Value* x, float lo, float hi) {
    return b.node("Clip", {x, b.constant(Tensor::scalar(lo)), b.constant(Tensor::scalar(hi))});
  };
  struct Case {
    std::string name;
    Shape x;
    std::function<graph::Value*(Builder&, graph::Value*)> build;
    bool on_onednn;  // whether the fused node must run on oneDNN
  };
  const std::vector<Case> cases = {
      {"Conv + LeakyRelu + Relu",
       {1, 8, 10, 10},
       [&](Builder& b, graph::Value* x) {
         return b.node("Relu", {b.node("LeakyRelu", {conv(b, x)}, {{"alpha", 0.1f}})});
       },
       false},
      {"Conv + Clip + Clip",
       {1, 8, 10, 10},
       [&](Builder& b, graph::Value* x) { return clip(b, clip(b, conv(b, x), -1.f, 1.f), 0.f, 0.5f); },
       false},
      {"Conv + Clip + Clip, same bounds",
       {1, 8, 10, 10},
       [&](Builder& b, graph::Value* x) { return clip(b, clip(b, conv(b, x), 0.f, 0.5f), 0.f, 0.5f); },
       true},
      {"Gemm alpha + HardSigmoid",
       {16, 64},
       [&](Builder& b, graph::Value* x) {
         graph::Value* y =
             b.node("Gemm", {x, b.constant(random_f32({64, 32}, rng)), b.constant(random_f32({32}, rng))},
                    {{"alpha", 0.25f}});
         return b.node("HardSigmoid", {y}, {{"alpha", 0.5f}, {"beta", 0.25f}});
       },
       true},
      {"MatMul / 4 + Relu + HardSigmoid",
       {16, 64},
       [&](Builder& b, graph::Value* x) {
         graph::Value* y = b.node("Div", {b.node("MatMul", {x, b.constant(random_f32({64, 32}, rng))}),
                                          b.constant(Tensor::scalar(4.f))});
         return b.node("HardSigmoid", {b.node("Relu", {y})});
       },
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Builder b;
    graph::Value* x = b.input("x", PartialShape(c.x));
    Model model = b.finish({c.build(b, x)});
    const auto profile = expect_cpu_matches_ref(model, {random_f32(c.x, rng, -2, 2)}, 1e-5);
    int fused = 0;
    for (const ProfilingInfo& p : profile) {
      if (p.node_type != "FusedConv" && p.node_type != "FusedMatMul") continue;
      ++fused;
      EXPECT_EQ(p.exec_type != "ref", c.on_onednn) << p.node_name << " ran " << p.exec_type;
    }
    EXPECT_EQ(fused, 1);
  }
}

}  // namespace
}  // namespace sluice
