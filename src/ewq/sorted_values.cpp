// Sorting a weight's values: the one O(n log n)-looking step of equal-count bins, done in three
// linear radix passes so a BERT-sized model sorts in a few hundred milliseconds.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "onnxq/ewq.hpp"

namespace onnxq {
namespace {

// Flips float bits so that unsigned order is float order (-0 sorts just below +0).
inline uint32_t float_key(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline float key_float(uint32_t k) { return std::bit_cast<float>((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k); }

constexpr size_t kSmall = 2048;  // below this std::sort beats three passes over 2048 buckets

}  // namespace

std::vector<float> sorted_copy(std::span<const float> values) {
  const size_t n = values.size();
  if (n <= kSmall) {
    std::vector<float> out(values.begin(), values.end());
    std::sort(out.begin(), out.end(), [](float a, float b) { return float_key(a) < float_key(b); });
    return out;
  }
  std::vector<uint32_t> a(n), b(n);
  constexpr int kBits[3] = {11, 11, 10};
  std::array<std::array<uint32_t, 2048>, 3> counts{};
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = float_key(values[i]);
    a[i] = k;
    ++counts[0][k & 2047];
    ++counts[1][(k >> 11) & 2047];
    ++counts[2][k >> 22];
  }
  int shift = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto& c = counts[pass];
    const uint32_t mask = (1u << kBits[pass]) - 1;
    // A digit every key shares moves nothing: skip the pass.
    if (std::find(c.begin(), c.end(), static_cast<uint32_t>(n)) == c.end()) {
      uint32_t sum = 0;
      for (auto& x : c) {
        const uint32_t v = x;
        x = sum;
        sum += v;
      }
      for (size_t i = 0; i < n; ++i) {
        const uint32_t k = a[i];
        b[c[(k >> shift) & mask]++] = k;
      }
      a.swap(b);
    }
    shift += kBits[pass];
  }
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = key_float(a[i]);
  return out;
}

}  // namespace onnxq
