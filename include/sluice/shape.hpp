// Static shapes and partial (possibly dynamic, possibly symbolic) shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

// A static shape: one extent per dimension. A scalar has no dimensions.
using Shape = std::vector<int64_t>;

int64_t shape_size(const Shape& shape);     // product of extents; 1 for a scalar
std::string to_string(const Shape& shape);  // "[1,3,224,224]"

// One dimension of a partial shape: a known extent, or dynamic (optionally named by a symbol such as
// "batch" or "seq", so that dimensions with the same symbol are known to be equal).
class Dimension {
 public:
  Dimension() = default;                          // dynamic, no symbol
  Dimension(int64_t extent) : extent_(extent) {}  // NOLINT(google-explicit-constructor)
  static Dimension dynamic(std::string symbol = {}) {
    Dimension d;
    d.symbol_ = std::move(symbol);
    return d;
  }
  bool is_static() const { return extent_ >= 0; }
  bool is_dynamic() const { return extent_ < 0; }
  int64_t extent() const { return extent_; }  // -1 when dynamic
  const std::string& symbol() const { return symbol_; }
  // Whether a concrete extent is allowed by this dimension.
  bool accepts(int64_t extent) const { return is_dynamic() || extent == extent_; }
  bool operator==(const Dimension& other) const {
    return extent_ == other.extent_ && symbol_ == other.symbol_;
  }
  std::string to_string() const;  // "3", "?" or the symbol

 private:
  int64_t extent_ = -1;
  std::string symbol_;
};

// A shape whose rank may be unknown and whose dimensions may be dynamic.
class PartialShape {
 public:
  PartialShape() = default;                                                                 // unknown rank
  PartialShape(std::vector<Dimension> dims) : dims_(std::move(dims)), rank_known_(true) {}  // NOLINT
  PartialShape(const Shape& shape);  // NOLINT(google-explicit-constructor)
  PartialShape(std::initializer_list<Dimension> dims) : dims_(dims), rank_known_(true) {}
  static PartialShape unknown_rank() { return {}; }

  bool rank_known() const { return rank_known_; }
  int64_t rank() const { return rank_known_ ? static_cast<int64_t>(dims_.size()) : -1; }
  bool is_static() const;
  const std::vector<Dimension>& dims() const { return dims_; }
  std::vector<Dimension>& dims() { return dims_; }
  const Dimension& operator[](size_t i) const { return dims_[i]; }
  Dimension& operator[](size_t i) { return dims_[i]; }
  // The static shape; throws sluice::Error when not static.
  Shape to_shape() const;
  // Whether a concrete shape is allowed by this partial shape.
  bool accepts(const Shape& shape) const;
  bool operator==(const PartialShape& other) const {
    return rank_known_ == other.rank_known_ && dims_ == other.dims_;
  }
  std::string to_string() const;  // "[?,3,224,224]", "[batch,128]", "[...]" when rank unknown

 private:
  std::vector<Dimension> dims_;
  bool rank_known_ = false;
};

}  // namespace sluice
