#include "onnxq/static_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "calib/value_aliases.hpp"
#include "onnxq/checker.hpp"
#include "onnxq/executor.hpp"
#include "onnxq/recipe.hpp"
#include "quant/static/bias_correction.hpp"
#include "quant/static/smooth_quant.hpp"

namespace onnxq {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool is_floating(DataType t) {
  return t == DataType::kFloat || t == DataType::kFloat16 || t == DataType::kBFloat16 || t == DataType::kDouble;
}

// Hands out samples 0, 1, 2, ... in turn, reading the next on another thread while the
// caller runs the current one: decoding images or reading files then costs no time of its own.
class SamplePrefetch {
 public:
  explicit SamplePrefetch(const CalibrationData& source) : source_(source) { start(0); }

  // Sample `i`; calls go 0, 1, 2, ... Errors reading it surface here.
  NamedTensors take(size_t i) {
    NamedTensors sample = next_.get();
    start(i + 1);
    return sample;
  }

 private:
  void start(size_t i) {
    if (i < source_.size()) next_ = std::async(std::launch::async, [this, i] { return source_.sample(i); });
  }

  const CalibrationData& source_;
  std::future<NamedTensors> next_;
};

// Runs the model on every sample, handing the tensors named `names` to `hook`.
void for_each_sample(const Model& model, const CalibDataOptions& data, int threads,
                     const std::vector<std::string>& names, const TensorHook& hook) {
  Executor executor(model, {threads});
  const TensorWatch watch = executor.watch(names);
  auto source = CalibrationData::open(data, executor.inputs());
  SamplePrefetch samples(*source);
  for (size_t i = 0; i < source->size(); ++i) {
    const NamedTensors sample = samples.take(i);
    with_context("calibration sample " + source->describe(i), [&] { executor.run(sample, watch, hook); });
  }
}

// Tables made with other options (op types, nodes, symmetric activations) may lack ranges this
// run needs, and those tensors would stay float without a word. Only tensors the model
// declares floating are named: integer ones never have a range.
std::optional<std::string> ranges_missing_from_tables(const Model& model, const StaticQuantOptions& quant,
                                                      const TensorRanges& ranges) {
  std::unordered_map<std::string, int32_t> types;
  const auto& g = model.graph();
  for (const auto* list : {&g.input(), &g.value_info(), &g.output()})
    for (const auto& v : *list)
      if (v.type().has_tensor_type()) types[v.name()] = v.type().tensor_type().elem_type();
  std::vector<std::string> missing;
  for (const auto& name : static_calibration_tensors(model, quant)) {
    const auto it = types.find(name);
    const auto type = it == types.end() ? std::nullopt : dtype_from_onnx(it->second);
    if (!ranges.count(name) && type && is_floating(*type)) missing.push_back(name);
  }
  if (missing.empty()) return std::nullopt;
  std::string names;
  for (size_t i = 0; i < missing.size() && i < 3; ++i) names += (i ? ", " : "") + ("'" + missing[i] + "'");
  if (missing.size() > 3) names += ", ...";
  return std::to_string(missing.size()) + " tensor(s) this quantization needs have no range in the calibration table(s) (" +
         names + "); they stay float: calibrate again with the same --op-types, --nodes-* and --symmetric-activations";
}

}  // namespace

CalibrationRun calibrate(const Model& model, const CalibDataOptions& data, const CalibOptions& calib,
                         const std::vector<std::string>& tensors, int threads, const ProgressFn& progress,
                         const std::vector<std::string>& also_tensors, const TensorHook& also) {
  const auto start = std::chrono::steady_clock::now();
  CalibrationRun run;
  // A reshaped or transposed copy of an observed tensor is not observed again: it has the
  // same values, so the same statistics.
  const auto aliases = calib::same_value_aliases(model.graph(), std::set<std::string>(tensors.begin(), tensors.end()));
  run.calibrator = calib::with_aliases(make_calibrator(calib), aliases);
  Executor executor(model, {threads});
  auto source = CalibrationData::open(data, executor.inputs());
  run.warnings = source->warnings();
  // Every name up front, with whether it was seen: nothing is allocated while the executor runs.
  std::unordered_map<std::string, bool> wanted;
  for (const auto& name : tensors)
    if (!aliases.count(name)) wanted.emplace(name, false);
  const int64_t total = static_cast<int64_t>(source->size());
  if (total == 0) fail(ExitCode::kInput, "calibration data '" + data.source + "' holds no samples");
  Calibrator& calibrator = *run.calibrator;
  calibrator.expect(tensors);
  std::vector<std::string> seen;
  for (const auto& [name, unused] : wanted) seen.push_back(name);
  if (also) seen.insert(seen.end(), also_tensors.begin(), also_tensors.end());
  const TensorWatch watch = executor.watch(seen);
  SamplePrefetch samples(*source);  // the first read counts in the first sample's time, not setup
  run.setup_seconds = seconds_since(start);
  std::vector<double> sample_seconds;
  sample_seconds.reserve(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    const auto sample_start = std::chrono::steady_clock::now();
    const NamedTensors sample = samples.take(static_cast<size_t>(i));
    with_context("calibration sample " + source->describe(static_cast<size_t>(i)), [&] {
      executor.run(sample, watch, [&](const std::string& name, const Tensor& value) {
        if (also) also(name, value);
        const auto it = wanted.find(name);
        if (it == wanted.end() || !is_floating(value.dtype())) return;
        calibrator.observe(name, value);
        it->second = true;
      });
    });
    sample_seconds.push_back(seconds_since(sample_start));
    if (progress) progress("samples", i + 1, total);
  }
  run.ranges = calibrator.ranges();
  run.samples = total;
  run.tensors = std::count_if(wanted.begin(), wanted.end(), [](const auto& w) { return w.second; });
  for (const auto& [alias, source] : aliases) run.tensors += wanted.at(source) ? 1 : 0;
  run.first_sample_seconds = sample_seconds.front();
  std::sort(sample_seconds.begin(), sample_seconds.end());
  run.median_sample_seconds = sample_seconds[sample_seconds.size() / 2];
  run.seconds = seconds_since(start);
  return run;
}

StaticFileReport quantize_static_file(const std::filesystem::path& input, const std::filesystem::path& output,
                                      const StaticFileOptions& options, const SaveOptions& save) {
  StaticFileReport report;
  Model model = Model::load(input);
  const uint64_t bytes_before = model.model_file_bytes() + model.external_file_bytes();
  StaticQuantOptions quant = options.quant;
  quant.threads = options.threads;
  CalibOptions calib = options.calib;
  calib.threads = options.threads;
  calib.symmetric = calib.symmetric || quant.symmetric_activations;
  calib.activation_type = quant.activation_type;
  report.method = calib.method;

  if (options.smooth_quant && options.data.source.empty())
    fail(ExitCode::kUsage, "--smooth-quant measures on the data: give --calib");
  if (options.smooth_quant) {
    const auto smooth_start = std::chrono::steady_clock::now();
    const auto inputs = smooth_quant_inputs(model, quant);
    const std::unordered_set<std::string> wanted(inputs.begin(), inputs.end());
    ChannelMaxima maxima;
    for_each_sample(model, options.data, options.threads, inputs, [&](const std::string& name, const Tensor& value) {
      if (wanted.count(name)) observe_channel_maxima(maxima, name, value);
    });
    const SmoothQuantResult smoothed = apply_smooth_quant(model, maxima, options.smooth_quant_alpha, quant);
    report.smoothed_activations = smoothed.activations;
    report.smoothed_into_layernorm = smoothed.folded;
    quant.nodes_exclude.insert(quant.nodes_exclude.end(), smoothed.inserted_nodes.begin(), smoothed.inserted_nodes.end());
    report.smooth_quant_seconds = seconds_since(smooth_start);
  }

  if (options.bias_correction && options.data.source.empty())
    fail(ExitCode::kUsage, "--bias-correction measures on the data: give --calib");
  std::optional<BiasCorrectionObserver> bias;
  TensorHook observe_bias;
  if (options.bias_correction) {
    bias.emplace(model, quant);
    observe_bias = [&](const std::string& name, const Tensor& value) { bias->observe(name, value); };
  }

  TensorRanges ranges;
  CalibOptions ranges_from = calib;  // what the recipe records: a table's own options when read from tables
  if (!options.calib_tables_in.empty()) {
    std::unique_ptr<Calibrator> merged;
    for (const auto& path : options.calib_tables_in) {
      const CalibrationTable table = load_calibration_table(path);
      if (!merged) {
        merged = calibrator_from_table(table);
        report.method = table.options.method;
        ranges_from = table.options;
      } else {
        merged->load_and_merge(table.raw.at("tensors"));
      }
      report.samples += table.samples;
    }
    ranges = merged->ranges();
    if (auto warning = ranges_missing_from_tables(model, quant, ranges)) report.warnings.push_back(*warning);
    if (bias) for_each_sample(model, options.data, options.threads, bias->inputs(), observe_bias);
  } else {
    CalibrationRun run = calibrate(model, options.data, calib, static_calibration_tensors(model, quant),
                                   options.threads, options.progress, bias ? bias->inputs() : std::vector<std::string>{},
                                   observe_bias);
    ranges = std::move(run.ranges);
    report.samples = run.samples;
    report.tensors_observed = run.tensors;
    report.calibration_seconds = run.seconds;
    report.calibration_setup_seconds = run.setup_seconds;
    report.calibration_first_sample_seconds = run.first_sample_seconds;
    report.calibration_median_sample_seconds = run.median_sample_seconds;
    report.warnings = run.warnings;
    if (!options.calib_table_out.empty())
      save_calibration_table(options.calib_table_out, *run.calibrator, calib, run.samples);
  }

  const auto rewrite_start = std::chrono::steady_clock::now();
  if (bias) {
    const BiasCorrectionResult corrected = apply_bias_correction(model, *bias, quant);
    report.bias_corrected = corrected.layers;
    report.bias_max_shift = corrected.max_abs_shift;
  }
  report.quant = quantize_static(model, ranges, quant);
  report.quant.file_bytes_before = bytes_before;
  require_checker_pass(model, "quantized");
  set_recipe(model, static_recipe(options, ranges_from));  // for `onnxq debug --suggest-exclude`
  report.quant.file_bytes_after = model.save(output, save);
  report.rewrite_seconds = seconds_since(rewrite_start);
  report.warnings.insert(report.warnings.end(), report.quant.warnings.begin(), report.quant.warnings.end());
  return report;
}

nlohmann::json static_report_to_json(const StaticFileReport& r) {
  nlohmann::json j = report_to_json(r.quant);
  j["calibration"] = {{"method", r.method},
                      {"samples", r.samples},
                      {"tensors_observed", r.tensors_observed},
                      {"seconds", r.calibration_seconds},
                      {"setup_seconds", r.calibration_setup_seconds},
                      {"first_sample_seconds", r.calibration_first_sample_seconds},
                      {"median_sample_seconds", r.calibration_median_sample_seconds}};
  j["rewrite_seconds"] = r.rewrite_seconds;
  j["smooth_quant"] = {{"activations", r.smoothed_activations},
                       {"into_layernorm", r.smoothed_into_layernorm},
                       {"seconds", r.smooth_quant_seconds}};
  j["bias_correction"] = {{"layers", r.bias_corrected}, {"max_abs_shift", r.bias_max_shift}};
  return j;
}

std::string static_report_summary(const StaticFileReport& r) {
  std::ostringstream out;
  char line[160];
  if (r.calibration_seconds > 0)
    std::snprintf(line, sizeof line, "calibrated with %s on %lld samples, %lld tensors observed, %.2f s (%.1f ms/sample)\n",
                  r.method.c_str(), static_cast<long long>(r.samples), static_cast<long long>(r.tensors_observed),
                  r.calibration_seconds, 1000.0 * r.calibration_seconds / static_cast<double>(r.samples));
  else
    std::snprintf(line, sizeof line, "ranges from calibration tables (%s, %lld samples)\n", r.method.c_str(),
                  static_cast<long long>(r.samples));
  out << line;
  out << report_summary(r.quant);
  if (!r.quant.nodes_by_op.empty()) {
    out << "  nodes by op:";
    for (const auto& [op, n] : r.quant.nodes_by_op) out << " " << op << " " << n;
    out << "\n";
  }
  if (r.smoothed_activations > 0) {
    std::snprintf(line, sizeof line, "  smooth-quant: %lld activations rescaled (%lld into a LayerNormalization)\n",
                  static_cast<long long>(r.smoothed_activations), static_cast<long long>(r.smoothed_into_layernorm));
    out << line;
  }
  if (r.bias_corrected > 0) {
    std::snprintf(line, sizeof line, "  bias correction: %lld biases shifted, largest shift %.3g\n",
                  static_cast<long long>(r.bias_corrected), r.bias_max_shift);
    out << line;
  }
  std::snprintf(line, sizeof line, "  time: calibration %.2f s, rewrite and save %.2f s\n", r.calibration_seconds,
                r.rewrite_seconds);
  out << line;
  return out.str();
}

}  // namespace onnxq
