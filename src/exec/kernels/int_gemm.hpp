#pragma once

// Integer matrix products of zero-point-corrected values, and numpy-style batched MatMul
// shapes, shared by MatMulInteger, QLinearMatMul, the integer convolutions and the dynamically
// quantized com.microsoft ops.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "onnxq/error.hpp"
#include "onnxq/tensor.hpp"

namespace onnxq::exec::quant {

// C[M×N] = A[M×K] · Bt[N×K]ᵀ. Sums wrap modulo 2^32 like ONNX Runtime's int32 accumulators
// (unsigned arithmetic keeps that defined); integer sums are exact, so any split is
// deterministic.
inline void int_gemm(int64_t M, int64_t N, int64_t K, const int32_t* A, const int32_t* Bt, int32_t* C, int threads) {
  constexpr int64_t kRows = 8;
  parallel_for((M + kRows - 1) / kRows, threads, [&](int64_t chunk) {
    const int64_t m_end = std::min(M, (chunk + 1) * kRows);
    for (int64_t m = chunk * kRows; m < m_end; ++m) {
      const auto* a = reinterpret_cast<const uint32_t*>(A + m * K);
      for (int64_t n = 0; n < N; ++n) {
        const auto* b = reinterpret_cast<const uint32_t*>(Bt + n * K);
        uint32_t acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += a[k] * b[k];
        C[m * N + n] = static_cast<int32_t>(acc);
      }
    }
  });
}

// A MatMul of A [..., M, K] by B [..., K, N] with broadcast batch dimensions (1-D operands
// promoted as numpy does): for each output matrix, the matrix index into A and into B.
struct MatMulPlan {
  Shape out_shape;
  int64_t M = 1, N = 1, K = 1;
  int64_t a_matrices = 1, b_matrices = 1;
  std::vector<int64_t> a_index, b_index;
};

inline MatMulPlan plan_matmul(const Shape& a_in, const Shape& b_in, const std::string& op) {
  if (a_in.empty() || b_in.empty()) fail(ExitCode::kInput, op + ": inputs must have rank >= 1");
  Shape a = a_in, b = b_in;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  MatMulPlan p;
  p.M = a[a.size() - 2];
  p.K = a.back();
  p.N = b.back();
  if (b[b.size() - 2] != p.K)
    fail(ExitCode::kInput, op + ": shapes " + shape_to_string(a_in) + " and " + shape_to_string(b_in) + " do not multiply");
  const Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  const size_t rank = std::max(ab.size(), bb.size());
  Shape batch(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + ab.size() >= rank ? ab[i + ab.size() - rank] : 1;
    const int64_t db = i + bb.size() >= rank ? bb[i + bb.size() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      fail(ExitCode::kInput, op + ": batch dimensions of " + shape_to_string(a_in) + " and " + shape_to_string(b_in) + " do not broadcast");
    batch[i] = std::max(da, db);
    if (da == 0 || db == 0) batch[i] = 0;
  }
  for (int64_t d : ab) p.a_matrices *= d;
  for (int64_t d : bb) p.b_matrices *= d;
  int64_t total = 1;
  for (int64_t d : batch) total *= d;
  for (int64_t i = 0; i < total; ++i) {
    int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (size_t d = rank; d-- > 0;) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      const int64_t da = d + ab.size() >= rank ? ab[d + ab.size() - rank] : 1;
      const int64_t db = d + bb.size() >= rank ? bb[d + bb.size() - rank] : 1;
      if (da != 1) ia += idx * sa;
      if (db != 1) ib += idx * sb;
      sa *= da;
      sb *= db;
    }
    p.a_index.push_back(ia);
    p.b_index.push_back(ib);
  }
  p.out_shape = batch;
  if (!a_vec) p.out_shape.push_back(p.M);
  if (!b_vec) p.out_shape.push_back(p.N);
  return p;
}

}  // namespace onnxq::exec::quant
