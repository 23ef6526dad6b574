#include <gtest/gtest.h>

#include "exec/kernels/elementwise_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Where, PicksFromXOrYWithBroadcasting) {
  Tensor cond = bool_tensor({2, 1}, {1, 0});
  Tensor x = tensor<int64_t>({2}, {1, 2});
  Tensor y = tensor<int64_t>({}, {9});
  Tensor out = run_op(op("Where"), {cond, x, y})[0];
  EXPECT_EQ(out.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<int64_t>(out), (std::vector<int64_t>{1, 2, 9, 9}));
}

TEST(Expand, BroadcastsBothWays) {
  Tensor x = tensor<float>({3, 1}, {1, 2, 3});
  Tensor shape = tensor<int64_t>({2}, {1, 2});
  Tensor out = run_op(op("Expand"), {x, shape})[0];
  EXPECT_EQ(out.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(out), (std::vector<float>{1, 1, 2, 2, 3, 3}));
}

TEST(Expand, NegativeDimsAreAnInputError) {
  try {
    run_op(op("Expand"), {tensor<float>({1}, {1}), tensor<int64_t>({1}, {-2})});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(Dropout, InferencePassesTheInputAndAnAllTrueMask) {
  Tensor x = tensor<float>({3}, {1, 2, 3});
  auto outs = run_op(op("Dropout"), {x, tensor<float>({}, {0.5f})}, 2, 13);
  EXPECT_EQ(values<float>(outs[0]), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(outs[1].dtype(), DataType::kBool);
  EXPECT_EQ(values<uint8_t>(outs[1]), (std::vector<uint8_t>{1, 1, 1}));
}

TEST(Dropout, TrainingWithANonZeroRatioIsUnsupported) {
  Tensor x = tensor<float>({1}, {1});
  try {
    run_op(op("Dropout"), {x, tensor<float>({}, {0.5f}), bool_tensor({}, {1})}, 1, 13);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
}

TEST(Identity, ReturnsItsInput) {
  Tensor x = tensor<int32_t>({2}, {4, 5});
  EXPECT_TRUE(run_op(op("Identity"), {x})[0].equals(x));
}

}  // namespace
}  // namespace onnxq::test
