#include "tools/sluice/default_model.hpp"

#ifndef SLUICE_DEFAULT_MODEL_PATH
#error "SLUICE_DEFAULT_MODEL_PATH must name the ONNX file to embed (set by CMake for sluice_cli)"
#endif

// The file's bytes in read-only data, between two local symbols.
__asm__(
    ".pushsection .rodata.sluice_default_model, \"a\", %progbits\n"
    ".balign 64\n"
    ".type sluice_default_model_begin, %object\n"
    "sluice_default_model_begin:\n"
    ".incbin \"" SLUICE_DEFAULT_MODEL_PATH
    "\"\n"
    "sluice_default_model_end:\n"
    ".popsection\n");

extern "C" const uint8_t sluice_default_model_begin[];
extern "C" const uint8_t sluice_default_model_end[];

namespace sluice::tool {

std::span<const uint8_t> default_model_bytes() {
  return {sluice_default_model_begin, sluice_default_model_end};
}

}  // namespace sluice::tool
