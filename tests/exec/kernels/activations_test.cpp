#include <gtest/gtest.h>

#include <cmath>

#include "exec/kernels/elementwise_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

std::vector<float> run_f(onnx::NodeProto node, std::vector<float> x, int64_t opset = 17) {
  const auto n = static_cast<int64_t>(x.size());
  return values<float>(run_op(std::move(node), {tensor<float>({n}, std::move(x))}, 1, opset)[0]);
}

TEST(Activations, ReluZeroesNegativesOfAnySignedType) {
  EXPECT_EQ(run_f(op("Relu"), {-1.0f, 0.0f, 2.0f}), (std::vector<float>{0, 0, 2}));
  Tensor y = run_op(op("Relu"), {tensor<int8_t>({2}, {-5, 5})}, 1, 14)[0];
  EXPECT_EQ(values<int8_t>(y), (std::vector<int8_t>{0, 5}));
}

TEST(Activations, LeakyReluAndEluUseAlpha) {
  auto leaky = op("LeakyRelu");
  attr_float(leaky, "alpha", 0.25f);
  EXPECT_EQ(run_f(leaky, {-4.0f, 3.0f}), (std::vector<float>{-1.0f, 3.0f}));
  auto elu = op("Elu");
  attr_float(elu, "alpha", 2.0f);
  auto y = run_f(elu, {-1.0f, 3.0f});
  EXPECT_FLOAT_EQ(y[0], 2.0f * (std::exp(-1.0f) - 1.0f));
  EXPECT_EQ(y[1], 3.0f);
}

TEST(Activations, SigmoidStaysFiniteForLargeInputs) {
  auto y = run_f(op("Sigmoid"), {-1000.0f, 0.0f, 1000.0f});
  EXPECT_EQ(y, (std::vector<float>{0.0f, 0.5f, 1.0f}));
  auto s = run_f(op("Softplus"), {-1000.0f, 1000.0f});
  EXPECT_EQ(s, (std::vector<float>{0.0f, 1000.0f}));
}

TEST(Activations, HardSigmoidAndHardSwishSaturate) {
  EXPECT_EQ(run_f(op("HardSigmoid"), {-10.0f, 1.0f, 10.0f}), (std::vector<float>{0.0f, 0.7f, 1.0f}));
  EXPECT_EQ(run_f(op("HardSwish"), {-4.0f, 0.0f, 4.0f}, 14), (std::vector<float>{0.0f, 0.0f, 4.0f}));
}

TEST(Activations, GeluHasAnExactAndATanhForm) {
  auto exact = run_f(op("Gelu"), {1.0f}, 20);
  EXPECT_FLOAT_EQ(exact[0], 0.5f * (1.0f + std::erf(1.0f / std::sqrt(2.0f))));
  auto node = op("Gelu");
  attr_string(node, "approximate", "tanh");
  auto approx = run_f(node, {1.0f}, 20);
  EXPECT_NEAR(approx[0], 0.841192f, 1e-6f);
  auto bogus = op("Gelu");
  attr_string(bogus, "approximate", "bogus");
  EXPECT_THROW(run_f(bogus, {1.0f}, 20), Error);
}

TEST(Activations, ClipReadsAttributesBeforeOpset11AndInputsAfter) {
  auto old = op("Clip");
  attr_float(old, "min", -1.0f);
  attr_float(old, "max", 1.0f);
  EXPECT_EQ(run_f(old, {-3.0f, 0.5f, 3.0f}, 6), (std::vector<float>{-1.0f, 0.5f, 1.0f}));
  Tensor x = tensor<int32_t>({3}, {-3, 1, 9});
  Tensor lo = tensor<int32_t>({}, {0});
  EXPECT_EQ(values<int32_t>(run_op(op("Clip"), {x, lo})[0]), (std::vector<int32_t>{0, 1, 9}));
  Tensor hi = tensor<int32_t>({}, {4});
  EXPECT_EQ(values<int32_t>(run_op(op("Clip"), {x, Tensor(), hi})[0]), (std::vector<int32_t>{-3, 1, 4}));
}

TEST(Activations, PReluBroadcastsTheSlopePerChannel) {
  Tensor x = tensor<float>({2, 2}, {-1, 1, -2, 2});
  Tensor slope = tensor<float>({2, 1}, {0.5f, 3.0f});
  EXPECT_EQ(values<float>(run_op(op("PRelu"), {x, slope})[0]), (std::vector<float>{-0.5f, 1, -6, 2}));
}

TEST(Activations, ShrinkZeroesTheBandAndShiftsTheRest) {
  auto node = op("Shrink");
  attr_float(node, "lambd", 1.0f);
  attr_float(node, "bias", 0.25f);
  EXPECT_EQ(run_f(node, {-2.0f, -0.75f, 0.75f, 2.0f}), (std::vector<float>{-1.75f, 0, 0, 1.75f}));
}

}  // namespace
}  // namespace onnxq::test
