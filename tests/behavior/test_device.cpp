#include "test_device.hpp"

#include <thread>

#include "sluice/dev/async_infer_request.hpp"
#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin_base.hpp"
#include "sluice/dev/property_store.hpp"
#include "sluice/dev/streams_executor.hpp"

namespace sluice::behavior {

using namespace std::chrono_literals;

// ------------------------------------------------------------------------------------------------ Valve

void Valve::close() {
  std::lock_guard lock(mutex_);
  open_ = false;
}

void Valve::open() {
  std::lock_guard lock(mutex_);
  open_ = true;
  cv_.notify_all();
}

bool Valve::pass() {
  std::unique_lock lock(mutex_);
  ++waiting_;
  const bool passed = cv_.wait_for(lock, 60s, [&] { return open_; });
  --waiting_;
  return passed;
}

int64_t Valve::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

void TestDeviceControls::set_unsupported(std::vector<std::string> operators) {
  std::lock_guard lock(mutex_);
  unsupported_ = std::move(operators);
}

std::vector<std::string> TestDeviceControls::unsupported() const {
  std::lock_guard lock(mutex_);
  return unsupported_;
}

namespace {

// Counts an inference in `running` (and `max_running`) while it is inside the device.
class RunningScope {
 public:
  explicit RunningScope(TestDeviceControls& c) : c_(c) {
    const int64_t now = ++c_.running;
    int64_t max = c_.max_running.load();
    while (now > max && !c_.max_running.compare_exchange_weak(max, now)) {
    }
  }
  ~RunningScope() { --c_.running; }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

 private:
  TestDeviceControls& c_;
};

// Immutable after construction: the REF compiled model that computes the outputs, the properties, and the
// streams (one per concurrent inference).
class TestCompiledModel final : public dev::ICompiledModel,
                                public std::enable_shared_from_this<TestCompiledModel> {
 public:
  TestCompiledModel(CompiledModel ref, std::shared_ptr<TestDeviceControls> controls,
                    dev::PropertyStore properties, int64_t streams)
      : ref_(std::move(ref)),
        controls_(std::move(controls)),
        properties_(std::move(properties)),
        executor_(std::make_shared<dev::StreamsExecutor>(static_cast<int>(streams))) {}

  const std::vector<PortInfo>& inputs() const override { return ref_.inputs(); }
  const std::vector<PortInfo>& outputs() const override { return ref_.outputs(); }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override;
  Any get_property(const std::string& name) const override { return properties_.get(name); }

  const CompiledModel& ref() const { return ref_; }
  TestDeviceControls& controls() const { return *controls_; }

 private:
  CompiledModel ref_;
  std::shared_ptr<TestDeviceControls> controls_;
  dev::PropertyStore properties_;
  std::shared_ptr<dev::StreamsExecutor> executor_;
};

// The synchronous request: waits at the run valve, sleeps its service time, fails when told to, else
// runs its own REF request in place of computing. Used by one thread at a time (AsyncInferRequest).
class TestInferRequest final : public dev::InferRequestBase {
 public:
  explicit TestInferRequest(std::shared_ptr<const TestCompiledModel> compiled)
      : InferRequestBase(compiled->inputs(), compiled->outputs()),
        compiled_(std::move(compiled)),
        ref_(compiled_->ref().create_infer_request()) {}

 private:
  void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset, std::vector<Tensor>& outputs,
           int /*stream*/) override {
    TestDeviceControls& c = compiled_->controls();
    const int64_t n = ++c.runs;
    RunningScope scope(c);
    SLUICE_CHECK(c.run_valve.pass(), c.name, ": the test never opened the run valve of inference #", n);
    if (const int64_t us = c.service_us.load(); us > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(us));

    const int64_t every = c.fail_every.load();
    const bool value_hit = c.fail_on_value.load() && !inputs.empty() &&
                           inputs[0].type() == ElementType::f32 && inputs[0].size() > 0 &&
                           inputs[0].data<float>()[0] == c.fail_value.load();
    if (c.fail_all.load() || (every > 0 && n % every == 0) || value_hit || c.failing.load()) {
      ++c.failed;
      throw_error(c.name, ": injected failure of inference #", n);
    }

    for (size_t i = 0; i < inputs.size(); ++i) ref_.set_input_tensor(i, inputs[i]);
    ref_.infer();
    // REF's output tensors are reused by its next inference: an output nobody bound gets a copy; one
    // the caller bound (preset) is copied into by the base.
    for (size_t j = 0; j < outputs.size(); ++j) {
      const Tensor result = ref_.get_output_tensor(j);
      outputs[j] = preset[j].empty() ? result.clone() : result;
    }
    ++c.succeeded;
  }

  std::shared_ptr<const TestCompiledModel> compiled_;
  InferRequest ref_;
};

std::shared_ptr<dev::IInferRequest> TestCompiledModel::create_infer_request() {
  return std::make_shared<dev::AsyncInferRequest>(std::make_shared<TestInferRequest>(shared_from_this()),
                                                  executor_);
}

dev::PropertyStore test_device_properties(const std::string& name) {
  return dev::PropertyStore(name, {
                                      {"PERFORMANCE_HINT", PerformanceMode::LATENCY},
                                      {"NUM_STREAMS", Any()},
                                      {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", Any()},
                                      {"SUPPORTED_PROPERTIES", Any()},
                                      {"FULL_DEVICE_NAME", "Sluice test device " + name + " (REF inside)"},
                                      {"EXECUTION_DEVICES", std::vector<std::string>{name}},
                                  });
}

// Thread-safe (PluginBase guards the properties; the controls are thread-safe; REF's plugin is).
class TestPlugin final : public dev::PluginBase {
 public:
  TestPlugin(std::shared_ptr<TestDeviceControls> controls, std::shared_ptr<dev::IPlugin> ref)
      : PluginBase(test_device_properties(controls->name)),
        controls_(std::move(controls)),
        ref_(std::move(ref)) {}

  std::string device_name() const override { return controls_->name; }

  std::vector<std::string> unsupported_operators(const Model& model) const override {
    auto claimed = controls_->unsupported();
    return claimed.empty() ? PluginBase::unsupported_operators(model) : claimed;
  }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    TestDeviceControls& c = *controls_;
    SLUICE_CHECK(device == c.name, "device '", device, "': ", c.name, " takes no options");
    ++c.compiles_started;
    struct Done {  // counts the compile as done however it ends
      TestDeviceControls& c;
      ~Done() { ++c.compiles_done; }
    } done{c};
    dev::PropertyStore props = properties_with(properties);
    if (const int64_t ms = c.compile_delay_ms.load(); ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    SLUICE_CHECK(c.compile_valve.pass(), c.name, ": the test never opened the compile valve");
    if (c.compile_fails.load()) {
      ++c.compiles_failed;
      throw_error(c.name, ": injected compile failure");
    }
    c.compiled_hint = static_cast<int>(props.get("PERFORMANCE_HINT").as<PerformanceMode>());
    const int64_t streams = std::max<int64_t>(c.concurrency.load(), 1);
    // REF with as many streams, so that the REF step does not serialize the device's inferences.
    CompiledModel ref(ref_->compile_model(model, "REF", {{"NUM_STREAMS", streams}}));
    props.set_computed("NUM_STREAMS", streams);
    props.set_computed("OPTIMAL_NUMBER_OF_INFER_REQUESTS", streams);
    props.set_computed("SUPPORTED_PROPERTIES", props.names());
    return std::make_shared<TestCompiledModel>(std::move(ref), controls_, std::move(props), streams);
  }

 private:
  std::shared_ptr<TestDeviceControls> controls_;
  std::shared_ptr<dev::IPlugin> ref_;
};

}  // namespace

std::shared_ptr<TestDeviceControls> register_test_device(Core& core, const std::string& name,
                                                         TestDeviceOptions options) {
  auto controls = std::make_shared<TestDeviceControls>();
  controls->name = name;
  controls->concurrency = options.concurrency;
  controls->service_us = options.service.count();
  core.register_plugin(std::make_shared<TestPlugin>(controls, dev::plugin_of(core, "REF")));
  return controls;
}

}  // namespace sluice::behavior
