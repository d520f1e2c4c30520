// ONNX TensorProto -> sluice::Tensor: element types, raw and typed data, external data files.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "frontend/onnx_internal.hpp"
#include "graph/onnx_data_types.hpp"

namespace sluice::frontend::detail {

namespace {

static_assert(std::endian::native == std::endian::little, "raw_data is read as little-endian");

namespace fs = std::filesystem;

// The largest tensor accepted, in bytes: far beyond any real model, small enough to never overflow.
constexpr uint64_t max_tensor_bytes = uint64_t{1} << 48;

// A tensor's type and shape, checked, before any memory is allocated for it.
struct Layout {
  ElementType type;
  Shape shape;
  uint64_t count = 0;
  uint64_t bytes = 0;         // in memory
  uint64_t stored_bytes = 0;  // in raw_data or external data: packed for the 4-bit types

  std::string describe() const {
    std::ostringstream out;
    out << "shape " << to_string(shape) << " holds " << count << " elements of " << to_string(type) << " ("
        << stored_bytes << " bytes" << (is_int4(type) ? ", two elements per byte" : "") << ")";
    return out.str();
  }
};

// ONNX stores INT4 / UINT4 packed, two elements per byte with the first in the low nibble (the last
// byte's high nibble is padding for an odd count); in memory they are one per byte. `packed` holds
// ceil(count / 2) bytes; the padding nibble is ignored.
void unpack_int4(const uint8_t* packed, Tensor& tensor) {
  auto* out = static_cast<uint8_t*>(tensor.data());
  const bool is_signed = tensor.type() == ElementType::i4;
  const auto count = static_cast<size_t>(tensor.size());
  for (size_t i = 0; i < count; ++i) {
    const uint8_t nibble = (i % 2 == 0 ? packed[i / 2] : packed[i / 2] >> 4) & 0x0Fu;
    // Sign extension of a 4-bit two's complement value: 8..15 are -8..-1.
    out[i] = is_signed ? static_cast<uint8_t>(static_cast<int8_t>((nibble ^ 0x08) - 0x08)) : nibble;
  }
}

Layout layout_of(const onnx::TensorProto& proto, ElementType type, const std::string& what) {
  Layout layout{type, Shape(proto.dims().begin(), proto.dims().end())};
  uint64_t count = 1;
  for (int64_t d : layout.shape) {
    SLUICE_CHECK(d >= 0, what, ": shape ", to_string(layout.shape), " has a negative dimension");
    if (d == 0) {
      count = 0;
      continue;
    }
    SLUICE_CHECK(count <= max_tensor_bytes / static_cast<uint64_t>(d), what, ": shape ",
                 to_string(layout.shape), " is too large");
    count *= static_cast<uint64_t>(d);
  }
  SLUICE_CHECK(count <= max_tensor_bytes / element_size(type), what, ": shape ", to_string(layout.shape),
               " is too large");
  layout.count = count;
  layout.bytes = count * element_size(type);
  layout.stored_bytes = is_int4(type) ? (count + 1) / 2 : layout.bytes;
  return layout;
}

// Call only once the data has been checked against the layout, so that a malformed file cannot make
// the reader allocate what its data does not back.
Tensor allocate(const Layout& layout, const std::string& what) {
  try {
    return Tensor(layout.type, layout.shape);
  } catch (const std::bad_alloc&) {
    throw_error(what, ": cannot allocate ", layout.bytes, " bytes for ", to_string(layout.shape), " ",
                to_string(layout.type));
  }
}

void normalize_bools(Tensor& tensor) {
  auto* bytes = static_cast<uint8_t*>(tensor.data());
  for (size_t i = 0; i < tensor.byte_size(); ++i) bytes[i] = bytes[i] != 0 ? 1 : 0;
}

Tensor from_raw(const std::string& raw, const Layout& layout, const std::string& what) {
  SLUICE_CHECK(layout.type != ElementType::string, what,
               ": string tensors carry their values in string_data, "
               "not raw_data");
  SLUICE_CHECK(raw.size() == layout.stored_bytes, what, ": ", layout.describe(), " but raw_data has ",
               raw.size(), " bytes");
  Tensor tensor = allocate(layout, what);
  if (is_int4(layout.type)) {
    unpack_int4(reinterpret_cast<const uint8_t*>(raw.data()), tensor);
    return tensor;
  }
  if (!raw.empty()) std::memcpy(tensor.data(), raw.data(), raw.size());
  if (tensor.type() == ElementType::boolean) normalize_bools(tensor);
  return tensor;
}

// The typed field that carries values of this element type, and its name.
std::pair<int, const char*> typed_field(const onnx::TensorProto& proto, ElementType type) {
  switch (type) {
    case ElementType::f32: return {proto.float_data_size(), "float_data"};
    case ElementType::f64: return {proto.double_data_size(), "double_data"};
    case ElementType::i64: return {proto.int64_data_size(), "int64_data"};
    case ElementType::string: return {proto.string_data_size(), "string_data"};
    case ElementType::u64:
    case ElementType::u32: return {proto.uint64_data_size(), "uint64_data"};
    default: return {proto.int32_data_size(), "int32_data"};
  }
}

template <class T, class Field> void copy_same(const Field& field, Tensor& tensor) {
  T* out = tensor.data<T>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}

// int32_data carries 8- and 16-bit integers and the bits of 16-bit floats; either signedness of the
// width is accepted (exporters differ), anything wider is an error.
template <class Bits>
void copy_narrow(const google::protobuf::RepeatedField<int32_t>& field, Tensor& tensor,
                 const std::string& what) {
  constexpr int64_t width = 8 * sizeof(Bits);
  constexpr int64_t lo = -(int64_t{1} << (width - 1));
  constexpr int64_t hi = (int64_t{1} << width) - 1;
  auto* out = static_cast<Bits*>(tensor.data());
  for (int i = 0; i < field.size(); ++i) {
    int32_t v = field.Get(i);
    SLUICE_CHECK(v >= lo && v <= hi, what, ": int32_data[", i, "] = ", v, " does not fit ",
                 to_string(tensor.type()));
    out[i] = static_cast<Bits>(v);
  }
}

void copy_uint32(const google::protobuf::RepeatedField<uint64_t>& field, Tensor& tensor,
                 const std::string& what) {
  auto* out = tensor.data<uint32_t>();
  for (int i = 0; i < field.size(); ++i) {
    uint64_t v = field.Get(i);
    SLUICE_CHECK(v <= std::numeric_limits<uint32_t>::max(), what, ": uint64_data[", i, "] = ", v,
                 " does not fit u32");
    out[i] = static_cast<uint32_t>(v);
  }
}

void copy_bools(const google::protobuf::RepeatedField<int32_t>& field, Tensor& tensor) {
  bool* out = tensor.data<bool>();
  for (int i = 0; i < field.size(); ++i) out[i] = field.Get(i) != 0;
}

// int32_data of a 4-bit tensor holds the packed bytes, ceil(count / 2) of them, one per value.
Tensor from_int4_typed(const onnx::TensorProto& proto, const Layout& layout, const std::string& what) {
  const int found = proto.int32_data_size();
  SLUICE_CHECK(static_cast<uint64_t>(found) == layout.stored_bytes, what, ": shape ", to_string(layout.shape),
               " holds ", layout.count, " elements of ", to_string(layout.type),
               ", packed two per value, but int32_data has ", found, found == 1 ? " value" : " values",
               "; expected ", layout.stored_bytes);
  std::vector<uint8_t> packed(static_cast<size_t>(found));
  for (int i = 0; i < found; ++i) {
    const int32_t v = proto.int32_data(i);
    // Either signedness of the byte is accepted, as for the 8-bit types.
    SLUICE_CHECK(v >= -128 && v <= 255, what, ": int32_data[", i, "] = ", v,
                 " is not a byte of two packed 4-bit values");
    packed[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  }
  Tensor tensor = allocate(layout, what);
  unpack_int4(packed.data(), tensor);
  return tensor;
}

Tensor from_typed(const onnx::TensorProto& proto, const Layout& layout, const std::string& what) {
  if (is_int4(layout.type)) return from_int4_typed(proto, layout, what);
  auto [found, field_name] = typed_field(proto, layout.type);
  SLUICE_CHECK(static_cast<uint64_t>(found) == layout.count, what, ": shape ", to_string(layout.shape),
               " holds ", layout.count, " elements of ", to_string(layout.type), " but ", field_name, " has ",
               found, found == 1 ? " value" : " values");
  Tensor tensor = allocate(layout, what);
  switch (layout.type) {
    case ElementType::f32: copy_same<float>(proto.float_data(), tensor); break;
    case ElementType::f64: copy_same<double>(proto.double_data(), tensor); break;
    case ElementType::i64: copy_same<int64_t>(proto.int64_data(), tensor); break;
    case ElementType::u64: copy_same<uint64_t>(proto.uint64_data(), tensor); break;
    case ElementType::i32: copy_same<int32_t>(proto.int32_data(), tensor); break;
    case ElementType::u32: copy_uint32(proto.uint64_data(), tensor, what); break;
    case ElementType::i16: copy_narrow<int16_t>(proto.int32_data(), tensor, what); break;
    case ElementType::u16:
    case ElementType::f16:
    case ElementType::bf16: copy_narrow<uint16_t>(proto.int32_data(), tensor, what); break;
    case ElementType::i8: copy_narrow<int8_t>(proto.int32_data(), tensor, what); break;
    case ElementType::u8:
    case ElementType::f8e4m3fn:
    case ElementType::f8e4m3fnuz:
    case ElementType::f8e5m2:
    case ElementType::f8e5m2fnuz: copy_narrow<uint8_t>(proto.int32_data(), tensor, what); break;
    case ElementType::string:
      std::copy(proto.string_data().begin(), proto.string_data().end(), tensor.data<std::string>());
      break;
    case ElementType::boolean: copy_bools(proto.int32_data(), tensor); break;
    case ElementType::i4:
    case ElementType::u4: break;  // from_int4_typed
    case ElementType::undefined: throw_error(what, ": no element type");
  }
  return tensor;
}

uint64_t parse_uint(const std::string& text, const std::string& key, const std::string& what) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  SLUICE_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), what,
               ": external data '", key, "' is '", text, "', expected a non-negative integer");
  return v;
}

struct ExternalRef {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};

ExternalRef external_ref(const onnx::TensorProto& proto, const std::string& what) {
  ExternalRef ref;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      ref.location = entry.value();
    } else if (entry.key() == "offset") {
      ref.offset = parse_uint(entry.value(), "offset", what);
    } else if (entry.key() == "length") {
      ref.length = parse_uint(entry.value(), "length", what);
    }
  }
  SLUICE_CHECK(!ref.location.empty(), what, ": external data has no 'location'");
  return ref;
}

// The file named by `location`, which must be a relative path inside base_dir without "..", without
// symbolic links and naming a regular file.
fs::path external_path(const std::string& base_dir, const std::string& location, const std::string& what) {
  SLUICE_CHECK(!base_dir.empty(), what, ": external data file '", location,
               "' cannot be located: the model was not read from a file (no base folder)");
  fs::path relative(location);
  SLUICE_CHECK(!relative.has_root_name() && !relative.has_root_directory(), what, ": external data path '",
               location, "' is absolute; it must be relative to the model's folder");
  for (const auto& part : relative) {
    SLUICE_CHECK(part != "..", what, ": external data path '", location,
                 "' contains '..'; it must stay inside the model's folder");
  }
  std::error_code ec;
  fs::path base = fs::canonical(base_dir, ec);
  SLUICE_CHECK(!ec, what, ": model folder '", base_dir, "' of external data '", location,
               "' cannot be opened: ", ec.message());
  fs::path current = base;
  for (const auto& part : relative) {
    if (part == "." || part.empty()) continue;
    current /= part;
    auto status = fs::symlink_status(current, ec);
    SLUICE_CHECK(status.type() != fs::file_type::symlink, what, ": external data path '", location,
                 "' goes through the symbolic link '", current.string(), "', which is not allowed");
    SLUICE_CHECK(fs::exists(status), what, ": external data file '", current.string(), "' does not exist");
  }
  SLUICE_CHECK(fs::is_regular_file(fs::symlink_status(current, ec)), what, ": external data path '",
               current.string(), "' is not a regular file");
  return current;
}

Tensor from_external(const onnx::TensorProto& proto, const std::string& base_dir, const Layout& layout,
                     const std::string& what) {
  ExternalRef ref = external_ref(proto, what);
  fs::path path = external_path(base_dir, ref.location, what);
  std::error_code ec;
  uint64_t file_size = fs::file_size(path, ec);
  SLUICE_CHECK(!ec, what, ": cannot read the size of external data file '", path.string(),
               "': ", ec.message());
  SLUICE_CHECK(ref.offset <= file_size, what, ": external data offset ", ref.offset,
               " is beyond the end of '", path.string(), "' (", file_size, " bytes)");
  uint64_t length = ref.length.value_or(file_size - ref.offset);
  SLUICE_CHECK(length <= file_size - ref.offset, what, ": external data offset ", ref.offset, " + length ",
               length, " is beyond the end of '", path.string(), "' (", file_size, " bytes)");
  SLUICE_CHECK(length == layout.stored_bytes, what, ": ", layout.describe(), " but its external data in '",
               ref.location, "' has ", length, " bytes");
  Tensor tensor = allocate(layout, what);
  if (length == 0) return tensor;
  std::ifstream file(path, std::ios::binary);
  SLUICE_CHECK(file, what, ": cannot open external data file '", path.string(), "'");
  file.seekg(static_cast<std::streamoff>(ref.offset));
  // 4-bit values are read packed, then unpacked into the tensor.
  std::vector<uint8_t> packed(is_int4(layout.type) ? static_cast<size_t>(length) : 0);
  char* target =
      is_int4(layout.type) ? reinterpret_cast<char*>(packed.data()) : static_cast<char*>(tensor.data());
  file.read(target, static_cast<std::streamsize>(length));
  SLUICE_CHECK(file && static_cast<uint64_t>(file.gcount()) == length, what, ": reading external data file '",
               path.string(), "' failed");
  if (is_int4(layout.type)) unpack_int4(packed.data(), tensor);
  if (tensor.type() == ElementType::boolean) normalize_bools(tensor);
  return tensor;
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir,
                         const std::string& what) {
  ElementType type = graph::element_type_from_onnx(proto.data_type(), what);
  SLUICE_CHECK(!proto.has_segment(), what, ": segmented tensors are not supported");
  Layout layout = layout_of(proto, type, what);
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    SLUICE_CHECK(type != ElementType::string, what, ": string tensors cannot have external data");
    return from_external(proto, base_dir, layout, what);
  }
  if (proto.has_raw_data()) return from_raw(proto.raw_data(), layout, what);
  return from_typed(proto, layout, what);
}

Tensor take_tensor_from_proto(onnx::TensorProto& proto, const std::string& base_dir,
                              const std::string& what) {
  Tensor tensor = tensor_from_proto(proto, base_dir, what);
  if (proto.has_raw_data()) std::string().swap(*proto.mutable_raw_data());
  return tensor;
}

namespace {

void read_tensor_type(const onnx::TypeProto::Tensor& tensor_type, DeclaredType& declared,
                      const std::string& what) {
  if (tensor_type.elem_type() != onnx::TensorProto::UNDEFINED) {
    declared.type = graph::element_type_from_onnx(tensor_type.elem_type(), what);
  }
  if (!tensor_type.has_shape()) return;
  std::vector<Dimension> dims;
  for (const auto& dim : tensor_type.shape().dim()) {
    if (dim.has_dim_value() && dim.dim_value() >= 0) {
      dims.emplace_back(dim.dim_value());
    } else if (dim.has_dim_param() && !dim.dim_param().empty()) {
      dims.push_back(Dimension::dynamic(dim.dim_param()));
    } else {
      dims.push_back(Dimension::dynamic());
    }
  }
  declared.shape = PartialShape(std::move(dims));
}

// Reads tensor(T), sequence(tensor(T)), optional(tensor(T)) and optional(sequence(tensor(T))); anything
// else is recorded as unsupported.
void read_type(const onnx::TypeProto& type, DeclaredType& declared, const std::string& what, int depth) {
  switch (type.value_case()) {
    case onnx::TypeProto::kTensorType: read_tensor_type(type.tensor_type(), declared, what); return;
    case onnx::TypeProto::kSequenceType:
      if (declared.kind.sequence) {
        declared.unsupported = "a sequence of sequences";
        return;
      }
      declared.kind.sequence = true;
      if (type.sequence_type().has_elem_type())
        read_type(type.sequence_type().elem_type(), declared, what, depth + 1);
      return;
    case onnx::TypeProto::kOptionalType:
      if (depth > 0) {
        declared.unsupported = "an optional inside a sequence or optional";
        return;
      }
      declared.kind.optional = true;
      if (type.optional_type().has_elem_type())
        read_type(type.optional_type().elem_type(), declared, what, depth + 1);
      return;
    case onnx::TypeProto::kMapType: declared.unsupported = "a map"; return;
    case onnx::TypeProto::kSparseTensorType: declared.unsupported = "a sparse tensor"; return;
    default: return;  // no type declared
  }
}

}  // namespace

DeclaredType declared_type_of(const onnx::TypeProto& type, const std::string& what) {
  DeclaredType declared;
  read_type(type, declared, what, 0);
  return declared;
}

DeclaredType declared_type(const onnx::ValueInfoProto& info, const std::string& what) {
  return info.has_type() ? declared_type_of(info.type(), what) : DeclaredType{};
}

}  // namespace sluice::frontend::detail
