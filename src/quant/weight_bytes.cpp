#include "quant/weight_bytes.hpp"

#include "onnxq/model_info.hpp"

namespace onnxq {

std::map<std::string, uint64_t> weight_bytes_by_type(const Model& model) {
  std::map<std::string, uint64_t> out;
  for (const auto& [type, stats] : inspect_model(model, /*check=*/false).weights_by_type) out[type] = stats.bytes;
  return out;
}

}  // namespace onnxq
