#pragma once

// One registration function per kernel family; register_all() calls each once.

namespace onnxq::exec {

class KernelRegistry;

void register_elementwise(KernelRegistry& registry);   // unary, activations, binary, Cast, Where
void register_shape_ops(KernelRegistry& registry);     // Reshape, Transpose, Slice, Gather, ...
void register_reduce(KernelRegistry& registry);        // Reduce*, ArgMax/ArgMin, TopK
void register_normalization(KernelRegistry& registry); // Softmax, LayerNorm, BatchNorm, ...
void register_linalg(KernelRegistry& registry);        // MatMul, Gemm
void register_einsum(KernelRegistry& registry);        // Einsum
void register_conv(KernelRegistry& registry);          // Conv
void register_conv_transpose(KernelRegistry& registry);  // ConvTranspose
void register_pool(KernelRegistry& registry);          // MaxPool, AveragePool, Global*
void register_resize(KernelRegistry& registry);        // Resize, Upsample
void register_rnn(KernelRegistry& registry);           // LSTM, GRU, RNN
void register_quant(KernelRegistry& registry);         // QuantizeLinear, QLinear*, *Integer, ...
void register_control_flow(KernelRegistry& registry);  // If, Loop, Scan

}  // namespace onnxq::exec
