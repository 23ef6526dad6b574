#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(ScatterElements, LastDuplicateWinsWithoutAReduction) {
  auto node = op("ScatterElements");
  attr_int(node, "axis", 1);
  Tensor y = run_op(node, {Tensor(DataType::kFloat, {1, 3}), ints({1, 2}, {-1, 2}), floats({1, 2}, {5, 7})})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 0, 7}));
}

TEST(ScatterElements, AddAccumulatesDuplicates) {
  auto node = op("ScatterElements");
  attr_string(node, "reduction", "add");
  Tensor y = run_op(node, {floats({3}, {1, 1, 1}), ints({0, 0, 2}), floats({3}, {2, 3, 4})}, 1, 16)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{6, 1, 5}));
}

TEST(ScatterElements, MaxAndMinArriveAtOpset18) {
  auto node = op("ScatterElements");
  attr_string(node, "reduction", "max");
  Tensor y = run_op(node, {floats({2}, {1, 1}), ints({0, 1}), floats({2}, {3, -3})}, 1, 18)[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{3, 1}));
  EXPECT_EQ(error_code([&] { run_op(node, {floats({2}, {1, 1}), ints({0, 1}), floats({2}, {3, -3})}, 1, 16); }),
            ExitCode::kInput);
}

TEST(ScatterElements, OutOfRangeIndexIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("ScatterElements"), {floats({2}, {1, 1}), ints({2}), floats({1}, {3})}); }),
            ExitCode::kInput);
}

TEST(ScatterND, WritesWholeSlicesAndMultipliesWithMul) {
  Tensor y = run_op(op("ScatterND"), {iota_tensor({2, 2}), ints({1, 1}, {1}), floats({1, 2}, {9, 8})})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 1, 9, 8}));
  auto mul = op("ScatterND");
  attr_string(mul, "reduction", "mul");
  Tensor z = run_op(mul, {iota_tensor({2, 2}), ints({2, 2}, {1, 1, 1, 1}), floats({2}, {2, 5})}, 1, 16)[0];
  EXPECT_EQ(values<float>(z), (std::vector<float>{0, 1, 2, 30}));
}

}  // namespace
}  // namespace onnxq::test
