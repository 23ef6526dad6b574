#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "onnxq/error.hpp"
#include "onnxq/float16.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_int;
using test::attr_ints;
using test::iota_tensor;
using test::op;
using test::run_op;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

Tensor axes(std::vector<int64_t> a) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(a.size())}, a); }

// x = [[[0,1,2],[3,4,5]], [[6,7,8],[9,10,11]]], shape [2, 2, 3].
Tensor x223() { return iota_tensor({2, 2, 3}); }

TEST(ReduceSum, SumsTheMiddleAxisKeepingItAsOne) {
  auto node = op("ReduceSum");
  auto y = run_op(node, {x223(), axes({1})}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(values(y), (std::vector<float>{3, 5, 7, 15, 17, 19}));
}

TEST(ReduceSum, TakesAxesFromTheAttributeBeforeOpset13) {
  auto node = op("ReduceSum");
  attr_ints(node, "axes", {0, 2});
  attr_int(node, "keepdims", 0);
  auto y = run_op(node, {x223()}, 1, 11)[0];
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(values(y), (std::vector<float>{0 + 1 + 2 + 6 + 7 + 8, 3 + 4 + 5 + 9 + 10 + 11}));
}

TEST(ReduceSum, ReducesEverythingWithoutAxes) {
  auto y = run_op(op("ReduceSum"), {x223()}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(values(y), (std::vector<float>{66}));
}

TEST(ReduceSum, PassesTheInputThroughForEmptyAxesWithNoop) {
  auto node = op("ReduceSum");
  attr_int(node, "noop_with_empty_axes", 1);
  auto y = run_op(node, {x223(), axes({})}, 1, 13)[0];
  EXPECT_TRUE(y.equals(x223()));
}

TEST(ReduceSum, WrapsIntegersLikeTheElementType) {
  auto x = Tensor::from_vector<int8_t>({3}, {100, 100, -10});
  auto y = run_op(op("ReduceSum"), {x}, 1, 13)[0];
  EXPECT_EQ(y.data<int8_t>()[0], static_cast<int8_t>(190));
}

TEST(ReduceSum, GivesZeroForAnEmptyAxis) {
  auto y = run_op(op("ReduceSum"), {Tensor(DataType::kFloat, {2, 0}), axes({1})}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(values(y), (std::vector<float>{0, 0}));
}

TEST(ReduceSum, RejectsAnAxisOutOfRange) {
  try {
    run_op(op("ReduceSum"), {x223(), axes({3})}, 1, 13);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(ReduceSum, IsBitIdenticalForAnyThreadCount) {
  const Tensor x = test::random_tensor({64, 300, 40}, 7);
  for (std::vector<int64_t> a : {std::vector<int64_t>{2}, {0}, {1}, {0, 2}})
    EXPECT_TRUE(run_op(op("ReduceSum"), {x, axes(a)}, 1, 13, 1)[0].equals(
        run_op(op("ReduceSum"), {x, axes(a)}, 1, 13, 4)[0]));
}

TEST(ReduceMean, AveragesTheLastAxis) {
  auto node = op("ReduceMean");
  attr_ints(node, "axes", {-1});
  auto y = run_op(node, {x223()}, 1, 17)[0];
  EXPECT_EQ(values(y), (std::vector<float>{1, 4, 7, 10}));
}

TEST(ReduceMean, TakesAxesAsAnInputFromOpset18) {
  auto y = run_op(op("ReduceMean"), {x223(), axes({0})}, 1, 18)[0];
  EXPECT_EQ(values(y), (std::vector<float>{3, 4, 5, 6, 7, 8}));
}

TEST(ReduceMax, FindsTheMaximumAndPropagatesNaN) {
  auto x = Tensor::from_vector<float>({2, 3}, {1, 5, 2, -1, NAN, 3});
  auto node = op("ReduceMax");
  attr_ints(node, "axes", {1});
  auto y = run_op(node, {x}, 1, 13)[0];
  EXPECT_EQ(y.data<float>()[0], 5);
  EXPECT_TRUE(std::isnan(y.data<float>()[1]));
}

TEST(ReduceMin, FindsTheMinimumOfIntegers) {
  auto x = Tensor::from_vector<int32_t>({2, 2}, {4, -7, 3, 9});
  auto node = op("ReduceMin");
  attr_ints(node, "axes", {0});
  auto y = run_op(node, {x}, 1, 13)[0];
  EXPECT_EQ(std::vector<int32_t>(y.data<int32_t>(), y.data<int32_t>() + 2), (std::vector<int32_t>{3, -7}));
}

TEST(ReduceProd, MultipliesTheFirstAxis) {
  auto node = op("ReduceProd");
  attr_ints(node, "axes", {0});
  auto y = run_op(node, {x223()}, 1, 13)[0];
  EXPECT_EQ(values(y), (std::vector<float>{0, 7, 16, 27, 40, 55}));
}

TEST(ReduceL1, SumsMagnitudes) {
  auto x = Tensor::from_vector<float>({4}, {1, -2, 3, -4});
  EXPECT_EQ(values(run_op(op("ReduceL1"), {x}, 1, 13)[0]), (std::vector<float>{10}));
}

TEST(ReduceL2, TakesTheEuclideanNorm) {
  auto x = Tensor::from_vector<float>({2}, {3, -4});
  EXPECT_EQ(values(run_op(op("ReduceL2"), {x}, 1, 13)[0]), (std::vector<float>{5}));
}

TEST(ReduceSumSquare, SumsSquares) {
  auto x = Tensor::from_vector<float>({3}, {1, -2, 3});
  EXPECT_EQ(values(run_op(op("ReduceSumSquare"), {x}, 1, 13)[0]), (std::vector<float>{14}));
}

TEST(ReduceLogSum, TakesTheLogOfTheSum) {
  auto x = Tensor::from_vector<float>({2}, {1, 2});
  EXPECT_FLOAT_EQ(values(run_op(op("ReduceLogSum"), {x}, 1, 13)[0])[0], std::log(3.0f));
}

TEST(ReduceLogSumExp, StaysFiniteForLargeInputs) {
  auto x = Tensor::from_vector<float>({2}, {1000, 1000});
  EXPECT_FLOAT_EQ(values(run_op(op("ReduceLogSumExp"), {x}, 1, 13)[0])[0], 1000 + std::log(2.0f));
}

TEST(ReduceMean, ComputesFloat16InFloat) {
  Tensor x(DataType::kFloat16, {3});
  const float in[] = {1.0f, 2.0f, 4.5f};
  for (int i = 0; i < 3; ++i) x.data<uint16_t>()[i] = float_to_half(in[i]);
  auto y = run_op(op("ReduceMean"), {x}, 1, 13)[0];
  EXPECT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_FLOAT_EQ(half_to_float(y.data<uint16_t>()[0]), 2.5f);
}

}  // namespace
}  // namespace onnxq
