#include "ewq/codebook_methods.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace onnxq {

const CodebookMethodEntry& CodebookMethodRegistry::get(CodebookMethod method) const {
  for (const auto& e : entries_)
    if (e.method == method) return e;
  fail(ExitCode::kInternal, "codebook method not registered");
}

const CodebookMethodEntry* CodebookMethodRegistry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const CodebookMethodRegistry& codebook_methods() {
  static const CodebookMethodRegistry registry = [] {
    CodebookMethodRegistry r;
    register_ewq_method(r);
    register_fastewq_method(r);
    return r;
  }();
  return registry;
}

std::vector<float> distinct_values_up_to(std::span<const float> values, int limit) {
  // Open addressing on the bit patterns; the table stays at most a quarter full.
  size_t size = 64;
  while (size < static_cast<size_t>(limit) * 4) size *= 2;
  std::vector<uint32_t> slots(size, 0);
  std::vector<bool> used(size, false);
  std::vector<float> found;
  for (float v : values) {
    if (v == 0.0f) v = 0.0f;  // -0 and +0 are one value
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    size_t h = (bits * 0x9E3779B1u) & (size - 1);
    while (used[h] && slots[h] != bits) h = (h + 1) & (size - 1);
    if (used[h]) continue;
    if (static_cast<int>(found.size()) == limit) return {};
    used[h] = true;
    slots[h] = bits;
    found.push_back(v);
  }
  std::sort(found.begin(), found.end());
  return found;
}

Codebook exact_codebook(std::vector<float> distinct) {
  Codebook c;
  c.exact = true;
  c.values = std::move(distinct);
  if (!c.values.empty()) c.thresholds.assign(c.values.begin(), c.values.end() - 1);
  return c;
}

float float_below(double edge) {
  const float f = static_cast<float>(edge);
  return static_cast<double>(f) < edge ? f : std::nextafter(f, -INFINITY);
}

std::vector<float> midpoint_thresholds(const std::vector<float>& values) {
  std::vector<float> t;
  for (size_t k = 0; k + 1 < values.size(); ++k) {
    float m = static_cast<float>((static_cast<double>(values[k]) + values[k + 1]) / 2);
    // Rounding may land on a neighbour; a threshold must keep values[k] below and values[k+1] above.
    if (m >= values[k + 1]) m = std::nextafter(values[k + 1], -INFINITY);
    if (m < values[k]) m = values[k];
    t.push_back(m);
  }
  return t;
}

}  // namespace onnxq
