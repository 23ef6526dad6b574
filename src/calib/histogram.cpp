#include "calib/histogram.hpp"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <limits>
#include <mutex>

#include "core/parallel.hpp"
#include "onnxq/error.hpp"

namespace onnxq::calib {

namespace {

// Fixed chunking, so the work split never depends on the thread count (and the results are
// exact anyway: extremes and integer counts do not depend on the order of combining).
constexpr int64_t kChunk = int64_t{1} << 15;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Compiled for AVX-512, AVX2 and the baseline, picked at load time by the CPU (GCC's function
// multiversioning): the loops below vectorize to whatever width the CPU has, and min, max and
// bin indices are exact at any width.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ONNXQ_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ONNXQ_CPU_CLONES
#endif

ONNXQ_CPU_CLONES Extremes scan_extremes(const float* x, int64_t n) {
  // Independent lanes so the compiler vectorises the loop; NaN fails both comparisons and
  // the bounds keep ±inf out.
  constexpr int kLanes = 16;
  float lo[kLanes], hi[kLanes];
  std::fill(lo, lo + kLanes, kInf);
  std::fill(hi, hi + kLanes, -kInf);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      const float for_lo = v >= -FLT_MAX ? v : kInf;  // NaN and -inf out
      const float for_hi = v <= FLT_MAX ? v : -kInf;  // NaN and +inf out
      lo[j] = for_lo < lo[j] ? for_lo : lo[j];
      hi[j] = for_hi > hi[j] ? for_hi : hi[j];
    }
  for (; i < n; ++i) {
    const float v = x[i];
    lo[0] = (v < lo[0] && v >= -FLT_MAX) ? v : lo[0];
    hi[0] = (v > hi[0] && v <= FLT_MAX) ? v : hi[0];
  }
  Extremes e{kInf, -kInf};
  for (int j = 0; j < kLanes; ++j) {
    e.min = std::min(e.min, lo[j]);
    e.max = std::max(e.max, hi[j]);
  }
  return e;
}

// Bin index of each value (`skip` for those not counted: non-finite, or |x| outside
// [lower, upper)), and the finite extremes, in one vectorized pass. Branch-free: |x|*scale is
// exact (scale is a power of two), so truncation is the floor; it is clamped to the grid
// first, so a value beyond the range gets an end bin, and the index never decreases as x
// grows. Independent lanes for the extremes, as in scan_extremes.
ONNXQ_CPU_CLONES Extremes bin_indices(const float* v, int m, float scale, int32_t half, float lower, float upper,
                                      int32_t skip, int32_t* idx) {
  const float top = static_cast<float>(half - 1);
  const auto bin = [=](float x) {
    const float a = std::fabs(x);
    const bool counted = (a <= FLT_MAX) & (a >= lower) & (a < upper);  // no branches: & not &&
    const float t = (a <= FLT_MAX ? a : 0.0f) * scale;
    const int32_t k = static_cast<int32_t>(t < top ? t : top);
    const int32_t id = x < 0.0f ? half - 1 - k : half + k;
    return counted ? id : skip;
  };
  constexpr int kLanes = 16;
  float lo[kLanes], hi[kLanes];
  std::fill(lo, lo + kLanes, kInf);
  std::fill(hi, hi + kLanes, -kInf);
  int i = 0;
  for (; i + kLanes <= m; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const float x = v[i + j];
      idx[i + j] = bin(x);
      const float for_lo = x >= -FLT_MAX ? x : kInf;  // NaN and -inf out
      const float for_hi = x <= FLT_MAX ? x : -kInf;  // NaN and +inf out
      lo[j] = for_lo < lo[j] ? for_lo : lo[j];
      hi[j] = for_hi > hi[j] ? for_hi : hi[j];
    }
  for (; i < m; ++i) {
    const float x = v[i];
    idx[i] = bin(x);
    lo[0] = (x < lo[0] && x >= -FLT_MAX) ? x : lo[0];
    hi[0] = (x > hi[0] && x <= FLT_MAX) ? x : hi[0];
  }
  Extremes e{kInf, -kInf};
  for (int j = 0; j < kLanes; ++j) {
    e.min = std::min(e.min, lo[j]);
    e.max = std::max(e.max, hi[j]);
  }
  return e;
}

int32_t bin_of(float x, float scale, int32_t half) {
  int32_t id;
  bin_indices(&x, 1, scale, half, 0.0f, kInf, 0, &id);
  return id;
}

// Counts one task's values into 32-bit sub-histograms of every bin (slot `bins` takes those
// not counted), kept in a per-thread buffer that is all zeros between tasks: the task folds
// and clears only the bins between its own extremes, which bound every bin it touched. Large
// inputs count into four interleaved sub-histograms, so runs of one value (the zeros of a
// ReLU) do not wait on the same counter.
class Binner {
 public:
  Binner(int32_t bins, float scale, float lower, float upper, int64_t n)
      : bins_(bins), scale_(scale), lower_(lower), upper_(upper), stride_(static_cast<size_t>(bins) + 1),
        ways_(n >= 4096 ? 4 : 1) {
    // Reused per thread: a fresh buffer is a fresh mapping, and its page faults cost more than
    // the counting.
    thread_local std::vector<uint32_t> scratch;
    if (scratch.size() < 4 * stride_) scratch.resize(4 * stride_, 0u);
    sub_ = scratch.data();
  }

  // Counts x[0, n) and returns its finite extremes, found in the same pass; their bins bound
  // the bins touched.
  Extremes add(const float* x, int64_t n) {
    constexpr int kBlock = 512;
    int32_t idx[kBlock];
    // Locals, not members, in the loops: the counters' stores could alias members.
    const int32_t half = bins_ / 2, skip = bins_;
    const float scale = scale_, lower = lower_, upper = upper_;
    const size_t way = ways_ == 4 ? stride_ : 0;
    uint32_t* s0 = sub_;
    uint32_t *s1 = s0 + way, *s2 = s1 + way, *s3 = s2 + way;
    Extremes e{kInf, -kInf};
    for (int64_t b = 0; b < n; b += kBlock) {
      const int m = static_cast<int>(std::min<int64_t>(kBlock, n - b));
      const Extremes be = bin_indices(x + b, m, scale, half, lower, upper, skip, idx);
      e.min = std::min(e.min, be.min);
      e.max = std::max(e.max, be.max);
      if (pending_ + m > kFlushAt) {
        touch(e);
        flush();
      }
      pending_ += m;
      int i = 0;
      for (; i + 4 <= m; i += 4) {
        ++s0[idx[i]];
        ++s1[idx[i + 1]];
        ++s2[idx[i + 2]];
        ++s3[idx[i + 3]];
      }
      for (; i < m; ++i) ++s0[idx[i]];
    }
    touch(e);
    return e;
  }

  // Adds the counts to `counts` (bins entries) and leaves the buffer all zeros.
  void fold_into(uint64_t* counts) {
    if (!overflow_.empty())
      for (int32_t k = lo_; k <= hi_; ++k) counts[k] += overflow_[static_cast<size_t>(k)];
    add_ways(counts);
    clear();
  }

 private:
  static constexpr int64_t kFlushAt = int64_t{1} << 31;  // below any 32-bit counter's limit

  // Widens the bins touched to those of the extremes `e`.
  void touch(Extremes e) {
    if (!e.any()) return;
    lo_ = std::min(lo_, bin_of(e.min, scale_, bins_ / 2));
    hi_ = std::max(hi_, bin_of(e.max, scale_, bins_ / 2));
  }

  // counts[k] += the sub-histograms' bin k, for the bins touched. Plain loops over arrays, so
  // they vectorize: a small tensor's cost is mostly this and clear().
  void add_ways(uint64_t* counts) const {
    if (lo_ > hi_) return;
    const size_t n = static_cast<size_t>(hi_ - lo_ + 1);
    uint64_t* out = counts + lo_;
    const uint32_t* s0 = sub_ + lo_;
    if (ways_ == 1) {
      for (size_t k = 0; k < n; ++k) out[k] += s0[k];
      return;
    }
    const uint32_t *s1 = s0 + stride_, *s2 = s1 + stride_, *s3 = s2 + stride_;
    for (size_t k = 0; k < n; ++k) out[k] += uint64_t{s0[k]} + s1[k] + s2[k] + s3[k];
  }

  void clear() {
    for (size_t w = 0; w < ways_; ++w) {
      uint32_t* s = sub_ + w * stride_;
      if (lo_ <= hi_) std::fill(s + lo_, s + hi_ + 1, 0u);
      s[bins_] = 0;
    }
  }

  // Only past 2^31 values in one task: the 32-bit counters move into 64-bit ones.
  void flush() {
    if (overflow_.empty()) overflow_.assign(stride_, 0);
    add_ways(overflow_.data());
    clear();
    pending_ = 0;
  }

  int32_t bins_;
  float scale_, lower_, upper_;
  size_t stride_;
  size_t ways_;
  int64_t pending_ = 0;
  uint32_t* sub_ = nullptr;
  int32_t lo_ = std::numeric_limits<int32_t>::max(), hi_ = -1;  // bins touched so far
  std::vector<uint64_t> overflow_;
};

int log2_exact(int bins) {
  int l = 0;
  while ((1 << l) < bins) ++l;
  return l;
}

}  // namespace

Extremes finite_extremes(std::span<const float> values, int threads) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1) return scan_extremes(values.data(), n);
  std::vector<Extremes> parts(static_cast<size_t>(chunks));
  parallel_for(chunks, threads, [&](int64_t c) {
    const int64_t begin = c * kChunk;
    parts[static_cast<size_t>(c)] = scan_extremes(values.data() + begin, std::min(kChunk, n - begin));
  });
  Extremes e{kInf, -kInf};
  for (const Extremes& p : parts) {
    e.min = std::min(e.min, p.min);
    e.max = std::max(e.max, p.max);
  }
  return e;
}

Histogram::Histogram(int bins) : counts_(static_cast<size_t>(bins), 0), min_(kInf), max_(-kInf) {
  if (bins < 8 || bins > (1 << 20) || (bins & (bins - 1)) != 0)
    fail(ExitCode::kInternal, "histogram bins must be a power of two in [8, 2^20], got " + std::to_string(bins));
}

uint64_t Histogram::total() const {
  uint64_t t = 0;
  for (uint64_t c : counts_) t += c;
  return t;
}

double Histogram::width() const { return std::ldexp(2.0, exponent_) / bins(); }

double Histogram::lower(int i) const { return (i - bins() / 2) * width(); }

void Histogram::grow_to(int exponent) {
  if (exponent <= exponent_) return;
  const int shift = exponent - exponent_;
  exponent_ = exponent;
  const int half = bins() / 2;
  std::vector<uint64_t> grown(counts_.size(), 0);
  for (int i = 0; i < bins(); ++i) {
    if (!counts_[i]) continue;
    const int k = i >= half ? i - half : half - 1 - i;
    const int k2 = shift >= 31 ? 0 : (k >> shift);
    grown[i >= half ? half + k2 : half - 1 - k2] += counts_[i];
  }
  counts_ = std::move(grown);
}

namespace {

// The exponent of the smallest power of two above |x|.
int exponent_above(float absmax) {
  if (!(absmax > 0.0f)) return Histogram::kMinExponent;
  int exp2 = 0;
  std::frexp(absmax, &exp2);  // 2^(exp2-1) <= absmax < 2^exp2
  return std::max(exp2, Histogram::kMinExponent);
}

}  // namespace

Extremes Histogram::count(std::span<const float> values, float lower, float upper, int threads) {
  const int32_t nbins = bins();
  const float scale = std::ldexp(1.0f, log2_exact(nbins) - 1 - exponent_);
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  // One task per thread takes fixed chunks as they come and adds its integer counts to the
  // total: sums of integers are exact, so the result is the same for any thread count and
  // any assignment of chunks, and each thread folds its sub-histograms once.
  const int64_t tasks = std::min<int64_t>(chunks, resolve_threads(threads));
  std::atomic<int64_t> next{0};
  std::mutex fold;
  Extremes all{kInf, -kInf};
  parallel_for(tasks, threads, [&](int64_t) {
    Binner binner(nbins, scale, lower, upper, n / tasks);
    Extremes e{kInf, -kInf};
    bool any = false;
    for (int64_t c; (c = next.fetch_add(1)) < chunks; any = true) {
      const int64_t begin = c * kChunk;
      const Extremes ce = binner.add(values.data() + begin, std::min(kChunk, n - begin));
      e.min = std::min(e.min, ce.min);
      e.max = std::max(e.max, ce.max);
    }
    if (!any) return;
    std::lock_guard lock(fold);
    binner.fold_into(counts_.data());
    all.min = std::min(all.min, e.min);
    all.max = std::max(all.max, e.max);
  });
  return all;
}

void Histogram::add(std::span<const float> values, Extremes extremes, int threads) {
  if (!extremes.any()) return;
  grow_to(exponent_above(std::max(std::fabs(extremes.min), std::fabs(extremes.max))));
  min_ = std::min(min_, extremes.min);
  max_ = std::max(max_, extremes.max);
  count(values, 0.0f, kInf, threads);
}

Extremes Histogram::add(std::span<const float> values, int threads) {
  if (empty()) {
    // No range yet: find it first.
    const Extremes e = finite_extremes(values, threads);
    add(values, e, threads);
    return e;
  }
  // One pass at the current range, finding the extremes as it counts; values beyond it (the
  // range grows, which is rare after the first samples) are counted in a second pass at the
  // grown range. Growing maps the first pass's counts exactly onto the bins they would have
  // had, so the result is binning everything at the final range.
  const float range = std::ldexp(1.0f, exponent_);
  const Extremes e = count(values, 0.0f, range, threads);
  if (!e.any()) return e;
  min_ = std::min(min_, e.min);
  max_ = std::max(max_, e.max);
  const float absmax = std::max(std::fabs(e.min), std::fabs(e.max));
  if (absmax >= range) {
    grow_to(exponent_above(absmax));
    count(values, range, kInf, threads);
  }
  return e;
}

void Histogram::merge(const Histogram& other) {
  if (other.bins() != bins())
    fail(ExitCode::kInternal, "merging histograms of different bin counts");
  if (other.empty()) return;
  Histogram o = other;
  o.grow_to(exponent_);
  grow_to(o.exponent_);
  for (int i = 0; i < bins(); ++i) counts_[i] += o.counts_[i];
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

std::vector<uint64_t> Histogram::magnitude_counts() const {
  const int half = bins() / 2;
  std::vector<uint64_t> m(static_cast<size_t>(half), 0);
  for (int k = 0; k < half; ++k) m[k] = counts_[half + k] + counts_[half - 1 - k];
  return m;
}

nlohmann::json Histogram::to_json() const {
  nlohmann::json j;
  j["exponent"] = exponent_;
  if (empty()) {
    j["min"] = nullptr;
    j["max"] = nullptr;
  } else {
    j["min"] = static_cast<double>(min_);
    j["max"] = static_cast<double>(max_);
  }
  int first = 0, last = bins();
  while (first < last && counts_[first] == 0) ++first;
  while (last > first && counts_[last - 1] == 0) --last;
  j["offset"] = first;
  j["counts"] = std::vector<uint64_t>(counts_.begin() + first, counts_.begin() + last);
  return j;
}

namespace {

[[noreturn]] void bad_state(const std::string& what) { fail(ExitCode::kInput, "histogram state: " + what); }

float float_field(const nlohmann::json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_number()) bad_state(std::string("'") + key + "' is not a number");
  const double d = v.get<double>();
  const float f = static_cast<float>(d);
  if (!std::isfinite(f) || static_cast<double>(f) != d) bad_state(std::string("'") + key + "' is not a finite float32");
  return f;
}

}  // namespace

Histogram Histogram::from_json(const nlohmann::json& j, int bins) {
  Histogram h(bins);
  if (!j.is_object()) bad_state("not an object");
  for (const char* key : {"exponent", "min", "max", "offset", "counts"})
    if (!j.contains(key)) bad_state(std::string("missing '") + key + "'");
  if (!j["exponent"].is_number_integer()) bad_state("'exponent' is not an integer");
  const int64_t e = j["exponent"].get<int64_t>();
  if (e < kMinExponent || e > 129) bad_state("'exponent' " + std::to_string(e) + " out of range");
  h.exponent_ = static_cast<int>(e);
  const auto& counts = j["counts"];
  if (!j["offset"].is_number_integer() || !counts.is_array()) bad_state("'offset' or 'counts' malformed");
  const int64_t offset = j["offset"].get<int64_t>();
  if (offset < 0 || offset + static_cast<int64_t>(counts.size()) > bins)
    bad_state("counts do not fit " + std::to_string(bins) + " bins");
  for (size_t i = 0; i < counts.size(); ++i) {
    if (!counts[i].is_number_unsigned() && !(counts[i].is_number_integer() && counts[i].get<int64_t>() >= 0))
      bad_state("a count is not a non-negative integer");
    h.counts_[static_cast<size_t>(offset) + i] = counts[i].get<uint64_t>();
  }
  if (j["min"].is_null() != j["max"].is_null()) bad_state("only one of 'min' and 'max' is null");
  if (!j["min"].is_null()) {
    h.min_ = float_field(j, "min");
    h.max_ = float_field(j, "max");
    if (h.min_ > h.max_) bad_state("'min' above 'max'");
  } else if (h.total() != 0) {
    bad_state("counts without 'min' and 'max'");
  }
  return h;
}

}  // namespace onnxq::calib
