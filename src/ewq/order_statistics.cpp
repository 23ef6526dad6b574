// Order statistics of a group by radix selection on the floats' order keys: the top 16 bits,
// then 8, then 8, each level counting only the keys whose prefix holds a wanted rank. Exact
// (the three digits are the whole key) and bounded in memory, whatever the distribution.
#include <algorithm>

#include "ewq/code_kernels.hpp"
#include "ewq/group_coder.hpp"

namespace onnxq {
namespace {

// For each rank, the digit whose cumulative count passes it within `hist` row `row[k]`, and the
// rank left within that digit.
void descend(const uint32_t* hist, const std::vector<uint32_t>& row, std::vector<int64_t>& left, std::vector<uint32_t>& digit) {
  for (size_t k = 0; k < left.size(); ++k) {
    const uint32_t* h = hist + static_cast<size_t>(row[k]) * 256;
    uint32_t d = 0;
    while (left[k] >= h[d]) left[k] -= h[d++];
    digit[k] = d;
  }
}

}  // namespace

std::vector<float> values_at_ranks(const ValueChunks& values, const uint32_t* hist16, const std::vector<int64_t>& ranks,
                                   GroupScratch& scratch) {
  const size_t m = ranks.size();
  std::vector<float> out(m);
  if (m == 0) return out;
  // Level 1: the 16-bit bucket of each rank (ranks ascend, so one walk).
  std::vector<uint32_t> top(m), mid(m), low(m);
  std::vector<int64_t> left(m);
  {
    int64_t before = 0;
    uint32_t b = 0;
    for (size_t k = 0; k < m; ++k) {
      while (before + hist16[b] <= ranks[k]) before += hist16[b++];
      top[k] = b;
      left[k] = ranks[k] - before;
    }
  }
  // Rows of the next histograms, one per wanted prefix, the spare one last (at most 256 rows
  // with `ranks` below 256).
  constexpr uint16_t kUnset = 0xFFFF;
  auto& slots16 = scratch.slots16;
  slots16.assign(65536, kUnset);
  std::vector<uint32_t> row(m);
  uint16_t rows = 0;
  for (size_t k = 0; k < m; ++k) {
    if (slots16[top[k]] == kUnset) slots16[top[k]] = rows++;
    row[k] = slots16[top[k]];
  }
  for (auto& s : slots16)
    if (s == kUnset) s = rows;
  std::vector<float>& chunk = scratch.chunk;
  chunk.resize(static_cast<size_t>(ValueChunks::kChunk));
  auto count_pass = [&](const uint16_t* slots24, size_t hist_rows) {
    scratch.hist.assign((hist_rows + 1) * 256, 0);
    for (int64_t c = 0; c < values.chunks(); ++c)
      key_histogram_next(values.read(c, chunk.data()), values.count(c), slots16.data(), slots24, scratch.hist.data());
  };
  // Level 2: bits 8-15 within each wanted bucket.
  count_pass(nullptr, rows);
  descend(scratch.hist.data(), row, left, mid);
  auto& slots24 = scratch.slots24;
  slots24.assign((static_cast<size_t>(rows) + 1) * 256, kUnset);
  uint16_t rows24 = 0;
  for (size_t k = 0; k < m; ++k) {
    uint16_t& s = slots24[static_cast<size_t>(row[k]) * 256 + mid[k]];
    if (s == kUnset) s = rows24++;
    row[k] = s;
  }
  for (auto& s : slots24)
    if (s == kUnset) s = rows24;
  // Level 3: the low 8 bits, which complete the key.
  count_pass(slots24.data(), rows24);
  descend(scratch.hist.data(), row, left, low);
  for (size_t k = 0; k < m; ++k) out[k] = key_float(top[k] << 16 | mid[k] << 8 | low[k]);
  return out;
}

}  // namespace onnxq
