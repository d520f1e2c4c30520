// Core: the entry point. Reads models, knows the devices, compiles models for them.
//
//   sluice::Core core;
//   sluice::Model model = core.read_model("resnet50.onnx");
//   sluice::CompiledModel compiled = core.compile_model(model, "CPU",
//       {sluice::props::performance_hint(sluice::PerformanceMode::THROUGHPUT)});
//   sluice::InferRequest request = compiled.create_infer_request();
//   request.set_input_tensor(sluice::Tensor(sluice::ElementType::f32, {1, 3, 224, 224}, my_data));
//   request.infer();
//   sluice::Tensor scores = request.get_output_tensor();
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sluice/compiled_model.hpp"
#include "sluice/model.hpp"
#include "sluice/properties.hpp"

namespace sluice {

class Core;
namespace dev {
class IPlugin;
std::shared_ptr<IPlugin> plugin_of(const Core& core, const std::string& device);
}  // namespace dev

// Thread-safe: every method may be called from many threads at once.
class Core {
 public:
  // A core with the built-in devices registered: CPU, REF, and the virtual BATCH, MULTI and AUTO.
  Core();
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Reads an ONNX model from a file; external data is resolved relative to the file's folder.
  Model read_model(const std::string& path) const;
  // Reads an ONNX model from bytes; external data, if any, is resolved relative to `base_dir` (none
  // allowed when empty).
  Model read_model(std::span<const uint8_t> bytes, const std::string& base_dir = {}) const;

  // Compiles a model for a device ("REF", "CPU", "BATCH:CPU(8)", "MULTI:CPU,REF", "AUTO").
  // Properties override the device's current ones for this compiled model. Throws sluice::Error for an
  // unknown device, an unknown property or bad value, or a model the device cannot run.
  CompiledModel compile_model(const Model& model, const std::string& device,
                              const AnyMap& properties = {}) const;
  CompiledModel compile_model(const std::string& model_path, const std::string& device,
                              const AnyMap& properties = {}) const;

  // OPTIMAL_BATCH_SIZE of a device for a model: the batch automatic batching would gather for it there
  // (1 when batching does not pay). A compile_model with the THROUGHPUT hint batches the model through the
  // BATCH device when this is above 1, unless ALLOW_AUTO_BATCHING is false.
  int64_t optimal_batch_size(const Model& model, const std::string& device,
                             const AnyMap& properties = {}) const;

  // Device names that can be used with compile_model, in registration order (the built-in ones first).
  std::vector<std::string> available_devices() const;
  Any get_property(const std::string& device, const std::string& name) const;
  template <class T, props::Access A>
  T get_property(const std::string& device, const props::Property<T, A>& key) const {
    return get_property(device, std::string(key.name)).template as<T>();
  }
  // Sets a device's default properties for later compile_model calls.
  void set_property(const std::string& device, const AnyMap& properties);

  // Registers a device plugin under its name (its device_name()). Throws if the name is taken.
  void register_plugin(std::shared_ptr<dev::IPlugin> plugin);

 private:
  friend std::shared_ptr<dev::IPlugin> dev::plugin_of(const Core& core, const std::string& device);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
