// Conv: im2col + GEMM, with faster paths: float 1-D and 2-D convolutions pack the im2col matrix
// block by block for an AVX-512 micro-kernel (conv_packed.cpp) where the CPU has it;
// otherwise pointwise convolutions (1x1, stride 1, no padding) multiply the input
// directly. Depthwise 2-D convolutions (one input and one output channel per group) run a
// direct loop, which GEMM would turn into many tiny products.

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "exec/dispatch.hpp"
#include "exec/gemm.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/conv.hpp"
#include "exec/kernels/conv_channels.hpp"
#include "exec/kernels/conv_packed.hpp"
#include "exec/kernels/conv_shape.hpp"
#include "exec/kernels/depthwise.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/im2col.hpp"
#include "exec/kernels/reduce_common.hpp"

namespace onnxq::exec {

namespace {

template <class T>
void gemm_t(int64_t M, int64_t N, int64_t K, const T* A, const T* B, T beta, T* C, int threads) {
  if constexpr (std::is_same_v<T, float>)
    gemm_f32(false, false, M, N, K, 1.0f, A, K, B, N, beta, C, N, threads);
  else
    gemm_f64(false, false, M, N, K, 1.0, A, K, B, N, beta, C, N, threads);
}

// The depthwise interiors use the same AVX-512 build and CPU check as the packed convolution.
bool depthwise_vectorized() { return conv2d_packed_available(); }

// One output plane of a depthwise 2-D convolution. Interior columns (all taps inside the
// row) accumulate tap by tap over the whole run of columns, which vectorizes; edge columns
// check bounds. Every output sums its taps in (kh, kw) order, then adds the bias, either way.
template <class T>
void depthwise_plane(const T* in, const T* w, T bias, const WindowGeometry& g, T* out) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1];
  const int64_t KH = g.kernel[0], KW = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
  const int64_t ph = g.pad_begin[0], pw = g.pad_begin[1];
  // Interior columns: ow * sw - pw >= 0 and ow * sw - pw + (KW - 1) * dw < W.
  int64_t lo = (pw + sw - 1) / sw;
  int64_t hi = W - (KW - 1) * dw + pw <= 0 ? 0 : (W - (KW - 1) * dw + pw + sw - 1) / sw;
  lo = std::min(lo, OW);
  hi = std::clamp(hi, lo, OW);
  const int64_t run = hi - lo;
  // Float interiors on AVX-512 CPUs run in registers; otherwise accumulate a row at a time.
  const bool vector_interior = std::is_same_v<T, float> && run > 0 && depthwise_vectorized();
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t ih0 = oh * sh - ph;
    T* dst = out + oh * OW;
    auto edge = [&](int64_t ow) {
      T acc = T(0);
      const int64_t iw0 = ow * sw - pw;
      for (int64_t kh = 0; kh < KH; ++kh) {
        const int64_t ih = ih0 + kh * dh;
        if (ih < 0 || ih >= H) continue;
        for (int64_t kw = 0; kw < KW; ++kw) {
          const int64_t iw = iw0 + kw * dw;
          if (iw >= 0 && iw < W) acc += in[ih * W + iw] * w[kh * KW + kw];
        }
      }
      dst[ow] = acc + bias;
    };
    for (int64_t ow = 0; ow < lo; ++ow) edge(ow);
    for (int64_t ow = hi; ow < OW; ++ow) edge(ow);
    if (vector_interior) continue;
    T* acc = dst + lo;
    std::fill(acc, acc + run, T(0));
    for (int64_t kh = 0; kh < KH; ++kh) {
      const int64_t ih = ih0 + kh * dh;
      if (ih < 0 || ih >= H) continue;
      for (int64_t kw = 0; kw < KW; ++kw) {
        const T* src = in + ih * W + lo * sw - pw + kw * dw;
        const T wv = w[kh * KW + kw];
        if (sw == 1)
          for (int64_t i = 0; i < run; ++i) acc[i] += src[i] * wv;
        else
          for (int64_t i = 0; i < run; ++i) acc[i] += src[i * sw] * wv;
      }
    }
    for (int64_t i = 0; i < run; ++i) acc[i] += bias;
  }
  if constexpr (std::is_same_v<T, float>)
    if (vector_interior)
      depthwise_detail::interior_avx512({in, w, bias, out, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw, lo, run});
}

// A 1-D convolution as a 2-D one over a single row.
ConvShape as_2d(ConvShape s) {
  WindowGeometry& g = s.geometry;
  for (auto* v : {&g.in, &g.out, &g.kernel, &g.strides, &g.dilations}) v->insert(v->begin(), 1);
  for (auto* v : {&g.pad_begin, &g.pad_end}) v->insert(v->begin(), 0);
  return s;
}

// A fused epilogue on a finished output, (image, channel) planes in chunks of at least 16K
// elements, as BatchNormalization's own kernel splits them: small outputs stay on this thread.
void epilogue_pass(const ConvShape& s, const ConvEpilogue& ep, float* y, int threads) {
  const int64_t n = s.geometry.out_size();
  parallel_rows(s.batch * s.out_channels, n, threads, [&](int64_t nc) {
    const int64_t c = nc % s.out_channels;
    ConvEpilogue plane = ep;
    if (ep.scale) plane.scale = ep.scale + c, plane.shift = ep.shift + c;
    if (ep.residual) plane.residual = ep.residual + nc * n;
    apply_conv_epilogue(plane, 0, 1, n, y + nc * n, n);
  });
}

template <class T>
void conv_plain(const ConvShape& s, const T* x, const T* w, const T* b, T* y, int threads);

// `ep` (float only) is applied per tile on the packed path, as a pass after the others.
template <class T>
void conv(const ConvShape& s, const T* x, const T* w, const T* b, T* y, int threads,
          const ConvEpilogue* ep = nullptr) {
  const WindowGeometry& g = s.geometry;
  // The packed path computes output positions 32 at a time: for a handful (Silero VAD's
  // 1-D convolutions see four) the GEMM below wastes less.
  if constexpr (std::is_same_v<T, float>) {
    const bool depthwise = s.in_channels == s.group && s.out_channels == s.group && g.rank() == 2;
    if (!depthwise && g.out_size() >= 16 && g.rank() <= 2 && conv2d_packed_available()) {
      conv2d_packed(g.rank() == 2 ? s : as_2d(s), x, w, b, y, threads, ep);  // [N, C, L] is [N, C, 1, L]
      return;
    }
    conv_plain(s, x, w, b, y, threads);
    if (ep) epilogue_pass(s, *ep, y, threads);
  } else {
    conv_plain(s, x, w, b, y, threads);
  }
}

template <class T>
void conv_plain(const ConvShape& s, const T* x, const T* w, const T* b, T* y, int threads) {
  const WindowGeometry& g = s.geometry;
  const int64_t K = g.kernel_size(), in_size = g.in_size(), out_size = g.out_size();
  const int64_t Cg = s.in_channels / s.group, Mg = s.out_channels / s.group;

  if (Cg == 1 && Mg == 1 && g.rank() == 2) {
    parallel_for(s.batch * s.out_channels, threads, [&](int64_t nc) {
      const int64_t c = nc % s.out_channels;
      depthwise_plane(x + nc * in_size, w + c * K, b ? b[c] : T(0), g, y + nc * out_size);
    });
    return;
  }

  bool pointwise = K == 1;
  for (size_t d = 0; d < g.rank(); ++d)
    pointwise = pointwise && g.strides[d] == 1 && g.pad_begin[d] == 0 && g.pad_end[d] == 0;
  // The im2col buffer is reused per thread: a fresh one per call (zeroed, freshly
  // page-faulted, tens of MB on PaddleOCR det) cost more than the convolution itself.
  // im2col writes every element, padding included, so stale contents never show.
  thread_local std::vector<T> col;
  if (!pointwise && col.size() < static_cast<size_t>(Cg * K * out_size)) col.resize(static_cast<size_t>(Cg * K * out_size));
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t grp = 0; grp < s.group; ++grp) {
      const T* image = x + (n * s.in_channels + grp * Cg) * in_size;
      T* out = y + (n * s.out_channels + grp * Mg) * out_size;
      if (!pointwise) im2col(image, Cg, g, T(0), col.data(), threads);
      if (b)
        for (int64_t m = 0; m < Mg; ++m) std::fill(out + m * out_size, out + (m + 1) * out_size, b[grp * Mg + m]);
      gemm_t<T>(Mg, out_size, Cg * K, w + grp * Mg * Cg * K, pointwise ? image : col.data(), b ? T(1) : T(0),
                out, threads);
    }
}

struct ConvAttrs {
  WindowAttrs window;
  int64_t group;
};

ConvAttrs parse_conv(const NodeInfo& info) {
  const WindowAttrs attrs = WindowAttrs::parse(info, false);
  const int64_t group = info.attr_int("group", 1);
  if (group <= 0) info.invalid("group must be positive");
  return {attrs, group};
}

std::unique_ptr<OpKernel> make_conv(const NodeInfo& info) {
  const auto [attrs, group] = parse_conv(info);
  return make_kernel([=](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(1);
    const Tensor* b = io.has_input(2) ? &io.input(2) : nullptr;
    const ConvShape s = conv_shape(x, w, b, attrs, group, "Conv");
    if (w.dtype() != x.dtype() || (b && b->dtype() != x.dtype()))
      fail(ExitCode::kInput, "Conv: X, W and B must have the same element type");
    Tensor y = Tensor::uninitialized(x.dtype(), s.output_shape());
    if (y.numel() > 0)
      dispatch_float(x.dtype(), [&]<class T>(T) {
        conv<T>(s, x.data<T>(), w.data<T>(), b ? b->data<T>() : nullptr, y.data<T>(), io.threads());
      }, "Conv");
    io.set_output(0, std::move(y));
  });
}

}  // namespace

// Weights packed for conv2d_channels on a fused step's first run (kept for the next ones).
struct ChannelWeights {
  std::once_flag once;
  const float* source = nullptr;
  std::vector<float> packed;
};

std::unique_ptr<OpKernel> make_fused_conv(const NodeInfo& info, ConvChain chain) {
  const auto [attrs, group] = parse_conv(info);
  auto weights = std::make_shared<ChannelWeights>();
  return make_kernel([=, chain = std::move(chain)](KernelIO& io) {
    const Tensor& x = io.input(0);
    const Tensor& w = io.input(1);
    const Tensor* b = io.has_input(2) ? &io.input(2) : nullptr;
    const Tensor* residual = chain.residual ? &io.input(3) : nullptr;
    const bool floats = x.dtype() == DataType::kFloat && w.dtype() == DataType::kFloat &&
                        (!b || b->dtype() == DataType::kFloat) && (!residual || residual->dtype() == DataType::kFloat);
    if (!floats) return chain.unfused(io);
    const ConvShape s = conv_shape(x, w, b, attrs, group, "Conv");
    const Shape shape = s.output_shape();
    if ((residual && residual->shape() != shape) || (!chain.scale.empty() && static_cast<int64_t>(chain.scale.size()) != s.out_channels))
      return chain.unfused(io);
    Tensor y = Tensor::uninitialized(DataType::kFloat, shape);
    const ConvEpilogue ep{chain.scale.empty() ? nullptr : chain.scale.data(),
                          chain.shift.empty() ? nullptr : chain.shift.data(),
                          residual ? residual->data<float>() : nullptr, chain.clip, chain.lo, chain.hi};
    const float* bias = b ? b->data<float>() : nullptr;
    // Only where the unfused Conv runs packed (the same sums in the same order).
    if (y.numel() > 0 && chain.constant_weights && s.geometry.out_size() >= 16 && conv2d_packed_available() &&
        conv2d_channels_suits(s)) {
      std::call_once(weights->once, [&] {
        weights->packed = pack_weights_by_channel(w.data<float>(), s.out_channels, w.numel() / s.out_channels);
        weights->source = w.data<float>();
      });
      if (weights->source == w.data<float>()) {
        conv2d_channels(s, x.data<float>(), weights->packed.data(), bias, y.data<float>(), io.threads(), &ep);
        io.set_output(0, std::move(y));
        return;
      }
    }
    if (y.numel() > 0) conv<float>(s, x.data<float>(), w.data<float>(), bias, y.data<float>(), io.threads(), &ep);
    io.set_output(0, std::move(y));
  });
}

void register_conv(KernelRegistry& registry) {
  registry.add("Conv", make_conv, 1);
}

}  // namespace onnxq::exec
