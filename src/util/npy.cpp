#include "util/npy.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string_view>

namespace sluice::util {
namespace {

constexpr std::string_view magic = "\x93NUMPY";
constexpr size_t header_alignment = 64;

struct DtypeEntry {
  char kind;  // 'f', 'i', 'u', 'b'
  size_t size;
  ElementType type;
};

constexpr std::array<DtypeEntry, 12> dtype_table{{
    {'f', 4, ElementType::f32},
    {'f', 2, ElementType::f16},
    {'f', 8, ElementType::f64},
    {'i', 1, ElementType::i8},
    {'i', 2, ElementType::i16},
    {'i', 4, ElementType::i32},
    {'i', 8, ElementType::i64},
    {'u', 1, ElementType::u8},
    {'u', 2, ElementType::u16},
    {'u', 4, ElementType::u32},
    {'u', 8, ElementType::u64},
    {'b', 1, ElementType::boolean},
}};

std::string supported_dtypes() {
  std::string list;
  for (const auto& entry : dtype_table) {
    if (!list.empty()) list += ", ";
    list += "'" + npy_dtype(entry.type) + "'";
  }
  return list;
}

// The fields of a .npy header dictionary.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// A parser for the Python dict literal of a .npy header, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() != '\'' && peek() != '"') {
          fail(
              "structured or object dtypes are not supported (descr is not a simple type string); "
              "supported dtypes: ",
              supported_dtypes());
        }
        header.descr = parse_string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = parse_bool();
        seen_order = true;
      } else if (key == "shape") {
        header.shape = parse_shape();
        seen_shape = true;
      } else {
        fail("unexpected key '", key, "' in the header (expected 'descr', 'fortran_order', 'shape')");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}' at offset ", pos_, " of the header");
    }
    ++pos_;
    if (!seen_descr || !seen_order || !seen_shape) {
      fail("the header lacks ", !seen_descr ? "'descr'" : !seen_order ? "'fortran_order'" : "'shape'");
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dictionary at offset ", pos_);
    return header;
  }

 private:
  template <class... Args> [[noreturn]] void fail(Args&&... pieces) const {
    throw_error(source_, ": bad .npy header: ", std::forward<Args>(pieces)...);
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail("expected '", c, "' at offset ", pos_);
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string at offset ", pos_);
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string at offset ", pos_);
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return value;
  }
  bool parse_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("expected True or False for 'fortran_order' at offset ", pos_);
  }
  int64_t parse_extent() {
    skip_space();
    size_t start = pos_;
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      int digit = peek() - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("shape extent too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape' at offset ", pos_);
    if (peek() == 'L') ++pos_;  // Python 2 long literals
    return value;
  }
  Shape parse_shape() {
    Shape shape;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      shape.push_back(parse_extent());
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in 'shape' at offset ", pos_);
    }
    ++pos_;
    return shape;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

[[noreturn]] void unsupported_dtype(const std::string& descr, const std::string& source, const char* why) {
  throw_error(source, ": unsupported .npy dtype '", descr, "'", why,
              "; supported dtypes: ", supported_dtypes());
}

ElementType parse_dtype(const std::string& descr, const std::string& source) {
  if (descr.size() != 3) unsupported_dtype(descr, source, "");
  char order = descr[0];
  if (order == '>') unsupported_dtype(descr, source, " (big-endian data is not supported)");
  if (order != '<' && order != '|' && order != '=') unsupported_dtype(descr, source, "");
  char kind = descr[1];
  if (!std::isdigit(static_cast<unsigned char>(descr[2]))) unsupported_dtype(descr, source, "");
  auto size = static_cast<size_t>(descr[2] - '0');
  for (const auto& entry : dtype_table) {
    if (entry.kind == kind && entry.size == size) return entry.type;
  }
  unsupported_dtype(descr, source, "");
}

uint64_t read_le(std::span<const uint8_t> bytes, size_t offset, size_t count) {
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i) value |= static_cast<uint64_t>(bytes[offset + i]) << (8 * i);
  return value;
}

// Element count of a shape, or nullopt when it overflows.
std::optional<uint64_t> checked_count(const Shape& shape) {
  uint64_t count = 1;
  for (int64_t extent : shape) {
    auto e = static_cast<uint64_t>(extent);
    if (e != 0 && count > std::numeric_limits<uint64_t>::max() / e) return std::nullopt;
    count *= e;
  }
  return count;
}

std::string shape_tuple(const Shape& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SLUICE_CHECK(in, path, ": cannot open the .npy file for reading: ", std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SLUICE_CHECK(!in.bad(), path, ": error while reading the .npy file");
  return bytes;
}

}  // namespace

std::string npy_dtype(ElementType type) {
  for (const auto& entry : dtype_table) {
    if (entry.type == type) {
      char order = entry.size == 1 ? '|' : '<';
      return std::string{order, entry.kind, static_cast<char>('0' + entry.size)};
    }
  }
  if (type == ElementType::bf16) {
    throw_error("bf16 tensors cannot be stored in .npy: NumPy has no bfloat16 dtype (convert to f32 first)");
  }
  throw_error("element type '", to_string(type), "' has no .npy dtype");
}

Tensor parse_npy(std::span<const uint8_t> bytes, const std::string& source) {
  SLUICE_CHECK(bytes.size() >= magic.size() + 2 && std::memcmp(bytes.data(), magic.data(), magic.size()) == 0,
               source, ": not a .npy file (bad magic: expected the bytes \\x93NUMPY at the start)");
  unsigned major = bytes[6], minor = bytes[7];
  SLUICE_CHECK(major >= 1 && major <= 3 && minor == 0, source, ": unsupported .npy format version ", major,
               ".", minor, " (supported: 1.0, 2.0, 3.0)");
  size_t length_size = major == 1 ? 2 : 4;
  size_t header_start = magic.size() + 2 + length_size;
  SLUICE_CHECK(bytes.size() >= header_start, source, ": truncated .npy file (", bytes.size(),
               " bytes, the header length field is incomplete)");
  uint64_t header_length = read_le(bytes, magic.size() + 2, length_size);
  SLUICE_CHECK(bytes.size() - header_start >= header_length, source, ": truncated .npy file (header of ",
               header_length, " bytes declared, ", bytes.size() - header_start, " bytes follow)");
  std::string_view text(reinterpret_cast<const char*>(bytes.data()) + header_start, header_length);
  NpyHeader header = HeaderParser(text, source).parse();
  ElementType type = parse_dtype(header.descr, source);
  SLUICE_CHECK(!header.fortran_order, source,
               ": Fortran-order .npy arrays are not supported (save a C-order array, e.g. "
               "np.save(path, np.ascontiguousarray(a)))");

  size_t data_start = header_start + header_length;
  size_t available = bytes.size() - data_start;
  auto count = checked_count(header.shape);
  SLUICE_CHECK(count && *count <= std::numeric_limits<uint64_t>::max() / element_size(type), source,
               ": .npy shape ", shape_tuple(header.shape), " is too large");
  uint64_t needed = *count * element_size(type);
  SLUICE_CHECK(needed <= available, source, ": truncated .npy file (shape ", shape_tuple(header.shape),
               " of '", header.descr, "' needs ", needed, " data bytes, ", available, " present)");
  SLUICE_CHECK(needed == available, source, ": .npy file has ", available - needed,
               " bytes after the array data (shape ", shape_tuple(header.shape), " of '", header.descr,
               "' needs ", needed, "); several arrays in one file are not supported");

  Tensor tensor(type, header.shape);
  if (needed) std::memcpy(tensor.data(), bytes.data() + data_start, needed);
  if (type == ElementType::boolean) {
    auto* raw = static_cast<uint8_t*>(tensor.data());
    for (uint64_t i = 0; i < *count; ++i) raw[i] = raw[i] != 0;
  }
  return tensor;
}

Tensor read_npy(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_npy(bytes, path);
}

std::vector<uint8_t> serialize_npy(const Tensor& tensor) {
  SLUICE_CHECK(!tensor.empty(), "cannot store an empty (typeless) tensor in .npy");
  std::string dict = "{'descr': '" + npy_dtype(tensor.type()) +
                     "', 'fortran_order': False, 'shape': " + shape_tuple(tensor.shape()) + ", }";
  // Pad with spaces and end with '\n' so that the data starts at a multiple of 64 bytes.
  size_t prefix_v1 = magic.size() + 2 + 2;
  size_t total = (prefix_v1 + dict.size() + 1 + header_alignment - 1) / header_alignment * header_alignment;
  bool version2 = total - prefix_v1 > std::numeric_limits<uint16_t>::max();
  size_t prefix = version2 ? magic.size() + 2 + 4 : prefix_v1;
  if (version2) {
    total = (prefix + dict.size() + 1 + header_alignment - 1) / header_alignment * header_alignment;
  }
  size_t header_length = total - prefix;
  dict.resize(header_length - 1, ' ');
  dict += '\n';

  std::vector<uint8_t> out;
  out.reserve(total + tensor.byte_size());
  out.insert(out.end(), magic.begin(), magic.end());
  out.push_back(version2 ? 2 : 1);
  out.push_back(0);
  for (size_t i = 0; i < prefix - magic.size() - 2; ++i) out.push_back((header_length >> (8 * i)) & 0xff);
  out.insert(out.end(), dict.begin(), dict.end());
  const auto* data = static_cast<const uint8_t*>(tensor.data());
  if (tensor.byte_size()) out.insert(out.end(), data, data + tensor.byte_size());
  return out;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::vector<uint8_t> bytes;
  try {
    bytes = serialize_npy(tensor);
  } catch (const Error& e) {
    throw_error(path, ": ", e.what());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  SLUICE_CHECK(out, path, ": cannot open the .npy file for writing: ", std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  SLUICE_CHECK(out, path, ": error while writing the .npy file");
}

}  // namespace sluice::util
