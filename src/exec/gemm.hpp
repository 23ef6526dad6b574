#pragma once

#include <cstdint>

namespace onnxq::exec {

// C = alpha * op(A) * op(B) + beta * C for row-major float matrices, op(A) M×K and op(B)
// K×N, with leading dimensions (row strides) lda, ldb, ldc. beta == 0 ignores C's old
// contents (NaN included). Work is split into fixed output tiles, so every element is
// summed in the same order whatever `threads` is: results are bit-identical.
void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc, int threads);

// The same for double.
void gemm_f64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
              const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
              int64_t ldc, int threads);

}  // namespace onnxq::exec
