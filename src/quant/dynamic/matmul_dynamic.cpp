// MatMul with a constant 2-D weight B[K, N]:
//   qoperator: DynamicQuantizeLinear(A) -> MatMulInteger -> Cast -> Mul(A_scale * B_scale),
//              the chain ONNX Runtime's tool emits (and fuses into DynamicQuantizeMatMul);
//   qdq:       B_quantized -> DequantizeLinear -> MatMul (weight-only).
// Per channel means one scale per output column (axis 1). 4-bit weights: see matmul_4bit.cpp.
#include "quant/dynamic/dynamic_rules.hpp"
#include "quant/dynamic/matmul_4bit.hpp"
#include "onnxq/tensor_proto.hpp"

namespace onnxq {
namespace {

RuleResult quantize_matmul(DynamicContext& ctx, const onnx::NodeProto& node) {
  if (node.input_size() != 2) return RuleResult::skip("MatMul needs two inputs");
  const auto weight = ctx.float_weight(node, 1);
  if (!weight) return RuleResult::skip("input B is not a float32 constant");
  if (weight->proto->dims_size() != 2) return RuleResult::skip("weight B is not 2-D");
  if (is_4bit(ctx.options)) return quantize_matmul_4bit(ctx, node, *weight);

  const std::string& a = node.input(0);
  const std::string& b = node.input(1);
  const std::string& y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/1);
  const QuantizedWeightNames q = ctx.weights.quantize(*weight, b, spec, node);
  auto& g = ctx.graph;

  RuleResult out;
  if (ctx.options.format == QuantFormat::kQDQ) {
    out.nodes = ctx.dequantize_input(node, 1, q, spec);
    return out;
  }

  ctx.require_opset("", 11);
  const QuantizedWeightNames aq = ctx.quantize_activation(a, out.nodes);
  const std::string &a_q = aq.values, &a_scale = aq.scale, &a_zp = aq.zero_point;
  const std::string y_int = g.unique_name(y + "_output_quantized");
  const std::string y_cast = g.unique_name(y + "_output_quantized_cast");
  const std::string scales = g.unique_name(base + "_scales_mul");
  auto cast = make_node("Cast", {y_int}, {y_cast}, g.unique_name(base + "_output_quantized_cast"));
  set_attr(cast, "to", int64_t{onnx::TensorProto::FLOAT});
  out.nodes.insert(out.nodes.end(), {
      make_node("MatMulInteger", {a_q, q.values, a_zp, q.zero_point}, {y_int}, g.unique_name(base + "_quant")),
      cast,
      make_node("Mul", {a_scale, q.scale}, {scales}, g.unique_name(base + "_scales_mul")),
      make_node("Mul", {y_cast, scales}, {y}, g.unique_name(base + "_output_scale_mul")),
  });
  return out;
}

}  // namespace

void register_matmul_dynamic(DynamicRuleRegistry& registry) { registry.add("MatMul", quantize_matmul); }

}  // namespace onnxq
