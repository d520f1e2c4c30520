#include "tools/sluice/tensor_text.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

namespace sluice::tool {
namespace {

// Calls fn with a typed pointer to the tensor's elements.
template <class Fn> void visit_elements(const Tensor& tensor, Fn&& fn) {
  void* data = tensor.data();
  switch (tensor.type()) {
    case ElementType::f32: return fn(static_cast<float*>(data));
    case ElementType::f16: return fn(static_cast<float16*>(data));
    case ElementType::bf16: return fn(static_cast<bfloat16*>(data));
    case ElementType::f64: return fn(static_cast<double*>(data));
    case ElementType::i8: return fn(static_cast<int8_t*>(data));
    case ElementType::i16: return fn(static_cast<int16_t*>(data));
    case ElementType::i32: return fn(static_cast<int32_t*>(data));
    case ElementType::i64: return fn(static_cast<int64_t*>(data));
    case ElementType::u8: return fn(static_cast<uint8_t*>(data));
    case ElementType::u16: return fn(static_cast<uint16_t*>(data));
    case ElementType::u32: return fn(static_cast<uint32_t*>(data));
    case ElementType::u64: return fn(static_cast<uint64_t*>(data));
    case ElementType::boolean: return fn(static_cast<bool*>(data));
    case ElementType::f8e4m3fn: return fn(static_cast<float8_e4m3fn*>(data));
    case ElementType::f8e4m3fnuz: return fn(static_cast<float8_e4m3fnuz*>(data));
    case ElementType::f8e5m2: return fn(static_cast<float8_e5m2*>(data));
    case ElementType::f8e5m2fnuz: return fn(static_cast<float8_e5m2fnuz*>(data));
    case ElementType::string: return fn(static_cast<std::string*>(data));
    // One element per byte in memory: the values as int8_t / uint8_t.
    case ElementType::i4: return fn(static_cast<int8_t*>(data));
    case ElementType::u4: return fn(static_cast<uint8_t*>(data));
    case ElementType::undefined: break;
  }
  throw_error("tensor of undefined element type");
}

template <class T>
constexpr bool is_float8_v = std::is_same_v<T, float8_e4m3fn> || std::is_same_v<T, float8_e4m3fnuz> ||
                             std::is_same_v<T, float8_e5m2> || std::is_same_v<T, float8_e5m2fnuz>;

template <class T>
constexpr bool is_real_v = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                           std::is_same_v<T, float16> || std::is_same_v<T, bfloat16> || is_float8_v<T>;

template <class T> double as_double(T value) {
  if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16> || is_float8_v<T>) {
    return static_cast<float>(value);
  } else {
    return static_cast<double>(value);
  }
}

template <class T> std::string value_text(T value) {
  std::ostringstream out;
  if constexpr (std::is_same_v<T, bool>) {
    out << (value ? "true" : "false");
  } else if constexpr (std::is_same_v<T, std::string>) {
    out << '"' << value << '"';
  } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
    out << static_cast<int>(value);
  } else if constexpr (is_real_v<T>) {
    out.precision(6);
    out << as_double(value);
  } else {
    out << value;
  }
  return out.str();
}

}  // namespace

void fill_random(const Tensor& tensor, std::mt19937_64& rng) {
  const auto count = static_cast<size_t>(tensor.size());
  visit_elements(tensor, [&](auto* data) {
    using T = std::remove_pointer_t<decltype(data)>;
    if constexpr (std::is_same_v<T, bool>) {
      std::bernoulli_distribution dist(0.5);
      for (size_t i = 0; i < count; ++i) data[i] = dist(rng);
    } else if constexpr (std::is_same_v<T, std::string>) {
      std::uniform_int_distribution<int> dist(0, 9);
      for (size_t i = 0; i < count; ++i) data[i] = "s" + std::to_string(dist(rng));
    } else if constexpr (is_real_v<T>) {
      std::uniform_real_distribution<double> dist(-1.0, 1.0);
      for (size_t i = 0; i < count; ++i) data[i] = T(static_cast<float>(dist(rng)));
    } else {
      std::uniform_int_distribution<int> dist(0, is_int4(tensor.type()) ? 7 : 9);  // i4 goes up to 7
      for (size_t i = 0; i < count; ++i) data[i] = static_cast<T>(dist(rng));
    }
  });
}

Tensor random_value(const PortInfo& port, std::mt19937_64& rng) {
  auto random_tensor = [&] {
    Tensor tensor(port.type, port.shape.to_shape());
    fill_random(tensor, rng);
    return tensor;
  };
  if (!port.sequence) return random_tensor();
  std::vector<Tensor> items;
  items.push_back(random_tensor());
  items.push_back(random_tensor());
  return Tensor::sequence(port.type, std::move(items));
}

std::string summarize(const Tensor& tensor, size_t shown) {
  std::ostringstream out;
  if (tensor.empty()) return "no value";
  if (tensor.is_sequence()) {
    const auto& items = tensor.items();
    out << "sequence of " << items.size() << (items.size() == 1 ? " tensor" : " tensors");
    for (size_t i = 0; i < std::min(items.size(), shown); ++i) {
      out << (i ? "; " : ": ") << '[' << i << "] " << to_string(items[i].shape()) << ' '
          << summarize(items[i], shown);
    }
    if (items.size() > shown) out << "; ...";
    return out.str();
  }
  const auto count = static_cast<size_t>(tensor.size());
  if (count == 0) return "no elements";
  visit_elements(tensor, [&](auto* data) {
    using T = std::remove_pointer_t<decltype(data)>;
    if constexpr (std::is_same_v<T, std::string>) {
      out << "values [";
      for (size_t i = 0; i < std::min(count, shown); ++i) out << (i ? ", " : "") << value_text(data[i]);
      out << (count > shown ? ", ...]" : "]");
      return;
    } else {
      double min = std::numeric_limits<double>::infinity(), max = -min, sum = 0;
      size_t finite = 0, nan = 0, inf = 0;
      for (size_t i = 0; i < count; ++i) {
        double v = as_double(data[i]);
        if (std::isnan(v)) {
          ++nan;
        } else if (std::isinf(v)) {
          ++inf;
        } else {
          min = std::min(min, v);
          max = std::max(max, v);
          sum += v;
          ++finite;
        }
      }
      if (finite) out << "min " << min << " max " << max << " mean " << sum / static_cast<double>(finite);
      if (nan) out << (finite ? " " : "") << nan << " NaN";
      if (inf) out << (finite || nan ? " " : "") << inf << " inf";
      out << " values [";
      for (size_t i = 0; i < std::min(count, shown); ++i) out << (i ? ", " : "") << value_text(data[i]);
      out << (count > shown ? ", ...]" : "]");
    }
  });
  return out.str();
}

Tensor widen_for_npy(const Tensor& tensor) {
  if (is_int4(tensor.type())) {  // npy has no 4-bit types: the same bytes as i8 / u8
    Tensor wide(tensor.type() == ElementType::i4 ? ElementType::i8 : ElementType::u8, tensor.shape());
    if (tensor.size() > 0) std::memcpy(wide.data(), tensor.data(), static_cast<size_t>(tensor.size()));
    return wide;
  }
  if (tensor.type() != ElementType::bf16 && !is_float8(tensor.type())) return tensor;
  Tensor wide(ElementType::f32, tensor.shape());
  float* target = wide.data<float>();
  visit_elements(tensor, [&](auto* data) {
    using T = std::remove_pointer_t<decltype(data)>;
    if constexpr (std::is_same_v<T, bfloat16> || is_float8_v<T>) {
      for (int64_t i = 0; i < tensor.size(); ++i) target[i] = static_cast<float>(data[i]);
    }
  });
  return wide;
}

Tensor narrow_to_bf16(const Tensor& tensor) {
  Tensor narrow(ElementType::bf16, tensor.shape());
  auto source = tensor.values<float>();
  auto target = narrow.values<bfloat16>();
  for (size_t i = 0; i < source.size(); ++i) target[i] = bfloat16(source[i]);
  return narrow;
}

}  // namespace sluice::tool
