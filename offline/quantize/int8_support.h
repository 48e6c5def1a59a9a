// Which operators `polyhead quantize` may run in int8 and how each one's output quantization is
// chosen, as the kernels' operator table (polyhead/kernels/op_table.h) says.
#pragma once

#include "offline/graph/source_graph.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::quantize {

// True for the operators with an int8 kernel (QUANTIZE and DEQUANTIZE aside); false for the
// float-only ones (SOFTMAX, DIV, PRELU) and for kinds this build does not know.
bool has_int8_kernel(schema::OpKind op);

// True when the operator's int8 output must carry its input's scale and zero point (max pooling,
// resizing and the byte-moving operators); false for kinds this build does not know.
bool shares_input_quantization(schema::OpKind op);

// True for the operators whose second input is a weight tensor quantized per output channel and
// whose optional third input is an I32 bias (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
// TRANSPOSE_CONV_2D: weights [O, kh, kw, I], scales along axis 0).
bool has_channel_weights(schema::OpKind op);

// "CONV_2D", "ADD", ...; "UNKNOWN" for kinds this build does not know.
const char* op_name(schema::OpKind op);

// True when node `n` of `g` can run in int8: its operator has an int8 kernel, every tensor it
// reads or writes is F32, and its weights and bias (when it has them) are constants.
bool can_run_int8(const merge::SourceGraph& g, int n);

}  // namespace polyhead::quantize
