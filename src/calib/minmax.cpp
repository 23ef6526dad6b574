// minmax: the extremes over all samples, or their moving average.
#include <algorithm>
#include <cmath>
#include <map>

#include "calib/calibrator_registry.hpp"
#include "calib/float_values.hpp"
#include "calib/histogram.hpp"

namespace onnxq::calib {

namespace {

struct Track {
  // Doubles so the moving average does not round at every sample; plain extremes are floats.
  double min = 0.0;
  double max = 0.0;
  bool any = false;  // false: expected, not observed yet
};

class MinMaxCalibrator final : public Calibrator {
 public:
  explicit MinMaxCalibrator(const CalibOptions& options) : options_(options) {}

  void observe(const std::string& name, const Tensor& value) override {
    const std::span<const float> values = float_values(name, value, scratch_);
    if (values.empty()) return;
    const Extremes e = finite_extremes(values, options_.threads);
    if (!e.any()) return;
    Track& t = tracks_[name];
    if (!t.any) {
      t = Track{e.min, e.max, true};
      return;
    }
    if (options_.moving_average) {
      // ORT's merge_range with one sample per batch: r += c * (sample - r).
      t.min += options_.ma_constant * (e.min - t.min);
      t.max += options_.ma_constant * (e.max - t.max);
    } else {
      t.min = std::min<double>(t.min, e.min);
      t.max = std::max<double>(t.max, e.max);
    }
  }

  void expect(const std::vector<std::string>& names) override {
    for (const auto& name : names) tracks_.try_emplace(name);
  }

  TensorRanges ranges() const override {
    TensorRanges ranges;
    for (const auto& [name, t] : tracks_) {
      if (!t.any) continue;
      const float lo = static_cast<float>(t.min), hi = static_cast<float>(t.max);
      if (options_.symmetric) {
        const float a = std::max(std::fabs(lo), std::fabs(hi));
        ranges[name] = {-a, a};
      } else {
        ranges[name] = {lo, hi};
      }
    }
    return ranges;
  }

  nlohmann::json save() const override {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, t] : tracks_)
      if (t.any) j[name] = {{"min", t.min}, {"max", t.max}};
    return j;
  }

  void load_and_merge(const nlohmann::json& state) override {
    if (!state.is_object()) fail(ExitCode::kInput, "calibration state is not an object");
    const bool holding = std::any_of(tracks_.begin(), tracks_.end(), [](const auto& e) { return e.second.any; });
    if (options_.moving_average && holding && !state.empty())
      fail(ExitCode::kUnsupported,
           "moving-average ranges depend on the order of samples and cannot be merged across shards");
    for (const auto& [name, s] : state.items()) {
      if (!s.is_object() || !s.contains("min") || !s.contains("max") || !s["min"].is_number() ||
          !s["max"].is_number())
        fail(ExitCode::kInput, "tensor '" + name + "': minmax state needs numbers 'min' and 'max'");
      const double lo = s["min"].get<double>(), hi = s["max"].get<double>();
      if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
        fail(ExitCode::kInput, "tensor '" + name + "': minmax state has a bad range");
      Track& t = tracks_[name];
      t = t.any ? Track{std::min(t.min, lo), std::max(t.max, hi), true} : Track{lo, hi, true};
    }
  }

 private:
  CalibOptions options_;
  std::map<std::string, Track> tracks_;
  std::vector<float> scratch_;
};

}  // namespace

void register_minmax(CalibratorRegistry& registry) {
  registry.add({"minmax", 0, [](const CalibOptions& o) { return std::make_unique<MinMaxCalibrator>(o); }});
}

}  // namespace onnxq::calib
