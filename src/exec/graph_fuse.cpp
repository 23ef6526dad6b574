// The fused step list of a plan (GraphPlan::fused_steps_): a Conv absorbs the inference
// BatchNormalization, the residual Add and the Relu or float Clip that follow it, when each intermediate
// has that next node as its only reader and is no graph output, so the packed convolution
// applies them to each output tile while it is in registers.

#include <limits>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "exec/graph_plan.hpp"
#include "exec/kernels/batch_norm.hpp"
#include "exec/kernels/conv.hpp"
#include "onnxq/tensor_proto.hpp"

namespace onnxq::exec {

namespace {

bool is_op(const onnx::NodeProto& node, std::string_view op) {
  return (node.domain().empty() || node.domain() == "ai.onnx") && node.op_type() == op;
}

// Only output 0 is wanted.
bool single_output(const std::vector<int>& outputs) {
  for (size_t o = 1; o < outputs.size(); ++o)
    if (outputs[o] >= 0) return false;
  return !outputs.empty() && outputs[0] >= 0;
}

// A float Clip's bounds as its kernel reads them: attributes before opset 11, then optional
// constant scalar inputs (`params` gets those inputs, undefined where absent); false when
// they are not known constants of type float.
template <class Parameter>
bool clip_bounds(const GraphPlan::Step& s, const Model* model, Parameter& parameter, float& lo, float& hi,
                 std::vector<Tensor>& params) {
  lo = std::numeric_limits<float>::lowest();
  hi = std::numeric_limits<float>::max();
  if (s.opset < 11) {
    if (s.inputs.size() != 1) return false;
    const NodeInfo info(*s.node, s.opset, model);
    lo = info.attr_float("min", lo);
    hi = info.attr_float("max", hi);
    return true;
  }
  params.assign(s.inputs.size() - 1, Tensor());
  for (size_t i = 1; i < s.inputs.size() && i <= 2; ++i) {
    if (s.inputs[i] < 0) continue;
    const Tensor* t = parameter(s.inputs[i]);
    if (!t || t->dtype() != DataType::kFloat || t->numel() != 1) return false;
    params[i - 1] = *t;
    (i == 1 ? lo : hi) = t->data<float>()[0];
  }
  return s.inputs.size() <= 3;
}

}  // namespace

std::vector<GraphPlan::Step> GraphPlan::fuse(const std::vector<bool>& kept) const {
  const Model* model = model_;
  const int count = static_cast<int>(steps_.size());
  // Uses of each value; graph outputs, subgraph reads and kept values count double, so they
  // never fuse.
  std::vector<int> uses(names_.size(), 0), reader(names_.size(), -1);
  for (size_t v = 0; v < kept.size(); ++v) uses[v] += kept[v] ? 2 : 0;
  for (int s = 0; s < count; ++s) {
    for (int in : steps_[s].inputs)
      if (in >= 0) ++uses[in], reader[in] = s;
    for (const auto& name : node_free_names(*steps_[s].node))
      if (auto it = slots_.find(name); it != slots_.end()) uses[it->second] += 2;
  }
  for (int s : output_slots_) uses[s] += 2;
  std::vector<std::shared_ptr<const OpKernel>> fused_at(count);  // by the chain's last step
  std::vector<Step> fused_step(count);
  std::vector<bool> absorbed(count, false), taken(count, false);
  // The step reading `slot` when it is the value's only use and no other chain took it (an
  // Add of two convolutions' outputs goes to the first).
  auto only_reader = [&](int slot) { return uses[slot] == 1 && !taken[reader[slot]] ? reader[slot] : -1; };
  auto constant = [&](int slot) { return slot >= 0 && constants_[slot].defined(); };
  // Initializers, and Constant nodes' values (PaddlePaddle exports keep parameters in them).
  std::vector<int> producer(names_.size(), -1);
  for (int s = 0; s < count; ++s)
    for (int out : steps_[s].outputs)
      if (out >= 0) producer[out] = s;
  std::unordered_map<int, Tensor> node_values;
  auto parameter = [&](int slot) -> const Tensor* {
    if (slot < 0) return nullptr;
    if (constants_[slot].defined()) return &constants_[slot];
    const int s = producer[slot];
    if (s < 0 || !is_op(*steps_[s].node, "Constant")) return nullptr;
    if (auto it = node_values.find(slot); it != node_values.end()) return &it->second;
    for (const auto& a : steps_[s].node->attribute())
      if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR && a.t().data_location() != onnx::TensorProto::EXTERNAL) {
        try {
          return &node_values.emplace(slot, tensor_from_proto(a.t())).first->second;
        } catch (const std::exception&) {
          return nullptr;
        }
      }
    return nullptr;
  };

  for (int c = 0; c < count; ++c) {
    const Step& conv = steps_[c];
    if (!is_op(*conv.node, "Conv") || conv.inputs.size() < 2 || conv.inputs[0] < 0 || conv.inputs[1] < 0 ||
        !single_output(conv.outputs))
      continue;
    ConvChain chain;
    std::vector<int> members{c};
    int value = conv.outputs[0], residual = -1;
    const Step* bn = nullptr;
    const Step* add = nullptr;
    const Step* act = nullptr;  // Relu or Clip
    std::vector<Tensor> act_params;  // Clip's min and max inputs (undefined when absent)
    int next = only_reader(value);
    if (next >= 0 && is_op(*steps_[next].node, "BatchNormalization")) {
      const Step& s = steps_[next];
      const NodeInfo bn_info(*s.node, s.opset, model);
      const bool spatial = s.opset >= 9 || bn_info.attr_int("spatial", 1) == 1;
      if (spatial && s.inputs.size() == 5 && s.inputs[0] == value && single_output(s.outputs) &&
          parameter(s.inputs[1]) && parameter(s.inputs[2]) && parameter(s.inputs[3]) && parameter(s.inputs[4])) {
        try {
          const Tensor& scale = *parameter(s.inputs[1]);
          if (scale.rank() != 1) throw std::invalid_argument("scale");
          batch_norm_coefficients(scale, *parameter(s.inputs[2]), *parameter(s.inputs[3]), *parameter(s.inputs[4]),
                                  scale.numel(), bn_info.attr_float("epsilon", 1e-5f), chain.scale, chain.shift);
          bn = &s;
        } catch (const std::exception&) {
          // Mismatched parameters: the unfused kernel reports them.
          chain.scale.clear(), chain.shift.clear();
        }
      }
      if (bn) {
        members.push_back(next);
        value = bn->outputs[0];
        next = only_reader(value);
      }
    }
    if (next >= 0 && is_op(*steps_[next].node, "Add")) {
      const Step& s = steps_[next];
      if (s.inputs.size() == 2 && s.inputs[0] >= 0 && s.inputs[1] >= 0 && (s.inputs[0] == value) != (s.inputs[1] == value) &&
          single_output(s.outputs)) {
        add = &s;
        residual = s.inputs[0] == value ? s.inputs[1] : s.inputs[0];
        members.push_back(next);
        value = s.outputs[0];
        next = only_reader(value);
      }
    }
    if (next >= 0 && is_op(*steps_[next].node, "Relu")) {
      const Step& s = steps_[next];
      if (s.inputs.size() == 1 && s.inputs[0] == value && single_output(s.outputs)) {
        act = &s;
        chain.lo = 0.0f;
        chain.hi = std::numeric_limits<float>::infinity();
      }
    } else if (next >= 0 && is_op(*steps_[next].node, "Clip")) {
      const Step& s = steps_[next];
      if (!s.inputs.empty() && s.inputs[0] == value && single_output(s.outputs) &&
          clip_bounds(s, model, parameter, chain.lo, chain.hi, act_params))
        act = &s;
    }
    if (act) {
      members.push_back(next);
      value = act->outputs[0];
    }
    if (members.size() == 1) continue;
    chain.residual = add != nullptr;
    chain.clip = act != nullptr;
    chain.constant_weights = constant(conv.inputs[1]);

    // The nodes' own kernels one after the other, with the same inputs.
    std::vector<Tensor> bn_params;
    if (bn)
      for (int i = 1; i < 5; ++i) bn_params.push_back(*parameter(bn->inputs[i]));
    const bool residual_first = add && add->inputs[0] == residual;
    const Step* conv_step = &conv;
    chain.unfused = [conv_step, bn, add, act, bn_params, act_params, residual_first](KernelIO& io) {
      auto run = [&io](const Step& step, std::vector<Tensor> in) {
        std::vector<Tensor> out(step.outputs.size());
        KernelIO sub(in, out, io.threads(), io.scope());
        step.kernel->run(sub);
        return std::move(out[0]);
      };
      std::vector<Tensor> conv_in(conv_step->inputs.size());
      for (size_t i = 0; i < conv_in.size(); ++i)
        if (io.has_input(i)) conv_in[i] = io.input(i);
      Tensor value = run(*conv_step, std::move(conv_in));
      if (bn) value = run(*bn, {value, bn_params[0], bn_params[1], bn_params[2], bn_params[3]});
      if (add) value = run(*add, residual_first ? std::vector<Tensor>{io.input(3), value} : std::vector<Tensor>{value, io.input(3)});
      if (act) {
        std::vector<Tensor> in = act_params;
        in.insert(in.begin(), value);
        value = run(*act, std::move(in));
      }
      io.set_output(0, std::move(value));
    };

    const int last = members.back();
    Step& step = fused_step[last];
    step.node = conv.node;
    step.opset = conv.opset;
    step.inputs = {conv.inputs[0], conv.inputs[1], conv.inputs.size() > 2 ? conv.inputs[2] : -1};
    if (add) step.inputs.push_back(residual);
    step.outputs = {value};
    step.kernel = make_fused_conv(NodeInfo(*conv.node, conv.opset, model), std::move(chain));
    for (int m : members) absorbed[m] = taken[m] = true;
    absorbed[last] = false;
    fused_at[last] = step.kernel;
  }

  bool any = false;
  for (int s = 0; s < count; ++s) any = any || fused_at[s] != nullptr;
  std::vector<Step> fused_steps;
  if (!any) return fused_steps;
  for (int s = 0; s < count; ++s) {
    if (absorbed[s]) continue;
    if (fused_at[s]) {
      fused_steps.push_back(std::move(fused_step[s]));
    } else {
      Step copy;
      copy.node = steps_[s].node;
      copy.opset = steps_[s].opset;
      copy.kernel = steps_[s].kernel;
      copy.inputs = steps_[s].inputs;
      copy.outputs = steps_[s].outputs;
      fused_steps.push_back(std::move(copy));
    }
  }
  plan_releases(fused_steps);
  return fused_steps;
}

}  // namespace onnxq::exec
