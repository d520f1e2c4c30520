// Signal processing: DFT (opset 17: axis attribute; opset 20: axis input), STFT, the Hann, Hamming and
// Blackman windows, and MelWeightMatrix.
//
// Complex tensors are real tensors with a trailing dimension of 2 (real, imaginary); a trailing dimension
// of 1 holds a real signal. Transforms are direct O(n^2) sums in double over twiddle factors from exactly
// reduced angles (2 pi ((j k) mod n) / n).
#include <cmath>
#include <complex>
#include <numbers>

#include "ops/common.hpp"
#include "ops/quantization.hpp"

namespace sluice::ops {
namespace {

using cdouble = std::complex<double>;

// The value of a scalar (or 1-element) constant input, or nullopt when the input is not a constant.
std::optional<double> constant_scalar(InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return std::nullopt;
  const Tensor* t = ctx.input_value(i);
  if (!t || t->size() != 1) return std::nullopt;
  return element_as_double(*t, 0);
}

int64_t scalar_int(const Tensor& t, const Node& node, const char* name) {
  SLUICE_CHECK(t.size() == 1 && t.rank() <= 1, where(node), "input '", name, "' has shape ",
               to_string(t.shape()), "; expected a scalar");
  SLUICE_CHECK(is_integer(t.type()), where(node), "input '", name, "' is ", to_string(t.type()),
               "; expected an integer type");
  return to_int64s(t)[0];
}

double scalar_float(const Tensor& t, const Node& node, const char* name) {
  SLUICE_CHECK(t.size() == 1 && t.rank() <= 1, where(node), "input '", name, "' has shape ",
               to_string(t.shape()), "; expected a scalar");
  return element_as_double(t, 0);
}

void check_integer_input(InferContext& ctx, size_t i, const char* name) {
  if (!ctx.has_input(i)) return;
  SLUICE_CHECK(is_integer(ctx.input_type(i)), where(ctx.node), "input '", name, "' is ",
               to_string(ctx.input_type(i)), "; expected i32 or i64");
  const PartialShape& s = ctx.input_shape(i);
  SLUICE_CHECK(!s.rank_known() || s.rank() == 0 || (s.rank() == 1 && s[0].accepts(1)), where(ctx.node),
               "input '", name, "' has shape ", s.to_string(), "; expected a scalar");
}

// Reads a [..., 1 | 2] tensor as complex values of shape [...].
std::vector<cdouble> read_complex(const Tensor& t) {
  const std::vector<double> v = to_doubles(t);
  const bool is_complex = t.shape().back() == 2;
  std::vector<cdouble> out(v.size() / (is_complex ? 2 : 1));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = is_complex ? cdouble(v[2 * i], v[2 * i + 1]) : cdouble(v[i], 0.0);
  }
  return out;
}

// Writes complex values of shape `signal_shape` as a [..., 2] tensor of `type`.
Tensor write_complex(ElementType type, Shape signal_shape, const std::vector<cdouble>& values) {
  std::vector<double> flat(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    flat[2 * i] = values[i].real();
    flat[2 * i + 1] = values[i].imag();
  }
  signal_shape.push_back(2);
  return quant::numeric_tensor(type, std::move(signal_shape), flat);
}

// A length-n transform: X[k] = sum_j x[j] e^(-+2 pi i j k / n) (divided by n when inverse), with the n
// twiddle factors computed once from exactly reduced angles.
class Dft {
 public:
  Dft(int64_t n, bool inverse) : n_(n), inverse_(inverse), twiddle_(static_cast<size_t>(n)) {
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t m = 0; m < n; ++m) {
      const double angle = sign * 2.0 * std::numbers::pi * static_cast<double>(m) / static_cast<double>(n);
      twiddle_[m] = cdouble(std::cos(angle), std::sin(angle));
    }
  }

  // Transforms the strided line x (x_len values, zero-padded or truncated to n) into out[k] for k in
  // [0, out_len).
  void line(const cdouble* x, int64_t x_len, int64_t x_stride, int64_t out_len, cdouble* out,
            int64_t out_stride) const {
    const int64_t used = std::min(x_len, n_);
    for (int64_t k = 0; k < out_len; ++k) {
      cdouble acc(0.0, 0.0);
      for (int64_t j = 0; j < used; ++j) acc += x[j * x_stride] * twiddle_[(j * k) % n_];
      out[k * out_stride] = inverse_ ? acc / static_cast<double>(n_) : acc;
    }
  }

 private:
  int64_t n_;
  bool inverse_;
  std::vector<cdouble> twiddle_;
};

// ---- DFT ----------------------------------------------------------------------------------------

struct DftVersion {
  int64_t since = 17;
};

void validate_dft(const Node& node, DftVersion v) {
  SLUICE_CHECK(v.since < 20 || !node.has_attr("axis"), where(node),
               "attribute 'axis' was replaced by input 'axis' in opset 20");
  const int64_t onesided = node.attr_int("onesided", 0), inverse = node.attr_int("inverse", 0);
  SLUICE_CHECK(onesided == 0 || onesided == 1, where(node), "attribute 'onesided' is ", onesided,
               "; expected 0 or 1");
  SLUICE_CHECK(inverse == 0 || inverse == 1, where(node), "attribute 'inverse' is ", inverse,
               "; expected 0 or 1");
}

// The DFT axis in [0, rank - 2], from [-rank, -2] or [0, rank - 2].
int64_t normalize_dft_axis(int64_t axis, int64_t rank, const Node& node) {
  const bool ok = (axis >= -rank && axis <= -2) || (axis >= 0 && axis <= rank - 2);
  SLUICE_CHECK(ok, where(node), "axis ", axis, " is out of range for an input of rank ", rank, "; expected [",
               -rank, ", -2] or [0, ", rank - 2, "] (the last dimension holds the real/imaginary parts)");
  return axis < 0 ? axis + rank : axis;
}

std::optional<int64_t> dft_axis_of(InferContext& ctx, DftVersion v) {
  if (v.since < 20) return ctx.node.attr_int("axis", 1);
  if (!ctx.has_input(2)) return -2;
  const auto axis = constant_scalar(ctx, 2);
  if (!axis) return std::nullopt;
  return static_cast<int64_t>(*axis);
}

Dimension dft_out_dim(const Dimension& in, std::optional<double> length, bool onesided) {
  Dimension n = length ? Dimension(static_cast<int64_t>(*length)) : in;
  if (!onesided || n.is_dynamic()) return onesided ? Dimension() : n;
  return Dimension(n.extent() / 2 + 1);
}

void infer_dft(InferContext& ctx, DftVersion v) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(0);
  SLUICE_CHECK(is_floating(type), where(node), "input 'input' is ", to_string(type),
               "; expected a floating type");
  check_integer_input(ctx, 1, "dft_length");
  if (v.since >= 20) check_integer_input(ctx, 2, "axis");
  const PartialShape& x = ctx.input_shape(0);
  if (!x.rank_known()) return ctx.set_output(0, type, PartialShape::unknown_rank());
  const int64_t rank = x.rank();
  SLUICE_CHECK(rank >= 2, where(node), "input 'input' has shape ", x.to_string(),
               "; expected [..., signal dims, 1 or 2]");
  SLUICE_CHECK(x[rank - 1].is_dynamic() || x[rank - 1].extent() == 1 || x[rank - 1].extent() == 2,
               where(node), "input 'input' has shape ", x.to_string(),
               "; the last dimension must be 1 (real) or 2 (complex)");
  const std::optional<double> length = constant_scalar(ctx, 1);
  const bool has_length = ctx.has_input(1);
  const bool onesided = node.attr_int("onesided", 0) == 1;
  std::vector<Dimension> out = x.dims();
  out.back() = 2;
  const std::optional<int64_t> axis = dft_axis_of(ctx, v);
  if (!axis) {
    const bool unchanged = !has_length && !onesided;
    for (int64_t d = 0; d + 1 < rank && !unchanged; ++d) out[d] = Dimension();
    return ctx.set_output(0, type, PartialShape(std::move(out)));
  }
  const int64_t a = normalize_dft_axis(*axis, rank, node);
  if (has_length && !length) {
    out[a] = Dimension();
  } else {
    if (length) SLUICE_CHECK(*length >= 1, where(node), "input 'dft_length' is ", *length, "; expected >= 1");
    out[a] = dft_out_dim(x[a], length, onesided);
  }
  ctx.set_output(0, type, PartialShape(std::move(out)));
}

std::vector<Tensor> dft_kernel(const Node& node, std::span<const Tensor> in, DftVersion v) {
  const Tensor& x = in[0];
  dispatch_floating(x.type(), node.describe(), [](auto) {});
  const int64_t rank = x.rank();
  SLUICE_CHECK(rank >= 2 && (x.shape().back() == 1 || x.shape().back() == 2), where(node),
               "input 'input' has shape ", to_string(x.shape()), "; expected [..., signal dims, 1 or 2]");
  int64_t axis = v.since < 20 ? node.attr_int("axis", 1) : -2;
  if (v.since >= 20 && in.size() > 2 && in[2]) axis = scalar_int(in[2], node, "axis");
  axis = normalize_dft_axis(axis, rank, node);
  const Shape signal_shape(x.shape().begin(), x.shape().end() - 1);
  const int64_t in_len = signal_shape[axis];
  const int64_t n = in.size() > 1 && in[1] ? scalar_int(in[1], node, "dft_length") : in_len;
  SLUICE_CHECK(n >= 1, where(node), "input 'dft_length' is ", n, "; expected >= 1");
  const bool inverse = node.attr_int("inverse", 0) == 1;
  const int64_t out_len = node.attr_int("onesided", 0) == 1 ? n / 2 + 1 : n;
  Shape out_shape = signal_shape;
  out_shape[axis] = out_len;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= signal_shape[d];
  for (size_t d = axis + 1; d < signal_shape.size(); ++d) inner *= signal_shape[d];
  const std::vector<cdouble> signal = read_complex(x);
  std::vector<cdouble> result(static_cast<size_t>(shape_size(out_shape)));
  const Dft dft(n, inverse);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      dft.line(signal.data() + o * in_len * inner + i, in_len, inner, out_len,
               result.data() + o * out_len * inner + i, inner);
    }
  }
  return {write_complex(x.type(), out_shape, result)};
}

void register_dft(OpRegistry& registry) {
  for (int64_t since : {17, 20}) {
    const DftVersion v{since};
    OpSchema s;
    s.op_type = "DFT";
    s.since_version = since;
    s.min_inputs = 1;
    s.max_inputs = since >= 20 ? 3 : 2;
    s.validate = [v](const Node& node) { validate_dft(node, v); };
    s.infer = [v](InferContext& ctx) { infer_dft(ctx, v); };
    s.reference = [v](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return dft_kernel(node, in, v);
    };
    registry.add(std::move(s));
  }
}

// ---- STFT ---------------------------------------------------------------------------------------

void infer_stft(InferContext& ctx) {
  const Node& node = ctx.node;
  const ElementType type = ctx.input_type(0);
  SLUICE_CHECK(is_floating(type), where(node), "input 'signal' is ", to_string(type),
               "; expected a floating type");
  check_integer_input(ctx, 1, "frame_step");
  check_integer_input(ctx, 3, "frame_length");
  const PartialShape& x = ctx.input_shape(0);
  SLUICE_CHECK(!x.rank_known() || (x.rank() == 3 && (x[2].is_dynamic() || x[2].extent() <= 2)), where(node),
               "input 'signal' has shape ", x.to_string(), "; expected [batch, signal_length, 1 or 2]");
  Dimension frame_length;
  if (ctx.has_input(3)) {
    if (auto fl = constant_scalar(ctx, 3)) frame_length = static_cast<int64_t>(*fl);
  } else if (ctx.has_input(2)) {
    const PartialShape& w = ctx.input_shape(2);
    SLUICE_CHECK(!w.rank_known() || w.rank() == 1, where(node), "input 'window' has shape ", w.to_string(),
                 "; expected [frame_length]");
    if (w.rank_known()) frame_length = w[0];
  } else if (x.rank_known()) {
    frame_length = x[1];
  }
  const auto step = constant_scalar(ctx, 1);
  Dimension frames, bins;
  const Dimension length = x.rank_known() ? x[1] : Dimension();
  if (frame_length.is_static()) {
    SLUICE_CHECK(frame_length.extent() >= 1, where(node), "frame length ", frame_length.extent(),
                 "; expected >= 1");
    bins = node.attr_int("onesided", 1) == 1 ? frame_length.extent() / 2 + 1 : frame_length.extent();
    if (step && length.is_static()) {
      SLUICE_CHECK(*step >= 1, where(node), "input 'frame_step' is ", *step, "; expected >= 1");
      SLUICE_CHECK(length.extent() >= frame_length.extent(), where(node), "the signal length ",
                   length.extent(), " is shorter than the frame length ", frame_length.extent());
      frames = 1 + (length.extent() - frame_length.extent()) / static_cast<int64_t>(*step);
    }
  }
  ctx.set_output(0, type, PartialShape({x.rank_known() ? x[0] : Dimension(), frames, bins, 2}));
}

std::vector<Tensor> stft_kernel(const Node& node, std::span<const Tensor> in) {
  const Tensor& x = in[0];
  dispatch_floating(x.type(), node.describe(), [](auto) {});
  SLUICE_CHECK(x.rank() == 3 && (x.shape()[2] == 1 || x.shape()[2] == 2), where(node),
               "input 'signal' has shape ", to_string(x.shape()),
               "; expected [batch, signal_length, 1 or 2]");
  const int64_t batch = x.shape()[0], length = x.shape()[1];
  const int64_t step = scalar_int(in[1], node, "frame_step");
  SLUICE_CHECK(step >= 1, where(node), "input 'frame_step' is ", step, "; expected >= 1");
  const Tensor window = in.size() > 2 ? in[2] : Tensor();
  if (window) {
    SLUICE_CHECK(window.rank() == 1, where(node), "input 'window' has shape ", to_string(window.shape()),
                 "; expected [frame_length]");
  }
  int64_t frame_length = window ? window.shape()[0] : length;
  if (in.size() > 3 && in[3]) {
    frame_length = scalar_int(in[3], node, "frame_length");
    SLUICE_CHECK(!window || window.shape()[0] == frame_length, where(node), "input 'window' has ",
                 window.shape()[0], " values but frame_length is ", frame_length);
  }
  SLUICE_CHECK(frame_length >= 1 && frame_length <= length, where(node), "frame length ", frame_length,
               " must be in [1, signal length ", length, "]");
  const int64_t frames = 1 + (length - frame_length) / step;
  const int64_t bins = node.attr_int("onesided", 1) == 1 ? frame_length / 2 + 1 : frame_length;
  const std::vector<cdouble> signal = read_complex(x);
  const std::vector<double> weights = window ? to_doubles(window) : std::vector<double>(frame_length, 1.0);
  std::vector<cdouble> result(static_cast<size_t>(batch * frames * bins));
  std::vector<cdouble> frame(static_cast<size_t>(frame_length));
  const Dft dft(frame_length, false);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t j = 0; j < frame_length; ++j) frame[j] = signal[b * length + f * step + j] * weights[j];
      dft.line(frame.data(), frame_length, 1, bins, result.data() + (b * frames + f) * bins, 1);
    }
  }
  return {write_complex(x.type(), {batch, frames, bins}, result)};
}

void register_stft(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "STFT";
  s.since_version = 17;
  s.min_inputs = 2;
  s.max_inputs = 4;
  s.validate = [](const Node& node) {
    const int64_t onesided = node.attr_int("onesided", 1);
    SLUICE_CHECK(onesided == 0 || onesided == 1, where(node), "attribute 'onesided' is ", onesided,
                 "; expected 0 or 1");
  };
  s.infer = infer_stft;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return stft_kernel(node, in);
  };
  registry.add(std::move(s));
}

// ---- windows ------------------------------------------------------------------------------------

// A generalized cosine window: sum_i a[i] * cos(2 pi i n / N) with alternating signs folded into a.
struct CosineWindow {
  const char* op_type;
  std::vector<double> coefficients;
};

ElementType output_datatype(const Node& node) {
  const ElementType t =
      element_type_from_onnx_code(node.attr_int("output_datatype", 1), node, "output_datatype");
  SLUICE_CHECK(t != ElementType::boolean, where(node),
               "attribute 'output_datatype' names boolean; expected a "
               "numeric type");
  return t;
}

void validate_window(const Node& node) {
  output_datatype(node);
  const int64_t periodic = node.attr_int("periodic", 1);
  SLUICE_CHECK(periodic == 0 || periodic == 1, where(node), "attribute 'periodic' is ", periodic,
               "; expected 0 or 1");
}

void infer_window(InferContext& ctx) {
  check_integer_input(ctx, 0, "size");
  const auto size = constant_scalar(ctx, 0);
  if (size) SLUICE_CHECK(*size >= 0, where(ctx.node), "input 'size' is ", *size, "; expected >= 0");
  ctx.set_output(0, output_datatype(ctx.node),
                 PartialShape({size ? Dimension(static_cast<int64_t>(*size)) : Dimension()}));
}

std::vector<Tensor> window_kernel(const Node& node, std::span<const Tensor> in, const CosineWindow& window) {
  const int64_t size = scalar_int(in[0], node, "size");
  SLUICE_CHECK(size >= 0, where(node), "input 'size' is ", size, "; expected >= 0");
  const bool periodic = node.attr_int("periodic", 1) == 1;
  const int64_t denominator = periodic ? size : size - 1;
  std::vector<double> values(static_cast<size_t>(size), 1.0);
  if (denominator > 0) {
    for (int64_t n = 0; n < size; ++n) {
      double v = 0;
      for (size_t i = 0; i < window.coefficients.size(); ++i) {
        v += window.coefficients[i] *
             std::cos(2.0 * std::numbers::pi * static_cast<double>(i * n) / denominator);
      }
      values[n] = v;
    }
  }
  return {quant::numeric_tensor(output_datatype(node), {size}, values)};
}

void register_windows(OpRegistry& registry) {
  static const CosineWindow windows[] = {
      {"HannWindow", {0.5, -0.5}},
      {"HammingWindow", {25.0 / 46.0, -21.0 / 46.0}},
      {"BlackmanWindow", {0.42, -0.5, 0.08}},
  };
  for (const CosineWindow& w : windows) {
    OpSchema s;
    s.op_type = w.op_type;
    s.since_version = 17;
    s.min_inputs = 1;
    s.max_inputs = 1;
    s.validate = validate_window;
    s.infer = infer_window;
    s.reference = [&w](const Node& node, std::span<const Tensor> in, KernelEnv&) {
      return window_kernel(node, in, w);
    };
    registry.add(std::move(s));
  }
}

// ---- MelWeightMatrix ----------------------------------------------------------------------------

void infer_mel_weight_matrix(InferContext& ctx) {
  check_integer_input(ctx, 0, "num_mel_bins");
  check_integer_input(ctx, 1, "dft_length");
  check_integer_input(ctx, 2, "sample_rate");
  for (size_t i : {3, 4}) {
    SLUICE_CHECK(is_floating(ctx.input_type(i)), where(ctx.node), "input ",
                 i == 3 ? "'lower_edge_hertz'" : "'upper_edge_hertz'", " is ", to_string(ctx.input_type(i)),
                 "; expected a floating type");
  }
  const auto mel_bins = constant_scalar(ctx, 0);
  const auto dft_length = constant_scalar(ctx, 1);
  const Dimension rows = dft_length ? Dimension(static_cast<int64_t>(*dft_length) / 2 + 1) : Dimension();
  const Dimension cols = mel_bins ? Dimension(static_cast<int64_t>(*mel_bins)) : Dimension();
  ctx.set_output(0, output_datatype(ctx.node), PartialShape({rows, cols}));
}

double hertz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hertz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

std::vector<Tensor> mel_weight_matrix_kernel(const Node& node, std::span<const Tensor> in) {
  const int64_t mel_bins = scalar_int(in[0], node, "num_mel_bins");
  const int64_t dft_length = scalar_int(in[1], node, "dft_length");
  const int64_t sample_rate = scalar_int(in[2], node, "sample_rate");
  const double lower = scalar_float(in[3], node, "lower_edge_hertz");
  const double upper = scalar_float(in[4], node, "upper_edge_hertz");
  SLUICE_CHECK(mel_bins >= 1 && dft_length >= 1 && sample_rate >= 1, where(node), "num_mel_bins (", mel_bins,
               "), dft_length (", dft_length, ") and sample_rate (", sample_rate, ") must be positive");
  SLUICE_CHECK(lower >= 0 && lower < upper, where(node), "the edges [", lower, ", ", upper,
               "] Hz must satisfy 0 <= lower_edge_hertz < upper_edge_hertz");
  const int64_t spectrogram_bins = dft_length / 2 + 1;
  // Mel points spaced evenly between the edges (num_mel_bins + 2 of them), mapped to DFT bins.
  const double low_mel = hertz_to_mel(lower);
  const double mel_step = (hertz_to_mel(upper) - low_mel) / static_cast<double>(mel_bins + 2);
  std::vector<int64_t> bin(static_cast<size_t>(mel_bins + 2));
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz = mel_to_hertz(static_cast<double>(i) * mel_step + low_mel);
    bin[i] = static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hz / sample_rate));
    SLUICE_CHECK(bin[i] >= 0 && bin[i] < spectrogram_bins, where(node), "upper_edge_hertz ", upper,
                 " maps past the last DFT bin (", spectrogram_bins - 1,
                 "); expected at most sample_rate / 2");
  }
  std::vector<double> out(static_cast<size_t>(spectrogram_bins * mel_bins), 0.0);
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t left = bin[i], center = bin[i + 1], right = bin[i + 2];
    if (center == left) {
      out[center * mel_bins + i] = 1.0;
    } else {
      for (int64_t j = left; j <= center; ++j) {
        out[j * mel_bins + i] = static_cast<double>(j - left) / static_cast<double>(center - left);
      }
    }
    for (int64_t j = center; j < right; ++j) {
      out[j * mel_bins + i] = static_cast<double>(right - j) / static_cast<double>(right - center);
    }
  }
  return {quant::numeric_tensor(output_datatype(node), {spectrogram_bins, mel_bins}, out)};
}

void register_mel_weight_matrix(OpRegistry& registry) {
  OpSchema s;
  s.op_type = "MelWeightMatrix";
  s.since_version = 17;
  s.min_inputs = 5;
  s.max_inputs = 5;
  s.validate = [](const Node& node) { output_datatype(node); };
  s.infer = infer_mel_weight_matrix;
  s.reference = [](const Node& node, std::span<const Tensor> in, KernelEnv&) {
    return mel_weight_matrix_kernel(node, in);
  };
  registry.add(std::move(s));
}

}  // namespace
}  // namespace sluice::ops

namespace sluice::graph {

void register_signal_ops(OpRegistry& registry) {
  ops::register_dft(registry);
  ops::register_stft(registry);
  ops::register_windows(registry);
  ops::register_mel_weight_matrix(registry);
}

}  // namespace sluice::graph
