#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

Tensor pad_1d(const std::string& mode, const std::vector<int64_t>& pads, int64_t opset = 19) {
  auto node = op("Pad");
  attr_string(node, "mode", mode);
  return run_op(node, {iota_tensor({4}, 1.0f), ints(pads)}, 1, opset)[0];
}

TEST(Pad, EachModeFillsTheBorderItsOwnWay) {
  // x = 1 2 3 4, padded by 2 before and 3 after.
  EXPECT_EQ(values<float>(pad_1d("constant", {2, 3})), (std::vector<float>{0, 0, 1, 2, 3, 4, 0, 0, 0}));
  EXPECT_EQ(values<float>(pad_1d("edge", {2, 3})), (std::vector<float>{1, 1, 1, 2, 3, 4, 4, 4, 4}));
  EXPECT_EQ(values<float>(pad_1d("reflect", {2, 3})), (std::vector<float>{3, 2, 1, 2, 3, 4, 3, 2, 1}));
  EXPECT_EQ(values<float>(pad_1d("wrap", {2, 3})), (std::vector<float>{3, 4, 1, 2, 3, 4, 1, 2, 3}));
}

TEST(Pad, NegativePadsCropBeforeTheModeApplies) {
  EXPECT_EQ(values<float>(pad_1d("edge", {-1, 2})), (std::vector<float>{2, 3, 4, 4, 4}));
  EXPECT_EQ(values<float>(pad_1d("constant", {-1, -2})), (std::vector<float>{2}));
}

TEST(Pad, ConstantValueAndAxesInputs) {
  auto node = op("Pad");
  Tensor y = run_op(node, {iota_tensor({2, 2}), ints({1, 0}), floats({}, {9}), ints({-1})}, 1, 18)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{9, 0, 1, 9, 2, 3}));
}

TEST(Pad, AttributesGiveThePadsBeforeOpset11) {
  auto node = op("Pad");
  attr_ints(node, "pads", {0, 1, 0, 0});
  attr_float(node, "value", 2.5f);
  Tensor y = run_op(node, {iota_tensor<int32_t>({1, 2})}, 1, 10)[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{2, 0, 1}));
}

TEST(Pad, CroppingMoreThanTheDimIsAnInputError) {
  EXPECT_EQ(error_code([] { pad_1d("constant", {-3, -2}); }), ExitCode::kInput);
  EXPECT_EQ(error_code([] { pad_1d("constant", {1}); }), ExitCode::kInput);
}

TEST(Tile, RepeatsEveryAxis) {
  Tensor y = run_op(op("Tile"), {iota_tensor({2, 2}), ints({2, 2})})[0];
  EXPECT_EQ(y.shape(), (Shape{4, 4}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 1, 0, 1, 2, 3, 2, 3, 0, 1, 0, 1, 2, 3, 2, 3}));
}

TEST(Tile, WrongNumberOfRepeatsIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Tile"), {iota_tensor({2, 2}), ints({2})}); }), ExitCode::kInput);
}

}  // namespace
}  // namespace onnxq::test
