#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "onnxq/tensor.hpp"

namespace onnxq::test {

// Inputs for the real npm models, made from the files in models/data the way the models'
// own pipelines prepare them (PaddleOCR's resize/normalize, Silero's 512-sample chunks).

// models/data/<relative>
std::filesystem::path data_file(const std::string& relative);

// PaddleOCR rec: height 48 keeping the aspect ratio (width at most 320), RGB -> BGR,
// (x/255 - 0.5)/0.5, CHW, zero padding on the right to `width`: [1, 3, 48, width].
Tensor ppocr_rec_input(const std::filesystem::path& png, int width = 320);

// PaddleOCR det: resized to size x size, RGB -> BGR, x/255, ImageNet mean/std: [1, 3, size, size].
Tensor ppocr_det_input(const std::filesystem::path& png, int size = 640);

// Silero VAD v5 feeds for the 512-sample chunk starting at `sample` of the bundled speech
// recording, with a zero state: input [1, 512], state [2, 1, 128], sr = 16000.
std::map<std::string, Tensor> silero_chunk_inputs(int64_t sample);

}  // namespace onnxq::test
