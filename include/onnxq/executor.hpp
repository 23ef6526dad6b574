#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "onnxq/tensor.hpp"

namespace onnxq {

class Model;
namespace exec {
class GraphPlan;
struct WatchedSteps;
}  // namespace exec

struct ExecutorOptions {
  int threads = 0;  // 0: every core. Results are bit-identical for any value.
};

// A graph input or output as the model declares it; unknown dimensions are -1 (a
// symbolic one keeps its name in `dim_params`), an unknown rank has `has_shape` false.
struct ValueInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;
  Shape shape;
  std::vector<std::string> dim_params;
};

// Called with every tensor a run produces (graph inputs and node outputs of the main graph,
// in execution order). The view is valid during the call only; copy to keep it.
using TensorHook = std::function<void(const std::string& name, const Tensor& value)>;

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The tensors a hook needs, planned by Executor::watch. Runs with it hand the hook those only
// and fuse nodes whose intermediates nobody sees, as runs without a hook do: a calibrator that
// reads a Relu's output but not the convolution's before it gets the fused speed.
class TensorWatch {
 private:
  friend class Executor;
  std::shared_ptr<const exec::WatchedSteps> steps_;
};

// onnxq's CPU reference engine. The graph is planned once (order, kernels, lifetimes) and
// can then run many times, also concurrently from several threads. The model must outlive
// the executor: initializers are used in place, never copied per run.
class Executor {
 public:
  // Throws kUnsupported naming the node, op type, domain and opset for an op without a
  // kernel, kInput for a malformed graph (a value nothing produces, an unknown input type).
  explicit Executor(const Model& model, ExecutorOptions options = {});
  Executor(Executor&&) noexcept;
  Executor& operator=(Executor&&) noexcept;
  ~Executor();

  // Graph inputs that are not initializers, and graph outputs, in graph order.
  const std::vector<ValueInfo>& inputs() const;
  const std::vector<ValueInfo>& outputs() const;

  // Runs on `inputs` (every graph input by name; inputs that have an initializer may be
  // left out) and returns the graph outputs in graph order. A wrong name, dtype or shape is
  // kInput naming the input and what was expected.
  std::vector<Tensor> run(const NamedTensors& inputs, const TensorHook& hook = {}) const;
  // As run() with a hook that sees only the tensors `watch` names (graph inputs and node
  // outputs of the main graph; unknown names are ignored), in execution order.
  TensorWatch watch(const std::vector<std::string>& names) const;
  std::vector<Tensor> run(const NamedTensors& inputs, const TensorWatch& watch, const TensorHook& hook) const;

 private:
  std::vector<Tensor> run_ordered(const NamedTensors& inputs, const TensorHook& hook,
                                  const exec::WatchedSteps* watched) const;

  std::shared_ptr<const exec::GraphPlan> plan_;
  std::vector<ValueInfo> inputs_;    // plan inputs without an initializer
  std::vector<size_t> input_index_;  // their positions among the plan's inputs
  int threads_ = 1;
};

}  // namespace onnxq
