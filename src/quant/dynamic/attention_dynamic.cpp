// com.microsoft Attention with a constant float32 2-D weight [input_hidden, 3*hidden]:
//   qoperator: DynamicQuantizeLinear(input) -> com.microsoft QAttention on the quantized input
//              and weight, the pair ONNX Runtime's tool emits (operators/attention.py);
//   qdq:       weight_quantized -> DequantizeLinear -> Attention (weight-only).
// Per channel means one scale per weight column (axis 1), which QAttention takes as a
// [3*hidden] weight_scale and weight_zero_point.
#include <set>

#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {
namespace {

// Attention attributes QAttention's schema also has (ONNX Runtime 1.30 rejects others).
// qkv_hidden_sizes is among them, but its kernel assumes equal Q, K and V widths, so like ONNX
// Runtime's tool the rule leaves such nodes float; rotary embedding and a shared past/present
// buffer are taken only when off.
const std::set<std::string> kQAttentionAttributes = {"num_heads", "unidirectional", "mask_filter_value",
                                                     "scale"};
const std::set<std::string> kQAttentionIfZero = {"do_rotary", "past_present_share_buffer"};

RuleResult quantize_attention(DynamicContext& ctx, const onnx::NodeProto& node) {
  if (node.input_size() < 2) return RuleResult::skip("Attention needs inputs input and weights");
  const auto weight = ctx.float_weight(node, 1);
  if (!weight) return RuleResult::skip("input weights is not a float32 constant");
  if (weight->proto->dims_size() != 2) return RuleResult::skip("weights is not 2-D");

  auto input = [&](int i) { return i < node.input_size() ? node.input(i) : std::string(); };
  const std::string& x = node.input(0);
  const std::string& w = node.input(1);
  const std::string base = node.name().empty() ? node.output(0) : node.name();
  auto& g = ctx.graph;

  if (ctx.options.format == QuantFormat::kQDQ) {
    const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/1);
    const QuantizedWeightNames q = ctx.weights.quantize(*weight, w, spec, node);
    const std::string w_dq = g.unique_name(w + "_DequantizeLinear_Output");
    auto dq = make_node("DequantizeLinear", {q.values, q.scale, q.zero_point}, {w_dq},
                        g.unique_name(base + "_weights_DequantizeLinear"));
    if (spec.axis >= 0) set_attr(dq, "axis", int64_t{1});
    ctx.require_opset("", spec.axis >= 0 ? 13 : 10);
    onnx::NodeProto attention = node;
    attention.set_input(1, w_dq);
    RuleResult out;
    out.nodes = {dq, attention};
    return out;
  }

  // QAttention: input, weight, bias, input_scale, weight_scale, mask_index, input_zero_point,
  // weight_zero_point, past. Attention's later inputs (attention_bias, past_sequence_length)
  // have no place there, and its optional bias is required.
  if (input(2).empty()) return RuleResult::skip("QAttention needs a bias");
  for (int i = 5; i < node.input_size(); ++i)
    if (!node.input(i).empty())
      return RuleResult::skip("QAttention has no input for Attention's input " + std::to_string(i));
  for (const auto& a : node.attribute()) {
    if (kQAttentionIfZero.count(a.name()) && a.i() != 0)
      return RuleResult::skip("QAttention does not take " + a.name());
    if (!kQAttentionAttributes.count(a.name()) && !kQAttentionIfZero.count(a.name()))
      return RuleResult::skip("QAttention has no attribute " + a.name());
  }

  const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/1);
  const QuantizedWeightNames q = ctx.weights.quantize(*weight, w, spec, node);
  std::vector<onnx::NodeProto> dql;
  const QuantizedWeightNames xq = ctx.quantize_activation(x, dql);
  const std::string &x_q = xq.values, &x_scale = xq.scale, &x_zp = xq.zero_point;
  std::vector<std::string> inputs = {x_q, q.values, input(2), x_scale, q.scale,
                                     input(3), x_zp, q.zero_point, input(4)};
  if (inputs.back().empty()) inputs.pop_back();
  std::vector<std::string> outputs(node.output().begin(), node.output().end());
  onnx::NodeProto qattention =
      make_node("QAttention", inputs, outputs, g.unique_name(base + "_quant"), "com.microsoft");
  *qattention.mutable_attribute() = node.attribute();
  ctx.require_opset("", 11);
  ctx.require_opset("com.microsoft", 1);
  RuleResult out;
  out.nodes = std::move(dql);
  out.nodes.push_back(qattention);
  return out;
}

}  // namespace

void register_attention_dynamic(DynamicRuleRegistry& registry) {
  registry.add("com.microsoft:Attention", quantize_attention);
}

}  // namespace onnxq
