// A small writer of TensorFlow Lite FlatBuffers (schema.fbs, identifier "TFL3") for tests: tensors
// with shapes, types, constant data and quantization parameters, builtin operators with options
// given as (field id, value) pairs, one subgraph. Enough to make float and int8 models that the
// importer converts, and hostile variants of them (wrong scales, zero points, types).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace polyhead::testing {

// TensorType values of the TFLite schema.
enum TfType : int8_t { kF32 = 0, kF16 = 1, kI32 = 2, kU8 = 3, kI64 = 4, kI16 = 7, kI8 = 9 };

struct TfQuant {
  std::vector<float> scale;  // empty: no quantization table
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  uint8_t details_type = 0;  // QuantizationDetails union type (0: none)

  static TfQuant per_tensor(float scale, int64_t zero_point) { return {{scale}, {zero_point}}; }
};

// One scalar field of an options table: field id and value of the given kind.
struct TfField {
  enum Kind { kByte, kInt, kFloat, kBool } kind;
  int id;
  double value;
  static TfField byte(int id, int v) { return {kByte, id, static_cast<double>(v)}; }
  static TfField i32(int id, int v) { return {kInt, id, static_cast<double>(v)}; }
  static TfField f32(int id, float v) { return {kFloat, id, static_cast<double>(v)}; }
  static TfField boolean(int id, bool v) { return {kBool, id, v ? 1.0 : 0.0}; }
};

// A SparseIndexVector: Int32Vector (width 4), Uint16Vector (2) or Uint8Vector (1); width 0 writes
// none. `type` overrides the union type written (hostile files).
struct TfIndexVector {
  int width = 0;
  std::vector<int64_t> values;  // truncated to the width
  int type = -1;                // -1: the type of `width`
};

// A DimensionMetadata table (format 0 DENSE, 1 SPARSE_CSR).
struct TfDimMetadata {
  int format = 0;
  int32_t dense_size = 0;
  TfIndexVector segments, indices;
};

// A SparsityParameters table; written when `present`.
struct TfSparsitySpec {
  bool present = false;
  std::vector<int32_t> traversal_order, block_map;
  std::vector<TfDimMetadata> dims;
};

struct TfTensorSpec {
  std::string name;
  std::vector<int32_t> shape;
  int8_t type = kF32;
  TfQuant quant;
  std::vector<uint8_t> data;  // constant bytes; empty: not constant
  TfSparsitySpec sparsity;    // the data then holds the stored values only
};

// BuiltinOptions union types, Padding and ActivationFunctionType values of the TFLite schema.
enum TfOptionsType : uint8_t {
  kOptNone = 0,
  kOptConv = 1,
  kOptDepthwise = 2,
  kOptPool = 5,
  kOptFc = 8,
  kOptSoftmax = 9,
  kOptConcat = 10,
  kOptAdd = 11,
  kOptReshape = 17,
  kOptMul = 21,
  kOptReducer = 27,
};
enum TfPadding { kSame = 0, kValid = 1 };
enum TfActivation { kActNone = 0, kActRelu = 1, kActRelu6 = 3 };

// Options tables of CONV_2D, DEPTHWISE_CONV_2D and the 2-D pools (dilation 1).
std::vector<TfField> conv_options(int padding, int stride, int act);
std::vector<TfField> depthwise_options(int padding, int stride, int multiplier, int act);
std::vector<TfField> pool_options(int padding, int stride, int filter, int act = kActNone);

// Seeded uniform integers in [lo, hi].
std::vector<int8_t> random_i8(size_t n, uint32_t seed, int lo = -127, int hi = 127);
std::vector<int32_t> random_i32(size_t n, uint32_t seed, int lo, int hi);

class TfliteWriter {
 public:
  // Tensors; each returns its index.
  int tensor(const std::string& name, const std::vector<int32_t>& shape, int8_t type,
             const TfQuant& quant = {}, const std::vector<uint8_t>& data = {});
  int f32(const std::string& name, const std::vector<int32_t>& shape) {
    return tensor(name, shape, kF32);
  }
  int i8(const std::string& name, const std::vector<int32_t>& shape, float scale, int zero_point) {
    return tensor(name, shape, kI8, TfQuant::per_tensor(scale, zero_point));
  }
  int const_f32(const std::string& name, const std::vector<int32_t>& shape,
                const std::vector<float>& values);
  int const_i8(const std::string& name, const std::vector<int32_t>& shape,
               const std::vector<int8_t>& values, const TfQuant& quant);
  int const_i32(const std::string& name, const std::vector<int32_t>& shape,
                const std::vector<int32_t>& values, const TfQuant& quant = {});

  // A builtin operator (BuiltinOperator code) with its options table.
  void op(int builtin, const std::vector<int32_t>& inputs, const std::vector<int32_t>& outputs,
          const std::vector<TfField>& options = {}, uint8_t options_type = 1);

  void inputs(const std::vector<int32_t>& ids) { inputs_ = ids; }
  void outputs(const std::vector<int32_t>& ids) { outputs_ = ids; }

  // The tensors written so far, to alter before finish() (hostile files).
  TfTensorSpec& at(int index) { return tensors_[static_cast<size_t>(index)]; }

  std::vector<uint8_t> finish() const;

 private:
  struct Op {
    int opcode_index;
    std::vector<int32_t> inputs, outputs;
    std::vector<TfField> options;
    uint8_t options_type;
  };
  std::vector<TfTensorSpec> tensors_;
  std::vector<int> codes_;  // builtin code per operator code
  std::vector<Op> ops_;
  std::vector<int32_t> inputs_, outputs_;
};

}  // namespace polyhead::testing
