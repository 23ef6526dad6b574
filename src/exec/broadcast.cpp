#include "exec/broadcast.hpp"

#include <string>

#include "onnxq/error.hpp"

namespace onnxq::exec {

Shape broadcast_shape(std::span<const Shape> shapes, std::string_view what) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    const size_t pad = rank - s.size();
    for (size_t d = 0; d < s.size(); ++d) {
      int64_t& o = out[pad + d];
      if (s[d] == o || s[d] == 1) continue;
      if (o != 1) {
        std::string list;
        for (const Shape& t : shapes) list += (list.empty() ? "" : " and ") + shape_to_string(t);
        fail(ExitCode::kInput, std::string(what) + ": shapes " + list + " do not broadcast");
      }
      o = s[d];
    }
  }
  return out;
}

BroadcastPlan::BroadcastPlan(std::span<const Shape* const> inputs, const Shape& out)
    : inputs_(inputs.size()), numel_(shape_numel(out)) {
  const size_t rank = out.size();
  // Per merged dim: its size and which inputs span it (the rest repeat along it).
  std::vector<std::vector<bool>> spans;
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;  // size-1 dims change no offset
    std::vector<bool> pattern(inputs_);
    for (size_t k = 0; k < inputs_; ++k) {
      const Shape& s = *inputs[k];
      const size_t pad = rank - s.size();
      pattern[k] = d >= pad && s[d - pad] != 1;
    }
    if (!spans.empty() && spans.back() == pattern) {
      dims_.back() *= out[d];
    } else {
      dims_.push_back(out[d]);
      spans.push_back(std::move(pattern));
    }
  }
  if (dims_.empty()) {  // a scalar or all-ones output: one run of one element
    dims_.push_back(1);
    spans.emplace_back(inputs_, false);
  }
  strides_.assign(dims_.size() * inputs_, 0);
  for (size_t k = 0; k < inputs_; ++k) {
    int64_t stride = 1;
    for (size_t d = dims_.size(); d-- > 0;) {
      if (!spans[d][k]) continue;
      strides_[d * inputs_ + k] = stride;
      stride *= dims_[d];
    }
  }
}

}  // namespace onnxq::exec
