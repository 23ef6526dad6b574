#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Gather, IndicesShapeReplacesTheAxis) {
  auto node = op("Gather");
  attr_int(node, "axis", 1);
  Tensor y = run_op(node, {iota_tensor({2, 3}), ints({1, 2}, {2, -3})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{2, 0, 5, 3}));
}

TEST(Gather, OutOfRangeIndexIsAnInputErrorNamingTheOp) {
  try {
    run_op(op("Gather"), {iota_tensor({3}), ints({3})});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInput);
    EXPECT_NE(std::string(e.what()).find("Gather"), std::string::npos);
  }
}

TEST(Gather, EmbeddingRowsAreTheSameForAnyThreadCount) {
  const Tensor table = random_tensor({1000, 64}, 5);
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < 3000; ++i) ids.push_back((i * 7919) % 1000);
  const Tensor indices = ints({3, 1000}, ids);
  const Tensor one = run_op(op("Gather"), {table, indices}, 1, 17, 1)[0];
  EXPECT_EQ(one.shape(), (Shape{3, 1000, 64}));
  EXPECT_EQ(one.data<float>()[64 * 5 + 3], table.data<float>()[64 * ids[5] + 3]);
  EXPECT_TRUE(run_op(op("Gather"), {table, indices}, 1, 17, 4)[0].equals(one));
}

TEST(GatherElements, PicksAlongTheAxisWithNegativeIndicesWrapping) {
  auto node = op("GatherElements");
  attr_int(node, "axis", 1);
  Tensor y = run_op(node, {iota_tensor({2, 3}), ints({2, 2}, {2, 0, -1, 1})})[0];
  EXPECT_EQ(values<float>(y), (std::vector<float>{2, 0, 5, 4}));
}

TEST(GatherND, TuplesIndexLeadingDimsWithinEachBatch) {
  auto node = op("GatherND");
  attr_int(node, "batch_dims", 1);
  // data[b][i][j] = 4b + 2i + j; each batch picks one (i, j).
  Tensor y = run_op(node, {iota_tensor({2, 2, 2}), ints({2, 2}, {0, 1, 1, 0})})[0];
  EXPECT_EQ(y.shape(), (Shape{2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 6}));
  Tensor rows = run_op(op("GatherND"), {iota_tensor({2, 2, 2}), ints({2, 1}, {1, 0})})[0];
  EXPECT_EQ(values<float>(rows), (std::vector<float>{4, 5, 6, 7, 0, 1, 2, 3}));
}

TEST(GatherND, OutOfRangeIndexIsAnInputError) {
  EXPECT_EQ(error_code([] { run_op(op("GatherND"), {iota_tensor({2, 2}), ints({1, 2}, {0, 2})}); }), ExitCode::kInput);
}

TEST(Compress, KeepsSelectedSlicesOrFlattensWithoutAnAxis) {
  uint8_t mask[] = {0, 1, 1};
  const Tensor cond = Tensor::from_bytes(DataType::kBool, {3}, mask, 3);
  auto node = op("Compress");
  attr_int(node, "axis", 1);
  EXPECT_EQ(values<float>(run_op(node, {iota_tensor({2, 3}), cond})[0]), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(values<float>(run_op(op("Compress"), {iota_tensor({2, 3}), cond})[0]), (std::vector<float>{1, 2}));
}

}  // namespace
}  // namespace onnxq::test
