#pragma once

// Pieces shared by LSTM, GRU, RNN and DynamicQuantizeLSTM: activation functions, the common
// attributes, the time-major view of X and the outputs, and the LSTM recurrence, whose
// weight products go through a Projection so the float and int8-weight LSTMs share it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exec/kernel.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::exec::rnn {

struct Activation {
  enum class Kind { kSigmoid, kTanh, kRelu, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid, kElu, kSoftsign, kSoftplus };
  Kind kind = Kind::kSigmoid;
  float alpha = 0, beta = 0;
  float operator()(float x) const;
};

struct RnnAttrs {
  int64_t hidden = 0;
  int64_t directions = 1;
  bool reverse = false;  // direction "reverse" (a single direction run backwards)
  float clip = 0;        // 0: no clipping
  int64_t layout = 0;    // 1: batch-major X, Y, Y_h, Y_c
  // Per direction, `per_direction` functions each (f, g, h for LSTM).
  std::vector<Activation> activations;
  size_t per_direction = 0;
};

// Reads hidden_size, direction, clip, layout and activations; `defaults` are one direction's.
RnnAttrs parse_rnn_attrs(const NodeInfo& info, const std::vector<std::string>& defaults);

// X [seq, batch, input] and sequence lengths, whatever the layout.
struct Sequence {
  int64_t seq = 0, batch = 0, input = 0;
  std::vector<float> x;
  std::vector<int64_t> lens;

  // Time index read by direction step `s` for batch entry `b`, or -1 past its length.
  int64_t time(int64_t s, int64_t b, bool backwards) const {
    if (s >= lens[static_cast<size_t>(b)]) return -1;
    return backwards ? lens[static_cast<size_t>(b)] - 1 - s : s;
  }
};

Sequence read_sequence(const std::string& op, const KernelIO& io, const RnnAttrs& a);

// An initial state input [directions, batch, hidden] (or batch-major) as direction-major
// floats, zeros when absent.
std::vector<float> read_state(const std::string& op, const KernelIO& io, size_t index, const RnnAttrs& a, int64_t batch);

// Sets Y (from direction-major [seq, dirs, batch, hidden]) and a final state output (from
// [dirs, batch, hidden]) in the node's layout.
void set_sequence_output(KernelIO& io, size_t index, const RnnAttrs& a, int64_t seq, int64_t batch, const std::vector<float>& y);
void set_state_output(KernelIO& io, size_t index, const RnnAttrs& a, int64_t batch, const std::vector<float>& state);

// C[rows × cols] = A[rows × k] · Wᵀ (accumulate: C += ...) for one direction's weight.
class Projection {
 public:
  virtual ~Projection() = default;
  virtual void apply(const float* a, int64_t rows, float* c, bool accumulate, int threads) const = 0;
};

// A float weight [cols, k], row-major (ONNX's W and R of one direction).
class FloatProjection final : public Projection {
 public:
  FloatProjection(const float* w, int64_t cols, int64_t k) : w_(w), cols_(cols), k_(k) {}
  void apply(const float* a, int64_t rows, float* c, bool accumulate, int threads) const override;

 private:
  const float* w_;
  int64_t cols_, k_;
};

// The LSTM given its per-direction projections of X (W) and H (R); biases [dirs, 8H] and
// peepholes [dirs, 3H] may be empty. Outputs Y, Y_h, Y_c.
struct LstmWeights {
  std::vector<std::unique_ptr<Projection>> w, r;
  std::vector<float> bias, peepholes;
};
void run_lstm(KernelIO& io, const RnnAttrs& a, bool input_forget, const Sequence& x, const LstmWeights& weights);

// Bias [dirs, 2 * gates * H] and peephole inputs, checked; empty when absent.
std::vector<float> read_optional(const std::string& op, const KernelIO& io, size_t index, int64_t expected, const char* what);

}  // namespace onnxq::exec::rnn
