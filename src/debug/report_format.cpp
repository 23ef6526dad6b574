// The report as an aligned table, JSON and CSV, worst first.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "onnxq/byte_size.hpp"
#include "onnxq/debug.hpp"

namespace onnxq {
namespace {

// NaN sorts first: an error that is not even a number is the worst.
double sort_key(double sqnr) { return std::isnan(sqnr) ? -INFINITY : sqnr; }

template <class T>
std::vector<T> worst_first(std::vector<T> entries, size_t top) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const T& a, const T& b) { return sort_key(a.sqnr_db) < sort_key(b.sqnr_db); });
  if (top > 0 && entries.size() > top) entries.resize(top);
  return entries;
}

std::string fixed(double v, int digits) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string general(double v) {
  if (std::isinf(v) || std::isnan(v)) return fixed(v, 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string params_text(const QuantParamSummary& p) {
  if (p.count == 0) return "-";
  if (p.count == 1) return "s " + general(p.scale_min) + ", zp " + std::to_string(p.zero_point_min);
  std::string zp = p.zero_point_min == p.zero_point_max
                       ? std::to_string(p.zero_point_min)
                       : std::to_string(p.zero_point_min) + ".." + std::to_string(p.zero_point_max);
  return std::to_string(p.count) + " x s " + general(p.scale_min) + ".." + general(p.scale_max) + ", zp " + zp;
}

// Columns padded to their widest cell; the first `right` columns are right-aligned (numbers).
std::string aligned(const std::vector<std::vector<std::string>>& rows, size_t right) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.resize(c + 1, 0);
      width[c] = std::max(width[c], r[c].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line = " ";
    for (size_t c = 0; c < r.size(); ++c) {
      const std::string pad(width[c] - r[c].size(), ' ');
      line += " ";
      line += c < right ? pad + r[c] : (c + 1 == r.size() ? r[c] : r[c] + pad);
    }
    out += line + "\n";
  }
  return out;
}

std::string ratio_text(const DebugReport& r) {
  if (r.float_bytes == 0) return "";
  return fixed(static_cast<double>(r.quant_bytes) / static_cast<double>(r.float_bytes), 3) + "x";
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json params_json(const QuantParamSummary& p) {
  return {{"count", p.count},
          {"scale_min", p.scale_min},
          {"scale_max", p.scale_max},
          {"zero_point_min", p.zero_point_min},
          {"zero_point_max", p.zero_point_max}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::vector<WeightError> worst_weights(const DebugReport& report, size_t top) { return worst_first(report.weights, top); }
std::vector<ActivationError> worst_activations(const DebugReport& report, size_t top) {
  return worst_first(report.activations, top);
}

std::string debug_report_table(const DebugReport& r, size_t top) {
  std::ostringstream out;
  out << "float:     " << r.float_model << " (" << format_bytes(r.float_bytes) << ")\n";
  out << "quantized: " << r.quant_model << " (" << format_bytes(r.quant_bytes) << ", " << ratio_text(r) << ")\n";
  if (r.samples > 0) out << "samples:   " << r.samples << "\n";

  if (!r.outputs.empty()) {
    out << "\noutputs (SQNR over all samples)\n";
    std::vector<std::vector<std::string>> rows = {{"SQNR dB", "cosine", "max |diff|", "top-1 agree", "output"}};
    for (const auto& o : r.outputs) {
      std::string top1 = "-";
      if (o.class_scores)
        top1 = std::to_string(o.top1_agree) + "/" + std::to_string(o.rows) + " (" +
               fixed(100.0 * static_cast<double>(o.top1_agree) / static_cast<double>(o.rows), 1) + "%)";
      rows.push_back({fixed(o.sqnr_db, 1), fixed(o.cosine, 5), general(o.max_abs_diff), top1, o.name});
    }
    out << aligned(rows, 4);
  }

  const auto weights = worst_weights(r, top);
  out << "\nweights: " << r.weights.size() << " quantized";
  if (!weights.empty()) out << ", worst " << weights.size() << " first";
  out << "\n";
  if (!weights.empty()) {
    std::vector<std::vector<std::string>> rows = {{"SQNR dB", "max |err|", "bytes", "type", "scale, zero point", "weight (node)"}};
    for (const auto& w : weights)
      rows.push_back({fixed(w.sqnr_db, 1), general(w.max_abs_error),
                      format_bytes(w.bytes_before) + " -> " + format_bytes(w.bytes_after), w.type, params_text(w.params),
                      w.name + " (" + w.node + ")"});
    out << aligned(rows, 3);
  }

  if (r.samples > 0) {
    const auto acts = worst_activations(r, top);
    out << "\nactivations: " << r.activations.size() << " matched";
    if (!acts.empty()) out << ", worst " << acts.size() << " first (QDQ dB: the float tensor through its own scale)";
    out << "\n";
    if (!acts.empty()) {
      std::vector<std::vector<std::string>> rows = {{"SQNR dB", "QDQ dB", "max |diff|", "tensor (node, op)"}};
      for (const auto& a : acts)
        rows.push_back({fixed(a.sqnr_db, 1), a.qdq_sqnr_db ? fixed(*a.qdq_sqnr_db, 1) : "-", general(a.max_abs_diff),
                        a.name + " (" + a.node + ", " + a.op_type + ")"});
      out << aligned(rows, 3);
    }
  }
  for (const auto& w : r.warnings) out << "\nwarning: " << w;
  if (!r.warnings.empty()) out << "\n";
  return out.str();
}

nlohmann::json debug_report_json(const DebugReport& r, size_t top) {
  nlohmann::json j;
  j["float_model"] = r.float_model;
  j["quant_model"] = r.quant_model;
  j["float_bytes"] = r.float_bytes;
  j["quant_bytes"] = r.quant_bytes;
  j["size_ratio"] = r.float_bytes ? static_cast<double>(r.quant_bytes) / static_cast<double>(r.float_bytes) : 0.0;
  j["samples"] = r.samples;
  j["outputs"] = nlohmann::json::array();
  for (const auto& o : r.outputs) {
    nlohmann::json e = {{"name", o.name}, {"sqnr_db", number(o.sqnr_db)}, {"cosine", number(o.cosine)},
                        {"max_abs_diff", number(o.max_abs_diff)}, {"class_scores", o.class_scores}};
    if (o.class_scores) {
      e["rows"] = o.rows;
      e["top1_agree"] = o.top1_agree;
    }
    j["outputs"].push_back(e);
  }
  j["weights_total"] = r.weights.size();
  j["weights"] = nlohmann::json::array();
  for (const auto& w : worst_weights(r, top))
    j["weights"].push_back({{"name", w.name}, {"quantized", w.quantized}, {"node", w.node}, {"op_type", w.op_type},
                            {"type", w.type}, {"matched_by", w.matched_by}, {"sqnr_db", number(w.sqnr_db)},
                            {"max_abs_error", number(w.max_abs_error)}, {"params", params_json(w.params)},
                            {"bytes_before", w.bytes_before}, {"bytes_after", w.bytes_after}, {"order", w.order}});
  j["activations_total"] = r.activations.size();
  j["activations"] = nlohmann::json::array();
  for (const auto& a : worst_activations(r, top)) {
    nlohmann::json e = {{"name", a.name}, {"quantized", a.quantized}, {"node", a.node}, {"op_type", a.op_type},
                        {"sqnr_db", number(a.sqnr_db)}, {"max_abs_diff", number(a.max_abs_diff)}, {"order", a.order}};
    e["qdq_sqnr_db"] = a.qdq_sqnr_db ? number(*a.qdq_sqnr_db) : nlohmann::json();
    if (a.params) e["params"] = params_json(*a.params);
    j["activations"].push_back(e);
  }
  j["warnings"] = r.warnings;
  return j;
}

std::string debug_report_csv(const DebugReport& r, size_t top) {
  std::string out =
      "kind,name,node,op_type,sqnr_db,qdq_sqnr_db,max_abs_diff,cosine,top1_agree,rows,type,scale_count,scale_min,"
      "scale_max,zero_point_min,zero_point_max,bytes_before,bytes_after\n";
  auto params = [](const QuantParamSummary& p) {
    return std::to_string(p.count) + "," + csv_number(p.scale_min) + "," + csv_number(p.scale_max) + "," +
           std::to_string(p.zero_point_min) + "," + std::to_string(p.zero_point_max);
  };
  for (const auto& o : r.outputs)
    out += "output," + csv_field(o.name) + ",,," + csv_number(o.sqnr_db) + ",," + csv_number(o.max_abs_diff) + "," +
           csv_number(o.cosine) + "," + (o.class_scores ? std::to_string(o.top1_agree) + "," + std::to_string(o.rows) : ",") +
           ",,,,,,,,\n";
  for (const auto& w : worst_weights(r, top))
    out += "weight," + csv_field(w.name) + "," + csv_field(w.node) + "," + csv_field(w.op_type) + "," +
           csv_number(w.sqnr_db) + ",," + csv_number(w.max_abs_error) + ",,,," + csv_field(w.type) + "," +
           params(w.params) + "," + std::to_string(w.bytes_before) + "," + std::to_string(w.bytes_after) + "\n";
  for (const auto& a : worst_activations(r, top))
    out += "activation," + csv_field(a.name) + "," + csv_field(a.node) + "," + csv_field(a.op_type) + "," +
           csv_number(a.sqnr_db) + "," + (a.qdq_sqnr_db ? csv_number(*a.qdq_sqnr_db) : "") + "," +
           csv_number(a.max_abs_diff) + ",,,,," + (a.params ? params(*a.params) : ",,,,") + ",,\n";
  return out;
}

}  // namespace onnxq
