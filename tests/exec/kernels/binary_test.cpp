#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "exec/kernels/elementwise_test_util.hpp"
#include "onnxq/float16.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

Tensor run2(const char* op_type, const Tensor& a, const Tensor& b, int64_t opset = 17) {
  return run_op(op(op_type), {a, b}, 1, opset)[0];
}

TEST(Binary, AddBroadcastsABiasOverChannels) {
  Tensor x = tensor<float>({1, 2, 2}, {1, 2, 3, 4});
  Tensor bias = tensor<float>({2, 1}, {10, 20});
  Tensor y = run2("Add", x, bias);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{11, 12, 23, 24}));
}

TEST(Binary, IntegerDivisionTruncatesTowardZero) {
  Tensor y = run2("Div", tensor<int32_t>({4}, {7, -7, 7, -7}), tensor<int32_t>({4}, {2, 2, -2, -2}));
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{3, -3, -3, 3}));
}

TEST(Binary, IntegerDivisionByZeroIsAnInputError) {
  try {
    run2("Div", tensor<int64_t>({1}, {1}), tensor<int64_t>({1}, {0}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(Binary, IntegerArithmeticWraps) {
  Tensor y = run2("Mul", tensor<uint16_t>({1}, {65535}), tensor<uint16_t>({1}, {65535}));
  EXPECT_EQ(values<uint16_t>(y), (std::vector<uint16_t>{1}));
  Tensor z = run2("Add", tensor<uint8_t>({1}, {250}), tensor<uint8_t>({1}, {10}));
  EXPECT_EQ(values<uint8_t>(z), (std::vector<uint8_t>{4}));
}

TEST(Binary, MismatchedElementTypesAreAnInputError) {
  try {
    run2("Add", tensor<float>({1}, {1}), tensor<double>({1}, {1}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
  }
}

TEST(Binary, LegacyBroadcastAlignsBAtAxis) {
  auto node = op("Add");
  attr_int(node, "broadcast", 1);
  attr_int(node, "axis", 0);
  Tensor a = tensor<float>({2, 3}, {0, 0, 0, 0, 0, 0});
  Tensor b = tensor<float>({2}, {1, 2});
  Tensor y = run_op(node, {a, b}, 1, 6)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 1, 1, 2, 2, 2}));
}

TEST(Binary, ModFollowsTheDivisorSignUnlessFmod) {
  Tensor a = tensor<int32_t>({4}, {7, -7, 7, -7});
  Tensor b = tensor<int32_t>({4}, {3, 3, -3, -3});
  EXPECT_EQ(values<int32_t>(run2("Mod", a, b)), (std::vector<int32_t>{1, 2, -2, -1}));
  auto node = op("Mod");
  attr_int(node, "fmod", 1);
  EXPECT_EQ(values<int32_t>(run_op(node, {a, b})[0]), (std::vector<int32_t>{1, -1, 1, -1}));
  Tensor f = run_op(node, {tensor<float>({2}, {-7.5f, 7.5f}), tensor<float>({2}, {2, 2})})[0];
  EXPECT_EQ(values<float>(f), (std::vector<float>{-1.5f, 1.5f}));
}

TEST(Binary, PowMixesBaseAndExponentTypes) {
  Tensor y = run2("Pow", tensor<float>({2}, {2, 9}), tensor<int64_t>({2}, {3, 0}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{8, 1}));
  Tensor z = run2("Pow", tensor<int32_t>({2}, {2, 9}), tensor<float>({2}, {3, 0.5f}));
  EXPECT_EQ(z.dtype(), DataType::kInt32);
  EXPECT_EQ(values<int32_t>(z), (std::vector<int32_t>{8, 3}));
  Tensor w = run2("Pow", tensor<int64_t>({3}, {3, -1, 2}), tensor<int64_t>({3}, {4, 3, -1}));
  EXPECT_EQ(values<int64_t>(w), (std::vector<int64_t>{81, -1, 0}));
}

TEST(Binary, VariadicMaxAndMeanBroadcastAllInputs) {
  Tensor a = tensor<float>({2}, {1, 5});
  Tensor b = tensor<float>({2, 1}, {3, 0});
  Tensor c = tensor<float>({}, {2});
  Tensor mx = run_op(op("Max"), {a, b, c})[0];
  EXPECT_EQ(values<float>(mx), (std::vector<float>{3, 5, 2, 5}));
  Tensor mean = run_op(op("Mean"), {a, b, c})[0];
  EXPECT_EQ(values<float>(mean), (std::vector<float>{2, 10.0f / 3, 1, 7.0f / 3}));
  Tensor one = run_op(op("Sum"), {a})[0];
  EXPECT_EQ(values<float>(one), (std::vector<float>{1, 5}));
}

TEST(Binary, MaxPropagatesNaN) {
  Tensor y = run_op(op("Max"), {tensor<float>({2}, {NAN, 1}), tensor<float>({2}, {0, NAN})})[0];
  EXPECT_TRUE(std::isnan(values<float>(y)[0]));
  EXPECT_TRUE(std::isnan(values<float>(y)[1]));
}

TEST(Binary, MinOfFloat16KeepsTheType) {
  Tensor a(DataType::kFloat16, {2}), b(DataType::kFloat16, {2});
  a.storage<uint16_t>()[0] = float_to_half(1.5f);
  a.storage<uint16_t>()[1] = float_to_half(-2.0f);
  b.storage<uint16_t>()[0] = float_to_half(0.25f);
  b.storage<uint16_t>()[1] = float_to_half(3.0f);
  Tensor y = run_op(op("Min"), {a, b})[0];
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  EXPECT_EQ(half_to_float(y.storage<uint16_t>()[0]), 0.25f);
  EXPECT_EQ(half_to_float(y.storage<uint16_t>()[1]), -2.0f);
}

TEST(Binary, ComparisonsGiveBool) {
  Tensor a = tensor<int64_t>({3}, {1, 2, 3});
  Tensor b = tensor<int64_t>({}, {2});
  Tensor lt = run2("Less", a, b);
  EXPECT_EQ(lt.dtype(), DataType::kBool);
  EXPECT_EQ(values<uint8_t>(lt), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(run2("GreaterOrEqual", a, b)), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(values<uint8_t>(run2("Equal", a, b)), (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(values<uint8_t>(run2("Equal", bool_tensor({2}, {1, 0}), bool_tensor({2}, {1, 1}))),
            (std::vector<uint8_t>{1, 0}));
}

TEST(Binary, LogicOpsCombineBools) {
  Tensor a = bool_tensor({4}, {0, 0, 1, 1});
  Tensor b = bool_tensor({4}, {0, 1, 0, 1});
  EXPECT_EQ(values<uint8_t>(run2("And", a, b)), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(values<uint8_t>(run2("Or", a, b)), (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(values<uint8_t>(run2("Xor", a, b)), (std::vector<uint8_t>{0, 1, 1, 0}));
}

TEST(Binary, BitShiftPastTheWidthGivesZero) {
  auto node = op("BitShift");
  attr_string(node, "direction", "LEFT");
  Tensor y = run_op(node, {tensor<uint8_t>({3}, {1, 3, 1}), tensor<uint8_t>({3}, {7, 1, 8})}, 1, 11)[0];
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{128, 6, 0}));
  Tensor w = run_op(op("BitwiseXor"), {tensor<int16_t>({1}, {0x0ff0}), tensor<int16_t>({1}, {0x00ff})}, 1, 18)[0];
  EXPECT_EQ(values<int16_t>(w), (std::vector<int16_t>{0x0f0f}));
}

}  // namespace
}  // namespace onnxq::test
