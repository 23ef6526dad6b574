#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_int;
using test::op;
using test::run_op;

std::vector<float> floats(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

// Shape [2, 2]: log 1, log 3 in each row along the last axis; columns differ.
Tensor logits() {
  return Tensor::from_vector<float>({2, 2}, {0.0f, std::log(3.0f), std::log(2.0f), std::log(6.0f)});
}

TEST(Softmax, NormalizesTheLastAxisFromOpset13) {
  auto y = floats(run_op(op("Softmax"), {logits()}, 1, 13)[0]);
  const std::vector<float> want{0.25f, 0.75f, 0.25f, 0.75f};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6) << i;
}

TEST(Softmax, NormalizesAStridedAxis) {
  auto node = op("Softmax");
  attr_int(node, "axis", 0);
  auto y = floats(run_op(node, {logits()}, 1, 13)[0]);
  const std::vector<float> want{1.0f / 3, 1.0f / 3, 2.0f / 3, 2.0f / 3};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6) << i;
}

TEST(Softmax, CoercesTo2DAtTheAxisBeforeOpset13) {
  // axis 0: one row of all four elements, 1 + 3 + 2 + 6 = 12.
  auto node = op("Softmax");
  attr_int(node, "axis", 0);
  auto y = floats(run_op(node, {logits()}, 1, 11)[0]);
  const std::vector<float> want{1.0f / 12, 3.0f / 12, 2.0f / 12, 6.0f / 12};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6) << i;
}

TEST(Softmax, StaysFiniteForLargeInputs) {
  auto x = Tensor::from_vector<float>({2}, {10000.0f, 10000.0f});
  EXPECT_EQ(floats(run_op(op("Softmax"), {x}, 1, 13)[0]), (std::vector<float>{0.5f, 0.5f}));
}

TEST(LogSoftmax, SubtractsTheLogOfTheSum) {
  auto y = floats(run_op(op("LogSoftmax"), {logits()}, 1, 13)[0]);
  EXPECT_NEAR(y[0], std::log(0.25f), 1e-6);
  EXPECT_NEAR(y[3], std::log(0.75f), 1e-6);
}

TEST(Hardmax, MarksTheFirstMaximumOnly) {
  auto x = Tensor::from_vector<float>({2, 3}, {1, 3, 3, 0, -1, -2});
  EXPECT_EQ(floats(run_op(op("Hardmax"), {x}, 1, 13)[0]), (std::vector<float>{0, 1, 0, 1, 0, 0}));
}

TEST(Softmax, IsBitIdenticalForAnyThreadCount) {
  const Tensor x = test::random_tensor({8, 64, 50}, 3, -5, 5);
  for (int64_t axis : {-1, 1}) {
    auto node = op("Softmax");
    attr_int(node, "axis", axis);
    EXPECT_TRUE(run_op(node, {x}, 1, 13, 1)[0].equals(run_op(node, {x}, 1, 13, 4)[0]));
  }
}

}  // namespace
}  // namespace onnxq
