#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

Tensor cumsum(int64_t exclusive, int64_t reverse) {
  auto node = op("CumSum");
  attr_int(node, "exclusive", exclusive);
  attr_int(node, "reverse", reverse);
  return run_op(node, {iota_tensor({2, 3}, 1.0f), Tensor::from_vector<int32_t>({}, {-1})})[0];
}

TEST(CumSum, ExclusiveAndReverseCombine) {
  // x = [[1 2 3] [4 5 6]] summed along the last axis.
  EXPECT_EQ(values<float>(cumsum(0, 0)), (std::vector<float>{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(values<float>(cumsum(1, 0)), (std::vector<float>{0, 1, 3, 0, 4, 9}));
  EXPECT_EQ(values<float>(cumsum(0, 1)), (std::vector<float>{6, 5, 3, 15, 11, 6}));
  EXPECT_EQ(values<float>(cumsum(1, 1)), (std::vector<float>{5, 3, 0, 11, 6, 0}));
}

TEST(ReverseSequence, ReversesOnlyTheFirstLenSteps) {
  auto node = op("ReverseSequence");
  attr_int(node, "batch_axis", 0);
  attr_int(node, "time_axis", 1);
  Tensor y = run_op(node, {iota_tensor({2, 4}), ints({3, 0})})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{2, 1, 0, 3, 4, 5, 6, 7}));
}

TEST(ReverseSequence, LengthBeyondTheTimeAxisIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("ReverseSequence"), {iota_tensor({2, 2}), ints({3, 1})}); }), ExitCode::kInput);
}

}  // namespace
}  // namespace onnxq::test
