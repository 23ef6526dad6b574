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
class GraphPlan {
 public:
  // `opsets` maps a domain ("" for ONNX) to its version. For a subgraph, `outer_names`
  // are the names the enclosing graphs define; anything else unresolved is an error.
  static std::shared_ptr<const GraphPlan> plan(const onnx::GraphProto& graph, const Model* model,
                                               const std::map<std::string, int64_t>& opsets,
                                               const std::vector<std::string>* outer_names);

  const std::vector<ValueInfo>& inputs() const { return inputs_; }
  const std::vector<ValueInfo>& outputs() const { return outputs_; }
  // Names read from enclosing scopes (subgraphs only).
  const std::vector<std::string>& free_names() const { return free_names_; }

  // Runs with one tensor per input() (undefined: use the initializer of that name).
  std::vector<Tensor> run(std::vector<Tensor> inputs, const Scope* outer, const TensorHook* hook,
                          int threads) const;

 private:
  struct Step {
    const onnx::NodeProto* node = nullptr;
    std::unique_ptr<OpKernel> kernel;
    std::vector<int> inputs;   // slot per declared input, -1 when absent
    std::vector<int> outputs;  // slot per declared output, -1 when absent
    std::vector<int> release;  // slots to drop after this step
  };

  int slot(const std::string& name);
  friend class Frame;

  std::vector<std::string> names_;  // slot -> value name
  std::unordered_map<std::string, int> slots_;
  std::vector<Tensor> constants_;   // slot -> initializer (undefined for others)
  std::vector<int> input_slots_, output_slots_, free_slots_;
  std::vector<ValueInfo> inputs_, outputs_;
  std::vector<std::string> free_names_;
  std::vector<Step> steps_;
};

// A ValueInfo read from a graph input/output declaration.
ValueInfo value_info_from_proto(const onnx::ValueInfoProto& proto);

}  // namespace onnxq::exec
