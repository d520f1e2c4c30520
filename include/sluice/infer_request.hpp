// InferRequest: one set of input and output tensors and the means to run the model on them.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/model.hpp"
#include "sluice/tensor.hpp"

namespace sluice {

namespace dev {
class IInferRequest;
}

// Time spent by one node of an inference (with ENABLE_PROFILING).
struct ProfilingInfo {
  std::string node_name;
  std::string node_type;
  std::string exec_type;  // the kernel used, e.g. "ref" or "brgconv:avx512_core"
  double real_time_us = 0;
};

// An infer request is a handle (copies share the request). One request runs one inference at a time;
// use several requests to run several at once (each compiled model runs up to NUM_STREAMS at once, and
// OPTIMAL_NUMBER_OF_INFER_REQUESTS requests keep it busy). A request's methods are not safe to call
// concurrently with each other on the same request (except wait/wait_for, from any number of threads);
// different requests may be used from different threads.
//
// Asynchronous use: start_async() queues the inference and returns at once; the request is then *busy*
// until the inference and its callback have finished. While busy, set_tensor, get_tensor, infer,
// start_async, set_callback and get_profiling_info throw sluice::Error saying so. Inside the callback the
// request is no longer busy: it may read outputs, set inputs and start the next inference.
//
// Lifetime: an inference in flight keeps its request and compiled model alive; dropping every handle
// while one runs is safe (it finishes and its callback still runs). A callback that captures a handle of
// its own request keeps the request alive for as long as the callback is set: capture a reference or
// clear the callback (set_callback({})) when done.
class InferRequest {
 public:
  InferRequest() = default;
  explicit InferRequest(std::shared_ptr<dev::IInferRequest> impl);

  // Sets the tensor of an input (or of an output, which the inference then writes into). The tensor's
  // memory is used, not copied: keep it alive and unchanged until the inference ends. Throws
  // sluice::Error for an unknown name or a tensor whose element type or shape the port does not accept.
  void set_tensor(const std::string& name, const Tensor& tensor);
  void set_input_tensor(size_t index, const Tensor& tensor);
  void set_input_tensor(const Tensor& tensor);  // the only input
  void set_output_tensor(size_t index, const Tensor& tensor);
  // The tensor of an input or output. For an input not yet set, an owned tensor of the input's shape
  // (when static) to fill in; for an output, the result of the last inference. A device may write the
  // next inference's result into the same memory (the CPU device does, so that inference allocates
  // nothing): clone an output to keep it across inferences.
  Tensor get_tensor(const std::string& name) const;
  Tensor get_input_tensor(size_t index) const;
  Tensor get_output_tensor(size_t index) const;
  Tensor get_output_tensor() const;  // the only output

  const std::vector<PortInfo>& inputs() const;
  const std::vector<PortInfo>& outputs() const;

  // Runs one inference and returns when the outputs are ready. Throws sluice::Error when an input is
  // missing or inference fails; the request stays usable. It runs on one of the compiled model's streams
  // (not on the calling thread), so infer() called from many threads on different requests uses every
  // stream. The callback is not called.
  void infer();

  // Starts an inference and returns at once (after checking that every input has a tensor: a missing one
  // throws here). Throws sluice::Error when the request is busy.
  void start_async();
  // Blocks until the request is idle: its inference and callback have finished. Throws the inference's
  // error (sluice::InferCancelled when it was cancelled), or the error the callback threw; every wait()
  // until the next start rethrows it. Returns at once when nothing was started. Must not be called from
  // the request's own callback (throws sluice::Error).
  void wait();
  // Like wait(), for at most `timeout`: true when the request is idle (errors are thrown as by wait()),
  // false when the time ran out.
  bool wait_for(std::chrono::milliseconds timeout);
  // Sets the function called when each inference started by start_async ends: with a null exception_ptr
  // on success, or with the inference's error. It runs on a runtime thread, with the request idle (see
  // above). An exception it throws is caught and rethrown by wait(). An empty function clears it.
  void set_callback(std::function<void(std::exception_ptr error)> callback);
  // Cancels the started inference: it ends with sluice::InferCancelled, which reaches the callback and
  // wait(). One still queued is removed at once; one already running stops before its next node (REF
  // and CPU check between nodes; one in its last node completes normally). Does nothing when the request
  // is idle or in its callback.
  void cancel();

  // Per-node times of the last inference (empty unless compiled with ENABLE_PROFILING).
  std::vector<ProfilingInfo> get_profiling_info() const;

  const std::shared_ptr<dev::IInferRequest>& impl() const { return impl_; }

 private:
  std::shared_ptr<dev::IInferRequest> impl_;
};

}  // namespace sluice
