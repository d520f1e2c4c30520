// The built-in model of `sluice run` (models/default.onnx of the repository, embedded at build time).
#pragma once

#include <cstdint>
#include <span>

namespace sluice::tool {

// The bytes of the embedded ONNX model; static storage, valid for the whole program.
std::span<const uint8_t> default_model_bytes();

}  // namespace sluice::tool
