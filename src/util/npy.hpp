// NumPy .npy files (format versions 1.0, 2.0 and 3.0) to and from tensors.
//
//   sluice::Tensor x = sluice::util::read_npy("input.npy");
//   sluice::util::write_npy("out/logits.npy", logits);
//
// Supported dtypes, one per element type: '<f4' f32, '<f2' f16, '<f8' f64, '|i1' i8, '<i2' i16, '<i4' i32,
// '<i8' i64, '|u1' u8, '<u2' u16, '<u4' u32, '<u8' u64, '|b1' boolean. Reading also accepts '=' (native,
// little-endian here) and '|' for any of them. Only C-order arrays are read; Fortran-order, big-endian,
// structured and object arrays are rejected. bf16 has no NumPy dtype, so write_npy refuses bf16 tensors
// (convert to f32 first) rather than writing raw bits that NumPy would read as another type.
//
// Every function throws sluice::Error naming the file (or `source`) and what is wrong. All functions are
// thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sluice/tensor.hpp"

namespace sluice::util {

// Parses the bytes of a .npy file into a new owned tensor. `source` names the data in errors.
Tensor parse_npy(std::span<const uint8_t> bytes, const std::string& source);
// Reads a .npy file into a new owned tensor.
Tensor read_npy(const std::string& path);

// The bytes of a .npy file holding the tensor (format 1.0, or 2.0 when the header needs it).
std::vector<uint8_t> serialize_npy(const Tensor& tensor);
// Writes the tensor to a .npy file, replacing it.
void write_npy(const std::string& path, const Tensor& tensor);

// The NumPy dtype string written for an element type ("<f4", "|b1", ...); throws for bf16 and undefined.
std::string npy_dtype(ElementType type);

}  // namespace sluice::util
