#pragma once

// Vectorizable building blocks for the row kernels (softmax, normalizations): sums kept in
// a fixed number of interleaved partial sums, combined in a fixed order, so the compiler
// can use SIMD without -ffast-math and results still never depend on threads.

#include <cmath>
#include <cstdint>
#include <limits>

namespace onnxq::exec {

inline constexpr int kLanes = 8;

// Sum of f(i) for i in [0, n), in double.
template <class F>
double lane_sum(int64_t n, F f) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += static_cast<double>(f(i + j));
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(f(i));
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

// Maximum of floats x[0, n), NaN ignored; -inf for an empty or all-NaN range.
template <class T>
T lane_max(const T* x, int64_t n) {
  T acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  T m = acc[0];
  for (int j = 1; j < kLanes; ++j) m = acc[j] > m ? acc[j] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

}  // namespace onnxq::exec
