#include "sluice/dev/async_infer_request.hpp"

#include <algorithm>

namespace sluice::dev {

AsyncInferRequest::AsyncInferRequest(std::shared_ptr<InferRequestBase> request,
                                     std::shared_ptr<StreamsExecutor> executor)
    : request_(std::move(request)), executor_(std::move(executor)) {}

void AsyncRequestBase::check_not_busy(const char* what) const {
  std::lock_guard lock(mutex_);
  SLUICE_CHECK(state_ == State::idle || state_ == State::callback, what,
               ": the request is busy with an inference (wait() for it, or use another request)");
}

void AsyncInferRequest::set_tensor(bool is_input, size_t index, const Tensor& tensor) {
  check_not_busy("set_tensor");
  request_->set_tensor(is_input, index, tensor);
}

Tensor AsyncInferRequest::get_tensor(bool is_input, size_t index) const {
  check_not_busy("get_tensor");
  return request_->get_tensor(is_input, index);
}

std::vector<ProfilingInfo> AsyncInferRequest::get_profiling_info() const {
  check_not_busy("get_profiling_info");
  return request_->get_profiling_info();
}

void AsyncRequestBase::set_callback(std::function<void(std::exception_ptr)> callback) {
  auto fn = callback ? std::make_shared<const std::function<void(std::exception_ptr)>>(std::move(callback))
                     : nullptr;
  std::lock_guard lock(mutex_);
  SLUICE_CHECK(state_ == State::idle || state_ == State::callback,
               "set_callback: the request is busy with an inference (wait() for it first)");
  callback_ = std::move(fn);
}

void AsyncInferRequest::prepare() {
  request_->check_inputs();
  request_->reset_cancel();
}

uint64_t AsyncRequestBase::start(bool notify, bool hand_over) {
  const char* what = notify ? "start_async" : "infer";
  check_not_busy(what);
  prepare();  // the user's thread owns the request while it is idle
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    SLUICE_CHECK(state_ == State::idle || state_ == State::callback, what,
                 ": the request is busy with an inference (wait() for it, or use another request)");
    state_ = State::queued;
    idle_.store(false, std::memory_order_relaxed);
    ++generation_;
    notify_ = notify;
    error_ = nullptr;
    callback_error_ = nullptr;
    if (!self_) self_ = shared_from_this();  // still set when a callback starts the next inference
    generation = generation_;
  }
  if (hand_over) submit();
  return generation;
}

void AsyncRequestBase::start_async() { start(true, true); }

bool AsyncRequestBase::calls_back() const {
  std::lock_guard lock(mutex_);
  return notify_ && callback_;
}

void AsyncRequestBase::infer() {
  const bool here = must_run_in_place();
  const uint64_t generation = start(false, !here);
  if (here) {
    run_in_place();
  } else {
    spin_until_idle();
  }
  // Waits for this inference's end, not for idle: called from the request's own callback, the request
  // becomes idle only when that callback returns.
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [&] { return generation_ != generation || !in_flight(); });
  if (generation_ == generation && error_) std::rethrow_exception(error_);
}

uint64_t AsyncRequestBase::begin() {
  std::lock_guard lock(mutex_);
  state_ = State::running;
  return generation_;
}

void AsyncInferRequest::run_on_stream(int stream) noexcept {
  const uint64_t generation = begin();
  std::exception_ptr error;
  try {
    request_->infer(stream);
  } catch (...) {
    error = std::current_exception();
  }
  finish(generation, error);
}

void AsyncRequestBase::finish(uint64_t generation, std::exception_ptr error) {
  // Holds this request until the function returns: a callback may start the next inference, which can
  // finish (and drop self_) on another stream before the callback returns here. Declared first, so that it
  // is released last, after the lock; releasing it may destroy this request.
  std::shared_ptr<AsyncRequestBase> keep_alive;
  std::shared_ptr<const std::function<void(std::exception_ptr)>> callback;
  {
    std::lock_guard lock(mutex_);
    keep_alive = self_;
    error_ = error;
    state_ = State::callback;  // the inference has ended: the request may be used again
    if (notify_ && callback_) {
      callback = callback_;
      callback_threads_.push_back(std::this_thread::get_id());
    }
    idle_cv_.notify_all();  // infer() waits for its inference's end
  }
  if (callback) {
    try {
      (*callback)(error);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (generation_ == generation) callback_error_ = std::current_exception();
    }
  }
  std::lock_guard lock(mutex_);
  if (callback)
    callback_threads_.erase(
        std::find(callback_threads_.begin(), callback_threads_.end(), std::this_thread::get_id()));
  // Idle once the latest inference has ended and no callback runs any more. A callback may have started
  // the next inference (which owns self_ now and goes idle at its own end), or run one to its end in place
  // (the request goes idle when the outermost callback returns).
  if (in_flight() || !callback_threads_.empty()) return;
  state_ = State::idle;
  idle_.store(true, std::memory_order_release);
  self_.reset();
  idle_cv_.notify_all();
}

void AsyncRequestBase::rethrow_errors() const {
  if (error_) std::rethrow_exception(error_);
  if (callback_error_) std::rethrow_exception(callback_error_);
}

void AsyncRequestBase::spin_until_idle() const {
  const auto until = std::chrono::steady_clock::now() + spin_before_blocking;
  while (!idle_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
}

void AsyncRequestBase::wait() {
  spin_until_idle();
  std::unique_lock lock(mutex_);
  SLUICE_CHECK(!in_callback(),
               "wait() was called from the request's own callback, which would wait for itself");
  idle_cv_.wait(lock, [&] { return state_ == State::idle; });
  rethrow_errors();
}

bool AsyncRequestBase::wait_for(std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) spin_until_idle();
  std::unique_lock lock(mutex_);
  SLUICE_CHECK(!in_callback(),
               "wait_for() was called from the request's own callback, which would wait for itself");
  if (!idle_cv_.wait_for(lock, timeout, [&] { return state_ == State::idle; })) return false;
  rethrow_errors();
  return true;
}

void AsyncRequestBase::cancel() {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::queued && state_ != State::running) return;
    if (state_ == State::running || !withdraw()) {
      interrupt();  // the device has it, or is taking it: it stops at its next step
      return;
    }
    generation = generation_;
  }
  finish(generation,
         std::make_exception_ptr(InferCancelled("the inference was cancelled before it started")));
}

}  // namespace sluice::dev
