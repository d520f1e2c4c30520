#include "devices/cpu/cpu_plugin.hpp"

#include <omp.h>

#include <fstream>
#include <mutex>
#include <set>

#include "core/model_impl.hpp"
#include "devices/cpu/executor.hpp"
#include "devices/cpu/fusion.hpp"
#include "devices/cpu/model_analysis.hpp"
#include "devices/device_streams.hpp"
#include "graph/op_registry.hpp"
#include "graph/passes.hpp"
#include "sluice/dev/async_infer_request.hpp"
#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin_base.hpp"
#include "sluice/dev/property_store.hpp"
#include "util/cpu_topology.hpp"

namespace sluice::cpu {

namespace {

constexpr const char* device_name = "CPU";

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

// Whether this CPU runs bf16 convolutions and matrix products natively (avx512_bf16 or AMX), as oneDNN
// sees it (ONEDNN_MAX_CPU_ISA can lower what it sees).
bool native_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

std::string isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::sse41: return "sse41";
    default: return "generic";
  }
}

std::vector<std::string> capabilities() {
  std::vector<std::string> caps = {"FP32"};
  if (native_bf16()) caps.push_back("BF16");
  return caps;
}

dev::PropertyStore default_properties() {
  return dev::PropertyStore(device_name, {
                                             {"PERFORMANCE_HINT", PerformanceMode::LATENCY},
                                             {"PERFORMANCE_HINT_NUM_REQUESTS", int64_t{0}},
                                             {"NUM_STREAMS", int64_t{1}},
                                             {"ENABLE_CPU_PINNING", true},
                                             {"INFERENCE_NUM_THREADS", int64_t{0}},
                                             {"INFERENCE_PRECISION_HINT", ElementType::f32},
                                             {"ENABLE_PROFILING", false},
                                             {"ALLOW_AUTO_BATCHING", true},
                                             {"DISABLED_PASSES", std::vector<std::string>{}},
                                             {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", int64_t{1}},
                                             {"SUPPORTED_PROPERTIES", Any()},
                                             {"AVAILABLE_DEVICES", std::vector<std::string>{device_name}},
                                             {"FULL_DEVICE_NAME", cpu_model_name() + " (" + isa_name() + ")"},
                                             {"EXECUTION_DEVICES", std::vector<std::string>{device_name}},
                                             {"OPTIMIZATION_CAPABILITIES", capabilities()},
                                             {"WEIGHTS_BYTES", int64_t{0}},
                                             {"ARENA_BYTES", int64_t{0}},
                                             {"EXECUTION_KERNELS", std::vector<std::string>{}},
                                         });
}

// The passes a CPU compile runs, by name: the standard ones and the CPU fusions.
std::set<std::string> known_passes() {
  std::set<std::string> names;
  for (const auto& n : graph::default_pass_manager().names()) names.insert(n);
  for (const auto& n : cpu_fusion_passes().names()) names.insert(n);
  return names;
}

class CpuCompiledModel;

class CpuInferRequest : public dev::InferRequestBase {
 public:
  explicit CpuInferRequest(std::shared_ptr<const CpuCompiledModel> compiled);

 private:
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset, std::vector<Tensor>& outputs,
           int stream) override;

  std::shared_ptr<const CpuCompiledModel> compiled_;
  std::vector<Tensor> storage_;  // this request's output tensors, reused by every inference
};

// One stream's execution state. Touched only by that stream's thread (one inference at a time).
struct CpuStream {
  Executor::Request state;  // bound plans: arenas, views, kernel states
  ThreadConfig threads;     // its thread count and cores
};

// Immutable after construction except through the executor (thread-safe) and the per-stream states
// (each used by its stream's thread only): safe to use from many threads.
class CpuCompiledModel : public dev::ICompiledModel, public std::enable_shared_from_this<CpuCompiledModel> {
 public:
  CpuCompiledModel(std::shared_ptr<graph::Graph> graph, dev::PropertyStore properties, CpuConfig config,
                   std::set<std::string> disabled_passes, const dev::StreamsConfig& streams)
      : inputs_(detail::ports_of(graph->inputs())),
        outputs_(detail::ports_of(graph->outputs())),
        name_(graph->name),
        executor_(std::move(graph), config, std::move(disabled_passes)),
        properties_(std::move(properties)) {
    properties_.set_computed("NETWORK_NAME", name_);
    properties_.set_computed("INFERENCE_PRECISION_HINT", config.precision);
    dev::publish_streams(properties_, streams);
    properties_.set_computed("SUPPORTED_PROPERTIES", properties_.names());
    for (int s = 0; s < streams.streams; ++s) {
      streams_.push_back(std::make_unique<CpuStream>());
      streams_.back()->threads = {streams.stream_threads[static_cast<size_t>(s)],
                                  streams.stream_cpus[static_cast<size_t>(s)]};
    }
    streams_executor_ = std::make_shared<dev::StreamsExecutor>(
        streams.streams, [this](int s) { apply_thread_config(streams_[static_cast<size_t>(s)]->threads); });
    // A model whose inputs all have static shapes is planned now (weights packed, memory planned), so that
    // the first inference is fast and WEIGHTS_BYTES / ARENA_BYTES are known at once. On a stream's thread:
    // oneDNN sizes its primitives' work for the thread team they are made on, and an OpenMP team on the
    // application's thread would stay (libgomp counts its idle threads, and once a process has more
    // OpenMP threads than cores, every team's threads sleep between parallel regions instead of spinning,
    // which costs a wake-up per region).
    std::vector<Shape> shapes;
    bool static_inputs = true;
    for (const auto& port : inputs_) {
      static_inputs = static_inputs && port.shape.is_static();
      if (static_inputs) shapes.push_back(port.shape.to_shape());
    }
    if (static_inputs) streams_executor_->run_and_wait([&](int) { executor_.plan_for(shapes); });
  }

  const std::vector<PortInfo>& inputs() const override { return inputs_; }
  const std::vector<PortInfo>& outputs() const override { return outputs_; }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override {
    return std::make_shared<dev::AsyncInferRequest>(std::make_shared<CpuInferRequest>(shared_from_this()),
                                                    streams_executor_);
  }
  Any get_property(const std::string& name) const override {
    if (name == "WEIGHTS_BYTES") return static_cast<int64_t>(executor_.weight_bytes());
    if (name == "ARENA_BYTES") return static_cast<int64_t>(executor_.arena_bytes());
    if (name == "EXECUTION_KERNELS") return executor_.execution_kernels();
    return properties_.get(name);
  }

  const Executor& executor() const { return executor_; }
  // The state of stream `s`: only its own thread may use it.
  CpuStream& stream(int s) const { return *streams_[static_cast<size_t>(s)]; }
  bool profiling() const { return profiling_; }

 private:
  std::vector<PortInfo> inputs_;
  std::vector<PortInfo> outputs_;
  std::string name_;
  Executor executor_;
  dev::PropertyStore properties_;
  bool profiling_ = properties_.get("ENABLE_PROFILING").as<bool>();
  std::vector<std::unique_ptr<CpuStream>> streams_;
  // Last, so that it is destroyed first: its threads are joined while the stream states still exist.
  std::shared_ptr<dev::StreamsExecutor> streams_executor_;
};

CpuInferRequest::CpuInferRequest(std::shared_ptr<const CpuCompiledModel> compiled)
    : InferRequestBase(compiled->inputs(), compiled->outputs()), compiled_(std::move(compiled)) {}

void CpuInferRequest::run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
                          std::vector<Tensor>& outputs, int stream) {
  profile_.clear();
  CpuStream& s = compiled_->stream(stream);
  compiled_->executor().run(s.state, inputs, preset, storage_, outputs, s.threads,
                            compiled_->profiling() ? &profile_ : nullptr, cancel_flag());
}

// Thread-safe (PluginBase guards the properties).
class CpuPlugin : public dev::PluginBase {
 public:
  CpuPlugin() : PluginBase(default_properties()) {}
  std::string device_name() const override { return cpu::device_name; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(device == cpu::device_name, "device '", device, "': CPU takes no options");
    Prepared p = prepare(model, properties);
    CpuConfig config;
    const ElementType hint = p.props.get("INFERENCE_PRECISION_HINT").as<ElementType>();
    // bf16 only where the CPU computes it natively: emulated bf16 is slower than f32, so the hint
    // resolves to f32 elsewhere (readable back as INFERENCE_PRECISION_HINT).
    config.precision = hint == ElementType::bf16 && native_bf16() ? ElementType::bf16 : ElementType::f32;
    p.props.set_computed("OPTIMAL_BATCH_SIZE", static_cast<int64_t>(batch_estimate(p).batch));
    return std::make_shared<CpuCompiledModel>(std::move(p.graph), std::move(p.props), config, p.disabled,
                                              p.streams);
  }

  int64_t optimal_batch_size(const Model& model, const AnyMap& properties) const override {
    return batch_estimate(prepare(model, properties)).batch;
  }

 private:
  // A model made ready for this device: its optimized graph and the streams it gets.
  struct Prepared {
    dev::PropertyStore props;
    std::set<std::string> disabled;
    std::shared_ptr<graph::Graph> graph;
    dev::StreamsConfig streams;
  };

  Prepared prepare(const Model& model, const AnyMap& properties) const {
    dev::PropertyStore props = properties_with(properties);
    const auto disabled_list = props.get("DISABLED_PASSES").as<std::vector<std::string>>();
    const std::set<std::string> disabled(disabled_list.begin(), disabled_list.end());
    const std::set<std::string> known = known_passes();
    for (const auto& name : disabled) {
      if (known.count(name)) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw_error("DISABLED_PASSES: unknown pass '", name, "'; the CPU device's passes are: ", list);
    }
    std::shared_ptr<graph::Graph> graph = dev::graph_of(model).clone();
    graph->resolve_operators();
    optimize_for_cpu(*graph, disabled);
    dev::StreamsRequest request = dev::streams_request(props);
    // OMP_THREAD_LIMIT caps every OpenMP team: a stream cannot have more threads than that. (oneDNN
    // primitives are planned for the team size they are created with and compute wrong results in a
    // smaller team, so the limit must be known here, not discovered at run time.)
    request.max_threads_per_stream = std::min(omp_get_thread_limit(), 1 << 16);
    dev::StreamsConfig streams =
        dev::resolve_streams(host_topology(), analyze_compute(*graph, host_topology()), request);
    return {std::move(props), disabled, std::move(graph), std::move(streams)};
  }

  // The batch automatic batching should use, for the threads of this compile's first stream (the
  // largest; streams differ by at most the leftover cores). At most PERFORMANCE_HINT_NUM_REQUESTS when
  // that is set: a batch cannot fill from fewer requests.
  static BatchEstimate batch_estimate(const Prepared& p) {
    int max_batch = 16;
    const int64_t requests = p.props.get("PERFORMANCE_HINT_NUM_REQUESTS").as<int64_t>();
    if (requests > 0) max_batch = static_cast<int>(std::min<int64_t>(requests, max_batch));
    return estimate_optimal_batch(*p.graph, host_topology(), std::max(p.streams.stream_threads.front(), 1),
                                  max_batch);
  }
};

}  // namespace

std::shared_ptr<dev::IPlugin> make_cpu_plugin() { return std::make_shared<CpuPlugin>(); }

}  // namespace sluice::cpu
