// --refine K: Lloyd-Max iterations on the sorted values. Members of a code are a contiguous range
// of the sorted values, so an iteration is a binary search per threshold and a sum per range
// (from block prefix sums): independent of the tensor's size after one pass.
#include <algorithm>

#include "ewq/codebook_methods.hpp"

namespace onnxq {
namespace {

// Sums of ranges of the sorted values: prefix sums every `block` values (at most 2^16 of them,
// every value for groups up to that size), the rest added up.
class RangeSums {
 public:
  explicit RangeSums(std::span<const float> sorted) : v_(sorted) {
    while (sorted.size() / block_ > (size_t{1} << 16)) block_ *= 2;
    prefix_.assign(sorted.size() / block_ + 1, 0.0);
    double s = 0;
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i % block_ == 0) prefix_[i / block_] = s;
      s += sorted[i];
    }
    if (sorted.size() % block_ == 0) prefix_.back() = s;
  }
  double prefix(size_t i) const {
    double s = prefix_[i / block_];
    for (size_t j = i / block_ * block_; j < i; ++j) s += v_[j];
    return s;
  }

 private:
  std::span<const float> v_;
  size_t block_ = 1;
  std::vector<double> prefix_;
};

// cuts[k]: how many values are at or below thresholds[k] (the end of code k's range).
std::vector<size_t> cuts_of(std::span<const float> sorted, const std::vector<float>& thresholds) {
  std::vector<size_t> cuts;
  cuts.reserve(thresholds.size());
  if (sorted.size() <= 16 * thresholds.size()) {
    // A few values per code (a channel): one walk beats a binary search per threshold.
    size_t i = 0;
    for (const float t : thresholds) {
      while (i < sorted.size() && sorted[i] <= t) ++i;
      cuts.push_back(i);
    }
    return cuts;
  }
  auto from = sorted.begin();
  for (const float t : thresholds) {
    from = std::upper_bound(from, sorted.end(), t);
    cuts.push_back(static_cast<size_t>(from - sorted.begin()));
  }
  return cuts;
}

}  // namespace

Codebook lloyd_refine(std::span<const float> sorted, Codebook start, int iterations, std::vector<double>* sse_trace) {
  if (sse_trace) sse_trace->push_back(sorted_squared_error(sorted, start));
  if (start.exact || start.values.size() < 2 || iterations <= 0) return start;
  const RangeSums sums(sorted);
  std::vector<float> values = start.values;
  std::vector<size_t> previous = cuts_of(sorted, start.thresholds);
  int ran = 0;
  for (int it = 0; it < iterations; ++it) {
    const std::vector<size_t> cuts = cuts_of(sorted, midpoint_thresholds(values));
    if (cuts == previous) break;  // nobody changes code: the means are what they were
    size_t begin = 0;
    for (size_t k = 0; k < values.size(); ++k) {
      const size_t end = k < cuts.size() ? cuts[k] : sorted.size();
      // A code nobody is nearest to keeps its value (and is dropped at the end).
      if (end > begin)
        values[k] = static_cast<float>((sums.prefix(end) - sums.prefix(begin)) / static_cast<double>(end - begin));
      begin = end;
    }
    previous = cuts;
    ++ran;
    if (sse_trace) {
      Codebook now;
      now.values = values;
      now.thresholds = midpoint_thresholds(values);
      sse_trace->push_back(sorted_squared_error(sorted, now));
    }
  }
  // Drop codes with no members; the others keep exactly their members.
  const std::vector<size_t> cuts = cuts_of(sorted, midpoint_thresholds(values));
  Codebook out;
  size_t begin = 0;
  for (size_t k = 0; k < values.size(); ++k) {
    const size_t end = k < cuts.size() ? cuts[k] : sorted.size();
    if (end > begin) out.values.push_back(values[k]);
    begin = end;
  }
  out.thresholds = midpoint_thresholds(out.values);
  out.refine_iterations = ran;
  return out;
}

}  // namespace onnxq
