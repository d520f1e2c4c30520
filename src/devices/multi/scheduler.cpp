#include "devices/multi/scheduler.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::multi {

namespace {

// The worker whose callback the calling thread runs now (set around a request's completion): infer()
// called from that callback runs in place on it, and a request the callback starts is handed to it.
struct CallbackWorker {
  const Scheduler* scheduler = nullptr;
  Worker* worker = nullptr;
};
thread_local CallbackWorker callback_worker;

bool is_cancelled(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const InferCancelled&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

// --------------------------------------------------------------------------------------------- Scheduler

Scheduler::Scheduler(std::vector<PortInfo> inputs, std::vector<PortInfo> outputs, bool runtime_fallback)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)), runtime_fallback_(runtime_fallback) {}

void Scheduler::add_device(const std::string& name, CompiledModel compiled, int64_t workers) {
  auto slot = std::make_unique<DeviceSlot>();
  slot->name = name;
  slot->compiled = std::move(compiled);
  for (int64_t i = 0; i < std::max<int64_t>(workers, 1); ++i) {
    slot->workers.push_back(make_worker(*slot));
    slot->idle.push_back(slot->workers.back().get());
  }
  std::vector<std::pair<Worker*, std::shared_ptr<MultiInferRequest>>> start;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : slot->workers) w->device = devices_.size();
    devices_.push_back(std::move(slot));
    // Queued requests can run on the new device now.
    for (auto it = pending_.begin(); it != pending_.end();) {
      Worker* w = take_idle(**it);
      if (!w) {
        ++it;
        continue;
      }
      start.emplace_back(w, std::move(*it));
      it = pending_.erase(it);
    }
  }
  for (auto& [w, r] : start) dispatch(*w, std::move(r));
}

std::unique_ptr<Worker> Scheduler::make_worker(DeviceSlot& slot) {
  auto worker = std::make_unique<Worker>();
  worker->request = slot.compiled.create_infer_request();
  Worker* raw = worker.get();
  // A worker runs only for a user request, which holds this scheduler (and so the worker) until the
  // request's completion returns.
  worker->request.set_callback([this, raw](std::exception_ptr error) { on_done(*raw, std::move(error)); });
  return worker;
}

void Scheduler::add_dropped(std::string device_and_reason) {
  std::lock_guard lock(mutex_);
  dropped_.push_back(std::move(device_and_reason));
}

std::vector<std::string> Scheduler::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void Scheduler::retire_device(const std::string& name) {
  std::lock_guard lock(mutex_);
  for (auto& d : devices_) {
    if (d->name == name) d->accepting = false;
  }
}

Worker* Scheduler::take_idle(const MultiInferRequest& request) {
  for (size_t d = 0; d < devices_.size(); ++d) {
    DeviceSlot& slot = *devices_[d];
    // A retired device still takes retries: it may be the only other one left.
    if ((!slot.accepting && !request.failed_any()) || slot.idle.empty() || request.failed_on(d)) continue;
    Worker* w = slot.idle.front();  // the longest idle: requests rotate over a device's workers in order
    slot.idle.pop_front();
    return w;
  }
  return nullptr;
}

bool Scheduler::has_other_device(const MultiInferRequest& request) const {
  for (size_t d = 0; d < devices_.size(); ++d) {
    if (!request.failed_on(d)) return true;
  }
  return false;
}

void Scheduler::submit(std::shared_ptr<MultiInferRequest> request) {
  Worker* w = nullptr;
  {
    std::lock_guard lock(mutex_);
    w = take_idle(*request);
    // Started from a worker's callback (a request restarted by its callback, a pipeline's next stage):
    // rather than a worker of a lower-priority device, it takes the worker whose callback this is, as
    // soon as the callback returns.
    Worker* here = callback_worker.scheduler == this ? callback_worker.worker : nullptr;
    if (here && !here->handoff && devices_[here->device]->accepting && !request->failed_on(here->device) &&
        (!w || w->device > here->device)) {
      if (w) devices_[w->device]->idle.push_front(w);
      here->handoff = std::move(request);
      return;
    }
    if (!w) {
      pending_.push_back(std::move(request));
      return;
    }
  }
  dispatch(*w, std::move(request));
}

bool Scheduler::withdraw(const MultiInferRequest* request) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& r) { return r.get() == request; });
  if (it != pending_.end()) {
    pending_.erase(it);
    return true;
  }
  for (const auto& d : devices_) {
    for (const auto& w : d->workers) {
      if (w->handoff.get() != request) continue;
      w->handoff.reset();
      return true;
    }
  }
  return false;
}

void Scheduler::dispatch(Worker& worker, std::shared_ptr<MultiInferRequest> request) {
  // The first attempt begins now, before the device can end it; a retry (runtime fallback) has begun.
  const uint64_t generation = request->begin_once();
  worker.generation = generation;
  worker.user = std::move(request);
  try {
    worker.user->bind(worker.request);
    worker.request.start_async();
  } catch (...) {
    on_done(worker, std::current_exception());
  }
}

DeviceSlot& Scheduler::device(size_t index) const {
  std::lock_guard lock(mutex_);
  return *devices_[index];
}

void Scheduler::on_done(Worker& worker, std::exception_ptr error) {
  std::shared_ptr<MultiInferRequest> user = std::move(worker.user);
  const uint64_t generation = worker.generation;
  const size_t index = worker.device;
  DeviceSlot& slot = device(index);
  auto keep = shared_from_this();  // the user may hold the last reference to this scheduler

  // Runtime fallback: the request runs again on another device (at once if one is idle, else queued). A
  // request the application cancelled is not run again.
  Worker* retry_on = nullptr;
  bool retry = false;
  if (error && runtime_fallback_ && !is_cancelled(error) && !user->cancelled()) {
    std::lock_guard lock(mutex_);
    user->add_failed(index);
    if (has_other_device(*user)) {
      retry = true;
      retry_on = take_idle(*user);
      if (!retry_on) pending_.push_back(user);
    }
  }
  if (retry_on) dispatch(*retry_on, user);
  if (retry) return release(worker);
  error = user->collect(error, worker.request);
  slot.served.fetch_add(1, std::memory_order_relaxed);
  if (!user->calls_back()) {
    // No application code will run on this thread: the worker is free before wait() returns, so that an
    // application that runs one request at a time stays on the first device.
    release(worker);
    user->finish_inference(generation, error);
    return;
  }
  const CallbackWorker outer = callback_worker;
  callback_worker = {this, &worker};
  user->finish_inference(generation, error);
  callback_worker = outer;
  release(worker);
}

void Scheduler::release(Worker& worker) {
  // The request the callback handed to this worker, else the next queued one it may run, else idle.
  std::shared_ptr<MultiInferRequest> next;
  {
    std::lock_guard lock(mutex_);
    next = std::move(worker.handoff);
  }
  if (!next) {
    std::lock_guard lock(mutex_);
    DeviceSlot& slot = *devices_[worker.device];
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& r) {
      return !r->failed_on(worker.device) && (slot.accepting || r->failed_any());
    });
    if (it != pending_.end()) {
      next = std::move(*it);
      pending_.erase(it);
    } else {
      slot.idle.push_back(&worker);
    }
  }
  if (next) dispatch(worker, std::move(next));
}

bool Scheduler::in_callback() const { return callback_worker.scheduler == this; }

void Scheduler::run_in_place(MultiInferRequest& request) {
  // On the worker whose callback runs here: it is busy with nothing else until the callback returns.
  Worker& worker = *callback_worker.worker;
  const uint64_t generation = request.begin_once();
  std::exception_ptr error;
  try {
    request.bind(worker.request);
    worker.request.infer();
  } catch (...) {
    error = std::current_exception();
  }
  error = request.collect(error, worker.request);
  device(worker.device).served.fetch_add(1, std::memory_order_relaxed);
  request.finish_inference(generation, error);
}

std::vector<std::string> Scheduler::execution_devices() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& d : devices_) {
    if (d->accepting) names.push_back(d->name);
  }
  return names;
}

int64_t Scheduler::worker_count() const {
  std::lock_guard lock(mutex_);
  int64_t n = 0;
  for (const auto& d : devices_) {
    if (d->accepting) n += static_cast<int64_t>(d->workers.size());
  }
  return n;
}

std::vector<std::string> Scheduler::served() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& d : devices_) out.push_back(d->name + ":" + std::to_string(d->served.load()));
  return out;
}

CompiledModel Scheduler::primary() const {
  std::lock_guard lock(mutex_);
  for (const auto& d : devices_) {
    if (d->accepting) return d->compiled;
  }
  return devices_.front()->compiled;
}

}  // namespace sluice::multi

namespace sluice::multi {

// ------------------------------------------------------------------------------------- MultiInferRequest

MultiInferRequest::MultiInferRequest(std::shared_ptr<Scheduler> scheduler)
    : scheduler_(std::move(scheduler)),
      inputs_(inputs().size()),
      outputs_(outputs().size()),
      user_output_(outputs().size(), false) {
  // Outputs of a static shape get their tensor now, so that every device writes into it directly.
  for (size_t j = 0; j < outputs().size(); ++j) {
    const PortInfo& port = outputs()[j];
    if (dev::port_has_static_tensor(port)) outputs_[j] = Tensor(port.type, port.shape.to_shape());
  }
}

void MultiInferRequest::set_tensor(bool is_input, size_t index, const Tensor& tensor) {
  check_not_busy("set_tensor");
  dev::check_port_tensor(dev::port_at(is_input ? inputs() : outputs(), is_input, index),
                         is_input ? "input" : "output", tensor);
  (is_input ? inputs_ : outputs_)[index] = tensor;
  if (!is_input) user_output_[index] = true;
}

Tensor MultiInferRequest::get_tensor(bool is_input, size_t index) const {
  check_not_busy("get_tensor");
  const PortInfo& port = dev::port_at(is_input ? inputs() : outputs(), is_input, index);
  return dev::held_or_allocated((is_input ? inputs_ : outputs_)[index], port, is_input);
}

std::vector<ProfilingInfo> MultiInferRequest::get_profiling_info() const {
  check_not_busy("get_profiling_info");
  return profile_;
}

void MultiInferRequest::prepare() {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].empty() && !inputs()[i].optional) dev::throw_missing_input(inputs()[i]);
  }
  cancelled_.store(false, std::memory_order_relaxed);
  failed_.clear();
  begun_ = false;
}

void MultiInferRequest::submit() {
  scheduler_->submit(std::static_pointer_cast<MultiInferRequest>(shared_from_this()));
}

bool MultiInferRequest::must_run_in_place() const { return scheduler_->in_callback(); }

void MultiInferRequest::run_in_place() { scheduler_->run_in_place(*this); }

bool MultiInferRequest::cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

uint64_t MultiInferRequest::begin_once() {
  if (!begun_) {
    generation_ = begin();
    begun_ = true;
  }
  return generation_;
}

bool MultiInferRequest::failed_on(size_t device) const {
  return std::find(failed_.begin(), failed_.end(), device) != failed_.end();
}

void MultiInferRequest::bind(InferRequest& worker) {
  for (size_t i = 0; i < inputs_.size(); ++i) worker.set_input_tensor(i, inputs_[i]);
  // Static outputs are written in place. A dynamic one is never bound: a worker keeps what it is bound to,
  // and the next request it runs would write into this one's tensor.
  for (size_t j = 0; j < outputs_.size(); ++j) {
    if (dev::port_has_static_tensor(outputs()[j])) worker.set_output_tensor(j, outputs_[j]);
  }
}

std::exception_ptr MultiInferRequest::collect(std::exception_ptr error, InferRequest& worker) {
  if (cancelled()) {
    error = std::make_exception_ptr(
        InferCancelled("the inference was cancelled after a device had taken it; its result is dropped"));
  }
  if (error) return error;
  try {
    for (size_t j = 0; j < outputs_.size(); ++j) {
      if (dev::port_has_static_tensor(outputs()[j])) continue;
      // A dynamic output's shape (or a sequence's or optional's value) is known only now: a copy, since
      // the worker's tensor is reused; into the application's tensor when it set one of this shape.
      const Tensor result = worker.get_output_tensor(j);
      if (user_output_[j] && !result.empty() && outputs_[j].shape() == result.shape()) {
        result.copy_to(outputs_[j]);
      } else {
        outputs_[j] = result.clone();
      }
    }
    profile_ = worker.get_profiling_info();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

void MultiInferRequest::finish_inference(uint64_t generation, std::exception_ptr error) {
  finish(generation, std::move(error));
}

}  // namespace sluice::multi
