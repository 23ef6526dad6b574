// Fused steps (src/exec/graph_fuse.cpp): a Conv with the BatchNormalization, residual Add and
// Relu after it runs as one step when no tensor hook is installed, and gives the very bits
// of the unfused nodes (which a run with a hook takes), at any thread count; values that
// something else reads, graph outputs and inputs the fused kernel does not take keep the
// nodes apart or fall back to them.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <map>
#include <string>
#include <vector>

#include "exec/graph_plan.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "onnxq/tensor_proto.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

std::shared_ptr<const exec::GraphPlan> plan_of(const Model& model) {
  return exec::GraphPlan::plan(model.graph(), &model, {{"", 17}}, nullptr);
}

// Outputs of a run without a hook (fused) and of one with a hook (every node on its own).
struct Runs {
  std::vector<Tensor> fused, unfused;
  std::vector<std::string> seen;  // what the hook saw
};

Runs run_both(const Model& model, const NamedTensors& inputs, int threads = 2) {
  Executor ex(model, {threads});
  Runs r;
  r.fused = ex.run(inputs);
  r.unfused = ex.run(inputs, [&](const std::string& name, const Tensor&) { r.seen.push_back(name); });
  return r;
}

void expect_same_bits(const Runs& r) {
  ASSERT_EQ(r.fused.size(), r.unfused.size());
  for (size_t i = 0; i < r.fused.size(); ++i) EXPECT_TRUE(r.fused[i].equals(r.unfused[i])) << "output " << i;
}

// BatchNormalization parameters for `c` channels, with scales far from 1 so a missed
// normalization shows.
void add_bn(GraphBuilder& g, const std::string& p, int64_t c, uint32_t seed) {
  g.initializer(p + ".scale", test::random_tensor({c}, seed, 0.5f, 2.0f));
  g.initializer(p + ".bias", test::random_tensor({c}, seed + 1, -0.5f, 0.5f));
  g.initializer(p + ".mean", test::random_tensor({c}, seed + 2, -0.5f, 0.5f));
  g.initializer(p + ".var", test::random_tensor({c}, seed + 3, 0.3f, 2.0f));
}

onnx::NodeProto& conv(GraphBuilder& g, const std::string& x, const std::string& w, const std::string& y, int64_t k,
                      int64_t stride, int64_t group = 1, const std::string& b = "") {
  std::vector<std::string> in{x, w};
  if (!b.empty()) in.push_back(b);
  auto& node = g.node("Conv", in, {y}, y);
  test::attr_ints(node, "kernel_shape", {k, k});
  test::attr_ints(node, "strides", {stride, stride});
  test::attr_ints(node, "pads", {k / 2, k / 2, k / 2, k / 2});
  if (group != 1) test::attr_int(node, "group", group);
  return node;
}

// x [N, C, H, W] -> Conv (bias) -> BatchNormalization -> Relu -> y.
Model conv_bn_relu(int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t k, int64_t stride, int64_t group = 1) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {n, c, h, w}).output("y", DataType::kFloat);
  g.initializer("w", test::random_tensor({m, c / group, k, k}, 11));
  g.initializer("b", test::random_tensor({m}, 12));
  add_bn(g, "bn", m, 13);
  conv(g, "x", "w", "c", k, stride, group, "b");
  test::attr_float(g.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"n"}, "bn"),
                   "epsilon", 1e-3f);
  g.node("Relu", {"n"}, {"y"}, "relu");
  return g.model();
}

// A residual block: y = relu(bn2(conv2(relu(bn1(conv1(x))))) + x).
Model residual_block(int64_t c, int64_t h, int64_t w) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1, c, h, w}).output("y", DataType::kFloat);
  g.initializer("w1", test::random_tensor({c, c, 3, 3}, 21, -0.3f, 0.3f));
  g.initializer("w2", test::random_tensor({c, c, 3, 3}, 22, -0.3f, 0.3f));
  add_bn(g, "bn1", c, 23);
  add_bn(g, "bn2", c, 27);
  conv(g, "x", "w1", "c1", 3, 1);
  g.node("BatchNormalization", {"c1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"}, {"n1"}, "bn1");
  g.node("Relu", {"n1"}, {"r1"}, "relu1");
  conv(g, "r1", "w2", "c2", 3, 1);
  g.node("BatchNormalization", {"c2", "bn2.scale", "bn2.bias", "bn2.mean", "bn2.var"}, {"n2"}, "bn2");
  g.node("Add", {"x", "n2"}, {"s"}, "add");
  g.node("Relu", {"s"}, {"y"}, "relu2");
  return g.model();
}

NamedTensors input_x(const Shape& shape, uint32_t seed = 5) { return {{"x", test::random_tensor(shape, seed)}}; }

TEST(GraphFuse, ConvBatchNormReluIsOneStepWithTheUnfusedBits) {
  const Model model = conv_bn_relu(1, 5, 23, 19, 13, 3, 1);
  EXPECT_EQ(plan_of(model)->step_count(true), 3u);
  EXPECT_EQ(plan_of(model)->step_count(false), 1u);
  const Runs r = run_both(model, input_x({1, 5, 23, 19}));
  expect_same_bits(r);
  // The hook still sees every intermediate.
  EXPECT_EQ(r.seen, (std::vector<std::string>{"x", "c", "n", "y"}));
}

TEST(GraphFuse, AWatchedRunFusesWhatItsHookDoesNotRead) {
  // Watching the block's input, middle and output only: both convolutions fuse as in a plain
  // run, the hook sees those three in execution order, and the bits are the unfused ones.
  const Model model = residual_block(9, 14, 15);
  EXPECT_EQ(plan_of(model)->watch({"x", "r1", "y", "no such tensor"})->steps.size(), 2u);
  // Watching an intermediate keeps its chain apart from that point.
  EXPECT_EQ(plan_of(model)->watch({"n2"})->steps.size(), 4u);
  Executor ex(model, {2});
  const NamedTensors in = input_x({1, 9, 14, 15});
  std::vector<std::string> seen;
  const TensorWatch watch = ex.watch({"x", "r1", "y"});
  const auto watched = ex.run(in, watch, [&](const std::string& name, const Tensor&) { seen.push_back(name); });
  EXPECT_EQ(seen, (std::vector<std::string>{"x", "r1", "y"}));
  const Runs r = run_both(model, in);
  EXPECT_TRUE(watched[0].equals(r.unfused[0]));
}

TEST(GraphFuse, FusedOutputMatchesTheFormulaComputedInDouble) {
  // 1x1 convolution of one channel: y = relu((x * w + b - mean) * scale / sqrt(var + eps) + B).
  const Model model = conv_bn_relu(1, 1, 6, 7, 1, 1, 1);
  const Tensor x = test::random_tensor({1, 1, 6, 7}, 3);
  const auto y = Executor(model).run({{"x", x}})[0];
  const auto& init = model.graph().initializer();
  std::map<std::string, double> v;
  for (const auto& t : init) v[t.name()] = tensor_from_proto(t).data<float>()[0];  // all one element
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double c = double(x.data<float>()[i]) * v["w"] + v["b"];
    const double n = (c - v["bn.mean"]) * v["bn.scale"] / std::sqrt(v["bn.var"] + 1e-3) + v["bn.bias"];
    EXPECT_NEAR(y.data<float>()[i], std::max(n, 0.0), 1e-5) << "element " << i;
  }
}

TEST(GraphFuse, ResidualAddAndReluJoinTheSecondConvolution) {
  const Model model = residual_block(9, 14, 15);
  EXPECT_EQ(plan_of(model)->step_count(true), 7u);
  EXPECT_EQ(plan_of(model)->step_count(false), 2u);
  expect_same_bits(run_both(model, input_x({1, 9, 14, 15})));
}

// x -> Conv -> Clip -> y, Clip's bounds as inputs (opset 11+; "" for an absent one) or, for
// opset < 11, as attributes.
Model conv_clip(int64_t opset, const std::string& lo, const std::string& hi, bool lo_is_input = false) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {1, 6, 13, 12}).output("y", DataType::kFloat);
  if (lo_is_input) g.input("lo", DataType::kFloat, {});
  g.initializer("w", test::random_tensor({20, 6, 3, 3}, 71));
  conv(g, "x", "w", "c", 3, 1);
  if (opset < 11) {
    auto& clip = g.node("Clip", {"c"}, {"y"}, "clip");
    if (!lo.empty()) test::attr_float(clip, "min", std::stof(lo));
    if (!hi.empty()) test::attr_float(clip, "max", std::stof(hi));
    return g.model();
  }
  if (!lo.empty() && !lo_is_input) g.initializer("lo", Tensor::from_vector<float>({}, {std::stof(lo)}));
  if (!hi.empty()) g.initializer("hi", Tensor::from_vector<float>({}, {std::stof(hi)}));
  g.node("Clip", {"c", lo.empty() ? "" : "lo", hi.empty() ? "" : "hi"}, {"y"}, "clip");
  return g.model();
}

TEST(GraphFuse, AClipWithConstantBoundsJoinsTheConvolution) {
  // ReLU6 as MobileNets write it, a Clip with only a max, and the attribute form of opset 6.
  for (const auto& [opset, lo, hi] : {std::tuple<int64_t, std::string, std::string>{13, "0", "6"}, {13, "", "0.5"},
                                      {13, "-0.4", "0.3"}, {6, "0", "6"}, {6, "-0.2", ""}}) {
    SCOPED_TRACE(testing::Message() << "opset " << opset << " [" << lo << ", " << hi << "]");
    const Model model = conv_clip(opset, lo, hi);
    EXPECT_EQ(exec::GraphPlan::plan(model.graph(), &model, {{"", opset}}, nullptr)->step_count(false), 1u);
    const Runs r = run_both(model, {{"x", test::random_tensor({1, 6, 13, 12}, 72)}});
    expect_same_bits(r);
    const float* y = r.fused[0].data<float>();
    const auto [low, high] = std::minmax_element(y, y + r.fused[0].numel());
    // The bounds are reached: the clip did something.
    if (!lo.empty()) {
      EXPECT_EQ(*low, std::stof(lo));
    }
    if (!hi.empty()) {
      EXPECT_EQ(*high, std::stof(hi));
    }
  }
  // A bound that is only known at run time keeps the Clip apart.
  const Model runtime = conv_clip(13, "0", "6", true);
  EXPECT_EQ(plan_of(runtime)->step_count(false), 2u);
}

TEST(GraphFuse, FusedRunsAreBitIdenticalForAnyThreadCount) {
  const Model model = residual_block(20, 7, 7);  // deep-layer tiling: few positions
  const NamedTensors in = input_x({1, 20, 7, 7});
  const Tensor one = Executor(model, {1}).run(in)[0];
  for (int threads : {2, 3, 5}) EXPECT_TRUE(Executor(model, {threads}).run(in)[0].equals(one)) << threads;
}

TEST(GraphFuse, OddShapesStridesGroupsAndDepthwiseKeepTheUnfusedBits) {
  struct Case {
    int64_t n, c, h, w, m, k, stride, group;
  };
  for (const Case& c : {Case{2, 6, 17, 11, 10, 3, 2, 2}, Case{1, 7, 5, 3, 9, 1, 1, 1}, Case{1, 8, 12, 12, 8, 3, 1, 8},
                        Case{1, 3, 40, 40, 33, 5, 1, 1}, Case{3, 300, 4, 5, 17, 3, 1, 1}}) {
    SCOPED_TRACE(testing::Message() << c.n << "x" << c.c << "x" << c.h << "x" << c.w << " -> " << c.m << " k" << c.k
                                    << " s" << c.stride << " g" << c.group);
    const Model model = conv_bn_relu(c.n, c.c, c.h, c.w, c.m, c.k, c.stride, c.group);
    EXPECT_EQ(plan_of(model)->step_count(false), 1u);
    expect_same_bits(run_both(model, input_x({c.n, c.c, c.h, c.w})));
  }
}

TEST(GraphFuse, ValuesReadElsewhereOrReturnedAreNotFusedAway) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1, 4, 9, 9}).output("y", DataType::kFloat).output("n", DataType::kFloat);
  g.initializer("w", test::random_tensor({6, 4, 3, 3}, 31));
  add_bn(g, "bn", 6, 32);
  conv(g, "x", "w", "c", 3, 1);
  g.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"n"}, "bn");
  g.node("Relu", {"n"}, {"y"}, "relu");  // n is also a graph output: Relu stays apart
  const Model model = g.model();
  EXPECT_EQ(plan_of(model)->step_count(false), 2u);
  const Runs r = run_both(model, input_x({1, 4, 9, 9}));
  expect_same_bits(r);
  ASSERT_EQ(r.fused.size(), 2u);
  EXPECT_EQ(r.fused[1].shape(), (Shape{1, 6, 9, 9}));

  GraphBuilder h;
  h.input("x", DataType::kFloat, {1, 4, 9, 9}).output("y", DataType::kFloat).output("z", DataType::kFloat);
  h.initializer("w", test::random_tensor({6, 4, 3, 3}, 31));
  add_bn(h, "bn", 6, 32);
  conv(h, "x", "w", "c", 3, 1);
  h.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"y"}, "bn");
  h.node("Relu", {"c"}, {"z"}, "relu");  // c has two readers: nothing fuses
  EXPECT_EQ(plan_of(h.model())->step_count(false), 3u);
}

TEST(GraphFuse, AResidualThatBroadcastsFallsBackToTheUnfusedKernels) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1, 4, 9, 9}).input("r", DataType::kFloat, {1, 6, 1, 9}).output("y", DataType::kFloat);
  g.initializer("w", test::random_tensor({6, 4, 3, 3}, 41));
  add_bn(g, "bn", 6, 42);
  conv(g, "x", "w", "c", 3, 1);
  g.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"n"}, "bn");
  g.node("Add", {"n", "r"}, {"s"}, "add");
  g.node("Relu", {"s"}, {"y"}, "relu");
  const Model model = g.model();
  EXPECT_EQ(plan_of(model)->step_count(false), 1u);
  const Runs r = run_both(model, {{"x", test::random_tensor({1, 4, 9, 9}, 43)}, {"r", test::random_tensor({1, 6, 1, 9}, 44)}});
  expect_same_bits(r);
  EXPECT_EQ(r.fused[0].shape(), (Shape{1, 6, 9, 9}));
}

TEST(GraphFuse, BatchNormParametersInConstantNodesFuseToo) {
  // PaddlePaddle exports keep every parameter in a Constant node.
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1, 4, 11, 10}).output("y", DataType::kFloat);
  g.constant("w", test::random_tensor({6, 4, 3, 3}, 61));
  g.constant("bn.scale", test::random_tensor({6}, 62, 0.5f, 2.0f));
  g.constant("bn.bias", test::random_tensor({6}, 63));
  g.constant("bn.mean", test::random_tensor({6}, 64));
  g.constant("bn.var", test::random_tensor({6}, 65, 0.3f, 2.0f));
  conv(g, "x", "w", "c", 3, 1);
  g.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"n"}, "bn");
  g.node("Relu", {"n"}, {"y"}, "relu");
  const Model model = g.model();
  EXPECT_EQ(plan_of(model)->step_count(true), 8u);
  EXPECT_EQ(plan_of(model)->step_count(false), 6u);  // five Constant nodes and the fused step
  expect_same_bits(run_both(model, input_x({1, 4, 11, 10})));
}

TEST(GraphFuse, DoubleConvolutionsRunTheUnfusedKernels) {
  GraphBuilder g;
  g.input("x", DataType::kDouble, {1, 3, 8, 8}).output("y", DataType::kDouble);
  Tensor w(DataType::kDouble, {4, 3, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<double>()[i] = std::sin(static_cast<double>(i));
  g.initializer("w", w);
  for (const char* p : {"scale", "bias", "mean", "var"}) {
    Tensor t(DataType::kDouble, {4});
    for (int64_t i = 0; i < 4; ++i) t.data<double>()[i] = 0.5 + 0.25 * static_cast<double>(i);
    g.initializer(std::string("bn.") + p, t);
  }
  conv(g, "x", "w", "c", 3, 1);
  g.node("BatchNormalization", {"c", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, {"n"}, "bn");
  g.node("Relu", {"n"}, {"y"}, "relu");
  Tensor x(DataType::kDouble, {1, 3, 8, 8});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = std::cos(static_cast<double>(i));
  expect_same_bits(run_both(g.model(), {{"x", x}}));
}

TEST(GraphFuse, TheResNetStyleCnnFusesEveryConvolutionWithTheUnfusedBits) {
  const Model model = test::build_cnn({.image = 64, .width = 16, .classes = 10});
  // 20 convolutions, each with its BatchNormalization, 17 Relu after a BatchNormalization
  // or an Add, 8 Adds; MaxPool, GlobalAveragePool, Flatten, Gemm stay.
  const auto plan = plan_of(model);
  EXPECT_EQ(plan->step_count(false), 20u + 4u);
  expect_same_bits(run_both(model, {{"image", test::random_tensor({1, 3, 64, 64}, 9)}}));
}

}  // namespace
}  // namespace onnxq
