#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli.hpp"
#include "onnxq/calibration.hpp"
#include "onnxq/calibration_data.hpp"
#include "onnxq/progress.hpp"

namespace onnxq::cli {

// Calibration flags shared by quantize-static and calibrate: where the samples come from, how
// images become tensors, and the calibration method.
struct CalibFlags {
  std::string calib, image_size, resize = "shorter", layout = "nchw", channels = "rgb", random = "uniform";
  std::vector<std::string> mean, std;
  float scale = 1.0f / 255.0f;
  bool center_crop = false;
  int max_samples = 0;
  std::string method = "minmax";
  CalibOptions lib;

  void add(CLI::App* cmd);  // add_data with --calib, then add_method
  // Where samples come from (`flag` sets `calib`), how many, and how images become tensors.
  void add_data(CLI::App* cmd, const std::string& flag, const std::string& what);
  void add_method(CLI::App* cmd);
  CalibDataOptions data() const;
  CalibOptions options() const;
};

// Progress on stderr, only when it is a terminal and not --quiet: done/total, rate and ETA.
ProgressFn terminal_progress(const GlobalOptions& global, const std::string& label = "calibrating");

}  // namespace onnxq::cli
