#include "debug/output_compare.hpp"

#include <gtest/gtest.h>

#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

// x [2, 8] -> `op` ... -> y, every candidate output built on the same input.
Model model_ending_in(const std::string& how) {
  test::GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 8}).output("y", DataType::kFloat, {2, 4});
  g.initializer("W", test::random_tensor({8, 4}, 1)).initializer("b", test::random_tensor({4}, 2));
  if (how == "matmul+bias") {
    g.node("MatMul", {"x", "W"}, {"mm"}, "mm");
    g.node("Add", {"mm", "b"}, {"y"}, "bias");
  } else if (how == "softmax") {
    g.node("MatMul", {"x", "W"}, {"mm"}, "mm");
    g.node("Softmax", {"mm"}, {"y"}, "sm");
  } else if (how == "reshaped gemm") {
    g.node("Gemm", {"x", "W", "b"}, {"gm"}, "gm");
    g.node("Identity", {"gm"}, {"y"}, "id");
  } else if (how == "relu") {
    g.node("MatMul", {"x", "W"}, {"mm"}, "mm");
    g.node("Relu", {"mm"}, {"y"}, "relu");
  } else if (how == "sum of two") {
    g.node("MatMul", {"x", "W"}, {"mm"}, "mm");
    g.node("Add", {"mm", "mm"}, {"y"}, "twice");
  }
  return g.model();
}

TEST(OutputCompare, LogitsAndSoftmaxOutputsAreReadAsClassScores) {
  for (const char* how : {"matmul+bias", "softmax", "reshaped gemm"}) {
    const Model m = model_ending_in(how);
    EXPECT_TRUE(debug::made_like_class_scores(debug::GraphIndex(m), "y")) << how;
  }
}

TEST(OutputCompare, OutputsMadeByOtherOpsAreNotClassScores) {
  for (const char* how : {"relu", "sum of two"}) {
    const Model m = model_ending_in(how);
    EXPECT_FALSE(debug::made_like_class_scores(debug::GraphIndex(m), "y")) << how;
  }
  const Model m = model_ending_in("relu");
  EXPECT_FALSE(debug::made_like_class_scores(debug::GraphIndex(m), "x"));  // a graph input
}

}  // namespace
}  // namespace onnxq
