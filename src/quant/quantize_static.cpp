#include "onnxq/quantize_static.hpp"

#include <chrono>

#include "quant/opset_upgrade.hpp"
#include "quant/static/qdq_plan.hpp"
#include "quant/static/qoperator.hpp"
#include "quant/weight_bytes.hpp"

namespace onnxq {
namespace {

void validate(const StaticQuantOptions& o) {
  const auto a = o.activation_type;
  if (a != DataType::kUInt8 && a != DataType::kInt8 && a != DataType::kUInt16 && a != DataType::kInt16)
    fail(ExitCode::kUsage, "--activation-type must be uint8, int8, uint16 or int16, not " +
                               std::string(dtype_name(a)));
  if (o.weight_type != DataType::kInt8 && o.weight_type != DataType::kUInt8)
    fail(ExitCode::kUsage, "--weight-type must be int8 or uint8 for static quantization, not " +
                               std::string(dtype_name(o.weight_type)));
  if (o.format == QuantFormat::kQOperator && dtype_bits(a) != 8)
    fail(ExitCode::kUsage, "--format qoperator needs 8-bit activations: ONNX Runtime has no 16-bit QLinear ops");
  for (const auto& op : o.op_types)
    if (!static_rules().find(op)) fail(ExitCode::kUsage, "--op-types: quantize-static has no rule for '" + op + "'");
}

}  // namespace

std::vector<std::string> static_op_types() { return static_rules().op_types(); }

std::vector<std::string> static_calibration_tensors(const Model& model, const StaticQuantOptions& options) {
  Model copy(model.proto(), model.base_dir());  // the plan renames outputs as it collects
  QuantizeReport unused;
  return QdqPlan(copy, {}, options, unused).ranges_needed();
}

QuantizeReport quantize_static(Model& model, const TensorRanges& ranges, const StaticQuantOptions& options) {
  validate(options);
  const auto start = std::chrono::steady_clock::now();
  QuantizeReport report;
  report.weight_bytes_before = weight_bytes_by_type(model);
  // Q/DQ need opset 10, per-axis DequantizeLinear 13; 16-bit types are standard from opset 21 and
  // com.microsoft ops before.
  raise_opset(model, "", options.per_channel ? 13 : 10);
  if (dtype_bits(options.activation_type) == 16 && model.opset_version("") < 21) raise_opset(model, "com.microsoft", 1);
  QdqPlan plan(model, ranges, options, report);
  plan.collect();
  plan.emit();
  if (options.format == QuantFormat::kQOperator) convert_to_qoperator(model, report);
  report.weight_bytes_after = weight_bytes_by_type(model);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace onnxq
