#include "preprocess/value_types.hpp"

#include <map>
#include <set>

#include "onnxq/checker.hpp"
#include "onnxq/executor.hpp"

namespace onnxq::preprocessing {

namespace {

bool libonnx_knows(const Model& model) {
  for (const auto& o : model.proto().opset_import())
    if ((o.domain().empty() || o.domain() == "ai.onnx") && o.version() > max_known_opset()) return false;
  return true;
}

bool fully_static(const onnx::ValueInfoProto& v) {
  if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return false;
  for (const auto& d : v.type().tensor_type().shape().dim())
    if (!d.has_dim_value()) return false;
  return v.type().tensor_type().elem_type() != 0;
}

// Made-up input values: floats in [0, 1) that differ per run, integers and bools zero.
Tensor made_up(const ValueInfo& info, uint32_t seed) {
  Tensor t(info.dtype, info.shape);
  if (info.dtype == DataType::kFloat) {
    uint32_t state = seed * 2654435761u + 1;
    for (int64_t i = 0; i < t.numel(); ++i) {
      state = state * 1664525u + 1013904223u;
      t.data<float>()[i] = static_cast<float>(state >> 8) / 16777216.0f;
    }
  }
  return t;
}

}  // namespace

int64_t infer_value_types(Model& model, int threads, std::string* warning) {
  auto& graph = model.graph();
  graph.clear_value_info();
  if (libonnx_knows(model)) {
    try {
      infer_shapes(model, false);
    } catch (const Error& e) {
      if (warning) *warning = e.what();
    }
  }
  std::map<std::string, int> info_index;
  for (int i = 0; i < graph.value_info_size(); ++i) info_index[graph.value_info(i).name()] = i;
  std::set<std::string> outside;  // graph inputs, outputs and initializers carry their own types
  for (const auto& v : graph.input()) outside.insert(v.name());
  for (const auto& v : graph.output()) outside.insert(v.name());
  for (const auto& t : graph.initializer()) outside.insert(t.name());

  bool complete = true;
  for (const auto& n : graph.node())
    for (const auto& o : n.output())
      if (!o.empty() && !outside.count(o) && (!info_index.count(o) || !fully_static(graph.value_info(info_index[o]))))
        complete = false;
  if (!complete) {
    try {
      Executor executor(model, ExecutorOptions{.threads = threads});
      bool all_static = true;
      for (const auto& in : executor.inputs())
        for (int64_t d : in.shape) all_static = all_static && d >= 0 && in.has_shape;
      if (!all_static) {
        if (warning && warning->empty()) *warning = "graph inputs have dynamic dimensions (fix them with --input-shape)";
      } else {
        struct Seen {
          std::string name;
          DataType dtype;
          Shape shape;
        };
        std::vector<Seen> first;
        std::map<std::string, Shape> second;
        for (uint32_t run = 0; run < 2; ++run) {
          NamedTensors inputs;
          for (const auto& in : executor.inputs()) inputs.emplace_back(in.name, made_up(in, run + 1));
          executor.run(inputs, [&](const std::string& name, const Tensor& t) {
            if (outside.count(name)) return;
            if (run == 0) first.push_back({name, t.dtype(), t.shape()});
            else second[name] = t.shape();
          });
        }
        for (const auto& [name, dtype, dims] : first) {
          onnx::ValueInfoProto* v;
          if (auto it = info_index.find(name); it != info_index.end()) {
            v = graph.mutable_value_info(it->second);
            if (fully_static(*v)) continue;
          } else {
            v = graph.add_value_info();
            info_index[name] = graph.value_info_size() - 1;
          }
          v->set_name(name);
          auto* tt = v->mutable_type()->mutable_tensor_type();
          tt->set_elem_type(static_cast<int32_t>(dtype));
          auto* shape = tt->mutable_shape();
          shape->clear_dim();
          const Shape& other = second[name];
          for (size_t d = 0; d < dims.size(); ++d) {
            auto* dim = shape->add_dim();
            if (other.size() == dims.size() && other[d] == dims[d]) dim->set_dim_value(dims[d]);
          }
        }
      }
    } catch (const Error& e) {
      if (warning && warning->empty()) *warning = std::string("the executor could not run the model: ") + e.what();
    }
  }
  int64_t typed = 0;
  for (const auto& v : graph.value_info())
    if (v.type().has_tensor_type() && v.type().tensor_type().elem_type() != 0) ++typed;
  return typed;
}

}  // namespace onnxq::preprocessing
