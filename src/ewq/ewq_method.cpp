// --method ewq: equal-count bins, as seed 000's guide defines them (numpy array_split of the
// sorted values, each bin's mean), with equal values kept in one bin.
#include <algorithm>

#include "ewq/codebook_methods.hpp"

namespace onnxq {

Codebook equal_count_codebook(std::span<const float> sorted, int bins) {
  const size_t n = sorted.size();
  if (n == 0 || bins < 1) return {};
  const size_t q = n / bins, r = n % bins;
  // Each nominal bin's largest member: a bin then holds every value up to it, so a run of equal
  // values straddling a cut stays below it, and a bin whose values all went below is empty.
  Codebook c;
  size_t end = 0;
  for (int k = 0; k + 1 < bins; ++k) {
    end += q + (static_cast<size_t>(k) < r ? 1 : 0);
    if (end == 0) continue;
    const float upper = sorted[end - 1];
    if (!(upper < sorted[n - 1])) break;
    if (!c.thresholds.empty() && !(c.thresholds.back() < upper)) continue;
    c.thresholds.push_back(upper);
  }
  size_t begin = 0;
  for (size_t k = 0; k <= c.thresholds.size(); ++k) {
    const size_t stop = k < c.thresholds.size()
                            ? static_cast<size_t>(std::upper_bound(sorted.begin() + begin, sorted.end(), c.thresholds[k]) -
                                                  sorted.begin())
                            : n;
    double sum = 0;
    for (size_t i = begin; i < stop; ++i) sum += sorted[i];
    c.values.push_back(static_cast<float>(sum / static_cast<double>(stop - begin)));
    begin = stop;
  }
  return c;
}

void register_ewq_method(CodebookMethodRegistry& registry) {
  registry.add({CodebookMethod::kEwq, "ewq", true,
                [](std::span<const float>, std::span<const float> sorted, int bins) {
                  return equal_count_codebook(sorted, bins);
                }});
}

}  // namespace onnxq
