#include "onnxq/checker.hpp"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <optional>
#include <unordered_map>

#include "model/external_data.hpp"

namespace onnxq {
namespace {

// Element types libonnx 1.12 knows end at BFLOAT16.
constexpr int32_t kMaxKnownElemType = onnx::TensorProto::BFLOAT16;

bool type_beyond(const onnx::TypeProto& type) {
  if (type.has_tensor_type()) return type.tensor_type().elem_type() > kMaxKnownElemType;
  if (type.has_sequence_type()) return type_beyond(type.sequence_type().elem_type());
  if (type.has_optional_type()) return type_beyond(type.optional_type().elem_type());
  return false;
}

bool graph_uses_unknown_types(const onnx::GraphProto& graph) {
  bool beyond = false;
  for_each_tensor_proto(graph, [&](const onnx::TensorProto& t) { beyond |= t.data_type() > kMaxKnownElemType; });
  auto check_values = [&](const auto& values) {
    for (const auto& v : values) beyond |= type_beyond(v.type());
  };
  std::function<void(const onnx::GraphProto&)> walk = [&](const onnx::GraphProto& g) {
    check_values(g.input());
    check_values(g.output());
    check_values(g.value_info());
    for (const auto& node : g.node())
      for (const auto& attr : node.attribute()) {
        if (attr.type() == onnx::AttributeProto::INT && attr.name() == "to")
          beyond |= attr.i() > kMaxKnownElemType;  // Cast to a newer type
        if (attr.has_g()) walk(attr.g());
        for (const auto& sub : attr.graphs()) walk(sub);
      }
  };
  walk(graph);
  return beyond;
}

// Why libonnx 1.12 can't judge this model, or "" when it can.
std::string beyond_libonnx(const onnx::ModelProto& model) {
  if (model.ir_version() > onnx::IR_VERSION)
    return "IR version " + std::to_string(model.ir_version()) + " is newer than libonnx knows (" +
           std::to_string(onnx::IR_VERSION) + ")";
  const auto& ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  for (const auto& op : model.opset_import()) {
    const std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
    auto it = ranges.find(domain);
    if (it != ranges.end() && op.version() > it->second.second)
      return "opset " + std::to_string(op.version()) + (domain.empty() ? "" : " of " + domain) +
             " is newer than libonnx knows (" + std::to_string(it->second.second) + ")";
  }
  if (graph_uses_unknown_types(model.graph())) return "it uses element types libonnx does not know (float8, 4-bit)";
  return "";
}

// The model as the checker must see it: held tensors are inline in ONNX terms, so they are
// shown as inline (with one byte of raw_data: libonnx 1.12 wants a value field but does not
// check its size), not as external
// data in files that don't exist. A copy only when there are any; it holds no large data.
const onnx::ModelProto& as_checked(const Model& model, std::optional<onnx::ModelProto>& copy) {
  bool held = false;
  for_each_tensor_proto(model.graph(), [&](const onnx::TensorProto& t) { held = held || is_held(t); });
  if (!held) return model.proto();
  copy = model.proto();
  for_each_tensor_proto(*copy->mutable_graph(), [](onnx::TensorProto& t) {
    if (!is_held(t)) return;
    t.clear_external_data();
    t.clear_data_location();
    t.set_raw_data(std::string(1, '\0'));
  });
  return *copy;
}

// libonnx's check_model, with external data resolved against the model's directory.
void run_checker(const Model& model) {
  std::optional<onnx::ModelProto> copy;
  const auto& proto = as_checked(model, copy);
  if (proto.ir_version() <= 0) fail_check("The model does not have an ir_version set properly.");
  onnx::checker::CheckerContext ctx;
  ctx.set_ir_version(static_cast<int>(proto.ir_version()));
  std::unordered_map<std::string, int> opsets;
  for (const auto& op : proto.opset_import()) opsets[op.domain()] = static_cast<int>(op.version());
  if (opsets.empty()) fail_check("model with IR version >= 3 must specify opset_import for ONNX");
  ctx.set_opset_imports(opsets);
  ctx.set_model_dir(model.base_dir().empty() ? "." : model.base_dir().string());
  onnx::checker::LexicalScopeContext lex;
  onnx::checker::check_graph(proto.graph(), ctx, lex);
  if (proto.ir_version() >= 8) onnx::checker::check_model_local_functions(proto, ctx, lex);
}

}  // namespace

int max_known_opset() {
  return onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map().at("").second;
}

CheckResult check_model(const Model& model) {
  const std::string beyond = beyond_libonnx(model.proto());
  try {
    run_checker(model);
    // Passing says little about what libonnx does not know, so say so.
    if (!beyond.empty()) return {CheckResult::Status::kUnchecked, "partly checked: " + beyond};
    return {};
  } catch (const std::exception& e) {
    if (!beyond.empty())
      return {CheckResult::Status::kUnchecked, "not checked: " + beyond + " (checker said: " + e.what() + ")"};
    return {CheckResult::Status::kInvalid, e.what()};
  }
}

void warm_up_checker() { onnx::OpSchemaRegistry::Schema("Add", 1, ""); }

void require_checker_pass(const Model& model, const std::string& what) {
  const CheckResult check = check_model(model);
  if (check.status == CheckResult::Status::kInvalid)
    fail(ExitCode::kInternal, "the " + what + " model fails the ONNX checker: " + check.message);
}

void infer_shapes(Model& model, bool strict) {
  onnx::ShapeInferenceOptions options(/*check_type=*/strict, /*strict_mode=*/strict ? 1 : 0,
                                      /*data_prop=*/true);
  try {
    onnx::shape_inference::InferShapes(model.proto(), onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    fail(ExitCode::kInput, std::string("shape inference failed: ") + e.what());
  }
}

}  // namespace onnxq
