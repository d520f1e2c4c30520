// Tensor: an element type, a static shape and host memory.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "sluice/element_type.hpp"
#include "sluice/error.hpp"
#include "sluice/shape.hpp"

namespace sluice {

// A tensor is a handle: copies share the same memory (like std::shared_ptr). The memory is either owned
// (allocated by the tensor, 64-byte aligned, zero-filled) or the caller's (wrapped without a copy; the
// caller keeps it alive and unchanged while any handle or an inference uses it).
//
// Thread-safety: a Tensor handle may be copied and read from many threads; writing the elements while
// another thread reads them is the caller's race to avoid.
class Tensor {
 public:
  Tensor() = default;  // empty: no type, no memory
  // Allocates owned memory for the shape.
  Tensor(ElementType type, Shape shape);
  // Wraps caller memory of at least byte_size(type, shape) bytes, without copying.
  Tensor(ElementType type, Shape shape, void* data);
  // The same, checking that the caller's buffer holds exactly the bytes the type and shape need; throws
  // sluice::Error naming both sizes otherwise.
  Tensor(ElementType type, Shape shape, void* data, size_t data_bytes);

  // Creates an owned tensor holding a copy of values (values.size() must match the shape).
  template <class T> static Tensor from(Shape shape, std::span<const T> values) {
    Tensor t(element_type_v<T>, std::move(shape));
    SLUICE_CHECK(static_cast<size_t>(t.size()) == values.size(), "Tensor::from: shape ", to_string(t.shape()),
                 " holds ", t.size(), " elements, got ", values.size(), " values");
    if (!values.empty()) std::memcpy(t.data(), values.data(), values.size() * sizeof(T));
    return t;
  }
  template <class T> static Tensor from(Shape shape, std::initializer_list<T> values) {
    return from<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }
  template <class T> static Tensor scalar(T value) { return from<T>({}, std::span<const T>(&value, 1)); }

  bool empty() const { return type_ == ElementType::undefined; }
  explicit operator bool() const { return !empty(); }
  ElementType type() const { return type_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return shape_size(shape_); }  // element count
  size_t byte_size() const { return static_cast<size_t>(size()) * element_size(type_); }
  bool owns_memory() const { return owned_; }

  void* data() const { return data_; }
  template <class T> T* data() const {
    SLUICE_CHECK(element_type_v<T> == type_, "Tensor::data<", to_string(element_type_v<T>),
                 ">() on a tensor of type ", to_string(type_));
    return static_cast<T*>(data_);
  }
  template <class T> std::span<T> values() const { return {data<T>(), static_cast<size_t>(size())}; }

  // A new owned tensor with the same type, shape and contents.
  Tensor clone() const;
  // A handle to the same memory with another shape of the same element count.
  Tensor reshaped(Shape shape) const;
  // A view of rows [begin, end) of dimension 0 (rows are contiguous), sharing this tensor's memory and
  // keeping it alive when owned. Throws for a scalar or a range outside [0, shape[0]].
  Tensor slice(int64_t begin, int64_t end) const;

 private:
  ElementType type_ = ElementType::undefined;
  Shape shape_;
  std::shared_ptr<void> memory_;  // keeps owned memory alive; null when wrapping caller memory
  void* data_ = nullptr;
  bool owned_ = false;
};

size_t byte_size(ElementType type, const Shape& shape);

}  // namespace sluice
