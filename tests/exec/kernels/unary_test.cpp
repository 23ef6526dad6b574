#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "exec/kernels/elementwise_test_util.hpp"
#include "onnxq/float16.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

Tensor run1(const char* op_type, const Tensor& x) { return run_op(op(op_type), {x})[0]; }

TEST(Unary, RoundTiesGoToEven) {
  Tensor y = run1("Round", tensor<float>({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.3f}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 2, 2, -0.0f, -2, 2}));
}

TEST(Unary, AbsAndNegWrapTheMostNegativeInteger) {
  const int8_t lo = std::numeric_limits<int8_t>::min();
  EXPECT_EQ(values<int8_t>(run1("Abs", tensor<int8_t>({3}, {-3, 4, lo}))), (std::vector<int8_t>{3, 4, lo}));
  EXPECT_EQ(values<int8_t>(run1("Neg", tensor<int8_t>({3}, {-3, 4, lo}))), (std::vector<int8_t>{3, -4, lo}));
}

TEST(Unary, SignKeepsZeroAndNaN) {
  Tensor y = run1("Sign", tensor<float>({4}, {-2.0f, 0.0f, 3.0f, NAN}));
  auto v = values<float>(y);
  EXPECT_EQ(v[0], -1.0f);
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_TRUE(std::isnan(v[3]));
  EXPECT_EQ(values<int32_t>(run1("Sign", tensor<int32_t>({3}, {-7, 0, 9}))), (std::vector<int32_t>{-1, 0, 1}));
}

TEST(Unary, MathFunctionsMatchTheStandardLibrary) {
  Tensor x = tensor<double>({3}, {0.25, 0.5, 0.75});
  EXPECT_DOUBLE_EQ(values<double>(run1("Exp", x))[1], std::exp(0.5));
  EXPECT_DOUBLE_EQ(values<double>(run1("Atanh", x))[2], std::atanh(0.75));
  EXPECT_DOUBLE_EQ(values<double>(run1("Erf", x))[0], std::erf(0.25));
  EXPECT_DOUBLE_EQ(values<double>(run1("Reciprocal", x))[0], 4.0);
}

TEST(Unary, Float16IsComputedInFloatAndRoundedBack) {
  Tensor x(DataType::kFloat16, {2});
  x.storage<uint16_t>()[0] = float_to_half(4.0f);
  x.storage<uint16_t>()[1] = float_to_half(-9.0f);
  Tensor y = run1("Sqrt", x);
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_EQ(half_to_float(y.storage<uint16_t>()[0]), 2.0f);
  EXPECT_TRUE(std::isnan(half_to_float(y.storage<uint16_t>()[1])));
}

TEST(Unary, IsInfDetectsOnlyTheRequestedSigns) {
  Tensor x = tensor<float>({4}, {INFINITY, -INFINITY, NAN, 1.0f});
  EXPECT_EQ(values<uint8_t>(run1("IsInf", x)), (std::vector<uint8_t>{1, 1, 0, 0}));
  auto node = op("IsInf");
  attr_int(node, "detect_positive", 0);
  Tensor y = run_op(node, {x})[0];
  EXPECT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(run1("IsNaN", x)), (std::vector<uint8_t>{0, 0, 1, 0}));
}

TEST(Unary, NotAndBitwiseNotFlipBits) {
  EXPECT_EQ(values<uint8_t>(run1("Not", bool_tensor({2}, {1, 0}))), (std::vector<uint8_t>{0, 1}));
  Tensor y = run_op(op("BitwiseNot"), {tensor<uint8_t>({2}, {0, 0x0f})}, 1, 18)[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0xff, 0xf0}));
}

TEST(Unary, FloatOnlyOpsRefuseIntegers) {
  try {
    run1("Exp", tensor<int32_t>({1}, {1}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
}

}  // namespace
}  // namespace onnxq::test
