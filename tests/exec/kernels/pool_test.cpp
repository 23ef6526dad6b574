#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq {
namespace {

using test::attr_int;
using test::attr_ints;
using test::attr_string;
using test::op;
using test::run_op;

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

// 4x4 plane holding 0..15.
Tensor plane() { return test::iota_tensor<float>({1, 1, 4, 4}); }

TEST(MaxPool, TakesTheMaximumOfEachWindowAndReportsItsIndex) {
  auto node = op("MaxPool");
  attr_ints(node, "kernel_shape", {2, 2});
  attr_ints(node, "strides", {2, 2});
  auto out = run_op(node, {plane()}, 2);
  EXPECT_EQ(values(out[0]), (std::vector<float>{5, 7, 13, 15}));
  const int64_t* idx = out[1].data<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(idx, idx + 4), (std::vector<int64_t>{5, 7, 13, 15}));
}

TEST(MaxPool, ColumnMajorStorageOrderTransposesTheIndices) {
  auto node = op("MaxPool");
  attr_ints(node, "kernel_shape", {2, 2});
  attr_ints(node, "strides", {2, 2});
  attr_int(node, "storage_order", 1);
  auto out = run_op(node, {plane()}, 2);
  const int64_t* idx = out[1].data<int64_t>();
  // Element (h, w) sits at w * 4 + h in column-major order.
  EXPECT_EQ(std::vector<int64_t>(idx, idx + 4), (std::vector<int64_t>{5, 13, 7, 15}));
}

TEST(MaxPool, CeilModeKeepsAPartialLastWindow) {
  auto node = op("MaxPool");
  attr_ints(node, "kernel_shape", {3, 3});
  attr_ints(node, "strides", {2, 2});
  attr_int(node, "ceil_mode", 1);
  Tensor y = run_op(node, {plane()})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values(y), (std::vector<float>{10, 11, 14, 15}));
}

// Without an indices output MaxPool takes the separable path (rows, then columns); with
// one it visits taps one by one. Both must give the same maxima.
TEST(MaxPool, TheSeparablePathMatchesTheTapByTapPath) {
  struct Case {
    Shape x;
    std::vector<int64_t> kernel, strides, dilations, pads;
  };
  const std::vector<Case> cases = {
      {{1, 3, 112, 112}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},
      {{2, 2, 9, 13}, {2, 3}, {1, 2}, {2, 1}, {0, 1, 1, 2}},
      {{1, 1, 5, 7}, {5, 4}, {3, 3}, {1, 1}, {2, 2, 2, 2}},
      {{1, 2, 1, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
  };
  uint32_t seed = 60;
  for (const auto& c : cases) {
    auto node = op("MaxPool");
    attr_ints(node, "kernel_shape", c.kernel);
    attr_ints(node, "strides", c.strides);
    attr_ints(node, "dilations", c.dilations);
    attr_ints(node, "pads", c.pads);
    const Tensor x = test::random_tensor(c.x, seed++);
    const Tensor separable = run_op(node, {x}, 1, 12)[0];
    const Tensor tap_by_tap = run_op(node, {x}, 2, 12)[0];
    EXPECT_TRUE(separable.equals(tap_by_tap)) << shape_to_string(c.x);
  }
}

TEST(MaxPool, WorksOnUint8) {
  auto node = op("MaxPool");
  attr_ints(node, "kernel_shape", {2});
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 3}, {7, 200, 3});
  Tensor y = run_op(node, {x})[0];
  EXPECT_EQ(std::vector<uint8_t>(y.data<uint8_t>(), y.data<uint8_t>() + 2), (std::vector<uint8_t>{200, 200}));
}

TEST(AveragePool, ExcludesPaddingFromTheDivisorUnlessAsked) {
  auto node = op("AveragePool");
  attr_ints(node, "kernel_shape", {2});
  attr_ints(node, "pads", {1, 1});
  Tensor x = Tensor::from_vector<float>({1, 1, 2}, {2, 4});
  EXPECT_EQ(values(run_op(node, {x})[0]), (std::vector<float>{2, 3, 4}));
  attr_int(node, "count_include_pad", 1);
  EXPECT_EQ(values(run_op(node, {x})[0]), (std::vector<float>{1, 3, 2}));
}

TEST(AveragePool, SameUpperPadsAtTheEnd) {
  auto node = op("AveragePool");
  attr_ints(node, "kernel_shape", {2, 2});
  attr_string(node, "auto_pad", "SAME_UPPER");
  Tensor y = run_op(node, {plane()})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_FLOAT_EQ(y.data<float>()[0], 2.5f);    // (0 + 1 + 4 + 5) / 4
  EXPECT_FLOAT_EQ(y.data<float>()[15], 15.0f);  // only the corner is inside
}

TEST(LpPool, TakesThePNormOfEachWindow) {
  auto node = op("LpPool");
  attr_ints(node, "kernel_shape", {2});
  attr_int(node, "p", 2);
  Tensor x = Tensor::from_vector<float>({1, 1, 3}, {3, -4, 12});
  auto y = values(run_op(node, {x})[0]);
  ASSERT_EQ(y.size(), 2u);
  EXPECT_FLOAT_EQ(y[0], 5.0f);
  EXPECT_FLOAT_EQ(y[1], std::sqrt(160.0f));
}

TEST(GlobalPools, ReduceEverySpatialAxisToOne) {
  Tensor x = test::iota_tensor<float>({1, 2, 2, 3});
  Tensor avg = run_op(op("GlobalAveragePool"), {x})[0];
  EXPECT_EQ(avg.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(values(avg), (std::vector<float>{2.5f, 8.5f}));
  EXPECT_EQ(values(run_op(op("GlobalMaxPool"), {x})[0]), (std::vector<float>{5, 11}));
}

TEST(AveragePool, IsBitIdenticalAcrossThreadCounts) {
  auto node = op("AveragePool");
  attr_ints(node, "kernel_shape", {3, 3});
  attr_ints(node, "strides", {2, 2});
  attr_ints(node, "pads", {1, 1, 1, 1});
  Tensor x = test::random_tensor({2, 16, 15, 17}, 5);
  EXPECT_TRUE(run_op(node, {x}, 1, 17, 1)[0].equals(run_op(node, {x}, 1, 17, 3)[0]));
}

TEST(GlobalPools, AverageOfLargeOddSizedPlanesMatchesALongDoubleSum) {
  for (const Shape& shape : {Shape{2, 3, 13, 17}, Shape{1, 2, 7}, Shape{1, 1, 3, 5, 9}, Shape{1, 4, 1, 1}}) {
    const Tensor x = test::random_tensor(shape, 80);
    const Tensor y = run_op(op("GlobalAveragePool"), {x}, 1, 17, 2)[0];
    const int64_t planes = shape[0] * shape[1], size = x.numel() / planes;
    for (int64_t p = 0; p < planes; ++p) {
      long double sum = 0;
      for (int64_t i = 0; i < size; ++i) sum += x.data<float>()[p * size + i];
      EXPECT_NEAR(y.data<float>()[p], static_cast<double>(sum / size), 1e-7) << shape_to_string(shape) << " plane " << p;
    }
  }
}

TEST(MaxPool, RejectsAMissingKernelShape) {
  try {
    run_op(op("MaxPool"), {plane()});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

}  // namespace
}  // namespace onnxq
