// MaxPool, AveragePool, LpPool and their Global forms. Windows are resolved once per run
// into per-axis lists of in-bounds taps, so one N-d loop serves every rank. Each (n, c)
// plane is one unit of parallel work and sums its window taps in a fixed order.

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/window.hpp"

namespace onnxq::exec {

namespace {

enum class PoolKind { kMax, kAverage, kLp };

struct PoolAttrs {
  PoolKind kind = PoolKind::kMax;
  WindowAttrs window;
  bool count_include_pad = false;
  int64_t storage_order = 0;
  double p = 2.0;
};

// For every output index along one axis: the in-bounds input indices of its window, and
// how many taps lie inside the padded extent (AveragePool's count_include_pad divisor).
struct AxisTaps {
  std::vector<std::vector<int64_t>> valid;
  std::vector<int64_t> padded;
};

std::vector<AxisTaps> axis_taps(const WindowGeometry& g) {
  std::vector<AxisTaps> axes(g.rank());
  for (size_t d = 0; d < g.rank(); ++d) {
    AxisTaps& a = axes[d];
    a.valid.resize(static_cast<size_t>(g.out[d]));
    a.padded.resize(static_cast<size_t>(g.out[d]));
    for (int64_t o = 0; o < g.out[d]; ++o) {
      int64_t padded = 0;
      for (int64_t k = 0; k < g.kernel[d]; ++k) {
        const int64_t i = o * g.strides[d] - g.pad_begin[d] + k * g.dilations[d];
        if (i >= 0 && i < g.in[d]) a.valid[static_cast<size_t>(o)].push_back(i);
        if (i < g.in[d] + g.pad_end[d]) ++padded;
      }
      a.padded[static_cast<size_t>(o)] = padded;
    }
  }
  return axes;
}

// Row-major offset within a plane -> column-major (MaxPool storage_order = 1).
int64_t column_major(int64_t offset, const std::vector<int64_t>& dims) {
  int64_t result = 0, scale = 1;
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = offset % dims[d];
    offset /= dims[d];
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    result += idx[d] * scale;
    scale *= dims[d];
  }
  return result;
}

// The common 2-D case without the N-d odometer; taps are visited in the same order.
// MaxPool without indices, separably: the maximum over the window's rows for every input
// column (contiguous, so it vectorizes), then over the window's columns. A NaN is kept only
// where it comes first, as in the tap-by-tap loop.
template <class T>
void max_plane_2d(const WindowGeometry& g, const std::vector<AxisTaps>& axes, const T* in, T* out) {
  const int64_t W = g.in[1], OH = g.out[0], OW = g.out[1];
  thread_local std::vector<T> column_max;
  column_max.resize(static_cast<size_t>(W));
  T* cm = column_max.data();
  for (int64_t oh = 0; oh < OH; ++oh, out += OW) {
    const auto& hs = axes[0].valid[static_cast<size_t>(oh)];
    if (hs.empty()) {
      std::fill(out, out + OW, std::numeric_limits<T>::lowest());
      continue;
    }
    std::copy(in + hs[0] * W, in + (hs[0] + 1) * W, cm);
    for (size_t i = 1; i < hs.size(); ++i) {
      const T* row = in + hs[i] * W;
      for (int64_t w = 0; w < W; ++w) cm[w] = row[w] > cm[w] ? row[w] : cm[w];
    }
    for (int64_t ow = 0; ow < OW; ++ow) {
      const auto& ws = axes[1].valid[static_cast<size_t>(ow)];
      T best = ws.empty() ? std::numeric_limits<T>::lowest() : cm[ws[0]];
      for (size_t i = 1; i < ws.size(); ++i) best = cm[ws[i]] > best ? cm[ws[i]] : best;
      out[ow] = best;
    }
  }
}

template <class T>
void pool_plane_2d(const PoolAttrs& a, const WindowGeometry& g, const std::vector<AxisTaps>& axes, const T* in,
                   T* out, int64_t* indices, int64_t index_base) {
  if (a.kind == PoolKind::kMax && !indices) return max_plane_2d(g, axes, in, out);
  const int64_t W = g.in[1], OH = g.out[0], OW = g.out[1];
  for (int64_t oh = 0; oh < OH; ++oh) {
    const auto& hs = axes[0].valid[static_cast<size_t>(oh)];
    for (int64_t ow = 0; ow < OW; ++ow) {
      const auto& ws = axes[1].valid[static_cast<size_t>(ow)];
      const int64_t o = oh * OW + ow;
      if (a.kind == PoolKind::kMax) {
        T best = std::numeric_limits<T>::lowest();
        int64_t best_at = -1;
        for (int64_t h : hs)
          for (int64_t w : ws)
            if (in[h * W + w] > best || best_at < 0) best = in[h * W + w], best_at = h * W + w;
        out[o] = best;
        if (indices) {
          const int64_t at = std::max<int64_t>(best_at, 0);
          indices[o] = index_base + (a.storage_order == 1 ? (at % W) * g.in[0] + at / W : at);
        }
        continue;
      }
      double acc = 0.0;
      for (int64_t h : hs)
        for (int64_t w : ws)
          acc += a.kind == PoolKind::kAverage ? static_cast<double>(in[h * W + w])
                                               : std::pow(std::abs(static_cast<double>(in[h * W + w])), a.p);
      if (a.kind == PoolKind::kAverage) {
        const int64_t divisor = a.count_include_pad
                                    ? axes[0].padded[static_cast<size_t>(oh)] * axes[1].padded[static_cast<size_t>(ow)]
                                    : static_cast<int64_t>(hs.size() * ws.size());
        out[o] = static_cast<T>(divisor > 0 ? acc / static_cast<double>(divisor) : 0.0);
      } else {
        out[o] = static_cast<T>(std::pow(acc, 1.0 / a.p));
      }
    }
  }
}

// GlobalAveragePool of one plane: eight interleaved double sums (independent, so they
// pipeline and vectorize) combined in a fixed order.
template <class T>
T plane_mean(const T* in, int64_t n) {
  double lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += static_cast<double>(in[i + l]);
  for (int l = 0; i < n; ++i, ++l) lane[l] += static_cast<double>(in[i]);
  const double sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  return static_cast<T>(n > 0 ? sum / static_cast<double>(n) : 0.0);
}

template <class T>
void pool_plane(const PoolAttrs& a, const WindowGeometry& g, const std::vector<AxisTaps>& axes, const T* in,
                T* out, int64_t* indices, int64_t index_base) {
  const size_t r = g.rank();
  if (r == 2) return pool_plane_2d(a, g, axes, in, out, indices, index_base);
  std::vector<int64_t> pos(r, 0);
  std::vector<size_t> tap(r);
  const int64_t total = g.out_size();
  for (int64_t o = 0; o < total; ++o) {
    bool empty = false;
    int64_t padded = 1, count = 1;
    for (size_t d = 0; d < r; ++d) {
      const auto& v = axes[d].valid[static_cast<size_t>(pos[d])];
      empty = empty || v.empty();
      count *= static_cast<int64_t>(v.size());
      padded *= axes[d].padded[static_cast<size_t>(pos[d])];
    }
    T best = std::numeric_limits<T>::lowest();
    int64_t best_at = -1;
    double acc = 0.0;
    std::fill(tap.begin(), tap.end(), 0);
    while (!empty) {
      int64_t offset = 0;
      for (size_t d = 0; d < r; ++d)
        offset = offset * g.in[d] + axes[d].valid[static_cast<size_t>(pos[d])][tap[d]];
      const T v = in[offset];
      if (a.kind == PoolKind::kMax) {
        if (v > best || best_at < 0) best = v, best_at = offset;
      } else if (a.kind == PoolKind::kAverage) {
        acc += static_cast<double>(v);
      } else {
        acc += std::pow(std::abs(static_cast<double>(v)), a.p);
      }
      size_t d = r;
      while (d-- > 0) {
        if (++tap[d] < axes[d].valid[static_cast<size_t>(pos[d])].size()) break;
        tap[d] = 0;
      }
      if (d == static_cast<size_t>(-1)) break;
    }
    if (a.kind == PoolKind::kMax) {
      out[o] = best;
      if (indices)
        indices[o] = index_base + (a.storage_order == 1 ? column_major(std::max<int64_t>(best_at, 0), g.in)
                                                         : std::max<int64_t>(best_at, 0));
    } else if (a.kind == PoolKind::kAverage) {
      const int64_t divisor = a.count_include_pad ? padded : count;
      out[o] = static_cast<T>(divisor > 0 ? acc / static_cast<double>(divisor) : 0.0);
    } else {
      out[o] = static_cast<T>(std::pow(acc, 1.0 / a.p));
    }
    for (size_t d = r; d-- > 0;) {
      if (++pos[d] < g.out[d]) break;
      pos[d] = 0;
    }
  }
}

void run_pool(const PoolAttrs& a, bool global, KernelIO& io, const char* op) {
  const Tensor& x = io.input(0);
  if (x.rank() < 3) fail(ExitCode::kInput, std::string(op) + ": input must be [N, C, D1, ...], got " + shape_to_string(x.shape()));
  const std::vector<int64_t> in(x.shape().begin() + 2, x.shape().end());
  WindowGeometry g;
  if (global) {
    g = resolve_window(WindowAttrs{}, in, in, op);
  } else {
    if (a.window.kernel_shape.size() != in.size())
      fail(ExitCode::kInput, std::string(op) + ": kernel_shape must have one value per spatial axis");
    g = resolve_window(a.window, in, a.window.kernel_shape, op);
  }
  Shape out_shape{x.shape()[0], x.shape()[1]};
  out_shape.insert(out_shape.end(), g.out.begin(), g.out.end());
  Tensor y = Tensor::uninitialized(x.dtype(), out_shape);
  const bool want_indices = a.kind == PoolKind::kMax && io.num_outputs() > 1;
  Tensor indices = want_indices ? Tensor(DataType::kInt64, out_shape) : Tensor();
  const std::vector<AxisTaps> axes = axis_taps(g);
  const int64_t planes = x.shape()[0] * x.shape()[1], in_size = g.in_size(), out_size = g.out_size();
  auto body = [&]<class T>(T) {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    int64_t* pi = want_indices ? indices.data<int64_t>() : nullptr;
    parallel_for(planes, io.threads(), [&](int64_t p) {
      if (global && a.kind == PoolKind::kAverage)
        py[p] = plane_mean(px + p * in_size, in_size);
      else
        pool_plane<T>(a, g, axes, px + p * in_size, py + p * out_size, pi ? pi + p * out_size : nullptr, p * in_size);
    });
  };
  if (a.kind == PoolKind::kMax)
    dispatch_numeric(x.dtype(), body, op);
  else
    dispatch_float(x.dtype(), body, op);
  io.set_output(0, std::move(y));
  if (want_indices) io.set_output(1, std::move(indices));
}

KernelFactory pool_factory(PoolKind kind, bool global, const char* op) {
  return [=](const NodeInfo& info) {
    PoolAttrs a;
    a.kind = kind;
    if (!global) {
      a.window = WindowAttrs::parse(info, true);
      if (a.window.kernel_shape.empty()) info.invalid("missing required attribute 'kernel_shape'");
    }
    a.count_include_pad = info.attr_int("count_include_pad", 0) != 0;
    a.storage_order = info.attr_int("storage_order", 0);
    if (kind == PoolKind::kLp) {
      a.p = info.opset() < 2 ? info.attr_float("p", 2.0f) : static_cast<double>(info.attr_int("p", 2));
      if (a.p <= 0) info.invalid("p must be positive");
    }
    return make_kernel([=](KernelIO& io) { run_pool(a, global, io, op); });
  };
}

}  // namespace

void register_pool(KernelRegistry& registry) {
  registry.add("MaxPool", pool_factory(PoolKind::kMax, false, "MaxPool"), 1);
  registry.add("AveragePool", pool_factory(PoolKind::kAverage, false, "AveragePool"), 1);
  registry.add("LpPool", pool_factory(PoolKind::kLp, false, "LpPool"), 1);
  registry.add("GlobalMaxPool", pool_factory(PoolKind::kMax, true, "GlobalMaxPool"), 1);
  registry.add("GlobalAveragePool", pool_factory(PoolKind::kAverage, true, "GlobalAveragePool"), 1);
  registry.add("GlobalLpPool", pool_factory(PoolKind::kLp, true, "GlobalLpPool"), 1);
}

}  // namespace onnxq::exec
