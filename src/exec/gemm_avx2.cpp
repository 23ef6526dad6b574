// The GEMM tile built with AVX2 and FMA (see src/CMakeLists.txt); gemm.cpp calls it when
// the CPU supports both. Renaming Eigen's namespace keeps these instantiations apart from
// any built for the baseline instruction set. Only Eigen code lives here: inline standard
// library functions emitted with AVX2 could otherwise be picked by the linker for all.

#if defined(ONNXQ_GEMM_AVX2)

#define Eigen EigenAvx2
#include "exec/gemm_tile.hpp"

namespace onnxq::exec::gemm_detail {

void gemm_tile_f32_avx2(bool ta, bool tb, int64_t rows, int64_t cols, int64_t K, float alpha, const float* A,
                        int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_tile<float>(ta, tb, rows, cols, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_tile_f64_avx2(bool ta, bool tb, int64_t rows, int64_t cols, int64_t K, double alpha, const double* A,
                        int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_tile<double>(ta, tb, rows, cols, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace onnxq::exec::gemm_detail

#endif
