#include <cmath>
#include <cstdio>
#include <sstream>

#include "onnxq/byte_size.hpp"
#include "onnxq/ewq.hpp"

namespace onnxq {
namespace {

// JSON has no infinity or NaN: exact weights and figures not computed report null.
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string db(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return "exact";
  char s[32];
  std::snprintf(s, sizeof s, "%.2f", v);
  return s;
}

uint64_t total(const std::map<std::string, uint64_t>& m) {
  uint64_t t = 0;
  for (const auto& [k, v] : m) t += v;
  return t;
}

}  // namespace

nlohmann::json ewq_report_to_json(const EwqReport& r) {
  nlohmann::json j;
  j["tensors"] = nlohmann::json::array();
  for (const auto& t : r.tensors)
    j["tensors"].push_back({{"name", t.name},
                            {"node", t.node},
                            {"op_type", t.op_type},
                            {"method", t.method},
                            {"bins", t.bins},
                            {"codes", t.codes},
                            {"axis", t.axis < 0 ? nlohmann::json(nullptr) : nlohmann::json(t.axis)},
                            {"elements", t.elements},
                            {"refine_iterations", t.refine_iterations},
                            {"index_type", t.index_type},
                            {"sqnr_db", number_or_null(t.sqnr_db)},
                            {"sqnr_unrefined_db", number_or_null(t.sqnr_unrefined_db)},
                            {"uniform_int8_sqnr_db", number_or_null(t.uniform_int8_sqnr_db)},
                            {"uniform_int4_sqnr_db", number_or_null(t.uniform_int4_sqnr_db)},
                            {"entropy_bits", number_or_null(t.entropy_bits)},
                            {"bytes_before", t.bytes_before},
                            {"bytes_after", t.bytes_after}});
  j["skipped"] = nlohmann::json::array();
  for (const auto& s : r.skipped) j["skipped"].push_back({{"weight", s.node}, {"op_type", s.op_type}, {"reason", s.reason}});
  if (!r.entropy.empty()) {
    j["entropy"] = {{"mean_bits", number_or_null(r.entropy_mean)}, {"std_bits", number_or_null(r.entropy_std)}};
    j["entropy"]["layers"] = nlohmann::json::array();
    for (const auto& e : r.entropy)
      j["entropy"]["layers"].push_back({{"weight", e.weight},
                                        {"entropy_bits", e.entropy_bits},
                                        {"choice", e.bins ? std::to_string(e.bins) + " bins" : std::string("float")}});
  }
  j["weight_bytes"] = {{"before", r.weight_bytes_before}, {"after", r.weight_bytes_after}};
  j["file_bytes"] = {{"before", r.file_bytes_before}, {"after", r.file_bytes_after}};
  j["size_ratio"] = r.file_bytes_before ? static_cast<double>(r.file_bytes_after) / r.file_bytes_before : 0.0;
  if (r.gzip_bytes_before) j["gzip_bytes"] = {{"before", r.gzip_bytes_before}, {"after", r.gzip_bytes_after}};
  j["seconds"] = r.seconds;
  return j;
}

std::string ewq_report_summary(const EwqReport& r) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-40s %-16s %5s %8s %9s %9s %9s %11s %11s\n", "weight", "method", "codes", "index",
                "SQNR dB", "int8 dB", "int4 dB", "bytes", "after");
  out << line;
  uint64_t before = 0, after = 0;
  for (const auto& t : r.tensors) {
    std::string name = t.name.size() > 40 ? "..." + t.name.substr(t.name.size() - 37) : t.name;
    std::snprintf(line, sizeof line, "%-40s %-16s %5d %8s %9s %9s %9s %11s %11s\n", name.c_str(),
                  (t.method + (t.axis >= 0 ? "/ch" : "")).c_str(), t.codes, t.index_type.c_str(), db(t.sqnr_db).c_str(),
                  db(t.uniform_int8_sqnr_db).c_str(), db(t.uniform_int4_sqnr_db).c_str(),
                  format_bytes(t.bytes_before).c_str(), format_bytes(t.bytes_after).c_str());
    out << line;
    before += t.bytes_before;
    after += t.bytes_after;
  }
  std::snprintf(line, sizeof line, "%zu weights quantized, %zu left float (--report lists why); their bytes %s -> %s\n",
                r.tensors.size(), r.skipped.size(), format_bytes(before).c_str(), format_bytes(after).c_str());
  out << line;
  if (!r.entropy.empty()) {
    std::snprintf(line, sizeof line, "entropy: mean %.3f bits, std %.3f bits\n", r.entropy_mean, r.entropy_std);
    out << line;
  }
  std::snprintf(line, sizeof line, "weights %s -> %s", format_bytes(total(r.weight_bytes_before)).c_str(),
                format_bytes(total(r.weight_bytes_after)).c_str());
  out << line;
  if (r.file_bytes_before) {
    std::snprintf(line, sizeof line, "; file %s -> %s (%.3fx)", format_bytes(r.file_bytes_before).c_str(),
                  format_bytes(r.file_bytes_after).c_str(),
                  static_cast<double>(r.file_bytes_after) / static_cast<double>(r.file_bytes_before));
    out << line;
  }
  if (r.gzip_bytes_before) {
    std::snprintf(line, sizeof line, "; gzip %s -> %s (%.3fx)", format_bytes(r.gzip_bytes_before).c_str(),
                  format_bytes(r.gzip_bytes_after).c_str(),
                  static_cast<double>(r.gzip_bytes_after) / static_cast<double>(r.gzip_bytes_before));
    out << line;
  }
  std::snprintf(line, sizeof line, "; %.2f s\n", r.seconds);
  out << line;
  return out.str();
}

}  // namespace onnxq
