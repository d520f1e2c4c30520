#include "graph/onnx_data_types.hpp"

#include <array>

#include "sluice/error.hpp"

namespace sluice::graph {

namespace {

constexpr std::array<OnnxDataType, 24> data_types = {{
    {0, "UNDEFINED", ElementType::undefined, "untyped"},
    {1, "FLOAT", ElementType::f32, ""},
    {2, "UINT8", ElementType::u8, ""},
    {3, "INT8", ElementType::i8, ""},
    {4, "UINT16", ElementType::u16, ""},
    {5, "INT16", ElementType::i16, ""},
    {6, "INT32", ElementType::i32, ""},
    {7, "INT64", ElementType::i64, ""},
    {8, "STRING", ElementType::string, ""},
    {9, "BOOL", ElementType::boolean, ""},
    {10, "FLOAT16", ElementType::f16, ""},
    {11, "DOUBLE", ElementType::f64, ""},
    {12, "UINT32", ElementType::u32, ""},
    {13, "UINT64", ElementType::u64, ""},
    {14, "COMPLEX64", ElementType::undefined, "complex"},
    {15, "COMPLEX128", ElementType::undefined, "complex"},
    {16, "BFLOAT16", ElementType::bf16, ""},
    {17, "FLOAT8E4M3FN", ElementType::f8e4m3fn, ""},
    {18, "FLOAT8E4M3FNUZ", ElementType::f8e4m3fnuz, ""},
    {19, "FLOAT8E5M2", ElementType::f8e5m2, ""},
    {20, "FLOAT8E5M2FNUZ", ElementType::f8e5m2fnuz, ""},
    {21, "UINT4", ElementType::u4, ""},
    {22, "INT4", ElementType::i4, ""},
    {23, "FLOAT4E2M1", ElementType::undefined, "4-bit float (float4)"},
}};

}  // namespace

const OnnxDataType* find_onnx_data_type(int64_t code) {
  if (code < 0 || code >= static_cast<int64_t>(data_types.size())) return nullptr;
  return &data_types[static_cast<size_t>(code)];
}

const OnnxDataType* find_onnx_data_type(std::string_view name) {
  for (const auto& entry : data_types) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

ElementType element_type_from_onnx(int64_t code, const std::string& what) {
  const OnnxDataType* entry = find_onnx_data_type(code);
  SLUICE_CHECK(entry != nullptr, what, ": unknown ONNX data type ", code);
  SLUICE_CHECK(entry->type != ElementType::undefined, what, ": ", entry->kind,
               " tensors are not supported (data type ", entry->name, ")");
  return entry->type;
}

}  // namespace sluice::graph
