#include <gtest/gtest.h>

#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_float;
using test::attr_ints;
using test::attr_string;
using test::op;
using test::run_op;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }
Tensor floats(Shape s, std::vector<float> v) { return Tensor::from_vector<float>(std::move(s), v); }
Tensor sizes(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(Resize, NearestHalfPixelRepeatsEachElement) {
  auto node = op("Resize");
  Tensor y = run_op(node, {floats({1, 2}, {1, 2}), Tensor(), floats({2}, {1, 2})}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{1, 4}));
  EXPECT_EQ(values(y), (std::vector<float>{1, 1, 2, 2}));
}

TEST(Resize, LinearHalfPixelClampsAtTheBorders) {
  auto node = op("Resize");
  attr_string(node, "mode", "linear");
  Tensor y = run_op(node, {floats({1, 2}, {1, 3}), Tensor(), floats({2}, {1, 2})}, 1, 13)[0];
  EXPECT_EQ(values(y), (std::vector<float>{1, 1.5f, 2.5f, 3}));
}

TEST(Resize, AlignCornersMapsEndsOntoEnds) {
  auto node = op("Resize");
  attr_string(node, "mode", "linear");
  attr_string(node, "coordinate_transformation_mode", "align_corners");
  Tensor y = run_op(node, {floats({1, 2}, {0, 4}), Tensor(), Tensor(), sizes({1, 3})}, 1, 13)[0];
  EXPECT_EQ(values(y), (std::vector<float>{0, 2, 4}));
}

TEST(Resize, CropAndResizeFillsOutsideTheInputWithTheExtrapolationValue) {
  auto node = op("Resize");
  attr_string(node, "mode", "linear");
  attr_string(node, "coordinate_transformation_mode", "tf_crop_and_resize");
  attr_float(node, "extrapolation_value", 7.0f);
  Tensor roi = floats({4}, {0, 0, 1, 2});  // axis 1 spans [0, 2] of a 2-long input
  Tensor y = run_op(node, {floats({1, 2}, {0, 10}), roi, Tensor(), sizes({1, 3})}, 1, 13)[0];
  EXPECT_EQ(values(y), (std::vector<float>{0, 10, 7}));
}

TEST(Resize, CubicKeepsAConstantInputConstant) {
  auto node = op("Resize");
  attr_string(node, "mode", "cubic");
  Tensor x = floats({1, 1, 3, 3}, std::vector<float>(9, 2.0f));
  Tensor y = run_op(node, {x, Tensor(), floats({4}, {1, 1, 1.5f, 2})}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 6}));
  for (float v : values(y)) EXPECT_NEAR(v, 2.0f, 1e-6);
}

TEST(Resize, AxesResizeOnlyTheListedAxes) {
  auto node = op("Resize");
  attr_ints(node, "axes", {1});
  Tensor y = run_op(node, {floats({2, 1}, {1, 2}), Tensor(), Tensor(), sizes({2})}, 1, 18)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(y), (std::vector<float>{1, 1, 2, 2}));
}

TEST(Resize, NearestMovesIntegerElements) {
  auto node = op("Resize");
  Tensor x = Tensor::from_vector<uint8_t>({1, 2}, {9, 250});
  Tensor y = run_op(node, {x, Tensor(), floats({2}, {1, 1.5f})}, 1, 13)[0];
  EXPECT_EQ(std::vector<uint8_t>(y.data<uint8_t>(), y.data<uint8_t>() + 3), (std::vector<uint8_t>{9, 9, 250}));
}

TEST(Resize, IsBitIdenticalAcrossThreadCounts) {
  auto node = op("Resize");
  attr_string(node, "mode", "cubic");
  Tensor x = test::random_tensor({2, 3, 17, 13}, 9);
  Tensor scales = floats({4}, {1, 1, 1.7f, 0.6f});
  EXPECT_TRUE(run_op(node, {x, Tensor(), scales}, 1, 13, 1)[0].equals(run_op(node, {x, Tensor(), scales}, 1, 13, 3)[0]));
}

TEST(Resize, RejectsBothScalesAndSizes) {
  try {
    run_op(op("Resize"), {floats({1, 2}, {1, 2}), Tensor(), floats({2}, {1, 2}), sizes({1, 4})}, 1, 13);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(Upsample, NearestRepeatsByIntegerScales) {
  auto node = op("Upsample");
  Tensor y = run_op(node, {floats({1, 1, 1, 2}, {3, 4}), floats({4}, {1, 1, 2, 2})}, 1, 9)[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 4}));
  EXPECT_EQ(values(y), (std::vector<float>{3, 3, 4, 4, 3, 3, 4, 4}));
}

}  // namespace
}  // namespace onnxq
