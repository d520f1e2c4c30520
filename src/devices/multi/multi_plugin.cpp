// The MULTI and AUTO virtual devices (docs/multi-device.md). Both compile the model on real devices and
// balance requests over them with the Scheduler; AUTO also chooses the devices, runs requests on the CPU
// while its preferred device compiles, and retries a failed request on another device.
#include "devices/multi/multi_plugin.hpp"

#include <algorithm>
#include <future>
#include <iostream>
#include <thread>

#include "devices/multi/scheduler.hpp"
#include "sluice/dev/plugin_base.hpp"

namespace sluice::multi {

namespace {

bool is_virtual(const std::string& device) {
  return device == "BATCH" || device == "MULTI" || device == "AUTO";
}

// One entry of a device list: "CPU" or "CPU(4)" (4 worker requests); 0 requests: the device's
// OPTIMAL_NUMBER_OF_INFER_REQUESTS.
struct ListedDevice {
  std::string name;
  int64_t requests = 0;
};

std::vector<ListedDevice> parse_list(const std::vector<std::string>& entries, const std::string& owner) {
  std::vector<ListedDevice> out;
  for (const std::string& entry : entries) {
    ListedDevice d{entry, 0};
    const size_t open = entry.find('(');
    if (open != std::string::npos) {
      const std::string digits = entry.substr(open + 1, entry.size() - open - 2);
      SLUICE_CHECK(entry.back() == ')' && !digits.empty() && digits.size() <= 6 &&
                       digits.find_first_not_of("0123456789") == std::string::npos && std::stoll(digits) > 0,
                   owner, ": device entry '", entry,
                   "' is not NAME or NAME(requests) with a positive number of requests");
      d.name = entry.substr(0, open);
      d.requests = std::stoll(digits);
    }
    SLUICE_CHECK(!d.name.empty(), owner, ": an empty device name in the list");
    SLUICE_CHECK(!is_virtual(d.name.substr(0, d.name.find(':'))), owner, ": '", d.name,
                 "' is a virtual device; list real devices (CPU, REF, ...)");
    for (const auto& other : out) {
      SLUICE_CHECK(other.name != d.name, owner, ": device ", d.name, " is listed twice");
    }
    out.push_back(d);
  }
  return out;
}

// Splits "CPU(4),REF" the way a string_list property is given.
std::vector<std::string> split_list(const std::string& list) {
  return normalize_property(*find_property_info("MULTI_DEVICE_PRIORITIES"), list)
      .as<std::vector<std::string>>();
}

// Properties only MULTI/AUTO use; every other one goes to each device (PERFORMANCE_HINT both ways).
bool own_property(const std::string& name) {
  return name == "MULTI_DEVICE_PRIORITIES" || name == "ENABLE_STARTUP_FALLBACK" ||
         name == "ENABLE_RUNTIME_FALLBACK";
}

AnyMap device_properties(const AnyMap& properties) {
  AnyMap out;
  for (const auto& [name, value] : properties) {
    if (!own_property(name)) out[name] = value;
  }
  return out;
}

// The compiled model MULTI and AUTO give the application.
class MultiCompiledModel final : public dev::ICompiledModel {
 public:
  MultiCompiledModel(std::shared_ptr<Scheduler> scheduler, dev::PropertyStore properties)
      : scheduler_(std::move(scheduler)), properties_(std::move(properties)) {}

  const std::vector<PortInfo>& inputs() const override { return scheduler_->inputs(); }
  const std::vector<PortInfo>& outputs() const override { return scheduler_->outputs(); }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override {
    return std::make_shared<MultiInferRequest>(scheduler_);
  }

  Any get_property(const std::string& name) const override {
    if (name == "EXECUTION_DEVICES") return scheduler_->execution_devices();
    if (name == "OPTIMAL_NUMBER_OF_INFER_REQUESTS") return scheduler_->worker_count();
    if (name == "SERVED_REQUESTS") return scheduler_->served();
    if (name == "DROPPED_DEVICES") return scheduler_->dropped();
    if (name == "SUPPORTED_PROPERTIES") {
      auto names = scheduler_->primary().get_property(props::supported_properties);
      for (const auto& own : properties_.names()) {
        if (std::find(names.begin(), names.end(), own) == names.end()) names.push_back(own);
      }
      for (const char* own : {"SERVED_REQUESTS", "DROPPED_DEVICES"}) {
        if (std::find(names.begin(), names.end(), own) == names.end()) names.emplace_back(own);
      }
      return names;
    }
    if (properties_.supports(name)) return properties_.get(name);
    return scheduler_->primary().get_property(name);
  }

 private:
  std::shared_ptr<Scheduler> scheduler_;
  dev::PropertyStore properties_;  // the virtual device's own (frozen)
};

struct Compiled {
  ListedDevice device;
  CompiledModel model;
  std::string error;
};

// Compiles `model` on each device at once (each on its own thread), in list order in the result.
std::vector<Compiled> compile_all(const Core& core, const Model& model, const std::vector<ListedDevice>& list,
                                  const AnyMap& properties) {
  std::vector<std::future<Compiled>> futures;
  for (const ListedDevice& d : list) {
    futures.push_back(std::async(std::launch::async, [&core, &model, &properties, d] {
      Compiled c{d, {}, {}};
      try {
        c.model = core.compile_model(model, d.name, properties);
      } catch (const std::exception& e) {
        c.error = e.what();
      }
      return c;
    }));
  }
  std::vector<Compiled> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

int64_t workers_for(const Compiled& c) {
  return c.device.requests > 0 ? c.device.requests
                               : c.model.get_property(props::optimal_number_of_infer_requests);
}

// Builds a scheduler over the devices that compiled, after `dropped_before` (devices that failed earlier);
// warns about those that did not (and lists them in DROPPED_DEVICES); throws listing every failure when
// none did.
std::shared_ptr<Scheduler> schedule(const std::string& owner, std::vector<Compiled> compiled,
                                    bool runtime_fallback, std::vector<std::string> dropped_before = {}) {
  std::vector<std::string> dropped = std::move(dropped_before);
  std::shared_ptr<Scheduler> scheduler;
  for (Compiled& c : compiled) {
    if (!c.error.empty()) {
      dropped.push_back(c.device.name + ": " + c.error);
      continue;
    }
    if (!scheduler) {
      scheduler = std::make_shared<Scheduler>(c.model.inputs(), c.model.outputs(), runtime_fallback);
    }
    scheduler->add_device(c.device.name, c.model, workers_for(c));
  }
  if (!scheduler) {
    std::string message = owner + ": no device could compile the model:";
    for (const auto& d : dropped) message += "\n  " + d;
    throw Error(message);
  }
  for (auto& d : dropped) {
    std::cerr << "sluice: warning: " << owner << " dropped device " << d << "\n";
    scheduler->add_dropped(std::move(d));
  }
  return scheduler;
}

// ------------------------------------------------------------------------------------------------- MULTI

dev::PropertyStore multi_defaults() {
  return dev::PropertyStore("MULTI",
                            {
                                {"MULTI_DEVICE_PRIORITIES", std::vector<std::string>{}},
                                {"PERFORMANCE_HINT", PerformanceMode::THROUGHPUT},
                                {"SUPPORTED_PROPERTIES", Any()},
                                {"FULL_DEVICE_NAME", "Sluice multi-device (request-level balancing)"},
                            });
}

// Thread-safe (PluginBase guards the properties; the core is thread-safe).
class MultiPlugin final : public dev::PluginBase {
 public:
  MultiPlugin() : PluginBase(multi_defaults()) {}
  std::string device_name() const override { return "MULTI"; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(core() != nullptr, "MULTI: the plugin is not registered with a core");
    AnyMap own;
    for (const auto& [name, value] : properties) {
      if (name == "MULTI_DEVICE_PRIORITIES" || name == "PERFORMANCE_HINT") own[name] = value;
    }
    dev::PropertyStore props = properties_with(own);
    std::vector<std::string> entries =
        device.size() > 6 && device.rfind("MULTI:", 0) == 0
            ? split_list(device.substr(6))
            : props.get("MULTI_DEVICE_PRIORITIES").as<std::vector<std::string>>();
    SLUICE_CHECK(device == "MULTI" || device.rfind("MULTI:", 0) == 0, "device '", device,
                 "': expected MULTI:<devices> such as MULTI:CPU,REF or MULTI:CPU(4),REF(1)");
    SLUICE_CHECK(!entries.empty(), "device '", device,
                 "': MULTI needs devices: MULTI:CPU,REF, or the MULTI_DEVICE_PRIORITIES property");
    const std::vector<ListedDevice> list = parse_list(entries, "MULTI");
    AnyMap per_device = device_properties(properties);
    per_device["PERFORMANCE_HINT"] = props.get("PERFORMANCE_HINT");
    auto scheduler = schedule("MULTI", compile_all(*core(), model, list, per_device), false);
    props.set_computed("MULTI_DEVICE_PRIORITIES", entries);
    return std::make_shared<MultiCompiledModel>(std::move(scheduler), std::move(props));
  }
};

// -------------------------------------------------------------------------------------------------- AUTO

dev::PropertyStore auto_defaults() {
  return dev::PropertyStore("AUTO", {
                                        {"MULTI_DEVICE_PRIORITIES", std::vector<std::string>{}},
                                        {"PERFORMANCE_HINT", PerformanceMode::LATENCY},
                                        {"ENABLE_STARTUP_FALLBACK", true},
                                        {"ENABLE_RUNTIME_FALLBACK", true},
                                        {"SUPPORTED_PROPERTIES", Any()},
                                        {"FULL_DEVICE_NAME", "Sluice automatic device selection"},
                                    });
}

// Thread-safe (PluginBase guards the properties; the core is thread-safe).
class AutoPlugin final : public dev::PluginBase {
 public:
  AutoPlugin() : PluginBase(auto_defaults()) {}
  std::string device_name() const override { return "AUTO"; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(core() != nullptr, "AUTO: the plugin is not registered with a core");
    SLUICE_CHECK(device == "AUTO" || device.rfind("AUTO:", 0) == 0, "device '", device,
                 "': expected AUTO or AUTO:<devices in priority order> such as AUTO:CPU,REF");
    AnyMap own;
    for (const auto& [name, value] : properties) {
      if (own_property(name) || name == "PERFORMANCE_HINT") own[name] = value;
    }
    dev::PropertyStore props = properties_with(own);
    std::vector<std::string> entries =
        device.size() > 5 ? split_list(device.substr(5))
                          : props.get("MULTI_DEVICE_PRIORITIES").as<std::vector<std::string>>();
    if (entries.empty()) entries = default_priorities();
    const std::vector<ListedDevice> candidates = supporting(parse_list(entries, "AUTO"), model);
    const PerformanceMode hint = props.get("PERFORMANCE_HINT").as<PerformanceMode>();
    const bool runtime_fallback = props.get("ENABLE_RUNTIME_FALLBACK").as<bool>();
    AnyMap per_device = device_properties(properties);
    per_device["PERFORMANCE_HINT"] = hint;
    props.set_computed("MULTI_DEVICE_PRIORITIES", entries);

    if (hint == PerformanceMode::CUMULATIVE_THROUGHPUT) {
      // Every device that supports the model, like MULTI (each in its THROUGHPUT configuration).
      per_device["PERFORMANCE_HINT"] = PerformanceMode::THROUGHPUT;
      auto scheduler =
          schedule("AUTO", compile_all(*core(), model, candidates, per_device), runtime_fallback);
      return std::make_shared<MultiCompiledModel>(std::move(scheduler), std::move(props));
    }

    // LATENCY or THROUGHPUT: the best device, in that configuration. While a preferred device other than
    // the CPU compiles, the CPU serves (start-up fallback); the CPU stays as the runtime fallback after.
    const auto cpu =
        std::find_if(candidates.begin(), candidates.end(), [](const auto& d) { return d.name == "CPU"; });
    const bool accelerate = props.get("ENABLE_STARTUP_FALLBACK").as<bool>() && cpu != candidates.end() &&
                            candidates.front().name != "CPU";
    std::vector<std::string> dropped;
    if (accelerate) {
      std::vector<Compiled> first = compile_all(*core(), model, {*cpu}, per_device);
      if (first.front().error.empty()) {
        auto scheduler = schedule("AUTO", std::move(first), runtime_fallback);
        start_background_compile(scheduler, model, candidates.front(), per_device);
        return std::make_shared<MultiCompiledModel>(std::move(scheduler), std::move(props));
      }
      dropped.push_back("CPU: " + first.front().error);
    }
    // Without start-up fallback: the first device that compiles the model.
    for (const ListedDevice& d : candidates) {
      if (accelerate && d.name == "CPU") continue;  // failed above
      std::vector<Compiled> one = compile_all(*core(), model, {d}, per_device);
      if (one.front().error.empty()) {
        auto scheduler = schedule("AUTO", std::move(one), runtime_fallback, std::move(dropped));
        return std::make_shared<MultiCompiledModel>(std::move(scheduler), std::move(props));
      }
      dropped.push_back(d.name + ": " + one.front().error);
    }
    std::string message = "AUTO: no device could compile the model:";
    for (const auto& d : dropped) message += "\n  " + d;
    throw Error(message);
  }

 private:
  // The real devices: accelerators (anything but CPU and REF, in registration order) first, then CPU, then
  // REF.
  std::vector<std::string> default_priorities() const {
    std::vector<std::string> first, last;
    for (const std::string& name : core()->available_devices()) {
      if (is_virtual(name)) continue;
      (name == "CPU" || name == "REF" ? last : first).push_back(name);
    }
    std::sort(last.begin(), last.end());  // "CPU" < "REF"
    first.insert(first.end(), last.begin(), last.end());
    return first;
  }

  // The candidates that can run every operator of the model, in order; throws when none can.
  std::vector<ListedDevice> supporting(const std::vector<ListedDevice>& candidates,
                                       const Model& model) const {
    std::vector<ListedDevice> out;
    std::string why;
    for (const ListedDevice& d : candidates) {
      const auto unsupported = dev::plugin_of(*core(), d.name)->unsupported_operators(model);
      if (unsupported.empty()) {
        out.push_back(d);
      } else {
        why += "\n  " + d.name + ": " + unsupported.front() + (unsupported.size() > 1 ? ", ..." : "");
      }
    }
    SLUICE_CHECK(!out.empty(), "AUTO: no device can run the model:", why);
    return out;
  }

  // Compiles the preferred device on a thread of its own; when it is ready its workers join and the CPU
  // stops taking new requests. The thread holds the scheduler and the device's plugin (not the core,
  // which the application may destroy first). A failure leaves the CPU serving, with a warning.
  void start_background_compile(const std::shared_ptr<Scheduler>& scheduler, const Model& model,
                                const ListedDevice& device, AnyMap properties) const {
    std::shared_ptr<dev::IPlugin> plugin = dev::plugin_of(*core(), device.name);
    if (properties.count("ALLOW_AUTO_BATCHING")) {
      const auto names = plugin->get_property("SUPPORTED_PROPERTIES").as<std::vector<std::string>>();
      if (std::find(names.begin(), names.end(), "ALLOW_AUTO_BATCHING") == names.end()) {
        properties.erase("ALLOW_AUTO_BATCHING");
      }
    }
    // A snapshot of the model: the application may reshape its handle meanwhile.
    std::thread([scheduler, plugin, model = model.clone(), device, properties] {
      try {
        CompiledModel compiled(plugin->compile_model(model, device.name, properties));
        const int64_t workers = device.requests > 0
                                    ? device.requests
                                    : compiled.get_property(props::optimal_number_of_infer_requests);
        scheduler->add_device(device.name, std::move(compiled), workers);
        scheduler->retire_device("CPU");
      } catch (const std::exception& e) {
        std::cerr << "sluice: warning: AUTO could not compile the model on " << device.name
                  << " and keeps running it on CPU: " << e.what() << "\n";
        scheduler->add_dropped(device.name + ": " + e.what());
      }
    }).detach();
  }
};

}  // namespace

std::shared_ptr<dev::IPlugin> make_multi_plugin() { return std::make_shared<MultiPlugin>(); }
std::shared_ptr<dev::IPlugin> make_auto_plugin() { return std::make_shared<AutoPlugin>(); }

}  // namespace sluice::multi
