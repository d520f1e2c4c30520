// AsyncInferRequest: the public infer request of a device that has a synchronous InferRequestBase and a
// StreamsExecutor. It implements the whole asynchronous contract (busy state, callbacks, wait, cancel,
// lifetime) once for every such device; infer() is start + wait without the callback.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "sluice/dev/infer_request_base.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/dev/streams_executor.hpp"

namespace sluice::dev {

// Thread-safety (the public InferRequest's contract): mutex_ guards state_, generation_, callback_ and
// the errors. The wrapped request is touched by the user's thread only while idle (or inside the
// callback), and by one stream thread only while running, so it needs no lock of its own.
class AsyncInferRequest final : public IInferRequest,
                                private StreamTask,
                                public std::enable_shared_from_this<AsyncInferRequest> {
 public:
  AsyncInferRequest(std::shared_ptr<InferRequestBase> request, std::shared_ptr<StreamsExecutor> executor);

  const std::vector<PortInfo>& inputs() const override { return request_->inputs(); }
  const std::vector<PortInfo>& outputs() const override { return request_->outputs(); }
  void set_tensor(bool is_input, size_t index, const Tensor& tensor) override;
  Tensor get_tensor(bool is_input, size_t index) const override;
  void infer() override;
  void start_async() override;
  void wait() override;
  bool wait_for(std::chrono::milliseconds timeout) override;
  void set_callback(std::function<void(std::exception_ptr)> callback) override;
  void cancel() override;
  std::vector<ProfilingInfo> get_profiling_info() const override;

 private:
  enum class State {
    idle,      // nothing in flight
    queued,    // submitted, no stream has taken it
    running,   // a stream runs it
    callback,  // the callback runs (the request counts as idle for everything but wait)
  };

  void run_on_stream(int stream) noexcept override;
  // Starts an inference (the callback is called at its end when `notify`), queued on the executor when
  // `submit` (else the caller runs it).
  void start(bool notify, bool submit);
  // Ends the inference of generation `generation` with `error`: calls the callback, then makes the
  // request idle unless the callback started the next one.
  void finish(uint64_t generation, std::exception_ptr error);
  // Throws unless the request may be used by the application now (idle, or inside its callback).
  void check_not_busy(const char* what) const;
  void rethrow_errors() const;  // with mutex_ held
  // Polls idle_ for a short while before wait() blocks: a small model's inference often ends within it,
  // and a thread that blocked costs a wake-up of tens of microseconds on an idle (virtual) CPU.
  void spin_until_idle() const;
  static constexpr auto spin_before_blocking = std::chrono::microseconds(50);

  std::shared_ptr<InferRequestBase> request_;
  std::shared_ptr<StreamsExecutor> executor_;

  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;  // signalled when state_ becomes idle
  State state_ = State::idle;
  std::atomic<bool> idle_{true};     // state_ == idle, readable without the lock (for spinning only)
  uint64_t generation_ = 0;          // incremented by each start
  bool notify_ = false;              // whether the current inference calls the callback
  std::thread::id callback_thread_;  // the thread running the callback (state_ == callback)
  std::shared_ptr<const std::function<void(std::exception_ptr)>> callback_;
  std::exception_ptr error_;                 // the last inference's error
  std::exception_ptr callback_error_;        // what the last callback threw
  std::shared_ptr<AsyncInferRequest> self_;  // keeps this alive while an inference is in flight
};

}  // namespace sluice::dev
