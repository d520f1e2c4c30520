// Registration of the grid members of the misc operator family (src/ops/misc_grid.cpp), called by
// register_misc_ops (src/ops/misc.cpp).
#pragma once

#include "ops/common.hpp"

namespace sluice::ops::misc {

// GridSample (opset 16 and 20) and AffineGrid (opset 20).
void register_grid_ops(OpRegistry& registry);

}  // namespace sluice::ops::misc
