#include "preprocess/constants.hpp"

#include <set>

#include "onnxq/tensor_proto.hpp"

namespace onnxq::preprocessing {

std::optional<Tensor> constant_value(const Model& model, const std::string& name) {
  for (const auto& v : model.graph().input())
    if (v.name() == name) return std::nullopt;
  const onnx::TensorProto* proto = model.find_initializer(name);
  if (!proto) return std::nullopt;
  const auto type = dtype_from_onnx(proto->data_type());
  if (!type || !dtype_is_numeric(*type)) return std::nullopt;
  return model.tensor_data(*proto);
}

namespace {
const onnx::ValueInfoProto* find_info(const onnx::GraphProto& g, const std::string& name) {
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& v : *list)
      if (v.name() == name) return &v;
  return nullptr;
}
}  // namespace

int64_t known_rank(const Model& model, const std::string& name) {
  if (const auto* init = model.find_initializer(name)) return init->dims_size();
  const auto* info = find_info(model.graph(), name);
  if (!info || !info->type().has_tensor_type() || !info->type().tensor_type().has_shape()) return -1;
  return info->type().tensor_type().shape().dim_size();
}

std::optional<Shape> static_shape(const Model& model, const std::string& name) {
  if (const auto* init = model.find_initializer(name)) return proto_shape(*init);
  const auto* info = find_info(model.graph(), name);
  if (!info || !info->type().has_tensor_type() || !info->type().tensor_type().has_shape()) return std::nullopt;
  Shape shape;
  for (const auto& d : info->type().tensor_type().shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() < 0) return std::nullopt;
    shape.push_back(d.dim_value());
  }
  return shape;
}

std::string unique_name(const onnx::GraphProto& graph, const std::string& base) {
  std::set<std::string> used;
  for (const auto& v : graph.input()) used.insert(v.name());
  for (const auto& t : graph.initializer()) used.insert(t.name());
  for (const auto& n : graph.node())
    for (const auto& o : n.output()) used.insert(o);
  if (!used.count(base)) return base;
  for (int i = 1;; ++i)
    if (!used.count(base + "_" + std::to_string(i))) return base + "_" + std::to_string(i);
}

}  // namespace onnxq::preprocessing
