// Differential tests of the CPU device's own kernels against the reference device through the public API
// (issue 7): for each operator type the CPU device has a kernel for, a generator makes single-node models
// with random attributes, random shapes (rank 0..5 where the operator allows it, broadcasting between
// inputs where it broadcasts, empty tensors — a zero dimension — where it allows them) and random inputs,
// seeded. Each case is compiled on "CPU" (ENABLE_PROFILING) and on "REF", run with the same inputs, and:
//   - every output must have REF's type and shape, and values within the case's tolerance:
//       exact (bit-equal, NaN == NaN) for data movement, integer and boolean results and comparisons;
//       |cpu - ref| <= atol + rtol * |ref| for float math: rtol 1e-6 for one IEEE operation (Add, Div...),
//       1e-5 for the vectorized transcendental approximations (vec_math.hpp), normalizations and
//       reductions (summation order differs), 1e-4 (plus atol) for oneDNN convolutions and products;
//   - the node must have run on a CPU kernel (its profile entry's exec_type is not "ref"), so that a
//     regression to the reference fallback is caught. A case that legitimately falls back says why.
// A failing case's message names the operator, the seed, the shapes and the attributes; reproduce it with
// --gtest_filter=CpuVsRefRandom.<Family> and the seed.
//
// Covered CPU-native operator types:
//   elementwise: Add Sub Mul Div Pow Equal Less Greater LessOrEqual GreaterOrEqual And Or Xor, Max Min Sum
//     Mean, Relu LeakyRelu Sigmoid Tanh Exp Log Sqrt Neg Abs Erf Reciprocal Floor Ceil Sin Cos Softplus Elu
//     Selu HardSigmoid HardSwish Gelu Sign Mish Not, Clip, Where, Cast, CastLike
//   norm: Softmax LogSoftmax LayerNormalization
//   reduce: ReduceSum ReduceMean ReduceMax ReduceMin ReduceProd ReduceL2 ReduceSumSquare ArgMax ArgMin
//   data movement: Identity Flatten Reshape Squeeze Unsqueeze Transpose Gather Concat Split Slice Expand
//     Tile Pad Resize
//   oneDNN: Conv MaxPool AveragePool GlobalAveragePool GlobalMaxPool MatMul Gemm
// Cases that legitimately run on the reference fallback (marked in the case, not asserted native):
//   Max/Min/Sum/Mean with other than two inputs (the CPU's variadic kernels take exactly two); MatMul with a
//   1-D or an empty operand and Gemm with a C other than [N] or [1, N] (the oneDNN kernel declines them).
//   Every other case, empty tensors included, must run on a CPU kernel. A Gemm with constant B is
//   rewritten to FusedMatMul under the same node name, so profile entries are matched by name too.
// Not covered here:
//   com.sluice FusedConv, FusedMatMul, Attention: internal operators that only the CPU fusions produce
//     (cpu_fusion_test.cpp, cpu_attention_test.cpp and CpuDevice.* check them against REF from the
//     unfused ONNX graphs they replace).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>

#include "graph_builder.hpp"
#include "sluice/dev/plugin.hpp"
#include "sluice/sluice.hpp"

namespace sluice {
namespace {

using test::Builder;
using ET = ElementType;
using Attrs = std::map<std::string, graph::AttributeValue>;

// One generated model and its inputs.
struct Case {
  std::string op;    // the node's op type, as the profile reports it
  std::string what;  // shapes, types and attributes, for the failure message
  Model model;
  std::vector<Tensor> inputs;
  double rtol = 0, atol = 0;  // both 0: exact
  // Non-empty: why the node may legitimately run on the reference fallback in this case.
  std::string fallback_ok;
  bool may_vanish = false;  // the graph passes may remove the node (Identity)
};

using Rng = std::mt19937;

int pick(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }
int64_t pick_in(Rng& rng, int64_t lo, int64_t hi) {  // [lo, hi]
  return lo + static_cast<int64_t>(rng() % static_cast<unsigned>(hi - lo + 1));
}
bool coin(Rng& rng, int one_in = 2) { return pick(rng, one_in) == 0; }

std::string str(const Shape& s) { return to_string(s); }
template <class T> std::string str(const std::vector<T>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  os << "]";
  return os.str();
}
bool has_zero(const Shape& s) { return std::find(s.begin(), s.end(), 0) != s.end(); }

// A random shape of rank in [lo, hi], dims in [1, max_dim]; with `empty`, one dim in four shapes is 0.
Shape random_shape(Rng& rng, int lo, int hi, bool empty, int64_t max_dim = 5) {
  Shape s(static_cast<size_t>(pick_in(rng, lo, hi)));
  for (auto& d : s) d = pick_in(rng, 1, max_dim);
  if (empty && !s.empty() && coin(rng, 4)) s[static_cast<size_t>(pick(rng, static_cast<int>(s.size())))] = 0;
  return s;
}

// A shape that broadcasts to `s` (numpy rules): some leading dims dropped, some dims set to 1.
Shape broadcast_of(Rng& rng, const Shape& s) {
  Shape b(s.begin() + pick(rng, static_cast<int>(s.size()) + 1), s.end());
  if (coin(rng, 3)) return s;
  for (auto& d : b) {
    if (coin(rng, 3)) d = 1;
  }
  return b;
}

// Random values: floats in [lo, hi], integers rounded from it, booleans at random.
Tensor random_tensor(ET type, const Shape& shape, Rng& rng, double lo = -2, double hi = 2) {
  Tensor t(type, shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (int64_t i = 0; i < t.size(); ++i) {
    const double v = dist(rng);
    switch (type) {
      case ET::f32: t.data<float>()[i] = static_cast<float>(v); break;
      case ET::f16: t.data<float16>()[i] = float16(static_cast<float>(v)); break;
      case ET::i32: t.data<int32_t>()[i] = static_cast<int32_t>(std::lround(v)); break;
      case ET::i64: t.data<int64_t>()[i] = std::lround(v); break;
      case ET::u8: t.data<uint8_t>()[i] = static_cast<uint8_t>(std::lround(std::fabs(v))); break;
      case ET::i8: t.data<int8_t>()[i] = static_cast<int8_t>(std::lround(v)); break;
      case ET::boolean: t.data<bool>()[i] = (rng() & 1) != 0; break;
      default: ADD_FAILURE() << "random_tensor: type " << to_string(type);
    }
  }
  return t;
}

Tensor i64s(const std::vector<int64_t>& v) {
  return Tensor::from<int64_t>({static_cast<int64_t>(v.size())}, std::span<const int64_t>(v));
}
Tensor f32s(const std::vector<float>& v) {
  return Tensor::from<float>({static_cast<int64_t>(v.size())}, std::span<const float>(v));
}

double as_double(const Tensor& t, int64_t i) {
  switch (t.type()) {
    case ET::f32: return t.data<float>()[i];
    case ET::f64: return t.data<double>()[i];
    case ET::f16: return static_cast<float>(t.data<float16>()[i]);
    case ET::bf16: return static_cast<float>(t.data<bfloat16>()[i]);
    case ET::i8: return t.data<int8_t>()[i];
    case ET::u8: return t.data<uint8_t>()[i];
    case ET::i16: return t.data<int16_t>()[i];
    case ET::u16: return t.data<uint16_t>()[i];
    case ET::i32: return t.data<int32_t>()[i];
    case ET::u32: return t.data<uint32_t>()[i];
    case ET::i64: return static_cast<double>(t.data<int64_t>()[i]);
    case ET::u64: return static_cast<double>(t.data<uint64_t>()[i]);
    case ET::boolean: return t.data<bool>()[i] ? 1 : 0;
    default: ADD_FAILURE() << "as_double: type " << to_string(t.type()); return 0;
  }
}

// A single node with several outputs or another opset than test::Builder's 17 (Split, Gelu).
Model one_node_model(const std::string& op, int64_t opset, const std::vector<std::pair<Shape, ET>>& inputs,
                     const std::vector<Tensor>& constants, Attrs attrs, int outputs) {
  auto g = std::make_shared<graph::Graph>();
  g->name = "test";
  g->opset_imports[""] = opset;
  std::vector<graph::Value*> ins, outs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    graph::Value* v = g->add_value("x" + std::to_string(i));
    v->type = inputs[i].second;
    v->shape = PartialShape(inputs[i].first);
    v->is_graph_input = true;
    g->inputs().push_back(v);
    ins.push_back(v);
  }
  for (size_t i = 0; i < constants.size(); ++i) {
    graph::Value* v = g->add_value("c" + std::to_string(i));
    v->constant = constants[i];
    v->type = constants[i].type();
    v->shape = PartialShape(constants[i].shape());
    ins.push_back(v);
  }
  for (int o = 0; o < outputs; ++o) outs.push_back(g->add_value("y" + std::to_string(o)));
  graph::Node* n = g->add_node(op, "", ins, outs, op + "_0");
  n->attributes = std::move(attrs);
  g->outputs() = outs;
  return dev::make_model(g);
}

// Compiles and runs the case on CPU and REF and compares; `where` names op, seed, shapes and attributes.
void check(const Case& c, int seed) {
  const std::string where = c.op + " seed " + std::to_string(seed) + ": " + c.what;
  SCOPED_TRACE(where);
  static Core core;
  std::vector<std::vector<Tensor>> results;
  std::vector<ProfilingInfo> profile;
  for (const std::string device : {"CPU", "REF"}) {
    try {
      CompiledModel compiled = core.compile_model(
          c.model, device, device == "CPU" ? AnyMap{{"ENABLE_PROFILING", true}} : AnyMap{});
      InferRequest request = compiled.create_infer_request();
      for (size_t i = 0; i < c.inputs.size(); ++i) request.set_input_tensor(i, c.inputs[i]);
      request.infer();
      std::vector<Tensor> outs;
      for (size_t o = 0; o < compiled.outputs().size(); ++o)
        outs.push_back(request.get_output_tensor(o).clone());
      results.push_back(outs);
      if (device == "CPU") profile = request.get_profiling_info();
    } catch (const std::exception& e) {
      ADD_FAILURE() << device << " threw: " << e.what();
      return;
    }
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t o = 0; o < results[0].size(); ++o) {
    const Tensor& cpu = results[0][o];
    const Tensor& ref = results[1][o];
    ASSERT_EQ(cpu.type(), ref.type()) << "output " << o;
    ASSERT_EQ(cpu.shape(), ref.shape()) << "output " << o;
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < ref.size(); ++i) {
      const double r = as_double(ref, i), v = as_double(cpu, i);
      const bool ok = (std::isnan(r) && std::isnan(v)) || v == r ||
                      (c.rtol + c.atol > 0 && std::fabs(v - r) <= c.atol + c.rtol * std::fabs(r));
      if (!ok && bad++ == 0) first = i;
    }
    EXPECT_EQ(bad, 0) << "output " << o << ": " << bad << " of " << ref.size()
                      << " elements differ; first at " << first << ": cpu "
                      << (first >= 0 ? as_double(cpu, first) : 0) << " ref "
                      << (first >= 0 ? as_double(ref, first) : 0) << " (rtol " << c.rtol << ", atol "
                      << c.atol << ")";
  }
  int seen = 0;
  for (const ProfilingInfo& p : profile) {
    // By name too: a pass may rewrite the node under its name (Gemm with constant B -> FusedMatMul).
    if (p.node_type != c.op && p.node_name.rfind(c.op + "_", 0) != 0) continue;
    ++seen;
    if (c.fallback_ok.empty())
      EXPECT_NE(p.exec_type, "ref") << p.node_name << " (" << p.node_type
                                    << ") ran on the reference fallback";
  }
  if (!c.may_vanish && c.fallback_ok.empty()) {
    std::string steps;
    for (const ProfilingInfo& p : profile)
      steps += " " + p.node_name + "(" + p.node_type + ":" + p.exec_type + ")";
    EXPECT_GT(seen, 0) << "no profile entry for the node; steps:" << steps;
  }
}

using Generator = std::function<Case(Rng&)>;

// Runs `cases` random cases of each generator, seeds base, base+1, ...
void run_all(const std::vector<std::pair<std::string, Generator>>& gens, int cases, int base) {
  for (const auto& [name, gen] : gens) {
    for (int k = 0; k < cases; ++k) {
      const int seed = base + k;
      Rng rng(static_cast<unsigned>(seed * 7919 + std::hash<std::string>()(name) % 1000));
      Case c = gen(rng);
      check(c, seed);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

std::string attr_str(const Attrs& attrs) {
  std::ostringstream os;
  for (const auto& [k, v] : attrs) {
    os << " " << k << "=";
    if (auto* i = std::get_if<int64_t>(&v))
      os << *i;
    else if (auto* f = std::get_if<float>(&v))
      os << *f;
    else if (auto* s = std::get_if<std::string>(&v))
      os << *s;
    else if (auto* vi = std::get_if<std::vector<int64_t>>(&v))
      os << str(*vi);
    else
      os << "?";
  }
  return os.str();
}

// ----------------------------------------------------------------------------------------------- elementwise

enum class Values { any, positive, nonzero, small_ints };

Case binary_case(Rng& rng, const std::string& op, std::vector<ET> types, double rtol) {
  const ET type = types[static_cast<size_t>(pick(rng, static_cast<int>(types.size())))];
  Shape a = random_shape(rng, 0, 5, true), b = broadcast_of(rng, a);
  if (coin(rng)) std::swap(a, b);
  Tensor ta, tb;
  if (op == "Pow") {
    ta = random_tensor(type, a, rng, 0.1, 3);
    tb = random_tensor(type, b, rng, -2, 2);
  } else if (op == "Div") {
    ta = random_tensor(type, a, rng, -20, 20);
    tb = random_tensor(type, b, rng, 0.5, 9);
    for (int64_t i = 0; i < tb.size(); ++i) {  // nonzero divisors of either sign
      if (coin(rng)) {
        if (type == ET::f32) tb.data<float>()[i] *= -1;
        if (type == ET::i32) tb.data<int32_t>()[i] *= -1;
        if (type == ET::i64) tb.data<int64_t>()[i] *= -1;
      }
    }
  } else if (type == ET::f32 && (op == "Equal" || op == "LessOrEqual" || op == "GreaterOrEqual")) {
    // Integral floats, so that equal elements occur.
    ta = random_tensor(ET::i32, a, rng, -2, 2);
    tb = random_tensor(ET::i32, b, rng, -2, 2);
    Tensor fa(ET::f32, a), fb(ET::f32, b);
    for (int64_t i = 0; i < ta.size(); ++i) fa.data<float>()[i] = static_cast<float>(ta.data<int32_t>()[i]);
    for (int64_t i = 0; i < tb.size(); ++i) fb.data<float>()[i] = static_cast<float>(tb.data<int32_t>()[i]);
    ta = fa;
    tb = fb;
  } else {
    ta = random_tensor(type, a, rng, -20, 20);
    tb = random_tensor(type, b, rng, -20, 20);
  }
  Builder bld;
  graph::Value* y =
      bld.node(op, {bld.input("a", PartialShape(a), type), bld.input("b", PartialShape(b), type)});
  Case c{op, std::string(to_string(type)) + " a " + str(a) + " b " + str(b), bld.finish({y}), {ta, tb}};
  if (type == ET::f32) c.rtol = rtol;
  return c;
}

Case variadic_case(Rng& rng, const std::string& op) {
  const ET type = (op == "Max" || op == "Min") && coin(rng) ? ET::i32 : ET::f32;
  const Shape full = random_shape(rng, 0, 5, true);
  const int n = 1 + pick(rng, 3);
  Builder bld;
  std::vector<graph::Value*> ins;
  Case c{op, std::string(to_string(type))};
  for (int i = 0; i < n; ++i) {
    const Shape s = broadcast_of(rng, full);
    ins.push_back(bld.input("x" + std::to_string(i), PartialShape(s), type));
    c.inputs.push_back(random_tensor(type, s, rng, -10, 10));
    c.what += " x" + std::to_string(i) + " " + str(s);
  }
  c.model = bld.finish({bld.node(op, ins)});
  if (n != 2) c.fallback_ok = "the CPU's variadic kernels take exactly two inputs";
  if (type == ET::f32) c.rtol = 1e-6, c.atol = 1e-6;  // Sum/Mean of three: the order of additions
  return c;
}

struct UnarySpec {
  std::string op;
  double lo = -4, hi = 4;
  std::vector<ET> types = {ET::f32};
};

Case unary_case(Rng& rng, const UnarySpec& u) {
  const ET type = u.types[static_cast<size_t>(pick(rng, static_cast<int>(u.types.size())))];
  const Shape s = random_shape(rng, 0, 5, true, 9);
  Attrs attrs;
  auto real = [&](double lo, double hi) {
    return static_cast<float>(std::uniform_real_distribution<>(lo, hi)(rng));
  };
  if (u.op == "LeakyRelu" || u.op == "Elu") attrs["alpha"] = real(0.01, 1.5);
  if (u.op == "Selu") attrs = {{"alpha", real(1, 2)}, {"gamma", real(0.5, 1.5)}};
  if (u.op == "HardSigmoid") attrs = {{"alpha", real(0.1, 0.5)}, {"beta", real(0.2, 0.8)}};
  if (u.op == "Gelu" && coin(rng)) attrs["approximate"] = std::string("tanh");
  Tensor x = random_tensor(type, s, rng, u.lo, u.hi);
  if (u.op == "Reciprocal") {
    for (float& v : x.values<float>()) v = v < 0 ? v - 0.25f : v + 0.25f;
  }
  Case c{u.op, std::string(to_string(type)) + " x " + str(s) + attr_str(attrs)};
  if (u.op == "Gelu" || u.op == "Mish") {  // opsets 20 and 18; test::Builder imports 17
    c.model = one_node_model(u.op, u.op == "Gelu" ? 20 : 18, {{s, type}}, {}, attrs, 1);
  } else {
    Builder bld;
    c.model = bld.finish({bld.node(u.op, {bld.input("x", PartialShape(s), type)}, attrs)});
  }
  c.inputs = {x};
  if (type == ET::f32) c.rtol = 1e-5, c.atol = 1e-6;
  return c;
}

Case clip_case(Rng& rng) {
  const ET type = coin(rng, 3) ? ET::i32 : ET::f32;
  const Shape s = random_shape(rng, 0, 5, true, 9);
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("x", PartialShape(s), type)};
  const int form = pick(rng, 4);  // no bounds, min only, max only, both
  Case c{"Clip", std::string(to_string(type)) + " x " + str(s)};
  c.inputs.push_back(random_tensor(type, s, rng, -5, 5));
  const double lo = std::uniform_real_distribution<>(-3, 0)(rng),
               hi = std::uniform_real_distribution<>(0, 3)(rng);
  auto bound = [&](double v) {
    return type == ET::f32 ? Tensor::scalar(static_cast<float>(v))
                           : Tensor::scalar(static_cast<int32_t>(std::lround(v)));
  };
  const bool runtime = coin(rng);  // bounds as graph inputs rather than constants
  auto add_bound = [&](const std::string& name, double v) {
    if (!runtime) return bld.constant(bound(v));
    c.inputs.push_back(bound(v));
    return bld.input(name, PartialShape(Shape{}), type);
  };
  if (form == 1 || form == 3) ins.push_back(add_bound("min", lo));
  if (form == 2) ins.push_back(nullptr);
  if (form >= 2) ins.push_back(add_bound("max", hi));
  c.what += " form " + std::to_string(form) + " min " + std::to_string(lo) + " max " + std::to_string(hi) +
            (runtime ? " runtime bounds" : " constant bounds");
  c.model = bld.finish({bld.node("Clip", ins)});
  return c;
}

Case where_case(Rng& rng) {
  const ET type = coin(rng) ? ET::i64 : ET::f32;
  const Shape full = random_shape(rng, 0, 5, true);
  const Shape sc = broadcast_of(rng, full), sx = broadcast_of(rng, full), sy = broadcast_of(rng, full);
  Builder bld;
  graph::Value* y =
      bld.node("Where", {bld.input("c", PartialShape(sc), ET::boolean),
                         bld.input("x", PartialShape(sx), type), bld.input("y", PartialShape(sy), type)});
  return Case{
      "Where",
      std::string(to_string(type)) + " cond " + str(sc) + " x " + str(sx) + " y " + str(sy),
      bld.finish({y}),
      {random_tensor(ET::boolean, sc, rng), random_tensor(type, sx, rng), random_tensor(type, sy, rng)}};
}

int64_t onnx_code(ET type) {  // TensorProto.DataType
  switch (type) {
    case ET::f32: return 1;
    case ET::u8: return 2;
    case ET::i8: return 3;
    case ET::i32: return 6;
    case ET::i64: return 7;
    case ET::boolean: return 9;
    case ET::f16: return 10;
    default: ADD_FAILURE() << "onnx_code: " << to_string(type); return 0;
  }
}

Case cast_case(Rng& rng, bool like) {
  const std::vector<ET> types = {ET::f32, ET::f16, ET::i32, ET::i64, ET::u8, ET::i8, ET::boolean};
  const ET from = types[static_cast<size_t>(pick(rng, 7))], to = types[static_cast<size_t>(pick(rng, 7))];
  const Shape s = random_shape(rng, 0, 5, true, 9);
  // Values every target type holds (no out-of-range float-to-int conversions, which are undefined).
  Tensor x = random_tensor(from, s, rng, 0, 100);
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("x", PartialShape(s), from)};
  if (like) ins.push_back(bld.constant(Tensor(to, {1})));
  Attrs attrs;
  if (!like) attrs["to"] = onnx_code(to);
  return Case{like ? "CastLike" : "Cast",
              std::string(to_string(from)) + " -> " + std::string(to_string(to)) + " x " + str(s),
              bld.finish({bld.node(like ? "CastLike" : "Cast", ins, attrs)}),
              {x}};
}

TEST(CpuVsRefRandom, ElementwiseBinary) {
  std::vector<std::pair<std::string, Generator>> gens;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    gens.push_back({op, [op](Rng& r) { return binary_case(r, op, {ET::f32, ET::i32, ET::i64}, 1e-6); }});
  }
  gens.push_back({"Pow", [](Rng& r) { return binary_case(r, "Pow", {ET::f32}, 1e-5); }});
  for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) {
    gens.push_back({op, [op](Rng& r) { return binary_case(r, op, {ET::f32, ET::i32, ET::i64}, 0); }});
  }
  for (const char* op : {"And", "Or", "Xor"}) {
    gens.push_back({op, [op](Rng& r) { return binary_case(r, op, {ET::boolean}, 0); }});
  }
  for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
    gens.push_back({op, [op](Rng& r) { return variadic_case(r, op); }});
  }
  run_all(gens, 8, 1);
}

TEST(CpuVsRefRandom, ElementwiseUnary) {
  const std::vector<UnarySpec> specs = {{"Relu", -4, 4, {ET::f32, ET::i32}},
                                        {"LeakyRelu"},
                                        {"Sigmoid", -10, 10},
                                        {"Tanh", -6, 6},
                                        {"Exp", -10, 10},
                                        {"Log", 0.01, 50},
                                        {"Sqrt", 0, 50},
                                        {"Neg", -4, 4, {ET::f32, ET::i32, ET::i64}},
                                        {"Abs", -4, 4, {ET::f32, ET::i32, ET::i64}},
                                        {"Erf"},
                                        {"Reciprocal"},
                                        {"Floor"},
                                        {"Ceil"},
                                        {"Sin", -10, 10},
                                        {"Cos", -10, 10},
                                        {"Softplus", -10, 10},
                                        {"Elu"},
                                        {"Selu"},
                                        {"HardSigmoid"},
                                        {"HardSwish"},
                                        {"Gelu"},
                                        {"Sign", -4, 4, {ET::f32, ET::i32}},
                                        {"Mish", -10, 10},
                                        {"Not", 0, 1, {ET::boolean}}};
  std::vector<std::pair<std::string, Generator>> gens;
  for (const auto& u : specs) gens.push_back({u.op, [u](Rng& r) { return unary_case(r, u); }});
  gens.push_back({"Clip", clip_case});
  gens.push_back({"Where", where_case});
  gens.push_back({"Cast", [](Rng& r) { return cast_case(r, false); }});
  gens.push_back({"CastLike", [](Rng& r) { return cast_case(r, true); }});
  run_all(gens, 6, 100);
}

// ------------------------------------------------------------------------------------------ normalization

Case softmax_case(Rng& rng, const std::string& op) {
  const Shape s = random_shape(rng, 1, 5, true, 9);
  const int64_t r = static_cast<int64_t>(s.size());
  const Attrs attrs{{"axis", pick_in(rng, -r, r - 1)}};
  Builder bld;
  return Case{op,
              "x " + str(s) + attr_str(attrs),
              bld.finish({bld.node(op, {bld.input("x", PartialShape(s))}, attrs)}),
              {random_tensor(ET::f32, s, rng, -8, 8)},
              1e-5,
              1e-6};
}

Case layer_norm_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 5, true, 9);
  const int64_t r = static_cast<int64_t>(s.size());
  const int64_t axis = pick_in(rng, -r, r - 1);
  const Shape norm(s.begin() + (axis < 0 ? axis + r : axis), s.end());
  Attrs attrs{{"axis", axis}, {"epsilon", static_cast<float>(std::pow(10.0, -pick_in(rng, 3, 6)))}};
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("x", PartialShape(s)),
                                 bld.constant(random_tensor(ET::f32, norm, rng))};
  const bool bias = coin(rng);
  if (bias) ins.push_back(bld.constant(random_tensor(ET::f32, norm, rng)));
  Case c{"LayerNormalization",
         "x " + str(s) + " scale " + str(norm) + (bias ? " bias" : " no bias") + attr_str(attrs),
         bld.finish({bld.node("LayerNormalization", ins, attrs)}),
         {random_tensor(ET::f32, s, rng, -3, 3)},
         1e-4,
         1e-5};
  return c;
}

TEST(CpuVsRefRandom, Normalization) {
  run_all({{"Softmax", [](Rng& r) { return softmax_case(r, "Softmax"); }},
           {"LogSoftmax", [](Rng& r) { return softmax_case(r, "LogSoftmax"); }},
           {"LayerNormalization", layer_norm_case}},
          10, 200);
}

// ---------------------------------------------------------------------------------------------- reduction

// Distinct random axes of a rank-r tensor, as given (negative or not).
std::vector<int64_t> random_axes(Rng& rng, int64_t r, int64_t min_count) {
  std::vector<int64_t> all(static_cast<size_t>(r));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<size_t>(pick_in(rng, std::min(min_count, r), r)));
  for (auto& a : all) {
    if (coin(rng)) a -= r;
  }
  return all;
}

Case reduce_case(Rng& rng, const std::string& op) {
  const bool ints = (op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin") && coin(rng, 3);
  const ET type = ints ? ET::i64 : ET::f32;
  const bool extreme = op == "ReduceMax" || op == "ReduceMin";
  Shape s = random_shape(rng, 0, 5, !extreme, 6);
  const int64_t r = static_cast<int64_t>(s.size());
  std::vector<int64_t> axes = random_axes(rng, r, 0);
  Attrs attrs{{"keepdims", static_cast<int64_t>(pick(rng, 2))}};
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("x", PartialShape(s), type)};
  const bool omit_axes = axes.empty() && coin(rng);
  if (op == "ReduceSum") {  // axes is an input from opset 13
    if (coin(rng, 3)) attrs["noop_with_empty_axes"] = int64_t{1};
    if (!omit_axes) ins.push_back(bld.constant(i64s(axes)));
  } else if (!omit_axes && !axes.empty()) {
    attrs["axes"] = axes;
  }
  Case c{op,
         std::string(to_string(type)) + " x " + str(s) +
             (omit_axes ? " axes omitted" : " axes " + str(axes)) + attr_str(attrs),
         bld.finish({bld.node(op, ins, attrs)}),
         {random_tensor(type, s, rng, op == "ReduceProd" ? 0.5 : -3, op == "ReduceProd" ? 1.5 : 3)}};
  if (type == ET::f32) c.rtol = 1e-5, c.atol = 1e-5;
  return c;
}

Case arg_case(Rng& rng, const std::string& op) {
  Shape s = random_shape(rng, 1, 5, true, 6);
  const int64_t r = static_cast<int64_t>(s.size());
  const int64_t axis = pick_in(rng, -r, r - 1);
  // An empty reduced axis is an error on both devices; an empty other axis is fine.
  auto& extent = s[static_cast<size_t>(axis < 0 ? axis + r : axis)];
  if (extent == 0) extent = 2;
  Attrs attrs{{"axis", axis},
              {"keepdims", static_cast<int64_t>(pick(rng, 2))},
              {"select_last_index", static_cast<int64_t>(pick(rng, 2))}};
  Tensor x = random_tensor(ET::f32, s, rng, -2, 2);
  for (float& v : x.values<float>()) v = std::round(v);  // ties
  Builder bld;
  return Case{op,
              "x " + str(s) + attr_str(attrs),
              bld.finish({bld.node(op, {bld.input("x", PartialShape(s))}, attrs)}),
              {x}};
}

TEST(CpuVsRefRandom, Reduction) {
  std::vector<std::pair<std::string, Generator>> gens;
  for (const char* op :
       {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceSumSquare"}) {
    gens.push_back({op, [op](Rng& r) { return reduce_case(r, op); }});
  }
  for (const char* op : {"ArgMax", "ArgMin"}) gens.push_back({op, [op](Rng& r) { return arg_case(r, op); }});
  run_all(gens, 10, 300);
}

// ------------------------------------------------------------------------------------------ data movement

ET random_dm_type(Rng& rng) {
  const ET types[] = {ET::f32, ET::i64, ET::u8, ET::f16, ET::boolean, ET::i32};
  return types[pick(rng, 6)];
}

Case single(const std::string& op, const std::string& what, const Shape& s, ET type, Rng& rng,
            std::vector<Tensor> constants, Attrs attrs) {
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("x", PartialShape(s), type)};
  for (const Tensor& t : constants) ins.push_back(t ? bld.constant(t) : nullptr);
  return Case{op,
              std::string(to_string(type)) + " x " + str(s) + " " + what + attr_str(attrs),
              bld.finish({bld.node(op, ins, attrs)}),
              {random_tensor(type, s, rng, -50, 50)}};
}

Case view_case(Rng& rng, const std::string& op) {
  const ET type = random_dm_type(rng);
  Shape s = random_shape(rng, 0, 5, true);
  const int64_t r = static_cast<int64_t>(s.size());
  if (op == "Identity") {
    Case c = single(op, "", s, type, rng, {}, {});
    c.may_vanish = true;  // RemoveIdentityPass
    return c;
  }
  if (op == "Flatten") {
    return single(op, "", s.empty() ? Shape{3} : s, type, rng, {},
                  {{"axis", pick_in(rng, -std::max<int64_t>(r, 1), std::max<int64_t>(r, 1))}});
  }
  if (op == "Reshape") {
    // The same dims shuffled, adjacent ones merged at random, one maybe -1 (not with a zero dim).
    Shape t = s;
    std::shuffle(t.begin(), t.end(), rng);
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      if (coin(rng, 3)) {
        t[i] *= t[i + 1];
        t.erase(t.begin() + static_cast<long>(i) + 1);
      }
    }
    if (coin(rng, 3)) t.push_back(1);
    Attrs attrs;
    if (has_zero(t))
      attrs["allowzero"] = int64_t{1};
    else if (!t.empty() && coin(rng))
      t[static_cast<size_t>(pick(rng, static_cast<int>(t.size())))] = -1;
    return single(op, "shape " + str(t), s, type, rng, {i64s(t)}, attrs);
  }
  if (op == "Squeeze") {
    for (auto& d : s) {
      if (coin(rng, 3)) d = 1;
    }
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < r; ++i) {
      if (s[static_cast<size_t>(i)] == 1 && coin(rng)) axes.push_back(coin(rng) ? i : i - r);
    }
    if (axes.empty() && coin(rng)) return single(op, "no axes", s, type, rng, {}, {});
    return single(op, "axes " + str(axes), s, type, rng, {i64s(axes)}, {});
  }
  // Unsqueeze
  const int64_t n = pick_in(rng, 1, 6 - std::min<int64_t>(r, 5));
  std::vector<int64_t> pos(static_cast<size_t>(r + n));
  std::iota(pos.begin(), pos.end(), 0);
  std::shuffle(pos.begin(), pos.end(), rng);
  pos.resize(static_cast<size_t>(n));
  for (auto& a : pos) {
    if (coin(rng)) a -= r + n;
  }
  return single(op, "axes " + str(pos), s, type, rng, {i64s(pos)}, {});
}

Case transpose_case(Rng& rng) {
  const Shape s = random_shape(rng, 0, 5, true);
  std::vector<int64_t> perm(s.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);
  Attrs attrs;
  if (!coin(rng, 4)) attrs["perm"] = perm;
  return single("Transpose", "", s, random_dm_type(rng), rng, {}, attrs);
}

Case gather_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 4, true);
  const int64_t r = static_cast<int64_t>(s.size());
  const int64_t axis = pick_in(rng, -r, r - 1);
  const int64_t n = s[static_cast<size_t>(axis < 0 ? axis + r : axis)];
  Shape is = random_shape(rng, 0, 2, true, 4);
  if (n == 0 && !is.empty()) is[0] = 0;  // no valid index into an empty axis
  if (n == 0 && is.empty()) is = {0};
  const ET itype = coin(rng) ? ET::i64 : ET::i32;
  Tensor idx(itype, is);
  for (int64_t i = 0; i < idx.size(); ++i) {
    const int64_t v = pick_in(rng, -n, n - 1);
    if (itype == ET::i64)
      idx.data<int64_t>()[i] = v;
    else
      idx.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  const ET type = random_dm_type(rng);
  Builder bld;
  const bool runtime = coin(rng);  // indices as a graph input rather than a constant
  graph::Value* x = bld.input("x", PartialShape(s), type);
  graph::Value* i = runtime ? bld.input("i", PartialShape(is), itype) : bld.constant(idx);
  const Attrs attrs{{"axis", axis}};
  Case c{"Gather",
         std::string(to_string(type)) + " x " + str(s) + " indices " + std::string(to_string(itype)) +
             str(is) + (runtime ? " at run time" : " constant") + attr_str(attrs),
         bld.finish({bld.node("Gather", {x, i}, attrs)}),
         {random_tensor(type, s, rng, -50, 50)}};
  if (runtime) c.inputs.push_back(idx);
  return c;
}

Case concat_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 5, true);
  const int64_t r = static_cast<int64_t>(s.size());
  const int64_t axis = pick_in(rng, -r, r - 1);
  const ET type = random_dm_type(rng);
  const int n = 1 + pick(rng, 4);
  Builder bld;
  std::vector<graph::Value*> ins;
  Case c{"Concat", std::string(to_string(type)) + " axis " + std::to_string(axis)};
  for (int k = 0; k < n; ++k) {
    Shape p = s;
    p[static_cast<size_t>(axis < 0 ? axis + r : axis)] = pick_in(rng, 0, 4);
    ins.push_back(bld.input("x" + std::to_string(k), PartialShape(p), type));
    c.inputs.push_back(random_tensor(type, p, rng, -50, 50));
    c.what += " x" + std::to_string(k) + " " + str(p);
  }
  c.model = bld.finish({bld.node("Concat", ins, {{"axis", axis}})});
  return c;
}

Case split_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 5, true);
  const int64_t r = static_cast<int64_t>(s.size());
  const int64_t axis = pick_in(rng, -r, r - 1);
  const int64_t n = s[static_cast<size_t>(axis < 0 ? axis + r : axis)];
  const ET type = random_dm_type(rng);
  // Opset 17: sizes as an input (random parts summing to n), or equal parts without it.
  std::vector<int64_t> parts;
  int64_t left = n;
  while (left > 0 && parts.size() < 4) {
    parts.push_back(pick_in(rng, 0, left));
    left -= parts.back();
  }
  if (left > 0 || parts.empty()) parts.push_back(left);
  const bool equal = coin(rng, 3) && n % 2 == 0;
  if (equal) parts = {n / 2, n / 2};
  const Attrs attrs{{"axis", axis}};
  Model m = one_node_model("Split", 17, {{s, type}},
                           equal ? std::vector<Tensor>{} : std::vector<Tensor>{i64s(parts)}, attrs,
                           static_cast<int>(parts.size()));
  return Case{"Split",
              std::string(to_string(type)) + " x " + str(s) +
                  (equal ? " equal halves" : " split " + str(parts)) + attr_str(attrs),
              m,
              {random_tensor(type, s, rng, -50, 50)}};
}

Case slice_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 5, true, 7);
  const int64_t r = static_cast<int64_t>(s.size());
  std::vector<int64_t> axes = random_axes(rng, r, 1), starts, ends, steps;
  for (int64_t a : axes) {
    const int64_t n = s[static_cast<size_t>(a < 0 ? a + r : a)];
    const int64_t step = std::vector<int64_t>{-3, -2, -1, 1, 1, 2, 3}[static_cast<size_t>(pick(rng, 7))];
    starts.push_back(pick_in(rng, -n - 2, n + 2));
    ends.push_back(coin(rng, 5) ? (step > 0 ? INT64_MAX : INT64_MIN) : pick_in(rng, -n - 2, n + 2));
    steps.push_back(step);
  }
  const int form = pick(rng, 3);  // starts+ends; +axes; +axes+steps
  std::vector<Tensor> cs{i64s(starts), i64s(ends)};
  if (form >= 1) cs.push_back(i64s(axes));
  if (form == 2) cs.push_back(i64s(steps));
  return single("Slice",
                "starts " + str(starts) + " ends " + str(ends) + (form >= 1 ? " axes " + str(axes) : "") +
                    (form == 2 ? " steps " + str(steps) : ""),
                s, random_dm_type(rng), rng, cs, {});
}

Case expand_case(Rng& rng) {
  const Shape t = random_shape(rng, 0, 5, true);
  Shape s = broadcast_of(rng, t), shape = t;
  // Expand broadcasts both ways: the shape input may have 1 where the input has its dim.
  for (size_t i = 0; i < s.size(); ++i) {
    if (coin(rng, 4)) shape[shape.size() - s.size() + i] = 1;
  }
  return single("Expand", "shape " + str(shape), s, random_dm_type(rng), rng, {i64s(shape)}, {});
}

Case tile_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 5, true, 4);
  std::vector<int64_t> reps;
  for (size_t i = 0; i < s.size(); ++i) reps.push_back(coin(rng, 8) ? 0 : pick_in(rng, 1, 3));
  return single("Tile", "repeats " + str(reps), s, random_dm_type(rng), rng, {i64s(reps)}, {});
}

Case pad_case(Rng& rng) {
  const Shape s = random_shape(rng, 1, 5, true, 5);
  const ET type = coin(rng) ? ET::f32 : ET::i64;
  std::vector<int64_t> pads(2 * s.size());
  for (size_t i = 0; i < pads.size(); ++i) {
    const int64_t d = s[i % s.size()];
    pads[i] = d >= 3 && coin(rng, 4) ? -1 : pick_in(rng, 0, 2);
  }
  std::vector<Tensor> cs{i64s(pads)};
  std::string what = "pads " + str(pads);
  if (coin(rng)) {
    cs.push_back(type == ET::f32 ? Tensor::scalar(1.5f) : Tensor::scalar(int64_t{7}));
    what += " constant_value given";
  }
  return single("Pad", what, s, type, rng, cs, {{"mode", std::string("constant")}});
}

Case resize_case(Rng& rng) {
  const Shape s{pick_in(rng, 1, 2), pick_in(rng, 1, 3), pick_in(rng, 1, 7), pick_in(rng, 1, 7)};
  const bool linear = coin(rng);
  const ET type = linear ? ET::f32 : random_dm_type(rng);
  const char* coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
  const char* nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  Attrs attrs{{"mode", std::string(linear ? "linear" : "nearest")},
              {"coordinate_transformation_mode", std::string(coords[pick(rng, 4)])}};
  if (!linear) attrs["nearest_mode"] = std::string(nearest[pick(rng, 4)]);
  const float scale_set[] = {0.5f, 1, 1.5f, 2, 3, 0.7f};
  std::vector<Tensor> cs{Tensor()};  // no roi
  std::string what;
  if (coin(rng)) {
    const std::vector<float> scales{1, 1, scale_set[pick(rng, 6)], scale_set[pick(rng, 6)]};
    cs.push_back(f32s(scales));
    what = "scales " + str(scales);
  } else {
    const std::vector<int64_t> sizes{s[0], s[1], pick_in(rng, 1, 12), pick_in(rng, 1, 12)};
    cs.push_back(Tensor());
    cs.push_back(i64s(sizes));
    what = "sizes " + str(sizes);
  }
  Case c = single("Resize", what, s, type, rng, cs, attrs);
  if (linear) c.rtol = 1e-5, c.atol = 1e-5;
  return c;
}

TEST(CpuVsRefRandom, DataMovement) {
  std::vector<std::pair<std::string, Generator>> gens;
  for (const char* op : {"Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze"}) {
    gens.push_back({op, [op](Rng& r) { return view_case(r, op); }});
  }
  gens.push_back({"Transpose", transpose_case});
  gens.push_back({"Gather", gather_case});
  gens.push_back({"Concat", concat_case});
  gens.push_back({"Split", split_case});
  gens.push_back({"Slice", slice_case});
  gens.push_back({"Expand", expand_case});
  gens.push_back({"Tile", tile_case});
  gens.push_back({"Pad", pad_case});
  gens.push_back({"Resize", resize_case});
  run_all(gens, 10, 400);
}

// ------------------------------------------------------------------------------------------------- oneDNN

Case conv_case(Rng& rng) {
  const int64_t dims = pick_in(rng, 1, 3);
  const int64_t group = coin(rng, 3) ? pick_in(rng, 2, 3) : 1;
  const int64_t cin = group * pick_in(rng, 1, 3), cout = group * pick_in(rng, 1, 3);
  Shape x{pick_in(rng, 1, 2), cin}, w{cout, cin / group};
  std::vector<int64_t> k, strides, pads(static_cast<size_t>(2 * dims)), dil;
  for (int64_t d = 0; d < dims; ++d) {
    k.push_back(pick_in(rng, 1, 3));
    strides.push_back(pick_in(rng, 1, 2));
    dil.push_back(pick_in(rng, 1, 2));
    pads[static_cast<size_t>(d)] = pick_in(rng, 0, 1);
    pads[static_cast<size_t>(d + dims)] = pick_in(rng, 0, 1);
    w.push_back(k.back());
    x.push_back(pick_in(rng, dil.back() * (k.back() - 1) + 1, dims == 3 ? 6 : 9));
  }
  Attrs attrs{{"group", group}, {"strides", strides}, {"pads", pads}, {"dilations", dil}};
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("x", PartialShape(x)),
                                 bld.constant(random_tensor(ET::f32, w, rng, -1, 1))};
  const bool bias = coin(rng);
  if (bias) ins.push_back(bld.constant(random_tensor(ET::f32, {cout}, rng)));
  return Case{"Conv",
              "x " + str(x) + " w " + str(w) + (bias ? " bias" : "") + attr_str(attrs),
              bld.finish({bld.node("Conv", ins, attrs)}),
              {random_tensor(ET::f32, x, rng, -1, 1)},
              1e-4,
              1e-4};
}

Case pool_case(Rng& rng, const std::string& op) {
  const int64_t dims = pick_in(rng, 1, 3);
  Shape x{pick_in(rng, 1, 2), pick_in(rng, 1, 4)};
  std::vector<int64_t> k, strides, pads(static_cast<size_t>(2 * dims));
  for (int64_t d = 0; d < dims; ++d) {
    k.push_back(pick_in(rng, 1, 3));
    strides.push_back(pick_in(rng, 1, 2));
    x.push_back(pick_in(rng, k.back() + 1, dims == 3 ? 6 : 9));
    // Pads smaller than the kernel, as ONNX requires.
    pads[static_cast<size_t>(d)] = pick_in(rng, 0, k.back() - 1);
    pads[static_cast<size_t>(d + dims)] = pick_in(rng, 0, k.back() - 1);
  }
  Attrs attrs;
  if (op == "MaxPool" || op == "AveragePool") {
    attrs = {{"kernel_shape", k}, {"strides", strides}, {"pads", pads}};
    if (op == "AveragePool") attrs["count_include_pad"] = static_cast<int64_t>(pick(rng, 2));
  }
  Builder bld;
  return Case{op,
              "x " + str(x) + attr_str(attrs),
              bld.finish({bld.node(op, {bld.input("x", PartialShape(x))}, attrs)}),
              {random_tensor(ET::f32, x, rng, -2, 2)},
              1e-5,
              1e-6};
}

Case matmul_case(Rng& rng) {
  // An empty M or K now and then (K = 0 gives zeros).
  const int64_t m = coin(rng, 8) ? 0 : pick_in(rng, 1, 9), k = coin(rng, 8) ? 0 : pick_in(rng, 1, 9),
                n = pick_in(rng, 1, 9);
  const Shape batch = random_shape(rng, 0, 2, false, 3);
  Shape a = broadcast_of(rng, batch), b = broadcast_of(rng, batch);
  a.push_back(m);
  a.push_back(k);
  b.push_back(k);
  b.push_back(n);
  if (coin(rng, 4)) {
    a = {k};  // vector operands
  } else if (coin(rng, 4)) {
    b = {k};
  }
  const bool constant_b = coin(rng);
  Builder bld;
  Tensor tb = random_tensor(ET::f32, b, rng, -1, 1);
  graph::Value* va = bld.input("a", PartialShape(a));
  graph::Value* vb = constant_b ? bld.constant(tb) : bld.input("b", PartialShape(b));
  Case c{"MatMul",
         "a " + str(a) + " b " + str(b) + (constant_b ? " (constant)" : ""),
         bld.finish({bld.node("MatMul", {va, vb})}),
         {random_tensor(ET::f32, a, rng, -1, 1)},
         1e-4,
         1e-4};
  if (!constant_b) c.inputs.push_back(tb);
  if (a.size() < 2 || b.size() < 2) c.fallback_ok = "a 1-D operand: the oneDNN kernel takes rank >= 2 only";
  if (has_zero(a) || has_zero(b))
    c.fallback_ok = "an empty operand: the oneDNN kernel declines empty tensors";
  return c;
}

Case gemm_case(Rng& rng) {
  const int64_t m = pick_in(rng, 1, 9), k = pick_in(rng, 1, 9), n = pick_in(rng, 1, 9);
  const int64_t ta = pick(rng, 2), tb = pick(rng, 2);
  const Shape a = ta ? Shape{k, m} : Shape{m, k}, b = tb ? Shape{n, k} : Shape{k, n};
  Attrs attrs{{"transA", ta}, {"transB", tb}};
  if (coin(rng)) attrs["alpha"] = 0.5f;
  if (coin(rng)) attrs["beta"] = 2.0f;
  Builder bld;
  std::vector<graph::Value*> ins{bld.input("a", PartialShape(a)),
                                 bld.constant(random_tensor(ET::f32, b, rng, -1, 1))};
  Shape cs;
  const bool has_c = !coin(rng, 3);
  if (has_c) {
    cs = broadcast_of(rng, Shape{m, n});
    ins.push_back(bld.constant(random_tensor(ET::f32, cs, rng)));
  }
  Case c{"Gemm",
         "a " + str(a) + " b " + str(b) + (has_c ? " c " + str(cs) : " no c") + attr_str(attrs),
         bld.finish({bld.node("Gemm", ins, attrs)}),
         {random_tensor(ET::f32, a, rng, -1, 1)},
         1e-4,
         1e-4};
  // The oneDNN kernel adds C as a bias: [N] or [1, N] only.
  if (has_c && !(cs == Shape{n} || cs == Shape{1, n})) c.fallback_ok = "C of shape other than [N], [1, N]";
  return c;
}

TEST(CpuVsRefRandom, OneDnn) {
  std::vector<std::pair<std::string, Generator>> gens{
      {"Conv", conv_case}, {"MatMul", matmul_case}, {"Gemm", gemm_case}};
  for (const char* op : {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}) {
    gens.push_back({op, [op](Rng& r) { return pool_case(r, op); }});
  }
  run_all(gens, 10, 500);
}

}  // namespace
}  // namespace sluice
