// Which ONNX backend node test cases are in the scope of this runtime.
#pragma once

#include <optional>
#include <string>

namespace sluice::tool {

// Why a case's model is out of scope, or nullopt when it is in scope. Out of scope: the
// ai.onnx.preview.training domain, map and sparse values, nested sequences and optionals, and complex
// and float4 element types anywhere in the model (inputs, outputs, value_info, initializers, attribute
// tensors, subgraphs). Tensors of every other type (strings, float8 and int4/uint4 included), sequences
// of tensors and optionals of those are in scope. A file that does not parse as a model is in scope, so
// that reading it reports the error.
std::optional<std::string> out_of_scope_reason(const std::string& model_path);

}  // namespace sluice::tool
