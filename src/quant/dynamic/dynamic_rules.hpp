#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "onnxq/quantize_dynamic.hpp"
#include "quant/graph_editor.hpp"

namespace onnxq {

// What a dynamic rule sees while rewriting one node.
struct DynamicContext {
  const DynamicQuantOptions& options;
  GraphEditor& graph;
  WeightStore& weights;
  // Opset versions the rewrite needs, per domain ("" is ai.onnx); the driver raises the
  // model's imports to them.
  std::map<std::string, int64_t>& required_opsets;
  // DynamicQuantizeLinear outputs already emitted in this graph, by float input.
  std::map<std::string, QuantizedWeightNames>& quantized_activations;

  void require_opset(const std::string& domain, int64_t version) {
    auto& v = required_opsets[domain];
    v = std::max(v, version);
  }
  // uint8 `x` with its scale and zero point: one DynamicQuantizeLinear per input and graph,
  // appended to `nodes` the first time (before the first consumer), shared after that, as
  // ONNX Runtime's tool shares it between a layer's Q, K and V projections.
  QuantizedWeightNames quantize_activation(const std::string& x, std::vector<onnx::NodeProto>& nodes);

  // Weight-only QDQ: the node, reading its input `index` through a DequantizeLinear of the
  // quantized weight (along spec.axis when per-axis), preceded by that DequantizeLinear.
  std::vector<onnx::NodeProto> dequantize_input(const onnx::NodeProto& node, int index, const QuantizedWeightNames& q,
                                                const WeightQuantSpec& spec);

  // The node's input `index` as a float32 constant weight, if it is one.
  std::optional<GraphEditor::Constant> float_weight(const onnx::NodeProto& node, int index);
};

// The nodes that replace the rewritten one, or a reason it stays float.
struct RuleResult {
  std::vector<onnx::NodeProto> nodes;
  std::string skip_reason;  // non-empty: the node was left alone

  static RuleResult skip(std::string reason) { return {{}, std::move(reason)}; }
};

using DynamicRule = std::function<RuleResult(DynamicContext&, const onnx::NodeProto&)>;

// One rule per op type (domain-qualified outside ai.onnx: "com.microsoft:Attention").
class DynamicRuleRegistry {
 public:
  void add(const std::string& op_type, DynamicRule rule) { rules_[op_type] = std::move(rule); }
  const DynamicRule* find(const std::string& op_type) const {
    auto it = rules_.find(op_type);
    return it == rules_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> op_types() const {
    std::vector<std::string> out;
    for (const auto& [op, rule] : rules_) out.push_back(op);
    return out;
  }

 private:
  std::map<std::string, DynamicRule> rules_;
};

// Each family file registers its rules; register_dynamic_rules calls them all.
void register_matmul_dynamic(DynamicRuleRegistry& registry);
void register_gather_dynamic(DynamicRuleRegistry& registry);
void register_lstm_dynamic(DynamicRuleRegistry& registry);
void register_attention_dynamic(DynamicRuleRegistry& registry);
void register_conv_dynamic(DynamicRuleRegistry& registry);
void register_gemm_dynamic(DynamicRuleRegistry& registry);
const DynamicRuleRegistry& dynamic_rules();

// The weight spec the options ask for, with per-channel along `channel_axis`.
WeightQuantSpec weight_spec(const DynamicQuantOptions& options, int channel_axis);

}  // namespace onnxq
