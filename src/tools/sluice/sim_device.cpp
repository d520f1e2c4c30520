#include "tools/sluice/sim_device.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "sluice/dev/async_infer_request.hpp"
#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin_base.hpp"
#include "sluice/dev/property_store.hpp"
#include "sluice/dev/streams_executor.hpp"
#include "sluice/error.hpp"

namespace sluice::tool {

namespace {

using SimClock = std::chrono::steady_clock;

// More streams than this is a typo, not an accelerator (each is a thread).
constexpr int64_t max_concurrency = 1024;
// A sleeping inference wakes this often to see whether it was cancelled (InferRequest::cancel), so that a
// long service time does not hold up a cancel; a few wake-ups per inference cost no measurable CPU.
constexpr auto cancel_poll = std::chrono::milliseconds(20);

std::string format_ms(double ms) {
  std::ostringstream text;
  text << ms;  // "5", "2.5": as given
  return text.str();
}

dev::PropertyStore default_properties(const SimDeviceConfig& config) {
  return dev::PropertyStore(
      sim_device_name,
      {
          // Accepted so that MULTI, AUTO and bench can pass them; none of them changes the service.
          {"PERFORMANCE_HINT", PerformanceMode::LATENCY},
          {"PERFORMANCE_HINT_NUM_REQUESTS", int64_t{0}},
          {"NUM_STREAMS", config.concurrency},
          {"INFERENCE_NUM_THREADS", int64_t{0}},
          {"INFERENCE_PRECISION_HINT", ElementType::f32},
          {"ENABLE_PROFILING", false},
          {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", 2 * config.concurrency},
          {"SUPPORTED_PROPERTIES", Any()},
          {"AVAILABLE_DEVICES", std::vector<std::string>{sim_device_name}},
          {"FULL_DEVICE_NAME", sim_device_description(config)},
          {"EXECUTION_DEVICES", std::vector<std::string>{sim_device_name}},
      });
}

// The shape of an output for one inference: the port's, its dynamic dimensions resolved as the header says.
Shape output_shape(const PortInfo& port, const std::vector<Tensor>& inputs) {
  int64_t batch = 1;
  if (!inputs.empty() && inputs.front().rank() >= 1) batch = inputs.front().shape()[0];
  if (!port.shape.rank_known()) return Shape{batch};
  Shape shape;
  for (size_t i = 0; i < port.shape.dims().size(); ++i) {
    const Dimension& dim = port.shape[i];
    shape.push_back(dim.is_static() ? dim.extent() : (i == 0 ? batch : 1));
  }
  return shape;
}

class SimCompiledModel;

// Contract (InferRequestBase): one thread at a time, the stream thread while it runs.
class SimInferRequest : public dev::InferRequestBase {
 public:
  explicit SimInferRequest(std::shared_ptr<const SimCompiledModel> compiled);

 private:
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset, std::vector<Tensor>& outputs,
           int stream) override;

  std::shared_ptr<const SimCompiledModel> compiled_;
};

// Immutable after construction: safe to use from many threads. Its CONCURRENCY streams each serve one
// inference at a time, asleep for the service time.
class SimCompiledModel : public dev::ICompiledModel, public std::enable_shared_from_this<SimCompiledModel> {
 public:
  SimCompiledModel(const Model& model, dev::PropertyStore properties, const SimDeviceConfig& config)
      : inputs_(model.inputs()),
        outputs_(model.outputs()),
        service_(std::chrono::duration_cast<SimClock::duration>(
            std::chrono::duration<double, std::milli>(config.service_ms))),
        properties_(std::move(properties)),
        streams_executor_(std::make_shared<dev::StreamsExecutor>(static_cast<int>(config.concurrency))) {
    properties_.set_computed("NETWORK_NAME", model.name());
    // What the device really does, whatever was asked: CONCURRENCY streams, no computing threads.
    properties_.set_computed("NUM_STREAMS", config.concurrency);
    properties_.set_computed("INFERENCE_NUM_THREADS", int64_t{0});
    properties_.set_computed("OPTIMAL_NUMBER_OF_INFER_REQUESTS", 2 * config.concurrency);
    properties_.set_computed("OPTIMAL_BATCH_SIZE", int64_t{1});
    properties_.set_computed("SUPPORTED_PROPERTIES", properties_.names());
  }

  const std::vector<PortInfo>& inputs() const override { return inputs_; }
  const std::vector<PortInfo>& outputs() const override { return outputs_; }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override {
    return std::make_shared<dev::AsyncInferRequest>(std::make_shared<SimInferRequest>(shared_from_this()),
                                                    streams_executor_);
  }
  Any get_property(const std::string& name) const override { return properties_.get(name); }

  SimClock::duration service() const { return service_; }

 private:
  std::vector<PortInfo> inputs_;
  std::vector<PortInfo> outputs_;
  SimClock::duration service_;
  dev::PropertyStore properties_;
  std::shared_ptr<dev::StreamsExecutor> streams_executor_;
};

SimInferRequest::SimInferRequest(std::shared_ptr<const SimCompiledModel> compiled)
    : InferRequestBase(compiled->inputs(), compiled->outputs()), compiled_(std::move(compiled)) {}

void SimInferRequest::run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
                          std::vector<Tensor>& outputs, int /*stream: no per-stream state*/) {
  const SimClock::time_point done = SimClock::now() + compiled_->service();
  // The only CPU work: zeroing the outputs (4 KB for an image classifier's scores), kept in place from one
  // inference to the next. A tensor the user bound is zeroed and used as it is (no copy).
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!preset[i].empty()) {
      outputs[i] = preset[i];
    } else {
      const PortInfo& port = this->outputs()[i];
      const ElementType type = port.type == ElementType::undefined ? ElementType::f32 : port.type;
      const Shape shape = output_shape(port, inputs);
      if (outputs[i].empty() || outputs[i].type() != type || outputs[i].shape() != shape) {
        outputs[i] = Tensor(type, shape);  // zero-filled
        continue;
      }
    }
    if (outputs[i].byte_size() > 0) std::memset(outputs[i].data(), 0, outputs[i].byte_size());
  }
  profile_.clear();
  while (true) {
    if (cancel_flag()->load(std::memory_order_relaxed)) {
      throw InferCancelled("SIM: the inference was cancelled during its simulated service time");
    }
    const SimClock::time_point now = SimClock::now();
    if (now >= done) break;
    std::this_thread::sleep_until(std::min(done, now + cancel_poll));
  }
}

// Thread-safe (PluginBase guards the properties; the config is constant).
class SimPlugin : public dev::PluginBase {
 public:
  explicit SimPlugin(const SimDeviceConfig& config)
      : PluginBase(default_properties(config)), config_(config) {}
  std::string device_name() const override { return sim_device_name; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(device == sim_device_name, "device '", device,
                 "': SIM takes no options (its service time "
                 "and concurrency come from --sim-device SERVICE_MS[:CONCURRENCY])");
    return std::make_shared<SimCompiledModel>(model, properties_with(properties), config_);
  }

 private:
  SimDeviceConfig config_;
};

}  // namespace

SimDeviceConfig parse_sim_device(const std::string& text) {
  const char* expected =
      ": expected SERVICE_MS[:CONCURRENCY], milliseconds > 0 and an integer from 1 to 1024, e.g. 5:4";
  const size_t colon = text.find(':');
  const std::string service = text.substr(0, colon);
  SimDeviceConfig config;
  size_t used = 0;
  try {
    config.service_ms = std::stod(service, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  SLUICE_CHECK(used > 0 && used == service.size() && config.service_ms > 0 && config.service_ms <= 3.6e6,
               "--sim-device '", text, "': '", service, "' is not a service time", expected);
  if (colon != std::string::npos) {
    const std::string count = text.substr(colon + 1);
    used = 0;
    try {
      config.concurrency = std::stoll(count, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    SLUICE_CHECK(
        used > 0 && used == count.size() && config.concurrency >= 1 && config.concurrency <= max_concurrency,
        "--sim-device '", text, "': '", count, "' is not a concurrency", expected);
  }
  return config;
}

std::string sim_device_description(const SimDeviceConfig& config) {
  return "simulated accelerator (benchmark only: fixed " + format_ms(config.service_ms) +
         " ms service, up to " + std::to_string(config.concurrency) + " at once, no computation)";
}

std::shared_ptr<dev::IPlugin> make_sim_plugin(const SimDeviceConfig& config) {
  return std::make_shared<SimPlugin>(config);
}

}  // namespace sluice::tool
