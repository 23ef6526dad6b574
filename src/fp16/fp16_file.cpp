#include <chrono>
#include <cstdio>
#include <sstream>

#include "onnxq/checker.hpp"
#include "onnxq/fp16.hpp"

namespace onnxq {

Fp16Report convert_fp16_file(const std::filesystem::path& input, const std::filesystem::path& output,
                             const Fp16Options& options, const SaveOptions& save) {
  const auto start = std::chrono::steady_clock::now();
  Model model = Model::load(input);
  const uint64_t before = model.model_file_bytes() + model.external_file_bytes();
  Fp16Report report = convert_fp16(model, options);
  require_checker_pass(model, "converted");
  report.file_bytes_before = before;
  report.file_bytes_after = model.save(output, save);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

nlohmann::json fp16_report_to_json(const Fp16Report& r) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : r.tensors)
    tensors.push_back({{"name", t.name},
                       {"elements", t.elements},
                       {"clamped", t.clamped},
                       {"clamped_beyond_max", t.clamped_large},
                       {"bytes_before", t.bytes_before},
                       {"bytes_after", t.bytes_after}});
  return {{"tensors", tensors},
          {"tensors_converted", r.tensors.size()},
          {"values_clamped", r.values_clamped},
          {"nodes_converted", r.nodes_converted},
          {"nodes_kept_float32", r.nodes_kept},
          {"casts_inserted", r.casts_inserted},
          {"weight_bytes", {{"before", r.weight_bytes_before}, {"after", r.weight_bytes_after}}},
          {"file_bytes", {{"before", r.file_bytes_before}, {"after", r.file_bytes_after}}},
          {"seconds", r.seconds}};
}

std::string fp16_report_summary(const Fp16Report& r) {
  std::ostringstream out;
  char line[200];
  std::snprintf(line, sizeof line,
                "converted %zu tensors (%.2f MB -> %.2f MB), %lld values clamped; %lld nodes in 16 bits, %lld kept "
                "in float32, %lld Casts\n",
                r.tensors.size(), r.weight_bytes_before / 1e6, r.weight_bytes_after / 1e6,
                static_cast<long long>(r.values_clamped), static_cast<long long>(r.nodes_converted),
                static_cast<long long>(r.nodes_kept), static_cast<long long>(r.casts_inserted));
  out << line;
  if (r.file_bytes_before > 0) {
    std::snprintf(line, sizeof line, "file %.2f MB -> %.2f MB (%.3fx) in %.2f s\n", r.file_bytes_before / 1e6,
                  r.file_bytes_after / 1e6, static_cast<double>(r.file_bytes_after) / r.file_bytes_before, r.seconds);
    out << line;
  }
  return out.str();
}

}  // namespace onnxq
