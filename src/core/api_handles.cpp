// The public handles (CompiledModel, InferRequest) forward to the device-author interfaces.
#include "sluice/compiled_model.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/infer_request.hpp"

namespace sluice {

namespace {

size_t port_index(const std::vector<PortInfo>& ports, const std::string& name) {
  for (size_t i = 0; i < ports.size(); ++i) {
    if (ports[i].name == name) return i;
  }
  return ports.size();
}

template <class Impl> Impl& checked(const std::shared_ptr<Impl>& impl, const char* what) {
  SLUICE_CHECK(impl != nullptr, "this ", what, " is empty (default-constructed)");
  return *impl;
}

std::string port_names(const std::vector<PortInfo>& inputs, const std::vector<PortInfo>& outputs) {
  std::string names;
  for (const auto& p : inputs) names += (names.empty() ? "inputs '" : "', '") + p.name;
  names += inputs.empty() ? "no inputs" : "'";
  std::string outs;
  for (const auto& p : outputs) outs += (outs.empty() ? "outputs '" : "', '") + p.name;
  return names + "; " + (outputs.empty() ? "no outputs" : outs + "'");
}

}  // namespace

InferRequest::InferRequest(std::shared_ptr<dev::IInferRequest> impl) : impl_(std::move(impl)) {}

void InferRequest::set_tensor(const std::string& name, const Tensor& tensor) {
  auto& r = checked(impl_, "InferRequest");
  const size_t in = port_index(r.inputs(), name);
  if (in < r.inputs().size()) return r.set_tensor(true, in, tensor);
  const size_t out = port_index(r.outputs(), name);
  SLUICE_CHECK(out < r.outputs().size(), "no input or output named '", name, "'; the model has ",
               port_names(r.inputs(), r.outputs()));
  r.set_tensor(false, out, tensor);
}

void InferRequest::set_input_tensor(size_t index, const Tensor& tensor) {
  checked(impl_, "InferRequest").set_tensor(true, index, tensor);
}

void InferRequest::set_input_tensor(const Tensor& tensor) {
  auto& r = checked(impl_, "InferRequest");
  SLUICE_CHECK(r.inputs().size() == 1, "set_input_tensor(tensor) needs a model with one input; this one has ",
               r.inputs().size());
  r.set_tensor(true, 0, tensor);
}

void InferRequest::set_output_tensor(size_t index, const Tensor& tensor) {
  checked(impl_, "InferRequest").set_tensor(false, index, tensor);
}

Tensor InferRequest::get_tensor(const std::string& name) const {
  auto& r = checked(impl_, "InferRequest");
  const size_t in = port_index(r.inputs(), name);
  if (in < r.inputs().size()) return r.get_tensor(true, in);
  const size_t out = port_index(r.outputs(), name);
  SLUICE_CHECK(out < r.outputs().size(), "no input or output named '", name, "'; the model has ",
               port_names(r.inputs(), r.outputs()));
  return r.get_tensor(false, out);
}

Tensor InferRequest::get_input_tensor(size_t index) const {
  return checked(impl_, "InferRequest").get_tensor(true, index);
}

Tensor InferRequest::get_output_tensor(size_t index) const {
  return checked(impl_, "InferRequest").get_tensor(false, index);
}

Tensor InferRequest::get_output_tensor() const {
  auto& r = checked(impl_, "InferRequest");
  SLUICE_CHECK(r.outputs().size() == 1, "get_output_tensor() needs a model with one output; this one has ",
               r.outputs().size());
  return r.get_tensor(false, 0);
}

const std::vector<PortInfo>& InferRequest::inputs() const { return checked(impl_, "InferRequest").inputs(); }
const std::vector<PortInfo>& InferRequest::outputs() const {
  return checked(impl_, "InferRequest").outputs();
}

void InferRequest::infer() { checked(impl_, "InferRequest").infer(); }
void InferRequest::start_async() { checked(impl_, "InferRequest").start_async(); }
void InferRequest::wait() { checked(impl_, "InferRequest").wait(); }
bool InferRequest::wait_for(std::chrono::milliseconds timeout) {
  return checked(impl_, "InferRequest").wait_for(timeout);
}
void InferRequest::set_callback(std::function<void(std::exception_ptr)> callback) {
  checked(impl_, "InferRequest").set_callback(std::move(callback));
}
void InferRequest::cancel() { checked(impl_, "InferRequest").cancel(); }

std::vector<ProfilingInfo> InferRequest::get_profiling_info() const {
  return checked(impl_, "InferRequest").get_profiling_info();
}

CompiledModel::CompiledModel(std::shared_ptr<dev::ICompiledModel> impl) : impl_(std::move(impl)) {}

InferRequest CompiledModel::create_infer_request() const {
  return InferRequest(checked(impl_, "CompiledModel").create_infer_request());
}

const std::vector<PortInfo>& CompiledModel::inputs() const {
  return checked(impl_, "CompiledModel").inputs();
}
const std::vector<PortInfo>& CompiledModel::outputs() const {
  return checked(impl_, "CompiledModel").outputs();
}

Any CompiledModel::get_property(const std::string& name) const {
  return checked(impl_, "CompiledModel").get_property(name);
}

void CompiledModel::set_property(const AnyMap& properties) {
  checked(impl_, "CompiledModel").set_property(properties);
}

namespace dev {
void ICompiledModel::set_property(const AnyMap& properties) {
  for (const auto& [name, value] : properties) {
    throw_error("property ", name, " cannot be changed on a compiled model of this device");
  }
}
}  // namespace dev

}  // namespace sluice
