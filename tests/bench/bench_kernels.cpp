// Times the heavy NN kernels on layer shapes taken from ResNet, MobileNet and BERT:
//
//   bench_kernels [--threads N] [--repeat K]
//
// Prints the median time and GFLOP/s of each case. Not a test.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "support/graph_builder.hpp"
#include "support/kernel_runner.hpp"

namespace {

using namespace onnxq;
using test::attr_int;
using test::attr_ints;
using test::op;
using test::random_tensor;

struct Case {
  std::string name;
  onnx::NodeProto node;
  std::vector<Tensor> inputs;
  double flops;
};

Case conv(const std::string& name, Shape x, Shape w, int64_t group, int64_t stride, int64_t pad) {
  auto node = op("Conv");
  attr_int(node, "group", group);
  attr_ints(node, "strides", {stride, stride});
  attr_ints(node, "pads", {pad, pad, pad, pad});
  const int64_t oh = (x[2] + 2 * pad - w[2]) / stride + 1, ow = (x[3] + 2 * pad - w[3]) / stride + 1;
  const double flops = 2.0 * double(x[0] * w[0] * oh * ow) * double(w[1] * w[2] * w[3]);
  return {name, node, {random_tensor(x, 1), random_tensor(w, 2), random_tensor({w[0]}, 3)}, flops};
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, repeat = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    if (a == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  std::vector<Case> cases;
  cases.push_back(conv("conv 7x7/2 3->64 224", {1, 3, 224, 224}, {64, 3, 7, 7}, 1, 2, 3));
  cases.push_back(conv("conv 3x3 64->64 56", {1, 64, 56, 56}, {64, 64, 3, 3}, 1, 1, 1));
  cases.push_back(conv("conv 3x3 256->256 14", {1, 256, 14, 14}, {256, 256, 3, 3}, 1, 1, 1));
  cases.push_back(conv("conv 1x1 256->64 56", {1, 256, 56, 56}, {64, 256, 1, 1}, 1, 1, 0));
  cases.push_back(conv("depthwise 3x3 32 112", {1, 32, 112, 112}, {32, 1, 3, 3}, 32, 1, 1));
  cases.push_back(conv("depthwise 3x3/2 96 112", {1, 96, 112, 112}, {96, 1, 3, 3}, 96, 2, 1));
  {
    Case c{"matmul 128x768 x 768x3072", op("MatMul"), {random_tensor({1, 128, 768}, 4), random_tensor({768, 3072}, 5)},
           2.0 * 128 * 768 * 3072};
    cases.push_back(c);
    Case att{"matmul attention 12x128x64 x 64x128", op("MatMul"),
             {random_tensor({1, 12, 128, 64}, 6), random_tensor({1, 12, 64, 128}, 7)}, 2.0 * 12 * 128 * 64 * 128};
    cases.push_back(att);
  }
  {
    auto node = op("MaxPool");
    attr_ints(node, "kernel_shape", {3, 3});
    attr_ints(node, "strides", {2, 2});
    attr_ints(node, "pads", {1, 1, 1, 1});
    cases.push_back({"maxpool 3x3/2 64 112", node, {random_tensor({1, 64, 112, 112}, 8)}, 0});
  }
  {
    auto node = op("Resize");
    test::attr_string(node, "mode", "linear");
    cases.push_back({"resize linear x2 64 80", node,
                     {random_tensor({1, 64, 80, 80}, 9), Tensor(), Tensor::from_vector<float>({4}, {1, 1, 2, 2})}, 0});
  }
  std::printf("| case | median ms | GFLOP/s |\n|---|---|---|\n");
  for (const Case& c : cases) {
    std::vector<double> ms;
    for (int r = 0; r < repeat + 1; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      test::run_op(c.node, c.inputs, 1, 13, threads);
      const auto t1 = std::chrono::steady_clock::now();
      if (r > 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    std::printf("| %s | %.3f | %.1f |\n", c.name.c_str(), median, c.flops > 0 ? c.flops / median / 1e6 : 0.0);
  }
  return 0;
}
