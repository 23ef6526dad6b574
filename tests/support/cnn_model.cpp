#include "support/cnn_model.hpp"

#include <cmath>
#include <string>

#include "support/graph_builder.hpp"

namespace onnxq::test {

namespace {

class CnnBuilder {
 public:
  explicit CnnBuilder(const CnnConfig& c) : c_(c) {}

  // Conv (He-initialized, no bias) + BatchNormalization (+ Relu); returns the output name.
  std::string conv_bn(const std::string& x, int64_t in, int64_t out, int64_t k, int64_t stride, bool relu) {
    const std::string p = "conv" + std::to_string(++n_);
    const float he = std::sqrt(6.0f / static_cast<float>(in * k * k));
    g_.initializer(p + ".weight", random_tensor({out, in, k, k}, seed(), -he, he));
    auto& conv = g_.node("Conv", {x, p + ".weight"}, {p + ".out"}, p);
    attr_ints(conv, "kernel_shape", {k, k});
    attr_ints(conv, "strides", {stride, stride});
    attr_ints(conv, "pads", {k / 2, k / 2, k / 2, k / 2});
    const std::string b = "bn" + std::to_string(n_);
    g_.initializer(b + ".scale", random_tensor({out}, seed(), 0.8f, 1.2f));
    g_.initializer(b + ".bias", random_tensor({out}, seed(), -0.1f, 0.1f));
    g_.initializer(b + ".mean", random_tensor({out}, seed(), -0.1f, 0.1f));
    g_.initializer(b + ".var", random_tensor({out}, seed(), 0.5f, 1.5f));
    g_.node("BatchNormalization", {p + ".out", b + ".scale", b + ".bias", b + ".mean", b + ".var"}, {b + ".out"}, b);
    if (!relu) return b + ".out";
    g_.node("Relu", {b + ".out"}, {b + ".relu"}, b + ".relu");
    return b + ".relu";
  }

  std::string block(const std::string& x, int64_t in, int64_t out, int64_t stride) {
    const std::string a = conv_bn(x, in, out, 3, stride, true);
    const std::string b = conv_bn(a, out, out, 3, 1, false);
    const std::string shortcut = (stride != 1 || in != out) ? conv_bn(x, in, out, 1, stride, false) : x;
    const std::string sum = "add" + std::to_string(n_);
    g_.node("Add", {b, shortcut}, {sum}, sum);
    g_.node("Relu", {sum}, {sum + ".relu"}, sum + ".relu");
    return sum + ".relu";
  }

  Model build() {
    g_.input("image", DataType::kFloat, {1, 3, c_.image, c_.image});
    g_.output("logits", DataType::kFloat, {1, c_.classes});
    std::string x = conv_bn("image", 3, c_.width, 7, 2, true);
    auto& pool = g_.node("MaxPool", {x}, {"stem.pool"}, "stem.pool");
    attr_ints(pool, "kernel_shape", {3, 3});
    attr_ints(pool, "strides", {2, 2});
    attr_ints(pool, "pads", {1, 1, 1, 1});
    x = "stem.pool";
    int64_t channels = c_.width;
    for (int stage = 0; stage < 4; ++stage) {
      const int64_t out = c_.width << stage;
      x = block(x, channels, out, stage == 0 ? 1 : 2);
      x = block(x, out, out, 1);
      channels = out;
    }
    const uint32_t weight_seed = seed(), bias_seed = seed();
    add_classifier_head(g_, x, channels, c_.classes, weight_seed, bias_seed);
    return g_.model();
  }

 private:
  uint32_t seed() { return c_.seed * 1000 + seq_++; }

  CnnConfig c_;
  GraphBuilder g_;
  int n_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace

void add_classifier_head(GraphBuilder& g, const std::string& x, int64_t channels, int64_t classes, uint32_t weight_seed,
                         uint32_t bias_seed) {
  g.node("GlobalAveragePool", {x}, {"gap"}, "gap");
  attr_int(g.node("Flatten", {"gap"}, {"flat"}, "flat"), "axis", 1);
  const float r = 1.0f / std::sqrt(static_cast<float>(channels));
  g.initializer("fc.weight", random_tensor({classes, channels}, weight_seed, -r, r));
  g.initializer("fc.bias", random_tensor({classes}, bias_seed, -r, r));
  attr_int(g.node("Gemm", {"flat", "fc.weight", "fc.bias"}, {"logits"}, "fc"), "transB", 1);
}

Model build_cnn(const CnnConfig& config) { return CnnBuilder(config).build(); }

}  // namespace onnxq::test
