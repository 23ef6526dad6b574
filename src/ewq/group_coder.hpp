#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "ewq/code_kernels.hpp"
#include "ewq/codebook_methods.hpp"
#include "core/value_chunks.hpp"

namespace onnxq {

// Buffers code_group reuses from one group to the next (fresh pages cost more than the work).
struct GroupScratch {
  std::vector<float> chunk;       // one chunk of values
  std::vector<uint8_t> codes;     // one chunk of codes
  ScratchBuffer<float> all;       // every value, for the paths that sort
  std::vector<uint32_t> hist;     // order-statistics histograms
  std::vector<uint16_t> slots16, slots24;
  std::vector<CodeSum> sums;      // per code, four interleaved sets
  CodebookScratch codebook;
};

struct GroupCoding {
  Codebook codebook;
  Codebook start;          // before Lloyd-Max, when refined
  double start_sse = 0;    // its squared error
  double signal = 0;       // sum of x^2
  double noise = 0;        // sum of (x - its code's value)^2
  double int8_noise = 0;   // symmetric min-max int8 over the group (quantize_weight's grid)
  double int4_noise = std::numeric_limits<double>::quiet_NaN();  // likewise int4, when asked
  // Code of each byte written to `codes`, when they differ (equal-width bins left empty).
  std::vector<uint8_t> remap;
};

// Builds the codebook of a group as build_codebook defines it, writes each value's code (before
// `remap`) to `codes` (one byte per value, unless it discards), and measures the errors of the
// codebook and of uniform int8 (and int4 when `int4_reference`). Passes over the values: one for
// extremes and distinct values, then for equal-count bins three over key digits (the cut values
// are order statistics: no sort), then one coding them; --refine sorts.
GroupCoding code_group(const ValueChunks& values, const CodebookOptions& options, bool int4_reference,
                       GroupScratch& scratch, TensorSink& codes);

// The values at `ranks` (ascending, below values.size()) in float_key order, from `hist16`
// (the histogram of every key's top 16 bits) and two more histogram passes.
std::vector<float> values_at_ranks(const ValueChunks& values, const uint32_t* hist16, const std::vector<int64_t>& ranks,
                                   GroupScratch& scratch);

}  // namespace onnxq
