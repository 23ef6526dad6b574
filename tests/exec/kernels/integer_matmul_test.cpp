#include <gtest/gtest.h>

#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

template <class T>
Tensor scalar_of(T v) { return Tensor::from_vector<T>({}, {v}); }

TEST(MatMulInteger, SubtractsPerTensorAAndPerColumnBZeroPoints) {
  const Tensor a = Tensor::from_vector<uint8_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::from_vector<int8_t>({3, 2}, {1, -1, 2, 0, 3, 1});
  const auto y = run_op(op("MatMulInteger"), {a, b, scalar_of<uint8_t>(1), Tensor::from_vector<int8_t>({2}, {0, 1})}, 1, 10);
  // (A - 1) = [[0, 1, 2], [3, 4, 5]], (B - [0, 1]) = [[1, -2], [2, -1], [3, 0]].
  EXPECT_EQ(y[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values<int32_t>(y[0]), (std::vector<int32_t>{8, -1, 26, -10}));
}

TEST(MatMulInteger, AppliesPerRowAZeroPointsAndBroadcastsBatches) {
  // A [2, 1, 2] by B [2, 1]: the batch broadcasts over B; a_zero_point per row of each matrix.
  const Tensor a = Tensor::from_vector<uint8_t>({2, 1, 2}, {3, 4, 5, 6});
  const Tensor b = Tensor::from_vector<uint8_t>({2, 1}, {1, 2});
  const auto y = run_op(op("MatMulInteger"), {a, b, Tensor::from_vector<uint8_t>({2, 1, 1}, {1, 5})}, 1, 10);
  EXPECT_EQ(y[0].shape(), (Shape{2, 1, 1}));
  EXPECT_EQ(values<int32_t>(y[0]), (std::vector<int32_t>{2 * 1 + 3 * 2, 0 * 1 + 1 * 2}));
}

TEST(QLinearMatMul, RequantizesWithTiesToEven) {
  // acc = 2 + 3 = 5; 5 * 0.5 / 1 = 2.5 -> 2; with y_zero_point 10 -> 12.
  const Tensor a = Tensor::from_vector<uint8_t>({1, 2}, {2, 3});
  const Tensor b = Tensor::from_vector<uint8_t>({2, 1}, {1, 1});
  const auto y = run_op(op("QLinearMatMul"), {a, scalar_of<float>(0.5f), scalar_of<uint8_t>(0), b, scalar_of<float>(1.0f),
                                              scalar_of<uint8_t>(0), scalar_of<float>(1.0f), scalar_of<uint8_t>(10)}, 1, 10);
  EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{12}));
}

TEST(QLinearMatMul, UsesPerColumnWeightScalesAndSaturates) {
  // acc = [100, 100]; scales 1 and 4 -> 100 and 400 -> 127 (int8).
  const Tensor a = Tensor::from_vector<int8_t>({1, 1}, {10});
  const Tensor b = Tensor::from_vector<int8_t>({1, 2}, {10, 10});
  const auto y = run_op(op("QLinearMatMul"), {a, scalar_of<float>(1.0f), scalar_of<int8_t>(0), b,
                                              Tensor::from_vector<float>({2}, {1.0f, 4.0f}), Tensor::from_vector<int8_t>({2}, {0, 0}),
                                              scalar_of<float>(1.0f), scalar_of<int8_t>(0)}, 1, 10);
  EXPECT_EQ(values<int8_t>(y[0]), (std::vector<int8_t>{100, 127}));
}

TEST(DynamicQuantizeMatMul, QuantizesAToUint8AndScalesTheProduct) {
  // A in [0, 2.55] quantizes to [0, 255] with scale 0.01; B = [1, 2] * 0.5; plus bias 1.
  const Tensor a = Tensor::from_vector<float>({1, 2}, {0.0f, 2.55f});
  const Tensor b = Tensor::from_vector<int8_t>({2, 1}, {1, 2});
  const auto y = run_op(op("DynamicQuantizeMatMul", "com.microsoft"),
                        {a, b, scalar_of<float>(0.5f), scalar_of<int8_t>(0), Tensor::from_vector<float>({1}, {1.0f})}, 1, 1);
  ASSERT_EQ(y[0].shape(), (Shape{1, 1}));
  EXPECT_NEAR(y[0].data<float>()[0], 255 * 2 * 0.01f * 0.5f + 1.0f, 1e-5);
}

onnx::NodeProto nbits_node(int64_t k, int64_t n) {
  auto node = op("MatMulNBits", "com.microsoft");
  attr_int(node, "K", k);
  attr_int(node, "N", n);
  attr_int(node, "bits", 4);
  attr_int(node, "block_size", 16);
  return node;
}

TEST(MatMulNBits, ReadsLowNibbleFirstWithDefaultZeroPointEight) {
  // One block of 16: element 0 = 0xF (15), element 1 = 0x1, the rest 8 (zero after the offset).
  std::vector<uint8_t> blob(8, 0x88);
  blob[0] = 0x1F;
  const Tensor b = Tensor::from_bytes(DataType::kUInt8, {1, 1, 8}, blob.data(), blob.size());
  std::vector<float> av(16, 0.0f);
  av[0] = 1.0f;
  av[1] = 10.0f;
  const auto y = run_op(nbits_node(16, 1), {Tensor::from_vector<float>({1, 16}, av), b, Tensor::from_vector<float>({1}, {2.0f})}, 1, 1);
  // (15 - 8) * 2 * 1 + (1 - 8) * 2 * 10 = 14 - 140.
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{-126.0f}));
}

TEST(MatMulNBits, UsesPackedZeroPointsAndBias) {
  std::vector<uint8_t> blob(8, 0x99);  // every element 9
  const Tensor b = Tensor::from_bytes(DataType::kUInt8, {1, 1, 8}, blob.data(), blob.size());
  const Tensor a = Tensor::from_vector<float>({1, 16}, std::vector<float>(16, 1.0f));
  const Tensor zp = Tensor::from_vector<uint8_t>({1}, {0x07});
  const auto y = run_op(nbits_node(16, 1), {a, b, Tensor::from_vector<float>({1}, {0.5f}), zp, Tensor(), Tensor::from_vector<float>({1}, {3.0f})}, 1, 1);
  // 16 * (9 - 7) * 0.5 + 3.
  EXPECT_EQ(values<float>(y[0]), (std::vector<float>{19.0f}));
}

}  // namespace
}  // namespace onnxq::test
