#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace onnxq {

// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3

  uint8_t at(int y, int x, int c) const { return rgb[(static_cast<size_t>(y) * width + x) * 3 + c]; }
};

// Decodes PNG, JPEG or BMP (through stb_image); grey and alpha images become RGB. kInput
// naming the file when it is missing or not a decodable image.
Image load_image(const std::filesystem::path& path);

// Bilinear resize with half-pixel centres (as OpenCV's INTER_LINEAR and PIL's BILINEAR
// without antialiasing), rounding to nearest.
Image resize_bilinear(const Image& image, int height, int width);

}  // namespace onnxq
