#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Trilu, UpperKeepsOnAndAboveTheShiftedDiagonal) {
  const Tensor x = iota_tensor({3, 3}, 1.0f);
  EXPECT_EQ(values<float>(run_op(op("Trilu"), {x})[0]), (std::vector<float>{1, 2, 3, 0, 5, 6, 0, 0, 9}));
  auto lower = op("Trilu");
  attr_int(lower, "upper", 0);
  EXPECT_EQ(values<float>(run_op(lower, {x, ints({}, {-1})})[0]), (std::vector<float>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
}

TEST(NonZero, ListsCoordinatesRowByRowAndTreatsNegativeZeroAsZero) {
  Tensor y = run_op(op("NonZero"), {floats({2, 2}, {0, 3, -0.0f, -1})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 1, 1, 1}));
}

}  // namespace
}  // namespace onnxq::test
