// Weights of ONNX's integer ops: QLinearConv and QLinearMatMul carry their scale and zero point;
// MatMulInteger and ConvInteger (quantize-dynamic's qoperator format) leave the scale to the Mul
// after them; a Gather on an integer embedding table is dequantized after the lookup.
#include "debug/weight_readers.hpp"

namespace onnxq::debug {
namespace {

std::string input_or_empty(const onnx::NodeProto& n, int slot) { return slot < n.input_size() ? n.input(slot) : ""; }

bool constant_integers(const GraphIndex& quant, const std::string& name) {
  const auto* p = quant.constant(name);
  return p && p->data_type() != onnx::TensorProto::FLOAT && p->data_type() != onnx::TensorProto::FLOAT16 &&
         p->data_type() != onnx::TensorProto::DOUBLE;
}

// Scale of an integer weight whose op has no scale input: by onnxq's and ONNX Runtime's naming
// (W_quantized -> W_scale), else from the rescale after the op: Y_int -> Cast -> Mul(Y, S) with
// S = Mul(x_scale, w_scale), w_scale the constant.
std::string find_weight_scale(const GraphIndex& quant, int index, const std::string& values) {
  if (const std::string base = float_name_of(values); !base.empty()) {
    const std::string suffix = values.substr(base.size() + std::string("_quantized").size());
    for (const std::string& c : {base + "_scale" + suffix, base + "_scale"})
      if (quant.constant(c)) return c;
  }
  const auto& n = quant.node(index);
  if (n.output_size() < 1) return {};
  for (auto [cast, slot] : quant.consumers(n.output(0))) {
    if (quant.node(cast).op_type() != "Cast") continue;
    for (auto [mul, s] : quant.consumers(quant.node(cast).output(0))) {
      const auto& m = quant.node(mul);
      if (m.op_type() != "Mul" || m.input_size() != 2) continue;
      const std::string& other = m.input(1 - s);
      const int scales = quant.producer(other);
      if (scales < 0 || quant.node(scales).op_type() != "Mul") continue;
      for (const auto& in : quant.node(scales).input())
        if (quant.constant(in)) return in;
    }
  }
  return {};
}

// A weight with scale and zero point at fixed slots; `axis` is the channel axis of the float
// op's weight when the scale has one value per channel.
WeightReader fixed_slots(int values, int scale, int zero_point, int axis) {
  return [=](const GraphIndex& quant, int index) -> std::vector<QuantizedWeightRef> {
    const auto& n = quant.node(index);
    const std::string v = input_or_empty(n, values), s = input_or_empty(n, scale);
    if (v.empty() || s.empty() || !constant_integers(quant, v) || !quant.constant(s)) return {};
    QuantizedWeightRef ref = read_linear_weight(quant, v, s, input_or_empty(n, zero_point), {axis, 0});
    ref.node = index;
    return {std::move(ref)};
  };
}

// QLinearConv: W at 3 (scale 4, zero point 5) and the int32 bias at 8, whose scale is
// x_scale · w_scale and zero point 0, as the op defines it.
std::vector<QuantizedWeightRef> read_qlinear_conv(const GraphIndex& quant, int index) {
  auto out = fixed_slots(3, 4, 5, 0)(quant, index);
  const auto& n = quant.node(index);
  const std::string b = input_or_empty(n, 8);
  if (out.empty() || b.empty() || !constant_integers(quant, b) || !quant.constant(n.input(1))) return out;
  const Tensor x_scale = float_scale(quant.value(n.input(1)));
  const Tensor w_scale = float_scale(quant.value(n.input(4)));
  const Tensor bias = quant.value(b);
  if (x_scale.numel() != 1) return out;
  Tensor scale(DataType::kFloat, {w_scale.numel()});
  for (int64_t c = 0; c < w_scale.numel(); ++c) scale.data<float>()[c] = x_scale.data<float>()[0] * w_scale.data<float>()[c];
  QuantizedWeightRef ref;
  ref.values = b;
  ref.node = index;
  ref.float_slot = 2;
  ref.dequantized = dequantize(bias, scale.numel() == 1 ? scale.reshaped({}) : scale, Tensor(), {0, 0}, "bias '" + b + "'");
  ref.type = std::string(dtype_name(bias.dtype()));
  ref.params = summarize_params(scale, Tensor());
  ref.bytes_after = bias.nbytes();  // its scale is the product of two others, stored nowhere
  out.push_back(std::move(ref));
  return out;
}

// MatMulInteger / ConvInteger: B or W at slot 1, its zero point at slot 3.
WeightReader scale_after(int axis) {
  return [=](const GraphIndex& quant, int index) -> std::vector<QuantizedWeightRef> {
    const auto& n = quant.node(index);
    const std::string v = input_or_empty(n, 1);
    if (v.empty() || !constant_integers(quant, v)) return {};
    const std::string s = find_weight_scale(quant, index, v);
    if (s.empty()) return {};
    const Tensor values = quant.value(v);
    const Tensor scale = quant.value(s);
    const std::string zp_name = input_or_empty(n, 3);
    const Tensor zp = zp_name.empty() ? Tensor() : quant.value(zp_name);
    // ConvInteger's per-channel scale is stored [1, M, 1, ...] to broadcast over its output.
    const Tensor flat_scale = scale.reshaped({scale.numel()});
    const Tensor flat_zp = zp.defined() ? zp.reshaped({zp.numel()}) : Tensor();
    QuantizedWeightRef ref;
    ref.values = v;
    ref.node = index;
    ref.dequantized = dequantize(values, flat_scale, flat_zp, {axis, 0}, "weight '" + v + "'");
    ref.type = std::string(dtype_name(values.dtype()));
    ref.params = summarize_params(flat_scale, flat_zp);
    ref.bytes_after = values.nbytes() + scale.nbytes() + (zp.defined() ? zp.nbytes() : 0);
    return {std::move(ref)};
  };
}

// Gather on an integer table (quantize-dynamic's embeddings): scales per row or per tensor.
std::vector<QuantizedWeightRef> read_gather(const GraphIndex& quant, int index) {
  const auto& n = quant.node(index);
  const std::string v = input_or_empty(n, 0);
  if (v.empty() || !constant_integers(quant, v) || float_name_of(v).empty()) return {};
  const std::string base = float_name_of(v);
  const std::string suffix = v.substr(base.size() + std::string("_quantized").size());
  std::string s, z;
  for (const std::string& c : {base + "_scale" + suffix, base + "_scale"})
    if (s.empty() && quant.constant(c)) s = c;
  for (const std::string& c : {base + "_zero_point" + suffix, base + "_zero_point"})
    if (z.empty() && quant.constant(c)) z = c;
  if (s.empty()) return {};
  QuantizedWeightRef ref = read_linear_weight(quant, v, s, z, {0, 0});
  ref.node = index;
  ref.float_slot = 0;
  return {std::move(ref)};
}

}  // namespace

void register_integer_weight_readers(WeightReaderRegistry& registry) {
  registry[":QLinearConv"] = read_qlinear_conv;
  registry[":QLinearMatMul"] = fixed_slots(3, 4, 5, -1);
  registry[":MatMulInteger"] = scale_after(-1);
  registry[":ConvInteger"] = scale_after(0);
  registry[":Gather"] = read_gather;
}

}  // namespace onnxq::debug
