// Initializers with the same type, shape and bytes are kept once; readers of the copies read
// the first. Exporters duplicate small constants (and tied weights) freely. A subgraph's copy
// of a constant its enclosing graphs hold is read from there (a body sees outer values; an
// outer graph never sees a body's), and a constant several bodies hold (an If's branches
// often carry the same weights) is stored once in the graph around them.

#include <map>

#include "graph/graph_uses.hpp"
#include "preprocess/pass.hpp"
#include "preprocess/scope.hpp"

namespace onnxq::preprocessing {

namespace {

using TypeAndDims = std::pair<int32_t, std::vector<int64_t>>;  // element type and dims
using Key = std::tuple<int32_t, std::vector<int64_t>, size_t>;  // ... and a hash of the bytes
using Buckets = std::map<Key, std::vector<std::pair<std::string, Tensor>>>;

TypeAndDims shape_of(const onnx::TensorProto& t) { return {t.data_type(), {t.dims().begin(), t.dims().end()}}; }

bool shareable(const onnx::TensorProto& t) {
  const auto type = dtype_from_onnx(t.data_type());
  return type && dtype_is_numeric(*type);
}

Key key_of(const onnx::TensorProto& t, const Tensor& value) {
  const auto bytes = value.bytes();
  const size_t hash = std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return {t.data_type(), std::vector<int64_t>(t.dims().begin(), t.dims().end()), hash};
}

std::set<std::string> inputs_and_outputs(const onnx::GraphProto& g) {
  std::set<std::string> names;
  for (const auto& v : g.input()) names.insert(v.name());
  for (const auto& v : g.output()) names.insert(v.name());
  return names;
}

// Adds `value` to its bucket unless an equal value is there; returns the name it equals, or "".
std::string find_or_add(Buckets& buckets, const onnx::TensorProto& t, Tensor value, bool add) {
  auto& bucket = buckets[key_of(t, value)];
  for (const auto& [name, other] : bucket)
    if (other.equals(value)) return name;
  if (add) bucket.emplace_back(t.name(), std::move(value));
  return "";
}

int64_t run_in(Scope& scope) {
  const Model& model = scope.model();
  auto& graph = scope.graph();
  const std::set<std::string> pinned = inputs_and_outputs(graph);  // they keep their own names
  std::set<TypeAndDims> local_shapes;
  for (const auto& t : graph.initializer())
    if (!pinned.count(t.name()) && shareable(t)) local_shapes.insert(shape_of(t));
  // Enclosing graphs' constants visible from here, read only when a local one could equal them.
  Buckets outer;
  for (const Scope* s = scope.parent(); s && !local_shapes.empty(); s = s->parent())
    for (const auto& t : s->graph().initializer())
      if (local_shapes.count(shape_of(t)) && shareable(t) && scope.find_constant(t.name()) == &t)
        find_or_add(outer, t, model.tensor_data(t), true);
  // (type, dims, bytes) -> first name; bytes compared in full, hashed only to bucket.
  Buckets seen;
  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& t : graph.initializer()) {
    if (pinned.count(t.name()) || !shareable(t)) continue;
    Tensor value = model.tensor_data(t);
    std::string same = outer.empty() ? "" : find_or_add(outer, t, value, false);
    if (same.empty()) same = find_or_add(seen, t, std::move(value), true);
    if (!same.empty() && can_replace_uses(graph, t.name(), same)) renames.emplace_back(t.name(), same);
  }
  int64_t changes = 0;  // a copy nothing reads any more is not a change
  for (const auto& [from, to] : renames) changes += replace_uses(graph, from, to) > 0;
  return changes;
}

// Equal constants in two or more bodies of the scope's nodes become one initializer of the
// scope under a fresh name the bodies read; their copies are left for remove-dead-nodes.
int64_t hoist_from_bodies(Scope& scope) {
  struct Copy {
    onnx::GraphProto* body;
    const onnx::TensorProto* proto;
  };
  struct Group {
    Tensor value;
    std::vector<Copy> copies;
  };
  std::vector<onnx::GraphProto*> bodies;
  for (auto& node : *scope.graph().mutable_node())
    for (auto& a : *node.mutable_attribute()) {
      if (a.has_g()) bodies.push_back(a.mutable_g());
      for (auto& g : *a.mutable_graphs()) bodies.push_back(&g);
    }
  if (bodies.size() < 2) return 0;
  std::vector<Group> groups;  // in the order first seen, so the output is deterministic
  std::map<Key, std::vector<size_t>> by_key;
  for (auto* body : bodies) {
    const std::set<std::string> pinned = inputs_and_outputs(*body);
    for (const auto& t : body->initializer()) {
      if (pinned.count(t.name()) || !shareable(t)) continue;
      Tensor value = scope.model().tensor_data(t);
      auto& candidates = by_key[key_of(t, value)];
      bool found = false;
      for (size_t g : candidates)
        if (groups[g].value.equals(value)) {
          groups[g].copies.push_back({body, &t});
          found = true;
          break;
        }
      if (found) continue;
      candidates.push_back(groups.size());
      groups.push_back({std::move(value), {{body, &t}}});
    }
  }
  int64_t changes = 0;
  for (const auto& group : groups) {
    std::set<const onnx::GraphProto*> distinct;
    for (const auto& c : group.copies) distinct.insert(c.body);
    if (distinct.size() < 2) continue;
    const std::string fresh = scope.unique_name(group.copies.front().proto->name());
    onnx::TensorProto hoisted = *group.copies.front().proto;  // the copies' protos stay valid until then
    hoisted.set_name(fresh);
    std::vector<std::pair<onnx::GraphProto*, std::string>> renames;
    for (const auto& c : group.copies)
      if (can_replace_uses(*c.body, c.proto->name(), fresh)) renames.emplace_back(c.body, c.proto->name());
    if (renames.size() < 2) continue;
    int64_t renamed = 0;
    for (const auto& [body, from] : renames) renamed += replace_uses(*body, from, fresh) > 0;
    if (renamed > 0) scope.add_initializer(std::move(hoisted));
    changes += renamed;
  }
  return changes;
}

int64_t run(PassContext& ctx) {
  return for_each_scope(ctx.model, [](Scope& scope) { return run_in(scope) + hoist_from_bodies(scope); });
}

}  // namespace

void register_share_initializers(PassRegistry& registry) {
  registry.add({"share-initializers", "identical initializers stored once", run});
}

}  // namespace onnxq::preprocessing
