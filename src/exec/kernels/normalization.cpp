// LayerNormalization, BatchNormalization (inference), InstanceNormalization,
// GroupNormalization, LpNormalization, MeanVarianceNormalization. Statistics are taken in
// double over each row (two passes: mean, then squared deviations) in fixed partial sums,
// so results do not depend on the thread count.

#include <array>
#include <cmath>

#include "exec/dispatch.hpp"
#include "exec/kernel.hpp"
#include "exec/kernels/batch_norm.hpp"
#include "exec/kernels/families.hpp"
#include "exec/kernels/lane_math.hpp"
#include "exec/kernels/reduce_common.hpp"

namespace onnxq::exec {
namespace {

struct Moments {
  double mean;
  double var;  // population variance
};

template <class T>
Moments row_moments(const T* x, int64_t n) {
  if (n == 0) return {0.0, 0.0};
  const double mean = lane_sum(n, [&](int64_t i) { return static_cast<double>(x[i]); }) / static_cast<double>(n);
  const double sq = lane_sum(n, [&](int64_t i) {
    const double d = static_cast<double>(x[i]) - mean;
    return d * d;
  });
  return {mean, sq / static_cast<double>(n)};
}

// `t` broadcast (numpy rules, right-aligned, towards `target` only) and flattened.
template <class T>
std::vector<T> broadcast_param(const Tensor& t, const Shape& target, const std::string& op, const char* what) {
  const std::vector<double> v = to_doubles(t, op, what);
  const Shape& s = t.shape();
  if (s.size() > target.size())
    fail(ExitCode::kInput, op + ": " + what + " of shape " + shape_to_string(s) + " does not broadcast to " +
                               shape_to_string(target));
  std::vector<int64_t> strides(target.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    const size_t si = s.size() - 1 - k, ti = target.size() - 1 - k;
    if (s[si] != target[ti] && s[si] != 1)
      fail(ExitCode::kInput, op + ": " + what + " of shape " + shape_to_string(s) + " does not broadcast to " +
                                 shape_to_string(target));
    if (s[si] != 1) strides[ti] = stride;
    stride *= s[si];
  }
  const int64_t n = shape_numel(target);
  std::vector<T> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, src = 0;
    for (size_t d = target.size(); d-- > 0;) {
      src += (rem % target[d]) * strides[d];
      rem /= target[d];
    }
    out[static_cast<size_t>(i)] = static_cast<T>(v[static_cast<size_t>(src)]);
  }
  return out;
}

// A per-channel parameter of exactly `n` elements.
template <class T>
std::vector<T> channel_param(const Tensor& t, int64_t n, const std::string& op, const char* what) {
  if (t.numel() != n)
    fail(ExitCode::kInput, op + ": " + what + " has " + std::to_string(t.numel()) + " elements, expected " +
                               std::to_string(n));
  const std::vector<double> v = to_doubles(t, op, what);
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

template <class T>
void batch_norm_coefficients(const Tensor& scale_t, const Tensor& B, const Tensor& mean_t, const Tensor& var_t,
                             int64_t channels, float epsilon, std::vector<T>& a, std::vector<T>& b) {
  const auto scale = channel_param<double>(scale_t, channels, "BatchNormalization", "scale");
  const auto bias = channel_param<double>(B, channels, "BatchNormalization", "B");
  const auto mean = channel_param<double>(mean_t, channels, "BatchNormalization", "mean");
  const auto var = channel_param<double>(var_t, channels, "BatchNormalization", "var");
  a.resize(static_cast<size_t>(channels));
  b.resize(static_cast<size_t>(channels));
  for (size_t c = 0; c < a.size(); ++c) {
    const double k = scale[c] / std::sqrt(var[c] + static_cast<double>(epsilon));
    a[c] = static_cast<T>(k);
    b[c] = static_cast<T>(bias[c] - mean[c] * k);
  }
}

template void batch_norm_coefficients<float>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t,
                                             float, std::vector<float>&, std::vector<float>&);
template void batch_norm_coefficients<double>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t,
                                              float, std::vector<double>&, std::vector<double>&);

namespace {

// --- LayerNormalization ---------------------------------------------------------------

void run_layer_norm(int64_t axis_attr, float epsilon, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  const int64_t rank = static_cast<int64_t>(x.rank());
  const size_t axis = static_cast<size_t>(normalize_axis(axis_attr, rank, "LayerNormalization"));
  const Shape norm_shape(x.shape().begin() + static_cast<std::ptrdiff_t>(axis), x.shape().end());
  const int64_t rows = dims_product(x.shape(), 0, axis), n = shape_numel(norm_shape);
  Shape stat_shape = x.shape();
  for (size_t d = axis; d < stat_shape.size(); ++d) stat_shape[d] = 1;
  Tensor y = Tensor::uninitialized(x.dtype(), x.shape());
  Tensor mean(DataType::kFloat, stat_shape), inv_std(DataType::kFloat, stat_shape);
  dispatch_float(
      x.dtype(),
      [&]<class T>(T) {
        const auto scale = broadcast_param<T>(io.input(1), norm_shape, "LayerNormalization", "Scale");
        const auto bias = io.has_input(2) ? broadcast_param<T>(io.input(2), norm_shape, "LayerNormalization", "B")
                                          : std::vector<T>(static_cast<size_t>(n), T(0));
        const T* px = x.data<T>();
        T* py = y.data<T>();
        float* pm = mean.data<float>();
        float* ps = inv_std.data<float>();
        parallel_rows(rows, n, io.threads(), [&](int64_t r) {
          const T* xr = px + r * n;
          T* yr = py + r * n;
          const Moments m = row_moments(xr, n);
          const double inv = 1.0 / std::sqrt(m.var + static_cast<double>(epsilon));
          const T mu = static_cast<T>(m.mean), s = static_cast<T>(inv);
          for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * s * scale[static_cast<size_t>(i)] + bias[static_cast<size_t>(i)];
          pm[r] = static_cast<float>(m.mean);
          ps[r] = static_cast<float>(inv);
        });
      },
      "LayerNormalization");
  io.set_output(0, narrow_half(y, input.dtype()));
  io.set_output(1, mean);
  io.set_output(2, inv_std);
}

// --- BatchNormalization, InstanceNormalization, GroupNormalization ---------------------

// X is [N, C, spatial...]; returns {N, C, spatial size}.
std::array<int64_t, 3> nchw(const Tensor& x, const std::string& op) {
  if (x.rank() < 2) fail(ExitCode::kInput, op + ": the input must have at least 2 dimensions");
  return {x.shape()[0], x.shape()[1], dims_product(x.shape(), 2, x.rank())};
}

void run_batch_norm(float epsilon, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  auto [N, C, S] = nchw(x, "BatchNormalization");
  // Before opset 9, spatial = 0 gives every element of a sample its own statistics.
  const int64_t per_sample = C * S;
  const int64_t channels = io.input(1).numel() == per_sample && per_sample != C ? per_sample : C;
  const int64_t inner = per_sample / channels;
  Tensor y = Tensor::uninitialized(x.dtype(), x.shape());
  dispatch_float(
      x.dtype(),
      [&]<class T>(T) {
        std::vector<T> a, b;
        batch_norm_coefficients(io.input(1), io.input(2), io.input(3), io.input(4), channels, epsilon, a, b);
        const T* px = x.data<T>();
        T* py = y.data<T>();
        parallel_rows(N * channels, inner, io.threads(), [&](int64_t r) {
          const size_t c = static_cast<size_t>(r % channels);
          for (int64_t i = r * inner; i < (r + 1) * inner; ++i) py[i] = px[i] * a[c] + b[c];
        });
      },
      "BatchNormalization");
  io.set_output(0, narrow_half(y, input.dtype()));
  // Inference leaves the running statistics as they were.
  for (size_t i = 1; i < io.num_outputs(); ++i) io.set_output(i, io.input(i % 2 == 1 ? 3 : 4));
}

// Normalizes each of `rows` contiguous rows of `n` elements; row r, element i is scaled by
// scale[param(r, i)] and shifted by bias[param(r, i)].
template <class T, class Param>
void normalize_rows(const T* x, T* y, int64_t rows, int64_t n, double epsilon, const std::vector<T>& scale,
                    const std::vector<T>& bias, Param param, int threads) {
  parallel_rows(rows, n, threads, [&](int64_t r) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    const Moments m = row_moments(xr, n);
    const T mu = static_cast<T>(m.mean), s = static_cast<T>(1.0 / std::sqrt(m.var + epsilon));
    for (int64_t i = 0; i < n; ++i) {
      const size_t p = param(r, i);
      yr[i] = (xr[i] - mu) * s * scale[p] + bias[p];
    }
  });
}

void run_instance_norm(float epsilon, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  auto [N, C, S] = nchw(x, "InstanceNormalization");
  Tensor y = Tensor::uninitialized(x.dtype(), x.shape());
  dispatch_float(
      x.dtype(),
      [&]<class T>(T) {
        const auto scale = channel_param<T>(io.input(1), C, "InstanceNormalization", "scale");
        const auto bias = channel_param<T>(io.input(2), C, "InstanceNormalization", "B");
        normalize_rows<T>(x.data<T>(), y.data<T>(), N * C, S, epsilon, scale, bias,
                          [C](int64_t r, int64_t) { return static_cast<size_t>(r % C); }, io.threads());
      },
      "InstanceNormalization");
  io.set_output(0, narrow_half(y, input.dtype()));
}

void run_group_norm(int64_t groups, float epsilon, bool per_channel, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  auto [N, C, S] = nchw(x, "GroupNormalization");
  if (groups <= 0 || C % groups != 0)
    fail(ExitCode::kInput, "GroupNormalization: num_groups " + std::to_string(groups) +
                               " does not divide the channel count " + std::to_string(C));
  const int64_t per_group = C / groups, n = per_group * S;
  Tensor y = Tensor::uninitialized(x.dtype(), x.shape());
  dispatch_float(
      x.dtype(),
      [&]<class T>(T) {
        const int64_t params = per_channel ? C : groups;
        const auto scale = channel_param<T>(io.input(1), params, "GroupNormalization", "scale");
        const auto bias = channel_param<T>(io.input(2), params, "GroupNormalization", "bias");
        // Opset 18 scales per group, opset 21 per channel.
        normalize_rows<T>(
            x.data<T>(), y.data<T>(), N * groups, n, epsilon, scale, bias,
            [=](int64_t r, int64_t i) {
              const int64_t g = r % groups;
              return static_cast<size_t>(per_channel ? g * per_group + i / S : g);
            },
            io.threads());
      },
      "GroupNormalization");
  io.set_output(0, narrow_half(y, input.dtype()));
}

// --- LpNormalization, MeanVarianceNormalization ----------------------------------------

void run_lp_norm(int64_t axis_attr, int64_t p, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  const size_t axis = static_cast<size_t>(normalize_axis(axis_attr, static_cast<int64_t>(x.rank()), "LpNormalization"));
  const int64_t outer = dims_product(x.shape(), 0, axis), inner = dims_product(x.shape(), axis + 1, x.rank());
  const int64_t n = x.rank() == 0 ? 1 : x.shape()[axis];
  Tensor y = Tensor::uninitialized(x.dtype(), x.shape());
  dispatch_float(
      x.dtype(),
      [&]<class T>(T) {
        const T* px = x.data<T>();
        T* py = y.data<T>();
        parallel_rows(outer * inner, n, io.threads(), [&](int64_t r) {
          const int64_t off = (r / inner) * n * inner + r % inner;
          double acc = 0;
          for (int64_t k = 0; k < n; ++k) {
            const double v = static_cast<double>(px[off + k * inner]);
            acc += p == 1 ? std::abs(v) : v * v;
          }
          const double norm = p == 1 ? acc : std::sqrt(acc);
          // A zero vector stays zero rather than becoming NaN.
          const T inv = norm == 0 ? T(0) : static_cast<T>(1.0 / norm);
          for (int64_t k = 0; k < n; ++k) py[off + k * inner] = px[off + k * inner] * inv;
        });
      },
      "LpNormalization");
  io.set_output(0, narrow_half(y, input.dtype()));
}

void run_mvn(const std::vector<int64_t>& axes_attr, KernelIO& io) {
  const Tensor& input = io.input(0);
  const Tensor x = widen_half(input);
  const auto axes = normalize_axes(axes_attr, static_cast<int64_t>(x.rank()), "MeanVarianceNormalization");
  const ReducePlan plan = make_reduce_plan(x.shape(), axes);
  const double count = static_cast<double>(plan.reduced);
  Tensor y = Tensor::uninitialized(x.dtype(), x.shape());
  dispatch_float(
      x.dtype(),
      [&]<class T>(T) {
        const T* px = x.data<T>();
        T* py = y.data<T>();
        std::vector<double> mean(static_cast<size_t>(plan.outputs)), scale(static_cast<size_t>(plan.outputs));
        run_reduce(
            plan, px, mean.data(), 0.0, [](double a, T v, int64_t) { return a + static_cast<double>(v); },
            [&](double a, int64_t) { return a / count; }, io.threads());
        // y = (x - mean) / (std + 1e-9), the epsilon of the ONNX function definition.
        run_reduce(
            plan, px, scale.data(), 0.0,
            [&](double a, T v, int64_t o) {
              const double d = static_cast<double>(v) - mean[static_cast<size_t>(o)];
              return a + d * d;
            },
            [&](double a, int64_t) { return 1.0 / (std::sqrt(a / count) + 1e-9); }, io.threads());
        for_each_reduced(plan, io.threads(), [&](int64_t i, int64_t o) {
          const size_t k = static_cast<size_t>(o);
          py[i] = static_cast<T>((static_cast<double>(px[i]) - mean[k]) * scale[k]);
        });
      },
      "MeanVarianceNormalization");
  io.set_output(0, narrow_half(y, input.dtype()));
}

}  // namespace

void register_normalization(KernelRegistry& registry) {
  registry.add("LayerNormalization", [](const NodeInfo& info) {
    const int64_t axis = info.attr_int("axis", -1);
    const float epsilon = info.attr_float("epsilon", 1e-5f);
    return make_kernel([=](KernelIO& io) { run_layer_norm(axis, epsilon, io); });
  }, 17);

  registry.add("BatchNormalization", [](const NodeInfo& info) {
    // Training mode (batch statistics, updated running statistics) is out of scope. Before
    // opset 14 it is implied by asking for the statistics outputs (unless is_test, < 7).
    const bool extra_outputs = info.has_output(1) || info.has_output(2) || info.has_output(3) || info.has_output(4);
    const bool training = info.opset() >= 14  ? info.attr_int("training_mode", 0) != 0
                          : info.opset() >= 7 ? extra_outputs
                                              : extra_outputs && info.attr_int("is_test", 0) == 0;
    if (training) info.unsupported("training mode is not supported (inference only)");
    const float epsilon = info.attr_float("epsilon", 1e-5f);
    return make_kernel([=](KernelIO& io) { run_batch_norm(epsilon, io); });
  });

  registry.add("InstanceNormalization", [](const NodeInfo& info) {
    const float epsilon = info.attr_float("epsilon", 1e-5f);
    return make_kernel([=](KernelIO& io) { run_instance_norm(epsilon, io); });
  });

  registry.add("GroupNormalization", [](const NodeInfo& info) {
    const int64_t groups = info.required_int("num_groups");
    const float epsilon = info.attr_float("epsilon", 1e-5f);
    const bool per_channel = info.opset() >= 21;
    return make_kernel([=](KernelIO& io) { run_group_norm(groups, epsilon, per_channel, io); });
  }, 18);

  registry.add("LpNormalization", [](const NodeInfo& info) {
    const int64_t axis = info.attr_int("axis", -1);
    const int64_t p = info.attr_int("p", 2);
    if (p != 1 && p != 2) info.invalid("p must be 1 or 2, got " + std::to_string(p));
    return make_kernel([=](KernelIO& io) { run_lp_norm(axis, p, io); });
  });

  registry.add("MeanVarianceNormalization", [](const NodeInfo& info) {
    const auto axes = info.attr_ints("axes", {0, 2, 3});
    return make_kernel([=](KernelIO& io) { run_mvn(axes, io); });
  });
}

}  // namespace onnxq::exec
