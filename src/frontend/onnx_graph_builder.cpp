// GraphProto -> graph::Graph: values, constants, nodes, attributes, subgraphs, model-local functions.
#include "frontend/onnx_graph_builder.hpp"

#include <span>

#include "frontend/onnx_internal.hpp"

namespace sluice::frontend::detail {

namespace {

using onnx::AttributeProto;

constexpr int function_attribute_proto_field = 11;  // FunctionProto.attribute_proto (ONNX >= 1.13)

std::string attribute_type_name(int type) {
  if (AttributeProto::AttributeType_IsValid(type)) {
    return AttributeProto::AttributeType_Name(static_cast<AttributeProto::AttributeType>(type));
  }
  return "attribute type " + std::to_string(type);
}

// The declared type, or for attributes that do not declare one, the type their value field implies.
int attribute_type(const AttributeProto& attr) {
  if (attr.has_type() && attr.type() != AttributeProto::UNDEFINED) return attr.type();
  if (attr.has_f()) return AttributeProto::FLOAT;
  if (attr.has_i()) return AttributeProto::INT;
  if (attr.has_s()) return AttributeProto::STRING;
  if (attr.has_t()) return AttributeProto::TENSOR;
  if (attr.has_g()) return AttributeProto::GRAPH;
  if (attr.has_sparse_tensor()) return AttributeProto::SPARSE_TENSOR;
  if (attr.has_tp()) return AttributeProto::TYPE_PROTO;
  if (attr.floats_size() > 0) return AttributeProto::FLOATS;
  if (attr.ints_size() > 0) return AttributeProto::INTS;
  if (attr.strings_size() > 0) return AttributeProto::STRINGS;
  if (attr.tensors_size() > 0) return AttributeProto::TENSORS;
  if (attr.graphs_size() > 0) return AttributeProto::GRAPHS;
  if (attr.sparse_tensors_size() > 0) return AttributeProto::SPARSE_TENSORS;
  if (attr.type_protos_size() > 0) return AttributeProto::TYPE_PROTOS;
  throw_error("attribute '", attr.name(), "' has neither a known type nor a value");
}

void expect_attribute_type(const AttributeProto& attr, int expected) {
  int type = attribute_type(attr);
  SLUICE_CHECK(type == expected, "attribute '", attr.name(), "' should be ", attribute_type_name(expected),
               ", it is ", attribute_type_name(type));
}

template <class T, class Field> std::vector<T> to_vector(const Field& field) {
  return std::vector<T>(field.begin(), field.end());
}

// Default values of a function's attributes (FunctionProto.attribute_proto, newer than these protos: it
// arrives as an unknown field).
std::vector<AttributeProto> function_attribute_defaults(const onnx::FunctionProto& function) {
  std::vector<AttributeProto> defaults;
  const auto& unknown = function.unknown_fields();
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    if (field.number() != function_attribute_proto_field ||
        field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    AttributeProto attr;
    SLUICE_CHECK(attr.ParseFromString(field.length_delimited()), "model-local function '", function.name(),
                 "': an attribute default value cannot be parsed");
    defaults.push_back(std::move(attr));
  }
  return defaults;
}

// How errors name a node; a node expanded from a function says which.
std::string describe_in_frame(const std::string& op_type, const std::string& domain, const std::string& name,
                              const Frame& frame) {
  std::string description = describe_node(op_type, domain, name);
  return frame.renames ? description + " (of model-local function '" + frame.function + "')" : description;
}

std::string function_name(const onnx::FunctionProto& function) {
  std::string domain = normalize_domain(function.domain());
  return domain.empty() ? function.name() : domain + "::" + function.name();
}

}  // namespace

std::string normalize_domain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}

std::string describe_node(const std::string& op_type, const std::string& domain, const std::string& name) {
  return (domain.empty() ? op_type : domain + "::" + op_type) + " node '" + name + "'";
}

GraphBuilder::GraphBuilder(const ModelContext& model, graph::Graph& graph, const GraphBuilder* enclosing,
                           const Frame* owner_frame)
    : model_(model), graph_(graph), enclosing_(enclosing), owner_frame_(owner_frame) {
  base_frame_.opset_imports = owner_frame ? owner_frame->opset_imports : &model.opset_imports;
  if (owner_frame) {
    base_frame_.caller = owner_frame;
    base_frame_.bound_attributes = owner_frame->bound_attributes;
    base_frame_.function = owner_frame->function;
  }
}

void GraphBuilder::build(onnx::GraphProto& proto) {
  SLUICE_CHECK(proto.sparse_initializer_size() == 0, "sparse initializer '",
               proto.sparse_initializer(0).values().name(), "' is not supported");
  collect_local_names(proto);
  define_initializers(proto);
  define_inputs(proto);
  for (int i = 0; i < proto.node_size(); ++i) define_node(*proto.mutable_node(i), base_frame_, i);
  apply_value_info(proto);
  define_outputs(proto);
  for (auto& pending : pending_) create_node(pending);
  graph_.topological_sort();
}

std::string GraphBuilder::resolve(const std::string& name, const Frame& frame) const {
  if (name.empty()) return name;
  if (frame.renames) {
    auto it = frame.actuals.find(name);
    return it != frame.actuals.end() ? it->second : frame.prefix + name;
  }
  if (local_names_.count(name) != 0 || enclosing_ == nullptr) return name;
  return enclosing_->resolve(name, *owner_frame_);
}

graph::Value* GraphBuilder::define_value(const std::string& name, const std::string& definer) {
  auto [it, inserted] = definers_.emplace(name, definer);
  SLUICE_CHECK(inserted, "value '", name, "' is defined twice: by ", it->second, " and by ", definer);
  graph::Value* value = graph_.add_value(name);
  values_[name] = value;
  return value;
}

graph::Value* GraphBuilder::use_value(const std::string& name, const std::string& what) {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  SLUICE_CHECK(enclosing_ != nullptr, what,
               " is not defined: no node output, graph input or initializer has "
               "this name");
  const graph::Value* outer = find_in_enclosing(name);
  SLUICE_CHECK(outer != nullptr, what, " is not defined in this subgraph nor in an enclosing graph");
  graph::Value* value = graph_.add_value(name);
  value->outer = true;
  value->type = outer->type;
  value->shape = outer->shape;
  values_[name] = value;
  return value;
}

const graph::Value* GraphBuilder::find_in_enclosing(const std::string& name) const {
  for (const GraphBuilder* builder = enclosing_; builder != nullptr; builder = builder->enclosing_) {
    auto it = builder->values_.find(name);
    if (it != builder->values_.end() && !it->second->outer) return it->second;
  }
  return nullptr;
}

void GraphBuilder::collect_local_names(const onnx::GraphProto& proto) {
  for (const auto& input : proto.input()) local_names_.insert(input.name());
  for (const auto& initializer : proto.initializer()) local_names_.insert(initializer.name());
  for (const auto& node : proto.node()) {
    for (const auto& output : node.output()) local_names_.insert(output);
  }
  local_names_.erase("");
}

void GraphBuilder::define_initializers(onnx::GraphProto& proto) {
  for (int i = 0; i < proto.initializer_size(); ++i) {
    onnx::TensorProto& initializer = *proto.mutable_initializer(i);
    SLUICE_CHECK(!initializer.name().empty(), "initializer #", i, " has no name");
    std::string what = "initializer '" + initializer.name() + "'";
    Tensor tensor = take_tensor_from_proto(initializer, model_.base_dir, what);
    graph::Value* value = define_value(initializer.name(), what);
    value->type = tensor.type();
    value->shape = PartialShape(tensor.shape());
    value->constant = std::move(tensor);
  }
}

void GraphBuilder::define_inputs(onnx::GraphProto& proto) {
  std::set<std::string> initializer_names;
  for (const auto& initializer : proto.initializer()) initializer_names.insert(initializer.name());
  for (int i = 0; i < proto.input_size(); ++i) {
    const onnx::ValueInfoProto& input = proto.input(i);
    SLUICE_CHECK(!input.name().empty(), "graph input #", i, " has no name");
    std::string what = "graph input '" + input.name() + "'";
    DeclaredType declared = declared_type(input, what);
    SLUICE_CHECK(declared.unsupported.empty(), what, " has ", declared.unsupported,
                 " type; only tensors, sequences of tensors and optionals of those are supported");
    if (initializer_names.count(input.name()) != 0) {
      // An input with a default value (and how IR < 4 models list every initializer): a constant.
      const graph::Value* constant = values_.at(input.name());
      SLUICE_CHECK(declared.type == ElementType::undefined || declared.type == constant->type, what,
                   " is declared ", to_string(declared.type), " but its initializer holds ",
                   to_string(constant->type));
      continue;
    }
    graph::Value* value = define_value(input.name(), what);
    value->is_graph_input = true;
    value->type = declared.type;
    value->shape = declared.shape;
    value->kind = declared.kind;
    graph_.inputs().push_back(value);
  }
}

void GraphBuilder::define_node(onnx::NodeProto& node, const Frame& frame, int index) {
  std::string name =
      frame.prefix + (node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name());
  std::string domain = normalize_domain(node.domain());
  auto function = model_.functions.find({domain, node.op_type()});
  if (function != model_.functions.end() && frame.renames) {
    // A call inside a function body: the expanded nodes' names already carry the call path.
    return expand_function(node, frame, name, *function->second);
  }
  std::string description = describe_in_frame(node.op_type(), domain, name, frame);
  with_context(description, [&] {
    SLUICE_CHECK(!node.op_type().empty(), "the node has no op_type");
    if (function != model_.functions.end()) return expand_function(node, frame, name, *function->second);
    if (domain.empty() && node.op_type() == "Constant") return fold_constant(node, frame, name);
    PendingNode pending{&node, &frame, name, domain, opset_version(domain, frame), {}};
    for (int i = 0; i < node.output_size(); ++i) {
      std::string output = resolve(node.output(i), frame);
      pending.outputs.push_back(
          output.empty() ? nullptr
                         : define_value(output, "output " + std::to_string(i) + " of " + description));
    }
    pending_.push_back(std::move(pending));
  });
}

void GraphBuilder::fold_constant(onnx::NodeProto& node, const Frame& frame, const std::string& name) {
  SLUICE_CHECK(node.output_size() == 1 && !node.output(0).empty(),
               "a Constant node must have exactly one output, it has ", node.output_size());
  SLUICE_CHECK(node.input_size() == 0, "a Constant node takes no inputs, it has ", node.input_size());
  Tensor value;
  int values_found = 0;
  for (auto& node_attr : *node.mutable_attribute()) {
    AttributeProto scratch;
    AttributeProto* attr = effective_attribute(node_attr, frame, scratch);
    if (attr == nullptr) continue;
    const std::string& key = attr->name();
    if (key == "value") {
      expect_attribute_type(*attr, AttributeProto::TENSOR);
      value = take_tensor_from_proto(*attr->mutable_t(), model_.base_dir, "attribute 'value'");
    } else if (key == "value_float") {
      expect_attribute_type(*attr, AttributeProto::FLOAT);
      value = Tensor::scalar<float>(attr->f());
    } else if (key == "value_floats") {
      expect_attribute_type(*attr, AttributeProto::FLOATS);
      auto floats = to_vector<float>(attr->floats());
      value = Tensor::from<float>({static_cast<int64_t>(floats.size())}, std::span<const float>(floats));
    } else if (key == "value_int") {
      expect_attribute_type(*attr, AttributeProto::INT);
      value = Tensor::scalar<int64_t>(attr->i());
    } else if (key == "value_ints") {
      expect_attribute_type(*attr, AttributeProto::INTS);
      auto ints = to_vector<int64_t>(attr->ints());
      value = Tensor::from<int64_t>({static_cast<int64_t>(ints.size())}, std::span<const int64_t>(ints));
    } else if (key == "value_string" || key == "value_strings") {
      throw_error("attribute '", key, "': string constants are not supported");
    } else if (key == "sparse_value") {
      throw_error("attribute 'sparse_value': sparse constants are not supported");
    } else {
      throw_error("unknown attribute '", key,
                  "' (a Constant takes one of value, value_float, value_floats, "
                  "value_int, value_ints)");
    }
    ++values_found;
  }
  SLUICE_CHECK(values_found == 1,
               "a Constant node needs exactly one of the attributes value, value_float, "
               "value_floats, value_int, value_ints; it has ",
               values_found);
  graph::Value* output =
      define_value(resolve(node.output(0), frame), "output 0 of " + describe_node(node.op_type(), "", name));
  output->type = value.type();
  output->shape = PartialShape(value.shape());
  output->constant = std::move(value);
}

void GraphBuilder::expand_function(onnx::NodeProto& node, const Frame& frame, const std::string& name,
                                   const onnx::FunctionProto& function) {
  std::string fname = function_name(function);
  for (const Frame* caller = &frame; caller != nullptr; caller = caller->caller) {
    SLUICE_CHECK(!caller->renames || caller->function != fname, "model-local function '", fname,
                 "' calls itself (recursion is not supported)");
  }
  SLUICE_CHECK(node.input_size() <= function.input_size(), "calls model-local function '", fname, "' with ",
               node.input_size(), " inputs; it takes ", function.input_size());
  SLUICE_CHECK(node.output_size() <= function.output_size(), "calls model-local function '", fname, "' with ",
               node.output_size(), " outputs; it has ", function.output_size());
  auto expansion = std::make_unique<Frame>();
  Frame& callee = *expansion;
  expansions_.push_back(std::move(expansion));
  callee.caller = &frame;
  callee.renames = true;
  callee.prefix = name + "/";
  callee.function = fname;
  callee.own_opset_imports = model_.opset_imports;
  for (const auto& import : function.opset_import()) {
    callee.own_opset_imports[normalize_domain(import.domain())] = import.version();
  }
  callee.opset_imports = &callee.own_opset_imports;
  for (auto& node_attr : *node.mutable_attribute()) {
    AttributeProto scratch;
    if (AttributeProto* attr = effective_attribute(node_attr, frame, scratch)) {
      callee.own_attributes[attr->name()] = *attr;
    }
  }
  for (auto& default_value : function_attribute_defaults(function)) {
    callee.own_attributes.emplace(default_value.name(), std::move(default_value));
  }
  callee.bound_attributes = &callee.own_attributes;
  for (int i = 0; i < function.input_size(); ++i) {
    callee.actuals[function.input(i)] = i < node.input_size() ? resolve(node.input(i), frame) : std::string();
  }
  std::vector<std::pair<std::string, std::string>> outputs;  // formal, actual
  for (int i = 0; i < node.output_size(); ++i) {
    std::string actual = resolve(node.output(i), frame);
    if (actual.empty()) continue;
    callee.actuals[function.output(i)] = actual;
    outputs.emplace_back(function.output(i), actual);
  }
  callee.body.assign(function.node().begin(), function.node().end());
  for (size_t j = 0; j < callee.body.size(); ++j) define_node(callee.body[j], callee, static_cast<int>(j));
  for (const auto& [formal, actual] : outputs) {
    SLUICE_CHECK(definers_.count(actual) != 0, "model-local function '", fname,
                 "' does not produce its output '", formal, "'");
  }
}

void GraphBuilder::apply_value_info(const onnx::GraphProto& proto) {
  for (const auto& info : proto.value_info()) {
    auto it = values_.find(info.name());
    if (it == values_.end() || it->second->is_constant() || it->second->is_graph_input) continue;
    DeclaredType declared;
    try {
      declared = declared_type(info, "value_info '" + info.name() + "'");
    } catch (const Error&) {
      continue;  // value_info is a hint; a type the runtime lacks fails where the value is computed
    }
    if (!declared.unsupported.empty() || !declared.kind.is_tensor()) continue;
    graph::Value* value = it->second;
    if (value->type == ElementType::undefined) value->type = declared.type;
    if (!value->shape.rank_known()) value->shape = declared.shape;
  }
}

void GraphBuilder::define_outputs(const onnx::GraphProto& proto) {
  for (int i = 0; i < proto.output_size(); ++i) {
    const onnx::ValueInfoProto& output = proto.output(i);
    SLUICE_CHECK(!output.name().empty(), "graph output #", i, " has no name");
    std::string what = "graph output '" + output.name() + "'";
    DeclaredType declared = declared_type(output, what);
    SLUICE_CHECK(declared.unsupported.empty(), what, " has ", declared.unsupported,
                 " type; only tensors, sequences of tensors and optionals of those are supported");
    std::string name = resolve(output.name(), base_frame_);
    SLUICE_CHECK(values_.count(name) != 0 || enclosing_ != nullptr, what,
                 " is not produced by any node, graph input or initializer");
    graph::Value* value = use_value(name, what);
    if (declared.kind.optional) {
      value->declared_optional = true;
      value->kind.optional = true;
    }
    if (value->is_constant()) {
      SLUICE_CHECK(declared.type == ElementType::undefined || declared.type == value->type, what,
                   " is declared ", to_string(declared.type), " but its constant value is ",
                   to_string(value->type));
    } else {
      if (value->type == ElementType::undefined) value->type = declared.type;
      if (!value->shape.rank_known()) value->shape = declared.shape;
    }
    graph_.outputs().push_back(value);
  }
}

void GraphBuilder::create_node(PendingNode& pending) {
  onnx::NodeProto& node = *pending.proto;
  const Frame& frame = *pending.frame;
  with_context(describe_in_frame(node.op_type(), pending.domain, pending.name, frame), [&] {
    std::vector<graph::Value*> inputs;
    for (int i = 0; i < node.input_size(); ++i) {
      std::string name = resolve(node.input(i), frame);
      inputs.push_back(name.empty() ? nullptr
                                    : use_value(name, "input " + std::to_string(i) + " '" + name + "'"));
    }
    std::map<std::string, graph::AttributeValue> attributes;
    for (auto& node_attr : *node.mutable_attribute()) {
      AttributeProto scratch;
      AttributeProto* attr = effective_attribute(node_attr, frame, scratch);
      if (attr == nullptr) continue;
      SLUICE_CHECK(!attr->name().empty(), "an attribute has no name");
      auto value =
          with_context("attribute '" + attr->name() + "'", [&] { return convert_attribute(*attr, frame); });
      SLUICE_CHECK(attributes.emplace(attr->name(), std::move(value)).second, "attribute '", attr->name(),
                   "' is set twice");
    }
    graph::Node* created =
        graph_.add_node(node.op_type(), pending.domain, std::move(inputs), pending.outputs, pending.name);
    created->opset_version = pending.opset_version;
    created->attributes = std::move(attributes);
  });
}

AttributeProto* GraphBuilder::effective_attribute(AttributeProto& attr, const Frame& frame,
                                                  AttributeProto& scratch) const {
  if (attr.ref_attr_name().empty()) return &attr;
  SLUICE_CHECK(frame.bound_attributes != nullptr, "attribute '", attr.name(),
               "' refers to function attribute '", attr.ref_attr_name(),
               "' (ref_attr_name), which only a function body may do");
  auto it = frame.bound_attributes->find(attr.ref_attr_name());
  if (it == frame.bound_attributes->end()) return nullptr;
  scratch = it->second;
  scratch.set_name(attr.name());
  return &scratch;
}

graph::AttributeValue GraphBuilder::convert_attribute(AttributeProto& attr, const Frame& frame) {
  int type = attribute_type(attr);
  switch (type) {
    case AttributeProto::FLOAT: return attr.f();
    case AttributeProto::INT: return static_cast<int64_t>(attr.i());
    case AttributeProto::STRING: return attr.s();
    case AttributeProto::TENSOR: return take_tensor_from_proto(*attr.mutable_t(), model_.base_dir, "tensor");
    case AttributeProto::GRAPH: return build_subgraph(*attr.mutable_g(), frame);
    case AttributeProto::FLOATS: return to_vector<float>(attr.floats());
    case AttributeProto::INTS: return to_vector<int64_t>(attr.ints());
    case AttributeProto::STRINGS: return to_vector<std::string>(attr.strings());
    case AttributeProto::TENSORS: {
      std::vector<Tensor> tensors;
      tensors.reserve(static_cast<size_t>(attr.tensors_size()));
      for (int i = 0; i < attr.tensors_size(); ++i) {
        tensors.push_back(take_tensor_from_proto(*attr.mutable_tensors(i), model_.base_dir,
                                                 "tensor #" + std::to_string(i)));
      }
      return tensors;
    }
    case AttributeProto::GRAPHS: {
      std::vector<graph::GraphPtr> graphs;
      graphs.reserve(static_cast<size_t>(attr.graphs_size()));
      for (int i = 0; i < attr.graphs_size(); ++i) {
        graphs.push_back(build_subgraph(*attr.mutable_graphs(i), frame));
      }
      return graphs;
    }
    case AttributeProto::SPARSE_TENSOR:
    case AttributeProto::SPARSE_TENSORS: throw_error("sparse tensor attributes are not supported");
    case AttributeProto::TYPE_PROTO: {
      DeclaredType declared = declared_type_of(attr.tp(), "type");
      SLUICE_CHECK(declared.unsupported.empty(), "the type is ", declared.unsupported,
                   "; only tensors, sequences of tensors and optionals of those are supported");
      return graph::TypeAttribute{declared.type, declared.shape, declared.kind};
    }
    case AttributeProto::TYPE_PROTOS: throw_error("type-list attributes (TYPE_PROTOS) are not supported");
    default: throw_error("unknown attribute type ", type);
  }
}

graph::GraphPtr GraphBuilder::build_subgraph(onnx::GraphProto& proto, const Frame& frame) const {
  return with_context("subgraph '" + proto.name() + "'", [&] {
    auto subgraph = std::make_shared<graph::Graph>();
    subgraph->name = proto.name();
    subgraph->opset_imports = model_.opset_imports;
    subgraph->parent = &graph_;
    GraphBuilder(model_, *subgraph, this, &frame).build(proto);
    return subgraph;
  });
}

int64_t GraphBuilder::opset_version(const std::string& domain, const Frame& frame) const {
  auto it = frame.opset_imports->find(domain);
  SLUICE_CHECK(it != frame.opset_imports->end(), "domain '", domain.empty() ? "ai.onnx" : domain,
               "' has no opset import in the ",
               frame.function.empty() ? "model" : "model nor in function '" + frame.function + "'");
  return it->second;
}

}  // namespace sluice::frontend::detail
