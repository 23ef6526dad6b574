// Built with -ffp-contract=off (src/CMakeLists.txt): a fused multiply-add in one clone and not in
// another would change the error sums.
#include "ewq/code_kernels.hpp"

#include <algorithm>
#include <limits>

#include "ewq/codebook_methods.hpp"

namespace onnxq {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ONNXQ_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define ONNXQ_EWQ_X86 1
#include <immintrin.h>
#else
#define ONNXQ_CPU_CLONES
#define ONNXQ_EWQ_X86 0
#endif

namespace {

// One value into the extremes and the non-finite detector (v - v: 0 for finite v, NaN otherwise).
inline void scan_one(float v, float& lo, float& hi, float& nan) {
  lo = v < lo ? v : lo;
  hi = v > hi ? v : hi;
  nan += v - v;
}

#if ONNXQ_EWQ_X86
__attribute__((target("avx512f"))) int64_t scan_avx512(const float* x, int64_t n, float& lo, float& hi, float& nan) {
  __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi), z = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    l = _mm512_min_ps(v, l);
    h = _mm512_max_ps(v, h);
    z = _mm512_add_ps(z, _mm512_sub_ps(v, v));
  }
  float ls[16], hs[16], zs[16];
  _mm512_storeu_ps(ls, l);
  _mm512_storeu_ps(hs, h);
  _mm512_storeu_ps(zs, z);
  for (int j = 0; j < 16; ++j) {
    lo = std::min(lo, ls[j]);
    hi = std::max(hi, hs[j]);
    nan += zs[j];
  }
  return i;
}

__attribute__((target("avx2"))) int64_t scan_avx2(const float* x, int64_t n, float& lo, float& hi, float& nan) {
  __m256 l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi), z = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    l = _mm256_min_ps(v, l);
    h = _mm256_max_ps(v, h);
    z = _mm256_add_ps(z, _mm256_sub_ps(v, v));
  }
  float ls[8], hs[8], zs[8];
  _mm256_storeu_ps(ls, l);
  _mm256_storeu_ps(hs, h);
  _mm256_storeu_ps(zs, z);
  for (int j = 0; j < 8; ++j) {
    lo = std::min(lo, ls[j]);
    hi = std::max(hi, hs[j]);
    nan += zs[j];
  }
  return i;
}
#endif

}  // namespace

// Extremes are exact in any order (a -0/+0 tie may keep either zero, which compare equal), so the
// widths need not match lane for lane here.
void scan_extremes(const float* x, int64_t n, float& lo, float& hi, bool& finite) {
  float nan = 0.0f;
  int64_t i = 0;
#if ONNXQ_EWQ_X86
  static const bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2");
  if (avx512)
    i = scan_avx512(x, n, lo, hi, nan);
  else if (avx2)
    i = scan_avx2(x, n, lo, hi, nan);
#endif
  for (; i < n; ++i) scan_one(x[i], lo, hi, nan);
  finite = finite && nan == 0.0f;
}

namespace {

// quantize_value then dequantize_value for a symmetric grid (zero point 0).
inline float uniform_round_trip(float x, float scale, float qmax) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23: rounds half to even, as round_half_even
  float q = x / scale;
  q = q > 4194304.0f ? 4194304.0f : (q >= -4194304.0f ? q : -4194304.0f);
  q = (q + kMagic) - kMagic;
  q = q < -qmax ? -qmax : (q > qmax ? qmax : q);
  return q * scale;
}

}  // namespace

ONNXQ_CPU_CLONES void uniform_error(const float* x, int64_t n, float scale, float qmax, double* signal_out,
                                    double* err_out, float scale2, float qmax2, double* err2_out) {
  constexpr int L = kCodeLanes;
  // Local lanes: through the pointers every step would store them back (they might alias x).
  double signal[L], err[L], lanes2[L];
  std::copy(signal_out, signal_out + L, signal);
  std::copy(err_out, err_out + L, err);
  double* err2 = err2_out ? lanes2 : nullptr;
  if (err2) std::copy(err2_out, err2_out + L, lanes2);
  int64_t i = 0;
  if (err2) {
    for (; i + L <= n; i += L)
      for (int j = 0; j < L; ++j) {
        const float v = x[i + j];
        const double d = static_cast<double>(v);
        const double e = d - static_cast<double>(uniform_round_trip(v, scale, qmax));
        const double e2 = d - static_cast<double>(uniform_round_trip(v, scale2, qmax2));
        signal[j] += d * d;
        err[j] += e * e;
        err2[j] += e2 * e2;
      }
  } else {
    for (; i + L <= n; i += L)
      for (int j = 0; j < L; ++j) {
        const float v = x[i + j];
        const double d = static_cast<double>(v);
        const double e = d - static_cast<double>(uniform_round_trip(v, scale, qmax));
        signal[j] += d * d;
        err[j] += e * e;
      }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const double d = static_cast<double>(x[i]);
    const double e = d - static_cast<double>(uniform_round_trip(x[i], scale, qmax));
    signal[j] += d * d;
    err[j] += e * e;
    if (err2) {
      const double e2 = d - static_cast<double>(uniform_round_trip(x[i], scale2, qmax2));
      err2[j] += e2 * e2;
    }
  }
  std::copy(signal, signal + L, signal_out);
  std::copy(err, err + L, err_out);
  if (err2) std::copy(lanes2, lanes2 + L, err2_out);
}

namespace {

// g = (x - lo) * inv in float is within about 5e-5 of the exact (x - lo) / width for up to 256
// bins (three roundings of values below 256), so a guess whose fraction is further than this
// from an integer is the bin already; only the others need the comparisons with the thresholds.
constexpr float kNearEdge = 1.0f / 1024;

// The guess clamped to [0, bins - 1] then truncated, moved down when x is not above its bin's
// lower threshold and up when above the next one.
inline uint8_t equal_width_bin(float v, float lo, float inv, float top, const float* above) {
  float g = (v - lo) * inv;
  g = g > 0.0f ? g : 0.0f;
  g = g < top ? g : top;
  int32_t b = static_cast<int32_t>(g);
  b -= v > above[b] ? 0 : 1;
  b += v > above[b + 1] ? 1 : 0;
  return static_cast<uint8_t>(b);
}

#if ONNXQ_EWQ_X86
__attribute__((target("avx512f"))) int64_t bins_avx512(const float* x, int64_t n, float lo, float inv, float top,
                                                       const float* above, uint8_t* out) {
  const __m512 vlo = _mm512_set1_ps(lo), vinv = _mm512_set1_ps(inv), vtop = _mm512_set1_ps(top), zero = _mm512_setzero_ps();
  const __m512i one = _mm512_set1_epi32(1);
  const __m512 near_lo = _mm512_set1_ps(kNearEdge), near_hi = _mm512_set1_ps(1.0f - kNearEdge);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    __m512 g = _mm512_mul_ps(_mm512_sub_ps(v, vlo), vinv);
    g = _mm512_min_ps(_mm512_max_ps(g, zero), vtop);
    __m512i b = _mm512_cvttps_epi32(g);
    const __m512 frac = _mm512_sub_ps(g, _mm512_cvtepi32_ps(b));
    const __mmask16 near = _mm512_cmp_ps_mask(frac, near_lo, _CMP_LT_OQ) | _mm512_cmp_ps_mask(frac, near_hi, _CMP_GT_OQ);
    if (!near) {  // far from every edge: the guess is the bin
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(b));
      continue;
    }
    const __mmask16 down = _mm512_cmp_ps_mask(v, _mm512_i32gather_ps(b, above, 4), _CMP_NGT_UQ);
    b = _mm512_mask_sub_epi32(b, down, b, one);
    const __mmask16 up = _mm512_cmp_ps_mask(v, _mm512_i32gather_ps(b, above + 1, 4), _CMP_GT_OQ);
    b = _mm512_mask_add_epi32(b, up, b, one);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(b));
  }
  return i;
}

__attribute__((target("avx2"))) int64_t bins_avx2(const float* x, int64_t n, float lo, float inv, float top,
                                                  const float* above, uint8_t* out) {
  const __m256 vlo = _mm256_set1_ps(lo), vinv = _mm256_set1_ps(inv), vtop = _mm256_set1_ps(top), zero = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi32(-1);
  const __m256 near_lo = _mm256_set1_ps(kNearEdge), near_hi = _mm256_set1_ps(1.0f - kNearEdge);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m256 g = _mm256_mul_ps(_mm256_sub_ps(v, vlo), vinv);
    g = _mm256_min_ps(_mm256_max_ps(g, zero), vtop);
    __m256i b = _mm256_cvttps_epi32(g);
    const __m256 frac = _mm256_sub_ps(g, _mm256_cvtepi32_ps(b));
    const __m256 near = _mm256_or_ps(_mm256_cmp_ps(frac, near_lo, _CMP_LT_OQ), _mm256_cmp_ps(frac, near_hi, _CMP_GT_OQ));
    if (_mm256_testz_ps(near, near)) {  // far from every edge: the guess is the bin
      const __m128i b16 = _mm_packs_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(b16, b16));
      continue;
    }
    const __m256 above_b = _mm256_cmp_ps(v, _mm256_i32gather_ps(above, b, 4), _CMP_GT_OQ);
    b = _mm256_add_epi32(b, _mm256_andnot_si256(_mm256_castps_si256(above_b), ones));  // -1 unless above
    const __m256 above_next = _mm256_cmp_ps(v, _mm256_i32gather_ps(above + 1, b, 4), _CMP_GT_OQ);
    b = _mm256_sub_epi32(b, _mm256_castps_si256(above_next));  // +1 where above
    const __m128i b16 = _mm_packs_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(b16, b16));
  }
  return i;
}
#endif

}  // namespace

void equal_width_bins(const float* x, int64_t n, float lo, float inv, int bins, const float* above, uint8_t* out) {
  const float top = static_cast<float>(bins - 1);
  int64_t i = 0;
#if ONNXQ_EWQ_X86
  static const bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2");
  if (avx512)
    i = bins_avx512(x, n, lo, inv, top, above, out);
  else if (avx2)
    i = bins_avx2(x, n, lo, inv, top, above, out);
#endif
  for (; i < n; ++i) out[i] = equal_width_bin(x[i], lo, inv, top, above);
}

void code_sums(const float* x, const uint8_t* codes, int64_t n, CodeSum* sums) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int s = 0; s < 4; ++s) {
      CodeSum& c = sums[s * 256 + codes[i + s]];
      c.sum += x[i + s];
      ++c.count;
    }
  for (int s = 0; i < n; ++i, ++s) {
    CodeSum& c = sums[s * 256 + codes[i]];
    c.sum += x[i];
    ++c.count;
  }
}

namespace {

#if ONNXQ_EWQ_X86
// Sixteen codes at a time; returns how many values it coded (it stops before a vector holding a
// bucket several thresholds split, which the scalar code searches).
__attribute__((target("avx512f"))) int64_t table_codes_avx512(const float* x, int64_t n, const uint16_t* table,
                                                              const float* split, uint8_t* out) {
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u)), low16 = _mm512_set1_epi32(0xFFFF);
  const __m512i search = _mm512_set1_epi32(0xFFFF), one = _mm512_set1_epi32(1);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512i u = _mm512_castps_si512(v);
    // float_key: negative values flip every bit, the others only the sign.
    const __mmask16 negative = _mm512_test_epi32_mask(u, sign);
    const __m512i key = _mm512_mask_xor_epi32(_mm512_or_si512(u, sign), negative, u, _mm512_set1_epi32(-1));
    const __m512i bucket = _mm512_srli_epi32(key, 16);
    const __m512i c = _mm512_and_si512(_mm512_i32gather_epi32(bucket, table, 2), low16);
    if (_mm512_cmpeq_epi32_mask(c, search)) break;
    const __mmask16 above = _mm512_cmp_ps_mask(v, _mm512_i32gather_ps(bucket, split, 4), _CMP_GT_OQ);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(_mm512_mask_add_epi32(c, above, c, one)));
  }
  return i;
}
#endif

}  // namespace

void CodeTable::codes(const float* x, int64_t n, uint8_t* out) const {
  int64_t i = 0;
  while (i < n) {
#if ONNXQ_EWQ_X86
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    if (avx512) i += table_codes_avx512(x + i, n - i, table_.data(), split_.data(), out + i);
#endif
    // The rest, or the next 16 values from the one the vector loop stopped at.
    const int64_t stop = std::min(n, i + 16);
    for (; i < stop; ++i) out[i] = code(x[i]);
  }
}

void key_histogram16(const float* x, int64_t n, uint32_t* hist) {
  for (int64_t i = 0; i < n; ++i) ++hist[float_key(x[i]) >> 16];
}

void key_histogram_next(const float* x, int64_t n, const uint16_t* slot16, const uint16_t* slot24, uint32_t* hist) {
  // No branches: keys outside the wanted prefixes count into a spare row, spread over its digits.
  if (!slot24) {
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t k = float_key(x[i]);
      ++hist[static_cast<size_t>(slot16[k >> 16]) * 256 + ((k >> 8) & 255u)];
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t k = float_key(x[i]);
    const uint16_t t = slot24[static_cast<size_t>(slot16[k >> 16]) * 256 + ((k >> 8) & 255u)];
    ++hist[static_cast<size_t>(t) * 256 + (k & 255u)];
  }
}

}  // namespace onnxq
