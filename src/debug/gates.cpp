// The CI gates of `onnxq debug`: each failure is one line with the gate, threshold, value, margin.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "onnxq/byte_size.hpp"
#include "onnxq/debug.hpp"

namespace onnxq {
namespace {

std::string db(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f dB", v);
  return std::isinf(v) ? (v > 0 ? "inf dB" : "-inf dB") : std::string(buf);
}

}  // namespace

SizeLimit parse_size_limit(const std::string& text) {
  SizeLimit limit;
  if (!text.empty() && (text.back() == 'x' || text.back() == 'X')) {
    const std::string number = text.substr(0, text.size() - 1);
    char* end = nullptr;
    limit.ratio = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || !(limit.ratio > 0))
      fail(ExitCode::kUsage, "--max-size: '" + text + "' is not a positive ratio such as 0.3x");
    return limit;
  }
  limit.bytes = parse_byte_size(text);
  return limit;
}

std::vector<std::string> failed_gates(const DebugReport& r, const DebugGates& gates) {
  std::vector<std::string> failed;
  auto below = [&](const char* gate, double threshold, double value, const std::string& what) {
    // NaN fails too: a broken model must not pass a gate.
    if (value >= threshold) return;
    failed.push_back(std::string(gate) + " " + db(threshold) + ": " + what + " is " + db(value) + ", " +
                     (std::isnan(value) ? std::string("not a number") : db(threshold - value) + " below"));
  };
  if (gates.min_output_sqnr_db) {
    if (r.outputs.empty()) failed.push_back("--fail-below-sqnr: no outputs were compared");
    else {
      const auto worst = std::min_element(r.outputs.begin(), r.outputs.end(), [](const auto& a, const auto& b) {
        return std::isnan(a.sqnr_db) || a.sqnr_db < b.sqnr_db;
      });
      below("--fail-below-sqnr", *gates.min_output_sqnr_db, worst->sqnr_db, "output '" + worst->name + "'");
    }
  }
  if (gates.min_weight_sqnr_db && !r.weights.empty()) {
    const auto worst = std::min_element(r.weights.begin(), r.weights.end(), [](const auto& a, const auto& b) {
      return std::isnan(a.sqnr_db) || a.sqnr_db < b.sqnr_db;
    });
    below("--fail-below-weight-sqnr", *gates.min_weight_sqnr_db, worst->sqnr_db,
          "weight '" + worst->name + "' (node '" + worst->node + "')");
  }
  if (gates.max_size) {
    const SizeLimit& s = *gates.max_size;
    const uint64_t limit = s.ratio > 0 ? static_cast<uint64_t>(std::floor(s.ratio * static_cast<double>(r.float_bytes)))
                                       : s.bytes;
    if (r.quant_bytes > limit) {
      char ratio[64];
      std::snprintf(ratio, sizeof ratio, "%.3gx", s.ratio);
      const std::string threshold = s.ratio > 0 ? std::string(ratio) + " of the float model = " + std::to_string(limit) + " bytes"
                                                : std::to_string(limit) + " bytes (" + format_bytes(limit) + ")";
      char measured[64];
      std::snprintf(measured, sizeof measured, "%.3fx", r.float_bytes ? static_cast<double>(r.quant_bytes) / static_cast<double>(r.float_bytes) : 0.0);
      failed.push_back("--max-size " + threshold + ": the quantized model is " + std::to_string(r.quant_bytes) +
                       " bytes (" + format_bytes(r.quant_bytes) + ", " + measured + "), " +
                       std::to_string(r.quant_bytes - limit) + " bytes over");
    }
  }
  return failed;
}

}  // namespace onnxq
