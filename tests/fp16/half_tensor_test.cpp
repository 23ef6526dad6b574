#include "fp16/half_tensor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "onnxq/float16.hpp"

namespace onnxq {
namespace {

// Weights-like values with every case the conversion treats apart sprinkled in: values to
// clamp (tiny and huge), NaN, ±inf, ±0, half ties and subnormals, over several chunks and a tail.
std::vector<float> awkward_values(int64_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = normal(rng);
  const float specials[] = {1e-9f, -3e-8f, 7e4f, -1e6f, std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0.0f,
                            -0.0f, 1.0f + 1.0f / 2048, 6.1e-5f, 3e-6f, 65504.0f, 65519.0f};
  for (size_t k = 0; k < std::size(specials); ++k) v[static_cast<size_t>((k * 7919 + 13) % n)] = specials[k];
  return v;
}

TEST(HalfTensor, TheVectorAndScalarPathsGiveTheSameBitsAndTheSameStats) {
  const int64_t n = 3 * 65536 + 1234;
  const auto x = awkward_values(n);
  for (bool bf16 : {false, true}) {
    Fp16Options o;
    o.bfloat16 = bf16;
    std::vector<uint16_t> a(x.size()), b(x.size());
    fp16::HalfStats sa, sb;
    fp16::to_half_values(x.data(), a.data(), n, o, &sa, true);
    fp16::to_half_values(x.data(), b.data(), n, o, &sb, false);
    EXPECT_EQ(a, b);
    EXPECT_EQ(sa.clamped, sb.clamped);
    EXPECT_EQ(sa.large, sb.large);
    EXPECT_EQ(std::memcmp(&sa.sqnr_db, &sb.sqnr_db, sizeof(double)), 0) << sa.sqnr_db << " vs " << sb.sqnr_db;
  }
}

TEST(HalfTensor, EachValueIsTheScalarConversionOfItsClampedSelf) {
  const int64_t n = 65536 + 77;
  const auto x = awkward_values(n);
  Fp16Options o;
  std::vector<uint16_t> y(x.size());
  fp16::HalfStats s;
  fp16::to_half_values(x.data(), y.data(), n, o, &s, true);
  int64_t clamped = 0, large = 0;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    const float a = std::fabs(v);
    if (a > 0 && a < o.min_positive_val) v = std::copysign(o.min_positive_val, v), ++clamped;
    if (std::isfinite(a) && a > o.max_finite_val) v = std::copysign(o.max_finite_val, v), ++clamped, ++large;
    ASSERT_EQ(y[i], float_to_half(v)) << "value " << i << " = " << x[i];
  }
  EXPECT_EQ(s.clamped, clamped);
  EXPECT_EQ(s.large, large);
  EXPECT_EQ(large, 3);  // 7e4, -1e6 and 65519 (clamped before rounding, not rounded to 65504)
}

TEST(HalfTensor, TheThreadCountChangesNothing) {
  const int64_t n = 5 * 65536 + 3;
  const auto x = awkward_values(n);
  std::vector<uint16_t> one(x.size()), many(x.size());
  fp16::HalfStats s1, s4;
  Fp16Options o;
  o.threads = 1;
  fp16::to_half_values(x.data(), one.data(), n, o, &s1, true);
  o.threads = 4;
  fp16::to_half_values(x.data(), many.data(), n, o, &s4, true);
  EXPECT_EQ(one, many);
  EXPECT_EQ(std::memcmp(&s1.sqnr_db, &s4.sqnr_db, sizeof(double)), 0);
}

}  // namespace
}  // namespace onnxq
