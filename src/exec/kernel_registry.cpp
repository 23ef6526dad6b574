#include <algorithm>
#include <mutex>

#include "exec/kernel.hpp"

namespace onnxq::exec {

namespace {
bool same_domain(std::string_view a, std::string_view b) {
  auto norm = [](std::string_view d) { return d == "ai.onnx" ? std::string_view{} : d; };
  return norm(a) == norm(b);
}
}  // namespace

void KernelRegistry::add(KernelDef def) {
  for (const KernelDef& d : defs_)
    if (same_domain(d.domain, def.domain) && d.op_type == def.op_type &&
        d.min_opset <= def.max_opset && def.min_opset <= d.max_opset)
      fail(ExitCode::kInternal, "kernel " + def.op_type + " registered twice for overlapping opsets");
  defs_.push_back(std::move(def));
}

void KernelRegistry::add(std::string op_type, KernelFactory factory, int64_t min_opset,
                         int64_t max_opset, std::string domain) {
  add(KernelDef{std::move(domain), std::move(op_type), min_opset, max_opset, std::move(factory)});
}

const KernelDef* KernelRegistry::find(std::string_view domain, std::string_view op_type,
                                      int64_t opset) const {
  for (const KernelDef& d : defs_)
    if (same_domain(d.domain, domain) && d.op_type == op_type && d.min_opset <= opset &&
        opset <= d.max_opset)
      return &d;
  return nullptr;
}

bool KernelRegistry::knows(std::string_view domain, std::string_view op_type) const {
  return std::any_of(defs_.begin(), defs_.end(), [&](const KernelDef& d) {
    return same_domain(d.domain, domain) && d.op_type == op_type;
  });
}

const KernelRegistry& KernelRegistry::global() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_all(r);
    return r;
  }();
  return registry;
}

}  // namespace onnxq::exec
