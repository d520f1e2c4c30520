// AsyncRequestBase: the public infer request's asynchronous contract (busy state, callbacks, wait,
// cancel, lifetime), implemented once. A device says how an inference is handed over, taken back and
// run in place; whoever runs it calls begin() and then finish().
//
// AsyncInferRequest: the request of a device that has a synchronous InferRequestBase and a
// StreamsExecutor (REF, CPU); infer() is start + wait without the callback.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/dev/streams_executor.hpp"

namespace sluice::dev {

// Thread-safety (the public InferRequest's contract): mutex_ guards the state, the generation, the
// callback and the errors. Lock order: a request's mutex_ before any lock a device takes in its hooks
// (withdraw, interrupt); a device never holds its own locks while calling begin() or finish().
class AsyncRequestBase : public IInferRequest, public std::enable_shared_from_this<AsyncRequestBase> {
 public:
  void infer() override;
  void start_async() override;
  void wait() override;
  bool wait_for(std::chrono::milliseconds timeout) override;
  void set_callback(std::function<void(std::exception_ptr)> callback) override;
  void cancel() override;

 protected:
  // Called on the application's thread (or in the request's callback) with the request idle, before it
  // becomes busy: validate the inputs and get them ready. Throws to refuse the start.
  virtual void prepare() = 0;
  // Hands the started inference over (the request is busy now; called without mutex_). Whoever runs it
  // calls begin() when it starts computing and finish() at its end, exactly once per start.
  virtual void submit() = 0;
  // With mutex_ held and the inference handed over: takes it back if it has not begun; true when taken
  // back (the base then finishes it with InferCancelled).
  virtual bool withdraw() = 0;
  // With mutex_ held, for an inference that could not be withdrawn: asks it to stop early (it then ends
  // with InferCancelled, or normally if it was too late).
  virtual void interrupt() = 0;
  // infer(): whether the inference must run on this thread rather than be handed over (a thread that the
  // device needs for it, such as its own stream thread running a callback); then run_in_place() runs it.
  virtual bool must_run_in_place() const { return false; }
  virtual void run_in_place() {}

  // Marks the inference as running (cancel() then interrupts instead of withdrawing); returns its
  // generation, which finish() takes.
  uint64_t begin();
  // Ends the inference of `generation` with `error`: calls the callback, then makes the request idle unless
  // the callback started the next one. May release the last reference to this request.
  void finish(uint64_t generation, std::exception_ptr error);
  // Throws unless the request may be used by the application now (idle, or inside its callback).
  void check_not_busy(const char* what) const;
  // Whether the inference in flight will call the callback when it finishes (started by start_async, with
  // a callback set).
  bool calls_back() const;

 private:
  enum class State {
    idle,      // nothing in flight, no callback running
    queued,    // handed over, not begun
    running,   // begun
    callback,  // ended; callbacks may still run (the request counts as idle for everything but wait)
  };

  // Starts an inference (the callback is called at its end when `notify`), handed over when `hand_over`
  // (else the caller runs it). Returns its generation.
  uint64_t start(bool notify, bool hand_over);
  bool in_flight() const { return state_ == State::queued || state_ == State::running; }  // mutex_ held
  bool in_callback() const {  // whether the calling thread runs one of this request's callbacks; mutex_ held
    return std::find(callback_threads_.begin(), callback_threads_.end(), std::this_thread::get_id()) !=
           callback_threads_.end();
  }
  void rethrow_errors() const;  // with mutex_ held
  // Polls idle_ for a short while before wait() blocks: a small model's inference often ends within it,
  // and a thread that blocked costs a wake-up of tens of microseconds on an idle (virtual) CPU.
  void spin_until_idle() const;
  static constexpr auto spin_before_blocking = std::chrono::microseconds(50);

  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;  // signalled when state_ becomes idle
  State state_ = State::idle;
  std::atomic<bool> idle_{true};  // state_ == idle, readable without the lock (for spinning only)
  uint64_t generation_ = 0;       // incremented by each start
  bool notify_ = false;           // whether the current inference calls the callback
  // The threads running this request's callbacks now: one, or more when a callback runs an inference of
  // its own request in place, or starts one that ends (and calls back) before it returns.
  std::vector<std::thread::id> callback_threads_;
  std::shared_ptr<const std::function<void(std::exception_ptr)>> callback_;
  std::exception_ptr error_;                // the last inference's error
  std::exception_ptr callback_error_;       // what the last callback threw
  std::shared_ptr<AsyncRequestBase> self_;  // keeps this alive while an inference is in flight
};

// The wrapped request is touched by the user's thread only while idle (or inside the callback), and by one
// stream thread only while running, so it needs no lock of its own.
class AsyncInferRequest final : public AsyncRequestBase, private StreamTask {
 public:
  AsyncInferRequest(std::shared_ptr<InferRequestBase> request, std::shared_ptr<StreamsExecutor> executor);

  const std::vector<PortInfo>& inputs() const override { return request_->inputs(); }
  const std::vector<PortInfo>& outputs() const override { return request_->outputs(); }
  void set_tensor(bool is_input, size_t index, const Tensor& tensor) override;
  Tensor get_tensor(bool is_input, size_t index) const override;
  std::vector<ProfilingInfo> get_profiling_info() const override;

 private:
  void prepare() override;
  void submit() override { executor_->submit(*this); }
  bool withdraw() override { return executor_->cancel(*this); }
  void interrupt() override { request_->request_cancel(); }
  // infer() on one of this model's own stream threads (from a callback) runs right there: queued, it
  // could wait forever for a stream while every stream sits in a callback waiting for it.
  bool must_run_in_place() const override { return executor_->current_stream() >= 0; }
  void run_in_place() override { run_on_stream(executor_->current_stream()); }
  void run_on_stream(int stream) noexcept override;

  std::shared_ptr<InferRequestBase> request_;
  std::shared_ptr<StreamsExecutor> executor_;
};

}  // namespace sluice::dev
