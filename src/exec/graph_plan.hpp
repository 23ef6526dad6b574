#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "exec/kernel.hpp"
#include "onnxq/executor.hpp"

namespace onnxq::exec {

// Values visible to a subgraph from the graphs around it, looked up by name at run time.
class Scope {
 public:
  virtual ~Scope() = default;
  virtual const Tensor* find(const std::string& name) const = 0;
};

// A graph planned for execution: values numbered into slots, nodes in topological order
// with their kernels, and for each node the slots whose last use it is.
struct WatchedSteps;

class GraphPlan {
 public:
  struct Step {
    const onnx::NodeProto* node = nullptr;
    int64_t opset = 0;  // of the node's domain
    std::shared_ptr<const OpKernel> kernel;
    std::vector<int> inputs;   // slot per declared input, -1 when absent
    std::vector<int> outputs;  // slot per declared output, -1 when absent
    std::vector<int> release;  // slots to drop after this step
  };

  // `opsets` maps a domain ("" for ONNX) to its version. For a subgraph, `outer_names`
  // are the names the enclosing graphs define; anything else unresolved is an error.
  static std::shared_ptr<const GraphPlan> plan(const onnx::GraphProto& graph, const Model* model,
                                               const std::map<std::string, int64_t>& opsets,
                                               const std::vector<std::string>* outer_names);

  const std::vector<ValueInfo>& inputs() const { return inputs_; }
  const std::vector<ValueInfo>& outputs() const { return outputs_; }
  // Names read from enclosing scopes (subgraphs only).
  const std::vector<std::string>& free_names() const { return free_names_; }

  // Steps a run takes: with a tensor hook every node is one; without one, a convolution
  // and the nodes fused into it are one.
  size_t step_count(bool with_hook) const {
    return with_hook || fused_steps_.empty() ? steps_.size() : fused_steps_.size();
  }

  // The steps of runs whose hook needs only `names` (others are ignored): a chain fuses as in
  // a plain run when none of its intermediates is among them.
  std::shared_ptr<const WatchedSteps> watch(const std::vector<std::string>& names) const;

  // Runs with one tensor per input() (undefined: use the initializer of that name). With
  // `watched`, the hook sees only its values and the run takes its steps.
  std::vector<Tensor> run(std::vector<Tensor> inputs, const Scope* outer, const TensorHook* hook, int threads,
                          const WatchedSteps* watched = nullptr) const;

 private:
  int slot(const std::string& name);
  // Fills each step's release list: a value dies after the last step that reads it.
  void plan_releases(std::vector<Step>& steps) const;
  // The fused step list (graph_fuse.cpp) in which the values `kept` marks stay materialized;
  // empty when nothing fuses.
  std::vector<Step> fuse(const std::vector<bool>& kept) const;
  friend class Frame;

  const Model* model_ = nullptr;     // outlives the plan
  std::vector<std::string> names_;  // slot -> value name
  std::unordered_map<std::string, int> slots_;
  std::vector<Tensor> constants_;   // slot -> initializer (undefined for others)
  std::vector<int> input_slots_, output_slots_, free_slots_;
  std::vector<ValueInfo> inputs_, outputs_;
  std::vector<std::string> free_names_;
  std::vector<Step> steps_;
  // Runs without a tensor hook take these: a Conv with the BatchNormalization, residual Add
  // and Relu after it as one step, whose intermediates are never materialized. The hook
  // sees steps_, every tensor as the graph defines it; results are the same bits.
  std::vector<Step> fused_steps_;
};

// A step list for runs whose hook needs some values only (GraphPlan::watch).
struct WatchedSteps {
  std::vector<GraphPlan::Step> steps;  // empty: nothing fuses, the plan's own steps run
  std::vector<bool> watched;           // slot -> the hook sees it
};

// Names a node's subgraphs read from the graphs around them, in first-use order.
std::vector<std::string> node_free_names(const onnx::NodeProto& node);

// A ValueInfo read from a graph input/output declaration.
ValueInfo value_info_from_proto(const onnx::ValueInfoProto& proto);

}  // namespace onnxq::exec
