// The packed convolution's micro-kernel, built with AVX-512F (see src/CMakeLists.txt);
// conv_packed.cpp calls it only when the CPU supports it. Intrinsics only: no standard
// library code is instantiated here with AVX-512 enabled.

#if defined(ONNXQ_GEMM_AVX512)

#include <immintrin.h>

#include "exec/kernels/conv_packed.hpp"

namespace onnxq::exec::conv_packed_detail {

namespace {

template <int R>
void tile(int cols, int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc,
          const float* bias, bool accumulate, const ConvEpilogue* ep) {
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? __mmask16(0xFFFF) : cols > 16 ? __mmask16((1u << (cols - 16)) - 1) : __mmask16(0);
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    if (accumulate) {
      acc0[r] = _mm512_maskz_loadu_ps(m0, C + r * ldc);
      acc1[r] = _mm512_maskz_loadu_ps(m1, C + r * ldc + 16);
    } else {
      acc0[r] = _mm512_set1_ps(bias ? bias[r] : 0.0f);
      acc1[r] = acc0[r];
    }
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(Bp + k * kCols);
    const __m512 b1 = _mm512_loadu_ps(Bp + k * kCols + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k]);
      acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
    }
  }
  if (ep) {
    // The unfused kernels' operations one by one (this file is built without FMA
    // contraction): multiply, add shift, add residual, clip as min(hi, max(lo, y)): max and
    // min return their second operand on NaN and on equal values, so NaN and -0 stay as in
    // Clip's `y < lo ? lo : y`, then `hi < y ? hi : y`.
    const __m512 lo = _mm512_set1_ps(ep->lo), hi = _mm512_set1_ps(ep->hi);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      if (ep->scale) {
        const __m512 a = _mm512_set1_ps(ep->scale[r]), b = _mm512_set1_ps(ep->shift[r]);
        acc0[r] = _mm512_add_ps(_mm512_mul_ps(acc0[r], a), b);
        acc1[r] = _mm512_add_ps(_mm512_mul_ps(acc1[r], a), b);
      }
      if (ep->residual) {
        acc0[r] = _mm512_add_ps(acc0[r], _mm512_maskz_loadu_ps(m0, ep->residual + r * ldc));
        acc1[r] = _mm512_add_ps(acc1[r], _mm512_maskz_loadu_ps(m1, ep->residual + r * ldc + 16));
      }
      if (ep->clip) {
        acc0[r] = _mm512_min_ps(hi, _mm512_max_ps(lo, acc0[r]));
        acc1[r] = _mm512_min_ps(hi, _mm512_max_ps(lo, acc1[r]));
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(C + r * ldc, m0, acc0[r]);
    _mm512_mask_storeu_ps(C + r * ldc + 16, m1, acc1[r]);
  }
}

// The direct kernel's epilogue and store: the tile's lanes are compressed to the valid
// ones (dropping the padded rows' extra columns) before the residual is read.
template <int R>
void tile_direct(int64_t K, const float* A, int64_t lda, const float* x, const int64_t* offsets, uint32_t valid,
                 float* C, int64_t ldc, const float* bias, const ConvEpilogue* ep) {
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc0[r] = _mm512_set1_ps(bias ? bias[r] : 0.0f);
    acc1[r] = acc0[r];
  }
  for (int64_t k = 0; k < K; ++k) {
    const float* b = x + offsets[k];
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k]);
      acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
    }
  }
  const __mmask16 v0 = __mmask16(valid & 0xFFFF), v1 = __mmask16(valid >> 16);
  const int n0 = __builtin_popcount(v0), n1 = __builtin_popcount(v1);
  const __mmask16 s0 = n0 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n0) - 1);
  const __mmask16 s1 = n1 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n1) - 1);
  const __m512 lo = _mm512_set1_ps(ep ? ep->lo : 0.0f), hi = _mm512_set1_ps(ep ? ep->hi : 0.0f);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m512 y0 = acc0[r], y1 = acc1[r];
    if (ep && ep->scale) {
      const __m512 a = _mm512_set1_ps(ep->scale[r]), b = _mm512_set1_ps(ep->shift[r]);
      y0 = _mm512_add_ps(_mm512_mul_ps(y0, a), b);
      y1 = _mm512_add_ps(_mm512_mul_ps(y1, a), b);
    }
    y0 = _mm512_maskz_compress_ps(v0, y0);
    y1 = _mm512_maskz_compress_ps(v1, y1);
    if (ep && ep->residual) {
      y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(s0, ep->residual + r * ldc));
      y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(s1, ep->residual + r * ldc + n0));
    }
    if (ep && ep->clip) {
      y0 = _mm512_min_ps(hi, _mm512_max_ps(lo, y0));
      y1 = _mm512_min_ps(hi, _mm512_max_ps(lo, y1));
    }
    _mm512_mask_storeu_ps(C + r * ldc, s0, y0);
    _mm512_mask_storeu_ps(C + r * ldc + n0, s1, y1);
  }
}

}  // namespace

void micro_kernel_direct_avx512(int rows, int64_t K, const float* A, int64_t lda, const float* x,
                                const int64_t* offsets, uint32_t valid, float* C, int64_t ldc, const float* bias,
                                const ConvEpilogue* ep) {
  switch (rows) {
    case 8: return tile_direct<8>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    case 7: return tile_direct<7>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    case 6: return tile_direct<6>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    case 5: return tile_direct<5>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    case 4: return tile_direct<4>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    case 3: return tile_direct<3>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    case 2: return tile_direct<2>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
    default: return tile_direct<1>(K, A, lda, x, offsets, valid, C, ldc, bias, ep);
  }
}

void micro_kernel_avx512(int rows, int cols, int64_t kc, const float* A, int64_t lda, const float* Bp, float* C,
                         int64_t ldc, const float* bias, bool accumulate, const ConvEpilogue* ep) {
  switch (rows) {
    case 8: return tile<8>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    case 7: return tile<7>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    case 6: return tile<6>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    case 5: return tile<5>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    case 4: return tile<4>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    case 3: return tile<3>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    case 2: return tile<2>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
    default: return tile<1>(cols, kc, A, lda, Bp, C, ldc, bias, accumulate, ep);
  }
}

void copy_stride2_avx512(const float* src, int64_t n, float* dst) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (int64_t i = 0; i < n; i += 16, src += 32) {
    const int64_t count = n - i < 16 ? n - i : 16, needed = 2 * count - 1;  // floats src[0..2 * (count - 1)]
    const __mmask16 lo = needed >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << needed) - 1);
    const __mmask16 hi = needed > 16 ? __mmask16((1u << (needed - 16)) - 1) : __mmask16(0);
    const __m512 v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, src), even, _mm512_maskz_loadu_ps(hi, src + 16));
    _mm512_mask_storeu_ps(dst + i, __mmask16((1u << count) - 1), v);
  }
}

}  // namespace onnxq::exec::conv_packed_detail

#endif
