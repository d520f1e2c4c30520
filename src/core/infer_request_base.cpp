#include "sluice/dev/infer_request_base.hpp"

#include <cstring>

namespace sluice::dev {

InferRequestBase::InferRequestBase(std::vector<PortInfo> inputs, std::vector<PortInfo> outputs)
    : inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      input_tensors_(inputs_.size()),
      output_tensors_(outputs_.size()),
      preset_(outputs_.size()),
      results_(outputs_.size()) {}

void check_port_tensor(const PortInfo& port, const char* kind, const Tensor& tensor) {
  SLUICE_CHECK(!tensor.empty(), kind, " '", port.name, "': the tensor is empty");
  SLUICE_CHECK(tensor.type() == port.type || port.type == ElementType::undefined, kind, " '", port.name,
               "': tensor of element type ", to_string(tensor.type()), "; expected ", to_string(port.type));
  SLUICE_CHECK(port.shape.accepts(tensor.shape()), kind, " '", port.name, "': tensor of shape ",
               to_string(tensor.shape()), "; expected ", port.shape.to_string());
}

const PortInfo& port_at(const std::vector<PortInfo>& ports, bool is_input, size_t index) {
  SLUICE_CHECK(index < ports.size(), "the model has ", ports.size(), is_input ? " inputs" : " outputs",
               "; index ", index, " is out of range");
  return ports[index];
}

void throw_missing_input(const PortInfo& port) {
  throw_error("input '", port.name,
              "' has no tensor: set one with set_tensor (or fill the one get_tensor returns)");
}

Tensor allocate_port_tensor(const PortInfo& port, bool is_input) {
  SLUICE_CHECK(port.shape.is_static(), is_input ? "input '" : "output '", port.name, "' has dynamic shape ",
               port.shape.to_string(),
               is_input ? ": set a tensor with set_tensor first" : ": run an inference first");
  return Tensor(port.type, port.shape.to_shape());
}

void InferRequestBase::set_tensor(bool is_input, size_t index, const Tensor& tensor) {
  check_port_tensor(port_at(is_input ? inputs_ : outputs_, is_input, index), is_input ? "input" : "output",
                    tensor);
  if (is_input) {
    input_tensors_[index] = tensor;
  } else {
    output_tensors_[index] = tensor;
    preset_[index] = tensor;
  }
}

Tensor InferRequestBase::get_tensor(bool is_input, size_t index) const {
  const PortInfo& port = port_at(is_input ? inputs_ : outputs_, is_input, index);
  auto& tensors = is_input ? input_tensors_ : output_tensors_;
  if (tensors[index].empty()) tensors[index] = allocate_port_tensor(port, is_input);
  return tensors[index];
}

void InferRequestBase::check_inputs() const {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (input_tensors_[i].empty()) throw_missing_input(inputs_[i]);
  }
}

void InferRequestBase::infer(int stream) {
  check_inputs();
  run(input_tensors_, preset_, results_, stream);
  for (size_t i = 0; i < outputs_.size(); ++i) {
    SLUICE_CHECK(!results_[i].empty(), "the device produced no tensor for output '", outputs_[i].name, "'");
    if (preset_[i].empty() || results_[i].data() == preset_[i].data()) {
      output_tensors_[i] = results_[i];
      continue;
    }
    const Tensor& result = results_[i];
    Tensor& bound = output_tensors_[i];
    SLUICE_CHECK(bound.type() == result.type() && bound.shape() == result.shape(), "output '",
                 outputs_[i].name, "': the result has type ", to_string(result.type()), " and shape ",
                 to_string(result.shape()), " but the tensor set for it has type ", to_string(bound.type()),
                 " and shape ", to_string(bound.shape()));
    if (bound.byte_size()) std::memcpy(bound.data(), result.data(), bound.byte_size());
  }
}

}  // namespace sluice::dev
