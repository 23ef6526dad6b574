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

DistinctValues::DistinctValues(int limit) : limit_(limit) {
  // Open addressing on the bit patterns; the table stays at most a quarter full.
  size_t size = 64;
  while (size < static_cast<size_t>(limit) * 4) size *= 2;
  mask_ = size - 1;
  slots_.assign(size, 0);
  used_.assign(size, false);
}

bool DistinctValues::add(std::span<const float> values) {
  if (over_) return false;
  for (float v : values) {
    if (v == 0.0f) v = 0.0f;  // -0 and +0 are one value
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    size_t h = (bits * 0x9E3779B1u) & mask_;
    while (used_[h] && slots_[h] != bits) h = (h + 1) & mask_;
    if (used_[h]) continue;
    if (static_cast<int>(found_.size()) == limit_) {
      over_ = true;
      return false;
    }
    used_[h] = true;
    slots_[h] = bits;
    found_.push_back(v);
  }
  return true;
}

std::vector<float> DistinctValues::sorted() const {
  std::vector<float> s = found_;
  std::sort(s.begin(), s.end());
  return s;
}

std::vector<float> distinct_values_up_to(std::span<const float> values, int limit) {
  DistinctValues d(limit);
  return d.add(values) ? d.sorted() : std::vector<float>{};
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
