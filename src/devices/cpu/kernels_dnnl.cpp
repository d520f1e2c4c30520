// oneDNN kernels: convolutions (Conv, com.sluice FusedConv), pooling, and matrix products (MatMul, Gemm,
// com.sluice FusedMatMul), with fused post-operations, blocked layouts chosen by oneDNN
// (format_tag::any) and weights packed once into the compiled model's WeightCache.
#include <bit>
#include <limits>
#include <sstream>
#include <tuple>

#include "devices/cpu/kernel.hpp"
#include "ops/nn_common.hpp"
#include "ops/post_ops.hpp"

namespace sluice::cpu {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;
using ops::PostOp;
using ops::PostOpKind;

// A key that identifies a memory descriptor's layout (for the weight cache).
std::string md_key(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  std::ostringstream key;
  key << static_cast<int>(d.data_type) << ':' << static_cast<int>(d.format_kind) << ':';
  for (int i = 0; i < d.ndims; ++i) key << d.dims[i] << ',';
  if (d.format_kind == dnnl_blocked) {
    const auto& b = d.format_desc.blocking;
    key << 's';
    for (int i = 0; i < d.ndims; ++i) key << b.strides[i] << ',';
    key << 'b';
    for (int i = 0; i < b.inner_nblks; ++i) key << b.inner_blks[i] << '@' << b.inner_idxs[i] << ',';
  }
  key << 'x' << d.extra.flags;
  return key.str();
}

// The weight `w` (plain, in descriptor `from`) reordered into `to`, packed once per compiled model.
Tensor packed_weights(PlanContext& ctx, const std::string& what, const Tensor& w, const memory::desc& from,
                      const memory::desc& to) {
  // The source's address identifies it (node names need not be unique): the compiled model's graph holds
  // every constant for as long as the cache lives.
  const std::string key =
      std::to_string(reinterpret_cast<uintptr_t>(w.data())) + "/" + what + "/" + md_key(to);
  return ctx.weights.get(key, [&] {
    Tensor packed(ElementType::u8, {static_cast<int64_t>(to.get_size())});
    memory src(from, ctx.engine, w.data());
    memory dst(to, ctx.engine, packed.data());
    dnnl::stream stream(ctx.engine);
    dnnl::reorder(src, dst).execute(stream, src, dst);
    stream.wait();
    return packed;
  });
}

// A plain descriptor of `shape` padded with leading 1s to `rank` dims.
memory::desc plain_md_of_rank(ElementType type, Shape shape, size_t rank) {
  while (shape.size() < rank) shape.insert(shape.begin(), 1);
  return plain_md(type, shape);
}

// oneDNN's eltwise algorithm for a unary post-op; false when it has none.
bool append_eltwise(dnnl::post_ops& po, const PostOp& op) {
  using alg = dnnl::algorithm;
  switch (op.kind) {
    case PostOpKind::Relu: po.append_eltwise(1.f, alg::eltwise_relu, 0.f, 0.f); return true;
    case PostOpKind::LeakyRelu: po.append_eltwise(1.f, alg::eltwise_relu, op.alpha, 0.f); return true;
    case PostOpKind::Clip: po.append_eltwise(1.f, alg::eltwise_clip_v2, op.alpha, op.beta); return true;
    case PostOpKind::Sigmoid: po.append_eltwise(1.f, alg::eltwise_logistic, 0.f, 0.f); return true;
    case PostOpKind::Tanh: po.append_eltwise(1.f, alg::eltwise_tanh, 0.f, 0.f); return true;
    case PostOpKind::HardSwish: po.append_eltwise(1.f, alg::eltwise_hardswish, 0.f, 0.f); return true;
    case PostOpKind::HardSigmoid:
      // max(0, min(1, alpha x + beta)) = clip_v2(linear(x), 0, 1)
      po.append_eltwise(1.f, alg::eltwise_linear, op.alpha, op.beta);
      po.append_eltwise(1.f, alg::eltwise_clip_v2, 0.f, 1.f);
      return true;
    case PostOpKind::Swish: po.append_eltwise(1.f, alg::eltwise_swish, 1.f, 0.f); return true;
    case PostOpKind::Gelu: po.append_eltwise(1.f, alg::eltwise_gelu_erf, 0.f, 0.f); return true;
    case PostOpKind::GeluTanh: po.append_eltwise(1.f, alg::eltwise_gelu_tanh, 0.f, 0.f); return true;
    case PostOpKind::Elu: po.append_eltwise(1.f, alg::eltwise_elu, op.alpha, 0.f); return true;
    default: return false;
  }
}

// A binary post-op's other operand: which node input, and its descriptor in the post-op.
struct BinaryArg {
  size_t input = 0;
  int post_op_index = 0;
  memory::desc md;
};

// Whether two eltwise post-ops in `po` share an algorithm but not its parameters. oneDNN 2.6's jit
// post-op injector keeps one eltwise injector per algorithm, made with the parameters of its first
// post-op: a later one of the same algorithm computes with those (LeakyRelu then Relu, two Clips with
// other bounds, a scale then HardSigmoid's linear step, ...) and the result is wrong. Such a chain is
// left to the reference kernel. (Fixed in later oneDNN, where the injectors are keyed by post-op index.)
bool has_conflicting_eltwise(const dnnl::post_ops& po) {
  std::vector<std::tuple<dnnl::algorithm, float, float>> seen;
  for (int i = 0; i < po.len(); ++i) {
    if (po.kind(i) != dnnl::primitive::kind::eltwise) continue;
    float scale = 1.f, alpha = 0.f, beta = 0.f;
    dnnl::algorithm alg;
    po.get_params_eltwise(i, scale, alg, alpha, beta);
    for (const auto& [a, al, be] : seen) {
      if (a == alg && (al != alpha || be != beta)) return true;
    }
    seen.emplace_back(alg, alpha, beta);
  }
  return false;
}

// Builds the post-op chain of a node: a scale of the result first when `scale` != 1 (Gemm's and
// FusedMatMul's alpha), then a fused node's post-ops. `extras_begin` is the index of the first extra
// input; `out_shape` the result's shape. A binary Add of a tensor shaped like the result, when it comes
// first (and there is no scale), becomes oneDNN's sum (the tensor is placed in the destination before the
// primitive runs); `sum_input` then names it. Returns false when oneDNN cannot express the chain (or
// would compute it wrongly, see has_conflicting_eltwise).
bool build_post_ops(PlanContext& ctx, size_t extras_begin, const Shape& out_shape, float scale,
                    dnnl::post_ops& po, std::vector<BinaryArg>& binaries, int& sum_input) {
  sum_input = -1;
  const std::vector<PostOp> post =
      ctx.node.domain == "com.sluice" ? ops::post_ops_of(ctx.node) : std::vector<PostOp>{};
  size_t i = 0;
  if (scale != 1.f) {
    if (!post.empty() && post[0].kind == PostOpKind::HardSigmoid) {
      // HardSigmoid(scale x) = clip(alpha scale x + beta, 0, 1): one linear step, not two (which this
      // oneDNN would compute wrongly).
      PostOp merged = post[0];
      merged.alpha *= scale;
      append_eltwise(po, merged);
      i = 1;
    } else {
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, scale, 0.f);
    }
  }
  size_t next = extras_begin;
  for (; i < post.size(); ++i) {
    const PostOp& op = post[i];
    if (!op.binary()) {
      if (!append_eltwise(po, op)) return false;
      continue;
    }
    if (next >= ctx.inputs.size() || !ctx.inputs[next].present()) return false;
    const ValueInfo& other = ctx.inputs[next];
    if (other.type != ElementType::f32) return false;
    if (po.len() == 0 && op.kind == PostOpKind::Add && other.shape == out_shape) {
      po.append_sum(1.f);
      sum_input = static_cast<int>(next);
    } else {
      if (other.blocked() || other.shape.size() > out_shape.size()) return false;
      BinaryArg arg;
      arg.input = next;
      arg.post_op_index = po.len();
      arg.md = plain_md_of_rank(other.type, other.shape, out_shape.size());
      po.append_binary(op.kind == PostOpKind::Add ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul,
                       arg.md);
      binaries.push_back(arg);
    }
    ++next;
  }
  if (has_conflicting_eltwise(po)) return false;
  // Every extra input must have been consumed. A fused node without a bias and without extras has no
  // bias slot (FusedMatMul(A, B) + Relu has 2 inputs, not 3): `next` then stays at `extras_begin`, past
  // the inputs, which is complete too (requiring equality sent every such node to the reference kernel).
  return next >= ctx.inputs.size();
}

// Whether any present input or output has no elements (oneDNN's primitives are not made for those: the
// reference kernels take them).
bool has_empty_tensor(const PlanContext& ctx) {
  for (const auto* list : {&ctx.inputs, &ctx.outputs}) {
    for (const ValueInfo& v : *list) {
      if (v.present() && shape_size(v.shape) == 0) return true;
    }
  }
  return false;
}

// The implementation name oneDNN picked, e.g. "brgconv:avx512_core".
std::string impl_of(const dnnl::primitive_desc_base& pd) {
  const char* name = pd.impl_info_str();
  return name ? name : "onednn";
}

// The output descriptor of a primitive as a ValueInfo layout: zero (plain) when it is exactly plain f32.
memory::desc as_layout(const memory::desc& md, ElementType type, const Shape& shape) {
  if (md.data_type() == dnnl_type(type) && md == plain_md(type, shape)) return memory::desc();
  return md;
}

// What every oneDNN kernel keeps per request: memory objects bound to the run's buffers, and the
// argument map of the primitive (built once, so that running allocates nothing).
struct PrimitiveState : KernelState {
  std::unordered_map<int, memory> args;  // the primitive's arguments by index
  std::vector<dnnl_exec_arg_t> c_args;   // the same, prepared for execute() (set by finish())
  memory src_user;                       // the input as it arrives, when it must be reordered first
  memory dst_sum;  // the sum operand as it arrives, when it must be reordered into the destination
  std::vector<dnnl_exec_arg_t> src_reorder_args, sum_reorder_args;

  void finish() {
    c_args = args_of(args);
    if (src_user)
      src_reorder_args = args_of({{DNNL_ARG_FROM, src_user}, {DNNL_ARG_TO, args.at(DNNL_ARG_SRC)}});
    if (dst_sum) sum_reorder_args = args_of({{DNNL_ARG_FROM, dst_sum}, {DNNL_ARG_TO, args.at(DNNL_ARG_DST)}});
  }
};

memory::desc matrix_md(const memory::dims& dims, dt type, bool transposed);

memory::desc layout_of(const ValueInfo& v) { return v.blocked() ? v.md : plain_md(v.type, v.shape); }

// ---------------------------------------------------------------------------------------------------
// A oneDNN primitive over a source, weights (packed constants, or input 1 as it arrives), an optional
// bias and a destination, with a post-op chain: the convolution and matrix-product kernels.

class WeightedKernel final : public Kernel {
 public:
  // `pd` is the primitive; `src_user` the source as it arrives (reordered into the primitive's layout
  // when they differ); `weights` the packed weights, or empty to read input 1 at run time; `bias` the
  // bias values, or empty to read input 2 (plain f32) at run time when the primitive has a bias;
  // `sum_input` the input oneDNN's sum post-op adds (-1: none).
  WeightedKernel(PlanContext& ctx, const dnnl::primitive_desc& pd, const memory::desc& src_user,
                 Tensor weights, Tensor bias, std::vector<BinaryArg> binaries, int sum_input)
      : engine_(ctx.engine),
        prim_(pd),
        src_md_(pd.src_desc()),
        weights_md_(pd.weights_desc()),
        bias_md_(pd.weights_desc(1)),
        dst_md_(pd.dst_desc()),
        scratchpad_md_(pd.scratchpad_desc()),
        weights_(std::move(weights)),
        bias_(std::move(bias)),
        scratchpad_bytes_((scratchpad_md_.get_size() + 63) / 64 * 64),
        sum_input_(sum_input),
        binaries_(std::move(binaries)),
        impl_(impl_of(pd)) {
    runtime_bias_ = !bias_ && !bias_md_.is_zero();
    if (src_user != src_md_) {
      src_user_md_ = src_user;
      src_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine_, src_user, engine_, src_md_));
      src_reorder_bytes_ = src_md_.get_size();
    }
    if (sum_input_ >= 0) {
      const memory::desc sum_md = layout_of(ctx.inputs[sum_input_]);
      if (sum_md == dst_md_) {
        sum_inplace_ = true;
      } else {
        sum_user_md_ = sum_md;
        sum_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine_, sum_md, engine_, dst_md_));
      }
    }
  }

  std::string impl_name() const override { return impl_; }
  size_t scratch_bytes() const override { return scratchpad_bytes_ + src_reorder_bytes_; }
  int inplace_input() const override { return sum_inplace_ ? sum_input_ : -1; }

  std::unique_ptr<KernelState> make_state() const override {
    auto s = std::make_unique<PrimitiveState>();
    s->args[DNNL_ARG_SRC] = memory(src_md_, engine_, nullptr);
    s->args[DNNL_ARG_WEIGHTS] = memory(weights_md_, engine_, weights_ ? weights_.data() : nullptr);
    if (bias_ || runtime_bias_)
      s->args[DNNL_ARG_BIAS] = memory(bias_md_, engine_, bias_ ? bias_.data() : nullptr);
    s->args[DNNL_ARG_DST] = memory(dst_md_, engine_, nullptr);
    s->args[DNNL_ARG_SCRATCHPAD] = memory(scratchpad_md_, engine_, nullptr);
    for (const BinaryArg& b : binaries_) {
      s->args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(b.post_op_index) | DNNL_ARG_SRC_1] =
          memory(b.md, engine_, nullptr);
    }
    if (src_reorder_) s->src_user = memory(src_user_md_, engine_, nullptr);
    if (sum_reorder_) s->dst_sum = memory(sum_user_md_, engine_, nullptr);
    s->finish();
    return s;
  }

  void run(RunContext& ctx, KernelState* state) const override {
    auto& s = static_cast<PrimitiveState&>(*state);
    auto* scratch = static_cast<std::byte*>(ctx.scratch);
    s.args[DNNL_ARG_SCRATCHPAD].set_data_handle(scratch);
    memory& src = s.args[DNNL_ARG_SRC];
    if (src_reorder_) {
      s.src_user.set_data_handle(ctx.inputs[0].data());
      src.set_data_handle(scratch + scratchpad_bytes_);
      execute(src_reorder_, *ctx.stream, s.src_reorder_args);
    } else {
      src.set_data_handle(ctx.inputs[0].data());
    }
    if (!weights_) s.args[DNNL_ARG_WEIGHTS].set_data_handle(ctx.inputs[1].data());
    if (runtime_bias_) s.args[DNNL_ARG_BIAS].set_data_handle(ctx.inputs[2].data());
    s.args[DNNL_ARG_DST].set_data_handle(ctx.outputs[0].data());
    if (sum_input_ >= 0 && ctx.inputs[sum_input_].data() != ctx.outputs[0].data()) {
      // The operand of the sum goes into the destination first; the primitive adds onto it.
      if (sum_reorder_) {
        s.dst_sum.set_data_handle(ctx.inputs[sum_input_].data());
        execute(sum_reorder_, *ctx.stream, s.sum_reorder_args);
      } else {
        std::memcpy(ctx.outputs[0].data(), ctx.inputs[sum_input_].data(), dst_md_.get_size());
      }
    }
    for (const BinaryArg& b : binaries_) {
      s.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(b.post_op_index) | DNNL_ARG_SRC_1].set_data_handle(
          ctx.inputs[b.input].data());
    }
    execute(prim_, *ctx.stream, s.c_args);
  }

 private:
  dnnl::engine engine_;
  dnnl::primitive prim_;
  memory::desc src_md_, weights_md_, bias_md_, dst_md_, scratchpad_md_;
  Tensor weights_;  // packed; empty: input 1 as it arrives
  Tensor bias_;
  bool runtime_bias_ = false;  // the bias is input 2 as it arrives (a computed one), not bias_
  dnnl::reorder src_reorder_;  // source layout -> the primitive's, when they differ
  memory::desc src_user_md_;
  size_t src_reorder_bytes_ = 0;
  size_t scratchpad_bytes_ = 0;
  int sum_input_ = -1;
  bool sum_inplace_ = false;   // the sum operand already has the destination's layout
  dnnl::reorder sum_reorder_;  // sum operand layout -> destination's, when they differ
  memory::desc sum_user_md_;
  std::vector<BinaryArg> binaries_;
  std::string impl_;
};

// ---------------------------------------------------------------------------------------------------
// Convolution: Conv and FusedConv.

std::unique_ptr<Kernel> make_conv(PlanContext& ctx) {
  if (has_empty_tensor(ctx)) return nullptr;
  const graph::Node& node = ctx.node;
  if (ctx.inputs.size() < 2 || !ctx.inputs[1].constant) return nullptr;
  const ValueInfo& x = ctx.inputs[0];
  const ValueInfo& w = ctx.inputs[1];
  const bool has_bias = ctx.inputs.size() > 2 && ctx.inputs[2].present();
  if (x.type != ElementType::f32 || w.type != ElementType::f32) return nullptr;
  const size_t rank = x.shape.size();
  if (rank < 3 || rank > 5 || w.shape.size() != rank) return nullptr;
  // A computed bias is read as it arrives (plain f32 [M]).
  if (has_bias && (ctx.inputs[2].type != ElementType::f32 || ctx.inputs[2].blocked() ||
                   ctx.inputs[2].shape != Shape{w.shape[0]})) {
    return nullptr;
  }
  const Shape& y_shape = ctx.outputs[0].shape;

  const int64_t group = node.attr_int("group", 1);
  const std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
  const ops::nn::Window window = ops::nn::read_window(node, kernel);
  memory::dims strides, dilations, pad_l, pad_r;
  for (size_t d = 0; d < rank - 2; ++d) {
    const ops::nn::DimPlan dim = ops::nn::plan_forward_dim(window, d, x.shape[2 + d], node);
    if (dim.out != y_shape[2 + d]) return nullptr;
    strides.push_back(window.strides[d]);
    dilations.push_back(window.dilations[d] - 1);
    pad_l.push_back(dim.pad_begin);
    pad_r.push_back(dim.pad_end);
  }

  const dt compute = ctx.config.precision == ElementType::bf16 ? dt::bf16 : dt::f32;
  memory::dims x_dims(x.shape.begin(), x.shape.end()), y_dims(y_shape.begin(), y_shape.end());
  memory::dims w_dims(w.shape.begin(), w.shape.end());
  if (group > 1) {
    w_dims = {group, w.shape[0] / group};
    w_dims.insert(w_dims.end(), w.shape.begin() + 1, w.shape.end());
  }
  // The weights as stored, viewed with the grouped dims when there are groups (same bytes).
  const memory::desc w_plain = matrix_md(w_dims, dt::f32, false);
  const memory::desc src_any(x_dims, compute, tag::any);
  const memory::desc w_any(w_dims, compute, tag::any);
  const memory::desc dst_any(y_dims, compute, tag::any);
  const memory::desc bias_md = has_bias ? memory::desc({w.shape[0]}, dt::f32, tag::a) : memory::desc();

  dnnl::post_ops po;
  std::vector<BinaryArg> binaries;
  int sum_input = -1;
  if (!build_post_ops(ctx, 3, y_shape, 1.f, po, binaries, sum_input)) return nullptr;
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                             dnnl::algorithm::convolution_direct, src_any, w_any, bias_md,
                                             dst_any, strides, dilations, pad_l, pad_r);
  const dnnl::convolution_forward::primitive_desc pd(desc, attr, ctx.engine);
  Tensor weights = packed_weights(ctx, "W", *w.constant, w_plain, pd.weights_desc());
  Tensor bias = has_bias && ctx.inputs[2].constant ? *ctx.inputs[2].constant : Tensor();
  ctx.outputs[0].md = as_layout(pd.dst_desc(), ElementType::f32, y_shape);
  return std::make_unique<WeightedKernel>(ctx, pd, layout_of(x), std::move(weights), std::move(bias),
                                          std::move(binaries), sum_input);
}

// ---------------------------------------------------------------------------------------------------
// Pooling: MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, on any layout.

// A one-primitive kernel with a fixed argument list: src (and src1) in, dst out; `inplace` when the
// primitive may write over its first input (elementwise ones, not a pooling window).
class SimplePrimitiveKernel final : public Kernel {
 public:
  SimplePrimitiveKernel(const dnnl::engine& engine, const dnnl::primitive_desc& pd, int inputs, bool inplace)
      : engine_(engine),
        prim_(pd),
        impl_(impl_of(pd)),
        inputs_(inputs),
        inplace_(inplace),
        src_md_(pd.src_desc(0)),
        src1_md_(inputs > 1 ? pd.src_desc(1) : memory::desc()),
        dst_md_(pd.dst_desc()),
        scratchpad_md_(pd.scratchpad_desc()) {}

  std::string impl_name() const override { return impl_; }
  size_t scratch_bytes() const override { return scratchpad_md_.get_size(); }
  int inplace_input() const override { return inplace_ ? 0 : -1; }

  std::unique_ptr<KernelState> make_state() const override {
    auto s = std::make_unique<PrimitiveState>();
    s->args[inputs_ > 1 ? DNNL_ARG_SRC_0 : DNNL_ARG_SRC] = memory(src_md_, engine_, nullptr);
    if (inputs_ > 1) s->args[DNNL_ARG_SRC_1] = memory(src1_md_, engine_, nullptr);
    s->args[DNNL_ARG_DST] = memory(dst_md_, engine_, nullptr);
    s->args[DNNL_ARG_SCRATCHPAD] = memory(scratchpad_md_, engine_, nullptr);
    s->finish();
    return s;
  }

  void run(RunContext& ctx, KernelState* state) const override {
    auto& s = static_cast<PrimitiveState&>(*state);
    s.args[inputs_ > 1 ? DNNL_ARG_SRC_0 : DNNL_ARG_SRC].set_data_handle(ctx.inputs[0].data());
    if (inputs_ > 1) s.args[DNNL_ARG_SRC_1].set_data_handle(ctx.inputs[1].data());
    s.args[DNNL_ARG_DST].set_data_handle(ctx.outputs[0].data());
    s.args[DNNL_ARG_SCRATCHPAD].set_data_handle(ctx.scratch);
    execute(prim_, *ctx.stream, s.c_args);
  }

 private:
  dnnl::engine engine_;
  dnnl::primitive prim_;
  std::string impl_;
  int inputs_;
  bool inplace_;
  memory::desc src_md_, src1_md_, dst_md_, scratchpad_md_;
};

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::unique_ptr<Kernel> make_pool(PlanContext& ctx) {
  if (has_empty_tensor(ctx)) return nullptr;
  const graph::Node& node = ctx.node;
  const ValueInfo& x = ctx.inputs[0];
  if (x.type != ElementType::f32 || ctx.outputs.size() > 1) return nullptr;
  const size_t rank = x.shape.size();
  if (rank < 3 || rank > 5) return nullptr;
  const Shape& y_shape = ctx.outputs[0].shape;
  const bool global = node.op_type.rfind("Global", 0) == 0;
  const bool max = node.op_type.find("Max") != std::string::npos;
  memory::dims kernel, strides, dilations, pad_l, pad_r;
  bool include_pad = false;
  if (global) {
    for (size_t d = 2; d < rank; ++d) {
      kernel.push_back(x.shape[d]);
      strides.push_back(1);
      dilations.push_back(0);
      pad_l.push_back(0);
      pad_r.push_back(0);
    }
  } else {
    const ops::nn::Window window = ops::nn::read_window(node, node.attr_ints("kernel_shape"));
    if (window.rank() != rank - 2) return nullptr;
    include_pad = !max && node.attr_int("count_include_pad", 0) != 0;
    for (size_t d = 0; d < rank - 2; ++d) {
      const ops::nn::DimPlan dim = ops::nn::plan_forward_dim(window, d, x.shape[2 + d], node);
      if (dim.out != y_shape[2 + d]) return nullptr;
      // oneDNN's output extent is floor((in + pads - span) / stride) + 1: the end pad that yields the
      // planned extent (larger than the declared one under ceil_mode).
      const int64_t in = x.shape[2 + d];
      int64_t end =
          std::max<int64_t>((dim.out - 1) * window.strides[d] + window.span(d) - in - dim.pad_begin, 0);
      if (dim.pad_end > end &&
          (in + dim.pad_begin + dim.pad_end - window.span(d)) / window.strides[d] + 1 == dim.out) {
        end = dim.pad_end;  // the declared pad, when it gives the same extent
      }
      if ((in + dim.pad_begin + end - window.span(d)) / window.strides[d] + 1 != dim.out) return nullptr;
      if (include_pad && end != dim.pad_end) return nullptr;  // ceil_mode windows counting padding
      kernel.push_back(window.kernel[d]);
      strides.push_back(window.strides[d]);
      dilations.push_back(window.dilations[d] - 1);
      pad_l.push_back(dim.pad_begin);
      pad_r.push_back(end);
    }
  }
  const dnnl::algorithm alg = max           ? dnnl::algorithm::pooling_max
                              : include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                            : dnnl::algorithm::pooling_avg_exclude_padding;
  const memory::desc src = layout_of(x);
  const memory::desc dst(memory::dims(y_shape.begin(), y_shape.end()), src.data_type(), tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src, dst, strides,
                                            kernel, dilations, pad_l, pad_r);
  const dnnl::pooling_v2_forward::primitive_desc pd(desc, attr, ctx.engine);
  ctx.outputs[0].md = as_layout(pd.dst_desc(), ElementType::f32, y_shape);
  return std::make_unique<SimplePrimitiveKernel>(ctx.engine, pd, 1, false);
}

// ---------------------------------------------------------------------------------------------------
// Matrix products: MatMul, Gemm and FusedMatMul. Constant 2-D weights are packed and the batch folds into
// the rows (one large product); otherwise a batched product with broadcasting.

// A plain descriptor of a matrix operand with the last two dims swapped when `transposed` (same bytes).
memory::desc matrix_md(const memory::dims& dims, dt type, bool transposed) {
  const size_t r = dims.size();
  if (r < 2) return memory::desc(dims, type, memory::dims{1});
  // Stored dims: the last two swapped when transposed.
  memory::dims stored = dims;
  if (transposed) std::swap(stored[r - 1], stored[r - 2]);
  int64_t stride = 1;
  memory::dims stored_strides(r);
  for (size_t i = r; i-- > 0;) {
    stored_strides[i] = stride;
    stride *= std::max<int64_t>(stored[i], 1);
  }
  memory::dims strides = stored_strides;
  if (transposed) std::swap(strides[r - 1], strides[r - 2]);
  return memory::desc(dims, type, strides);
}

std::unique_ptr<Kernel> make_matmul(PlanContext& ctx) {
  if (has_empty_tensor(ctx)) return nullptr;
  const graph::Node& node = ctx.node;
  const bool gemm = node.op_type == "Gemm";
  const bool fused = node.op_type == "FusedMatMul";
  if (ctx.inputs.size() < 2) return nullptr;
  const ValueInfo& a = ctx.inputs[0];
  const ValueInfo& b = ctx.inputs[1];
  if (a.type != ElementType::f32 || b.type != ElementType::f32) return nullptr;
  if (a.shape.size() < 2 || b.shape.size() < 2) return nullptr;
  const bool trans_a = gemm && node.attr_int("transA", 0) != 0;
  const bool trans_b = (gemm || fused) && node.attr_int("transB", 0) != 0;
  const float alpha = (gemm || fused) ? node.attr_float("alpha", 1.f) : 1.f;
  const float beta = gemm ? node.attr_float("beta", 1.f) : 1.f;
  if (alpha == 0.f) return nullptr;
  const Shape& y_shape = ctx.outputs[0].shape;
  const size_t rank = y_shape.size();

  // Bias: Gemm's C (1-D or [1, N]) or FusedMatMul's Bias ([N]). A Gemm's C of any other shape is
  // left to the reference kernel.
  const ValueInfo* bias = ctx.inputs.size() > 2 && ctx.inputs[2].present() ? &ctx.inputs[2] : nullptr;
  const int64_t n = y_shape.back();
  // The primitive computes linear_alpha(A B + bias') (alpha as a post-op, see below): the bias is
  // scaled by beta / alpha beforehand.
  const float bias_scale = beta / alpha;
  if (bias) {
    if (bias->type != ElementType::f32 || bias->blocked() || shape_size(bias->shape) != n) return nullptr;
    if (bias->shape.size() > 2 || (bias->shape.size() == 2 && bias->shape[0] != 1)) return nullptr;
    // A computed bias is read as it arrives, so it cannot be scaled beforehand.
    if (!bias->constant && bias_scale != 1.f) return nullptr;
  }

  const bool fold_rows = b.constant && b.shape.size() == 2 && !trans_a;
  const dt compute = ctx.config.precision == ElementType::bf16 && b.constant ? dt::bf16 : dt::f32;
  memory::dims a_dims, b_dims, y_dims;
  if (fold_rows) {
    const int64_t k = a.shape.back();
    a_dims = {shape_size(a.shape) / std::max<int64_t>(k, 1), k};
    b_dims = {k, n};
    y_dims = {a_dims[0], n};
  } else {
    if (rank > 12) return nullptr;
    Shape as = a.shape, bs = b.shape;
    if (trans_a) std::swap(as[as.size() - 1], as[as.size() - 2]);
    if (trans_b) std::swap(bs[bs.size() - 1], bs[bs.size() - 2]);
    while (as.size() < rank) as.insert(as.begin(), 1);
    while (bs.size() < rank) bs.insert(bs.begin(), 1);
    a_dims.assign(as.begin(), as.end());
    b_dims.assign(bs.begin(), bs.end());
    y_dims.assign(y_shape.begin(), y_shape.end());
  }
  const size_t r = y_dims.size();
  dnnl::post_ops po;
  std::vector<BinaryArg> binaries;
  // Post-ops see the result with the folded shape when rows are folded: extras must then be full-size
  // or broadcast along rows only.
  Shape post_shape(y_dims.begin(), y_dims.end());
  if (fused) {
    const std::vector<PostOp> post = ops::post_ops_of(node);
    size_t next = 3;
    for (const PostOp& op : post) {
      if (!op.binary()) continue;
      if (next >= ctx.inputs.size()) return nullptr;
      ValueInfo& other = ctx.inputs[next++];
      if (fold_rows) {
        // Re-express the operand's shape over the folded rows.
        if (other.shape == y_shape) {
          other.shape = post_shape;
        } else if (shape_size(other.shape) == n && (other.shape.empty() || other.shape.back() == n)) {
          other.shape = {1, n};
        } else if (shape_size(other.shape) == 1) {
          other.shape = {1, 1};
        } else {
          return nullptr;
        }
      }
    }
  }
  int sum_input = -1;
  // alpha scales the product and the bias: alpha * (A B + bias * beta / alpha), as a first post-op.
  if (!build_post_ops(ctx, 3, post_shape, alpha, po, binaries, sum_input)) return nullptr;
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  const memory::desc a_md = matrix_md(a_dims, compute, trans_a);
  memory::desc b_md =
      b.constant ? memory::desc(b_dims, compute, tag::any) : matrix_md(b_dims, dt::f32, trans_b);
  const memory::desc y_md = matrix_md(y_dims, dt::f32, false);
  memory::desc bias_md;
  if (bias) {
    memory::dims bias_dims(r, 1);
    bias_dims.back() = n;
    bias_md = matrix_md(bias_dims, dt::f32, false);
  }
  const dnnl::matmul::desc desc =
      bias ? dnnl::matmul::desc(a_md, b_md, bias_md, y_md) : dnnl::matmul::desc(a_md, b_md, y_md);
  const dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);
  // transB folds into the packing: the source descriptor reads B as it is stored.
  Tensor weights = b.constant ? packed_weights(ctx, "B", *b.constant, matrix_md(b_dims, dt::f32, trans_b),
                                               pd.weights_desc())
                              : Tensor();
  Tensor bias_values;
  if (bias && bias->constant && bias_scale != 1.f) {
    const Tensor& c = *bias->constant;
    bias_values = ctx.weights.get(std::to_string(reinterpret_cast<uintptr_t>(c.data())) + "/bias/" +
                                      std::to_string(std::bit_cast<uint32_t>(bias_scale)),
                                  [&] {
                                    Tensor scaled(ElementType::f32, {n});
                                    for (int64_t i = 0; i < n; ++i)
                                      scaled.data<float>()[i] = c.data<float>()[i] * bias_scale;
                                    return scaled;
                                  });
  } else if (bias && bias->constant) {
    bias_values = *bias->constant;
  }
  return std::make_unique<WeightedKernel>(ctx, pd, matrix_md(a_dims, dt::f32, trans_a), std::move(weights),
                                          std::move(bias_values), std::move(binaries), sum_input);
}

// ---------------------------------------------------------------------------------------------------
// Concat of blocked inputs (a CNN's branches, as in SqueezeNet's fire modules and Inception), without
// leaving the blocked layout. Plain inputs are left to the device's own Concat.

class ConcatKernel final : public Kernel {
 public:
  std::string impl_name() const override { return impl_; }
  size_t scratch_bytes() const override { return scratchpad_bytes_; }

  std::unique_ptr<KernelState> make_state() const override {
    auto s = std::make_unique<PrimitiveState>();
    for (size_t i = 0; i < inputs_; ++i) {
      s->args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)] =
          memory(pd_.src_desc(static_cast<int>(i)), engine_, nullptr);
    }
    s->args[DNNL_ARG_DST] = memory(pd_.dst_desc(), engine_, nullptr);
    s->args[DNNL_ARG_SCRATCHPAD] = memory(pd_.scratchpad_desc(), engine_, nullptr);
    s->finish();
    return s;
  }

  void run(RunContext& ctx, KernelState* state) const override {
    auto& s = static_cast<PrimitiveState&>(*state);
    for (size_t i = 0; i < inputs_; ++i) {
      s.args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)].set_data_handle(ctx.inputs[i].data());
    }
    s.args[DNNL_ARG_DST].set_data_handle(ctx.outputs[0].data());
    s.args[DNNL_ARG_SCRATCHPAD].set_data_handle(ctx.scratch);
    execute(concat_, *ctx.stream, s.c_args);
  }

  static std::unique_ptr<Kernel> make(PlanContext& ctx) {
    if (has_empty_tensor(ctx) || ctx.inputs.empty()) return nullptr;
    bool any_blocked = false;
    std::vector<memory::desc> srcs;
    for (const ValueInfo& in : ctx.inputs) {
      if (!in.present() || in.type != ElementType::f32 || in.shape.empty()) return nullptr;
      any_blocked = any_blocked || in.blocked();
      srcs.push_back(layout_of(in));
    }
    if (!any_blocked) return nullptr;
    const int64_t rank = static_cast<int64_t>(ctx.inputs[0].shape.size());
    int64_t axis = ctx.node.attr_int("axis");
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return nullptr;
    auto k = std::make_unique<ConcatKernel>();
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const Shape& y_shape = ctx.outputs[0].shape;
    const memory::desc dst(memory::dims(y_shape.begin(), y_shape.end()), srcs[0].data_type(), tag::any);
    k->engine_ = ctx.engine;
    k->inputs_ = srcs.size();
    k->pd_ = dnnl::concat::primitive_desc(dst, static_cast<int>(axis), srcs, ctx.engine, attr);
    k->concat_ = dnnl::concat(k->pd_);
    k->impl_ = impl_of(k->pd_);
    k->scratchpad_bytes_ = k->pd_.scratchpad_desc().get_size();
    ctx.outputs[0].md = as_layout(k->pd_.dst_desc(), ElementType::f32, y_shape);
    return k;
  }

 private:
  dnnl::engine engine_;
  size_t inputs_ = 0;
  dnnl::concat::primitive_desc pd_;
  dnnl::concat concat_;
  size_t scratchpad_bytes_ = 0;
  std::string impl_;
};

// ---------------------------------------------------------------------------------------------------
// Elementwise operators on blocked tensors (an activation or an Add that no convolution could absorb, as
// after a Concat), so that a chain of oneDNN kernels keeps its layout. Plain tensors are left to the
// device's own elementwise kernels.

std::unique_ptr<Kernel> make_blocked_eltwise(PlanContext& ctx) {
  const graph::Node& node = ctx.node;
  if (has_empty_tensor(ctx) || ctx.inputs.empty() || !ctx.inputs[0].blocked()) return nullptr;
  if (ctx.inputs[0].type != ElementType::f32) return nullptr;
  PostOp op{ops::PostOpKind::Relu};
  if (node.op_type == "Clip") {
    // Only the opset 6 attribute form here; input bounds are left to the plain kernel.
    if (node.opset_version >= 11) return nullptr;
    op = {PostOpKind::Clip, node.attr_float("min", std::numeric_limits<float>::lowest()),
          node.attr_float("max", std::numeric_limits<float>::max())};
  } else if (node.op_type == "Gelu") {
    op.kind = node.attr_string("approximate", "none") == "tanh" ? PostOpKind::GeluTanh : PostOpKind::Gelu;
  } else {
    op.kind = ops::post_op_kind(node.op_type);
    if (op.kind == PostOpKind::LeakyRelu) op.alpha = node.attr_float("alpha", 0.01f);
    if (op.kind == PostOpKind::Elu) op.alpha = node.attr_float("alpha", 1.f);
    if (op.kind == PostOpKind::HardSigmoid) return nullptr;  // two oneDNN steps: left to the plain kernel
  }
  dnnl::post_ops po;
  if (!append_eltwise(po, op) || po.len() != 1) return nullptr;
  dnnl::algorithm alg;
  float scale, alpha, beta;
  po.get_params_eltwise(0, scale, alg, alpha, beta);
  const dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, alg, ctx.inputs[0].md, alpha,
                                         beta);
  const dnnl::eltwise_forward::primitive_desc pd(desc, user_scratchpad(), ctx.engine);
  ctx.outputs[0].md = as_layout(pd.dst_desc(), ElementType::f32, ctx.outputs[0].shape);
  return std::make_unique<SimplePrimitiveKernel>(ctx.engine, pd, 1, true);
}

std::unique_ptr<Kernel> make_blocked_binary(PlanContext& ctx) {
  if (has_empty_tensor(ctx) || ctx.inputs.size() != 2) return nullptr;
  const ValueInfo& a = ctx.inputs[0];
  const ValueInfo& b = ctx.inputs[1];
  if (!a.blocked() || a.type != ElementType::f32 || b.type != ElementType::f32) return nullptr;
  if (a.shape != ctx.outputs[0].shape || b.shape != a.shape) return nullptr;  // no broadcasting here
  const std::string& op = ctx.node.op_type;
  const dnnl::algorithm alg = op == "Add"   ? dnnl::algorithm::binary_add
                              : op == "Mul" ? dnnl::algorithm::binary_mul
                              : op == "Sub" ? dnnl::algorithm::binary_sub
                                            : dnnl::algorithm::binary_div;
  const dnnl::binary::desc desc(alg, a.md, layout_of(b), a.md);
  const dnnl::binary::primitive_desc pd(desc, user_scratchpad(), ctx.engine);
  ctx.outputs[0].md = as_layout(pd.dst_desc(), ElementType::f32, ctx.outputs[0].shape);
  return std::make_unique<SimplePrimitiveKernel>(ctx.engine, pd, 2, true);
}

}  // namespace

void register_dnnl_kernels(KernelRegistry& registry) {
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "HardSwish", "Clip", "Gelu"}) {
    registry.add("", op, {make_blocked_eltwise, true});
  }
  for (const char* op : {"Add", "Mul", "Sub", "Div"}) registry.add("", op, {make_blocked_binary, true});
  registry.add("", "Concat", {ConcatKernel::make, true});
  registry.add("", "Conv", {make_conv, true});
  registry.add("com.sluice", "FusedConv", {make_conv, true});
  for (const char* op : {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}) {
    registry.add("", op, {make_pool, true});
  }
  registry.add("", "MatMul", {make_matmul, false});
  registry.add("", "Gemm", {make_matmul, false});
  registry.add("com.sluice", "FusedMatMul", {make_matmul, false});
}

}  // namespace sluice::cpu
