#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "ewq/codebook_methods.hpp"

namespace onnxq {
namespace {

bool all_finite(std::span<const float> values) {
  uint32_t bad = 0;
  for (const float v : values) bad |= ((std::bit_cast<uint32_t>(v) & 0x7F800000u) == 0x7F800000u) ? 1u : 0u;
  return bad == 0;
}

}  // namespace

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
  return build_codebook_with_start(values, options, nullptr);
}

Codebook build_codebook_with_start(std::span<const float> values, const CodebookOptions& options, Codebook* start) {
  if (options.bins < 2 || options.bins > 256)
    fail(ExitCode::kUsage, "--bins must be 2 to 256, not " + std::to_string(options.bins));
  if (!all_finite(values)) fail(ExitCode::kInput, "holds a NaN or infinite value");
  if (values.empty()) return {};
  std::vector<float> distinct = distinct_values_up_to(values, options.bins);
  if (!distinct.empty()) return exact_codebook(std::move(distinct));
  const CodebookMethodEntry& method = codebook_methods().get(options.method);
  std::vector<float> sorted;
  if (method.needs_sorted || options.refine > 0) sorted = sorted_copy(values);
  Codebook c = method.start(values, sorted, options.bins);
  if (options.refine > 0) {
    if (start) *start = c;
    c = lloyd_refine(sorted, std::move(c), options.refine);
  }
  return c;
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
