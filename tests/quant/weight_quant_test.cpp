#include "onnxq/weight_quant.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>
#include <limits>

namespace onnxq {
namespace {

TEST(WeightQuant, PerTensorInt8IsSymmetricWithTheHandComputedScale) {
  const Tensor w = Tensor::from_vector<float>({2, 2}, {0.5f, -1.27f, 0.0f, 1.0f});
  const auto q = quantize_weight(w, {.type = DataType::kInt8});
  EXPECT_EQ(q.scale.shape(), Shape{});
  EXPECT_FLOAT_EQ(q.scale.data<float>()[0], 0.01f);
  EXPECT_EQ(q.zero_point.data<int8_t>()[0], 0);
  const int8_t expected[] = {50, -127, 0, 100};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.values.data<int8_t>()[i], expected[i]) << i;
  EXPECT_GT(q.sqnr_db, 40);
}

TEST(WeightQuant, PerChannelGivesOneScaleAndZeroPointPerIndexOfTheAxis) {
  // Columns: [0, 2] and [-1, 4]; uint8 asymmetric along axis 1.
  const Tensor w = Tensor::from_vector<float>({2, 2}, {0.0f, -1.0f, 2.0f, 4.0f});
  const auto q = quantize_weight(w, {.type = DataType::kUInt8, .symmetric = false, .axis = 1});
  ASSERT_EQ(q.scale.shape(), Shape{2});
  EXPECT_FLOAT_EQ(q.scale.data<float>()[0], 2.0f / 255);
  EXPECT_FLOAT_EQ(q.scale.data<float>()[1], 5.0f / 255);
  EXPECT_EQ(q.zero_point.data<uint8_t>()[0], 0);
  EXPECT_EQ(q.zero_point.data<uint8_t>()[1], 51);
  EXPECT_EQ(q.values.data<uint8_t>()[2], 255);  // 2.0 in column 0
  EXPECT_EQ(q.values.data<uint8_t>()[1], 0);    // -1.0 in column 1
}

TEST(WeightQuant, AScaleFloorWidensOnlyTheSlotsBelowItAndKeepsTheirZeroPoint) {
  // Columns: [0, 2] (scale 2/255, zero point 0) and [-1, 4] (scale 5/255, zero point 51).
  const Tensor w = Tensor::from_vector<float>({2, 2}, {0.0f, -1.0f, 2.0f, 4.0f});
  WeightQuantSpec spec{.type = DataType::kUInt8, .symmetric = false, .axis = 1};
  spec.min_scale = {0.1f, 0.01f};
  const auto q = quantize_weight(w, spec);
  EXPECT_GE(q.scale.data<float>()[0], 0.1f);
  EXPECT_LT(q.scale.data<float>()[0], 0.1f * 1.0001f);
  EXPECT_FLOAT_EQ(q.scale.data<float>()[1], 5.0f / 255);  // already above its floor
  EXPECT_EQ(q.zero_point.data<uint8_t>()[0], 0);
  EXPECT_EQ(q.zero_point.data<uint8_t>()[1], 51);
  EXPECT_EQ(q.values.data<uint8_t>()[2], 20);  // 2 / 0.1
  // An all-zero channel reaches its floor too.
  const auto z = quantize_weight(Tensor::from_vector<float>({2, 1}, {0.0f, 0.0f}),
                                 {.type = DataType::kInt8, .axis = 1, .min_scale = {3.0f}});
  EXPECT_GE(z.scale.data<float>()[0], 3.0f);
  EXPECT_EQ(z.values.data<int8_t>()[0], 0);
}

TEST(WeightQuant, PerChannelIsNeverLessAccurateThanPerTensor) {
  Tensor w(DataType::kFloat, {8, 16});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = static_cast<float>((i * 37 % 101) - 50) * (1 + i % 16);
  const auto per_tensor = quantize_weight(w, {.type = DataType::kInt8});
  const auto per_channel = quantize_weight(w, {.type = DataType::kInt8, .axis = 1});
  EXPECT_GE(per_channel.sqnr_db, per_tensor.sqnr_db);
}

TEST(WeightQuant, BlocksSplitTheAxisAndTheLastBlockMayBeShort) {
  Tensor w(DataType::kFloat, {5, 2});  // blocks of 2 rows along axis 0: 3 blocks
  for (int64_t i = 0; i < 10; ++i) w.data<float>()[i] = static_cast<float>(i);
  const WeightQuantSpec spec{.type = DataType::kInt4, .symmetric = true, .axis = 0, .block_size = 2};
  const auto q = quantize_weight(w, spec);
  EXPECT_EQ(q.scale.shape(), (Shape{3, 2}));
  EXPECT_EQ(q.values.nbytes(), 5u);  // ten 4-bit values
  EXPECT_FLOAT_EQ(q.scale.data<float>()[4], 8.0f / 7);  // last block, column 0: value 8
  const Tensor back = dequantize_weight(q, spec);
  EXPECT_NEAR(back.data<float>()[8], 8.0f, 1e-5);
}

TEST(WeightQuant, PacksFourBitValuesLowNibbleFirst) {
  Tensor t(DataType::kInt4, {3});
  write_quantized(t, 0, -1);
  write_quantized(t, 1, 7);
  write_quantized(t, 2, -8);
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(t.raw_data())[0], 0x7f);
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(t.raw_data())[1], 0x08);
  EXPECT_EQ(read_quantized(t, 0), -1);
  EXPECT_EQ(read_quantized(t, 2), -8);
}

TEST(WeightQuant, RejectsNonFiniteWeights) {
  const Tensor w = Tensor::from_vector<float>({2}, {1.0f, std::numeric_limits<float>::quiet_NaN()});
  try {
    quantize_weight(w, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

}  // namespace
}  // namespace onnxq

namespace onnxq {
namespace {

TEST(WeightQuant, GivesTheSameBytesForAnyThreadCount) {
  Tensor w(DataType::kFloat, {301, 999});  // several chunks, none aligned to a row
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = std::sin(static_cast<float>(i) * 0.37f) * (1 + i % 7);
  for (const WeightQuantSpec& spec :
       {WeightQuantSpec{.type = DataType::kInt8}, WeightQuantSpec{.type = DataType::kUInt8, .symmetric = false, .axis = 1},
        WeightQuantSpec{.type = DataType::kInt4, .axis = 0, .block_size = 32}}) {
    const auto one = quantize_weight(w, spec, 1);
    for (int threads : {2, 3, 8}) {
      const auto many = quantize_weight(w, spec, threads);
      EXPECT_TRUE(many.values.equals(one.values)) << threads;
      EXPECT_TRUE(many.scale.equals(one.scale)) << threads;
      EXPECT_TRUE(many.zero_point.equals(one.zero_point)) << threads;
      EXPECT_EQ(many.sqnr_db, one.sqnr_db) << threads;
    }
  }
}

TEST(WeightQuant, PerTensorEightBitValuesAreQuantizeValueOfEachWeightTiesIncluded) {
  // 2^16 + 7 values (two chunks, a tail of three) on a grid of half int8 steps: with absmax
  // 127 * 2^-7 the int8 scale is exactly 2^-7, so every other value is an exact tie, which
  // must round to even.
  Tensor w(DataType::kFloat, {(1 << 16) + 7});
  float* x = w.data<float>();
  for (int64_t i = 0; i < w.numel(); ++i) x[i] = std::ldexp(0.5f * static_cast<float>(i % 509 - 254), -7);
  for (const WeightQuantSpec& spec : {WeightQuantSpec{.type = DataType::kInt8},
                                      WeightQuantSpec{.type = DataType::kUInt8, .symmetric = false},
                                      WeightQuantSpec{.type = DataType::kInt8, .reduce_range = true}}) {
    const auto q = quantize_weight(w, spec, 2);
    const QuantParams p{q.scale.data<float>()[0], read_quantized(q.zero_point, 0)};
    const QuantRange range = quant_range(spec.type, spec.symmetric, spec.reduce_range);
    int ties = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
      ASSERT_EQ(read_quantized(q.values, i), quantize_value(x[i], p, range)) << i << " " << x[i];
      const float t = x[i] / p.scale;
      ties += t - std::floor(t) == 0.5f;
    }
    if (spec.type == DataType::kInt8 && !spec.reduce_range) {
      EXPECT_EQ(p.scale, std::ldexp(1.0f, -7));
      EXPECT_GT(ties, 10000);
    }
    Tensor deq(DataType::kFloat, w.shape());
    for (int64_t i = 0; i < w.numel(); ++i) deq.data<float>()[i] = dequantize_value(read_quantized(q.values, i), p);
    EXPECT_NEAR(q.sqnr_db, sqnr_db(x, deq.data<float>(), w.numel()), 1e-9);
  }
}

}  // namespace
}  // namespace onnxq

namespace onnxq {
namespace {

// Scale slot of element idx of `shape`, derived from the spec's words, not from the library's layout code.
int64_t slot_of(const Shape& shape, const WeightQuantSpec& spec, int64_t idx) {
  if (spec.axis < 0) return 0;
  std::vector<int64_t> coord(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    coord[k] = idx % shape[k];
    idx /= shape[k];
  }
  if (spec.block_size <= 0) return coord[static_cast<size_t>(spec.axis)];
  Shape scale_shape = shape;
  auto& dim = scale_shape[static_cast<size_t>(spec.axis)];
  dim = (dim + spec.block_size - 1) / spec.block_size;
  coord[static_cast<size_t>(spec.axis)] /= spec.block_size;
  int64_t s = 0;
  for (size_t k = 0; k < shape.size(); ++k) s = s * scale_shape[k] + coord[k];
  return s;
}

TEST(WeightQuant, EveryLayoutMatchesQuantizeValueWithParamsFromEachSlotsOwnRange) {
  struct Case {
    Shape shape;
    WeightQuantSpec spec;
  };
  const std::vector<Case> cases = {
      {{70001}, {.type = DataType::kInt8}},
      {{3, 5, 7}, {.type = DataType::kUInt8, .symmetric = false, .axis = 1}},
      {{300, 517}, {.type = DataType::kInt8, .axis = 1}},                       // one row of channels per row
      {{517, 300}, {.type = DataType::kUInt8, .symmetric = false, .axis = 0}},  // a scale per row
      {{2, 3, 4, 5}, {.type = DataType::kInt8, .reduce_range = true, .axis = 3}},
      {{4, 3, 2, 2}, {.type = DataType::kUInt8, .symmetric = false, .reduce_range = true, .axis = 0}},
      {{131, 303}, {.type = DataType::kInt4, .symmetric = true, .axis = 0, .block_size = 32}},
      {{97, 33}, {.type = DataType::kUInt4, .symmetric = false, .axis = 0, .block_size = 16}},
      {{45, 1}, {.type = DataType::kInt4, .symmetric = true, .axis = 0, .block_size = 16}},  // blocks down one column
      {{3, 77}, {.type = DataType::kUInt4, .symmetric = false, .axis = 1, .block_size = 32}},
  };
  for (const Case& c : cases) {
    Tensor w(DataType::kFloat, c.shape);
    float* x = w.data<float>();
    for (int64_t i = 0; i < w.numel(); ++i)
      x[i] = std::sin(static_cast<float>(i) * 0.61f) * static_cast<float>(1 + (i * 7) % 13) - 0.3f * static_cast<float>(i % 3);
    const auto q = quantize_weight(w, c.spec, 3);
    const QuantRange range = quant_range(c.spec.type, c.spec.symmetric, c.spec.reduce_range);
    std::vector<float> lo(static_cast<size_t>(q.scale.numel()), 1e30f), hi(lo.size(), -1e30f);
    for (int64_t i = 0; i < w.numel(); ++i) {
      const auto s = static_cast<size_t>(slot_of(c.shape, c.spec, i));
      lo[s] = std::min(lo[s], x[i]);
      hi[s] = std::max(hi[s], x[i]);
    }
    double signal = 0, noise = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
      const auto s = static_cast<size_t>(slot_of(c.shape, c.spec, i));
      const QuantParams p = compute_quant_params(lo[s], hi[s], range, c.spec.symmetric);
      ASSERT_EQ(q.scale.data<float>()[s], p.scale) << shape_to_string(c.shape) << " slot " << s;
      ASSERT_EQ(read_quantized(q.zero_point, static_cast<int64_t>(s)), p.zero_point) << shape_to_string(c.shape);
      const int32_t v = quantize_value(x[i], p, range);
      ASSERT_EQ(read_quantized(q.values, i), v) << shape_to_string(c.shape) << " element " << i;
      const double e = static_cast<double>(x[i]) - dequantize_value(v, p);
      signal += static_cast<double>(x[i]) * x[i];
      noise += e * e;
    }
    EXPECT_NEAR(q.sqnr_db, 10 * std::log10(signal / noise), 1e-9) << shape_to_string(c.shape);
    if (dtype_bits(c.spec.type) == 4 && w.numel() % 2 == 1) {
      EXPECT_EQ(reinterpret_cast<const uint8_t*>(q.values.raw_data())[w.numel() / 2] >> 4, 0)
          << "the unused high nibble of the last byte is 0";
    }
  }
}

TEST(WeightQuant, DataAtAnOddAddressGivesTheSameResultAsAlignedData) {
  Tensor w(DataType::kFloat, {257, 129});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = std::cos(static_cast<float>(i) * 0.013f) * 3;
  std::vector<std::byte> shifted(w.nbytes() + 3);
  std::memcpy(shifted.data() + 3, w.raw_data(), w.nbytes());
  const std::span<const std::byte> odd(shifted.data() + 3, w.nbytes());
  for (const WeightQuantSpec& spec :
       {WeightQuantSpec{.type = DataType::kInt8}, WeightQuantSpec{.type = DataType::kUInt8, .symmetric = false, .axis = 1},
        WeightQuantSpec{.type = DataType::kInt4, .axis = 0, .block_size = 32}}) {
    const auto aligned = quantize_weight(w, spec, 2);
    const auto unaligned = quantize_weight(odd, w.shape(), spec, 2);
    EXPECT_TRUE(unaligned.values.equals(aligned.values));
    EXPECT_TRUE(unaligned.scale.equals(aligned.scale));
    EXPECT_EQ(unaligned.sqnr_db, aligned.sqnr_db);
  }
}

}  // namespace
}  // namespace onnxq

namespace onnxq {
namespace {

TEST(WeightQuant, RejectsANonFiniteValueAnywhereInALongWeightPerTensorOrPerChannel) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()})
    for (const int64_t at : {int64_t{0}, int64_t{13}, int64_t{4096}, int64_t{70000}}) {
      Tensor w(DataType::kFloat, {300, 301});
      for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = static_cast<float>(i % 17) - 8;
      w.data<float>()[at] = bad;
      for (const WeightQuantSpec& spec : {WeightQuantSpec{}, WeightQuantSpec{.axis = 1}, WeightQuantSpec{.axis = 0}}) {
        try {
          quantize_weight(w, spec, 2);
          ADD_FAILURE() << "accepted " << bad << " at " << at << " with axis " << spec.axis;
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ExitCode::kInput);
        }
      }
    }
}

}  // namespace
}  // namespace onnxq
