#pragma once

// One registration function per kernel family; register_all() calls each once.

namespace onnxq::exec {

class KernelRegistry;

void register_elementwise(KernelRegistry& registry);   // unary, activations, binary, Cast, Where
void register_shape_ops(KernelRegistry& registry);     // Reshape, Transpose, Slice, Gather, ...
void register_reduce(KernelRegistry& registry);        // Reduce*, ArgMax/ArgMin, TopK
void register_normalization(KernelRegistry& registry); // Softmax, LayerNorm, BatchNorm, ...
void register_linalg(KernelRegistry& registry);        // MatMul, Gemm
void register_conv(KernelRegistry& registry);          // Conv, ConvTranspose
void register_pool(KernelRegistry& registry);          // MaxPool, AveragePool, Global*
void register_resize(KernelRegistry& registry);        // Resize, Upsample
void register_rnn(KernelRegistry& registry);           // LSTM, GRU, RNN
void register_quant(KernelRegistry& registry);         // com.microsoft QLinearAdd/Mul/Concat/GlobalAveragePool
void register_quantize_linear(KernelRegistry& registry);  // QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
void register_integer_matmul(KernelRegistry& registry);   // MatMulInteger, QLinearMatMul, DynamicQuantizeMatMul, MatMulNBits
void register_integer_conv(KernelRegistry& registry);     // ConvInteger, QLinearConv
void register_quant_lstm(KernelRegistry& registry);       // com.microsoft DynamicQuantizeLSTM (called by register_quant)
void register_qattention(KernelRegistry& registry);       // com.microsoft QAttention (called by register_quant)
void register_control_flow(KernelRegistry& registry);  // If, Loop, Scan

}  // namespace onnxq::exec
