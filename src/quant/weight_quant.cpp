#include "onnxq/weight_quant.hpp"

#include <emmintrin.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <string>
#include <vector>

#include "core/file_regions.hpp"
#include "core/parallel.hpp"
#include "core/spill_file.hpp"
#include "quant/weight_spill.hpp"
#include "onnxq/error.hpp"

namespace onnxq {
namespace {

// The tensor seen as [outer, dim, inner] around `axis`, split into groups along it.
struct Layout {
  int64_t outer = 1, dim = 1, inner = 1;
  int64_t group = 1;   // elements of `dim` sharing one scale
  int64_t groups = 1;  // scales along `dim`
};

Layout layout_of(const Shape& shape, const WeightQuantSpec& spec) {
  Layout l;
  if (spec.axis < 0) {
    l.dim = shape_numel(shape);
    l.group = l.dim;
    return l;
  }
  const auto axis = static_cast<size_t>(spec.axis);
  if (axis >= shape.size())
    fail(ExitCode::kInternal, "quantization axis " + std::to_string(spec.axis) + " out of range for shape " +
                                  shape_to_string(shape));
  for (size_t i = 0; i < axis; ++i) l.outer *= shape[i];
  l.dim = shape[axis];
  for (size_t i = axis + 1; i < shape.size(); ++i) l.inner *= shape[i];
  l.group = spec.block_size > 0 ? spec.block_size : 1;
  l.groups = (l.dim + l.group - 1) / l.group;
  return l;
}

Shape scale_shape(const Shape& shape, const WeightQuantSpec& spec, const Layout& l) {
  if (spec.axis < 0) return {};
  if (spec.block_size <= 0) return {l.dim};
  Shape s = shape;
  s[static_cast<size_t>(spec.axis)] = l.groups;
  return s;
}

// Index into the scale tensor of element (o, d, i).
int64_t scale_index(const WeightQuantSpec& spec, const Layout& l, int64_t o, int64_t d, int64_t i) {
  if (spec.axis < 0) return 0;
  if (spec.block_size <= 0) return d;
  return (o * l.groups + d / l.group) * l.inner + i;
}

constexpr int64_t kChunk = 1 << 16;
// Weights read from a file up to this size are read once for both passes.
constexpr uint64_t kStagingBytes = 16 << 20;

// Weights are read where they are stored, at any alignment (a raw_data field in the mapped
// model file starts wherever protobuf put it), so every float is loaded as bytes.
inline float load_float(const std::byte* p, int64_t i) {
  float v;
  std::memcpy(&v, p + 4 * i, 4);
  return v;
}
inline __m128 load4(const std::byte* p, int64_t i) { return _mm_loadu_ps(reinterpret_cast<const float*>(p + 4 * i)); }

// Calls fn(idx, scale slot) for the elements of one chunk, stepping (o, d, i) incrementally:
// the general path, for layouts the row kernels below don't cover.
template <class Fn>
void walk_chunk(const WeightQuantSpec& spec, const Layout& l, int64_t chunk, int64_t numel, Fn&& fn) {
  const int64_t begin = chunk * kChunk, end = std::min(numel, begin + kChunk);
  if (spec.axis < 0) {
    for (int64_t idx = begin; idx < end; ++idx) fn(idx, 0);
    return;
  }
  int64_t o = begin / (l.dim * l.inner), d = (begin / l.inner) % l.dim, i = begin % l.inner;
  for (int64_t idx = begin; idx < end; ++idx) {
    fn(idx, scale_index(spec, l, o, d, i));
    if (++i == l.inner) {
      i = 0;
      if (++d == l.dim) {
        d = 0;
        ++o;
      }
    }
  }
}

// The tensor as rows of `len` contiguous elements where the scale slot of element j of row r
// is base(r) when `shared` (one scale for the row) or base(r) + j (one per element): every
// layout but blocks of a 1-wide axis, which go the general way.
struct Rows {
  bool regular = true;
  bool shared = true;
  int64_t len = 1;
  const WeightQuantSpec* spec = nullptr;
  const Layout* l = nullptr;

  int64_t base(int64_t r) const {
    if (spec->axis < 0) return 0;
    if (spec->block_size <= 0) return l->inner > 1 ? r % l->dim : 0;
    const int64_t o = r / l->dim, d = r % l->dim;
    return (o * l->groups + d / l->group) * l->inner;
  }
};

Rows rows_of(const WeightQuantSpec& spec, const Layout& l, int64_t numel) {
  Rows rows;
  rows.spec = &spec;
  rows.l = &l;
  if (spec.axis < 0) {
    rows.len = std::max<int64_t>(numel, 1);
  } else if (spec.block_size <= 0) {
    rows.shared = l.inner > 1;  // [outer, dim, inner]: a row per (o, d), else a row of dim channels
    rows.len = l.inner > 1 ? l.inner : l.dim;
  } else if (l.inner > 1) {
    rows.shared = false;  // a row of `inner` columns, each with its block's scale
    rows.len = l.inner;
  } else {
    rows.regular = false;
  }
  return rows;
}

// Calls fn(begin, n, scale slot of the first element) for each row piece of one chunk.
template <class Fn>
void for_each_piece(const Rows& rows, int64_t chunk, int64_t numel, Fn&& fn) {
  const int64_t begin = chunk * kChunk, end = std::min(numel, begin + kChunk);
  for (int64_t pos = begin; pos < end;) {
    const int64_t r = pos / rows.len, j = pos - r * rows.len;
    const int64_t n = std::min(end, (r + 1) * rows.len) - pos;
    fn(pos, n, rows.base(r) + (rows.shared ? 0 : j));
    pos += n;
  }
}

// Quantization parameters in the forms the kernels load.
struct KernelParams {
  std::vector<float> scale, zero;  // zero point as a float
  std::vector<int32_t> zero_int;
};

// Round-trips four values through quantization with the same float operations as
// quantize_value and dequantize_value (cvtps2dq rounds half to even, as round_half_even does),
// returning the integers and adding x^2 and the squared error to the double sums.
inline __m128i quantize4(__m128 x, __m128 scale, __m128 zp, __m128i zpi, __m128 lo, __m128 hi, __m128d& sig_lo,
                         __m128d& sig_hi, __m128d& err_lo, __m128d& err_hi) {
  const __m128 limit = _mm_set1_ps(4194304.0f), neg_limit = _mm_set1_ps(-4194304.0f);
  // max first: a NaN becomes -limit, as in quantize_value (NaNs are refused before anyway).
  const __m128 q = _mm_min_ps(_mm_max_ps(_mm_div_ps(x, scale), neg_limit), limit);
  const __m128 shifted = _mm_add_ps(_mm_cvtepi32_ps(_mm_cvtps_epi32(q)), zp);
  const __m128i v = _mm_cvttps_epi32(_mm_min_ps(_mm_max_ps(shifted, lo), hi));
  const __m128 deq = _mm_mul_ps(_mm_cvtepi32_ps(_mm_sub_epi32(v, zpi)), scale);
  const __m128d x_lo = _mm_cvtps_pd(x), x_hi = _mm_cvtps_pd(_mm_movehl_ps(x, x));
  const __m128d e_lo = _mm_sub_pd(x_lo, _mm_cvtps_pd(deq)), e_hi = _mm_sub_pd(x_hi, _mm_cvtps_pd(_mm_movehl_ps(deq, deq)));
  sig_lo = _mm_add_pd(sig_lo, _mm_mul_pd(x_lo, x_lo));
  sig_hi = _mm_add_pd(sig_hi, _mm_mul_pd(x_hi, x_hi));
  err_lo = _mm_add_pd(err_lo, _mm_mul_pd(e_lo, e_lo));
  err_hi = _mm_add_pd(err_hi, _mm_mul_pd(e_hi, e_hi));
  return v;
}

// Four int32 values, already within the type's range, as four bytes.
template <bool kUnsigned>
inline void store4(__m128i v, uint8_t* out) {
  const __m128i v16 = _mm_packs_epi32(v, v);
  const __m128i v8 = kUnsigned ? _mm_packus_epi16(v16, v16) : _mm_packs_epi16(v16, v16);
  const int32_t packed = _mm_cvtsi128_si32(v8);
  std::memcpy(out, &packed, 4);
}

// Quantizes the n values at `src` into one byte each, with scale slot `s` for
// all (shared) or s + j for the j-th; the error sums are kept in four fixed lanes added in a
// fixed order, so they don't depend on the thread count.
template <bool kUnsigned>
void quantize_piece(const std::byte* src, uint8_t* out, int64_t n, const KernelParams& kp, int64_t s,
                    bool shared, QuantRange range, double& signal, double& noise) {
  const __m128 lo = _mm_set1_ps(static_cast<float>(range.qmin)), hi = _mm_set1_ps(static_cast<float>(range.qmax));
  __m128d sig_lo = _mm_setzero_pd(), sig_hi = sig_lo, err_lo = sig_lo, err_hi = sig_lo;
  int64_t i = 0;
  if (shared) {
    const __m128 scale = _mm_set1_ps(kp.scale[s]), zp = _mm_set1_ps(kp.zero[s]);
    const __m128i zpi = _mm_set1_epi32(kp.zero_int[s]);
    for (; i + 4 <= n; i += 4)
      store4<kUnsigned>(quantize4(load4(src, i), scale, zp, zpi, lo, hi, sig_lo, sig_hi, err_lo, err_hi), out + i);
  } else {
    for (; i + 4 <= n; i += 4) {
      const __m128 scale = _mm_loadu_ps(kp.scale.data() + s + i), zp = _mm_loadu_ps(kp.zero.data() + s + i);
      const __m128i zpi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kp.zero_int.data() + s + i));
      store4<kUnsigned>(quantize4(load4(src, i), scale, zp, zpi, lo, hi, sig_lo, sig_hi, err_lo, err_hi), out + i);
    }
  }
  double sig[4], err[4];
  _mm_storeu_pd(sig, sig_lo);
  _mm_storeu_pd(sig + 2, sig_hi);
  _mm_storeu_pd(err, err_lo);
  _mm_storeu_pd(err + 2, err_hi);
  for (; i < n; ++i) {
    const int64_t slot = shared ? s : s + i;
    const QuantParams p{kp.scale[slot], kp.zero_int[slot]};
    const float x = load_float(src, i);
    const int32_t v = quantize_value(x, p, range);
    out[i] = static_cast<uint8_t>(v);
    const double e = static_cast<double>(x) - dequantize_value(v, p);
    sig[0] += static_cast<double>(x) * x;
    err[0] += e * e;
  }
  for (int lane = 0; lane < 4; ++lane) {
    signal += sig[lane];
    noise += err[lane];
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define ONNXQ_WEIGHT_AVX2 1
// quantize_piece eight values at a time, for CPUs with AVX2: the same float operations per
// element, and the error sums added in the same lanes in the same order (elements 8k..8k+3,
// then 8k+4..8k+7, as the four-wide kernel adds two steps), so both give the same bytes and
// the same SQNR. No FMA: contracting the dequantization would change the error sums.
__attribute__((target("avx2"))) inline void accumulate_avx2(__m256d& sig, __m256d& err, __m128 x4, __m128 deq4) {
  const __m256d x = _mm256_cvtps_pd(x4), e = _mm256_sub_pd(x, _mm256_cvtps_pd(deq4));
  sig = _mm256_add_pd(sig, _mm256_mul_pd(x, x));
  err = _mm256_add_pd(err, _mm256_mul_pd(e, e));
}

template <bool kUnsigned>
__attribute__((target("avx2"))) void quantize_piece_avx2(const std::byte* src, uint8_t* out, int64_t n,
                                                         const KernelParams& kp, int64_t s, bool shared,
                                                         QuantRange range, double& signal, double& noise) {
  const __m256 lo = _mm256_set1_ps(static_cast<float>(range.qmin)), hi = _mm256_set1_ps(static_cast<float>(range.qmax));
  const __m256 limit = _mm256_set1_ps(4194304.0f), neg_limit = _mm256_set1_ps(-4194304.0f);
  __m256d sig = _mm256_setzero_pd(), err = sig;
  __m256 scale = _mm256_set1_ps(kp.scale[static_cast<size_t>(s)]), zp = _mm256_set1_ps(kp.zero[static_cast<size_t>(s)]);
  __m256i zpi = _mm256_set1_epi32(kp.zero_int[static_cast<size_t>(s)]);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (!shared) {
      scale = _mm256_loadu_ps(kp.scale.data() + s + i);
      zp = _mm256_loadu_ps(kp.zero.data() + s + i);
      zpi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kp.zero_int.data() + s + i));
    }
    const __m256 x = _mm256_loadu_ps(reinterpret_cast<const float*>(src + 4 * i));
    const __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(x, scale), neg_limit), limit);
    const __m256 shifted = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_cvtps_epi32(q)), zp);
    const __m256i v = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(shifted, lo), hi));
    const __m256 deq = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zpi)), scale);
    accumulate_avx2(sig, err, _mm256_castps256_ps128(x), _mm256_castps256_ps128(deq));
    accumulate_avx2(sig, err, _mm256_extractf128_ps(x, 1), _mm256_extractf128_ps(deq, 1));
    const __m128i v16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i v8 = kUnsigned ? _mm_packus_epi16(v16, v16) : _mm_packs_epi16(v16, v16);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), v8);
  }
  if (i + 4 <= n) {
    const __m128 scale4 = shared ? _mm256_castps256_ps128(scale) : _mm_loadu_ps(kp.scale.data() + s + i);
    const __m128 zp4 = shared ? _mm256_castps256_ps128(zp) : _mm_loadu_ps(kp.zero.data() + s + i);
    const __m128i zpi4 = shared ? _mm256_castsi256_si128(zpi)
                                : _mm_loadu_si128(reinterpret_cast<const __m128i*>(kp.zero_int.data() + s + i));
    const __m128 x = load4(src, i);
    const __m128 q = _mm_min_ps(_mm_max_ps(_mm_div_ps(x, scale4), _mm256_castps256_ps128(neg_limit)),
                                _mm256_castps256_ps128(limit));
    const __m128 shifted = _mm_add_ps(_mm_cvtepi32_ps(_mm_cvtps_epi32(q)), zp4);
    const __m128i v = _mm_cvttps_epi32(_mm_min_ps(_mm_max_ps(shifted, _mm256_castps256_ps128(lo)), _mm256_castps256_ps128(hi)));
    accumulate_avx2(sig, err, x, _mm_mul_ps(_mm_cvtepi32_ps(_mm_sub_epi32(v, zpi4)), scale4));
    store4<kUnsigned>(v, out + i);
    i += 4;
  }
  double sum_sig[4], sum_err[4];
  _mm256_storeu_pd(sum_sig, sig);
  _mm256_storeu_pd(sum_err, err);
  for (; i < n; ++i) {
    const int64_t slot = shared ? s : s + i;
    const QuantParams p{kp.scale[static_cast<size_t>(slot)], kp.zero_int[static_cast<size_t>(slot)]};
    const float x = load_float(src, i);
    const int32_t v = quantize_value(x, p, range);
    out[i] = static_cast<uint8_t>(v);
    const double e = static_cast<double>(x) - dequantize_value(v, p);
    sum_sig[0] += static_cast<double>(x) * x;
    sum_err[0] += e * e;
  }
  for (int lane = 0; lane < 4; ++lane) {
    signal += sum_sig[lane];
    noise += sum_err[lane];
  }
}
#endif

// The widest kernel the CPU runs; all give the same results.
template <bool kUnsigned>
void quantize_piece_best(const std::byte* src, uint8_t* out, int64_t n, const KernelParams& kp, int64_t s, bool shared,
                         QuantRange range, double& signal, double& noise) {
#if defined(ONNXQ_WEIGHT_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return quantize_piece_avx2<kUnsigned>(src, out, n, kp, s, shared, range, signal, noise);
#endif
  quantize_piece<kUnsigned>(src, out, n, kp, s, shared, range, signal, noise);
}

// Min and max of n values, and whether all are finite, four at a time.
void range_shared(const std::byte* src, int64_t n, float& mn, float& mx, bool& finite) {
  __m128 vmn = _mm_set1_ps(mn), vmx = _mm_set1_ps(mx), bad = _mm_setzero_ps();
  const __m128 zero = _mm_setzero_ps();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 x = load4(src, i);
    vmn = _mm_min_ps(x, vmn);
    vmx = _mm_max_ps(x, vmx);
    bad = _mm_or_ps(bad, _mm_cmpneq_ps(_mm_sub_ps(x, x), zero));  // NaN and infinities
  }
  float lanes_mn[4], lanes_mx[4];
  _mm_storeu_ps(lanes_mn, vmn);
  _mm_storeu_ps(lanes_mx, vmx);
  for (int lane = 0; lane < 4; ++lane) {
    mn = std::min(mn, lanes_mn[lane]);
    mx = std::max(mx, lanes_mx[lane]);
  }
  finite = finite && _mm_movemask_ps(bad) == 0;
  for (; i < n; ++i) {
    const float x = load_float(src, i);
    mn = std::min(mn, x);
    mx = std::max(mx, x);
    finite = finite && (x - x == 0.0f);
  }
}

// Element-wise min and max of n values into mn[0..n) and mx[0..n).
void range_each(const std::byte* src, int64_t n, float* mn, float* mx, bool& finite) {
  __m128 bad = _mm_setzero_ps();
  const __m128 zero = _mm_setzero_ps();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 x = load4(src, i);
    _mm_storeu_ps(mn + i, _mm_min_ps(x, _mm_loadu_ps(mn + i)));
    _mm_storeu_ps(mx + i, _mm_max_ps(x, _mm_loadu_ps(mx + i)));
    bad = _mm_or_ps(bad, _mm_cmpneq_ps(_mm_sub_ps(x, x), zero));
  }
  finite = finite && _mm_movemask_ps(bad) == 0;
  for (; i < n; ++i) {
    const float x = load_float(src, i);
    mn[i] = std::min(mn[i], x);
    mx[i] = std::max(mx[i], x);
    finite = finite && (x - x == 0.0f);
  }
}

#if defined(ONNXQ_WEIGHT_AVX2)
// range_shared and range_each eight at a time (min and max are exact, so any width agrees).
__attribute__((target("avx2"))) void range_shared_avx2(const std::byte* src, int64_t n, float& mn, float& mx,
                                                       bool& finite) {
  __m256 vmn = _mm256_set1_ps(mn), vmx = _mm256_set1_ps(mx), bad = _mm256_setzero_ps();
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(reinterpret_cast<const float*>(src + 4 * i));
    vmn = _mm256_min_ps(x, vmn);
    vmx = _mm256_max_ps(x, vmx);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_sub_ps(x, x), zero, _CMP_NEQ_UQ));  // NaN and infinities
  }
  float lanes_mn[8], lanes_mx[8];
  _mm256_storeu_ps(lanes_mn, vmn);
  _mm256_storeu_ps(lanes_mx, vmx);
  for (int lane = 0; lane < 8; ++lane) {
    mn = std::min(mn, lanes_mn[lane]);
    mx = std::max(mx, lanes_mx[lane]);
  }
  finite = finite && _mm256_movemask_ps(bad) == 0;
  range_shared(src + 4 * i, n - i, mn, mx, finite);
}

__attribute__((target("avx2"))) void range_each_avx2(const std::byte* src, int64_t n, float* mn, float* mx,
                                                     bool& finite) {
  __m256 bad = _mm256_setzero_ps();
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(reinterpret_cast<const float*>(src + 4 * i));
    _mm256_storeu_ps(mn + i, _mm256_min_ps(x, _mm256_loadu_ps(mn + i)));
    _mm256_storeu_ps(mx + i, _mm256_max_ps(x, _mm256_loadu_ps(mx + i)));
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_sub_ps(x, x), zero, _CMP_NEQ_UQ));
  }
  finite = finite && _mm256_movemask_ps(bad) == 0;
  range_each(src + 4 * i, n - i, mn + i, mx + i, finite);
}
#endif

void range_shared_best(const std::byte* src, int64_t n, float& mn, float& mx, bool& finite) {
#if defined(ONNXQ_WEIGHT_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return range_shared_avx2(src, n, mn, mx, finite);
#endif
  range_shared(src, n, mn, mx, finite);
}

void range_each_best(const std::byte* src, int64_t n, float* mn, float* mx, bool& finite) {
#if defined(ONNXQ_WEIGHT_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return range_each_avx2(src, n, mn, mx, finite);
#endif
  range_each(src, n, mn, mx, finite);
}

// The smallest scale slot s may have, or 0.
float scale_floor(const WeightQuantSpec& spec, int64_t nscales, int64_t s) {
  if (spec.min_scale.empty()) return 0.0f;
  if (spec.min_scale.size() == 1) return spec.min_scale[0];
  if (static_cast<int64_t>(spec.min_scale.size()) != nscales)
    fail(ExitCode::kInternal, "weight scale floor: " + std::to_string(spec.min_scale.size()) + " values for " +
                                  std::to_string(nscales) + " scales");
  return spec.min_scale[static_cast<size_t>(s)];
}

// Parameters for [rmin, rmax] widened about zero until the scale reaches `floor`. The scale is
// proportional to the range, so one widening lands on the floor up to rounding; the zero point
// stays where the range put it. An all-zero slot takes [0, 1] (or ±1) as its shape.
QuantParams widened_to(float floor, float rmin, float rmax, QuantRange range, bool symmetric) {
  double lo = std::min(0.0f, rmin), hi = std::max(0.0f, rmax);
  if (hi - lo <= 0) hi = 1.0;
  QuantParams p = compute_quant_params(static_cast<float>(lo), static_cast<float>(hi), range, symmetric);
  for (int i = 1; i <= 8 && p.scale < floor; ++i) {
    const double widen = static_cast<double>(floor) / p.scale * (1.0 + 1e-6 * i);
    lo *= widen;
    hi *= widen;
    p = compute_quant_params(static_cast<float>(lo), static_cast<float>(hi), range, symmetric);
  }
  return p;
}

}  // namespace

int32_t read_quantized(const Tensor& t, int64_t i) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(t.raw_data());
  switch (t.dtype()) {
    case DataType::kInt8: return reinterpret_cast<const int8_t*>(bytes)[i];
    case DataType::kUInt8: return bytes[i];
    case DataType::kInt16: return reinterpret_cast<const int16_t*>(bytes)[i];
    case DataType::kUInt16: return reinterpret_cast<const uint16_t*>(bytes)[i];
    case DataType::kInt32: return reinterpret_cast<const int32_t*>(bytes)[i];
    case DataType::kUInt4: return (bytes[i / 2] >> (4 * (i % 2))) & 0xf;
    case DataType::kInt4: {
      const int32_t nibble = (bytes[i / 2] >> (4 * (i % 2))) & 0xf;
      return nibble >= 8 ? nibble - 16 : nibble;
    }
    default: fail(ExitCode::kInternal, "read_quantized on " + std::string(dtype_name(t.dtype())));
  }
}

void write_quantized(Tensor& t, int64_t i, int32_t value) {
  auto* bytes = reinterpret_cast<uint8_t*>(t.raw_data());
  switch (t.dtype()) {
    case DataType::kInt8: reinterpret_cast<int8_t*>(bytes)[i] = static_cast<int8_t>(value); return;
    case DataType::kUInt8: bytes[i] = static_cast<uint8_t>(value); return;
    case DataType::kInt16: reinterpret_cast<int16_t*>(bytes)[i] = static_cast<int16_t>(value); return;
    case DataType::kUInt16: reinterpret_cast<uint16_t*>(bytes)[i] = static_cast<uint16_t>(value); return;
    case DataType::kInt32: reinterpret_cast<int32_t*>(bytes)[i] = value; return;
    case DataType::kInt4:
    case DataType::kUInt4: {
      // Element 2k sits in the low nibble of byte k, element 2k+1 in the high one.
      const int shift = 4 * static_cast<int>(i % 2);
      uint8_t& b = bytes[i / 2];
      b = static_cast<uint8_t>((b & ~(0xf << shift)) | ((value & 0xf) << shift));
      return;
    }
    default: fail(ExitCode::kInternal, "write_quantized on " + std::string(dtype_name(t.dtype())));
  }
}

QuantizedWeight quantize_weight(const Tensor& weight, const WeightQuantSpec& spec, int threads) {
  if (weight.dtype() != DataType::kFloat)
    fail(ExitCode::kUnsupported, "only float32 weights are quantized, not " + std::string(dtype_name(weight.dtype())));
  return quantize_weight(weight.bytes(), weight.shape(), spec, threads);
}

QuantizedWeight quantize_weight(std::span<const std::byte> data, const Shape& shape, const WeightQuantSpec& spec,
                                int threads) {
  return quantize_weight_spilled(data, shape, spec, threads, nullptr);
}

QuantizedWeight quantize_weight_spilled(std::span<const std::byte> data, const Shape& shape,
                                        const WeightQuantSpec& spec, int threads, SpillFile* spill) {
  const int64_t numel = shape_numel(shape);
  if (data.size() != static_cast<uint64_t>(numel) * 4)
    fail(ExitCode::kInternal, std::to_string(data.size()) + " bytes for a float32 weight of shape " +
                                  shape_to_string(shape));
  const QuantRange range = quant_range(spec.type, spec.symmetric, spec.reduce_range);
  const Layout l = layout_of(shape, spec);
  const Rows rows = rows_of(spec, l, numel);
  const Shape sshape = scale_shape(shape, spec, l);
  const int64_t chunks = (numel + kChunk - 1) / kChunk;
  const int64_t nscales = shape_numel(sshape);

  // Data mirrored from a file is read from the file, never through its mapping (see
  // core/file_regions.hpp): a weight that fits is read once into a buffer reused from weight
  // to weight, a larger one chunk by chunk in each pass.
  const std::byte* w = data.data();
  bool from_file = !data.empty() && find_file_region(w, data.size()).has_value();
  if (from_file && data.size() <= kStagingBytes) {
    static thread_local Tensor staging;
    if (staging.nbytes() < data.size()) staging = Tensor::uninitialized(DataType::kUInt8, {static_cast<int64_t>(kStagingBytes)});
    // In pieces on all threads: copying from the page cache is most of the cost.
    constexpr uint64_t kPiece = 1 << 20;
    std::byte* to = staging.raw_data();
    const auto pieces = static_cast<int64_t>((data.size() + kPiece - 1) / kPiece);
    parallel_for(pieces, threads, [&](int64_t i) {
      const uint64_t at = static_cast<uint64_t>(i) * kPiece;
      read_bytes(w + at, std::min<uint64_t>(kPiece, data.size() - at), to + at);
    });
    w = staging.raw_data();
    from_file = false;
  }
  // Element `begin` of chunk c, from memory or read into the calling thread's buffer.
  auto chunk_data = [&](int64_t c) -> const std::byte* {
    const int64_t begin = c * kChunk, n = std::min(numel, begin + kChunk) - begin;
    if (!from_file) return w + 4 * begin;
    static thread_local std::vector<std::byte> buffer;
    buffer.resize(static_cast<size_t>(4 * kChunk));
    read_bytes(w + 4 * begin, static_cast<uint64_t>(4 * n), buffer.data());
    return buffer.data();
  };

  // Each chunk's min and max per scale slot it touches (the window [first, first + size)),
  // merged in chunk order afterwards (min and max are exact anyway).
  struct Partial {
    int64_t first = 0;
    std::vector<float> lo, hi;
    bool finite = true;
  };
  std::vector<Partial> partials(static_cast<size_t>(chunks));
  parallel_for(chunks, threads, [&](int64_t c) {
    Partial& part = partials[static_cast<size_t>(c)];
    const int64_t begin = c * kChunk;
    int64_t first = std::numeric_limits<int64_t>::max(), last = -1;
    auto cover = [&](int64_t a, int64_t b) {
      first = std::min(first, a);
      last = std::max(last, b);
    };
    if (rows.regular)
      for_each_piece(rows, c, numel, [&](int64_t, int64_t n, int64_t s) { cover(s, rows.shared ? s + 1 : s + n); });
    else
      walk_chunk(spec, l, c, numel, [&](int64_t, int64_t s) { cover(s, s + 1); });
    part.first = first;
    part.lo.assign(static_cast<size_t>(last - first), std::numeric_limits<float>::infinity());
    part.hi.assign(part.lo.size(), -std::numeric_limits<float>::infinity());
    float* lo = part.lo.data() - first;
    float* hi = part.hi.data() - first;
    const std::byte* src = chunk_data(c);
    bool finite = true;  // v - v is 0 for every finite v, NaN for NaN and infinities
    if (rows.regular) {
      for_each_piece(rows, c, numel, [&](int64_t pos, int64_t n, int64_t s) {
        if (rows.shared)
          range_shared_best(src + 4 * (pos - begin), n, lo[s], hi[s], finite);
        else
          range_each_best(src + 4 * (pos - begin), n, lo + s, hi + s, finite);
      });
    } else {
      walk_chunk(spec, l, c, numel, [&](int64_t idx, int64_t s) {
        const float v = load_float(src, idx - begin);
        lo[s] = std::min(lo[s], v);
        hi[s] = std::max(hi[s], v);
        finite &= (v - v == 0.0f);
      });
    }
    part.finite = finite;
  });
  std::vector<float> rmin(static_cast<size_t>(nscales), std::numeric_limits<float>::infinity());
  std::vector<float> rmax(rmin.size(), -std::numeric_limits<float>::infinity());
  for (const Partial& part : partials) {
    if (!part.finite) fail(ExitCode::kInput, "weight holds a NaN or infinite value");
    for (size_t k = 0; k < part.lo.size(); ++k) {
      const auto s = static_cast<size_t>(part.first) + k;
      rmin[s] = std::min(rmin[s], part.lo[k]);
      rmax[s] = std::max(rmax[s], part.hi[k]);
    }
  }
  partials.clear();

  QuantizedWeight q;
  q.scale = Tensor(DataType::kFloat, sshape);
  q.zero_point = Tensor(spec.type, sshape);
  KernelParams kp;
  kp.scale.resize(static_cast<size_t>(nscales));
  kp.zero.resize(kp.scale.size());
  kp.zero_int.resize(kp.scale.size());
  for (int64_t s = 0; s < nscales; ++s) {
    const auto k = static_cast<size_t>(s);
    QuantParams p = rmin[k] > rmax[k] ? QuantParams{} : compute_quant_params(rmin[k], rmax[k], range, spec.symmetric);
    if (const float floor = scale_floor(spec, nscales, s); p.scale < floor)
      p = widened_to(floor, rmin[k] > rmax[k] ? 0.0f : rmin[k], rmin[k] > rmax[k] ? 0.0f : rmax[k], range,
                     spec.symmetric);
    kp.scale[k] = p.scale;
    kp.zero[k] = static_cast<float>(p.zero_point);
    kp.zero_int[k] = p.zero_point;
    q.scale.data<float>()[s] = p.scale;
    write_quantized(q.zero_point, s, p.zero_point);
  }

  // Quantize and measure the error in one pass, so no dequantized copy is ever materialised.
  // Values are quantized a byte each into the chunk's place in memory, or into a small
  // buffer when they are packed two per byte or spilled to a file; chunks start on even
  // indices (kChunk is even), so no 4-bit byte is shared by two chunks. Every byte of the
  // values is written (4-bit: a short last byte's high nibble is 0), so none is zeroed first.
  const bool four_bit = dtype_bits(spec.type) == 4;
  const bool is_unsigned = spec.type == DataType::kUInt8;
  const uint64_t value_bytes = dtype_storage_bytes(spec.type, numel);
  Tensor values;
  uint64_t spill_offset = 0;
  if (spill && value_bytes > 0)
    spill_offset = spill->reserve(value_bytes);
  else
    values = Tensor::uninitialized(spec.type, shape);
  auto* direct = spill ? nullptr : reinterpret_cast<uint8_t*>(values.raw_data());
  std::vector<double> signal(static_cast<size_t>(chunks)), noise(static_cast<size_t>(chunks));
  parallel_for(chunks, threads, [&](int64_t c) {
    const int64_t begin = c * kChunk, end = std::min(numel, begin + kChunk);
    static thread_local std::vector<uint8_t> buffer, packed;
    const bool buffered = four_bit || spill;
    if (buffered) buffer.resize(static_cast<size_t>(kChunk));
    uint8_t* out = buffered ? buffer.data() : direct + begin;  // element begin of the chunk
    const std::byte* src = chunk_data(c);
    double sig = 0, err2 = 0;
    if (rows.regular) {
      for_each_piece(rows, c, numel, [&](int64_t pos, int64_t n, int64_t s) {
        const std::byte* x = src + 4 * (pos - begin);
        if (is_unsigned)
          quantize_piece_best<true>(x, out + (pos - begin), n, kp, s, rows.shared, range, sig, err2);
        else
          quantize_piece_best<false>(x, out + (pos - begin), n, kp, s, rows.shared, range, sig, err2);
      });
    } else {
      walk_chunk(spec, l, c, numel, [&](int64_t idx, int64_t s) {
        const QuantParams p{kp.scale[static_cast<size_t>(s)], kp.zero_int[static_cast<size_t>(s)]};
        const float x = load_float(src, idx - begin);
        const int32_t v = quantize_value(x, p, range);
        out[idx - begin] = static_cast<uint8_t>(v);
        const double err = static_cast<double>(x) - dequantize_value(v, p);
        sig += static_cast<double>(x) * x;
        err2 += err * err;
      });
    }
    const uint8_t* bytes = out;
    int64_t byte_begin = begin, byte_count = end - begin;
    if (four_bit) {
      byte_begin = begin / 2;
      byte_count = (end - begin + 1) / 2;
      if (spill) packed.resize(static_cast<size_t>(kChunk / 2));
      uint8_t* dst = spill ? packed.data() : direct + byte_begin;
      // Element 2k in the low nibble of byte k, element 2k+1 in the high one.
      const int64_t pairs = (end - begin) / 2;
      for (int64_t k = 0; k < pairs; ++k) dst[k] = static_cast<uint8_t>((out[2 * k] & 0xf) | (out[2 * k + 1] & 0xf) << 4);
      if (pairs < byte_count) dst[pairs] = static_cast<uint8_t>(out[2 * pairs] & 0xf);
      bytes = dst;
    }
    if (spill) spill->write(spill_offset + static_cast<uint64_t>(byte_begin), bytes, static_cast<uint64_t>(byte_count));
    signal[static_cast<size_t>(c)] = sig;
    noise[static_cast<size_t>(c)] = err2;
  });
  q.values = spill && value_bytes > 0 ? spill->view(spec.type, shape, spill_offset) : values;
  double total_signal = 0, total_noise = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    total_signal += signal[static_cast<size_t>(c)];
    total_noise += noise[static_cast<size_t>(c)];
  }
  q.sqnr_db = total_noise == 0    ? std::numeric_limits<double>::infinity()
              : total_signal == 0 ? -std::numeric_limits<double>::infinity()
                                  : 10.0 * std::log10(total_signal / total_noise);
  return q;
}

Tensor dequantize_weight(const QuantizedWeight& q, const WeightQuantSpec& spec) {
  const Layout l = layout_of(q.values.shape(), spec);
  Tensor out(DataType::kFloat, q.values.shape());
  float* y = out.data<float>();
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t d = 0; d < l.dim; ++d)
      for (int64_t i = 0; i < l.inner; ++i) {
        const int64_t idx = (o * l.dim + d) * l.inner + i;
        const int64_t s = scale_index(spec, l, o, d, i);
        y[idx] = dequantize_value(read_quantized(q.values, idx),
                                  {q.scale.data<float>()[s], read_quantized(q.zero_point, s)});
      }
  return out;
}

}  // namespace onnxq
