#include "support/graph_builder.hpp"

#include <cmath>
#include <random>

#include "onnxq/tensor_proto.hpp"

namespace onnxq::test {
namespace {

onnx::ValueInfoProto value(const std::string& name, onnx::TypeProto type) {
  onnx::ValueInfoProto info;
  info.set_name(name);
  *info.mutable_type() = std::move(type);
  return info;
}

onnx::AttributeProto& new_attr(onnx::NodeProto& node, const std::string& name,
                               onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto& attr = *node.add_attribute();
  attr.set_name(name);
  attr.set_type(type);
  return attr;
}

}  // namespace

GraphBuilder::GraphBuilder(int64_t opset) {
  opsets_[""] = opset;
  graph_.set_name("test_graph");
}

GraphBuilder& GraphBuilder::opset(const std::string& domain, int64_t version) {
  opsets_[domain == "ai.onnx" ? "" : domain] = version;
  return *this;
}

GraphBuilder& GraphBuilder::ir_version(int64_t version) {
  ir_version_ = version;
  return *this;
}

GraphBuilder& GraphBuilder::name(const std::string& graph_name) {
  graph_.set_name(graph_name);
  return *this;
}

GraphBuilder& GraphBuilder::input(const std::string& name, DataType type, std::vector<Dim> dims) {
  *graph_.add_input() = value(name, tensor_type(type, dims));
  return *this;
}

GraphBuilder& GraphBuilder::input(const std::string& name, DataType type) {
  *graph_.add_input() = value(name, tensor_type(type));
  return *this;
}

GraphBuilder& GraphBuilder::output(const std::string& name, DataType type, std::vector<Dim> dims) {
  *graph_.add_output() = value(name, tensor_type(type, dims));
  return *this;
}

GraphBuilder& GraphBuilder::output(const std::string& name, DataType type) {
  *graph_.add_output() = value(name, tensor_type(type));
  return *this;
}

GraphBuilder& GraphBuilder::value_info(const std::string& name, DataType type,
                                       std::vector<Dim> dims) {
  *graph_.add_value_info() = value(name, tensor_type(type, dims));
  return *this;
}

GraphBuilder& GraphBuilder::initializer(const std::string& name, const Tensor& value) {
  onnx::TensorProto& proto = *graph_.add_initializer();
  proto.set_name(name);
  tensor_to_proto(value, proto);
  return *this;
}

onnx::NodeProto& GraphBuilder::node(const std::string& op_type,
                                    const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& outputs,
                                    const std::string& name, const std::string& domain) {
  onnx::NodeProto& node = *graph_.add_node();
  node.set_op_type(op_type);
  for (const auto& in : inputs) node.add_input(in);
  for (const auto& out : outputs) node.add_output(out);
  if (!name.empty()) node.set_name(name);
  if (!domain.empty()) node.set_domain(domain);
  return node;
}

onnx::NodeProto& GraphBuilder::constant(const std::string& output, const Tensor& value) {
  return attr_tensor(node("Constant", {}, {output}, output + "_constant"), "value", value);
}

onnx::ModelProto GraphBuilder::build() const {
  onnx::ModelProto model;
  model.set_ir_version(ir_version_);
  model.set_producer_name("onnxq-test");
  for (const auto& [domain, version] : opsets_) {
    onnx::OperatorSetIdProto& id = *model.add_opset_import();
    id.set_domain(domain);
    id.set_version(version);
  }
  *model.mutable_graph() = graph_;
  return model;
}

Model GraphBuilder::model() const { return Model(build()); }

onnx::NodeProto& attr_int(onnx::NodeProto& node, const std::string& name, int64_t value) {
  new_attr(node, name, onnx::AttributeProto::INT).set_i(value);
  return node;
}

onnx::NodeProto& attr_float(onnx::NodeProto& node, const std::string& name, float value) {
  new_attr(node, name, onnx::AttributeProto::FLOAT).set_f(value);
  return node;
}

onnx::NodeProto& attr_string(onnx::NodeProto& node, const std::string& name,
                             const std::string& value) {
  new_attr(node, name, onnx::AttributeProto::STRING).set_s(value);
  return node;
}

onnx::NodeProto& attr_ints(onnx::NodeProto& node, const std::string& name,
                           const std::vector<int64_t>& values) {
  onnx::AttributeProto& attr = new_attr(node, name, onnx::AttributeProto::INTS);
  for (int64_t v : values) attr.add_ints(v);
  return node;
}

onnx::NodeProto& attr_floats(onnx::NodeProto& node, const std::string& name,
                             const std::vector<float>& values) {
  onnx::AttributeProto& attr = new_attr(node, name, onnx::AttributeProto::FLOATS);
  for (float v : values) attr.add_floats(v);
  return node;
}

onnx::NodeProto& attr_tensor(onnx::NodeProto& node, const std::string& name, const Tensor& value) {
  tensor_to_proto(value, *new_attr(node, name, onnx::AttributeProto::TENSOR).mutable_t());
  return node;
}

onnx::NodeProto& attr_graph(onnx::NodeProto& node, const std::string& name,
                            const onnx::GraphProto& graph) {
  *new_attr(node, name, onnx::AttributeProto::GRAPH).mutable_g() = graph;
  return node;
}

onnx::TypeProto tensor_type(DataType type, const std::vector<Dim>& dims) {
  onnx::TypeProto proto = tensor_type(type);
  onnx::TensorShapeProto& shape = *proto.mutable_tensor_type()->mutable_shape();
  for (const Dim& d : dims) {
    onnx::TensorShapeProto::Dimension& dim = *shape.add_dim();
    if (!d.param.empty())
      dim.set_dim_param(d.param);
    else if (d.value >= 0)
      dim.set_dim_value(d.value);
  }
  return proto;
}

onnx::TypeProto tensor_type(DataType type) {
  onnx::TypeProto proto;
  proto.mutable_tensor_type()->set_elem_type(static_cast<int32_t>(type));
  return proto;
}

Tensor random_tensor(Shape shape, uint32_t seed, float lo, float hi) {
  Tensor t(DataType::kFloat, std::move(shape));
  std::mt19937 gen(seed);
  float* out = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    // The top 24 bits give a float in [0, 1) exactly; the affine map is done in double so
    // rounding to float happens once.
    const double u = static_cast<double>(gen() >> 8) * (1.0 / 16777216.0);
    float v = static_cast<float>(lo + (static_cast<double>(hi) - lo) * u);
    out[i] = v < hi ? v : std::nextafter(hi, lo);  // rounding may reach hi
  }
  return t;
}

}  // namespace onnxq::test
