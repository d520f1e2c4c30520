#include "devices/cpu/cpu_plugin.hpp"

#include <sched.h>

#include <fstream>
#include <mutex>
#include <set>

#include "core/model_impl.hpp"
#include "devices/cpu/executor.hpp"
#include "devices/cpu/fusion.hpp"
#include "graph/op_registry.hpp"
#include "graph/passes.hpp"
#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin_base.hpp"
#include "sluice/dev/property_store.hpp"

namespace sluice::cpu {

namespace {

constexpr const char* device_name = "CPU";

// Cores this process may run on.
int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(CPU_COUNT(&set), 1);
  return 1;
}

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
                                             {"INFERENCE_NUM_THREADS", int64_t{0}},
                                             {"INFERENCE_PRECISION_HINT", ElementType::f32},
                                             {"ENABLE_PROFILING", false},
                                             {"DISABLED_PASSES", std::vector<std::string>{}},
                                             {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", int64_t{1}},
                                             {"SUPPORTED_PROPERTIES", Any()},
                                             {"AVAILABLE_DEVICES", std::vector<std::string>{device_name}},
                                             {"FULL_DEVICE_NAME", cpu_model_name() + " (" + isa_name() + ")"},
                                             {"EXECUTION_DEVICES", std::vector<std::string>{device_name}},
                                             {"OPTIMIZATION_CAPABILITIES", capabilities()},
                                             {"WEIGHTS_BYTES", int64_t{0}},
                                             {"ARENA_BYTES", int64_t{0}},
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
  std::vector<ProfilingInfo> get_profiling_info() const override { return profile_; }

 private:
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
           std::vector<Tensor>& outputs) override;

  std::shared_ptr<const CpuCompiledModel> compiled_;
  Executor::Request state_;
  std::vector<ProfilingInfo> profile_;
};

// Immutable after construction except through the executor, which is thread-safe: safe to use from many
// threads.
class CpuCompiledModel : public dev::ICompiledModel, public std::enable_shared_from_this<CpuCompiledModel> {
 public:
  CpuCompiledModel(std::shared_ptr<graph::Graph> graph, dev::PropertyStore properties, CpuConfig config,
                   std::set<std::string> disabled_passes, ThreadConfig threads)
      : inputs_(detail::ports_of(graph->inputs())),
        outputs_(detail::ports_of(graph->outputs())),
        name_(graph->name),
        executor_(std::move(graph), config, std::move(disabled_passes)),
        threads_(std::move(threads)),
        properties_(std::move(properties)) {
    properties_.set_computed("NETWORK_NAME", name_);
    properties_.set_computed("INFERENCE_PRECISION_HINT", config.precision);
    properties_.set_computed("NUM_STREAMS", int64_t{1});
    properties_.set_computed("INFERENCE_NUM_THREADS", int64_t{threads_.num_threads});
    properties_.set_computed("SUPPORTED_PROPERTIES", properties_.names());
    // A model whose inputs all have static shapes is planned now, so that the first inference is fast
    // and WEIGHTS_BYTES / ARENA_BYTES are known at once.
    std::vector<Shape> shapes;
    for (const auto& port : inputs_) {
      if (!port.shape.is_static()) return;
      shapes.push_back(port.shape.to_shape());
    }
    apply_thread_config(threads_);
    executor_.plan_for(shapes);
  }

  const std::vector<PortInfo>& inputs() const override { return inputs_; }
  const std::vector<PortInfo>& outputs() const override { return outputs_; }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override {
    return std::make_shared<CpuInferRequest>(shared_from_this());
  }
  Any get_property(const std::string& name) const override {
    if (name == "WEIGHTS_BYTES") return static_cast<int64_t>(executor_.weight_bytes());
    if (name == "ARENA_BYTES") return static_cast<int64_t>(executor_.arena_bytes());
    return properties_.get(name);
  }

  const Executor& executor() const { return executor_; }
  const ThreadConfig& threads() const { return threads_; }
  bool profiling() const { return profiling_; }

 private:
  std::vector<PortInfo> inputs_;
  std::vector<PortInfo> outputs_;
  std::string name_;
  Executor executor_;
  ThreadConfig threads_;
  dev::PropertyStore properties_;
  bool profiling_ = properties_.get("ENABLE_PROFILING").as<bool>();
};

CpuInferRequest::CpuInferRequest(std::shared_ptr<const CpuCompiledModel> compiled)
    : InferRequestBase(compiled->inputs(), compiled->outputs()), compiled_(std::move(compiled)) {}

void CpuInferRequest::run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
                          std::vector<Tensor>& outputs) {
  profile_.clear();
  compiled_->executor().run(state_, inputs, preset, outputs, compiled_->threads(),
                            compiled_->profiling() ? &profile_ : nullptr);
}

// Thread-safe (PluginBase guards the properties).
class CpuPlugin : public dev::PluginBase {
 public:
  CpuPlugin() : PluginBase(default_properties()) {}
  std::string device_name() const override { return cpu::device_name; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(device == cpu::device_name, "device '", device, "': CPU takes no options");
    dev::PropertyStore props = properties_with(properties);
    const int64_t streams = props.get("NUM_STREAMS").as<int64_t>();
    SLUICE_CHECK(streams == 1 || streams == props::streams_auto, "NUM_STREAMS=", streams,
                 ": the CPU device runs one stream for now (NUM_STREAMS 1 or AUTO)");
    const auto disabled_list = props.get("DISABLED_PASSES").as<std::vector<std::string>>();
    const std::set<std::string> disabled(disabled_list.begin(), disabled_list.end());
    const std::set<std::string> known = known_passes();
    for (const auto& name : disabled) {
      if (known.count(name)) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw_error("DISABLED_PASSES: unknown pass '", name, "'; the CPU device's passes are: ", list);
    }

    CpuConfig config;
    const ElementType hint = props.get("INFERENCE_PRECISION_HINT").as<ElementType>();
    // bf16 only where the CPU computes it natively: emulated bf16 is slower than f32, so the hint
    // resolves to f32 elsewhere (readable back as INFERENCE_PRECISION_HINT).
    config.precision = hint == ElementType::bf16 && native_bf16() ? ElementType::bf16 : ElementType::f32;
    ThreadConfig threads;
    const int64_t requested = props.get("INFERENCE_NUM_THREADS").as<int64_t>();
    threads.num_threads =
        static_cast<int>(requested > 0 ? std::min<int64_t>(requested, 1024) : available_cores());

    std::shared_ptr<graph::Graph> graph = dev::graph_of(model).clone();
    graph->resolve_operators();
    optimize_for_cpu(*graph, disabled);
    return std::make_shared<CpuCompiledModel>(std::move(graph), std::move(props), config, disabled,
                                              std::move(threads));
  }
};

}  // namespace

std::shared_ptr<dev::IPlugin> make_cpu_plugin() { return std::make_shared<CpuPlugin>(); }

}  // namespace sluice::cpu
