#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "onnxq/calibration_data.hpp"
#include "onnxq/model.hpp"
#include "onnxq/progress.hpp"

namespace onnxq {

// `onnxq debug FLOAT QUANT`: where quantization lost accuracy. Every SQNR is
// 10 log10(Σx² / Σ(x − y)²) over all elements (and all samples) at once, as ONNX Runtime's
// qdq_loss_debug computes it over the concatenation; +inf when equal.

// Scales and zero points of one quantized tensor: one value (count 1) or per channel/block.
struct QuantParamSummary {
  int64_t count = 0;
  float scale_min = 0, scale_max = 0;
  int32_t zero_point_min = 0, zero_point_max = 0;
};

// A quantized weight of QUANT matched to its float tensor in FLOAT.
struct WeightError {
  std::string name;        // the float weight in FLOAT
  std::string quantized;   // the integer initializer in QUANT
  std::string node;        // the QUANT node reading it
  std::string op_type;
  std::string type;        // "int8", "uint4", ...
  std::string matched_by;  // "name" (onnxq's naming) or "node" (consumer name and input slot)
  double sqnr_db = 0;
  double max_abs_error = 0;
  QuantParamSummary params;
  uint64_t bytes_before = 0;  // the float tensor
  uint64_t bytes_after = 0;   // integers, scales and zero points
  int64_t order = 0;          // position of `node` in QUANT's graph
};

// An activation of FLOAT compared with what QUANT computes in its place.
struct ActivationError {
  std::string name;       // the float tensor in FLOAT
  std::string quantized;  // the QUANT tensor compared with it
  std::string node;       // FLOAT's node producing it
  std::string op_type;
  // Cross-model: FLOAT's tensor against QUANT's (dequantized when it holds integers).
  double sqnr_db = 0;
  double max_abs_diff = 0;
  // FLOAT's tensor against its own quantize-dequantize with QUANT's scale and zero point: what
  // the range alone loses. Absent when QUANT has no fixed scale for it (dynamic quantization).
  std::optional<double> qdq_sqnr_db;
  std::optional<QuantParamSummary> params;
  int64_t order = 0;  // position of `node` in FLOAT's graph
};

// A graph output of both models.
struct OutputError {
  std::string name;
  double sqnr_db = 0;
  double cosine = 0;  // Σxy / √(Σx² Σy²) over all samples
  double max_abs_diff = 0;
  // Class scores: a float output of rank 2 ([N, C]) or 3 ([N, T, C]) with C > 1, made by a
  // Softmax/LogSoftmax or a Gemm/MatMul (logits); top-1 is the argmax over the last axis per
  // row. Feature maps (rank 4+), scalars and hidden states are not scores.
  bool class_scores = false;
  int64_t rows = 0, top1_agree = 0;
};

struct DebugReport {
  std::string float_model, quant_model;  // paths as given
  uint64_t float_bytes = 0, quant_bytes = 0;  // on disk, external data included
  int64_t samples = 0;
  std::vector<WeightError> weights;          // graph order of QUANT
  std::vector<ActivationError> activations;  // graph order of FLOAT
  std::vector<OutputError> outputs;          // FLOAT's output order
  std::vector<std::string> warnings;
};

struct DebugOptions {
  CalibDataOptions data;  // --data: the formats of quantize-static's --calib
  bool run_models = true;  // false: weights and sizes only
  bool weights = true;      // false: leave weights out
  bool activations = true;  // false: outputs only (when running the models)
  int threads = 0;
};

// Matches every quantized weight of `quant` to its float tensor in `float_model`. Weights that
// find no float tensor are left out with a warning in `warnings`.
std::vector<WeightError> match_weights(const Model& float_model, const Model& quant, std::vector<std::string>* warnings = nullptr);

// Weights, then both models run in the executor on the same samples. kInput (one line) when the
// models' inputs or outputs differ or a sample does not fit them.
DebugReport debug_models(const Model& float_model, const Model& quant, const DebugOptions& options,
                         const ProgressFn& progress = {});

// Worst (lowest SQNR) first; `top` 0 keeps all. Ties keep graph order.
std::vector<WeightError> worst_weights(const DebugReport& report, size_t top);
std::vector<ActivationError> worst_activations(const DebugReport& report, size_t top);

std::string debug_report_table(const DebugReport& report, size_t top);
nlohmann::json debug_report_json(const DebugReport& report, size_t top);
// One self-contained HTML page (inline CSS and SVG; no script, nothing fetched): the summary, the
// outputs, bar charts of SQNR per activation and per weight in graph order with the `top` worst
// (10 when 0) in red, and tables of the worst. save_debug_html writes it atomically (kOutput).
std::string debug_report_html(const DebugReport& report, size_t top);
void save_debug_html(const std::filesystem::path& path, const DebugReport& report, size_t top);
// One CSV with a `kind` column (weight, activation, output); header on the first line.
std::string debug_report_csv(const DebugReport& report, size_t top);

// `--suggest-exclude N`: the nodes adding the most error, and what leaving them in float gains.
struct ExcludeCandidate {
  std::string node, op_type;
  double input_sqnr_db = 0;   // the worst of its matched inputs (+inf: none, e.g. the first layer)
  double output_sqnr_db = 0;  // its output
  // Relative noise power it adds: 10^(−out/10) − 10^(−in/10). Ranking by this rather than by
  // the dB drop keeps a first layer going from +inf to 40 dB below one going from 20 to 5 dB.
  double added_noise = 0;
  // The greedy check: the output SQNR with this node left in float on top of the candidates
  // kept before it, and whether that gained enough to keep it.
  double sqnr_with_db = 0;
  bool kept = false;
};
struct ExcludeSuggestion {
  std::vector<ExcludeCandidate> nodes;  // the candidates tried, most harmful first
  // Those kept, the suggested --nodes-exclude.
  std::vector<std::string> excluded() const {
    std::vector<std::string> out;
    for (const auto& c : nodes)
      if (c.kept) out.push_back(c.node);
    return out;
  }
  std::string output;                   // the output with the lowest SQNR before
  // Min over outputs, before and after. With a static recipe "before" is not QUANT but the float
  // model quantized again on the debug data without exclusions (`baseline_requantized`), so
  // that a different calibration set does not pass for the exclusions' effect.
  double sqnr_before = 0, sqnr_after = 0;
  bool baseline_requantized = false;
  std::string command;                  // the recipe's: quantize-static or quantize-dynamic
};

// Nodes of FLOAT that QUANT quantized, ranked by the noise they add (from `report`'s
// activations, which must have been measured).
std::vector<ExcludeCandidate> rank_exclude_candidates(const Model& float_model, const DebugReport& report);

// A gain in output SQNR below this does not pay for leaving a node in float.
constexpr double kMinExcludeGainDb = 0.1;

// Greedy search over `candidates` in order: each is tried on top of those kept so far and kept
// when `sqnr_with(kept + it)` beats the best so far by kMinExcludeGainDb. Fills each candidate's
// sqnr_with_db/kept; returns the final SQNR (`baseline` when none is kept).
double keep_helpful_exclusions(std::vector<ExcludeCandidate>& candidates, double baseline,
                               const std::function<double(const std::vector<std::string>&)>& sqnr_with);

// Ranks, takes the first `count`, and runs the greedy search, each step quantizing
// `float_model` (loaded from a file) again with the recipe `quant` carries in its metadata
// (onnxq.recipe) plus the nodes tried excluded, and measuring the outputs on `options.data`.
// kInput when QUANT has no recipe. A static recipe is calibrated on `options.data` (the recipe
// records how, not on what).
ExcludeSuggestion suggest_exclude(const Model& float_model, const Model& quant, const DebugReport& report, size_t count,
                                  const DebugOptions& options, const ProgressFn& progress = {});

// "--nodes-exclude a,b,c" with the ranking and the SQNR before and after, for the table.
std::string exclude_suggestion_text(const ExcludeSuggestion& suggestion);
nlohmann::json exclude_suggestion_json(const ExcludeSuggestion& suggestion);

// The CI gates of `onnxq debug`.
struct SizeLimit {
  uint64_t bytes = 0;  // absolute, or
  double ratio = 0;    // of the float model's size ("0.3x")
};
// "120MB", "5000000", "4MiB" or "0.3x". kUsage otherwise.
SizeLimit parse_size_limit(const std::string& text);

struct DebugGates {
  std::optional<double> min_output_sqnr_db;  // min over outputs
  std::optional<double> min_weight_sqnr_db;  // min over weights
  std::optional<SizeLimit> max_size;
};
// One line per failing gate naming it, the threshold, the measured value and the margin.
std::vector<std::string> failed_gates(const DebugReport& report, const DebugGates& gates);

}  // namespace onnxq
