// Gemm Y = alpha * A' * B' + beta * C with a constant 2-D weight B (A' = transA ? A^T : A, and
// likewise B'). ONNX Runtime's dynamic tool leaves Gemm alone; here:
//   qoperator: [Transpose(A)] -> DynamicQuantizeLinear -> MatMulInteger with B' stored quantized
//              in [K, N] layout -> Cast -> Mul(A_scale * B_scale [* alpha]) [-> Add(beta * C)];
//   qdq:       B_quantized (original layout) -> DequantizeLinear -> the same Gemm.
// Per channel means one scale per output column: axis 1 of B' = [K, N], which is axis 0 of the
// original B when transB is set.
#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {
namespace {

float float_attr_or(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const auto* a = find_attr(node, name);
  return a ? a->f() : fallback;
}

// B[N, K] quantized along axis 0 (or per tensor), stored as B^T[K, N] for MatMulInteger: the
// same values, scales and zero points as quantizing B^T along axis 1.
QuantizedWeight store_transposed(const QuantizedWeight& q) {
  const int64_t rows = q.values.shape()[0], cols = q.values.shape()[1];
  QuantizedWeight t = q;
  t.values = Tensor(q.values.dtype(), {cols, rows});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      write_quantized(t.values, c * rows + r, read_quantized(q.values, r * cols + c));
  return t;
}

const WeightLayout kTransposed{"transposed", store_transposed};

// Records that `node` no longer reads the float constant `name`, so the driver prunes it when
// nothing else does. WeightStore::quantize records its weight name before looking the (weight,
// spec, layout) up, so asking again for one already done adds no tensor, only that record.
void drop_float_input(DynamicContext& ctx, GraphEditor::Constant done, const WeightQuantSpec& spec,
                      const WeightLayout* layout, const std::string& name, const onnx::NodeProto& node) {
  ctx.weights.quantize(done, name, spec, node, layout);
}

RuleResult quantize_gemm(DynamicContext& ctx, const onnx::NodeProto& node) {
  if (node.input_size() < 2 || node.output_size() != 1) return RuleResult::skip("Gemm needs inputs A and B");
  const auto weight = ctx.float_weight(node, 1);
  if (!weight) return RuleResult::skip("input B is not a float32 constant");
  if (weight->proto->dims_size() != 2) return RuleResult::skip("weight B is not 2-D");

  const bool trans_a = attr_or(node, "transA", 0) != 0;
  const bool trans_b = attr_or(node, "transB", 0) != 0;
  const float alpha = float_attr_or(node, "alpha", 1.0f);
  const float beta = float_attr_or(node, "beta", 1.0f);
  const std::string& a = node.input(0);
  const std::string& b = node.input(1);
  const std::string c = node.input_size() > 2 ? node.input(2) : "";
  const std::string& y = node.output(0);
  const std::string base = node.name().empty() ? y : node.name();
  const WeightQuantSpec spec = weight_spec(ctx.options, /*channel_axis=*/trans_b ? 0 : 1);
  auto& g = ctx.graph;

  RuleResult out;
  if (ctx.options.format == QuantFormat::kQDQ) {
    const QuantizedWeightNames q = ctx.weights.quantize(*weight, b, spec, node);
    const std::string b_dq = g.unique_name(b + "_DequantizeLinear_Output");
    auto dq = make_node("DequantizeLinear", {q.values, q.scale, q.zero_point}, {b_dq},
                        g.unique_name(base + "_B_DequantizeLinear"));
    if (spec.axis >= 0) set_attr(dq, "axis", int64_t{spec.axis});
    ctx.require_opset("", spec.axis >= 0 ? 13 : 10);
    onnx::NodeProto gemm = node;
    gemm.set_input(1, b_dq);
    out.nodes = {dq, gemm};
    return out;
  }

  // MatMulInteger wants B' = [K, N]: with transB the quantized B is stored transposed, so no
  // Transpose runs on the weight.
  const WeightLayout* layout = trans_b ? &kTransposed : nullptr;
  const QuantizedWeightNames q = ctx.weights.quantize(*weight, b, spec, node, layout);
  ctx.require_opset("", 11);
  std::string a_in = a;
  if (trans_a) {
    a_in = g.unique_name(a + "_transposed");
    auto t = make_node("Transpose", {a}, {a_in}, g.unique_name(base + "_A_transpose"));
    set_attr(t, "perm", std::vector<int64_t>{1, 0});
    out.nodes.push_back(t);
  }
  const QuantizedWeightNames aq = ctx.quantize_activation(a_in, out.nodes);
  const std::string &a_q = aq.values, &a_scale = aq.scale, &a_zp = aq.zero_point;
  const std::string y_int = g.unique_name(y + "_output_quantized");
  const std::string y_cast = g.unique_name(y + "_output_quantized_cast");
  std::string scales = g.unique_name(base + "_scales_mul");
  const bool add_c = !c.empty() && beta != 0.0f;
  const std::string y_scaled = add_c ? g.unique_name(y + "_output_scale_mul") : y;

  auto cast = make_node("Cast", {y_int}, {y_cast}, g.unique_name(base + "_output_quantized_cast"));
  set_attr(cast, "to", int64_t{onnx::TensorProto::FLOAT});
  out.nodes.push_back(make_node("MatMulInteger", {a_q, q.values, a_zp, q.zero_point}, {y_int},
                                g.unique_name(base + "_quant")));
  out.nodes.push_back(cast);
  out.nodes.push_back(make_node("Mul", {a_scale, q.scale}, {scales}, g.unique_name(base + "_scales_mul")));
  if (alpha != 1.0f) {
    // alpha scales the N scales rather than the M x N product.
    const std::string alpha_name = g.unique_name(base + "_alpha");
    g.add_initializer(alpha_name, Tensor::from_vector<float>({}, {alpha}));
    const std::string scaled = g.unique_name(base + "_scales_alpha_mul");
    out.nodes.push_back(make_node("Mul", {scales, alpha_name}, {scaled}, g.unique_name(base + "_alpha_mul")));
    scales = scaled;
  }
  out.nodes.push_back(
      make_node("Mul", {y_cast, scales}, {y_scaled}, g.unique_name(base + "_output_scale_mul")));
  if (c.empty()) return out;

  const auto c_const = ctx.float_weight(node, 2);
  if (!add_c) {  // beta = 0: C does not contribute
    if (c_const) drop_float_input(ctx, *weight, spec, layout, c, node);
    return out;
  }
  std::string c_in = c;
  if (beta != 1.0f && c_const) {
    Tensor scaled = c_const->owner->model().tensor_data(*c_const->proto).clone();
    for (int64_t i = 0; i < scaled.numel(); ++i) scaled.data<float>()[i] *= beta;
    c_in = g.unique_name(c + "_beta");
    g.add_initializer(c_in, scaled);
    drop_float_input(ctx, *weight, spec, layout, c, node);
  } else if (beta != 1.0f) {
    const std::string beta_name = g.unique_name(base + "_beta");
    g.add_initializer(beta_name, Tensor::from_vector<float>({}, {beta}));
    c_in = g.unique_name(c + "_beta");
    out.nodes.push_back(make_node("Mul", {c, beta_name}, {c_in}, g.unique_name(base + "_beta_mul")));
  }
  // Gemm's C broadcasts one way to [M, N], so Add gives the same shape.
  out.nodes.push_back(make_node("Add", {y_scaled, c_in}, {y}, g.unique_name(base + "_bias_add")));
  return out;
}

}  // namespace

void register_gemm_dynamic(DynamicRuleRegistry& registry) { registry.add("Gemm", quantize_gemm); }

}  // namespace onnxq
