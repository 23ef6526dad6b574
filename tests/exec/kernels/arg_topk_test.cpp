#include <gtest/gtest.h>

#include <vector>

#include "onnxq/error.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_int;
using test::op;
using test::run_op;

std::vector<int64_t> ints(const Tensor& t) { return {t.data<int64_t>(), t.data<int64_t>() + t.numel()}; }
std::vector<float> floats(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

// Ties at 5 in the first row.
Tensor scores() { return Tensor::from_vector<float>({2, 3}, {5, 1, 5, 2, 8, -3}); }

TEST(ArgMax, ReturnsTheFirstMaximumAlongAnAxisKeepingIt) {
  auto node = op("ArgMax");
  attr_int(node, "axis", 1);
  auto y = run_op(node, {scores()}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{0, 1}));
}

TEST(ArgMax, ReturnsTheLastMaximumWithSelectLastIndex) {
  auto node = op("ArgMax");
  attr_int(node, "axis", -1);
  attr_int(node, "keepdims", 0);
  attr_int(node, "select_last_index", 1);
  auto y = run_op(node, {scores()}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{2, 1}));
}

TEST(ArgMin, ReducesTheDefaultFirstAxis) {
  auto y = run_op(op("ArgMin"), {scores()}, 1, 13)[0];
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  EXPECT_EQ(ints(y), (std::vector<int64_t>{1, 0, 1}));
}

TEST(TopK, ReturnsTheLargestSortedWithTheLowerIndexFirstOnTies) {
  auto k = Tensor::from_vector<int64_t>({1}, {2});
  auto out = run_op(op("TopK"), {scores(), k}, 2, 11);
  EXPECT_EQ(out[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(floats(out[0]), (std::vector<float>{5, 5, 8, 2}));
  EXPECT_EQ(ints(out[1]), (std::vector<int64_t>{0, 2, 1, 0}));
}

TEST(TopK, ReturnsTheSmallestAlongTheFirstAxis) {
  auto node = op("TopK");
  attr_int(node, "axis", 0);
  attr_int(node, "largest", 0);
  auto k = Tensor::from_vector<int64_t>({1}, {1});
  auto out = run_op(node, {scores(), k}, 2, 11);
  EXPECT_EQ(floats(out[0]), (std::vector<float>{2, 1, -3}));
  EXPECT_EQ(ints(out[1]), (std::vector<int64_t>{1, 0, 1}));
}

TEST(TopK, TakesKFromTheAttributeBeforeOpset10) {
  auto node = op("TopK");
  attr_int(node, "k", 1);
  auto out = run_op(node, {scores()}, 2, 9);
  EXPECT_EQ(floats(out[0]), (std::vector<float>{5, 8}));
}

TEST(TopK, RejectsKLargerThanTheAxis) {
  auto k = Tensor::from_vector<int64_t>({1}, {4});
  try {
    run_op(op("TopK"), {scores(), k}, 2, 11);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

}  // namespace
}  // namespace onnxq
