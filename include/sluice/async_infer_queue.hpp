// AsyncInferQueue: a pool of infer requests of one compiled model behind one callback, for applications
// that stream many independent inputs through a model.
//
//   sluice::AsyncInferQueue queue(compiled);  // OPTIMAL_NUMBER_OF_INFER_REQUESTS requests
//   queue.set_callback([&](sluice::InferRequest& request, const std::any& userdata, std::exception_ptr error)
//   {
//     if (error) return report(std::any_cast<size_t>(userdata), error);
//     consume(std::any_cast<size_t>(userdata), request.get_output_tensor());
//   });
//   for (size_t i = 0; i < images.size(); ++i) queue.start_async({images[i]}, i);
//   queue.wait_all();
#pragma once

#include <any>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/compiled_model.hpp"
#include "sluice/infer_request.hpp"
#include "sluice/tensor.hpp"

namespace sluice {

// Thread-safe: start_async, wait_all, is_ready and get_idle_request_id may be called from many threads.
// The callback runs on runtime threads, one call per finished inference, possibly several at once (on
// different requests); the request it receives is idle and stays reserved for the callback until it returns.
// The callback must not call wait_all (it throws sluice::Error: it would wait for itself). It may call
// start_async, but that blocks while every request is busy, which deadlocks when the blocked callbacks hold
// every stream of the model.
class AsyncInferQueue {
 public:
  using Callback =
      std::function<void(InferRequest& request, const std::any& userdata, std::exception_ptr error)>;

  // Creates `jobs` requests of `model`; 0 asks the model for OPTIMAL_NUMBER_OF_INFER_REQUESTS.
  explicit AsyncInferQueue(const CompiledModel& model, size_t jobs = 0);
  // Waits for every request (wait_all), ignoring errors.
  ~AsyncInferQueue();
  AsyncInferQueue(const AsyncInferQueue&) = delete;
  AsyncInferQueue& operator=(const AsyncInferQueue&) = delete;

  // Sets the callback for every later inference (throws sluice::Error while any request is busy).
  void set_callback(Callback callback);

  // Takes an idle request (blocking only while every request is busy), sets `inputs` on it (by input
  // index, or by name) and starts it; `userdata` reaches the callback. The tensors are used in place:
  // keep their memory unchanged until the callback. Throws sluice::Error for a bad tensor (the request
  // goes back to the pool).
  void start_async(const std::vector<Tensor>& inputs, std::any userdata = {});
  void start_async(const std::map<std::string, Tensor>& inputs, std::any userdata = {});
  // start_async({a, b}, ...): a braced list of tensors would be ambiguous between the two above (std::map
  // has an iterator-pair constructor), so it gets its own overload.
  void start_async(std::initializer_list<Tensor> inputs, std::any userdata = {}) {
    start_async(std::vector<Tensor>(inputs), std::move(userdata));
  }

  // Blocks until every request is idle. Throws the first error that no callback received (an inference's
  // error when no callback is set, or an exception a callback threw), once.
  void wait_all();
  // Whether a request is idle now.
  bool is_ready() const;
  // Blocks until a request is idle and returns its index (it stays in the pool: start_async may take it).
  size_t get_idle_request_id();

  size_t size() const { return requests_.size(); }
  // Request `index` of the pool, to read or set tensors while it is idle. Start it only through the queue
  // (and leave its callback alone): the queue's bookkeeping is its callback.
  InferRequest& operator[](size_t index);

 private:
  // Blocks until a request is idle, removes it from idle_ and counts it busy.
  size_t take_idle();
  // Starts request `id` (taken by the caller) with `userdata`; on failure puts it back and rethrows.
  void start(size_t id, std::any userdata);
  // Puts request `id` back into idle_ (keeping `error` when it is the first one) and wakes the waiters.
  void release(size_t id, std::exception_ptr error);
  // Request `id`'s callback (on a runtime thread): runs the user callback, then releases the request.
  void finished(size_t id, const std::exception_ptr& error) noexcept;

  std::vector<InferRequest> requests_;  // fixed after construction
  // Per request: written by the thread that took it (before it starts), read and reset by its callback.
  std::vector<std::any> userdata_;
  mutable std::mutex mutex_;         // guards idle_, busy_, callback_, first_error_
  std::condition_variable idle_cv_;  // signalled when a request becomes idle
  std::vector<size_t> idle_;         // ids of idle requests
  size_t busy_ = 0;                  // requests started and not yet back in idle_
  std::shared_ptr<const Callback> callback_;
  std::exception_ptr first_error_;
};

}  // namespace sluice
