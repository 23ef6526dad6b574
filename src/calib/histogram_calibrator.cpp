#include "calib/histogram_calibrator.hpp"

#include <algorithm>

#include "calib/float_values.hpp"
#include "core/parallel.hpp"

namespace onnxq::calib {

int histogram_bins(int num_bins) {
  int bins = 2048;
  while (bins < 4 * num_bins) bins *= 2;
  return bins;
}

HistogramCalibrator::HistogramCalibrator(const CalibOptions& options, RangeRule rule)
    : options_(options), rule_(std::move(rule)), bins_(histogram_bins(options.num_bins)) {}

void HistogramCalibrator::observe(const std::string& name, const Tensor& value) {
  const std::span<const float> values = float_values(name, value, scratch_);
  if (values.empty()) return;
  // An expected name was created before the first sample; a tensor that never had a finite
  // value keeps an empty histogram, which gives no range.
  histograms_.try_emplace(name, bins_).first->second.add(values, options_.threads);
}

void HistogramCalibrator::expect(const std::vector<std::string>& names) {
  for (const auto& name : names) histograms_.try_emplace(name, bins_);
}

TensorRanges HistogramCalibrator::ranges() const {
  std::vector<const std::pair<const std::string, Histogram>*> entries;
  for (const auto& e : histograms_)
    if (!e.second.empty()) entries.push_back(&e);
  std::vector<TensorRange> out(entries.size());
  // One tensor per task: each range is computed by one thread, so any count gives the same.
  parallel_for(static_cast<int64_t>(entries.size()), options_.threads, [&](int64_t i) {
    const Histogram& h = entries[static_cast<size_t>(i)]->second;
    out[static_cast<size_t>(i)] = rule_(h, options_);
  });
  TensorRanges ranges;
  for (size_t i = 0; i < entries.size(); ++i) ranges[entries[i]->first] = out[i];
  return ranges;
}

nlohmann::json HistogramCalibrator::save() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, h] : histograms_)
    if (!h.empty()) j[name] = h.to_json();
  return j;
}

void HistogramCalibrator::load_and_merge(const nlohmann::json& state) {
  if (!state.is_object()) fail(ExitCode::kInput, "calibration state is not an object");
  for (const auto& [name, s] : state.items()) {
    Histogram h = with_context("tensor '" + name + "'", [&] { return Histogram::from_json(s, bins_); });
    if (h.empty()) continue;
    auto it = histograms_.try_emplace(name, bins_).first;
    it->second.merge(h);
  }
}

TensorRange clamp_to_observed(double lo, double hi, const Histogram& h) {
  // Both ends into [min, max]: a threshold snapped to the grid may pass the other end.
  const double mn = h.min(), mx = h.max();
  lo = std::clamp(lo, mn, mx);
  hi = std::clamp(hi, mn, mx);
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

}  // namespace onnxq::calib
