#pragma once

// 2-D float convolution as a GEMM, W[M, C*kh*kw] x col[C*kh*kw, OH*OW], whose im2col
// matrix is never materialized: each task packs a block of it (KC rows by NC output
// positions) straight from the image into the micro-kernel's panel layout, in L2, and the
// weights are read in place. Bias is the accumulators' starting value, so no fill pass.
//
// Every output is bias + sum over k in index order, one FMA at a time, whatever the tiling,
// so results are bit-identical for any thread count.

#include <cstdint>

#include "exec/kernels/conv_shape.hpp"

namespace onnxq::exec {

// What a fused step applies to a convolution's output while it is still in registers, in
// this order and with the float operations of the unfused kernels, so a fused run gives
// the same bits: y = y * scale[m] + shift[m] (inference BatchNormalization, multiply then
// add), y = y + residual (Add of a tensor of y's shape and layout), y = min(max(y, lo), hi)
// as Clip computes it (NaN kept; Relu is lo 0, hi +inf).
struct ConvEpilogue {
  const float* scale = nullptr;  // per output channel, with shift; null: no BatchNormalization
  const float* shift = nullptr;
  const float* residual = nullptr;  // same shape as y; null: none
  bool clip = false;
  float lo = 0.0f, hi = 0.0f;
};

// The epilogue applied to channels [m_begin, m_end) of one image's output y[M, n] (row
// stride ldy, residual laid out alike), as a separate pass: the reference for the fused
// micro-kernel and the path of convolutions that do not run packed.
void apply_conv_epilogue(const ConvEpilogue& ep, int64_t m_begin, int64_t m_end, int64_t n, float* y, int64_t ldy);

// Whether this CPU runs the packed path (AVX-512F); otherwise use im2col + gemm_f32. The
// answer is fixed for the process.
bool conv2d_packed_available();

// y = conv(x, w) + b for a 2-D convolution (any groups, strides, dilations, pads); b may be
// null. Undilated convolutions larger than 1x1 read a zero-padded copy of each image (split
// into stride phases) directly; the others pack im2col blocks. Both give the same bits. `ep` (optional; its pointers address the whole tensor, all images) is applied as
// each output tile is finished. Only when conv2d_packed_available().
void conv2d_packed(const ConvShape& s, const float* x, const float* w, const float* b, float* y, int threads,
                   const ConvEpilogue* ep = nullptr);

namespace conv_packed_detail {

// The two strategies of conv2d_packed, for tests: im2col blocks (any convolution) and the
// padded image read in place (no dilation, more than one tap; false when the shape is not
// one).
void conv2d_im2col_blocks(const ConvShape& s, const float* x, const float* w, const float* b, float* y, int threads,
                          const ConvEpilogue* ep);
bool conv2d_direct(const ConvShape& s, const float* x, const float* w, const float* b, float* y, int threads,
                   const ConvEpilogue* ep);

// The micro-kernel's tile: up to kRows output channels by kCols output positions.
inline constexpr int kRows = 8;
inline constexpr int kCols = 32;

// C[rows, cols] (rows <= kRows, cols <= kCols, row stride ldc) = start + A[rows, kc] x Bp,
// where A has row stride lda, Bp is kc rows of kCols packed floats, and start is C's
// current contents when `accumulate`, else bias[r] per row (0 when bias is null). With
// `ep` (this tile's rows: scale/shift start at row 0, residual at C's first element, same
// stride) the epilogue is applied before the store.
void micro_kernel_avx512(int rows, int cols, int64_t kc, const float* A, int64_t lda, const float* Bp, float* C,
                         int64_t ldc, const float* bias, bool accumulate, const ConvEpilogue* ep = nullptr);

// The direct path's kernel (convolutions read a zero-padded, phase-split copy of the image
// in place of an im2col matrix): for rows <= kRows output channels and 32 consecutive
// positions of the padded grid starting at x, C[r, .] = bias[r] + sum over k of
// A[r * lda + k] * x[offsets[k] + lane], in k order. Only lanes set in `valid` are
// outputs; they are stored one after the other from C (row stride ldc), the epilogue's
// residual read alike.
void micro_kernel_direct_avx512(int rows, int64_t K, const float* A, int64_t lda, const float* x,
                                const int64_t* offsets, uint32_t valid, float* C, int64_t ldc, const float* bias,
                                const ConvEpilogue* ep);

// dst[i] = src[2 * i] for i < n, reading nothing past src[2 * (n - 1)].
void copy_stride2_avx512(const float* src, int64_t n, float* dst);

}  // namespace conv_packed_detail

}  // namespace onnxq::exec
