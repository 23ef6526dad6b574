#pragma once

#include <onnx/onnx_pb.h>

#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "onnxq/dtype.hpp"
#include "onnxq/model.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::test {

// One dimension of a graph input or output: a fixed size, a symbolic name ("N"), or, when
// default-constructed, unknown.
struct Dim {
  int64_t value = -1;
  std::string param;

  // Implicit so that shapes read {1, 3, "N"}. A template takes every integer type exactly,
  // so neither 0 (also a null pointer) nor a size_t is ambiguous.
  Dim() = default;
  template <std::integral I>
  Dim(I v) : value(static_cast<int64_t>(v)) {}
  Dim(const char* p) : param(p) {}
  Dim(std::string p) : param(std::move(p)) {}
};

// Builds ONNX models in C++ so tests need no Python or checked-in model files:
//
//   GraphBuilder g;
//   g.input("x", DataType::kFloat, {"N", 4}).output("y", DataType::kFloat, {"N", 2});
//   g.initializer("w", random_tensor({4, 2}, 1));
//   g.node("MatMul", {"x", "w"}, {"y"});
//   Model model = g.model();
class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17);

  // Imports another operator domain ("com.microsoft"), or changes the default one's version.
  GraphBuilder& opset(const std::string& domain, int64_t version);
  GraphBuilder& ir_version(int64_t version);
  GraphBuilder& name(const std::string& graph_name);

  GraphBuilder& input(const std::string& name, DataType type, std::vector<Dim> dims);
  GraphBuilder& input(const std::string& name, DataType type);  // no shape at all
  GraphBuilder& output(const std::string& name, DataType type, std::vector<Dim> dims);
  GraphBuilder& output(const std::string& name, DataType type);  // type only, no shape
  // Declares the type and shape of an intermediate value.
  GraphBuilder& value_info(const std::string& name, DataType type, std::vector<Dim> dims);

  GraphBuilder& initializer(const std::string& name, const Tensor& value);

  // Appends a node; the reference stays valid until the next node() call.
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "",
                        const std::string& domain = "");
  // A Constant node producing `output`.
  onnx::NodeProto& constant(const std::string& output, const Tensor& value);

  // The graph alone, e.g. as an If/Loop body for attr_graph().
  onnx::GraphProto& graph() { return graph_; }
  const onnx::GraphProto& graph() const { return graph_; }

  onnx::ModelProto build() const;
  Model model() const;

 private:
  onnx::GraphProto graph_;
  std::map<std::string, int64_t> opsets_;
  int64_t ir_version_ = 8;
};

// Node attributes. Each returns the node so calls can be nested or chained through a
// reference.
onnx::NodeProto& attr_int(onnx::NodeProto& node, const std::string& name, int64_t value);
onnx::NodeProto& attr_float(onnx::NodeProto& node, const std::string& name, float value);
onnx::NodeProto& attr_string(onnx::NodeProto& node, const std::string& name,
                             const std::string& value);
onnx::NodeProto& attr_ints(onnx::NodeProto& node, const std::string& name,
                           const std::vector<int64_t>& values);
onnx::NodeProto& attr_floats(onnx::NodeProto& node, const std::string& name,
                             const std::vector<float>& values);
onnx::NodeProto& attr_tensor(onnx::NodeProto& node, const std::string& name, const Tensor& value);
onnx::NodeProto& attr_graph(onnx::NodeProto& node, const std::string& name,
                            const onnx::GraphProto& graph);

// A TypeProto for a tensor value, as graph inputs, outputs and value_info use.
onnx::TypeProto tensor_type(DataType type, const std::vector<Dim>& dims);
onnx::TypeProto tensor_type(DataType type);  // without shape

// float32 values uniform in [lo, hi), the same for a seed on every platform and standard
// library: std::mt19937 is fully specified, std::uniform_real_distribution is not.
Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// start, start + step, ... in C order; T picks the element type (float32 by default).
template <class T = float>
Tensor iota_tensor(Shape shape, T start = T(0), T step = T(1)) {
  Tensor t(DataTypeOf<T>::value, std::move(shape));
  T* out = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * step);
  return t;
}

}  // namespace onnxq::test
