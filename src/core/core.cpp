#include "sluice/core.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>

#include "devices/batch/batch_layout.hpp"
#include "devices/batch/batch_plugin.hpp"
#include "devices/cpu/cpu_plugin.hpp"
#include "devices/multi/multi_plugin.hpp"
#include "devices/ref/ref_plugin.hpp"
#include "frontend/onnx_reader.hpp"
#include "sluice/dev/plugin.hpp"

namespace sluice {

// Thread-safety: plugins and order are guarded by mutex; plugins are thread-safe themselves.
struct Core::Impl {
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<dev::IPlugin>> plugins;
  std::vector<std::string> order;  // the names in registration order

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
  register_plugin(batch::make_batch_plugin());
  register_plugin(multi::make_multi_plugin());
  register_plugin(multi::make_auto_plugin());
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

namespace {

// A property as this compile sees it: given to the call, else the device's default; empty when the device
// does not have it.
Any effective_property(const dev::IPlugin& plugin, const AnyMap& properties, const std::string& name) {
  auto it = properties.find(name);
  if (it != properties.end()) return normalize_property(*find_property_info(name), it->second);
  try {
    return plugin.get_property(name);
  } catch (const Error&) {
    return {};
  }
}

bool supports(const dev::IPlugin& plugin, const std::string& name) {
  try {
    const auto names = plugin.get_property("SUPPORTED_PROPERTIES").as<std::vector<std::string>>();
    return std::find(names.begin(), names.end(), name) != names.end();
  } catch (const Error&) {
    return false;
  }
}

// The batch of implicit automatic batching for this compile: above 1 when the device (a plain one) is
// asked for THROUGHPUT, allows it, reports an OPTIMAL_BATCH_SIZE above 1 for the model (capped by
// PERFORMANCE_HINT_NUM_REQUESTS), and the model has a usable batch dimension; else 0 (not batched).
int64_t implicit_batch(const dev::IPlugin& plugin, const Model& model, const std::string& device,
                       const AnyMap& properties) {
  if (device != plugin.device_name() || plugin.device_name() == "BATCH" || plugin.device_name() == "MULTI" ||
      plugin.device_name() == "AUTO") {
    return 0;
  }
  const Any hint = effective_property(plugin, properties, "PERFORMANCE_HINT");
  const Any allow = effective_property(plugin, properties, "ALLOW_AUTO_BATCHING");
  if (hint.empty() || hint.as<PerformanceMode>() != PerformanceMode::THROUGHPUT) return 0;
  if (allow.empty() || !allow.as<bool>()) return 0;
  int64_t batch = plugin.optimal_batch_size(model, properties);
  const Any cap = effective_property(plugin, properties, "PERFORMANCE_HINT_NUM_REQUESTS");
  if (!cap.empty() && cap.as<int64_t>() > 0) batch = std::min(batch, cap.as<int64_t>());
  if (batch <= 1) return 0;
  try {
    auto it = properties.find("LAYOUT");
    const auto layout =
        it == properties.end()
            ? std::vector<std::string>{}
            : normalize_property(*find_property_info("LAYOUT"), it->second).as<std::vector<std::string>>();
    batch::find_batch_layout(model, layout, batch);
  } catch (const Error&) {
    return 0;  // implicit batching quietly runs a model it cannot batch unbatched
  }
  return batch;
}

}  // namespace

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
  if (const int64_t batch = implicit_batch(*plugin, model, device, properties); batch > 1) {
    return compile_model(model, "BATCH:" + device + "(" + std::to_string(batch) + ")", properties);
  }
  // ALLOW_AUTO_BATCHING is the core's: a device that does not know it does not get it.
  if (properties.count("ALLOW_AUTO_BATCHING") && !supports(*plugin, "ALLOW_AUTO_BATCHING")) {
    AnyMap rest = properties;
    rest.erase("ALLOW_AUTO_BATCHING");
    return CompiledModel(plugin->compile_model(model, device, rest));
  }
  return CompiledModel(plugin->compile_model(model, device, properties));
}

int64_t Core::optimal_batch_size(const Model& model, const std::string& device,
                                 const AnyMap& properties) const {
  SLUICE_CHECK(!model.empty(), "optimal_batch_size: the model is empty (default-constructed)");
  return impl_->plugin_for(device)->optimal_batch_size(model, properties);
}

CompiledModel Core::compile_model(const std::string& model_path, const std::string& device,
                                  const AnyMap& properties) const {
  return compile_model(read_model(model_path), device, properties);
}

std::vector<std::string> Core::available_devices() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->order;
}

Any Core::get_property(const std::string& device, const std::string& name) const {
  return impl_->plugin_for(device)->get_property(name);
}

void Core::set_property(const std::string& device, const AnyMap& properties) {
  impl_->plugin_for(device)->set_property(properties);
}

std::shared_ptr<dev::IPlugin> dev::plugin_of(const Core& core, const std::string& device) {
  return core.impl_->plugin_for(device);
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
  impl_->order.push_back(name);
}

}  // namespace sluice
