// Model: a graph read from ONNX, with named inputs and outputs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/element_type.hpp"
#include "sluice/shape.hpp"

namespace sluice {

namespace detail {
struct ModelImpl;
}

// A model input or output: name, element type and partial shape. A sequence port takes and gives
// Tensor::sequence values whose items have this type and shape; an optional port may have no value (an
// empty Tensor: an input left unset, or an output the model did not produce).
struct PortInfo {
  std::string name;
  ElementType type = ElementType::undefined;
  PartialShape shape;
  bool sequence = false;
  bool optional = false;
};

// A Model is a handle: copies share the same graph (reshape on one is seen by all). Use clone() for an
// independent copy. Compiling a model takes a snapshot: reshaping afterwards does not affect compiled
// models. Not safe to reshape from one thread while another uses the same model.
class Model {
 public:
  Model() = default;
  explicit Model(std::shared_ptr<detail::ModelImpl> impl);

  bool empty() const { return !impl_; }
  const std::string& name() const;
  const std::vector<PortInfo>& inputs() const;
  const std::vector<PortInfo>& outputs() const;
  // By name or index; throws sluice::Error listing the names when there is no such port.
  const PortInfo& input(const std::string& name) const;
  const PortInfo& input(size_t index) const;
  const PortInfo& output(const std::string& name) const;
  const PortInfo& output(size_t index) const;
  // The operator histogram: "domain::op_type" (just op_type for ai.onnx) -> count, subgraphs included.
  std::map<std::string, int> operator_counts() const;
  // Operators no device of this runtime implements, as "op_type (domain, opset N): node names"; empty
  // when every operator is known. compile_model fails with these listed.
  std::vector<std::string> unsupported_operators() const;
  // The opset imports: domain ("" for ai.onnx) -> version.
  std::map<std::string, int64_t> opsets() const;

  // Sets new shapes for the named inputs (the others keep theirs) and re-infers every shape in the
  // graph. Throws sluice::Error when a name is unknown, a rank changes, or the new shapes make the graph
  // inconsistent; the model is unchanged then.
  void reshape(const std::map<std::string, PartialShape>& shapes);
  // Reshapes the only input; throws when the model has several.
  void reshape(const PartialShape& shape);
  // Sets dimension 0 of every input to `batch` (-1 makes it dynamic). Throws when an input has rank 0.
  void reshape_batch(int64_t batch);

  Model clone() const;

  // Internal: the implementation, for devices (see dev_api).
  const std::shared_ptr<detail::ModelImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<detail::ModelImpl> impl_;
};

}  // namespace sluice
