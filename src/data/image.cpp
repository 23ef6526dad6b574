#include "onnxq/image.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include "onnxq/error.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#include <stb_image.h>

namespace onnxq {

Image load_image(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ExitCode::kInput, path.string() + ": cannot open image");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int w = 0, h = 0, channels = 0;
  stbi_uc* pixels = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                          static_cast<int>(bytes.size()), &w, &h, &channels, 3);
  if (!pixels)
    fail(ExitCode::kInput, path.string() + ": not a readable PNG/JPEG/BMP image (" + stbi_failure_reason() + ")");
  Image image{w, h, std::vector<uint8_t>(pixels, pixels + static_cast<size_t>(w) * h * 3)};
  stbi_image_free(pixels);
  return image;
}

Image resize_bilinear(const Image& image, int height, int width) {
  if (height <= 0 || width <= 0 || image.width <= 0 || image.height <= 0)
    fail(ExitCode::kInput, "cannot resize an empty image or to an empty size");
  Image out{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  const double sy = static_cast<double>(image.height) / height, sx = static_cast<double>(image.width) / width;
  for (int y = 0; y < height; ++y) {
    const double fy = std::clamp((y + 0.5) * sy - 0.5, 0.0, image.height - 1.0);
    const int y0 = static_cast<int>(fy), y1 = std::min(y0 + 1, image.height - 1);
    const double wy = fy - y0;
    for (int x = 0; x < width; ++x) {
      const double fx = std::clamp((x + 0.5) * sx - 0.5, 0.0, image.width - 1.0);
      const int x0 = static_cast<int>(fx), x1 = std::min(x0 + 1, image.width - 1);
      const double wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        const double top = image.at(y0, x0, c) * (1 - wx) + image.at(y0, x1, c) * wx;
        const double bottom = image.at(y1, x0, c) * (1 - wx) + image.at(y1, x1, c) * wx;
        out.rgb[(static_cast<size_t>(y) * width + x) * 3 + c] =
            static_cast<uint8_t>(std::lround(std::clamp(top * (1 - wy) + bottom * wy, 0.0, 255.0)));
      }
    }
  }
  return out;
}

}  // namespace onnxq
