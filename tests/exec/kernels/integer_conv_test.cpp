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

template <class T>
Tensor scalar_of(T v) { return Tensor::from_vector<T>({}, {v}); }

TEST(ConvInteger, SumsZeroPointCorrectedWindows) {
  // x - 1 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]], 2x2 kernel of ones.
  const Tensor x = Tensor::from_vector<uint8_t>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1});
  const auto y = run_op(op("ConvInteger"), {x, w, scalar_of<uint8_t>(1)}, 1, 10);
  EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values<int32_t>(y[0]), (std::vector<int32_t>{8, 12, 20, 24}));
}

TEST(ConvInteger, PaddingReadsTheZeroPoint) {
  const Tensor x = Tensor::from_vector<uint8_t>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1});
  auto node = op("ConvInteger");
  attr_ints(node, "pads", {1, 1, 1, 1});
  attr_ints(node, "strides", {2, 2});
  const auto y = run_op(node, {x, w, scalar_of<uint8_t>(1)}, 1, 10);
  // Windows at (-1,-1), (-1,1), (1,-1), (1,1) of the corrected input.
  EXPECT_EQ(values<int32_t>(y[0]), (std::vector<int32_t>{0, 3, 9, 24}));
}

TEST(ConvInteger, GroupsConvolveTheirOwnChannels) {
  const Tensor x = Tensor::from_vector<int8_t>({1, 2, 1, 1}, {1, 2});
  const Tensor w = Tensor::from_vector<int8_t>({2, 1, 1, 1}, {3, -4});
  auto node = op("ConvInteger");
  attr_int(node, "group", 2);
  const auto y = run_op(node, {x, w}, 1, 10);
  EXPECT_EQ(values<int32_t>(y[0]), (std::vector<int32_t>{3, -8}));
}

TEST(QLinearConv, AddsBiasAndRequantizesPerOutputChannel) {
  // Channel 0: ([2, 4] + 1) * 0.5 * 1 = 1.5, 2.5 -> 2, 2 (ties to even); channel 1: [-2, -4] * 0.5 * 2.
  const Tensor x = Tensor::from_vector<uint8_t>({1, 1, 1, 2}, {2, 4});
  const Tensor w = Tensor::from_vector<int8_t>({2, 1, 1, 1}, {1, -1});
  const auto y = run_op(op("QLinearConv"),
                        {x, scalar_of<float>(0.5f), scalar_of<uint8_t>(0), w, Tensor::from_vector<float>({2}, {1.0f, 2.0f}),
                         Tensor::from_vector<int8_t>({2}, {0, 0}), scalar_of<float>(1.0f), scalar_of<uint8_t>(128),
                         Tensor::from_vector<int32_t>({2}, {1, 0})},
                        1, 10);
  EXPECT_EQ(y[0].shape(), (Shape{1, 2, 1, 2}));
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{130, 130, 126, 124}));
}

TEST(QLinearConv, SameUpperPaddingKeepsTheSpatialSize) {
  const Tensor x = Tensor::from_vector<uint8_t>({1, 1, 1, 3}, {1, 2, 3});
  const Tensor w = Tensor::from_vector<uint8_t>({1, 1, 1, 2}, {1, 1});
  auto node = op("QLinearConv");
  attr_string(node, "auto_pad", "SAME_UPPER");
  const auto y = run_op(node, {x, scalar_of<float>(1.0f), scalar_of<uint8_t>(0), w, scalar_of<float>(1.0f), scalar_of<uint8_t>(0),
                               scalar_of<float>(1.0f), scalar_of<uint8_t>(0)}, 1, 10);
  // Total padding 1 goes to the end: windows [1, 2], [2, 3], [3, pad].
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{3, 5, 3}));
}

TEST(QLinearConv, RejectsMismatchedChannels) {
  const Tensor x(DataType::kUInt8, {1, 2, 2, 2});
  const Tensor w(DataType::kUInt8, {1, 3, 1, 1});
  EXPECT_THROW(run_op(op("QLinearConv"), {x, scalar_of<float>(1.0f), scalar_of<uint8_t>(0), w, scalar_of<float>(1.0f),
                                          scalar_of<uint8_t>(0), scalar_of<float>(1.0f), scalar_of<uint8_t>(0)}, 1, 10),
               Error);
}

}  // namespace
}  // namespace onnxq::test
