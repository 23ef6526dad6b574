#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Shape, ReportsEveryDimAsInt64) {
  Tensor y = run_op(op("Shape"), {Tensor(DataType::kFloat, {2, 3, 4})})[0];
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{2, 3, 4}));
}

TEST(Shape, StartAndEndPickARangeOfDimsFromOpset15) {
  auto node = op("Shape");
  attr_int(node, "start", -2);
  attr_int(node, "end", 100);
  Tensor y = run_op(node, {Tensor(DataType::kFloat, {2, 3, 4})}, 1, 15)[0];
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{3, 4}));
}

TEST(Size, CountsElementsAsAScalar) {
  Tensor y = run_op(op("Size"), {Tensor(DataType::kUInt8, {2, 3, 4})})[0];
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{24}));
}

TEST(Reshape, ZeroCopiesTheInputDimAndMinusOneIsInferred) {
  Tensor y = run_op(op("Reshape"), {iota_tensor({2, 3, 4}), ints({0, -1, 2})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(y.data<float>()[23], 23.0f);
}

TEST(Reshape, AllowZeroMakesZeroAnEmptyDim) {
  auto node = op("Reshape");
  attr_int(node, "allowzero", 1);
  Tensor y = run_op(node, {Tensor(DataType::kFloat, {0, 3}), ints({3, 0})}, 1, 14)[0];
  EXPECT_EQ(y.shape(), (Shape{3, 0}));
}

TEST(Reshape, MismatchedElementCountIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Reshape"), {iota_tensor({2, 3}), ints({4, 2})}); }), ExitCode::kInput);
  EXPECT_EQ(error_code([] { run_op(op("Reshape"), {iota_tensor({2, 3}), ints({-1, -1})}); }), ExitCode::kInput);
}

TEST(Flatten, NegativeAxisCountsFromTheEnd) {
  auto last = op("Flatten");
  attr_int(last, "axis", -1);
  EXPECT_EQ(run_op(last, {iota_tensor({2, 3, 4})})[0].shape(), (Shape{6, 4}));
  auto all = op("Flatten");
  attr_int(all, "axis", 0);
  EXPECT_EQ(run_op(all, {iota_tensor({2, 3, 4})})[0].shape(), (Shape{1, 24}));
}

TEST(Squeeze, AxesComeFromTheAttributeBeforeOpset13) {
  auto node = op("Squeeze");
  attr_ints(node, "axes", {-1});
  EXPECT_EQ(run_op(node, {iota_tensor({1, 3, 1})}, 1, 11)[0].shape(), (Shape{1, 3}));
}

TEST(Squeeze, WithoutAxesDropsEveryUnitDim) {
  EXPECT_EQ(run_op(op("Squeeze"), {iota_tensor({1, 3, 1})}, 1, 13)[0].shape(), (Shape{3}));
}

TEST(Squeeze, AxisOfSizeOtherThanOneIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Squeeze"), {iota_tensor({1, 3}), ints({1})}, 1, 13); }), ExitCode::kInput);
}

TEST(Unsqueeze, AxesRefersToTheOutputRank) {
  Tensor y = run_op(op("Unsqueeze"), {iota_tensor({3, 4}), ints({-1, 0})}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{1, 3, 4, 1}));
  auto node = op("Unsqueeze");
  attr_ints(node, "axes", {1});
  EXPECT_EQ(run_op(node, {iota_tensor({3, 4})}, 1, 11)[0].shape(), (Shape{3, 1, 4}));
}

TEST(Unsqueeze, DuplicateAxesAreAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Unsqueeze"), {iota_tensor({3}), ints({0, -3})}, 1, 13); }), ExitCode::kInput);
}

}  // namespace
}  // namespace onnxq::test
