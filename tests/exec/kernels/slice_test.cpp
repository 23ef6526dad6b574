#include <gtest/gtest.h>

#include <limits>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Slice, TakesARangeAlongTheGivenAxes) {
  Tensor y = run_op(op("Slice"), {iota_tensor({3, 4}), ints({1, 1}), ints({3, 3}), ints({0, 1})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{5, 6, 9, 10}));
}

TEST(Slice, NegativeStepsWalkBackwards) {
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  Tensor y = run_op(op("Slice"), {iota_tensor({5}), ints({-1}), ints({lowest}), ints({0}), ints({-2})})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{4, 2, 0}));
}

TEST(Slice, OutOfRangeBoundsAreClamped) {
  const int64_t highest = std::numeric_limits<int64_t>::max();
  Tensor y = run_op(op("Slice"), {iota_tensor({2, 3}), ints({-10}), ints({highest}), ints({-1})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  Tensor empty = run_op(op("Slice"), {iota_tensor({2, 3}), ints({5}), ints({10}), ints({1})})[0];
  EXPECT_EQ(empty.shape(), (Shape{2, 0}));
}

TEST(Slice, StepsSkipElements) {
  Tensor y = run_op(op("Slice"), {iota_tensor({2, 7}), ints({0}), ints({7}), ints({1}), ints({3})})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 3, 6, 7, 10, 13}));
}

TEST(Slice, AttributesDescribeTheSliceBeforeOpset10) {
  auto node = op("Slice");
  attr_ints(node, "starts", {1});
  attr_ints(node, "ends", {-1});
  Tensor y = run_op(node, {iota_tensor({4})}, 1, 9)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 2}));
}

TEST(Slice, ZeroStepIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Slice"), {iota_tensor({4}), ints({0}), ints({4}), ints({0}), ints({0})}); }),
            ExitCode::kInput);
}

}  // namespace
}  // namespace onnxq::test
