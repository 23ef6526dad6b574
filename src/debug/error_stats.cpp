#include "debug/error_stats.hpp"

#include <cmath>
#include <limits>

namespace onnxq::debug {

void ErrorStats::add(const float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double a = x[i], b = y[i], d = a - b;
    sum_x2 += a * a;
    sum_y2 += b * b;
    sum_xy += a * b;
    sum_d2 += d * d;
    if (std::abs(d) > max_abs || std::isnan(d)) max_abs = std::isnan(d) ? std::numeric_limits<double>::quiet_NaN() : std::abs(d);
  }
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
