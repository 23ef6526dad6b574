#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "onnxq/tensor.hpp"

namespace onnxq {

// Where one tensor's external data lives, parsed from TensorProto.external_data.
struct ExternalRef {
  std::string location;  // relative to the model's directory
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Parses and checks a proto's external_data entries against its dtype and shape (kInput).
ExternalRef parse_external_ref(const onnx::TensorProto& proto);

// The external data files of one model, memory-mapped on first use and kept mapped for as
// long as any tensor viewing them lives.
class ExternalDataStore {
 public:
  explicit ExternalDataStore(std::filesystem::path base_dir) : base_dir_(std::move(base_dir)) {}

  // Checks the file exists and holds offset + length bytes (kInput otherwise).
  void validate(const onnx::TensorProto& proto);
  Tensor read(const onnx::TensorProto& proto);

  std::filesystem::path resolve(const std::string& location) const { return base_dir_ / location; }

 private:
  struct Mapping;
  std::shared_ptr<Mapping> map_file(const std::string& location);

  std::filesystem::path base_dir_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Mapping>> mappings_;
};

}  // namespace onnxq
