#include "fp16/half_tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/parallel.hpp"
#include "core/scratch_buffer.hpp"
#include "core/value_chunks.hpp"
#include "onnxq/float16.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ONNXQ_HALF_F16C 1
#endif

namespace onnxq::fp16 {
namespace {

// Chunks fix the order of the error sums whatever the thread count; within a chunk each of
// 8 lanes sums every 8th value, which the vector and scalar paths both do, so both give the
// same SQNR to the last bit.
constexpr int64_t kChunk = 1 << 16;
constexpr int kLanes = 8;

struct ChunkStats {
  int64_t clamped = 0, large = 0;
  double signal[kLanes] = {}, noise[kLanes] = {};
};

float clamp_value(float v, float lo, float hi, ChunkStats& s) {
  const float a = std::fabs(v);
  if (a > 0.0f && a < lo) {
    ++s.clamped;
    return std::copysign(lo, v);
  }
  if (a > hi && std::isfinite(a)) {
    ++s.clamped;
    ++s.large;
    return std::copysign(hi, v);
  }
  return v;
}

void account(float x, float back, int lane, ChunkStats& s) {
  if (!std::isfinite(x)) return;
  s.signal[lane] += static_cast<double>(x) * x;
  const double d = static_cast<double>(back) - x;
  s.noise[lane] += d * d;
}

void convert_scalar(const float* x, uint16_t* y, int64_t begin, int64_t end, bool bf16, float lo, float hi,
                    ChunkStats& s) {
  for (int64_t i = begin; i < end; ++i) {
    const float v = bf16 ? x[i] : clamp_value(x[i], lo, hi, s);
    y[i] = bf16 ? float_to_bfloat16(v) : float_to_half(v);
    account(x[i], bf16 ? bfloat16_to_float(y[i]) : half_to_float(y[i]), static_cast<int>((i - begin) % kLanes), s);
  }
}

#if defined(ONNXQ_HALF_F16C)
// Eight values at a time: float16 with the F16C conversions (IEEE round to nearest even, as
// float_to_half), bfloat16 with integer rounding; a block holding NaN (and for float16 ±inf or
// a value to clamp) goes the scalar way. The
// running sums stay in `s`'s lane order through both ways, so the rounding is the scalar one.
template <bool kBf16>
__attribute__((target("avx2,f16c"))) void convert_vector(const float* x, uint16_t* y, int64_t begin, int64_t end,
                                                          float lo, float hi, ChunkStats& s) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), zero = _mm256_setzero_ps();
  __m256d sig_lo = _mm256_loadu_pd(s.signal), sig_hi = _mm256_loadu_pd(s.signal + 4);
  __m256d err_lo = _mm256_loadu_pd(s.noise), err_hi = _mm256_loadu_pd(s.noise + 4);
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 a = _mm256_and_ps(v, abs_mask);
    // Not (a <= hi) is true for NaN and ±inf as well as for values to clamp; bfloat16 clamps
    // nothing, but NaN (kept quiet) and ±inf (left out of the sums) go the scalar way too.
    const __m256 odd = kBf16 ? _mm256_cmp_ps(a, _mm256_set1_ps(std::numeric_limits<float>::max()), _CMP_NLE_UQ)
                             : _mm256_or_ps(_mm256_and_ps(_mm256_cmp_ps(a, zero, _CMP_GT_OQ), _mm256_cmp_ps(a, vlo, _CMP_LT_OQ)),
                                            _mm256_cmp_ps(a, vhi, _CMP_NLE_UQ));
    if (_mm256_movemask_ps(odd)) {
      _mm256_storeu_pd(s.signal, sig_lo);
      _mm256_storeu_pd(s.signal + 4, sig_hi);
      _mm256_storeu_pd(s.noise, err_lo);
      _mm256_storeu_pd(s.noise + 4, err_hi);
      convert_scalar(x, y, i, i + kLanes, kBf16, lo, hi, s);  // i - begin is a multiple of 8: lanes line up
      sig_lo = _mm256_loadu_pd(s.signal);
      sig_hi = _mm256_loadu_pd(s.signal + 4);
      err_lo = _mm256_loadu_pd(s.noise);
      err_hi = _mm256_loadu_pd(s.noise + 4);
      continue;
    }
    __m256 back;
    if constexpr (kBf16) {
      // Round to nearest even on the top 16 bits, as float_to_bfloat16.
      const __m256i bits = _mm256_castps_si256(v);
      const __m256i odd_bit = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
      const __m256i top = _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd_bit)), 16);
      // packus pairs 128-bit halves; the permute puts the eight values back in order.
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(top, top), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_castsi256_si128(packed));
      back = _mm256_castsi256_ps(_mm256_slli_epi32(top, 16));
    } else {
      const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
      back = _mm256_cvtph_ps(h);
    }
    const __m256d x0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), x1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    const __m256d b0 = _mm256_cvtps_pd(_mm256_castps256_ps128(back)), b1 = _mm256_cvtps_pd(_mm256_extractf128_ps(back, 1));
    const __m256d d0 = _mm256_sub_pd(b0, x0), d1 = _mm256_sub_pd(b1, x1);
    // Multiply then add (no FMA), as the scalar path rounds.
    sig_lo = _mm256_add_pd(sig_lo, _mm256_mul_pd(x0, x0));
    sig_hi = _mm256_add_pd(sig_hi, _mm256_mul_pd(x1, x1));
    err_lo = _mm256_add_pd(err_lo, _mm256_mul_pd(d0, d0));
    err_hi = _mm256_add_pd(err_hi, _mm256_mul_pd(d1, d1));
  }
  _mm256_storeu_pd(s.signal, sig_lo);
  _mm256_storeu_pd(s.signal + 4, sig_hi);
  _mm256_storeu_pd(s.noise, err_lo);
  _mm256_storeu_pd(s.noise + 4, err_hi);
  convert_scalar(x, y, i, end, kBf16, lo, hi, s);  // the tail starts at lane 0 too
}
#endif

bool vector_path_available() {
#if defined(ONNXQ_HALF_F16C)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  return yes;
#else
  return false;
#endif
}

void convert_chunk(const float* x, uint16_t* y, int64_t begin, int64_t end, const Fp16Options& options, bool vectorized,
                   ChunkStats& s) {
#if defined(ONNXQ_HALF_F16C)
  if (vectorized && options.bfloat16) return convert_vector<true>(x, y, begin, end, 0, 0, s);
  if (vectorized) return convert_vector<false>(x, y, begin, end, options.min_positive_val, options.max_finite_val, s);
#endif
  (void)vectorized;
  convert_scalar(x, y, begin, end, options.bfloat16, options.min_positive_val, options.max_finite_val, s);
}

HalfStats total_stats(const std::vector<ChunkStats>& per_chunk) {
  HalfStats total;
  double signal = 0.0, noise = 0.0;
  for (const auto& s : per_chunk) {
    total.clamped += s.clamped;
    total.large += s.large;
    for (int l = 0; l < kLanes; ++l) {
      signal += s.signal[l];
      noise += s.noise[l];
    }
  }
  total.sqnr_db = noise == 0.0 ? std::numeric_limits<double>::infinity()
                  : signal == 0.0 ? -std::numeric_limits<double>::infinity()
                                  : 10.0 * std::log10(signal / noise);
  return total;
}

}  // namespace

void to_half_values(const float* x, uint16_t* y, int64_t n, const Fp16Options& options, HalfStats* stats,
                    bool vector_path) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<ChunkStats> per_chunk(static_cast<size_t>(chunks));
  const bool vectorized = vector_path && vector_path_available();
  parallel_for(chunks, options.threads, [&](int64_t c) {
    convert_chunk(x, y, c * kChunk, std::min(n, (c + 1) * kChunk), options, vectorized, per_chunk[static_cast<size_t>(c)]);
  });
  if (stats) *stats = total_stats(per_chunk);
}

Tensor to_half_stored(std::span<const std::byte> floats, const Shape& shape, const Fp16Options& options,
                       HalfStats* stats, SpillFile* spill) {
  static_assert(ValueChunks::kChunk == kChunk, "the error sums' order follows the chunks");
  const ValueChunks values(floats.data(), static_cast<int64_t>(floats.size() / 4));
  std::vector<ChunkStats> per_chunk(static_cast<size_t>(values.chunks()));
  const bool vectorized = vector_path_available();
  TensorSink sink(spill, options.bfloat16 ? DataType::kBFloat16 : DataType::kFloat16, shape);
  parallel_for(values.chunks(), options.threads, [&](int64_t c) {
    // Per-thread buffers, reused: fresh pages cost more than the conversion on a VM.
    thread_local ScratchBuffer<float> in_buffer;
    thread_local ScratchBuffer<uint16_t> out_buffer;
    const float* in = values.read(c, in_buffer.get(static_cast<size_t>(kChunk)));
    uint16_t* out = out_buffer.get(static_cast<size_t>(kChunk));
    convert_chunk(in, out, 0, values.count(c), options, vectorized, per_chunk[static_cast<size_t>(c)]);
    sink.write(static_cast<uint64_t>(2 * c * kChunk), out, static_cast<uint64_t>(2 * values.count(c)));
  });
  if (stats) *stats = total_stats(per_chunk);
  return sink.tensor();
}

Tensor to_half(const Tensor& value, const Fp16Options& options, HalfStats* stats) {
  Tensor out = Tensor::uninitialized(options.bfloat16 ? DataType::kBFloat16 : DataType::kFloat16, value.shape());
  to_half_values(value.data<float>(), out.data<uint16_t>(), value.numel(), options, stats, true);
  return out;
}

}  // namespace onnxq::fp16
