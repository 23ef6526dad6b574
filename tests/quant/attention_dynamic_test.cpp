#include <gtest/gtest.h>

#include <functional>

#include "onnxq/checker.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

using test::combo_name;
using test::count;
using test::op_counts;
using test::output_sqnr;

using test::GraphBuilder;

// y = com.microsoft Attention(x, w, b, mask_index): 4 heads over a 16-wide hidden state, the
// mask giving each batch row's valid length.
Model attention_model(const std::function<void(onnx::NodeProto&)>& tweak = {}) {
  GraphBuilder g(17);
  g.opset("com.microsoft", 1);
  g.input("x", DataType::kFloat, {2, 5, 16}).input("mask", DataType::kInt32, {2});
  g.output("y", DataType::kFloat, {2, 5, 16});
  g.initializer("w", test::random_tensor({16, 48}, 11, -0.5f, 0.5f));
  g.initializer("b", test::random_tensor({48}, 12, -0.1f, 0.1f));
  auto& n = g.node("Attention", {"x", "w", "b", "mask"}, {"y"}, "attn", "com.microsoft");
  test::attr_int(n, "num_heads", 4);
  if (tweak) tweak(n);
  return g.model();
}

const std::map<std::string, Tensor>& inputs() {
  static const std::map<std::string, Tensor> in = {{"x", test::random_tensor({2, 5, 16}, 13)},
                                                   {"mask", Tensor::from_vector<int32_t>({2}, {5, 3})}};
  return in;
}

test::OrtResult run(Model& m) {
  test::TempDir dir;
  m.save(dir / "m.onnx");
  return test::run_in_onnxruntime(dir / "m.onnx", inputs());
}

double sqnr(const test::OrtResult& f, const test::OrtResult& q) {
  const Tensor& a = f.outputs.at("y");
  return sqnr_db(a.data<float>(), q.outputs.at("y").data<float>(), a.numel());
}

TEST(AttentionDynamic, EveryFlagCombinationRunsInOnnxRuntimeCloseToTheFloatModel) {
  Model f = attention_model();
  const auto expected = run(f);
  for (const auto& [format, type, per_channel, reduce_range] : test::every_8bit_combo()) {
          const std::string name = combo_name(format, type, per_channel, reduce_range);
          SCOPED_TRACE(name);
          Model q = attention_model();
          const auto report = quantize_dynamic(q, {.format = format,
                                                   .weight_type = type,
                                                   .per_channel = per_channel,
                                                   .reduce_range = reduce_range});
          EXPECT_EQ(report.nodes_quantized, 1);
          ASSERT_EQ(report.tensors.size(), 1u);
          EXPECT_EQ(report.tensors[0].axis, per_channel ? 1 : -1);
          EXPECT_EQ(q.find_initializer("w"), nullptr) << "the float weight is gone";
          ASSERT_NE(q.find_initializer("w_quantized"), nullptr);
          EXPECT_EQ(q.find_initializer("w_quantized")->data_type(), static_cast<int32_t>(type));
          const auto* scale = q.find_initializer("w_scale");
          ASSERT_NE(scale, nullptr);
          EXPECT_EQ(scale->dims_size(), per_channel ? 1 : 0);
          if (per_channel) {
            EXPECT_EQ(scale->dims(0), 48);
          }
          const auto ops = op_counts(q);
          if (format == QuantFormat::kQOperator) {
            EXPECT_EQ(ops.count("Attention"), 0u);
            EXPECT_EQ(ops.at("QAttention"), 1);
            EXPECT_EQ(ops.at("DynamicQuantizeLinear"), 1);
            const auto& node = q.graph().node(1);
            EXPECT_EQ(node.domain(), "com.microsoft");
            ASSERT_EQ(node.input_size(), 8);
            EXPECT_EQ(node.input(5), "mask");
          } else {
            EXPECT_EQ(ops.at("DequantizeLinear"), 1);
            EXPECT_EQ(ops.at("Attention"), 1);
          }
          EXPECT_NE(check_model(q).status, CheckResult::Status::kInvalid) << check_model(q).message;
          const double db = sqnr(expected, run(q));
          EXPECT_GT(db, reduce_range ? 27.0 : 30.0);
          std::cout << "  " << name << ": output SQNR " << db << " dB\n";
        }
}

TEST(AttentionDynamic, KeepsUnidirectionalScaleAndMaskFilterValueOnQAttention) {
  auto tweak = [](onnx::NodeProto& n) {
    test::attr_int(n, "unidirectional", 1);
    test::attr_float(n, "scale", 0.3f);
    test::attr_float(n, "mask_filter_value", -1000.0f);
  };
  Model f = attention_model(tweak), q = attention_model(tweak);
  EXPECT_EQ(quantize_dynamic(q, {}).nodes_quantized, 1);
  EXPECT_EQ(q.graph().node(1).op_type(), "QAttention");
  EXPECT_EQ(q.graph().node(1).attribute_size(), 4);
  const double db = sqnr(run(f), run(q));
  EXPECT_GT(db, 30.0);
  std::cout << "  unidirectional, scale 0.3: output SQNR " << db << " dB\n";
}

TEST(AttentionDynamic, RotaryEmbeddingStaysFloatInQOperatorFormat) {
  Model m = attention_model([](onnx::NodeProto& n) { test::attr_int(n, "do_rotary", 1); });
  const auto report = quantize_dynamic(m, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].reason, "QAttention does not take do_rotary");
}

TEST(AttentionDynamic, UnequalQkvWidthsStayFloatInQOperatorFormatButQuantizeAsQdq) {
  auto tweak = [](onnx::NodeProto& n) { test::attr_ints(n, "qkv_hidden_sizes", {16, 16, 16}); };
  Model q = attention_model(tweak);
  const auto report = quantize_dynamic(q, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].reason, "QAttention has no attribute qkv_hidden_sizes");
  EXPECT_NE(q.find_initializer("w"), nullptr);

  Model f = attention_model(tweak), qdq = attention_model(tweak);
  EXPECT_EQ(quantize_dynamic(qdq, {.format = QuantFormat::kQDQ}).nodes_quantized, 1);
  EXPECT_GT(sqnr(run(f), run(qdq)), 30.0);
}

TEST(AttentionDynamic, AnAttentionWithoutBiasStaysFloatInQOperatorFormat) {
  GraphBuilder g(17);
  g.opset("com.microsoft", 1);
  g.input("x", DataType::kFloat, {2, 5, 16}).output("y", DataType::kFloat, {2, 5, 16});
  g.initializer("w", test::random_tensor({16, 48}, 11));
  test::attr_int(g.node("Attention", {"x", "w"}, {"y"}, "attn", "com.microsoft"), "num_heads", 4);
  Model m = g.model();
  const auto report = quantize_dynamic(m, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].reason, "QAttention needs a bias");
}

TEST(AttentionDynamic, QuantizingItsOwnOutputChangesNothing) {
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
    Model m = attention_model();
    quantize_dynamic(m, {.format = format, .per_channel = true});
    test::expect_requantizing_changes_nothing(m, {.format = format, .per_channel = true});
  }
}

}  // namespace
}  // namespace onnxq
