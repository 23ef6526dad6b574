// LSTM, GRU and RNN (float32): the input projection of every time step is one GEMM, then
// each step multiplies the hidden state by R. Batch entries past their sequence length keep
// their state and write zeros to Y.
#include <algorithm>

#include "exec/gemm.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/rnn_common.hpp"

namespace onnxq::exec {
namespace {

using namespace rnn;

// W [dirs, gates*H, input] and R [dirs, gates*H, H] as float32, checked.
void check_weights(const std::string& op, const KernelIO& io, const RnnAttrs& a, int64_t gates, int64_t input) {
  const Tensor& w = io.input(1);
  const Tensor& r = io.input(2);
  const Shape ws{a.directions, gates * a.hidden, input}, rs{a.directions, gates * a.hidden, a.hidden};
  if (w.dtype() != DataType::kFloat || r.dtype() != DataType::kFloat)
    fail(ExitCode::kUnsupported, op + ": W and R must be float32");
  if (w.shape() != ws || r.shape() != rs)
    fail(ExitCode::kInput, op + ": W " + shape_to_string(w.shape()) + " and R " + shape_to_string(r.shape()) + " should be " +
                               shape_to_string(ws) + " and " + shape_to_string(rs));
}

std::unique_ptr<OpKernel> make_lstm(const NodeInfo& info) {
  const RnnAttrs attrs = parse_rnn_attrs(info, {"Sigmoid", "Tanh", "Tanh"});
  const bool input_forget = info.attr_int("input_forget", 0) != 0;
  return make_kernel([=](KernelIO& io) {
    const std::string op = "LSTM";
    const Sequence x = read_sequence(op, io, attrs);
    check_weights(op, io, attrs, 4, x.input);
    const int64_t H = attrs.hidden, D = attrs.directions;
    LstmWeights weights;
    for (int64_t d = 0; d < D; ++d) {
      weights.w.push_back(std::make_unique<FloatProjection>(io.input(1).data<float>() + d * 4 * H * x.input, 4 * H, x.input));
      weights.r.push_back(std::make_unique<FloatProjection>(io.input(2).data<float>() + d * 4 * H * H, 4 * H, H));
    }
    weights.bias = read_optional(op, io, 3, D * 8 * H, "B");
    weights.peepholes = read_optional(op, io, 7, D * 3 * H, "P");
    run_lstm(io, attrs, input_forget, x, weights);
  });
}

std::unique_ptr<OpKernel> make_gru(const NodeInfo& info) {
  const RnnAttrs a = parse_rnn_attrs(info, {"Sigmoid", "Tanh"});
  const bool linear_before_reset = info.attr_int("linear_before_reset", 0) != 0;
  return make_kernel([=](KernelIO& io) {
    const std::string op = "GRU";
    const Sequence x = read_sequence(op, io, a);
    check_weights(op, io, a, 3, x.input);
    const int64_t H = a.hidden, D = a.directions, B = x.batch, T = x.seq, G = 3 * H;
    const std::vector<float> bias = read_optional(op, io, 3, D * 2 * G, "B");
    std::vector<float> h = read_state(op, io, 5, a, B);
    std::vector<float> y(static_cast<size_t>(T * D * B * H), 0.0f);
    std::vector<float> xw(static_cast<size_t>(T * B * G)), hr(static_cast<size_t>(B * G)), rh(static_cast<size_t>(B * H));
    auto clip = [&](float v) { return a.clip > 0 ? std::max(-a.clip, std::min(a.clip, v)) : v; };
    for (int64_t d = 0; d < D; ++d) {
      const bool backwards = a.reverse || d == 1;
      const Activation& f = a.activations[static_cast<size_t>(d) * a.per_direction];
      const Activation& g = a.activations[static_cast<size_t>(d) * a.per_direction + 1];
      const float* w = io.input(1).data<float>() + d * G * x.input;
      const float* r = io.input(2).data<float>() + d * G * H;
      const float* wb = bias.empty() ? nullptr : bias.data() + d * 2 * G;
      const float* rb = wb ? wb + G : nullptr;
      gemm_f32(false, true, T * B, G, x.input, 1.0f, x.x.data(), x.input, w, x.input, 0.0f, xw.data(), G, io.threads());
      float* hd = h.data() + d * B * H;
      for (int64_t s = 0; s < T; ++s) {
        // z and r (and h's R product when linear_before_reset) from the previous state.
        gemm_f32(false, true, B, linear_before_reset ? G : 2 * H, H, 1.0f, hd, H, r, H, 0.0f, hr.data(), G, io.threads());
        for (int64_t b = 0; b < B; ++b) {
          const int64_t t = x.time(s, b, backwards);
          const float* xg = xw.data() + (std::max<int64_t>(t, 0) * B + b) * G;
          for (int64_t j = 0; j < H; ++j) {
            const float z = f(clip(xg[j] + hr[static_cast<size_t>(b * G + j)] + (wb ? wb[j] + rb[j] : 0.0f)));
            const float reset = f(clip(xg[H + j] + hr[static_cast<size_t>(b * G + H + j)] + (wb ? wb[H + j] + rb[H + j] : 0.0f)));
            hr[static_cast<size_t>(b * G + j)] = z;
            hr[static_cast<size_t>(b * G + H + j)] = reset;
            rh[static_cast<size_t>(b * H + j)] = reset * hd[b * H + j];
          }
        }
        // Without linear_before_reset, h's R product is of (r ⊙ H).
        if (!linear_before_reset)
          gemm_f32(false, true, B, H, H, 1.0f, rh.data(), H, r + 2 * H * H, H, 0.0f, hr.data() + 2 * H, G, io.threads());
        for (int64_t b = 0; b < B; ++b) {
          const int64_t t = x.time(s, b, backwards);
          if (t < 0) continue;
          const float* xg = xw.data() + (t * B + b) * G;
          const float* hg = hr.data() + b * G;
          for (int64_t j = 0; j < H; ++j) {
            const float z = hg[j], reset = hg[H + j];
            const float rbh = rb ? rb[2 * H + j] : 0.0f;
            const float recurrent = linear_before_reset ? reset * (hg[2 * H + j] + rbh) : hg[2 * H + j] + rbh;
            const float cand = g(clip(xg[2 * H + j] + recurrent + (wb ? wb[2 * H + j] : 0.0f)));
            hd[b * H + j] = (1.0f - z) * cand + z * hd[b * H + j];
          }
          std::copy_n(hd + b * H, H, y.data() + ((t * D + d) * B + b) * H);
        }
      }
    }
    set_sequence_output(io, 0, a, T, B, y);
    set_state_output(io, 1, a, B, h);
  });
}

std::unique_ptr<OpKernel> make_rnn(const NodeInfo& info) {
  const RnnAttrs a = parse_rnn_attrs(info, {"Tanh"});
  return make_kernel([=](KernelIO& io) {
    const std::string op = "RNN";
    const Sequence x = read_sequence(op, io, a);
    check_weights(op, io, a, 1, x.input);
    const int64_t H = a.hidden, D = a.directions, B = x.batch, T = x.seq;
    const std::vector<float> bias = read_optional(op, io, 3, D * 2 * H, "B");
    std::vector<float> h = read_state(op, io, 5, a, B);
    std::vector<float> y(static_cast<size_t>(T * D * B * H), 0.0f);
    std::vector<float> xw(static_cast<size_t>(T * B * H)), gates(static_cast<size_t>(B * H));
    auto clip = [&](float v) { return a.clip > 0 ? std::max(-a.clip, std::min(a.clip, v)) : v; };
    for (int64_t d = 0; d < D; ++d) {
      const bool backwards = a.reverse || d == 1;
      const Activation& f = a.activations[static_cast<size_t>(d) * a.per_direction];
      const float* w = io.input(1).data<float>() + d * H * x.input;
      const float* r = io.input(2).data<float>() + d * H * H;
      const float* wb = bias.empty() ? nullptr : bias.data() + d * 2 * H;
      gemm_f32(false, true, T * B, H, x.input, 1.0f, x.x.data(), x.input, w, x.input, 0.0f, xw.data(), H, io.threads());
      float* hd = h.data() + d * B * H;
      for (int64_t s = 0; s < T; ++s) {
        gemm_f32(false, true, B, H, H, 1.0f, hd, H, r, H, 0.0f, gates.data(), H, io.threads());
        for (int64_t b = 0; b < B; ++b) {
          const int64_t t = x.time(s, b, backwards);
          if (t < 0) continue;
          for (int64_t j = 0; j < H; ++j) {
            const float v = xw[static_cast<size_t>((t * B + b) * H + j)] + gates[static_cast<size_t>(b * H + j)] +
                            (wb ? wb[j] + wb[H + j] : 0.0f);
            hd[b * H + j] = f(clip(v));
          }
          std::copy_n(hd + b * H, H, y.data() + ((t * D + d) * B + b) * H);
        }
      }
    }
    set_sequence_output(io, 0, a, T, B, y);
    set_state_output(io, 1, a, B, h);
  });
}

}  // namespace

void register_rnn(KernelRegistry& registry) {
  registry.add("LSTM", make_lstm, 7);
  registry.add("GRU", make_gru, 7);
  registry.add("RNN", make_rnn, 7);
}

}  // namespace onnxq::exec
