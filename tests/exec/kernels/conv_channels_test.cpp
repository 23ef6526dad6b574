// The channel-vectorized convolution against the packed one (which conv_packed_test checks
// against direct loops): the same bits, with and without each fused epilogue, at any
// thread count.

#include "exec/kernels/conv_channels.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <vector>

#include "support/graph_builder.hpp"

namespace onnxq {
namespace {

struct Case {
  int64_t batch, channels, height, width, out_channels, kh, kw;
  std::vector<int64_t> strides, pads;
  bool bias = true;
};

void check(const Case& c, uint32_t seed) {
  const Tensor x = test::random_tensor({c.batch, c.channels, c.height, c.width}, seed);
  const Tensor w = test::random_tensor({c.out_channels, c.channels, c.kh, c.kw}, seed + 1);
  const Tensor b = test::random_tensor({c.out_channels}, seed + 2);
  exec::WindowAttrs attrs;
  attrs.strides = c.strides;
  attrs.dilations = {1, 1};
  attrs.pads = c.pads;
  const exec::ConvShape s = exec::conv_shape(x, w, c.bias ? &b : nullptr, attrs, 1, "Conv");
  ASSERT_TRUE(exec::conv2d_channels_suits(s));
  const float* bias = c.bias ? b.data<float>() : nullptr;
  const std::vector<float> packed =
      exec::pack_weights_by_channel(w.data<float>(), c.out_channels, w.numel() / c.out_channels);
  const Tensor scale = test::random_tensor({c.out_channels}, seed + 3, 0.5f, 2.0f);
  const Tensor shift = test::random_tensor({c.out_channels}, seed + 4);
  const Tensor residual = test::random_tensor(s.output_shape(), seed + 5, -2.0f, 2.0f);
  for (int variant = 0; variant < 3; ++variant) {
    exec::ConvEpilogue ep;
    if (variant >= 1) ep.scale = scale.data<float>(), ep.shift = shift.data<float>(), ep.clip = true;
    ep.lo = 0.0f, ep.hi = std::numeric_limits<float>::infinity();  // Relu
    if (variant == 2) ep.residual = residual.data<float>(), ep.lo = -0.3f, ep.hi = 0.6f;  // Clip
    Tensor want(DataType::kFloat, s.output_shape()), one(DataType::kFloat, s.output_shape()),
        three(DataType::kFloat, s.output_shape());
    exec::conv2d_packed(s, x.data<float>(), w.data<float>(), bias, want.data<float>(), 2, variant ? &ep : nullptr);
    exec::conv2d_channels(s, x.data<float>(), packed.data(), bias, one.data<float>(), 1, variant ? &ep : nullptr);
    exec::conv2d_channels(s, x.data<float>(), packed.data(), bias, three.data<float>(), 3, variant ? &ep : nullptr);
    EXPECT_TRUE(one.equals(want)) << "variant " << variant << " differs from the packed convolution";
    EXPECT_TRUE(three.equals(one)) << "variant " << variant << " differs between 1 and 3 threads";
  }
}

class ConvChannels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!exec::conv2d_packed_available()) GTEST_SKIP() << "this CPU has no AVX-512F";
  }
};

TEST_F(ConvChannels, DeepLayersGiveTheBitsOfThePackedConvolution) {
  check({1, 40, 7, 7, 64, 3, 3, {1, 1}, {1, 1, 1, 1}}, 1);        // 49 positions: seven full tiles
  check({1, 24, 14, 14, 32, 3, 3, {2, 2}, {1, 1, 1, 1}}, 2);      // strided, into 7x7
  check({2, 16, 10, 9, 96, 3, 3, {1, 1}, {1, 1, 1, 1}}, 3);       // batch 2, 90 positions: a short tile
  check({1, 5, 3, 4, 32, 2, 3, {1, 2}, {1, 0, 0, 2}}, 5);         // asymmetric pads and strides
  check({1, 16, 4, 4, 32, 3, 3, {2, 2}, {1, 1, 1, 1}}, 6);        // 2x2 outputs
  check({1, 8, 2, 2, 64, 3, 3, {1, 1}, {1, 1, 1, 1}}, 7);
  check({1, 8, 4, 4, 32, 2, 2, {2, 2}, {0, 0, 0, 0}, false}, 8);
}

}  // namespace
}  // namespace onnxq
