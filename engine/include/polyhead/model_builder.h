// ModelBuilder: writes .phm files. Used by the tests, the importers and the tools. Each operator
// call checks its inputs and options and infers its output's shape, so a mistake is reported at
// the call that made it, naming the node.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/model_enums.h"
#include "polyhead/quantization.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"

namespace polyhead {

struct Activation {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  static Activation none() { return {}; }
  static Activation relu() { return {0.f, std::numeric_limits<float>::infinity()}; }
  static Activation relu6() { return {0.f, 6.f}; }
};

struct Conv2DParams {
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;
  Activation activation;
};

struct TransposeConv2DParams {
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int adjustment_h = 0, adjustment_w = 0;
  Activation activation;
};

struct Pool2DParams {
  int filter_h = 1, filter_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  Activation activation;
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv };
enum class PoolOp { kMax, kAverage };
enum class UnaryOp { kHardSwish, kSigmoid, kTanh };
enum class ResizeMode { kBilinear, kNearest };
enum class ResizeCoordinates { kHalfPixel, kAlignCorners, kAsymmetric };

struct PostProcessParams {
  OutputActivation activation = OutputActivation::kNone;
  std::vector<std::string> labels;
  float score_threshold = 0.5f;
  float nms_iou = 0.45f;
  int max_detections = 100;
  std::vector<float> anchors;  // 4 per anchor: centre y, centre x, height, width
};

struct TaskOutputRef {
  std::string name;
  int tensor = -1;
};

class ModelBuilder {
 public:
  ModelBuilder();
  ~ModelBuilder();
  ModelBuilder(const ModelBuilder&) = delete;
  ModelBuilder& operator=(const ModelBuilder&) = delete;

  // Tensors. Each returns the new tensor's index.
  int add_input(const std::string& name, const Shape& shape, const Preprocess& preprocess = {});
  int add_constant(const std::string& name, const Shape& shape, const std::vector<float>& values);
  // int8 models (docs/int8.md): I8 weights and operands, I32 biases.
  int add_constant_i8(const std::string& name, const Shape& shape,
                      const std::vector<int8_t>& values, const Quantization& quantization);
  int add_constant_i32(const std::string& name, const Shape& shape,
                       const std::vector<int32_t>& values, const Quantization& quantization);
  // Stores float constant `tensor` block-sparse (docs/format.md, "Sparse constants"): read as a
  // [shape[0]] x [the rest] matrix, only its block_rows x block_cols blocks that hold a nonzero
  // are written. Needs format 1.6: a model with sparse constants is written as 1.6.
  Status store_sparse(int tensor, int block_rows, int block_cols);
  // Makes an operator's output an I8 activation with these per-tensor parameters.
  Status set_quantization(int tensor, const Quantization& quantization);
  // F32 -> I8 with `quantization`, and I8 -> F32.
  Result<int> quantize(const std::string& name, int input, const Quantization& quantization);
  Result<int> dequantize(const std::string& name, int input);

  // Operators: each returns its output tensor (named after the node) or why it is invalid.
  // `bias` may be -1 for none.
  Result<int> conv2d(const std::string& name, int input, int weights, int bias,
                     const Conv2DParams& p);
  Result<int> transpose_conv2d(const std::string& name, int input, int weights, int bias,
                               const TransposeConv2DParams& p);
  Result<int> fully_connected(const std::string& name, int input, int weights, int bias,
                              Activation activation = {});
  Result<int> binary(const std::string& name, BinaryOp op, int a, int b,
                     Activation activation = {});
  Result<int> pool2d(const std::string& name, PoolOp op, int input, const Pool2DParams& p);
  Result<int> mean(const std::string& name, int input, bool keep_dims = true);
  Result<int> pad(const std::string& name, int input, const std::vector<int>& before,
                  const std::vector<int>& after, float value = 0.f);
  Result<int> resize(const std::string& name, int input, int height, int width, ResizeMode mode,
                     ResizeCoordinates coordinates = ResizeCoordinates::kHalfPixel);
  Result<int> softmax(const std::string& name, int input, float beta = 1.f);
  Result<int> clamp(const std::string& name, int input, float min, float max);
  Result<int> unary(const std::string& name, UnaryOp op, int input);
  // |x|. Needs format 1.3: a model with ABS is written as 1.3.
  Result<int> abs(const std::string& name, int input);
  // x * sigmoid(x) (SiLU, swish). Needs format 1.4: a model with SILU is written as 1.4.
  Result<int> silu(const std::string& name, int input);
  Result<int> leaky_relu(const std::string& name, int input, float negative_slope);
  Result<int> prelu(const std::string& name, int input, int slope);
  Result<int> depth_to_space(const std::string& name, int input, int block_size);
  Result<int> reshape(const std::string& name, int input, const Shape& shape);
  Result<int> concatenation(const std::string& name, const std::vector<int>& inputs, int axis,
                            Activation activation = {});
  Result<int> transpose(const std::string& name, int input, const std::vector<int>& perm);
  // The window of `input` that starts at `begin` and takes `size` elements `step` apart in each
  // dimension (`step` empty: 1 everywhere; negative steps walk backwards). Needs format 1.5: a
  // model with SLICE is written as 1.5.
  Result<int> slice(const std::string& name, int input, const std::vector<int>& begin,
                    const std::vector<int>& size, const std::vector<int>& step = {});
  // ShuffleNet's channel shuffle of the last dimension: [groups, C / groups] read as
  // [C / groups, groups]. Needs format 1.5.
  Result<int> channel_shuffle(const std::string& name, int input, int groups);

  Status add_task(const std::string& name, TaskKind kind, const std::vector<TaskOutputRef>& outputs,
                  const PostProcessParams& post = {}, int priority = 0, int rate = 1);

  void set_producer(const std::string& producer);
  void set_description(const std::string& description);
  void add_metadata(const std::string& key, const std::string& value);

  Shape shape(int tensor) const;
  size_t tensor_count() const;

  // Serialises the model: the FlatBuffer first, then each constant at a 64-byte aligned offset.
  Result<std::vector<uint8_t>> finish() const;
  Status write(const std::string& path) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace polyhead
