// The interior of a depthwise 2-D convolution plane with AVX-512F (see src/CMakeLists.txt):
// sixteen output columns per register, every tap accumulated in the register before one
// store. conv.cpp calls it only when the CPU supports AVX-512F. Intrinsics only.

#if defined(ONNXQ_GEMM_AVX512)

#include <immintrin.h>

#include "exec/kernels/depthwise.hpp"

namespace onnxq::exec::depthwise_detail {

namespace {

// Sixteen (or `m`-masked fewer) inputs at src[j * sw], j = 0..15.
inline __m512 load_strided(const float* src, int64_t sw, __mmask16 m, int count) {
  if (sw == 1) return _mm512_maskz_loadu_ps(m, src);
  if (sw == 2) {
    // Exactly the 2 * count - 1 floats from src[0] to src[2 * (count - 1)]: masked loads
    // never touch memory past the plane.
    const int needed = 2 * count - 1;
    const int lo_count = needed < 16 ? needed : 16, hi_count = needed > 16 ? needed - 16 : 0;
    const __m512 a = _mm512_maskz_loadu_ps(__mmask16((1u << lo_count) - 1), src);
    const __m512 b = _mm512_maskz_loadu_ps(__mmask16((1u << hi_count) - 1), src + 16);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(a, even, b);
  }
  const __m512i index = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                           _mm512_set1_epi32(static_cast<int>(sw)));
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, index, src, 4);
}

}  // namespace

void interior_avx512(const Interior& t) {
  for (int64_t oh = 0; oh < t.OH; ++oh) {
    const int64_t ih0 = oh * t.sh - t.ph;
    float* dst = t.out + oh * t.OW + t.lo;
    for (int64_t i = 0; i < t.run; i += 16) {
      const int count = t.run - i >= 16 ? 16 : static_cast<int>(t.run - i);
      const __mmask16 m = __mmask16((1u << count) - 1);
      __m512 acc = _mm512_setzero_ps();
      for (int64_t kh = 0; kh < t.KH; ++kh) {
        const int64_t ih = ih0 + kh * t.dh;
        if (ih < 0 || ih >= t.H) continue;
        const float* row = t.in + ih * t.W + (t.lo + i) * t.sw - t.pw;
        for (int64_t kw = 0; kw < t.KW; ++kw)
          acc = _mm512_fmadd_ps(load_strided(row + kw * t.dw, t.sw, m, count), _mm512_set1_ps(t.w[kh * t.KW + kw]),
                                acc);
      }
      _mm512_mask_storeu_ps(dst + i, m, _mm512_add_ps(acc, _mm512_set1_ps(t.bias)));
    }
  }
}

}  // namespace onnxq::exec::depthwise_detail

#endif
