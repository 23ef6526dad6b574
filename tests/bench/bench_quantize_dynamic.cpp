// Measures `onnxq quantize-dynamic` against the floor of any tool that reads and writes the
// model once, `cp`, and reports the quantizer's peak memory:
//
//   bench_quantize_dynamic [--onnxq PATH] [--model FILE | --preset NAME] [--repeat N]
//
// Without --model it writes the preset (default bert-base) into a temp dir, removed at the
// end. Prints one Markdown table row per setting. Not a test: nothing here is asserted.


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/child_process.hpp"
#include "support/transformer_model.hpp"
#include "onnxq/error.hpp"
#include "onnxq/model.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using onnxq::bench::median;
using onnxq::bench::run;
using onnxq::bench::ChildResult;

uint64_t dir_bytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

std::string first_line(const fs::path& file) {
  std::string text = onnxq::test::read_file_bytes(file);
  return text.substr(0, text.find('\n'));
}

int usage() {
  std::cerr << "usage: bench_quantize_dynamic [--onnxq PATH] [--model FILE | --preset NAME] [--repeat N]\n";
  return 2;
}

struct Setting {
  std::string name;
  std::vector<std::string> flags;
};

int bench(int argc, char** argv) {
  std::string onnxq = ONNXQ_CLI, model_arg, preset = "bert-base";
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--onnxq")
      onnxq = argv[++i];
    else if (arg == "--model")
      model_arg = argv[++i];
    else if (arg == "--preset")
      preset = argv[++i];
    else if (arg == "--repeat")
      repeat = std::max(1, std::atoi(argv[++i]));
    else
      return usage();
  }

  onnxq::test::TempDir tmp;
  fs::path model_path = model_arg;
  if (model_arg.empty()) {
    if (!onnxq::bench::transformer_preset(preset)) return usage();
    model_path = tmp / "model.onnx";
    // Written by a child: a child's peak RSS counts its parent's at the time it was spawned
    // (they share the address space until exec), so this process must stay small.
    const ChildResult made = run({MAKE_TRANSFORMER, preset, model_path.string()}, "/dev/null", tmp / "make.txt");
    if (made.exit_code != 0) throw std::runtime_error("make_transformer failed: " + first_line(tmp / "make.txt"));
    std::cerr << "wrote " << preset << " in " << made.seconds << " s\n";
  }

  // Size with external data, and the files cp must copy to move the model.
  uint64_t model_bytes = 0;
  std::vector<std::string> model_files{model_path.string()};
  {
    const onnxq::Model model = onnxq::Model::load(model_path);
    model_bytes = model.model_file_bytes() + model.external_file_bytes();
    for (const auto& f : model.external_files()) model_files.push_back(f.string());
  }

  std::vector<Setting> settings = {{"int8 per-tensor", {}}, {"int8 per-channel", {"--per-channel"}}};
  const fs::path help = tmp / "help.txt";
  run({onnxq, "quantize-dynamic", "--help"}, help);
  const bool int4 = onnxq::test::read_file_bytes(help).find("--block-size") != std::string::npos;
  if (int4) settings.push_back({"int4 block 32", {"--weight-type", "int4", "--block-size", "32"}});

  // cp to a fresh directory; the first copy is untimed so the model is in the page cache
  // for cp and onnxq alike.
  const fs::path copy_dir = tmp / "copy";
  std::vector<std::string> cp_args{"cp"};
  cp_args.insert(cp_args.end(), model_files.begin(), model_files.end());
  cp_args.push_back(model_files.size() == 1 ? (copy_dir / "copy.onnx").string() : copy_dir.string() + "/");
  std::vector<double> cp_times;
  for (int i = 0; i <= repeat; ++i) {
    fs::remove_all(copy_dir);
    fs::create_directory(copy_dir);
    const ChildResult r = run(cp_args);
    if (r.exit_code != 0) throw std::runtime_error("cp failed with exit code " + std::to_string(r.exit_code));
    if (i > 0) cp_times.push_back(r.seconds);
  }
  fs::remove_all(copy_dir);
  const double cp_s = median(cp_times);

  const double mb = 1e6;
  std::printf("model: %s, %.1f MB; onnxq: %s; %u cores; median of %d runs\n\n",
              model_arg.empty() ? ("preset " + preset).c_str() : model_arg.c_str(), model_bytes / mb,
              onnxq.c_str(), std::thread::hardware_concurrency(), repeat);
  std::printf(
      "| setting | median s | cp s | ratio to cp | peak RSS MB | RSS / model size | output size ratio |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  std::vector<std::string> notes;
  if (!int4) notes.push_back("int4 block 32: skipped, `onnxq quantize-dynamic --help` has no --block-size");

  for (const Setting& s : settings) {
    const fs::path out_dir = tmp / "out", err = tmp / "stderr.txt";
    std::vector<std::string> args{
        onnxq, "quantize-dynamic", model_path.string(), "-o", (out_dir / "out.onnx").string(), "-q"};
    args.insert(args.end(), s.flags.begin(), s.flags.end());
    std::vector<double> times;
    uint64_t rss = 0, out_bytes = 0;
    int failed = 0;
    for (int i = 0; i < repeat && !failed; ++i) {
      fs::remove_all(out_dir);  // every run writes a new file, as a pipeline would
      fs::create_directory(out_dir);
      const ChildResult r = run(args, "/dev/null", err);
      if (r.exit_code != 0) {
        failed = r.exit_code;
        notes.push_back(s.name + ": onnxq exited with " + std::to_string(r.exit_code) + ": " +
                        first_line(err));
        break;
      }
      times.push_back(r.seconds);
      rss = std::max(rss, r.max_rss_bytes);
      out_bytes = dir_bytes(out_dir);
      std::cerr << s.name << " run " << i + 1 << "/" << repeat << ": " << r.seconds << " s, "
                << r.max_rss_bytes / mb << " MB\n";
    }
    fs::remove_all(out_dir);
    if (failed) {
      std::printf("| %s | failed (exit %d) | %.2f | | | | |\n", s.name.c_str(), failed, cp_s);
    } else {
      const double t = median(times);
      std::printf("| %s | %.2f | %.2f | %.1f | %.0f | %.2f | %.3f |\n", s.name.c_str(), t, cp_s, t / cp_s,
                  rss / mb, static_cast<double>(rss) / model_bytes,
                  static_cast<double>(out_bytes) / model_bytes);
    }
    std::fflush(stdout);
  }
  if (!notes.empty()) std::printf("\n");
  for (const auto& n : notes) std::printf("- %s\n", n.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench(argc, argv);
  } catch (const onnxq::Error& e) {
    std::cerr << "bench_quantize_dynamic: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "bench_quantize_dynamic: " << e.what() << "\n";
    return 1;
  }
}
