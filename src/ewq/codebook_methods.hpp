#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/scratch_buffer.hpp"
#include "onnxq/ewq.hpp"

namespace onnxq {

// Flips float bits so that unsigned order is float order (-0 just below +0).
inline uint32_t float_key(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline float key_float(uint32_t k) { return std::bit_cast<float>((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k); }

// Buffers a sort reuses from one tensor to the next.
struct SortScratch {
  std::vector<uint32_t> bucket_start, next;
  std::vector<float> temp;
};

// `values` ascending into out[0, n) (finite values; -0 before +0).
void sort_floats(std::span<const float> values, float* out, SortScratch& scratch);

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

// The same, fed piece by piece: add() turns false for good once more than `limit` values are seen.
class DistinctValues {
 public:
  explicit DistinctValues(int limit);
  bool add(std::span<const float> values);
  std::vector<float> sorted() const;  // ascending; only while add() has not turned false

 private:
  int limit_;
  bool over_ = false;
  size_t mask_;
  std::vector<uint32_t> slots_;
  std::vector<bool> used_;
  std::vector<float> found_;
};

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

// Buffers sorting reuses from one group of values to the next.
struct CodebookScratch {
  SortScratch sort;
  ScratchBuffer<float> sorted;
};

// Codes of a large group through a table on the top 16 bits of the float keys: a bucket that no
// threshold splits has one code, the others are searched.
class CodeTable {
 public:
  explicit CodeTable(const Codebook& codebook);
  uint8_t code(float x) const {
    const uint32_t b = float_key(x) >> 16;
    const uint16_t c = table_[b];
    if (c == kSearch) [[unlikely]]
      return search_.code(x);
    return static_cast<uint8_t>(c + (x > split_[b] ? 1 : 0));
  }
  // code() of n values (AVX-512 gathers where the CPU has them; the same codes).
  void codes(const float* x, int64_t n, uint8_t* out) const;

 private:
  static constexpr uint16_t kSearch = 0xFFFF;
  CodeSearch search_;
  // Per bucket: its lowest code and the one threshold inside it (+inf when none); kSearch when
  // several thresholds split it. The table has a spare entry: the gathers read 4 bytes at 2 b.
  std::vector<uint16_t> table_;
  std::vector<float> split_;
};

// Squared error of coding ascending `sorted` values with `codebook` (each code's members are a range).
double sorted_squared_error(std::span<const float> sorted, const Codebook& codebook);

// The largest float strictly below `edge` (thresholds for "x >= edge" tests).
float float_below(double edge);

// Thresholds at the midpoints of ascending codebook values, kept strictly between them.
std::vector<float> midpoint_thresholds(const std::vector<float>& values);

}  // namespace onnxq
