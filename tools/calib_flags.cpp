#include "calib_flags.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <tuple>

#include "onnxq/error.hpp"

namespace onnxq::cli {
namespace {

// "224x224" -> {224, 224}
std::pair<int, int> parse_hw(const std::string& text) {
  int h = 0, w = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &h, &x, &w, &extra) != 3 || (x != 'x' && x != 'X') || h <= 0 || w <= 0)
    fail(ExitCode::kUsage, "--image-size must be HxW, e.g. 224x224, not '" + text + "'");
  return {h, w};
}

std::vector<float> parse_floats(const std::vector<std::string>& values, const std::string& flag) {
  std::vector<float> out;
  for (const auto& v : values) {
    char* end = nullptr;
    const float f = std::strtof(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0') fail(ExitCode::kUsage, flag + ": '" + v + "' is not a number");
    out.push_back(f);
  }
  if (out.size() != 1 && out.size() != 3) fail(ExitCode::kUsage, flag + " takes one value or three (one per channel)");
  if (out.size() == 1) out.assign(3, out[0]);
  return out;
}

}  // namespace

void CalibFlags::add(CLI::App* cmd) {
  add_data(cmd, "--calib", "Calibration data");
  add_method(cmd);
}

void CalibFlags::add_data(CLI::App* cmd, const std::string& flag, const std::string& what) {
  cmd->add_option(flag, calib,
                  what + ": a directory of .npy (per-input subdirectories for several inputs), .npz "
                         "files, ONNX test_data_set_* folders, images, or 'random'");
  cmd->add_option("--max-samples", max_samples, "Use at most N samples (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--image-size", image_size, "Images: target HxW (default: the model input's fixed size)");
  cmd->add_option("--resize", resize,
                  "Images: shorter (cover the target keeping the aspect ratio, default), exact (HxW), or pad "
                  "(height to H, width by aspect ratio up to W, zero padding: PaddleOCR's text lines)")
      ->check(CLI::IsMember({"shorter", "exact", "pad"}));
  cmd->add_flag("--center-crop", center_crop, "Images: cut the centre to the target size after resizing");
  cmd->add_option("--mean", mean, "Images: per-channel mean subtracted after scaling (one or three values)")
      ->delimiter(',');
  cmd->add_option("--std", std, "Images: per-channel standard deviation divided by (one or three values)")
      ->delimiter(',');
  cmd->add_option("--scale", scale, "Images: pixel multiplier before mean/std (default 1/255)");
  cmd->add_option("--layout", layout, "Images: nchw (default) or nhwc")->check(CLI::IsMember({"nchw", "nhwc"}));
  cmd->add_option("--channels", channels, "Images: rgb (default) or bgr")->check(CLI::IsMember({"rgb", "bgr"}));
  cmd->add_option("--random-distribution", random, "random data: uniform [0, 1) (default) or normal")
      ->check(CLI::IsMember({"uniform", "normal"}));
}

void CalibFlags::add_method(CLI::App* cmd) {
  cmd->add_option("--calib-method", method, "minmax (default), percentile, entropy, distribution or mse")
      ->check(CLI::IsMember(calibration_methods()));
  cmd->add_flag("--moving-average", lib.moving_average, "minmax: moving average of per-sample ranges");
  cmd->add_option("--ma-constant", lib.ma_constant, "minmax --moving-average: the averaging constant (default 0.01)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--percentile", lib.percentile, "percentile: the percentile kept (default 99.999)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--num-bins", lib.num_bins, "Histogram methods: bins (default: the method's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--num-quantized-bins", lib.num_quantized_bins, "entropy: quantized bins (default 128)")
      ->check(CLI::PositiveNumber);
}

CalibDataOptions CalibFlags::data() const {
  CalibDataOptions d;
  d.source = calib;
  d.max_samples = max_samples;
  if (!image_size.empty()) std::tie(d.image.height, d.image.width) = parse_hw(image_size);
  d.image.resize = resize == "exact" ? ImageResize::kExact : resize == "pad" ? ImageResize::kFitHeightPad : ImageResize::kShorter;
  d.image.center_crop = center_crop;
  if (!mean.empty()) d.image.mean = parse_floats(mean, "--mean");
  if (!std.empty()) d.image.std = parse_floats(std, "--std");
  d.image.scale = scale;
  d.image.layout = layout == "nhwc" ? ImageLayout::kNHWC : ImageLayout::kNCHW;
  d.image.channels = channels == "bgr" ? ChannelOrder::kBGR : ChannelOrder::kRGB;
  d.distribution = random == "normal" ? RandomDistribution::kNormal : RandomDistribution::kUniform;
  return d;
}

CalibOptions CalibFlags::options() const {
  CalibOptions c = lib;
  c.method = method;
  return c;
}
// Progress on stderr, only when it is a terminal and not --quiet: samples done, rate and ETA.
ProgressFn terminal_progress(const GlobalOptions& global, const std::string& label) {
  if (global.quiet || !::isatty(STDERR_FILENO)) return {};
  auto start = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [start, label](const std::string& what, int64_t done, int64_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
    const double rate = s > 0 ? static_cast<double>(done) / s : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    std::fprintf(stderr, "\r%s: %lld/%lld %s, %.1f/s, ETA %.0f s   ", label.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), what.c_str(), rate, eta);
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
  };
}

}  // namespace onnxq::cli
