#include "sluice/core.hpp"

#include <fstream>
#include <map>
#include <mutex>

#include "devices/cpu/cpu_plugin.hpp"
#include "devices/ref/ref_plugin.hpp"
#include "frontend/onnx_reader.hpp"
#include "sluice/dev/plugin.hpp"

namespace sluice {

// Thread-safety: plugins_ is guarded by mutex_; plugins are thread-safe themselves.
struct Core::Impl {
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<dev::IPlugin>> plugins;

  std::shared_ptr<dev::IPlugin> plugin_for(const std::string& device) const {
    // "NAME", "NAME:options" or "NAME(options)" select plugin NAME.
    const std::string name = device.substr(0, device.find_first_of(":(."));
    std::lock_guard lock(mutex);
    auto it = plugins.find(name);
    if (it != plugins.end()) return it->second;
    std::string names;
    for (const auto& [n, p] : plugins) names += (names.empty() ? "" : ", ") + n;
    throw_error("unknown device '", device, "'; available devices: ", names);
  }
};

Core::Core() : impl_(std::make_unique<Impl>()) {
  register_plugin(cpu::make_cpu_plugin());
  register_plugin(ref::make_ref_plugin());
}

Core::~Core() = default;

namespace {

Model model_from_graph(std::shared_ptr<graph::Graph> graph, const std::string& source) {
  try {
    return dev::make_model(std::move(graph));
  } catch (const Error& e) {
    throw_error(source, ": ", e.what());
  }
}

}  // namespace

Model Core::read_model(const std::string& path) const {
  return model_from_graph(frontend::read_onnx_file(path), path);
}

Model Core::read_model(std::span<const uint8_t> bytes, const std::string& base_dir) const {
  return model_from_graph(frontend::read_onnx_model(bytes, base_dir, "<bytes>"), "<bytes>");
}

CompiledModel Core::compile_model(const Model& model, const std::string& device,
                                  const AnyMap& properties) const {
  SLUICE_CHECK(!model.empty(), "compile_model: the model is empty (default-constructed)");
  auto plugin = impl_->plugin_for(device);
  const auto unsupported = plugin->unsupported_operators(model);
  if (!unsupported.empty()) {
    std::string message = "device " + device + " cannot run model '" + model.name() +
                          "': " + std::to_string(unsupported.size()) + " unsupported operator" +
                          (unsupported.size() > 1 ? "s" : "") + ":";
    for (const auto& line : unsupported) message += "\n  " + line;
    throw Error(message);
  }
  return CompiledModel(plugin->compile_model(model, device, properties));
}

CompiledModel Core::compile_model(const std::string& model_path, const std::string& device,
                                  const AnyMap& properties) const {
  return compile_model(read_model(model_path), device, properties);
}

std::vector<std::string> Core::available_devices() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::string> names;
  for (const auto& [name, plugin] : impl_->plugins) names.push_back(name);
  return names;
}

Any Core::get_property(const std::string& device, const std::string& name) const {
  return impl_->plugin_for(device)->get_property(name);
}

void Core::set_property(const std::string& device, const AnyMap& properties) {
  impl_->plugin_for(device)->set_property(properties);
}

void Core::register_plugin(std::shared_ptr<dev::IPlugin> plugin) {
  SLUICE_CHECK(plugin != nullptr, "register_plugin: null plugin");
  const std::string name = plugin->device_name();
  SLUICE_CHECK(!name.empty() && name.find_first_of(":(.,") == std::string::npos,
               "register_plugin: bad device name '", name, "'");
  std::lock_guard lock(impl_->mutex);
  SLUICE_CHECK(!impl_->plugins.count(name), "register_plugin: device '", name, "' is already registered");
  plugin->set_core(this);
  impl_->plugins[name] = std::move(plugin);
}

}  // namespace sluice
