#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_int;
using test::attr_ints;
using test::attr_string;
using test::op;
using test::random_tensor;
using test::run_op;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

struct ConvCase {
  Shape x, w;  // w[1] = C / group
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;
  bool bias = true;
};

// Direct loops over every output and tap, in double: the plain reference the im2col,
// pointwise and depthwise paths are checked against.
std::vector<double> reference_conv(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b,
                                   const Shape& y_shape) {
  const size_t r = c.x.size() - 2;
  const int64_t N = c.x[0], C = c.x[1], M = c.w[0], Cg = c.w[1], Mg = M / c.group;
  int64_t in_size = 1, out_size = 1, k_size = 1;
  for (size_t d = 0; d < r; ++d) in_size *= c.x[d + 2], out_size *= y_shape[d + 2], k_size *= c.w[d + 2];
  std::vector<double> y(static_cast<size_t>(N * M * out_size));
  const float* px = x.data<float>();
  const float* pw = w.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < out_size; ++o) {
        double acc = b ? b->data<float>()[m] : 0.0;
        for (int64_t ci = 0; ci < Cg; ++ci)
          for (int64_t k = 0; k < k_size; ++k) {
            int64_t orem = o, krem = k, offset = 0;
            bool inside = true;
            std::vector<int64_t> pos(r);
            for (size_t d = r; d-- > 0;) {
              const int64_t od = orem % y_shape[d + 2], kd = krem % c.w[d + 2];
              orem /= y_shape[d + 2];
              krem /= c.w[d + 2];
              const int64_t s = c.strides.empty() ? 1 : c.strides[d];
              const int64_t dl = c.dilations.empty() ? 1 : c.dilations[d];
              const int64_t p = c.pads.empty() ? 0 : c.pads[d];
              pos[d] = od * s - p + kd * dl;
              inside = inside && pos[d] >= 0 && pos[d] < c.x[d + 2];
            }
            if (!inside) continue;
            for (size_t d = 0; d < r; ++d) offset = offset * c.x[d + 2] + pos[d];
            const int64_t channel = (m / Mg) * Cg + ci;
            acc += double(px[(n * C + channel) * in_size + offset]) * double(pw[(m * Cg + ci) * k_size + k]);
          }
        y[static_cast<size_t>((n * M + m) * out_size + o)] = acc;
      }
  return y;
}

std::vector<Tensor> run_conv(const ConvCase& c, const std::vector<Tensor>& inputs, int threads) {
  auto node = op("Conv");
  attr_int(node, "group", c.group);
  if (!c.strides.empty()) attr_ints(node, "strides", c.strides);
  if (!c.dilations.empty()) attr_ints(node, "dilations", c.dilations);
  if (!c.pads.empty()) attr_ints(node, "pads", c.pads);
  return run_op(node, inputs, 1, 17, threads);
}

void check_against_reference(const ConvCase& c, uint32_t seed) {
  Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w, seed + 1), b = random_tensor({c.w[0]}, seed + 2);
  std::vector<Tensor> inputs{x, w};
  if (c.bias) inputs.push_back(b);
  Tensor one = run_conv(c, inputs, 1)[0];
  Tensor three = run_conv(c, inputs, 3)[0];
  EXPECT_TRUE(one.equals(three)) << "results differ between 1 and 3 threads";
  auto ref = reference_conv(c, x, w, c.bias ? &b : nullptr, one.shape());
  ASSERT_EQ(static_cast<size_t>(one.numel()), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(one.data<float>()[i], ref[i], 1e-4) << "element " << i;
}

TEST(Conv, ComputesAHandCheckedPaddedConvolution) {
  // 3x3 input 1..9, 2x2 ones kernel, pads 1: each output sums the inputs under the window.
  Tensor x = test::iota_tensor<float>({1, 1, 3, 3}, 1.0f);
  Tensor w = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 1, 1, 1});
  auto node = op("Conv");
  attr_ints(node, "pads", {1, 1, 1, 1});
  attr_ints(node, "strides", {2, 2});
  Tensor y = run_op(node, {x, w})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values(y), (std::vector<float>{1, 5, 11, 28}));
}

TEST(Conv, PointwiseConvolutionsMatchTheReference) {
  check_against_reference({{2, 6, 5, 7}, {4, 6, 1, 1}}, 10);
  check_against_reference({{1, 8, 9, 9}, {6, 4, 1, 1}, 2, {}, {}, {}, false}, 11);
}

TEST(Conv, DepthwiseConvolutionsMatchTheReference) {
  check_against_reference({{2, 5, 9, 8}, {5, 1, 3, 3}, 5, {1, 1}, {}, {1, 1, 1, 1}}, 20);
  check_against_reference({{1, 4, 11, 10}, {4, 1, 3, 3}, 4, {2, 2}, {}, {0, 1, 1, 0}}, 21);
  check_against_reference({{1, 3, 12, 12}, {3, 1, 5, 3}, 3, {2, 1}, {2, 2}, {2, 1, 3, 0}, false}, 22);
  check_against_reference({{1, 2, 2, 3}, {2, 1, 3, 3}, 2, {1, 1}, {}, {1, 1, 1, 1}}, 23);  // no interior
  // Rows long enough for the vectorized interior, with odd widths and remainders.
  check_against_reference({{1, 3, 7, 37}, {3, 1, 3, 3}, 3, {1, 1}, {}, {1, 1, 1, 1}}, 24);
  check_against_reference({{2, 2, 9, 41}, {2, 1, 5, 5}, 2, {2, 2}, {}, {2, 2, 2, 2}}, 25);
  check_against_reference({{1, 2, 6, 33}, {2, 1, 3, 3}, 2, {1, 3}, {1, 2}, {0, 0, 0, 0}}, 26);
}

TEST(Conv, RandomDepthwiseConvolutionsMatchTheReference) {
  std::mt19937 rng(9);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int i = 0; i < 30; ++i) {
    const int64_t c = pick(1, 4), kh = pick(1, 5), kw = pick(1, 5), dh = pick(1, 2), dw = pick(1, 2);
    const int64_t h = pick((kh - 1) * dh + 1, 24), w = pick((kw - 1) * dw + 1, 70);
    SCOPED_TRACE(i);
    check_against_reference({{pick(1, 2), c, h, w}, {c, 1, kh, kw}, c, {pick(1, 3), pick(1, 4)}, {dh, dw},
                             {pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 2)}, pick(0, 1) == 1},
                            200 + static_cast<uint32_t>(i) * 3);
  }
}

TEST(Conv, GroupedDilatedPaddedStridedConvolutionsMatchTheReference) {
  check_against_reference({{1, 3, 10, 11}, {8, 3, 3, 3}, 1, {1, 1}, {}, {1, 1, 1, 1}}, 30);
  check_against_reference({{2, 6, 13, 9}, {4, 3, 3, 2}, 2, {2, 3}, {2, 1}, {1, 0, 2, 1}}, 31);
  check_against_reference({{1, 4, 8, 8}, {6, 2, 3, 3}, 2, {2, 2}, {}, {}}, 32);
  check_against_reference({{1, 4, 7, 7}, {8, 1, 3, 3}, 4, {1, 1}, {}, {1, 1, 1, 1}}, 33);  // channel multiplier
}

TEST(Conv, OneAndThreeDimensionalConvolutionsMatchTheReference) {
  check_against_reference({{2, 3, 17}, {5, 3, 4}, 1, {2}, {2}, {3, 1}}, 40);
  check_against_reference({{2, 6, 83}, {10, 3, 5}, 2, {2}, {1}, {2, 3}}, 43);  // long enough to pack
  check_against_reference({{1, 4, 300}, {9, 4, 3}, 1, {1}, {3}, {0, 0}, false}, 44);
  check_against_reference({{1, 2, 5, 6, 7}, {3, 2, 2, 3, 2}, 1, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}}, 41);
  check_against_reference({{1, 3, 4, 5, 6}, {3, 1, 3, 3, 3}, 3, {}, {}, {1, 1, 1, 1, 1, 1}}, 42);
}

TEST(Conv, LargeConvolutionsAreBitIdenticalAcrossThreadCounts) {
  check_against_reference({{1, 32, 28, 28}, {64, 32, 3, 3}, 1, {1, 1}, {}, {1, 1, 1, 1}}, 50);
  check_against_reference({{1, 64, 20, 20}, {96, 64, 1, 1}}, 51);
}

TEST(Conv, SameUpperPadsTheEndWithTheOddPixel) {
  Tensor x = test::iota_tensor<float>({1, 1, 4}, 1.0f);
  Tensor w = Tensor::from_vector<float>({1, 1, 2}, {1, 1});
  auto upper = op("Conv");
  attr_string(upper, "auto_pad", "SAME_UPPER");
  EXPECT_EQ(values(run_op(upper, {x, w})[0]), (std::vector<float>{3, 5, 7, 4}));
  auto lower = op("Conv");
  attr_string(lower, "auto_pad", "SAME_LOWER");
  EXPECT_EQ(values(run_op(lower, {x, w})[0]), (std::vector<float>{1, 3, 5, 7}));
}

TEST(Conv, RejectsChannelCountsThatDoNotMatchTheWeights) {
  try {
    run_op(op("Conv"), {random_tensor({1, 3, 4, 4}, 1), random_tensor({2, 2, 3, 3}, 2)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

// Scatter form of the transposed convolution: each input element adds w * x to the output
// positions its kernel covers.
TEST(ConvTranspose, MatchesAScatterOfTheKernelOverTheOutput) {
  const int64_t C = 4, M = 6, group = 2, H = 5, W = 4, KH = 3, KW = 2, s = 2, d = 1, pad = 1, out_pad = 1;
  Tensor x = random_tensor({1, C, H, W}, 60), w = random_tensor({C, M / group, KH, KW}, 61);
  Tensor b = random_tensor({M}, 62);
  auto node = op("ConvTranspose");
  attr_int(node, "group", group);
  attr_ints(node, "strides", {s, s});
  attr_ints(node, "pads", {pad, pad, pad, pad});
  attr_ints(node, "output_padding", {out_pad, out_pad});
  Tensor y = run_op(node, {x, w, b})[0];
  const int64_t OH = s * (H - 1) + out_pad + (KH - 1) * d + 1 - 2 * pad, OW = s * (W - 1) + out_pad + (KW - 1) * d + 1 - 2 * pad;
  ASSERT_EQ(y.shape(), (Shape{1, M, OH, OW}));
  std::vector<double> ref(static_cast<size_t>(M * OH * OW));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < OH * OW; ++i) ref[static_cast<size_t>(m * OH * OW + i)] = b.data<float>()[m];
  const int64_t Cg = C / group, Mg = M / group;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t mi = 0; mi < Mg; ++mi)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t ww = 0; ww < W; ++ww)
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t oh = h * s - pad + kh * d, ow = ww * s - pad + kw * d, m = (c / Cg) * Mg + mi;
              if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
              ref[static_cast<size_t>((m * OH + oh) * OW + ow)] +=
                  double(x.data<float>()[(c * H + h) * W + ww]) * double(w.data<float>()[((c * Mg + mi) * KH + kh) * KW + kw]);
            }
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(y.data<float>()[i], ref[i], 1e-4) << i;
  EXPECT_TRUE(y.equals(run_op(node, {x, w, b}, 1, 17, 3)[0]));
}

TEST(ConvTranspose, OutputShapeAttributeDerivesThePads) {
  Tensor x = test::iota_tensor<float>({1, 1, 3}, 1.0f);
  Tensor w = Tensor::from_vector<float>({1, 1, 3}, {1, 1, 1});
  auto node = op("ConvTranspose");
  attr_ints(node, "strides", {2});
  attr_ints(node, "output_shape", {6});
  // Full output is 7 long [1,1,3,2,5,3,3]; total padding 1 goes to the start.
  EXPECT_EQ(values(run_op(node, {x, w})[0]), (std::vector<float>{1, 3, 2, 5, 3, 3}));
}

TEST(ConvTranspose, AnOutputShapeBeyondTheFullOutputPadsTheEnd) {
  Tensor x = test::iota_tensor<float>({1, 1, 3}, 1.0f);
  Tensor w = Tensor::from_vector<float>({1, 1, 3}, {1, 1, 1});
  auto node = op("ConvTranspose");
  attr_ints(node, "strides", {2});
  attr_ints(node, "output_shape", {8});
  EXPECT_EQ(values(run_op(node, {x, w})[0]), (std::vector<float>{1, 1, 3, 2, 5, 3, 3, 0}));
}

// 2-D col2im adds a row at a time; any other rank walks positions one by one. A 2-D
// transposed convolution and the same one with a unit third axis must agree bit for bit.
TEST(ConvTranspose, TwoDimensionalRowsMatchTheGeneralPath) {
  struct Case {
    Shape x, w;
    std::vector<int64_t> strides, dilations, pads;  // 2-D pads: h_begin, w_begin, h_end, w_end
    int64_t group;
  };
  const std::vector<Case> cases = {
      {{1, 4, 6, 7}, {4, 3, 2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}, 1},
      {{2, 4, 5, 4}, {4, 2, 3, 3}, {2, 1}, {1, 2}, {1, 0, 2, 1}, 2},
      {{1, 2, 3, 9}, {2, 5, 3, 1}, {1, 3}, {2, 1}, {0, 1, 1, 0}, 1},
  };
  uint32_t seed = 70;
  for (const auto& c : cases) {
    const Tensor x = random_tensor(c.x, seed++), w = random_tensor(c.w, seed++);
    auto node = op("ConvTranspose");
    attr_int(node, "group", c.group);
    attr_ints(node, "strides", c.strides);
    attr_ints(node, "dilations", c.dilations);
    attr_ints(node, "pads", c.pads);
    const Tensor two = run_op(node, {x, w}, 1, 17, 2)[0];
    auto node3 = op("ConvTranspose");
    attr_int(node3, "group", c.group);
    attr_ints(node3, "strides", {c.strides[0], c.strides[1], 1});
    attr_ints(node3, "dilations", {c.dilations[0], c.dilations[1], 1});
    attr_ints(node3, "pads", {c.pads[0], c.pads[1], 0, c.pads[2], c.pads[3], 0});
    Shape x3 = c.x, w3 = c.w, y3 = two.shape();
    x3.push_back(1), w3.push_back(1), y3.push_back(1);
    const Tensor three = run_op(node3, {x.reshaped(x3), w.reshaped(w3)}, 1, 17, 2)[0];
    EXPECT_TRUE(two.reshaped(y3).equals(three)) << shape_to_string(c.x);
  }
}

}  // namespace
}  // namespace onnxq
