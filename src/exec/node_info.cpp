#include "exec/kernel.hpp"
#include "onnxq/model.hpp"
#include "onnxq/tensor_proto.hpp"

namespace onnxq::exec {

NodeInfo::NodeInfo(const onnx::NodeProto& node, int64_t opset, const Model* model,
                   std::function<std::shared_ptr<const GraphPlan>(const onnx::GraphProto&)> compile_subgraph)
    : node_(node), opset_(opset), model_(model), compile_subgraph_(std::move(compile_subgraph)) {}

const onnx::AttributeProto* NodeInfo::find(std::string_view name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

namespace {
const onnx::AttributeProto* typed(const NodeInfo& info, std::string_view name,
                                  onnx::AttributeProto::AttributeType type) {
  const onnx::AttributeProto* a = info.find(name);
  if (a && a->type() != type && a->type() != onnx::AttributeProto::UNDEFINED)
    info.invalid("attribute '" + std::string(name) + "' has type " +
                 onnx::AttributeProto::AttributeType_Name(a->type()) + ", expected " +
                 onnx::AttributeProto::AttributeType_Name(type));
  return a;
}
}  // namespace

int64_t NodeInfo::attr_int(std::string_view name, int64_t fallback) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::INT);
  return a ? a->i() : fallback;
}

float NodeInfo::attr_float(std::string_view name, float fallback) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::FLOAT);
  return a ? a->f() : fallback;
}

std::string NodeInfo::attr_string(std::string_view name, std::string fallback) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::STRING);
  return a ? a->s() : fallback;
}

std::vector<int64_t> NodeInfo::attr_ints(std::string_view name, std::vector<int64_t> fallback) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::INTS);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

std::vector<float> NodeInfo::attr_floats(std::string_view name, std::vector<float> fallback) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::FLOATS);
  return a ? std::vector<float>(a->floats().begin(), a->floats().end()) : fallback;
}

std::vector<std::string> NodeInfo::attr_strings(std::string_view name) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::STRINGS);
  return a ? std::vector<std::string>(a->strings().begin(), a->strings().end())
           : std::vector<std::string>{};
}

std::optional<Tensor> NodeInfo::attr_tensor(std::string_view name) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::TENSOR);
  if (!a) return std::nullopt;
  return model_ ? model_->tensor_data(a->t()) : tensor_from_proto(a->t());
}

int64_t NodeInfo::required_int(std::string_view name) const {
  if (!find(name)) invalid("missing required attribute '" + std::string(name) + "'");
  return attr_int(name, 0);
}

std::shared_ptr<const GraphPlan> NodeInfo::attr_graph(std::string_view name) const {
  const auto* a = typed(*this, name, onnx::AttributeProto::GRAPH);
  if (!a) invalid("missing graph attribute '" + std::string(name) + "'");
  if (!compile_subgraph_) fail(ExitCode::kInternal, "subgraphs cannot be planned here");
  return compile_subgraph_(a->g());
}

void NodeInfo::unsupported(const std::string& message) const {
  fail(ExitCode::kUnsupported, op_type() + ": " + message);
}

void NodeInfo::invalid(const std::string& message) const {
  fail(ExitCode::kInput, op_type() + ": " + message);
}

const Tensor& KernelIO::input(size_t i) const {
  if (!has_input(i))
    fail(ExitCode::kInput, "required input " + std::to_string(i) + " is missing");
  return inputs_[i];
}

}  // namespace onnxq::exec
