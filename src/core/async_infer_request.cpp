#include "sluice/dev/async_infer_request.hpp"

namespace sluice::dev {

AsyncInferRequest::AsyncInferRequest(std::shared_ptr<InferRequestBase> request,
                                     std::shared_ptr<StreamsExecutor> executor)
    : request_(std::move(request)), executor_(std::move(executor)) {}

void AsyncInferRequest::check_not_busy(const char* what) const {
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

void AsyncInferRequest::set_callback(std::function<void(std::exception_ptr)> callback) {
  auto fn = callback ? std::make_shared<const std::function<void(std::exception_ptr)>>(std::move(callback))
                     : nullptr;
  std::lock_guard lock(mutex_);
  SLUICE_CHECK(state_ == State::idle || state_ == State::callback,
               "set_callback: the request is busy with an inference (wait() for it first)");
  callback_ = std::move(fn);
}

void AsyncInferRequest::start(bool notify, bool submit) {
  request_->check_inputs();  // the user's thread owns the request while it is idle
  {
    std::lock_guard lock(mutex_);
    SLUICE_CHECK(state_ == State::idle || state_ == State::callback, notify ? "start_async" : "infer",
                 ": the request is busy with an inference (wait() for it, or use another request)");
    state_ = State::queued;
    idle_.store(false, std::memory_order_relaxed);
    ++generation_;
    notify_ = notify;
    error_ = nullptr;
    callback_error_ = nullptr;
    request_->reset_cancel();
    if (!self_) self_ = shared_from_this();  // still set when a callback starts the next inference
  }
  if (submit) executor_->submit(*this);
}

void AsyncInferRequest::start_async() { start(true, true); }

void AsyncInferRequest::infer() {
  // Called on one of this model's own stream threads (from a callback), the inference runs right here:
  // queued, it could wait forever for a stream while every stream sits in a callback waiting for it.
  const int stream = executor_->current_stream();
  start(false, stream < 0);
  if (stream >= 0) run_on_stream(stream);
  wait();
}

void AsyncInferRequest::run_on_stream(int stream) noexcept {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    state_ = State::running;
    generation = generation_;
  }
  std::exception_ptr error;
  try {
    request_->infer(stream);
  } catch (...) {
    error = std::current_exception();
  }
  finish(generation, error);
}

void AsyncInferRequest::finish(uint64_t generation, std::exception_ptr error) {
  // Holds this request until the function returns: a callback may start the next inference, which can
  // finish (and drop self_) on another stream before the callback returns here. Declared first, so that it
  // is released last, after the lock; releasing it may destroy this request.
  std::shared_ptr<AsyncInferRequest> keep_alive;
  std::shared_ptr<const std::function<void(std::exception_ptr)>> callback;
  {
    std::lock_guard lock(mutex_);
    keep_alive = self_;
    error_ = error;
    if (notify_ && callback_) {
      callback = callback_;
      state_ = State::callback;
      callback_thread_ = std::this_thread::get_id();
    }
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
  if (generation_ != generation) return;  // the callback started the next inference, which owns self_ now
  state_ = State::idle;
  idle_.store(true, std::memory_order_release);
  callback_thread_ = {};
  self_.reset();
  idle_cv_.notify_all();
}

void AsyncInferRequest::rethrow_errors() const {
  if (error_) std::rethrow_exception(error_);
  if (callback_error_) std::rethrow_exception(callback_error_);
}

void AsyncInferRequest::spin_until_idle() const {
  const auto until = std::chrono::steady_clock::now() + spin_before_blocking;
  while (!idle_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
}

void AsyncInferRequest::wait() {
  spin_until_idle();
  std::unique_lock lock(mutex_);
  SLUICE_CHECK(!(state_ == State::callback && callback_thread_ == std::this_thread::get_id()),
               "wait() was called from the request's own callback, which would wait for itself");
  idle_cv_.wait(lock, [&] { return state_ == State::idle; });
  rethrow_errors();
}

bool AsyncInferRequest::wait_for(std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) spin_until_idle();
  std::unique_lock lock(mutex_);
  SLUICE_CHECK(!(state_ == State::callback && callback_thread_ == std::this_thread::get_id()),
               "wait_for() was called from the request's own callback, which would wait for itself");
  if (!idle_cv_.wait_for(lock, timeout, [&] { return state_ == State::idle; })) return false;
  rethrow_errors();
  return true;
}

void AsyncInferRequest::cancel() {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::queued && state_ != State::running) return;
    if (state_ == State::running || !executor_->cancel(*this)) {
      // A stream has it (or is taking it): the device stops at its next step.
      request_->request_cancel();
      return;
    }
    generation = generation_;
  }
  finish(generation,
         std::make_exception_ptr(InferCancelled("the inference was cancelled before it started")));
}

}  // namespace sluice::dev
