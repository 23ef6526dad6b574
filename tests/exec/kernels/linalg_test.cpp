#include <gtest/gtest.h>

#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_float;
using test::attr_int;
using test::op;
using test::random_tensor;
using test::run_op;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

TEST(MatMul, MultipliesTwoMatrices) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor y = run_op(op("MatMul"), {a, b})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(y), (std::vector<float>{4, 5, 10, 11}));
}

TEST(MatMul, OneDimensionalOperandsLoseTheirUnitDimension) {
  Tensor v = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor m = Tensor::from_vector<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor left = run_op(op("MatMul"), {v, m})[0];
  EXPECT_EQ(left.shape(), (Shape{2}));
  EXPECT_EQ(values(left), (std::vector<float>{4, 5}));
  Tensor dot = run_op(op("MatMul"), {v, v})[0];
  EXPECT_EQ(dot.shape(), (Shape{}));
  EXPECT_EQ(values(dot), (std::vector<float>{14}));
}

TEST(MatMul, BroadcastsBatchDimensions) {
  // a: [2, 1, 2, 2] identity and 2*identity; b: [3, 2, 2] three matrices.
  Tensor a = Tensor::from_vector<float>({2, 1, 2, 2}, {1, 0, 0, 1, 2, 0, 0, 2});
  Tensor b = test::iota_tensor<float>({3, 2, 2});
  Tensor y = run_op(op("MatMul"), {a, b})[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 2, 2}));
  for (int64_t i = 0; i < 12; ++i) {
    EXPECT_EQ(y.data<float>()[i], float(i));
    EXPECT_EQ(y.data<float>()[12 + i], 2.0f * float(i));
  }
}

TEST(MatMul, MultipliesIntegerMatrices) {
  Tensor a = Tensor::from_vector<int32_t>({1, 2}, {3, -4});
  Tensor b = Tensor::from_vector<int32_t>({2, 1}, {5, 6});
  EXPECT_EQ(run_op(op("MatMul"), {a, b})[0].data<int32_t>()[0], -9);
}

TEST(MatMul, BatchedProductsAreBitIdenticalAcrossThreadCounts) {
  Tensor a = random_tensor({6, 8, 33, 64}, 1), b = random_tensor({6, 8, 64, 33}, 2);
  Tensor one = run_op(op("MatMul"), {a, b}, 1, 17, 1)[0];
  EXPECT_TRUE(one.equals(run_op(op("MatMul"), {a, b}, 1, 17, 3)[0]));
  Tensor w = random_tensor({64, 700}, 3);
  EXPECT_TRUE(run_op(op("MatMul"), {a, w}, 1, 17, 1)[0].equals(run_op(op("MatMul"), {a, w}, 1, 17, 3)[0]));
}

TEST(MatMul, RejectsMismatchedInnerDimensions) {
  try {
    run_op(op("MatMul"), {random_tensor({2, 3}, 1), random_tensor({2, 3}, 2)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(Gemm, AppliesTransposesAlphaAndABroadcastRowBias) {
  Tensor a = Tensor::from_vector<float>({3, 2}, {1, 4, 2, 5, 3, 6});  // A^T = [[1,2,3],[4,5,6]]
  Tensor b = Tensor::from_vector<float>({2, 3}, {1, 0, 1, 0, 1, 1});  // B^T = [[1,0],[0,1],[1,1]]
  Tensor c = Tensor::from_vector<float>({2}, {10, 20});
  auto node = op("Gemm");
  attr_int(node, "transA", 1);
  attr_int(node, "transB", 1);
  attr_float(node, "alpha", 2.0f);
  attr_float(node, "beta", 0.5f);
  Tensor y = run_op(node, {a, b, c})[0];
  // A^T B^T = [[4, 5], [10, 11]]
  EXPECT_EQ(values(y), (std::vector<float>{13, 20, 25, 32}));
}

TEST(Gemm, BroadcastsAColumnBiasAndWorksWithoutOne) {
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2, 2}, {1, 0, 0, 1});
  Tensor c = Tensor::from_vector<float>({2, 1}, {100, 200});
  EXPECT_EQ(values(run_op(op("Gemm"), {a, b, c})[0]), (std::vector<float>{101, 102, 203, 204}));
  EXPECT_EQ(values(run_op(op("Gemm"), {a, b})[0]), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Gemm, RejectsABiasThatDoesNotBroadcast) {
  try {
    run_op(op("Gemm"), {random_tensor({2, 2}, 1), random_tensor({2, 2}, 2), random_tensor({3}, 3)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

}  // namespace
}  // namespace onnxq
