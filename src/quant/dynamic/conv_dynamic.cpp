// Conv with a constant float32 weight W[M, C/group, k...] (per channel: one scale per output
// channel, axis 0), bias optional:
//   qoperator: DynamicQuantizeLinear(X) -> ConvInteger -> Cast -> Mul(X_scale * W_scale)
//              [-> Add(bias reshaped to [1, M, 1, ...])], the chain ONNX Runtime's tool emits;
//   qdq:       W_quantized -> DequantizeLinear -> Conv (weight-only).
//
// ONNX Runtime 1.30's CPU ConvInteger (checked against a reference convolution, int32 for int32)
// runs uint8 activations with uint8 or int8 weights, but fails at run time on a weight zero point
// of more than one element ("Non per-tensor quantization is not supported now"). Per-channel int8
// weights are symmetric, all zero points 0, so ConvInteger gets none and the per-channel scales
// are applied afterwards, stored as [1, M, 1, ...] to broadcast over Y. Per-channel uint8 weights
// have a zero point per channel: ORT can't run them as ConvInteger, so that node gets the
// weight-only QDQ form, the most accurate form ORT does run (activations stay float) with the
// weight type and granularity asked for.
#include <spdlog/spdlog.h>

#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {
namespace {

// Whether ConvInteger can take the weight's zero points: one for the tensor, or all 0.
bool conv_integer_runs(const WeightQuantSpec& spec) {
  return spec.axis < 0 || (spec.symmetric && dtype_is_signed(spec.type));
}

// Per-channel symmetric weights for ConvInteger: the scale as [1, M, 1, ...] (rank of W) and no
// zero point, since every one is 0.
WeightLayout conv_integer_per_channel_layout(int rank) {
  return {"ConvInteger per channel", [rank](const QuantizedWeight& q) {
            QuantizedWeight out = q;
            Shape shape(static_cast<size_t>(rank), 1);
            shape[1] = q.scale.numel();
            out.scale = q.scale.reshaped(shape);
            for (int64_t i = 0; i < q.zero_point.numel(); ++i)
              if (read_quantized(q.zero_point, i) != 0)
                fail(ExitCode::kInternal, "a symmetric per-channel weight has a non-zero zero point");
            out.zero_point = Tensor();
            return out;
          }};
}

RuleResult quantize_conv(DynamicContext& ctx, const onnx::NodeProto& node) {
  if (node.input_size() < 2 || node.output_size() != 1) return RuleResult::skip("Conv needs inputs X and W");
  const auto weight = ctx.float_weight(node, 1);
  if (!weight) return RuleResult::skip("input W is not a float32 constant");
  const int rank = weight->proto->dims_size();
  if (rank < 3) return RuleResult::skip("weight W is not at least 3-D");

  const std::string& x = node.input(0);
  const std::string& w = node.input(1);
  const std::string bias = node.input_size() > 2 ? node.input(2) : "";
  const std::string& y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/0);
  auto& g = ctx.graph;

  const bool qoperator = ctx.options.format == QuantFormat::kQOperator;
  if (qoperator && !conv_integer_runs(spec))
    spdlog::debug(
        "node '{}' (Conv): ONNX Runtime's ConvInteger can't take a zero point per channel, as {} "
        "per-channel weights have; writing the weight-only QDQ form instead",
        node.name(), dtype_name(spec.type));

  RuleResult out;
  if (!qoperator || !conv_integer_runs(spec)) {
    const QuantizedWeightNames q = ctx.weights.quantize(*weight, w, spec, node);
    out.nodes = ctx.dequantize_input(node, 1, q, spec);
    return out;
  }

  const WeightLayout per_channel = conv_integer_per_channel_layout(rank);
  const QuantizedWeightNames q =
      ctx.weights.quantize(*weight, w, spec, node, spec.axis >= 0 ? &per_channel : nullptr);
  ctx.require_opset("", 11);
  std::vector<onnx::NodeProto> dql;
  const QuantizedWeightNames xq = ctx.quantize_activation(x, dql);
  const std::string &x_q = xq.values, &x_scale = xq.scale, &x_zp = xq.zero_point;
  const std::string y_int = g.unique_name(y + "_output_quantized");
  const std::string y_cast = g.unique_name(y + "_output_quantized_cast");
  const std::string scales = g.unique_name(base + "_scales_mul");
  const std::string y_scaled = bias.empty() ? y : g.unique_name(y + "_output_scale_mul");

  std::vector<std::string> conv_inputs = {x_q, q.values, x_zp};
  if (!q.zero_point.empty()) conv_inputs.push_back(q.zero_point);
  auto conv = make_node("ConvInteger", conv_inputs, {y_int}, g.unique_name(base + "_quant"));
  // ConvInteger has exactly Conv's attributes: auto_pad, dilations, group, kernel_shape, pads, strides.
  *conv.mutable_attribute() = node.attribute();
  auto cast = make_node("Cast", {y_int}, {y_cast}, g.unique_name(base + "_output_quantized_cast"));
  set_attr(cast, "to", int64_t{onnx::TensorProto::FLOAT});
  out.nodes = {
      conv,
      cast,
      make_node("Mul", {x_scale, q.scale}, {scales}, g.unique_name(base + "_scales_mul")),
      make_node("Mul", {y_cast, scales}, {y_scaled}, g.unique_name(base + "_output_scale_mul")),
  };
  out.nodes.insert(out.nodes.begin(), dql.begin(), dql.end());
  if (!bias.empty()) {
    // The bias [M] broadcasts over Y[N, M, spatial...] as [1, M, 1, ...]; ONNX Runtime folds the
    // Reshape of a constant bias when it loads the model.
    Shape shape(static_cast<size_t>(rank), 1);
    shape[1] = weight->proto->dims(0);
    const std::string shape_name = g.unique_name(base + "_bias_shape");
    g.add_initializer(shape_name, Tensor::from_vector<int64_t>({static_cast<int64_t>(rank)}, shape));
    const std::string bias_reshaped = g.unique_name(bias + "_reshaped");
    out.nodes.push_back(
        make_node("Reshape", {bias, shape_name}, {bias_reshaped}, g.unique_name(base + "_bias_reshape")));
    out.nodes.push_back(make_node("Add", {y_scaled, bias_reshaped}, {y}, g.unique_name(base + "_bias_add")));
  }
  return out;
}

}  // namespace

void register_conv_dynamic(DynamicRuleRegistry& registry) { registry.add("Conv", quantize_conv); }

}  // namespace onnxq
