// The string operators (StringConcat, RegexFullMatch, StringSplit, StringNormalizer, and Equal on strings):
// reference kernels and shape inference on one-node graphs, then whole one-node models through the public
// API on REF and CPU (the CPU runs string nodes on the reference kernels). Expected values are written
// by hand next to each case (Python's str.split gives the StringSplit ones).
#include <memory>

#include "ops_one_node_harness.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using ops_test::error_of;
using ops_test::OneNode;
using ops_test::values_of;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Strings = std::vector<std::string>;
using ET = ElementType;

Tensor strs(Shape shape, const Strings& v) {
  return Tensor::from<std::string>(std::move(shape), std::span(v));
}
Strings strings_of(const Tensor& t) {
  EXPECT_EQ(t.type(), ET::string);
  return values_of<std::string>(t);
}
std::vector<bool> bools_of(const Tensor& t) {
  EXPECT_EQ(t.type(), ET::boolean);
  return values_of<bool>(t);
}

// A node whose inputs are declared string tensors of the given shapes (shape inference runs on them).
std::unique_ptr<OneNode> string_node(const std::string& op, int64_t opset, const std::vector<Shape>& shapes,
                                     size_t outputs = 1) {
  auto n = std::make_unique<OneNode>(op, shapes.size(), outputs, opset);
  for (size_t i = 0; i < shapes.size(); ++i) n->input(i, ET::string, PartialShape(shapes[i]));
  return n;
}

// ---- StringConcat ----------------------------------------------------------------------------------

TEST(StringConcat, ConcatenatesElementwiseAndKeepsUtf8Bytes) {
  auto n = string_node("StringConcat", 20, {{3}, {3}});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::string);
  EXPECT_EQ(n->out_shape(0), "[3]");
  const Tensor out = n->run1({strs({3}, {"abc", "的", ""}), strs({3}, {".com", "中", ""})});
  EXPECT_EQ(to_string(out.shape()), "[3]");
  EXPECT_THAT(strings_of(out), ElementsAre("abc.com", "的中", ""));
}

TEST(StringConcat, Broadcasts) {
  auto n = string_node("StringConcat", 20, {{2, 1}, {3}});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[2,3]");
  const Tensor out = n->run1({strs({2, 1}, {"x", "y"}), strs({3}, {"1", "2", "3"})});
  EXPECT_EQ(to_string(out.shape()), "[2,3]");
  EXPECT_THAT(strings_of(out), ElementsAre("x1", "x2", "x3", "y1", "y2", "y3"));
  // A scalar on either side.
  const Tensor scalar = n->run1({strs({}, {"cat"}), strs({2}, {"s", "fish"})});
  EXPECT_THAT(strings_of(scalar), ElementsAre("cats", "catfish"));
  const Tensor both = n->run1({strs({}, {"a"}), strs({}, {"b"})});
  EXPECT_EQ(to_string(both.shape()), "[]");
  EXPECT_THAT(strings_of(both), ElementsAre("ab"));
}

TEST(StringConcat, EmptyTensorsAndIncompatibleShapes) {
  auto n = string_node("StringConcat", 20, {{0, 2}, {2}});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[0,2]");
  const Tensor out = n->run1({strs({0, 2}, {}), strs({2}, {"a", "b"})});
  EXPECT_EQ(to_string(out.shape()), "[0,2]");
  EXPECT_THAT(error_of([&] {
                n->run1({strs({2}, {"a", "b"}), strs({3}, {"a", "b", "c"})});
              }),
              HasSubstr("StringConcat node 'n'"));
}

TEST(StringConcat, RejectsNonStringInputs) {
  auto n = std::make_unique<OneNode>("StringConcat", 2, 1, 20);
  n->input(0, ET::string, PartialShape(Shape{2})).input(1, ET::f32, PartialShape(Shape{2}));
  EXPECT_THAT(error_of([&] { n->infer(); }), HasSubstr("input 'Y' has element type f32; expected string"));
  EXPECT_THAT(error_of([&] {
                n->run1({strs({2}, {"a", "b"}), ops_test::f32({2}, {1, 2})});
              }),
              HasSubstr("expected a string tensor"));
}

// ---- RegexFullMatch --------------------------------------------------------------------------------

std::unique_ptr<OneNode> regex(const std::string& pattern, Shape shape) {
  auto n = string_node("RegexFullMatch", 20, {std::move(shape)});
  n->attr("pattern", pattern);
  return n;
}

TEST(RegexFullMatch, MatchesTheWholeString) {
  auto n = regex("ab+", {2, 2});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::boolean);
  EXPECT_EQ(n->out_shape(0), "[2,2]");
  // "xabb" and "abbx" contain a match but are not one.
  const Tensor out = n->run1({strs({2, 2}, {"abbb", "xabb", "abbx", "ab"})});
  EXPECT_EQ(to_string(out.shape()), "[2,2]");
  EXPECT_THAT(bools_of(out), ElementsAre(true, false, false, true));
}

TEST(RegexFullMatch, ConformancePatternsWordBoundariesAndClasses) {
  auto basic = regex(R"(www\.[\w.-]+\.\bcom\b)", {3});
  EXPECT_THAT(bools_of(basic->run1({strs({3}, {"www.google.com", "www.facebook.com", "www.bbc.co.uk"})})),
              ElementsAre(true, true, false));
  auto email = regex(R"((\W|^)[\w.\-]{0,25}@(yahoo|gmail)\.com(\W|$))", {4});
  EXPECT_THAT(bools_of(email->run1({strs(
                  {4}, {"account@gmail.com", "account@hotmail.com", "not email", "account2@yahoo.com"})})),
              ElementsAre(true, false, false, true));
}

TEST(RegexFullMatch, Utf8BytesAndEmptyStrings) {
  // Literal UTF-8 in the pattern matches the same bytes; ".*" spans multi-byte characters.
  auto n = regex("中.*文", {4});
  EXPECT_THAT(bools_of(n->run1({strs({4}, {"中文", "中国語文", "文中", ""})})),
              ElementsAre(true, true, false, false));
  auto empty = regex("a*", {2});
  EXPECT_THAT(bools_of(empty->run1({strs({2}, {"", "b"})})), ElementsAre(true, false));
}

TEST(RegexFullMatch, Re2FormsStdRegexLacksAreRewritten) {
  // \A and \z anchor like ^ and $; a leading (?i) ignores case; (?P<name>...) is a plain group; a ']'
  // first in a class is a member.
  auto anchors = regex(R"((\Aab|x)(cd\z|y))", {3});
  EXPECT_THAT(bools_of(anchors->run1({strs({3}, {"abcd", "xy", "Aabcdz"})})), ElementsAre(true, true, false));
  auto icase = regex("(?i)hello [a-z]+", {2});
  EXPECT_THAT(bools_of(icase->run1({strs({2}, {"HeLLo World", "hello"})})), ElementsAre(true, false));
  auto named = regex(R"((?P<user>\w+)@(?P<host>\w+))", {2});
  EXPECT_THAT(bools_of(named->run1({strs({2}, {"me@host", "me@"})})), ElementsAre(true, false));
  auto bracket = regex("[]a]+[[:digit:]]", {2});
  EXPECT_THAT(bools_of(bracket->run1({strs({2}, {"]a]1", "b1"})})), ElementsAre(true, false));
}

TEST(RegexFullMatch, LongInputsDoNotExhaustTheStack) {
  // A backtracking std::regex recurses per character and crashes near 15000 characters on (a|b)*.
  auto n = regex("(a|b)*c?", {2});
  std::string long_input(200000, 'a');
  long_input[1000] = 'b';
  EXPECT_THAT(bools_of(n->run1({strs({2}, {long_input, long_input + "d"})})), ElementsAre(true, false));
}

TEST(RegexFullMatch, BackreferencesAreRejectedLikeRe2) {
  auto n = regex(R"((a)\1)", {1});
  EXPECT_THAT(error_of([&] { n->infer(); }), HasSubstr("is not a valid regular expression"));
}

TEST(RegexFullMatch, EmptyTensorGivesEmptyOutput) {
  auto n = regex("a", {2, 0});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[2,0]");
  const Tensor out = n->run1({strs({2, 0}, {})});
  EXPECT_EQ(out.type(), ET::boolean);
  EXPECT_EQ(to_string(out.shape()), "[2,0]");
}

TEST(RegexFullMatch, InvalidPatternIsAnErrorNamingTheNode) {
  auto n = regex("(ab", {1});
  const std::string error = error_of([&] { n->infer(); });
  EXPECT_THAT(error, HasSubstr("RegexFullMatch node 'n'"));
  EXPECT_THAT(error, HasSubstr("attribute 'pattern' ('(ab') is not a valid regular expression"));
  auto missing = string_node("RegexFullMatch", 20, {{1}});
  EXPECT_THAT(error_of([&] { missing->infer(); }), HasSubstr("pattern"));
}

// ---- StringSplit -----------------------------------------------------------------------------------

std::unique_ptr<OneNode> split(Shape shape) { return string_node("StringSplit", 20, {std::move(shape)}, 2); }

TEST(StringSplit, DelimiterGivesEmptyPiecesBetweenConsecutiveDelimiters) {
  auto n = split({3});
  n->attr("delimiter", std::string("-"));
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::string);
  EXPECT_EQ(n->out_shape(0), "[3,?]");
  EXPECT_EQ(n->out_type(1), ET::i64);
  EXPECT_EQ(n->out_shape(1), "[3]");
  // "o-n--x-".split("-") == ['o', 'n', '', 'x', '']; "".split("-") == [''].
  const auto out = n->run({strs({3}, {"o-n--x-", "a", ""})});
  EXPECT_EQ(to_string(out[0].shape()), "[3,5]");
  EXPECT_THAT(strings_of(out[0]),
              ElementsAre("o", "n", "", "x", "", "a", "", "", "", "", "", "", "", "", ""));
  EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(5, 1, 1));
}

TEST(StringSplit, MultiByteDelimiters) {
  auto n = split({2});
  n->attr("delimiter", std::string("::"));
  // "a::b::::c".split("::") == ['a', 'b', '', 'c']; ":a:" has no "::".
  const auto out = n->run({strs({2}, {"a::b::::c", ":a:"})});
  EXPECT_THAT(strings_of(out[0]), ElementsAre("a", "b", "", "c", ":a:", "", "", ""));
  EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(4, 1));
  auto utf8 = split({1});
  utf8->attr("delimiter", std::string("的"));
  const auto pieces = utf8->run({strs({1}, {"我的书的"})});
  EXPECT_THAT(strings_of(pieces[0]), ElementsAre("我", "书", ""));
}

TEST(StringSplit, NoDelimiterSplitsOnWhitespaceRuns) {
  // Absent and empty delimiters both split on whitespace: "  hello \t world\n! ".split() gives
  // ['hello', 'world', '!'], "".split() and " \r\n ".split() give [].
  for (const bool empty_attr : {false, true}) {
    auto n = split({2, 2});
    if (empty_attr) n->attr("delimiter", std::string());
    const auto out = n->run({strs({2, 2}, {"  hello \t world\n! ", "", " \r\n ", "x\x0by\x1cz"})});
    EXPECT_EQ(to_string(out[0].shape()), "[2,2,3]");
    EXPECT_THAT(strings_of(out[0]),
                ElementsAre("hello", "world", "!", "", "", "", "", "", "", "x", "y", "z"));
    EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(3, 0, 0, 3));
  }
}

TEST(StringSplit, UnicodeWhitespaceSeparatesLikePython) {
  // U+3000 (ideographic space) and U+00A0 (no-break space) are whitespace to str.split; "中" is not.
  auto n = split({1});
  const auto out = n->run({strs({1}, {"a\u3000b\u00a0\u00a0中"})});
  EXPECT_THAT(strings_of(out[0]), ElementsAre("a", "b", "中"));
}

TEST(StringSplit, MaxsplitLimitsSplitsAndKeepsTheRest) {
  auto n = split({3});
  n->attr("maxsplit", int64_t{2});
  // "o n n x".split(None, 2) == ['o', 'n', 'n x']; "  a  b  c  d  ".split(None, 2) == ['a', 'b', 'c  d  '];
  // "one".split(None, 2) == ['one'].
  const auto out = n->run({strs({3}, {"o n n x", "  a  b  c  d  ", "one"})});
  EXPECT_THAT(strings_of(out[0]), ElementsAre("o", "n", "n x", "a", "b", "c  d  ", "one", "", ""));
  EXPECT_THAT(values_of<int64_t>(out[1]), ElementsAre(3, 3, 1));

  auto delimited = split({1});
  delimited->attr("delimiter", std::string(".")).attr("maxsplit", int64_t{1});
  EXPECT_THAT(strings_of(delimited->run({strs({1}, {"a.b.c"})})[0]), ElementsAre("a", "b.c"));

  // maxsplit 0: no split ("  a b ".split(None, 0) == ['a b '], "a.b".split(".", 0) == ['a.b']); negative:
  // unlimited.
  auto none = split({1});
  none->attr("maxsplit", int64_t{0});
  EXPECT_THAT(strings_of(none->run({strs({1}, {"  a b "})})[0]), ElementsAre("a b "));
  delimited->attr("maxsplit", int64_t{0});
  EXPECT_THAT(strings_of(delimited->run({strs({1}, {"a.b"})})[0]), ElementsAre("a.b"));
  delimited->attr("maxsplit", int64_t{-1});
  EXPECT_THAT(strings_of(delimited->run({strs({1}, {"a.b.c"})})[0]), ElementsAre("a", "b", "c"));
}

TEST(StringSplit, EmptyTensors) {
  auto n = split({0});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[0,?]");
  const auto out = n->run({strs({0}, {})});
  EXPECT_EQ(to_string(out[0].shape()), "[0,0]");
  EXPECT_EQ(to_string(out[1].shape()), "[0]");
  EXPECT_EQ(out[1].type(), ET::i64);
  const auto wide = n->run({strs({2, 0}, {})});
  EXPECT_EQ(to_string(wide[0].shape()), "[2,0,0]");
  // Elements that all give no piece: the last dimension is 0.
  const auto blank = n->run({strs({2}, {"", "   "})});
  EXPECT_EQ(to_string(blank[0].shape()), "[2,0]");
  EXPECT_THAT(values_of<int64_t>(blank[1]), ElementsAre(0, 0));
}

// ---- StringNormalizer ------------------------------------------------------------------------------

std::unique_ptr<OneNode> normalizer(Shape shape, const std::string& action, int64_t case_sensitive,
                                    Strings stopwords) {
  auto n = string_node("StringNormalizer", 10, {std::move(shape)});
  n->attr("case_change_action", action).attr("is_case_sensitive", case_sensitive);
  if (!stopwords.empty()) n->attr("stopwords", std::move(stopwords));
  return n;
}

TEST(StringNormalizer, CaseSensitiveStopwordsThenLower) {
  auto n = normalizer({4}, "LOWER", 1, {"monday"});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[?]");
  // "Monday" is not "monday" when case-sensitive: kept, then lower-cased.
  const Tensor out = n->run1({strs({4}, {"monday", "Monday", "TUESDAY", "wed"})});
  EXPECT_EQ(to_string(out.shape()), "[3]");
  EXPECT_THAT(strings_of(out), ElementsAre("monday", "tuesday", "wed"));
}

TEST(StringNormalizer, CaseInsensitiveStopwordsOnATwoDimensionalInput) {
  auto n = normalizer({1, 5}, "UPPER", 0, {"MonDay", "x"});
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[1,?]");
  const Tensor out = n->run1({strs({1, 5}, {"Monday", "tuesday", "MONDAY", "X", "y"})});
  EXPECT_EQ(to_string(out.shape()), "[1,2]");
  EXPECT_THAT(strings_of(out), ElementsAre("TUESDAY", "Y"));
}

TEST(StringNormalizer, AllDroppedGivesOneEmptyString) {
  auto n = normalizer({2}, "UPPER", 1, {"monday"});
  const Tensor out = n->run1({strs({2}, {"monday", "monday"})});
  EXPECT_EQ(to_string(out.shape()), "[1]");
  EXPECT_THAT(strings_of(out), ElementsAre(""));
  auto two_dim = normalizer({1, 2}, "NONE", 1, {"monday"});
  const Tensor out2 = two_dim->run1({strs({1, 2}, {"monday", "monday"})});
  EXPECT_EQ(to_string(out2.shape()), "[1,1]");
  EXPECT_THAT(strings_of(out2), ElementsAre(""));
  // An empty input has nothing left either.
  const Tensor none = n->run1({strs({0}, {})});
  EXPECT_EQ(to_string(none.shape()), "[1]");
}

TEST(StringNormalizer, NoStopwordsKeepsTheShape) {
  auto n = normalizer({2}, "NONE", 1, {});
  n->attr("locale", std::string("en_US"));
  n->infer();
  EXPECT_EQ(n->out_shape(0), "[2]");
  EXPECT_THAT(strings_of(n->run1({strs({2}, {"Monday", "tuesday"})})), ElementsAre("Monday", "tuesday"));
  auto defaults = string_node("StringNormalizer", 10, {{2}});
  EXPECT_THAT(strings_of(defaults->run1({strs({2}, {"Monday", "x"})})), ElementsAre("Monday", "x"));
}

TEST(StringNormalizer, CaseMappingCoversLatinGreekAndCyrillicAndKeepsOtherBytes) {
  auto upper = normalizer({1}, "UPPER", 1, {});
  EXPECT_THAT(strings_of(upper->run1({strs({1}, {"éclair ωμεγας привет ÿ ß 中 1!"})})),
              ElementsAre("ÉCLAIR ΩΜΕΓΑΣ ПРИВЕТ Ÿ ß 中 1!"));
  auto lower = normalizer({1}, "LOWER", 1, {});
  EXPECT_THAT(strings_of(lower->run1({strs({1}, {"ÉCLAIR ΩΜΕΓΑ ПРИВЕТ Ÿ ĀĹ × 中"})})),
              ElementsAre("éclair ωμεγα привет ÿ āĺ × 中"));
  // Invalid UTF-8 bytes pass through unchanged.
  EXPECT_THAT(strings_of(lower->run1({strs({1}, {"A\xc3"})})), ElementsAre("a\xc3"));
  // Case-insensitive stopwords match across the mapped letters.
  auto stop = normalizer({2}, "NONE", 0, {"ÉTÉ"});
  EXPECT_THAT(strings_of(stop->run1({strs({2}, {"été", "hiver"})})), ElementsAre("hiver"));
}

TEST(StringNormalizer, RejectsBadAttributesAndShapes) {
  auto bad = normalizer({2}, "TITLE", 1, {});
  EXPECT_THAT(error_of([&] { bad->infer(); }),
              HasSubstr("attribute 'case_change_action' is 'TITLE'; expected LOWER, UPPER or NONE"));
  auto wide = normalizer({2, 3}, "NONE", 1, {});
  EXPECT_THAT(error_of([&] { wide->infer(); }),
              HasSubstr("input 'X' has shape [2,3]; expected [C] or [1, C]"));
  auto ok = normalizer({2}, "NONE", 1, {});
  EXPECT_THAT(error_of([&] {
                ok->run1({strs({2, 2}, {"a", "b", "c", "d"})});
              }),
              HasSubstr("expected [C] or [1, C]"));
}

// ---- Equal on strings, and ops without string support ---------------------------------------------

TEST(EqualStrings, ComparesWithBroadcastingFromOpset19) {
  auto n = string_node("Equal", 19, {{2, 1}, {3}});
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::boolean);
  EXPECT_EQ(n->out_shape(0), "[2,3]");
  const Tensor out = n->run1({strs({2, 1}, {"a", "的"}), strs({3}, {"a", "的", "A"})});
  EXPECT_EQ(to_string(out.shape()), "[2,3]");
  EXPECT_THAT(bools_of(out), ElementsAre(true, false, false, false, true, false));
  const Tensor empty = n->run1({strs({0}, {}), strs({1}, {"a"})});
  EXPECT_EQ(to_string(empty.shape()), "[0]");
}

TEST(EqualStrings, NumbersStillCompareAtOpset19) {
  auto n = std::make_unique<OneNode>("Equal", 2, 1, 19);
  n->input(0, ET::f32, PartialShape(Shape{2})).input(1, ET::f32, PartialShape(Shape{2}));
  n->infer();
  EXPECT_EQ(n->out_type(0), ET::boolean);
  EXPECT_THAT(bools_of(n->run1({ops_test::f32({2}, {1, 2}), ops_test::f32({2}, {1, 3})})),
              ElementsAre(true, false));
}

TEST(EqualStrings, MixedTypesAndEarlierOpsetsAreRejected) {
  auto mixed = std::make_unique<OneNode>("Equal", 2, 1, 19);
  mixed->input(0, ET::string, PartialShape(Shape{2})).input(1, ET::i32, PartialShape(Shape{2}));
  EXPECT_THAT(error_of([&] { mixed->infer(); }),
              HasSubstr("input 'B' has element type i32; expected string"));
  // Equal-13 predates string support: infer_node refuses the input.
  auto old = string_node("Equal", 13, {{2}, {2}});
  EXPECT_THAT(error_of([&] { old->infer(); }), HasSubstr("does not take strings"));
}

TEST(StringInputs, OpsWithoutStringSupportRejectThem) {
  for (const char* op : {"Add", "Less", "Greater"}) {
    auto n = string_node(op, 19, {{2}, {2}});
    const std::string error = error_of([&] { n->infer(); });
    EXPECT_THAT(error, HasSubstr("has string elements"));
    EXPECT_THAT(error, HasSubstr(std::string(op) + " does not take strings"));
  }
}

// ---- Whole models on REF and CPU -------------------------------------------------------------------

struct ModelInput {
  ET type;
  Shape shape;
};

Model one_node_model(const std::string& op, int64_t opset, const std::vector<ModelInput>& inputs,
                     std::map<std::string, graph::AttributeValue> attrs, int outputs) {
  auto g = std::make_shared<graph::Graph>();
  g->name = "strings";
  g->opset_imports[""] = opset;
  std::vector<graph::Value*> ins, outs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    graph::Value* v = g->add_value("x" + std::to_string(i));
    v->type = inputs[i].type;
    v->shape = PartialShape(inputs[i].shape);
    v->is_graph_input = true;
    g->inputs().push_back(v);
    ins.push_back(v);
  }
  for (int o = 0; o < outputs; ++o) outs.push_back(g->add_value("y" + std::to_string(o)));
  graph::Node* n = g->add_node(op, "", ins, outs, op + "_0");
  n->attributes = std::move(attrs);
  g->outputs() = outs;
  return dev::make_model(g);
}

// Compiles and runs the model on each device; returns the outputs per device.
void expect_on_devices(const Model& model, const std::vector<Tensor>& inputs,
                       const std::function<void(const std::vector<Tensor>&)>& check) {
  static Core core;
  for (const std::string device : {"REF", "CPU"}) {
    SCOPED_TRACE(device);
    try {
      CompiledModel compiled = core.compile_model(model, device);
      InferRequest request = compiled.create_infer_request();
      for (size_t i = 0; i < inputs.size(); ++i) request.set_input_tensor(i, inputs[i]);
      request.infer();
      std::vector<Tensor> outs;
      for (size_t o = 0; o < compiled.outputs().size(); ++o)
        outs.push_back(request.get_output_tensor(o).clone());
      check(outs);
    } catch (const std::exception& e) {
      ADD_FAILURE() << device << " threw: " << e.what();
    }
  }
}

TEST(StringOpsOnDevices, ConcatAndEqual) {
  expect_on_devices(one_node_model("StringConcat", 20, {{ET::string, {2}}, {ET::string, {1}}}, {}, 1),
                    {strs({2}, {"cat", "的"}), strs({1}, {"s"})}, [](const std::vector<Tensor>& out) {
                      EXPECT_THAT(strings_of(out.at(0)), ElementsAre("cats", "的s"));
                    });
  expect_on_devices(one_node_model("Equal", 19, {{ET::string, {3}}, {ET::string, {1}}}, {}, 1),
                    {strs({3}, {"a", "b", "a"}), strs({1}, {"a"})}, [](const std::vector<Tensor>& out) {
                      EXPECT_THAT(bools_of(out.at(0)), ElementsAre(true, false, true));
                    });
}

TEST(StringOpsOnDevices, SplitRegexAndNormalizer) {
  expect_on_devices(
      one_node_model("StringSplit", 20, {{ET::string, {2}}}, {{"delimiter", std::string(".")}}, 2),
      {strs({2}, {"abc.com", "x"})}, [](const std::vector<Tensor>& out) {
        EXPECT_EQ(to_string(out.at(0).shape()), "[2,2]");
        EXPECT_THAT(strings_of(out.at(0)), ElementsAre("abc", "com", "x", ""));
        EXPECT_THAT(values_of<int64_t>(out.at(1)), ElementsAre(2, 1));
      });
  expect_on_devices(
      one_node_model("RegexFullMatch", 20, {{ET::string, {2}}}, {{"pattern", std::string("a+")}}, 1),
      {strs({2}, {"aaa", "ab"})},
      [](const std::vector<Tensor>& out) { EXPECT_THAT(bools_of(out.at(0)), ElementsAre(true, false)); });
  expect_on_devices(
      one_node_model("StringNormalizer", 10, {{ET::string, {3}}},
                     {{"case_change_action", std::string("UPPER")}, {"stopwords", Strings{"the"}}}, 1),
      {strs({3}, {"the", "quick", "fox"})}, [](const std::vector<Tensor>& out) {
        EXPECT_EQ(to_string(out.at(0).shape()), "[2]");
        EXPECT_THAT(strings_of(out.at(0)), ElementsAre("QUICK", "FOX"));
      });
}

TEST(StringOpsOnDevices, AddOfStringsIsRejectedWhenTheModelIsBuilt) {
  // Shape inference runs when the model is made, before any device sees it.
  EXPECT_THAT(error_of([] {
                one_node_model("Add", 17, {{ET::string, {2}}, {ET::string, {2}}}, {}, 1);
              }),
              HasSubstr("Add node 'Add_0': input 0 ('x0') has string elements; Add does not take strings"));
}

}  // namespace
}  // namespace sluice
