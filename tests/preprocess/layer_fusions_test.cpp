// The passes that fold what exporters write around a layer: constant affine maps into the
// Conv/ConvTranspose/Gemm before them (fold-affine) or the Conv after them (fold-input-affine),
// and HardSwish spelt out in elementwise ops into one activation (fuse-hardswish).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "onnxq/checker.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "onnxq/preprocess.hpp"
#include "support/graph_builder.hpp"
#include "support/preprocess_checks.hpp"
#include "support/quant_checks.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

using test::pass_changes;
using test::worst_relative_diff;

void expect_valid(const Model& model) {
  const auto check = check_model(model);
  EXPECT_EQ(check.status, CheckResult::Status::kValid) << check.message;
}

TEST(FoldAffine, FoldsAPerChannelMulAndAScalarAddAfterAConvIntoItsWeightAndBias) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 3, 6, 6}).output("y", DataType::kFloat, {1, 4, 6, 6});
  g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
  g.initializer("b", test::random_tensor({4}, 2));
  g.initializer("s", Tensor::from_vector<float>({4, 1, 1}, {0.5f, -2, 3, 0.25f}));
  g.initializer("t", Tensor::from_vector<float>({}, {0.75f}));
  test::attr_ints(g.node("Conv", {"x", "w", "b"}, {"c"}), "pads", {1, 1, 1, 1});
  g.node("Mul", {"s", "c"}, {"m"});
  g.node("Add", {"m", "t"}, {"y"});
  const Model original = g.model();
  Model model = g.model();
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "fold-affine"), 2);
  EXPECT_EQ(test::op_counts(model), (std::map<std::string, int>{{"Conv", 1}}));
  EXPECT_EQ(model.graph().node(0).output(0), "y");
  expect_valid(model);
  EXPECT_LE(worst_relative_diff(model, original, {{"x", test::random_tensor({1, 3, 6, 6}, 3)}}), 1e-6);
}

TEST(FoldAffine, FoldsSubtractionAndDivisionAfterAGemmWithoutABias) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 3}).output("y", DataType::kFloat, {2, 4});
  g.initializer("w", test::random_tensor({4, 3}, 1));
  g.initializer("c", test::random_tensor({4}, 2));
  g.initializer("d", Tensor::from_vector<float>({1, 4}, {2, -4, 0.5f, 8}));
  test::attr_int(g.node("Gemm", {"x", "w"}, {"g"}), "transB", 1);
  g.node("Sub", {"c", "g"}, {"s"});  // c - y: the sign flips too
  g.node("Div", {"s", "d"}, {"y"});
  const Model original = g.model();
  Model model = g.model();
  EXPECT_EQ(pass_changes(preprocess(model, {}), "fold-affine"), 2);
  EXPECT_EQ(test::op_counts(model), (std::map<std::string, int>{{"Gemm", 1}}));
  expect_valid(model);
  EXPECT_LE(worst_relative_diff(model, original, {{"x", test::random_tensor({2, 3}, 4)}}), 1e-6);
}

TEST(FoldAffine, LeavesConstantsThatVaryAcrossSpaceOrGrowTheRankAndOutputsReadTwice) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2, 4, 4});
  g.output("y1", DataType::kFloat, {1, 2, 4, 4}).output("y2", DataType::kFloat, {1, 1, 2, 4, 4});
  g.output("y3", DataType::kFloat, {1, 2, 4, 4}).output("y4", DataType::kFloat, {1, 2, 4, 4});
  for (const char* w : {"w1", "w2", "w3"}) g.initializer(w, test::random_tensor({2, 2, 1, 1}, 1));
  g.initializer("across_width", test::random_tensor({1, 1, 1, 4}, 2));
  g.initializer("rank5", test::random_tensor({1, 1, 2, 1, 1}, 3));
  g.initializer("k", Tensor::from_vector<float>({}, {2}));
  g.node("Conv", {"x", "w1"}, {"c1"});
  g.node("Mul", {"c1", "across_width"}, {"y1"});
  g.node("Conv", {"x", "w2"}, {"c2"});
  g.node("Mul", {"c2", "rank5"}, {"y2"});
  g.node("Conv", {"x", "w3"}, {"c3"});
  g.node("Mul", {"c3", "k"}, {"y3"});
  g.node("Relu", {"c3"}, {"y4"});
  Model model = g.model();
  EXPECT_EQ(pass_changes(preprocess(model, {}), "fold-affine"), 0);
  EXPECT_EQ(test::count(test::op_counts(model), "Mul"), 3);
}

TEST(FoldInputAffine, FoldsAScaleIntoAPaddedConvAndAShiftIntoAnUnpaddedGroupedOne) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 4, 5, 5}).output("y", DataType::kFloat, {1, 4, 5, 5});
  g.output("z", DataType::kFloat, {1, 4, 3, 3});
  g.initializer("s", Tensor::from_vector<float>({1, 4, 1, 1}, {0.5f, 2, -1, 3}));
  g.initializer("t", Tensor::from_vector<float>({4, 1, 1}, {1, -2, 0.25f, 4}));
  g.initializer("w1", test::random_tensor({4, 4, 3, 3}, 1));
  g.initializer("w2", test::random_tensor({4, 2, 3, 3}, 2));
  g.initializer("b2", test::random_tensor({4}, 3));
  g.node("Relu", {"x"}, {"r1"});
  g.node("Mul", {"r1", "s"}, {"scaled"});
  test::attr_ints(g.node("Conv", {"scaled", "w1"}, {"y"}), "pads", {1, 1, 1, 1});
  g.node("Relu", {"x"}, {"r2"});
  g.node("Sub", {"r2", "t"}, {"shifted"});
  test::attr_int(g.node("Conv", {"shifted", "w2", "b2"}, {"z"}), "group", 2);
  const Model original = g.model();
  Model model = g.model();
  EXPECT_EQ(pass_changes(preprocess(model, {}), "fold-input-affine"), 2);
  EXPECT_EQ(test::op_counts(model), (std::map<std::string, int>{{"Conv", 2}, {"Relu", 2}}));
  expect_valid(model);
  const NamedTensors inputs{{"x", test::random_tensor({1, 4, 5, 5}, 4)}};
  auto a = Executor(model).run(inputs), b = Executor(original).run(inputs);
  for (size_t o = 0; o < 2; ++o)
    for (int64_t i = 0; i < b[o].numel(); ++i) EXPECT_NEAR(a[o].data<float>()[i], b[o].data<float>()[i], 1e-5) << o;
}

TEST(FoldInputAffine, LeavesAShiftBeforeAPaddedConvWhereThePaddingWouldShiftToo) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2, 4, 4}).output("y", DataType::kFloat, {1, 2, 4, 4});
  g.initializer("t", Tensor::from_vector<float>({}, {3}));
  g.initializer("w", test::random_tensor({2, 2, 3, 3}, 1));
  g.node("Add", {"x", "t"}, {"shifted"});
  test::attr_string(g.node("Conv", {"shifted", "w"}, {"y"}), "auto_pad", "SAME_UPPER");
  Model model = g.model();
  EXPECT_EQ(pass_changes(preprocess(model, {}), "fold-input-affine"), 0);
  EXPECT_EQ(test::count(test::op_counts(model), "Add"), 1);
}

// x·Clip(x + 3, 0, 6)/6 after a Conv, with the Clip's bounds as inputs (opset 11 and up) or
// attributes (before), and the division as Div by 6 or Mul by 1/6.
Model spelt_out_hardswish(int64_t opset, bool divide) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {1, 2, 4, 4}).output("y", DataType::kFloat, {1, 2, 4, 4});
  g.initializer("w", test::random_tensor({2, 2, 1, 1}, 1, -4.0f, 4.0f));
  g.initializer("three", Tensor::from_vector<float>({}, {3}));
  g.node("Conv", {"x", "w"}, {"c"});
  g.node("Add", {"c", "three"}, {"shifted"});
  if (opset >= 11) {
    g.initializer("zero", Tensor::from_vector<float>({}, {0}));
    g.initializer("six", Tensor::from_vector<float>({}, {6}));
    g.node("Clip", {"shifted", "zero", "six"}, {"relu6"});
  } else {
    auto& clip = g.node("Clip", {"shifted"}, {"relu6"});
    test::attr_float(clip, "min", 0);
    test::attr_float(clip, "max", 6);
  }
  g.node("Mul", {"relu6", "c"}, {"scaled"});
  if (divide) {
    if (opset < 11) g.initializer("six", Tensor::from_vector<float>({}, {6}));
    g.node("Div", {"scaled", "six"}, {"y"});
  } else {
    g.initializer("sixth", Tensor::from_vector<float>({}, {1.0f / 6}));
    g.node("Mul", {"sixth", "scaled"}, {"y"});
  }
  return g.model();
}

TEST(FuseHardSwish, MakesOneHardSwishFromOpset14) {
  const Model original = spelt_out_hardswish(14, true);
  Model model = spelt_out_hardswish(14, true);
  EXPECT_EQ(pass_changes(preprocess(model, {}), "fuse-hardswish"), 1);
  EXPECT_EQ(test::op_counts(model), (std::map<std::string, int>{{"Conv", 1}, {"HardSwish", 1}}));
  expect_valid(model);
  EXPECT_LE(worst_relative_diff(model, original, {{"x", test::random_tensor({1, 2, 4, 4}, 5)}}), 1e-6);
}

TEST(FuseHardSwish, MakesXTimesHardSigmoidBeforeOpset14WhateverTheSpelling) {
  for (int64_t opset : {9, 13})
    for (bool divide : {true, false}) {
      SCOPED_TRACE("opset " + std::to_string(opset) + (divide ? ", Div" : ", Mul"));
      const Model original = spelt_out_hardswish(opset, divide);
      Model model = spelt_out_hardswish(opset, divide);
      EXPECT_EQ(pass_changes(preprocess(model, {}), "fuse-hardswish"), 1);
      EXPECT_EQ(test::op_counts(model),
                (std::map<std::string, int>{{"Conv", 1}, {"HardSigmoid", 1}, {"Mul", 1}}));
      expect_valid(model);
      EXPECT_LE(worst_relative_diff(model, original, {{"x", test::random_tensor({1, 2, 4, 4}, 6)}}), 1e-6);
    }
}

TEST(FuseHardSwish, TurnsXTimesHardSigmoidIntoHardSwishWhenTheOpsetAllows) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 5}).output("y", DataType::kFloat, {2, 5});
  auto& hs = g.node("HardSigmoid", {"x"}, {"gate"});
  test::attr_float(hs, "alpha", 1.0f / 6);
  test::attr_float(hs, "beta", 0.5f);
  g.node("Mul", {"x", "gate"}, {"y"});
  Model at13 = g.model();
  EXPECT_EQ(pass_changes(preprocess(at13, {}), "fuse-hardswish"), 0);
  PreprocessOptions to14;
  to14.opset = 14;
  Model at14 = g.model();
  EXPECT_EQ(pass_changes(preprocess(at14, to14), "fuse-hardswish"), 1);
  EXPECT_EQ(test::op_counts(at14), (std::map<std::string, int>{{"HardSwish", 1}}));
}

TEST(FuseHardSwish, LeavesOtherBoundsAndIntermediatesReadElsewhereAlone) {
  // Clip(x + 3, 0, 5) is not HardSwish's gate.
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {4}).output("y", DataType::kFloat, {4});
  g.initializer("three", Tensor::from_vector<float>({}, {3}));
  g.initializer("zero", Tensor::from_vector<float>({}, {0}));
  g.initializer("five", Tensor::from_vector<float>({}, {5}));
  g.initializer("six", Tensor::from_vector<float>({}, {6}));
  g.node("Add", {"x", "three"}, {"s"});
  g.node("Clip", {"s", "zero", "five"}, {"r"});
  g.node("Mul", {"x", "r"}, {"m"});
  g.node("Div", {"m", "six"}, {"y"});
  Model other_bound = g.model();
  EXPECT_EQ(pass_changes(preprocess(other_bound, {}), "fuse-hardswish"), 0);

  // The gate is also a graph output: fusing would have to keep it anyway.
  Model shared = spelt_out_hardswish(13, true);
  auto* out = shared.graph().add_output();
  out->set_name("relu6");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  EXPECT_EQ(pass_changes(preprocess(shared, {}), "fuse-hardswish"), 0);
  EXPECT_EQ(test::count(test::op_counts(shared), "Clip"), 1);
}

}  // namespace
}  // namespace onnxq
