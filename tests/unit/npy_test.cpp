#include "util/npy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace sluice::util {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

// A .npy v1.0 file with the given header dictionary (padded like NumPy does) and data bytes.
std::vector<uint8_t> npy_v1(const std::string& dict, const std::vector<uint8_t>& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  bytes.push_back(header.size() & 0xff);
  bytes.push_back(header.size() >> 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    parse_npy(bytes, "x.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Files written by NumPy 1.24 (np.save / np.lib.format.write_array), as hex.
// np.arange(6, dtype='<f4').reshape(2, 3) * 0.5
const std::string numpy_f32_2x3 =
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73"
    "652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020200a000000000000003f0000803f0000c03f"
    "0000004000002040";
// np.array([1.0, -2.5, 65504], dtype='<f2')
const std::string numpy_f16_3 =
    "934e554d5059010076007b276465736372273a20273c6632272c2027666f727472616e5f6f72646572273a2046616c73"
    "652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020200a003c00c1ff7b";
// np.array([[True, False], [False, True]])
const std::string numpy_bool_2x2 =
    "934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73"
    "652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020200a01000001";
// np.array(-7, dtype='<i8')
const std::string numpy_i64_scalar =
    "934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73"
    "652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020200af9ffffffffffffff";
// np.lib.format.write_array(f, np.array([3], dtype='<u4'), version=(3, 0))
const std::string numpy_u32_v3 =
    "934e554d50590300740000007b276465736372273a20273c7534272c2027666f727472616e5f6f72646572273a204661"
    "6c73652c20277368617065273a2028312c292c207d202020202020202020202020202020202020202020202020202020"
    "202020202020202020202020202020202020202020202020202020202020200a03000000";

TEST(Npy, ReadsNumpyFloat32) {
  Tensor t = parse_npy(from_hex(numpy_f32_2x3), "f32.npy");
  EXPECT_EQ(t.type(), ElementType::f32);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  std::vector<float> values(t.values<float>().begin(), t.values<float>().end());
  EXPECT_EQ(values, (std::vector<float>{0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f}));
}

TEST(Npy, ReadsNumpyFloat16) {
  Tensor t = parse_npy(from_hex(numpy_f16_3), "f16.npy");
  EXPECT_EQ(t.type(), ElementType::f16);
  EXPECT_EQ(t.shape(), (Shape{3}));
  auto v = t.values<float16>();
  EXPECT_EQ(static_cast<float>(v[0]), 1.0f);
  EXPECT_EQ(static_cast<float>(v[1]), -2.5f);
  EXPECT_EQ(static_cast<float>(v[2]), 65504.0f);
}

TEST(Npy, ReadsNumpyBool) {
  Tensor t = parse_npy(from_hex(numpy_bool_2x2), "b.npy");
  EXPECT_EQ(t.type(), ElementType::boolean);
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  auto v = t.values<bool>();
  EXPECT_TRUE(v[0]);
  EXPECT_FALSE(v[1]);
  EXPECT_FALSE(v[2]);
  EXPECT_TRUE(v[3]);
}

TEST(Npy, ReadsNumpyScalar) {
  Tensor t = parse_npy(from_hex(numpy_i64_scalar), "s.npy");
  EXPECT_EQ(t.type(), ElementType::i64);
  EXPECT_EQ(t.shape(), Shape{});
  EXPECT_EQ(t.values<int64_t>()[0], -7);
}

TEST(Npy, ReadsVersion2And3) {
  Tensor t3 = parse_npy(from_hex(numpy_u32_v3), "v3.npy");
  EXPECT_EQ(t3.type(), ElementType::u32);
  EXPECT_EQ(t3.shape(), (Shape{1}));
  EXPECT_EQ(t3.values<uint32_t>()[0], 3u);

  // The same file as format 2.0 (identical layout, only the version byte differs).
  std::vector<uint8_t> v2 = from_hex(numpy_u32_v3);
  v2[6] = 2;
  EXPECT_EQ(parse_npy(v2, "v2.npy").values<uint32_t>()[0], 3u);
}

TEST(Npy, WritesExactlyWhatNumpyWrites) {
  for (const std::string* hex : {&numpy_f32_2x3, &numpy_f16_3, &numpy_bool_2x2, &numpy_i64_scalar}) {
    std::vector<uint8_t> bytes = from_hex(*hex);
    EXPECT_EQ(serialize_npy(parse_npy(bytes, "x.npy")), bytes);
  }
}

TEST(Npy, AcceptsOtherKeyOrderAndQuotes) {
  auto bytes = npy_v1(R"({"shape": (2,), "fortran_order": False, "descr": "=i4"})", {5, 0, 0, 0, 6, 0, 0, 0});
  Tensor t = parse_npy(bytes, "x.npy");
  EXPECT_EQ(t.type(), ElementType::i32);
  EXPECT_EQ(t.values<int32_t>()[1], 6);
}

template <class T> void expect_round_trip(std::initializer_list<T> values, Shape shape) {
  Tensor t = Tensor::from<T>(shape, std::span<const T>(values.begin(), values.size()));
  Tensor back = parse_npy(serialize_npy(t), "rt.npy");
  ASSERT_EQ(back.type(), element_type_v<T>);
  ASSERT_EQ(back.shape(), shape);
  ASSERT_EQ(back.byte_size(), t.byte_size());
  EXPECT_EQ(std::memcmp(back.data(), t.data(), t.byte_size()), 0) << to_string(element_type_v<T>);
}

TEST(Npy, RoundTripsEveryType) {
  expect_round_trip<float>({1.5f, -0.0f, std::numeric_limits<float>::infinity(), 3e38f}, {2, 2});
  expect_round_trip<float16>({float16(1.0f), float16(-3.25f)}, {2});
  expect_round_trip<double>({1e300, -2.0, 0.125}, {3, 1});
  expect_round_trip<int8_t>({-128, 127, 0}, {3});
  expect_round_trip<int16_t>({-32768, 32767}, {1, 2});
  expect_round_trip<int32_t>({std::numeric_limits<int32_t>::min(), 7}, {2});
  expect_round_trip<int64_t>({std::numeric_limits<int64_t>::max()}, {});
  expect_round_trip<uint8_t>({0, 255}, {2});
  expect_round_trip<uint16_t>({65535}, {1, 1, 1});
  expect_round_trip<uint32_t>({4000000000u, 1}, {2});
  expect_round_trip<uint64_t>({std::numeric_limits<uint64_t>::max()}, {1});
  expect_round_trip<bool>({true, false, true}, {3});
  expect_round_trip<float>({}, {0, 4});
}

TEST(Npy, DtypeNames) {
  EXPECT_EQ(npy_dtype(ElementType::f32), "<f4");
  EXPECT_EQ(npy_dtype(ElementType::i8), "|i1");
  EXPECT_EQ(npy_dtype(ElementType::u64), "<u8");
  EXPECT_EQ(npy_dtype(ElementType::boolean), "|b1");
}

TEST(Npy, HeaderIsPaddedTo64Bytes) {
  Tensor t(ElementType::f32, {1, 2, 1, 3, 1, 1, 1, 1, 1, 1, 1, 2});
  std::vector<uint8_t> bytes = serialize_npy(t);
  EXPECT_EQ(bytes[6], 1);
  size_t header_length = bytes[8] | (bytes[9] << 8);
  EXPECT_EQ((10 + header_length) % 64, 0u);
  EXPECT_EQ(bytes[10 + header_length - 1], '\n');
  EXPECT_EQ(parse_npy(bytes, "x.npy").shape(), t.shape());
}

TEST(Npy, WritesVersion2WhenTheHeaderIsLong) {
  Tensor t(ElementType::i8, Shape(30000, 1));  // "1, " per dimension: a header over 65535 bytes
  std::vector<uint8_t> bytes = serialize_npy(t);
  EXPECT_EQ(bytes[6], 2);
  size_t header_length = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (size_t{bytes[11]} << 24);
  EXPECT_GT(header_length, 65535u);
  EXPECT_EQ((12 + header_length) % 64, 0u);
  EXPECT_EQ(parse_npy(bytes, "x.npy").shape(), t.shape());
}

TEST(Npy, RefusesBfloat16) {
  Tensor t(ElementType::bf16, {2});
  EXPECT_THAT([&] { serialize_npy(t); }, ::testing::ThrowsMessage<Error>(HasSubstr("bfloat16")));
}

TEST(Npy, RejectsBadMagic) {
  std::vector<uint8_t> bytes = from_hex(numpy_f32_2x3);
  bytes[1] = 'X';
  EXPECT_THAT(error_of(bytes), HasSubstr("x.npy: not a .npy file (bad magic"));
  EXPECT_THAT(error_of({}), HasSubstr("bad magic"));
}

TEST(Npy, RejectsTruncatedData) {
  std::vector<uint8_t> bytes = from_hex(numpy_f32_2x3);
  bytes.pop_back();
  EXPECT_THAT(error_of(bytes),
              HasSubstr("x.npy: truncated .npy file (shape (2, 3) of '<f4' needs 24 data bytes, "
                        "23 present)"));
}

TEST(Npy, RejectsTruncatedHeader) {
  std::vector<uint8_t> bytes = from_hex(numpy_f32_2x3);
  bytes.resize(40);
  EXPECT_THAT(error_of(bytes), HasSubstr("truncated .npy file (header of 118 bytes declared"));
  bytes.resize(9);
  EXPECT_THAT(error_of(bytes), HasSubstr("truncated"));
}

TEST(Npy, RejectsTrailingData) {
  std::vector<uint8_t> bytes = from_hex(numpy_f32_2x3);
  bytes.push_back(0);
  EXPECT_THAT(error_of(bytes), HasSubstr("1 bytes after the array data"));
}

TEST(Npy, RejectsUnsupportedDtypes) {
  EXPECT_THAT(error_of(npy_v1("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", {0, 0, 0, 0})),
              HasSubstr("unsupported .npy dtype '>f4' (big-endian"));
  EXPECT_THAT(error_of(npy_v1("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", {})),
              HasSubstr("unsupported .npy dtype '<c8'; supported dtypes: '<f4', '<f2'"));
  EXPECT_THAT(error_of(npy_v1("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", {})),
              HasSubstr("unsupported .npy dtype '|O'"));
  EXPECT_THAT(error_of(npy_v1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", {})),
              HasSubstr("structured or object dtypes are not supported"));
}

TEST(Npy, EveryTruncationIsAnError) {
  std::vector<uint8_t> bytes = from_hex(numpy_f32_2x3);
  for (size_t size = 0; size < bytes.size(); ++size) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_THROW(parse_npy(cut, "x.npy"), Error) << size << " bytes";
  }
}

TEST(Npy, CorruptBytesGiveAnErrorOrATensor) {
  std::vector<uint8_t> bytes = from_hex(numpy_f32_2x3);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t value : {0x00, 0x20, 0x27, 0x29, 0x2c, 0x39, 0x7b, 0x7d, 0xff}) {
      std::vector<uint8_t> corrupt = bytes;
      corrupt[i] = value;
      try {
        Tensor t = parse_npy(corrupt, "x.npy");
        EXPECT_EQ(t.byte_size(), corrupt.size() - 128) << "byte " << i;
      } catch (const Error&) {
      }
    }
  }
}

TEST(Npy, RejectsFortranOrder) {
  auto bytes = npy_v1("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2), }", std::vector<uint8_t>(16));
  EXPECT_THAT(error_of(bytes), HasSubstr("Fortran-order .npy arrays are not supported"));
}

TEST(Npy, RejectsMalformedHeaders) {
  EXPECT_THAT(error_of(npy_v1("{'descr': '<f4', 'shape': (1,), }", {0, 0, 0, 0})),
              HasSubstr("lacks 'fortran_order'"));
  EXPECT_THAT(error_of(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", {})),
              HasSubstr("expected a non-negative integer in 'shape'"));
  EXPECT_THAT(error_of(npy_v1("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }", {})),
              HasSubstr("expected True or False"));
  EXPECT_THAT(error_of(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", {})),
              HasSubstr("unexpected key 'x'"));
  EXPECT_THAT(error_of(npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': "
                              "(99999999999, 99999999999, 99999999999), }",
                              {})),
              HasSubstr("too large"));
  std::vector<uint8_t> bad_version = from_hex(numpy_f32_2x3);
  bad_version[6] = 4;
  EXPECT_THAT(error_of(bad_version), HasSubstr("unsupported .npy format version 4.0"));
}

TEST(Npy, FileRoundTripAndErrorsNameTheFile) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice_npy_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "a.npy").string();
  Tensor t = Tensor::from<int32_t>({3}, {1, 2, 3});
  write_npy(path, t);
  Tensor back = read_npy(path);
  EXPECT_EQ(back.values<int32_t>()[2], 3);

  std::string missing = (dir / "missing.npy").string();
  EXPECT_THAT([&] { read_npy(missing); },
              ::testing::ThrowsMessage<Error>(HasSubstr(missing + ": cannot open the .npy file")));
  std::string unwritable = (dir / "no_such_dir" / "b.npy").string();
  EXPECT_THAT([&] { write_npy(unwritable, t); },
              ::testing::ThrowsMessage<Error>(HasSubstr(unwritable + ": cannot open the .npy file")));
  EXPECT_THAT([&] { write_npy(path, Tensor(ElementType::bf16, {1})); },
              ::testing::ThrowsMessage<Error>(HasSubstr(path + ": bf16 tensors cannot be stored")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::util
