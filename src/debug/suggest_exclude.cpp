// `--suggest-exclude`: rank nodes by the noise they add, leave the worst in float by quantizing
// the float model again with the quantized model's recipe, and measure what that gains.
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "debug/quant_graph.hpp"
#include "onnxq/debug.hpp"
#include "onnxq/quantize_dynamic.hpp"
#include "onnxq/recipe.hpp"
#include "onnxq/static_pipeline.hpp"

namespace onnxq {
namespace {

namespace fs = std::filesystem;

double noise_fraction(double sqnr_db) { return std::isinf(sqnr_db) && sqnr_db > 0 ? 0.0 : std::pow(10.0, -sqnr_db / 10); }

// A directory for the re-quantized model, removed with it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "onnxq-debug-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail(ExitCode::kOutput, "cannot create a temporary directory in " + fs::temp_directory_path().string());
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string strip_suffix(const std::string& s, const std::string& suffix) {
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
    return s.substr(0, s.size() - suffix.size());
  return s;
}

double min_output_sqnr(const DebugReport& r, std::string* name) {
  double worst = INFINITY;
  for (const auto& o : r.outputs)
    if (std::isnan(o.sqnr_db) || o.sqnr_db < worst) {
      worst = o.sqnr_db;
      if (name) *name = o.name;
    }
  return worst;
}

}  // namespace

std::vector<ExcludeCandidate> rank_exclude_candidates(const Model& float_model, const DebugReport& report) {
  const debug::GraphIndex f(float_model);
  std::map<std::string, const ActivationError*> by_tensor;
  for (const auto& a : report.activations) by_tensor[a.name] = &a;
  // Nodes the quantizer touched: their weight is quantized, or their output went through a QDQ pair.
  std::set<std::string> quantized;
  for (const auto& w : report.weights)
    quantized.insert(strip_suffix(strip_suffix(w.node, "_quant"), "_MatMulNBits"));
  for (const auto& a : report.activations)
    if (a.qdq_sqnr_db) quantized.insert(a.node);

  std::vector<ExcludeCandidate> out;
  for (int i = 0; i < f.node_count(); ++i) {
    const auto& n = f.node(i);
    if (n.name().empty() || !quantized.count(n.name()) || n.output_size() == 0) continue;
    auto produced = by_tensor.find(n.output(0));
    if (produced == by_tensor.end()) continue;
    ExcludeCandidate c;
    c.node = n.name();
    c.op_type = n.op_type();
    c.output_sqnr_db = produced->second->sqnr_db;
    c.input_sqnr_db = INFINITY;
    for (const auto& in : n.input())
      if (auto it = by_tensor.find(in); it != by_tensor.end()) c.input_sqnr_db = std::min(c.input_sqnr_db, it->second->sqnr_db);
    c.added_noise = noise_fraction(c.output_sqnr_db) - noise_fraction(c.input_sqnr_db);
    if (c.added_noise > 0) out.push_back(c);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.added_noise > b.added_noise; });
  return out;
}

double keep_helpful_exclusions(std::vector<ExcludeCandidate>& candidates, double baseline,
                               const std::function<double(const std::vector<std::string>&)>& sqnr_with) {
  std::vector<std::string> kept;
  double best = baseline;
  for (auto& c : candidates) {
    kept.push_back(c.node);
    c.sqnr_with_db = sqnr_with(kept);
    // NaN (a broken output) never wins; +inf (exact) beats anything finite and nothing beats it.
    c.kept = c.sqnr_with_db > best && c.sqnr_with_db >= best + kMinExcludeGainDb;
    if (c.kept) best = c.sqnr_with_db;
    else kept.pop_back();
  }
  return best;
}

ExcludeSuggestion suggest_exclude(const Model& float_model, const Model& quant, const DebugReport& report, size_t count,
                                  const DebugOptions& options, const ProgressFn& progress) {
  const auto recipe = read_recipe(quant);
  if (!recipe)
    fail(ExitCode::kInput, quant.path().string() + ": no '" + kRecipeKey +
                               "' metadata saying how it was quantized (it was not written by onnxq's quantize-static "
                               "or quantize-dynamic): --suggest-exclude cannot quantize again");
  if (float_model.path().empty()) fail(ExitCode::kUsage, "--suggest-exclude needs the float model as a file");
  if (report.activations.empty()) fail(ExitCode::kUsage, "--suggest-exclude needs measured activations: give --data");

  ExcludeSuggestion s;
  s.command = recipe->value("command", "");
  s.sqnr_before = min_output_sqnr(report, &s.output);
  auto ranked = rank_exclude_candidates(float_model, report);
  if (ranked.size() > count) ranked.resize(count);
  s.nodes = ranked;
  if (s.nodes.empty()) {
    s.sqnr_after = s.sqnr_before;
    return s;
  }
  const ScratchDir dir;
  DebugOptions measure = options;
  measure.weights = false;
  measure.activations = false;
  auto output_sqnr = [&](const fs::path& path) {
    const Model again = Model::load(path);
    return min_output_sqnr(debug_models(float_model, again, measure, progress), nullptr);
  };
  const fs::path tried = dir.path() / "excluded.onnx";
  std::function<void(const std::vector<std::string>&)> quantize_without;
  if (s.command == "quantize-dynamic") {
    quantize_without = [&](const std::vector<std::string>& names) {
      DynamicQuantOptions o = dynamic_options_from_recipe(*recipe);
      o.nodes_exclude.insert(o.nodes_exclude.end(), names.begin(), names.end());
      o.threads = options.threads;
      quantize_dynamic_file(float_model.path(), tried, o);
    };
  } else if (s.command == "quantize-static") {
    quantize_without = [&](const std::vector<std::string>& names) {
      StaticFileOptions o = static_options_from_recipe(*recipe);
      o.data = options.data;
      o.threads = options.threads;
      o.progress = progress;
      o.quant.nodes_exclude.insert(o.quant.nodes_exclude.end(), names.begin(), names.end());
      quantize_static_file(float_model.path(), tried, o);
    };
    // Calibrated on the debug data, which need not be the original calibration set: the baseline
    // is quantized again on the same data, so before and after differ by the exclusions alone.
    quantize_without({});
    s.sqnr_before = output_sqnr(tried);
    s.baseline_requantized = true;
  } else {
    fail(ExitCode::kInput, quant.path().string() + ": recipe command '" + s.command + "' is not one onnxq can repeat");
  }
  s.sqnr_after = keep_helpful_exclusions(s.nodes, s.sqnr_before, [&](const std::vector<std::string>& names) {
    quantize_without(names);
    return output_sqnr(tried);
  });
  return s;
}

std::string exclude_suggestion_text(const ExcludeSuggestion& s) {
  char buf[256];
  std::string out = "\nsuggest-exclude: " + std::to_string(s.nodes.size()) +
                    " node(s) adding the most noise (noise power relative to the signal, at their inputs -> output),\n"
                    "each tried in float on top of those kept (" +
                    std::string(s.baseline_requantized ? "quantize-static again on --data" : "quantize-dynamic again") +
                    ", output '" + s.output + "')\n";
  if (s.nodes.empty()) return out + "  (none: no quantized node adds measurable noise)\n";
  std::snprintf(buf, sizeof buf, "  %-10s %-40s %-20s %s\n", "noise", "node", "inputs -> output", "output SQNR in float");
  out += buf;
  std::snprintf(buf, sizeof buf, "  %-10s %-40s %-20s %.1f dB\n", "", "(none)", "", s.sqnr_before);
  out += buf;
  double best = s.sqnr_before;
  for (const auto& c : s.nodes) {
    char flow[64];
    std::snprintf(flow, sizeof flow, "%.1f -> %.1f dB", c.input_sqnr_db, c.output_sqnr_db);
    const std::string node = c.node + " (" + c.op_type + ")";
    std::snprintf(buf, sizeof buf, "  %-10.4g %-40s %-20s %.1f dB (%+.1f) %s\n", c.added_noise, node.c_str(), flow,
                  c.sqnr_with_db, c.sqnr_with_db - best, c.kept ? "kept" : "dropped");
    if (c.kept) best = c.sqnr_with_db;
    out += buf;
  }
  const auto excluded = s.excluded();
  if (excluded.empty()) {
    std::snprintf(buf, sizeof buf, "no exclusion gains %.1f dB or more: keep the model as it is (%.1f dB)\n",
                  kMinExcludeGainDb, s.sqnr_before);
    return out + buf;
  }
  std::snprintf(buf, sizeof buf, "output '%s' %.1f dB -> %.1f dB (%+.1f dB) with\n", s.output.c_str(), s.sqnr_before,
                s.sqnr_after, s.sqnr_after - s.sqnr_before);
  out += buf;
  out += "  --nodes-exclude ";
  for (size_t i = 0; i < excluded.size(); ++i) out += (i ? "," : "") + excluded[i];
  out += "\n";
  return out;
}

nlohmann::json exclude_suggestion_json(const ExcludeSuggestion& s) {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json nodes = nlohmann::json::array();
  std::string arg;
  for (const auto& c : s.nodes) {
    nodes.push_back({{"node", c.node},
                     {"op_type", c.op_type},
                     {"input_sqnr_db", number(c.input_sqnr_db)},
                     {"output_sqnr_db", number(c.output_sqnr_db)},
                     {"added_noise", c.added_noise},
                     {"sqnr_with_db", number(c.sqnr_with_db)},
                     {"kept", c.kept}});
  }
  for (const auto& e : s.excluded()) arg += (arg.empty() ? "" : ",") + e;
  return {{"nodes", nodes},
          {"output", s.output},
          {"sqnr_before_db", number(s.sqnr_before)},
          {"sqnr_after_db", number(s.sqnr_after)},
          {"command", s.command},
          {"baseline_requantized", s.baseline_requantized},
          {"nodes_exclude", arg}};
}

}  // namespace onnxq
