// The request-level scheduler of the MULTI and AUTO devices (docs/multi-device.md): a compiled model per
// device, a pool of worker requests per device, and one queue. The next user request goes to an idle
// worker of the highest-priority device that has one; when none is idle it waits in the queue, and the
// next worker that finishes takes it. The application sees one device.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/dev/async_infer_request.hpp"

namespace sluice::multi {

class MultiInferRequest;
class Scheduler;

// One worker request of a device. Its user and generation are touched only by whoever runs the worker's
// current inference (the dispatcher, then the worker's callback, one thread at a time); its handoff is
// guarded by the scheduler's mutex.
struct Worker {
  size_t device = 0;
  InferRequest request;
  std::shared_ptr<MultiInferRequest> user;  // the request it runs for, while it runs
  uint64_t generation = 0;
  std::shared_ptr<MultiInferRequest> handoff;  // started from its callback: runs next on this worker
};

// A device of the compiled model, in priority order.
struct DeviceSlot {
  std::string name;
  CompiledModel compiled;
  std::vector<std::unique_ptr<Worker>> workers;
  std::deque<Worker*> idle;  // guarded by the scheduler's mutex
  bool accepting = true;     // guarded by the scheduler's mutex: AUTO retires its start-up device
  std::atomic<int64_t> served{0};
};

// Thread-safety: mutex_ guards devices_ (the list, each one's idle workers, accepting flag and workers'
// handoffs), pending_ and dropped_. Lock order: a user request's lock before mutex_; the scheduler never
// holds mutex_ while it calls into a request or a device.
class Scheduler : public std::enable_shared_from_this<Scheduler> {
 public:
  // `runtime_fallback`: a request that fails on a device is run again on another one that has not failed
  // it (AUTO), instead of ending with the error (MULTI).
  Scheduler(std::vector<PortInfo> inputs, std::vector<PortInfo> outputs, bool runtime_fallback);

  // Adds a device after the others (lowest priority) with `workers` worker requests. Thread-safe; AUTO
  // adds its preferred device while requests run.
  void add_device(const std::string& name, CompiledModel compiled, int64_t workers);
  // Stops giving a device new requests (those it runs finish there).
  void retire_device(const std::string& name);

  const std::vector<PortInfo>& inputs() const { return inputs_; }
  const std::vector<PortInfo>& outputs() const { return outputs_; }

  void submit(std::shared_ptr<MultiInferRequest> request);
  bool withdraw(const MultiInferRequest* request);  // takes back a request still queued
  // Runs `request` here, on the worker whose callback the calling thread runs (infer() from a callback,
  // which must not wait for a worker: that callback may be what every other worker waits behind).
  void run_in_place(MultiInferRequest& request);
  bool in_callback() const;  // whether the calling thread runs a callback of one of this scheduler's workers
  // "DEVICE: why" for each device that failed to compile the model (also in the background, for AUTO).
  void add_dropped(std::string device_and_reason);
  std::vector<std::string> dropped() const;

  // The accepting devices, in priority order; the worker requests of all devices; requests served per
  // device ("CPU:120").
  std::vector<std::string> execution_devices() const;
  int64_t worker_count() const;
  std::vector<std::string> served() const;
  // The compiled model of the highest-priority accepting device (for properties the scheduler forwards).
  CompiledModel primary() const;

 private:
  void dispatch(Worker& worker, std::shared_ptr<MultiInferRequest> request);
  DeviceSlot& device(size_t index) const;  // slots never move once added
  void on_done(Worker& worker, std::exception_ptr error);
  // After its callback: the worker takes the request handed to it, or the next queued one, or is idle.
  void release(Worker& worker);
  std::unique_ptr<Worker> make_worker(DeviceSlot& slot);  // its request and callback; not yet added
  // With mutex_ held: an idle worker of the highest-priority device `request` may use: an accepting one,
  // or for a retry any one it has not failed on.
  Worker* take_idle(const MultiInferRequest& request);
  // With mutex_ held: whether a device other than those `request` failed on exists.
  bool has_other_device(const MultiInferRequest& request) const;

  const std::vector<PortInfo> inputs_, outputs_;
  const bool runtime_fallback_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<DeviceSlot>> devices_;
  std::deque<std::shared_ptr<MultiInferRequest>> pending_;
  std::vector<std::string> dropped_;
};

// A user request of MULTI/AUTO: owns its tensors (the ones the application sets, or ones it allocates)
// and binds them to whichever worker runs it, so no copy is made for static shapes.
class MultiInferRequest final : public dev::AsyncRequestBase {
 public:
  explicit MultiInferRequest(std::shared_ptr<Scheduler> scheduler);

  const std::vector<PortInfo>& inputs() const override { return scheduler_->inputs(); }
  const std::vector<PortInfo>& outputs() const override { return scheduler_->outputs(); }
  void set_tensor(bool is_input, size_t index, const Tensor& tensor) override;
  Tensor get_tensor(bool is_input, size_t index) const override;
  std::vector<ProfilingInfo> get_profiling_info() const override;

  using AsyncRequestBase::calls_back;
  // For the scheduler, while the request runs. begin_once(): the base's begin() on the first attempt of
  // an inference (the retries of runtime fallback run in the same generation); returns the generation.
  uint64_t begin_once();
  void bind(InferRequest& worker);  // its tensors to a worker
  // Takes what it needs from the worker that ran it (outputs of dynamic shape, the profile) before the
  // worker runs anything else; returns the inference's error (InferCancelled if it was cancelled).
  std::exception_ptr collect(std::exception_ptr error, InferRequest& worker);
  // Ends the inference: the base's finish (the callback), after collect.
  void finish_inference(uint64_t generation, std::exception_ptr error);
  bool cancelled() const;
  bool failed_on(size_t device) const;
  bool failed_any() const { return !failed_.empty(); }
  void add_failed(size_t device) { failed_.push_back(device); }

 private:
  void prepare() override;
  void submit() override;
  bool withdraw() override { return scheduler_->withdraw(this); }
  // A request a device runs is not stopped there: it runs to its end, and then ends with InferCancelled.
  void interrupt() override { cancelled_.store(true, std::memory_order_relaxed); }
  bool must_run_in_place() const override;
  void run_in_place() override;

  std::shared_ptr<Scheduler> scheduler_;
  // Idle-only state (see the base): the tensors, whether each input has one, the last profile.
  mutable std::vector<Tensor> inputs_;   // set, or allocated by get_tensor
  mutable std::vector<Tensor> outputs_;  // set, allocated for a static shape, or the last results
  std::vector<bool> user_output_;        // whether the application set each output's tensor
  std::vector<ProfilingInfo> profile_;
  std::vector<size_t> failed_;  // devices this inference failed on (runtime fallback)
  bool begun_ = false;          // whether begin() was called for this inference
  uint64_t generation_ = 0;     // its generation, once begun
  std::atomic<bool> cancelled_{false};
};

}  // namespace sluice::multi
