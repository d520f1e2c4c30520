#include "devices/ref/ref_plugin.hpp"

#include <mutex>
#include <set>

#include "core/model_impl.hpp"
#include "devices/device_streams.hpp"
#include "graph/op_registry.hpp"
#include "graph/passes.hpp"
#include "runtime/interpreter.hpp"
#include "sluice/dev/async_infer_request.hpp"
#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin_base.hpp"
#include "sluice/dev/property_store.hpp"
#include "util/cpu_topology.hpp"

namespace sluice::ref {

namespace {

constexpr const char* device_name = "REF";
constexpr const char* full_name = "Sluice reference interpreter (single-threaded, reference kernels)";

dev::PropertyStore default_properties() {
  return dev::PropertyStore(device_name, {
                                             {"PERFORMANCE_HINT", PerformanceMode::LATENCY},
                                             {"PERFORMANCE_HINT_NUM_REQUESTS", int64_t{0}},
                                             {"NUM_STREAMS", int64_t{1}},
                                             {"INFERENCE_NUM_THREADS", int64_t{0}},
                                             {"INFERENCE_PRECISION_HINT", ElementType::f32},
                                             {"ENABLE_PROFILING", false},
                                             {"ALLOW_AUTO_BATCHING", true},
                                             {"DISABLED_PASSES", std::vector<std::string>{}},
                                             {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", int64_t{1}},
                                             {"SUPPORTED_PROPERTIES", Any()},
                                             {"AVAILABLE_DEVICES", std::vector<std::string>{device_name}},
                                             {"FULL_DEVICE_NAME", full_name},
                                             {"EXECUTION_DEVICES", std::vector<std::string>{device_name}},
                                         });
}

class RefCompiledModel;

class RefInferRequest : public dev::InferRequestBase {
 public:
  explicit RefInferRequest(std::shared_ptr<const RefCompiledModel> compiled);

 private:
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset, std::vector<Tensor>& outputs,
           int stream) override;

  std::shared_ptr<const RefCompiledModel> compiled_;
};

// Immutable after construction (the interpreter is stateless between runs): safe to use from many
// threads. Its streams run one request each, single-threaded.
class RefCompiledModel : public dev::ICompiledModel, public std::enable_shared_from_this<RefCompiledModel> {
 public:
  RefCompiledModel(std::shared_ptr<graph::Graph> graph, dev::PropertyStore properties,
                   const dev::StreamsConfig& streams)
      : inputs_(detail::ports_of(graph->inputs())),
        outputs_(detail::ports_of(graph->outputs())),
        interpreter_(graph),
        properties_(std::move(properties)),
        streams_executor_(std::make_shared<dev::StreamsExecutor>(streams.streams)) {
    properties_.set_computed("NETWORK_NAME", graph->name);
    // REF computes in the model's own precision whatever the hint says.
    properties_.set_computed("INFERENCE_PRECISION_HINT", ElementType::f32);
    // The interpreter runs a batch as the same per-element loops as one request: batching gains nothing.
    properties_.set_computed("OPTIMAL_BATCH_SIZE", int64_t{1});
    dev::publish_streams(properties_, streams);
    properties_.set_computed("SUPPORTED_PROPERTIES", properties_.names());
  }

  const std::vector<PortInfo>& inputs() const override { return inputs_; }
  const std::vector<PortInfo>& outputs() const override { return outputs_; }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override {
    return std::make_shared<dev::AsyncInferRequest>(std::make_shared<RefInferRequest>(shared_from_this()),
                                                    streams_executor_);
  }
  Any get_property(const std::string& name) const override { return properties_.get(name); }

  const runtime::Interpreter& interpreter() const { return interpreter_; }
  bool profiling() const { return profiling_; }

 private:
  std::vector<PortInfo> inputs_;
  std::vector<PortInfo> outputs_;
  runtime::Interpreter interpreter_;
  dev::PropertyStore properties_;
  bool profiling_ = properties_.get("ENABLE_PROFILING").as<bool>();
  std::shared_ptr<dev::StreamsExecutor> streams_executor_;
};

RefInferRequest::RefInferRequest(std::shared_ptr<const RefCompiledModel> compiled)
    : InferRequestBase(compiled->inputs(), compiled->outputs()), compiled_(std::move(compiled)) {}

void RefInferRequest::run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
                          std::vector<Tensor>& outputs, int /*stream: REF keeps no per-stream state*/) {
  profile_.clear();
  outputs = compiled_->interpreter().run(inputs, compiled_->profiling() ? &profile_ : nullptr, cancel_flag());
}

// Thread-safe (PluginBase guards the properties).
class RefPlugin : public dev::PluginBase {
 public:
  RefPlugin() : PluginBase(default_properties()) {}
  std::string device_name() const override { return ref::device_name; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(device == ref::device_name, "device '", device, "': REF takes no options");
    dev::PropertyStore props = properties_with(properties);
    std::shared_ptr<graph::Graph> graph = dev::graph_of(model).clone();
    graph->resolve_operators();
    const auto disabled = props.get("DISABLED_PASSES").as<std::vector<std::string>>();
    graph::default_pass_manager().run(*graph, std::set<std::string>(disabled.begin(), disabled.end()));
    // Single-threaded kernels: a stream is one thread, so THROUGHPUT means one stream per core.
    dev::StreamsRequest request = dev::streams_request(props);
    request.max_threads_per_stream = 1;
    const dev::StreamsConfig streams = dev::resolve_streams(host_topology(), {}, request);
    return std::make_shared<RefCompiledModel>(std::move(graph), std::move(props), streams);
  }
};

}  // namespace

std::shared_ptr<dev::IPlugin> make_ref_plugin() { return std::make_shared<RefPlugin>(); }

}  // namespace sluice::ref
