#include "exec/kernels/rnn_common.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "exec/gemm.hpp"

namespace onnxq::exec::rnn {

float Activation::operator()(float x) const {
  switch (kind) {
    case Kind::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Kind::kTanh: return std::tanh(x);
    case Kind::kRelu: return std::max(x, 0.0f);
    case Kind::kAffine: return alpha * x + beta;
    case Kind::kLeakyRelu: return x >= 0 ? x : alpha * x;
    case Kind::kThresholdedRelu: return x > alpha ? x : 0.0f;
    case Kind::kScaledTanh: return alpha * std::tanh(beta * x);
    case Kind::kHardSigmoid: return std::max(0.0f, std::min(1.0f, alpha * x + beta));
    case Kind::kElu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0f);
    case Kind::kSoftsign: return x / (1.0f + std::fabs(x));
    case Kind::kSoftplus: return std::log1p(std::exp(x));
  }
  return x;
}

namespace {

struct ActivationSpec {
  const char* name;
  Activation::Kind kind;
  int params;  // alpha/beta values it reads from the attribute lists
  float alpha, beta;
};

constexpr ActivationSpec kActivations[] = {
    {"sigmoid", Activation::Kind::kSigmoid, 0, 0, 0},
    {"tanh", Activation::Kind::kTanh, 0, 0, 0},
    {"relu", Activation::Kind::kRelu, 0, 0, 0},
    {"affine", Activation::Kind::kAffine, 2, 1.0f, 0.0f},
    {"leakyrelu", Activation::Kind::kLeakyRelu, 1, 0.01f, 0},
    {"thresholdedrelu", Activation::Kind::kThresholdedRelu, 1, 1.0f, 0},
    {"scaledtanh", Activation::Kind::kScaledTanh, 2, 1.0f, 1.0f},
    {"hardsigmoid", Activation::Kind::kHardSigmoid, 2, 0.2f, 0.5f},
    {"elu", Activation::Kind::kElu, 1, 1.0f, 0},
    {"softsign", Activation::Kind::kSoftsign, 0, 0, 0},
    {"softplus", Activation::Kind::kSoftplus, 0, 0, 0},
};

}  // namespace

RnnAttrs parse_rnn_attrs(const NodeInfo& info, const std::vector<std::string>& defaults) {
  RnnAttrs a;
  a.hidden = info.required_int("hidden_size");
  if (a.hidden <= 0) info.invalid("hidden_size must be positive");
  const std::string direction = info.attr_string("direction", "forward");
  if (direction == "bidirectional") a.directions = 2;
  else if (direction == "reverse") a.reverse = true;
  else if (direction != "forward") info.invalid("unknown direction '" + direction + "'");
  a.clip = info.attr_float("clip", 0.0f);
  if (a.clip < 0) info.invalid("clip must not be negative");
  a.layout = info.opset() >= 14 ? info.attr_int("layout", 0) : 0;
  if (a.layout != 0 && a.layout != 1) info.invalid("layout must be 0 or 1");
  a.per_direction = defaults.size();
  std::vector<std::string> names = info.attr_strings("activations");
  if (names.empty())
    for (int64_t d = 0; d < a.directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  if (names.size() != a.per_direction * static_cast<size_t>(a.directions))
    info.invalid("expected " + std::to_string(a.per_direction * static_cast<size_t>(a.directions)) + " activations, got " +
                 std::to_string(names.size()));
  const std::vector<float> alphas = info.attr_floats("activation_alpha");
  const std::vector<float> betas = info.attr_floats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const ActivationSpec* spec = nullptr;
    for (const auto& s : kActivations)
      if (lower == s.name) spec = &s;
    if (!spec) info.invalid("unknown activation '" + name + "' (not one of the activations ONNX defines for RNNs)");
    Activation act{spec->kind, spec->alpha, spec->beta};
    // The lists are consumed in order by the functions that take parameters.
    if (spec->params >= 1 && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (spec->params >= 2 && next_beta < betas.size()) act.beta = betas[next_beta++];
    a.activations.push_back(act);
  }
  return a;
}

Sequence read_sequence(const std::string& op, const KernelIO& io, const RnnAttrs& a) {
  const Tensor& x = io.input(0);
  if (x.dtype() != DataType::kFloat) fail(ExitCode::kUnsupported, op + ": X must be float32");
  if (x.rank() != 3) fail(ExitCode::kInput, op + ": X must be 3-D, got " + shape_to_string(x.shape()));
  Sequence s;
  s.seq = x.shape()[a.layout == 0 ? 0 : 1];
  s.batch = x.shape()[a.layout == 0 ? 1 : 0];
  s.input = x.shape()[2];
  const float* xs = x.data<float>();
  if (a.layout == 0) {
    s.x.assign(xs, xs + x.numel());
  } else {
    s.x.resize(static_cast<size_t>(x.numel()));
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t t = 0; t < s.seq; ++t)
        std::copy_n(xs + (b * s.seq + t) * s.input, s.input, s.x.data() + (t * s.batch + b) * s.input);
  }
  s.lens.assign(static_cast<size_t>(s.batch), s.seq);
  if (io.has_input(4)) {
    const Tensor& lens = io.input(4);
    if (lens.numel() != s.batch) fail(ExitCode::kInput, op + ": sequence_lens must have one value per batch entry");
    for (int64_t b = 0; b < s.batch; ++b) {
      const int64_t len = lens.dtype() == DataType::kInt64 ? lens.data<int64_t>()[b] : lens.data<int32_t>()[b];
      if (len < 0 || len > s.seq) fail(ExitCode::kInput, op + ": sequence length " + std::to_string(len) + " out of range");
      s.lens[static_cast<size_t>(b)] = len;
    }
  }
  return s;
}

std::vector<float> read_state(const std::string& op, const KernelIO& io, size_t index, const RnnAttrs& a, int64_t batch) {
  const int64_t H = a.hidden, D = a.directions;
  std::vector<float> out(static_cast<size_t>(D * batch * H), 0.0f);
  if (!io.has_input(index)) return out;
  const Tensor& t = io.input(index);
  const Shape expect = a.layout == 0 ? Shape{D, batch, H} : Shape{batch, D, H};
  if (t.dtype() != DataType::kFloat || t.shape() != expect)
    fail(ExitCode::kInput, op + ": initial state must be float32 " + shape_to_string(expect) + ", got " + shape_to_string(t.shape()));
  const float* v = t.data<float>();
  for (int64_t d = 0; d < D; ++d)
    for (int64_t b = 0; b < batch; ++b)
      std::copy_n(v + (a.layout == 0 ? (d * batch + b) : (b * D + d)) * H, H, out.data() + (d * batch + b) * H);
  return out;
}

void set_sequence_output(KernelIO& io, size_t index, const RnnAttrs& a, int64_t seq, int64_t batch, const std::vector<float>& y) {
  if (index >= io.num_outputs()) return;
  const int64_t H = a.hidden, D = a.directions;
  if (a.layout == 0) {
    io.set_output(index, Tensor::from_vector<float>({seq, D, batch, H}, y));
    return;
  }
  Tensor out(DataType::kFloat, {batch, seq, D, H});
  float* o = out.data<float>();
  for (int64_t t = 0; t < seq; ++t)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < batch; ++b)
        std::copy_n(y.data() + ((t * D + d) * batch + b) * H, H, o + ((b * seq + t) * D + d) * H);
  io.set_output(index, std::move(out));
}

void set_state_output(KernelIO& io, size_t index, const RnnAttrs& a, int64_t batch, const std::vector<float>& state) {
  if (index >= io.num_outputs()) return;
  const int64_t H = a.hidden, D = a.directions;
  if (a.layout == 0) {
    io.set_output(index, Tensor::from_vector<float>({D, batch, H}, state));
    return;
  }
  Tensor out(DataType::kFloat, {batch, D, H});
  for (int64_t d = 0; d < D; ++d)
    for (int64_t b = 0; b < batch; ++b)
      std::copy_n(state.data() + (d * batch + b) * H, H, out.data<float>() + (b * D + d) * H);
  io.set_output(index, std::move(out));
}

void FloatProjection::apply(const float* a, int64_t rows, float* c, bool accumulate, int threads) const {
  gemm_f32(false, true, rows, cols_, k_, 1.0f, a, k_, w_, k_, accumulate ? 1.0f : 0.0f, c, cols_, threads);
}

std::vector<float> read_optional(const std::string& op, const KernelIO& io, size_t index, int64_t expected, const char* what) {
  if (!io.has_input(index)) return {};
  const Tensor& t = io.input(index);
  if (t.dtype() != DataType::kFloat || t.numel() != expected)
    fail(ExitCode::kInput, op + ": " + what + " must be float32 with " + std::to_string(expected) + " values, got " +
                               shape_to_string(t.shape()));
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

void run_lstm(KernelIO& io, const RnnAttrs& a, bool input_forget, const Sequence& x, const LstmWeights& weights) {
  const std::string op = "LSTM";
  const int64_t H = a.hidden, D = a.directions, B = x.batch, T = x.seq, G = 4 * H;
  std::vector<float> h = read_state(op, io, 5, a, B), c = read_state(op, io, 6, a, B);
  std::vector<float> y(static_cast<size_t>(T * D * B * H), 0.0f);
  std::vector<float> xw(static_cast<size_t>(T * B * G)), gates(static_cast<size_t>(B * G));
  auto clip = [&](float v) { return a.clip > 0 ? std::max(-a.clip, std::min(a.clip, v)) : v; };
  for (int64_t d = 0; d < D; ++d) {
    const bool backwards = a.reverse || d == 1;
    const Activation& f = a.activations[static_cast<size_t>(d) * a.per_direction];
    const Activation& g = a.activations[static_cast<size_t>(d) * a.per_direction + 1];
    const Activation& hf = a.activations[static_cast<size_t>(d) * a.per_direction + 2];
    weights.w[static_cast<size_t>(d)]->apply(x.x.data(), T * B, xw.data(), false, io.threads());
    if (!weights.bias.empty()) {
      const float* wb = weights.bias.data() + d * 2 * G;
      for (int64_t r = 0; r < T * B; ++r)
        for (int64_t j = 0; j < G; ++j) xw[static_cast<size_t>(r * G + j)] += wb[j] + wb[G + j];
    }
    const float* p = weights.peepholes.empty() ? nullptr : weights.peepholes.data() + d * 3 * H;
    float* hd = h.data() + d * B * H;
    float* cd = c.data() + d * B * H;
    for (int64_t s = 0; s < T; ++s) {
      for (int64_t b = 0; b < B; ++b) {
        const int64_t t = x.time(s, b, backwards);
        float* row = gates.data() + b * G;
        if (t < 0) std::fill_n(row, G, 0.0f);
        else std::copy_n(xw.data() + (t * B + b) * G, G, row);
      }
      weights.r[static_cast<size_t>(d)]->apply(hd, B, gates.data(), true, io.threads());
      for (int64_t b = 0; b < B; ++b) {
        const int64_t t = x.time(s, b, backwards);
        if (t < 0) continue;
        const float* gi = gates.data() + b * G;  // gate order i, o, f, c
        for (int64_t j = 0; j < H; ++j) {
          const float c_prev = cd[b * H + j];
          const float i_gate = f(clip(gi[j] + (p ? p[j] * c_prev : 0.0f)));
          const float f_gate = input_forget ? 1.0f - i_gate : f(clip(gi[2 * H + j] + (p ? p[2 * H + j] * c_prev : 0.0f)));
          const float c_cand = g(clip(gi[3 * H + j]));
          const float c_new = f_gate * c_prev + i_gate * c_cand;
          const float o_gate = f(clip(gi[H + j] + (p ? p[H + j] * c_new : 0.0f)));
          cd[b * H + j] = c_new;
          hd[b * H + j] = o_gate * hf(c_new);
        }
        std::copy_n(hd + b * H, H, y.data() + ((t * D + d) * B + b) * H);
      }
    }
  }
  set_sequence_output(io, 0, a, T, B, y);
  set_state_output(io, 1, a, B, h);
  set_state_output(io, 2, a, B, c);
}

}  // namespace onnxq::exec::rnn
