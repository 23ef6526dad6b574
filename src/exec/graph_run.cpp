#include <algorithm>

#include "exec/graph_plan.hpp"

namespace onnxq::exec {

// The values of one run of a plan; it is the scope its subgraphs see.
class Frame final : public Scope {
 public:
  Frame(const GraphPlan& plan, const Scope* outer) : plan_(plan), outer_(outer), values_(plan.constants_) {}

  const Tensor* find(const std::string& name) const override {
    auto it = plan_.slots_.find(name);
    if (it != plan_.slots_.end() && values_[it->second].defined()) return &values_[it->second];
    return outer_ ? outer_->find(name) : nullptr;
  }

  std::vector<Tensor> run(std::vector<Tensor> inputs, const TensorHook* hook, int threads, const WatchedSteps* watched) {
    // The hook sees every value, or the watched ones only.
    auto seen = [&](int s) { return hook && (!watched || watched->watched[s]); };
    for (size_t i = 0; i < plan_.input_slots_.size() && i < inputs.size(); ++i) {
      const int s = plan_.input_slots_[i];
      if (inputs[i].defined()) values_[s] = std::move(inputs[i]);
      if (!values_[s].defined())
        fail(ExitCode::kInput, "graph input '" + plan_.names_[s] + "' was not given");
      if (seen(s)) (*hook)(plan_.names_[s], values_[s]);
    }
    for (int s : plan_.free_slots_) {
      const Tensor* t = outer_ ? outer_->find(plan_.names_[s]) : nullptr;
      if (!t) fail(ExitCode::kInternal, "outer-scope value '" + plan_.names_[s] + "' is not available");
      values_[s] = *t;
    }
    std::vector<Tensor> in, out;
    // Fused steps skip intermediates a hook must see.
    const auto& steps = watched && !watched->steps.empty()     ? watched->steps
                        : hook || plan_.fused_steps_.empty() ? plan_.steps_
                                                             : plan_.fused_steps_;
    for (const auto& step : steps) {
      in.assign(step.inputs.size(), Tensor());
      for (size_t i = 0; i < step.inputs.size(); ++i)
        if (step.inputs[i] >= 0) {
          in[i] = values_[step.inputs[i]];
          if (!in[i].defined())
            fail(ExitCode::kInternal, label(step) + ": input '" + plan_.names_[step.inputs[i]] + "' has no value");
        }
      out.assign(step.outputs.size(), Tensor());
      KernelIO io(in, out, threads, this);
      try {
        step.kernel->run(io);
      } catch (Error& e) {
        e.add_context(label(step));
        throw;
      } catch (const std::bad_alloc&) {
        fail(ExitCode::kInput, label(step) + ": out of memory");
      }
      in.clear();
      for (size_t o = 0; o < step.outputs.size(); ++o) {
        const int s = step.outputs[o];
        if (s < 0) continue;
        if (!out[o].defined())
          fail(ExitCode::kInternal, label(step) + ": the kernel did not produce output '" + plan_.names_[s] + "'");
        values_[s] = std::move(out[o]);
        if (seen(s)) (*hook)(plan_.names_[s], values_[s]);
      }
      for (int s : step.release) values_[s] = Tensor();
    }
    std::vector<Tensor> results;
    results.reserve(plan_.output_slots_.size());
    for (int s : plan_.output_slots_) results.push_back(values_[s]);
    return results;
  }

 private:
  static std::string label(const GraphPlan::Step& step) {
    const auto& node = *step.node;
    return "node '" + (node.name().empty() ? (node.output_size() ? node.output(0) : "") : node.name()) + "' (" +
           node.op_type() + ")";
  }

  const GraphPlan& plan_;
  const Scope* outer_;
  std::vector<Tensor> values_;
};

std::vector<Tensor> GraphPlan::run(std::vector<Tensor> inputs, const Scope* outer, const TensorHook* hook, int threads,
                                   const WatchedSteps* watched) const {
  Frame frame(*this, outer);
  return frame.run(std::move(inputs), hook, threads, watched);
}

}  // namespace onnxq::exec
