#pragma once

#include <cstdint>

namespace onnxq::debug {

// Running sums of a reference x against an approximation y, in double, added to in a fixed
// order, so that SQNR and cosine over all samples need no sample kept.
struct ErrorStats {
  double sum_x2 = 0, sum_y2 = 0, sum_xy = 0, sum_d2 = 0, max_abs = 0;
  int64_t count = 0;

  void add(const float* x, const float* y, int64_t n);
  // 10 log10(Σx² / Σ(x − y)²): +inf when equal, −inf when x is all zero and y is not.
  double sqnr_db() const;
  // Σxy / √(Σx² Σy²); 1 when both are all zero.
  double cosine() const;
};

}  // namespace onnxq::debug
