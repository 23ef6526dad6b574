// The packed 2-D convolution against direct loops in double, and against itself at other
// thread counts, on shapes that reach every tiling case: column tiles with partial panels,
// several K blocks, the shared whole-matrix mode of deep layers, groups, strides, dilations
// and asymmetric pads; each also with the fused epilogues (BatchNormalization, residual,
// Relu) against the plain pass applied afterwards.

#include "exec/kernels/conv_packed.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <cmath>
#include <random>
#include <vector>

#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

using exec::ConvShape;
using exec::WindowAttrs;

struct Case {
  int64_t batch, channels, height, width, out_channels, group, kh, kw;
  std::vector<int64_t> strides, dilations, pads;  // pads: h_begin, w_begin, h_end, w_end
  bool bias = true;
};

ConvShape shape_of(const Case& c, const Tensor& x, const Tensor& w, const Tensor* b) {
  WindowAttrs attrs;
  attrs.strides = c.strides;
  attrs.dilations = c.dilations;
  attrs.pads = c.pads;
  return exec::conv_shape(x, w, b, attrs, c.group, "Conv");
}

std::vector<double> direct(const Case& c, const ConvShape& s, const float* x, const float* w, const float* b) {
  const auto& g = s.geometry;
  const int64_t OH = g.out[0], OW = g.out[1], Cg = c.channels / c.group, Mg = c.out_channels / c.group;
  std::vector<double> y;
  for (int64_t n = 0; n < c.batch; ++n)
    for (int64_t m = 0; m < c.out_channels; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = b ? b[m] : 0.0;
          for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * c.strides[0] - c.pads[0] + i * c.dilations[0];
                const int64_t iw = ow * c.strides[1] - c.pads[1] + j * c.dilations[1];
                if (ih < 0 || ih >= c.height || iw < 0 || iw >= c.width) continue;
                const int64_t channel = (m / Mg) * Cg + ci;
                acc += double(x[((n * c.channels + channel) * c.height + ih) * c.width + iw]) *
                       double(w[((m * Cg + ci) * c.kh + i) * c.kw + j]);
              }
          y.push_back(acc);
        }
  return y;
}

// Returns whether the direct path took the shape.
bool check(const Case& c, uint32_t seed) {
  const Tensor x = test::random_tensor({c.batch, c.channels, c.height, c.width}, seed);
  const Tensor w = test::random_tensor({c.out_channels, c.channels / c.group, c.kh, c.kw}, seed + 1);
  const Tensor b = test::random_tensor({c.out_channels}, seed + 2);
  const ConvShape s = shape_of(c, x, w, c.bias ? &b : nullptr);
  const float* bias = c.bias ? b.data<float>() : nullptr;
  Tensor one(DataType::kFloat, s.output_shape()), three(DataType::kFloat, s.output_shape());
  exec::conv2d_packed(s, x.data<float>(), w.data<float>(), bias, one.data<float>(), 1);
  exec::conv2d_packed(s, x.data<float>(), w.data<float>(), bias, three.data<float>(), 3);
  EXPECT_TRUE(one.equals(three)) << "results differ between 1 and 3 threads";
  // Undilated convolutions read the padded image directly: the same bits as im2col blocks.
  Tensor blocks(DataType::kFloat, s.output_shape()), direct1(DataType::kFloat, s.output_shape());
  exec::conv_packed_detail::conv2d_im2col_blocks(s, x.data<float>(), w.data<float>(), bias, blocks.data<float>(), 2,
                                                 nullptr);
  const bool took_direct = exec::conv_packed_detail::conv2d_direct(s, x.data<float>(), w.data<float>(), bias,
                                                                   direct1.data<float>(), 1, nullptr);
  if (took_direct)
    EXPECT_TRUE(direct1.equals(blocks)) << "the direct path differs from im2col blocks";
  else
    EXPECT_TRUE(blocks.equals(one));
  const std::vector<double> want = direct(c, s, x.data<float>(), w.data<float>(), bias);
  EXPECT_EQ(want.size(), static_cast<size_t>(one.numel()));
  // Sums of K products of values in [-1, 1]: float error grows with K.
  const double tolerance = 1e-6 * static_cast<double>(c.channels / c.group * c.kh * c.kw) + 1e-6;
  for (size_t i = 0; i < want.size() && i < static_cast<size_t>(one.numel()); ++i)
    if (std::abs(one.data<float>()[i] - want[i]) > tolerance) {
      ADD_FAILURE() << "element " << i << ": " << one.data<float>()[i] << ", want " << want[i];
      break;
    }

  // Each fused epilogue gives the bits of the plain pass over the unfused output.
  const Tensor scale = test::random_tensor({c.out_channels}, seed + 3, 0.5f, 2.0f);
  const Tensor shift = test::random_tensor({c.out_channels}, seed + 4);
  const Tensor residual = test::random_tensor(s.output_shape(), seed + 5, -2.0f, 2.0f);
  const int64_t n = s.geometry.out_size();
  for (int variant = 0; variant < 4; ++variant) {
    exec::ConvEpilogue ep;
    if (variant != 1) ep.scale = scale.data<float>(), ep.shift = shift.data<float>();
    if (variant >= 1) ep.residual = residual.data<float>();
    ep.clip = variant != 2;
    // Relu, except a Clip with both bounds inside the values' range in the last variant.
    ep.lo = variant == 3 ? -0.25f : 0.0f;
    ep.hi = variant == 3 ? 0.5f : std::numeric_limits<float>::infinity();
    Tensor want_ep = one.clone();
    for (int64_t i = 0; i < c.batch; ++i) {
      exec::ConvEpilogue image = ep;
      if (ep.residual) image.residual += i * c.out_channels * n;
      exec::apply_conv_epilogue(image, 0, c.out_channels, n, want_ep.data<float>() + i * c.out_channels * n, n);
    }
    Tensor fused1(DataType::kFloat, s.output_shape()), fused3(DataType::kFloat, s.output_shape());
    exec::conv2d_packed(s, x.data<float>(), w.data<float>(), bias, fused1.data<float>(), 1, &ep);
    exec::conv2d_packed(s, x.data<float>(), w.data<float>(), bias, fused3.data<float>(), 3, &ep);
    EXPECT_TRUE(fused1.equals(want_ep)) << "epilogue variant " << variant << " differs from the plain pass";
    EXPECT_TRUE(fused3.equals(fused1)) << "epilogue variant " << variant << " differs between 1 and 3 threads";
  }
  return took_direct;
}

class ConvPacked : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!exec::conv2d_packed_available()) GTEST_SKIP() << "this CPU has no AVX-512F";
  }
};

TEST_F(ConvPacked, ManyColumnTilesWithPartialPanelsMatchDirectLoops) {
  check({1, 3, 37, 45, 10, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}}, 1);   // 1665 positions, 10 channels
  check({2, 5, 23, 29, 17, 1, 3, 3, {1, 1}, {1, 1}, {0, 0, 0, 0}}, 2);  // batch 2, no padding
  check({1, 4, 40, 40, 8, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, false}, 3);  // pointwise
}

TEST_F(ConvPacked, SeveralKBlocksAccumulateInOrder) {
  check({1, 70, 20, 21, 9, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}}, 10);  // K = 630: three blocks
  check({1, 600, 16, 16, 3, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}}, 11);  // K = 600, pointwise
}

TEST_F(ConvPacked, DeepLayersWithFewPositionsShareOnePackedMatrix) {
  check({1, 64, 7, 7, 96, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}}, 20);  // K = 576, 49 positions
  check({1, 40, 9, 5, 44, 1, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}}, 21);  // stride 2, 15 positions
  check({2, 32, 6, 6, 24, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}}, 22);
}

TEST_F(ConvPacked, GroupsStridesDilationsAndAsymmetricPadsMatchDirectLoops) {
  check({1, 6, 19, 17, 12, 3, 3, 3, {2, 1}, {1, 2}, {2, 0, 1, 3}}, 30);
  check({2, 8, 13, 11, 8, 2, 5, 3, {1, 3}, {2, 1}, {0, 1, 2, 0}}, 31);
  check({1, 4, 30, 33, 20, 4, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}}, 32);
  check({1, 2, 4, 3, 5, 1, 3, 3, {1, 1}, {3, 3}, {3, 3, 3, 3}}, 33);  // taps mostly in padding
  check({1, 3, 2, 50, 7, 1, 1, 7, {1, 4}, {1, 1}, {0, 3, 0, 3}, false}, 34);
}

TEST_F(ConvPacked, StrideOneConvolutionsReadThePaddedImageWithTheBitsOfIm2colBlocks) {
  EXPECT_TRUE(check({1, 5, 56, 56, 16, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}}, 40));   // several column tiles
  EXPECT_TRUE(check({1, 64, 7, 7, 24, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}}, 41));   // 7x7: lanes dropped across rows
  EXPECT_TRUE(check({2, 6, 9, 13, 10, 2, 5, 3, {1, 1}, {1, 1}, {2, 0, 1, 1}}, 42));   // groups, batch, asymmetric pads
  EXPECT_TRUE(check({1, 3, 4, 40, 9, 1, 1, 5, {1, 1}, {1, 1}, {0, 0, 0, 0}, false}, 43));  // no padding: lanes past rows
  EXPECT_TRUE(check({1, 2, 3, 3, 3, 1, 3, 3, {1, 1}, {1, 1}, {0, 0, 0, 0}}, 44));     // a single output
}

TEST_F(ConvPacked, StridedConvolutionsReadStridePhasesWithTheBitsOfIm2colBlocks) {
  EXPECT_TRUE(check({1, 3, 61, 59, 16, 1, 7, 7, {2, 2}, {1, 1}, {3, 3, 3, 3}}, 50));  // a ResNet stem
  EXPECT_TRUE(check({1, 24, 14, 14, 32, 1, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}}, 51));  // 14x14 -> 7x7
  EXPECT_TRUE(check({2, 6, 17, 20, 9, 3, 3, 4, {3, 2}, {1, 1}, {0, 2, 1, 0}}, 52));   // odd strides, groups
  EXPECT_TRUE(check({1, 4, 9, 8, 5, 1, 2, 2, {2, 2}, {1, 1}, {0, 0, 0, 0}}, 53));     // even kernel, no padding
}

TEST_F(ConvPacked, RandomShapesMatchDirectLoops) {
  std::mt19937 rng(7);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int i = 0; i < 25; ++i) {
    Case c;
    c.group = pick(1, 3);
    c.batch = pick(1, 2);
    c.channels = c.group * pick(1, 12);
    c.out_channels = c.group * pick(1, 20);
    c.kh = pick(1, 4);
    c.kw = pick(1, 4);
    const bool undilated = pick(0, 1) == 1;  // half of them take the direct path
    c.strides = {pick(1, 3), pick(1, 3)};
    c.dilations = undilated ? std::vector<int64_t>{1, 1} : std::vector<int64_t>{pick(1, 2), pick(1, 2)};
    c.pads = {pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2)};
    c.height = pick((c.kh - 1) * c.dilations[0] + 1, 40);
    c.width = pick((c.kw - 1) * c.dilations[1] + 1, 40);
    c.bias = pick(0, 1) == 1;
    SCOPED_TRACE(i);
    check(c, 100 + static_cast<uint32_t>(i) * 3);
  }
}

}  // namespace
}  // namespace onnxq
