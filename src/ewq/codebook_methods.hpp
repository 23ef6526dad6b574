#pragma once

#include <span>
#include <string>
#include <vector>

#include "onnxq/ewq.hpp"

namespace onnxq {

// One codebook method: its CLI name and how it finds the first codebook of a group of values.
// `sorted` holds the values ascending when the method asked for them (needs_sorted), else is empty.
struct CodebookMethodEntry {
  CodebookMethod method;
  std::string name;
  bool needs_sorted = false;
  Codebook (*start)(std::span<const float> values, std::span<const float> sorted, int bins) = nullptr;
};

class CodebookMethodRegistry {
 public:
  void add(CodebookMethodEntry entry) { entries_.push_back(std::move(entry)); }
  const CodebookMethodEntry& get(CodebookMethod method) const;
  const CodebookMethodEntry* find(const std::string& name) const;
  const std::vector<CodebookMethodEntry>& entries() const { return entries_; }

 private:
  std::vector<CodebookMethodEntry> entries_;
};

// Each method's file registers it.
void register_ewq_method(CodebookMethodRegistry& registry);
void register_fastewq_method(CodebookMethodRegistry& registry);

const CodebookMethodRegistry& codebook_methods();

// The distinct values of a group, ascending, when there are at most `limit` of them (-0 counts as
// +0); empty otherwise. Ordinary weights stop after about `limit` + 1 values.
std::vector<float> distinct_values_up_to(std::span<const float> values, int limit);

// A codebook holding exactly `distinct` (ascending): thresholds are the values themselves.
Codebook exact_codebook(std::vector<float> distinct);

// Codes by a fixed number of branch-free steps over thresholds padded with +inf.
class CodeSearch {
 public:
  explicit CodeSearch(const std::vector<float>& thresholds);
  uint8_t code(float x) const {
    size_t pos = 0;
    for (size_t step = t_.size() / 2; step >= 1; step /= 2) pos += (t_[pos + step - 1] < x) ? step : 0;
    return static_cast<uint8_t>(pos);
  }

 private:
  std::vector<float> t_;
};

// build_codebook, also handing back the method's codebook before Lloyd-Max (when refined).
Codebook build_codebook_with_start(std::span<const float> values, const CodebookOptions& options, Codebook* start);

// The largest float strictly below `edge` (thresholds for "x >= edge" tests).
float float_below(double edge);

// Thresholds at the midpoints of ascending codebook values, kept strictly between them.
std::vector<float> midpoint_thresholds(const std::vector<float>& values);

}  // namespace onnxq
