#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "ewq/codebook_methods.hpp"
#include "ewq/group_coder.hpp"

namespace onnxq {
CodeSearch::CodeSearch(const std::vector<float>& thresholds) {
  size_t size = 1;
  while (size < thresholds.size() + 1) size *= 2;
  t_.assign(size, std::numeric_limits<float>::infinity());
  std::copy(thresholds.begin(), thresholds.end(), t_.begin());
}

uint8_t Codebook::code(float x) const {
  return static_cast<uint8_t>(std::lower_bound(thresholds.begin(), thresholds.end(), x) - thresholds.begin());
}

void assign_codes(std::span<const float> values, const Codebook& codebook, uint8_t* codes) {
  const CodeSearch padded(codebook.thresholds);
  for (size_t i = 0; i < values.size(); ++i) codes[i] = padded.code(values[i]);
}

double codebook_squared_error(std::span<const float> values, const Codebook& codebook) {
  const CodeSearch padded(codebook.thresholds);
  double e = 0;
  for (const float x : values) {
    const double d = static_cast<double>(x) - codebook.values[padded.code(x)];
    e += d * d;
  }
  return e;
}

Codebook build_codebook(std::span<const float> values, const CodebookOptions& options) {
  GroupScratch scratch;
  TensorSink discard;
  return code_group(ValueChunks(values), options, false, scratch, discard).codebook;
}

CodeTable::CodeTable(const Codebook& codebook)
    : search_(codebook.thresholds), table_(65537), split_(65536, std::numeric_limits<float>::infinity()) {
  // Buckets ascend with their keys, so the codes of their ends are two merges with the thresholds.
  // Finite values never land in the buckets of NaN and infinity, whatever the table says there.
  const std::vector<float>& t = codebook.thresholds;
  size_t lo = 0, hi = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    const float first = key_float(b << 16), last = key_float((b << 16) | 0xFFFFu);
    while (lo < t.size() && t[lo] < first) ++lo;
    while (hi < t.size() && t[hi] < last) ++hi;
    table_[b] = hi > lo + 1 ? kSearch : static_cast<uint16_t>(lo);
    if (hi == lo + 1) split_[b] = t[lo];
  }
}

double sorted_squared_error(std::span<const float> sorted, const Codebook& c) {
  // Four partial sums in a fixed pattern: the adds overlap and the result depends on nothing else.
  double e[4] = {0, 0, 0, 0};
  size_t begin = 0;
  auto from = sorted.begin();
  for (size_t k = 0; k < c.values.size(); ++k) {
    size_t end = sorted.size();
    if (k < c.thresholds.size()) {
      from = std::upper_bound(from, sorted.end(), c.thresholds[k]);
      end = static_cast<size_t>(from - sorted.begin());
    }
    const double v = c.values[k];
    for (size_t i = begin; i < end; ++i) {
      const double d = static_cast<double>(sorted[i]) - v;
      e[i & 3] += d * d;
    }
    begin = end;
  }
  return (e[0] + e[1]) + (e[2] + e[3]);
}

double weight_entropy_bits(std::span<const float> values) {
  if (values.empty()) return 0;
  const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
  if (!(*mn < *mx)) return 0;
  constexpr int kBins = 256;
  std::vector<int64_t> hist(kBins, 0);
  const double lo = *mn, scale = kBins / (static_cast<double>(*mx) - lo);
  for (const float x : values) ++hist[std::min(kBins - 1, static_cast<int>((x - lo) * scale))];
  double h = 0;
  const double n = static_cast<double>(values.size());
  for (const int64_t c : hist)
    if (c) h -= (c / n) * std::log2(c / n);
  return h;
}

}  // namespace onnxq
