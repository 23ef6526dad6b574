#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "onnxq/error.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::op;
using test::run_op;

std::vector<float> floats(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }
Tensor vec(std::vector<float> v) { return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v); }

void expect_near(const std::vector<float>& got, const std::vector<float>& want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << i;
}

TEST(LayerNormalization, NormalizesEachRowAndReturnsItsStatistics) {
  // Row {1, 3}: mean 2, variance 1; row {0, 4}: mean 2, variance 4.
  auto x = Tensor::from_vector<float>({2, 2}, {1, 3, 0, 4});
  auto node = op("LayerNormalization");
  attr_float(node, "epsilon", 0.0f);
  auto out = run_op(node, {x, vec({2, 1}), vec({0, 10})}, 3, 17);
  expect_near(floats(out[0]), {-2, 11, -2, 11});
  EXPECT_EQ(out[1].shape(), (Shape{2, 1}));
  expect_near(floats(out[1]), {2, 2});
  expect_near(floats(out[2]), {1, 0.5f});
}

TEST(LayerNormalization, NormalizesFromTheAxisOnwardsWithoutBias) {
  auto x = Tensor::from_vector<float>({1, 2, 2}, {1, 3, 0, 4});  // mean 2, variance 2.5
  auto node = op("LayerNormalization");
  attr_int(node, "axis", 1);
  attr_float(node, "epsilon", 0.0f);
  auto y = floats(run_op(node, {x, vec({1, 1})}, 1, 17)[0]);
  const float s = 1 / std::sqrt(2.5f);
  expect_near(y, {-s, s, -2 * s, 2 * s});
}

TEST(BatchNormalization, AppliesTheRunningStatisticsPerChannel) {
  auto x = Tensor::from_vector<float>({1, 2, 2}, {1, 2, 3, 4});
  auto node = op("BatchNormalization");
  attr_float(node, "epsilon", 0.0f);
  auto y = floats(run_op(node, {x, vec({1, 2}), vec({0, 1}), vec({1, 3}), vec({4, 1})}, 1, 15)[0]);
  expect_near(y, {0, 0.5f, 1, 3});
}

TEST(BatchNormalization, RejectsTrainingModeAsUnsupported) {
  auto node = op("BatchNormalization");
  attr_int(node, "training_mode", 1);
  auto x = Tensor::from_vector<float>({1, 1, 1}, {1});
  try {
    run_op(node, {x, vec({1}), vec({0}), vec({0}), vec({1})}, 3, 15);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
}

TEST(InstanceNormalization, NormalizesEachChannelOfEachSample) {
  auto x = Tensor::from_vector<float>({1, 2, 2}, {1, 3, 0, 4});
  auto node = op("InstanceNormalization");
  attr_float(node, "epsilon", 0.0f);
  auto y = floats(run_op(node, {x, vec({1, 2}), vec({0, 1})}, 1, 6)[0]);
  expect_near(y, {-1, 1, -1, 3});
}

TEST(GroupNormalization, ScalesPerGroupAtOpset18) {
  // Two groups of one channel each: the same as instance normalization.
  auto x = Tensor::from_vector<float>({1, 2, 2}, {1, 3, 0, 4});
  auto node = op("GroupNormalization");
  attr_int(node, "num_groups", 2);
  attr_float(node, "epsilon", 0.0f);
  auto y = floats(run_op(node, {x, vec({1, 2}), vec({0, 1})}, 1, 18)[0]);
  expect_near(y, {-1, 1, -1, 3});
}

TEST(GroupNormalization, ScalesPerChannelAtOpset21) {
  // One group over {1, 3, 0, 4}: mean 2, variance 2.5.
  auto x = Tensor::from_vector<float>({1, 2, 2}, {1, 3, 0, 4});
  auto node = op("GroupNormalization");
  attr_int(node, "num_groups", 1);
  attr_float(node, "epsilon", 0.0f);
  auto y = floats(run_op(node, {x, vec({1, 2}), vec({0, 0})}, 1, 21)[0]);
  const float s = 1 / std::sqrt(2.5f);
  expect_near(y, {-s, s, -4 * s, 4 * s});
}

TEST(LpNormalization, DividesByTheNormAlongTheAxisAndKeepsZeroRowsZero) {
  auto x = Tensor::from_vector<float>({2, 2}, {3, 4, 0, 0});
  expect_near(floats(run_op(op("LpNormalization"), {x}, 1, 1)[0]), {0.6f, 0.8f, 0, 0});
  auto node = op("LpNormalization");
  attr_int(node, "p", 1);
  attr_int(node, "axis", 0);
  expect_near(floats(run_op(node, {x}, 1, 1)[0]), {1, 1, 0, 0});
}

TEST(MeanVarianceNormalization, NormalizesOverTheGivenAxes) {
  auto x = Tensor::from_vector<float>({2, 2}, {1, 3, 0, 4});
  auto node = op("MeanVarianceNormalization");
  attr_ints(node, "axes", {1});
  expect_near(floats(run_op(node, {x}, 1, 13)[0]), {-1, 1, -1, 1});
}

TEST(LayerNormalization, IsBitIdenticalForAnyThreadCount) {
  const Tensor x = test::random_tensor({300, 64}, 5);
  const Tensor s = test::random_tensor({64}, 6);
  EXPECT_TRUE(run_op(op("LayerNormalization"), {x, s}, 1, 17, 1)[0].equals(
      run_op(op("LayerNormalization"), {x, s}, 1, 17, 4)[0]));
}

}  // namespace
}  // namespace onnxq
