// The channel-vectorized convolution's micro-kernel, built with AVX-512F (see
// src/CMakeLists.txt); called only when the CPU supports it. Intrinsics only. Built without
// FMA contraction: the epilogue multiplies, then adds, as the unfused kernels do.

#if defined(ONNXQ_GEMM_AVX512)

#include <immintrin.h>

#include "exec/kernels/conv_channels.hpp"

namespace onnxq::exec::conv_channels_detail {

namespace {

template <int R>
void tile(int64_t k0, int64_t kc, int64_t K, const float* packed, const float* x, const int64_t* offsets,
          const int64_t* q, const int64_t* n, float* partial, float* y, int64_t N, const float* bias,
          const ConvEpilogue* ep) {
  __m512 acc0[R], acc1[R];
  const float* px[R];
  const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
  const __m512 bias1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc0[r] = k0 == 0 ? bias0 : _mm512_loadu_ps(partial + r * 32);
    acc1[r] = k0 == 0 ? bias1 : _mm512_loadu_ps(partial + r * 32 + 16);
    px[r] = x + q[r];
  }
  for (int64_t k = k0; k < k0 + kc; ++k) {
    const __m512 w0 = _mm512_loadu_ps(packed + k * 32);
    const __m512 w1 = _mm512_loadu_ps(packed + k * 32 + 16);
    const int64_t o = offsets[k];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(px[r][o]);
      acc0[r] = _mm512_fmadd_ps(a, w0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(a, w1, acc1[r]);
    }
  }
  if (k0 + kc < K) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      _mm512_storeu_ps(partial + r * 32, acc0[r]);
      _mm512_storeu_ps(partial + r * 32 + 16, acc1[r]);
    }
    return;
  }
  // Channel j of position r goes to y[j * N + n[r]].
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i idx0 = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int>(N)));
  const __m512i idx1 = _mm512_add_epi32(idx0, _mm512_set1_epi32(static_cast<int>(16 * N)));
  const __m512 zero = _mm512_setzero_ps();
  const __m512 lo = _mm512_set1_ps(ep ? ep->lo : 0.0f), hi = _mm512_set1_ps(ep ? ep->hi : 0.0f);
  __m512 a0 = zero, a1 = zero, b0 = zero, b1 = zero;
  if (ep && ep->scale) {
    a0 = _mm512_loadu_ps(ep->scale), a1 = _mm512_loadu_ps(ep->scale + 16);
    b0 = _mm512_loadu_ps(ep->shift), b1 = _mm512_loadu_ps(ep->shift + 16);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m512 v0 = acc0[r], v1 = acc1[r];
    if (ep) {
      if (ep->scale) {
        v0 = _mm512_add_ps(_mm512_mul_ps(v0, a0), b0);
        v1 = _mm512_add_ps(_mm512_mul_ps(v1, a1), b1);
      }
      if (ep->residual) {
        v0 = _mm512_add_ps(v0, _mm512_i32gather_ps(idx0, ep->residual + n[r], 4));
        v1 = _mm512_add_ps(v1, _mm512_i32gather_ps(idx1, ep->residual + n[r], 4));
      }
      if (ep->clip) {
        // max/min return their second operand on NaN and on equal values: NaN and -0 stay,
        // as in Clip's `y < lo ? lo : y`, then `hi < y ? hi : y`.
        v0 = _mm512_min_ps(hi, _mm512_max_ps(lo, v0));
        v1 = _mm512_min_ps(hi, _mm512_max_ps(lo, v1));
      }
    }
    _mm512_i32scatter_ps(y + n[r], idx0, v0, 4);
    _mm512_i32scatter_ps(y + n[r], idx1, v1, 4);
  }
}

}  // namespace

void micro_kernel_avx512(int rows, int64_t k0, int64_t kc, int64_t K, const float* packed, const float* x,
                         const int64_t* offsets, const int64_t* q, const int64_t* n, float* partial, float* y,
                         int64_t N, const float* bias, const ConvEpilogue* ep) {
  switch (rows) {
    case 7: return tile<7>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
    case 6: return tile<6>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
    case 5: return tile<5>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
    case 4: return tile<4>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
    case 3: return tile<3>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
    case 2: return tile<2>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
    default: return tile<1>(k0, kc, K, packed, x, offsets, q, n, partial, y, N, bias, ep);
  }
}

}  // namespace onnxq::exec::conv_channels_detail

#endif
