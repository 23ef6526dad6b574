// The kernels run in the widest form the CPU has; these compare them with the plain rules, value by
// value and lane by lane, so every width must give the same bits.
#include "ewq/code_kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ewq/codebook_methods.hpp"
#include "onnxq/quant_math.hpp"

namespace onnxq {
namespace {

std::vector<float> spread(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = lo + static_cast<float>(rng() / 4294967296.0) * (hi - lo);
  return v;
}

TEST(CodeKernels, EqualWidthBinsFollowNumpyDigitizeOnEdgesAndExtremes) {
  const int bins = 10;
  const float lo = -1.0f, hi = 1.5f;
  std::vector<double> edges(bins + 1);
  for (int k = 0; k <= bins; ++k) edges[k] = lo + k * ((static_cast<double>(hi) - lo) / bins);
  std::vector<float> above(bins + 1, -INFINITY);
  for (int k = 1; k < bins; ++k) above[k] = float_below(edges[k]);
  above[bins] = INFINITY;
  std::vector<float> v = spread(1001, 1, lo, hi);  // an odd count: the scalar tail runs too
  v[0] = lo;
  v[1] = hi;
  for (int k = 1; k < bins; ++k) {  // on each edge and the floats either side of it
    const auto e = static_cast<float>(edges[k]);
    v[10 * k] = e;
    v[10 * k + 1] = std::nextafter(e, -INFINITY);
    v[10 * k + 2] = std::nextafter(e, INFINITY);
  }
  std::vector<uint8_t> got(v.size());
  equal_width_bins(v.data(), static_cast<int64_t>(v.size()), lo, static_cast<float>(bins / (static_cast<double>(hi) - lo)),
                   bins, above.data(), got.data());
  for (size_t i = 0; i < v.size(); ++i) {
    // digitize: the last edge at or below x, in double; the maximum in the last bin.
    int expected = 0;
    while (expected + 1 < bins && static_cast<double>(v[i]) >= edges[expected + 1]) ++expected;
    EXPECT_EQ(got[i], expected) << "x = " << v[i];
  }
}

TEST(CodeKernels, UniformErrorAddsQuantizeValuesErrorLaneByLane) {
  const std::vector<float> v = spread(1000 + 7, 2, -0.3f, 0.7f);
  const float scale8 = 0.7f / 127, scale4 = 0.7f / 7;
  double signal[kCodeLanes] = {}, err8[kCodeLanes] = {}, err4[kCodeLanes] = {};
  uniform_error(v.data(), static_cast<int64_t>(v.size()), scale8, 127.0f, signal, err8, scale4, 7.0f, err4);
  double s[kCodeLanes] = {}, e8[kCodeLanes] = {}, e4[kCodeLanes] = {};
  const QuantParams p8{scale8, 0}, p4{scale4, 0};
  for (size_t i = 0; i < v.size(); ++i) {
    const double x = v[i];
    const double d8 = x - dequantize_value(quantize_value(v[i], p8, {-127, 127}), p8);
    const double d4 = x - dequantize_value(quantize_value(v[i], p4, {-7, 7}), p4);
    s[i % kCodeLanes] += x * x;
    e8[i % kCodeLanes] += d8 * d8;
    e4[i % kCodeLanes] += d4 * d4;
  }
  for (int j = 0; j < kCodeLanes; ++j) {
    EXPECT_EQ(signal[j], s[j]) << "lane " << j;
    EXPECT_EQ(err8[j], e8[j]) << "lane " << j;
    EXPECT_EQ(err4[j], e4[j]) << "lane " << j;
  }
}

TEST(CodeTable, CodesAVectorAsCodebookCodeDoesIncludingBucketsSplitByManyThresholds) {
  // Thresholds a few ulps apart share a 16-bit key bucket (searched); the others sit alone.
  Codebook c;
  float t = 1.0f;
  for (int k = 0; k < 20; ++k) c.thresholds.push_back(t = std::nextafter(t, 2.0f));
  for (int k = 1; k <= 40; ++k) c.thresholds.push_back(1.0f + 0.05f * static_cast<float>(k));
  c.values.assign(c.thresholds.size() + 1, 0.0f);
  std::vector<float> v = spread(4099, 4, 0.5f, 3.5f);
  for (size_t i = 0; i < 200; ++i) v[1000 + 7 * i] = std::nextafter(1.0f, 2.0f) + static_cast<float>(i % 30) * 1e-7f;
  std::vector<uint8_t> got(v.size());
  CodeTable(c).codes(v.data(), static_cast<int64_t>(v.size()), got.data());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(got[i], c.code(v[i])) << "x = " << v[i];
}

TEST(CodeKernels, ScanExtremesFindsMinMaxAndAnyNonFiniteValue) {
  std::vector<float> v = spread(999, 3, -2.0f, 3.0f);
  v[500] = -7.5f;
  v[998] = 9.25f;  // in the scalar tail
  float lo = INFINITY, hi = -INFINITY;
  bool finite = true;
  scan_extremes(v.data(), static_cast<int64_t>(v.size()), lo, hi, finite);
  EXPECT_EQ(lo, -7.5f);
  EXPECT_EQ(hi, 9.25f);
  EXPECT_TRUE(finite);
  for (const size_t at : {size_t{3}, size_t{997}}) {
    std::vector<float> w = v;
    w[at] = INFINITY;
    bool f = true;
    scan_extremes(w.data(), static_cast<int64_t>(w.size()), lo, hi, f);
    EXPECT_FALSE(f) << at;
  }
}

}  // namespace
}  // namespace onnxq
