#include <gtest/gtest.h>

#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

std::vector<uint8_t> bytes(const Tensor& t) {
  std::vector<uint8_t> out;
  for (std::byte b : t.bytes()) out.push_back(static_cast<uint8_t>(b));
  return out;
}

Tensor scalar(float v) { return Tensor::from_vector<float>({}, {v}); }
template <class T>
Tensor scalar_of(T v) { return Tensor::from_vector<T>({}, {v}); }

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturates) {
  const Tensor x = Tensor::from_vector<float>({6}, {2.5f, 3.5f, -0.5f, 300.0f, -4.0f, 1.4f});
  const auto y = run_op(op("QuantizeLinear"), {x, scalar(1.0f)}, 1, 13);
  EXPECT_EQ(y[0].dtype(), DataType::kUInt8);
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{2, 4, 0, 255, 0, 1}));
}

TEST(QuantizeLinear, AddsTheZeroPointAfterRoundingForInt8) {
  // x / 2 = 1.25, -0.75, 100, -100 round to 1, -1, 100, -100; + 10 gives 11, 9, 110, -90.
  const Tensor x = Tensor::from_vector<float>({4}, {2.5f, -1.5f, 200.0f, -200.0f});
  const auto y = run_op(op("QuantizeLinear"), {x, scalar(2.0f), scalar_of<int8_t>(10)}, 1, 13);
  EXPECT_EQ(values<int8_t>(y[0]), (std::vector<int8_t>{11, 9, 110, -90}));
  // 400 / 2 + 10 = 210 saturates to 127; -400 / 2 + 10 = -190 to -128.
  const auto z = run_op(op("QuantizeLinear"), {Tensor::from_vector<float>({2}, {400, -400}), scalar(2.0f), scalar_of<int8_t>(10)}, 1, 13);
  EXPECT_EQ(values<int8_t>(z[0]), (std::vector<int8_t>{127, -128}));
}

TEST(QuantizeLinear, UsesOneScalePerChannelAlongTheAxis) {
  // x [2, 3], axis 1: scales 1, 2, 4 per column, zero points 0, 1, 2.
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 4, -1, -2, 8});
  const Tensor s = Tensor::from_vector<float>({3}, {1, 2, 4});
  const Tensor zp = Tensor::from_vector<int8_t>({3}, {0, 1, 2});
  const auto y = run_op(op("QuantizeLinear"), {x, s, zp}, 1, 13);
  EXPECT_EQ(values<int8_t>(y[0]), (std::vector<int8_t>{1, 2, 3, -1, 0, 4}));
}

TEST(QuantizeLinear, BlockedScalesCoverBlockSizeElementsAlongTheAxis) {
  // x [2, 4], axis 1, block_size 2: scale [2, 2], columns {0,1} and {2,3} share a scale.
  const Tensor x = Tensor::from_vector<float>({2, 4}, {1, 2, 3, 4, 10, 20, 30, 40});
  const Tensor s = Tensor::from_vector<float>({2, 2}, {1, 2, 10, 20});
  auto node = op("QuantizeLinear");
  attr_int(node, "axis", 1);
  attr_int(node, "block_size", 2);
  const auto y = run_op(node, {x, s, Tensor::from_vector<uint8_t>({2, 2}, {0, 0, 0, 0})}, 1, 21);
  // 1/1, 2/1, 3/2=1.5->2, 4/2; 10/10, 20/10, 30/20=1.5->2, 40/20.
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{1, 2, 2, 2, 1, 2, 2, 2}));
}

TEST(QuantizeLinear, PacksInt4TwoPerByteLowNibbleFirst) {
  const Tensor x = Tensor::from_vector<float>({3}, {1, -2, 9});
  const Tensor zp(DataType::kInt4, {});
  const auto y = run_op(op("QuantizeLinear"), {x, scalar(1.0f), zp}, 1, 21);
  ASSERT_EQ(y[0].dtype(), DataType::kInt4);
  // 1 -> 0x1, -2 -> 0xE, 9 saturates to 7: bytes 0xE1, 0x07.
  EXPECT_EQ(bytes(y[0]), (std::vector<uint8_t>{0xE1, 0x07}));
}

TEST(QuantizeLinear, OutputDtypeAttributePicksTheTypeWithoutZeroPoint) {
  auto node = op("QuantizeLinear");
  attr_int(node, "output_dtype", static_cast<int64_t>(DataType::kUInt16));
  const auto y = run_op(node, {Tensor::from_vector<float>({2}, {70000, 12.5f}), scalar(1.0f)}, 1, 21);
  EXPECT_EQ(values<uint16_t>(y[0]), (std::vector<uint16_t>{65535, 12}));
}

TEST(QuantizeLinear, RejectsAPerAxisScaleOfTheWrongLength) {
  const Tensor x(DataType::kFloat, {2, 3});
  EXPECT_THROW(run_op(op("QuantizeLinear"), {x, Tensor::from_vector<float>({2}, {1, 1})}, 1, 13), Error);
}

TEST(DequantizeLinear, SubtractsTheZeroPointThenScales) {
  const Tensor x = Tensor::from_vector<uint8_t>({3}, {0, 128, 255});
  const auto y = run_op(op("DequantizeLinear"), {x, scalar(0.5f), scalar_of<uint8_t>(128)}, 1, 13);
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{-64.0f, 0.0f, 63.5f}));
}

TEST(DequantizeLinear, ReadsInt32WithoutZeroPoint) {
  const Tensor x = Tensor::from_vector<int32_t>({2}, {-1000, 3});
  const auto y = run_op(op("DequantizeLinear"), {x, scalar(0.25f)}, 1, 13);
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{-250.0f, 0.75f}));
}

TEST(DequantizeLinear, UnpacksUint4AndAppliesPerAxisParameters) {
  // uint4 [2, 2] = 3, 15 / 0, 8 stored as bytes 0xF3, 0x80; axis 0 scales 1, 0.5, zero points 1, 8.
  const Tensor x = Tensor::from_bytes(DataType::kUInt4, {2, 2}, std::vector<uint8_t>{0xF3, 0x80}.data(), 2);
  const Tensor zp = Tensor::from_bytes(DataType::kUInt4, {2}, std::vector<uint8_t>{0x81}.data(), 1);
  auto node = op("DequantizeLinear");
  attr_int(node, "axis", 0);
  const auto y = run_op(node, {x, Tensor::from_vector<float>({2}, {1.0f, 0.5f}), zp}, 1, 21);
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{2.0f, 14.0f, -4.0f, 0.0f}));
}

TEST(DequantizeLinear, ComMicrosoftVersionMatchesTheOnnxOne) {
  const Tensor x = Tensor::from_vector<int8_t>({2}, {-3, 5});
  const auto y = run_op(op("DequantizeLinear", "com.microsoft"), {x, scalar(2.0f), scalar_of<int8_t>(1)}, 1, 1);
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{-8.0f, 8.0f}));
}

TEST(DynamicQuantizeLinear, WidensTheRangeToContainZero) {
  // min 0 (widened from 1), max 255 -> scale 1, zero point 0.
  const Tensor x = Tensor::from_vector<float>({3}, {1.0f, 2.5f, 255.0f});
  const auto y = run_op(op("DynamicQuantizeLinear"), {x}, 3, 11);
  EXPECT_EQ(values<float>(y[1]), (std::vector<float>{1.0f}));
  EXPECT_EQ(values<uint8_t>(y[2]), (std::vector<uint8_t>{0}));
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{1, 2, 255}));
}

TEST(DynamicQuantizeLinear, RoundsTheZeroPointHalfToEven) {
  // [-1.5, 253.5]: scale 255 / 255 = 1, zero point 1.5 -> 2.
  const Tensor x = Tensor::from_vector<float>({2}, {-1.5f, 253.5f});
  const auto y = run_op(op("DynamicQuantizeLinear"), {x}, 3, 11);
  EXPECT_EQ(values<float>(y[1]), (std::vector<float>{1.0f}));
  EXPECT_EQ(values<uint8_t>(y[2]), (std::vector<uint8_t>{2}));
  // -1.5 rounds to -2 (ties to even), + 2 = 0; 253.5 is clamped to 255 - 2 first, + 2 = 255.
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{0, 255}));
}

TEST(DynamicQuantizeLinear, AllZeroInputGetsScaleOne) {
  const auto y = run_op(op("DynamicQuantizeLinear"), {Tensor(DataType::kFloat, {4})}, 3, 11);
  EXPECT_EQ(values<float>(y[1]), (std::vector<float>{1.0f}));
  EXPECT_EQ(values<uint8_t>(y[2]), (std::vector<uint8_t>{0}));
}

}  // namespace
}  // namespace onnxq::test
