// `onnxq debug --html FILE`: one self-contained page (inline CSS and SVG, nothing fetched) with
// the summary, the outputs, and bar charts of SQNR per layer in graph order, worst highlighted.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "onnxq/atomic_file.hpp"
#include "onnxq/debug.hpp"

namespace onnxq {
namespace {

// Bars stop here: past it quantization noise is invisible, and +inf (exact) needs a height too.
constexpr double kChartTopDb = 80.0;
constexpr const char* kBarColor = "#1f77b4";
constexpr const char* kWorstColor = "#d62728";

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string db(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

struct Bar {
  std::string label, detail;
  double sqnr;
};

// An SVG bar chart, one bar per entry in the given (graph) order; the `worst` lowest in red.
std::string chart(const std::string& title, const std::vector<Bar>& bars, size_t worst) {
  std::ostringstream out;
  out << "<h2>" << escape(title) << "</h2>\n";
  if (bars.empty()) {
    out << "<p>Nothing to show.</p>\n";
    return out.str();
  }
  std::vector<size_t> order(bars.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = std::isnan(bars[a].sqnr) ? -INFINITY : bars[a].sqnr;
    const double y = std::isnan(bars[b].sqnr) ? -INFINITY : bars[b].sqnr;
    return x < y;
  });
  std::set<size_t> red(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(std::min(worst, order.size())));
  const int height = 260, top = 10, bottom = 30, left = 40;
  const double bar_w = std::max(2.0, std::min(24.0, 1100.0 / static_cast<double>(bars.size())));
  const int width = left + static_cast<int>(bar_w * static_cast<double>(bars.size())) + 10;
  const double plot = height - top - bottom;
  out << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" role=\"img\" aria-label=\"" << escape(title) << "\">\n";
  for (int tick = 0; tick <= static_cast<int>(kChartTopDb); tick += 20) {
    const double y = top + plot * (1.0 - tick / kChartTopDb);
    out << "<line x1=\"" << left << "\" x2=\"" << width << "\" y1=\"" << y << "\" y2=\"" << y
        << "\" stroke=\"#ddd\"/><text x=\"" << left - 4 << "\" y=\"" << y + 4
        << "\" text-anchor=\"end\" font-size=\"10\">" << tick << "</text>\n";
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const double v = bars[i].sqnr;
    const double shown = std::isnan(v) ? 0.0 : std::clamp(v, 0.0, kChartTopDb);
    const double h = std::max(1.0, plot * shown / kChartTopDb);
    const double x = left + bar_w * static_cast<double>(i);
    out << "<rect x=\"" << x << "\" y=\"" << top + plot - h << "\" width=\"" << std::max(1.0, bar_w - 1.0)
        << "\" height=\"" << h << "\" fill=\"" << (red.count(i) ? kWorstColor : kBarColor) << "\"><title>"
        << escape(bars[i].label) << " (" << escape(bars[i].detail) << "): " << db(v) << " dB</title></rect>\n";
  }
  out << "<text x=\"" << left << "\" y=\"" << height - 8 << "\" font-size=\"11\">graph order &#8594; (SQNR dB; bars "
      << "stop at " << kChartTopDb << ", red: the " << red.size() << " worst)</text>\n</svg>\n";
  return out.str();
}

}  // namespace

std::string debug_report_html(const DebugReport& report, size_t top) {
  const size_t worst = top > 0 ? top : 10;
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>onnxq debug: "
      << escape(report.quant_model) << "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}"
      << "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
      << "td:first-child,th:first-child{text-align:left}.chart{display:block;margin-bottom:16px}"
      << "h2{font-size:16px;margin-top:28px}</style></head>\n<body>\n";
  out << "<h1>onnxq debug</h1>\n<table>\n<tr><th>float model</th><td>" << escape(report.float_model) << "</td><td>"
      << report.float_bytes << " bytes</td></tr>\n<tr><th>quantized model</th><td>" << escape(report.quant_model)
      << "</td><td>" << report.quant_bytes << " bytes";
  if (report.float_bytes > 0)
    out << " (" << number(static_cast<double>(report.quant_bytes) / static_cast<double>(report.float_bytes)) << "x)";
  out << "</td></tr>\n<tr><th>samples</th><td colspan=\"2\">" << report.samples << "</td></tr>\n</table>\n";

  out << "<h2>Final outputs</h2>\n<table>\n<tr><th>output</th><th>SQNR dB</th><th>cosine</th><th>max abs diff</th>"
      << "<th>top-1 agreement</th></tr>\n";
  for (const auto& o : report.outputs) {
    out << "<tr><td>" << escape(o.name) << "</td><td>" << db(o.sqnr_db) << "</td><td>" << number(o.cosine) << "</td><td>"
        << number(o.max_abs_diff) << "</td><td>";
    if (o.class_scores && o.rows > 0)
      out << o.top1_agree << " / " << o.rows;
    else
      out << "-";
    out << "</td></tr>\n";
  }
  out << "</table>\n";

  std::vector<ActivationError> acts = report.activations;
  std::stable_sort(acts.begin(), acts.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  std::vector<Bar> act_bars;
  for (const auto& a : acts) act_bars.push_back({a.name, a.op_type + " " + a.node, a.sqnr_db});
  out << chart("Activations: float model vs quantized model, SQNR per layer", act_bars, worst);

  std::vector<WeightError> ws = report.weights;
  std::stable_sort(ws.begin(), ws.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  std::vector<Bar> weight_bars;
  for (const auto& w : ws) weight_bars.push_back({w.name, w.op_type + " " + w.node + ", " + w.type, w.sqnr_db});
  out << chart("Weights: SQNR of the dequantized weight", weight_bars, worst);

  out << "<h2>Worst activations</h2>\n<table>\n<tr><th>tensor</th><th>op</th><th>SQNR dB</th><th>QDQ SQNR dB</th>"
      << "<th>max abs diff</th></tr>\n";
  for (const auto& a : worst_activations(report, worst))
    out << "<tr><td>" << escape(a.name) << "</td><td>" << escape(a.op_type) << "</td><td>" << db(a.sqnr_db)
        << "</td><td>" << (a.qdq_sqnr_db ? db(*a.qdq_sqnr_db) : "-") << "</td><td>" << number(a.max_abs_diff)
        << "</td></tr>\n";
  out << "</table>\n<h2>Worst weights</h2>\n<table>\n<tr><th>weight</th><th>op</th><th>type</th><th>SQNR dB</th>"
      << "<th>max abs error</th><th>bytes before</th><th>bytes after</th></tr>\n";
  for (const auto& w : worst_weights(report, worst))
    out << "<tr><td>" << escape(w.name) << "</td><td>" << escape(w.op_type) << "</td><td>" << escape(w.type)
        << "</td><td>" << db(w.sqnr_db) << "</td><td>" << number(w.max_abs_error) << "</td><td>" << w.bytes_before
        << "</td><td>" << w.bytes_after << "</td></tr>\n";
  out << "</table>\n";
  for (const auto& w : report.warnings) out << "<p>warning: " << escape(w) << "</p>\n";
  out << "</body></html>\n";
  return out.str();
}

void save_debug_html(const std::filesystem::path& path, const DebugReport& report, size_t top) {
  AtomicFile file(path);
  file.write(debug_report_html(report, top));
  file.commit();
}

}  // namespace onnxq
