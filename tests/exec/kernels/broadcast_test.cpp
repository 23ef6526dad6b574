#include "exec/broadcast.hpp"

#include <gtest/gtest.h>

#include "exec/kernels/elementwise_test_util.hpp"
#include "support/graph_builder.hpp"

namespace onnxq::exec {
namespace {

using test::values;

TEST(Broadcast, ShapesAlignFromTheRightAndStretchOnes) {
  EXPECT_EQ(broadcast_shape({{2, 1, 4}, {3, 1}}, "t"), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shape({{}, {5}}, "t"), (Shape{5}));
  EXPECT_EQ(broadcast_shape({{0, 1}, {1, 3}}, "t"), (Shape{0, 3}));
  EXPECT_EQ(broadcast_shape({{2, 1}, {1, 3}, {4, 1, 1}}, "t"), (Shape{4, 2, 3}));
}

TEST(Broadcast, MismatchedDimsAreAnInputErrorNamingTheOp) {
  try {
    broadcast_shape({{2, 3}, {4}}, "Add");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("Add"), std::string::npos);
  }
}

TEST(Broadcast, RowPlusColumnAddsEveryPair) {
  Tensor a = test::tensor<int32_t>({2, 1}, {10, 20});
  Tensor b = test::tensor<int32_t>({3}, {1, 2, 3});
  Tensor y(DataType::kInt32, {2, 3});
  broadcast_binary<int32_t, int32_t, int32_t>(a, b, y, 1, [](int32_t x, int32_t z) { return x + z; });
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{11, 12, 13, 21, 22, 23}));
}

TEST(Broadcast, MergedDimsWalkRunsInOrder) {
  // [2,3,4] with [3,1]: the last dim repeats b, so runs are 4 long with b's step 0.
  const Shape a{2, 3, 4}, b{3, 1}, out{2, 3, 4};
  const Shape* shapes[] = {&a, &b};
  const BroadcastPlan plan(shapes, out);
  std::vector<int64_t> seen_b;
  plan.for_each_run<2>(2, 14, [&](int64_t o, const auto& off, const auto& step, int64_t n) {
    EXPECT_EQ(off[0], o);
    EXPECT_EQ(step[0], 1);
    EXPECT_EQ(step[1], 0);
    for (int64_t i = 0; i < n; ++i) seen_b.push_back(off[1]);
  });
  EXPECT_EQ(seen_b, (std::vector<int64_t>{0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0}));
}

TEST(Broadcast, ApplyTakesThreeInputsOfDifferentTypes) {
  Tensor c = test::bool_tensor({2, 1}, {1, 0});
  Tensor x = test::tensor<float>({3}, {1, 2, 3});
  Tensor y = test::tensor<float>({}, {-1});
  Tensor out(DataType::kFloat, {2, 3});
  broadcast_apply<float, uint8_t, float, float>({&c, &x, &y}, out, 1,
                                                [](uint8_t k, float a, float b) { return k ? a : b; });
  EXPECT_EQ(values<float>(out), (std::vector<float>{1, 2, 3, -1, -1, -1}));
}

TEST(Broadcast, LargeOutputsAreTheSameForAnyThreadCount) {
  Tensor a = test::random_tensor({3, 70000}, 1);
  Tensor b = test::random_tensor({70000}, 2);
  auto run = [&](int threads) {
    Tensor y(DataType::kFloat, {3, 70000});
    broadcast_binary<float, float, float>(a, b, y, threads, [](float x, float z) { return x * z + 1.0f; });
    return y;
  };
  Tensor one = run(1), four = run(4);
  EXPECT_TRUE(one.equals(four));
  EXPECT_EQ(one.data<float>()[70001], a.data<float>()[70001] * b.data<float>()[1] + 1.0f);
}

TEST(Broadcast, CopyRepeatsTheInputAlongNewDims) {
  Tensor x = test::tensor<int64_t>({2, 1}, {5, 6});
  Tensor out(DataType::kInt64, {2, 2, 3});
  broadcast_copy<int64_t>(x, out, 1);
  EXPECT_EQ(values<int64_t>(out), (std::vector<int64_t>{5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6}));
}

}  // namespace
}  // namespace onnxq::exec
