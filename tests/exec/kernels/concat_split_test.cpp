#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Concat, JoinsRowsAlongAnInnerAxis) {
  auto node = op("Concat");
  attr_int(node, "axis", -1);
  Tensor y = run_op(node, {iota_tensor({2, 1}), iota_tensor({2, 2}, 10.0f), Tensor(DataType::kFloat, {2, 0})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 10, 11, 1, 12, 13}));
}

TEST(Concat, ShapesDifferingOffTheAxisAreAnInputError) {
  auto node = op("Concat");
  attr_int(node, "axis", 0);
  EXPECT_EQ(error_code([&] { run_op(node, {iota_tensor({2, 1}), iota_tensor({2, 2})}); }), ExitCode::kInput);
}

TEST(Split, SizesComeFromTheInputFromOpset13) {
  auto node = op("Split");
  attr_int(node, "axis", 1);
  auto ys = run_op(node, {iota_tensor({2, 3}), ints({1, 2})}, 2, 13);
  EXPECT_EQ(values<float>(ys[0]), (std::vector<float>{0, 3}));
  EXPECT_EQ(values<float>(ys[1]), (std::vector<float>{1, 2, 4, 5}));
}

TEST(Split, SizesComeFromTheAttributeBeforeOpset13) {
  auto node = op("Split");
  attr_ints(node, "split", {2, 0, 1});
  auto ys = run_op(node, {iota_tensor({3})}, 3, 11);
  EXPECT_EQ(values<float>(ys[0]), (std::vector<float>{0, 1}));
  EXPECT_EQ(ys[1].shape(), (Shape{0}));
  EXPECT_EQ(values<float>(ys[2]), (std::vector<float>{2}));
}

TEST(Split, NumOutputsLeavesTheRemainderToTheLastPart) {
  auto node = op("Split");
  attr_int(node, "num_outputs", 3);
  auto ys = run_op(node, {iota_tensor({7})}, 3, 18);
  EXPECT_EQ(ys[0].shape(), (Shape{3}));
  EXPECT_EQ(ys[1].shape(), (Shape{3}));
  EXPECT_EQ(values<float>(ys[2]), (std::vector<float>{6}));
}

TEST(Split, UnevenEqualSplitBeforeOpset18IsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Split"), {iota_tensor({7})}, 2, 13); }), ExitCode::kInput);
  EXPECT_EQ(error_code([] { run_op(op("Split"), {iota_tensor({7}), ints({3, 3})}, 2, 13); }), ExitCode::kInput);
}

}  // namespace
}  // namespace onnxq::test
