#include "support/mobilenet_model.hpp"

#include <cmath>
#include <string>

#include "support/cnn_model.hpp"
#include "support/graph_builder.hpp"

namespace onnxq::test {

namespace {

class MobileNetBuilder {
 public:
  explicit MobileNetBuilder(const MobileNetConfig& c) : c_(c) {}

  Model build() {
    g_.input("image", DataType::kFloat, {1, 3, c_.image, c_.image});
    g_.output("logits", DataType::kFloat, {1, c_.classes});
    g_.initializer("clip.min", Tensor::from_vector<float>({}, {0.0f})).initializer("clip.max", Tensor::from_vector<float>({}, {6.0f}));
    std::string x = activate(conv_bn("image", 3, 32, 3, 2, 1));
    int64_t channels = 32;
    // (expansion, output channels, repeats, first stride), MobileNetV2's table.
    const int64_t table[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    for (const auto& row : table)
      for (int64_t i = 0; i < row[2]; ++i) {
        x = inverted_residual(x, channels, row[1], i == 0 ? row[3] : 1, row[0]);
        channels = row[1];
      }
    x = activate(conv_bn(x, channels, 1280, 1, 1, 1));
    const uint32_t weight_seed = seed(), bias_seed = seed();
    add_classifier_head(g_, x, 1280, c_.classes, weight_seed, bias_seed);
    return g_.model();
  }

 private:
  // Conv (no bias) + BatchNormalization; returns the output name.
  std::string conv_bn(const std::string& x, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t group) {
    const std::string p = "conv" + std::to_string(++n_);
    const float he = std::sqrt(6.0f / static_cast<float>(in / group * k * k));
    g_.initializer(p + ".weight", random_tensor({out, in / group, k, k}, seed(), -he, he));
    auto& conv = g_.node("Conv", {x, p + ".weight"}, {p + ".out"}, p);
    attr_ints(conv, "kernel_shape", {k, k});
    attr_ints(conv, "strides", {stride, stride});
    attr_ints(conv, "pads", {k / 2, k / 2, k / 2, k / 2});
    if (group > 1) attr_int(conv, "group", group);
    const std::string b = "bn" + std::to_string(n_);
    g_.initializer(b + ".scale", random_tensor({out}, seed(), 0.8f, 1.2f));
    g_.initializer(b + ".bias", random_tensor({out}, seed(), -0.1f, 0.1f));
    g_.initializer(b + ".mean", random_tensor({out}, seed(), -0.1f, 0.1f));
    g_.initializer(b + ".var", random_tensor({out}, seed(), 0.5f, 1.5f));
    g_.node("BatchNormalization", {p + ".out", b + ".scale", b + ".bias", b + ".mean", b + ".var"}, {b + ".out"}, b);
    return b + ".out";
  }

  std::string activate(const std::string& x) {
    const std::string y = x + ".act";
    if (c_.v3_style)
      g_.node("HardSwish", {x}, {y}, y);
    else
      g_.node("Clip", {x, "clip.min", "clip.max"}, {y}, y);
    return y;
  }

  // x * HardSigmoid(Conv(Relu(Conv(GlobalAveragePool(x))))), squeezing to a quarter.
  std::string squeeze_excite(const std::string& x, int64_t channels) {
    const std::string p = "se" + std::to_string(++n_);
    const int64_t mid = std::max<int64_t>(8, channels / 4);
    g_.node("GlobalAveragePool", {x}, {p + ".pool"}, p + ".pool");
    auto dense = [&](const std::string& in, int64_t from, int64_t to, const std::string& name) {
      const float r = std::sqrt(6.0f / static_cast<float>(from));
      g_.initializer(name + ".weight", random_tensor({to, from, 1, 1}, seed(), -r, r));
      g_.initializer(name + ".bias", random_tensor({to}, seed(), -0.1f, 0.1f));
      g_.node("Conv", {in, name + ".weight", name + ".bias"}, {name + ".out"}, name);
      return name + ".out";
    };
    g_.node("Relu", {dense(p + ".pool", channels, mid, p + ".reduce")}, {p + ".relu"}, p + ".relu");
    g_.node("HardSigmoid", {dense(p + ".relu", mid, channels, p + ".expand")}, {p + ".gate"}, p + ".gate");
    g_.node("Mul", {x, p + ".gate"}, {p + ".out"}, p + ".mul");
    return p + ".out";
  }

  std::string inverted_residual(const std::string& x, int64_t in, int64_t out, int64_t stride, int64_t expansion) {
    const int64_t hidden = in * expansion;
    std::string h = x;
    if (expansion != 1) h = activate(conv_bn(h, in, hidden, 1, 1, 1));
    h = activate(conv_bn(h, hidden, hidden, 3, stride, hidden));
    if (c_.v3_style && expansion != 1) h = squeeze_excite(h, hidden);
    h = conv_bn(h, hidden, out, 1, 1, 1);
    if (stride != 1 || in != out) return h;
    const std::string sum = "add" + std::to_string(++n_);
    g_.node("Add", {h, x}, {sum}, sum);
    return sum;
  }

  uint32_t seed() { return c_.seed * 1000 + seq_++; }

  MobileNetConfig c_;
  GraphBuilder g_;
  int n_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace

Model build_mobilenet(const MobileNetConfig& config) { return MobileNetBuilder(config).build(); }

}  // namespace onnxq::test
