// The CPU kernel of com.sluice Attention (src/ops/fused_attention.cpp): Y = softmax(scale Q K^T + mask) V
// without materializing the [batch..., Sq, Sk] score tensor. The work is split into (batch item, block of
// query rows) items; each item computes its block of scores into a per-thread scratch buffer with oneDNN's
// sgemm, adds the mask and takes the exponentials row by row, multiplies by V straight into the output, and
// divides each output row by its row's sum (Dv divisions per row instead of Sk). A block of scores stays in
// L1/L2 between the two products, where the decomposed chain writes and re-reads the whole score tensor
// three times (Mul, Add, Softmax). sgemm runs single-threaded inside the parallel region.
//
// Numerics: f32 throughout (sgemm accumulates in f32, exp is exp_approx), where the reference accumulates
// the products and the softmax in double: for inputs in [-2, 2] the outputs differ from the reference by
// about 1e-7 absolute. A row whose scores are all -inf (or contain NaN or +inf) gives NaN, as the
// reference does.
#include <atomic>
#include <cmath>
#include <limits>
#include <utility>

#include "devices/cpu/kernel.hpp"
#include "devices/cpu/vec_math.hpp"
#include "ops/common.hpp"

namespace sluice::cpu {
namespace {

// s[j] += mask[j] (when mask is not null) or s[j] += bias; returns max_j s[j]. NaN scores may or may not
// win the max: either way the row's sum becomes NaN and so does the whole row, as in the reference.
SLUICE_TARGET_CLONES float add_mask_and_max(float* s, const float* mask, float bias, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  if (mask) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; ++j) {
      const float v = s[j] + mask[j];
      s[j] = v;
      mx = v > mx ? v : mx;
    }
  } else {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; ++j) {
      const float v = s[j] + bias;
      s[j] = v;
      mx = v > mx ? v : mx;
    }
  }
  return mx;
}

// s[j] = e^(s[j] - mx); returns the sum. mx = -inf (every score -inf) gives NaN everywhere, like the
// reference's -inf - -inf.
SLUICE_TARGET_CLONES float exp_and_sum(float* s, float mx, int64_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float e = exp_approx(s[j] - mx);
    s[j] = e;
    sum += e;
  }
  return sum;
}

SLUICE_TARGET_CLONES void scale_row(float* s, float f, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) s[j] *= f;
}

class AttentionKernel : public Kernel {
 public:
  static constexpr int64_t max_block = 64;
  struct Geometry {
    int64_t batch = 0;  // product of the leading dims
    int64_t sq = 0, sk = 0, d = 0, dv = 0;
    bool k_transposed = false;
    float scale = 1;
    bool has_mask = false;
    std::vector<int64_t> mask_batch_offset;  // per batch item: its mask offset (elements)
    int64_t mask_row_stride = 0;             // mask stride along Sq (0 when broadcast)
    int64_t mask_col_stride = 0;             // along Sk: 1, or 0 when broadcast
  };

  AttentionKernel(Geometry g, int threads) : g_(std::move(g)) {
    // Blocks of query rows: large enough that sgemm amortizes its packing of K and V over many rows, small
    // enough that a block of scores stays in L2 and that there are enough items for every thread.
    block_ = std::min<int64_t>(g_.sq, max_block);
    while (block_ > 8 && block_ * g_.sk > 64 * 1024) block_ /= 2;
    while (block_ > 8 && g_.batch * ceil_div(g_.sq, block_) < 2 * threads) block_ /= 2;
    blocks_per_batch_ = ceil_div(g_.sq, block_);
    items_ = g_.batch * blocks_per_batch_;
    slots_ = std::max<int64_t>(1, std::min<int64_t>(threads, items_));
    // One block of scores per slot, padded to a cache line so that slots never share one.
    slot_floats_ = (block_ * g_.sk + 15) / 16 * 16;
  }

  std::string impl_name() const override { return "sluice:attention_sgemm"; }
  size_t scratch_bytes() const override { return static_cast<size_t>(slots_ * slot_floats_) * sizeof(float); }

  void run(RunContext& ctx, KernelState*) const override {
    const float* q = ctx.inputs[0].data<float>();
    const float* k = ctx.inputs[1].data<float>();
    const float* v = ctx.inputs[2].data<float>();
    const float* mask = g_.has_mask ? ctx.inputs[3].data<float>() : nullptr;
    float* y = ctx.outputs[0].data<float>();
    float* scratch = static_cast<float*>(ctx.scratch);
    std::atomic<bool> failed{false};
    // Slots, not OpenMP thread ids, index the scratch: a slot range runs on one thread, whatever the team
    // size at run time (smaller, or 1 when run() is called inside another parallel region).
    parallel_for(slots_, 1, [&](int64_t s0, int64_t s1) {
      float* scores = scratch + s0 * slot_floats_;
      for (int64_t w = items_ * s0 / slots_; w < items_ * s1 / slots_; ++w) {
        if (!run_item(w, q, k, v, mask, y, scores)) failed = true;
      }
    });
    SLUICE_CHECK(!failed, "Attention (", impl_name(), "): oneDNN sgemm failed");
  }

 private:
  static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

  bool run_item(int64_t w, const float* q, const float* k, const float* v, const float* mask, float* y,
                float* scores) const {
    const int64_t b = w / blocks_per_batch_;
    const int64_t i0 = (w % blocks_per_batch_) * block_;
    const int64_t m = std::min(block_, g_.sq - i0);
    const int64_t sk = g_.sk;
    const float* kb = k + b * sk * g_.d;
    // scores[m, Sk] = scale * Q_blk K^T; K^T is K read transposed ('T'), or K as given when stored [D, Sk].
    dnnl::status st =
        dnnl::sgemm('N', g_.k_transposed ? 'N' : 'T', m, sk, g_.d, g_.scale, q + (b * g_.sq + i0) * g_.d,
                    g_.d, kb, g_.k_transposed ? sk : g_.d, 0.0f, scores, sk);
    if (st != dnnl::status::success) return false;
    float inv_sum[max_block];
    for (int64_t i = 0; i < m; ++i) {
      float* row = scores + i * sk;
      const float* mrow = nullptr;
      float bias = 0;
      if (g_.has_mask) {
        const float* mp = mask + g_.mask_batch_offset[static_cast<size_t>(b)] + (i0 + i) * g_.mask_row_stride;
        if (g_.mask_col_stride == 1) {
          mrow = mp;
        } else {
          bias = *mp;
        }
      }
      const float mx = add_mask_and_max(row, mrow, bias, sk);
      inv_sum[i] = 1.0f / exp_and_sum(row, mx, sk);
    }
    // Y_blk[m, Dv] = P V, written in place in the output; each row normalized after the product, on Dv
    // values instead of Sk.
    float* yb = y + (b * g_.sq + i0) * g_.dv;
    st = dnnl::sgemm('N', 'N', m, g_.dv, sk, 1.0f, scores, sk, v + b * sk * g_.dv, g_.dv, 0.0f, yb, g_.dv);
    for (int64_t i = 0; i < m; ++i) scale_row(yb + i * g_.dv, inv_sum[i], g_.dv);
    return st == dnnl::status::success;
  }

  Geometry g_;
  int64_t block_ = 1, blocks_per_batch_ = 1, items_ = 0, slots_ = 1, slot_floats_ = 0;
};

// Plans the kernel; nullptr for what it does not handle (the reference kernel then runs, and reports the
// errors of inconsistent shapes): other types than f32, empty tensors, shapes that do not fit.
std::unique_ptr<Kernel> make_attention(PlanContext& ctx) {
  const graph::Node& node = ctx.node;
  if (ctx.inputs.size() < 3 || ctx.outputs.size() != 1 || !node.has_attr("scale")) return nullptr;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const ValueInfo& in = ctx.inputs[i];
    if (i < 3 && !in.present()) return nullptr;
    if (in.present() && (in.type != ElementType::f32 || in.blocked())) return nullptr;
  }
  if (ctx.outputs[0].type != ElementType::f32) return nullptr;
  const Shape& qs = ctx.inputs[0].shape;
  const Shape& ks = ctx.inputs[1].shape;
  const Shape& vs = ctx.inputs[2].shape;
  const size_t r = qs.size();
  if (r < 3 || ks.size() != r || vs.size() != r) return nullptr;

  AttentionKernel::Geometry g;
  g.k_transposed = node.attr_int("k_transposed", 0) != 0;
  g.scale = node.attr_float("scale");
  g.sq = qs[r - 2];
  g.d = qs[r - 1];
  g.sk = vs[r - 2];
  g.dv = vs[r - 1];
  const Shape batch_dims(qs.begin(), qs.end() - 2);
  if (Shape(ks.begin(), ks.end() - 2) != batch_dims || Shape(vs.begin(), vs.end() - 2) != batch_dims) {
    return nullptr;
  }
  if (ks[g.k_transposed ? r - 2 : r - 1] != g.d || ks[g.k_transposed ? r - 1 : r - 2] != g.sk) return nullptr;
  Shape out = batch_dims;
  out.push_back(g.sq);
  out.push_back(g.dv);
  if (ctx.outputs[0].shape != out) return nullptr;
  g.batch = shape_size(batch_dims);
  if (g.batch == 0 || g.sq == 0 || g.sk == 0 || g.d == 0 || g.dv == 0) return nullptr;

  g.has_mask = ctx.inputs.size() > 3 && ctx.inputs[3].present();
  if (g.has_mask) {
    const Shape& ms = ctx.inputs[3].shape;
    Shape scores = batch_dims;
    scores.push_back(g.sq);
    scores.push_back(g.sk);
    if (ms.size() > r) return nullptr;
    for (size_t i = 0; i < ms.size(); ++i) {
      const int64_t t = scores[r - ms.size() + i];
      if (ms[i] != 1 && ms[i] != t) return nullptr;
    }
    const std::vector<int64_t> strides = ops::broadcast_strides(ms, scores);
    g.mask_row_stride = strides[r - 2];
    g.mask_col_stride = strides[r - 1];
    std::vector<int64_t> index(r - 2, 0);
    for (int64_t b = 0; b < g.batch; ++b) {
      int64_t offset = 0;
      for (size_t i = 0; i + 2 < r; ++i) offset += index[i] * strides[i];
      g.mask_batch_offset.push_back(offset);
      for (size_t i = r - 2; i-- > 0;) {
        if (++index[i] < batch_dims[i]) break;
        index[i] = 0;
      }
    }
  }
  return std::make_unique<AttentionKernel>(std::move(g), omp_get_max_threads());
}

}  // namespace

void register_attention_kernels(KernelRegistry& registry) {
  registry.add("com.sluice", "Attention", {make_attention, false});
}

}  // namespace sluice::cpu
