#include "onnxq/executor.hpp"

#include <map>
#include <unordered_set>

#include "core/allocator_tuning.hpp"
#include "core/parallel.hpp"
#include "exec/graph_plan.hpp"
#include "onnxq/model.hpp"

namespace onnxq {

namespace {

std::string expected_shape(const ValueInfo& info) {
  std::string s = "[";
  for (size_t i = 0; i < info.shape.size(); ++i) {
    if (i) s += ", ";
    s += info.shape[i] >= 0 ? std::to_string(info.shape[i])
                            : (info.dim_params[i].empty() ? "?" : info.dim_params[i]);
  }
  return s + "]";
}

void check_input(const ValueInfo& info, const Tensor& value) {
  const std::string what = "input '" + info.name + "'";
  if (!value.defined()) fail(ExitCode::kInput, what + ": no tensor given");
  if (info.dtype != DataType::kUndefined && value.dtype() != info.dtype)
    fail(ExitCode::kInput, what + ": expected " + std::string(dtype_name(info.dtype)) + ", got " +
                               std::string(dtype_name(value.dtype())));
  if (!info.has_shape) return;
  bool ok = value.rank() == info.shape.size();
  for (size_t i = 0; ok && i < info.shape.size(); ++i)
    ok = info.shape[i] < 0 || info.shape[i] == value.shape()[i];
  if (!ok)
    fail(ExitCode::kInput, what + ": expected shape " + expected_shape(info) + ", got " +
                               shape_to_string(value.shape()));
}

}  // namespace

Executor::Executor(const Model& model, ExecutorOptions options) : threads_(resolve_threads(options.threads)) {
  tune_allocator_for_tensors();
  std::map<std::string, int64_t> opsets;
  for (const auto& o : model.proto().opset_import())
    opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  if (!opsets.count("")) opsets[""] = 1;
  plan_ = exec::GraphPlan::plan(model.graph(), &model, opsets, nullptr);
  std::unordered_set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  for (size_t i = 0; i < plan_->inputs().size(); ++i)
    if (!initializers.count(plan_->inputs()[i].name)) {
      inputs_.push_back(plan_->inputs()[i]);
      input_index_.push_back(i);
    }
}

Executor::Executor(Executor&&) noexcept = default;
Executor& Executor::operator=(Executor&&) noexcept = default;
Executor::~Executor() = default;

const std::vector<ValueInfo>& Executor::inputs() const { return inputs_; }
const std::vector<ValueInfo>& Executor::outputs() const { return plan_->outputs(); }

TensorWatch Executor::watch(const std::vector<std::string>& names) const {
  TensorWatch w;
  w.steps_ = plan_->watch(names);
  return w;
}

std::vector<Tensor> Executor::run(const NamedTensors& inputs, const TensorWatch& watch, const TensorHook& hook) const {
  return run_ordered(inputs, hook, watch.steps_.get());
}

std::vector<Tensor> Executor::run(const NamedTensors& inputs, const TensorHook& hook) const {
  return run_ordered(inputs, hook, nullptr);
}

std::vector<Tensor> Executor::run_ordered(const NamedTensors& inputs, const TensorHook& hook,
                                          const exec::WatchedSteps* watched) const {
  std::vector<Tensor> ordered(plan_->inputs().size());
  std::vector<bool> given(plan_->inputs().size(), false);
  for (const auto& [name, value] : inputs) {
    size_t k = 0;
    while (k < plan_->inputs().size() && plan_->inputs()[k].name != name) ++k;
    if (k == plan_->inputs().size()) {
      std::string known;
      for (const auto& i : inputs_) known += (known.empty() ? "" : ", ") + i.name;
      fail(ExitCode::kInput, "input '" + name + "' is not an input of the model (inputs: " + known + ")");
    }
    if (given[k]) fail(ExitCode::kInput, "input '" + name + "' given twice");
    check_input(plan_->inputs()[k], value);
    ordered[k] = value;
    given[k] = true;
  }
  for (size_t i : input_index_)
    if (!given[i]) fail(ExitCode::kInput, "input '" + plan_->inputs()[i].name + "' was not given");
  return plan_->run(std::move(ordered), nullptr, hook ? &hook : nullptr, threads_, watched);
}

}  // namespace onnxq
