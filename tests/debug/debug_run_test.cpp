// debug_models on models from quantize-static and quantize-dynamic: every number in the report
// recomputed here by other means (the executor's hook read directly, quantization by hand, ONNX
// Runtime's outputs).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "onnxq/debug.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/npy.hpp"
#include "onnxq/preprocess.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/quantize_static.hpp"
#include "debug/debug_checks.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"
#include "support/static_quant.hpp"
#include "support/temp_dir.hpp"
#include "support/transformer_model.hpp"

namespace onnxq {
namespace {

using test::TempDir;
using namespace debug_checks;

// A small ResNet-style CNN, preprocessed, and its static quantization calibrated on 4 samples.
struct CnnCase {
  Model f, q;
  QuantizeReport report;
  Samples samples;
};

std::unique_ptr<CnnCase> cnn_case(QuantFormat format) {
  auto c = std::make_unique<CnnCase>();
  const test::CnnConfig config{.image = 32, .width = 8, .classes = 10, .seed = 3};
  c->f = test::build_cnn(config);
  preprocess(c->f, {});
  c->q = test::build_cnn(config);
  preprocess(c->q, {});
  std::vector<NamedTensors> calib;
  for (uint32_t i = 0; i < 4; ++i) calib.push_back({{"image", test::random_tensor({1, 3, 32, 32}, 100 + i, 0, 1)}});
  c->report = quantize_static(c->q, test::observed_ranges(c->q, calib), {.format = format, .per_channel = true});
  for (uint32_t i = 0; i < 3; ++i) c->samples.add({{"image", test::random_tensor({1, 3, 32, 32}, 200 + i, 0, 1)}});
  return c;
}

TEST(DebugRun, StaticQdqCnnReportsWeightsActivationsAndOutputsAsComputedByHand) {
  const auto c = cnn_case(QuantFormat::kQDQ);
  const DebugReport r = debug_models(c->f, c->q, c->samples.options());
  EXPECT_EQ(r.samples, 3);
  expect_weights_as_reported(r, c->report);

  // Every activation the quantizer gave a scale is matched to its QDQ pair's output.
  ASSERT_FALSE(c->report.activations.empty());
  for (const auto& act : c->report.activations) {
    SCOPED_TRACE(act.name);
    auto it = std::find_if(r.activations.begin(), r.activations.end(), [&](const auto& a) { return a.name == act.name; });
    if (it == r.activations.end()) {
      // Graph inputs have no producing node in the float model: nothing to compare with.
      EXPECT_EQ(act.name, "image");
      continue;
    }
    // A graph output keeps its name on the DequantizeLinear that ends its QDQ pair.
    if (it->quantized != act.name) {
      EXPECT_EQ(it->quantized.rfind(act.name + "_DequantizeLinear_Output", 0), 0u) << it->quantized;
    }
    EXPECT_NEAR(it->sqnr_db, tensor_sqnr_by_hand(c->f, c->q, c->samples, act.name, it->quantized), 1e-6);

    // QDQ error: the float tensor through QuantizeLinear/DequantizeLinear with the quantizer's scale.
    ASSERT_TRUE(it->qdq_sqnr_db.has_value());
    const QuantParams p{act.scale.at(0), act.zero_point.at(0)};
    const QuantRange range = quant_range(DataType::kUInt8, false, false);
    Sums sums;
    const Executor fe(c->f, {1});
    for (const auto& s : c->samples.values)
      fe.run(s, [&](const std::string& n, const Tensor& v) {
        if (n != act.name) return;
        Tensor y(DataType::kFloat, v.shape());
        for (int64_t i = 0; i < v.numel(); ++i)
          y.data<float>()[i] = dequantize_value(quantize_value(v.data<float>()[i], p, range), p);
        sums.add(v, y);
      });
    EXPECT_NEAR(*it->qdq_sqnr_db, sums.sqnr(), 1e-6);
    EXPECT_EQ(it->params->count, 1);
    EXPECT_FLOAT_EQ(it->params->scale_min, p.scale);
  }

  ASSERT_EQ(r.outputs.size(), 1u);
  const OutputError& o = r.outputs[0];
  const OutputByHand hand = output_by_hand(c->f, c->q, c->samples);
  EXPECT_EQ(o.name, "logits");
  EXPECT_NEAR(o.sqnr_db, hand.sqnr, 1e-6);
  EXPECT_TRUE(o.class_scores);
  EXPECT_EQ(o.rows, hand.rows);
  EXPECT_EQ(o.top1_agree, hand.agree);
  EXPECT_GT(o.cosine, 0.9);
  EXPECT_LE(o.cosine, 1.0 + 1e-12);

  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  const double ort = output_sqnr_in_onnxruntime(c->f, c->q, c->samples);
  std::printf("[ measured ] CNN QDQ output SQNR: onnxq %.2f dB, ONNX Runtime %.2f dB\n", o.sqnr_db, ort);
  EXPECT_NEAR(o.sqnr_db, ort, 1.0);
}

TEST(DebugRun, StaticQOperatorCnnMatchesIntegerWeightsAndDequantizesIntegerActivations) {
  const auto c = cnn_case(QuantFormat::kQOperator);
  const DebugReport r = debug_models(c->f, c->q, c->samples.options());
  // QLinearConv weights, and the int32 biases they read.
  expect_weights_as_reported(r, c->report);
  EXPECT_TRUE(std::any_of(r.weights.begin(), r.weights.end(), [](const auto& w) { return w.op_type == "QLinearConv"; }));
  // Integer tensors between two QLinear ops are compared after dequantizing them.
  const auto integer = std::find_if(r.activations.begin(), r.activations.end(), [](const auto& a) {
    return a.quantized.find("_QuantizeLinear_Output") != std::string::npos;
  });
  ASSERT_NE(integer, r.activations.end());
  EXPECT_TRUE(integer->qdq_sqnr_db.has_value());
  EXPECT_GT(integer->sqnr_db, 10.0);
  const OutputByHand hand = output_by_hand(c->f, c->q, c->samples);
  EXPECT_NEAR(r.outputs.at(0).sqnr_db, hand.sqnr, 1e-6);
}

TEST(DebugRun, TheReportIsTheSameForAnyThreadCount) {
  const auto c = cnn_case(QuantFormat::kQDQ);
  const auto one = debug_report_json(debug_models(c->f, c->q, c->samples.options(1)), 0);
  const auto two = debug_report_json(debug_models(c->f, c->q, c->samples.options(2)), 0);
  EXPECT_EQ(one.dump(), two.dump());
}

TEST(DebugRun, DynamicTransformerComparesSameNamedTensorsWithoutAQdqError) {
  for (const DataType type : {DataType::kInt8, DataType::kInt4}) {
    SCOPED_TRACE(std::string(dtype_name(type)));
    auto config = *bench::transformer_preset("tiny");
    config.seq = 16;
    Model f = bench::build_transformer(config);
    Model q = bench::build_transformer(config);
    const QuantizeReport quantized = quantize_dynamic(q, {.weight_type = type, .block_size = 16});
    Samples samples;
    for (int s = 0; s < 2; ++s) {
      std::vector<int64_t> ids(16);
      for (int i = 0; i < 16; ++i) ids[static_cast<size_t>(i)] = (s * 37 + i * 11) % config.vocab;
      samples.add({{"input_ids", Tensor::from_vector<int64_t>({1, 16}, ids)}});
    }
    const DebugReport r = debug_models(f, q, samples.options());
    expect_weights_as_reported(r, quantized);
    ASSERT_FALSE(r.activations.empty());
    for (const auto& a : r.activations) {
      EXPECT_EQ(a.name, a.quantized);
      EXPECT_FALSE(a.qdq_sqnr_db.has_value());
    }
    const auto& a = r.activations[r.activations.size() / 2];
    EXPECT_NEAR(a.sqnr_db, tensor_sqnr_by_hand(f, q, samples, a.name, a.quantized), 1e-6);
    // last_hidden_state [1, seq, hidden] has the shape of scores per token, but a LayerNorm makes it.
    const OutputByHand hand = output_by_hand(f, q, samples);
    EXPECT_NEAR(r.outputs.at(0).sqnr_db, hand.sqnr, 1e-6);
    EXPECT_FALSE(r.outputs.at(0).class_scores);
    EXPECT_EQ(r.outputs.at(0).top1_agree, 0);
    if (!test::onnxruntime_available()) continue;
    const double ort = output_sqnr_in_onnxruntime(f, q, samples);
    std::printf("[ measured ] transformer %s output SQNR: onnxq %.2f dB, ONNX Runtime %.2f dB\n",
                std::string(dtype_name(type)).c_str(), r.outputs[0].sqnr_db, ort);
    EXPECT_NEAR(r.outputs[0].sqnr_db, ort, 1.0);
  }
}

TEST(DebugRun, ModelsWithDifferentInputsAreAnInputErrorNamingThem) {
  test::GraphBuilder a(13), b(13);
  a.input("x", DataType::kFloat, {1, 4}).output("y", DataType::kFloat, {1, 4});
  a.node("Relu", {"x"}, {"y"});
  b.input("z", DataType::kFloat, {1, 4}).output("y", DataType::kFloat, {1, 4});
  b.node("Relu", {"z"}, {"y"});
  Samples samples;
  samples.add({{"x", test::random_tensor({1, 4}, 1)}});
  try {
    debug_models(a.model(), b.model(), samples.options());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("different inputs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("z float32"), std::string::npos) << e.what();
  }
}

TEST(DebugRun, DataOfTheWrongShapeIsAnInputErrorNamingTheFile) {
  test::GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 4}).output("y", DataType::kFloat, {1, 4});
  g.node("Relu", {"x"}, {"y"});
  Samples samples;
  samples.add({{"x", test::random_tensor({1, 5}, 1)}});
  try {
    debug_models(g.model(), g.model(), samples.options());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("000.npy"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace onnxq
