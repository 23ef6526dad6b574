#include <zlib.h>

#include <fstream>
#include <thread>
#include <vector>

#include "onnxq/checker.hpp"
#include "onnxq/ewq.hpp"

namespace onnxq {
namespace {

// Bytes of the files gzip-compressed as one stream, at level 1 (`gzip -1`): the default level
// takes ten times as long on a large model for a few percent.
uint64_t gzip_bytes(const std::vector<std::filesystem::path>& files) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    fail(ExitCode::kInternal, "zlib deflateInit2 failed");
  std::vector<unsigned char> in(1 << 20), out(1 << 20);
  uint64_t total = 0;
  auto pump = [&](int flush) {
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, flush);
      total += out.size() - z.avail_out;
    } while (z.avail_out == 0);
  };
  for (const auto& f : files) {
    std::ifstream s(f, std::ios::binary);
    if (!s) fail(ExitCode::kInput, f.string() + ": cannot be read to measure its compressed size");
    while (s) {
      s.read(reinterpret_cast<char*>(in.data()), static_cast<std::streamsize>(in.size()));
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(s.gcount());
      pump(Z_NO_FLUSH);
    }
  }
  z.avail_in = 0;
  pump(Z_FINISH);
  deflateEnd(&z);
  return total;
}

std::vector<std::filesystem::path> files_of(const Model& model, const std::filesystem::path& path) {
  std::vector<std::filesystem::path> files{path};
  for (const auto& f : model.external_files()) files.push_back(f);
  return files;
}

}  // namespace

EwqReport quantize_ewq_file(const std::filesystem::path& input, const std::filesystem::path& output,
                            const EwqOptions& options) {
  // The checker's schemas register while the model loads (one thread does little else then).
  std::jthread warm_up(warm_up_checker);
  Model model = Model::load(input);
  const uint64_t before = model.model_file_bytes() + model.external_file_bytes();
  const auto input_files = files_of(model, input);
  EwqReport report = quantize_ewq(model, options);
  report.file_bytes_before = before;
  warm_up.join();
  require_checker_pass(model, "codebook-quantized");
  report.file_bytes_after = model.save(output);
  if (options.storage == CodebookStorage::kFloat) {
    report.gzip_bytes_before = gzip_bytes(input_files);
    report.gzip_bytes_after = gzip_bytes(files_of(Model::load(output), output));
  }
  return report;
}

}  // namespace onnxq
