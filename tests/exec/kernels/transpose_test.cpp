#include <gtest/gtest.h>

#include "exec/kernels/shape_test_util.hpp"
#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

TEST(Transpose, DefaultReversesTheAxes) {
  Tensor y = run_op(op("Transpose"), {iota_tensor({2, 3})})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Transpose, GenericPermutationMovesEachElement) {
  auto node = op("Transpose");
  attr_ints(node, "perm", {1, 2, 0});
  Tensor y = run_op(node, {iota_tensor<int32_t>({2, 2, 3})})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  // y[i][j][k] = x[k][i][j] = 6k + 3i + j
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
}

// A naive transpose to check the tiled and coalesced paths against.
Tensor naive_transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(x.shape()[static_cast<size_t>(p)]);
  Tensor y(x.dtype(), out_shape);
  const size_t rank = perm.size();
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t i = rank - 1; i > 0; --i) in_strides[i - 1] = in_strides[i] * x.shape()[i];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t e = 0; e < y.numel(); ++e) {
    int64_t off = 0;
    for (size_t k = 0; k < rank; ++k) off += idx[k] * in_strides[static_cast<size_t>(perm[k])];
    y.data<float>()[e] = x.data<float>()[off];
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < out_shape[k]) break;
      idx[k] = 0;
    }
  }
  return y;
}

TEST(Transpose, LayoutChangesAgreeWithANaiveTransposeForAnyThreadCount) {
  const Tensor x = random_tensor({2, 37, 19, 33}, 7);
  for (std::vector<int64_t> perm : {std::vector<int64_t>{0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 2, 3}, {3, 2, 1, 0}, {0, 1, 3, 2}}) {
    auto node = op("Transpose");
    attr_ints(node, "perm", perm);
    const Tensor want = naive_transpose(x, perm);
    for (int threads : {1, 3})
      EXPECT_TRUE(run_op(node, {x}, 1, 17, threads)[0].equals(want)) << perm[1] << perm[2] << perm[3] << " threads " << threads;
  }
}

TEST(Transpose, PermOfTheWrongLengthIsAnInputError) {
  auto node = op("Transpose");
  attr_ints(node, "perm", {0, 1});
  EXPECT_EQ(error_code([&] { run_op(node, {iota_tensor({2, 2, 2})}); }), ExitCode::kInput);
}

TEST(DepthToSpace, DcrAndCrdOrderTheChannelsDifferently) {
  // Four channels of one pixel each become a 2x2 block.
  const Tensor x = iota_tensor({1, 4, 1, 1});
  auto dcr = op("DepthToSpace");
  attr_int(dcr, "blocksize", 2);
  Tensor y = run_op(dcr, {x})[0];
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{0, 1, 2, 3}));
  // With 8 channels: DCR takes the block offset from the outer channel bits, CRD from the inner.
  const Tensor x8 = iota_tensor({1, 8, 1, 1});
  EXPECT_EQ(values<float>(run_op(dcr, {x8})[0]), (std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7}));
  auto crd = op("DepthToSpace");
  attr_int(crd, "blocksize", 2);
  attr_string(crd, "mode", "CRD");
  EXPECT_EQ(values<float>(run_op(crd, {x8})[0]), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(SpaceToDepth, UndoesDepthToSpace) {
  const Tensor x = random_tensor({2, 8, 3, 5}, 3);
  auto d2s = op("DepthToSpace");
  attr_int(d2s, "blocksize", 2);
  auto s2d = op("SpaceToDepth");
  attr_int(s2d, "blocksize", 2);
  Tensor back = run_op(s2d, {run_op(d2s, {x})[0]})[0];
  EXPECT_TRUE(back.equals(x));
}

TEST(SpaceToDepth, SpatialDimsNotDivisibleByTheBlockAreAnInputError) {
  auto node = op("SpaceToDepth");
  attr_int(node, "blocksize", 2);
  EXPECT_EQ(error_code([&] { run_op(node, {iota_tensor({1, 1, 3, 4})}); }), ExitCode::kInput);
}

}  // namespace
}  // namespace onnxq::test
