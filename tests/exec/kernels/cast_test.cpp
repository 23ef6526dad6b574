#include "exec/kernels/cast.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "exec/kernels/elementwise_test_util.hpp"
#include "onnxq/float16.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

Tensor cast_to(const Tensor& x, DataType to, int64_t opset = 17) {
  auto node = op("Cast");
  attr_int(node, "to", static_cast<int64_t>(to));
  return run_op(node, {x}, 1, opset)[0];
}

TEST(Cast, FloatToIntegerTruncatesTowardZero) {
  Tensor y = cast_to(tensor<float>({4}, {2.7f, -2.7f, 0.2f, -0.2f}), DataType::kInt32);
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{2, -2, 0, 0}));
}

TEST(Cast, OutOfRangeFloatsSaturateAndNaNBecomesZero) {
  Tensor y = cast_to(tensor<float>({4}, {300.0f, -5.0f, NAN, 1e30f}), DataType::kUInt8);
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{255, 0, 0, 255}));
}

TEST(Cast, AnythingNonZeroIsTrue) {
  Tensor y = cast_to(tensor<float>({4}, {0.0f, -0.0f, 0.1f, NAN}), DataType::kBool);
  EXPECT_EQ(y.dtype(), DataType::kBool);
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0, 0, 1, 1}));
  Tensor back = cast_to(y, DataType::kInt64);
  EXPECT_EQ(values<int64_t>(back), (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST(Cast, Float16AndBFloat16RoundTripThroughFloat) {
  Tensor h = cast_to(tensor<float>({2}, {1.0f / 3, 65504.0f}), DataType::kFloat16);
  EXPECT_EQ(h.storage<uint16_t>()[0], float_to_half(1.0f / 3));
  Tensor b = cast_to(h, DataType::kBFloat16);
  EXPECT_EQ(bfloat16_to_float(b.storage<uint16_t>()[1]), 65536.0f);  // 8 significant bits
  Tensor i = cast_to(h, DataType::kInt16);
  EXPECT_EQ(values<int16_t>(i), (std::vector<int16_t>{0, 32767}));
}

TEST(Cast, IntegersNarrowModulo) {
  Tensor y = cast_to(tensor<int32_t>({3}, {257, -1, 128}), DataType::kInt8);
  EXPECT_EQ(values<int8_t>(y), (std::vector<int8_t>{1, -1, -128}));
}

TEST(Cast, CastLikeTakesTheTypeOfItsSecondInput) {
  Tensor y = run_op(op("CastLike"), {tensor<double>({2}, {1.5, -2.5}), tensor<int64_t>({}, {0})}, 1, 15)[0];
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, -2}));
}

TEST(Cast, StringTargetsAreUnsupported) {
  try {
    cast_to(tensor<float>({1}, {1}), DataType::kString);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUnsupported);
  }
}

}  // namespace
}  // namespace onnxq::test
