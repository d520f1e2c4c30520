#include "sluice/shape.hpp"

#include "sluice/error.hpp"

namespace sluice {

int64_t shape_size(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string Dimension::to_string() const {
  if (is_static()) return std::to_string(extent_);
  return symbol_.empty() ? "?" : symbol_;
}

PartialShape::PartialShape(const Shape& shape) : rank_known_(true) {
  dims_.reserve(shape.size());
  for (int64_t d : shape) dims_.emplace_back(d);
}

bool PartialShape::is_static() const {
  if (!rank_known_) return false;
  for (const auto& d : dims_) {
    if (d.is_dynamic()) return false;
  }
  return true;
}

Shape PartialShape::to_shape() const {
  SLUICE_CHECK(is_static(), "shape ", to_string(), " is not static");
  Shape out;
  out.reserve(dims_.size());
  for (const auto& d : dims_) out.push_back(d.extent());
  return out;
}

bool PartialShape::accepts(const Shape& shape) const {
  if (!rank_known_) return true;
  if (shape.size() != dims_.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!dims_[i].accepts(shape[i])) return false;
  }
  return true;
}

std::string PartialShape::to_string() const {
  if (!rank_known_) return "[...]";
  std::string out = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) out += ",";
    out += dims_[i].to_string();
  }
  return out + "]";
}

}  // namespace sluice
