#include "quant/dynamic/dynamic_rules.hpp"

namespace onnxq {

const DynamicRuleRegistry& dynamic_rules() {
  static const DynamicRuleRegistry registry = [] {
    DynamicRuleRegistry r;
    register_matmul_dynamic(r);
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

WeightQuantSpec weight_spec(const DynamicQuantOptions& options, int channel_axis) {
  WeightQuantSpec spec;
  spec.type = options.weight_type;
  // Signed weights are symmetric, as in ONNX Runtime's tool; unsigned ones asymmetric.
  spec.symmetric = dtype_is_signed(options.weight_type);
  spec.reduce_range = options.reduce_range;
  spec.axis = options.per_channel ? channel_axis : -1;
  return spec;
}

}  // namespace onnxq
