#include "polyhead/model_builder.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>

#include "polyhead/internal/phm_writer.h"
#include "polyhead/kernels/shape_inference.h"
#include "polyhead/schema/phm_generated.h"
#include "schema_enums.h"

namespace polyhead {

namespace fb = flatbuffers;
using schema::OpKind;

namespace {
using OptionsWriter = std::function<fb::Offset<void>(fb::FlatBufferBuilder&)>;

schema::Activation to_schema(const Activation& a) {
  return schema::Activation(a.min, a.max);
}
}  // namespace

struct ModelBuilder::State {
  struct TensorRec {
    std::string name;
    Shape shape;
    int constant = -1;  // index into constants
    ElementType type = ElementType::kF32;
    Quantization quantization;
    int sparse_block_rows = 0;  // > 0: store block-sparse (store_sparse)
    int sparse_block_cols = 0;
  };
  struct ConstantRec {
    std::vector<uint8_t> bytes;
  };
  struct NodeRec {
    std::string name;
    OpKind op;
    schema::OpOptions options_type;
    OptionsWriter options;
    std::vector<int> inputs;
    int output;
  };
  struct InputRec {
    int tensor;
    Preprocess preprocess;
  };
  struct TaskRec {
    std::string name;
    TaskKind kind;
    std::vector<TaskOutputRef> outputs;
    PostProcessParams post;
    int priority, rate;
  };
  std::vector<TensorRec> tensors;
  std::vector<ConstantRec> constants;
  std::vector<NodeRec> nodes;
  std::vector<InputRec> inputs;
  std::vector<TaskRec> tasks;
  std::string producer = "polyhead ModelBuilder";
  std::string description;
  std::vector<std::pair<std::string, std::string>> metadata;

  template <typename T>
  static ConstantRec raw(const std::vector<T>& values) {
    ConstantRec c;
    c.bytes.resize(values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(c.bytes.data(), values.data(), c.bytes.size());
    return c;
  }

  int add_typed_constant(const std::string& name, const Shape& shape, ConstantRec values,
                         ElementType type, const Quantization& q) {
    const int t = static_cast<int>(tensors.size());
    tensors.push_back({name, shape, static_cast<int>(constants.size()), type, q});
    constants.push_back(std::move(values));
    return t;
  }

  Status check_tensor(int t, const std::string& node) const {
    if (t < 0 || static_cast<size_t>(t) >= tensors.size())
      return Status(ErrorCode::kInvalidArgument,
                    "node '" + node + "': tensor index " + std::to_string(t) + " does not exist");
    return Status::ok();
  }

  Result<int> add_node(const std::string& name, OpKind op, schema::OpOptions type,
                       OptionsWriter options, const std::vector<int>& in) {
    if (name.empty()) return Status(ErrorCode::kInvalidArgument, "a node needs a name");
    for (const NodeRec& n : nodes)
      if (n.name == name)
        return Status(ErrorCode::kInvalidArgument, "node '" + name + "' is added twice");
    std::vector<kernels::InputShape> shapes;
    for (int t : in) {
      if (t == -1) {
        shapes.push_back({});
        continue;
      }
      PH_RETURN_IF_ERROR(check_tensor(t, name));
      shapes.push_back({true, tensors[static_cast<size_t>(t)].shape,
                        tensors[static_cast<size_t>(t)].constant >= 0});
    }
    // Serialise the node alone so the shared operator rules (the same the loader uses) apply.
    fb::FlatBufferBuilder scratch;
    const auto opts = options ? options(scratch) : fb::Offset<void>();
    const auto node =
        schema::CreateNode(scratch, scratch.CreateString(name), op, type, opts,
                           scratch.CreateVector(in), scratch.CreateVector(std::vector<int>{}));
    scratch.Finish(node);
    const auto* view = fb::GetRoot<schema::Node>(scratch.GetBufferPointer());
    auto out = kernels::infer_output_shapes(*view, shapes);
    if (!out.is_ok())
      return Status(
          ErrorCode::kInvalidArgument,
          "node '" + name + "' (" + kernels::op_kind_name(op) + "): " + out.status().message());
    const int output = static_cast<int>(tensors.size());
    tensors.push_back({name, (*out)[0], -1, ElementType::kF32, {}});
    nodes.push_back({name, op, type, std::move(options), in, output});
    return output;
  }

  // The model as the one .phm writer takes it; constants point into `constants`.
  internal::PhmModel to_phm() const {
    internal::PhmModel m;
    m.producer = producer;
    m.description = description;
    for (const TensorRec& t : tensors) {
      internal::PhmTensor pt;
      pt.name = t.name;
      pt.shape.assign(t.shape.begin(), t.shape.end());
      pt.type = static_cast<schema::ElementType>(t.type);
      if (!t.quantization.empty())
        pt.quantization =
            internal::PhmQuantization{t.quantization.scale,
                                      std::vector<int64_t>(t.quantization.zero_point.begin(),
                                                           t.quantization.zero_point.end()),
                                      t.quantization.axis};
      pt.constant = t.constant;
      if (t.sparse_block_rows > 0)
        pt.sparse = internal::PhmSparseBlocks{t.sparse_block_rows, t.sparse_block_cols};
      m.tensors.push_back(std::move(pt));
    }
    for (const ConstantRec& c : constants) m.constants.push_back({c.bytes.data(), c.bytes.size()});
    for (const NodeRec& n : nodes) {
      internal::PhmNode pn;
      pn.name = n.name;
      pn.op = n.op;
      pn.options_type = n.options_type;
      if (n.options)
        pn.options = [&options = n.options](fb::FlatBufferBuilder& b) -> Result<fb::Offset<void>> {
          return options(b);
        };
      pn.inputs = n.inputs;
      pn.outputs = {n.output};
      m.nodes.push_back(std::move(pn));
    }
    for (const InputRec& in : inputs) {
      const Preprocess& p = in.preprocess;
      internal::PhmPreprocess pre;
      pre.width = p.width;
      pre.height = p.height;
      pre.layout = detail::to_schema(p.layout);
      pre.color = detail::to_schema(p.color);
      pre.fit = detail::to_schema(p.fit);
      if (!p.mean.empty()) pre.mean = p.mean;
      if (!p.std.empty()) pre.std = p.std;
      pre.pixel_scale = p.pixel_scale;
      m.inputs.push_back({in.tensor, std::move(pre)});
    }
    for (const TaskRec& t : tasks) {
      internal::PhmTask task;
      task.name = t.name;
      task.kind = static_cast<schema::TaskKind>(t.kind);
      for (const TaskOutputRef& o : t.outputs) task.outputs.push_back({o.name, o.tensor});
      const PostProcessParams& p = t.post;
      internal::PhmPostProcess post;
      post.activation = static_cast<schema::OutputActivation>(p.activation);
      if (!p.labels.empty()) post.labels = p.labels;
      post.score_threshold = p.score_threshold;
      post.nms_iou = p.nms_iou;
      post.max_detections = p.max_detections;
      if (!p.anchors.empty()) post.anchors = p.anchors;
      task.postprocess = std::move(post);
      task.priority = t.priority;
      task.rate = t.rate;
      m.tasks.push_back(std::move(task));
    }
    m.metadata = metadata;
    return m;
  }
};

ModelBuilder::ModelBuilder() : s_(std::make_unique<State>()) {}
ModelBuilder::~ModelBuilder() = default;

int ModelBuilder::add_input(const std::string& name, const Shape& shape,
                            const Preprocess& preprocess) {
  const int t = static_cast<int>(s_->tensors.size());
  s_->tensors.push_back({name, shape, -1, ElementType::kF32, {}});
  s_->inputs.push_back({t, preprocess});
  return t;
}

int ModelBuilder::add_constant_i8(const std::string& name, const Shape& shape,
                                  const std::vector<int8_t>& values, const Quantization& q) {
  return s_->add_typed_constant(name, shape, State::raw(values), ElementType::kI8, q);
}

int ModelBuilder::add_constant_i32(const std::string& name, const Shape& shape,
                                   const std::vector<int32_t>& values, const Quantization& q) {
  return s_->add_typed_constant(name, shape, State::raw(values), ElementType::kI32, q);
}

Status ModelBuilder::set_quantization(int tensor, const Quantization& q) {
  PH_RETURN_IF_ERROR(s_->check_tensor(tensor, "set_quantization"));
  State::TensorRec& t = s_->tensors[static_cast<size_t>(tensor)];
  if (t.constant >= 0)
    return Status(ErrorCode::kInvalidArgument,
                  "set_quantization: '" + t.name + "' is a constant; use add_constant_i8");
  if (q.scale.size() != 1 || q.zero_point.size() != 1 || q.axis != -1)
    return Status(ErrorCode::kInvalidArgument,
                  "set_quantization: activation '" + t.name +
                      "' needs per-tensor parameters (one scale, one zero point, axis -1)");
  t.type = ElementType::kI8;
  t.quantization = q;
  return Status::ok();
}

Result<int> ModelBuilder::quantize(const std::string& name, int input, const Quantization& q) {
  PH_ASSIGN_OR_RETURN(const int out, s_->add_node(name, OpKind::QUANTIZE, schema::OpOptions::NONE,
                                                  nullptr, {input}));
  PH_RETURN_IF_ERROR(set_quantization(out, q));
  return out;
}

Result<int> ModelBuilder::dequantize(const std::string& name, int input) {
  return s_->add_node(name, OpKind::DEQUANTIZE, schema::OpOptions::NONE, nullptr, {input});
}

int ModelBuilder::add_constant(const std::string& name, const Shape& shape,
                               const std::vector<float>& values) {
  const int t = static_cast<int>(s_->tensors.size());
  s_->tensors.push_back(
      {name, shape, static_cast<int>(s_->constants.size()), ElementType::kF32, {}});
  s_->constants.push_back(State::raw(values));
  return t;
}

Status ModelBuilder::store_sparse(int tensor, int block_rows, int block_cols) {
  if (tensor < 0 || static_cast<size_t>(tensor) >= s_->tensors.size())
    return Status(ErrorCode::kInvalidArgument, "store_sparse: no tensor " + std::to_string(tensor) +
                                                   " (the model has " +
                                                   std::to_string(s_->tensors.size()) + ")");
  State::TensorRec& t = s_->tensors[static_cast<size_t>(tensor)];
  if (t.constant < 0 || t.type != ElementType::kF32)
    return Status(ErrorCode::kInvalidArgument,
                  "store_sparse: '" + t.name + "' is not a float constant");
  const int64_t rows = t.shape.rank() == 0 ? 1 : t.shape[0];
  const int64_t cols = t.shape.elements() / rows;
  if (block_rows <= 0 || block_cols <= 0 || rows % block_rows != 0 || cols % block_cols != 0)
    return Status(ErrorCode::kInvalidArgument,
                  "store_sparse: blocks of " + std::to_string(block_rows) + "x" +
                      std::to_string(block_cols) + " do not divide the " + std::to_string(rows) +
                      "x" + std::to_string(cols) + " matrix of '" + t.name + "'");
  t.sparse_block_rows = block_rows;
  t.sparse_block_cols = block_cols;
  return Status::ok();
}

Result<int> ModelBuilder::conv2d(const std::string& name, int input, int weights, int bias,
                                 const Conv2DParams& p) {
  return s_->add_node(name, OpKind::CONV_2D, schema::OpOptions::Conv2DOptions,
                      [p](fb::FlatBufferBuilder& b) {
                        const auto act = to_schema(p.activation);
                        return schema::CreateConv2DOptions(
                                   b, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top,
                                   p.pad_left, p.pad_bottom, p.pad_right, p.groups, &act)
                            .Union();
                      },
                      {input, weights, bias});
}

Result<int> ModelBuilder::transpose_conv2d(const std::string& name, int input, int weights,
                                           int bias, const TransposeConv2DParams& p) {
  return s_->add_node(name, OpKind::TRANSPOSE_CONV_2D, schema::OpOptions::TransposeConv2DOptions,
                      [p](fb::FlatBufferBuilder& b) {
                        const auto act = to_schema(p.activation);
                        return schema::CreateTransposeConv2DOptions(
                                   b, p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.pad_bottom,
                                   p.pad_right, p.adjustment_h, p.adjustment_w, &act)
                            .Union();
                      },
                      {input, weights, bias});
}

Result<int> ModelBuilder::fully_connected(const std::string& name, int input, int weights, int bias,
                                          Activation a) {
  return s_->add_node(name, OpKind::FULLY_CONNECTED, schema::OpOptions::FullyConnectedOptions,
                      [a](fb::FlatBufferBuilder& b) {
                        const auto act = to_schema(a);
                        return schema::CreateFullyConnectedOptions(b, &act).Union();
                      },
                      {input, weights, bias});
}

Result<int> ModelBuilder::binary(const std::string& name, BinaryOp op, int a, int b_,
                                 Activation act_) {
  static const OpKind kinds[] = {OpKind::ADD, OpKind::SUB, OpKind::MUL, OpKind::DIV};
  return s_->add_node(name, kinds[static_cast<int>(op)], schema::OpOptions::BinaryOptions,
                      [act_](fb::FlatBufferBuilder& b) {
                        const auto act = to_schema(act_);
                        return schema::CreateBinaryOptions(b, &act).Union();
                      },
                      {a, b_});
}

Result<int> ModelBuilder::pool2d(const std::string& name, PoolOp op, int input,
                                 const Pool2DParams& p) {
  return s_->add_node(name, op == PoolOp::kMax ? OpKind::MAX_POOL_2D : OpKind::AVERAGE_POOL_2D,
                      schema::OpOptions::Pool2DOptions,
                      [p](fb::FlatBufferBuilder& b) {
                        const auto act = to_schema(p.activation);
                        return schema::CreatePool2DOptions(b, p.filter_h, p.filter_w, p.stride_h,
                                                           p.stride_w, p.pad_top, p.pad_left,
                                                           p.pad_bottom, p.pad_right, &act)
                            .Union();
                      },
                      {input});
}

Result<int> ModelBuilder::mean(const std::string& name, int input, bool keep_dims) {
  return s_->add_node(name, OpKind::MEAN, schema::OpOptions::MeanOptions,
                      [keep_dims](fb::FlatBufferBuilder& b) {
                        return schema::CreateMeanOptions(b, keep_dims).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::pad(const std::string& name, int input, const std::vector<int>& before,
                              const std::vector<int>& after, float value) {
  return s_->add_node(name, OpKind::PAD, schema::OpOptions::PadOptions,
                      [before, after, value](fb::FlatBufferBuilder& b) {
                        return schema::CreatePadOptions(b, b.CreateVector(before),
                                                        b.CreateVector(after), value)
                            .Union();
                      },
                      {input});
}

Result<int> ModelBuilder::resize(const std::string& name, int input, int height, int width,
                                 ResizeMode mode, ResizeCoordinates coordinates) {
  return s_->add_node(name, OpKind::RESIZE, schema::OpOptions::ResizeOptions,
                      [=](fb::FlatBufferBuilder& b) {
                        return schema::CreateResizeOptions(
                                   b, height, width, static_cast<schema::ResizeMode>(mode),
                                   static_cast<schema::CoordinateMode>(coordinates))
                            .Union();
                      },
                      {input});
}

Result<int> ModelBuilder::softmax(const std::string& name, int input, float beta) {
  return s_->add_node(
      name, OpKind::SOFTMAX, schema::OpOptions::SoftmaxOptions,
      [beta](fb::FlatBufferBuilder& b) { return schema::CreateSoftmaxOptions(b, beta).Union(); },
      {input});
}

Result<int> ModelBuilder::clamp(const std::string& name, int input, float min, float max) {
  return s_->add_node(name, OpKind::CLAMP, schema::OpOptions::ClampOptions,
                      [min, max](fb::FlatBufferBuilder& b) {
                        return schema::CreateClampOptions(b, min, max).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::unary(const std::string& name, UnaryOp op, int input) {
  static const OpKind kinds[] = {OpKind::HARD_SWISH, OpKind::SIGMOID, OpKind::TANH};
  return s_->add_node(name, kinds[static_cast<int>(op)], schema::OpOptions::NONE, nullptr, {input});
}

Result<int> ModelBuilder::abs(const std::string& name, int input) {
  return s_->add_node(name, OpKind::ABS, schema::OpOptions::NONE, nullptr, {input});
}

Result<int> ModelBuilder::silu(const std::string& name, int input) {
  return s_->add_node(name, OpKind::SILU, schema::OpOptions::NONE, nullptr, {input});
}

Result<int> ModelBuilder::leaky_relu(const std::string& name, int input, float slope) {
  return s_->add_node(name, OpKind::LEAKY_RELU, schema::OpOptions::LeakyReluOptions,
                      [slope](fb::FlatBufferBuilder& b) {
                        return schema::CreateLeakyReluOptions(b, slope).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::prelu(const std::string& name, int input, int slope) {
  return s_->add_node(name, OpKind::PRELU, schema::OpOptions::NONE, nullptr, {input, slope});
}

Result<int> ModelBuilder::depth_to_space(const std::string& name, int input, int block) {
  return s_->add_node(name, OpKind::DEPTH_TO_SPACE, schema::OpOptions::DepthToSpaceOptions,
                      [block](fb::FlatBufferBuilder& b) {
                        return schema::CreateDepthToSpaceOptions(b, block).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::reshape(const std::string& name, int input, const Shape& shape) {
  std::vector<int> dims;
  for (int64_t d : shape) dims.push_back(static_cast<int>(d));
  return s_->add_node(name, OpKind::RESHAPE, schema::OpOptions::ReshapeOptions,
                      [dims](fb::FlatBufferBuilder& b) {
                        return schema::CreateReshapeOptions(b, b.CreateVector(dims)).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::concatenation(const std::string& name, const std::vector<int>& inputs,
                                        int axis, Activation a) {
  return s_->add_node(
      name, OpKind::CONCATENATION, schema::OpOptions::ConcatenationOptions,
      [axis, a](fb::FlatBufferBuilder& b) {
        const auto act = to_schema(a);
        return schema::CreateConcatenationOptions(b, axis, &act).Union();
      },
      inputs);
}

Result<int> ModelBuilder::transpose(const std::string& name, int input,
                                    const std::vector<int>& perm) {
  return s_->add_node(name, OpKind::TRANSPOSE, schema::OpOptions::TransposeOptions,
                      [perm](fb::FlatBufferBuilder& b) {
                        return schema::CreateTransposeOptions(b, b.CreateVector(perm)).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::slice(const std::string& name, int input, const std::vector<int>& begin,
                                const std::vector<int>& size, const std::vector<int>& step) {
  // All-ones steps are the default: left out, so the file says only what differs (a list of
  // the wrong length is written, for the validator to name).
  const bool unit =
      step.empty() || (step.size() == begin.size() &&
                       std::all_of(step.begin(), step.end(), [](int s) { return s == 1; }));
  return s_->add_node(name, OpKind::SLICE, schema::OpOptions::SliceOptions,
                      [begin, size, step, unit](fb::FlatBufferBuilder& b) {
                        const auto bv = b.CreateVector(begin);
                        const auto sv = b.CreateVector(size);
                        fb::Offset<fb::Vector<int32_t>> tv;
                        if (!unit) tv = b.CreateVector(step);
                        return schema::CreateSliceOptions(b, bv, sv, tv).Union();
                      },
                      {input});
}

Result<int> ModelBuilder::channel_shuffle(const std::string& name, int input, int groups) {
  return s_->add_node(name, OpKind::CHANNEL_SHUFFLE, schema::OpOptions::ChannelShuffleOptions,
                      [groups](fb::FlatBufferBuilder& b) {
                        return schema::CreateChannelShuffleOptions(b, groups).Union();
                      },
                      {input});
}

Status ModelBuilder::add_task(const std::string& name, TaskKind kind,
                              const std::vector<TaskOutputRef>& outputs,
                              const PostProcessParams& post, int priority, int rate) {
  for (const TaskOutputRef& o : outputs)
    PH_RETURN_IF_ERROR(s_->check_tensor(o.tensor, "task " + name));
  for (const auto& t : s_->tasks)
    if (t.name == name)
      return Status(ErrorCode::kInvalidArgument, "task '" + name + "' is added twice");
  s_->tasks.push_back({name, kind, outputs, post, priority, rate});
  return Status::ok();
}

void ModelBuilder::set_producer(const std::string& producer) {
  s_->producer = producer;
}
void ModelBuilder::set_description(const std::string& d) {
  s_->description = d;
}
void ModelBuilder::add_metadata(const std::string& k, const std::string& v) {
  s_->metadata.emplace_back(k, v);
}

Shape ModelBuilder::shape(int tensor) const {
  if (tensor < 0 || static_cast<size_t>(tensor) >= s_->tensors.size()) return {};
  return s_->tensors[static_cast<size_t>(tensor)].shape;
}

size_t ModelBuilder::tensor_count() const {
  return s_->tensors.size();
}

Result<std::vector<uint8_t>> ModelBuilder::finish() const {
  return internal::write_phm(s_->to_phm());
}

Status ModelBuilder::write(const std::string& path) const {
  PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, finish());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status(ErrorCode::kIoError, "cannot write '" + path + "'");
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) return Status(ErrorCode::kIoError, "failed writing '" + path + "'");
  return Status::ok();
}

}  // namespace polyhead
