#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "onnxq/quant_math.hpp"
#include "onnxq/quantize_static.hpp"
#include "quant/graph_editor.hpp"
#include "quant/static/static_rules.hpp"

namespace onnxq {

// How one tensor of the main graph gets quantized.
struct TensorPlan {
  enum class Kind { kActivation, kWeight, kBias, kShared };
  Kind kind = Kind::kActivation;
  int axis = -1;             // weights: per-channel axis, -1 per tensor
  std::string input, weight;  // biases: the tensors whose scales multiply into the bias scale
  float beta = 1.0f;
  std::string source;         // shared: the tensor whose scale and zero point it reuses
  std::string node, op_type;  // the node that asked first, for the report
};

// Scale and zero point initializers of a quantized tensor, and what consumers read instead of it.
struct QuantizedNames {
  std::string scale, zero_point, dequantized;
  int axis = -1;
};

// The static quantizer for the main graph: rules record what to quantize node by node, then
// emit() rewrites the graph with QuantizeLinear/DequantizeLinear pairs, quantized weights and
// int32 biases.
class QdqPlan {
 public:
  QdqPlan(Model& model, const TensorRanges& ranges, const StaticQuantOptions& options, QuantizeReport& report);

  // Runs the rules of the selected nodes, in graph order.
  void collect();
  // Rewrites the graph from the collected plan.
  void emit();
  // Instead of collect() on a plan made without ranges: the tensors whose calibrated range
  // emit() would read, in graph order. It collects with every non-constant tensor of a
  // selected node assumed to have a range, then keeps those the plan reads (a folded
  // Relu/Clip's input reads its output's range, Softmax's output has a fixed one). Collecting
  // renames outputs in the model: give the plan a copy.
  std::vector<std::string> ranges_needed();

  // Whether the options select the node (op type, include and exclude patterns).
  bool selects(const onnx::NodeProto& node) const { return selected(node); }

  // Interface for StaticContext.
  int64_t opset() const { return opset_; }
  const StaticQuantOptions& options() const { return options_; }
  bool is_quantized(const std::string& name) const { return plans_.count(name) > 0; }
  bool is_constant(const std::string& name) const;
  bool has_range(const std::string& name) const { return ranges_.count(name) > 0; }
  void request(const std::string& name, TensorPlan plan, const onnx::NodeProto& node);
  bool fold_into_producer(const std::string& upstream, const std::string& output, const onnx::NodeProto& node);
  int constant_rank(const std::string& name) const;

 private:
  bool selected(const onnx::NodeProto& node) const;
  void adjust_ranges();
  int reader_count(const std::string& name) const;

  // The scale and zero point of an activation with a range of its own.
  QuantParams activation_params(const std::string& name) const;
  QuantizedNames emit_activation(const std::string& name, const TensorPlan& plan, std::vector<onnx::NodeProto>& head,
                                 std::map<std::string, std::vector<onnx::NodeProto>>& after);
  QuantizedNames emit_weight(const std::string& name, const TensorPlan& plan, bool as_activation,
                             std::vector<onnx::NodeProto>& head);
  void emit_bias(const std::string& name, const TensorPlan& plan, std::vector<onnx::NodeProto>& head);
  std::map<std::string, std::vector<float>> bias_scale_floors();
  void prune();
  onnx::NodeProto qdq_node(const std::string& op, const std::string& in, const std::string& scale,
                           const std::string& zp, const std::string& out, const std::string& name, int axis) const;

  Model& model_;
  TensorRanges ranges_;
  const StaticQuantOptions& options_;
  QuantizeReport& report_;
  NameSet names_;
  GraphEditor editor_;
  WeightStore weights_;
  int64_t opset_ = 0;
  std::string qdq_domain_;  // "" or com.microsoft (16-bit below opset 21)

  std::map<std::string, TensorPlan> plans_;
  // adjust_ranges: tensor -> the tensor whose observed range it takes ("" for a fixed range).
  std::map<std::string, std::string> range_from_;
  std::vector<std::string> order_;          // first request first
  std::set<int> removed_nodes_;             // indices in the main graph
  std::set<std::string> quantizing_nodes_;  // names of nodes whose rule asked for something
  std::map<std::string, QuantizedNames> done_;
  std::map<std::string, std::vector<float>> scale_floors_;  // weight -> smallest scales its biases allow
  std::set<std::string> graph_outputs_, graph_inputs_;
  std::set<const onnx::NodeProto*> float_units_;  // inside decomposed LayerNormalizations
  int current_node_ = -1;
};

}  // namespace onnxq
