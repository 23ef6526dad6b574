#include "calib/value_aliases.hpp"

#include <unordered_map>
#include <vector>

namespace onnxq::calib {

namespace {

bool moves_values_only(const onnx::NodeProto& n) {
  if (!n.domain().empty() && n.domain() != "ai.onnx") return false;
  const std::string& op = n.op_type();
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose" ||
         op == "Identity";
}

class AliasedCalibrator final : public Calibrator {
 public:
  AliasedCalibrator(std::unique_ptr<Calibrator> inner, std::map<std::string, std::string> aliases)
      : inner_(std::move(inner)), aliases_(std::move(aliases)) {}

  void observe(const std::string& name, const Tensor& value) override {
    if (!aliases_.count(name)) inner_->observe(name, value);
  }
  void expect(const std::vector<std::string>& names) override {
    std::vector<std::string> own;
    for (const auto& n : names)
      if (!aliases_.count(n)) own.push_back(n);
    inner_->expect(own);
  }
  TensorRanges ranges() const override {
    TensorRanges r = inner_->ranges();
    for (const auto& [alias, source] : aliases_)
      if (auto it = r.find(source); it != r.end()) r.emplace(alias, it->second);
    return r;
  }
  nlohmann::json save() const override {
    nlohmann::json state = inner_->save();
    for (const auto& [alias, source] : aliases_)
      if (state.contains(source)) state[alias] = state[source];
    return state;
  }
  // A table holds every tensor as observed: aliases load as tensors of their own.
  void load_and_merge(const nlohmann::json& state) override { inner_->load_and_merge(state); }

 private:
  std::unique_ptr<Calibrator> inner_;
  std::map<std::string, std::string> aliases_;
};

}  // namespace

std::map<std::string, std::string> same_value_aliases(const onnx::GraphProto& graph,
                                                      const std::set<std::string>& wanted) {
  std::unordered_map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : graph.node())
    for (const auto& o : n.output())
      if (!o.empty()) producer[o] = &n;
  std::map<std::string, std::string> aliases;
  for (const auto& name : wanted) {
    std::string at = name;
    for (int hops = 0; hops < 64; ++hops) {
      auto it = producer.find(at);
      if (it == producer.end() || !moves_values_only(*it->second) || it->second->input_size() == 0) break;
      at = it->second->input(0);
      if (wanted.count(at)) {
        // Alias the nearest observed ancestor, which is itself either observed or an alias
        // resolved the same way: follow to the root so no alias points at another.
        aliases[name] = at;
        break;
      }
    }
  }
  for (auto& [alias, source] : aliases)
    while (aliases.count(source)) source = aliases.at(source);
  return aliases;
}

std::unique_ptr<Calibrator> with_aliases(std::unique_ptr<Calibrator> inner,
                                         std::map<std::string, std::string> aliases) {
  return std::make_unique<AliasedCalibrator>(std::move(inner), std::move(aliases));
}

}  // namespace onnxq::calib
