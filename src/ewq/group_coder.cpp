// One group's codebook, codes and errors in a few streaming passes over its values. Every sum
// runs in a fixed order (chunks in turn, fixed lanes within them), so the results depend on
// nothing but the values.
#include "ewq/group_coder.hpp"

#include <cmath>
#include <optional>

#include "ewq/code_kernels.hpp"
#include "onnxq/quant_math.hpp"

namespace onnxq {
namespace {

constexpr int64_t kTableMin = int64_t{1} << 18;   // groups this large code through a CodeTable
constexpr int64_t kSelectMin = int64_t{1} << 16;  // and find equal-count cuts without sorting
constexpr int64_t kResidentMax = int64_t{1} << 22;  // values read once into memory (16 MB)

float symmetric_scale(float lo, float hi, DataType type) {
  return compute_quant_params(lo, hi, quant_range(type, true, false), true).scale;
}

// Equal-count thresholds from the values at the cuts numpy's array_split makes (the last value
// of each nominal bin), as equal_count_codebook moves them past runs of equal values.
std::vector<int64_t> cut_ranks(int64_t n, int bins) {
  const int64_t q = n / bins, r = n % bins;
  std::vector<int64_t> ranks;
  int64_t end = 0;
  for (int k = 0; k + 1 < bins; ++k) {
    end += q + (k < r ? 1 : 0);
    if (end > 0) ranks.push_back(end - 1);
  }
  return ranks;
}

std::vector<float> thresholds_from_cuts(const std::vector<float>& uppers, float max) {
  std::vector<float> t;
  for (const float upper : uppers) {
    if (!(upper < max)) break;
    if (!t.empty() && !(t.back() < upper)) continue;
    t.push_back(upper);
  }
  return t;
}

}  // namespace

GroupCoding code_group(const ValueChunks& source, const CodebookOptions& options, bool int4_reference,
                       GroupScratch& scratch, TensorSink& codes) {
  // A group read from a file that fits the scratch is read once, not once per pass.
  std::optional<ValueChunks> resident;
  if (!source.in_place() && source.size() <= kResidentMax) {
    float* all = scratch.all.get(static_cast<size_t>(source.size()));
    source.read_range(0, source.size(), all);
    resident.emplace(std::span<const float>(all, static_cast<size_t>(source.size())));
  }
  const ValueChunks& values = resident ? *resident : source;
  if (options.bins < 2 || options.bins > 256)
    fail(ExitCode::kUsage, "--bins must be 2 to 256, not " + std::to_string(options.bins));
  GroupCoding g;
  const int64_t n = values.size();
  const int bins = options.bins;
  scratch.chunk.resize(static_cast<size_t>(ValueChunks::kChunk));
  scratch.codes.resize(static_cast<size_t>(ValueChunks::kChunk));
  float* chunk = scratch.chunk.data();

  // Pass 1: extremes, finiteness, distinct values while few, and for equal-count bins the
  // histogram of the keys' top 16 bits.
  const bool select = options.method == CodebookMethod::kEwq && options.refine == 0 && n >= kSelectMin;
  if (select) scratch.hist.assign(65536, 0);
  std::vector<uint32_t> hist16;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  bool finite = true;
  DistinctValues distinct(bins);
  bool few = true;
  for (int64_t c = 0; c < values.chunks(); ++c) {
    const float* x = values.read(c, chunk);
    const int64_t m = values.count(c);
    scan_extremes(x, m, lo, hi, finite);
    if (few) few = distinct.add({x, static_cast<size_t>(m)});
    if (select) key_histogram16(x, m, scratch.hist.data());
  }
  if (!finite) fail(ExitCode::kInput, "holds a NaN or infinite value");
  if (n == 0) return g;

  // The codebook's thresholds, or equal-width bins whose means come from the coding pass.
  const bool equal_width = !few && options.method == CodebookMethod::kFastEwq && options.refine == 0;
  bool means_from_sums = false;
  if (few) {
    g.codebook = exact_codebook(distinct.sorted());
  } else if (select) {
    hist16.swap(scratch.hist);
    g.codebook.thresholds = thresholds_from_cuts(values_at_ranks(values, hist16.data(), cut_ranks(n, bins), scratch), hi);
    scratch.hist.swap(hist16);
    means_from_sums = true;
  } else if (!equal_width) {
    const CodebookMethodEntry& method = codebook_methods().get(options.method);
    float* all_values = scratch.all.get(static_cast<size_t>(n));
    if (!resident) values.read_range(0, n, all_values);
    const std::span<const float> all(all_values, static_cast<size_t>(n));
    float* sorted = scratch.codebook.sorted.get(all.size());
    sort_floats(all, sorted, scratch.codebook.sort);
    const std::span<const float> in_order(sorted, all.size());
    g.codebook = method.start(all, in_order, bins);
    if (options.refine > 0) {
      g.start = g.codebook;
      g.start_sse = sorted_squared_error(in_order, g.start);
      g.codebook = lloyd_refine(in_order, std::move(g.codebook), options.refine);
    }
  }

  // Equal-width bins: x is in bin b or above iff x > above[b] (x >= edges[b]).
  std::vector<double> edges;
  std::vector<float> above;
  float inv = 0;
  if (equal_width) {
    const double width = (static_cast<double>(hi) - lo) / bins;
    edges.resize(static_cast<size_t>(bins) + 1);
    for (int k = 0; k <= bins; ++k) edges[k] = lo + k * width;
    above.assign(static_cast<size_t>(bins) + 1, -std::numeric_limits<float>::infinity());
    for (int k = 1; k < bins; ++k) above[k] = float_below(edges[k]);
    above[bins] = std::numeric_limits<float>::infinity();
    inv = static_cast<float>(bins / (static_cast<double>(hi) - lo));
  }

  // The coding pass: codes, per-code sums, x^2 and the uniform grids' errors.
  const float scale8 = symmetric_scale(lo, hi, DataType::kInt8);
  const float scale4 = int4_reference ? symmetric_scale(lo, hi, DataType::kInt4) : 1.0f;
  scratch.sums.assign(4 * 256, CodeSum{});
  double signal[kCodeLanes] = {}, err8[kCodeLanes] = {}, err4[kCodeLanes] = {};
  std::optional<CodeTable> table;
  std::optional<CodeSearch> search;
  if (!equal_width) {
    if (n >= kTableMin)
      table.emplace(g.codebook);
    else
      search.emplace(g.codebook.thresholds);
  }
  uint8_t* code = scratch.codes.data();
  for (int64_t c = 0; c < values.chunks(); ++c) {
    const float* x = values.read(c, chunk);
    const int64_t m = values.count(c);
    if (equal_width)
      equal_width_bins(x, m, lo, inv, bins, above.data(), code);
    else if (table)
      table->codes(x, m, code);
    else
      for (int64_t i = 0; i < m; ++i) code[i] = search->code(x[i]);
    code_sums(x, code, m, scratch.sums.data());
    uniform_error(x, m, scale8, 127.0f, signal, err8, scale4, 7.0f, int4_reference ? err4 : nullptr);
    if (!codes.discards()) codes.write(static_cast<uint64_t>(c * ValueChunks::kChunk), code, static_cast<uint64_t>(m));
  }
  std::vector<double> sum(256, 0.0);
  std::vector<int64_t> count(256, 0);
  for (int set = 0; set < 4; ++set)
    for (int k = 0; k < 256; ++k) {
      sum[k] += scratch.sums[set * 256 + k].sum;
      count[k] += static_cast<int64_t>(scratch.sums[set * 256 + k].count);
    }
  for (int j = 0; j < kCodeLanes; ++j) {
    g.signal += signal[j];
    g.int8_noise += err8[j];
  }
  if (int4_reference) {
    g.int4_noise = 0;
    for (int j = 0; j < kCodeLanes; ++j) g.int4_noise += err4[j];
  }

  // Values from the sums where the method takes each bin's mean.
  std::vector<float> value_of(256, 0.0f);  // by the code written
  if (equal_width) {
    Codebook& cb = g.codebook;
    g.remap.assign(256, 0);
    for (int b = 0; b < bins; ++b) {
      if (count[b] == 0) continue;
      if (!cb.values.empty()) cb.thresholds.push_back(float_below(edges[b]));
      g.remap[b] = static_cast<uint8_t>(cb.values.size());
      cb.values.push_back(static_cast<float>(sum[b] / static_cast<double>(count[b])));
      value_of[b] = cb.values.back();
    }
    if (static_cast<int>(cb.values.size()) == bins) g.remap.clear();  // no bin left empty: codes are bins
  } else {
    if (means_from_sums)
      for (size_t k = 0; k <= g.codebook.thresholds.size(); ++k)
        g.codebook.values.push_back(static_cast<float>(sum[k] / static_cast<double>(count[k])));
    std::copy(g.codebook.values.begin(), g.codebook.values.end(), value_of.begin());
  }
  // sum (x - c)^2 over a code's members is sum x^2 - 2 c sum x + n c^2.
  if (!g.codebook.exact) {
    double cross = 0;
    for (int k = 0; k < 256; ++k) {
      const double v = value_of[k];
      cross += 2.0 * v * sum[k] - static_cast<double>(count[k]) * v * v;
    }
    g.noise = std::max(0.0, g.signal - cross);
  }
  return g;
}

}  // namespace onnxq
