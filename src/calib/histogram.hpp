#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace onnxq::calib {

// Smallest and largest finite value of a buffer; min > max when there is none.
struct Extremes {
  float min;
  float max;
  bool any() const { return min <= max; }
};
Extremes finite_extremes(std::span<const float> values, int threads);

// A histogram of float values over [-R, R), R = 2^exponent, with a fixed power-of-two
// number of bins, binned by magnitude: with w = 2R/bins and k = floor(|x|/w), a value goes
// to bin bins/2 + k when x >= 0 and to bin bins/2 - 1 - k when x < 0. Positive bins cover
// [kw, (k+1)w), negative ones (-(k+1)w, -kw], so |x| folds onto the same grid exactly.
//
// R grows (never shrinks) to the smallest power of two above every |x| seen. Doubling R
// maps magnitude index k to k/2 (floor), which is exactly the bin the value would get if
// binned at the larger R, because scaling by a power of two is exact in floating point.
// So the counts depend only on the multiset of values: any order of samples, any sharding,
// any merge order gives the same bits.
class Histogram {
 public:
  static constexpr int kMinExponent = -100;  // R >= 2^-100: smaller data all lands in bin 0

  explicit Histogram(int bins);

  // Adds the finite values of `values`; `extremes` must be finite_extremes(values).
  void add(std::span<const float> values, Extremes extremes, int threads);
  // The same, finding the extremes while counting (one pass over the data unless the range
  // grows); returns them.
  Extremes add(std::span<const float> values, int threads);
  void merge(const Histogram& other);

  int bins() const { return static_cast<int>(counts_.size()); }
  int exponent() const { return exponent_; }
  bool empty() const { return !(min_ <= max_); }
  float min() const { return min_; }
  float max() const { return max_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t total() const;

  // Bin width, and bin i's lower and upper end and center (exact in double).
  double width() const;
  double lower(int i) const;
  double upper(int i) const { return lower(i) + width(); }
  double center(int i) const { return lower(i) + 0.5 * width(); }
  // The end of bin i nearest zero: the value ORT's left-edge convention gives a value that
  // sits exactly on the grid.
  double toward_zero(int i) const { return i >= bins() / 2 ? lower(i) : upper(i); }

  // Counts of |x|: bins()/2 bins over [0, R), bin k = [kw, (k+1)w).
  std::vector<uint64_t> magnitude_counts() const;

  // {"exponent", "min", "max", "offset", "counts"}: counts from the first to the last
  // non-zero bin, starting at bin `offset`.
  nlohmann::json to_json() const;
  // kInput (message without file context) on anything malformed or a bin count mismatch.
  static Histogram from_json(const nlohmann::json& j, int bins);

 private:
  void grow_to(int exponent);
  // Counts the finite values with |x| in [lower, upper) at the current range (every value
  // must be below it); returns the extremes of all finite values.
  Extremes count(std::span<const float> values, float lower, float upper, int threads);

  int exponent_ = kMinExponent;
  std::vector<uint64_t> counts_;
  float min_;
  float max_;
};

}  // namespace onnxq::calib
