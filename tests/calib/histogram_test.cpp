#include "calib/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "calib/calib_data.hpp"

namespace onnxq::calib {
namespace {

Histogram histogram_of(const std::vector<float>& v, int bins = 2048, int threads = 1) {
  Histogram h(bins);
  h.add(v, finite_extremes(v, threads), threads);
  return h;
}

void add(Histogram& h, const std::vector<float>& v) { h.add(v, finite_extremes(v, 1), 1); }

TEST(Histogram, ValuesLandInTheBinOfTheirMagnitudeOnTheirSide) {
  // Largest |x| is 1.5, so R = 2 and 8 bins are 0.5 wide: [-2,-1.5] .. (-0.5,0] [0,0.5) .. [1.5,2).
  Histogram h = histogram_of({0.5f, -0.5f, 1.5f, 0.0f, -0.25f, 0.25f}, 8);
  EXPECT_EQ(h.exponent(), 1);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{0, 0, 1, 1, 2, 1, 0, 1}));
  EXPECT_EQ(h.min(), -0.5f);
  EXPECT_EQ(h.max(), 1.5f);
  EXPECT_EQ(h.magnitude_counts(), (std::vector<uint64_t>{3, 2, 0, 1}));
  EXPECT_EQ(h.toward_zero(2), -0.5);  // bin (-1, -0.5]
  EXPECT_EQ(h.toward_zero(5), 0.5);   // bin [0.5, 1)
}

TEST(Histogram, APowerOfTwoValueOpensTheNextRange) {
  Histogram h = histogram_of({1.0f}, 8);
  EXPECT_EQ(h.exponent(), 1);  // R = 2 > 1
  EXPECT_EQ(h.counts()[6], 1u);
}

TEST(Histogram, NaNAndInfinityAreSkipped) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  Histogram h = histogram_of({nan, 1.0f, -inf, inf, -3.0f, nan}, 8);
  EXPECT_EQ(h.total(), 2u);
  EXPECT_EQ(h.min(), -3.0f);
  EXPECT_EQ(h.max(), 1.0f);
  Histogram none = histogram_of({nan, inf}, 8);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.total(), 0u);
}

TEST(Histogram, GrowingTheRangeGivesTheCountsOfBinningAtTheFinalRangeDirectly) {
  const auto small = test::gaussian(5000, 1, 0.0f, 0.01f);
  const auto large = test::gaussian(5000, 2, 0.0f, 300.0f);
  Histogram grown(2048);
  add(grown, small);
  add(grown, large);
  std::vector<float> all = small;
  all.insert(all.end(), large.begin(), large.end());
  const Histogram direct = histogram_of(all);
  EXPECT_EQ(grown.exponent(), direct.exponent());
  EXPECT_EQ(grown.counts(), direct.counts());
}

TEST(Histogram, MergingTwoHalvesGivesTheCountsOfObservingEverything) {
  const auto a = test::gaussian(20000, 3, 1.0f, 2.0f);
  const auto b = test::laplace(20000, 4, 7.0f);
  Histogram ha = histogram_of(a), hb = histogram_of(b);
  ha.merge(hb);
  Histogram both(2048);
  add(both, a);
  add(both, b);
  EXPECT_EQ(ha.counts(), both.counts());
  EXPECT_EQ(ha.exponent(), both.exponent());
  EXPECT_EQ(ha.min(), both.min());
  EXPECT_EQ(ha.max(), both.max());
}

TEST(Histogram, MergingInAnyOrderGivesTheSameCounts) {
  const Histogram a = histogram_of(test::gaussian(10000, 5, 0.0f, 0.001f));
  const Histogram b = histogram_of(test::uniform(10000, 6, -40.0f, 3.0f));
  const Histogram c = histogram_of(test::laplace(10000, 7, 0.5f));
  Histogram abc = a;
  abc.merge(b);
  abc.merge(c);
  Histogram cab = c;
  cab.merge(a);
  cab.merge(b);
  Histogram bc = b;
  bc.merge(c);
  Histogram a_bc = a;
  a_bc.merge(bc);
  EXPECT_EQ(abc.counts(), cab.counts());
  EXPECT_EQ(abc.counts(), a_bc.counts());
  EXPECT_EQ(abc.exponent(), cab.exponent());
  EXPECT_EQ(abc.total(), 30000u);
}

TEST(Histogram, CountsAreTheSameForAnyThreadCount) {
  const auto v = test::gaussian(1500000, 8, 0.3f, 1.5f);  // several chunks
  const Histogram one = histogram_of(v, 8192, 1);
  for (int threads : {2, 7}) {
    const Histogram h = histogram_of(v, 8192, threads);
    EXPECT_EQ(h.counts(), one.counts()) << threads;
    EXPECT_EQ(h.min(), one.min());
    EXPECT_EQ(h.max(), one.max());
  }
  EXPECT_EQ(one.total(), v.size());
}

// The bin of the header's rule, one value at a time.
std::vector<uint64_t> counted_one_by_one(const std::vector<float>& v, const Histogram& h) {
  std::vector<uint64_t> counts(static_cast<size_t>(h.bins()), 0);
  const double w = h.width();
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    const int k = static_cast<int>(std::floor(std::fabs(static_cast<double>(x)) / w));
    ++counts[static_cast<size_t>(x < 0 ? h.bins() / 2 - 1 - k : h.bins() / 2 + k)];
  }
  return counts;
}

TEST(Histogram, LargeInputsCountLikeBinningEachValueAlone) {
  // Large enough for the sub-histogram path of every group, with ReLU-like runs of zeros.
  auto v = test::gaussian(900001, 3, 0.0f, 2.0f);
  for (size_t i = 0; i < v.size(); i += 3) v[i] = std::max(v[i], 0.0f);
  v[17] = std::numeric_limits<float>::quiet_NaN();
  for (int bins : {2048, 8192}) {
    const Histogram h = histogram_of(v, bins, 2);
    EXPECT_EQ(h.counts(), counted_one_by_one(v, h)) << bins;
    EXPECT_EQ(h.total(), v.size() - 1) << bins;
  }
}

TEST(Histogram, ValuesOnOneSideFarFromZeroCountLikeBinningEachValueAlone) {
  // Only the bins between the extremes' are counted; here they sit at one end, away from zero.
  for (float sign : {1.0f, -1.0f}) {
    auto v = test::uniform(300001, 11, 3.0f, 3.5f);
    for (float& x : v) x *= sign;
    v[5] = std::numeric_limits<float>::infinity();
    v[7] = -std::numeric_limits<float>::quiet_NaN();
    for (int threads : {1, 2, 3}) {
      const Histogram h = histogram_of(v, 8192, threads);
      EXPECT_EQ(h.counts(), counted_one_by_one(v, h)) << sign << " " << threads;
      EXPECT_EQ(h.total(), v.size() - 2);
    }
  }
}

TEST(Histogram, CountingWhileFindingTheRangeGivesTheCountsOfFindingItFirst) {
  // Samples whose ranges grow, shrink and grow again, with NaN, infinities and zeros: after
  // each one the one-pass histogram equals the one given each sample's extremes first.
  std::vector<std::vector<float>> samples = {test::gaussian(70000, 21, 0.0f, 0.5f), test::gaussian(1000, 22, 0.0f, 0.01f),
                                             test::laplace(90001, 23, 40.0f), test::uniform(5000, 24, -1.0f, 2.0f),
                                             test::gaussian(200000, 25, 3.0f, 900.0f)};
  samples[2][3] = std::numeric_limits<float>::quiet_NaN();
  samples[3][0] = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < samples[4].size(); i += 2) samples[4][i] = std::max(samples[4][i], 0.0f);
  for (int threads : {1, 2, 3}) {
    Histogram one_pass(8192), two_pass(8192);
    for (const auto& v : samples) {
      const Extremes e = one_pass.add(v, threads);
      const Extremes first = finite_extremes(v, 1);
      EXPECT_EQ(e.min, first.min);
      EXPECT_EQ(e.max, first.max);
      two_pass.add(v, first, 1);
      EXPECT_EQ(one_pass.exponent(), two_pass.exponent());
      EXPECT_EQ(one_pass.counts(), two_pass.counts()) << threads;
      EXPECT_EQ(one_pass.min(), two_pass.min());
      EXPECT_EQ(one_pass.max(), two_pass.max());
    }
  }
}

TEST(Histogram, TinyValuesAllLandNextToZero) {
  Histogram h = histogram_of({1e-38f, -1e-45f, 0.0f, -0.0f}, 8);
  EXPECT_EQ(h.exponent(), Histogram::kMinExponent);
  EXPECT_EQ(h.counts()[4], 3u);  // 0, -0 and the positive tiny value
  EXPECT_EQ(h.counts()[3], 1u);  // the negative one, on its side
  add(h, {1000.0f});
  EXPECT_EQ(h.counts()[4], 3u);
  EXPECT_EQ(h.counts()[3], 1u);
}

TEST(Histogram, JsonRoundTripIsExact) {
  const Histogram h = histogram_of(test::laplace(30000, 9, 3.0f));
  const Histogram back = Histogram::from_json(nlohmann::json::parse(h.to_json().dump()), 2048);
  EXPECT_EQ(back.counts(), h.counts());
  EXPECT_EQ(back.exponent(), h.exponent());
  EXPECT_EQ(back.min(), h.min());
  EXPECT_EQ(back.max(), h.max());
}

TEST(Histogram, MalformedJsonIsBadInput) {
  const nlohmann::json good = histogram_of({1.0f, 2.0f}, 8).to_json();
  for (const char* key : {"exponent", "counts", "min"}) {
    nlohmann::json j = good;
    j.erase(key);
    EXPECT_THROW(Histogram::from_json(j, 8), Error) << key;
  }
  nlohmann::json wide = good;
  wide["offset"] = 7;
  EXPECT_THROW(Histogram::from_json(wide, 8), Error);
  nlohmann::json negative = good;
  negative["counts"][0] = -1;
  EXPECT_THROW(Histogram::from_json(negative, 8), Error);
}

}  // namespace
}  // namespace onnxq::calib
