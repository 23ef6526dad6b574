#pragma once

// Folding per-channel affine maps into the weight and bias of the Conv, ConvTranspose or Gemm
// they follow (BatchNormalization, and the Mul/Add/Sub/Div by constants that exporters write
// after a layer: PaddlePaddle's learnable affine blocks, layer scales) or the Conv they precede.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph_uses.hpp"
#include "preprocess/scope.hpp"

namespace onnxq::preprocessing {

// y' = s·y + t on each output channel; a single entry applies to every channel.
struct ChannelAffine {
  std::vector<double> s, t;
};

// Gives the layer (Conv, ConvTranspose or Gemm) a new weight and bias: in place of the old
// initializers when this graph owns them and only this layer reads them, else under fresh names
// (another node, or an enclosing graph, still needs the old values). A layer without a bias
// gets one.
void set_folded(Scope& scope, const GraphUses& uses, onnx::NodeProto& layer, const Tensor& weight, const Tensor& bias);

// The layer's output channel count read from its constant float weight, or -1 (not a
// default-domain Conv/ConvTranspose/Gemm, or its weight is not a constant).
int64_t layer_output_channels(const Scope& scope, const onnx::NodeProto& layer);

// Rank of the layer's output: the weight's for Conv/ConvTranspose, 2 for Gemm; -1 if unknown.
int64_t layer_output_rank(const Scope& scope, const onnx::NodeProto& layer);

// The map a default-domain Mul, Add, Sub or Div applies to its input `slot` when the other
// input is a float constant that broadcasts along axis 1 of a rank-`rank` value without
// growing it (one value, or `channels` values on that axis), else nullopt.
std::optional<ChannelAffine> constant_affine(const Scope& scope, const onnx::NodeProto& node, int slot, int64_t rank,
                                             int64_t channels);

// A fold made by fold_in_sweeps' callback: the node rewritten to absorb another, and the node
// it made dead.
struct Fold {
  int kept, removed;
};

// Offers every node of the graph to `try_fold(i, uses, touched)` in sweeps, until a sweep folds
// nothing. A sweep reads the uses as they were at its start, so a callback must leave alone the
// nodes `touched` marks (those an earlier fold of the sweep rewrote or removed); the removed
// nodes are erased at the end of the sweep. Sweeps follow the length of fold chains (a Mul
// then an Add after one Conv), not the number of folds. Returns the folds.
int64_t fold_in_sweeps(Scope& scope, const std::function<std::optional<Fold>(int, const GraphUses&,
                                                                          const std::vector<bool>&)>& try_fold);

// Rewrites the layer's weight and bias so that it computes `a` applied to its old output.
// The new values replace the initializers in place when only this layer reads them. False,
// with nothing changed, when the weight or bias is not a constant of a supported shape.
bool fold_affine_into(Scope& scope, const GraphUses& uses, onnx::NodeProto& layer, ChannelAffine a);

}  // namespace onnxq::preprocessing
