#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Constant, ReturnsItsValueAttribute) {
  auto node = op("Constant");
  attr_tensor(node, "value", iota_tensor({2}, 3.0f));
  EXPECT_EQ(values<float>(run_op(node, {})[0]), (std::vector<float>{3, 4}));
  auto ints_node = op("Constant");
  attr_ints(ints_node, "value_ints", {5, 6});
  EXPECT_EQ(values<int64_t>(run_op(ints_node, {})[0]), (std::vector<int64_t>{5, 6}));
}

TEST(Constant, WithoutExactlyOneValueIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("Constant"), {}); }), ExitCode::kInput);
}

TEST(ConstantOfShape, FillsWithTheValueType) {
  auto node = op("ConstantOfShape");
  attr_tensor(node, "value", Tensor::from_vector<int32_t>({1}, {7}));
  Tensor y = run_op(node, {ints({2, 3})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<int32_t>(y), std::vector<int32_t>(6, 7));
  Tensor zeros = run_op(op("ConstantOfShape"), {ints({2, 0})})[0];
  EXPECT_EQ(zeros.dtype(), DataType::kFloat);
  EXPECT_EQ(zeros.shape(), (Shape{2, 0}));
}

TEST(Range, CountsUpOrDownAndExcludesTheLimit) {
  auto i32 = [](int32_t v) { return Tensor::from_vector<int32_t>({}, {v}); };
  EXPECT_EQ(values<int32_t>(run_op(op("Range"), {i32(10), i32(4), i32(-3)})[0]), (std::vector<int32_t>{10, 7}));
  auto f = [](float v) { return floats({}, {v}); };
  EXPECT_EQ(values<float>(run_op(op("Range"), {f(1), f(2), f(0.25f)})[0]), (std::vector<float>{1, 1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(run_op(op("Range"), {f(1), f(0), f(1)})[0].shape(), (Shape{0}));
}

TEST(EyeLike, PutsOnesOnTheShiftedDiagonal) {
  auto node = op("EyeLike");
  attr_int(node, "k", -1);
  attr_int(node, "dtype", 6);  // int32
  Tensor y = run_op(node, {Tensor(DataType::kFloat, {3, 2})})[0];
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{0, 0, 1, 0, 0, 1}));
}

TEST(OneHot, AxisPlacesTheDepthAndOutOfRangeIndicesStayOff) {
  auto node = op("OneHot");
  attr_int(node, "axis", 0);
  Tensor y = run_op(node, {ints({-1, 5}), floats({}, {3}), floats({2}, {0, 2})})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 0, 0, 0, 2, 0}));
}

}  // namespace
}  // namespace onnxq::test
