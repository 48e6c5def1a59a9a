// Maps the operators of a TFLite subgraph onto ModelBuilder calls, one TFLite operator at a time
// in file order (TFLite stores them in execution order). Constants are created lazily when an
// operator reads them; fp16 constants behind DEQUANTIZE are folded into f32 constants.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "importers/tflite/tflite_model.h"
#include "polyhead/model_builder.h"
#include "polyhead/result.h"

namespace polyhead::tflite {

// The one message listing every operator the converter cannot map, with counts
// ("unsupported operators: GATHER x3, CUSTOM(Foo) x1"), or ok.
Status check_supported_operators(const TfModel& model);

// "CONV_2D" or "CUSTOM(name)".
std::string operator_name(const TfModel& model, const TfOperator& op);

class GraphConverter {
 public:
  GraphConverter(const TfModel& model, ModelBuilder& builder) : m_(model), b_(builder) {}

  // Adds the subgraph's inputs (float32, rank <= 6) with `preprocess`.
  Status add_inputs(const Preprocess& preprocess);
  // Converts every operator; stops at the first failure, naming the operator.
  Status convert_operators();

  // Our tensor for a TFLite tensor produced by an operator or an input; -1 when none.
  int mapped(int tf_tensor) const;

  // Counts by TFLite operator name and by written .phm node kind.
  const std::map<std::string, int>& source_op_counts() const { return source_ops_; }
  const std::map<std::string, int>& node_counts() const { return nodes_; }

 private:
  Status convert(size_t index, const TfOperator& op);
  Result<Shape> tf_shape(int t) const;
  // Our tensor for TFLite tensor `t`: its producer's output, an input, or a new constant.
  Result<int> value(int t);
  bool is_constant(int t) const;
  Result<std::vector<float>> const_floats(int t) const;
  Result<std::vector<int64_t>> const_ints(int t) const;
  std::string unique_name(const std::string& base);
  // Records `result` as TFLite tensor `out`, reshaping to the declared shape when only the
  // arrangement differs (FULLY_CONNECTED's flattening); a real mismatch is an error.
  Status bind(const std::string& name, int out, int result);
  Result<int> finish_activation(const std::string& name, int result, int fused_code);
  void count(const char* kind) { ++nodes_[kind]; }

  const TfModel& m_;
  ModelBuilder& b_;
  std::map<int, int> map_;                    // TFLite tensor -> our tensor
  std::map<int, std::vector<float>> folded_;  // DEQUANTIZE outputs of constants
  std::set<std::string> names_;
  std::map<std::string, int> source_ops_, nodes_;
};

}  // namespace polyhead::tflite
