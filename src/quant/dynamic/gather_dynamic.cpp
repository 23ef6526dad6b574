// Gather (axis 0) on a constant float32 2-D embedding table, weight-only as ONNX Runtime's
// tool does it:
//   qoperator: Gather on the quantized table, then the gathered rows are dequantized;
//   qdq:       table_quantized -> DequantizeLinear -> Gather.
// Per channel means one scale per row, the axis along which an embedding table's magnitudes
// vary. A plain DequantizeLinear after the Gather can't follow per-row scales, so qoperator
// gathers the rows' scales (and zero points) with the same indices and dequantizes with
// Cast/Sub/Mul: y = (float(table_q[idx]) - zp[idx]) * scale[idx].
#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {
namespace {

// Whether every zero point of a quantized weight is 0, so the Sub can be left out.
bool zero_points_are_zero(GraphEditor& g, const std::string& name) {
  const auto zp = g.find_constant(name);
  if (!zp) return false;
  const Tensor t = zp->owner->model().tensor_data(*zp->proto);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (read_quantized(t, i) != 0) return false;
  return true;
}

RuleResult quantize_gather(DynamicContext& ctx, const onnx::NodeProto& node) {
  if (node.input_size() != 2 || node.output_size() != 1) return RuleResult::skip("Gather needs two inputs");
  if (attr_or(node, "axis", 0) != 0) return RuleResult::skip("only Gather along axis 0 reads table rows");
  const auto weight = ctx.float_weight(node, 0);
  if (!weight) return RuleResult::skip("input data is not a float32 constant");
  // Gathers on 1-D constants are mostly lookups of numbers the graph computes with; an
  // embedding table is 2-D.
  if (weight->proto->dims_size() != 2) return RuleResult::skip("data is not a 2-D embedding table");

  const std::string& data = node.input(0);
  const std::string& idx = node.input(1);
  const std::string& y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/0);
  // Per-row dequantization uses Cast's integer `to` and Reshape's shape input, and 4-bit runs
  // don't raise the opset of older models.
  const bool per_row_ops = ctx.options.format == QuantFormat::kQOperator && spec.axis >= 0;
  if (per_row_ops && ctx.graph.model().opset_version("") < 6)
    return RuleResult::skip("per-row dequantization after Gather needs opset 6");
  const QuantizedWeightNames q = ctx.weights.quantize(*weight, data, spec, node);
  auto& g = ctx.graph;

  RuleResult out;
  if (ctx.options.format == QuantFormat::kQDQ) {
    out.nodes = ctx.dequantize_input(node, 0, q, spec);
    return out;
  }

  const std::string rows_q = g.unique_name(y + "_quantized");
  onnx::NodeProto gather = node;
  gather.set_name(g.unique_name(base + "_quant"));
  gather.set_input(0, q.values);
  gather.set_output(0, rows_q);
  if (!per_row_ops) {
    ctx.require_opset("", 10);
    out.nodes = {gather, make_node("DequantizeLinear", {rows_q, q.scale, q.zero_point}, {y},
                                   g.unique_name(base + "_output_DequantizeLinear"))};
    return out;
  }

  // Per row: scale [V] and zero point [V] reshaped to [V, 1] so the gathered [..., 1]
  // broadcasts over each row. Gathering through a Reshape (not from a [V, 1] constant) also
  // keeps a second quantize-dynamic pass from taking the scale vector for a table.
  const std::string col_shape = g.unique_name(base + "_row_param_shape");
  g.add_initializer(col_shape, Tensor::from_vector<int64_t>({2}, {-1, 1}));
  auto gather_param = [&](const std::string& param, const std::string& label) {
    const std::string col = g.unique_name(param + "_column");
    const std::string rows = g.unique_name(y + "_" + label);
    out.nodes.push_back(
        make_node("Reshape", {param, col_shape}, {col}, g.unique_name(base + "_" + label + "_reshape")));
    out.nodes.push_back(
        make_node("Gather", {col, idx}, {rows}, g.unique_name(base + "_" + label + "_gather")));
    return rows;
  };
  auto cast_to_float = [&](const std::string& in, const std::string& label) {
    const std::string cast_out = g.unique_name(y + "_" + label);
    auto cast = make_node("Cast", {in}, {cast_out}, g.unique_name(base + "_" + label));
    set_attr(cast, "to", int64_t{onnx::TensorProto::FLOAT});
    out.nodes.push_back(cast);
    return cast_out;
  };

  out.nodes.push_back(gather);
  std::string centered = cast_to_float(rows_q, "quantized_cast");
  if (!zero_points_are_zero(g, q.zero_point)) {
    const std::string zp_rows = cast_to_float(gather_param(q.zero_point, "zero_point"), "zero_point_cast");
    const std::string sub_out = g.unique_name(y + "_centered");
    out.nodes.push_back(
        make_node("Sub", {centered, zp_rows}, {sub_out}, g.unique_name(base + "_zero_point_sub")));
    centered = sub_out;
  }
  const std::string scale_rows = gather_param(q.scale, "scale");
  out.nodes.push_back(
      make_node("Mul", {centered, scale_rows}, {y}, g.unique_name(base + "_output_scale_mul")));
  return out;
}

}  // namespace

void register_gather_dynamic(DynamicRuleRegistry& registry) { registry.add("Gather", quantize_gather); }

}  // namespace onnxq
