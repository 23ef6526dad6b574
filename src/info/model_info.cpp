#include "onnxq/model_info.hpp"

#include <set>

#include "onnxq/byte_size.hpp"
#include "onnxq/dtype.hpp"

namespace onnxq {
namespace {

std::string type_name(int32_t onnx_type) {
  const auto type = dtype_from_onnx(onnx_type);
  return type ? std::string(dtype_name(*type)) : std::string("type").append(std::to_string(onnx_type));
}

ValueSummary summarize(const onnx::ValueInfoProto& value) {
  ValueSummary s;
  s.name = value.name();
  const auto& type = value.type();
  if (type.has_tensor_type()) {
    s.type = type_name(type.tensor_type().elem_type());
    if (type.tensor_type().has_shape()) {
      s.has_shape = true;
      for (const auto& dim : type.tensor_type().shape().dim()) {
        if (dim.has_dim_value()) s.dims.push_back(std::to_string(dim.dim_value()));
        else if (dim.has_dim_param() && !dim.dim_param().empty()) s.dims.push_back(dim.dim_param());
        else s.dims.push_back("?");
      }
    }
  } else if (type.has_sequence_type()) {
    s.type = "sequence";
  } else if (type.has_map_type()) {
    s.type = "map";
  } else if (type.has_optional_type()) {
    s.type = "optional";
  } else {
    s.type = "unknown";
  }
  return s;
}

void add(WeightStats& stats, int64_t elements, uint64_t bytes) {
  stats.tensors += 1;
  stats.elements += elements;
  stats.bytes += bytes;
}

int64_t dims_numel(const onnx::TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= std::max<int64_t>(d, 0);
  return n;
}

class Inspector {
 public:
  Inspector(const Model& model, ModelInfo& info) : model_(model), info_(info) {}

  void weight(WeightStats& kind, const std::string& type, int64_t elements, uint64_t bytes) {
    add(kind, elements, bytes);
    add(info_.weights_by_type[type], elements, bytes);
    info_.parameters += elements;
  }

  void tensor(WeightStats& kind, const onnx::TensorProto& t) {
    weight(kind, type_name(t.data_type()), dims_numel(t), model_.tensor_bytes(t));
  }

  void graph(const onnx::GraphProto& g, bool main) {
    for (const auto& init : g.initializer()) tensor(info_.initializers, init);
    for (const auto& node : g.node()) {
      (main ? info_.nodes : info_.subgraph_nodes) += 1;
      const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      info_.op_types[default_domain ? node.op_type() : node.domain() + ":" + node.op_type()] += 1;
      const bool constant = default_domain && node.op_type() == "Constant";
      for (const auto& attr : node.attribute()) {
        if (constant) constant_value(attr);
        if (attr.has_g()) graph(attr.g(), false);
        for (const auto& sub : attr.graphs()) graph(sub, false);
      }
    }
  }

 private:
  // Exporters such as PaddlePaddle keep weights in Constant nodes rather than initializers.
  void constant_value(const onnx::AttributeProto& attr) {
    const auto& name = attr.name();
    if (name == "value" && attr.has_t()) tensor(info_.constants, attr.t());
    else if (name == "value_float") weight(info_.constants, "float32", 1, 4);
    else if (name == "value_floats") weight(info_.constants, "float32", attr.floats_size(), 4u * attr.floats_size());
    else if (name == "value_int") weight(info_.constants, "int64", 1, 8);
    else if (name == "value_ints") weight(info_.constants, "int64", attr.ints_size(), 8u * attr.ints_size());
    else if (name == "sparse_value" && attr.has_sparse_tensor())
      tensor(info_.constants, attr.sparse_tensor().values());
  }

  const Model& model_;
  ModelInfo& info_;
};

}  // namespace

ModelInfo inspect_model(const Model& model, bool check) {
  const auto& proto = model.proto();
  ModelInfo info;
  info.file = model.path().string();
  info.ir_version = proto.ir_version();
  for (const auto& op : proto.opset_import())
    info.opsets.emplace_back(op.domain().empty() ? "ai.onnx" : op.domain(), op.version());
  info.producer_name = proto.producer_name();
  info.producer_version = proto.producer_version();
  info.domain = proto.domain();
  info.model_version = proto.model_version();
  info.graph_name = proto.graph().name();

  std::set<std::string> initializer_names;
  for (const auto& init : proto.graph().initializer()) initializer_names.insert(init.name());
  for (const auto& in : proto.graph().input())
    if (!initializer_names.count(in.name())) info.inputs.push_back(summarize(in));
  for (const auto& out : proto.graph().output()) info.outputs.push_back(summarize(out));

  Inspector(model, info).graph(proto.graph(), true);
  info.model_file_bytes = model.model_file_bytes();
  info.external_data_bytes = model.external_file_bytes();
  if (check) info.check = check_model(model);
  return info;
}

void enforce_max_size(const ModelInfo& info, uint64_t max_bytes) {
  if (info.total_bytes() <= max_bytes) return;
  fail(ExitCode::kThreshold, info.file + ": size " + std::to_string(info.total_bytes()) + " bytes (" +
                                 format_bytes(info.total_bytes()) + ") exceeds the limit of " +
                                 std::to_string(max_bytes) + " bytes (" + format_bytes(max_bytes) + ")");
}

}  // namespace onnxq
