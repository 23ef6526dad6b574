// `debug_models`: weights matched, then both models run on the same samples, activations and
// outputs compared. Per sample only the matched float tensors of that sample are held; every
// statistic is a running sum in double, added to in execution order, whatever the threads.
#include <algorithm>
#include <set>

#include "debug/activation_matching.hpp"
#include "debug/error_stats.hpp"
#include "debug/output_compare.hpp"
#include "onnxq/debug.hpp"
#include "onnxq/executor.hpp"

namespace onnxq {
namespace {

using debug::ActivationMatch;
using debug::ErrorStats;

std::string describe(const ValueInfo& v) {
  std::string s = v.name + " " + std::string(dtype_name(v.dtype));
  if (v.has_shape) s += " " + shape_to_string(v.shape);
  return s;
}

void check_same_interface(const Executor& f, const Executor& q) {
  auto list = [](const std::vector<ValueInfo>& values) {
    std::string s;
    for (const auto& v : values) s += (s.empty() ? "" : ", ") + describe(v);
    return s;
  };
  const auto &fi = f.inputs(), &qi = q.inputs();
  bool same = fi.size() == qi.size();
  for (size_t i = 0; same && i < fi.size(); ++i)
    same = fi[i].name == qi[i].name && fi[i].dtype == qi[i].dtype && fi[i].has_shape == qi[i].has_shape &&
           (!fi[i].has_shape || fi[i].shape.size() == qi[i].shape.size());
  if (!same)
    fail(ExitCode::kInput, "the models have different inputs: float (" + list(fi) + "), quantized (" + list(qi) + ")");
  for (const auto& o : f.outputs()) {
    const auto& qo = q.outputs();
    if (std::none_of(qo.begin(), qo.end(), [&](const ValueInfo& v) { return v.name == o.name; }))
      fail(ExitCode::kInput, "the quantized model has no output '" + o.name + "' (it has " + list(qo) + ")");
  }
}

// One matched activation across samples.
struct Slot {
  std::string quant_name;
  const ActivationMatch* match = nullptr;
  Tensor value;  // this sample's float tensor, released after the quantized run
  ErrorStats cross, qdq;
};

}  // namespace

DebugReport debug_models(const Model& float_model, const Model& quant, const DebugOptions& options,
                         const ProgressFn& progress) {
  DebugReport report;
  report.float_model = float_model.path().string();
  report.quant_model = quant.path().string();
  report.float_bytes = float_model.model_file_bytes() + float_model.external_file_bytes();
  report.quant_bytes = quant.model_file_bytes() + quant.external_file_bytes();
  if (options.weights) report.weights = match_weights(float_model, quant, &report.warnings);
  if (!options.run_models) return report;

  const Executor fe(float_model, {options.threads});
  const Executor qe(quant, {options.threads});
  check_same_interface(fe, qe);
  const auto data = CalibrationData::open(options.data, fe.inputs());
  for (const auto& w : data->warnings()) report.warnings.push_back(w);

  const debug::GraphIndex fg(float_model), qg(quant);
  const auto matches =
      options.activations ? debug::match_activations(fg, qg) : std::map<std::string, debug::ActivationMatch>();
  std::map<std::string, Slot> slots;                 // by float tensor
  std::map<std::string, std::string> float_of;       // QUANT tensor -> float tensor
  for (const auto& [qname, m] : matches) {
    slots[m.float_name] = Slot{qname, &m, {}, {}, {}};
    float_of[qname] = m.float_name;
  }
  std::set<std::string> mismatched;

  std::vector<debug::OutputAccumulator> outputs;
  for (const auto& o : fe.outputs()) outputs.push_back({o.name, {}, debug::made_like_class_scores(fg, o.name), 0, 0});
  std::vector<size_t> quant_output_index;
  for (const auto& o : fe.outputs())
    for (size_t k = 0; k < qe.outputs().size(); ++k)
      if (qe.outputs()[k].name == o.name) quant_output_index.push_back(k);

  const auto total = static_cast<int64_t>(data->size());
  for (size_t s = 0; s < data->size(); ++s) {
    with_context(data->describe(s), [&] {
      const NamedTensors sample = data->sample(s);
      const auto fout = fe.run(sample, [&](const std::string& name, const Tensor& value) {
        auto it = slots.find(name);
        if (it == slots.end() || value.dtype() != DataType::kFloat) return;
        Slot& slot = it->second;
        slot.value = value.clone();
        if (const auto& p = slot.match->params) {
          const Tensor y = debug::quantize_dequantize(value, p->scale, p->zero_point, p->layout, "tensor '" + name + "'");
          slot.qdq.add(value.data<float>(), y.data<float>(), value.numel());
        }
      });
      const auto qout = qe.run(sample, [&](const std::string& name, const Tensor& value) {
        auto f = float_of.find(name);
        if (f == float_of.end()) return;
        Slot& slot = slots.at(f->second);
        if (!slot.value.defined()) return;
        Tensor y = value;
        if (slot.match->integers) {
          if (dtype_is_float(value.dtype())) return;
          const auto& p = *slot.match->params;
          y = debug::dequantize(value, p.scale, p.zero_point, p.layout, "tensor '" + name + "'");
        }
        if (y.dtype() != DataType::kFloat || y.shape() != slot.value.shape()) {
          mismatched.insert(f->second);
          return;
        }
        slot.cross.add(slot.value.data<float>(), y.data<float>(), y.numel());
      });
      for (auto& [name, slot] : slots) slot.value = Tensor();
      for (size_t k = 0; k < outputs.size(); ++k) outputs[k].add(fout[k], qout[quant_output_index[k]]);
    });
    if (progress) progress("samples", static_cast<int64_t>(s) + 1, total);
  }
  report.samples = total;

  for (const auto& [name, slot] : slots) {
    if (slot.cross.count == 0) continue;
    ActivationError e;
    e.name = name;
    e.quantized = slot.quant_name;
    e.order = fg.producer(name);
    e.node = fg.node(static_cast<int>(e.order)).name();
    e.op_type = fg.node(static_cast<int>(e.order)).op_type();
    e.sqnr_db = slot.cross.sqnr_db();
    e.max_abs_diff = slot.cross.max_abs;
    if (slot.match->params && slot.qdq.count > 0) {
      e.qdq_sqnr_db = slot.qdq.sqnr_db();
      e.params = debug::summarize_params(slot.match->params->scale, slot.match->params->zero_point);
    }
    report.activations.push_back(std::move(e));
  }
  std::stable_sort(report.activations.begin(), report.activations.end(),
                   [](const ActivationError& a, const ActivationError& b) { return a.order < b.order; });
  for (const auto& name : mismatched)
    report.warnings.push_back("tensor '" + name + "': the quantized model's has another type or shape; not compared");
  for (const auto& o : outputs) report.outputs.push_back(o.result());
  return report;
}

}  // namespace onnxq
