#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "onnxq/checker.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_static.hpp"
#include "onnxq/weight_quant.hpp"
#include "quant/graph_editor.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/static_quant.hpp"

namespace onnxq {
namespace {

using test::count;
using test::GraphBuilder;
using test::initializer_value;
using test::op_counts;

float scalar(const Model& m, const std::string& name) { return initializer_value(m, name).data<float>()[0]; }
int32_t zero_point(const Model& m, const std::string& name) { return read_quantized(initializer_value(m, name), 0); }

// The QuantizeLinear reading `tensor` (or the producer's renamed output when `tensor` is a graph output).
const onnx::NodeProto* quantize_of(const Model& m, const std::string& tensor) {
  for (const auto& n : m.graph().node())
    if (n.op_type() == "QuantizeLinear" && (n.input(0) == tensor || n.input(0) == tensor + "_QuantizeLinear_Input"))
      return &n;
  return nullptr;
}

// x[1, 4] + c -> y, with ranges given by hand.
Model add_model() {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 4}).output("y", DataType::kFloat, {1, 4});
  g.initializer("c", Tensor::from_vector<float>({4}, {0.5f, -0.25f, 1.0f, 0.0f}));
  g.node("Add", {"x", "c"}, {"y"}, "add");
  return g.model();
}

TEST(QuantizeStatic, ActivationScaleAndZeroPointFollowTheRangeAsOnnxRuntimeComputesThem) {
  Model m = add_model();
  quantize_static(m, {{"x", {-1.0f, 3.0f}}, {"y", {0.5f, 2.0f}}}, {});
  const auto* qx = quantize_of(m, "x");
  ASSERT_NE(qx, nullptr);
  // uint8 over [-1, 3]: scale 4/255, zero point round(1 / (4/255)) = round(63.75) = 64.
  EXPECT_FLOAT_EQ(scalar(m, qx->input(1)), 4.0f / 255.0f);
  EXPECT_EQ(zero_point(m, qx->input(2)), 64);
  // [0.5, 2] widens to [0, 2]: scale 2/255, zero point 0.
  const auto* qy = quantize_of(m, "y");
  ASSERT_NE(qy, nullptr);
  EXPECT_FLOAT_EQ(scalar(m, qy->input(1)), 2.0f / 255.0f);
  EXPECT_EQ(zero_point(m, qy->input(2)), 0);
  // The constant addend is quantized as an activation from its own values: [-0.25, 1].
  const Tensor cq = initializer_value(m, "c_quantized");
  EXPECT_EQ(cq.dtype(), DataType::kUInt8);
  EXPECT_FLOAT_EQ(scalar(m, "c_scale"), 1.25f / 255.0f);
  require_checker_pass(m, "quantized");
}

TEST(QuantizeStatic, Int8AndSymmetricActivationsMoveTheZeroPoint) {
  Model m = add_model();
  quantize_static(m, {{"x", {-1.0f, 3.0f}}, {"y", {0.5f, 2.0f}}}, {.activation_type = DataType::kInt8});
  // int8 over [-1, 3]: zero point round(-128 + 63.75) = -64.
  EXPECT_EQ(zero_point(m, quantize_of(m, "x")->input(2)), -64);
  Model s = add_model();
  quantize_static(s, {{"x", {-1.0f, 3.0f}}, {"y", {0.5f, 2.0f}}}, {.symmetric_activations = true});
  // Symmetric uint8 over [-3, 3]: scale 6/255, zero point in the middle, 128.
  EXPECT_FLOAT_EQ(scalar(s, quantize_of(s, "x")->input(1)), 6.0f / 255.0f);
  EXPECT_EQ(zero_point(s, quantize_of(s, "x")->input(2)), 128);
}

TEST(QuantizeStatic, GraphOutputsKeepTheirNamesAndTypes) {
  Model m = add_model();
  quantize_static(m, {{"x", {-1.0f, 3.0f}}, {"y", {0.0f, 4.0f}}}, {});
  ASSERT_EQ(m.graph().output_size(), 1);
  EXPECT_EQ(m.graph().output(0).name(), "y");
  const auto* dq = test::producer(m, "y");
  ASSERT_NE(dq, nullptr);
  EXPECT_EQ(dq->op_type(), "DequantizeLinear");
  EXPECT_EQ(test::producer(m, "y_QuantizeLinear_Input")->op_type(), "Add");
}

TEST(QuantizeStatic, TensorsWithoutARangeAndExcludedNodesStayFloat) {
  Model m = add_model();
  const auto report = quantize_static(m, {{"y", {0.0f, 4.0f}}}, {});
  EXPECT_EQ(quantize_of(m, "x"), nullptr);  // no range: read as float
  EXPECT_NE(quantize_of(m, "y"), nullptr);
  Model e = add_model();
  const auto excluded = quantize_static(e, {{"x", {-1.0f, 3.0f}}, {"y", {0.0f, 4.0f}}}, {.nodes_exclude = {"ad*"}});
  EXPECT_EQ(count(op_counts(e), "QuantizeLinear"), 0);
  EXPECT_EQ(excluded.nodes_quantized, 0);
  EXPECT_EQ(report.nodes_quantized, 1);
}

// x[1, 3, 8, 8] -> Conv(w, b) -> Relu -> y.
Model conv_relu(int64_t opset = 13) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 4, 8, 8});
  g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
  g.initializer("b", test::random_tensor({4}, 2, -0.3f, 0.3f));
  auto& c = g.node("Conv", {"x", "w", "b"}, {"h"}, "conv");
  test::attr_ints(c, "pads", {1, 1, 1, 1});
  g.node("Relu", {"h"}, {"y"}, "relu");
  return g.model();
}

std::vector<NamedTensors> samples(const std::string& input, const Shape& shape, int count, float lo = -1.0f,
                                  float hi = 1.0f) {
  std::vector<NamedTensors> out;
  for (int i = 0; i < count; ++i) out.push_back({{input, test::random_tensor(shape, 100 + i, lo, hi)}});
  return out;
}

TEST(QuantizeStatic, ReluFoldsIntoTheConvWhoseOutputTakesItsRange) {
  Model m = conv_relu();
  const auto ranges = test::observed_ranges(m, samples("x", {1, 3, 8, 8}, 4));
  EXPECT_FALSE(ranges.count("h"));  // never read: calibration skips it
  ASSERT_TRUE(ranges.count("y"));
  const auto report = quantize_static(m, ranges, {});
  const auto ops = op_counts(m);
  EXPECT_EQ(count(ops, "Relu"), 0);
  EXPECT_EQ(count(ops, "QuantizeLinear"), 2);    // x and y
  EXPECT_EQ(count(ops, "DequantizeLinear"), 4);  // x, y, weight, bias
  // The conv now writes y (through its Q/DQ), quantized over y's range, which starts at 0.
  const auto* qy = quantize_of(m, "y");
  ASSERT_NE(qy, nullptr);
  EXPECT_EQ(test::producer(m, qy->input(0))->op_type(), "Conv");
  EXPECT_EQ(zero_point(m, qy->input(2)), 0);
  EXPECT_EQ(report.nodes_quantized, 2);
  require_checker_pass(m, "quantized");
}

TEST(QuantizeStatic, CalibrationObservesOnlyTheRangesTheQuantizerReads) {
  // A Relu's input takes its output's range and Softmax's output is [0, 1]: neither is observed,
  // unless symmetric activations keep the Relu apart; the model comes out the same either way.
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("p", DataType::kFloat, {1, 4, 8, 8});
  g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
  test::attr_ints(g.node("Conv", {"x", "w"}, {"h"}, "conv"), "pads", {1, 1, 1, 1});
  g.node("Relu", {"h"}, {"r"}, "relu");
  g.initializer("s", Tensor::from_vector<float>({1}, {0.5f}));
  g.node("Mul", {"r", "s"}, {"m"}, "mul");
  test::attr_int(g.node("Softmax", {"m"}, {"p"}, "softmax"), "axis", 1);
  const Model model = g.model();
  EXPECT_EQ(static_calibration_tensors(model, {}), (std::vector<std::string>{"x", "r", "m"}));
  EXPECT_EQ(static_calibration_tensors(model, {.symmetric_activations = true}),
            (std::vector<std::string>{"x", "h", "r", "m"}));

  const auto data = samples("x", {1, 3, 8, 8}, 3);
  TensorRanges everything;
  Executor run(model);
  for (const auto& sample : data)
    run.run(sample, [&](const std::string& name, const Tensor& t) {
      const auto [lo, hi] = std::minmax_element(t.data<float>(), t.data<float>() + t.numel());
      auto [it, fresh] = everything.try_emplace(name, TensorRange{*lo, *hi});
      if (!fresh) it->second = {std::min(it->second.min, *lo), std::max(it->second.max, *hi)};
    });
  Model all(model.proto()), read(model.proto());
  quantize_static(all, everything, {});
  quantize_static(read, test::observed_ranges(model, data), {});
  EXPECT_EQ(all.proto().SerializeAsString(), read.proto().SerializeAsString());
}

TEST(QuantizeStatic, BiasIsInt32WithScaleInputScaleTimesWeightScale) {
  for (bool per_channel : {false, true}) {
    SCOPED_TRACE(per_channel ? "per-channel" : "per-tensor");
    Model m = conv_relu();
    quantize_static(m, test::observed_ranges(m, samples("x", {1, 3, 8, 8}, 2)), {.per_channel = per_channel});
    const Tensor w_scale = initializer_value(m, "w_scale");
    const Tensor b_scale = initializer_value(m, "b_quantized_scale");
    const Tensor b_q = initializer_value(m, "b_quantized");
    const float x_scale = scalar(m, quantize_of(m, "x")->input(1));
    ASSERT_EQ(b_q.dtype(), DataType::kInt32);
    ASSERT_EQ(w_scale.numel(), per_channel ? 4 : 1);
    ASSERT_EQ(b_scale.numel(), w_scale.numel());
    const Tensor b = test::random_tensor({4}, 2, -0.3f, 0.3f);
    for (int64_t c = 0; c < 4; ++c) {
      const float s = b_scale.data<float>()[per_channel ? c : 0];
      EXPECT_EQ(s, x_scale * w_scale.data<float>()[per_channel ? c : 0]);
      EXPECT_EQ(b_q.data<int32_t>()[c], static_cast<int32_t>(std::nearbyint(b.data<float>()[c] / s)));
    }
  }
}

TEST(QuantizeStatic, PerChannelWeightsAreInt8AlongEachOpsOutputChannelAxis) {
  // x -> Conv [1, 4, 6, 6] -> ConvTranspose [1, 2, 7, 7] -> Reshape [1, 14, 7] -> MatMul [1, 14, 5].
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 4, 6, 6}).output("y", DataType::kFloat, {1, 14, 5});
  g.initializer("wc", test::random_tensor({4, 4, 1, 1}, 1));
  g.initializer("wt", test::random_tensor({4, 2, 2, 2}, 2));
  g.initializer("wm", test::random_tensor({7, 5}, 3));
  g.initializer("shape", Tensor::from_vector<int64_t>({3}, {1, 14, 7}));
  g.node("Conv", {"x", "wc"}, {"c"}, "conv");
  auto& t = g.node("ConvTranspose", {"c", "wt"}, {"t"}, "convtranspose");
  test::attr_ints(t, "kernel_shape", {2, 2});
  g.node("Reshape", {"t", "shape"}, {"r"}, "reshape");
  g.node("MatMul", {"r", "wm"}, {"y"}, "matmul");
  Model m = g.model();
  const auto ranges = test::observed_ranges(m, samples("x", {1, 4, 6, 6}, 2));
  quantize_static(m, ranges, {.weight_type = DataType::kUInt8, .per_channel = true});
  auto axis_of = [&](const std::string& weight) {
    for (const auto& n : m.graph().node())
      if (n.op_type() == "DequantizeLinear" && n.input(0) == weight + "_quantized") return attr_or(n, "axis", 1);
    return int64_t{-100};
  };
  EXPECT_EQ(axis_of("wc"), 0);
  EXPECT_EQ(axis_of("wt"), 1);
  EXPECT_EQ(axis_of("wm"), 1);
  EXPECT_EQ(initializer_value(m, "wc_quantized").dtype(), DataType::kInt8);  // even with uint8 weights
  EXPECT_EQ(initializer_value(m, "wm_scale").numel(), 5);
  require_checker_pass(m, "quantized");
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  Model f = g.model();
  EXPECT_GT(test::output_sqnr(f, m, {{"x", test::random_tensor({1, 4, 6, 6}, 9)}}), 25.0);
}

TEST(QuantizeStatic, ReshapeAndTransposeReuseTheScaleOfTheirInput) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 3, 4, 4}).output("y", DataType::kFloat, {1, 16, 3});
  g.initializer("w", test::random_tensor({3, 3, 1, 1}, 1));
  g.initializer("shape", Tensor::from_vector<int64_t>({3}, {1, 3, 16}));
  g.node("Conv", {"x", "w"}, {"c"}, "conv");
  g.node("Reshape", {"c", "shape"}, {"r"}, "reshape");
  auto& t = g.node("Transpose", {"r"}, {"y"}, "transpose");
  test::attr_ints(t, "perm", {0, 2, 1});
  Model m = g.model();
  quantize_static(m, test::observed_ranges(m, samples("x", {1, 3, 4, 4}, 2)), {});
  const auto* qc = quantize_of(m, "c");
  const auto* qr = quantize_of(m, "r");
  const auto* qy = quantize_of(m, "y");
  ASSERT_TRUE(qc && qr && qy);
  EXPECT_EQ(qr->input(1), qc->input(1));
  EXPECT_EQ(qy->input(2), qc->input(2));
  require_checker_pass(m, "quantized");
}

TEST(QuantizeStatic, SoftmaxOutputIsQuantizedOverZeroToOne) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 5}).output("y", DataType::kFloat, {2, 5});
  g.node("Softmax", {"x"}, {"y"}, "softmax");
  Model m = g.model();
  quantize_static(m, {{"x", {-4.0f, 4.0f}}, {"y", {0.01f, 0.7f}}}, {});
  EXPECT_FLOAT_EQ(scalar(m, quantize_of(m, "y")->input(1)), 1.0f / 255.0f);
  EXPECT_EQ(zero_point(m, quantize_of(m, "y")->input(2)), 0);
}

TEST(QuantizeStatic, ABiasBeyondInt32WidensItsWeightsScaleInsteadOfBeingClipped) {
  // Channel 0's weights are tiny next to its bias: at input scale x weight scale the bias would
  // need 2^64. Its weight scale is widened until the bias fits; channel 1 keeps its own.
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2}).output("y", DataType::kFloat, {1, 2});
  g.initializer("w", Tensor::from_vector<float>({2, 2}, {1e-6f, 0.0f, 0.0f, 0.5f}));
  g.initializer("b", Tensor::from_vector<float>({2}, {1e6f, 0.5f}));
  auto& gemm = g.node("Gemm", {"x", "w", "b"}, {"y"}, "gemm");
  test::attr_int(gemm, "transB", 1);
  for (bool per_channel : {true, false}) {
    SCOPED_TRACE(per_channel ? "per-channel" : "per-tensor");
    Model m = g.model();
    const auto report =
        quantize_static(m, {{"x", {-1e-3f, 1e-3f}}, {"y", {-1.0f, 1e6f}}}, {.per_channel = per_channel});
    ASSERT_EQ(report.warnings.size(), 1u);
    EXPECT_NE(report.warnings[0].find("weight 'w': scale widened on 1 of "), std::string::npos) << report.warnings[0];
    EXPECT_NE(report.warnings[0].find("bias 'b'"), std::string::npos);
    const Tensor b_q = initializer_value(m, "b_quantized"), b_scale = initializer_value(m, "b_quantized_scale");
    const Tensor w_scale = initializer_value(m, "w_scale");
    EXPECT_LE(std::abs(b_q.data<int32_t>()[0]), 1 << 30);
    EXPECT_NEAR(b_q.data<int32_t>()[0] * b_scale.data<float>()[0], 1e6, 1.0);  // the bias survives
    if (per_channel) {
      EXPECT_FLOAT_EQ(w_scale.data<float>()[1], 0.5f / 127);  // untouched
    }
    require_checker_pass(m, "quantized");
  }
}

TEST(QuantizeStatic, SixteenBitActivationsUseMicrosoftQdqBelowOpset21AndRunInOnnxRuntime) {
  for (DataType type : {DataType::kUInt16, DataType::kInt16}) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    Model m = conv_relu();
    const auto ranges = test::observed_ranges(m, samples("x", {1, 3, 8, 8}, 2));
    quantize_static(m, ranges, {.activation_type = type});
    for (const auto& n : m.graph().node())
      if (n.op_type() == "QuantizeLinear") {
        EXPECT_EQ(n.domain(), "com.microsoft");
      }
    EXPECT_EQ(m.opset_version("com.microsoft"), 1);
    require_checker_pass(m, "quantized");
    if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
    Model f = conv_relu();
    // 16-bit activations are almost exact; the int8 weights bound the error.
    EXPECT_GT(test::output_sqnr(f, m, {{"x", test::random_tensor({1, 3, 8, 8}, 9)}}), 30.0);
  }
}

// x -> Conv -> Relu -> Reshape -> MatMul -> Add(constant) -> y.
GraphBuilder conv_reshape_matmul_add() {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 4, 64, 6});
  g.initializer("w", test::random_tensor({4, 3, 3, 3}, 1));
  g.initializer("b", test::random_tensor({4}, 2, -0.3f, 0.3f));
  g.initializer("shape", Tensor::from_vector<int64_t>({4}, {1, 4, 64, 1}));
  g.initializer("wm", test::random_tensor({1, 6}, 3));
  g.initializer("bm", test::random_tensor({6}, 4));
  auto& c = g.node("Conv", {"x", "w", "b"}, {"h"}, "conv");
  test::attr_ints(c, "pads", {1, 1, 1, 1});
  g.node("Relu", {"h"}, {"hr"}, "relu");
  g.node("Reshape", {"hr", "shape"}, {"r"}, "reshape");
  g.node("MatMul", {"r", "wm"}, {"mm"}, "matmul");
  g.node("Add", {"mm", "bm"}, {"y"}, "add");
  return g;
}

TEST(QuantizeStatic, OnnxRuntimeFusesConvAndMatMulGroupsIntoIntegerKernels) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  GraphBuilder g = conv_reshape_matmul_add();
  Model m = g.model();
  const auto ranges = test::observed_ranges(m, samples("x", {1, 3, 8, 8}, 4));
  quantize_static(m, ranges, {.per_channel = true});
  const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({1, 3, 8, 8}, 9)}};
  const auto kernels = test::onnxruntime_kernels(m, inputs);
  EXPECT_EQ(count(kernels, "QLinearConv"), 1);
  EXPECT_EQ(count(kernels, "QLinearMatMul") + count(kernels, "MatMulIntegerToFloat"), 1);
  EXPECT_EQ(count(kernels, "Conv") + count(kernels, "MatMul"), 0);
  Model f = g.model();
  EXPECT_GT(test::output_sqnr(f, m, inputs), 25.0);
}

TEST(QuantizeStatic, QOperatorFormatUsesTheIntegerOpsOnnxRuntimeImplements) {
  // With int8 and uint8 activations.
  for (DataType act : {DataType::kUInt8, DataType::kInt8}) {
    SCOPED_TRACE(std::string(dtype_name(act)));
    GraphBuilder g = conv_reshape_matmul_add();
    Model m = g.model();
    const auto ranges = test::observed_ranges(m, samples("x", {1, 3, 8, 8}, 4));
    const auto report = quantize_static(m, ranges, {.format = QuantFormat::kQOperator, .activation_type = act});
    const auto ops = op_counts(m);
    EXPECT_EQ(count(ops, "QLinearConv"), 1);
    EXPECT_EQ(count(ops, "QLinearMatMul"), 1);
    EXPECT_EQ(count(ops, "QLinearAdd"), 1);
    EXPECT_EQ(count(ops, "Reshape"), 1);  // on the integers
    EXPECT_EQ(count(ops, "QuantizeLinear"), 1);    // the graph input
    EXPECT_EQ(count(ops, "DequantizeLinear"), 1);  // the graph output
    EXPECT_EQ(count(ops, "Conv") + count(ops, "MatMul") + count(ops, "Add"), 0);
    EXPECT_EQ(report.nodes_quantized, 4);
    require_checker_pass(m, "quantized");
    const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({1, 3, 8, 8}, 9)}};
    // onnxq's executor runs it too, as debug will.
    Model f = g.model();
    const Tensor ours = Executor(m, {1}).run({{"x", inputs.at("x")}})[0];
    const Tensor reference = Executor(f, {1}).run({{"x", inputs.at("x")}})[0];
    EXPECT_GT(sqnr_db(reference.data<float>(), ours.data<float>(), ours.numel()), 25.0);
    if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
    EXPECT_GT(test::output_sqnr(f, m, inputs), 25.0);
  }
}

TEST(QuantizeStatic, QOperatorFormatRefusesSixteenBitActivations) {
  Model m = add_model();
  try {
    quantize_static(m, {}, {.format = QuantFormat::kQOperator, .activation_type = DataType::kUInt16});
    FAIL() << "expected a usage error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("16-bit"), std::string::npos);
  }
}

}  // namespace
}  // namespace onnxq
