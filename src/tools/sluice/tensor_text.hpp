// Tensor helpers of the `sluice` tool: random data and one-line summaries.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "sluice/model.hpp"
#include "sluice/tensor.hpp"

namespace sluice::tool {

// Fills the tensor with random values: reals uniform in [-1, 1], integers uniform in [0, 9], booleans
// true or false with equal chance, strings "s0" to "s9".
void fill_random(const Tensor& tensor, std::mt19937_64& rng);
// A random value for a port of static shape: a tensor as fill_random makes it; for a sequence port, a
// sequence of two such tensors; an optional port gets a value.
Tensor random_value(const PortInfo& port, std::mt19937_64& rng);

// "min -0.98 max 0.99 mean 0.012 values [0.5, -0.25, ...]" (non-finite values are counted, not used in
// min/max/mean); at most `shown` leading values. Strings are listed quoted; a sequence is summarized item
// by item (at most `shown` items); an empty tensor (an absent optional) is "no value".
std::string summarize(const Tensor& tensor, size_t shown = 8);

// The tensor converted to f32 (for bf16 and the float8 types, which .npy cannot hold); other types are
// returned as they are.
Tensor widen_for_npy(const Tensor& tensor);
// An f32 tensor converted to bf16 (round to nearest even), for bf16 inputs given as f32 .npy files.
Tensor narrow_to_bf16(const Tensor& tensor);

}  // namespace sluice::tool
