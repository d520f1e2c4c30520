// A base for a device's synchronous infer request: binds and validates the tensors of every port, so that
// a device only implements run(). AsyncInferRequest wraps one to give the public, asynchronous request.
#pragma once

#include <atomic>
#include <vector>

#include "sluice/dev/plugin.hpp"

namespace sluice::dev {

// Throws sluice::Error unless `tensor` fits `port` (`kind`: "input" or "output"): of the port's element
// type, a sequence exactly when the port is one, of a shape the port accepts (every item's, for a
// sequence); empty only for an optional input.
void check_port_tensor(const PortInfo& port, const char* kind, const Tensor& tensor);
// Port `index` of `ports` (the inputs when `is_input`); throws sluice::Error when there is no such port.
const PortInfo& port_at(const std::vector<PortInfo>& ports, bool is_input, size_t index);
// Throws sluice::Error saying that input `port` has no tensor (for a start without one).
[[noreturn]] void throw_missing_input(const PortInfo& port);
// True when every inference gives the port exactly one tensor of one static shape: a tensor port of
// static shape that is not optional. Only such an output can be bound to a buffer before inference.
inline bool port_has_static_tensor(const PortInfo& port) {
  return port.shape.is_static() && !port.sequence && !port.optional;
}
// A new tensor for a port of static shape (get_tensor before any was set); throws for a dynamic shape
// and a sequence.
Tensor allocate_port_tensor(const PortInfo& port, bool is_input);
// What get_tensor gives for a port whose request holds `held`: `held`, made with allocate_port_tensor first
// when empty, except for an optional output, which stays empty when the last inference gave it no value.
Tensor& held_or_allocated(Tensor& held, const PortInfo& port, bool is_input);

// Contract: not thread-safe. AsyncInferRequest guarantees that one thread at a time uses it: the user's
// thread while the request is idle, one stream thread while it runs. Tensors the user sets are used in
// place, never copied or modified (inputs) — outputs set by the user are written.
class InferRequestBase {
 public:
  InferRequestBase(std::vector<PortInfo> inputs, std::vector<PortInfo> outputs);
  virtual ~InferRequestBase() = default;

  const std::vector<PortInfo>& inputs() const { return inputs_; }
  const std::vector<PortInfo>& outputs() const { return outputs_; }
  void set_tensor(bool is_input, size_t index, const Tensor& tensor);
  Tensor get_tensor(bool is_input, size_t index) const;
  // Throws sluice::Error naming the first input without a tensor.
  void check_inputs() const;
  // Runs one inference on stream `stream` (0 <= stream < the executor's streams; the calling thread is
  // that stream's). Throws what run() throws.
  void infer(int stream);
  // The per-node times of the last inference, as run() recorded them in profile_.
  virtual std::vector<ProfilingInfo> get_profiling_info() const { return profile_; }
  // Asks a running inference to stop: run() should check cancel_flag() between its steps and throw
  // sluice::InferCancelled when set. Any thread may call it; reset before each inference starts.
  void request_cancel() { cancel_.store(true, std::memory_order_relaxed); }
  void reset_cancel() { cancel_.store(false, std::memory_order_relaxed); }

 protected:
  const std::atomic<bool>* cancel_flag() const { return &cancel_; }

  // Filled by run() when the compiled model profiles (ENABLE_PROFILING); run() clears it first.
  std::vector<ProfilingInfo> profile_;

  // Computes the outputs (in port order) from the inputs (in port order, validated) into `outputs`
  // (sized to the ports, holding the previous results). A non-empty `preset[i]` is a tensor the user
  // bound to output i: the device may write into it directly and put it in outputs[i], or put another
  // tensor of the same type and shape there (its values are then copied into the bound one).
  // Copy-assigning into `outputs` reuses its storage, so a device can run without allocating. `stream`
  // selects per-stream state (arenas); tensors left in `outputs` must belong to this request, not to the
  // stream, since the stream runs other requests next.
  virtual void run(const std::vector<Tensor>& inputs, const std::vector<Tensor>& preset,
                   std::vector<Tensor>& outputs, int stream) = 0;

 private:
  std::vector<PortInfo> inputs_;
  std::vector<PortInfo> outputs_;
  mutable std::vector<Tensor> input_tensors_;   // bound by set_tensor, or allocated by get_tensor
  mutable std::vector<Tensor> output_tensors_;  // results of the last inference, or bound by the user
  std::vector<Tensor> preset_;   // per output: the tensor the user set for it (results go into it), or empty
  std::vector<Tensor> results_;  // run()'s outputs, kept so that inferences reuse the storage
  std::atomic<bool> cancel_{false};  // set by request_cancel (any thread), read by run()
};

}  // namespace sluice::dev
