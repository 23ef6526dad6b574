#include "debug/error_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace onnxq::debug {

void ErrorStats::add(const float* x, const float* y, int64_t n) {
  // Four interleaved partial sums, combined in a fixed order: the result depends only on the
  // data, and the loop vectorizes.
  double x2[4] = {}, y2[4] = {}, xy[4] = {}, d2[4] = {}, mx[4] = {};
  bool nan = false;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) {
      const double a = x[i + k], b = y[i + k], d = a - b;
      x2[k] += a * a;
      y2[k] += b * b;
      xy[k] += a * b;
      d2[k] += d * d;
      mx[k] = std::max(mx[k], std::abs(d));
      nan |= d != d;
    }
  for (int k = 0; i < n; ++i, ++k) {
    const double a = x[i], b = y[i], d = a - b;
    x2[k] += a * a;
    y2[k] += b * b;
    xy[k] += a * b;
    d2[k] += d * d;
    mx[k] = std::max(mx[k], std::abs(d));
    nan |= d != d;
  }
  sum_x2 += (x2[0] + x2[1]) + (x2[2] + x2[3]);
  sum_y2 += (y2[0] + y2[1]) + (y2[2] + y2[3]);
  sum_xy += (xy[0] + xy[1]) + (xy[2] + xy[3]);
  sum_d2 += (d2[0] + d2[1]) + (d2[2] + d2[3]);
  max_abs = std::max({max_abs, mx[0], mx[1], mx[2], mx[3]});
  if (nan) max_abs = std::numeric_limits<double>::quiet_NaN();
  count += n;
}

double ErrorStats::sqnr_db() const {
  if (sum_d2 == 0) return std::numeric_limits<double>::infinity();
  if (sum_x2 == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sum_x2 / sum_d2);
}

double ErrorStats::cosine() const {
  if (sum_x2 == 0 && sum_y2 == 0) return 1.0;
  if (sum_x2 == 0 || sum_y2 == 0) return 0.0;
  return sum_xy / std::sqrt(sum_x2 * sum_y2);
}

}  // namespace onnxq::debug
