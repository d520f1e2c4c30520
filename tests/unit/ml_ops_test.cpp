// The ai.onnx.ml operators (ArrayFeatureExtractor, Binarizer, LabelEncoder, TreeEnsemble): reference kernels,
// shape inference and attribute errors on one-node graphs, then whole models through the public API on REF
// and CPU (the CPU runs them on the reference kernels). Expected values are computed by hand next to each
// case.
#include <cmath>
#include <limits>
#include <memory>

#include "ops_one_node_harness.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::f32;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Strings = std::vector<std::string>;
using ET = ElementType;
using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, graph::AttributeValue>;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

Tensor strs(Shape shape, const Strings& v) {
  return Tensor::from<std::string>(std::move(shape), std::span(v));
}
Tensor i64s(Shape shape, const Ints& v) { return Tensor::from<int64_t>(std::move(shape), std::span(v)); }

// A node of the ai.onnx.ml domain, resolved for ml opset `opset`, with declared inputs.
std::unique_ptr<OneNode> ml_node(const std::string& op, int64_t opset, const std::vector<Tensor>& inputs,
                                 const Attrs& attrs) {
  auto n = std::make_unique<OneNode>(op, inputs.size(), 1, opset);
  n->node->domain = "ai.onnx.ml";
  n->node->schema = graph::OpRegistry::instance().find("ai.onnx.ml", op, opset);
  EXPECT_NE(n->node->schema, nullptr) << op << " is not registered for ai.onnx.ml opset " << opset;
  for (size_t i = 0; i < inputs.size(); ++i) n->input(i, inputs[i].type(), PartialShape(inputs[i].shape()));
  n->node->attributes = attrs;
  return n;
}

// ---- ArrayFeatureExtractor -----------------------------------------------------------------------------

TEST(ArrayFeatureExtractor, GathersAlongTheLastAxis) {
  const Tensor x = f32({2, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor y = i64s({2}, {2, 0});
  auto n = ml_node("ArrayFeatureExtractor", 1, {x, y}, {});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::f32);
  EXPECT_EQ(n->out_shape(0), "[2,2]");
  const Tensor out = n->run1({x, y});
  EXPECT_EQ(to_string(out.shape()), "[2,2]");
  EXPECT_THAT(values_of<float>(out), ElementsAre(2, 0, 5, 3));
}

TEST(ArrayFeatureExtractor, OneDimensionalStringsGiveOneRow) {
  const Tensor x = strs({3}, {"a", "b", "c"});
  const Tensor y = i64s({2}, {1, 1});
  auto n = ml_node("ArrayFeatureExtractor", 1, {x, y}, {});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[1,2]");
  const Tensor out = n->run1({x, y});
  EXPECT_EQ(to_string(out.shape()), "[1,2]");
  EXPECT_THAT(values_of<std::string>(out), ElementsAre("b", "b"));
}

TEST(ArrayFeatureExtractor, RejectsOutOfRangeIndicesAndNonInt64Indices) {
  const Tensor x = f32({2, 3}, {0, 1, 2, 3, 4, 5});
  auto n = ml_node("ArrayFeatureExtractor", 1, {x, i64s({1}, {3})}, {});
  EXPECT_THAT(error_of([&] {
                n->run1({x, i64s({1}, {3})});
              }),
              HasSubstr("index Y[0] = 3 is out of range for the last axis of X (extent 3)"));
  EXPECT_THAT(error_of([&] { n->run1({x, i64s({1}, {-1})}); }), HasSubstr("out of range"));
  auto bad = ml_node("ArrayFeatureExtractor", 1, {x, f32({1}, {0})}, {});
  EXPECT_THAT(error_of([&] { bad->infer(); }), HasSubstr("input 'Y' has element type f32; expected i64"));
}

// ---- Binarizer -----------------------------------------------------------------------------------------

TEST(Binarizer, MapsValuesAboveTheThresholdToOne) {
  const Tensor x = f32({5}, {-1, 0.5f, 1, 2, kNan});
  auto n = ml_node("Binarizer", 1, {x}, {{"threshold", 0.5f}});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::f32);
  EXPECT_EQ(n->out_shape(0), "[5]");
  EXPECT_THAT(values_of<float>(n->run1({x})), ElementsAre(0, 0, 1, 1, 0));

  const Tensor xi = i64s({3}, {0, 1, -2});  // default threshold 0
  auto ni = ml_node("Binarizer", 1, {xi}, {});
  EXPECT_THAT(values_of<int64_t>(ni->run1({xi})), ElementsAre(0, 1, 0));
}

// ---- LabelEncoder --------------------------------------------------------------------------------------

TEST(LabelEncoder, MapsStringsToIntegersWithADefault) {
  const Tensor x = strs({2, 2}, {"b", "zz", "a", "c"});
  auto n = ml_node("LabelEncoder", 2, {x},
                   {{"keys_strings", Strings{"a", "b", "c"}},
                    {"values_int64s", Ints{7, 8, 9}},
                    {"default_int64", int64_t{42}}});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::i64);
  EXPECT_EQ(n->out_shape(0), "[2,2]");
  EXPECT_THAT(values_of<int64_t>(n->run1({x})), ElementsAre(8, 42, 7, 9));
  // Without default_int64 the default is -1.
  auto d = ml_node("LabelEncoder", 2, {x}, {{"keys_strings", Strings{"a"}}, {"values_int64s", Ints{5}}});
  EXPECT_THAT(values_of<int64_t>(d->run1({x})), ElementsAre(-1, -1, 5, -1));
}

TEST(LabelEncoder, FloatKeysMatchNanAndTheLastRepeatedKeyWins) {
  const Tensor x = f32({4}, {1.5f, kNan, 2, -0.0f});
  auto n = ml_node("LabelEncoder", 2, {x},
                   {{"keys_floats", std::vector<float>{1.5f, kNan, 0.0f, 1.5f}},
                    {"values_strings", Strings{"first", "nan", "zero", "last"}}});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::string);
  EXPECT_THAT(values_of<std::string>(n->run1({x})), ElementsAre("last", "nan", "_Unused", "zero"));

  const Tensor xi = i64s({2}, {1, 3});
  auto f = ml_node("LabelEncoder", 2, {xi},
                   {{"keys_int64s", Ints{1, 1}}, {"values_floats", std::vector<float>{0.5f, 2.5f}}});
  const std::vector<float> got = values_of<float>(f->run1({xi}));
  EXPECT_EQ(got[0], 2.5f);
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_TRUE(std::signbit(got[1]));  // the default -0.0
}

TEST(LabelEncoder, Version4TakesTensorAttributes) {
  const Tensor x = strs({3}, {"c", "q", "a"});
  const std::vector<int16_t> values{10, 20, 30};
  const std::vector<int16_t> fallback{-7};
  auto n = ml_node("LabelEncoder", 4, {x},
                   {{"keys_tensor", strs({3}, {"a", "b", "c"})},
                    {"values_tensor", Tensor::from<int16_t>({3}, std::span(values))},
                    {"default_tensor", Tensor::from<int16_t>({1}, std::span(fallback))}});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::i16);
  EXPECT_THAT(values_of<int16_t>(n->run1({x})), ElementsAre(30, -7, 10));
  // values_tensor without default_tensor: -1 for integers.
  auto d = ml_node("LabelEncoder", 4, {x},
                   {{"keys_strings", Strings{"a", "b", "c"}},
                    {"values_tensor", Tensor::from<int16_t>({3}, std::span(values))}});
  EXPECT_THAT(values_of<int16_t>(d->run1({x})), ElementsAre(30, -1, 10));
}

TEST(LabelEncoder, RejectsBadAttributesAndMismatchedInputs) {
  const Tensor x = strs({1}, {"a"});
  auto two = ml_node("LabelEncoder", 2, {x},
                     {{"keys_strings", Strings{"a"}}, {"keys_int64s", Ints{1}}, {"values_int64s", Ints{1}}});
  std::string error = error_of([&] { two->infer(); });
  EXPECT_THAT(error, HasSubstr("LabelEncoder node 'n'"));
  EXPECT_THAT(error, HasSubstr("exactly one of the keys_* attributes must be set"));
  EXPECT_THAT(error, HasSubstr("found keys_strings, keys_int64s"));
  auto none = ml_node("LabelEncoder", 2, {x}, {{"keys_strings", Strings{"a"}}});
  EXPECT_THAT(error_of([&] { none->infer(); }), HasSubstr("values_*"));
  auto length =
      ml_node("LabelEncoder", 2, {x}, {{"keys_strings", Strings{"a", "b"}}, {"values_int64s", Ints{1}}});
  EXPECT_THAT(error_of([&] { length->infer(); }),
              HasSubstr("the keys attribute has 2 elements and the values attribute 1"));
  const Tensor xi = i64s({1}, {1});
  auto type = ml_node("LabelEncoder", 2, {xi}, {{"keys_strings", Strings{"a"}}, {"values_int64s", Ints{1}}});
  EXPECT_THAT(error_of([&] { type->infer(); }),
              HasSubstr("input 'X' has element type i64 but the keys are string"));
  // keys_tensor is not an attribute of version 2.
  auto v2 = ml_node("LabelEncoder", 2, {x}, {{"keys_tensor", strs({1}, {"a"})}, {"values_int64s", Ints{1}}});
  EXPECT_THAT(error_of([&] { v2->infer(); }), HasSubstr("found none"));
}

// ---- TreeEnsemble --------------------------------------------------------------------------------------

// Two trees, two targets, two features:
//   tree 0: node 0 (x0 <= 0.5) ? leaf 0 (t0, 1) : node 1 (x1 in {2, 3}, NaN goes true) ? leaf 1 (t1, 10)
//                                                                                     : leaf 2 (t0, 4)
//   tree 1: node 2 (x1 > 1) ? leaf 3 (t1, 2) : leaf 4 (t0, 3)
Attrs two_trees(int64_t aggregate, int64_t post) {
  const std::vector<uint8_t> modes{0, 6, 3};
  const std::vector<float> splits{0.5f, 0.0f, 1.0f};
  const std::vector<float> members{2, 3, kNan};
  const std::vector<float> weights{1, 10, 4, 2, 3};
  return {{"nodes_featureids", Ints{0, 1, 1}},
          {"nodes_modes", Tensor::from<uint8_t>({3}, std::span(modes))},
          {"nodes_splits", Tensor::from<float>({3}, std::span(splits))},
          {"nodes_truenodeids", Ints{0, 1, 3}},
          {"nodes_trueleafs", Ints{1, 1, 1}},
          {"nodes_falsenodeids", Ints{1, 2, 4}},
          {"nodes_falseleafs", Ints{0, 1, 1}},
          {"nodes_missing_value_tracks_true", Ints{0, 1, 0}},
          {"membership_values", Tensor::from<float>({3}, std::span(members))},
          {"leaf_targetids", Ints{0, 1, 0, 1, 0}},
          {"leaf_weights", Tensor::from<float>({5}, std::span(weights))},
          {"tree_roots", Ints{0, 2}},
          {"n_targets", int64_t{2}},
          {"aggregate_function", aggregate},
          {"post_transform", post}};
}

// Row r reaches: r0 leaves 0 and 3; r1 leaves 1 and 3; r2 (x1 NaN) leaves 1 and 4; r3 leaves 2 and 4.
Tensor four_rows() { return f32({4, 2}, {0, 5, 1, 3, 1, kNan, 2, 1}); }

std::vector<float> run_trees(int64_t aggregate, int64_t post) {
  auto n = ml_node("TreeEnsemble", 5, {four_rows()}, two_trees(aggregate, post));
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::f32);
  EXPECT_EQ(n->out_shape(0), "[4,2]");
  return values_of<float>(n->run1({four_rows()}));
}

TEST(TreeEnsemble, AggregatesLeavesPerTarget) {
  EXPECT_THAT(run_trees(1, 0), ElementsAre(1, 2, 0, 12, 3, 10, 7, 0));      // SUM
  EXPECT_THAT(run_trees(0, 0), ElementsAre(0.5, 1, 0, 6, 1.5, 5, 3.5, 0));  // AVERAGE
  EXPECT_THAT(run_trees(2, 0), ElementsAre(1, 2, 0, 2, 3, 10, 3, 0));       // MIN
  EXPECT_THAT(run_trees(3, 0), ElementsAre(1, 2, 0, 10, 3, 10, 4, 0));      // MAX
}

TEST(TreeEnsemble, PostTransforms) {
  const float s1 = 1 / (1 + std::exp(-1.0f)), s2 = 1 / (1 + std::exp(-2.0f));
  const std::vector<float> logistic = run_trees(1, 2);
  EXPECT_NEAR(logistic[0], s1, 1e-6);
  EXPECT_NEAR(logistic[1], s2, 1e-6);
  EXPECT_NEAR(logistic[2], 0.5, 1e-6);  // sigmoid(0)
  const std::vector<float> softmax = run_trees(1, 1);
  EXPECT_NEAR(softmax[0], 1 / (1 + std::exp(1.0)), 1e-6);  // [1, 2] -> e^1 / (e^1 + e^2)
  EXPECT_NEAR(softmax[1], 1 / (1 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(softmax[6], 1 / (1 + std::exp(-7.0)), 1e-6);  // [7, 0]: the 0 takes part
  const std::vector<float> zero = run_trees(1, 3);
  EXPECT_NEAR(zero[6], 1, 1e-6);  // [7, 0] -> [1, 0]: zeros stay zero
  EXPECT_EQ(zero[7], 0);
  EXPECT_NEAR(zero[0], softmax[0], 1e-6);
}

TEST(TreeEnsemble, OneLeafTreeAndProbitInDouble) {
  const std::vector<uint8_t> modes{0};
  const std::vector<double> splits{0};
  const std::vector<double> weights{0.975};
  const Attrs attrs{{"nodes_featureids", Ints{0}},
                    {"nodes_modes", Tensor::from<uint8_t>({1}, std::span(modes))},
                    {"nodes_splits", Tensor::from<double>({1}, std::span(splits))},
                    {"nodes_truenodeids", Ints{0}},
                    {"nodes_trueleafs", Ints{1}},
                    {"nodes_falsenodeids", Ints{0}},
                    {"nodes_falseleafs", Ints{1}},
                    {"leaf_targetids", Ints{0}},
                    {"leaf_weights", Tensor::from<double>({1}, std::span(weights))},
                    {"tree_roots", Ints{0}},
                    {"post_transform", int64_t{4}}};
  const std::vector<double> xs{-3, 7};
  const Tensor x = Tensor::from<double>({2, 1}, std::span(xs));
  auto n = ml_node("TreeEnsemble", 5, {x}, attrs);
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::f64);
  EXPECT_EQ(n->out_shape(0), "[2,1]");  // n_targets defaults to the largest target id + 1
  const std::vector<double> got = values_of<double>(n->run1({x}));
  // probit(0.975) = sqrt(2) * erfinv(0.95) = 1.959963985 (the normal distribution's 97.5% quantile)
  EXPECT_NEAR(got[0], 1.959963985, 1e-8);
  EXPECT_NEAR(got[1], 1.959963985, 1e-8);
}

TEST(TreeEnsemble, RejectsBadAttributesNamingTheNode) {
  const Tensor x = four_rows();
  const auto error_with = [&](const std::string& name, graph::AttributeValue value) {
    Attrs attrs = two_trees(1, 0);
    attrs[name] = std::move(value);
    auto n = ml_node("TreeEnsemble", 5, {x}, attrs);
    return error_of([&] { n->infer(); });
  };
  const std::vector<float> two_splits{0.5f, 0.0f};
  std::string error = error_with("nodes_splits", Tensor::from<float>({2}, std::span(two_splits)));
  EXPECT_THAT(error, HasSubstr("TreeEnsemble node 'n'"));
  EXPECT_THAT(error, HasSubstr("attribute 'nodes_splits' has 2 elements but 'nodes_featureids' has 3"));
  const std::vector<uint8_t> bad_modes{0, 6, 7};
  EXPECT_THAT(error_with("nodes_modes", Tensor::from<uint8_t>({3}, std::span(bad_modes))),
              HasSubstr("nodes_modes[2] = 7 is not a node mode"));
  EXPECT_THAT(error_with("leaf_targetids", Ints{0, 1, 0}),
              HasSubstr("attribute 'leaf_targetids' has 3 elements but 'leaf_weights' has 5"));
  EXPECT_THAT(error_with("leaf_targetids", Ints{0, 1, 0, 2, 0}),
              HasSubstr("leaf_targetids[3] = 2 is out of range"));
  EXPECT_THAT(error_with("aggregate_function", int64_t{4}), HasSubstr("attribute 'aggregate_function' is 4"));
  EXPECT_THAT(error_with("post_transform", int64_t{5}), HasSubstr("attribute 'post_transform' is 5"));
  EXPECT_THAT(error_with("nodes_falsenodeids", Ints{1, 2, 5}),
              HasSubstr("nodes_falsenodeids[2] = 5 is out of range [0, 5) of the leaves"));
  const std::vector<float> no_groups{2, 3};
  const std::vector<float> two_groups{2, kNan, 3, kNan};
  EXPECT_THAT(error_with("membership_values", Tensor::from<float>({2}, std::span(no_groups))), "no error");
  EXPECT_THAT(error_with("membership_values", Tensor::from<float>({4}, std::span(two_groups))),
              HasSubstr("holds 2 NaN-delimited groups but nodes_modes has 1 BRANCH_MEMBER nodes"));
  EXPECT_THAT(error_with("nodes_featureids", Ints{0, 1, 2}),
              HasSubstr("nodes_featureids[2] = 2 is out of range for X's 2 features"));
  // A cycle among interior nodes is caught while walking.
  Attrs cyclic = two_trees(1, 0);
  cyclic["nodes_truenodeids"] = Ints{1, 0, 3};
  cyclic["nodes_trueleafs"] = Ints{0, 0, 1};
  auto n = ml_node("TreeEnsemble", 5, {x}, cyclic);
  EXPECT_THAT(error_of([&] { n->run1({f32({1, 2}, {1, 2})}); }), HasSubstr("has a cycle"));
}

// ---- Whole models on REF and CPU -----------------------------------------------------------------------

Model ml_model(const std::string& op, int64_t ml_opset, ET type, Shape shape, Attrs attrs) {
  auto g = std::make_shared<graph::Graph>();
  g->name = "ml";
  g->opset_imports[""] = 21;
  g->opset_imports["ai.onnx.ml"] = ml_opset;
  graph::Value* x = g->add_value("x");
  x->type = type;
  x->shape = PartialShape(shape);
  x->is_graph_input = true;
  g->inputs().push_back(x);
  graph::Value* y = g->add_value("y");
  graph::Node* n = g->add_node(op, "ai.onnx.ml", {x}, {y}, op + "_0");
  n->attributes = std::move(attrs);
  g->outputs() = {y};
  return dev::make_model(g);
}

Tensor run_on(const Model& model, const std::string& device, const Tensor& input) {
  static Core core;
  CompiledModel compiled = core.compile_model(model, device);
  InferRequest request = compiled.create_infer_request();
  request.set_input_tensor(0, input);
  request.infer();
  return request.get_output_tensor(0).clone();
}

TEST(MlOpsOnDevices, TreeEnsembleAndLabelEncoder) {
  const Model trees = ml_model("TreeEnsemble", 5, ET::f32, {4, 2}, two_trees(1, 0));
  const Model labels = ml_model("LabelEncoder", 4, ET::string, {3},
                                {{"keys_strings", Strings{"a", "b"}}, {"values_int64s", Ints{1, 2}}});
  for (const std::string device : {"REF", "CPU"}) {
    SCOPED_TRACE(device);
    try {
      EXPECT_THAT(values_of<float>(run_on(trees, device, four_rows())),
                  ElementsAre(1, 2, 0, 12, 3, 10, 7, 0));
      EXPECT_THAT(values_of<int64_t>(run_on(labels, device, strs({3}, {"b", "x", "a"}))),
                  ElementsAre(2, -1, 1));
    } catch (const std::exception& e) {
      ADD_FAILURE() << device << " threw: " << e.what();
    }
  }
}

}  // namespace
}  // namespace sluice
