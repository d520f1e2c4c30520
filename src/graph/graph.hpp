// The graph IR: values with element type and partial shape, nodes with typed attributes, subgraphs.
//
// Ownership: a Graph owns its nodes and values (unique_ptr); nodes and values point at each other with
// plain pointers that stay valid until the graph removes them. A node's attribute may own a subgraph
// (If/Loop/Scan bodies); a subgraph names values of enclosing graphs ("outer" values) by name.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "sluice/error.hpp"
#include "sluice/shape.hpp"
#include "sluice/tensor.hpp"

namespace sluice::graph {

class Graph;
struct Node;
struct OpSchema;

inline constexpr const char* onnx_domain = "";  // "ai.onnx" is normalized to ""

// A value's kind beyond its element type: ONNX's tensor, sequence(tensor), optional(tensor) and
// optional(sequence(tensor)). At run time a sequence is a Tensor::sequence and an absent optional is an
// empty Tensor (see sluice/tensor.hpp).
struct ValueKind {
  bool sequence = false;  // a sequence of tensors; the value's type and shape are its items'
  bool optional = false;  // may hold no value
  bool operator==(const ValueKind&) const = default;
  bool is_tensor() const { return !sequence && !optional; }
  // "tensor", "sequence", "optional tensor", "optional sequence"
  std::string name() const;
};

struct Value {
  std::string name;
  ElementType type = ElementType::undefined;
  PartialShape shape;  // unknown rank until inferred; for a sequence, the shape every item has
  ValueKind kind;
  // Declared optional by the model (a graph output typed optional(...)): stays optional whatever
  // inference finds, since a value may always widen to an optional one.
  bool declared_optional = false;
  Node* producer = nullptr;  // null for graph inputs, constants and outer values
  int producer_output = -1;
  Tensor constant;  // set for initializers and folded constants
  bool is_graph_input = false;
  bool outer = false;  // a subgraph's reference to a value of an enclosing graph, by name

  bool is_constant() const { return !constant.empty(); }
};

using GraphPtr = std::shared_ptr<Graph>;

// A TYPE_PROTO attribute (Optional's 'type'): a tensor, sequence or optional type.
struct TypeAttribute {
  ElementType type = ElementType::undefined;
  PartialShape shape;
  ValueKind kind;
};

// An attribute value, typed as in ONNX.
using AttributeValue =
    std::variant<int64_t, float, std::string, Tensor, GraphPtr, std::vector<int64_t>, std::vector<float>,
                 std::vector<std::string>, std::vector<Tensor>, std::vector<GraphPtr>, TypeAttribute>;

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;           // "" for the default ONNX domain
  int64_t opset_version = 0;    // the model's import version of this node's domain
  std::vector<Value*> inputs;   // nullptr for an omitted optional input
  std::vector<Value*> outputs;  // nullptr for an omitted optional output
  std::map<std::string, AttributeValue> attributes;
  const OpSchema* schema = nullptr;  // resolved by Graph::resolve_operators

  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  bool has_output(size_t i) const { return i < outputs.size() && outputs[i] != nullptr; }
  bool has_attr(const std::string& attr) const { return attributes.count(attr) != 0; }

  // Typed attribute reads. The one-argument forms throw sluice::Error naming the node and attribute when
  // the attribute is missing; every form throws when it has another type.
  int64_t attr_int(const std::string& attr) const;
  int64_t attr_int(const std::string& attr, int64_t fallback) const;
  float attr_float(const std::string& attr) const;
  float attr_float(const std::string& attr, float fallback) const;
  std::string attr_string(const std::string& attr) const;
  std::string attr_string(const std::string& attr, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& attr) const;
  std::vector<int64_t> attr_ints(const std::string& attr, const std::vector<int64_t>& fallback) const;
  std::vector<float> attr_floats(const std::string& attr) const;
  std::vector<float> attr_floats(const std::string& attr, const std::vector<float>& fallback) const;
  std::vector<std::string> attr_strings(const std::string& attr) const;
  std::vector<std::string> attr_strings(const std::string& attr,
                                        const std::vector<std::string>& fallback) const;
  Tensor attr_tensor(const std::string& attr) const;
  const Graph& attr_graph(const std::string& attr) const;
  const TypeAttribute& attr_type(const std::string& attr) const;

  // "Conv node 'conv1'": how errors name a node.
  std::string describe() const;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  std::string name;
  std::map<std::string, int64_t> opset_imports;  // domain ("" = ai.onnx) -> version
  Graph* parent = nullptr;                       // the enclosing graph of a subgraph

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  const std::vector<std::unique_ptr<Value>>& values() const { return values_; }
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  std::vector<Value*>& inputs() { return inputs_; }
  std::vector<Value*>& outputs() { return outputs_; }

  // Creates a value owned by this graph.
  Value* add_value(std::string value_name);
  // Creates a node owned by this graph, appended to the node list, and sets its outputs' producer.
  Node* add_node(std::string op_type, std::string domain, std::vector<Value*> inputs,
                 std::vector<Value*> outputs, std::string node_name = {});
  // Looks a value up by name in this graph only; nullptr when absent.
  Value* find_value(const std::string& value_name) const;

  // Replaces every use of `from` (node inputs and graph outputs, in this graph and its subgraphs'
  // outer references by name are left alone) with `to`.
  void replace_uses(Value* from, Value* to);
  // Removes a node (its outputs stay, with no producer).
  void remove_node(Node* node);
  // Removes values that no node uses or produces and that are not graph inputs/outputs.
  void remove_unused_values();
  // Orders nodes so that every node comes after the producers of its inputs. Throws on a cycle.
  void topological_sort();
  // Number of uses of each value by this graph's nodes and outputs, including by-name uses from
  // subgraphs (outer values).
  std::map<const Value*, int> use_counts() const;

  // Resolves each node's schema from the registry by (domain, op_type, opset version); recursively for
  // subgraphs. Throws one sluice::Error listing every unsupported operator with its node names.
  void resolve_operators();

  // A deep copy (nodes, values, constants share tensor memory; subgraphs are copied too).
  std::unique_ptr<Graph> clone() const;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
};

// Names of the outer values that the subgraphs of `node`, at any depth, refer to.
std::set<std::string> subgraph_outer_names(const Node& node);

// Operators of the graph (and its subgraphs) that have no definition in the registry, one line per
// operator: "Foo (ai.onnx, opset 13): 'node_a', 'node_b'". Resolves the schema of every node it finds.
std::vector<std::string> unsupported_operators(Graph& graph);

}  // namespace sluice::graph
