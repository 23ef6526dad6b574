#include "support/real_inputs.hpp"

#include <algorithm>
#include <cmath>

#include "onnxq/image.hpp"
#include "onnxq/npy.hpp"

namespace onnxq::test {

std::filesystem::path data_file(const std::string& relative) {
  return std::filesystem::path(ONNXQ_SOURCE_DIR) / "models/data" / relative;
}

Tensor ppocr_rec_input(const std::filesystem::path& png, int width) {
  const Image image = load_image(png);
  const int w = std::min(width, static_cast<int>(std::ceil(48.0 * image.width / image.height)));
  const Image resized = resize_bilinear(image, 48, std::max(1, w));
  Tensor x(DataType::kFloat, {1, 3, 48, width});
  float* out = x.data<float>();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 48; ++y)
      for (int i = 0; i < resized.width; ++i)
        out[(c * 48 + y) * width + i] = (resized.at(y, i, 2 - c) / 255.0f - 0.5f) / 0.5f;
  return x;
}

Tensor ppocr_det_input(const std::filesystem::path& png, int size) {
  const Image image = resize_bilinear(load_image(png), size, size);
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  Tensor x(DataType::kFloat, {1, 3, size, size});
  float* out = x.data<float>();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < size; ++y)
      for (int i = 0; i < size; ++i)
        out[(c * size + y) * size + i] = (image.at(y, i, 2 - c) / 255.0f - mean[c]) / stdev[c];
  return x;
}

std::map<std::string, Tensor> silero_chunk_inputs(int64_t sample) {
  const Tensor speech = read_npy(data_file("silero-vad/speech_16k.npy"));
  Tensor chunk(DataType::kFloat, {1, 512});
  std::copy_n(speech.data<float>() + sample, 512, chunk.data<float>());
  return {{"input", chunk},
          {"state", Tensor(DataType::kFloat, {2, 1, 128})},
          {"sr", Tensor::from_vector<int64_t>({}, {16000})}};
}

}  // namespace onnxq::test
