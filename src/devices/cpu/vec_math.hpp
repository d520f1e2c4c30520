// Branch-free single-precision approximations of the transcendental functions the elementwise kernels need.
//
// std::exp and friends are library calls that GCC cannot vectorize (without -ffast-math and libmvec), so a
// loop calling them runs one element at a time. These functions use only arithmetic, comparisons that
// become selects, and integer bit manipulation for the 2^n scaling, so that a `#pragma omp simd` loop
// calling them auto-vectorizes at whatever ISA the enclosing function is compiled for (see target_clones
// in kernels_elementwise.cpp). They do not rely on FMA: the range reductions split constants into exactly
// representable high and low parts (Cody-Waite) so that they are accurate with or without contraction.
//
// Accuracy (measured against double-precision std:: over dense sweeps of the float range, with and without
// FMA contraction; tests/unit/cpu_kernels_elementwise_test.cpp checks the 3e-7 bound): relative error
// <= 1e-7 for exp and log, <= 2e-7 for tanh, sigmoid and erf, where the result is a normal float; special
// values follow std:: (NaN in gives NaN out, exp underflows to 0 and overflows to +inf, tanh/erf saturate to
// +-1, sigmoid to 0 and 1, log of 0 is -inf and of a negative number NaN).
#pragma once

#include <bit>
#include <cstdint>

namespace sluice::cpu {

namespace vm_detail {

// c ? a : b as bit operations. GCC (with the default -ftrapping-math) does not if-convert a ternary whose
// arms compute floating-point values, since evaluating both arms might raise a trap the source did not, and
// then the loop does not vectorize below AVX-512 (which has masked operations). Here both arms are already
// computed and only a constant mask is selected, which if-converts everywhere.
inline float select(bool c, float a, float b) {
  const uint32_t m = c ? 0xffffffffu : 0u;
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & m) | (std::bit_cast<uint32_t>(b) & ~m));
}

inline float abs_bits(float x) { return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0x7fffffffu); }

// |magnitude| with the sign of `sign`.
inline float copysign_bits(float magnitude, float sign) {
  return std::bit_cast<float>((std::bit_cast<uint32_t>(magnitude) & 0x7fffffffu) |
                              (std::bit_cast<uint32_t>(sign) & 0x80000000u));
}

// 2^n for n in [-126, 127], built directly in the exponent field. Unsigned arithmetic: for NaN inputs the
// caller passes garbage here, which must not be undefined behaviour (the result is discarded).
inline float pow2i(int32_t n) { return std::bit_cast<float>((static_cast<uint32_t>(n) + 127u) << 23); }

}  // namespace vm_detail

// c ? a : b for kernels' simd loops, for the same reason as vm_detail::select (both arms are evaluated).
inline float blend(bool c, float a, float b) { return vm_detail::select(c, a, b); }

// e^x. Cephes' expf polynomial on the reduced argument r = x - n ln2, |r| <= ln2/2; the result is scaled by
// 2^n in two steps so that results in the subnormal range round once and 2^128 overflows to +inf.
inline float exp_approx(float x) {
  // Clamping keeps n within [-150, 128] (both halves of the scaling normal). NaN fails both comparisons and
  // stays NaN, which the polynomial then propagates.
  x = vm_detail::select(x < -104.0f, -104.0f, x);  // e^-104 rounds to 0
  x = vm_detail::select(x > 89.0f, 89.0f, x);      // e^89 overflows to inf
  // Round x / ln2 to the nearest integer without a float->int conversion (undefined for NaN): adding
  // 1.5 * 2^23 leaves the integer in the low mantissa bits.
  constexpr float magic = 12582912.0f;
  const float t = x * 1.44269504088896341f + magic;
  const float n = t - magic;
  const auto ni = static_cast<int32_t>(std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(magic));
  // ln2 = 0.693359375 - 2.12194440e-4; n * 0.693359375 is exact (9 + 8 significant bits).
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t n1 = ni >> 1;
  const int32_t n2 = static_cast<int32_t>(static_cast<uint32_t>(ni) - static_cast<uint32_t>(n1));
  return p * vm_detail::pow2i(n1) * vm_detail::pow2i(n2);
}

// Natural logarithm. Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a polynomial in
// m - 1 (accurate near 1, where log(x) is near 0), e ln2 added in two parts.
inline float log_approx(float x) {
  // Subnormals: scale into the normal range first.
  const bool sub = x < 1.17549435e-38f;
  const float xs = x * vm_detail::select(sub, 8388608.0f, 1.0f);  // 2^23
  const uint32_t bits = std::bit_cast<uint32_t>(xs);
  int32_t e = static_cast<int32_t>((bits >> 23) & 0xffu) - 126 - 23 * static_cast<int32_t>(sub);
  float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  e -= static_cast<int32_t>(low);
  const float f = m * vm_detail::select(low, 2.0f, 1.0f) - 1.0f;  // exact (Sterbenz)
  const float fe = static_cast<float>(e);
  const float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z;
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = f + y;
  r = r + fe * 0.693359375f;
  constexpr float inf = std::bit_cast<float>(0x7f800000u);
  r = vm_detail::select(x == inf, inf, r);
  r = vm_detail::select(x == 0.0f, -inf, r);
  r = vm_detail::select(x >= 0.0f, r, std::bit_cast<float>(0x7fc00000u));  // negative or NaN
  return r;
}

// Hyperbolic tangent. |x| < 0.625: Cephes' odd polynomial (relative accuracy near 0); otherwise
// 1 - 2 / (e^{2|x|} + 1), which has no cancellation there (the result is >= 0.55) and saturates to 1.
inline float tanh_approx(float x) {
  const float ax = vm_detail::abs_bits(x);
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float small = p * s * x + x;
  const float e = exp_approx(ax + ax);
  const float big = vm_detail::copysign_bits(1.0f - 2.0f / (e + 1.0f), x);
  return vm_detail::select(ax < 0.625f, small, big);  // NaN takes the second branch, which propagates it
}

// The logistic function. Like the reference kernel, e = e^-|x| and 1 / (1 + e) for x >= 0, e / (1 + e) for
// x < 0, so that large negative x gives small (down to subnormal) results instead of 1 / inf.
inline float sigmoid_approx(float x) {
  const float e = exp_approx(-vm_detail::abs_bits(x));
  const float r = 1.0f / (1.0f + e);
  return vm_detail::select(x >= 0.0f, r, e * r);  // NaN: e is NaN, so both arms are
}

// log(1 + x) for finite x >= 0 (Softplus, Mish), accurate for small x: with u = 1 + x rounded, log(u) * x /
// (u - 1) cancels the rounding of u (Goldberg); x itself where u rounds to 1.
inline float log1p_approx(float x) {
  const float u = 1.0f + x;
  const float d = u - 1.0f;
  return vm_detail::select(d == 0.0f, x, log_approx(u) * (x / d));
}

// The error function. |x| < 0.9375: x P(x^2); otherwise 1 - e^{g(|x|)} with g a polynomial fit of
// log(erfc(t)) on [0.9375, 3.925] (beyond that erf rounds to +-1). Coefficients: weighted least-squares fits
// (near-minimax) in double, rounded to float.
inline float erf_approx(float x) {
  const float ax = vm_detail::abs_bits(x);
  const float s = x * x;
  float p = 8.506685117026791e-05f;
  p = p * s - 8.179396972991526e-04f;
  p = p * s + 5.2047292701900005e-03f;
  p = p * s - 2.6861120015382767e-02f;
  p = p * s + 1.1283732205629349e-01f;
  p = p * s - 3.7612637877464294e-01f;
  p = p * s + 1.128379225730896f;
  const float small = p * x;
  const float t = vm_detail::select(ax > 3.925f, 3.925f, ax);  // NaN stays NaN
  float g = 2.0322717318776995e-04f;
  g = g * t - 3.1091836281120777e-03f;
  g = g * t + 2.246958576142788e-02f;
  g = g * t - 1.0439645498991013e-01f;
  g = g * t - 6.366927623748779e-01f;
  g = g * t - 1.1279445886611938f;
  g = g * t - 1.3537918857764453e-04f;
  const float big = vm_detail::copysign_bits(1.0f - exp_approx(g), x);
  return vm_detail::select(ax < 0.9375f, small, big);
}

}  // namespace sluice::cpu
