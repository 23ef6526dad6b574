#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {

const DynamicRuleRegistry& dynamic_rules() {
  static const DynamicRuleRegistry registry = [] {
    DynamicRuleRegistry r;
    register_matmul_dynamic(r);
    register_gather_dynamic(r);
    register_lstm_dynamic(r);
    register_attention_dynamic(r);
    register_conv_dynamic(r);
    register_gemm_dynamic(r);
    return r;
  }();
  return registry;
}

std::optional<GraphEditor::Constant> DynamicContext::float_weight(const onnx::NodeProto& node, int index) {
  if (index >= node.input_size() || node.input(index).empty()) return std::nullopt;
  auto c = graph.find_constant(node.input(index));
  if (!c || c->proto->data_type() != onnx::TensorProto::FLOAT) return std::nullopt;
  return c;
}

QuantizedWeightNames DynamicContext::quantize_activation(const std::string& x, std::vector<onnx::NodeProto>& nodes) {
  if (auto it = quantized_activations.find(x); it != quantized_activations.end()) return it->second;
  QuantizedWeightNames q{graph.unique_name(x + "_quantized"), graph.unique_name(x + "_scale"),
                         graph.unique_name(x + "_zero_point")};
  nodes.push_back(make_node("DynamicQuantizeLinear", {x}, {q.values, q.scale, q.zero_point},
                            graph.unique_name(x + "_QuantizeLinear")));
  return quantized_activations[x] = q;
}

std::vector<onnx::NodeProto> DynamicContext::dequantize_input(const onnx::NodeProto& node, int index,
                                                              const QuantizedWeightNames& q,
                                                              const WeightQuantSpec& spec) {
  const std::string& weight = node.input(index);
  const std::string dq_out = graph.unique_name(weight + "_DequantizeLinear_Output");
  std::vector<std::string> inputs = {q.values, q.scale};
  if (!q.zero_point.empty()) inputs.push_back(q.zero_point);
  auto dq = make_node("DequantizeLinear", inputs, {dq_out}, graph.unique_name(weight + "_DequantizeLinear"));
  // Always explicit: DequantizeLinear's default axis is 1.
  if (spec.axis >= 0) set_attr(dq, "axis", int64_t{spec.axis});
  require_opset("", spec.axis >= 0 ? 13 : 10);
  onnx::NodeProto rewired = node;
  rewired.set_input(index, dq_out);
  return {dq, rewired};
}

WeightQuantSpec weight_spec(const DynamicQuantOptions& options, int channel_axis) {
  WeightQuantSpec spec;
  // 4-bit weights are MatMul's alone (matmul_4bit.cpp, which builds its own blocked spec); the
  // other weights in that mode, Gather's embedding tables, become int8 with one scale per row (the
  // channel axis), so the tables are not the coarsest part of a block-wise quantized model.
  const bool four_bit = is_4bit(options);
  spec.type = four_bit ? DataType::kInt8 : options.weight_type;
  // Signed weights are symmetric, as in ONNX Runtime's tool; unsigned ones asymmetric.
  spec.symmetric = dtype_is_signed(spec.type);
  spec.reduce_range = options.reduce_range;
  spec.axis = options.per_channel || four_bit ? channel_axis : -1;
  return spec;
}

}  // namespace onnxq
