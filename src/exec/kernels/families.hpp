#pragma once

// One registration function per kernel family; register_all() calls each once.

namespace onnxq::exec {

class KernelRegistry;

void register_elementwise(KernelRegistry& registry);   // unary, activations, binary, Cast, Where
void register_unary(KernelRegistry& registry);         // Abs, Exp, Sin, Round, IsNaN, Not, ...
void register_activations(KernelRegistry& registry);   // Relu, Sigmoid, Gelu, Clip, PRelu, ...
void register_binary(KernelRegistry& registry);        // Add, Pow, Mod, Max, Equal, And, BitShift, ...
void register_cast(KernelRegistry& registry);          // Cast, CastLike
void register_shape_ops(KernelRegistry& registry);     // Shape, Size, Reshape, Flatten, (Un)Squeeze
void register_transpose_ops(KernelRegistry& registry); // Transpose, DepthToSpace, SpaceToDepth
void register_concat_split_ops(KernelRegistry& registry);  // Concat, Split
void register_slice_ops(KernelRegistry& registry);     // Slice
void register_gather_ops(KernelRegistry& registry);    // Gather, GatherElements, GatherND, Compress
void register_scatter_ops(KernelRegistry& registry);   // Scatter, ScatterElements, ScatterND
void register_pad_ops(KernelRegistry& registry);       // Pad, Tile
void register_generator_ops(KernelRegistry& registry); // Constant(OfShape), Range, EyeLike, OneHot
void register_axis_ops(KernelRegistry& registry);      // CumSum, ReverseSequence
void register_mask_ops(KernelRegistry& registry);      // Trilu, NonZero
void register_unary(KernelRegistry& registry);         // Abs, Exp, Sin, Round, IsNaN, Not, ...
void register_activations(KernelRegistry& registry);   // Relu, Sigmoid, Gelu, Clip, PRelu, ...
void register_binary(KernelRegistry& registry);        // Add, Pow, Mod, Max, Equal, And, BitShift, ...
void register_cast(KernelRegistry& registry);          // Cast, CastLike
void register_reduce(KernelRegistry& registry);        // Reduce*, ArgMax/ArgMin, TopK
void register_normalization(KernelRegistry& registry); // Softmax, LayerNorm, BatchNorm, ...
void register_arg_topk(KernelRegistry& registry);      // ArgMax, ArgMin, TopK
void register_softmax(KernelRegistry& registry);       // Softmax, LogSoftmax, Hardmax
void register_linalg(KernelRegistry& registry);        // MatMul, Gemm
void register_einsum(KernelRegistry& registry);        // Einsum
void register_conv(KernelRegistry& registry);          // Conv
void register_conv_transpose(KernelRegistry& registry);  // ConvTranspose
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
