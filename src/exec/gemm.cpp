#include "exec/gemm.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "core/parallel.hpp"

namespace onnxq::exec {

namespace {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MutMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// Tile sizes are constants, not functions of the thread count, so the blocking Eigen picks
// for each tile (and therefore the summation order) never changes with `threads`.
constexpr int64_t kTileRows = 128;
constexpr int64_t kTileCols = 512;

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int threads) {
  if (M <= 0 || N <= 0) return;
  const int64_t row_tiles = (M + kTileRows - 1) / kTileRows;
  const int64_t col_tiles = (N + kTileCols - 1) / kTileCols;
  // Small products are not worth a thread hand-off.
  const int use = M * N * std::max<int64_t>(K, 1) < (1 << 16) ? 1 : threads;
  parallel_for(row_tiles * col_tiles, use, [&](int64_t tile) {
    const int64_t r0 = (tile / col_tiles) * kTileRows, c0 = (tile % col_tiles) * kTileCols;
    const int64_t rows = std::min(kTileRows, M - r0), cols = std::min(kTileCols, N - c0);
    MutMap<T> c(C + r0 * ldc + c0, rows, cols, Eigen::OuterStride<>(ldc));
    if (beta == T(0))
      c.setZero();
    else if (beta != T(1))
      c *= beta;
    if (K <= 0) return;
    // op(A) rows r0.. and op(B) columns c0..; a transposed operand is read as the
    // transpose of a row-major map.
    if (!trans_a && !trans_b) {
      ConstMap<T> a(A + r0 * lda, rows, K, Eigen::OuterStride<>(lda));
      ConstMap<T> b(B + c0, K, cols, Eigen::OuterStride<>(ldb));
      c.noalias() += alpha * (a * b);
    } else if (!trans_a && trans_b) {
      ConstMap<T> a(A + r0 * lda, rows, K, Eigen::OuterStride<>(lda));
      ConstMap<T> bt(B + c0 * ldb, cols, K, Eigen::OuterStride<>(ldb));
      c.noalias() += alpha * (a * bt.transpose());
    } else if (trans_a && !trans_b) {
      ConstMap<T> at(A + r0, K, rows, Eigen::OuterStride<>(lda));
      ConstMap<T> b(B + c0, K, cols, Eigen::OuterStride<>(ldb));
      c.noalias() += alpha * (at.transpose() * b);
    } else {
      ConstMap<T> at(A + r0, K, rows, Eigen::OuterStride<>(lda));
      ConstMap<T> bt(B + c0 * ldb, cols, K, Eigen::OuterStride<>(ldb));
      c.noalias() += alpha * (at.transpose() * bt.transpose());
    }
  });
}

}  // namespace

void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc, int threads) {
  gemm<float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

void gemm_f64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
              const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
              int64_t ldc, int threads) {
  gemm<double>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
}

}  // namespace onnxq::exec
