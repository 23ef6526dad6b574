#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "onnxq/calibration.hpp"
#include "onnxq/calibration_data.hpp"
#include "onnxq/model.hpp"
#include "onnxq/progress.hpp"
#include "onnxq/quantize_static.hpp"

namespace onnxq {

// What a calibration run saw and concluded.
struct CalibrationRun {
  std::unique_ptr<Calibrator> calibrator;
  TensorRanges ranges;
  int64_t samples = 0;
  int64_t tensors = 0;  // distinct tensors observed
  double seconds = 0;  // everything: setup, every sample, turning statistics into ranges
  double setup_seconds = 0;  // planning the executor, opening the data, allocating the statistics
  double first_sample_seconds = 0;  // loading, running and observing the first sample (warms caches)
  double median_sample_seconds = 0;  // the same, median over the samples: the steady cost
  std::vector<std::string> warnings;  // from the data source
};

// Runs the model on every sample of `data` in the executor and feeds `tensors` (the float ones,
// through the tensor hook: no augmented model) to a calibrator made from `calib`. A sample of the
// wrong shape, type or input name is kInput naming the file and the input. Memory does not grow
// with the number of samples. `also`, when set, sees the `also_tensors` of every run as well.
CalibrationRun calibrate(const Model& model, const CalibDataOptions& data, const CalibOptions& calib,
                         const std::vector<std::string>& tensors, int threads = 0, const ProgressFn& progress = {},
                         const std::vector<std::string>& also_tensors = {}, const TensorHook& also = {});

// Everything `onnxq quantize-static` does, with every default in the member structs.
struct StaticFileOptions {
  CalibDataOptions data;
  CalibOptions calib;
  StaticQuantOptions quant;
  // Reuse these tables' (merged) ranges instead of running calibration.
  std::vector<std::filesystem::path> calib_tables_in;
  // Save the calibration table here (after a run).
  std::filesystem::path calib_table_out;
  // SmoothQuant for MatMuls with constant weights: per-channel activation maxima from one extra
  // pass over the data move outliers into the weights (src/quant/static/smooth_quant.hpp).
  bool smooth_quant = false;
  float smooth_quant_alpha = 0.5f;
  // Bias correction for Conv and Gemm: each layer's bias absorbs the mean output shift its own
  // weight rounding causes, measured on the data (src/quant/static/bias_correction.hpp).
  bool bias_correction = false;

  int threads = 0;
  ProgressFn progress;
};

struct StaticFileReport {
  QuantizeReport quant;
  std::string method;
  int64_t samples = 0, tensors_observed = 0;
  double calibration_seconds = 0, rewrite_seconds = 0;
  // Parts of calibration_seconds (see CalibrationRun).
  double calibration_setup_seconds = 0, calibration_first_sample_seconds = 0, calibration_median_sample_seconds = 0;
  double smooth_quant_seconds = 0;  // its own pass over the data, before calibration
  int64_t smoothed_activations = 0, smoothed_into_layernorm = 0;
  int64_t bias_corrected = 0;      // layers whose bias was shifted
  double bias_max_shift = 0;       // the largest shift of one output channel
  std::vector<std::string> warnings;  // data and quantization warnings, to be logged
};

// Loads `input`, calibrates (or reads tables), quantizes, checks and saves `output` atomically.
// Nothing is written when anything fails.
StaticFileReport quantize_static_file(const std::filesystem::path& input, const std::filesystem::path& output,
                                      const StaticFileOptions& options, const SaveOptions& save = {});

nlohmann::json static_report_to_json(const StaticFileReport& report);
std::string static_report_summary(const StaticFileReport& report);

}  // namespace onnxq
