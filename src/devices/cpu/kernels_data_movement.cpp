// The CPU device's own data-movement kernels: views (Reshape, Flatten, Squeeze, Unsqueeze, Identity),
// Transpose, Gather, Concat, Split, Slice, Expand, Tile, Pad and Resize. Every kernel moves elements by
// their size only (1, 2, 4 or 8 bytes), so one kernel serves every element type, except linear Resize
// (f32). Each factory returns nullptr for what it does not handle; the reference kernel then runs.
//
// Parameters that arrive as tensors (Slice starts/ends, Expand/Tile/Pad shapes) are read again at run
// time whether constant or not, into fixed arrays, and checked against the planned output shape.
#include "devices/cpu/kernels_data_movement.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "ops/resize_coordinates.hpp"
#include "ops/tensor_common.hpp"

namespace sluice::cpu {
namespace {

using dm::max_rank;
using dm::parallel_bytes;
using graph::Node;

// Calls f(E{}) with an unsigned integer type of `size` bytes (1, 2, 4 or 8).
template <class F> void by_element_size(size_t size, F&& f) {
  switch (size) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: throw_error("no data-movement kernel for elements of ", size, " bytes");
  }
}

bool movable(ElementType type) {
  const size_t size = element_size(type);
  return type != ElementType::undefined && (size == 1 || size == 2 || size == 4 || size == 8);
}

// Whether input i is present with a plain layout and an element type these kernels move.
bool plain_input(const PlanContext& ctx, size_t i) {
  return i < ctx.inputs.size() && ctx.inputs[i].present() && !ctx.inputs[i].blocked() &&
         movable(ctx.inputs[i].type);
}

bool rank_ok(const Shape& shape) { return static_cast<int>(shape.size()) <= max_rank; }

std::vector<int64_t> row_major_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

// A shape in a fixed array: shapes computed at run time, without allocating.
struct Dims {
  int rank = 0;
  int64_t extent[max_rank] = {};

  Dims() = default;
  explicit Dims(const Shape& shape) : rank(static_cast<int>(shape.size())) {
    std::copy(shape.begin(), shape.end(), extent);
  }
  int64_t& operator[](int64_t d) { return extent[d]; }
  bool operator==(const Shape& shape) const {
    return shape.size() == static_cast<size_t>(rank) && std::equal(extent, extent + rank, shape.begin());
  }
  Shape shape() const { return Shape(extent, extent + rank); }
};

// Fills `count` elements of type E at dst with `value`.
template <class E> void fill_elements(E* dst, int64_t count, E value) {
  for (int64_t i = 0; i < count; ++i) dst[i] = value;
}

// -------------------------------------------------------------------------------------------------- Views

// Output 0 is input 0's bytes under the planned shape; the planner aliases the memory, so run() is only a
// fallback that copies when it is given separate buffers.
class ViewKernel final : public Kernel {
 public:
  std::string impl_name() const override { return "sluice:view"; }
  bool is_view() const override { return true; }
  void run(RunContext& ctx, KernelState*) const override {
    const Tensor& in = ctx.inputs[0];
    Tensor& out = ctx.outputs[0];
    if (out.data() != in.data() && in.byte_size() > 0) std::memcpy(out.data(), in.data(), in.byte_size());
  }
};

// A view when the planned output has input 0's type and element count, and the inputs that decide the
// output shape (`shape_inputs`, when present) are constants: with a computed shape tensor the planned
// shape could not be trusted at run time, and a view never runs to check it.
std::unique_ptr<Kernel> make_view(const PlanContext& ctx, std::initializer_list<size_t> shape_inputs) {
  if (ctx.inputs.empty() || ctx.outputs.empty() || !ctx.inputs[0].present() || ctx.inputs[0].blocked() ||
      !ctx.outputs[0].present()) {
    return nullptr;
  }
  for (size_t i : shape_inputs) {
    if (i < ctx.inputs.size() && ctx.inputs[i].present() && !ctx.inputs[i].constant) return nullptr;
  }
  if (ctx.outputs[0].type != ctx.inputs[0].type) return nullptr;
  if (shape_size(ctx.outputs[0].shape) != shape_size(ctx.inputs[0].shape)) return nullptr;
  return std::make_unique<ViewKernel>();
}

void register_views(KernelRegistry& registry) {
  registry.add("", "Identity", {[](PlanContext& ctx) { return make_view(ctx, {}); }, false});
  registry.add("", "Flatten", {[](PlanContext& ctx) { return make_view(ctx, {}); }, false});
  // Reshape-1 takes the shape as an attribute, Squeeze/Unsqueeze before 13 the axes.
  registry.add("", "Reshape", {[](PlanContext& ctx) { return make_view(ctx, {1}); }, false});
  registry.add("", "Squeeze", {[](PlanContext& ctx) { return make_view(ctx, {1}); }, false});
  registry.add("", "Unsqueeze", {[](PlanContext& ctx) { return make_view(ctx, {1}); }, false});
}

// ------------------------------------------------------------------------------------------ Strided copy

// A dense output whose element at multi-index i is input element offset + sum(i[d] * stride[d]): the
// shape of Slice (steps as strides), Expand (stride 0 on broadcast dims), Tile (each dim split into a
// repeat dim of stride 0 and the input dim) and Transpose (permuted strides).
struct StridedCopy {
  static constexpr int capacity = 2 * max_rank;
  int rank = 0;
  int64_t extent[capacity] = {};
  int64_t stride[capacity] = {};  // in input elements; 0 broadcasts, negative walks backwards
  int64_t offset = 0;

  void push(int64_t e, int64_t s) {
    extent[rank] = e;
    stride[rank] = s;
    ++rank;
  }
  int64_t count() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= extent[d];
    return n;
  }
  // Drops dims of extent 1 and merges neighbours that the input walks as one, so that the innermost loop
  // is as long as possible. An empty copy keeps a 0 extent.
  void simplify() {
    int r = 0;
    for (int d = 0; d < rank; ++d) {
      if (extent[d] == 0) {
        rank = 1;
        extent[0] = 0;
        return;
      }
      if (extent[d] == 1) continue;
      if (r > 0 && stride[r - 1] == stride[d] * extent[d]) {
        extent[r - 1] *= extent[d];
        stride[r - 1] = stride[d];
        continue;
      }
      extent[r] = extent[d];
      stride[r] = stride[d];
      ++r;
    }
    rank = r;
  }
};

// Copies the innermost run [begin, end) of a row whose first element is src + base.
template <class E>
void copy_inner(const E* src, int64_t base, int64_t stride, int64_t begin, int64_t end, E* dst) {
  if (stride == 1) {
    std::memcpy(dst + begin, src + base + begin, static_cast<size_t>(end - begin) * sizeof(E));
  } else if (stride == 0) {
    fill_elements(dst + begin, end - begin, src[base]);
  } else {
    for (int64_t i = begin; i < end; ++i) dst[i] = src[base + i * stride];
  }
}

template <class E> void run_strided_copy_typed(const StridedCopy& c, const E* src, E* dst) {
  const int64_t total = c.count();
  if (total == 0) return;
  const int outer_rank = c.rank > 0 ? c.rank - 1 : 0;
  const int64_t inner = c.rank > 0 ? c.extent[c.rank - 1] : 1;
  const int64_t inner_stride = c.rank > 0 ? c.stride[c.rank - 1] : 0;
  const int64_t rows = total / inner;
  // Long rows are cut into pieces so that a few large rows still spread over the threads.
  const int64_t row_bytes = inner * static_cast<int64_t>(sizeof(E));
  const int64_t pieces = std::max<int64_t>(1, row_bytes / (4 * parallel_bytes));
  const int64_t units = rows * pieces;
  const int64_t grain = std::max<int64_t>(1, parallel_bytes / std::max<int64_t>(1, row_bytes / pieces));
  parallel_for(units, grain, [&](int64_t begin, int64_t end) {
    int64_t index[StridedCopy::capacity];
    int64_t row = begin / pieces;
    int64_t base = c.offset;
    int64_t rest = row;
    for (int d = outer_rank; d-- > 0;) {
      index[d] = rest % c.extent[d];
      rest /= c.extent[d];
      base += index[d] * c.stride[d];
    }
    for (int64_t u = begin; u < end; ++u) {
      const int64_t piece = u % pieces;
      copy_inner(src, base, inner_stride, inner * piece / pieces, inner * (piece + 1) / pieces,
                 dst + row * inner);
      if (piece + 1 < pieces) continue;
      ++row;
      for (int d = outer_rank; d-- > 0;) {
        base += c.stride[d];
        if (++index[d] < c.extent[d]) break;
        base -= c.stride[d] * c.extent[d];
        index[d] = 0;
      }
    }
  });
}

void run_strided_copy(const StridedCopy& c, const Tensor& in, Tensor& out) {
  by_element_size(element_size(in.type()), [&](auto tag) {
    using E = decltype(tag);
    run_strided_copy_typed(c, static_cast<const E*>(in.data()), static_cast<E*>(out.data()));
  });
}

// -------------------------------------------------------------------------------------------- Transpose

// A transpose reduced to its essential dims (see StridedCopy::simplify). When the input's contiguous dim
// stays innermost it is a row copy; otherwise square tiles of the two innermost dims (the input's and the
// output's) are swapped so that both sides are read and written a cache line at a time.
class TransposeKernel final : public Kernel {
 public:
  TransposeKernel(const Shape& in_shape, const std::vector<int64_t>& perm, size_t esize) : esize_(esize) {
    const auto strides = row_major_strides(in_shape);
    for (int64_t p : perm) copy_.push(in_shape[static_cast<size_t>(p)], strides[static_cast<size_t>(p)]);
    copy_.simplify();
    const int r = copy_.rank;
    if (r < 2 || copy_.stride[r - 1] == 1 || copy_.count() == 0) return;
    tiled_ = true;
    for (int d = 0; d < r; ++d) {
      if (copy_.stride[d] == 1) row_dim_ = d;
    }
    int64_t s = 1;
    for (int d = r; d-- > 0;) {
      out_stride_[d] = s;
      s *= copy_.extent[d];
    }
    tile_ = std::max<int64_t>(16, 128 / static_cast<int64_t>(esize));
  }

  std::string impl_name() const override { return tiled_ ? "sluice:transpose_tiled" : "sluice:transpose"; }

  void run(RunContext& ctx, KernelState*) const override {
    if (!tiled_) {
      run_strided_copy(copy_, ctx.inputs[0], ctx.outputs[0]);
      return;
    }
    by_element_size(esize_, [&](auto tag) {
      using E = decltype(tag);
      run_tiled(static_cast<const E*>(ctx.inputs[0].data()), static_cast<E*>(ctx.outputs[0].data()));
    });
  }

 private:
  // Dims: k = row_dim_ (input contiguous), l = last (output contiguous); the rest are batch dims.
  template <class E> void run_tiled(const E* src, E* dst) const {
    const int r = copy_.rank;
    const int k = row_dim_;
    const int l = r - 1;
    const int64_t ek = copy_.extent[k], el = copy_.extent[l];
    const int64_t tk = (ek + tile_ - 1) / tile_, tl = (el + tile_ - 1) / tile_;
    int64_t batch = 1;
    for (int d = 0; d < r; ++d) {
      if (d != k && d != l) batch *= copy_.extent[d];
    }
    const int64_t in_l = copy_.stride[l], out_k = out_stride_[k];
    const int64_t grain =
        std::max<int64_t>(1, parallel_bytes / (tile_ * tile_ * static_cast<int64_t>(sizeof(E))));
    parallel_for(batch * tk * tl, grain, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t bl = u % tl, bk = (u / tl) % tk;
        int64_t b = u / (tl * tk);
        int64_t in_base = copy_.offset, out_base = 0;
        for (int d = r; d-- > 0;) {
          if (d == k || d == l) continue;
          const int64_t i = b % copy_.extent[d];
          b /= copy_.extent[d];
          in_base += i * copy_.stride[d];
          out_base += i * out_stride_[d];
        }
        const int64_t k0 = bk * tile_, k1 = std::min(ek, k0 + tile_);
        const int64_t l0 = bl * tile_, l1 = std::min(el, l0 + tile_);
        for (int64_t ik = k0; ik < k1; ++ik) {
          const E* s = src + in_base + ik;
          E* o = dst + out_base + ik * out_k;
          for (int64_t il = l0; il < l1; ++il) o[il] = s[il * in_l];
        }
      }
    });
  }

  size_t esize_;
  StridedCopy copy_;
  bool tiled_ = false;
  int row_dim_ = 0;
  int64_t out_stride_[StridedCopy::capacity] = {};
  int64_t tile_ = 16;
};

std::unique_ptr<Kernel> make_transpose(PlanContext& ctx) {
  if (!plain_input(ctx, 0) || !rank_ok(ctx.inputs[0].shape)) return nullptr;
  const Shape& in = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(in.size());
  std::vector<int64_t> perm;
  if (ctx.node.has_attr("perm")) {
    perm = ctx.node.attr_ints("perm");
    if (static_cast<int64_t>(perm.size()) != rank) return nullptr;
    std::vector<bool> seen(in.size(), false);
    for (int64_t p : perm) {
      if (p < 0 || p >= rank || seen[static_cast<size_t>(p)]) return nullptr;
      seen[static_cast<size_t>(p)] = true;
    }
  } else {
    for (int64_t d = rank; d-- > 0;) perm.push_back(d);
  }
  return std::make_unique<TransposeKernel>(in, perm, element_size(ctx.inputs[0].type));
}

// ------------------------------------------------------------------------------------------------ Gather

// data seen as [outer, extent, inner]; output [outer, indices, inner]: one contiguous row per (outer,
// index). Every index is checked before any is used.
class GatherKernel final : public Kernel {
 public:
  GatherKernel(std::string where, int64_t axis, int64_t outer, int64_t extent, int64_t inner, size_t esize)
      : where_(std::move(where)), axis_(axis), outer_(outer), extent_(extent), inner_(inner), esize_(esize) {}

  std::string impl_name() const override { return "sluice:gather"; }

  void run(RunContext& ctx, KernelState*) const override {
    const Tensor& indices = ctx.inputs[1];
    const int64_t n = indices.size();
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = dm::int_at(indices, j);
      if (i < -extent_ || i >= extent_) {
        throw_error(where_, "input 'indices' holds index ", i, " (at position ", j,
                    "), out of range for axis ", axis_, " of extent ", extent_, "; expected ", -extent_,
                    " to ", extent_ - 1);
      }
    }
    by_element_size(esize_, [&](auto tag) {
      using E = decltype(tag);
      if (indices.type() == ElementType::i64) {
        gather<E>(ctx, static_cast<const int64_t*>(indices.data()), n);
      } else {
        gather<E>(ctx, static_cast<const int32_t*>(indices.data()), n);
      }
    });
  }

 private:
  template <class E, class I> void gather(RunContext& ctx, const I* indices, int64_t n) const {
    const E* src = static_cast<const E*>(ctx.inputs[0].data());
    E* dst = static_cast<E*>(ctx.outputs[0].data());
    const int64_t rows = outer_ * n;
    const int64_t inner = inner_, extent = extent_;
    if (rows == 0 || inner == 0) return;
    const int64_t grain = std::max<int64_t>(1, parallel_bytes / (inner * static_cast<int64_t>(sizeof(E))));
    parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t o = r / n;
        int64_t i = static_cast<int64_t>(indices[r - o * n]);
        if (i < 0) i += extent;
        const E* from = src + (o * extent + i) * inner;
        if (inner == 1) {
          dst[r] = *from;
        } else {
          std::memcpy(dst + r * inner, from, static_cast<size_t>(inner) * sizeof(E));
        }
      }
    });
  }

  std::string where_;
  int64_t axis_, outer_, extent_, inner_;
  size_t esize_;
};

std::unique_ptr<Kernel> make_gather(PlanContext& ctx) {
  if (!plain_input(ctx, 0) || ctx.inputs.size() < 2 || !ctx.inputs[1].present() || ctx.inputs[1].blocked() ||
      !dm::is_index_type(ctx.inputs[1].type)) {
    return nullptr;
  }
  const Shape& shape = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(shape.size());
  int64_t axis = ctx.node.attr_int("axis", 0);
  if (rank < 1 || axis < -rank || axis >= rank) return nullptr;
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[static_cast<size_t>(d)];
  return std::make_unique<GatherKernel>(dm::where_of(ctx.node), axis, outer, shape[static_cast<size_t>(axis)],
                                        inner, element_size(ctx.inputs[0].type));
}

// ---------------------------------------------------------------------------------------- Concat, Split

// The rows of a concatenation: the big tensor is [outer, row_bytes], part i fills bytes [begin[i],
// begin[i] + bytes[i]) of each row and is itself [outer, bytes[i]]. Concat gathers the parts into the big
// tensor, Split scatters the big tensor into the parts. Work is split by bytes of the big tensor, so a
// concatenation along axis 0 of two large tensors spreads over every thread as well as one of many rows.
struct RowParts {
  int64_t outer = 0;
  int64_t row_bytes = 0;
  std::vector<int64_t> begin;  // per part, ascending
  std::vector<int64_t> bytes;

  template <class F> void for_each_piece(F&& copy) const {
    const int64_t total = outer * row_bytes;
    if (total == 0) return;
    const int64_t block = 2 * parallel_bytes;
    parallel_for((total + block - 1) / block, 1, [&](int64_t b0, int64_t b1) {
      const int64_t end = std::min(total, b1 * block);
      int64_t p = b0 * block;
      while (p < end) {
        const int64_t o = p / row_bytes, off = p - o * row_bytes;
        // The last part starting at or before `off`: parts of zero bytes share a start with the next one.
        const auto it = std::upper_bound(begin.begin(), begin.end(), off) - 1;
        const auto part = static_cast<size_t>(it - begin.begin());
        const int64_t in_part = off - begin[part];
        const int64_t len = std::min(end - p, bytes[part] - in_part);
        copy(part, p, o * bytes[part] + in_part, len);
        p += len;
      }
    });
  }
};

// The parts of `shapes` along `axis`, or nullopt when they do not line up around it.
std::optional<RowParts> row_parts(const Shape& whole, const std::vector<Shape>& shapes, int64_t axis,
                                  size_t esize) {
  RowParts parts;
  parts.outer = 1;
  for (int64_t d = 0; d < axis; ++d) parts.outer *= whole[static_cast<size_t>(d)];
  int64_t along = 0;
  for (const Shape& s : shapes) {
    if (s.size() != whole.size()) return std::nullopt;
    for (size_t d = 0; d < s.size(); ++d) {
      if (static_cast<int64_t>(d) != axis && s[d] != whole[d]) return std::nullopt;
    }
    along += s[static_cast<size_t>(axis)];
    const int64_t part_bytes =
        parts.outer == 0 ? 0 : shape_size(s) / parts.outer * static_cast<int64_t>(esize);
    parts.begin.push_back(parts.row_bytes);
    parts.bytes.push_back(part_bytes);
    parts.row_bytes += part_bytes;
  }
  if (along != whole[static_cast<size_t>(axis)]) return std::nullopt;
  return parts;
}

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(RowParts parts) : parts_(std::move(parts)) {}
  std::string impl_name() const override { return "sluice:concat"; }
  void run(RunContext& ctx, KernelState*) const override {
    auto* dst = static_cast<char*>(ctx.outputs[0].data());
    parts_.for_each_piece([&](size_t part, int64_t big, int64_t small, int64_t len) {
      std::memcpy(dst + big, static_cast<const char*>(ctx.inputs[part].data()) + small,
                  static_cast<size_t>(len));
    });
  }

 private:
  RowParts parts_;
};

std::unique_ptr<Kernel> make_concat(PlanContext& ctx) {
  if (ctx.inputs.empty() || !ctx.outputs[0].present()) return nullptr;
  const Shape& out = ctx.outputs[0].shape;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!plain_input(ctx, i) || ctx.inputs[i].type != ctx.inputs[0].type) return nullptr;
    shapes.push_back(ctx.inputs[i].shape);
  }
  const auto rank = static_cast<int64_t>(out.size());
  if (rank == 0 || ctx.outputs[0].type != ctx.inputs[0].type) return nullptr;
  // Concat-1 has a default axis of 1; from Concat-4 'axis' is required.
  int64_t axis = ctx.node.opset_version < 4 ? ctx.node.attr_int("axis", 1) : ctx.node.attr_int("axis", rank);
  if (axis < -rank || axis >= rank) return nullptr;
  if (axis < 0) axis += rank;
  auto parts = row_parts(out, shapes, axis, element_size(ctx.inputs[0].type));
  if (!parts) return nullptr;
  return std::make_unique<ConcatKernel>(std::move(*parts));
}

// Split's part sizes come from the planned output shapes; a 'split' input that is not constant is read at
// run time and must agree with them.
class SplitKernel final : public Kernel {
 public:
  SplitKernel(RowParts parts, std::string where, std::vector<int64_t> sizes, bool check_input)
      : parts_(std::move(parts)),
        where_(std::move(where)),
        sizes_(std::move(sizes)),
        check_input_(check_input) {}
  std::string impl_name() const override { return "sluice:split"; }
  void run(RunContext& ctx, KernelState*) const override {
    if (check_input_) check_sizes(ctx.inputs[1]);
    const auto* src = static_cast<const char*>(ctx.inputs[0].data());
    parts_.for_each_piece([&](size_t part, int64_t big, int64_t small, int64_t len) {
      std::memcpy(static_cast<char*>(ctx.outputs[part].data()) + small, src + big, static_cast<size_t>(len));
    });
  }

 private:
  void check_sizes(const Tensor& split) const {
    bool same = split.size() == static_cast<int64_t>(sizes_.size()) && dm::is_index_type(split.type());
    for (int64_t i = 0; same && i < split.size(); ++i)
      same = dm::int_at(split, i) == sizes_[static_cast<size_t>(i)];
    SLUICE_CHECK(same, where_, "input 'split' changed since planning: expected the sizes ",
                 to_string(Shape(sizes_)));
  }

  RowParts parts_;
  std::string where_;
  std::vector<int64_t> sizes_;
  bool check_input_;
};

std::unique_ptr<Kernel> make_split(PlanContext& ctx) {
  if (!plain_input(ctx, 0)) return nullptr;
  const Shape& in = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(in.size());
  int64_t axis = ctx.node.attr_int("axis", 0);
  if (rank == 0 || axis < -rank || axis >= rank) return nullptr;
  if (axis < 0) axis += rank;
  std::vector<Shape> shapes;
  std::vector<int64_t> sizes;
  for (const ValueInfo& out : ctx.outputs) {
    if (!out.present() || out.type != ctx.inputs[0].type) return nullptr;
    shapes.push_back(out.shape);
    if (out.shape.size() != in.size()) return nullptr;
    sizes.push_back(out.shape[static_cast<size_t>(axis)]);
  }
  // The sizes the node asks for must be the planned ones: from the 'split' input (13+; 1 as well), the
  // 'split' attribute (before 13), or the even split ('num_outputs' from 18) the planner inferred.
  bool check_input = false;
  const int64_t version = ctx.node.opset_version;
  const bool split_input = version < 2 || version >= 13;
  if (split_input && ctx.inputs.size() > 1 && ctx.inputs[1].present()) {
    if (!dm::is_index_type(ctx.inputs[1].type)) return nullptr;
    if (const Tensor* split = ctx.inputs[1].constant) {
      if (split->size() != static_cast<int64_t>(sizes.size())) return nullptr;
      for (int64_t i = 0; i < split->size(); ++i) {
        if (dm::int_at(*split, i) != sizes[static_cast<size_t>(i)]) return nullptr;
      }
    } else {
      check_input = true;
    }
  } else if (version < 13 && ctx.node.has_attr("split")) {
    if (ctx.node.attr_ints("split") != sizes) return nullptr;
  } else {
    const auto n = static_cast<int64_t>(sizes.size());
    const int64_t extent = in[static_cast<size_t>(axis)];
    std::vector<int64_t> expected(sizes.size(), n > 0 ? extent / n : 0);
    if (version >= 18 && ctx.node.has_attr("num_outputs")) {
      const int64_t chunk = (extent + n - 1) / n;
      expected.assign(sizes.size(), chunk);
      expected.back() = extent - chunk * (n - 1);
    } else if (n == 0 || extent % n != 0) {
      return nullptr;
    }
    if (expected != sizes) return nullptr;
  }
  auto parts = row_parts(in, shapes, axis, element_size(ctx.inputs[0].type));
  if (!parts) return nullptr;
  return std::make_unique<SplitKernel>(std::move(*parts), dm::where_of(ctx.node), sizes, check_input);
}

// ------------------------------------------------------------------------------------------------- Slice

// Slice parameters as the node gives them, before normalization, in fixed arrays.
struct SliceArgs {
  int64_t starts[max_rank], ends[max_rank], axes[max_rank], steps[max_rank];
  int64_t n = 0, n_ends = 0, n_axes = -1, n_steps = -1;  // -1: not given
};

// The strided copy of a slice of `in`, with the checks and clamping of the reference kernel; throws
// naming the node (`where`) for invalid parameters. Also gives the output extents.
StridedCopy slice_copy(const Shape& in, SliceArgs a, const std::string& where, Dims& out) {
  const auto rank = static_cast<int64_t>(in.size());
  if (a.n_axes == 0) a.n_axes = -1;  // empty axes and steps take the defaults, as in the reference
  if (a.n_steps == 0) a.n_steps = -1;
  SLUICE_CHECK(a.n == a.n_ends, where, "'starts' has ", a.n, " entries and 'ends' ", a.n_ends,
               "; expected the same");
  SLUICE_CHECK((a.n_axes < 0 || a.n_axes == a.n) && (a.n_steps < 0 || a.n_steps == a.n), where,
               "'starts', 'ends', 'axes' and 'steps' must have the same length");
  int64_t first[max_rank], step[max_rank];
  out = Dims(in);
  bool seen[max_rank] = {};
  for (int64_t d = 0; d < rank; ++d) {
    first[d] = 0;
    step[d] = 1;
  }
  for (int64_t i = 0; i < a.n; ++i) {
    int64_t axis = a.n_axes < 0 ? i : a.axes[i];
    SLUICE_CHECK(axis >= -rank && axis < rank, where, "'axes' holds axis ", axis, ", out of range for rank ",
                 rank, " (expected -", rank, " to ", rank - 1, ")");
    if (axis < 0) axis += rank;
    SLUICE_CHECK(!seen[axis], where, "'axes' names axis ", axis, " more than once");
    seen[axis] = true;
    const int64_t s = a.n_steps < 0 ? 1 : a.steps[i];
    SLUICE_CHECK(s != 0 && s != INT64_MIN, where, "'steps' holds ", s, "; expected a non-zero step");
    const int64_t extent = in[static_cast<size_t>(axis)];
    int64_t start = a.starts[i], end = a.ends[i], count = 0;
    if (extent > 0) {
      if (start < 0) start += extent;
      if (end < 0) end += extent;
      if (s > 0) {
        start = std::clamp<int64_t>(start, 0, extent);
        end = std::clamp<int64_t>(end, 0, extent);
        count = end > start ? (end - start - 1) / s + 1 : 0;
      } else {
        start = std::clamp<int64_t>(start, 0, extent - 1);
        end = std::clamp<int64_t>(end, -1, extent - 1);
        count = start > end ? (start - end - 1) / (-s) + 1 : 0;
      }
    } else {
      start = 0;
    }
    first[axis] = start;
    step[axis] = s;
    out[axis] = count;
  }
  StridedCopy c;
  int64_t stride = shape_size(in);
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t extent = in[static_cast<size_t>(d)];
    stride = extent == 0 ? 0 : stride / extent;  // row-major; an empty input copies nothing anyway
    c.offset += first[d] * stride;
    c.push(out[d], step[d] * stride);
  }
  c.simplify();
  return c;
}

class SliceKernel final : public Kernel {
 public:
  // `planned`: the copy when the parameters were known at planning; otherwise they are read at run time.
  SliceKernel(std::string where, std::optional<StridedCopy> planned)
      : where_(std::move(where)), planned_(planned) {}
  std::string impl_name() const override { return "sluice:slice"; }
  void run(RunContext& ctx, KernelState*) const override {
    if (planned_) {
      run_strided_copy(*planned_, ctx.inputs[0], ctx.outputs[0]);
      return;
    }
    SliceArgs a;
    const auto in = ctx.inputs;
    a.n = dm::read_ints(in[1], a.starts, max_rank, where_, "starts");
    a.n_ends = dm::read_ints(in[2], a.ends, max_rank, where_, "ends");
    if (in.size() > 3 && in[3]) a.n_axes = dm::read_ints(in[3], a.axes, max_rank, where_, "axes");
    if (in.size() > 4 && in[4]) a.n_steps = dm::read_ints(in[4], a.steps, max_rank, where_, "steps");
    Dims out;
    const StridedCopy c = slice_copy(in[0].shape(), a, where_, out);
    SLUICE_CHECK(out == ctx.outputs[0].shape(), where_, "the slice has shape ", to_string(out.shape()),
                 " but was planned as ", to_string(ctx.outputs[0].shape()));
    run_strided_copy(c, in[0], ctx.outputs[0]);
  }

 private:
  std::string where_;
  std::optional<StridedCopy> planned_;
};

std::unique_ptr<Kernel> make_slice(PlanContext& ctx) {
  if (!plain_input(ctx, 0) || !rank_ok(ctx.inputs[0].shape) || !ctx.outputs[0].present()) return nullptr;
  const Node& node = ctx.node;
  const std::string where = dm::where_of(node);
  SliceArgs a;
  bool known = true;
  auto take = [&](const std::vector<int64_t>& values, int64_t* dst, int64_t& n) {
    if (static_cast<int64_t>(values.size()) > max_rank) return false;
    std::copy(values.begin(), values.end(), dst);
    n = static_cast<int64_t>(values.size());
    return true;
  };
  if (node.opset_version < 10) {
    if (!node.has_attr("starts") || !node.has_attr("ends")) return nullptr;
    if (!take(node.attr_ints("starts"), a.starts, a.n) || !take(node.attr_ints("ends"), a.ends, a.n_ends)) {
      return nullptr;
    }
    if (node.has_attr("axes") && !take(node.attr_ints("axes"), a.axes, a.n_axes)) return nullptr;
  } else {
    int64_t* dst[] = {nullptr, a.starts, a.ends, a.axes, a.steps};
    int64_t* count[] = {nullptr, &a.n, &a.n_ends, &a.n_axes, &a.n_steps};
    if (ctx.inputs.size() < 3) return nullptr;
    for (size_t i = 1; i < ctx.inputs.size() && i < 5; ++i) {
      if (!ctx.inputs[i].present()) {
        if (i < 3) return nullptr;
        continue;
      }
      if (!dm::is_index_type(ctx.inputs[i].type) || ctx.inputs[i].shape.size() > 1) return nullptr;
      if (const Tensor* t = ctx.inputs[i].constant) {
        if (t->size() > max_rank) return nullptr;
        for (int64_t j = 0; j < t->size(); ++j) dst[i][j] = dm::int_at(*t, j);
        *count[i] = t->size();
      } else {
        known = false;
      }
    }
  }
  if (!known) return std::make_unique<SliceKernel>(where, std::nullopt);
  try {
    Dims out;
    const StridedCopy c = slice_copy(ctx.inputs[0].shape, a, where, out);
    if (!(out == ctx.outputs[0].shape)) return nullptr;
    return std::make_unique<SliceKernel>(where, c);
  } catch (const Error&) {
    return nullptr;  // invalid parameters: the reference kernel reports them
  }
}

// --------------------------------------------------------------------------------------- Expand and Tile

// The planned copy of an Expand or Tile, with the run-time check that input 1 (the target shape or the
// repeats) still gives the planned output.
class BroadcastCopyKernel final : public Kernel {
 public:
  enum class Op { expand, tile };
  BroadcastCopyKernel(Op op, std::string where, StridedCopy copy)
      : op_(op), where_(std::move(where)), copy_(copy) {}
  std::string impl_name() const override { return op_ == Op::expand ? "sluice:expand" : "sluice:tile"; }
  void run(RunContext& ctx, KernelState*) const override {
    check(ctx.inputs[0].shape(), ctx.inputs[1], ctx.outputs[0].shape());
    run_strided_copy(copy_, ctx.inputs[0], ctx.outputs[0]);
  }

  // Throws naming the node unless input 1's values turn `in` into `out`.
  void check(const Shape& in, const Tensor& param, const Shape& out) const {
    int64_t values[max_rank];
    const int64_t n = dm::read_ints(param, values, max_rank, where_, op_ == Op::expand ? "shape" : "repeats");
    Dims expected;
    if (op_ == Op::tile) {
      SLUICE_CHECK(n == static_cast<int64_t>(in.size()), where_, "'repeats' has ", n,
                   " entries; the input has rank ", in.size());
      for (int64_t d = 0; d < n; ++d) {
        SLUICE_CHECK(values[d] >= 0, where_, "'repeats' holds the negative count ", values[d]);
        expected[expected.rank++] = in[static_cast<size_t>(d)] * values[d];
      }
    } else {
      const int64_t rank = std::max<int64_t>(n, static_cast<int64_t>(in.size()));
      for (int64_t d = 0; d < rank; ++d) {
        const int64_t ia = d - (rank - static_cast<int64_t>(in.size())), ib = d - (rank - n);
        const int64_t a = ia >= 0 ? in[static_cast<size_t>(ia)] : 1;
        const int64_t b = ib >= 0 ? values[ib] : 1;
        SLUICE_CHECK(b >= 0, where_, "input 'shape' holds the negative extent ", b);
        SLUICE_CHECK(a == b || a == 1 || b == 1, where_, "cannot broadcast input ", to_string(in), " to ",
                     to_string(Shape(values, values + n)));
        expected[expected.rank++] = a == 1 ? b : a;
      }
    }
    SLUICE_CHECK(expected == out, where_, "the output has shape ", to_string(expected.shape()),
                 " but was planned as ", to_string(out));
  }

 private:
  Op op_;
  std::string where_;
  StridedCopy copy_;
};

std::unique_ptr<Kernel> make_broadcast_copy(PlanContext& ctx, BroadcastCopyKernel::Op op) {
  if (!plain_input(ctx, 0) || ctx.inputs.size() < 2 || !ctx.inputs[1].present() ||
      !dm::is_index_type(ctx.inputs[1].type) || !ctx.outputs[0].present()) {
    return nullptr;
  }
  const Shape& in = ctx.inputs[0].shape;
  const Shape& out = ctx.outputs[0].shape;
  if (!rank_ok(in) || !rank_ok(out) || out.size() < in.size()) return nullptr;
  const auto strides = row_major_strides(in);
  StridedCopy copy;
  if (op == BroadcastCopyKernel::Op::expand) {
    const size_t lead = out.size() - in.size();
    for (size_t d = 0; d < out.size(); ++d) {
      const int64_t e = d >= lead ? in[d - lead] : 1;
      if (e != out[d] && e != 1) return nullptr;
      copy.push(out[d], e == 1 ? 0 : strides[d - lead]);
    }
  } else {
    if (out.size() != in.size()) return nullptr;
    for (size_t d = 0; d < in.size(); ++d) {
      if (in[d] == 0 ? out[d] != 0 : out[d] % in[d] != 0) return nullptr;
      copy.push(in[d] == 0 ? 0 : out[d] / in[d], 0);
      copy.push(in[d], strides[d]);
    }
  }
  copy.simplify();
  auto kernel = std::make_unique<BroadcastCopyKernel>(op, dm::where_of(ctx.node), copy);
  if (const Tensor* param = ctx.inputs[1].constant) {
    try {
      kernel->check(in, *param, out);
    } catch (const Error&) {
      return nullptr;
    }
  }
  return kernel;
}

// --------------------------------------------------------------------------------------------------- Pad

// Constant-mode Pad: begin pads (negative ones crop) per dim; each output row is fill, a copied input run,
// fill.
struct PadGeometry {
  int rank = 0;
  int64_t begin[max_rank] = {};  // begin pad of each dim; output index o reads input index o - begin
};

// Full begin/end pads from the node's pads (and axes, -1 count when not given), as the reference expands
// them; throws naming the node for invalid ones. Gives the output shape.
PadGeometry pad_geometry(const Shape& in, const int64_t* pads, int64_t n_pads, const int64_t* axes,
                         int64_t n_axes, const std::string& where, Dims& out) {
  const auto rank = static_cast<int64_t>(in.size());
  int64_t full[2 * max_rank] = {};
  if (n_axes < 0) {
    SLUICE_CHECK(n_pads == 2 * rank, where, "'pads' has ", n_pads,
                 " entries; expected 2 * rank = ", 2 * rank);
    std::copy(pads, pads + n_pads, full);
  } else {
    SLUICE_CHECK(n_pads == 2 * n_axes, where, "'pads' has ", n_pads, " entries; expected 2 * ", n_axes,
                 " for the ", n_axes, " axes given");
    bool seen[max_rank] = {};
    for (int64_t i = 0; i < n_axes; ++i) {
      int64_t axis = axes[i];
      SLUICE_CHECK(axis >= -rank && axis < rank, where, "'axes' holds axis ", axis,
                   ", out of range for rank ", rank);
      if (axis < 0) axis += rank;
      SLUICE_CHECK(!seen[axis], where, "'axes' names axis ", axis, " more than once");
      seen[axis] = true;
      full[axis] = pads[i];
      full[axis + rank] = pads[i + n_axes];
    }
  }
  PadGeometry g;
  g.rank = static_cast<int>(rank);
  out = Dims(in);
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t extent = in[static_cast<size_t>(d)], b = full[d], e = full[d + rank];
    const int64_t kept = extent - std::max<int64_t>(0, -b) - std::max<int64_t>(0, -e);
    out[d] = extent + b + e;
    SLUICE_CHECK(kept >= 0 && out[d] >= 0, where, "pads ", b, " and ", e, " on axis ", d,
                 " crop more than its extent ", extent);
    g.begin[d] = b;
  }
  return g;
}

template <class E>
void run_pad(const PadGeometry& g, const Shape& in_shape, const E* src, E* dst, const Shape& out, E fill) {
  const int r = g.rank;
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t inner = out[static_cast<size_t>(r - 1)];
  const int64_t in_inner = in_shape[static_cast<size_t>(r - 1)];
  const int64_t rows = inner == 0 ? 0 : shape_size(out) / inner;
  int64_t in_stride[max_rank];
  in_stride[r - 1] = 1;
  for (int d = r - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * in_shape[static_cast<size_t>(d) + 1];
  const int64_t b = g.begin[r - 1];
  const int64_t lo = std::clamp<int64_t>(b, 0, inner), hi = std::clamp<int64_t>(b + in_inner, 0, inner);
  const int64_t grain =
      std::max<int64_t>(1, parallel_bytes / std::max<int64_t>(1, inner * static_cast<int64_t>(sizeof(E))));
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    int64_t index[max_rank];
    int64_t rest = begin;
    for (int d = r - 1; d-- > 0;) {
      index[d] = rest % out[static_cast<size_t>(d)];
      rest /= out[static_cast<size_t>(d)];
    }
    for (int64_t row = begin; row < end; ++row) {
      E* o = dst + row * inner;
      bool inside = hi > lo;
      int64_t offset = 0;
      for (int d = 0; d < r - 1 && inside; ++d) {
        const int64_t i = index[d] - g.begin[d];
        inside = i >= 0 && i < in_shape[static_cast<size_t>(d)];
        offset += i * in_stride[d];
      }
      if (!inside) {
        fill_elements(o, inner, fill);
      } else {
        fill_elements(o, lo, fill);
        std::memcpy(o + lo, src + offset + (lo - b), static_cast<size_t>(hi - lo) * sizeof(E));
        fill_elements(o + hi, inner - hi, fill);
      }
      for (int d = r - 1; d-- > 0;) {
        if (++index[d] < out[static_cast<size_t>(d)]) break;
        index[d] = 0;
      }
    }
  });
}

class PadKernel final : public Kernel {
 public:
  // `planned`: the geometry when the pads were known at planning. `fill`: the attribute's fill value
  // (Pad before 11), as bytes of the element type; from 11 it is input 2, read at run time.
  PadKernel(std::string where, std::optional<PadGeometry> planned, uint64_t fill, bool fill_input)
      : where_(std::move(where)), planned_(planned), fill_(fill), fill_input_(fill_input) {}
  std::string impl_name() const override { return "sluice:pad"; }
  void run(RunContext& ctx, KernelState*) const override {
    const Tensor& x = ctx.inputs[0];
    PadGeometry g;
    if (planned_) {
      g = *planned_;
    } else {
      int64_t pads[2 * max_rank], axes[max_rank];
      const int64_t n_pads = dm::read_ints(ctx.inputs[1], pads, 2 * max_rank, where_, "pads");
      int64_t n_axes = -1;
      if (ctx.inputs.size() > 3 && ctx.inputs[3]) {
        n_axes = dm::read_ints(ctx.inputs[3], axes, max_rank, where_, "axes");
      }
      Dims out;
      g = pad_geometry(x.shape(), pads, n_pads, axes, n_axes, where_, out);
      SLUICE_CHECK(out == ctx.outputs[0].shape(), where_, "the padded output has shape ",
                   to_string(out.shape()), " but was planned as ", to_string(ctx.outputs[0].shape()));
    }
    uint64_t fill = fill_;
    const size_t esize = element_size(x.type());
    if (fill_input_ && ctx.inputs.size() > 2 && ctx.inputs[2]) {
      const Tensor& value = ctx.inputs[2];
      SLUICE_CHECK(value.type() == x.type() && value.size() == 1, where_,
                   "input 'constant_value' must be one value of type ", to_string(x.type()), "; got ",
                   to_string(value.type()), " ", to_string(value.shape()));
      std::memcpy(&fill, value.data(), esize);
    }
    by_element_size(esize, [&](auto tag) {
      using E = decltype(tag);
      E f;
      std::memcpy(&f, &fill, sizeof(E));
      run_pad(g, x.shape(), static_cast<const E*>(x.data()), static_cast<E*>(ctx.outputs[0].data()),
              ctx.outputs[0].shape(), f);
    });
  }

 private:
  std::string where_;
  std::optional<PadGeometry> planned_;
  uint64_t fill_;
  bool fill_input_;
};

std::unique_ptr<Kernel> make_pad(PlanContext& ctx) {
  const Node& node = ctx.node;
  if (!plain_input(ctx, 0) || !rank_ok(ctx.inputs[0].shape) || !ctx.outputs[0].present()) return nullptr;
  if (node.attr_string("mode", "constant") != "constant") return nullptr;
  const ElementType type = ctx.inputs[0].type;
  const std::string where = dm::where_of(node);
  const bool from_inputs = node.opset_version >= 11;
  uint64_t fill = 0;
  std::optional<PadGeometry> planned;
  try {
    int64_t pads[2 * max_rank], axes[max_rank];
    int64_t n_pads = 0, n_axes = -1;
    bool known = true;
    if (!from_inputs) {
      const auto p = node.attr_ints(node.opset_version < 2 ? "paddings" : "pads");
      if (p.size() > 2 * max_rank) return nullptr;
      std::copy(p.begin(), p.end(), pads);
      n_pads = static_cast<int64_t>(p.size());
      const Tensor value = ops::tensor::scalar_of_type(type, node.attr_float("value", 0.0f));
      std::memcpy(&fill, value.data(), element_size(type));
    } else {
      if (ctx.inputs.size() < 2 || !ctx.inputs[1].present() || !dm::is_index_type(ctx.inputs[1].type)) {
        return nullptr;
      }
      if (ctx.inputs.size() > 2 && ctx.inputs[2].present() && ctx.inputs[2].type != type) return nullptr;
      const bool has_axes = ctx.inputs.size() > 3 && ctx.inputs[3].present();
      if (has_axes && !dm::is_index_type(ctx.inputs[3].type)) return nullptr;
      if (const Tensor* p = ctx.inputs[1].constant) {
        n_pads = dm::read_ints(*p, pads, 2 * max_rank, where, "pads");
      } else {
        known = false;
      }
      if (has_axes) {
        if (const Tensor* a = ctx.inputs[3].constant) {
          n_axes = dm::read_ints(*a, axes, max_rank, where, "axes");
        } else {
          known = false;
        }
      }
    }
    if (known) {
      Dims out;
      planned = pad_geometry(ctx.inputs[0].shape, pads, n_pads, axes, n_axes, where, out);
      if (!(out == ctx.outputs[0].shape)) return nullptr;
    }
  } catch (const Error&) {
    return nullptr;  // invalid pads: the reference kernel reports them
  }
  return std::make_unique<PadKernel>(where, planned, fill, from_inputs);
}

// ------------------------------------------------------------------------------------------------ Resize

// Resize of a 4-D NCHW tensor over H and W, nearest (any element type: an exact copy) or bilinear (f32).
// The source indices and weights of every output row and column are computed at planning with the
// reference's formulas; the scales and sizes must be constants.
class ResizeKernel final : public Kernel {
 public:
  struct Axis {
    std::vector<int64_t> i0, i1;  // source indices per output coordinate
    std::vector<float> w0, w1;    // their weights (linear only)
  };
  ResizeKernel(bool linear, size_t esize, Shape in, Shape out, Axis h, Axis w)
      : linear_(linear),
        esize_(esize),
        in_(std::move(in)),
        out_(std::move(out)),
        h_(std::move(h)),
        w_(std::move(w)) {}

  std::string impl_name() const override {
    return linear_ ? "sluice:resize_bilinear" : "sluice:resize_nearest";
  }

  void run(RunContext& ctx, KernelState*) const override {
    if (linear_) {
      run_linear(static_cast<const float*>(ctx.inputs[0].data()), static_cast<float*>(ctx.outputs[0].data()));
      return;
    }
    by_element_size(esize_, [&](auto tag) {
      using E = decltype(tag);
      run_nearest(static_cast<const E*>(ctx.inputs[0].data()), static_cast<E*>(ctx.outputs[0].data()));
    });
  }

 private:
  template <class E> void run_nearest(const E* src, E* dst) const {
    const int64_t ih = in_[2], iw = in_[3], oh = out_[2], ow = out_[3];
    const int64_t rows = out_[0] * out_[1] * oh;
    const int64_t* cols = w_.i0.data();
    const int64_t grain =
        std::max<int64_t>(1, parallel_bytes / std::max<int64_t>(1, ow * static_cast<int64_t>(sizeof(E))));
    parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t plane = r / oh, y = r - plane * oh;
        const E* s = src + (plane * ih + h_.i0[static_cast<size_t>(y)]) * iw;
        E* o = dst + r * ow;
        for (int64_t x = 0; x < ow; ++x) o[x] = s[cols[x]];
      }
    });
  }

  void run_linear(const float* src, float* dst) const {
    const int64_t ih = in_[2], iw = in_[3], oh = out_[2], ow = out_[3];
    const int64_t rows = out_[0] * out_[1] * oh;
    const int64_t *x0 = w_.i0.data(), *x1 = w_.i1.data();
    const float *a0 = w_.w0.data(), *a1 = w_.w1.data();
    const int64_t grain = std::max<int64_t>(1, parallel_bytes / std::max<int64_t>(1, 4 * ow * 4));
    parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t plane = r / oh;
        const auto y = static_cast<size_t>(r - plane * oh);
        const float* s0 = src + (plane * ih + h_.i0[y]) * iw;
        const float* s1 = src + (plane * ih + h_.i1[y]) * iw;
        const float b0 = h_.w0[y], b1 = h_.w1[y];
        float* o = dst + r * ow;
        for (int64_t x = 0; x < ow; ++x) {
          o[x] = b0 * (a0[x] * s0[x0[x]] + a1[x] * s0[x1[x]]) + b1 * (a0[x] * s1[x0[x]] + a1[x] * s1[x1[x]]);
        }
      }
    });
  }

  bool linear_;
  size_t esize_;
  Shape in_, out_;
  Axis h_, w_;
};

struct ResizeSettings {
  bool linear = false;
  std::string coordinate_mode = "asymmetric";
  std::string nearest_mode = "simple";  // Resize-10: floor when upsampling, ceil when downsampling
  bool exclude_outside = false;
};

// The taps of one resized axis, or nullopt for a case the kernel leaves to the reference.
std::optional<ResizeKernel::Axis> resize_axis(const ResizeSettings& s, int64_t in, int64_t out,
                                              double scale) {
  ResizeKernel::Axis a;
  const bool resized = !(scale == 1.0 && out == in);
  for (int64_t x = 0; x < out; ++x) {
    if (!resized) {
      a.i0.push_back(x);
      a.i1.push_back(x);
      a.w0.push_back(1.0f);
      a.w1.push_back(0.0f);
      continue;
    }
    const double src =
        ops::resize_source_coordinate(s.coordinate_mode, static_cast<double>(x), in, out, scale);
    if (!s.linear) {
      a.i0.push_back(std::clamp<int64_t>(ops::resize_nearest_index(s.nearest_mode, src, scale), 0, in - 1));
      continue;
    }
    double f = std::floor(src), ratio = src - f;
    if (ratio == 0.0) {
      f -= 1.0;
      ratio = 1.0;
    }
    std::vector<std::pair<int64_t, double>> taps;
    double kept = 0.0;
    const std::pair<int64_t, double> raw[] = {{0, 1.0 - ratio}, {1, ratio}};
    for (const auto& [offset, w] : raw) {
      const int64_t i = static_cast<int64_t>(f) + offset;
      if (s.exclude_outside && (i < 0 || i >= in)) continue;
      taps.emplace_back(std::clamp<int64_t>(i, 0, in - 1), w);
      kept += w;
    }
    if (taps.empty()) return std::nullopt;  // would take the extrapolation value
    if (s.exclude_outside && kept != 0.0) {
      for (auto& tap : taps) tap.second /= kept;
    }
    if (taps.size() == 1) taps.emplace_back(taps[0].first, 0.0);
    a.i0.push_back(taps[0].first);
    a.i1.push_back(taps[1].first);
    a.w0.push_back(static_cast<float>(taps[0].second));
    a.w1.push_back(static_cast<float>(taps[1].second));
  }
  return a;
}

std::unique_ptr<Kernel> make_resize(PlanContext& ctx) {
  const Node& node = ctx.node;
  if (!plain_input(ctx, 0) || !ctx.outputs[0].present()) return nullptr;
  const Shape& in = ctx.inputs[0].shape;
  const Shape& out = ctx.outputs[0].shape;
  if (in.size() != 4 || out.size() != 4) return nullptr;
  const int64_t version = node.opset_version;
  ResizeSettings s;
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear") return nullptr;  // cubic
  s.linear = mode == "linear";
  if (s.linear && ctx.inputs[0].type != ElementType::f32) return nullptr;
  if (version >= 11) {
    s.coordinate_mode = node.attr_string("coordinate_transformation_mode", "half_pixel");
    s.nearest_mode = node.attr_string("nearest_mode", "round_prefer_floor");
    s.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
    const std::vector<std::string> modes{"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
    const bool known = std::find(modes.begin(), modes.end(), s.coordinate_mode) != modes.end() ||
                       (version < 18 && s.coordinate_mode == "tf_half_pixel_for_nn") ||
                       (version >= 19 && s.coordinate_mode == "half_pixel_symmetric");
    if (!known) return nullptr;  // tf_crop_and_resize (roi) or invalid
    const std::vector<std::string> nearest{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    if (std::find(nearest.begin(), nearest.end(), s.nearest_mode) == nearest.end()) return nullptr;
    if (version >= 18 && (node.attr_int("antialias", 0) != 0 || node.has_attr("axes") ||
                          node.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")) {
      return nullptr;
    }
  }
  // Scales (input 1 for Resize-10, 2 from 11) or sizes (input 3 from 11), constants.
  auto constant_input = [&](size_t i) -> const Tensor* {
    if (i >= ctx.inputs.size() || !ctx.inputs[i].present()) return nullptr;
    return ctx.inputs[i].constant;
  };
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i].present() && !ctx.inputs[i].constant) return nullptr;
  }
  const Tensor* scales = constant_input(version >= 11 ? 2 : 1);
  const Tensor* sizes = version >= 11 ? constant_input(3) : nullptr;
  if (scales && scales->size() == 0) scales = nullptr;
  if (sizes && sizes->size() == 0) sizes = nullptr;
  if ((scales == nullptr) == (sizes == nullptr)) return nullptr;
  double scale[4];
  Shape planned = in;
  if (scales) {
    const auto v = ops::to_doubles(*scales);
    if (v.size() != 4) return nullptr;
    for (size_t d = 0; d < 4; ++d) {
      if (!(v[d] > 0.0 && std::isfinite(v[d]))) return nullptr;
      scale[d] = v[d];
      planned[d] = static_cast<int64_t>(std::floor(static_cast<double>(in[d]) * v[d]));
    }
  } else {
    if (!dm::is_index_type(sizes->type()) || sizes->size() != 4) return nullptr;
    for (size_t d = 0; d < 4; ++d) {
      planned[d] = dm::int_at(*sizes, static_cast<int64_t>(d));
      if (planned[d] < 0 || in[d] == 0) return nullptr;
      scale[d] = static_cast<double>(planned[d]) / static_cast<double>(in[d]);
    }
  }
  if (planned != out) return nullptr;
  // Only H and W may change.
  for (size_t d = 0; d < 2; ++d) {
    if (scale[d] != 1.0 || out[d] != in[d]) return nullptr;
  }
  if (in[2] == 0 || in[3] == 0) return nullptr;
  auto h = resize_axis(s, in[2], out[2], scale[2]);
  auto w = resize_axis(s, in[3], out[3], scale[3]);
  if (!h || !w) return nullptr;
  return std::make_unique<ResizeKernel>(s.linear, element_size(ctx.inputs[0].type), in, out, std::move(*h),
                                        std::move(*w));
}

}  // namespace

void register_data_movement_kernels(KernelRegistry& registry) {
  register_views(registry);
  registry.add("", "Transpose", {make_transpose, false});
  registry.add("", "Gather", {make_gather, false});
  registry.add("", "Concat", {make_concat, false});
  registry.add("", "Split", {make_split, false});
  registry.add("", "Slice", {make_slice, false});
  registry.add(
      "", "Expand",
      {[](PlanContext& ctx) { return make_broadcast_copy(ctx, BroadcastCopyKernel::Op::expand); }, false});
  registry.add("", "Tile",
               {[](PlanContext& ctx) {
                  if (ctx.node.opset_version < 6) return std::unique_ptr<Kernel>();
                  return make_broadcast_copy(ctx, BroadcastCopyKernel::Op::tile);
                },
                false});
  registry.add("", "Pad", {make_pad, false});
  registry.add("", "Resize", {make_resize, false});
  register_reduce_kernels(registry);
  register_norm_kernels(registry);
}

}  // namespace sluice::cpu
