#include "debug/dequantize.hpp"

#include <gtest/gtest.h>

namespace onnxq::debug {
namespace {

TEST(DebugDequantize, PerAxisScalesAndZeroPointsApplyAlongTheAxis) {
  const Tensor q = Tensor::from_vector<uint8_t>({2, 3}, {10, 20, 30, 40, 50, 60});
  const Tensor s = Tensor::from_vector<float>({2}, {0.5f, 0.25f});
  const Tensor z = Tensor::from_vector<uint8_t>({2}, {10, 0});
  const Tensor y = dequantize(q, s, z, {0, 0}, "w");
  const std::vector<float> want = {0, 5, 10, 10, 12.5f, 15};
  EXPECT_EQ(std::vector<float>(y.data<float>(), y.data<float>() + 6), want);
}

TEST(DebugDequantize, BlockedScalesCoverBlockSizeElementsAlongTheAxis) {
  // [3, 2] with blocks of 2 rows along axis 0: scales [2, 2]; the last block has one row.
  const Tensor q = Tensor::from_vector<int8_t>({3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor s = Tensor::from_vector<float>({2, 2}, {1, 10, 100, 1000});
  const Tensor y = dequantize(q, s, Tensor(), {0, 2}, "w");
  const std::vector<float> want = {1, 20, 3, 40, 500, 6000};
  EXPECT_EQ(std::vector<float>(y.data<float>(), y.data<float>() + 6), want);
}

TEST(DebugDequantize, ScalesThatDoNotFitAreAnInputErrorNamingTheTensor) {
  const Tensor q = Tensor::from_vector<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  try {
    dequantize(q, Tensor::from_vector<float>({4}, {1, 1, 1, 1}), Tensor(), {1, 0}, "weight 'w'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("weight 'w'"), std::string::npos);
  }
}

TEST(DebugDequantize, QuantizeDequantizeRoundsHalfToEvenAndSaturates) {
  const Tensor x = Tensor::from_vector<float>({5}, {0.25f, 0.75f, -0.25f, 1000.0f, -100.0f});
  const Tensor s = Tensor::from_vector<float>({}, {0.5f});
  const Tensor z = Tensor::from_vector<uint8_t>({}, {10});
  // 0.5 -> 0 (even), 1.5 -> 2, -0.5 -> -0; then +10, clamped to [0, 255].
  const Tensor y = quantize_dequantize(x, s, z, {}, "t");
  const std::vector<float> want = {0, 1, 0, 122.5f, -5};
  EXPECT_EQ(std::vector<float>(y.data<float>(), y.data<float>() + 5), want);
}

}  // namespace
}  // namespace onnxq::debug
