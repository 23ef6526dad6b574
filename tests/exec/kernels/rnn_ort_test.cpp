// LSTM, GRU, RNN and DynamicQuantizeLSTM against ONNX Runtime on the options the ONNX node
// cases leave out: both directions, sequence lengths, clip, peepholes, per-row weight scales.
#include "exec/kernels/ort_compare.hpp"

namespace onnxq::test {
namespace {

using RnnVsOrt = OrtComparison;

onnx::NodeProto rnn_node(const std::string& type, int64_t hidden, const std::string& direction) {
  auto node = op(type);
  attr_int(node, "hidden_size", hidden);
  attr_string(node, "direction", direction);
  return node;
}

TEST_F(RnnVsOrt, BidirectionalLstmWithSequenceLengthsPeepholesAndClip) {
  auto node = rnn_node("LSTM", 4, "bidirectional");
  attr_float(node, "clip", 1.5f);
  compare(node, 14,
          {{"x", random_tensor({5, 3, 6}, 1)},
           {"w", random_tensor({2, 16, 6}, 2)},
           {"r", random_tensor({2, 16, 4}, 3)},
           {"b", random_tensor({2, 32}, 4)},
           {"lens", Tensor::from_vector<int32_t>({3}, {5, 2, 4})},
           {"h0", random_tensor({2, 3, 4}, 5)},
           {"c0", random_tensor({2, 3, 4}, 6)},
           {"p", random_tensor({2, 12}, 7)}},
          {DataType::kFloat, DataType::kFloat, DataType::kFloat}, 1e-5f);
}

TEST_F(RnnVsOrt, ReverseGruLinearBeforeResetWithSequenceLengths) {
  auto node = rnn_node("GRU", 5, "reverse");
  attr_int(node, "linear_before_reset", 1);
  compare(node, 14,
          {{"x", random_tensor({4, 2, 3}, 11)},
           {"w", random_tensor({1, 15, 3}, 12)},
           {"r", random_tensor({1, 15, 5}, 13)},
           {"b", random_tensor({1, 30}, 14)},
           {"lens", Tensor::from_vector<int32_t>({2}, {3, 4})}},
          {DataType::kFloat, DataType::kFloat}, 1e-5f);
}

TEST_F(RnnVsOrt, BidirectionalGruWithActivations) {
  auto node = rnn_node("GRU", 3, "bidirectional");
  onnx::AttributeProto* acts = node.add_attribute();
  acts->set_name("activations");
  acts->set_type(onnx::AttributeProto::STRINGS);
  for (const char* a : {"HardSigmoid", "Tanh", "Sigmoid", "Softsign"}) acts->add_strings(a);
  compare(node, 14,
          {{"x", random_tensor({3, 2, 4}, 21)}, {"w", random_tensor({2, 9, 4}, 22)}, {"r", random_tensor({2, 9, 3}, 23)}},
          {DataType::kFloat, DataType::kFloat}, 1e-5f);
}

TEST_F(RnnVsOrt, RnnWithReluAndInitialState) {
  auto node = rnn_node("RNN", 4, "forward");
  onnx::AttributeProto* acts = node.add_attribute();
  acts->set_name("activations");
  acts->set_type(onnx::AttributeProto::STRINGS);
  acts->add_strings("Relu");
  compare(node, 14,
          {{"x", random_tensor({3, 2, 5}, 31)},
           {"w", random_tensor({1, 4, 5}, 32)},
           {"r", random_tensor({1, 4, 4}, 33)},
           {"b", random_tensor({1, 8}, 34)},
           {"", Tensor()},
           {"h0", random_tensor({1, 2, 4}, 35)}},
          {DataType::kFloat, DataType::kFloat}, 1e-5f);
}

// DynamicQuantizeLSTM as onnxq's quantize-dynamic writes it: int8 weights transposed to
// [dirs, input, 4H] and [dirs, H, 4H], zero points 0.
std::vector<Input> quantized_lstm_inputs(int64_t dirs, int64_t hidden, int64_t input, bool per_row, uint32_t seed) {
  const int64_t rows = 4 * hidden;
  const Shape scale_shape = per_row ? Shape{dirs, rows} : Shape{dirs};
  return {{"x", random_tensor({6, 2, input}, seed)},
          {"w", random_ints(DataType::kInt8, {dirs, input, rows}, seed + 1, -127, 127)},
          {"r", random_ints(DataType::kInt8, {dirs, hidden, rows}, seed + 2, -127, 127)},
          {"b", random_tensor({dirs, 2 * rows}, seed + 3)},
          {"", Tensor()},
          {"h0", random_tensor({dirs, 2, hidden}, seed + 4)},
          {"c0", random_tensor({dirs, 2, hidden}, seed + 5)},
          {"", Tensor()},
          {"ws", random_tensor(scale_shape, seed + 6, 0.002f, 0.01f)},
          {"wzp", Tensor(DataType::kInt8, scale_shape)},
          {"rs", random_tensor(scale_shape, seed + 7, 0.002f, 0.01f)},
          {"rzp", Tensor(DataType::kInt8, scale_shape)}};
}

TEST_F(RnnVsOrt, DynamicQuantizeLstmPerDirection) {
  auto node = rnn_node("DynamicQuantizeLSTM", 4, "bidirectional");
  node.set_domain("com.microsoft");
  compare(node, 1, quantized_lstm_inputs(2, 4, 5, false, 41), {DataType::kFloat, DataType::kFloat, DataType::kFloat}, 1e-5f);
}

TEST_F(RnnVsOrt, DynamicQuantizeLstmPerRow) {
  auto node = rnn_node("DynamicQuantizeLSTM", 3, "forward");
  node.set_domain("com.microsoft");
  compare(node, 1, quantized_lstm_inputs(1, 3, 7, true, 51), {DataType::kFloat, DataType::kFloat, DataType::kFloat}, 1e-5f);
}

}  // namespace
}  // namespace onnxq::test
