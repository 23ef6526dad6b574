#pragma once

#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "onnxq/model.hpp"
#include "onnxq/quant_report.hpp"
#include "onnxq/weight_quant.hpp"

namespace onnxq {

class SpillFile;

// Names already used anywhere in a model (values, nodes, initializers), so rewrites can
// mint new ones that collide with nothing.
class NameSet {
 public:
  explicit NameSet(const onnx::GraphProto& graph);
  // `base` itself when free, else base_1, base_2, ...
  std::string unique(const std::string& base);

 private:
  std::set<std::string> used_;
};

// One graph (the main graph or a subgraph) being rewritten, with the scopes around it.
class GraphEditor {
 public:
  GraphEditor(Model& model, onnx::GraphProto& graph, GraphEditor* parent, NameSet& names);

  // A float constant usable as a weight: an initializer that is not also a graph input, or
  // the value of a Constant node, here or in an enclosing graph.
  struct Constant {
    const onnx::TensorProto* proto = nullptr;
    GraphEditor* owner = nullptr;
  };
  std::optional<Constant> find_constant(const std::string& name);
  // An initializer that is also a graph input: callers may override it, so it is not a weight.
  bool is_overridable_initializer(const std::string& name) const;

  void add_initializer(const std::string& name, const Tensor& value);
  std::string unique_name(const std::string& base) { return names_.unique(base); }

  Model& model() { return model_; }
  onnx::GraphProto& graph() { return graph_; }
  GraphEditor* parent() { return parent_; }
  NameSet& names() { return names_; }

 private:
  Model& model_;
  onnx::GraphProto& graph_;
  GraphEditor* parent_;
  NameSet& names_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::map<std::string, const onnx::TensorProto*> constant_nodes_;
  std::set<std::string> inputs_;
  std::set<std::string> produced_;
};

// The names of a quantized weight's initializers; `zero_point` is empty when none is stored.
struct QuantizedWeightNames {
  std::string values, scale, zero_point;
};

// Rewrites a quantized weight into the layout of an op that packs its own (MatMulNBits stores B
// transposed, by block); a zero point left undefined is not stored. `name` tells layouts apart, so the
// same weight stored two ways is stored twice.
struct WeightLayout {
  std::string name;
  std::function<QuantizedWeight(const QuantizedWeight&)> pack;
  // Optional: the same packing with large values written to a spill file (when not null).
  std::function<QuantizedWeight(const QuantizedWeight&, SpillFile*)> pack_spilled;
};

// Quantizes each (weight, spec, layout) once and puts the result next to the weight, so a
// weight shared by several nodes is stored once.
class WeightStore {
 public:
  explicit WeightStore(int threads = 1) : threads_(threads) {}
  QuantizedWeightNames quantize(GraphEditor::Constant weight, const std::string& weight_name,
                                const WeightQuantSpec& spec, const onnx::NodeProto& node,
                                const WeightLayout* layout = nullptr);
  // Float weights some node no longer reads through their original name.
  const std::set<std::string>& replaced() const { return replaced_; }
  // Initializers it added; a rule may leave one unread (a zero point its op does without).
  const std::set<std::string>& added() const { return added_; }
  std::vector<QuantizedTensorInfo>& infos() { return infos_; }
  // A weight the caller replaced itself (int32 biases), so it is pruned like the others.
  void mark_replaced(const std::string& name) { replaced_.insert(name); }
  // Takes the bytes of zero points that were pruned (no node read them) out of the infos.
  void forget_pruned(const std::function<bool(const std::string&)>& pruned);

 private:
  // The float32 bytes of a weight, in place where possible, else decoded into `decoded`.
  static std::span<const std::byte> read_weight(const Model& model, const onnx::TensorProto& proto, Tensor& decoded);

  struct Key {
    const onnx::TensorProto* proto;
    WeightQuantSpec spec;
    std::string layout;
    bool operator<(const Key& o) const;
  };
  std::map<Key, QuantizedWeightNames> done_;
  std::set<std::string> replaced_;
  std::set<std::string> added_;
  std::vector<QuantizedTensorInfo> infos_;
  std::vector<std::pair<std::string, uint64_t>> info_zero_points_;  // per info: name, bytes
  int threads_;
  std::shared_ptr<SpillFile> spill_;
};

// Helpers for building replacement nodes.
onnx::NodeProto make_node(const std::string& op_type, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name,
                          const std::string& domain = "");
void set_attr(onnx::NodeProto& node, const std::string& name, int64_t value);
void set_attr(onnx::NodeProto& node, const std::string& name, float value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values);
const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name);
// Whether the node is an op of the default ONNX domain ("" or "ai.onnx").
bool is_default_domain(const onnx::NodeProto& node);
int64_t attr_or(const onnx::NodeProto& node, const std::string& name, int64_t fallback);

}  // namespace onnxq
