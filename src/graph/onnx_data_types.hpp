// onnx.TensorProto.DataType: the one table of ONNX's element-type codes in Sluice, used by the frontend
// (tensor and value types) and by operators whose attributes name a type (Cast's 'to', 'dtype', ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/element_type.hpp"

namespace sluice::graph {

struct OnnxDataType {
  int32_t code;
  std::string_view name;  // "FLOAT", "FLOAT8E4M3FN", ...
  ElementType type;       // undefined where Sluice has no such type
  std::string_view kind;  // what an unsupported type is: "string", "complex", "8-bit float", "4-bit"
};

// The entry of a code or name; nullptr when ONNX has no such code or name.
const OnnxDataType* find_onnx_data_type(int64_t code);
const OnnxDataType* find_onnx_data_type(std::string_view name);

// The element type of a code. Throws sluice::Error "<what>: <kind> tensors are not supported (data type
// NAME)" for types Sluice lacks, and "<what>: unknown ONNX data type N" for codes ONNX lacks.
ElementType element_type_from_onnx(int64_t code, const std::string& what);

}  // namespace sluice::graph
