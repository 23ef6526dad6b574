#pragma once

// The interface between the executor and its op kernels. A kernel family file (one per
// family under src/exec/kernels/) defines kernels and adds them to the registry from its
// register_<family>() function; register_all() calls every family once.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "onnxq/error.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq {
class Model;
}

namespace onnxq::exec {

class GraphPlan;
class Scope;

// The newest opset of the default domain whose semantics the kernels know.
inline constexpr int64_t kMaxKnownOpset = 21;

// What a kernel factory sees of its node at plan time: attributes, the opset of the node's
// domain, and which optional inputs/outputs are present. Attribute readers throw kInput
// naming the attribute when it has the wrong type, and required_*() when it is missing.
class NodeInfo {
 public:
  NodeInfo(const onnx::NodeProto& node, int64_t opset, const Model* model,
           std::function<std::shared_ptr<const GraphPlan>(const onnx::GraphProto&)> compile_subgraph = {});

  const onnx::NodeProto& node() const { return node_; }
  const std::string& op_type() const { return node_.op_type(); }
  int64_t opset() const { return opset_; }

  // Inputs/outputs as declared; an empty name is an absent optional one.
  size_t num_inputs() const { return static_cast<size_t>(node_.input_size()); }
  size_t num_outputs() const { return static_cast<size_t>(node_.output_size()); }
  bool has_input(size_t i) const { return i < num_inputs() && !node_.input(static_cast<int>(i)).empty(); }
  bool has_output(size_t i) const { return i < num_outputs() && !node_.output(static_cast<int>(i)).empty(); }

  bool has_attr(std::string_view name) const { return find(name) != nullptr; }
  int64_t attr_int(std::string_view name, int64_t fallback) const;
  float attr_float(std::string_view name, float fallback) const;
  std::string attr_string(std::string_view name, std::string fallback) const;
  std::vector<int64_t> attr_ints(std::string_view name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> attr_floats(std::string_view name, std::vector<float> fallback = {}) const;
  std::vector<std::string> attr_strings(std::string_view name) const;
  std::optional<Tensor> attr_tensor(std::string_view name) const;
  int64_t required_int(std::string_view name) const;
  // A subgraph attribute (If branches, Loop/Scan bodies), planned once.
  std::shared_ptr<const GraphPlan> attr_graph(std::string_view name) const;

  // Throws kUnsupported "op_type: message" (the executor adds the node name).
  [[noreturn]] void unsupported(const std::string& message) const;
  [[noreturn]] void invalid(const std::string& message) const;  // kInput

  const onnx::AttributeProto* find(std::string_view name) const;

 private:
  const onnx::NodeProto& node_;
  int64_t opset_;
  const Model* model_;
  std::function<std::shared_ptr<const GraphPlan>(const onnx::GraphProto&)> compile_subgraph_;
};

// The run-time view of one node's execution. Absent optional inputs are undefined Tensors;
// a kernel sets every output whose name is non-empty.
class KernelIO {
 public:
  KernelIO(std::span<const Tensor> inputs, std::span<Tensor> outputs, int threads, const Scope* scope)
      : inputs_(inputs), outputs_(outputs), threads_(threads), scope_(scope) {}

  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i].defined(); }
  const Tensor& input(size_t i) const;
  Tensor& output(size_t i) { return outputs_[i]; }
  void set_output(size_t i, Tensor value) {
    if (i < outputs_.size()) outputs_[i] = std::move(value);
  }

  // Threads the kernel may use (via parallel_for); results must not depend on it.
  int threads() const { return threads_; }
  // Values visible to subgraphs run by this kernel (control flow only).
  const Scope* scope() const { return scope_; }

 private:
  std::span<const Tensor> inputs_;
  std::span<Tensor> outputs_;
  int threads_;
  const Scope* scope_;
};

// A kernel is built once per node at plan time and may run many times, concurrently:
// run() must not modify the kernel.
class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual void run(KernelIO& io) const = 0;
};

// Wraps a callable `void(KernelIO&)` (usually a lambda capturing parsed attributes).
template <class Fn>
std::unique_ptr<OpKernel> make_kernel(Fn fn) {
  struct Lambda final : OpKernel {
    explicit Lambda(Fn f) : f_(std::move(f)) {}
    void run(KernelIO& io) const override { f_(io); }
    Fn f_;
  };
  return std::make_unique<Lambda>(std::move(fn));
}

using KernelFactory = std::function<std::unique_ptr<OpKernel>(const NodeInfo&)>;

struct KernelDef {
  std::string domain;  // "" for the default ONNX domain, "com.microsoft", ...
  std::string op_type;
  int64_t min_opset = 1;  // opsets of `domain` the factory handles, inclusive
  int64_t max_opset = kMaxKnownOpset;
  KernelFactory factory;
};

class KernelRegistry {
 public:
  // Throws kInternal on a duplicate (domain, op_type) with overlapping opsets.
  void add(KernelDef def);
  void add(std::string op_type, KernelFactory factory, int64_t min_opset = 1,
           int64_t max_opset = kMaxKnownOpset, std::string domain = "");

  // The definition covering `opset`, or nullptr.
  const KernelDef* find(std::string_view domain, std::string_view op_type, int64_t opset) const;
  // Whether any opset of the op is known (to tell "unknown op" from "unknown opset").
  bool knows(std::string_view domain, std::string_view op_type) const;
  const std::vector<KernelDef>& defs() const { return defs_; }

  // Every family registered once.
  static const KernelRegistry& global();

 private:
  std::vector<KernelDef> defs_;
};

void register_all(KernelRegistry& registry);

}  // namespace onnxq::exec
