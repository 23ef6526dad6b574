// The quantization kernels against ONNX Runtime itself: each case builds a one-node model
// (input 0 fed at run time, the rest initializers, as quantized models have them), runs it
// in ONNX Runtime and in the kernel, and requires integer outputs to be identical.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"
#include "support/ort_oracle.hpp"
#include "support/temp_dir.hpp"

namespace onnxq::test {
namespace {

struct Input {
  std::string name;
  Tensor value;  // undefined: an absent optional input
};

// Uniform random integers of an 8-bit type.
Tensor random_ints(DataType type, Shape shape, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  Tensor t(type, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int v = lo + static_cast<int>(rng() % static_cast<uint32_t>(hi - lo + 1));
    if (type == DataType::kUInt8) t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else t.data<int8_t>()[i] = static_cast<int8_t>(v);
  }
  return t;
}

template <class T>
Tensor scalar_of(T v) { return Tensor::from_vector<T>({}, {v}); }

class QuantVsOrt : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node is not installed";
  }

  // Runs `node` (attributes set, no inputs/outputs) both ways; float outputs may differ by
  // `tolerance` relative to their largest magnitude, integer ones not at all.
  void compare(onnx::NodeProto node, int64_t opset, const std::vector<Input>& inputs,
               const std::vector<DataType>& output_types, float tolerance = 0.0f) {
    GraphBuilder g(node.domain().empty() ? opset : 17);
    if (!node.domain().empty()) g.opset(node.domain(), opset);
    std::vector<std::string> in_names, out_names;
    std::map<std::string, Tensor> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].value.defined()) {
        in_names.push_back("");
        continue;
      }
      in_names.push_back(inputs[i].name);
      if (i == 0) {
        const Tensor& v = inputs[i].value;
        std::vector<Dim> dims(v.shape().begin(), v.shape().end());
        g.input(inputs[i].name, v.dtype(), dims);
        feeds[inputs[i].name] = v;
      } else {
        g.initializer(inputs[i].name, inputs[i].value);
      }
    }
    for (size_t o = 0; o < output_types.size(); ++o) {
      out_names.push_back("y" + std::to_string(o));
      g.output(out_names.back(), output_types[o]);
    }
    onnx::NodeProto& n = g.node(node.op_type(), in_names, out_names, "node", node.domain());
    for (const auto& a : node.attribute()) *n.add_attribute() = a;
    Model model = g.model();
    model.save(dir_ / "model.onnx");
    const OrtResult ort = run_in_onnxruntime(dir_ / "model.onnx", feeds);

    std::vector<Tensor> values;
    for (const auto& in : inputs) values.push_back(in.value);
    for (int threads : {1, 2}) {
      const std::vector<Tensor> ours = run_op(node, values, output_types.size(), opset, threads);
      for (size_t o = 0; o < output_types.size(); ++o) {
        const Tensor& expected = ort.outputs.at(out_names[o]);
        const Tensor& actual = ours[o];
        ASSERT_EQ(actual.dtype(), expected.dtype()) << "output " << o;
        ASSERT_EQ(actual.shape(), expected.shape()) << "output " << o;
        if (actual.dtype() != DataType::kFloat) {
          int64_t mismatches = 0, first = -1;
          for (size_t b = 0; b < actual.nbytes(); ++b)
            if (actual.bytes()[b] != expected.bytes()[b] && mismatches++ == 0) first = static_cast<int64_t>(b);
          EXPECT_EQ(mismatches, 0) << "output " << o << " first differing byte " << first;
          continue;
        }
        float peak = 0.0f;
        for (int64_t i = 0; i < expected.numel(); ++i) peak = std::max(peak, std::fabs(expected.data<float>()[i]));
        for (int64_t i = 0; i < expected.numel(); ++i)
          ASSERT_NEAR(actual.data<float>()[i], expected.data<float>()[i], tolerance * std::max(peak, 1.0f))
              << "output " << o << " element " << i;
      }
    }
  }

  TempDir dir_;
};

TEST_F(QuantVsOrt, QuantizeLinearPerAxisInt8) {
  auto node = op("QuantizeLinear");
  attr_int(node, "axis", 1);
  compare(node, 13,
          {{"x", random_tensor({2, 3, 50}, 1, -3.0f, 3.0f)},
           {"s", Tensor::from_vector<float>({3}, {0.01f, 0.02f, 0.005f})},
           {"zp", Tensor::from_vector<int8_t>({3}, {0, -5, 7})}},
          {DataType::kInt8});
}

// onnxruntime-node cannot hand back 4-bit tensors (it runs out of memory converting them), so
// the blocked layout is compared on int8; 4-bit packing has hand-computed tests.
TEST_F(QuantVsOrt, QuantizeLinearBlockedInt8) {
  auto node = op("QuantizeLinear");
  attr_int(node, "axis", 1);
  attr_int(node, "block_size", 3);
  compare(node, 21,
          {{"x", random_tensor({3, 8}, 2, -10.0f, 10.0f)},
           {"s", random_tensor({3, 3}, 3, 0.05f, 0.2f)},
           {"zp", random_ints(DataType::kInt8, {3, 3}, 4, -5, 5)}},
          {DataType::kInt8});
}

TEST_F(QuantVsOrt, DequantizeLinearPerAxisUint8) {
  auto node = op("DequantizeLinear");
  attr_int(node, "axis", 0);
  compare(node, 13,
          {{"x", random_ints(DataType::kUInt8, {4, 7}, 4, 0, 255)},
           {"s", Tensor::from_vector<float>({4}, {0.1f, 0.3f, 0.07f, 1.5f})},
           {"zp", Tensor::from_vector<uint8_t>({4}, {0, 128, 3, 255})}},
          {DataType::kFloat});
}

TEST_F(QuantVsOrt, DynamicQuantizeLinear) {
  compare(op("DynamicQuantizeLinear"), 11, {{"x", random_tensor({3, 333}, 5, -2.3f, 7.1f)}},
          {DataType::kUInt8, DataType::kFloat, DataType::kUInt8});
}

TEST_F(QuantVsOrt, MatMulIntegerPerColumnZeroPoints) {
  compare(op("MatMulInteger"), 10,
          {{"a", random_ints(DataType::kUInt8, {2, 5, 33}, 6, 0, 255)},
           {"b", random_ints(DataType::kInt8, {33, 7}, 7, -128, 127)},
           {"azp", scalar_of<uint8_t>(131)},
           {"bzp", random_ints(DataType::kInt8, {7}, 8, -3, 3)}},
          {DataType::kInt32});
}

TEST_F(QuantVsOrt, QLinearMatMulUint8) {
  compare(op("QLinearMatMul"), 10,
          {{"a", random_ints(DataType::kUInt8, {6, 40}, 9, 0, 255)},
           {"as", scalar_of<float>(0.023f)},
           {"azp", scalar_of<uint8_t>(120)},
           {"b", random_ints(DataType::kUInt8, {40, 9}, 10, 0, 255)},
           {"bs", scalar_of<float>(0.0071f)},
           {"bzp", scalar_of<uint8_t>(127)},
           {"ys", scalar_of<float>(0.37f)},
           {"yzp", scalar_of<uint8_t>(100)}},
          {DataType::kUInt8});
}

TEST_F(QuantVsOrt, QLinearMatMulInt8PerColumn) {
  compare(op("QLinearMatMul"), 10,
          {{"a", random_ints(DataType::kInt8, {6, 40}, 11, -128, 127)},
           {"as", scalar_of<float>(0.023f)},
           {"azp", scalar_of<int8_t>(-3)},
           {"b", random_ints(DataType::kInt8, {40, 9}, 12, -127, 127)},
           {"bs", random_tensor({9}, 13, 0.002f, 0.01f)},
           {"bzp", Tensor(DataType::kInt8, {9})},
           {"ys", scalar_of<float>(0.21f)},
           {"yzp", scalar_of<int8_t>(5)}},
          {DataType::kInt8});
}

TEST_F(QuantVsOrt, QLinearConvPerChannelWithBias) {
  auto node = op("QLinearConv");
  attr_ints(node, "pads", {1, 1, 1, 1});
  attr_ints(node, "strides", {2, 1});
  compare(node, 10,
          {{"x", random_ints(DataType::kUInt8, {1, 4, 7, 6}, 14, 0, 255)},
           {"xs", scalar_of<float>(0.02f)},
           {"xzp", scalar_of<uint8_t>(128)},
           {"w", random_ints(DataType::kInt8, {5, 4, 3, 3}, 15, -127, 127)},
           {"ws", random_tensor({5}, 16, 0.001f, 0.005f)},
           {"wzp", Tensor(DataType::kInt8, {5})},
           {"ys", scalar_of<float>(0.05f)},
           {"yzp", scalar_of<uint8_t>(120)},
           {"b", Tensor::from_vector<int32_t>({5}, {100, -2000, 0, 37, 5000})}},
          {DataType::kUInt8});
}

TEST_F(QuantVsOrt, QLinearConvGroupedInt8) {
  auto node = op("QLinearConv");
  attr_int(node, "group", 2);
  attr_ints(node, "dilations", {2, 2});
  compare(node, 10,
          {{"x", random_ints(DataType::kInt8, {2, 4, 6, 6}, 17, -128, 127)},
           {"xs", scalar_of<float>(0.03f)},
           {"xzp", scalar_of<int8_t>(1)},
           {"w", random_ints(DataType::kInt8, {4, 2, 2, 2}, 18, -127, 127)},
           {"ws", scalar_of<float>(0.004f)},
           {"wzp", scalar_of<int8_t>(0)},
           {"ys", scalar_of<float>(0.08f)},
           {"yzp", scalar_of<int8_t>(-4)}},
          {DataType::kInt8});
}

TEST_F(QuantVsOrt, ConvIntegerWithZeroPoints) {
  auto node = op("ConvInteger");
  attr_ints(node, "pads", {0, 1, 0, 1});
  compare(node, 10,
          {{"x", random_ints(DataType::kUInt8, {1, 3, 5, 5}, 19, 0, 255)},
           {"w", random_ints(DataType::kUInt8, {2, 3, 2, 3}, 20, 0, 255)},
           {"xzp", scalar_of<uint8_t>(7)},
           {"wzp", scalar_of<uint8_t>(130)}},
          {DataType::kInt32});
}

// QLinearAdd and QLinearMul with A, B, C parameters; `b_shape` picks the broadcast.
std::vector<Input> binary_inputs(DataType type, const Shape& a_shape, const Shape& b_shape, uint32_t seed) {
  const bool u8 = type == DataType::kUInt8;
  auto zp = [&](int v) { return u8 ? scalar_of<uint8_t>(static_cast<uint8_t>(v + 128)) : scalar_of<int8_t>(static_cast<int8_t>(v)); };
  return {{"a", random_ints(type, a_shape, seed, u8 ? 0 : -128, u8 ? 255 : 127)},
          {"as", scalar_of<float>(0.031f)},
          {"azp", zp(-3)},
          {"b", random_ints(type, b_shape, seed + 1, u8 ? 0 : -128, u8 ? 255 : 127)},
          {"bs", scalar_of<float>(0.017f)},
          {"bzp", zp(9)},
          {"cs", scalar_of<float>(0.045f)},
          {"czp", zp(1)}};
}

TEST_F(QuantVsOrt, QLinearAddSameShapeAndBroadcasts) {
  for (DataType t : {DataType::kUInt8, DataType::kInt8}) {
    compare(op("QLinearAdd", "com.microsoft"), 1, binary_inputs(t, {3, 37}, {3, 37}, 21), {t});
    compare(op("QLinearAdd", "com.microsoft"), 1, binary_inputs(t, {3, 37}, {}, 22), {t});
    compare(op("QLinearAdd", "com.microsoft"), 1, binary_inputs(t, {1}, {3, 37}, 23), {t});
    compare(op("QLinearAdd", "com.microsoft"), 1, binary_inputs(t, {3, 37}, {3, 1}, 24), {t});
    compare(op("QLinearAdd", "com.microsoft"), 1, binary_inputs(t, {3, 1}, {3, 37}, 25), {t});
    compare(op("QLinearAdd", "com.microsoft"), 1, binary_inputs(t, {2, 3, 37}, {37}, 26), {t});
  }
}

TEST_F(QuantVsOrt, QLinearMulSameShapeAndBroadcasts) {
  for (DataType t : {DataType::kUInt8, DataType::kInt8}) {
    compare(op("QLinearMul", "com.microsoft"), 1, binary_inputs(t, {3, 37}, {3, 37}, 31), {t});
    compare(op("QLinearMul", "com.microsoft"), 1, binary_inputs(t, {3, 37}, {3, 1}, 32), {t});
    compare(op("QLinearMul", "com.microsoft"), 1, binary_inputs(t, {}, {3, 37}, 33), {t});
  }
}

TEST_F(QuantVsOrt, QLinearGlobalAveragePoolBothLayouts) {
  for (int64_t channels_last : {0, 1}) {
    auto node = op("QLinearGlobalAveragePool", "com.microsoft");
    attr_int(node, "channels_last", channels_last);
    compare(node, 1,
            {{"x", random_ints(DataType::kUInt8, {2, 5, 4, 3}, 41, 0, 255)},
             {"xs", scalar_of<float>(0.02f)},
             {"xzp", scalar_of<uint8_t>(100)},
             {"ys", scalar_of<float>(0.015f)},
             {"yzp", scalar_of<uint8_t>(90)}},
            {DataType::kUInt8});
  }
}

TEST_F(QuantVsOrt, QLinearConcatRequantizesDifferingInputs) {
  auto node = op("QLinearConcat", "com.microsoft");
  attr_int(node, "axis", 1);
  compare(node, 1,
          {{"ys", scalar_of<float>(0.05f)},
           {"yzp", scalar_of<uint8_t>(128)},
           {"x0", random_ints(DataType::kUInt8, {2, 3, 2}, 51, 0, 255)},
           {"s0", scalar_of<float>(0.05f)},
           {"z0", scalar_of<uint8_t>(128)},
           {"x1", random_ints(DataType::kUInt8, {2, 1, 2}, 52, 0, 255)},
           {"s1", scalar_of<float>(0.13f)},
           {"z1", scalar_of<uint8_t>(17)}},
          {DataType::kUInt8});
}

TEST_F(QuantVsOrt, DynamicQuantizeMatMulWithBias) {
  compare(op("DynamicQuantizeMatMul", "com.microsoft"), 1,
          {{"a", random_tensor({4, 30}, 61, -1.5f, 2.0f)},
           {"b", random_ints(DataType::kInt8, {30, 6}, 62, -127, 127)},
           {"bs", scalar_of<float>(0.01f)},
           {"bzp", scalar_of<int8_t>(0)},
           {"bias", random_tensor({6}, 63)}},
          {DataType::kFloat}, 1e-6f);
}

TEST_F(QuantVsOrt, MatMulNBitsFourBitWithZeroPoints) {
  auto node = op("MatMulNBits", "com.microsoft");
  attr_int(node, "K", 64);
  attr_int(node, "N", 5);
  attr_int(node, "bits", 4);
  attr_int(node, "block_size", 32);
  compare(node, 1,
          {{"a", random_tensor({3, 64}, 71)},
           {"b", random_ints(DataType::kUInt8, {5, 2, 16}, 72, 0, 255)},
           {"s", random_tensor({10}, 73, 0.01f, 0.1f)},
           {"zp", random_ints(DataType::kUInt8, {5}, 74, 0, 255)}},
          {DataType::kFloat}, 1e-5f);
}

TEST_F(QuantVsOrt, QAttentionWithKeyLengthMask) {
  auto node = op("QAttention", "com.microsoft");
  attr_int(node, "num_heads", 2);
  compare(node, 1,
          {{"x", random_ints(DataType::kUInt8, {2, 4, 8}, 81, 0, 255)},
           {"w", random_ints(DataType::kInt8, {8, 12}, 82, -127, 127)},
           {"bias", random_tensor({12}, 83)},
           {"xs", scalar_of<float>(0.01f)},
           {"ws", scalar_of<float>(0.005f)},
           {"mask", Tensor::from_vector<int32_t>({2}, {4, 3})},
           {"xzp", scalar_of<uint8_t>(128)},
           {"wzp", scalar_of<int8_t>(0)}},
          {DataType::kFloat}, 1e-5f);
}

TEST_F(QuantVsOrt, QAttentionUnidirectionalWithRawMask) {
  auto node = op("QAttention", "com.microsoft");
  attr_int(node, "num_heads", 1);
  attr_int(node, "unidirectional", 1);
  compare(node, 1,
          {{"x", random_ints(DataType::kUInt8, {1, 5, 6}, 84, 0, 255)},
           {"w", random_ints(DataType::kUInt8, {6, 9}, 85, 0, 255)},
           {"bias", random_tensor({9}, 86)},
           {"xs", scalar_of<float>(0.02f)},
           {"ws", scalar_of<float>(0.003f)},
           {"mask", Tensor::from_vector<int32_t>({1, 5}, {1, 1, 0, 1, 1})},
           {"xzp", scalar_of<uint8_t>(100)},
           {"wzp", scalar_of<uint8_t>(128)}},
          {DataType::kFloat}, 1e-5f);
}

}  // namespace
}  // namespace onnxq::test
