#include "ewq/group_coder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "onnxq/quant_math.hpp"
#include "onnxq/weight_quant.hpp"

namespace onnxq {
namespace {

// Large enough for the streaming paths: cuts by radix selection, codes through the CodeTable.
constexpr size_t kLarge = size_t{1} << 19;

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i += 2) {
    const double u1 = (rng() + 1.0) / 4294967297.0, u2 = rng() / 4294967296.0;
    const double r = std::sqrt(-2 * std::log(u1));
    v[i] = static_cast<float>(0.05 * r * std::cos(2 * M_PI * u2));
    if (i + 1 < n) v[i + 1] = static_cast<float>(0.05 * r * std::sin(2 * M_PI * u2));
  }
  return v;
}

std::vector<float> uniform(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng() / 4294967296.0 * 2 - 1);
  return v;
}

// Half zeros of both signs, the rest drawn from 1000 values: runs of equal values at most cuts.
std::vector<float> ties(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = rng();
    v[i] = r % 2 ? ((r >> 1) % 2 ? 0.0f : -0.0f) : static_cast<float>(static_cast<int>(r >> 8) % 1000 - 300) / 64.0f;
  }
  return v;
}

GroupCoding coded(const std::vector<float>& v, CodebookOptions o, bool int4 = false, std::vector<uint8_t>* codes = nullptr) {
  GroupScratch scratch;
  TensorSink sink = codes ? TensorSink(nullptr, DataType::kUInt8, {static_cast<int64_t>(v.size())}) : TensorSink();
  GroupCoding g = code_group(ValueChunks(std::span<const float>(v)), o, int4, scratch, sink);
  if (codes) {
    const Tensor t = sink.tensor();
    codes->assign(t.data<uint8_t>(), t.data<uint8_t>() + t.numel());
  }
  return g;
}

TEST(GroupCoder, FindsTheEqualCountCutsASortedArraySplitFinds) {
  for (const auto& [name, v] : {std::pair{"gaussian", gaussian(kLarge + 3, 1)}, std::pair{"uniform", uniform(kLarge, 2)},
                                std::pair{"ties", ties(kLarge + 1, 3)}}) {
    for (const int bins : {256, 16, 7}) {
      const Codebook expected = equal_count_codebook(sorted_copy(v), bins);
      const Codebook got = coded(v, {CodebookMethod::kEwq, bins, 0}).codebook;
      ASSERT_EQ(got.thresholds, expected.thresholds) << name << " " << bins;
      ASSERT_EQ(got.values.size(), expected.values.size()) << name << " " << bins;
      // Means summed in another order: equal to float rounding.
      for (size_t k = 0; k < got.values.size(); ++k)
        EXPECT_NEAR(got.values[k], expected.values[k], 1e-6 * std::fabs(expected.values[k]) + 1e-30) << name << " " << k;
    }
  }
}

TEST(GroupCoder, WritesTheCodesAssignCodesGivesAfterRemapping) {
  // Gaussian tails leave equal-width bins empty, so fastewq's raw codes need remapping.
  const std::vector<float> v = gaussian(kLarge, 4);
  for (const auto method : {CodebookMethod::kEwq, CodebookMethod::kFastEwq}) {
    std::vector<uint8_t> raw;
    const GroupCoding g = coded(v, {method, 256, 0}, false, &raw);
    if (method == CodebookMethod::kFastEwq) {
      EXPECT_FALSE(g.remap.empty()) << "the test needs empty bins";
    }
    std::vector<uint8_t> expected(v.size());
    assign_codes(v, g.codebook, expected.data());
    for (auto& c : raw)
      if (!g.remap.empty()) c = g.remap[c];
    EXPECT_EQ(raw, expected);
  }
}

TEST(GroupCoder, MeasuresTheCodebookErrorAsADirectSumDoes) {
  for (const auto& v : {gaussian(kLarge, 5), gaussian(5000, 6)})
    for (const auto method : {CodebookMethod::kEwq, CodebookMethod::kFastEwq})
      for (const int refine : {0, 3}) {
        const GroupCoding g = coded(v, {method, 64, refine});
        double signal = 0;
        for (const float x : v) signal += static_cast<double>(x) * x;
        const double noise = codebook_squared_error(v, g.codebook);
        EXPECT_NEAR(g.signal, signal, 1e-12 * signal);
        EXPECT_NEAR(g.noise, noise, 1e-9 * signal);
        EXPECT_GT(g.noise, 0.0);
      }
  std::vector<float> few(kLarge);
  for (size_t i = 0; i < few.size(); ++i) few[i] = static_cast<float>(i % 200) / 7.0f;
  EXPECT_EQ(coded(few, {CodebookMethod::kEwq, 256, 0}).noise, 0.0) << "200 distinct values: exact";
}

TEST(GroupCoder, MeasuresUniformInt8AndInt4AsQuantizeWeightDoes) {
  const std::vector<float> v = uniform(kLarge + 5, 8);
  const GroupCoding g = coded(v, {CodebookMethod::kFastEwq, 16, 0}, true);
  const Tensor t = Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
  WeightQuantSpec spec;
  const double int8 = quantize_weight(t, spec).sqnr_db;
  spec.type = DataType::kInt4;
  const double int4 = quantize_weight(t, spec).sqnr_db;
  EXPECT_NEAR(10 * std::log10(g.signal / g.int8_noise), int8, 1e-9);
  EXPECT_NEAR(10 * std::log10(g.signal / g.int4_noise), int4, 1e-9);
}

TEST(GroupCoder, NamesNaNAndInfinityAsInputErrors) {
  for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
    std::vector<float> v = gaussian(kLarge, 9);
    v[kLarge - 7] = bad;
    try {
      coded(v, {CodebookMethod::kEwq, 256, 0});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kInput);
    }
  }
}

TEST(ValuesAtRanks, GivesTheValuesASortedCopyHoldsAtThoseRanks) {
  const std::vector<float> v = ties(kLarge, 10);
  const std::vector<float> sorted = sorted_copy(v);
  const std::vector<int64_t> ranks = {0, 1, 17, 1000, static_cast<int64_t>(kLarge / 2), static_cast<int64_t>(kLarge / 2) + 1,
                                      static_cast<int64_t>(kLarge) - 2, static_cast<int64_t>(kLarge) - 1};
  std::vector<uint32_t> hist16(65536, 0);
  for (const float x : v) ++hist16[float_key(x) >> 16];
  GroupScratch scratch;
  const std::vector<float> got = values_at_ranks(ValueChunks(std::span<const float>(v)), hist16.data(), ranks, scratch);
  for (size_t k = 0; k < ranks.size(); ++k)
    EXPECT_EQ(std::bit_cast<uint32_t>(got[k]), std::bit_cast<uint32_t>(sorted[ranks[k]])) << "rank " << ranks[k];
}

}  // namespace
}  // namespace onnxq
