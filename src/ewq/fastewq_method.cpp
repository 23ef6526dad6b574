// --method fastewq: equal-width bins over [min, max], one pass, no sort (seed 000's histogram
// variant: numpy histogram edges, digitize, each bin's mean); empty bins are dropped.
#include <algorithm>
#include <cmath>

#include "ewq/codebook_methods.hpp"

namespace onnxq {

Codebook equal_width_codebook(std::span<const float> values, int bins) {
  if (values.empty() || bins < 1) return {};
  const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
  const double lo = *mn, hi = *mx;
  if (lo == hi) return exact_codebook({*mn});
  const double width = (hi - lo) / bins;
  std::vector<double> edges(bins + 1);
  for (int k = 0; k <= bins; ++k) edges[k] = lo + k * width;
  std::vector<double> sum(bins, 0.0);
  std::vector<int64_t> count(bins, 0);
  const double inv = 1.0 / width;
  for (const float x : values) {
    // The division's guess is off by at most one next to an edge; the edges decide.
    int b = std::clamp(static_cast<int>((x - lo) * inv), 0, bins - 1);
    if (b > 0 && x < edges[b]) --b;
    if (b + 1 < bins && x >= edges[b + 1]) ++b;
    sum[b] += x;
    ++count[b];
  }
  Codebook c;
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    if (!c.values.empty()) c.thresholds.push_back(float_below(edges[b]));
    c.values.push_back(static_cast<float>(sum[b] / static_cast<double>(count[b])));
  }
  return c;
}

void register_fastewq_method(CodebookMethodRegistry& registry) {
  registry.add({CodebookMethod::kFastEwq, "fastewq", false,
                [](std::span<const float> values, std::span<const float>, int bins) {
                  return equal_width_codebook(values, bins);
                }});
}

}  // namespace onnxq
