// Built with -ffp-contract=off (src/CMakeLists.txt): a fused multiply-add in one clone and not in
// another would change the error sums.
#include "ewq/code_kernels.hpp"

#include <algorithm>
#include <limits>

#include "ewq/codebook_methods.hpp"

namespace onnxq {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ONNXQ_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ONNXQ_CPU_CLONES
#endif

ONNXQ_CPU_CLONES void scan_extremes(const float* x, int64_t n, float& lo_out, float& hi_out, bool& finite) {
  constexpr int L = kCodeLanes;
  float lo[L], hi[L], nan[L];
  std::fill(lo, lo + L, std::numeric_limits<float>::infinity());
  std::fill(hi, hi + L, -std::numeric_limits<float>::infinity());
  std::fill(nan, nan + L, 0.0f);
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int j = 0; j < L; ++j) {
      const float v = x[i + j];
      lo[j] = v < lo[j] ? v : lo[j];
      hi[j] = v > hi[j] ? v : hi[j];
      nan[j] += v - v;  // stays 0 while every value is finite, NaN after any other
    }
  for (int j = 0; i < n; ++i, ++j) {
    const float v = x[i];
    lo[j] = v < lo[j] ? v : lo[j];
    hi[j] = v > hi[j] ? v : hi[j];
    nan[j] += v - v;
  }
  for (int j = 0; j < L; ++j) {
    lo_out = std::min(lo_out, lo[j]);
    hi_out = std::max(hi_out, hi[j]);
    finite = finite && nan[j] == 0.0f;
  }
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

ONNXQ_CPU_CLONES void uniform_error(const float* x, int64_t n, float scale, float qmax, double* signal, double* err,
                                    float scale2, float qmax2, double* err2) {
  constexpr int L = kCodeLanes;
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
}

ONNXQ_CPU_CLONES void equal_width_bins(const float* x, int64_t n, float lo, float inv, int bins, const float* above,
                                       uint8_t* out) {
  const float top = static_cast<float>(bins);
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float g = (v - lo) * inv;
    int32_t b = g < 0.0f ? 0 : (g >= top ? bins - 1 : static_cast<int32_t>(g));
    b -= v > above[b] ? 0 : 1;
    b += v > above[b + 1] ? 1 : 0;
    out[i] = static_cast<uint8_t>(b);
  }
}

void code_sums(const float* x, const uint8_t* codes, int64_t n, double* sum, uint32_t* count) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int s = 0; s < 4; ++s) {
      const size_t slot = static_cast<size_t>(s) * 256 + codes[i + s];
      sum[slot] += x[i + s];
      ++count[slot];
    }
  for (int s = 0; i < n; ++i, ++s) {
    const size_t slot = static_cast<size_t>(s) * 256 + codes[i];
    sum[slot] += x[i];
    ++count[slot];
  }
}

void key_histogram16(const float* x, int64_t n, uint32_t* hist) {
  for (int64_t i = 0; i < n; ++i) ++hist[float_key(x[i]) >> 16];
}

void key_histogram_next(const float* x, int64_t n, const uint16_t* slot16, const uint16_t* slot24, uint32_t* hist) {
  constexpr uint16_t kNone = 0xFFFF;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t k = float_key(x[i]);
    const uint16_t s = slot16[k >> 16];
    if (s == kNone) continue;
    const uint32_t mid = (k >> 8) & 255u;
    if (!slot24) {
      ++hist[static_cast<size_t>(s) * 256 + mid];
      continue;
    }
    const uint16_t t = slot24[static_cast<size_t>(s) * 256 + mid];
    if (t != kNone) ++hist[static_cast<size_t>(t) * 256 + (k & 255u)];
  }
}

}  // namespace onnxq
