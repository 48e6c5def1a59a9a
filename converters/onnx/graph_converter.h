// Maps an ONNX graph onto ModelBuilder calls. ONNX is NCHW; Polyhead runs NHWC. Every 4-D value
// can live in either layout: layout-bound operators (convolution, pooling, resize) ask for the
// NHWC copy, layout-free ones keep whatever their input has, and a transpose is inserted only
// where a value is needed in a layout it does not have yet. Graph inputs and outputs keep the
// model's own NCHW layout and names, so callers' pre- and post-processing is unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "converters/onnx/constant_folding.h"
#include "converters/onnx/node_attributes.h"
#include "converters/onnx/onnx_tensor.h"
#include "polyhead/kernels/op_table.h"
#include "polyhead/model_builder.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace onnx {
class GraphProto;
class NodeProto;
}  // namespace onnx

namespace polyhead::onnx_import {

// The operator types the converter maps (or folds) at some opset.
bool is_supported_op(const std::string& op_type);

// One message listing every unsupported operator type with its count and first node:
// "unsupported operators: Erf x2 (first: /Erf), Cos x1 (first: /Cos)", or ok.
Status check_supported_operators(const onnx::GraphProto& graph);

class GraphConverter {
 public:
  GraphConverter(const onnx::GraphProto& graph, int opset, ModelBuilder& builder);

  // Adds the graph inputs (float32; NCHW images get an NHWC copy on first use).
  // `shapes` overrides input shapes by name (for symbolic dimensions).
  Status add_inputs(const Preprocess& image_preprocess,
                    const std::map<std::string, std::vector<int64_t>>& shapes);
  Status convert_nodes();
  // Our tensor holding graph output `name` in the model's own layout.
  Result<int> output_tensor(const std::string& name);

  const std::map<std::string, int>& source_op_counts() const { return source_ops_; }
  const std::map<std::string, int>& node_counts() const { return nodes_; }
  const std::map<std::string, int>& folded_counts() const { return folded_; }

 private:
  using OpKind = schema::OpKind;

  // A value of the ONNX graph: a constant, or a runtime tensor in one or both layouts.
  struct Value {
    bool is_constant = false;
    ConstTensor constant;
    std::vector<int64_t> shape;  // ONNX (NCHW) shape of a runtime value
    int plain = -1;              // our tensor in the ONNX layout
    int nhwc = -1;               // our tensor in NHWC (4-D values only)
  };

  // Fusions decided ahead of a node: the nodes folded into it and the final output name.
  struct Epilogue {
    std::vector<float> scale, shift;  // per output channel: y = x * scale + shift
    bool affine = false;
    Activation activation;
    std::string output;     // the ONNX value the fused chain produces
    std::string last_node;  // for naming
  };

  Status convert(const onnx::NodeProto& node);
  Status convert_conv(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_conv_transpose(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_gemm(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_pool(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_mean(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_resize(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_binary(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_unary(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_batch_norm(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_pad(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_concat(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_softmax(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_reshape(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_transpose(const onnx::NodeProto& node, const NodeAttributes& a);
  // Slicing on activations (graph_converter_slicing.cc).
  Status convert_slice(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_split(const onnx::NodeProto& node, const NodeAttributes& a);
  Status convert_gather(const onnx::NodeProto& node, const NodeAttributes& a);
  // Reshape [N,C,H,W] -> [N,g,C/g,H,W] -> Transpose(0,2,1,3,4) -> Reshape [N,C,H,W] (ShuffleNet)
  // of a value held in NHWC: one CHANNEL_SHUFFLE of the NHWC channels instead of transposes to
  // NCHW and a 5-D transpose. False, with nothing emitted, when `reshape` (to `target`, from
  // `xs`) does not start that pattern.
  Result<bool> convert_channel_shuffle(const onnx::NodeProto& reshape,
                                       const std::vector<int64_t>& xs,
                                       const std::vector<int64_t>& target);

  // Binds `output` to the window `w` (per ONNX dimension) of runtime value `input`: one SLICE
  // node `name` in the layout the value already has (when it has both, NHWC unless `output` is
  // a graph output), or an alias of the value when the window is all of it.
  Status slice_value(const std::string& name, const std::string& input, const SliceWindow& w,
                     const std::string& output);
  // Binds `output` to runtime value `input` reshaped to `target` (ONNX order), a RESHAPE node
  // `name` unless the shape does not change.
  Status reshape_value(const std::string& name, const std::string& input,
                       const std::vector<int64_t>& target, const std::string& output);
  // Binds `output` to the CONCATENATION `name` of `inputs` (values, constants allowed) along ONNX
  // `axis` (normalised), in NHWC when one of them is held in NHWC.
  Status concat_values(const std::string& name, const std::vector<std::string>& inputs,
                       int64_t axis, const std::string& output);

  // Values.
  Result<const Value*> value(const std::string& name) const;
  const ConstTensor* constant(const std::string& name) const;
  Result<const ConstTensor*> constant_input(const onnx::NodeProto& node, int index,
                                            const char* what) const;
  Result<std::vector<int64_t>> shape_of(const std::string& name) const;
  Result<int> as_nhwc(const std::string& name);
  Result<int> as_plain(const std::string& name);
  // Registers runtime tensor `tensor` as ONNX value `name` (NHWC or plain).
  Status bind(const std::string& name, int tensor, bool nhwc);
  void bind_constant(const std::string& name, ConstTensor t);
  // A constant tensor for the builder, in NHWC when `nhwc` (rank-4 aligned).
  int add_constant(const std::string& base, const ConstTensor& t, bool nhwc);

  // Fusion planning.
  int consumers(const std::string& value) const;
  const onnx::NodeProto* sole_consumer(const std::string& value) const;
  // The Mul of x * Sigmoid(x) when `sigmoid`'s only consumer is that Mul (a SiLU), else null.
  const onnx::NodeProto* silu_multiply(const onnx::NodeProto& sigmoid) const;
  // Folds following per-channel affine nodes (BatchNormalization, Mul/Add/Sub/Div by constants)
  // and a final Relu/Clip into `e`, for a node with `channels` outputs producing `output`.
  // `rank` is the rank of `output`; its channels are dimension 1.
  Status plan_epilogue(const std::string& output, int64_t channels, size_t rank, bool allow_affine,
                       Epilogue* e);
  // The values of `t` per channel when it broadcasts against a rank-`rank` tensor along
  // dimension 1 only; false otherwise.
  static void scale_rows(const Epilogue& e, std::vector<float>* weights, std::vector<float>* bias);
  bool per_channel(const ConstTensor& t, int64_t channels, size_t rank,
                   std::vector<float>* values) const;
  // The value's tensor in NHWC when it has one (or is 4-D), else in its own layout.
  Result<std::pair<int, bool>> any_layout(const std::string& name);

  std::string node_name(const onnx::NodeProto& node) const;
  std::string unique(const std::string& base);
  // Counts one node of ours for the report, under its operator table name.
  void count(schema::OpKind kind) { ++nodes_[kernels::op_kind_name(kind)]; }

  const onnx::GraphProto& graph_;
  int opset_;
  ModelBuilder& b_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> uses_;                           // value -> consumer count
  std::map<std::string, const onnx::NodeProto*> consumer_;    // value -> (last) consumer
  std::set<const onnx::NodeProto*> consumed_;                 // fused into an earlier node
  std::map<std::string, std::vector<int64_t>> pending_pads_;  // Pad folded into its consumer
  std::map<std::string, std::string> pad_sources_;
  std::set<std::string> names_;
  std::map<std::string, int> source_ops_, nodes_, folded_;
};

}  // namespace polyhead::onnx_import
