// Operator definitions: for each (domain, op type, since-version), attribute validation, shape and type
// inference, and the reference kernel. Resolution picks, for a node of opset version V, the definition
// with the largest since-version <= V, so one operator can carry several versions' semantics.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.hpp"

namespace sluice::graph {

// What shape inference sees of a node: its inputs' types and partial shapes, and their values when they
// are constants. It fills the outputs' types and shapes.
class InferContext {
 public:
  InferContext(const Node& node, std::vector<ElementType> input_types, std::vector<PartialShape> input_shapes,
               std::vector<const Tensor*> input_values, std::vector<ValueKind> input_kinds = {});

  const Node& node;
  size_t num_inputs() const { return input_types_.size(); }
  size_t num_outputs() const { return output_types_.size(); }
  bool has_input(size_t i) const { return node.has_input(i); }
  ElementType input_type(size_t i) const;
  const PartialShape& input_shape(size_t i) const;
  // The input's value when it is a constant, else nullptr.
  const Tensor* input_value(size_t i) const;
  // The input's kind (a tensor for a missing input).
  ValueKind input_kind(size_t i) const;

  void set_output(size_t i, ElementType type, PartialShape shape);
  // An output's kind; outputs whose kind is not set are tensors.
  void set_output_kind(size_t i, ValueKind kind);
  ValueKind output_kind(size_t i) const { return output_kinds_.at(i); }
  ElementType output_type(size_t i) const { return output_types_.at(i); }
  const PartialShape& output_shape(size_t i) const { return output_shapes_.at(i); }

  // For control-flow operators: infers a subgraph's output types and shapes for the given input types
  // and shapes (set by the pass that owns the context; unset means subgraph outputs are taken as they
  // were declared).
  std::function<std::vector<std::pair<ElementType, PartialShape>>(
      const Graph&, const std::vector<std::pair<ElementType, PartialShape>>&)>
      infer_subgraph;

 private:
  std::vector<ElementType> input_types_;
  std::vector<PartialShape> input_shapes_;
  std::vector<const Tensor*> input_values_;
  std::vector<ValueKind> input_kinds_;
  std::vector<ValueKind> output_kinds_;
  std::vector<ElementType> output_types_;
  std::vector<PartialShape> output_shapes_;
  friend class ShapeInference;
};

// What a reference kernel may ask of the executor running it: running a subgraph (If, Loop, Scan).
class KernelEnv {
 public:
  virtual ~KernelEnv() = default;
  // Runs `body` with the given values for its graph inputs (in order) and returns its graph outputs (in
  // order). Outer values are looked up by name in the scope of the node being executed.
  virtual std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) = 0;
};

// A reference kernel: computes a node's outputs from its inputs. inputs[i] is an empty Tensor for an
// omitted optional input. Returns one tensor per node output (an empty Tensor for an omitted output);
// output tensors are newly allocated (they may share memory with an input only when the op is a pure
// view, such as Reshape or Identity). Throws sluice::Error for bad input values.
using RefKernel = std::function<std::vector<Tensor>(const Node&, std::span<const Tensor>, KernelEnv&)>;
using ShapeInferFn = std::function<void(InferContext&)>;
// Checks attributes and input counts beyond what the schema's counts say; throws sluice::Error naming
// the node and attribute.
using ValidateFn = std::function<void(const Node&)>;

struct OpSchema {
  std::string domain;  // "" = ai.onnx
  std::string op_type;
  int64_t since_version = 1;
  int min_inputs = 0;
  int max_inputs = 0;  // -1: variadic
  int min_outputs = 1;
  int max_outputs = 1;
  ValidateFn validate;  // optional
  ShapeInferFn infer;
  RefKernel reference;
  // What the operator takes besides tensors of non-string types. infer_node rejects, with an error naming
  // the node and input, a sequence or optional input to an operator without `takes_sequences`, and a
  // string input to one without `takes_strings`, so that no other kernel ever sees them.
  bool takes_sequences = false;  // sequences and optionals (their kinds are set by `infer`)
  bool takes_strings = false;
};

class OpRegistry {
 public:
  // The process-wide registry, filled with every built-in operator on first use. Thread-safe to read.
  static const OpRegistry& instance();

  void add(OpSchema schema);
  // The definition for a node of this opset version, or nullptr when there is none.
  const OpSchema* find(const std::string& domain, const std::string& op_type, int64_t version) const;
  // Every registered (domain, op type).
  std::vector<std::pair<std::string, std::string>> operators() const;

 private:
  // (domain, op type) -> definitions sorted by since_version
  std::map<std::pair<std::string, std::string>, std::vector<OpSchema>> schemas_;
};

// Registration entry points, one per operator family (src/ops/*.cpp). Called once by OpRegistry.
void register_elementwise_ops(OpRegistry& registry);
void register_nn_ops(OpRegistry& registry);
void register_tensor_ops(OpRegistry& registry);
void register_reduction_ops(OpRegistry& registry);
void register_control_flow_ops(OpRegistry& registry);
void register_loss_ops(OpRegistry& registry);
void register_quantization_ops(OpRegistry& registry);
void register_recurrent_ops(OpRegistry& registry);
void register_signal_ops(OpRegistry& registry);
void register_misc_ops(OpRegistry& registry);
// The ai.onnx.ml operators on tensors (src/ops/ml.cpp).
void register_ml_ops(OpRegistry& registry);
// The com.sluice operators that fusion passes produce (src/ops/fused*.cpp).
void register_fused_ops(OpRegistry& registry);

// Runs shape inference for one node (validation included); fills the node's output values' type and
// shape. Throws sluice::Error naming the node when inputs are incompatible.
void infer_node(Node& node);
// Checks a node's input and output counts against its schema; throws naming the node.
void check_arity(const Node& node);
// Infers a subgraph's output types and shapes for given input types and shapes (outer values take the
// types of the enclosing graphs' values of the same name). The subgraph itself is not modified.
// `input_kinds`, when given, sets the kinds of the inputs that are not tensors; `output_kinds`, when not
// null, receives the outputs' kinds.
std::vector<std::pair<ElementType, PartialShape>> infer_subgraph_outputs(
    const Graph& body, const std::vector<std::pair<ElementType, PartialShape>>& inputs,
    const std::vector<ValueKind>& input_kinds = {}, std::vector<ValueKind>* output_kinds = nullptr);

}  // namespace sluice::graph
