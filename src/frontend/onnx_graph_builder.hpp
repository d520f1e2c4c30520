// Builds one graph IR Graph (and, recursively, its subgraphs) from an ONNX GraphProto.
#pragma once

#include <onnx/onnx_pb.h>  // onnx-ml.pb.h with ONNX_API defined

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.hpp"

namespace sluice::frontend::detail {

// What every graph of one model shares. The function protos are owned by the ModelProto, which
// outlives the build.
struct ModelContext {
  std::string base_dir;  // folder external data is resolved against ("" rejects external data)
  std::map<std::string, int64_t> opset_imports;  // normalized domain -> version
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> functions;  // (domain, name)
};

// Where the nodes being built come from: a graph's own node list, or the body of a model-local function
// expanded at a call site (its names then get a prefix, its formal inputs and outputs become the call's
// actual values, and its attribute references resolve to the call's attributes).
struct Frame {
  const Frame* caller = nullptr;  // the frame of the call site, or of the node owning this subgraph
  const std::map<std::string, int64_t>* opset_imports = nullptr;
  // Attributes a function body may refer to by ref_attr_name; null outside functions.
  const std::map<std::string, onnx::AttributeProto>* bound_attributes = nullptr;
  bool renames = false;
  std::string prefix;                          // for renamed names and node names
  std::map<std::string, std::string> actuals;  // formal name -> value name in the graph ("" = omitted)
  std::string function;  // the expanded function ("domain::name"), for errors and recursion checks

  // Owned storage of an expansion, so that pointers into it stay valid during the build.
  std::map<std::string, int64_t> own_opset_imports;
  std::map<std::string, onnx::AttributeProto> own_attributes;
  std::vector<onnx::NodeProto> body;
};

// Contract: the builder fills `graph` (empty on entry); `enclosing` (the builder of the enclosing graph,
// null for the main graph) and `owner_frame` (the frame of the node that owns this subgraph) outlive it.
// Protos are taken mutable so that large tensors can be released once copied.
class GraphBuilder {
 public:
  GraphBuilder(const ModelContext& model, graph::Graph& graph, const GraphBuilder* enclosing,
               const Frame* owner_frame);
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  void build(onnx::GraphProto& proto);

 private:
  struct PendingNode {
    onnx::NodeProto* proto;
    const Frame* frame;
    std::string name;
    std::string domain;
    int64_t opset_version;
    std::vector<graph::Value*> outputs;
  };

  // The name a node list's name has in this graph: renamed in function bodies, the enclosing graph's
  // name for a subgraph's reference to an outer value.
  std::string resolve(const std::string& name, const Frame& frame) const;
  graph::Value* define_value(const std::string& name, const std::string& definer);
  // The value of that name in this graph; in a subgraph, a name defined by an enclosing graph becomes an
  // outer value. `what` names the use in errors.
  graph::Value* use_value(const std::string& name, const std::string& what);
  const graph::Value* find_in_enclosing(const std::string& name) const;

  void collect_local_names(const onnx::GraphProto& proto);
  void define_initializers(onnx::GraphProto& proto);
  void define_inputs(onnx::GraphProto& proto);
  void define_node(onnx::NodeProto& node, const Frame& frame, int index);
  void fold_constant(onnx::NodeProto& node, const Frame& frame, const std::string& name);
  void expand_function(onnx::NodeProto& node, const Frame& frame, const std::string& name,
                       const onnx::FunctionProto& function);
  void apply_value_info(const onnx::GraphProto& proto);
  void create_node(PendingNode& pending);
  void define_outputs(const onnx::GraphProto& proto);

  // What a node's attribute stands for: itself, or for a function body's reference (ref_attr_name) a
  // copy of the call's attribute, renamed, in `scratch`; null when the call does not set it.
  onnx::AttributeProto* effective_attribute(onnx::AttributeProto& attr, const Frame& frame,
                                            onnx::AttributeProto& scratch) const;
  graph::AttributeValue convert_attribute(onnx::AttributeProto& attr, const Frame& frame);
  graph::GraphPtr build_subgraph(onnx::GraphProto& proto, const Frame& frame) const;
  int64_t opset_version(const std::string& domain, const Frame& frame) const;

  const ModelContext& model_;
  graph::Graph& graph_;
  const GraphBuilder* enclosing_;
  const Frame* owner_frame_;
  Frame base_frame_;
  std::set<std::string> local_names_;  // names this graph's own node list, inputs and initializers define
  std::map<std::string, graph::Value*> values_;  // by name, outer values included
  std::map<std::string, std::string> definers_;  // value name -> what defined it, for duplicate errors
  std::vector<PendingNode> pending_;
  std::vector<std::unique_ptr<Frame>> expansions_;
};

// "ai.onnx" -> "", other domains unchanged.
std::string normalize_domain(const std::string& domain);
// "Conv node 'conv1'", "com.x::Op node 'n'", as graph::Node::describe names nodes.
std::string describe_node(const std::string& op_type, const std::string& domain, const std::string& name);

}  // namespace sluice::frontend::detail
