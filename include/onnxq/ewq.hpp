#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "onnxq/quant_report.hpp"

namespace onnxq {

// How a codebook's first values are found (before any Lloyd-Max refinement).
enum class CodebookMethod {
  kEwq,      // equal-count bins over the sorted values, each bin's value the mean of its members
  kFastEwq,  // equal-width bins over [min, max] in O(n), empty bins dropped
};

enum class CodebookStorage {
  kGather,  // index initializer + float codebook + Gather rebuilding the weight in the graph
  kFloat,   // the weight itself replaced by its codebook values, still float
};

enum class CodebookGranularity { kTensor, kChannel };

enum class BinSelection {
  kFixed,    // every weight gets `bins`
  kEntropy,  // by each weight's entropy: low -> low_bins, middle -> bins, high -> stays float
};

// A codebook for one group of values. `values` ascend strictly; value x gets the code
// "number of thresholds t with t < x", so thresholds[k] separates code k from code k + 1.
struct Codebook {
  std::vector<float> values;
  std::vector<float> thresholds;  // values.size() - 1 of them, ascending
  int refine_iterations = 0;      // Lloyd-Max iterations that ran (fewer than asked when nothing moved)
  bool exact = false;             // the group has no more distinct values than codes: nothing is lost

  uint8_t code(float x) const;
};

struct CodebookOptions {
  CodebookMethod method = CodebookMethod::kEwq;
  int bins = 256;   // 2 to 256
  int refine = 0;   // Lloyd-Max iterations after the method's bins
};

// The codebook of a group of values in any order. A group with at most `bins` distinct values
// gets exactly those values (constant groups one, groups smaller than `bins` their own
// values), whatever the method. kInput "holds a NaN or infinite value" on non-finite values
// (the caller names the tensor); an empty group gets an empty codebook.
Codebook build_codebook(std::span<const float> values, const CodebookOptions& options);

// The code of every value (codebook.code, vectorizable).
void assign_codes(std::span<const float> values, const Codebook& codebook, uint8_t* codes);

// The stages build_codebook chains, public for tests and benchmarks; values must be finite.
// Equal-count bins over ascending `sorted` values: cut where numpy's array_split cuts (the first
// n mod bins bins one value larger), except that equal values never straddle a cut (a cut moves
// up past them) and bins left empty are dropped.
Codebook equal_count_codebook(std::span<const float> sorted, int bins);
// Equal-width bins: edges min + k (max - min) / bins; a value on an edge belongs to the bin above
// it (numpy's digitize), the maximum to the last bin.
Codebook equal_width_codebook(std::span<const float> values, int bins);
// Lloyd-Max (1-D k-means) from `start`: assignment to the nearest value (thresholds at the
// midpoints; a value on a midpoint goes down), then each value the mean of its members. Stops
// after `iterations` or when no member changes code; values nobody is assigned are dropped at the
// end. `sse_trace` receives the squared error of the start and after each iteration.
Codebook lloyd_refine(std::span<const float> sorted, Codebook start, int iterations,
                      std::vector<double>* sse_trace = nullptr);
// Squared error of coding `values` with `codebook`, in double.
double codebook_squared_error(std::span<const float> values, const Codebook& codebook);
// `values` ascending (LSD radix sort on the floats' order-preserving bit patterns).
std::vector<float> sorted_copy(std::span<const float> values);

// Shannon entropy (bits) of a weight's distribution: a 256-bin equal-width histogram over
// [min, max]. 0 for constant tensors.
double weight_entropy_bits(std::span<const float> values);

// Every default of `onnxq ewq` lives here.
struct EwqOptions {
  CodebookMethod method = CodebookMethod::kEwq;
  int bins = 256;
  int refine = 0;
  CodebookGranularity granularity = CodebookGranularity::kTensor;
  CodebookStorage storage = CodebookStorage::kGather;
  // Op types whose weights get codebooks (empty: every one with a rule) and node names or glob
  // patterns to include (empty: all) and to exclude.
  std::vector<std::string> op_types;
  std::vector<std::string> nodes_include;
  std::vector<std::string> nodes_exclude;
  int64_t min_elements = 1024;  // smaller weights stay float
  BinSelection select = BinSelection::kFixed;
  int low_bins = 16;       // --select entropy: weights whose entropy is below the mean
  double entropy_k = 1.0;  // --select entropy: above mean + k * std stays float
  int threads = 0;         // 0: all cores; the output is the same for any count
};

constexpr double kNotComputed = std::numeric_limits<double>::quiet_NaN();

// One weight and what became of it.
struct EwqTensorInfo {
  std::string name, node, op_type;
  std::string method;  // "ewq", "fastewq", "ewq+refine", ...
  int bins = 0;        // asked for
  int codes = 0;       // largest codebook actually used (a channel's, per channel)
  int axis = -1;       // -1: one codebook for the tensor
  int64_t elements = 0;
  int refine_iterations = 0;  // the most any of its codebooks ran
  std::string index_type;     // "uint8", "uint4", "uint4x2" (two per byte, unpacked in the graph), "float"
  double sqnr_db = 0;             // of the codebook weight (infinite when exact)
  double sqnr_unrefined_db = kNotComputed;  // before Lloyd-Max, when --refine ran
  double uniform_int8_sqnr_db = 0;  // min-max int8 at the same granularity (quantize_weight)
  double uniform_int4_sqnr_db = kNotComputed;  // likewise int4, at 16 bins or fewer
  double entropy_bits = kNotComputed;          // --select entropy
  uint64_t bytes_before = 0, bytes_after = 0;  // after: indices, codebook and offsets
};

// --select entropy: one weight's entropy and the bins it got (0: stays float).
struct EntropyChoice {
  std::string weight;
  double entropy_bits = 0;
  int bins = 0;
};

struct EwqReport {
  std::vector<EwqTensorInfo> tensors;
  std::vector<EntropyChoice> entropy;
  std::vector<SkippedNode> skipped;  // `node` is the weight's name for weights left float
  // --select entropy: what the choice was made from.
  double entropy_mean = kNotComputed, entropy_std = kNotComputed;
  std::map<std::string, uint64_t> weight_bytes_before, weight_bytes_after;
  uint64_t file_bytes_before = 0, file_bytes_after = 0;
  uint64_t gzip_bytes_before = 0, gzip_bytes_after = 0;  // --storage float only
  double seconds = 0;
};

// Replaces the model's selected float weights by codebooks. Bad options are kUsage; a weight
// with NaN or infinite values is kInput naming it.
EwqReport quantize_ewq(Model& model, const EwqOptions& options);

// Loads `input`, quantizes, checks and saves `output` atomically; with --storage float it also
// reports both files' gzip-compressed sizes.
EwqReport quantize_ewq_file(const std::filesystem::path& input, const std::filesystem::path& output,
                            const EwqOptions& options);

// The op types ewq has a weight rule for.
std::vector<std::string> ewq_op_types();

nlohmann::json ewq_report_to_json(const EwqReport& report);
// The per-weight table, totals and time a user reads after a run.
std::string ewq_report_summary(const EwqReport& report);

}  // namespace onnxq
