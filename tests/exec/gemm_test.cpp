#include "exec/gemm.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/graph_builder.hpp"

namespace onnxq::exec {
namespace {

// Plain triple loop: the reference the tiled, threaded GEMM is checked against.
std::vector<double> reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A,
                              const float* B) {
  std::vector<double> c(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k)
        c[i * N + j] += double(ta ? A[k * M + i] : A[i * K + k]) * double(tb ? B[j * K + k] : B[k * N + j]);
  return c;
}

TEST(Gemm, MatchesATripleLoopForEveryTransposeCombination) {
  const int64_t M = 150, N = 530, K = 70;  // spans several tiles in both directions
  Tensor a = test::random_tensor({M * K}, 1), b = test::random_tensor({K * N}, 2);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> c(static_cast<size_t>(M * N), 7.0f);
      gemm_f32(ta, tb, M, N, K, 1.0f, a.data<float>(), ta ? M : K, b.data<float>(), tb ? K : N, 0.0f,
               c.data(), N, 2);
      auto ref = reference(ta, tb, M, N, K, a.data<float>(), b.data<float>());
      for (size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], ref[i], 1e-4) << ta << tb << i;
    }
}

TEST(Gemm, AppliesAlphaAndBetaToTheExistingOutput) {
  std::vector<float> a{1, 2, 3, 4}, b{1, 0, 0, 1}, c{1, 1, 1, 1};
  gemm_f32(false, false, 2, 2, 2, 2.0f, a.data(), 2, b.data(), 2, 0.5f, c.data(), 2, 1);
  EXPECT_EQ(c, (std::vector<float>{2.5f, 4.5f, 6.5f, 8.5f}));
}

TEST(Gemm, GivesBitIdenticalResultsForAnyThreadCount) {
  const int64_t M = 300, N = 1100, K = 257;
  Tensor a = test::random_tensor({M * K}, 3), b = test::random_tensor({K * N}, 4);
  std::vector<float> one(static_cast<size_t>(M * N)), four(one.size());
  gemm_f32(false, false, M, N, K, 1.0f, a.data<float>(), K, b.data<float>(), N, 0.0f, one.data(), N, 1);
  gemm_f32(false, false, M, N, K, 1.0f, a.data<float>(), K, b.data<float>(), N, 0.0f, four.data(), N, 4);
  EXPECT_EQ(one, four);
}

}  // namespace
}  // namespace onnxq::exec
