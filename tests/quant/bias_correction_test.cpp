#include "quant/static/bias_correction.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "onnxq/executor.hpp"
#include "onnxq/weight_quant.hpp"
#include "quant/static/weight_spec.hpp"
#include "support/graph_builder.hpp"
#include "support/static_quant.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

// Inputs in [0, 1): a non-zero mean, as ReLU outputs have, is what makes weight rounding shift
// the outputs' mean.
std::vector<Tensor> samples(const Shape& shape, int n) {
  std::vector<Tensor> xs;
  for (int i = 0; i < n; ++i) xs.push_back(test::random_tensor(shape, 100 + i, 0.0f, 1.0f));
  return xs;
}

void observe_and_correct(Model& m, const std::vector<Tensor>& xs, const StaticQuantOptions& options) {
  BiasCorrectionObserver observer(m, options);
  Executor e(m, {1});
  for (const auto& x : xs) e.run({{"x", x}}, [&](const std::string& name, const Tensor& v) { observer.observe(name, v); });
  apply_bias_correction(m, observer, options);
}

// Test models are in memory with inline data, so a copy of the proto is a copy of the model.
Model copy_of(const Model& m) { return Model(onnx::ModelProto(m.proto())); }

// `m` with its weight `w` replaced by what quantize_static makes of it.
Model with_rounded_weight(const Model& m, const std::string& w, int axis, const StaticQuantOptions& options) {
  Model out = copy_of(m);
  const WeightQuantSpec spec = static_weight_spec(options, axis);
  out.set_initializer(w, dequantize_weight(quantize_weight(test::initializer_value(m, w), spec), spec));
  return out;
}

// Per output channel (axis 1 for rank > 2 unless `channels_last`, else the last axis), the mean
// of b − a over every sample and position, and the largest |mean|.
double largest_mean_error(const Model& a, const Model& b, const std::vector<Tensor>& xs, bool channels_last = false) {
  Executor ea(a, {1}), eb(b, {1});
  std::vector<double> sum;
  int64_t count = 0;
  for (const auto& x : xs) {
    const Tensor ya = ea.run({{"x", x}})[0], yb = eb.run({{"x", x}})[0];
    const bool axis1 = ya.rank() > 2 && !channels_last;
    const int64_t channels = axis1 ? ya.shape()[1] : ya.shape().back();
    const int64_t inner = axis1 ? ya.numel() / (ya.shape()[0] * channels) : 1;
    sum.resize(static_cast<size_t>(channels), 0.0);
    for (int64_t i = 0; i < ya.numel(); ++i) {
      const int64_t c = axis1 ? (i / inner) % channels : i % channels;
      sum[static_cast<size_t>(c)] += static_cast<double>(yb.data<float>()[i]) - ya.data<float>()[i];
    }
    count += ya.numel() / channels;
  }
  double worst = 0.0;
  for (double s : sum) worst = std::max(worst, std::fabs(s / static_cast<double>(count)));
  return worst;
}

Model conv_model(const Shape& input, int64_t cout, int64_t group, std::vector<int64_t> kernel,
                 std::vector<int64_t> strides, std::vector<int64_t> pads, std::vector<int64_t> dilations,
                 bool bias = true) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, std::vector<test::Dim>(input.begin(), input.end()));
  g.output("y", DataType::kFloat);
  Shape wshape{cout, input[1] / group};
  wshape.insert(wshape.end(), kernel.begin(), kernel.end());
  g.initializer("w", test::random_tensor(wshape, 7, -0.8f, 0.8f));
  std::vector<std::string> in{"x", "w"};
  if (bias) {
    g.initializer("b", test::random_tensor({cout}, 8));
    in.push_back("b");
  }
  auto& n = g.node("Conv", in, {"y"}, "conv");
  test::attr_int(n, "group", group);
  test::attr_ints(n, "strides", strides);
  test::attr_ints(n, "pads", pads);
  test::attr_ints(n, "dilations", dilations);
  return g.model();
}

struct ConvCase {
  const char* what;
  Shape input;
  int64_t cout, group;
  std::vector<int64_t> kernel, strides, pads, dilations;
};

TEST(BiasCorrection, CancelsTheMeanOutputShiftOfRoundedConvWeights) {
  const ConvCase cases[] = {
      {"3x3, pads 1", {1, 4, 9, 11}, 6, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {"grouped, strided, dilated, uneven pads", {1, 4, 10, 9}, 6, 2, {3, 2}, {2, 3}, {2, 0, 1, 1}, {2, 1}},
      // One row: the kernel's top and bottom rows only ever read padding, so a mean over the whole
      // feature map would triple the correction.
      {"a feature map one row high", {1, 3, 1, 12}, 5, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {"1-D", {1, 3, 20}, 4, 1, {5}, {2}, {2, 2}, {1}},
  };
  StaticQuantOptions options;  // the default: int8 weights, one scale per tensor
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const Model float_model = conv_model(c.input, c.cout, c.group, c.kernel, c.strides, c.pads, c.dilations);
    const auto xs = samples(c.input, 3);
    const double before = largest_mean_error(float_model, with_rounded_weight(float_model, "w", 0, options), xs);
    Model corrected = copy_of(float_model);
    observe_and_correct(corrected, xs, options);
    const double after = largest_mean_error(float_model, with_rounded_weight(corrected, "w", 0, options), xs);
    EXPECT_GT(before, 1e-4);
    EXPECT_LT(after, 1e-6);
  }
}

TEST(BiasCorrection, WorksWithPerChannelWeightsToo) {
  StaticQuantOptions options;
  options.per_channel = true;
  const Model float_model = conv_model({1, 8, 6, 6}, 4, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1});
  const auto xs = samples({1, 8, 6, 6}, 2);
  Model corrected = copy_of(float_model);
  observe_and_correct(corrected, xs, options);
  EXPECT_LT(largest_mean_error(float_model, with_rounded_weight(corrected, "w", 0, options), xs), 1e-6);
}

TEST(BiasCorrection, GivesABiasToAConvWithout) {
  const Model float_model = conv_model({1, 3, 5, 5}, 4, 1, {3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false);
  const auto xs = samples({1, 3, 5, 5}, 2);
  Model corrected = copy_of(float_model);
  observe_and_correct(corrected, xs, {});
  ASSERT_EQ(corrected.graph().node(0).input_size(), 3);
  EXPECT_EQ(test::initializer_value(corrected, corrected.graph().node(0).input(2)).shape(), (Shape{4}));
  EXPECT_LT(largest_mean_error(float_model, with_rounded_weight(corrected, "w", 0, {}), xs), 1e-6);
}

TEST(BiasCorrection, CopiesABiasThatAnotherNodeReads) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2, 4, 4}).output("y", DataType::kFloat).output("z", DataType::kFloat);
  g.initializer("w", test::random_tensor({4, 2, 1, 1}, 3));
  g.initializer("b", test::random_tensor({4}, 4));
  g.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
  g.node("Add", {"x", "b"}, {"z"}, "add");  // broadcasts b over the last axis
  Model m = g.model();
  const Tensor b = test::initializer_value(m, "b");
  observe_and_correct(m, samples({1, 2, 4, 4}, 1), {});
  EXPECT_NE(m.graph().node(0).input(2), "b");
  EXPECT_EQ(m.graph().node(1).input(1), "b");
  const Tensor kept = test::initializer_value(m, "b");
  EXPECT_EQ(std::vector<float>(kept.data<float>(), kept.data<float>() + 4),
            std::vector<float>(b.data<float>(), b.data<float>() + 4));
}

TEST(BiasCorrection, CancelsTheShiftOfAGemmWithTransposedWeightAlphaAndBeta) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {5, 12}).output("y", DataType::kFloat);
  g.initializer("w", test::random_tensor({7, 12}, 11, -0.9f, 0.9f));  // transB: [N, K]
  g.initializer("c", test::random_tensor({7}, 12));
  auto& n = g.node("Gemm", {"x", "w", "c"}, {"y"}, "gemm");
  test::attr_int(n, "transB", 1);
  test::attr_float(n, "alpha", 0.5f);
  test::attr_float(n, "beta", 2.0f);
  const Model float_model = g.model();
  const auto xs = samples({5, 12}, 3);
  const StaticQuantOptions options;
  const double before = largest_mean_error(float_model, with_rounded_weight(float_model, "w", 0, options), xs);
  Model corrected = copy_of(float_model);
  observe_and_correct(corrected, xs, options);
  EXPECT_GT(before, 1e-4);
  EXPECT_LT(largest_mean_error(float_model, with_rounded_weight(corrected, "w", 0, options), xs), 1e-6);
}

// x -> MatMul(w) -> Add(b) -> y, as PyTorch exports a Linear layer.
Model linear_model(bool second_reader) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 5, 12}).output("y", DataType::kFloat);
  g.initializer("w", test::random_tensor({12, 7}, 21, -0.9f, 0.9f));
  g.initializer("b", test::random_tensor({7}, 22));
  g.node("MatMul", {"x", "w"}, {"h"}, "linear");
  g.node("Add", {"b", "h"}, {"y"}, "bias");
  if (second_reader) {
    g.output("h2", DataType::kFloat);
    g.node("Relu", {"h"}, {"h2"}, "relu");
  }
  return g.model();
}

TEST(BiasCorrection, ShiftsTheAddAfterAMatMul) {
  const Model float_model = linear_model(false);
  const auto xs = samples({2, 5, 12}, 3);
  const StaticQuantOptions options;
  const double before =
      largest_mean_error(float_model, with_rounded_weight(float_model, "w", 1, options), xs, true);
  Model corrected = copy_of(float_model);
  observe_and_correct(corrected, xs, options);
  EXPECT_GT(before, 1e-4);
  EXPECT_LT(largest_mean_error(float_model, with_rounded_weight(corrected, "w", 1, options), xs, true), 1e-6);
}

TEST(BiasCorrection, LeavesAMatMulAloneWhenItsOutputHasAnotherReader) {
  Model m = linear_model(true);
  const Tensor b = test::initializer_value(m, "b");
  observe_and_correct(m, samples({2, 5, 12}, 1), {});
  const Tensor after = test::initializer_value(m, "b");
  EXPECT_EQ(std::vector<float>(after.data<float>(), after.data<float>() + 7),
            std::vector<float>(b.data<float>(), b.data<float>() + 7));
}

TEST(BiasCorrection, LeavesExcludedNodesAlone) {
  Model m = conv_model({1, 3, 5, 5}, 4, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1});
  const Tensor b = test::initializer_value(m, "b");
  StaticQuantOptions options;
  options.nodes_exclude = {"conv"};
  observe_and_correct(m, samples({1, 3, 5, 5}, 1), options);
  const Tensor after = test::initializer_value(m, "b");
  EXPECT_EQ(std::vector<float>(after.data<float>(), after.data<float>() + 4),
            std::vector<float>(b.data<float>(), b.data<float>() + 4));
}

}  // namespace
}  // namespace onnxq
