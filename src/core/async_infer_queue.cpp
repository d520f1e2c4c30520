// AsyncInferQueue: built only on the public InferRequest (start_async, set_callback, wait).
//
// Ownership: the queue owns its requests. Each request's callback (set once, in the constructor) captures
// `this` and the request's index, never a request handle, so no request keeps itself alive through its
// callback; the destructor waits until no request is in flight or inside its callback, then clears the
// callbacks, so a stale `this` can never be called.
//
// A request id is owned by exactly one party at a time: the idle list (under mutex_), the thread that took
// it in start_async (until the request is started), or the runtime (from start_async until its callback
// puts it back). userdata_[id] is touched only by the owner, so it needs no lock: the runtime's own
// synchronization orders start_async before the callback, and mutex_ orders the callback's release before
// the next take.
#include "sluice/async_infer_queue.hpp"

#include <utility>

#include "sluice/error.hpp"
#include "sluice/properties.hpp"

namespace sluice {

namespace {

// The queue whose callback the calling thread runs now (null outside callbacks): wait_all from inside a
// callback would wait for that callback itself.
thread_local const AsyncInferQueue* tl_in_callback = nullptr;

// Waits until the request is really idle: its callback may have put it back in the idle list and still be
// returning into the runtime. Errors are ignored: the queue's callback has already handled them.
void settle(InferRequest& request) {
  try {
    request.wait();
  } catch (...) {  // NOLINT(bugprone-empty-catch): delivered to the queue's callback already
  }
}

}  // namespace

AsyncInferQueue::AsyncInferQueue(const CompiledModel& model, size_t jobs) {
  if (jobs == 0) {
    const int64_t optimal = model.get_property(props::optimal_number_of_infer_requests);
    SLUICE_CHECK(optimal >= 1, "AsyncInferQueue: the model's OPTIMAL_NUMBER_OF_INFER_REQUESTS is ", optimal,
                 "; expected at least 1 (or give the number of jobs explicitly)");
    jobs = static_cast<size_t>(optimal);
  }
  requests_.reserve(jobs);
  userdata_.resize(jobs);
  idle_.reserve(jobs);
  for (size_t id = 0; id < jobs; ++id) {
    requests_.push_back(model.create_infer_request());
    requests_.back().set_callback([this, id](std::exception_ptr error) { finished(id, error); });
  }
  // idle_ is used as a stack: request 0 is taken first.
  for (size_t id = jobs; id-- > 0;) idle_.push_back(id);
}

AsyncInferQueue::~AsyncInferQueue() {
  try {
    wait_all();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the destructor ignores errors, as documented
  }
  // Every request is idle and out of its callback (wait_all settled them): nothing calls finished() again.
  for (InferRequest& request : requests_) {
    try {
      request.set_callback({});
    } catch (...) {  // NOLINT(bugprone-empty-catch): cannot happen on an idle request; never throw here
    }
  }
}

void AsyncInferQueue::set_callback(Callback callback) {
  auto fn = callback ? std::make_shared<const Callback>(std::move(callback)) : nullptr;
  std::lock_guard lock(mutex_);
  SLUICE_CHECK(busy_ == 0, "AsyncInferQueue::set_callback: ", busy_,
               " request(s) are busy; call wait_all() before changing the callback");
  callback_ = std::move(fn);
}

size_t AsyncInferQueue::take_idle() {
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [&] { return !idle_.empty(); });
  const size_t id = idle_.back();
  idle_.pop_back();
  ++busy_;
  return id;
}

void AsyncInferQueue::release(size_t id, std::exception_ptr error) {
  std::lock_guard lock(mutex_);
  if (error && !first_error_) first_error_ = std::move(error);
  idle_.push_back(id);
  --busy_;
  // Everyone: start_async waits for one idle request, wait_all for all of them.
  idle_cv_.notify_all();
}

void AsyncInferQueue::start_async(const std::vector<Tensor>& inputs, std::any userdata) {
  SLUICE_CHECK(!requests_.empty(), "AsyncInferQueue::start_async: the queue has no requests");
  const size_t ports = requests_.front().inputs().size();
  SLUICE_CHECK(inputs.size() <= ports, "AsyncInferQueue::start_async: ", inputs.size(),
               " input tensors given; the model has ", ports, " inputs");
  const size_t id = take_idle();
  try {
    settle(requests_[id]);
    for (size_t i = 0; i < inputs.size(); ++i) requests_[id].set_input_tensor(i, inputs[i]);
  } catch (...) {
    release(id, nullptr);  // a bad tensor: the caller gets the error, the request goes back to the pool
    throw;
  }
  start(id, std::move(userdata));
}

void AsyncInferQueue::start_async(const std::map<std::string, Tensor>& inputs, std::any userdata) {
  SLUICE_CHECK(!requests_.empty(), "AsyncInferQueue::start_async: the queue has no requests");
  const size_t id = take_idle();
  try {
    settle(requests_[id]);
    for (const auto& [name, tensor] : inputs) requests_[id].set_tensor(name, tensor);
  } catch (...) {
    release(id, nullptr);
    throw;
  }
  start(id, std::move(userdata));
}

void AsyncInferQueue::start(size_t id, std::any userdata) {
  userdata_[id] = std::move(userdata);
  try {
    requests_[id].start_async();
  } catch (...) {  // e.g. an input without a tensor: the callback will not run, so release here
    userdata_[id].reset();
    release(id, nullptr);
    throw;
  }
}

void AsyncInferQueue::finished(size_t id, const std::exception_ptr& error) noexcept {
  std::shared_ptr<const Callback> callback;
  {
    std::lock_guard lock(mutex_);
    callback = callback_;  // set_callback cannot change it now: this request counts as busy
  }
  std::exception_ptr unreported = callback ? nullptr : error;
  if (callback) {
    const AsyncInferQueue* outer = std::exchange(tl_in_callback, this);
    try {
      (*callback)(requests_[id], userdata_[id], error);
    } catch (...) {  // never let the user's exception reach a runtime thread
      unreported = std::current_exception();
    }
    tl_in_callback = outer;
  }
  userdata_[id].reset();  // release what the user passed before the request can be taken again
  // Only now, after the callback returned, may another start_async take this request and overwrite its
  // outputs.
  release(id, std::move(unreported));
}

void AsyncInferQueue::wait_all() {
  SLUICE_CHECK(
      tl_in_callback != this,
      "AsyncInferQueue::wait_all was called from the queue's own callback, which would wait for itself");
  {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [&] { return busy_ == 0; });
  }
  // Every callback has put its request back, but a runtime thread may still be returning from one: wait
  // until each request is idle, so that the caller may use them (and the destructor may clear callbacks).
  for (InferRequest& request : requests_) settle(request);
  std::exception_ptr error;
  {
    std::lock_guard lock(mutex_);
    error = std::exchange(first_error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

bool AsyncInferQueue::is_ready() const {
  std::lock_guard lock(mutex_);
  return !idle_.empty();
}

size_t AsyncInferQueue::get_idle_request_id() {
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [&] { return !idle_.empty(); });
  return idle_.back();
}

InferRequest& AsyncInferQueue::operator[](size_t index) {
  SLUICE_CHECK(index < requests_.size(), "AsyncInferQueue: request index ", index,
               " is out of range; the queue has ", requests_.size(), " requests");
  return requests_[index];
}

}  // namespace sluice
