#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "calib/histogram.hpp"
#include "onnxq/calibration.hpp"

namespace onnxq::calib {

// Internal bins for a method's num_bins: 4x, a power of two, at least 2048. The data spans
// at least half of the histogram's range, so the positive side alone has >= num_bins bins.
int histogram_bins(int num_bins);

// The range a method picks from a non-empty histogram.
using RangeRule = std::function<TensorRange(const Histogram&, const CalibOptions&)>;

// Every histogram method: one Histogram per tensor, its own rule turning it into a range.
class HistogramCalibrator final : public Calibrator {
 public:
  HistogramCalibrator(const CalibOptions& options, RangeRule rule);

  void observe(const std::string& name, const Tensor& value) override;
  void expect(const std::vector<std::string>& names) override;
  TensorRanges ranges() const override;
  nlohmann::json save() const override;
  void load_and_merge(const nlohmann::json& state) override;

  // Expected tensors never observed hold an empty histogram.
  const std::map<std::string, Histogram>& histograms() const { return histograms_; }

 private:
  CalibOptions options_;
  RangeRule rule_;
  int bins_;
  std::map<std::string, Histogram> histograms_;
  std::vector<float> scratch_;
};

// The rules, one per method file (exposed for tests).
TensorRange percentile_range(const Histogram& h, const CalibOptions& options);
TensorRange entropy_range(const Histogram& h, const CalibOptions& options);
TensorRange distribution_range(const Histogram& h, const CalibOptions& options);
TensorRange mse_range(const Histogram& h, const CalibOptions& options);

// Clamps [lo, hi] into the histogram's observed [min, max], as ORT does.
TensorRange clamp_to_observed(double lo, double hi, const Histogram& h);

}  // namespace onnxq::calib
