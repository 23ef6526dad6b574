// Sorting a weight's values: one scatter by the top 16 bits of each float's order-preserving key,
// then each bucket (a fraction of the tensor, in cache) by its low 16 bits. Two passes over the
// tensor and one output buffer, where a plain LSD radix sort needs three and two buffers.
#include <algorithm>
#include <array>

#include "ewq/codebook_methods.hpp"

namespace onnxq {
namespace {

constexpr size_t kSmall = 4096;  // below this, 65536 buckets cost more than the values

void sort_bucket(float* v, size_t n, std::vector<float>& temp) {
  if (n < 2) return;
  if (n <= 64) {
    std::sort(v, v + n, [](float a, float b) { return float_key(a) < float_key(b); });
    return;
  }
  if (temp.size() < n) temp.resize(n);
  std::array<uint32_t, 256> lo{}, hi{};
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = float_key(v[i]);
    ++lo[k & 255];
    ++hi[(k >> 8) & 255];
  }
  auto starts = [](std::array<uint32_t, 256>& c) {
    uint32_t sum = 0;
    for (auto& x : c) {
      const uint32_t v = x;
      x = sum;
      sum += v;
    }
  };
  starts(lo);
  starts(hi);
  for (size_t i = 0; i < n; ++i) temp[lo[float_key(v[i]) & 255]++] = v[i];
  for (size_t i = 0; i < n; ++i) v[hi[(float_key(temp[i]) >> 8) & 255]++] = temp[i];
}

}  // namespace

void sort_floats(std::span<const float> values, float* out, SortScratch& scratch) {
  const size_t n = values.size();
  std::copy(values.begin(), values.end(), out);
  if (n <= 64) {
    std::sort(out, out + n, [](float a, float b) { return float_key(a) < float_key(b); });
    return;
  }
  if (n <= kSmall) {  // a channel: four byte-wide passes in cache
    if (scratch.temp.size() < n) scratch.temp.resize(n);
    float* from = out;
    float* to = scratch.temp.data();
    for (int shift = 0; shift < 32; shift += 8) {
      std::array<uint32_t, 256> count{};
      for (size_t i = 0; i < n; ++i) ++count[(float_key(from[i]) >> shift) & 255];
      uint32_t sum = 0;
      for (auto& c : count) {
        const uint32_t v = c;
        c = sum;
        sum += v;
      }
      for (size_t i = 0; i < n; ++i) to[count[(float_key(from[i]) >> shift) & 255]++] = from[i];
      std::swap(from, to);
    }
    return;  // four passes: the values are back in `out`
  }
  auto& start = scratch.bucket_start;
  start.assign(65537, 0);
  for (size_t i = 0; i < n; ++i) ++start[(float_key(values[i]) >> 16) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  scratch.next.assign(start.begin(), start.end() - 1);
  for (size_t i = 0; i < n; ++i) out[scratch.next[float_key(values[i]) >> 16]++] = values[i];
  for (size_t b = 0; b < 65536; ++b) sort_bucket(out + start[b], start[b + 1] - start[b], scratch.temp);
}

std::vector<float> sorted_copy(std::span<const float> values) {
  std::vector<float> out(values.size());
  SortScratch scratch;
  sort_floats(values, out.data(), scratch);
  return out;
}

}  // namespace onnxq
