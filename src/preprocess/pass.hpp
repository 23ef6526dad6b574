#pragma once

// A graph pass of `onnxq preprocess`: one registry entry in one file under passes/. A pass
// rewrites the main graph and every subgraph (for_each_scope in scope.hpp) and returns how
// many changes it made; the driver runs the list until a round changes nothing.

#include <functional>
#include <string>
#include <vector>

#include "onnxq/model.hpp"
#include "onnxq/preprocess.hpp"

namespace onnxq::preprocessing {

struct PassContext {
  Model& model;
  const PreprocessOptions& options;
  // Why a pass left something alone that it would normally change; the driver reports
  // these with the pass (the model stays valid: the node is kept as it was).
  std::vector<std::string> warnings;
};

struct PassDef {
  std::string name;         // "fold-batchnorm"
  std::string description;  // one line for --help
  std::function<int64_t(PassContext&)> run;
};

class PassRegistry {
 public:
  void add(PassDef def) { passes_.push_back(std::move(def)); }
  const std::vector<PassDef>& passes() const { return passes_; }
  static const PassRegistry& global();

 private:
  std::vector<PassDef> passes_;
};

// One per file under passes/, called in this order by register_all_passes().
void register_constant_to_initializer(PassRegistry& registry);
void register_remove_identity(PassRegistry& registry);
void register_fold_batchnorm(PassRegistry& registry);
void register_fuse_hardswish(PassRegistry& registry);
void register_fold_affine(PassRegistry& registry);
void register_fold_input_affine(PassRegistry& registry);
void register_fold_constants(PassRegistry& registry);
void register_share_initializers(PassRegistry& registry);
void register_remove_dead_nodes(PassRegistry& registry);

}  // namespace onnxq::preprocessing
