// LSTM and GRU whose W [num_directions, gates*hidden, input] and R [num_directions,
// gates*hidden, hidden] are float32 constants:
//   qoperator: LSTM -> com.microsoft DynamicQuantizeLSTM, ONNX Runtime's contrib op, built as its
//              tool's operators/lstm.py does: W and R quantized, then transposed to
//              [num_directions, input, 4*hidden] and [num_directions, hidden, 4*hidden], the
//              layout its kernel multiplies with; scales and zero points [num_directions] (one
//              per direction), or with --per-channel [num_directions, 4*hidden] (one per gate
//              row). X is quantized inside the kernel at run time.
//              GRU stays float: ONNX Runtime has no quantized GRU op.
//   qdq:       W_quantized -> DequantizeLinear, R_quantized -> DequantizeLinear -> LSTM/GRU
//              (weight-only). Per channel is one scale per gate row (axis 1), shared by the
//              directions: a per-axis DequantizeLinear has a single axis.
#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {
namespace {

struct RnnWeights {
  GraphEditor::Constant w, r;
  int64_t input = 0, hidden = 0;
};

// W and R of an LSTM (4 gates) or GRU (3 gates), or why the node stays float.
std::string find_weights(DynamicContext& ctx, const onnx::NodeProto& node, int gates, RnnWeights& out) {
  if (node.input_size() < 3) return node.op_type() + " needs inputs X, W and R";
  const auto w = ctx.float_weight(node, 1);
  if (!w) return "input W is not a float32 constant";
  const auto r = ctx.float_weight(node, 2);
  if (!r) return "input R is not a float32 constant";
  const auto& wd = w->proto->dims();
  const auto& rd = r->proto->dims();
  if (wd.size() != 3 || rd.size() != 3) return "W or R is not 3-D";
  const auto* dir = find_attr(node, "direction");
  const int64_t directions = dir && dir->s() == "bidirectional" ? 2 : 1;
  const int64_t hidden = rd[2];
  if (wd[0] != directions || rd[0] != directions || wd[1] != gates * hidden || rd[1] != gates * hidden ||
      attr_or(node, "hidden_size", hidden) != hidden)
    return "W and R shapes do not match hidden_size and direction";
  out = {*w, *r, wd[2], hidden};
  return {};
}

// DynamicQuantizeLSTM's layout of a quantized [directions, rows, k] weight: values as
// [directions, k, rows], per-row scales and zero points [directions, rows, 1] as
// [directions, rows] (per-direction ones are [directions] already).
QuantizedWeight to_kernel_layout(const QuantizedWeight& q) {
  const Shape& shape = q.values.shape();
  const int64_t dirs = shape[0], rows = shape[1], k = shape[2];
  QuantizedWeight out = q;
  out.values = Tensor(q.values.dtype(), {dirs, k, rows});  // int8 or uint8: one byte per element
  const std::byte* src = q.values.raw_data();
  std::byte* dst = out.values.raw_data();
  for (int64_t d = 0; d < dirs; ++d)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < k; ++c) dst[(d * k + c) * rows + r] = src[(d * rows + r) * k + c];
  if (q.scale.rank() == 3) {
    out.scale = q.scale.reshaped({dirs, rows});
    out.zero_point = q.zero_point.reshaped({dirs, rows});
  }
  return out;
}

RuleResult quantize_lstm_qoperator(DynamicContext& ctx, const onnx::NodeProto& node, const RnnWeights& rw) {
  if (attr_or(node, "layout", 0) != 0)
    return RuleResult::skip("DynamicQuantizeLSTM has no batch-first layout");

  // The kernel accepts int8 and uint8 weights; with per-row parameters, int8 zero points must
  // be 0 and uint8 ones all equal, so per-channel uint8 is symmetric (zero point 128, or 64
  // with reduce-range).
  auto spec_for = [&](int64_t k) {
    WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/0);
    if (ctx.options.per_channel) {
      spec.symmetric = true;
      spec.axis = 2;  // blocks spanning all of K: one scale per (direction, gate row)
      spec.block_size = static_cast<int>(k);
    } else {
      spec.axis = 0;  // one scale per direction
    }
    return spec;
  };
  static const WeightLayout kLayout{"DynamicQuantizeLSTM", to_kernel_layout};
  const QuantizedWeightNames wq = ctx.weights.quantize(rw.w, node.input(1), spec_for(rw.input), node, &kLayout);
  const QuantizedWeightNames rq = ctx.weights.quantize(rw.r, node.input(2), spec_for(rw.hidden), node, &kLayout);

  auto input = [&](int i) { return i < node.input_size() ? node.input(i) : std::string(); };
  const std::string base = node.name().empty() ? node.output(0) : node.name();
  std::vector<std::string> outputs(node.output().begin(), node.output().end());
  onnx::NodeProto q = make_node("DynamicQuantizeLSTM",
                                {input(0), wq.values, rq.values, input(3), input(4), input(5), input(6),
                                 input(7), wq.scale, wq.zero_point, rq.scale, rq.zero_point},
                                outputs, ctx.graph.unique_name(base + "_quant"), "com.microsoft");
  for (const auto& a : node.attribute())
    if (a.name() != "layout") *q.add_attribute() = a;
  // ONNX Runtime's LSTM kernels require hidden_size; R's shape gives it.
  if (!find_attr(node, "hidden_size")) set_attr(q, "hidden_size", rw.hidden);
  ctx.require_opset("com.microsoft", 1);
  RuleResult out;
  out.nodes = {q};
  return out;
}

RuleResult quantize_rnn_qdq(DynamicContext& ctx, const onnx::NodeProto& node, const RnnWeights& rw) {
  const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/1);
  const std::string base = node.name().empty() ? node.output(0) : node.name();
  auto& g = ctx.graph;
  RuleResult out;
  onnx::NodeProto rnn = node;
  for (int i : {1, 2}) {
    const std::string& name = node.input(i);
    const QuantizedWeightNames q = ctx.weights.quantize(i == 1 ? rw.w : rw.r, name, spec, node);
    const std::string dq_out = g.unique_name(name + "_DequantizeLinear_Output");
    auto dq = make_node("DequantizeLinear", {q.values, q.scale, q.zero_point}, {dq_out},
                        g.unique_name(base + (i == 1 ? "_W" : "_R") + "_DequantizeLinear"));
    if (spec.axis >= 0) set_attr(dq, "axis", int64_t{1});
    out.nodes.push_back(dq);
    rnn.set_input(i, dq_out);
  }
  ctx.require_opset("", spec.axis >= 0 ? 13 : 10);
  out.nodes.push_back(rnn);
  return out;
}

RuleResult quantize_lstm(DynamicContext& ctx, const onnx::NodeProto& node) {
  RnnWeights rw;
  if (std::string reason = find_weights(ctx, node, 4, rw); !reason.empty()) return RuleResult::skip(reason);
  if (ctx.options.format == QuantFormat::kQDQ) return quantize_rnn_qdq(ctx, node, rw);
  return quantize_lstm_qoperator(ctx, node, rw);
}

RuleResult quantize_gru(DynamicContext& ctx, const onnx::NodeProto& node) {
  if (ctx.options.format != QuantFormat::kQDQ)
    return RuleResult::skip("ONNX Runtime has no quantized GRU op; --format qdq quantizes its weights");
  RnnWeights rw;
  if (std::string reason = find_weights(ctx, node, 3, rw); !reason.empty()) return RuleResult::skip(reason);
  return quantize_rnn_qdq(ctx, node, rw);
}

}  // namespace

void register_lstm_dynamic(DynamicRuleRegistry& registry) {
  registry.add("LSTM", quantize_lstm);
  registry.add("GRU", quantize_gru);
}

}  // namespace onnxq
