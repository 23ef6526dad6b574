// Initializers with the same type, shape and bytes are kept once; readers of the copies read
// the first. Exporters duplicate small constants (and tied weights) freely.

#include <map>

#include "preprocess/graph_uses.hpp"
#include "preprocess/pass.hpp"

namespace onnxq::preprocessing {

namespace {

int64_t run(PassContext& ctx) {
  Model& model = ctx.model;
  auto& graph = model.graph();
  std::set<std::string> pinned;  // graph inputs and outputs keep their own names
  for (const auto& v : graph.input()) pinned.insert(v.name());
  for (const auto& v : graph.output()) pinned.insert(v.name());
  // (type, dims, bytes) -> first name; bytes compared in full, hashed only to bucket.
  std::map<std::tuple<int32_t, std::vector<int64_t>, size_t>, std::vector<std::pair<std::string, Tensor>>> seen;
  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& t : graph.initializer()) {
    if (pinned.count(t.name())) continue;
    const auto type = dtype_from_onnx(t.data_type());
    if (!type || !dtype_is_numeric(*type)) continue;
    Tensor value = model.tensor_data(t);
    const auto bytes = value.bytes();
    const size_t hash = std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    auto& bucket = seen[{t.data_type(), std::vector<int64_t>(t.dims().begin(), t.dims().end()), hash}];
    bool merged = false;
    for (const auto& [name, other] : bucket)
      if (other.equals(value)) {
        renames.emplace_back(t.name(), name);
        merged = true;
        break;
      }
    if (!merged) bucket.emplace_back(t.name(), std::move(value));
  }
  for (const auto& [from, to] : renames) replace_uses(graph, from, to);
  return static_cast<int64_t>(renames.size());
}

}  // namespace

void register_share_initializers(PassRegistry& registry) {
  registry.add({"share-initializers", "identical initializers stored once", run});
}

}  // namespace onnxq::preprocessing
