// The device-author API: plugin -> compiled model -> infer request. Devices (REF, CPU) and virtual
// devices (BATCH, MULTI, AUTO) implement these; applications never see them. A virtual device wraps
// other devices through their public CompiledModel, exactly like an application would.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/compiled_model.hpp"
#include "sluice/core.hpp"
#include "sluice/infer_request.hpp"
#include "sluice/model.hpp"
#include "sluice/properties.hpp"
#include "sluice/tensor.hpp"

namespace sluice::graph {
class Graph;
}

namespace sluice::dev {

// A request as the public InferRequest sees it: ports, bound tensors, sync and async inference. Devices
// usually do not implement it themselves: they write a synchronous InferRequestBase and wrap it in an
// AsyncInferRequest, which runs it on the compiled model's StreamsExecutor (async_infer_request.hpp).
// Contract: the one documented on the public InferRequest (busy rules, callbacks, lifetime).
class IInferRequest {
 public:
  virtual ~IInferRequest() = default;
  virtual const std::vector<PortInfo>& inputs() const = 0;
  virtual const std::vector<PortInfo>& outputs() const = 0;
  // Binds a tensor to an input (is_input) or output port by index; validates type and shape.
  virtual void set_tensor(bool is_input, size_t index, const Tensor& tensor) = 0;
  virtual Tensor get_tensor(bool is_input, size_t index) const = 0;
  virtual void infer() = 0;
  virtual void start_async() = 0;
  virtual void wait() = 0;
  virtual bool wait_for(std::chrono::milliseconds timeout) = 0;
  virtual void set_callback(std::function<void(std::exception_ptr)> callback) = 0;
  virtual void cancel() = 0;
  virtual std::vector<ProfilingInfo> get_profiling_info() const = 0;
};

class ICompiledModel {
 public:
  virtual ~ICompiledModel() = default;
  virtual const std::vector<PortInfo>& inputs() const = 0;
  virtual const std::vector<PortInfo>& outputs() const = 0;
  virtual std::shared_ptr<IInferRequest> create_infer_request() = 0;
  virtual Any get_property(const std::string& name) const = 0;
  virtual void set_property(const AnyMap& properties);  // default: every property is read-only here
};

class IPlugin {
 public:
  virtual ~IPlugin() = default;
  // The name compile_model selects it by ("REF", "CPU", "BATCH", ...). A device string "NAME:rest"
  // selects plugin NAME and passes the whole string to compile_model.
  virtual std::string device_name() const = 0;
  virtual std::shared_ptr<ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                        const AnyMap& properties) const = 0;
  virtual Any get_property(const std::string& name) const = 0;
  virtual void set_property(const AnyMap& properties) = 0;
  // Operators of the model this device cannot run, as "op_type (node names...)"; empty when it can run
  // the whole model.
  virtual std::vector<std::string> unsupported_operators(const Model& model) const { return {}; }
  // OPTIMAL_BATCH_SIZE: the batch that automatic batching should gather for this model on this device,
  // compiled with these properties; 1 when batching does not pay.
  virtual int64_t optimal_batch_size(const Model& model, const AnyMap& properties) const { return 1; }

  // The core that owns this plugin, set when registered; virtual devices compile through it.
  void set_core(const Core* core) { core_ = core; }
  const Core* core() const { return core_; }

 private:
  const Core* core_ = nullptr;
};

// The plugin a core uses for a device name ("CPU"; "NAME:..." selects NAME). Throws for an unknown one. For
// virtual devices that must keep using a device after the application may have destroyed the core.
std::shared_ptr<IPlugin> plugin_of(const Core& core, const std::string& device);

// The graph behind a model (devices compile from it; it must not be modified: clone it first).
const graph::Graph& graph_of(const Model& model);
// A model around a graph (takes ownership; infers shapes and computes the ports).
Model make_model(std::shared_ptr<graph::Graph> graph);

}  // namespace sluice::dev
