#pragma once

#include <cstdint>

namespace onnxq {

// The inner loops of coding a group of values, chunk by chunk. Each is compiled for AVX-512,
// AVX2 and the baseline and picked at load time; sums go to 16 fixed lanes (element i to lane
// i % 16, the caller passing chunks that start at multiples of 16) with the same operations at
// every width, so every CPU gives the same bits.
constexpr int kCodeLanes = 16;

// Extremes of n values and whether all are finite (v - v is 0 only for finite v).
void scan_extremes(const float* x, int64_t n, float& lo, float& hi, bool& finite);

// Adds x^2 and the squared error of symmetric uniform quantization with `scale` (int range
// [-qmax, qmax]) to the lanes, with quantize_value's and dequantize_value's float operations.
// `err2`/`scale2`/`qmax2` add a second grid (int4) when err2 is not null.
void uniform_error(const float* x, int64_t n, float scale, float qmax, double* signal, double* err,
                   float scale2, float qmax2, double* err2);

// Equal-width bin of each value: g = (x - lo) * inv guessed in float, then moved to the bin b with
// above[b] < x <= above[b + 1] (above[0] = -inf, above[bins] = +inf, so extremes stay inside).
void equal_width_bins(const float* x, int64_t n, float lo, float inv, int bins, const float* above, uint8_t* out);

// A code's members: their sum and count, side by side so one cache line holds both.
struct CodeSum {
  double sum = 0;
  uint64_t count = 0;
};

// Per-code member sums and counts, in four interleaved sets (element i to set i % 4) so
// consecutive members of one code don't wait on each other: sums[set * 256 + code].
void code_sums(const float* x, const uint8_t* codes, int64_t n, CodeSum* sums);

// Histograms of float order keys (codebook_methods.hpp float_key), for finding order statistics
// digit by digit. First the top 16 bits of every key: hist[key >> 16]. Then bits 8-15 in the row
// `slot16` gives the top 16 bits: hist[slot16[key >> 16] * 256 + digit]; or, when `slot24` is
// given, the low 8 bits in the row it gives bits 8-15 of that row: hist[t * 256 + (key & 255)] with
// t = slot24[slot16[key >> 16] * 256 + digit]. Unwanted prefixes map to a spare last row.
void key_histogram16(const float* x, int64_t n, uint32_t* hist);
void key_histogram_next(const float* x, int64_t n, const uint16_t* slot16, const uint16_t* slot24, uint32_t* hist);

}  // namespace onnxq
