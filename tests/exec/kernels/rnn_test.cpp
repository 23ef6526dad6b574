#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace onnxq::test {
namespace {

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

onnx::NodeProto rnn_node(const std::string& type, int64_t hidden, const std::string& direction = "forward") {
  auto node = op(type);
  attr_int(node, "hidden_size", hidden);
  attr_string(node, "direction", direction);
  return node;
}

TEST(RNN, AppliesTanhToTheInputAndRecurrentProducts) {
  const Tensor x = Tensor::from_vector<float>({2, 1, 1}, {1.0f, 0.0f});
  const Tensor w = Tensor::from_vector<float>({1, 1, 1}, {2.0f});
  const Tensor r = Tensor::from_vector<float>({1, 1, 1}, {0.5f});
  const auto y = run_op(rnn_node("RNN", 1), {x, w, r}, 2, 14);
  const float h1 = std::tanh(2.0f), h2 = std::tanh(0.5f * h1);
  EXPECT_EQ(y[0].shape(), (Shape{2, 1, 1, 1}));
  EXPECT_NEAR(y[0].data<float>()[0], h1, 1e-6);
  EXPECT_NEAR(y[0].data<float>()[1], h2, 1e-6);
  EXPECT_NEAR(y[1].data<float>()[0], h2, 1e-6);
}

// GRU with only the candidate gate's weights set: z = r = sigmoid(0) = 1/2.
std::vector<Tensor> gru_inputs() {
  return {Tensor::from_vector<float>({1, 1, 1}, {1.0f}), Tensor::from_vector<float>({1, 3, 1}, {0, 0, 1}),
          Tensor::from_vector<float>({1, 3, 1}, {0, 0, 1}), Tensor::from_vector<float>({1, 6}, {0, 0, 0, 0, 0, 0.5f})};
}

TEST(GRU, ResetGateMultipliesTheStateBeforeTheRecurrentProduct) {
  // initial_h 2: ht = tanh(1 + (0.5 * 2) * 1 + 0.5); H = 0.5 * ht + 0.5 * 2.
  auto in = gru_inputs();
  in.push_back(Tensor());
  in.push_back(Tensor::from_vector<float>({1, 1, 1}, {2.0f}));
  const auto y = run_op(rnn_node("GRU", 1), in, 2, 14);
  EXPECT_NEAR(y[1].data<float>()[0], 0.5f * std::tanh(2.5f) + 1.0f, 1e-6);
}

TEST(GRU, LinearBeforeResetMultipliesTheRecurrentProduct) {
  // ht = tanh(1 + 0.5 * (2 * 1 + 0.5)).
  auto in = gru_inputs();
  in.push_back(Tensor());
  in.push_back(Tensor::from_vector<float>({1, 1, 1}, {2.0f}));
  auto node = rnn_node("GRU", 1);
  attr_int(node, "linear_before_reset", 1);
  const auto y = run_op(node, in, 2, 14);
  EXPECT_NEAR(y[1].data<float>()[0], 0.5f * std::tanh(2.25f) + 1.0f, 1e-6);
}

// One LSTM step with hidden size 1, all four gate weights `w`, no recurrence.
float lstm_h(float x, float w, float c_prev, float* c_out = nullptr) {
  const float i = sigmoid(w * x), o = sigmoid(w * x), f = sigmoid(w * x), g = std::tanh(w * x);
  const float c = f * c_prev + i * g;
  if (c_out) *c_out = c;
  return o * std::tanh(c);
}

TEST(LSTM, ReverseDirectionStartsAtEachSequencesOwnEnd) {
  // Batch 2 with lengths 2 and 1; X[t][b].
  const Tensor x = Tensor::from_vector<float>({2, 2, 1}, {0.5f, -1.0f, 2.0f, 9.0f});
  const Tensor w = Tensor::from_vector<float>({1, 4, 1}, {1, 1, 1, 1});
  const Tensor r(DataType::kFloat, {1, 4, 1});
  const Tensor lens = Tensor::from_vector<int32_t>({2}, {2, 1});
  const auto y = run_op(rnn_node("LSTM", 1, "reverse"), {x, w, r, Tensor(), lens}, 3, 14);
  // Batch 0 runs t = 1 then t = 0; batch 1 only t = 0, its Y at t = 1 stays 0.
  float c = 0;
  const float b0_t1 = lstm_h(2.0f, 1, 0, &c);
  float c_final = 0;
  const float b0_t0 = lstm_h(0.5f, 1, c, &c_final);
  float c1 = 0;
  const float b1_t0 = lstm_h(-1.0f, 1, 0, &c1);
  const std::vector<float> got = values<float>(y[0]);  // [seq, dirs, batch, hidden]
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NEAR(got[0], b0_t0, 1e-6);
  EXPECT_NEAR(got[1], b1_t0, 1e-6);
  EXPECT_NEAR(got[2], b0_t1, 1e-6);
  EXPECT_EQ(got[3], 0.0f);
  EXPECT_NEAR(y[1].data<float>()[0], b0_t0, 1e-6);
  EXPECT_NEAR(y[1].data<float>()[1], b1_t0, 1e-6);
  EXPECT_NEAR(y[2].data<float>()[0], c_final, 1e-6);
  EXPECT_NEAR(y[2].data<float>()[1], c1, 1e-6);
}

TEST(LSTM, BatchMajorLayoutTransposesInputsAndOutputs) {
  const Tensor w = random_tensor({2, 12, 4}, 1);
  const Tensor r = random_tensor({2, 12, 3}, 2);
  const Tensor b = random_tensor({2, 24}, 3);
  const Tensor x0 = random_tensor({5, 2, 4}, 4);  // [seq, batch, input]
  Tensor x1(DataType::kFloat, {2, 5, 4});
  for (int64_t t = 0; t < 5; ++t)
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 4; ++i) x1.data<float>()[(n * 5 + t) * 4 + i] = x0.data<float>()[(t * 2 + n) * 4 + i];
  const auto seq_major = run_op(rnn_node("LSTM", 3, "bidirectional"), {x0, w, r, b}, 3, 14);
  auto node = rnn_node("LSTM", 3, "bidirectional");
  attr_int(node, "layout", 1);
  const auto batch_major = run_op(node, {x1, w, r, b}, 3, 14);
  ASSERT_EQ(batch_major[0].shape(), (Shape{2, 5, 2, 3}));
  ASSERT_EQ(batch_major[1].shape(), (Shape{2, 2, 3}));
  for (int64_t t = 0; t < 5; ++t)
    for (int64_t d = 0; d < 2; ++d)
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t h = 0; h < 3; ++h)
          EXPECT_EQ(batch_major[0].data<float>()[((n * 5 + t) * 2 + d) * 3 + h],
                    seq_major[0].data<float>()[((t * 2 + d) * 2 + n) * 3 + h]);
  for (int64_t d = 0; d < 2; ++d)
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t h = 0; h < 3; ++h)
        EXPECT_EQ(batch_major[2].data<float>()[(n * 2 + d) * 3 + h], seq_major[2].data<float>()[(d * 2 + n) * 3 + h]);
}

TEST(LSTM, ResultsDoNotDependOnTheThreadCount) {
  const std::vector<Tensor> in = {random_tensor({7, 3, 20}, 5), random_tensor({1, 64, 20}, 6), random_tensor({1, 64, 16}, 7)};
  const auto one = run_op(rnn_node("LSTM", 16), in, 3, 14, 1);
  const auto two = run_op(rnn_node("LSTM", 16), in, 3, 14, 2);
  for (size_t o = 0; o < 3; ++o) EXPECT_TRUE(one[o].equals(two[o]));
}

TEST(LSTM, RejectsWeightsOfTheWrongShape) {
  EXPECT_THROW(run_op(rnn_node("LSTM", 2), {random_tensor({1, 1, 3}, 1), random_tensor({1, 4, 3}, 2), random_tensor({1, 8, 2}, 3)}, 1, 14),
               Error);
}

TEST(DynamicQuantizeLSTM, MatchesTheFloatLstmOfItsDequantizedWeights) {
  // Weights exactly representable: W = q * 0.5 with zero point 0; X quantized at run time,
  // so the result is close to (not equal to) the float LSTM's.
  const int64_t H = 2, I = 3;
  std::vector<int8_t> wq(static_cast<size_t>(I * 4 * H)), rq(static_cast<size_t>(H * 4 * H));
  for (size_t i = 0; i < wq.size(); ++i) wq[i] = static_cast<int8_t>(static_cast<int>(i % 7) - 3);
  for (size_t i = 0; i < rq.size(); ++i) rq[i] = static_cast<int8_t>(static_cast<int>(i % 5) - 2);
  // Float W [1, 4H, I] from the kernel's layout [1, I, 4H].
  Tensor wf(DataType::kFloat, {1, 4 * H, I}), rf(DataType::kFloat, {1, 4 * H, H});
  for (int64_t k = 0; k < I; ++k)
    for (int64_t j = 0; j < 4 * H; ++j) wf.data<float>()[j * I + k] = 0.5f * wq[static_cast<size_t>(k * 4 * H + j)];
  for (int64_t k = 0; k < H; ++k)
    for (int64_t j = 0; j < 4 * H; ++j) rf.data<float>()[j * H + k] = 0.25f * rq[static_cast<size_t>(k * 4 * H + j)];
  const Tensor x = random_tensor({4, 2, I}, 9);
  const auto expected = run_op(rnn_node("LSTM", H), {x, wf, rf}, 3, 14);
  auto node = rnn_node("DynamicQuantizeLSTM", H);
  node.set_domain("com.microsoft");
  const auto got = run_op(node,
                          {x, Tensor::from_vector<int8_t>({1, I, 4 * H}, wq), Tensor::from_vector<int8_t>({1, H, 4 * H}, rq), Tensor(),
                           Tensor(), Tensor(), Tensor(), Tensor(), Tensor::from_vector<float>({1}, {0.5f}),
                           Tensor::from_vector<int8_t>({1}, {0}), Tensor::from_vector<float>({1}, {0.25f}),
                           Tensor::from_vector<int8_t>({1}, {0})},
                          3, 1);
  ASSERT_EQ(got[0].shape(), expected[0].shape());
  for (int64_t i = 0; i < got[0].numel(); ++i) EXPECT_NEAR(got[0].data<float>()[i], expected[0].data<float>()[i], 0.02);
}

}  // namespace
}  // namespace onnxq::test
