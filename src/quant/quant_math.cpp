#include "onnxq/quant_math.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "onnxq/error.hpp"

namespace onnxq {

QuantRange quant_range(DataType type, bool symmetric, bool reduce_range) {
  switch (type) {
    case DataType::kInt8:
      if (reduce_range) return {-64, 64};
      return symmetric ? QuantRange{-127, 127} : QuantRange{-128, 127};
    case DataType::kUInt8: return reduce_range ? QuantRange{0, 127} : QuantRange{0, 255};
    case DataType::kInt16: return symmetric ? QuantRange{-32767, 32767} : QuantRange{-32768, 32767};
    case DataType::kUInt16: return {0, 65535};
    case DataType::kInt4: return symmetric ? QuantRange{-7, 7} : QuantRange{-8, 7};
    case DataType::kUInt4: return {0, 15};
    default:
      fail(ExitCode::kUnsupported, "quantization to " + std::string(dtype_name(type)) + " is not supported");
  }
}

QuantParams compute_quant_params(float rmin_f, float rmax_f, QuantRange range, bool symmetric) {
  double rmin = std::min<double>(rmin_f, 0.0);
  double rmax = std::max<double>(rmax_f, 0.0);
  if (symmetric) {
    const double absmax = std::max(std::abs(rmin), std::abs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  const double qspan = static_cast<double>(range.qmax) - static_cast<double>(range.qmin);
  const double scale = (rmax - rmin) / qspan;
  if (!(scale >= static_cast<double>(std::numeric_limits<float>::min()))) return {1.0f, 0};
  QuantParams p;
  p.scale = static_cast<float>(scale);
  const double zp = symmetric ? (static_cast<double>(range.qmin) + range.qmax) / 2.0 : range.qmin - rmin / scale;
  p.zero_point = static_cast<int32_t>(std::clamp(std::nearbyint(zp), static_cast<double>(range.qmin),
                                                 static_cast<double>(range.qmax)));
  return p;
}

double sqnr_db(const float* reference, const float* approx, int64_t count) {
  double signal = 0, noise = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(reference[i]) - approx[i];
    signal += static_cast<double>(reference[i]) * reference[i];
    noise += d * d;
  }
  if (noise == 0) return std::numeric_limits<double>::infinity();
  if (signal == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace onnxq
