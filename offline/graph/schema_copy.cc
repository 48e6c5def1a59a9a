#include "offline/graph/schema_copy.h"

#include <cmath>
#include <vector>

#include "polyhead/internal/anchor_grids.h"
#include "polyhead/internal/half_scales.h"

namespace polyhead::merge {

namespace fb = flatbuffers;
using schema::OpOptions;

namespace {

// The slot of the last field this build's schema has, per options table (0: unknown type).
fb::voffset_t last_options_field(OpOptions type) {
  switch (type) {
    case OpOptions::Conv2DOptions:
      return schema::Conv2DOptions::VT_ACTIVATION;
    case OpOptions::TransposeConv2DOptions:
      return schema::TransposeConv2DOptions::VT_ACTIVATION;
    case OpOptions::FullyConnectedOptions:
      return schema::FullyConnectedOptions::VT_ACTIVATION;
    case OpOptions::BinaryOptions:
      return schema::BinaryOptions::VT_ACTIVATION;
    case OpOptions::Pool2DOptions:
      return schema::Pool2DOptions::VT_ACTIVATION;
    case OpOptions::MeanOptions:
      return schema::MeanOptions::VT_KEEP_DIMS;
    case OpOptions::PadOptions:
      return schema::PadOptions::VT_VALUE;
    case OpOptions::ResizeOptions:
      return schema::ResizeOptions::VT_COORDINATES;
    case OpOptions::SoftmaxOptions:
      return schema::SoftmaxOptions::VT_BETA;
    case OpOptions::ClampOptions:
      return schema::ClampOptions::VT_MAX;
    case OpOptions::LeakyReluOptions:
      return schema::LeakyReluOptions::VT_NEGATIVE_SLOPE;
    case OpOptions::DepthToSpaceOptions:
      return schema::DepthToSpaceOptions::VT_BLOCK_SIZE;
    case OpOptions::ConcatenationOptions:
      return schema::ConcatenationOptions::VT_ACTIVATION;
    case OpOptions::TransposeOptions:
      return schema::TransposeOptions::VT_PERM;
    case OpOptions::ReshapeOptions:
      return schema::ReshapeOptions::VT_SHAPE;
    case OpOptions::SliceOptions:
      return schema::SliceOptions::VT_STEP;
    case OpOptions::ChannelShuffleOptions:
      return schema::ChannelShuffleOptions::VT_GROUPS;
    default:
      return 0;
  }
}

// True when the table stores a field in a vtable slot past `last_field` (all generated tables are
// plain flatbuffers::Table objects, privately inherited, at the same address).
bool has_unknown_fields(const void* table, fb::voffset_t last_field) {
  if (!table) return false;
  const uint8_t* vtable = static_cast<const fb::Table*>(table)->GetVTable();
  const auto size = fb::ReadScalar<fb::voffset_t>(vtable);
  for (size_t slot = last_field + sizeof(fb::voffset_t); slot + sizeof(fb::voffset_t) <= size;
       slot += sizeof(fb::voffset_t))
    if (fb::ReadScalar<fb::voffset_t>(vtable + slot) != 0) return true;
  return false;
}

Status unknown_fields(const std::string& source, const std::string& where) {
  return Status(ErrorCode::kUnsupported,
                "'" + source + "': " + where +
                    " has fields this build does not know (written by a newer producer?); merging "
                    "would drop them");
}

const schema::Activation* activation_of(const schema::Node& n) {
  switch (n.options_type()) {
    case OpOptions::Conv2DOptions:
      return n.options_as_Conv2DOptions()->activation();
    case OpOptions::TransposeConv2DOptions:
      return n.options_as_TransposeConv2DOptions()->activation();
    case OpOptions::FullyConnectedOptions:
      return n.options_as_FullyConnectedOptions()->activation();
    case OpOptions::BinaryOptions:
      return n.options_as_BinaryOptions()->activation();
    case OpOptions::Pool2DOptions:
      return n.options_as_Pool2DOptions()->activation();
    case OpOptions::ConcatenationOptions:
      return n.options_as_ConcatenationOptions()->activation();
    default:
      return nullptr;
  }
}

template <typename T>
fb::Offset<fb::Vector<T>> copy_vector(fb::FlatBufferBuilder& b, const fb::Vector<T>* v) {
  if (!v) return 0;
  return b.CreateVector(v->data(), v->size());
}

// A stored vector's elements; nullopt when the vector is absent.
template <typename T>
std::optional<std::vector<T>> optional_vector(const fb::Vector<T>* v) {
  if (!v) return std::nullopt;
  return std::vector<T>(v->begin(), v->end());
}

// Builds one table alone with every default written out and returns the finished bytes.
template <typename Write>
std::string canonical_bytes(Write write) {
  fb::FlatBufferBuilder b;
  b.ForceDefaults(true);
  b.Finish(write(b));
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

}  // namespace

Status check_known_fields(const schema::Model& m, const std::string& source) {
  if (has_unknown_fields(&m, schema::Model::VT_METADATA))
    return unknown_fields(source, "the model");
  for (fb::uoffset_t i = 0; i < m.tensors()->size(); ++i) {
    const schema::Tensor* t = m.tensors()->Get(i);
    if (has_unknown_fields(t, schema::Tensor::VT_STORAGE) ||
        has_unknown_fields(t->quantization(), schema::Quantization::VT_SCALE_F16) ||
        has_unknown_fields(t->sparse(), schema::SparseLayout::VT_BLOCK_COLUMNS))
      return unknown_fields(source, "tensor '" + t->name()->str() + "'");
  }
  for (const schema::Node* n : *m.nodes()) {
    const std::string where = "node '" + n->name()->str() + "'";
    if (has_unknown_fields(n, schema::Node::VT_OUTPUTS)) return unknown_fields(source, where);
    if (n->options() && has_unknown_fields(n->options(), last_options_field(n->options_type())))
      return unknown_fields(source, where + " (its options)");
  }
  for (const schema::Input* in : *m.inputs())
    if (has_unknown_fields(in, schema::Input::VT_PREPROCESS) ||
        has_unknown_fields(in->preprocess(), schema::Preprocess::VT_FIT))
      return unknown_fields(source, "input " + std::to_string(in->tensor()));
  for (const schema::Task* t : *m.tasks()) {
    bool unknown = has_unknown_fields(t, schema::Task::VT_RATE) ||
                   has_unknown_fields(t->postprocess(), schema::PostProcess::VT_ANCHOR_GRIDS);
    if (t->postprocess() && t->postprocess()->anchor_grids())
      for (const schema::AnchorGrid* g : *t->postprocess()->anchor_grids())
        unknown = unknown || has_unknown_fields(g, schema::AnchorGrid::VT_SIZES);
    for (const schema::TaskOutput* o : *t->outputs())
      unknown = unknown || has_unknown_fields(o, schema::TaskOutput::VT_TENSOR);
    if (unknown) return unknown_fields(source, "task '" + t->name()->str() + "'");
  }
  if (m.metadata())
    for (const schema::Metadata* e : *m.metadata())
      if (has_unknown_fields(e, schema::Metadata::VT_VALUE))
        return unknown_fields(source, "metadata '" + e->key()->str() + "'");
  return Status::ok();
}

Result<fb::Offset<void>> copy_options(fb::FlatBufferBuilder& b, const schema::Node& n) {
  if (n.options_type() == OpOptions::NONE || !n.options()) return fb::Offset<void>();
  const schema::Activation* act = activation_of(n);
  switch (n.options_type()) {
    case OpOptions::Conv2DOptions: {
      const auto* o = n.options_as_Conv2DOptions();
      return schema::CreateConv2DOptions(b, o->stride_h(), o->stride_w(), o->dilation_h(),
                                         o->dilation_w(), o->pad_top(), o->pad_left(),
                                         o->pad_bottom(), o->pad_right(), o->groups(), act)
          .Union();
    }
    case OpOptions::TransposeConv2DOptions: {
      const auto* o = n.options_as_TransposeConv2DOptions();
      return schema::CreateTransposeConv2DOptions(b, o->stride_h(), o->stride_w(), o->pad_top(),
                                                  o->pad_left(), o->pad_bottom(), o->pad_right(),
                                                  o->adjustment_h(), o->adjustment_w(), act)
          .Union();
    }
    case OpOptions::FullyConnectedOptions:
      return schema::CreateFullyConnectedOptions(b, act).Union();
    case OpOptions::BinaryOptions:
      return schema::CreateBinaryOptions(b, act).Union();
    case OpOptions::Pool2DOptions: {
      const auto* o = n.options_as_Pool2DOptions();
      return schema::CreatePool2DOptions(b, o->filter_h(), o->filter_w(), o->stride_h(),
                                         o->stride_w(), o->pad_top(), o->pad_left(),
                                         o->pad_bottom(), o->pad_right(), act)
          .Union();
    }
    case OpOptions::MeanOptions:
      return schema::CreateMeanOptions(b, n.options_as_MeanOptions()->keep_dims()).Union();
    case OpOptions::PadOptions: {
      // The one float field whose default is 0: a -0.0 pad value equals the default and would be
      // left out of a compact table, so it is stored explicitly to keep its sign.
      const auto* o = n.options_as_PadOptions();
      const auto after = copy_vector(b, o->after());
      const auto before = copy_vector(b, o->before());
      if (o->value() == 0.f && std::signbit(o->value())) {
        schema::PadOptionsBuilder pad(b);
        pad.add_before(before);
        pad.add_after(after);
        b.AddElement<float>(schema::PadOptions::VT_VALUE, o->value());
        return pad.Finish().Union();
      }
      return schema::CreatePadOptions(b, before, after, o->value()).Union();
    }
    case OpOptions::ResizeOptions: {
      const auto* o = n.options_as_ResizeOptions();
      return schema::CreateResizeOptions(b, o->height(), o->width(), o->mode(), o->coordinates())
          .Union();
    }
    case OpOptions::SoftmaxOptions:
      return schema::CreateSoftmaxOptions(b, n.options_as_SoftmaxOptions()->beta()).Union();
    case OpOptions::ClampOptions: {
      const auto* o = n.options_as_ClampOptions();
      return schema::CreateClampOptions(b, o->min(), o->max()).Union();
    }
    case OpOptions::LeakyReluOptions:
      return schema::CreateLeakyReluOptions(b, n.options_as_LeakyReluOptions()->negative_slope())
          .Union();
    case OpOptions::DepthToSpaceOptions:
      return schema::CreateDepthToSpaceOptions(b, n.options_as_DepthToSpaceOptions()->block_size())
          .Union();
    case OpOptions::ConcatenationOptions:
      return schema::CreateConcatenationOptions(b, n.options_as_ConcatenationOptions()->axis(), act)
          .Union();
    case OpOptions::TransposeOptions:
      return schema::CreateTransposeOptions(b,
                                            copy_vector(b, n.options_as_TransposeOptions()->perm()))
          .Union();
    case OpOptions::ReshapeOptions:
      return schema::CreateReshapeOptions(b, copy_vector(b, n.options_as_ReshapeOptions()->shape()))
          .Union();
    case OpOptions::SliceOptions: {
      const auto* o = n.options_as_SliceOptions();
      const auto begin = copy_vector(b, o->begin());
      const auto size = copy_vector(b, o->size());
      const auto step = copy_vector(b, o->step());  // absent stays absent
      return schema::CreateSliceOptions(b, begin, size, step).Union();
    }
    case OpOptions::ChannelShuffleOptions:
      return schema::CreateChannelShuffleOptions(b, n.options_as_ChannelShuffleOptions()->groups())
          .Union();
    default:
      return Status(ErrorCode::kUnsupported,
                    "node '" + n.name()->str() + "': options type " +
                        std::to_string(static_cast<int>(n.options_type())) +
                        " cannot be copied by this build");
  }
}

std::optional<internal::PhmSparseBlocks> read_sparse_blocks(const schema::SparseLayout* s) {
  if (!s) return std::nullopt;
  return internal::PhmSparseBlocks{s->block_rows(), s->block_cols()};
}

std::optional<internal::PhmQuantization> read_quantization(const schema::Quantization* q) {
  if (!q) return std::nullopt;
  internal::PhmQuantization out;
  // Loaded models always store a scale (the validator requires one).
  out.scale = internal::quantization_scales(*q);
  out.zero_point = optional_vector(q->zero_point());
  out.axis = q->axis();
  return out;
}

std::optional<internal::PhmPreprocess> read_preprocess(const schema::Preprocess* p) {
  if (!p) return std::nullopt;
  internal::PhmPreprocess out;
  out.width = p->width();
  out.height = p->height();
  out.layout = p->layout();
  out.color = p->color();
  out.mean = optional_vector(p->mean());
  out.std = optional_vector(p->std());
  out.pixel_scale = p->pixel_scale();
  out.fit = p->fit();
  return out;
}

Result<std::optional<internal::PhmPostProcess>> read_postprocess(const schema::PostProcess* p) {
  if (!p) return std::optional<internal::PhmPostProcess>();
  internal::PhmPostProcess out;
  out.activation = p->activation();
  if (p->labels()) {
    std::vector<std::string> labels;
    labels.reserve(p->labels()->size());
    for (const fb::String* s : *p->labels()) labels.push_back(s ? s->str() : "");
    out.labels = std::move(labels);
  }
  out.score_threshold = p->score_threshold();
  out.nms_iou = p->nms_iou();
  out.max_detections = p->max_detections();
  if (p->anchors() || p->anchor_grids()) {
    PH_ASSIGN_OR_RETURN(out.anchors, internal::read_anchors(*p, "post-processing"));
  }
  return std::optional<internal::PhmPostProcess>(std::move(out));
}

Result<std::string> options_bytes(const schema::Node& node) {
  if (node.options_type() == OpOptions::NONE || !node.options())
    return std::to_string(static_cast<int>(node.options_type())) + ":";
  Status failed;
  std::string bytes = canonical_bytes([&](fb::FlatBufferBuilder& b) {
    auto copied = copy_options(b, node);
    if (!copied.is_ok()) {
      failed = copied.status();
      return fb::Offset<void>();
    }
    return *copied;
  });
  if (!failed.is_ok()) return failed;
  // The type tells apart tables that happen to serialise alike (BinaryOptions, FCOptions).
  return std::to_string(static_cast<int>(node.options_type())) + ":" + bytes;
}

std::string quantization_bytes(const schema::Quantization* q) {
  if (!q) return std::string();
  const internal::PhmQuantization read = read_quantization(q).value();
  return canonical_bytes(
      [&](fb::FlatBufferBuilder& b) { return internal::add_phm_quantization(b, read); });
}

}  // namespace polyhead::merge
