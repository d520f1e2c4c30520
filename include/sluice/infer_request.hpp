// InferRequest: one set of input and output tensors and the means to run the model on them.
#pragma once

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
// use several requests to run several at once. A request's methods are not safe to call concurrently
// with each other on the same request; different requests may be used from different threads.
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
  // missing or inference fails; the request stays usable.
  void infer();

  // Per-node times of the last inference (empty unless compiled with ENABLE_PROFILING).
  std::vector<ProfilingInfo> get_profiling_info() const;

  const std::shared_ptr<dev::IInferRequest>& impl() const { return impl_; }

 private:
  std::shared_ptr<dev::IInferRequest> impl_;
};

}  // namespace sluice
