// Shared pieces of the CPU device's own data-movement, reduction and normalization kernels
// (kernels_data_movement.cpp, kernels_reduce.cpp, kernels_norm.cpp). Not part of the kernel interface:
// only these files include it.
#pragma once

#include <cstdint>
#include <string>

#include "devices/cpu/kernel.hpp"

namespace sluice::cpu {

// Called by register_data_movement_kernels.
void register_reduce_kernels(KernelRegistry& registry);  // kernels_reduce.cpp
void register_norm_kernels(KernelRegistry& registry);    // kernels_norm.cpp

namespace dm {

// The highest input rank these kernels plan for; run-time parameters live in fixed arrays of this size so
// that run() allocates nothing. Higher ranks are declined (the reference kernel runs them).
constexpr int max_rank = 12;

// A chunk of work worth handing to another thread: about this many bytes touched.
constexpr int64_t parallel_bytes = 32 * 1024;

// How errors thrown at run time name the node: "Gather node 'g': ".
inline std::string where_of(const graph::Node& node) { return node.describe() + ": "; }

inline bool is_index_type(ElementType type) { return type == ElementType::i32 || type == ElementType::i64; }

// Element i of an i32 or i64 tensor (the caller checked the type).
inline int64_t int_at(const Tensor& t, int64_t i) {
  return t.type() == ElementType::i64 ? static_cast<const int64_t*>(t.data())[i]
                                      : static_cast<const int32_t*>(t.data())[i];
}

// Copies the values of an i32/i64 tensor of rank 0 or 1 into `out` (room for `capacity` values) and
// returns their count; throws naming `where` and `what` when the tensor has another type or rank, or more
// values than fit.
inline int64_t read_ints(const Tensor& t, int64_t* out, int64_t capacity, const std::string& where,
                         const char* what) {
  SLUICE_CHECK(is_index_type(t.type()), where, "input '", what, "' has element type ", to_string(t.type()),
               "; expected i32 or i64");
  SLUICE_CHECK(t.rank() <= 1, where, "input '", what, "' has shape ", to_string(t.shape()),
               "; expected a 1-D tensor");
  SLUICE_CHECK(t.size() <= capacity, where, "input '", what, "' holds ", t.size(),
               " values; expected at most ", capacity);
  for (int64_t i = 0; i < t.size(); ++i) out[i] = int_at(t, i);
  return t.size();
}

}  // namespace dm
}  // namespace sluice::cpu
