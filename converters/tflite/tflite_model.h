// The parts of a TensorFlow Lite model (schema.fbs, identifier "TFL3") that the converter needs,
// read through the bounds-checked FlatBufferView: operator codes, the first subgraph's tensors,
// operators, inputs and outputs, and the constant buffers. Field ids follow the public TFLite
// schema; options tables are kept as Tables and read by the converter per operator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "converters/tflite/flatbuffer_view.h"
#include "converters/tflite/sparse_tensor.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

// TensorType values of the TFLite schema.
enum TfTensorType : int8_t {
  kTfFloat32 = 0,
  kTfFloat16 = 1,
  kTfInt32 = 2,
  kTfUInt8 = 3,
  kTfInt64 = 4,
  kTfString = 5,
  kTfBool = 6,
  kTfInt16 = 7,
  kTfComplex64 = 8,
  kTfInt8 = 9,
};

const char* tensor_type_name(int type);

struct TfOperatorCode {
  int32_t builtin = 0;  // max(deprecated_builtin_code, builtin_code), as TFLite reads it
  std::string custom;   // custom_code, for CUSTOM operators
  size_t builtin_code_position = 0;     // byte offset of builtin_code in the file (0: absent)
  size_t deprecated_code_position = 0;  // byte offset of deprecated_builtin_code (0: absent)
};

// QuantizationParameters of a tensor, as stored (checked for sense by the converter, which knows
// the tensor's role): real = scale * (q - zero_point), per channel along `quantized_dimension`
// when there is more than one scale.
struct TfQuantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  uint8_t details_type = 0;  // QuantizationDetails union type (0: none; else e.g. custom/int4)
};

struct TfTensor {
  std::string name;
  std::vector<int32_t> shape;
  int8_t type = kTfFloat32;
  uint32_t buffer = 0;
  bool quantized = false;  // has quantization scales
  TfQuantization quantization;
  size_t type_position = 0;  // byte offset of the type field in the file (0: absent)
  // Has sparsity parameters: its buffer holds only the stored values (sparse_tensor.h), and
  // TfModel::constant() gives its dense bytes once densify_sparse_constants() has run.
  bool sparse = false;
  TfSparsity sparsity;
};

struct TfOperator {
  uint32_t opcode_index = 0;
  std::vector<int32_t> inputs;  // -1: absent optional input
  std::vector<int32_t> outputs;
  uint8_t options_type = 0;  // the BuiltinOptions union type
  Table options;             // invalid when absent
  const uint8_t* custom_options = nullptr;
  size_t custom_options_size = 0;
};

struct TfBuffer {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

struct TfModel {
  uint32_t version = 0;
  std::vector<TfOperatorCode> operator_codes;
  std::vector<TfTensor> tensors;
  std::vector<TfOperator> operators;
  std::vector<TfBuffer> buffers;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  size_t subgraphs = 0;
  // Keeps the Tables above readable; the bytes themselves belong to the caller.
  std::unique_ptr<FlatBufferView> view;
  // The dense bytes of every sparse tensor and of every DENSIFY output, by tensor
  // (densify_sparse_constants(), tensor_data.h).
  std::map<int, std::vector<uint8_t>> densified;
  // The DENSIFY outputs among them: constants that an operator writes.
  std::set<int> densify_outputs;

  // The constant data of tensor `t`: its buffer, or its dense bytes when it is sparse or a
  // DENSIFY output; an empty buffer when it is not constant (or not densified yet).
  TfBuffer constant(int t) const;
  // Tensor `t`'s buffer as the file stores it (a sparse tensor's stored values only).
  TfBuffer stored(int t) const;
};

// Parses and structurally checks `data` (which must outlive the result): identifier, root,
// subgraph 0, index ranges of every tensor/buffer/opcode reference. Errors are kInvalidModel.
Result<TfModel> read_tflite(const uint8_t* data, size_t size);

}  // namespace polyhead::tflite
