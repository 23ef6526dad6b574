#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

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

// A tensor that is inline in ONNX terms but whose data the store holds instead of the proto:
// bytes of the model file it was loaded from (mapped, never copied) or a Tensor handed over in
// memory. Its proto says data_location EXTERNAL with this key among its external_data, so
// every reader goes through the Model; save() writes the data back inline, so the key never
// reaches a file. The value names the source: "file:<identity of the model file>" or
// "memory:<id>".
inline constexpr std::string_view kHeldKey = "onnxq.held";
inline constexpr std::string_view kHeldMemoryLocation = "onnxq.held.memory";
// Held tensors are worth it from this size on; smaller ones stay in the proto.
inline constexpr uint64_t kHeldMinBytes = 64 * 1024;
bool is_held(const onnx::TensorProto& proto);

class Model;
// Puts every held tensor's data back into its proto (a copy), for code that reads protos
// without a Model, such as libonnx's version converter, which would drop the reference.
void materialize_held_tensors(Model& model);

// "file:<device>:<inode>:<size>:<mtime ns>" of an open file: what a held tensor's model
// file must still be when it is read by name.
std::string file_identity(int fd);

// The external data files of one model, memory-mapped on first use and kept mapped for as
// long as any tensor viewing them lives.
class ExternalDataStore {
 public:
  explicit ExternalDataStore(std::filesystem::path base_dir) : base_dir_(std::move(base_dir)) {}

  // Checks the file exists and holds offset + length bytes (kInput otherwise).
  void validate(const onnx::TensorProto& proto);
  Tensor read(const onnx::TensorProto& proto);
  // The tensor's stored bytes without copying (external or held data; kInput if unreadable).
  std::span<const std::byte> bytes(const onnx::TensorProto& proto);

  // Maps the model file itself (open as `fd`), for tensors held in it: returns its bytes
  // (empty if it can't be mapped) and identity. keep_model_file() then says whether any
  // tensor is held in it (the mapping is prepared for reading) or not (it is dropped).
  std::string_view map_model_file(int fd, std::string& identity);
  void keep_model_file(bool keep);
  // Lets `proto` refer to `value` without copying it (see kHeldKey).
  void hold(onnx::TensorProto& proto, const Tensor& value);

  std::filesystem::path resolve(const std::string& location) const { return base_dir_ / location; }

 private:
  struct Mapping;
  std::shared_ptr<Mapping> map_file(const std::string& location);
  std::shared_ptr<Mapping> map_path(const std::filesystem::path& path);
  static std::shared_ptr<Mapping> map_fd(int fd);
  // Where a held or external tensor's bytes are, and what keeps them alive; *in_file says
  // whether they are in a file mapping (not a tensor held in memory).
  std::span<std::byte> locate(const onnx::TensorProto& proto, std::shared_ptr<void>& owner, bool* in_file = nullptr);

  std::filesystem::path base_dir_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Mapping>> mappings_;
  std::shared_ptr<Mapping> model_file_;
  std::map<uint64_t, Tensor> memory_;
};

}  // namespace onnxq
