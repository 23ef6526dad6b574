#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "onnxq/dtype.hpp"
#include "onnxq/tensor.hpp"
#include "onnxq/tensor_range.hpp"

namespace onnxq {

// Options of `onnxq quantize-static --calib-method ...`; every CLI default lives here.
//
// What each method returns, and how it relates to ONNX Runtime's quantize_static
// (onnxruntime/python/tools/quantization/calibrate.py) with the same settings:
//
//  minmax        min and max over all samples; symmetric: ±max(|min|, |max|). Same as ORT.
//  minmax with moving_average
//                per-sample min/max folded in as r = r + c·(sample − r), the first sample
//                starting it: ORT's MinMaxCalibrater with max_intermediate_outputs=1 (and
//                PyTorch's moving-average observer). ORT's default (no
//                max_intermediate_outputs) averages all samples' extremes with equal weight
//                instead, and ignores the constant. Depends on sample order, so tables of
//                this method do not merge (kUnsupported).
//  percentile    ORT's rule on onnxq's histogram: asymmetric, the bin edges where the CDF
//                reaches (100−p)/200 and 1−(100−p)/200; symmetric, the edge where the CDF of
//                |x| reaches p/100, as ±T. Both clamped to the observed [min, max]. ORT
//                defaults to the symmetric variant when CalibTensorRangeSymmetric is not
//                given; onnxq follows `symmetric` like every other method.
//  entropy       ORT's KL-divergence search (num_bins, num_quantized_bins, smoothing and all)
//                run on onnxq's histogram re-binned to ORT's grid: num_bins bins over
//                [−max|x|, max|x|]. With ORT's defaults (128 and 128) there is one candidate
//                and the result is [min, max], as in ORT.
//  distribution  ORT returns a mean and standard deviation (for float8 scales), computed
//                from bin centers; onnxq's range is mean ± 4·std clamped to [min, max]
//                (symmetric: ±max of the two ends). Only ORT's scenario "same".
//  mse           onnxq's own: the clipping range minimising expected quantization MSE
//                (clipping error plus rounding error) for the activation type; see
//                src/calib/mse.cpp for the formula.
//
// Histograms: 4·num_bins bins (rounded up to a power of two, at least 2048) over [−R, R),
// R the smallest power of two above every |x| seen. A larger value doubles R by adding
// adjacent bin pairs, which gives exactly the counts binning at the new R directly would:
// counts depend only on the data, never on sample order or sharding, and merging is exact.
// Memory per tensor is fixed (8 bytes a bin). The data covers at least half of [−R, R),
// so onnxq's resolution over the data is at least ORT's.
//
// Values: NaN and ±inf are skipped (never in a range or histogram); an empty tensor or one
// with no finite value changes nothing; a tensor never observed with a finite value gets
// the range [0, 0]. float16, bfloat16 and double tensors are converted to float; any other
// element type is kUnsupported naming the tensor.
struct CalibOptions {
  std::string method = "minmax";  // minmax | percentile | entropy | distribution | mse
  bool moving_average = false;    // minmax only
  double ma_constant = 0.01;      // in [0, 1]
  double percentile = 99.999;     // in [0, 100]
  int num_bins = 0;               // 0: the method's default (percentile 2048, entropy 128,
                                  // distribution 2048, mse 2048)
  int num_quantized_bins = 128;   // entropy
  bool symmetric = false;         // symmetric activations (and calibration ranges)
  DataType activation_type = DataType::kUInt8;
  int threads = 0;                // observe() may use threads; results identical for any count
};

// Collects statistics of tensors, one sample at a time, and turns them into ranges.
// Not thread-safe: one caller at a time (the executor's hook runs in the calling thread).
class Calibrator {
 public:
  virtual ~Calibrator() = default;
  // One call per tensor per sample (each name at most once per run; the caller filters names).
  virtual void observe(const std::string& name, const Tensor& value) = 0;
  // Creates the state of tensors that will be observed, before the first sample: state
  // allocated between the executor's activations fragments the heap, and the next runs'
  // activations then land on fresh pages (page faults cost more than the counting). A tensor
  // expected but never observed with a finite value appears in no range and no table.
  virtual void expect(const std::vector<std::string>& names) { (void)names; }
  virtual TensorRanges ranges() const = 0;
  // Per-tensor state for a calibration table (enough to merge shards exactly) and back.
  // save() is {name: state}; load_and_merge() adds such an object to what is held.
  virtual nlohmann::json save() const = 0;
  virtual void load_and_merge(const nlohmann::json& state) = 0;  // kInput when malformed
};

// kInput on an unknown method or an option out of range.
std::unique_ptr<Calibrator> make_calibrator(const CalibOptions& options);
std::vector<std::string> calibration_methods();

// The options as written into a table, with num_bins resolved; equal JSON means mergeable.
nlohmann::json calib_options_to_json(const CalibOptions& options);
CalibOptions calib_options_from_json(const nlohmann::json& j);  // kInput when malformed

// Calibration tables (JSON):
//   {"format": "onnxq-calibration-table", "version": 1, "method": ..., "options": {...},
//    "samples": N, "tensors": {name: {"min": .., "max": .., "state": ...}}}
// Floats are written as doubles and read back bit-identical.
void save_calibration_table(const std::filesystem::path& path, const Calibrator& calibrator,
                            const CalibOptions& options, int64_t samples);  // atomic

struct CalibrationTable {
  CalibOptions options;
  int64_t samples = 0;
  TensorRanges ranges;
  nlohmann::json raw;
};
// kInput naming the file on anything malformed.
CalibrationTable load_calibration_table(const std::filesystem::path& path);

// A calibrator of the table's method and options holding its merged state.
std::unique_ptr<Calibrator> calibrator_from_table(const CalibrationTable& table);

// Merges shard tables (same method and options, else kInput naming the file that differs)
// into one, as if one run had seen every shard's samples. Moving-average tables are
// kUnsupported (their ranges depend on sample order).
void merge_calibration_tables(const std::vector<std::filesystem::path>& inputs,
                              const std::filesystem::path& output);

}  // namespace onnxq
