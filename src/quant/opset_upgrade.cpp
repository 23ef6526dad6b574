#include "quant/opset_upgrade.hpp"

#include "onnxq/checker.hpp"

#include <onnx/defs/schema.h>
#include <onnx/version_converter/convert.h>

namespace onnxq {
namespace {

bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// The first default-domain op whose schema differs between the two versions, or "".
std::string first_changed_op(const onnx::GraphProto& graph, int64_t from, int64_t to) {
  std::string changed;
  for_each_node(graph, [&](const onnx::NodeProto& n, int) {
    if (!changed.empty() || !is_default_domain(n.domain())) return;
    const auto* registry = onnx::OpSchemaRegistry::Instance();
    const auto* a = registry->GetSchema(n.op_type(), static_cast<int>(from), "");
    const auto* b = registry->GetSchema(n.op_type(), static_cast<int>(to), "");
    if (!a || !b || a->SinceVersion() != b->SinceVersion()) changed = n.op_type();
  });
  return changed;
}

}  // namespace

void raise_opset(Model& model, const std::string& domain, int64_t version) {
  auto& proto = model.proto();
  for (auto& op : *proto.mutable_opset_import()) {
    if (is_default_domain(op.domain()) != is_default_domain(domain)) continue;
    if (!is_default_domain(domain) && op.domain() != domain) continue;
    if (op.version() >= version) return;
    if (!is_default_domain(domain)) {
      op.set_version(version);
      return;
    }
    const int64_t from = op.version();
    const std::string changed = first_changed_op(proto.graph(), from, version);
    if (changed.empty()) {
      op.set_version(version);
      return;
    }
    if (version > 17)
      fail(ExitCode::kUnsupported, "the output needs opset " + std::to_string(version) + " but op " + changed +
                                       " changed since the model's opset " + std::to_string(from) +
                                       "; convert the model to opset " + std::to_string(version) + " first");
    try {
      // Some adapters (Softmax 12 -> 13) need the shapes of their inputs.
      infer_shapes(model);
      proto = onnx::version_conversion::ConvertVersion(proto, static_cast<int>(version));
    } catch (const std::exception& e) {
      fail(ExitCode::kUnsupported, "the output needs opset " + std::to_string(version) + ", and converting from " +
                                       std::to_string(from) + " failed (op " + changed + "): " + e.what());
    }
    return;
  }
  auto* op = proto.add_opset_import();
  if (!is_default_domain(domain)) op->set_domain(domain);
  op->set_version(version);
}

}  // namespace onnxq
