#include <gtest/gtest.h>

#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_string;
using test::op;
using test::run_op;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

Tensor einsum(const std::string& equation, const std::vector<Tensor>& inputs) {
  auto node = op("Einsum");
  attr_string(node, "equation", equation);
  return run_op(node, inputs, 1, 12)[0];
}

TEST(Einsum, ContractsASharedLabelLikeMatMul) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  EXPECT_EQ(values(einsum("ij,jk->ik", {a, b})), (std::vector<float>{4, 5, 10, 11}));
  // Implicit output: labels used once, alphabetically.
  EXPECT_EQ(values(einsum("ij,jk", {a, b})), (std::vector<float>{4, 5, 10, 11}));
}

TEST(Einsum, TransposesAndSumsWithoutContraction) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor t = einsum("ij->ji", {a});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(values(t), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(values(einsum("ij->i", {a})), (std::vector<float>{6, 15}));
}

TEST(Einsum, RepeatedLabelsReadTheDiagonalAcrossAnEllipsis) {
  Tensor a = test::iota_tensor<float>({2, 2, 2});  // two 2x2 matrices 0..3 and 4..7
  Tensor d = einsum("...ii->...i", {a});
  EXPECT_EQ(d.shape(), (Shape{2, 2}));
  EXPECT_EQ(values(d), (std::vector<float>{0, 3, 4, 7}));
}

TEST(Einsum, BroadcastsEllipsisDimensions) {
  Tensor a = test::iota_tensor<float>({2, 1, 2});
  Tensor b = Tensor::from_vector<float>({3, 2}, {1, 1, 1, 0, 0, 1});
  Tensor y = einsum("...j,...j->...", {a, b});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(y), (std::vector<float>{1, 0, 1, 5, 2, 3}));
}

TEST(Einsum, RejectsATermThatDoesNotMatchItsInput) {
  try {
    einsum("ijk->i", {test::random_tensor({2, 2}, 1)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

}  // namespace
}  // namespace onnxq
