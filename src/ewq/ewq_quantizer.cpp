// The `onnxq ewq` driver: find weights, choose bins, build codebooks in parallel (one weight per
// chunk, so results never depend on the thread count), then store them.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "core/parallel.hpp"
#include "ewq/codebook_methods.hpp"
#include "core/spill_file.hpp"
#include "ewq/codebook_storage.hpp"
#include "ewq/group_coder.hpp"
#include "ewq/weight_rules.hpp"
#include "onnxq/ewq.hpp"
#include "onnxq/tensor_proto.hpp"
#include "onnxq/weight_quant.hpp"
#include "quant/node_filter.hpp"
#include "quant/opset_upgrade.hpp"
#include "quant/weight_bytes.hpp"

namespace onnxq {
namespace {

struct Job {
  std::string name;  // the weight's value name
  const onnx::TensorProto* proto = nullptr;
  GraphEditor* owner = nullptr;
  std::vector<onnx::NodeProto*> readers;  // selected nodes reading it
  std::string node, op_type;
  int axis = -1;  // the op's channel axis
  int bins = 0;
  double entropy = kNotComputed;
  // Results.
  CodedWeight coded;
  Tensor rebuilt;  // --storage float
  EwqTensorInfo info;
  bool exact = false;
};

double sqnr_db(double signal, double noise) {
  if (noise == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

std::string method_label(const EwqOptions& o) {
  std::string m = codebook_methods().get(o.method).name;
  return o.refine > 0 ? m + "+refine" : m;
}

class EwqQuantizer {
 public:
  EwqQuantizer(Model& model, const EwqOptions& options, EwqReport& report)
      : model_(model), options_(options), report_(report), names_(model.graph()) {}

  void run() {
    // Before any pointer into the graph is taken: the version converter replaces it.
    if (options_.storage == CodebookStorage::kGather && any_candidate()) {
      prepare_opset();
      names_ = NameSet(model_.graph());
    }
    build_editors(model_.graph(), nullptr);
    collect();
    if (jobs_.empty()) return;
    opset_ = model_.opset_version("");
    const int threads = resolve_threads(options_.threads);
    if (options_.select == BinSelection::kEntropy) choose_by_entropy(threads);
    std::vector<Job*> work;
    for (auto& j : jobs_)
      if (j.bins > 0) work.push_back(&j);
    for (Job* j : work)
      if (!spill_ && static_cast<uint64_t>(shape_numel(proto_shape(*j->proto))) * 4 >= kSpillMinBytes) spill_ = SpillFile::create();
    // Largest first, so no thread is left alone with a big weight at the end; each job's results
    // are its own, so the order changes nothing in the output.
    std::vector<Job*> order = work;
    std::stable_sort(order.begin(), order.end(), [](const Job* a, const Job* b) {
      return shape_numel(proto_shape(*a->proto)) > shape_numel(proto_shape(*b->proto));
    });
    parallel_for(static_cast<int64_t>(order.size()), threads, [&](int64_t i) {
      Job& j = *order[i];
      with_context("weight '" + j.name + "' of node '" + j.node + "'", [&] { process(j); });
    });
    store(work);
  }

 private:
  void build_editors(onnx::GraphProto& graph, GraphEditor* parent) {
    GraphEditor& e = editors_.emplace_back(model_, graph, parent, names_);
    for (auto& node : *graph.mutable_node())
      for (auto& a : *node.mutable_attribute()) {
        if (a.has_g()) build_editors(*a.mutable_g(), &e);
        for (auto& g : *a.mutable_graphs()) build_editors(g, &e);
      }
  }

  // Cast's `to` became an integer at opset 6; 4-bit codes unpack with BitShift from opset 11. A
  // model the converter can't raise to 11 keeps one code per byte.
  void prepare_opset() {
    const bool four_bit = options_.bins <= 16 || (options_.select == BinSelection::kEntropy && options_.low_bins <= 16);
    const int64_t opset = model_.opset_version("");
    if (four_bit && opset < 11) {
      try {
        raise_opset(model_, "", 11);
      } catch (const Error& e) {
        if (e.code() != ExitCode::kUnsupported) throw;
      }
    }
    if (model_.opset_version("") < 6) raise_opset(model_, "", 6);
  }

  bool any_candidate() const {
    bool any = false;
    for_each_node(model_.graph(), [&](const onnx::NodeProto& n, int) { any = any || (find_ewq_weight_rule(n) && selected(n)); });
    return any;
  }

  bool selected(const onnx::NodeProto& n) const {
    return passes_node_filters(n, options_.op_types, options_.nodes_include, options_.nodes_exclude);
  }

  void skip(const std::string& weight, const std::string& op_type, const std::string& reason) {
    report_.skipped.push_back({weight, op_type, reason});
  }

  void collect() {
    std::map<std::string, int> reads;  // by value name, over every graph (outputs count too)
    std::map<const onnx::TensorProto*, size_t> index;
    for (auto& editor : editors_) {
      for (const auto& o : editor.graph().output()) ++reads[o.name()];
      for (auto& node : *editor.graph().mutable_node()) {
        for (const auto& i : node.input()) ++reads[i];
        const EwqWeightRule* rule = find_ewq_weight_rule(node);
        if (!rule || node.input_size() <= rule->input || !selected(node)) continue;
        const std::string& w = node.input(rule->input);
        if (editor.is_overridable_initializer(w)) continue;
        auto c = editor.find_constant(w);
        if (!c || c->proto->data_type() != onnx::TensorProto::FLOAT) continue;
        const int axis = rule->axis(node, c->proto->dims_size());
        if (axis < 0) continue;
        auto [it, fresh] = index.try_emplace(c->proto, jobs_.size());
        if (fresh) {
          Job& j = jobs_.emplace_back();
          j.name = w;
          j.proto = c->proto;
          j.owner = c->owner;
          j.node = node.name();
          j.op_type = node.op_type();
          j.axis = axis;
          j.bins = options_.bins;
        }
        jobs_[it->second].readers.push_back(&node);
      }
    }
    for (auto& j : jobs_) {
      const int64_t n = shape_numel(proto_shape(*j.proto));
      size_t own_reads = 0;
      for (auto* r : j.readers)
        for (const auto& i : r->input()) own_reads += i == j.name;
      if (n < options_.min_elements) {
        j.bins = 0;
        skip(j.name, j.op_type, std::to_string(n) + " elements, fewer than --min-elements " +
                                    std::to_string(options_.min_elements));
      } else if (static_cast<int>(own_reads) != reads[j.name]) {
        j.bins = 0;
        skip(j.name, j.op_type, "also read by a node left in float or by a graph output");
      }
    }
  }

  // --select entropy: low entropy -> low_bins, up to mean + k std -> bins, above -> float.
  void choose_by_entropy(int threads) {
    std::vector<Job*> cand;
    for (auto& j : jobs_)
      if (j.bins > 0) cand.push_back(&j);
    if (cand.empty()) return;
    parallel_for(static_cast<int64_t>(cand.size()), threads, [&](int64_t i) {
      auto scratch = acquire();
      Tensor decoded;
      const std::span<const std::byte> bytes = float_bytes(*cand[i]->proto, decoded);
      const int64_t n = shape_numel(proto_shape(*cand[i]->proto));
      float* values = scratch->all.get(static_cast<size_t>(n));
      ValueChunks(bytes.data(), n).read_range(0, n, values);
      cand[i]->entropy = weight_entropy_bits({values, static_cast<size_t>(n)});
      release(std::move(scratch));
    });
    double mean = 0, var = 0;
    for (auto* j : cand) mean += j->entropy;
    mean /= static_cast<double>(cand.size());
    for (auto* j : cand) var += (j->entropy - mean) * (j->entropy - mean);
    const double std = std::sqrt(var / static_cast<double>(cand.size()));
    report_.entropy_mean = mean;
    report_.entropy_std = std;
    for (auto* j : cand) {
      if (j->entropy > mean + options_.entropy_k * std) {
        j->bins = 0;
        char why[160];
        std::snprintf(why, sizeof why, "entropy %.3f bits above mean + k*std = %.3f (--select entropy)", j->entropy,
                      mean + options_.entropy_k * std);
        skip(j->name, j->op_type, why);
      } else {
        j->bins = j->entropy < mean ? options_.low_bins : options_.bins;
      }
      report_.entropy.push_back({j->name, j->entropy, j->bins});
    }
  }

  // Buffers a job borrows: sorting and channel gathering reuse memory from one weight to the
  // next instead of faulting in fresh pages for each.
  struct Scratch {
    GroupScratch group;
    ScratchBuffer<float> all, unit;
    ScratchBuffer<uint8_t> all_codes, unit_codes, raw_codes;
  };
  std::unique_ptr<Scratch> acquire() {
    std::lock_guard lock(pool_mutex_);
    if (pool_.empty()) return std::make_unique<Scratch>();
    auto s = std::move(pool_.back());
    pool_.pop_back();
    return s;
  }
  void release(std::unique_ptr<Scratch> s) {
    std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(s));
  }

  // A weight's float bytes where they are stored (the mapped model file: read with pread, never
  // through the mapping), or decoded into `decoded` from typed fields.
  std::span<const std::byte> float_bytes(const onnx::TensorProto& proto, Tensor& decoded) const {
    const std::span<const std::byte> bytes = model_.stored_bytes(proto);
    if (!bytes.empty() && static_cast<uint64_t>(shape_numel(proto_shape(proto))) * 4 == bytes.size()) return bytes;
    decoded = model_.tensor_data(proto);
    return decoded.bytes();
  }

  void process(Job& j) {
    auto scratch = acquire();
    Tensor decoded;
    const std::span<const std::byte> bytes = float_bytes(*j.proto, decoded);
    const Shape shape = proto_shape(*j.proto);
    const int64_t n = shape_numel(shape);
    const ValueChunks values(bytes.data(), n);
    const bool per_channel = options_.granularity == CodebookGranularity::kChannel;
    const int axis = per_channel ? j.axis : -1;
    int64_t units = 1, inner = n, outer = 1;
    if (per_channel) {
      units = shape[axis];
      inner = 1;
      for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
      outer = units ? n / (units * inner) : 0;
    }
    const CodebookOptions copts{options_.method, j.bins, options_.refine};
    const bool int4 = j.bins <= 16;
    // Codes as the coding pass finds them, before any remapping or packing.
    SpillFile* spill = static_cast<uint64_t>(n) * 4 >= kSpillMinBytes ? spill_.get() : nullptr;
    // Codes that will be packed or turned into floats stay in reused memory; others are stored as
    // they are, so they go where they are saved from.
    const bool rewritten = options_.storage == CodebookStorage::kFloat || index_layout(j.bins, opset_) != IndexLayout::kUInt8;
    TensorSink raw = rewritten ? TensorSink::borrowed(reinterpret_cast<std::byte*>(scratch->raw_codes.get(static_cast<size_t>(n))),
                                                      DataType::kUInt8, {n})
                               : TensorSink(spill, DataType::kUInt8, {n});
    std::vector<Codebook> books;
    std::vector<uint8_t> remap;  // per tensor: code of each raw code, when they differ
    double signal = 0, noise = 0, start_noise = 0, int8_noise = 0, int4_noise = 0;
    auto add = [&](const GroupCoding& g) {
      signal += g.signal;
      noise += g.noise;
      start_noise += g.start_sse;  // 0 for exact codebooks, as their refined error
      int8_noise += g.int8_noise;
      if (int4) int4_noise += g.int4_noise;
    };
    if (!per_channel) {
      GroupCoding g = code_group(values, copts, int4, scratch->group, raw);
      add(g);
      remap = std::move(g.remap);
      books.push_back(std::move(g.codebook));
    } else {
      // Channels are strided: the whole weight is read once into a reused buffer, each channel
      // gathered, coded, and its codes scattered back to element order.
      float* data = scratch->all.get(static_cast<size_t>(n));
      values.read_range(0, n, data);
      uint8_t* all_codes = scratch->all_codes.get(static_cast<size_t>(n));
      const auto unit_size = static_cast<size_t>(outer * inner);
      // Columns (inner == 1) are gathered and scattered a block at a time, reading each row's
      // block of values in one cache line rather than one line per value.
      const int64_t block = inner == 1 ? 16 : 1;
      float* u = scratch->unit.get(unit_size * static_cast<size_t>(block));
      uint8_t* uk = scratch->unit_codes.get(unit_size * static_cast<size_t>(block));
      for (int64_t c0 = 0; c0 < units; c0 += block) {
        const int64_t width = std::min(block, units - c0);
        if (inner == 1) {
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t b = 0; b < width; ++b) u[b * outer + o] = data[o * units + c0 + b];
        } else {
          for (int64_t o = 0; o < outer; ++o) std::memcpy(u + o * inner, data + (o * units + c0) * inner, inner * sizeof(float));
        }
        for (int64_t b = 0; b < width; ++b) {
          TensorSink unit_codes(nullptr, DataType::kUInt8, {outer * inner});
          GroupCoding g = code_group(ValueChunks(std::span<const float>(u + b * unit_size, unit_size)), copts, int4,
                                     scratch->group, unit_codes);
          add(g);
          const Tensor codes_of_unit = unit_codes.tensor();
          const uint8_t* k = codes_of_unit.data<uint8_t>();
          uint8_t* to = uk + b * unit_size;
          for (size_t i = 0; i < unit_size; ++i) to[i] = g.remap.empty() ? k[i] : g.remap[k[i]];
          books.push_back(std::move(g.codebook));
        }
        if (inner == 1) {
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t b = 0; b < width; ++b) all_codes[o * units + c0 + b] = uk[b * outer + o];
        } else {
          for (int64_t o = 0; o < outer; ++o) std::memcpy(all_codes + (o * units + c0) * inner, uk + o * inner, inner);
        }
      }
      raw.write(0, all_codes, static_cast<uint64_t>(n));
    }
    int stride = 1;
    bool exact = true;
    int iterations = 0;
    for (const auto& b : books) {
      stride = std::max(stride, static_cast<int>(b.values.size()));
      exact = exact && b.exact;
      iterations = std::max(iterations, b.refine_iterations);
    }
    j.exact = exact;
    j.coded.name = j.name;
    j.coded.shape = shape;
    j.coded.axis = axis;
    j.coded.stride = stride;
    j.coded.table.assign(static_cast<size_t>(units * stride), 0.0f);
    for (int64_t c = 0; c < units; ++c) {
      const auto& v = books[c].values;
      for (int k = 0; k < stride; ++k) j.coded.table[c * stride + k] = v.empty() ? 0.0f : v[std::min<size_t>(k, v.size() - 1)];
    }
    if (options_.storage == CodebookStorage::kFloat) {
      TensorSink rebuilt(spill, DataType::kFloat, shape);
      finish(raw, n, remap, j.coded, units, inner, true, rebuilt);
      j.rebuilt = rebuilt.tensor();
    } else {
      j.coded.layout = index_layout(stride, opset_);
      if (j.coded.layout == IndexLayout::kUInt8 && remap.empty()) {
        j.coded.index = raw.tensor().reshaped(shape);
      } else {
        TensorSink index = j.coded.layout == IndexLayout::kUInt8  ? TensorSink(spill, DataType::kUInt8, shape)
                           : j.coded.layout == IndexLayout::kUInt4 ? TensorSink(spill, DataType::kUInt4, shape)
                                                                   : TensorSink(spill, DataType::kUInt8, {(n + 1) / 2, 1});
        finish(raw, n, remap, j.coded, units, inner, false, index);
        j.coded.index = index.tensor();
      }
    }

    EwqTensorInfo& info = j.info;
    info.name = j.name;
    info.node = j.node;
    info.op_type = j.op_type;
    info.method = method_label(options_);
    info.bins = j.bins;
    info.codes = stride;
    info.axis = axis;
    info.elements = n;
    info.refine_iterations = iterations;
    info.sqnr_db = sqnr_db(signal, noise);
    if (options_.refine > 0) info.sqnr_unrefined_db = sqnr_db(signal, start_noise);
    info.entropy_bits = j.entropy;
    info.uniform_int8_sqnr_db = sqnr_db(signal, int8_noise);
    if (int4) info.uniform_int4_sqnr_db = sqnr_db(signal, int4_noise);
    info.bytes_before = static_cast<uint64_t>(n) * 4;
    release(std::move(scratch));
  }

  // Reads the raw codes back chunk by chunk and writes them as stored: remapped, packed two per
  // byte (element 2i in the low nibble of byte i, as ONNX's 4-bit types), or as the float values
  // they stand for.
  static void finish(const TensorSink& raw, int64_t n, const std::vector<uint8_t>& remap, const CodedWeight& w,
                     int64_t units, int64_t inner, bool floats, TensorSink& out) {
    const bool packed = !floats && w.layout != IndexLayout::kUInt8;
    constexpr int64_t kChunk = ValueChunks::kChunk;  // even: no byte holds two chunks' nibbles
    std::vector<uint8_t> codes(static_cast<size_t>(kChunk)), bytes(static_cast<size_t>(kChunk / 2));
    std::vector<float> values(floats ? static_cast<size_t>(kChunk) : 0);
    for (int64_t begin = 0; begin < n; begin += kChunk) {
      const int64_t m = std::min(kChunk, n - begin);
      raw.read(static_cast<uint64_t>(begin), static_cast<uint64_t>(m), codes.data());
      if (!remap.empty())
        for (int64_t i = 0; i < m; ++i) codes[i] = remap[codes[i]];
      if (floats) {
        for (int64_t i = 0; i < m; ++i) {
          const int64_t unit = units == 1 ? 0 : (begin + i) / inner % units;
          values[i] = w.table[static_cast<size_t>(unit * w.stride + codes[i])];
        }
        out.write(static_cast<uint64_t>(begin) * 4, values.data(), static_cast<uint64_t>(m) * 4);
      } else if (packed) {
        const int64_t pairs = m / 2;
        for (int64_t k = 0; k < pairs; ++k) bytes[k] = static_cast<uint8_t>((codes[2 * k] & 0xf) | (codes[2 * k + 1] & 0xf) << 4);
        if (m % 2) bytes[pairs] = static_cast<uint8_t>(codes[m - 1] & 0xf);
        out.write(static_cast<uint64_t>(begin / 2), bytes.data(), static_cast<uint64_t>((m + 1) / 2));
      } else {
        out.write(static_cast<uint64_t>(begin), codes.data(), static_cast<uint64_t>(m));
      }
    }
  }

  void store(const std::vector<Job*>& work) {
    std::map<GraphEditor*, std::vector<onnx::NodeProto>> added;
    std::set<std::string> replaced;
    bool uint4 = false;
    for (Job* jp : work) {
      Job& j = *jp;
      if (options_.storage == CodebookStorage::kFloat) {
        if (j.exact) {
          skip(j.name, j.op_type, "already holds no more distinct values than codes per codebook");
          continue;
        }
        model_.set_tensor(*const_cast<onnx::TensorProto*>(j.proto), j.rebuilt);
        j.info.index_type = "float";
        j.info.bytes_after = j.info.bytes_before;
      } else {
        const IndexLayout layout = j.coded.layout;
        const uint64_t bytes = stored_bytes(j.coded);
        if (bytes >= j.info.bytes_before) {
          skip(j.name, j.op_type, "its codebooks would take more bytes than the float weight");
          continue;
        }
        uint4 = uint4 || layout == IndexLayout::kUInt4;
        const std::string out = emit_gather_storage(*j.owner, j.coded, added[j.owner]);
        for (auto* r : j.readers)
          for (auto& i : *r->mutable_input())
            if (i == j.name) i = out;
        replaced.insert(j.name);
        j.info.index_type = index_layout_name(layout);
        j.info.bytes_after = bytes;
      }
      report_.tensors.push_back(std::move(j.info));
    }
    // The rebuilding nodes go first in their graph: they read only initializers.
    for (auto& [editor, nodes] : added) {
      google::protobuf::RepeatedPtrField<onnx::NodeProto> all;
      for (auto& n : nodes) *all.Add() = std::move(n);
      for (auto& n : *editor->graph().mutable_node()) *all.Add() = std::move(n);
      editor->graph().mutable_node()->Swap(&all);
    }
    prune(replaced);
    if (uint4 && model_.proto().ir_version() < 10) model_.proto().set_ir_version(10);
  }

  // Float weights whose every reader now reads the rebuilt one.
  void prune(const std::set<std::string>& replaced) {
    if (replaced.empty()) return;
    std::set<std::string> used;
    for (auto& e : editors_) {
      for (const auto& o : e.graph().output()) used.insert(o.name());
      for (const auto& n : e.graph().node())
        for (const auto& i : n.input()) used.insert(i);
    }
    auto dead = [&](const std::string& name) { return replaced.count(name) && !used.count(name); };
    for (auto& e : editors_) {
      auto* inits = e.graph().mutable_initializer();
      for (int i = inits->size() - 1; i >= 0; --i)
        if (dead(inits->Get(i).name())) inits->DeleteSubrange(i, 1);
      auto* nodes = e.graph().mutable_node();
      for (int i = nodes->size() - 1; i >= 0; --i) {
        const auto& n = nodes->Get(i);
        if (n.op_type() == "Constant" && n.output_size() == 1 && dead(n.output(0))) nodes->DeleteSubrange(i, 1);
      }
    }
  }

  Model& model_;
  const EwqOptions& options_;
  EwqReport& report_;
  NameSet names_;
  std::deque<GraphEditor> editors_;
  std::deque<Job> jobs_;
  int64_t opset_ = 0;
  std::mutex pool_mutex_;
  // Large results are written here rather than to fresh memory (see core/spill_file.hpp).
  std::shared_ptr<SpillFile> spill_;
  std::vector<std::unique_ptr<Scratch>> pool_;
};

void validate(const EwqOptions& o) {
  if (o.bins < 2 || o.bins > 256) fail(ExitCode::kUsage, "--bins must be 2 to 256, not " + std::to_string(o.bins));
  if (o.select == BinSelection::kEntropy && (o.low_bins < 2 || o.low_bins > 256))
    fail(ExitCode::kUsage, "--low-bins must be 2 to 256, not " + std::to_string(o.low_bins));
  if (o.refine < 0) fail(ExitCode::kUsage, "--refine must be 0 or more, not " + std::to_string(o.refine));
  if (o.min_elements < 1) fail(ExitCode::kUsage, "--min-elements must be 1 or more");
  if (!(o.entropy_k >= 0)) fail(ExitCode::kUsage, "--entropy-k must be 0 or more");
  for (const auto& op : o.op_types) {
    bool known = false;
    for (const auto& r : ewq_weight_rules()) known = known || r.op_type == op;
    if (!known) fail(ExitCode::kUsage, "--op-types: ewq has no weight rule for '" + op + "'");
  }
}

}  // namespace

std::vector<std::string> ewq_op_types() {
  std::vector<std::string> ops;
  for (const auto& r : ewq_weight_rules()) ops.push_back(r.op_type);
  return ops;
}

EwqReport quantize_ewq(Model& model, const EwqOptions& options) {
  validate(options);
  const auto start = std::chrono::steady_clock::now();
  EwqReport report;
  report.weight_bytes_before = weight_bytes_by_type(model);
  EwqQuantizer(model, options, report).run();
  report.weight_bytes_after = weight_bytes_by_type(model);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace onnxq
