// Registration of the grid and text members of the misc operator family (src/ops/misc_grid.cpp,
// src/ops/misc_text.cpp), called by register_misc_ops (src/ops/misc.cpp).
#pragma once

#include "ops/common.hpp"

namespace sluice::ops::misc {

// GridSample (opset 16 and 20) and AffineGrid (opset 20).
void register_grid_ops(OpRegistry& registry);

// TfIdfVectorizer (opset 9), OptionalHasElement and OptionalGetElement (opset 15 and 18, tensors only).
void register_text_ops(OpRegistry& registry);

}  // namespace sluice::ops::misc
