#include "sluice/tensor.hpp"

#include <cstdlib>
#include <new>

namespace sluice {

namespace {
constexpr size_t tensor_alignment = 64;

void check_shape(const Shape& shape) {
  for (int64_t d : shape) {
    SLUICE_CHECK(d >= 0, "tensor shape ", to_string(shape), " has a negative dimension");
  }
}
}  // namespace

size_t byte_size(ElementType type, const Shape& shape) {
  return static_cast<size_t>(shape_size(shape)) * element_size(type);
}

Tensor::Tensor(ElementType type, Shape shape) : type_(type), shape_(std::move(shape)), owned_(true) {
  SLUICE_CHECK(type != ElementType::undefined, "a tensor needs an element type");
  check_shape(shape_);
  const size_t bytes = sluice::byte_size(type_, shape_);
  const size_t padded = ((bytes + tensor_alignment - 1) / tensor_alignment + 1) * tensor_alignment;
  void* p = std::aligned_alloc(tensor_alignment, padded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, padded);
  memory_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  data_ = p;
}

Tensor::Tensor(ElementType type, Shape shape, void* data)
    : type_(type), shape_(std::move(shape)), data_(data), owned_(false) {
  SLUICE_CHECK(type != ElementType::undefined, "a tensor needs an element type");
  check_shape(shape_);
  SLUICE_CHECK(data != nullptr || sluice::byte_size(type_, shape_) == 0,
               "Tensor: null data pointer for a non-empty tensor of shape ", to_string(shape_));
}

Tensor::Tensor(ElementType type, Shape shape, void* data, size_t data_bytes)
    : Tensor(type, std::move(shape), data) {
  SLUICE_CHECK(data_bytes == byte_size(), "Tensor: a ", to_string(type_), " tensor of shape ",
               to_string(shape_), " needs ", byte_size(), " bytes; the buffer has ", data_bytes);
}

Tensor Tensor::clone() const {
  if (empty()) return {};
  Tensor out(type_, shape_);
  if (byte_size()) std::memcpy(out.data(), data_, byte_size());
  return out;
}

Tensor Tensor::reshaped(Shape shape) const {
  check_shape(shape);
  SLUICE_CHECK(shape_size(shape) == size(), "cannot view a tensor of shape ", to_string(shape_), " as ",
               to_string(shape));
  Tensor out = *this;
  out.shape_ = std::move(shape);
  return out;
}

Tensor Tensor::slice(int64_t begin, int64_t end) const {
  SLUICE_CHECK(rank() >= 1, "cannot slice a tensor of shape ", to_string(shape_), ": it has no dimension 0");
  SLUICE_CHECK(0 <= begin && begin <= end && end <= shape_[0], "slice [", begin, ", ", end,
               ") is outside dimension 0 of a tensor of shape ", to_string(shape_));
  Tensor out = *this;
  out.shape_[0] = end - begin;
  const size_t row_bytes = shape_[0] > 0 ? byte_size() / static_cast<size_t>(shape_[0]) : 0;
  out.data_ = static_cast<char*>(data_) + static_cast<size_t>(begin) * row_bytes;
  return out;
}

}  // namespace sluice
