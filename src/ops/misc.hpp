// Registration of the grid, text and string members of the misc operator family (src/ops/misc_grid.cpp,
// src/ops/misc_text.cpp, src/ops/misc_string.cpp), called by register_misc_ops (src/ops/misc.cpp).
#pragma once

#include "ops/common.hpp"

namespace sluice::ops::misc {

// GridSample (opset 16 and 20) and AffineGrid (opset 20).
void register_grid_ops(OpRegistry& registry);

// TfIdfVectorizer (opset 9).
void register_text_ops(OpRegistry& registry);

// The sequence operators (SequenceEmpty ... SequenceMap) and Optional, OptionalHasElement and
// OptionalGetElement (src/ops/sequence.cpp).
void register_sequence_ops(OpRegistry& registry);

// StringConcat, RegexFullMatch, StringSplit (opset 20) and StringNormalizer (opset 10): misc_string.cpp.
void register_string_ops(OpRegistry& registry);

}  // namespace sluice::ops::misc
