// RNN, GRU and LSTM (opset 7 and 14, which adds the `layout` attribute; 22 only widens the types).
//
// The reference kernels compute in double: per direction, per batch entry, per time step, following the
// ONNX equations. `clip` bounds the pre-activation of every gate; sequence_lens stops a batch entry early
// (its later Y rows are 0 and Y_h / Y_c hold the state after its last step).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "ops/common.hpp"

namespace sluice::ops {
namespace {

enum class CellKind { rnn, gru, lstm };

struct CellInfo {
  CellKind kind;
  const char* op_type;
  int64_t gates;  // weight blocks per direction: RNN 1 (i), GRU 3 (z r h), LSTM 4 (i o f c)
  std::vector<std::string> default_activations;
  int max_inputs;
  int max_outputs;
};

const CellInfo& cell_info(CellKind kind) {
  static const CellInfo rnn{CellKind::rnn, "RNN", 1, {"Tanh"}, 6, 2};
  static const CellInfo gru{CellKind::gru, "GRU", 3, {"Sigmoid", "Tanh"}, 6, 2};
  static const CellInfo lstm{CellKind::lstm, "LSTM", 4, {"Sigmoid", "Tanh", "Tanh"}, 8, 3};
  return kind == CellKind::rnn ? rnn : kind == CellKind::gru ? gru : lstm;
}

enum Input { kX = 0, kW, kR, kB, kSeqLens, kInitialH, kInitialC, kP };

// ---- activation functions -----------------------------------------------------------------------

struct Activation {
  enum class Kind {
    relu,
    tanh,
    sigmoid,
    affine,
    leaky_relu,
    thresholded_relu,
    scaled_tanh,
    hard_sigmoid,
    elu,
    softsign,
    softplus
  };
  Kind kind = Kind::tanh;
  double alpha = 0;
  double beta = 0;

  double operator()(double x) const {
    switch (kind) {
      case Kind::relu: return std::max(0.0, x);
      case Kind::tanh: return std::tanh(x);
      case Kind::sigmoid: return 1.0 / (1.0 + std::exp(-x));
      case Kind::affine: return alpha * x + beta;
      case Kind::leaky_relu: return x >= 0 ? x : alpha * x;
      case Kind::thresholded_relu: return x > alpha ? x : 0.0;
      case Kind::scaled_tanh: return alpha * std::tanh(beta * x);
      case Kind::hard_sigmoid: return std::min(1.0, std::max(0.0, alpha * x + beta));
      case Kind::elu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
      case Kind::softsign: return x / (1.0 + std::abs(x));
      case Kind::softplus: return x > 30 ? x : std::log1p(std::exp(x));
    }
    return x;
  }
};

// Name (lower case), kind, and how many of (alpha, beta) it takes with their defaults.
struct ActivationSpec {
  const char* name;
  Activation::Kind kind;
  int params;
  double default_alpha;
  double default_beta;
};

const std::vector<ActivationSpec>& activation_specs() {
  using K = Activation::Kind;
  static const std::vector<ActivationSpec> specs = {
      {"relu", K::relu, 0, 0, 0},
      {"tanh", K::tanh, 0, 0, 0},
      {"sigmoid", K::sigmoid, 0, 0, 0},
      {"affine", K::affine, 2, 1.0, 0.0},
      {"leakyrelu", K::leaky_relu, 1, 0.01, 0},
      {"thresholdedrelu", K::thresholded_relu, 1, 1.0, 0},
      {"scaledtanh", K::scaled_tanh, 2, 1.0, 1.0},
      {"hardsigmoid", K::hard_sigmoid, 2, 0.2, 0.5},
      {"elu", K::elu, 1, 1.0, 0},
      {"softsign", K::softsign, 0, 0, 0},
      {"softplus", K::softplus, 0, 0, 0},
  };
  return specs;
}

const ActivationSpec& find_activation(const std::string& name, const Node& node) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& spec : activation_specs()) {
    if (lower == spec.name) return spec;
  }
  throw_error(where(node), "attribute 'activations' names '", name,
              "'; expected Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, "
              "Elu, Softsign or Softplus");
}

int64_t num_directions(const Node& node) {
  const std::string direction = node.attr_string("direction", "forward");
  SLUICE_CHECK(direction == "forward" || direction == "reverse" || direction == "bidirectional", where(node),
               "attribute 'direction' is '", direction, "'; expected forward, reverse or bidirectional");
  return direction == "bidirectional" ? 2 : 1;
}

// The activations of every direction, in order (forward's then reverse's), with alpha and beta consumed
// from activation_alpha / activation_beta in order by the functions that take them.
std::vector<Activation> read_activations(const Node& node, const CellInfo& cell) {
  const int64_t directions = num_directions(node);
  const size_t per_direction = cell.default_activations.size();
  std::vector<std::string> names = node.attr_strings("activations", cell.default_activations);
  if (names.size() == per_direction && directions == 2) {
    const std::vector<std::string> forward = names;
    names.insert(names.end(), forward.begin(), forward.end());
  }
  SLUICE_CHECK(names.size() == per_direction * static_cast<size_t>(directions), where(node),
               "attribute 'activations' has ", names.size(), " names; expected ", per_direction,
               " per direction (", per_direction * directions, " for ", directions, " direction",
               directions == 2 ? "s)" : ")");
  const std::vector<float> alphas = node.attr_floats("activation_alpha", {});
  const std::vector<float> betas = node.attr_floats("activation_beta", {});
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> out;
  for (const auto& name : names) {
    const ActivationSpec& spec = find_activation(name, node);
    Activation a{spec.kind, spec.default_alpha, spec.default_beta};
    if (spec.params >= 1 && next_alpha < alphas.size()) a.alpha = alphas[next_alpha++];
    if (spec.params >= 2 && next_beta < betas.size()) a.beta = betas[next_beta++];
    out.push_back(a);
  }
  return out;
}

// ---- validation and shape inference -------------------------------------------------------------

void validate_recurrent(const Node& node, const CellInfo& cell, int64_t since) {
  read_activations(node, cell);
  SLUICE_CHECK(!node.has_attr("layout") || since >= 14, where(node),
               "attribute 'layout' needs opset 14; the model imports opset ", node.opset_version);
  const int64_t layout = node.attr_int("layout", 0);
  SLUICE_CHECK(layout == 0 || layout == 1, where(node), "attribute 'layout' is ", layout,
               "; expected 0 or 1");
  if (node.has_attr("hidden_size")) {
    SLUICE_CHECK(node.attr_int("hidden_size") > 0, where(node), "attribute 'hidden_size' is ",
                 node.attr_int("hidden_size"), "; expected a positive value");
  }
  if (node.has_attr("clip")) {
    SLUICE_CHECK(node.attr_float("clip") > 0, where(node), "attribute 'clip' is ", node.attr_float("clip"),
                 "; expected a positive threshold");
  }
  SLUICE_CHECK(cell.kind == CellKind::gru || !node.has_attr("linear_before_reset"), where(node),
               "attribute 'linear_before_reset' only applies to GRU");
  SLUICE_CHECK(cell.kind == CellKind::lstm || !node.has_attr("input_forget"), where(node),
               "attribute 'input_forget' only applies to LSTM");
}

// Merges what two sources say about one dimension; throws when both are static and differ.
Dimension merge_dim(const Dimension& a, const Dimension& b, const Node& node, const std::string& what) {
  if (a.is_static() && b.is_static()) {
    SLUICE_CHECK(a.extent() == b.extent(), where(node), what, ": ", a.extent(), " and ", b.extent(),
                 " disagree");
    return a;
  }
  return a.is_static() ? a : b.is_static() ? b : a;
}

// Checks an input's rank and dims against the expected partial dims (dynamic entries match anything).
void check_input_dims(InferContext& ctx, size_t input, const char* name,
                      const std::vector<Dimension>& expected) {
  if (!ctx.has_input(input)) return;
  const PartialShape& s = ctx.input_shape(input);
  if (!s.rank_known()) return;
  PartialShape want(expected);
  SLUICE_CHECK(s.rank() == static_cast<int64_t>(expected.size()), where(ctx.node), "input '", name,
               "' has shape ", s.to_string(), "; expected ", want.to_string());
  for (size_t d = 0; d < expected.size(); ++d) {
    SLUICE_CHECK(s[d].is_dynamic() || expected[d].is_dynamic() || s[d].extent() == expected[d].extent(),
                 where(ctx.node), "input '", name, "' has shape ", s.to_string(), "; expected ",
                 want.to_string());
  }
}

Dimension dim_or_dynamic(const PartialShape& s, size_t d) {
  return s.rank_known() && static_cast<size_t>(s.rank()) > d ? s[d] : Dimension();
}

Dimension scaled_dim(const Dimension& d, int64_t divisor) {
  if (d.is_dynamic() || d.extent() % divisor != 0) return Dimension();
  return Dimension(d.extent() / divisor);
}

void infer_recurrent(InferContext& ctx, const CellInfo& cell) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(kX);
  SLUICE_CHECK(is_floating(type), where(node), "input 'X' is ", to_string(type),
               "; expected a floating type");
  const char* names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i) || i == kSeqLens) continue;
    SLUICE_CHECK(ctx.input_type(i) == type, where(node), "input '", names[i], "' is ",
                 to_string(ctx.input_type(i)), "; expected X's type ", to_string(type));
  }
  if (ctx.has_input(kSeqLens)) {
    SLUICE_CHECK(is_integer(ctx.input_type(kSeqLens)), where(node), "input 'sequence_lens' is ",
                 to_string(ctx.input_type(kSeqLens)), "; expected i32");
  }
  const int64_t dirs = num_directions(node);
  const bool batch_major = node.attr_int("layout", 0) == 1;
  const PartialShape& x = ctx.input_shape(kX);
  SLUICE_CHECK(!x.rank_known() || x.rank() == 3, where(node), "input 'X' has shape ", x.to_string(),
               "; expected rank 3");
  const Dimension seq = dim_or_dynamic(x, batch_major ? 1 : 0);
  Dimension batch = dim_or_dynamic(x, batch_major ? 0 : 1);
  const Dimension input_size = dim_or_dynamic(x, 2);
  Dimension hidden = node.has_attr("hidden_size") ? Dimension(node.attr_int("hidden_size")) : Dimension();
  hidden = merge_dim(hidden, dim_or_dynamic(ctx.input_shape(kR), 2), node, "hidden size (attribute vs R)");
  hidden = merge_dim(hidden, scaled_dim(dim_or_dynamic(ctx.input_shape(kW), 1), cell.gates), node,
                     "hidden size (from W)");
  const int64_t g = cell.gates;
  const Dimension gh = hidden.is_static() ? Dimension(g * hidden.extent()) : Dimension();
  check_input_dims(ctx, kW, "W", {dirs, gh, input_size});
  check_input_dims(ctx, kR, "R", {dirs, gh, hidden});
  check_input_dims(ctx, kB, "B",
                   {dirs, hidden.is_static() ? Dimension(2 * g * hidden.extent()) : Dimension()});
  if (ctx.has_input(kSeqLens)) {
    batch =
        merge_dim(batch, dim_or_dynamic(ctx.input_shape(kSeqLens), 0), node, "batch size (sequence_lens)");
    check_input_dims(ctx, kSeqLens, "sequence_lens", {batch});
  }
  const PartialShape& h0 = ctx.has_input(kInitialH) ? ctx.input_shape(kInitialH) : PartialShape();
  if (h0.rank_known() && h0.rank() == 3) {
    batch = merge_dim(batch, h0[batch_major ? 0 : 1], node, "batch size (initial_h)");
  }
  auto state_dims = [&] {
    return batch_major ? std::vector<Dimension>{batch, dirs, hidden}
                       : std::vector<Dimension>{dirs, batch, hidden};
  };
  check_input_dims(ctx, kInitialH, "initial_h", state_dims());
  if (cell.kind == CellKind::lstm) {
    check_input_dims(ctx, kInitialC, "initial_c", state_dims());
    check_input_dims(ctx, kP, "P", {dirs, hidden.is_static() ? Dimension(3 * hidden.extent()) : Dimension()});
  }
  const PartialShape y =
      batch_major ? PartialShape({batch, seq, dirs, hidden}) : PartialShape({seq, dirs, batch, hidden});
  ctx.set_output(0, type, y);
  ctx.set_output(1, type, PartialShape(state_dims()));
  if (cell.kind == CellKind::lstm) ctx.set_output(2, type, PartialShape(state_dims()));
}

// ---- reference kernel ---------------------------------------------------------------------------

// The static sizes of one run and the layout-aware index arithmetic.
struct Dims {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1;
  bool batch_major = false;

  int64_t x_index(int64_t t, int64_t b) const { return (batch_major ? b * seq + t : t * batch + b) * input; }
  int64_t y_index(int64_t t, int64_t d, int64_t b) const {
    return (batch_major ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * hidden;
  }
  int64_t state_index(int64_t d, int64_t b) const {
    return (batch_major ? b * dirs + d : d * batch + b) * hidden;
  }
};

// One direction's parameters, as views into the converted inputs.
struct DirectionParams {
  const double* w = nullptr;        // [gates * hidden, input]
  const double* r = nullptr;        // [gates * hidden, hidden]
  const double* wb = nullptr;       // [gates * hidden]
  const double* rb = nullptr;       // [gates * hidden]
  const double* p = nullptr;        // [3 * hidden] (LSTM peepholes i, o, f) or null
  const Activation* act = nullptr;  // this direction's activations
};

// The options that shape every step.
struct StepOptions {
  double clip = 0;  // 0: no clipping
  bool linear_before_reset = false;
  bool input_forget = false;
};

double clipped(double v, double clip) { return clip > 0 ? std::clamp(v, -clip, clip) : v; }

// W[row] . x + R[row] . h + Wb[row] + Rb[row] for gate rows [gate * hidden, (gate + 1) * hidden).
void gate_input(const DirectionParams& p, const Dims& dims, int64_t gate, const double* x, const double* h,
                double* out) {
  for (int64_t j = 0; j < dims.hidden; ++j) {
    const int64_t row = gate * dims.hidden + j;
    double acc = p.wb[row] + p.rb[row];
    for (int64_t i = 0; i < dims.input; ++i) acc += p.w[row * dims.input + i] * x[i];
    if (h) {
      for (int64_t k = 0; k < dims.hidden; ++k) acc += p.r[row * dims.hidden + k] * h[k];
    }
    out[j] = acc;
  }
}

// R[row] . v for gate rows, without the input part.
void recurrent_part(const DirectionParams& p, const Dims& dims, int64_t gate, const double* v, double* out) {
  for (int64_t j = 0; j < dims.hidden; ++j) {
    const int64_t row = gate * dims.hidden + j;
    double acc = 0;
    for (int64_t k = 0; k < dims.hidden; ++k) acc += p.r[row * dims.hidden + k] * v[k];
    out[j] = acc;
  }
}

void rnn_step(const DirectionParams& p, const Dims& dims, const StepOptions& opt, const double* x,
              std::vector<double>& h) {
  std::vector<double> a(dims.hidden);
  gate_input(p, dims, 0, x, h.data(), a.data());
  for (int64_t j = 0; j < dims.hidden; ++j) h[j] = p.act[0](clipped(a[j], opt.clip));
}

void gru_step(const DirectionParams& p, const Dims& dims, const StepOptions& opt, const double* x,
              std::vector<double>& h) {
  const int64_t n = dims.hidden;
  std::vector<double> z(n), r(n), hh(n);
  gate_input(p, dims, 0, x, h.data(), z.data());
  gate_input(p, dims, 1, x, h.data(), r.data());
  for (int64_t j = 0; j < n; ++j) {
    z[j] = p.act[0](clipped(z[j], opt.clip));
    r[j] = p.act[0](clipped(r[j], opt.clip));
  }
  gate_input(p, dims, 2, x, nullptr, hh.data());  // Wh x + Wbh + Rbh
  std::vector<double> rec(n);
  if (opt.linear_before_reset) {
    recurrent_part(p, dims, 2, h.data(), rec.data());
    for (int64_t j = 0; j < n; ++j) {
      const double rbh = p.rb[2 * n + j];
      hh[j] += r[j] * (rec[j] + rbh) - rbh;  // the Rbh of gate_input moves inside the reset product
    }
  } else {
    std::vector<double> rh(n);
    for (int64_t j = 0; j < n; ++j) rh[j] = r[j] * h[j];
    recurrent_part(p, dims, 2, rh.data(), rec.data());
    for (int64_t j = 0; j < n; ++j) hh[j] += rec[j];
  }
  for (int64_t j = 0; j < n; ++j) {
    const double candidate = p.act[1](clipped(hh[j], opt.clip));
    h[j] = (1.0 - z[j]) * candidate + z[j] * h[j];
  }
}

void lstm_step(const DirectionParams& p, const Dims& dims, const StepOptions& opt, const double* x,
               std::vector<double>& h, std::vector<double>& c) {
  const int64_t n = dims.hidden;
  std::vector<double> gi(n), go(n), gf(n), gc(n);
  gate_input(p, dims, 0, x, h.data(), gi.data());
  gate_input(p, dims, 1, x, h.data(), go.data());
  gate_input(p, dims, 2, x, h.data(), gf.data());
  gate_input(p, dims, 3, x, h.data(), gc.data());
  for (int64_t j = 0; j < n; ++j) {
    const double pi = p.p ? p.p[j] : 0.0, po = p.p ? p.p[n + j] : 0.0, pf = p.p ? p.p[2 * n + j] : 0.0;
    const double i = p.act[0](clipped(gi[j] + pi * c[j], opt.clip));
    const double f = opt.input_forget ? 1.0 - i : p.act[0](clipped(gf[j] + pf * c[j], opt.clip));
    const double candidate = p.act[1](clipped(gc[j], opt.clip));
    c[j] = f * c[j] + i * candidate;
    const double o = p.act[0](clipped(go[j] + po * c[j], opt.clip));
    h[j] = o * p.act[2](c[j]);
  }
}

std::vector<int64_t> sequence_lengths(const Node& node, const Tensor& t, const Dims& dims) {
  if (!t) return std::vector<int64_t>(static_cast<size_t>(dims.batch), dims.seq);
  SLUICE_CHECK(t.rank() == 1 && t.size() == dims.batch, where(node), "input 'sequence_lens' has shape ",
               to_string(t.shape()), "; expected [", dims.batch, "]");
  std::vector<int64_t> lens = to_int64s(t);
  for (int64_t len : lens) {
    SLUICE_CHECK(len >= 0 && len <= dims.seq, where(node), "input 'sequence_lens' holds ", len,
                 "; expected values in [0, ", dims.seq, "]");
  }
  return lens;
}

void check_static_shape(const Node& node, const Tensor& t, const char* name, const Shape& expected) {
  if (!t) return;
  SLUICE_CHECK(t.shape() == expected, where(node), "input '", name, "' has shape ", to_string(t.shape()),
               "; expected ", to_string(expected));
}

Dims read_dims(const Node& node, std::span<const Tensor> in, const CellInfo& cell) {
  Dims dims;
  dims.batch_major = node.attr_int("layout", 0) == 1;
  dims.dirs = num_directions(node);
  const Tensor& x = in[kX];
  SLUICE_CHECK(x.rank() == 3, where(node), "input 'X' has shape ", to_string(x.shape()), "; expected rank 3");
  dims.seq = x.shape()[dims.batch_major ? 1 : 0];
  dims.batch = x.shape()[dims.batch_major ? 0 : 1];
  dims.input = x.shape()[2];
  SLUICE_CHECK(in[kR].rank() == 3, where(node), "input 'R' has shape ", to_string(in[kR].shape()),
               "; expected [num_directions, ", cell.gates, " * hidden_size, hidden_size]");
  dims.hidden = node.attr_int("hidden_size", in[kR].shape()[2]);
  const int64_t gh = cell.gates * dims.hidden;
  check_static_shape(node, in[kW], "W", {dims.dirs, gh, dims.input});
  check_static_shape(node, in[kR], "R", {dims.dirs, gh, dims.hidden});
  return dims;
}

std::vector<Tensor> recurrent_kernel(const Node& node, std::span<const Tensor> in, const CellInfo& cell) {
  auto input = [&](size_t i) { return i < in.size() ? in[i] : Tensor(); };
  const Dims dims = read_dims(node, in, cell);
  const int64_t gh = cell.gates * dims.hidden;
  const Shape state_shape = dims.batch_major ? Shape{dims.batch, dims.dirs, dims.hidden}
                                             : Shape{dims.dirs, dims.batch, dims.hidden};
  check_static_shape(node, input(kB), "B", {dims.dirs, 2 * gh});
  check_static_shape(node, input(kInitialH), "initial_h", state_shape);
  if (cell.kind == CellKind::lstm) {
    check_static_shape(node, input(kInitialC), "initial_c", state_shape);
    check_static_shape(node, input(kP), "P", {dims.dirs, 3 * dims.hidden});
  }
  const std::vector<int64_t> lens = sequence_lengths(node, input(kSeqLens), dims);
  const std::vector<Activation> acts = read_activations(node, cell);
  StepOptions opt;
  opt.clip = node.has_attr("clip") ? node.attr_float("clip") : 0.0;
  opt.linear_before_reset = node.attr_int("linear_before_reset", 0) != 0;
  opt.input_forget = node.attr_int("input_forget", 0) != 0;

  const std::vector<double> x = to_doubles(in[kX]), w = to_doubles(in[kW]), r = to_doubles(in[kR]);
  const std::vector<double> b =
      input(kB) ? to_doubles(input(kB)) : std::vector<double>(dims.dirs * 2 * gh, 0.0);
  const std::vector<double> h0 = input(kInitialH) ? to_doubles(input(kInitialH)) : std::vector<double>();
  const std::vector<double> c0 = input(kInitialC) ? to_doubles(input(kInitialC)) : std::vector<double>();
  const std::vector<double> peep = input(kP) ? to_doubles(input(kP)) : std::vector<double>();

  const Shape y_shape = dims.batch_major ? Shape{dims.batch, dims.seq, dims.dirs, dims.hidden}
                                         : Shape{dims.seq, dims.dirs, dims.batch, dims.hidden};
  std::vector<double> y(static_cast<size_t>(shape_size(y_shape)), 0.0);
  std::vector<double> y_h(static_cast<size_t>(shape_size(state_shape)), 0.0), y_c(y_h.size(), 0.0);
  const bool reverse_only = node.attr_string("direction", "forward") == "reverse";
  const size_t acts_per_dir = cell.default_activations.size();

  for (int64_t d = 0; d < dims.dirs; ++d) {
    DirectionParams p;
    p.w = w.data() + d * gh * dims.input;
    p.r = r.data() + d * gh * dims.hidden;
    p.wb = b.data() + d * 2 * gh;
    p.rb = p.wb + gh;
    p.p = peep.empty() ? nullptr : peep.data() + d * 3 * dims.hidden;
    p.act = acts.data() + d * acts_per_dir;
    const bool reverse = reverse_only || d == 1;
    for (int64_t bi = 0; bi < dims.batch; ++bi) {
      const int64_t s = dims.state_index(d, bi);
      std::vector<double> h(dims.hidden, 0.0), c(dims.hidden, 0.0);
      if (!h0.empty()) std::copy_n(h0.begin() + s, dims.hidden, h.begin());
      if (!c0.empty()) std::copy_n(c0.begin() + s, dims.hidden, c.begin());
      const int64_t len = lens[bi];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        const double* xt = x.data() + dims.x_index(t, bi);
        if (cell.kind == CellKind::rnn) rnn_step(p, dims, opt, xt, h);
        if (cell.kind == CellKind::gru) gru_step(p, dims, opt, xt, h);
        if (cell.kind == CellKind::lstm) lstm_step(p, dims, opt, xt, h, c);
        std::copy(h.begin(), h.end(), y.begin() + dims.y_index(t, d, bi));
      }
      std::copy(h.begin(), h.end(), y_h.begin() + s);
      std::copy(c.begin(), c.end(), y_c.begin() + s);
    }
  }

  const ElementType type = in[kX].type();
  auto make = [&](size_t output, const Shape& shape, const std::vector<double>& values) {
    if (!node.has_output(output)) return Tensor();
    Tensor t(type, shape);
    dispatch_floating(type, node.describe(), [&](auto tag) {
      using T = decltype(tag);
      T* out = t.data<T>();
      for (size_t i = 0; i < values.size(); ++i) out[i] = T(static_cast<compute_t<T>>(values[i]));
    });
    return t;
  };
  std::vector<Tensor> outputs{make(0, y_shape, y), make(1, state_shape, y_h)};
  if (cell.kind == CellKind::lstm) outputs.push_back(make(2, state_shape, y_c));
  outputs.resize(node.outputs.size());
  return outputs;
}

void register_cell(OpRegistry& registry, CellKind kind) {
  const CellInfo& cell = cell_info(kind);
  for (int64_t since : {7, 14}) {
    OpSchema s;
    s.op_type = cell.op_type;
    s.since_version = since;
    s.min_inputs = 3;
    s.max_inputs = cell.max_inputs;
    s.min_outputs = 0;
    s.max_outputs = cell.max_outputs;
    s.validate = [&cell, since](const Node& node) { validate_recurrent(node, cell, since); };
    s.infer = [&cell](InferContext& ctx) { infer_recurrent(ctx, cell); };
    s.reference = [&cell](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return recurrent_kernel(node, in, cell);
    };
    registry.add(std::move(s));
  }
}

}  // namespace
}  // namespace sluice::ops

namespace sluice::graph {

void register_recurrent_ops(OpRegistry& registry) {
  ops::register_cell(registry, ops::CellKind::rnn);
  ops::register_cell(registry, ops::CellKind::gru);
  ops::register_cell(registry, ops::CellKind::lstm);
}

}  // namespace sluice::graph
