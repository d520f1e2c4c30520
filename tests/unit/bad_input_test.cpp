// Every kind of bad input the user can give, end to end through the public API: each gets a sluice::Error
// that says what is wrong and where; nothing crashes, hangs or answers wrongly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

#include "sluice/sluice.hpp"

namespace {

namespace fs = std::filesystem;
using namespace sluice;
using ::testing::HasSubstr;

// y = Relu(x @ W) with W an initializer; x is f32 [batch, 2].
onnx::ModelProto make_model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(17);
  auto* g = model.mutable_graph();
  g->set_name("bad_input");
  auto* x = g->add_input();
  x->set_name("x");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  x->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("batch");
  x->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(2);
  for (float v : {1.0f, 2.0f, -3.0f, 4.0f}) w->add_float_data(v);
  auto* matmul = g->add_node();
  matmul->set_op_type("MatMul");
  matmul->set_name("matmul");
  matmul->add_input("x");
  matmul->add_input("W");
  matmul->add_output("h");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("h");
  relu->add_output("y");
  g->add_output()->set_name("y");
  return model;
}

std::vector<uint8_t> bytes_of(const onnx::ModelProto& model) {
  std::string s = model.SerializeAsString();
  return {s.begin(), s.end()};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice_bad_input_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& contents) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << contents;
    return p.string();
  }
  Core core_;
  fs::path dir_;
};

TEST_F(BadInput, TheGoodModelWorks) {
  auto compiled = core_.compile_model(core_.read_model(bytes_of(make_model())), "REF");
  auto request = compiled.create_infer_request();
  request.set_tensor("x", Tensor::from<float>({1, 2}, {1.0f, 1.0f}));
  request.infer();
  EXPECT_THAT(request.get_tensor("y").values<float>(), ::testing::ElementsAre(0.0f, 6.0f));
}

TEST_F(BadInput, MissingFile) {
  const std::string path = (dir_ / "nope.onnx").string();
  EXPECT_THAT(error_of([&] { core_.read_model(path); }), HasSubstr(path));
}

TEST_F(BadInput, TruncatedOrNotOnnx) {
  const std::string full = make_model().SerializeAsString();
  const std::string truncated = write("truncated.onnx", full.substr(0, full.size() / 2));
  EXPECT_THAT(error_of([&] { core_.read_model(truncated); }), HasSubstr("truncated.onnx"));
  const std::string text = write("text.onnx", "this is not a model at all, just some text\n");
  EXPECT_THAT(error_of([&] { core_.read_model(text); }), HasSubstr("text.onnx"));
  const std::string empty = write("empty.onnx", "");
  EXPECT_THAT(error_of([&] { core_.read_model(empty); }), HasSubstr("empty.onnx"));
}

TEST_F(BadInput, UnknownOperatorsAreListedTogether) {
  auto model = make_model();
  model.mutable_graph()->mutable_node(0)->set_op_type("MatMulFancy");
  model.mutable_graph()->mutable_node(1)->set_op_type("Relu7");
  const std::string message =
      error_of([&] { core_.compile_model(core_.read_model(bytes_of(model)), "REF"); });
  EXPECT_THAT(message, HasSubstr("2 unsupported operators"));
  EXPECT_THAT(message, HasSubstr("MatMulFancy (ai.onnx, opset 17): 'matmul'"));
  EXPECT_THAT(message, HasSubstr("Relu7 (ai.onnx, opset 17): 'relu'"));
}

TEST_F(BadInput, BadOrMissingAttribute) {
  auto model = make_model();
  auto* g = model.mutable_graph();
  auto* softmax = g->add_node();
  softmax->set_op_type("Softmax");
  softmax->set_name("softmax");
  softmax->add_input("y");
  softmax->add_output("p");
  auto* axis = softmax->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::STRING);
  axis->set_s("last");
  g->mutable_output(0)->set_name("p");
  const std::string wrong_type =
      error_of([&] { core_.compile_model(core_.read_model(bytes_of(model)), "REF"); });
  EXPECT_THAT(wrong_type, HasSubstr("softmax"));
  EXPECT_THAT(wrong_type, HasSubstr("axis"));

  axis->set_type(onnx::AttributeProto::INT);
  axis->clear_s();
  axis->set_i(5);
  const std::string out_of_range =
      error_of([&] { core_.compile_model(core_.read_model(bytes_of(model)), "REF"); });
  EXPECT_THAT(out_of_range, HasSubstr("softmax"));
  EXPECT_THAT(out_of_range, HasSubstr("axis"));

  auto missing = make_model();
  auto* cast = missing.mutable_graph()->add_node();
  cast->set_op_type("Cast");
  cast->set_name("cast_without_to");
  cast->add_input("y");
  cast->add_output("c");
  missing.mutable_graph()->mutable_output(0)->set_name("c");
  const std::string message =
      error_of([&] { core_.compile_model(core_.read_model(bytes_of(missing)), "REF"); });
  EXPECT_THAT(message, HasSubstr("cast_without_to"));
  EXPECT_THAT(message, HasSubstr("'to'"));
}

TEST_F(BadInput, InitializerDataDoesNotMatchShape) {
  auto model = make_model();
  model.mutable_graph()->mutable_initializer(0)->add_dims(3);  // [2,2,3] with 4 values
  const std::string message = error_of([&] { core_.read_model(bytes_of(model)); });
  EXPECT_THAT(message, HasSubstr("'W'"));
  EXPECT_THAT(message, HasSubstr("[2,2,3]"));
}

TEST_F(BadInput, ExternalDataEscapingTheModelFolder) {
  auto model = make_model();
  auto* w = model.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = w->add_external_data();
  location->set_key("location");
  location->set_value("../secret.bin");
  const std::string path = write("escape.onnx", model.SerializeAsString());
  const std::string message = error_of([&] { core_.read_model(path); });
  EXPECT_THAT(message, HasSubstr("../secret.bin"));
  location->set_value("/etc/passwd");
  const std::string absolute = write("absolute.onnx", model.SerializeAsString());
  EXPECT_THAT(error_of([&] { core_.read_model(absolute); }), HasSubstr("/etc/passwd"));
}

TEST_F(BadInput, WrongTensorsAtInference) {
  auto request = core_.compile_model(core_.read_model(bytes_of(make_model())), "REF").create_infer_request();
  EXPECT_THAT(error_of([&] {
                request.set_tensor("x", Tensor(ElementType::f32, {1, 3}));
              }),
              HasSubstr("input 'x': tensor of shape [1,3]; expected [batch,2]"));
  EXPECT_THAT(error_of([&] {
                request.set_tensor("x", Tensor(ElementType::f64, {1, 2}));
              }),
              HasSubstr("input 'x': tensor of element type f64; expected f32"));
  std::vector<float> small(3);
  EXPECT_THAT(error_of([&] {
                request.set_tensor("x", Tensor(ElementType::f32, {2, 2}, small.data(), 12));
              }),
              HasSubstr("needs 16 bytes; the buffer has 12"));
  EXPECT_THAT(error_of([&] {
                request.set_tensor("images", Tensor(ElementType::f32, {1, 2}));
              }),
              HasSubstr("no input or output named 'images'"));
  // The request still works after the errors.
  request.set_tensor("x", Tensor::from<float>({1, 2}, {1.0f, 0.0f}));
  request.infer();
  EXPECT_THAT(request.get_tensor("y").values<float>(), ::testing::ElementsAre(1.0f, 2.0f));
}

TEST_F(BadInput, UnknownDeviceAndProperties) {
  Model model = core_.read_model(bytes_of(make_model()));
  EXPECT_THAT(error_of([&] { core_.compile_model(model, "TPU"); }), HasSubstr("unknown device 'TPU'"));
  EXPECT_THAT(error_of([&] {
                core_.compile_model(model, "REF", {{"NUM_THREADZ", 2}});
              }),
              HasSubstr("unknown property 'NUM_THREADZ'"));
  EXPECT_THAT(error_of([&] {
                core_.compile_model(model, "REF", {{"ENABLE_PROFILING", "sometimes"}});
              }),
              HasSubstr("expected YES or NO"));
  EXPECT_THAT(error_of([&] {
                core_.set_property("REF", {{"INFERENCE_NUM_THREADS", -3}});
              }),
              HasSubstr("INFERENCE_NUM_THREADS"));
  EXPECT_THAT(error_of([&] { core_.get_property("REF", "NO_SUCH"); }),
              HasSubstr("unknown property 'NO_SUCH'"));
}

}  // namespace
