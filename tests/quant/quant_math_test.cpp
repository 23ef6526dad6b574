#include "onnxq/quant_math.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "onnxq/error.hpp"

namespace onnxq {
namespace {

const QuantRange kInt8Sym = quant_range(DataType::kInt8, true, false);
const QuantRange kUInt8 = quant_range(DataType::kUInt8, false, false);

TEST(QuantRange, FollowsOnnxRuntimesToolForEveryTypeAndFlag) {
  auto eq = [](QuantRange r, int32_t lo, int32_t hi) { return r.qmin == lo && r.qmax == hi; };
  EXPECT_TRUE(eq(quant_range(DataType::kInt8, false, false), -128, 127));
  EXPECT_TRUE(eq(kInt8Sym, -127, 127));
  EXPECT_TRUE(eq(quant_range(DataType::kInt8, true, true), -64, 64));
  EXPECT_TRUE(eq(kUInt8, 0, 255));
  EXPECT_TRUE(eq(quant_range(DataType::kUInt8, false, true), 0, 127));
  EXPECT_TRUE(eq(quant_range(DataType::kInt4, true, false), -7, 7));
  EXPECT_TRUE(eq(quant_range(DataType::kInt4, false, false), -8, 7));
  EXPECT_TRUE(eq(quant_range(DataType::kUInt4, false, false), 0, 15));
  EXPECT_THROW(quant_range(DataType::kFloat, false, false), Error);
}

TEST(QuantParams, AnAllZeroTensorGetsScaleOneAndZeroPointZero) {
  for (QuantRange r : {kInt8Sym, kUInt8}) {
    const auto p = compute_quant_params(0.0f, 0.0f, r, r.qmin < 0);
    EXPECT_EQ(p.scale, 1.0f);
    EXPECT_EQ(p.zero_point, 0);
  }
}

TEST(QuantParams, ARangeTooTinyForANormalScaleGetsScaleOne) {
  const float tiny = 1e-40f;  // subnormal: the scale would be below float32's smallest normal
  const auto p = compute_quant_params(-tiny, tiny, kUInt8, false);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
}

TEST(QuantParams, AConstantPositiveTensorStillContainsZero) {
  // [0.5, 0.5] widens to [0, 0.5].
  const auto s = compute_quant_params(0.5f, 0.5f, kInt8Sym, true);
  EXPECT_FLOAT_EQ(s.scale, 0.5f / 127);
  EXPECT_EQ(s.zero_point, 0);
  EXPECT_EQ(quantize_value(0.5f, s, kInt8Sym), 127);
  const auto a = compute_quant_params(0.5f, 0.5f, kUInt8, false);
  EXPECT_FLOAT_EQ(a.scale, 0.5f / 255);
  EXPECT_EQ(a.zero_point, 0);
}

TEST(QuantParams, AnAllNegativeTensorPutsTheZeroPointAtTheTop) {
  const auto p = compute_quant_params(-2.0f, -1.0f, kUInt8, false);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255);
  EXPECT_EQ(p.zero_point, 255);
  EXPECT_EQ(quantize_value(-2.0f, p, kUInt8), 0);
}

TEST(QuantParams, AsymmetricUint8MatchesTheHandComputedValues) {
  // [-1, 2]: scale 3/255, zero point round(1 / (3/255)) = 85.
  const auto p = compute_quant_params(-1.0f, 2.0f, kUInt8, false);
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 255);
  EXPECT_EQ(p.zero_point, 85);
  EXPECT_EQ(quantize_value(2.0f, p, kUInt8), 255);
  EXPECT_EQ(quantize_value(-1.0f, p, kUInt8), 0);
}

TEST(QuantParams, SymmetricInt8UsesAbsmaxOver127) {
  const auto p = compute_quant_params(-0.3f, 1.27f, kInt8Sym, true);
  EXPECT_FLOAT_EQ(p.scale, 0.01f);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_EQ(quantize_value(-0.3f, p, kInt8Sym), -30);
}

TEST(QuantParams, ReducedRangeInt8UsesSixtyFourSteps) {
  const auto r = quant_range(DataType::kInt8, true, true);
  const auto p = compute_quant_params(-1.0f, 1.0f, r, true);
  EXPECT_FLOAT_EQ(p.scale, 1.0f / 64);
  EXPECT_EQ(quantize_value(1.0f, p, r), 64);
}

TEST(QuantizeValue, RoundsTiesToEven) {
  const QuantParams unit{1.0f, 0};
  EXPECT_EQ(quantize_value(2.5f, unit, kInt8Sym), 2);
  EXPECT_EQ(quantize_value(-2.5f, unit, kInt8Sym), -2);
  EXPECT_EQ(quantize_value(3.5f, unit, kInt8Sym), 4);
  EXPECT_EQ(quantize_value(0.5f, unit, kInt8Sym), 0);
  EXPECT_EQ(quantize_value(2.5f, {1.0f, 10}, kUInt8), 12);
}

TEST(QuantizeValue, SaturatesToTheRange) {
  EXPECT_EQ(quantize_value(300.0f, {1.0f, 0}, kInt8Sym), 127);
  EXPECT_EQ(quantize_value(-300.0f, {1.0f, 0}, kInt8Sym), -127);
  EXPECT_EQ(quantize_value(-5.0f, {1.0f, 0}, kUInt8), 0);
}

TEST(Sqnr, IsInfiniteForAnExactCopyAndTwentyDbForTenPercentNoise) {
  const float x[] = {1, -1, 1, -1};
  const float y[] = {1.1f, -1.1f, 0.9f, -0.9f};
  EXPECT_EQ(sqnr_db(x, x, 4), std::numeric_limits<double>::infinity());
  EXPECT_NEAR(sqnr_db(x, y, 4), 20.0, 1e-4);
}

}  // namespace
}  // namespace onnxq
