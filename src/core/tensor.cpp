#include "sluice/tensor.hpp"

#include <cstdlib>
#include <new>
#include <string>

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
  if (type_ == ElementType::string) {
    // Construct the strings (none of this throws: empty strings do not allocate) and destroy them with
    // the memory.
    const size_t n = static_cast<size_t>(shape_size(shape_));
    auto* strings = static_cast<std::string*>(p);
    for (size_t i = 0; i < n; ++i) new (strings + i) std::string();
    memory_ = std::shared_ptr<void>(p, [n](void* q) {
      auto* s = static_cast<std::string*>(q);
      for (size_t i = 0; i < n; ++i) s[i].~basic_string();
      std::free(q);
    });
  } else {
    memory_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
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

Tensor Tensor::sequence(ElementType type, std::vector<Tensor> items) {
  SLUICE_CHECK(type != ElementType::undefined, "a sequence needs an element type");
  for (size_t i = 0; i < items.size(); ++i) {
    SLUICE_CHECK(!items[i].empty() && !items[i].is_sequence() && items[i].type() == type, "sequence of ",
                 to_string(type), " tensors: item ", i, " is a ", describe(items[i]));
  }
  Tensor out;
  out.type_ = type;
  out.owned_ = true;
  out.items_ = std::make_shared<const std::vector<Tensor>>(std::move(items));
  return out;
}

const std::vector<Tensor>& Tensor::items() const {
  SLUICE_CHECK(items_ != nullptr, "items() of a ", describe(*this), ", not a sequence");
  return *items_;
}

void Tensor::copy_to(const Tensor& dst) const {
  SLUICE_CHECK(!is_sequence() && !dst.is_sequence() && type_ == dst.type_ && size() == dst.size(),
               "cannot copy a ", describe(*this), " into a ", describe(dst));
  if (data_ == dst.data_ || size() == 0) return;
  if (type_ == ElementType::string) {
    const auto* from = static_cast<const std::string*>(data_);
    std::copy(from, from + size(), static_cast<std::string*>(dst.data_));
  } else {
    std::memmove(dst.data_, data_, byte_size());
  }
}

Tensor Tensor::clone() const {
  if (empty()) return {};
  if (is_sequence()) {
    std::vector<Tensor> items;
    for (const Tensor& item : *items_) items.push_back(item.clone());
    return sequence(type_, std::move(items));
  }
  Tensor out(type_, shape_);
  copy_to(out);
  return out;
}

std::string describe(const Tensor& value) {
  if (value.empty()) return "empty tensor (no value)";
  if (value.is_sequence()) {
    return "sequence of " + std::to_string(value.items().size()) + " " +
           std::string(to_string(value.type())) + " tensors";
  }
  return std::string(to_string(value.type())) + " tensor " + to_string(value.shape());
}

Tensor Tensor::reshaped(Shape shape) const {
  SLUICE_CHECK(!is_sequence(), "cannot reshape a ", describe(*this));
  check_shape(shape);
  SLUICE_CHECK(shape_size(shape) == size(), "cannot view a tensor of shape ", to_string(shape_), " as ",
               to_string(shape));
  Tensor out = *this;
  out.shape_ = std::move(shape);
  return out;
}

Tensor Tensor::slice(int64_t begin, int64_t end) const {
  SLUICE_CHECK(!is_sequence(), "cannot slice a ", describe(*this));
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
