// match_weights against weights dequantized by hand, and against the SQNR each quantizer
// reports for the weights it wrote, for every op and format quantize-dynamic emits.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "onnxq/debug.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

double sqnr_by_hand(const std::vector<float>& x, const std::vector<float>& y) {
  double s = 0, n = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    s += static_cast<double>(x[i]) * x[i];
    n += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
  }
  return 10 * std::log10(s / n);
}

// x[1, 2] MatMul W[2, 3] -> y; the quantized one reads W through a per-column DequantizeLinear.
Model float_matmul(const std::vector<float>& w) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2}).output("y", DataType::kFloat, {1, 3});
  g.initializer("W", Tensor::from_vector<float>({2, 3}, w));
  g.node("MatMul", {"x", "W"}, {"y"}, "mm");
  return g.model();
}

Model qdq_matmul(const std::string& values_name, const std::vector<int8_t>& q, const std::vector<float>& scales,
                 const std::string& node_name) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {1, 2}).output("y", DataType::kFloat, {1, 3});
  g.initializer(values_name, Tensor::from_vector<int8_t>({2, 3}, q));
  g.initializer("W_scale", Tensor::from_vector<float>({3}, scales));
  g.initializer("W_zero_point", Tensor::from_vector<int8_t>({3}, {0, 0, 0}));
  test::attr_int(g.node("DequantizeLinear", {values_name, "W_scale", "W_zero_point"}, {"W_dq"}, "W_DequantizeLinear"),
                 "axis", 1);
  g.node("MatMul", {"x", "W_dq"}, {"y"}, node_name);
  return g.model();
}

const std::vector<float> kW = {0.9f, -0.5f, 0.3f, 0.12f, 0.25f, -0.61f};
const std::vector<int8_t> kQ = {127, -100, 49, 17, 50, -100};
const std::vector<float> kScales = {0.007f, 0.005f, 0.0061f};

TEST(WeightMatching, APerColumnDequantizeLinearWeightHasTheSqnrOfItsHandDequantizedValues) {
  const auto weights = match_weights(float_matmul(kW), qdq_matmul("W_quantized", kQ, kScales, "mm"));
  ASSERT_EQ(weights.size(), 1u);
  const WeightError& w = weights[0];
  std::vector<float> dq(6);
  double max_err = 0;
  for (int i = 0; i < 6; ++i) {
    dq[i] = static_cast<float>(kQ[i]) * kScales[i % 3];
    max_err = std::max(max_err, std::abs(static_cast<double>(kW[i]) - dq[i]));
  }
  EXPECT_EQ(w.name, "W");
  EXPECT_EQ(w.quantized, "W_quantized");
  EXPECT_EQ(w.node, "mm");
  EXPECT_EQ(w.matched_by, "name");
  EXPECT_EQ(w.type, "int8");
  EXPECT_NEAR(w.sqnr_db, sqnr_by_hand(kW, dq), 1e-9);
  EXPECT_NEAR(w.max_abs_error, max_err, 1e-9);
  EXPECT_EQ(w.params.count, 3);
  EXPECT_FLOAT_EQ(w.params.scale_min, 0.005f);
  EXPECT_FLOAT_EQ(w.params.scale_max, 0.007f);
  EXPECT_EQ(w.bytes_before, 24u);
  EXPECT_EQ(w.bytes_after, 6u + 12u + 3u);
}

TEST(WeightMatching, AWeightNamedOtherwiseIsFoundThroughItsConsumerNodeAndInputSlot) {
  const auto weights = match_weights(float_matmul(kW), qdq_matmul("packed_0", kQ, kScales, "mm"));
  ASSERT_EQ(weights.size(), 1u);
  EXPECT_EQ(weights[0].name, "W");
  EXPECT_EQ(weights[0].matched_by, "node");
}

TEST(WeightMatching, AWeightWithNoFloatCounterpartIsLeftOutWithAWarning) {
  std::vector<std::string> warnings;
  const auto weights = match_weights(float_matmul(kW), qdq_matmul("packed_0", kQ, kScales, "other"), &warnings);
  EXPECT_TRUE(weights.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("packed_0"), std::string::npos) << warnings[0];
}

// One float model per op family quantize-dynamic handles.
struct OpCase {
  std::string name;
  std::function<Model()> build;
};

std::vector<OpCase> op_cases() {
  return {
      {"MatMul",
       [] {
         GraphBuilder g(13);
         g.input("x", DataType::kFloat, {2, 64}).output("y", DataType::kFloat, {2, 24});
         g.initializer("W", test::random_tensor({64, 24}, 1));
         g.node("MatMul", {"x", "W"}, {"y"}, "mm");
         return g.model();
       }},
      {"Gemm transB",
       [] {
         GraphBuilder g(13);
         g.input("x", DataType::kFloat, {2, 16}).output("y", DataType::kFloat, {2, 8});
         g.initializer("W", test::random_tensor({8, 16}, 2));
         g.initializer("C", test::random_tensor({8}, 3));
         test::attr_int(g.node("Gemm", {"x", "W", "C"}, {"y"}, "gemm"), "transB", 1);
         return g.model();
       }},
      {"Conv",
       [] {
         GraphBuilder g(13);
         g.input("x", DataType::kFloat, {1, 3, 8, 8}).output("y", DataType::kFloat, {1, 4, 6, 6});
         g.initializer("W", test::random_tensor({4, 3, 3, 3}, 4));
         g.initializer("b", test::random_tensor({4}, 5));
         g.node("Conv", {"x", "W", "b"}, {"y"}, "conv");
         return g.model();
       }},
      {"LSTM",
       [] {
         GraphBuilder g(14);
         g.input("X", DataType::kFloat, {5, 1, 6}).output("Y", DataType::kFloat);
         g.initializer("W", test::random_tensor({1, 16, 6}, 6));
         g.initializer("R", test::random_tensor({1, 16, 4}, 7));
         test::attr_int(g.node("LSTM", {"X", "W", "R"}, {"Y"}, "lstm"), "hidden_size", 4);
         return g.model();
       }},
      {"Gather",
       [] {
         GraphBuilder g(13);
         g.input("ids", DataType::kInt64, {3}).output("y", DataType::kFloat, {3, 8});
         g.initializer("table", test::random_tensor({10, 8}, 8));
         g.node("Gather", {"table", "ids"}, {"y"}, "embed");
         return g.model();
       }},
  };
}

struct OptionCase {
  std::string name;
  DynamicQuantOptions options;
};

std::vector<OptionCase> option_cases() {
  std::vector<OptionCase> out;
  for (auto format : {QuantFormat::kQOperator, QuantFormat::kQDQ})
    for (auto type : {DataType::kInt8, DataType::kUInt8})
      for (bool per_channel : {false, true}) {
        DynamicQuantOptions o;
        o.format = format;
        o.weight_type = type;
        o.per_channel = per_channel;
        out.push_back({std::string(format == QuantFormat::kQDQ ? "qdq " : "qoperator ") +
                           std::string(dtype_name(type)) + (per_channel ? " per-channel" : ""),
                       o});
      }
  for (auto type : {DataType::kInt4, DataType::kUInt4})
    for (auto f : {Int4Format::kMatMulNBits, Int4Format::kQDQ}) {
      DynamicQuantOptions o;
      o.weight_type = type;
      o.block_size = 16;
      o.int4_format = f;
      out.push_back({std::string(dtype_name(type)) + (f == Int4Format::kQDQ ? " qdq" : " MatMulNBits"), o});
    }
  return out;
}

TEST(WeightMatching, EveryWeightQuantizeDynamicWritesIsFoundWithTheSqnrAndBytesItReported) {
  for (const auto& op : op_cases())
    for (const auto& opt : option_cases()) {
      SCOPED_TRACE(op.name + ", " + opt.name);
      const Model f = op.build();
      Model q = op.build();
      const QuantizeReport report = quantize_dynamic(q, opt.options);
      std::vector<std::string> warnings;
      const auto weights = match_weights(f, q, &warnings);
      EXPECT_TRUE(warnings.empty()) << warnings.front();
      ASSERT_EQ(weights.size(), report.tensors.size());
      for (const auto& t : report.tensors) {
        SCOPED_TRACE(t.name);
        auto it = std::find_if(weights.begin(), weights.end(), [&](const WeightError& w) { return w.name == t.name; });
        ASSERT_NE(it, weights.end());
        if (std::isinf(t.sqnr_db)) EXPECT_TRUE(std::isinf(it->sqnr_db));
        else EXPECT_NEAR(it->sqnr_db, t.sqnr_db, 1e-6);
        EXPECT_EQ(it->bytes_before, t.bytes_before);
        EXPECT_EQ(it->bytes_after, t.bytes_after);
        EXPECT_EQ(it->params.count, static_cast<int64_t>(t.scale.size()));
      }
    }
}

TEST(WeightMatching, WeightsInsideIfBranchesAreFoundWhetherOuterInitializersOrBranchConstants) {
  // if (cond) y = x @ w_outer else y = x @ w_const, w_const a Constant node of the branch.
  GraphBuilder then_g, else_g;
  then_g.output("y_then", DataType::kFloat, {2, 4});
  then_g.node("MatMul", {"x", "w_outer"}, {"y_then"}, "mm_then");
  else_g.output("y_else", DataType::kFloat, {2, 4});
  else_g.constant("w_const", test::random_tensor({8, 4}, 6));
  else_g.node("MatMul", {"x", "w_const"}, {"y_else"}, "mm_else");
  GraphBuilder g(13);
  g.input("cond", DataType::kBool, {}).input("x", DataType::kFloat, {2, 8});
  g.output("y", DataType::kFloat, {2, 4});
  g.initializer("w_outer", test::random_tensor({8, 4}, 7));
  auto& node = g.node("If", {"cond"}, {"y"}, "branch");
  test::attr_graph(node, "then_branch", then_g.graph());
  test::attr_graph(node, "else_branch", else_g.graph());
  for (auto format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
    const Model f = g.model();
    Model q = g.model();
    const auto report = quantize_dynamic(q, {.format = format});
    const auto weights = match_weights(f, q);
    ASSERT_EQ(weights.size(), 2u);
    for (const auto& t : report.tensors) {
      auto it = std::find_if(weights.begin(), weights.end(), [&](const WeightError& w) { return w.name == t.name; });
      ASSERT_NE(it, weights.end()) << t.name;
      EXPECT_NEAR(it->sqnr_db, t.sqnr_db, 1e-6);
    }
  }
}

}  // namespace
}  // namespace onnxq
