// Resize's coordinate arithmetic, shared by the reference kernel (tensor_resize.cpp) and the CPU device's
// kernel, so that both map output pixels to input pixels identically.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::ops {

// The input coordinate of output coordinate x along one axis, for a coordinate_transformation_mode. The
// roi bounds matter only for tf_crop_and_resize.
double resize_source_coordinate(const std::string& mode, double x, int64_t in, int64_t out, double scale,
                                double roi_start = 0.0, double roi_end = 1.0);

// The input index nearest to coordinate x for a nearest_mode ("simple": Resize-10's floor when
// upsampling, ceil when downsampling).
int64_t resize_nearest_index(const std::string& mode, double x, double scale);

}  // namespace sluice::ops
