#include "frontend/onnx_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace sluice::frontend {
namespace {

namespace fs = std::filesystem;
using graph::Graph;
using graph::Value;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string node_tests = SLUICE_SOURCE_DIR "/../shared/onnx-node-tests";

// ---- building models with the protobuf API ----

onnx::ModelProto make_model(int64_t opset = 17) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model.mutable_graph()->set_name("main");
  return model;
}

// A tensor type: dims > 0 are extents, "" is an unknown dim, other strings are symbols.
void set_type(onnx::ValueInfoProto* info, int32_t elem_type, const std::vector<std::string>& dims) {
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type);
  auto* shape = tensor_type->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (d.empty()) continue;
    if (std::isdigit(static_cast<unsigned char>(d[0]))) {
      dim->set_dim_value(std::stoll(d));
    } else {
      dim->set_dim_param(d);
    }
  }
}

onnx::ValueInfoProto* add_input(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                                const std::vector<std::string>& dims) {
  auto* info = g->add_input();
  info->set_name(name);
  set_type(info, elem_type, dims);
  return info;
}

onnx::ValueInfoProto* add_output(onnx::GraphProto* g, const std::string& name, int32_t elem_type,
                                 const std::vector<std::string>& dims) {
  auto* info = g->add_output();
  info->set_name(name);
  set_type(info, elem_type, dims);
  return info;
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name = "") {
  auto* node = g->add_node();
  node->set_op_type(op);
  if (!name.empty()) node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  return node;
}

onnx::AttributeProto* add_attr(onnx::NodeProto* node, const std::string& name,
                               onnx::AttributeProto::AttributeType type) {
  auto* attr = node->add_attribute();
  attr->set_name(name);
  attr->set_type(type);
  return attr;
}

template <class T>
onnx::TensorProto raw_tensor(const std::string& name, int32_t data_type, const std::vector<int64_t>& dims,
                             const std::vector<T>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(data_type);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return t;
}

onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  for (float v : values) t.add_float_data(v);
  return t;
}

// A model y = Identity(w) whose only content is the initializer w.
onnx::ModelProto model_with_initializer(const onnx::TensorProto& w) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  *g->add_initializer() = w;
  add_node(g, "Identity", {w.name()}, {"y"});
  add_output(g, "y", w.data_type(), {});
  return model;
}

std::vector<uint8_t> bytes_of(const onnx::ModelProto& model) {
  std::string s = model.SerializeAsString();
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::shared_ptr<Graph> read(const onnx::ModelProto& model, const std::string& base_dir = "") {
  auto bytes = bytes_of(model);
  return read_onnx_model(bytes, base_dir, "m.onnx");
}

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string read_error(const onnx::ModelProto& model, const std::string& base_dir = "") {
  return error_of([&] { read(model, base_dir); });
}

const Value* constant_named(const Graph& g, const std::string& name) {
  for (const auto& v : g.values()) {
    if (v->name == name) return v.get();
  }
  return nullptr;
}

template <class T> std::vector<T> values_of(const Tensor& t) {
  auto span = t.values<T>();
  return std::vector<T>(span.begin(), span.end());
}

// A temporary folder, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sluice_onnx_reader_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(file(name), std::ios::binary) << bytes;
  }

 private:
  std::string path_;
};

// ---- graph structure ----

TEST(OnnxReader, ReadsInputsNodesOutputsAndShapes) {
  onnx::ModelProto model = make_model();
  model.mutable_opset_import(0)->set_domain("ai.onnx");
  auto* ml = model.add_opset_import();
  ml->set_domain("ai.onnx.ml");
  ml->set_version(3);
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"batch", "3", ""});
  auto* no_shape = g->add_input();
  no_shape->set_name("s");
  no_shape->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  add_node(g, "Relu", {"x"}, {"r"})->set_domain("ai.onnx");
  add_node(g, "Add", {"r", "s"}, {"y"}, "add");
  add_output(g, "y", onnx::TensorProto::FLOAT, {"batch", "3", "7"});
  auto* info = g->add_value_info();
  info->set_name("r");
  set_type(info, onnx::TensorProto::FLOAT, {"batch", "3", "7"});

  auto graph = read(model);
  EXPECT_EQ(graph->name, "main");
  EXPECT_EQ(graph->opset_imports, (std::map<std::string, int64_t>{{"", 17}, {"ai.onnx.ml", 3}}));
  ASSERT_EQ(graph->inputs().size(), 2u);
  const Value* x = graph->inputs()[0];
  EXPECT_EQ(x->name, "x");
  EXPECT_TRUE(x->is_graph_input);
  EXPECT_EQ(x->type, ElementType::f32);
  EXPECT_EQ(x->shape, PartialShape({Dimension::dynamic("batch"), 3, Dimension::dynamic()}));
  EXPECT_EQ(graph->inputs()[1]->type, ElementType::i64);
  EXPECT_FALSE(graph->inputs()[1]->shape.rank_known());

  ASSERT_EQ(graph->nodes().size(), 2u);
  const graph::Node& relu = *graph->nodes()[0];
  EXPECT_EQ(relu.name, "Relu_0");
  EXPECT_EQ(relu.domain, "");
  EXPECT_EQ(relu.opset_version, 17);
  EXPECT_THAT(relu.inputs, ElementsAre(x));
  EXPECT_EQ(relu.outputs[0]->producer, &relu);
  EXPECT_EQ(relu.outputs[0]->shape.to_string(), "[batch,3,7]");
  const graph::Node& add = *graph->nodes()[1];
  EXPECT_EQ(add.name, "add");
  EXPECT_EQ(add.inputs[0], relu.outputs[0]);
  ASSERT_EQ(graph->outputs().size(), 1u);
  EXPECT_EQ(graph->outputs()[0], add.outputs[0]);
  EXPECT_EQ(graph->outputs()[0]->type, ElementType::f32);
  EXPECT_EQ(graph->outputs()[0]->shape.to_string(), "[batch,3,7]");
}

TEST(OnnxReader, OmittedInputsAndOutputsAreNull) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"4"});
  add_input(g, "max", onnx::TensorProto::FLOAT, {});
  add_node(g, "Clip", {"x", "", "max"}, {"y"});
  add_node(g, "Dropout", {"y"}, {"z", ""});
  add_output(g, "z", onnx::TensorProto::FLOAT, {"4"});
  auto graph = read(model);
  const auto& clip = *graph->nodes()[0];
  ASSERT_EQ(clip.inputs.size(), 3u);
  EXPECT_TRUE(clip.has_input(0));
  EXPECT_FALSE(clip.has_input(1));
  EXPECT_TRUE(clip.has_input(2));
  const auto& dropout = *graph->nodes()[1];
  ASSERT_EQ(dropout.outputs.size(), 2u);
  EXPECT_TRUE(dropout.has_output(0));
  EXPECT_FALSE(dropout.has_output(1));
}

TEST(OnnxReader, SortsNodesTopologically) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"4"});
  add_node(g, "Neg", {"a"}, {"y"}, "second");
  add_node(g, "Abs", {"x"}, {"a"}, "first");
  add_output(g, "y", onnx::TensorProto::FLOAT, {"4"});
  auto graph = read(model);
  EXPECT_EQ(graph->nodes()[0]->name, "first");
  EXPECT_EQ(graph->nodes()[1]->name, "second");
}

TEST(OnnxReader, RejectsCycles) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"4"});
  add_node(g, "Add", {"x", "b"}, {"a"}, "n1");
  add_node(g, "Neg", {"a"}, {"b"}, "n2");
  add_output(g, "b", onnx::TensorProto::FLOAT, {"4"});
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("m.onnx"), HasSubstr("cycle")));
}

TEST(OnnxReader, ConvertsEveryAttributeType) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  auto* node = add_node(g, "Custom", {"x"}, {"y"}, "c");
  node->set_domain("com.example");
  auto* import = model.add_opset_import();
  import->set_domain("com.example");
  import->set_version(2);
  add_attr(node, "f", onnx::AttributeProto::FLOAT)->set_f(0.5f);
  add_attr(node, "i", onnx::AttributeProto::INT)->set_i(-7);
  add_attr(node, "s", onnx::AttributeProto::STRING)->set_s("hello");
  *add_attr(node, "t", onnx::AttributeProto::TENSOR)->mutable_t() = float_tensor("", {2}, {1.5f, 2.5f});
  auto* floats = add_attr(node, "fs", onnx::AttributeProto::FLOATS);
  floats->add_floats(1.f);
  floats->add_floats(-2.f);
  auto* ints = add_attr(node, "is", onnx::AttributeProto::INTS);
  ints->add_ints(3);
  ints->add_ints(4);
  auto* strings = add_attr(node, "ss", onnx::AttributeProto::STRINGS);
  strings->add_strings("a");
  strings->add_strings("bc");
  auto* tensors = add_attr(node, "ts", onnx::AttributeProto::TENSORS);
  *tensors->add_tensors() = float_tensor("", {1}, {9.f});
  add_attr(node, "empty_ints", onnx::AttributeProto::INTS);
  auto* untyped = node->add_attribute();  // no type: taken from the field that is set
  untyped->set_name("untyped");
  untyped->set_i(11);
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});

  auto graph = read(model);
  const graph::Node& c = *graph->nodes()[0];
  EXPECT_EQ(c.domain, "com.example");
  EXPECT_EQ(c.opset_version, 2);
  EXPECT_EQ(c.attr_float("f"), 0.5f);
  EXPECT_EQ(c.attr_int("i"), -7);
  EXPECT_EQ(c.attr_string("s"), "hello");
  EXPECT_THAT(values_of<float>(c.attr_tensor("t")), ElementsAre(1.5f, 2.5f));
  EXPECT_THAT(c.attr_floats("fs"), ElementsAre(1.f, -2.f));
  EXPECT_THAT(c.attr_ints("is"), ElementsAre(3, 4));
  EXPECT_THAT(c.attr_strings("ss"), ElementsAre("a", "bc"));
  const auto& ts = std::get<std::vector<Tensor>>(c.attributes.at("ts"));
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_THAT(values_of<float>(ts[0]), ElementsAre(9.f));
  EXPECT_TRUE(c.attr_ints("empty_ints").empty());
  EXPECT_EQ(c.attr_int("untyped"), 11);
}

// ---- initializers ----

template <class T>
void expect_raw_round_trip(int32_t onnx_type, ElementType type, const std::vector<T>& values) {
  SCOPED_TRACE(to_string(type));
  auto graph = read(model_with_initializer(raw_tensor("w", onnx_type, {2, 2}, values)));
  const Value* w = constant_named(*graph, "w");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->is_constant());
  EXPECT_EQ(w->type, type);
  EXPECT_EQ(w->shape, PartialShape(Shape{2, 2}));
  EXPECT_EQ(w->constant.shape(), (Shape{2, 2}));
  ASSERT_EQ(w->constant.byte_size(), values.size() * sizeof(T));
  EXPECT_EQ(std::memcmp(w->constant.data(), values.data(), values.size() * sizeof(T)), 0);
  EXPECT_TRUE(graph->inputs().empty());
}

TEST(OnnxReader, ReadsRawDataOfEveryElementType) {
  expect_raw_round_trip<float>(onnx::TensorProto::FLOAT, ElementType::f32, {1.5f, -2.f, 0.f, 3.25f});
  expect_raw_round_trip<double>(onnx::TensorProto::DOUBLE, ElementType::f64, {1.5, -2., 1e300, 3.25});
  expect_raw_round_trip<uint16_t>(onnx::TensorProto::FLOAT16, ElementType::f16, {0x3C00, 0xC100, 0, 0x7BFF});
  expect_raw_round_trip<uint16_t>(onnx::TensorProto::BFLOAT16, ElementType::bf16, {0x3F80, 0xC000, 0, 1});
  expect_raw_round_trip<int8_t>(onnx::TensorProto::INT8, ElementType::i8, {-128, 127, 0, -1});
  expect_raw_round_trip<int16_t>(onnx::TensorProto::INT16, ElementType::i16, {-32768, 32767, 0, -1});
  expect_raw_round_trip<int32_t>(onnx::TensorProto::INT32, ElementType::i32, {INT32_MIN, INT32_MAX, 0, -1});
  expect_raw_round_trip<int64_t>(onnx::TensorProto::INT64, ElementType::i64, {INT64_MIN, INT64_MAX, 0, -1});
  expect_raw_round_trip<uint8_t>(onnx::TensorProto::UINT8, ElementType::u8, {0, 255, 7, 128});
  expect_raw_round_trip<uint16_t>(onnx::TensorProto::UINT16, ElementType::u16, {0, 65535, 7, 128});
  expect_raw_round_trip<uint32_t>(onnx::TensorProto::UINT32, ElementType::u32, {0, UINT32_MAX, 7, 128});
  expect_raw_round_trip<uint64_t>(onnx::TensorProto::UINT64, ElementType::u64, {0, UINT64_MAX, 7, 128});
  expect_raw_round_trip<uint8_t>(onnx::TensorProto::BOOL, ElementType::boolean, {0, 1, 1, 0});
}

TEST(OnnxReader, NormalizesRawBooleans) {
  auto graph =
      read(model_with_initializer(raw_tensor<uint8_t>("w", onnx::TensorProto::BOOL, {3}, {0, 2, 255})));
  EXPECT_THAT(values_of<bool>(constant_named(*graph, "w")->constant), ElementsAre(false, true, true));
}

Tensor read_typed(const std::function<void(onnx::TensorProto&)>& fill, int32_t data_type,
                  const std::vector<int64_t>& dims) {
  onnx::TensorProto t;
  t.set_name("w");
  t.set_data_type(data_type);
  for (int64_t d : dims) t.add_dims(d);
  fill(t);
  auto graph = read(model_with_initializer(t));
  return constant_named(*graph, "w")->constant;
}

TEST(OnnxReader, ReadsTypedFieldsOfEveryElementType) {
  auto int32s = [](const std::vector<int32_t>& v) {
    return [v](onnx::TensorProto& t) {
      for (int32_t x : v) t.add_int32_data(x);
    };
  };
  Tensor f32 = read_typed(
      [](auto& t) {
        t.add_float_data(1.5f);
        t.add_float_data(-3.f);
      },
      1, {2});
  EXPECT_THAT(values_of<float>(f32), ElementsAre(1.5f, -3.f));
  Tensor f64 = read_typed(
      [](auto& t) {
        t.add_double_data(0.25);
        t.add_double_data(-1e200);
      },
      11, {2});
  EXPECT_THAT(values_of<double>(f64), ElementsAre(0.25, -1e200));
  Tensor i64 = read_typed(
      [](auto& t) {
        t.add_int64_data(INT64_MIN);
        t.add_int64_data(5);
      },
      7, {2});
  EXPECT_THAT(values_of<int64_t>(i64), ElementsAre(INT64_MIN, 5));
  Tensor u64 = read_typed(
      [](auto& t) {
        t.add_uint64_data(UINT64_MAX);
        t.add_uint64_data(5);
      },
      13, {2});
  EXPECT_THAT(values_of<uint64_t>(u64), ElementsAre(UINT64_MAX, 5u));
  Tensor u32 = read_typed(
      [](auto& t) {
        t.add_uint64_data(UINT32_MAX);
        t.add_uint64_data(5);
      },
      12, {2});
  EXPECT_THAT(values_of<uint32_t>(u32), ElementsAre(UINT32_MAX, 5u));
  EXPECT_THAT(values_of<int32_t>(read_typed(int32s({INT32_MIN, 9}), 6, {2})), ElementsAre(INT32_MIN, 9));
  EXPECT_THAT(values_of<int16_t>(read_typed(int32s({-32768, 32767}), 5, {2})), ElementsAre(-32768, 32767));
  EXPECT_THAT(values_of<uint16_t>(read_typed(int32s({0, 65535}), 4, {2})), ElementsAre(0, 65535));
  EXPECT_THAT(values_of<int8_t>(read_typed(int32s({-128, 127}), 3, {2})), ElementsAre(-128, 127));
  EXPECT_THAT(values_of<uint8_t>(read_typed(int32s({0, 255}), 2, {2})), ElementsAre(0, 255));
  EXPECT_THAT(values_of<bool>(read_typed(int32s({1, 0}), 9, {2})), ElementsAre(true, false));
  // 16-bit floats travel as their bits: 0x3C00 = 1.0 and 0xC100 = -2.5 in f16; 0x3F80 = 1.0 in bf16.
  Tensor f16 = read_typed(int32s({0x3C00, 0xC100}), 10, {2});
  ASSERT_EQ(f16.type(), ElementType::f16);
  EXPECT_EQ(static_cast<float>(f16.values<float16>()[0]), 1.f);
  EXPECT_EQ(static_cast<float>(f16.values<float16>()[1]), -2.5f);
  Tensor bf16 = read_typed(int32s({0x3F80, 0xC020}), 16, {2});
  ASSERT_EQ(bf16.type(), ElementType::bf16);
  EXPECT_EQ(static_cast<float>(bf16.values<bfloat16>()[0]), 1.f);
  EXPECT_EQ(static_cast<float>(bf16.values<bfloat16>()[1]), -2.5f);
  // A scalar and an empty tensor.
  Tensor scalar = read_typed([](auto& t) { t.add_int64_data(42); }, 7, {});
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_THAT(values_of<int64_t>(scalar), ElementsAre(42));
  Tensor empty = read_typed([](auto&) {}, 1, {0, 3});
  EXPECT_EQ(empty.shape(), (Shape{0, 3}));
  EXPECT_EQ(empty.type(), ElementType::f32);
}

TEST(OnnxReader, RejectsInitializerDataThatDoesNotMatchItsShape) {
  EXPECT_THAT(read_error(model_with_initializer(float_tensor("w", {2, 3}, {1, 2, 3, 4, 5}))),
              AllOf(HasSubstr("m.onnx"), HasSubstr("initializer 'w'"), HasSubstr("[2,3]"),
                    HasSubstr("6 elements"), HasSubstr("float_data has 5 values")));
  EXPECT_THAT(read_error(model_with_initializer(raw_tensor<float>("w", 1, {4}, {1, 2, 3}))),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("[4]"), HasSubstr("16 bytes"),
                    HasSubstr("raw_data has 12 bytes")));
  onnx::TensorProto no_data;
  no_data.set_name("w");
  no_data.set_data_type(onnx::TensorProto::INT64);
  no_data.add_dims(2);
  EXPECT_THAT(read_error(model_with_initializer(no_data)),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("int64_data has 0 values")));
  onnx::TensorProto out_of_range;
  out_of_range.set_name("w");
  out_of_range.set_data_type(onnx::TensorProto::INT8);
  out_of_range.add_int32_data(300);
  EXPECT_THAT(read_error(model_with_initializer(out_of_range)),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("300 does not fit i8")));
  onnx::TensorProto negative = float_tensor("w", {2}, {1, 2});
  negative.set_dims(0, -2);
  EXPECT_THAT(read_error(model_with_initializer(negative)),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("negative dimension")));
}

TEST(OnnxReader, RejectsUnsupportedElementTypes) {
  onnx::TensorProto strings;
  strings.set_name("names");
  strings.set_data_type(onnx::TensorProto::STRING);
  strings.add_string_data("a");
  strings.set_raw_data("ab");
  EXPECT_THAT(read_error(model_with_initializer(strings)),
              AllOf(HasSubstr("initializer 'names'"), HasSubstr("string_data, not raw_data")));
  EXPECT_THAT(read_error(model_with_initializer(raw_tensor<float>("c", 14, {1}, {1, 2}))),
              AllOf(HasSubstr("initializer 'c'"), HasSubstr("complex tensors are not supported"),
                    HasSubstr("COMPLEX64")));

  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x8", 17, {"2"});  // FLOAT8E4M3FN (ONNX 1.14)
  add_node(g, "Identity", {"x8"}, {"y"});
  add_output(g, "y", 17, {"2"});
  EXPECT_EQ(read_error(model), "no error");  // float8 tensors are read (Cast and the quantizers take them)
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(23);
  EXPECT_THAT(read_error(model),
              AllOf(HasSubstr("graph input 'x8'"), HasSubstr("4-bit float"), HasSubstr("FLOAT4E2M1")));
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(99);
  EXPECT_THAT(read_error(model), HasSubstr("unknown ONNX data type 99"));
}

TEST(OnnxReader, InputsWithInitializersAreConstants) {
  onnx::ModelProto model = make_model();
  model.set_ir_version(3);
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  add_input(g, "w", onnx::TensorProto::FLOAT, {"2"});
  *g->add_initializer() = float_tensor("w", {2}, {4.f, 5.f});
  add_node(g, "Add", {"x", "w"}, {"y"});
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});
  auto graph = read(model);
  ASSERT_EQ(graph->inputs().size(), 1u);
  EXPECT_EQ(graph->inputs()[0]->name, "x");
  const Value* w = graph->nodes()[0]->inputs[1];
  EXPECT_TRUE(w->is_constant());
  EXPECT_FALSE(w->is_graph_input);
  EXPECT_THAT(values_of<float>(w->constant), ElementsAre(4.f, 5.f));

  set_type(g->mutable_input(1), onnx::TensorProto::INT64, {"2"});
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("graph input 'w'"), HasSubstr("declared i64"),
                                       HasSubstr("initializer holds f32")));
}

// ---- Constant nodes ----

TEST(OnnxReader, FoldsConstantNodes) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  auto* c1 = add_node(g, "Constant", {}, {"t"});
  *add_attr(c1, "value", onnx::AttributeProto::TENSOR)->mutable_t() = float_tensor("", {2, 1}, {1.f, 2.f});
  add_attr(add_node(g, "Constant", {}, {"f"}), "value_float", onnx::AttributeProto::FLOAT)->set_f(0.5f);
  auto* fs = add_attr(add_node(g, "Constant", {}, {"fs"}), "value_floats", onnx::AttributeProto::FLOATS);
  fs->add_floats(3.f);
  fs->add_floats(4.f);
  add_attr(add_node(g, "Constant", {}, {"i"}), "value_int", onnx::AttributeProto::INT)->set_i(-9);
  auto* is = add_attr(add_node(g, "Constant", {}, {"is"}), "value_ints", onnx::AttributeProto::INTS);
  is->add_ints(7);
  add_node(g, "Concat", {"t", "f", "fs", "i", "is"}, {"y"});
  add_output(g, "y", onnx::TensorProto::FLOAT, {});
  add_output(g, "i", onnx::TensorProto::INT64, {});

  auto graph = read(model);
  ASSERT_EQ(graph->nodes().size(), 1u);
  const auto& inputs = graph->nodes()[0]->inputs;
  for (const Value* v : inputs) {
    EXPECT_TRUE(v->is_constant()) << v->name;
    EXPECT_EQ(v->producer, nullptr) << v->name;
  }
  EXPECT_EQ(inputs[0]->shape, PartialShape(Shape{2, 1}));
  EXPECT_THAT(values_of<float>(inputs[0]->constant), ElementsAre(1.f, 2.f));
  EXPECT_EQ(inputs[1]->constant.shape(), Shape{});
  EXPECT_THAT(values_of<float>(inputs[1]->constant), ElementsAre(0.5f));
  EXPECT_EQ(inputs[2]->constant.shape(), Shape{2});
  EXPECT_THAT(values_of<float>(inputs[2]->constant), ElementsAre(3.f, 4.f));
  EXPECT_EQ(inputs[3]->type, ElementType::i64);
  EXPECT_THAT(values_of<int64_t>(inputs[3]->constant), ElementsAre(-9));
  EXPECT_THAT(values_of<int64_t>(inputs[4]->constant), ElementsAre(7));
  EXPECT_EQ(graph->outputs()[1], inputs[3]);
}

TEST(OnnxReader, RejectsUnsupportedConstants) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_attr(add_node(g, "Constant", {}, {"s"}, "text"), "value_string", onnx::AttributeProto::STRING)
      ->set_s("a");
  add_output(g, "s", onnx::TensorProto::STRING, {});
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("Constant node 'text'"), HasSubstr("value_string"),
                                       HasSubstr("string constants are not supported")));

  auto* c = g->mutable_node(0);
  c->clear_attribute();
  auto* sparse = add_attr(c, "sparse_value", onnx::AttributeProto::SPARSE_TENSOR)->mutable_sparse_tensor();
  sparse->add_dims(4);
  EXPECT_THAT(read_error(model),
              AllOf(HasSubstr("Constant node 'text'"), HasSubstr("sparse constants are not supported")));

  c->clear_attribute();
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("Constant node 'text'"), HasSubstr("exactly one")));
}

// ---- subgraphs ----

// y = If(cond) { then: Add(a, b) with a from the main graph; else: Neg(a) }
onnx::ModelProto if_model() {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "cond", onnx::TensorProto::BOOL, {});
  add_input(g, "x", onnx::TensorProto::FLOAT, {"3"});
  add_node(g, "Abs", {"x"}, {"a"});
  auto* if_node = add_node(g, "If", {"cond"}, {"y"}, "if");
  auto* then_g = add_attr(if_node, "then_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  then_g->set_name("then_body");
  *then_g->add_initializer() = float_tensor("b", {}, {10.f});
  add_node(then_g, "Add", {"a", "b"}, {"t"}, "then_add");
  add_output(then_g, "t", onnx::TensorProto::FLOAT, {"3"});
  auto* else_g = add_attr(if_node, "else_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  else_g->set_name("else_body");
  add_node(else_g, "Neg", {"a"}, {"e"}, "else_neg");
  add_output(else_g, "e", onnx::TensorProto::FLOAT, {"3"});
  add_output(g, "y", onnx::TensorProto::FLOAT, {"3"});
  return model;
}

TEST(OnnxReader, ReadsSubgraphsWithOuterValues) {
  auto graph = read(if_model());
  const graph::Node* if_node = nullptr;
  for (const auto& n : graph->nodes()) {
    if (n->op_type == "If") if_node = n.get();
  }
  ASSERT_NE(if_node, nullptr);
  const Graph& then_g = if_node->attr_graph("then_branch");
  EXPECT_EQ(then_g.name, "then_body");
  EXPECT_EQ(then_g.parent, graph.get());
  EXPECT_TRUE(then_g.inputs().empty());
  ASSERT_EQ(then_g.nodes().size(), 1u);
  const graph::Node& add = *then_g.nodes()[0];
  EXPECT_EQ(add.opset_version, 17);
  EXPECT_TRUE(add.inputs[0]->outer);
  EXPECT_EQ(add.inputs[0]->name, "a");
  EXPECT_EQ(add.inputs[0]->producer, nullptr);
  EXPECT_EQ(add.inputs[0]->type, ElementType::undefined);
  EXPECT_FALSE(add.inputs[1]->outer);
  EXPECT_TRUE(add.inputs[1]->is_constant());
  ASSERT_EQ(then_g.outputs().size(), 1u);
  EXPECT_EQ(then_g.outputs()[0], add.outputs[0]);
  const Graph& else_g = if_node->attr_graph("else_branch");
  EXPECT_TRUE(else_g.nodes()[0]->inputs[0]->outer);
}

TEST(OnnxReader, ResolvesOuterValuesThroughNestedSubgraphs) {
  onnx::ModelProto model = if_model();
  auto* then_g = model.mutable_graph()->mutable_node(1)->mutable_attribute(0)->mutable_g();
  then_g->mutable_output(0)->set_name("inner_y");
  auto* inner_if = add_node(then_g, "If", {"cond"}, {"inner_y"}, "inner_if");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* body = add_attr(inner_if, branch, onnx::AttributeProto::GRAPH)->mutable_g();
    body->set_name(std::string("inner_") + branch);
    add_node(body, "Mul", {"x", "t"}, {"m"});  // x: main graph input; t: the middle graph's Add
    add_output(body, "m", onnx::TensorProto::FLOAT, {"3"});
  }
  auto graph = read(model);
  const Graph& middle = graph->nodes()[1]->attr_graph("then_branch");
  const graph::Node* inner = nullptr;
  for (const auto& n : middle.nodes()) {
    if (n->op_type == "If") inner = n.get();
  }
  ASSERT_NE(inner, nullptr);
  const Graph& innermost = inner->attr_graph("then_branch");
  EXPECT_EQ(innermost.parent, &middle);
  const graph::Node& mul = *innermost.nodes()[0];
  EXPECT_TRUE(mul.inputs[0]->outer);
  EXPECT_EQ(mul.inputs[0]->type, ElementType::f32);  // copied from the main graph's input
  EXPECT_TRUE(mul.inputs[1]->outer);
  EXPECT_EQ(mul.inputs[1]->name, "t");

  add_node(then_g->mutable_node(1)->mutable_attribute(0)->mutable_g(), "Neg", {"nowhere"}, {"n"}, "lost");
  EXPECT_THAT(
      read_error(model),
      AllOf(HasSubstr("m.onnx: If node 'if': attribute 'then_branch': subgraph 'then_body': "
                      "If node 'inner_if': attribute 'then_branch': subgraph 'inner_then_branch': "
                      "Neg node 'lost'"),
            HasSubstr("input 0 'nowhere' is not defined in this subgraph nor in an enclosing graph")));
}

TEST(OnnxReader, SubgraphValuesAreNotVisibleOutside) {
  onnx::ModelProto model = if_model();
  add_node(model.mutable_graph(), "Neg", {"t"}, {"z"}, "peek");  // t is local to then_body
  add_output(model.mutable_graph(), "z", onnx::TensorProto::FLOAT, {"3"});
  EXPECT_THAT(read_error(model),
              AllOf(HasSubstr("Neg node 'peek'"), HasSubstr("input 0 't' is not defined")));
}

// ---- external data ----

onnx::ModelProto external_model(const std::string& location, const std::string& offset = "",
                                const std::string& length = "") {
  onnx::TensorProto w;
  w.set_name("w");
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(3);
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& key, const std::string& value) {
    if (value.empty()) return;
    auto* entry = w.add_external_data();
    entry->set_key(key);
    entry->set_value(value);
  };
  add_entry("location", location);
  add_entry("offset", offset);
  add_entry("length", length);
  return model_with_initializer(w);
}

std::string floats_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

TEST(OnnxReader, ReadsExternalData) {
  TempDir dir;
  fs::create_directory(dir.file("weights"));
  dir.write("weights/w.bin", "pad!" + floats_bytes({1.f, 2.f, 3.f}) + "tail");
  auto graph = read(external_model("weights/w.bin", "4", "12"), dir.path());
  EXPECT_THAT(values_of<float>(constant_named(*graph, "w")->constant), ElementsAre(1.f, 2.f, 3.f));

  dir.write("whole.bin", floats_bytes({4.f, 5.f, 6.f}));
  graph = read(external_model("whole.bin"), dir.path());
  EXPECT_THAT(values_of<float>(constant_named(*graph, "w")->constant), ElementsAre(4.f, 5.f, 6.f));

  // Through read_onnx_file: the model's folder is the base.
  std::string model_bytes = external_model("./whole.bin").SerializeAsString();
  dir.write("model.onnx", model_bytes);
  graph = read_onnx_file(dir.file("model.onnx"));
  EXPECT_THAT(values_of<float>(constant_named(*graph, "w")->constant), ElementsAre(4.f, 5.f, 6.f));
}

TEST(OnnxReader, RejectsExternalDataOutsideTheModelFolder) {
  TempDir dir;
  fs::create_directory(dir.file("models"));
  dir.write("secret.bin", floats_bytes({1.f, 2.f, 3.f}));
  std::string base = dir.file("models");
  EXPECT_THAT(read_error(external_model("../secret.bin"), base),
              AllOf(HasSubstr("m.onnx: initializer 'w'"), HasSubstr("'../secret.bin' contains '..'")));
  EXPECT_THAT(read_error(external_model("a/../../secret.bin"), base), HasSubstr("contains '..'"));
  EXPECT_THAT(read_error(external_model(dir.file("secret.bin")), base),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("is absolute")));
  fs::create_symlink(dir.file("secret.bin"), dir.file("models/link.bin"));
  EXPECT_THAT(read_error(external_model("link.bin"), base),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("symbolic link")));
  fs::create_directory_symlink(dir.path(), dir.file("models/up"));
  EXPECT_THAT(read_error(external_model("up/secret.bin"), base), HasSubstr("symbolic link"));
  EXPECT_THAT(read_error(external_model("secret.bin"), ""),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("not read from a file")));
}

TEST(OnnxReader, RejectsBadExternalData) {
  TempDir dir;
  dir.write("w.bin", floats_bytes({1.f, 2.f, 3.f}));
  EXPECT_THAT(read_error(external_model("missing.bin"), dir.path()),
              AllOf(HasSubstr("initializer 'w'"), HasSubstr("missing.bin' does not exist")));
  EXPECT_THAT(
      read_error(external_model("w.bin", "13"), dir.path()),
      AllOf(HasSubstr("initializer 'w'"), HasSubstr("offset 13 is beyond the end"), HasSubstr("12 bytes")));
  EXPECT_THAT(read_error(external_model("w.bin", "4", "12"), dir.path()),
              AllOf(HasSubstr("offset 4 + length 12 is beyond the end"), HasSubstr("12 bytes")));
  EXPECT_THAT(read_error(external_model("w.bin", "4"), dir.path()),
              AllOf(HasSubstr("[3]"), HasSubstr("12 bytes"), HasSubstr("has 8 bytes")));
  EXPECT_THAT(read_error(external_model("w.bin", "-1"), dir.path()),
              HasSubstr("'offset' is '-1', expected a non-negative integer"));
  fs::create_directory(dir.file("folder"));
  EXPECT_THAT(read_error(external_model("folder"), dir.path()), HasSubstr("is not a regular file"));
}

// ---- malformed models ----

TEST(OnnxReader, RejectsBytesThatAreNotAModel) {
  auto bytes = bytes_of(if_model());
  std::vector<uint8_t> empty;
  EXPECT_EQ(error_of([&] { read_onnx_model(empty, "", "empty.onnx"); }),
            "empty.onnx: not a valid ONNX model (the input is empty)");
  std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + bytes.size() / 2);
  EXPECT_EQ(error_of([&] { read_onnx_model(truncated, "", "cut.onnx"); }),
            "cut.onnx: not a valid ONNX model (protobuf parse failed)");
  std::mt19937 rng(1234);
  std::vector<uint8_t> random(4096);
  for (auto& b : random) b = static_cast<uint8_t>(rng());
  EXPECT_THAT(error_of([&] { read_onnx_model(random, "", "noise.bin"); }),
              HasSubstr("noise.bin: not a valid ONNX model"));
  onnx::ModelProto no_graph;
  no_graph.set_ir_version(8);
  auto no_graph_bytes = bytes_of(no_graph);
  EXPECT_EQ(error_of([&] { read_onnx_model(no_graph_bytes, "", "x.onnx"); }),
            "x.onnx: not a valid ONNX model (it has no graph)");
  TempDir dir;
  dir.write("cut.onnx", std::string(truncated.begin(), truncated.end()));
  EXPECT_EQ(error_of([&] { read_onnx_file(dir.file("cut.onnx")); }),
            dir.file("cut.onnx") + ": not a valid ONNX model (protobuf parse failed)");
  EXPECT_THAT(error_of([&] { read_onnx_file(dir.file("none.onnx")); }),
              AllOf(HasSubstr("none.onnx: cannot open"), HasSubstr("No such file")));
}

TEST(OnnxReader, RejectsUndefinedAndDuplicateValues) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  add_node(g, "Add", {"x", "ghost"}, {"y"}, "add");
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});
  EXPECT_THAT(read_error(model),
              AllOf(HasSubstr("m.onnx: Add node 'add'"), HasSubstr("input 1 'ghost' is not defined")));

  g->mutable_node(0)->set_input(1, "x");
  add_node(g, "Neg", {"x"}, {"y"}, "neg");
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("Neg node 'neg'"), HasSubstr("value 'y' is defined twice"),
                                       HasSubstr("output 0 of Add node 'add'")));

  g->mutable_node(1)->set_output(0, "x");
  EXPECT_THAT(read_error(model),
              AllOf(HasSubstr("value 'x' is defined twice"), HasSubstr("graph input 'x'")));

  g->mutable_node(1)->set_output(0, "z");
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  EXPECT_THAT(read_error(model),
              HasSubstr("value 'x' is defined twice: by graph input 'x' and by graph input 'x'"));

  g->mutable_input()->RemoveLast();
  *g->add_initializer() = float_tensor("c", {1}, {1.f});
  *g->add_initializer() = float_tensor("c", {1}, {2.f});
  EXPECT_THAT(read_error(model),
              HasSubstr("value 'c' is defined twice: by initializer 'c' and by initializer"));
}

TEST(OnnxReader, RejectsOutputsNobodyProduces) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  add_node(g, "Neg", {"x"}, {"y"});
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});
  add_output(g, "lost", onnx::TensorProto::FLOAT, {"2"});
  EXPECT_THAT(
      read_error(model),
      HasSubstr("m.onnx: graph output 'lost' is not produced by any node, graph input or initializer"));
}

TEST(OnnxReader, RejectsNodesOfDomainsWithoutImport) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  add_node(g, "Fancy", {"x"}, {"y"}, "fancy")->set_domain("com.unknown");
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("m.onnx: com.unknown::Fancy node 'fancy'"),
                                       HasSubstr("domain 'com.unknown' has no opset import")));
}

TEST(OnnxReader, RejectsMapValuesAndUnsupportedAttributes) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  auto* map = g->add_input();
  map->set_name("map");
  map->mutable_type()->mutable_map_type()->set_key_type(onnx::TensorProto::INT64);
  add_node(g, "Identity", {"map"}, {"y"});
  add_output(g, "y", onnx::TensorProto::FLOAT, {});
  EXPECT_THAT(read_error(model), HasSubstr("graph input 'map' has a map type; only tensors, sequences of "
                                           "tensors and optionals of those are supported"));
  auto* nested = g->mutable_input(0)->mutable_type()->mutable_sequence_type()->mutable_elem_type();
  nested->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  EXPECT_THAT(read_error(model), HasSubstr("graph input 'map' has a sequence of sequences type"));

  set_type(g->mutable_input(0), onnx::TensorProto::FLOAT, {});
  auto* ref = add_attr(g->mutable_node(0), "alpha", onnx::AttributeProto::FLOAT);
  ref->set_ref_attr_name("outer_alpha");
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("Identity node 'Identity_0'"),
                                       HasSubstr("refers to function attribute 'outer_alpha'")));

  g->mutable_node(0)->clear_attribute();
  add_attr(g->mutable_node(0), "sp", onnx::AttributeProto::SPARSE_TENSOR)->mutable_sparse_tensor();
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("attribute 'sp'"), HasSubstr("sparse tensor attributes")));
  g->mutable_node(0)->clear_attribute();
  add_attr(g->mutable_node(0), "tp", onnx::AttributeProto::TYPE_PROTO)
      ->mutable_tp()
      ->mutable_map_type()
      ->set_key_type(onnx::TensorProto::INT64);
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("attribute 'tp'"), HasSubstr("the type is a map")));
  g->mutable_node(0)->clear_attribute();
  add_attr(g->mutable_node(0), "tps", onnx::AttributeProto::TYPE_PROTOS)->add_type_protos();
  EXPECT_THAT(read_error(model), AllOf(HasSubstr("attribute 'tps'"), HasSubstr("TYPE_PROTOS")));
}

// Sequence and optional graph inputs and outputs get their kinds and item types.
TEST(OnnxReader, ReadsSequenceAndOptionalTypes) {
  onnx::ModelProto model = make_model();
  auto* g = model.mutable_graph();
  auto* seq = g->add_input();
  seq->set_name("seq");
  auto* item = seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type();
  item->set_elem_type(onnx::TensorProto::INT64);
  item->mutable_shape()->add_dim()->set_dim_value(3);
  auto* opt = g->add_input();
  opt->set_name("opt");
  opt->mutable_type()->mutable_optional_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  add_node(g, "Identity", {"seq"}, {"y"});
  add_node(g, "Identity", {"opt"}, {"z"});
  auto* y = g->add_output();
  y->set_name("y");
  *y->mutable_type() = seq->type();
  auto* z = g->add_output();
  z->set_name("z");
  *z->mutable_type() = opt->type();
  auto graph = read(model);
  ASSERT_EQ(graph->inputs().size(), 2u);
  const graph::Value* s = graph->inputs()[0];
  EXPECT_TRUE(s->kind.sequence);
  EXPECT_FALSE(s->kind.optional);
  EXPECT_EQ(s->type, ElementType::i64);
  EXPECT_EQ(s->shape, PartialShape({3}));
  EXPECT_TRUE(graph->inputs()[1]->kind.optional);
  EXPECT_FALSE(graph->inputs()[1]->kind.sequence);
  EXPECT_TRUE(graph->outputs()[1]->declared_optional);
}

// ---- model-local functions ----

// Function local::Scale(X) -> (Y) with attribute alpha (default 2.0): Y = Mul(X, Constant(alpha)).
onnx::FunctionProto scale_function() {
  onnx::FunctionProto f;
  f.set_name("Scale");
  f.set_domain("local");
  f.add_input("X");
  f.add_output("Y");
  f.add_attribute("alpha");
  auto* import = f.add_opset_import();
  import->set_domain("");
  import->set_version(13);
  auto* c = f.add_node();
  c->set_op_type("Constant");
  c->add_output("a");
  auto* value = c->add_attribute();
  value->set_name("value_float");
  value->set_type(onnx::AttributeProto::FLOAT);
  value->set_ref_attr_name("alpha");
  auto* mul = f.add_node();
  mul->set_op_type("Mul");
  mul->set_name("mul");
  mul->add_input("X");
  mul->add_input("a");
  mul->add_output("Y");
  return f;
}

TEST(OnnxReader, ExpandsModelLocalFunctions) {
  onnx::ModelProto model = make_model();
  auto* local = model.add_opset_import();
  local->set_domain("local");
  local->set_version(1);
  *model.add_functions() = scale_function();
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  auto* call = add_node(g, "Scale", {"x"}, {"y"}, "scale1");
  call->set_domain("local");
  add_attr(call, "alpha", onnx::AttributeProto::FLOAT)->set_f(3.f);
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});

  auto graph = read(model);
  ASSERT_EQ(graph->nodes().size(), 1u);
  const graph::Node& mul = *graph->nodes()[0];
  EXPECT_EQ(mul.name, "scale1/mul");
  EXPECT_EQ(mul.op_type, "Mul");
  EXPECT_EQ(mul.opset_version, 13);  // the function's import, not the model's 17
  EXPECT_EQ(mul.inputs[0], graph->inputs()[0]);
  EXPECT_EQ(mul.inputs[1]->name, "scale1/a");
  EXPECT_THAT(values_of<float>(mul.inputs[1]->constant), ElementsAre(3.f));
  EXPECT_EQ(mul.outputs[0], graph->outputs()[0]);
  EXPECT_EQ(mul.outputs[0]->name, "y");
}

TEST(OnnxReader, ExpandsNestedFunctionCallsWithDefaultAttributes) {
  onnx::ModelProto model = make_model();
  auto* local = model.add_opset_import();
  local->set_domain("local");
  local->set_version(1);
  onnx::FunctionProto scale = scale_function();
  // alpha's default (FunctionProto.attribute_proto, field 11 in ONNX >= 1.13).
  scale.clear_attribute();
  onnx::AttributeProto alpha_default;
  alpha_default.set_name("alpha");
  alpha_default.set_type(onnx::AttributeProto::FLOAT);
  alpha_default.set_f(2.f);
  scale.mutable_unknown_fields()->AddLengthDelimited(11, alpha_default.SerializeAsString());
  *model.add_functions() = scale;
  onnx::FunctionProto twice;  // Twice(X) = Scale(Scale(X))
  twice.set_name("Twice");
  twice.set_domain("local");
  twice.add_input("X");
  twice.add_output("Y");
  for (const auto& [in, out] : {std::pair{"X", "h"}, std::pair{"h", "Y"}}) {
    auto* n = twice.add_node();
    n->set_op_type("Scale");
    n->set_domain("local");
    n->add_input(in);
    n->add_output(out);
  }
  *model.add_functions() = twice;
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"2"});
  add_node(g, "Twice", {"x"}, {"y"})->set_domain("local");
  add_output(g, "y", onnx::TensorProto::FLOAT, {"2"});

  auto graph = read(model);
  ASSERT_EQ(graph->nodes().size(), 2u);
  EXPECT_EQ(graph->nodes()[0]->name, "Twice_0/Scale_0/mul");
  EXPECT_EQ(graph->nodes()[1]->name, "Twice_0/Scale_1/mul");
  EXPECT_EQ(graph->nodes()[1]->inputs[0], graph->nodes()[0]->outputs[0]);
  EXPECT_EQ(graph->nodes()[0]->outputs[0]->name, "Twice_0/h");
  EXPECT_THAT(values_of<float>(graph->nodes()[1]->inputs[1]->constant), ElementsAre(2.f));

  // A function that calls itself.
  model.mutable_functions(1)->mutable_node(1)->set_op_type("Twice");
  EXPECT_EQ(read_error(model),
            "m.onnx: local::Twice node 'Twice_0': model-local function 'local::Twice' "
            "calls itself (recursion is not supported)");
}

TEST(OnnxReader, ExpandsFunctionsWithSubgraphsUsingFunctionValues) {
  // local::Pick(X, C) -> (Y): T = Relu(X); Y = If(C) then Neg(X) else Abs(T).
  onnx::FunctionProto pick;
  pick.set_name("Pick");
  pick.set_domain("local");
  pick.add_input("X");
  pick.add_input("C");
  pick.add_output("Y");
  auto* relu = pick.add_node();
  relu->set_op_type("Relu");
  relu->add_input("X");
  relu->add_output("T");
  auto* if_node = pick.add_node();
  if_node->set_op_type("If");
  if_node->set_name("choose");
  if_node->add_input("C");
  if_node->add_output("Y");
  auto* then_g = add_attr(if_node, "then_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  add_node(then_g, "Neg", {"X"}, {"n"});
  add_output(then_g, "n", onnx::TensorProto::FLOAT, {});
  auto* else_g = add_attr(if_node, "else_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  add_node(else_g, "Abs", {"T"}, {"a"});
  add_output(else_g, "a", onnx::TensorProto::FLOAT, {});

  onnx::ModelProto model = make_model();
  *model.add_functions() = pick;
  auto* g = model.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {});
  add_input(g, "c", onnx::TensorProto::BOOL, {});
  add_node(g, "Pick", {"x", "c"}, {"y"}, "p")->set_domain("local");
  add_output(g, "y", onnx::TensorProto::FLOAT, {});
  // The call's domain has no import: calls of model-local functions do not need one.
  auto graph = read(model);
  ASSERT_EQ(graph->nodes().size(), 2u);
  const graph::Node& chosen = *graph->nodes()[1];
  EXPECT_EQ(chosen.name, "p/choose");
  EXPECT_EQ(chosen.inputs[0], graph->inputs()[1]);
  EXPECT_EQ(chosen.outputs[0], graph->outputs()[0]);
  const Graph& then_branch = chosen.attr_graph("then_branch");
  EXPECT_EQ(then_branch.nodes()[0]->inputs[0]->name, "x");
  EXPECT_TRUE(then_branch.nodes()[0]->inputs[0]->outer);
  const Graph& else_branch = chosen.attr_graph("else_branch");
  EXPECT_EQ(else_branch.nodes()[0]->inputs[0]->name, "p/T");
  EXPECT_TRUE(else_branch.nodes()[0]->inputs[0]->outer);
  EXPECT_EQ(else_branch.nodes()[0]->name, "Abs_0");

  model.mutable_functions(0)->mutable_node(0)->set_input(0, "Z");
  EXPECT_THAT(read_error(model),
              HasSubstr("m.onnx: Relu node 'p/Relu_0' (of model-local function 'local::Pick'): "
                        "input 0 'p/Z' is not defined"));
}

TEST(OnnxReader, RejectsModelsWithoutOpsetImports) {
  onnx::ModelProto model = if_model();
  model.clear_opset_import();
  EXPECT_THAT(read_error(model), HasSubstr("m.onnx: the model (IR version 8) imports no opset"));
  model.set_ir_version(2);
  EXPECT_EQ(read(model)->nodes()[0]->opset_version, 1);
}

// ---- TensorProto files and real models ----

TEST(OnnxReader, ReadsTensorProtos) {
  onnx::TensorProto t = float_tensor("t", {2}, {1.f, -1.f});
  std::string bytes = t.SerializeAsString();
  Tensor tensor =
      read_tensor_proto(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "t.pb");
  EXPECT_THAT(values_of<float>(tensor), ElementsAre(1.f, -1.f));
  std::string cut = bytes.substr(0, bytes.size() - 5);  // into float_data
  EXPECT_EQ(error_of([&] {
              read_tensor_proto(std::span(reinterpret_cast<const uint8_t*>(cut.data()), cut.size()), "t.pb");
            }),
            "t.pb: not a valid TensorProto (protobuf parse failed)");

  Tensor x =
      read_tensor_proto_file(node_tests + "/test_conv_with_strides_padding/test_data_set_0/input_0.pb");
  EXPECT_EQ(x.type(), ElementType::f32);
  EXPECT_EQ(x.shape(), (Shape{1, 1, 7, 5}));
  std::vector<float> expected(35);
  for (int i = 0; i < 35; ++i) expected[i] = static_cast<float>(i);  // np.arange(35)
  EXPECT_EQ(values_of<float>(x), expected);
}

TEST(OnnxReader, ReadsConformanceModels) {
  auto conv = read_onnx_file(node_tests + "/test_conv_with_strides_padding/model.onnx");
  EXPECT_EQ(conv->name, "test_conv_with_strides_padding");
  ASSERT_EQ(conv->nodes().size(), 1u);
  const graph::Node& c = *conv->nodes()[0];
  EXPECT_EQ(c.op_type, "Conv");
  EXPECT_EQ(c.opset_version, 22);
  EXPECT_THAT(c.attr_ints("strides"), ElementsAre(2, 2));
  EXPECT_THAT(c.attr_ints("pads"), ElementsAre(1, 1, 1, 1));
  EXPECT_EQ(conv->inputs()[1]->shape, PartialShape(Shape{1, 1, 3, 3}));
  EXPECT_EQ(conv->outputs()[0]->shape, PartialShape(Shape{1, 1, 4, 3}));

  auto if_graph = read_onnx_file(node_tests + "/test_if/model.onnx");
  const graph::Node& if_node = *if_graph->nodes()[0];
  EXPECT_EQ(if_node.opset_version, 11);
  const Graph& then_g = if_node.attr_graph("then_branch");
  EXPECT_TRUE(then_g.nodes().empty());  // its Constant is folded
  ASSERT_TRUE(then_g.outputs()[0]->is_constant());
  EXPECT_THAT(values_of<float>(then_g.outputs()[0]->constant), ElementsAre(1.f, 2.f, 3.f, 4.f, 5.f));

  auto loop = read_onnx_file(node_tests + "/test_loop11/model.onnx");
  const Graph& body = loop->nodes()[0]->attr_graph("body");
  EXPECT_EQ(body.parent, loop.get());
  ASSERT_EQ(body.inputs().size(), 3u);
  EXPECT_EQ(body.inputs()[0]->name, "iter_count");
  EXPECT_EQ(body.outputs().size(), 3u);
  EXPECT_EQ(body.nodes().size(), 7u);  // 9 nodes less 2 Constants

  // Nested Ifs whose branches use the enclosing graphs' values.
  auto grid = read_onnx_file(node_tests + "/test_affine_grid_2d_expanded/model.onnx");
  int outer_values = 0;
  std::function<void(const Graph&)> count = [&](const Graph& g) {
    for (const auto& v : g.values()) outer_values += v->outer ? 1 : 0;
    for (const auto& n : g.nodes()) {
      for (const auto& [name, attr] : n->attributes) {
        if (auto* sub = std::get_if<graph::GraphPtr>(&attr)) count(**sub);
      }
    }
  };
  count(*grid);
  EXPECT_GT(outer_values, 0);
}

TEST(OnnxReader, ReadsModelsLargerThan64MiB) {
  TempDir dir;
  const int64_t count = 18 * 1024 * 1024;  // 72 MiB of floats
  std::vector<float> weights(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) weights[static_cast<size_t>(i)] = static_cast<float>(i % 1000);
  onnx::ModelProto model =
      model_with_initializer(raw_tensor("w", onnx::TensorProto::FLOAT, {count}, weights));
  {
    std::ofstream out(dir.file("big.onnx"), std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&out));
  }
  weights = {};
  model.Clear();
  auto graph = read_onnx_file(dir.file("big.onnx"));
  const Tensor& w = constant_named(*graph, "w")->constant;
  ASSERT_EQ(w.size(), count);
  EXPECT_EQ(w.values<float>()[count - 1], static_cast<float>((count - 1) % 1000));
}

}  // namespace
}  // namespace sluice::frontend
