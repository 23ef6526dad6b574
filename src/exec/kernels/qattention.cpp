// com.microsoft QAttention: multi-head self-attention whose QKV projection multiplies a
// quantized input [batch, seq, in] by a quantized weight [in, 3 * hidden] in int32, scaled
// back to float with the bias (as ONNX Runtime's output processor does), followed by float
// attention. Masks: none, key lengths [batch], or a 0/1 mask [batch, seq]; masked scores get
// mask_filter_value rather than -inf, as in ONNX Runtime. A past state is not supported.
#include <cmath>
#include <string>

#include "exec/gemm.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/int_gemm.hpp"
#include "exec/kernels/quant_common.hpp"

namespace onnxq::exec {
namespace {

using namespace quant;

struct AttentionAttrs {
  int64_t heads = 1;
  bool unidirectional = false;
  float mask_filter_value = -10000.0f;
  float scale = 0.0f;  // 0: 1 / sqrt(head size)
};

// Additive mask [batch, seq (query), seq (key)].
std::vector<float> attention_mask(const std::string& op, const KernelIO& io, const AttentionAttrs& a, int64_t batch, int64_t seq) {
  std::vector<float> mask(static_cast<size_t>(batch * seq * seq), 0.0f);
  auto at = [&](int64_t b, int64_t q, int64_t k) -> float& { return mask[static_cast<size_t>((b * seq + q) * seq + k)]; };
  if (io.has_input(5)) {
    const Tensor& m = io.input(5);
    if (m.dtype() != DataType::kInt32) fail(ExitCode::kInput, op + ": mask_index must be int32");
    const int32_t* v = m.data<int32_t>();
    if (m.shape() == Shape{batch}) {
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t q = 0; q < seq; ++q)
          for (int64_t k = v[b]; k < seq; ++k)
            if (k >= 0) at(b, q, k) = a.mask_filter_value;
    } else if (m.shape() == Shape{batch, seq}) {
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t q = 0; q < seq; ++q)
          for (int64_t k = 0; k < seq; ++k)
            if (v[b * seq + k] == 0) at(b, q, k) = a.mask_filter_value;
    } else {
      fail(ExitCode::kUnsupported, op + ": mask_index of shape " + shape_to_string(m.shape()) + " is not supported");
    }
  }
  if (a.unidirectional)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t q = 0; q < seq; ++q)
        for (int64_t k = q + 1; k < seq; ++k) at(b, q, k) = a.mask_filter_value;
  return mask;
}

std::unique_ptr<OpKernel> make_qattention(const NodeInfo& info) {
  AttentionAttrs a;
  a.heads = info.required_int("num_heads");
  a.unidirectional = info.attr_int("unidirectional", 0) != 0;
  a.mask_filter_value = info.attr_float("mask_filter_value", -10000.0f);
  a.scale = info.attr_float("scale", 0.0f);
  if (a.heads <= 0) info.invalid("num_heads must be positive");
  if (info.has_input(8)) info.unsupported("the past input (decoder key/value cache) is not supported by onnxq's executor");
  if (info.has_attr("qkv_hidden_sizes")) info.unsupported("qkv_hidden_sizes (unequal Q/K/V widths) is not supported by onnxq's executor");
  return make_kernel([=](KernelIO& io) {
    const std::string op = "QAttention";
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(1);
    const Tensor& bias = io.input(2);
    for (const Tensor* t : {&x, &w})
      if (t->dtype() != DataType::kUInt8 && t->dtype() != DataType::kInt8)
        fail(ExitCode::kUnsupported, op + ": input and weight must be 8-bit integers");
    if (x.rank() != 3 || w.rank() != 2 || w.shape()[0] != x.shape()[2] || w.shape()[1] % 3 != 0)
      fail(ExitCode::kInput, op + ": input " + shape_to_string(x.shape()) + " and weight " + shape_to_string(w.shape()) + " do not match");
    const int64_t B = x.shape()[0], S = x.shape()[1], in = x.shape()[2], H3 = w.shape()[1], H = H3 / 3;
    if (H % a.heads != 0) fail(ExitCode::kInput, op + ": hidden size is not a multiple of num_heads");
    if (bias.dtype() != DataType::kFloat || bias.numel() != H3) fail(ExitCode::kInput, op + ": bias must be float32 [3 * hidden]");
    const int64_t head = H / a.heads;
    const float x_scale = scalar_float(io.input(3), "QAttention: input_scale");
    const std::vector<float> w_scale = floats_of(io.input(4));
    if (w_scale.size() != 1 && static_cast<int64_t>(w_scale.size()) != H3) fail(ExitCode::kInput, op + ": weight_scale size");
    const int32_t x_zp = io.has_input(6) ? scalar_int(io.input(6), "QAttention: input_zero_point") : 0;
    std::vector<int32_t> w_zp = io.has_input(7) ? ints_of(io.input(7)) : std::vector<int32_t>{0};
    if (w_zp.size() != 1 && static_cast<int64_t>(w_zp.size()) != H3) fail(ExitCode::kInput, op + ": weight_zero_point size");

    // QKV [B*S, 3H] = (x - zp) (w - zp) * x_scale * w_scale + bias.
    std::vector<int32_t> xa = ints_of(x);
    for (int32_t& v : xa) v -= x_zp;
    std::vector<int32_t> wt(static_cast<size_t>(H3 * in));
    for (int64_t k = 0; k < in; ++k)
      for (int64_t j = 0; j < H3; ++j)
        wt[static_cast<size_t>(j * in + k)] = int_at(w, k * H3 + j) - w_zp[w_zp.size() == 1 ? 0 : static_cast<size_t>(j)];
    std::vector<int32_t> acc(static_cast<size_t>(B * S * H3));
    int_gemm(B * S, H3, in, xa.data(), wt.data(), acc.data(), io.threads());
    std::vector<float> qkv(acc.size());
    const float* bv = bias.data<float>();
    for (int64_t r = 0; r < B * S; ++r)
      for (int64_t j = 0; j < H3; ++j) {
        const float s = x_scale * w_scale[w_scale.size() == 1 ? 0 : static_cast<size_t>(j)];
        qkv[static_cast<size_t>(r * H3 + j)] = static_cast<float>(acc[static_cast<size_t>(r * H3 + j)]) * s + bv[j];
      }

    const std::vector<float> mask = attention_mask(op, io, a, B, S);
    const float scale = a.scale != 0.0f ? a.scale : 1.0f / std::sqrt(static_cast<float>(head));
    Tensor out(DataType::kFloat, {B, S, H});
    Tensor present(DataType::kFloat, {2, B, a.heads, S, head});
    std::vector<float> q(static_cast<size_t>(S * head)), k(q.size()), v(q.size()), scores(static_cast<size_t>(S * S)), ctx(q.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < a.heads; ++h) {
        for (int64_t s = 0; s < S; ++s)
          for (int64_t e = 0; e < head; ++e) {
            const float* row = qkv.data() + (b * S + s) * H3 + h * head + e;
            q[static_cast<size_t>(s * head + e)] = row[0];
            k[static_cast<size_t>(s * head + e)] = row[H];
            v[static_cast<size_t>(s * head + e)] = row[2 * H];
          }
        float* pk = present.data<float>() + ((0 * B + b) * a.heads + h) * S * head;
        float* pv = present.data<float>() + ((1 * B + b) * a.heads + h) * S * head;
        std::copy(k.begin(), k.end(), pk);
        std::copy(v.begin(), v.end(), pv);
        gemm_f32(false, true, S, S, head, scale, q.data(), head, k.data(), head, 0.0f, scores.data(), S, 1);
        for (int64_t i = 0; i < S; ++i) {
          float* row = scores.data() + i * S;
          float peak = -INFINITY;
          for (int64_t j = 0; j < S; ++j) {
            row[j] += mask[static_cast<size_t>((b * S + i) * S + j)];
            peak = std::max(peak, row[j]);
          }
          float sum = 0.0f;
          for (int64_t j = 0; j < S; ++j) sum += (row[j] = std::exp(row[j] - peak));
          for (int64_t j = 0; j < S; ++j) row[j] /= sum;
        }
        gemm_f32(false, false, S, head, S, 1.0f, scores.data(), S, v.data(), head, 0.0f, ctx.data(), head, 1);
        for (int64_t s = 0; s < S; ++s)
          std::copy_n(ctx.data() + s * head, head, out.data<float>() + (b * S + s) * H + h * head);
      }
    io.set_output(0, std::move(out));
    if (io.num_outputs() > 1) io.set_output(1, std::move(present));
  });
}

}  // namespace

void register_qattention(KernelRegistry& registry) {
  registry.add("QAttention", make_qattention, 1, 1, "com.microsoft");
}

}  // namespace onnxq::exec
