// The BATCH device. How a request travels (docs/batching.md has the whole design):
//
//   user request k ──> slot k % N of worker k / N (its tensors are views into the worker's batched tensors)
//   start_async: the slot is ready ──> all N slots ready: one batched inference on the underlying device
//                                 └──> AUTO_BATCH_TIMEOUT passes first: each ready slot runs alone
//
// The underlying device compiles the model with a dynamic batch dimension, so that one compiled model (one
// set of streams and weights) runs both. A worker owns one batched request and N slots; a slot owns its
// part of the batched tensors and, once it has needed one, a single request bound to that part.
#include "devices/batch/batch_plugin.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "devices/batch/batch_layout.hpp"
#include "devices/batch/batch_timer.hpp"
#include "sluice/dev/async_infer_request.hpp"
#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin_base.hpp"

namespace sluice::batch {

namespace {

constexpr const char* device_name = "BATCH";
constexpr int64_t default_timeout_ms = 1000;

// Properties BATCH keeps for itself; every other one given to BATCH goes to the underlying device.
const std::set<std::string>& own_properties() {
  static const std::set<std::string> names = {"AUTO_BATCH_TIMEOUT", "LAYOUT", "ALLOW_AUTO_BATCHING"};
  return names;
}

// Copies part `slot` (of `batch`) of `batched` along `axis` to or from `part` (one request's tensor).
void copy_part(const Tensor& batched, const Tensor& part, size_t axis, int64_t slot, int64_t batch,
               bool to_part) {
  const Shape& shape = part.shape();
  size_t outer = 1, inner = element_size(part.type());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d < axis) outer *= static_cast<size_t>(shape[d]);
    if (d >= axis) inner *= static_cast<size_t>(shape[d]);
  }
  auto* big = static_cast<char*>(batched.data());
  auto* small = static_cast<char*>(part.data());
  for (size_t o = 0; o < outer; ++o) {
    char* b = big + (o * static_cast<size_t>(batch) + static_cast<size_t>(slot)) * inner;
    char* s = small + o * inner;
    if (to_part) {
      std::memcpy(s, b, inner);
    } else {
      std::memcpy(b, s, inner);
    }
  }
}

void copy_tensor(const Tensor& from, const Tensor& to) {
  if (from.data() != to.data() && from.byte_size()) std::memcpy(to.data(), from.data(), from.byte_size());
}

class BatchModel;
class BatchInferRequest;

// One batched request and its N slots. Thread-safety: mutex_ guards ready_, in_flight_, running_ and
// token_. A slot's tensors are used by its user request while that request is idle, and by the inference
// of its slot (batched or single) while busy; a slot's single request and its single_* fields only by
// whoever runs that slot's current inference. Lifetime: the model owns its workers; a busy user request
// holds its worker (and the model), so a worker is alive whenever one of its inferences is in flight.
class Worker final : public TimerTarget, public std::enable_shared_from_this<Worker> {
 public:
  struct Slot {
    std::vector<Tensor> in, out;  // this slot's part of the batch: views (batch on dim 0) or own tensors
    InferRequest single;          // runs the slot alone (created when first needed)
    std::shared_ptr<BatchInferRequest> single_user;  // the request the single inference runs for
    uint64_t single_generation = 0;
  };

  Worker(BatchModel& model, size_t index);
  void init();  // after construction, when weak_from_this() works

  Slot& slot(int s) { return slots_[static_cast<size_t>(s)]; }
  size_t index() const { return index_; }

  // A started user request joins the batch being gathered.
  void enqueue(std::shared_ptr<BatchInferRequest> request);
  // Takes a request back if it is still gathered (for cancel); true when it was.
  bool withdraw(const BatchInferRequest* request);
  // Copies input `i` of slot `s` into the batched input, when the batch is not on dimension 0 (else the
  // slot's tensor is a view of it already).
  void scatter_input(int s, size_t i);
  // Runs slot `s` alone on the calling thread (infer() from a callback).
  std::exception_ptr run_single_here(int s);
  void on_timeout(uint64_t token) override;

 private:
  using Requests = std::vector<std::shared_ptr<BatchInferRequest>>;
  void dispatch_batch(Requests requests);
  void dispatch_singles(Requests requests);
  void on_batch_done(std::exception_ptr error);
  InferRequest& single_request(int s);

  BatchModel& model_;  // owns this worker
  const size_t index_;
  std::vector<Tensor> batch_in_, batch_out_;
  InferRequest batch_request_;
  std::vector<Slot> slots_;

  std::mutex mutex_;
  Requests ready_;          // started, gathered, not handed to the device
  bool in_flight_ = false;  // the batched request runs (or its requests' callbacks do)
  std::vector<std::pair<std::shared_ptr<BatchInferRequest>, uint64_t>> running_;  // its requests
  uint64_t token_ = 0;  // the armed timeout's token; changed when the gathered set is taken
};

// Shared by the compiled model and its requests. mutex_ guards workers_ and free_.
class BatchModel {
 public:
  BatchModel(CompiledModel inner, BatchLayout layout, int64_t batch, int64_t timeout_ms)
      : inner_(std::move(inner)), layout_(std::move(layout)), batch_(batch), timeout_ms_(timeout_ms) {
    try {
      profiling_ = inner_.get_property("ENABLE_PROFILING").as<bool>();
    } catch (const Error&) {  // NOLINT(bugprone-empty-catch): a device without profiling
    }
  }

  const CompiledModel& inner() const { return inner_; }
  const BatchLayout& layout() const { return layout_; }
  int64_t batch() const { return batch_; }
  bool profiling() const { return profiling_; }
  std::atomic<int64_t>& timeout_ms() { return timeout_ms_; }
  std::atomic<int64_t> full_batches{0};
  std::atomic<int64_t> timed_out{0};

  // The lowest free slot, creating a worker when every slot is taken.
  std::pair<std::shared_ptr<Worker>, int> acquire_slot() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) {
      auto worker = std::make_shared<Worker>(*this, workers_.size());
      worker->init();
      workers_.push_back(worker);
      for (int s = 0; s < batch_; ++s) free_.insert({worker->index(), s});
    }
    const auto [w, s] = *free_.begin();
    free_.erase(free_.begin());
    return {workers_[w], s};
  }
  void release_slot(size_t worker, int slot) {
    std::lock_guard lock(mutex_);
    free_.insert({worker, slot});
  }

 private:
  CompiledModel inner_;
  BatchLayout layout_;
  int64_t batch_;
  bool profiling_ = false;
  std::atomic<int64_t> timeout_ms_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::set<std::pair<size_t, int>> free_;  // (worker, slot) not held by a request
};

// The model whose callbacks the calling thread runs now (set around finish()): infer() called from such a
// callback runs its request alone, in place, rather than wait for a batch on a thread the batch needs.
thread_local const BatchModel* callback_model = nullptr;

class BatchInferRequest final : public dev::AsyncRequestBase {
 public:
  BatchInferRequest(std::shared_ptr<BatchModel> model)
      : model_(std::move(model)),
        user_in_(model_->layout().inputs.size()),
        user_out_(model_->layout().outputs.size()),
        given_(model_->layout().inputs.size(), false) {
    std::tie(worker_, slot_) = model_->acquire_slot();
  }
  ~BatchInferRequest() override { model_->release_slot(worker_->index(), slot_); }

  const std::vector<PortInfo>& inputs() const override { return model_->layout().inputs; }
  const std::vector<PortInfo>& outputs() const override { return model_->layout().outputs; }
  int slot_index() const { return slot_; }

  void set_tensor(bool is_input, size_t index, const Tensor& tensor) override {
    check_not_busy("set_tensor");
    dev::check_port_tensor(dev::port_at(is_input ? inputs() : outputs(), is_input, index),
                           is_input ? "input" : "output", tensor);
    // The slot's own tensor (from get_tensor) is used in place; any other is copied in or out.
    const Tensor& mine = is_input ? own().in[index] : own().out[index];
    (is_input ? user_in_ : user_out_)[index] = tensor.data() == mine.data() ? Tensor() : tensor;
    if (is_input) given_[index] = true;
  }

  Tensor get_tensor(bool is_input, size_t index) const override {
    check_not_busy("get_tensor");
    dev::port_at(is_input ? inputs() : outputs(), is_input, index);
    const Tensor& user = (is_input ? user_in_ : user_out_)[index];
    if (!user.empty()) return user;
    if (is_input) given_[index] = true;  // the application fills the tensor it got
    return is_input ? own().in[index] : own().out[index];
  }

  std::vector<ProfilingInfo> get_profiling_info() const override {
    check_not_busy("get_profiling_info");
    return profile_;
  }

  // Ends this request's inference (run batched or alone): the outputs go where the application wants them,
  // then the base calls the callback. `request` is the underlying request that ran it.
  void complete(uint64_t generation, std::exception_ptr error, InferRequest& request, bool batched) {
    if (!error && cancelled_.load(std::memory_order_relaxed)) {
      error =
          std::make_exception_ptr(InferCancelled("the inference was cancelled after its batch had been "
                                                 "handed to the device; its result is dropped"));
    }
    if (!error) {
      const BatchLayout& layout = model_->layout();
      for (size_t j = 0; j < user_out_.size(); ++j) {
        const Tensor& mine = own().out[j];
        if (batched && layout.output_axes[j] != 0) {
          copy_part(request.get_output_tensor(j), mine, layout.output_axes[j], slot_, model_->batch(), true);
        }
        if (!user_out_[j].empty()) copy_tensor(mine, user_out_[j]);
      }
      if (model_->profiling()) profile_ = request.get_profiling_info();
    }
    const BatchModel* outer = callback_model;
    callback_model = model_.get();
    finish(generation, error);
    callback_model = outer;
  }

  using AsyncRequestBase::begin;

 private:
  Worker::Slot& own() const { return worker_->slot(slot_); }

  void prepare() override {
    for (size_t i = 0; i < given_.size(); ++i) {
      if (!given_[i]) dev::throw_missing_input(inputs()[i]);
    }
    cancelled_.store(false, std::memory_order_relaxed);
    for (size_t i = 0; i < user_in_.size(); ++i) {
      if (!user_in_[i].empty()) copy_tensor(user_in_[i], own().in[i]);
      worker_->scatter_input(slot_, i);
    }
  }
  void submit() override {
    worker_->enqueue(std::static_pointer_cast<BatchInferRequest>(shared_from_this()));
  }
  bool withdraw() override { return worker_->withdraw(this); }
  // A request handed to the device is not taken out of its batch (that would cancel the others): it runs
  // to its end, and then ends with InferCancelled.
  void interrupt() override { cancelled_.store(true, std::memory_order_relaxed); }
  bool must_run_in_place() const override { return callback_model == model_.get(); }
  void run_in_place() override {
    const uint64_t generation = begin();
    std::exception_ptr error = worker_->run_single_here(slot_);
    complete(generation, error, worker_->slot(slot_).single, false);
  }

  std::shared_ptr<BatchModel> model_;
  std::shared_ptr<Worker> worker_;
  int slot_ = 0;
  // Tensors the application set (empty: the slot's own is used). Idle-only state (see the base).
  std::vector<Tensor> user_in_, user_out_;
  mutable std::vector<bool> given_;  // whether each input has a tensor (set, or handed out by get_tensor)
  std::vector<ProfilingInfo> profile_;
  std::atomic<bool> cancelled_{false};  // set by cancel() once the inference is handed over
};

// ------------------------------------------------------------------------------------------------ Worker

Worker::Worker(BatchModel& model, size_t index) : model_(model), index_(index) {
  const BatchLayout& layout = model.layout();
  const int64_t batch = model.batch();
  batch_request_ = model.inner().create_infer_request();
  slots_.resize(static_cast<size_t>(batch));
  const auto make = [&](const std::vector<PortInfo>& ports, const std::vector<size_t>& axes, bool is_input,
                        std::vector<Tensor>& batched) {
    for (size_t p = 0; p < ports.size(); ++p) {
      Shape shape = ports[p].shape.to_shape();
      shape[axes[p]] *= batch;
      batched.emplace_back(ports[p].type, shape);
      if (is_input) {
        batch_request_.set_input_tensor(p, batched.back());
      } else {
        batch_request_.set_output_tensor(p, batched.back());
      }
      const int64_t rows = ports[p].shape[axes[p]].extent();
      for (int64_t s = 0; s < batch; ++s) {
        auto& own = is_input ? slots_[static_cast<size_t>(s)].in : slots_[static_cast<size_t>(s)].out;
        own.push_back(axes[p] == 0 ? batched.back().slice(s * rows, (s + 1) * rows)
                                   : Tensor(ports[p].type, ports[p].shape.to_shape()));
      }
    }
  };
  make(layout.inputs, layout.input_axes, true, batch_in_);
  make(layout.outputs, layout.output_axes, false, batch_out_);
}

void Worker::init() {
  // The batched request's callback runs while its requests hold this worker (see the class comment).
  batch_request_.set_callback([this](std::exception_ptr error) { on_batch_done(std::move(error)); });
}

void Worker::scatter_input(int s, size_t i) {
  const size_t axis = model_.layout().input_axes[i];
  if (axis != 0)
    copy_part(batch_in_[i], slots_[static_cast<size_t>(s)].in[i], axis, s, model_.batch(), false);
}

InferRequest& Worker::single_request(int s) {
  Slot& slot = slots_[static_cast<size_t>(s)];
  if (!slot.single.impl()) {
    InferRequest request = model_.inner().create_infer_request();
    for (size_t i = 0; i < slot.in.size(); ++i) request.set_input_tensor(i, slot.in[i]);
    for (size_t j = 0; j < slot.out.size(); ++j) request.set_output_tensor(j, slot.out[j]);
    request.set_callback([this, s](std::exception_ptr error) {
      Slot& own = slots_[static_cast<size_t>(s)];
      std::shared_ptr<BatchInferRequest> user = std::move(own.single_user);
      user->complete(own.single_generation, std::move(error), own.single, false);
    });
    slot.single = std::move(request);
  }
  return slot.single;
}

void Worker::enqueue(std::shared_ptr<BatchInferRequest> request) {
  Requests batch, singles;
  uint64_t arm = 0;
  const int64_t timeout = model_.timeout_ms().load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(request));
    if (static_cast<int64_t>(ready_.size()) == model_.batch()) {
      if (!in_flight_) {
        batch.swap(ready_);
        in_flight_ = true;
        ++token_;
      }
    } else if (ready_.size() == 1) {
      if (timeout == 0) {
        singles.swap(ready_);
      } else {
        arm = ++token_;
      }
    }
  }
  if (!batch.empty()) {
    dispatch_batch(std::move(batch));
  } else if (!singles.empty()) {
    model_.timed_out.fetch_add(static_cast<int64_t>(singles.size()), std::memory_order_relaxed);
    dispatch_singles(std::move(singles));
  } else if (arm) {
    BatchTimer::instance().schedule(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout),
                                    weak_from_this(), arm);
  }
}

bool Worker::withdraw(const BatchInferRequest* request) {
  std::lock_guard lock(mutex_);
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    if (it->get() != request) continue;
    ready_.erase(it);
    if (ready_.empty()) ++token_;  // nothing left to time out
    return true;
  }
  return false;
}

void Worker::on_timeout(uint64_t token) {
  Requests singles;
  {
    std::lock_guard lock(mutex_);
    if (token != token_ || ready_.empty()) return;
    singles.swap(ready_);
    ++token_;
  }
  model_.timed_out.fetch_add(static_cast<int64_t>(singles.size()), std::memory_order_relaxed);
  dispatch_singles(std::move(singles));
}

void Worker::dispatch_batch(Requests requests) {
  // In slot order, the order their callbacks are called in.
  std::sort(requests.begin(), requests.end(),
            [](const auto& a, const auto& b) { return a->slot_index() < b->slot_index(); });
  // Every request is marked running before the device can finish the batch.
  std::vector<std::pair<std::shared_ptr<BatchInferRequest>, uint64_t>> running;
  for (auto& r : requests) {
    const uint64_t generation = r->begin();
    running.emplace_back(std::move(r), generation);
  }
  {
    std::lock_guard lock(mutex_);
    running_ = std::move(running);
  }
  model_.full_batches.fetch_add(1, std::memory_order_relaxed);
  try {
    batch_request_.start_async();
  } catch (...) {
    on_batch_done(std::current_exception());
  }
}

void Worker::dispatch_singles(Requests requests) {
  for (auto& r : requests) {
    const int s = r->slot_index();
    Slot& slot = slots_[static_cast<size_t>(s)];
    slot.single_generation = r->begin();
    slot.single_user = r;
    try {
      single_request(s).start_async();
    } catch (...) {
      std::shared_ptr<BatchInferRequest> user = std::move(slot.single_user);
      user->complete(slot.single_generation, std::current_exception(), slot.single, false);
    }
  }
}

std::exception_ptr Worker::run_single_here(int s) {
  try {
    single_request(s).infer();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

void Worker::on_batch_done(std::exception_ptr error) {
  std::vector<std::pair<std::shared_ptr<BatchInferRequest>, uint64_t>> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(running_);
  }
  // The requests' callbacks may start them again: they gather for the next batch, which starts only
  // after the last of these callbacks (in_flight_ stays set until then).
  for (auto& [request, generation] : done) request->complete(generation, error, batch_request_, true);
  Requests batch;
  {
    std::lock_guard lock(mutex_);
    in_flight_ = false;
    if (static_cast<int64_t>(ready_.size()) == model_.batch()) {
      batch.swap(ready_);
      in_flight_ = true;
      ++token_;
    }
  }
  if (!batch.empty()) dispatch_batch(std::move(batch));
}

// ---------------------------------------------------------------------------------------- compiled model

class BatchCompiledModel final : public dev::ICompiledModel {
 public:
  explicit BatchCompiledModel(std::shared_ptr<BatchModel> model) : model_(std::move(model)) {}

  const std::vector<PortInfo>& inputs() const override { return model_->layout().inputs; }
  const std::vector<PortInfo>& outputs() const override { return model_->layout().outputs; }
  std::shared_ptr<dev::IInferRequest> create_infer_request() override {
    return std::make_shared<BatchInferRequest>(model_);
  }

  Any get_property(const std::string& name) const override {
    if (name == "AUTO_BATCH_TIMEOUT") return model_->timeout_ms().load();
    if (name == "OPTIMAL_BATCH_SIZE") return model_->batch();
    if (name == "AUTO_BATCH_FULL_BATCHES") return model_->full_batches.load();
    if (name == "AUTO_BATCH_TIMED_OUT") return model_->timed_out.load();
    if (name == "OPTIMAL_NUMBER_OF_INFER_REQUESTS") {
      return model_->batch() * model_->inner().get_property(props::optimal_number_of_infer_requests);
    }
    if (name == "SUPPORTED_PROPERTIES") {
      auto names = model_->inner().get_property(props::supported_properties);
      for (const char* own :
           {"AUTO_BATCH_TIMEOUT", "OPTIMAL_BATCH_SIZE", "AUTO_BATCH_FULL_BATCHES", "AUTO_BATCH_TIMED_OUT"}) {
        if (std::find(names.begin(), names.end(), own) == names.end()) names.emplace_back(own);
      }
      return names;
    }
    return model_->inner().get_property(name);
  }

  void set_property(const AnyMap& properties) override {
    AnyMap inner;
    std::optional<int64_t> timeout;
    for (const auto& [name, value] : properties) {
      if (name == "AUTO_BATCH_TIMEOUT") {
        timeout = normalize_property(*find_property_info(name), value).as<int64_t>();
      } else {
        inner[name] = value;
      }
    }
    if (!inner.empty()) model_->inner().impl()->set_property(inner);  // throws for a read-only one
    if (timeout) model_->timeout_ms().store(*timeout);
  }

 private:
  std::shared_ptr<BatchModel> model_;
};

// ------------------------------------------------------------------------------------------------ plugin

dev::PropertyStore default_properties() {
  return dev::PropertyStore(device_name, {
                                             {"AUTO_BATCH_TIMEOUT", default_timeout_ms},
                                             {"LAYOUT", std::vector<std::string>{}},
                                             {"SUPPORTED_PROPERTIES", Any()},
                                             {"FULL_DEVICE_NAME", "Sluice automatic batching"},
                                         });
}

// The largest batch BATCH accepts: each worker holds a batch of every input and output.
constexpr int64_t max_batch = 1024;

// "BATCH:CPU(8)" -> {"CPU", 8}; "BATCH:CPU" -> {"CPU", 0}.
std::pair<std::string, int64_t> parse_device(const std::string& device) {
  const std::string usage = "; expected BATCH:<device> or BATCH:<device>(<batch size>), e.g. BATCH:CPU(4)";
  SLUICE_CHECK(device.rfind("BATCH:", 0) == 0 && device.size() > 6, "device '", device,
               "': BATCH needs the device to batch on", usage);
  std::string inner = device.substr(6);
  int64_t batch = 0;
  const size_t open = inner.find('(');
  if (open != std::string::npos || inner.find(')') != std::string::npos) {
    SLUICE_CHECK(
        open != std::string::npos && inner.back() == ')' && inner.find('(', open + 1) == std::string::npos,
        "device '", device, "': unbalanced parentheses", usage);
    const std::string digits = inner.substr(open + 1, inner.size() - open - 2);
    SLUICE_CHECK(!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos, "device '",
                 device, "': the batch size '", digits, "' is not a positive integer", usage);
    SLUICE_CHECK(digits.size() <= 6 && std::stoll(digits) <= max_batch, "device '", device,
                 "': the batch size ", digits, " is above the largest BATCH accepts, ", max_batch);
    batch = std::stoll(digits);
    SLUICE_CHECK(batch >= 1, "device '", device, "': the batch size must be at least 1", usage);
    inner = inner.substr(0, open);
  }
  SLUICE_CHECK(!inner.empty(), "device '", device, "': BATCH needs the device to batch on", usage);
  SLUICE_CHECK(inner.rfind("BATCH", 0) != 0, "device '", device, "': BATCH cannot batch BATCH");
  return {inner, batch};
}

// Thread-safe (PluginBase guards the properties; the core is thread-safe).
class BatchPlugin final : public dev::PluginBase {
 public:
  BatchPlugin() : PluginBase(default_properties()) {}
  std::string device_name() const override { return batch::device_name; }

  std::shared_ptr<dev::ICompiledModel> compile_model(const Model& model, const std::string& device,
                                                     const AnyMap& properties) const override {
    SLUICE_CHECK(core() != nullptr, "BATCH: the plugin is not registered with a core");
    auto [inner_device, batch] = parse_device(device);
    AnyMap own, inner;
    for (const auto& [name, value] : properties) (own_properties().count(name) ? own : inner)[name] = value;
    own.erase("ALLOW_AUTO_BATCHING");  // BATCH is the automatic batching
    const dev::PropertyStore props = properties_with(own);
    if (batch == 0) {
      batch = std::clamp<int64_t>(core()->optimal_batch_size(model, inner_device, inner), 1, max_batch);
      const int64_t cap = requested_requests(inner_device, inner);
      if (cap > 0) batch = std::min(batch, cap);
    }
    BatchLayout layout = find_batch_layout(model, props.get("LAYOUT").as<std::vector<std::string>>(), batch);
    const Model batchable = make_batchable_model(model, layout);
    inner["ALLOW_AUTO_BATCHING"] = false;  // the core must not batch the model again
    CompiledModel compiled = core()->compile_model(batchable, inner_device, inner);
    auto shared = std::make_shared<BatchModel>(std::move(compiled), std::move(layout), batch,
                                               props.get("AUTO_BATCH_TIMEOUT").as<int64_t>());
    return std::make_shared<BatchCompiledModel>(std::move(shared));
  }

 private:
  // PERFORMANCE_HINT_NUM_REQUESTS for the underlying device: given to this compile, or its default.
  int64_t requested_requests(const std::string& device, const AnyMap& properties) const {
    const std::string key = "PERFORMANCE_HINT_NUM_REQUESTS";
    try {
      auto it = properties.find(key);
      if (it != properties.end())
        return normalize_property(*find_property_info(key), it->second).as<int64_t>();
      return core()->get_property(device, key).as<int64_t>();
    } catch (const Error&) {
      return 0;  // a device without the property: no cap
    }
  }
};

}  // namespace

std::shared_ptr<dev::IPlugin> make_batch_plugin() { return std::make_shared<BatchPlugin>(); }

}  // namespace sluice::batch
