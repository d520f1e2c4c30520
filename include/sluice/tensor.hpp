// Tensor: an element type, a static shape and host memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

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
//
// String tensors (ElementType::string) hold std::string elements: owned memory constructs them (empty)
// and destroys them; wrapped memory must be an array of constructed std::string. Copy them with
// copy_to or clone, never byte-wise.
//
// The ONNX model values that are not tensors travel as Tensor handles too:
//  - a sequence (ONNX `sequence(tensor(T))`): Tensor::sequence(T, items). is_sequence() is true, type()
//    is T, items() are the tensors (each of type T), shape() is {} and size() 0: it has no data of its
//    own. The items are shared, not copied.
//  - an absent optional (ONNX `optional(...)` holding nothing): an empty Tensor(). A present optional is
//    just its value.
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
    if constexpr (std::is_same_v<T, std::string>) {
      std::copy(values.begin(), values.end(), t.template data<std::string>());
    } else if (!values.empty()) {
      std::memcpy(t.data(), values.data(), values.size() * sizeof(T));
    }
    return t;
  }
  template <class T> static Tensor from(Shape shape, std::initializer_list<T> values) {
    return from<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }
  template <class T> static Tensor scalar(T value) { return from<T>({}, std::span<const T>(&value, 1)); }
  // A sequence of tensors of element type `type` (every item must have it; throws naming the first that
  // does not, or an item that is itself a sequence or empty).
  static Tensor sequence(ElementType type, std::vector<Tensor> items);

  bool empty() const { return type_ == ElementType::undefined; }
  explicit operator bool() const { return !empty(); }
  ElementType type() const { return type_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return items_ ? 0 : shape_size(shape_); }  // element count (0 for a sequence)
  size_t byte_size() const { return static_cast<size_t>(size()) * element_size(type_); }
  bool owns_memory() const { return owned_; }

  void* data() const { return data_; }
  template <class T> T* data() const {
    SLUICE_CHECK(element_type_v<T> == type_, "Tensor::data<", to_string(element_type_v<T>),
                 ">() on a tensor of type ", to_string(type_));
    return static_cast<T*>(data_);
  }
  template <class T> std::span<T> values() const { return {data<T>(), static_cast<size_t>(size())}; }

  bool is_sequence() const { return items_ != nullptr; }
  // The items of a sequence; throws sluice::Error for a tensor.
  const std::vector<Tensor>& items() const;

  // Copies the elements into `dst`, which must have the same element type and element count (strings
  // are assigned, other types copied byte-wise; the same memory is left alone). Throws sluice::Error
  // naming both otherwise, and for sequences.
  void copy_to(const Tensor& dst) const;

  // A new owned tensor with the same type, shape and contents (a sequence: the same items, cloned).
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
  std::shared_ptr<const std::vector<Tensor>> items_;  // set for a sequence
};

// "f32 tensor [2,3]", "sequence of f32 tensors", "no value": how errors name a value.
std::string describe(const Tensor& value);

size_t byte_size(ElementType type, const Shape& shape);

}  // namespace sluice
