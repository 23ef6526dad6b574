#pragma once

// One output tile of C = alpha * op(A) op(B) + beta * C through Eigen, shared by the
// portable build of gemm.cpp and the AVX2/FMA build of gemm_avx2.cpp. A and B point at
// the tile's first row of op(A) and first column of op(B); C at the tile's corner.
// `static` keeps each translation unit's instantiations (compiled for different
// instruction sets) out of each other's way at link time.

#include <Eigen/Core>
#include <cstdint>

namespace onnxq::exec::gemm_detail {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MutMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class T>
static void gemm_tile(bool trans_a, bool trans_b, int64_t rows, int64_t cols, int64_t K, T alpha, const T* A,
                      int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  MutMap<T> c(C, rows, cols, Eigen::OuterStride<>(ldc));
  if (beta == T(0))
    c.setZero();
  else if (beta != T(1))
    c *= beta;
  if (K <= 0) return;
  // A transposed operand is read as the transpose of a row-major map.
  if (!trans_a && !trans_b) {
    ConstMap<T> a(A, rows, K, Eigen::OuterStride<>(lda));
    ConstMap<T> b(B, K, cols, Eigen::OuterStride<>(ldb));
    c.noalias() += alpha * (a * b);
  } else if (!trans_a && trans_b) {
    ConstMap<T> a(A, rows, K, Eigen::OuterStride<>(lda));
    ConstMap<T> bt(B, cols, K, Eigen::OuterStride<>(ldb));
    c.noalias() += alpha * (a * bt.transpose());
  } else if (trans_a && !trans_b) {
    ConstMap<T> at(A, K, rows, Eigen::OuterStride<>(lda));
    ConstMap<T> b(B, K, cols, Eigen::OuterStride<>(ldb));
    c.noalias() += alpha * (at.transpose() * b);
  } else {
    ConstMap<T> at(A, K, rows, Eigen::OuterStride<>(lda));
    ConstMap<T> bt(B, cols, K, Eigen::OuterStride<>(ldb));
    c.noalias() += alpha * (at.transpose() * bt.transpose());
  }
}

}  // namespace onnxq::exec::gemm_detail
