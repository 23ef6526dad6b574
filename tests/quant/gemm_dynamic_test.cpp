#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <limits>

#include "onnxq/checker.hpp"
#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/tensor_proto.hpp"
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

// Four Gemms covering the attributes:
//   g1: x[4, 16] @ w1[16, 24] + c1[24]                        (transB 0, C constant, beta 1)
//   g2: 0.5 * h1 @ w2[12, 24]^T + 2 * c2[4, 12]               (transB 1, alpha, beta, C constant)
//   g3: 1.5 * xa[8, 4]^T @ w3[8, 12] + 0.5 * c_in[4, 12]      (transA 1, C a graph input)
//   g4: h2 @ w4[6, 12]^T                                      (transB 1, no C)
Model four_gemms(int64_t opset = 13) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {4, 16})
      .input("xa", DataType::kFloat, {8, 4})
      .input("c_in", DataType::kFloat, {4, 12});
  g.output("y", DataType::kFloat, {4, 6}).output("y3", DataType::kFloat, {4, 12});
  g.initializer("w1", test::random_tensor({16, 24}, 1));
  g.initializer("c1", test::random_tensor({24}, 2));
  g.initializer("w2", test::random_tensor({12, 24}, 3, -0.5f, 1.0f));
  g.initializer("c2", test::random_tensor({4, 12}, 4, -0.1f, 0.1f));
  g.initializer("w3", test::random_tensor({8, 12}, 5));
  g.initializer("w4", test::random_tensor({6, 12}, 6));
  g.node("Gemm", {"x", "w1", "c1"}, {"h1"}, "g1");
  auto& g2 = g.node("Gemm", {"h1", "w2", "c2"}, {"h2"}, "g2");
  test::attr_int(g2, "transB", 1);
  test::attr_float(g2, "alpha", 0.5f);
  test::attr_float(g2, "beta", 2.0f);
  auto& g3 = g.node("Gemm", {"xa", "w3", "c_in"}, {"y3"}, "g3");
  test::attr_int(g3, "transA", 1);
  test::attr_float(g3, "alpha", 1.5f);
  test::attr_float(g3, "beta", 0.5f);
  auto& g4 = g.node("Gemm", {"h2", "w4"}, {"y"}, "g4");
  test::attr_int(g4, "transB", 1);
  return g.model();
}

std::map<std::string, Tensor> four_gemm_inputs() {
  return {{"x", test::random_tensor({4, 16}, 7)},
          {"xa", test::random_tensor({8, 4}, 8)},
          {"c_in", test::random_tensor({4, 12}, 9)}};
}

Shape dims(const onnx::TensorProto* t) { return proto_shape(*t); }

TEST(GemmDynamic, EveryFlagCombinationRunsInOnnxRuntimeCloseToTheFloatModel) {
  for (const auto& [format, type, per_channel, reduce_range] : test::every_8bit_combo()) {
          const std::string name = combo_name(format, type, per_channel, reduce_range);
          SCOPED_TRACE(name);
          Model f = four_gemms();
          Model q = four_gemms();
          const auto report = quantize_dynamic(q, {.format = format,
                                                   .weight_type = type,
                                                   .per_channel = per_channel,
                                                   .reduce_range = reduce_range});
          EXPECT_EQ(report.nodes_quantized, 4);
          EXPECT_EQ(report.tensors.size(), 4u);
          EXPECT_TRUE(report.skipped.empty());
          const bool qoperator = format == QuantFormat::kQOperator;
          for (const std::string w : {"w1", "w2", "w3", "w4"}) {
            EXPECT_EQ(q.find_initializer(w), nullptr) << "the float weight " << w << " is gone";
            const auto* wq = q.find_initializer(w + "_quantized");
            ASSERT_NE(wq, nullptr) << w;
            EXPECT_EQ(wq->data_type(), static_cast<int32_t>(type));
            const auto* scale = q.find_initializer(w + "_scale");
            EXPECT_EQ(scale->dims_size(), per_channel ? 1 : 0);
            // Per channel: one scale per output column N.
            if (per_channel) {
              EXPECT_EQ(scale->dims(0), dims(f.find_initializer(w))[w == "w2" || w == "w4" ? 0 : 1]);
            }
          }
          // qoperator stores B^T [K, N] for MatMulInteger; qdq keeps B's layout for Gemm.
          EXPECT_EQ(dims(q.find_initializer("w2_quantized")), qoperator ? (Shape{24, 12}) : (Shape{12, 24}));
          EXPECT_EQ(dims(q.find_initializer("w1_quantized")), (Shape{16, 24}));

          const auto ops = op_counts(q);
          if (qoperator) {
            EXPECT_EQ(count(ops, "MatMulInteger"), 4);
            EXPECT_EQ(count(ops, "DynamicQuantizeLinear"), 4);
            EXPECT_EQ(count(ops, "Gemm"), 0);
            EXPECT_EQ(count(ops, "Transpose"), 1) << "only A of g3";
            EXPECT_EQ(q.find_initializer("c2"), nullptr) << "beta * C replaced the constant C";
            EXPECT_NE(q.find_initializer("c2_beta"), nullptr);
            EXPECT_NE(q.find_initializer("c1"), nullptr) << "beta = 1 adds C as it is";
          } else {
            EXPECT_EQ(count(ops, "DequantizeLinear"), 4);
            EXPECT_EQ(count(ops, "Gemm"), 4);
            EXPECT_NE(q.find_initializer("c2"), nullptr);
          }
          const auto check = check_model(q);
          EXPECT_NE(check.status, CheckResult::Status::kInvalid) << check.message;

          const double sqnr = output_sqnr(f, q, four_gemm_inputs());
          EXPECT_GT(sqnr, reduce_range ? 25.0 : 30.0);
          std::cout << "  " << name << ": output SQNR " << sqnr << " dB\n";
        }
}

TEST(GemmDynamic, PerChannelFollowsTheOutputColumnsOfATransposedWeight) {
  // Columns of very different magnitude: per channel must beat per tensor, with transB 0 and 1.
  for (int64_t trans_b : {0, 1}) {
    SCOPED_TRACE("transB " + std::to_string(trans_b));
    GraphBuilder g(13);
    g.input("x", DataType::kFloat, {8, 32}).output("y", DataType::kFloat, {8, 16});
    Tensor w = test::random_tensor(trans_b ? Shape{16, 32} : Shape{32, 16}, 3);
    for (int64_t i = 0; i < w.numel(); ++i) {
      const int64_t n = trans_b ? i / 32 : i % 16;
      w.data<float>()[i] *= static_cast<float>(1 + n * n);
    }
    g.initializer("w", w);
    test::attr_int(g.node("Gemm", {"x", "w"}, {"y"}, "gemm"), "transB", trans_b);
    const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({8, 32}, 4)}};
    for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
      Model f = g.model(), per_tensor = g.model(), per_channel = g.model();
      quantize_dynamic(per_tensor, {.format = format});
      quantize_dynamic(per_channel, {.format = format, .per_channel = true});
      const double a = output_sqnr(f, per_tensor, inputs), b = output_sqnr(f, per_channel, inputs);
      EXPECT_GT(b, a + 3.0);
      std::cout << "  transB " << trans_b << (format == QuantFormat::kQDQ ? ", qdq" : ", qoperator")
                << ": per tensor " << a << " dB, per channel " << b << " dB\n";
    }
  }
}

TEST(GemmDynamic, ASharedTransposedWeightIsQuantizedOnce) {
  GraphBuilder g(13);
  g.input("a", DataType::kFloat, {2, 8}).input("b", DataType::kFloat, {2, 8});
  g.output("ya", DataType::kFloat, {2, 4}).output("yb", DataType::kFloat, {2, 4});
  g.initializer("w", test::random_tensor({4, 8}, 4));
  test::attr_int(g.node("Gemm", {"a", "w"}, {"ya"}, "ga"), "transB", 1);
  test::attr_int(g.node("Gemm", {"b", "w"}, {"yb"}, "gb"), "transB", 1);
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
    Model f = g.model(), m = g.model();
    const auto report = quantize_dynamic(m, {.format = format});
    EXPECT_EQ(report.nodes_quantized, 2);
    EXPECT_EQ(report.tensors.size(), 1u);
    EXPECT_EQ(m.graph().initializer_size(), 3);  // w_quantized, w_scale, w_zero_point
    EXPECT_GT(
        output_sqnr(f, m, {{"a", test::random_tensor({2, 8}, 1)}, {"b", test::random_tensor({2, 8}, 2)}}),
        30.0);
  }
}

TEST(GemmDynamic, BetaZeroIgnoresC) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {3, 8}).output("y", DataType::kFloat, {3, 5});
  g.initializer("w", test::random_tensor({8, 5}, 1));
  g.initializer("c", test::random_tensor({5}, 2));
  test::attr_float(g.node("Gemm", {"x", "w", "c"}, {"y"}, "gemm"), "beta", 0.0f);
  Model f = g.model(), q = g.model();
  quantize_dynamic(q, {});
  EXPECT_EQ(q.find_initializer("c"), nullptr);
  EXPECT_EQ(count(op_counts(q), "Add"), 0);
  EXPECT_GT(output_sqnr(f, q, {{"x", test::random_tensor({3, 8}, 3)}}), 30.0);
}

TEST(GemmDynamic, QuantizingItsOwnOutputChangesNothing) {
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
    Model m = four_gemms();
    quantize_dynamic(m, {.format = format, .per_channel = true});
    test::expect_requantizing_changes_nothing(m, {.format = format, .per_channel = true});
  }
}

TEST(GemmDynamic, AWeightThatIsNotAConstantIsLeftInFloatWithAReason) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 8}).input("w", DataType::kFloat, {8, 4});
  g.output("y", DataType::kFloat, {2, 4});
  g.node("Gemm", {"x", "w"}, {"y"}, "gemm");
  Model m = g.model();
  const auto report = quantize_dynamic(m, {});
  EXPECT_EQ(report.nodes_quantized, 0);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].node, "gemm");
  EXPECT_NE(report.skipped[0].reason.find("constant"), std::string::npos);
}

TEST(GemmDynamic, AnOpset9ModelIsRaisedAndStillRuns) {
  // Gemm-9 still requires C.
  GraphBuilder g(9);
  g.input("x", DataType::kFloat, {3, 8}).output("y", DataType::kFloat, {3, 5});
  g.initializer("w", test::random_tensor({5, 8}, 1));
  g.initializer("c", test::random_tensor({5}, 2));
  auto& gemm = g.node("Gemm", {"x", "w", "c"}, {"y"}, "gemm");
  test::attr_int(gemm, "transB", 1);
  test::attr_float(gemm, "beta", 0.5f);
  Model f = g.model(), q = g.model();
  EXPECT_EQ(quantize_dynamic(q, {}).nodes_quantized, 1);
  EXPECT_EQ(q.opset_version(""), 11);
  EXPECT_GT(output_sqnr(f, q, {{"x", test::random_tensor({3, 8}, 3)}}), 30.0);
}

}  // namespace
}  // namespace onnxq
