#include "sluice/dev/infer_request_base.hpp"

#include <string>
#include <string_view>

namespace sluice::dev {

InferRequestBase::InferRequestBase(std::vector<PortInfo> inputs, std::vector<PortInfo> outputs)
    : inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      input_tensors_(inputs_.size()),
      output_tensors_(outputs_.size()),
      preset_(outputs_.size()),
      results_(outputs_.size()) {}

std::string describe_port(const PortInfo& port) {
  std::string what = port.sequence ? "a sequence of " + std::string(to_string(port.type)) + " tensors"
                                   : "a " + std::string(to_string(port.type)) + " tensor";
  what += " of shape " + port.shape.to_string();
  return port.optional ? what + " (optional)" : what;
}

void check_port_tensor(const PortInfo& port, const char* kind, const Tensor& tensor) {
  if (tensor.empty()) {
    // An absent value: only an optional input takes one (leaving the input unset means the same).
    SLUICE_CHECK(port.optional && std::string_view(kind) == "input", kind, " '", port.name,
                 "': the tensor is empty; expected ", describe_port(port));
    return;
  }
  SLUICE_CHECK(tensor.is_sequence() == port.sequence, kind, " '", port.name, "': got a ", describe(tensor),
               "; expected ", describe_port(port));
  SLUICE_CHECK(tensor.type() == port.type || port.type == ElementType::undefined, kind, " '", port.name,
               "': ", tensor.is_sequence() ? "sequence" : "tensor", " of element type ",
               to_string(tensor.type()), "; expected ", to_string(port.type));
  if (tensor.is_sequence()) {
    const auto& items = tensor.items();
    for (size_t i = 0; i < items.size(); ++i) {
      SLUICE_CHECK(port.shape.accepts(items[i].shape()), kind, " '", port.name, "': sequence item ", i,
                   " has shape ", to_string(items[i].shape()), "; expected ", port.shape.to_string());
    }
    return;
  }
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
  SLUICE_CHECK(
      !port.sequence, is_input ? "input '" : "output '", port.name, "' is ", describe_port(port),
      is_input ? ": set one with set_tensor(Tensor::sequence(...)) first" : ": run an inference first");
  SLUICE_CHECK(port.shape.is_static(), is_input ? "input '" : "output '", port.name, "' has dynamic shape ",
               port.shape.to_string(),
               is_input ? ": set a tensor with set_tensor first" : ": run an inference first");
  return Tensor(port.type, port.shape.to_shape());
}

Tensor& held_or_allocated(Tensor& held, const PortInfo& port, bool is_input) {
  if (held.empty() && (is_input || !port.optional)) held = allocate_port_tensor(port, is_input);
  return held;
}

void InferRequestBase::set_tensor(bool is_input, size_t index, const Tensor& tensor) {
  const PortInfo& port = port_at(is_input ? inputs_ : outputs_, is_input, index);
  check_port_tensor(port, is_input ? "input" : "output", tensor);
  SLUICE_CHECK(is_input || !port.sequence, "output '", port.name,
               "' is a sequence: the inference makes its value; it cannot be set");
  if (is_input) {
    input_tensors_[index] = tensor;
  } else {
    output_tensors_[index] = tensor;
    preset_[index] = tensor;
  }
}

Tensor InferRequestBase::get_tensor(bool is_input, size_t index) const {
  const PortInfo& port = port_at(is_input ? inputs_ : outputs_, is_input, index);
  return held_or_allocated((is_input ? input_tensors_ : output_tensors_)[index], port, is_input);
}

void InferRequestBase::check_inputs() const {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (input_tensors_[i].empty() && !inputs_[i].optional) throw_missing_input(inputs_[i]);
  }
}

void InferRequestBase::infer(int stream) {
  check_inputs();
  run(input_tensors_, preset_, results_, stream);
  for (size_t i = 0; i < outputs_.size(); ++i) {
    SLUICE_CHECK(!results_[i].empty() || outputs_[i].optional, "the device produced no tensor for output '",
                 outputs_[i].name, "'");
    if (preset_[i].empty() || results_[i].empty() || results_[i].data() == preset_[i].data()) {
      output_tensors_[i] = results_[i];
      continue;
    }
    const Tensor& result = results_[i];
    Tensor& bound = output_tensors_[i];
    SLUICE_CHECK(bound.type() == result.type() && bound.shape() == result.shape(), "output '",
                 outputs_[i].name, "': the result has type ", to_string(result.type()), " and shape ",
                 to_string(result.shape()), " but the tensor set for it has type ", to_string(bound.type()),
                 " and shape ", to_string(bound.shape()));
    result.copy_to(bound);
  }
}

}  // namespace sluice::dev
