// --method fastewq: equal-width bins over [min, max], one pass, no sort (seed 000's histogram
// variant: numpy histogram edges, digitize, each bin's mean); empty bins are dropped.
#include <algorithm>
#include <cmath>

#include "ewq/codebook_methods.hpp"

namespace onnxq {

Codebook equal_width_codebook(std::span<const float> values, int bins) {
  if (values.empty() || bins < 1) return {};
  // Eight independent lanes, so the compiler can keep them in one vector register.
  float mins[8], maxs[8];
  std::fill(mins, mins + 8, values[0]);
  std::fill(maxs, maxs + 8, values[0]);
  size_t i = 0;
  for (; i + 8 <= values.size(); i += 8)
    for (int l = 0; l < 8; ++l) {
      mins[l] = std::min(mins[l], values[i + l]);
      maxs[l] = std::max(maxs[l], values[i + l]);
    }
  for (; i < values.size(); ++i) {
    mins[0] = std::min(mins[0], values[i]);
    maxs[0] = std::max(maxs[0], values[i]);
  }
  const float min_value = *std::min_element(mins, mins + 8), max_value = *std::max_element(maxs, maxs + 8);
  const double lo = min_value, hi = max_value;
  if (lo == hi) return exact_codebook({min_value});
  const double width = (hi - lo) / bins;
  std::vector<double> edges(bins + 1);
  for (int k = 0; k <= bins; ++k) edges[k] = lo + k * width;
  // x is in bin b or above iff x > above[b] (x >= edges[b]); the float guess below is off by at
  // most one next to an edge, and the thresholds decide.
  std::vector<float> above(bins + 1);
  for (int k = 1; k < bins; ++k) above[k] = float_below(edges[k]);
  const float lof = min_value, inv = static_cast<float>(bins / (hi - lo));
  // Four interleaved sets of sums: consecutive values in one bin don't wait on each other.
  std::vector<double> sums(4 * static_cast<size_t>(bins), 0.0);
  std::vector<int64_t> counts(4 * static_cast<size_t>(bins), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    const float x = values[i];
    const float g = (x - lof) * inv;
    int b = g < 0.0f ? 0 : g >= static_cast<float>(bins) ? bins - 1 : static_cast<int>(g);
    if (b > 0 && !(x > above[b])) --b;
    if (b + 1 < bins && x > above[b + 1]) ++b;
    const size_t slot = (i & 3) * bins + b;
    sums[slot] += x;
    ++counts[slot];
  }
  std::vector<double> sum(bins, 0.0);
  std::vector<int64_t> count(bins, 0);
  for (int lane = 0; lane < 4; ++lane)
    for (int k = 0; k < bins; ++k) {
      sum[k] += sums[lane * bins + k];
      count[k] += counts[lane * bins + k];
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
