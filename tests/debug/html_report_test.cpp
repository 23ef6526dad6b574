// `onnxq debug --html`: the page is self-contained, charts every layer in graph order with the
// worst highlighted, and renders in headless Chromium.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "onnxq/debug.hpp"
#include "onnxq/image.hpp"
#include "support/temp_dir.hpp"

namespace onnxq {
namespace {

namespace fs = std::filesystem;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Twelve activations and three weights, SQNR falling along the graph, one exact.
DebugReport sample_report() {
  DebugReport r;
  r.float_model = "f.onnx";
  r.quant_model = "q<&>.onnx";
  r.float_bytes = 4000;
  r.quant_bytes = 1100;
  r.samples = 3;
  for (int i = 0; i < 12; ++i) {
    ActivationError a;
    a.name = "act_" + std::to_string(i);
    a.node = "node_" + std::to_string(i);
    a.op_type = "Conv";
    a.sqnr_db = i == 0 ? INFINITY : 50.0 - 3.0 * i;
    a.order = i;
    r.activations.push_back(a);
  }
  for (int i = 0; i < 3; ++i) {
    WeightError w;
    w.name = "w_" + std::to_string(i);
    w.op_type = "Conv";
    w.type = "int8";
    w.sqnr_db = 40.0 + i;
    w.order = i;
    r.weights.push_back(w);
  }
  OutputError o;
  o.name = "logits";
  o.sqnr_db = 21.5;
  o.cosine = 0.996;
  o.class_scores = true;
  o.rows = 3;
  o.top1_agree = 3;
  r.outputs.push_back(o);
  return r;
}

TEST(DebugHtml, ChartsEveryLayerAndHighlightsTheWorstWithoutFetchingAnything) {
  const std::string html = debug_report_html(sample_report(), 4);
  EXPECT_EQ(count(html, "<rect"), 15u);
  EXPECT_EQ(count(html, "fill=\"#d62728\""), 4u + 3u);  // the 4 worst activations, all 3 weights
  EXPECT_NE(html.find("q&lt;&amp;&gt;.onnx"), std::string::npos);  // names are escaped
  EXPECT_NE(html.find("3 / 3"), std::string::npos);                // top-1 agreement
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no link but the SVG namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

// Pixels within a few levels of an RGB colour.
int pixels_of(const Image& img, int r, int g, int b) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      n += std::abs(img.at(y, x, 0) - r) < 8 && std::abs(img.at(y, x, 1) - g) < 8 && std::abs(img.at(y, x, 2) - b) < 8;
  return n;
}

TEST(DebugHtml, ThePageRendersItsChartInHeadlessChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed (tools/setup.sh installs it)";
  test::TempDir dir;
  const fs::path page = dir / "report.html", shot = dir / "shot.png";
  std::ofstream(page) << debug_report_html(sample_report(), 4);
  // As root Chromium needs --no-sandbox; background networking off, since nothing is reachable.
  const std::string cmd = "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync "
                          "--user-data-dir=" + (dir / "profile").string() + " --window-size=1200,1400 --screenshot=" +
                          shot.string() + " file://" + page.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Image img = load_image(shot);
  // Bars of both colours were painted: 12 + 3 bars, each at least a few pixels wide and tall.
  EXPECT_GT(pixels_of(img, 0xd6, 0x27, 0x28), 500);
  EXPECT_GT(pixels_of(img, 0x1f, 0x77, 0xb4), 500);
}

}  // namespace
}  // namespace onnxq
