#include "polyhead/internal/phm_writer.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <tuple>

#include "polyhead/format_version.h"
#include "polyhead/internal/anchor_grids.h"
#include "polyhead/internal/block_sparse.h"
#include "polyhead/internal/float_bits.h"
#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/int16_constants.h"
#include "polyhead/kernels/op_table.h"
#include "polyhead/tensor.h"

namespace polyhead::internal {

namespace fb = flatbuffers;

namespace {

uint64_t align(uint64_t v) {
  return (v + kPhmAlignment - 1) / kPhmAlignment * kPhmAlignment;
}

std::string shape_text(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Elements of `shape`, or nullopt when a dimension is negative or the product overflows.
std::optional<uint64_t> element_count(const std::vector<int>& shape) {
  uint64_t n = 1;
  for (int d : shape) {
    if (d < 0) return std::nullopt;
    const auto dim = static_cast<uint64_t>(d);
    if (dim != 0 && n > std::numeric_limits<uint64_t>::max() / dim) return std::nullopt;
    n *= dim;
  }
  return n;
}

// docs/format.md, rule 3: a constant's data is exactly elements x element size bytes.
Status check_constants(const PhmModel& m) {
  for (const PhmTensor& t : m.tensors) {
    if (t.constant < 0) continue;
    const auto c = static_cast<size_t>(t.constant);
    if (c >= m.constants.size())
      return Status(ErrorCode::kInvalidArgument, "tensor '" + t.name + "' refers to constant " +
                                                     std::to_string(c) + " of " +
                                                     std::to_string(m.constants.size()));
    const uint64_t bytes = m.constants[c].size;
    const uint64_t size = element_size(static_cast<ElementType>(t.type));
    const std::optional<uint64_t> elements = element_count(t.shape);
    if (t.sparse && t.type != schema::ElementType::F32)
      return Status(ErrorCode::kInvalidArgument,
                    "constant '" + t.name + "' is " +
                        element_type_name(static_cast<ElementType>(t.type)) +
                        "; only float constants can be stored block-sparse");
    if (size != 0 && elements && bytes / size == *elements && bytes % size == 0) continue;
    const std::string what = "constant '" + t.name + "' of shape " + shape_text(t.shape) + " has ";
    if (size != 0 && bytes % size == 0)
      return Status(ErrorCode::kInvalidArgument, what + std::to_string(bytes / size) + " values");
    return Status(ErrorCode::kInvalidArgument,
                  what + std::to_string(bytes) + " bytes, not a whole number of " +
                      element_type_name(static_cast<ElementType>(t.type)) + " values");
  }
  return Status::ok();
}

// Sub-objects are created before the table that refers to them, the later fields' first. The
// order fixes the file's bytes, so it is spelled out rather than left to argument evaluation.

// Objects several tables may point to: FlatBuffers lets any number of tables refer to one vector or
// table, so each distinct shape, index list, quantization table and options table is stored once
// (in a small model these repeat over and over: a third of the FlatBuffer). Every reader sees the
// same values as with one copy each; only the bytes get fewer. Keyed by content, so both writer
// passes share the same objects and produce the same size.
class SharedObjects {
 public:
  explicit SharedObjects(bool keep_defaults) : keep_defaults_(keep_defaults) {}

  fb::Offset<fb::Vector<int>> ints(fb::FlatBufferBuilder& b, const std::vector<int>& v) {
    auto [it, added] = ints_.try_emplace(v);
    if (added) it->second = b.CreateVector(v);
    return it->second;
  }

  fb::Offset<schema::Quantization> quantization(fb::FlatBufferBuilder& b,
                                                const PhmQuantization& q) {
    // Scales by their bits, so -0.0 and NaN payloads are kept apart from look-alikes.
    std::vector<uint32_t> scale_bits;
    scale_bits.reserve(q.scale.size());
    for (float s : q.scale) scale_bits.push_back(float_bits(s));
    auto key = std::make_tuple(std::move(scale_bits), q.zero_point, q.axis);
    auto [it, added] = quantizations_.try_emplace(std::move(key));
    if (added) it->second = add_phm_quantization(b, q);
    return it->second;
  }

  // The node's options table, written once per distinct content: the table is first written
  // alone into a scratch buffer, whose bytes are the key.
  Result<fb::Offset<void>> options(fb::FlatBufferBuilder& b, const PhmNode& n) {
    fb::FlatBufferBuilder scratch;
    scratch.ForceDefaults(keep_defaults_);
    PH_ASSIGN_OR_RETURN(const fb::Offset<void> alone, n.options(scratch));
    scratch.Finish(alone);
    auto key = std::make_pair(n.options_type,
                              std::vector<uint8_t>(scratch.GetBufferPointer(),
                                                   scratch.GetBufferPointer() + scratch.GetSize()));
    const auto found = options_.find(key);
    if (found != options_.end()) return found->second;
    PH_ASSIGN_OR_RETURN(const fb::Offset<void> written, n.options(b));
    options_.emplace(std::move(key), written);
    return written;
  }

 private:
  bool keep_defaults_;
  std::map<std::vector<int>, fb::Offset<fb::Vector<int>>> ints_;
  std::map<std::tuple<std::vector<uint32_t>, std::optional<std::vector<int64_t>>, int>,
           fb::Offset<schema::Quantization>>
      quantizations_;
  std::map<std::pair<schema::OpOptions, std::vector<uint8_t>>, fb::Offset<void>> options_;
};

fb::Offset<schema::Preprocess> add_preprocess(fb::FlatBufferBuilder& b, const PhmPreprocess& p) {
  const auto std_ = p.std ? b.CreateVector(*p.std) : 0;
  const auto mean = p.mean ? b.CreateVector(*p.mean) : 0;
  return schema::CreatePreprocess(b, p.width, p.height, p.layout, p.color, mean, std_,
                                  p.pixel_scale, p.fit);
}

// `grids`: the anchors as grids (anchor_grids.h) when they reproduce the list exactly and are
// smaller; the list is stored otherwise.
fb::Offset<schema::PostProcess> add_postprocess(
    fb::FlatBufferBuilder& b, const PhmPostProcess& p,
    const std::optional<std::vector<AnchorGridSpec>>& grids) {
  fb::Offset<fb::Vector<fb::Offset<schema::AnchorGrid>>> grid_vec = 0;
  fb::Offset<fb::Vector<float>> anchors = 0;
  if (grids) {
    std::vector<fb::Offset<schema::AnchorGrid>> tables;
    for (const AnchorGridSpec& g : *grids) {
      const auto sizes = b.CreateVector(g.sizes);
      tables.push_back(schema::CreateAnchorGrid(b, g.rows, g.cols, g.offset_y, g.offset_x, sizes));
    }
    grid_vec = b.CreateVector(tables);
  } else if (p.anchors) {
    anchors = b.CreateVector(*p.anchors);
  }
  const auto labels = p.labels ? b.CreateVectorOfStrings(*p.labels) : 0;
  return schema::CreatePostProcess(b, p.activation, labels, p.score_threshold, p.nms_iou,
                                   p.max_detections, anchors, grid_vec);
}

// `sparse`: the tensor's encoded blocks, or null when it is stored dense.
fb::Offset<schema::Tensor> add_tensor(fb::FlatBufferBuilder& b, SharedObjects& shared,
                                      const PhmTensor& t, const BlockSparse* sparse, bool int16) {
  fb::Offset<schema::SparseLayout> layout = 0;
  if (sparse) {
    const auto columns = b.CreateVector(sparse->block_columns);
    const auto starts = b.CreateVector(sparse->row_starts);
    layout = schema::CreateSparseLayout(b, static_cast<int>(sparse->block_rows),
                                        static_cast<int>(sparse->block_cols), starts, columns);
  }
  const auto q = t.quantization ? shared.quantization(b, *t.quantization) : 0;
  const auto shape = shared.ints(b, t.shape);
  const auto name = b.CreateSharedString(t.name);
  const uint32_t buffer = t.constant < 0 ? 0 : static_cast<uint32_t>(t.constant) + 1;
  return schema::CreateTensor(
      b, name, shape, t.type, q, buffer, layout,
      int16 ? schema::ConstantStorage::INT16 : schema::ConstantStorage::PLAIN);
}

Result<fb::Offset<schema::Node>> add_node(fb::FlatBufferBuilder& b, SharedObjects& shared,
                                          const PhmNode& n) {
  fb::Offset<void> options;
  if (n.options) {
    PH_ASSIGN_OR_RETURN(options, shared.options(b, n));
  }
  const auto outputs = shared.ints(b, n.outputs);
  const auto inputs = shared.ints(b, n.inputs);
  const auto name = b.CreateSharedString(n.name);
  return schema::CreateNode(b, name, n.op, n.options_type, options, inputs, outputs);
}

fb::Offset<schema::Input> add_input(fb::FlatBufferBuilder& b, const PhmInput& in) {
  const auto pre = in.preprocess ? add_preprocess(b, *in.preprocess) : 0;
  return schema::CreateInput(b, in.tensor, pre);
}

fb::Offset<schema::Task> add_task(fb::FlatBufferBuilder& b, const PhmTask& t,
                                  const std::optional<std::vector<AnchorGridSpec>>& grids) {
  std::vector<fb::Offset<schema::TaskOutput>> outs;
  outs.reserve(t.outputs.size());
  for (const PhmTaskOutput& o : t.outputs) {
    const auto name = b.CreateSharedString(o.name);
    outs.push_back(schema::CreateTaskOutput(b, name, o.tensor));
  }
  const auto post = t.postprocess ? add_postprocess(b, *t.postprocess, grids) : 0;
  const auto outputs = b.CreateVector(outs);
  const auto name = b.CreateString(t.name);
  return schema::CreateTask(b, name, t.kind, outputs, post, t.priority, t.rate);
}

// How write_phm stores a model's constants: each tensor's encoded blocks (null when dense) and
// whether its I32 constant is stored as int16.
struct ConstantEncoding {
  std::vector<const BlockSparse*> sparse;
  std::vector<uint8_t> int16;
};

// The root table; `offsets` are the constants' file offsets (all 0 in the sizing pass).
Result<fb::Offset<schema::Model>> add_model(fb::FlatBufferBuilder& b, const PhmModel& m,
                                            const std::vector<uint64_t>& offsets,
                                            const ConstantEncoding& encoding, bool keep_defaults) {
  SharedObjects shared(keep_defaults);
  std::vector<fb::Offset<schema::Tensor>> tensors;
  tensors.reserve(m.tensors.size());
  uint32_t newest_minor = 0;  // the format version of the newest operator or feature used
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const BlockSparse* s = encoding.sparse[i];
    const bool int16 = encoding.int16[i] != 0;
    if (s) newest_minor = std::max(newest_minor, kSparseConstantsSinceMinor);
    if (int16) newest_minor = std::max(newest_minor, kNarrowConstantsSinceMinor);
    if (m.tensors[i].quantization && scales_as_halves(*m.tensors[i].quantization))
      newest_minor = std::max(newest_minor, kHalfScalesSinceMinor);
    tensors.push_back(add_tensor(b, shared, m.tensors[i], s, int16));
  }
  std::vector<schema::BufferRef> buffers;
  buffers.reserve(m.constants.size());
  for (size_t i = 0; i < m.constants.size(); ++i)
    buffers.emplace_back(offsets[i], m.constants[i].size);
  std::vector<fb::Offset<schema::Node>> nodes;
  nodes.reserve(m.nodes.size());
  for (const PhmNode& n : m.nodes) {
    // An I32 bias without quantization (scales implied by the input and weights) needs 1.7.
    if (n.inputs.size() >= 3 && n.inputs[2] >= 0 &&
        static_cast<size_t>(n.inputs[2]) < m.tensors.size()) {
      const PhmTensor& bias = m.tensors[static_cast<size_t>(n.inputs[2])];
      if (bias.type == schema::ElementType::I32 && bias.constant >= 0 && !bias.quantization)
        newest_minor = std::max(newest_minor, kImpliedBiasScalesSinceMinor);
    }
    PH_ASSIGN_OR_RETURN(const kernels::OpInfo* info, kernels::op_info(n.op));
    newest_minor = std::max(newest_minor, info->since_minor);
    PH_ASSIGN_OR_RETURN(const auto node, add_node(b, shared, n));
    nodes.push_back(node);
  }
  std::vector<fb::Offset<schema::Input>> inputs;
  inputs.reserve(m.inputs.size());
  for (const PhmInput& in : m.inputs) inputs.push_back(add_input(b, in));
  std::vector<fb::Offset<schema::Task>> tasks;
  tasks.reserve(m.tasks.size());
  for (const PhmTask& t : m.tasks) {
    std::optional<std::vector<AnchorGridSpec>> grids;
    if (t.postprocess && t.postprocess->anchors) grids = fit_anchor_grids(*t.postprocess->anchors);
    if (grids) newest_minor = std::max(newest_minor, kAnchorGridsSinceMinor);
    tasks.push_back(add_task(b, t, grids));
  }
  std::vector<fb::Offset<schema::Metadata>> metadata;
  metadata.reserve(m.metadata.size());
  for (const auto& [key, value] : m.metadata) {
    const auto v = b.CreateString(value);
    const auto k = b.CreateString(key);
    metadata.push_back(schema::CreateMetadata(b, k, v));
  }
  const auto metadata_vec = b.CreateVector(metadata);
  const auto tasks_vec = b.CreateVector(tasks);
  const auto inputs_vec = b.CreateVector(inputs);
  const auto nodes_vec = b.CreateVector(nodes);
  const auto buffers_vec = b.CreateVectorOfStructs(buffers);
  const auto tensors_vec = b.CreateVector(tensors);
  const auto description = b.CreateString(m.description);
  const auto producer = b.CreateString(m.producer);
  return schema::CreateModel(b, kFormatVersionMajor, format_minor_to_write(newest_minor), producer,
                             description, tensors_vec, buffers_vec, nodes_vec, inputs_vec,
                             tasks_vec, metadata_vec);
}

Status finish(fb::FlatBufferBuilder& b, const PhmModel& m, const std::vector<uint64_t>& offsets,
              const ConstantEncoding& encoding, const PhmWriteOptions& options) {
  b.ForceDefaults(options.keep_defaults);
  PH_ASSIGN_OR_RETURN(const auto root, add_model(b, m, offsets, encoding, options.keep_defaults));
  b.Finish(root, kFileIdentifier);
  return Status::ok();
}

}  // namespace

std::optional<std::vector<uint16_t>> scales_as_halves(const PhmQuantization& q) {
  // One scale would save nothing: the vector's length and alignment take the 2 bytes back.
  if (q.scale.size() < 2) return std::nullopt;
  std::vector<uint16_t> halves;
  halves.reserve(q.scale.size());
  for (float s : q.scale) {
    const std::optional<uint16_t> h = exact_half(s);
    if (!h) return std::nullopt;
    halves.push_back(*h);
  }
  return halves;
}

fb::Offset<schema::Quantization> add_phm_quantization(fb::FlatBufferBuilder& b,
                                                      const PhmQuantization& q) {
  const std::optional<std::vector<uint16_t>> halves = scales_as_halves(q);
  const auto scale_f16 = halves ? b.CreateVector(*halves) : 0;
  // Absent zero points read as all 0 (docs/format.md): a vector of zeros (TFLite's per-channel
  // weights carry one, 8 bytes per channel) is left out.
  const bool all_zero = q.zero_point && std::all_of(q.zero_point->begin(), q.zero_point->end(),
                                                    [](int64_t z) { return z == 0; });
  const auto zero_point = q.zero_point && !all_zero ? b.CreateVector(*q.zero_point) : 0;
  const auto scale = halves ? 0 : b.CreateVector(q.scale);
  return schema::CreateQuantization(b, scale, zero_point, q.axis, scale_f16);
}

Result<PhmLayout> plan_phm_layout(uint64_t flatbuffer_bytes,
                                  const std::vector<uint64_t>& constant_bytes,
                                  const std::string& what) {
  // Sizes near 2^64 saturate the cursor instead of wrapping it, so they fail the limit below.
  constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max() / 2;
  auto advance = [](uint64_t cursor, uint64_t size) {
    if (cursor >= kSaturated || size >= kSaturated - cursor) return kSaturated;
    return align(cursor + size);
  };
  PhmLayout layout;
  layout.offsets.reserve(constant_bytes.size());
  uint64_t cursor = advance(0, flatbuffer_bytes);
  for (uint64_t size : constant_bytes) {
    layout.offsets.push_back(cursor);
    cursor = advance(cursor, size);
  }
  if (cursor >= kPhmMaxFileBytes)
    return Status(ErrorCode::kInvalidArgument,
                  what + " would take " + std::to_string(cursor) +
                      " bytes; a .phm file must be smaller than 2 GiB");
  layout.file_bytes = cursor;
  return layout;
}

namespace {

// `model` with its constants as the file stores them:
// - each sparse tensor's constant replaced by its encoded blocks (a constant of its own; a dense
//   constant only sparse tensors read is left out). A tensor whose blocks and indices would take
//   at least its dense bytes is stored dense: sparse storage would save nothing (nor would the
//   sparse kernel, whose break-even densities lie well below), and with every block stored the
//   bytes would have the dense size, which a reader older than 1.6 would misread instead of
//   refusing the file;
// - each I32 constant whose values all fit int16, read only by dense I32 tensors, stored as int16
//   (half the bytes; every reader widens it back, docs/format.md).
struct EncodedModel {
  PhmModel model;
  std::deque<BlockSparse> blocks;             // stable addresses
  std::deque<std::vector<int16_t>> narrowed;  // stable addresses
  ConstantEncoding encoding;
};

Status encode_constants(const PhmModel& in, EncodedModel& out) {
  out.model = in;
  out.model.constants.clear();
  out.encoding.sparse.assign(in.tensors.size(), nullptr);
  out.encoding.int16.assign(in.tensors.size(), 0);
  // Constants every reader of which is a dense I32 tensor may be narrowed.
  std::vector<uint8_t> only_dense_i32(in.constants.size(), 1);
  for (const PhmTensor& t : in.tensors)
    if (t.constant >= 0 && (t.type != schema::ElementType::I32 || t.sparse))
      only_dense_i32[static_cast<size_t>(t.constant)] = 0;
  std::vector<int> remapped(in.constants.size(), -1);
  std::vector<uint8_t> narrowed(in.constants.size(), 0);
  auto keep_dense = [&](PhmTensor& t, size_t i) {
    const auto c = static_cast<size_t>(t.constant);
    int& to = remapped[c];
    if (to < 0) {
      to = static_cast<int>(out.model.constants.size());
      std::optional<std::vector<int16_t>> narrow;
      if (only_dense_i32[c] && in.constants[c].size > 0)
        narrow = narrow_to_int16(in.constants[c].data,
                                 static_cast<size_t>(in.constants[c].size / sizeof(int32_t)));
      if (narrow) {
        out.narrowed.push_back(std::move(*narrow));
        narrowed[c] = 1;
        out.model.constants.push_back(
            {out.narrowed.back().data(), out.narrowed.back().size() * sizeof(int16_t)});
      } else {
        out.model.constants.push_back(in.constants[c]);
      }
    }
    t.constant = to;
    out.encoding.int16[i] = narrowed[c];
  };
  for (size_t i = 0; i < out.model.tensors.size(); ++i) {
    PhmTensor& t = out.model.tensors[i];
    if (t.constant < 0) continue;
    if (!t.sparse) {
      keep_dense(t, i);
      continue;
    }
    const PhmConstant& c = in.constants[static_cast<size_t>(t.constant)];
    const size_t rows = t.shape.empty() ? 1 : static_cast<size_t>(t.shape[0]);
    const size_t cols = rows == 0 ? 0 : static_cast<size_t>(c.size) / sizeof(float) / rows;
    if (t.sparse->block_rows <= 0 || t.sparse->block_cols <= 0)
      return Status(ErrorCode::kInvalidArgument, "constant '" + t.name + "': sparse block " +
                                                     std::to_string(t.sparse->block_rows) + "x" +
                                                     std::to_string(t.sparse->block_cols) +
                                                     " must be at least 1x1");
    PH_ASSIGN_OR_RETURN(BlockSparse encoded,
                        encode_block_sparse(static_cast<const float*>(c.data), rows, cols,
                                            static_cast<size_t>(t.sparse->block_rows),
                                            static_cast<size_t>(t.sparse->block_cols),
                                            "constant '" + t.name + "'"));
    const size_t sparse_bytes =
        (encoded.values.size() + encoded.block_columns.size() + encoded.row_starts.size()) *
        sizeof(uint32_t);
    if (sparse_bytes >= rows * cols * sizeof(float)) {
      t.sparse.reset();
      keep_dense(t, i);
      continue;
    }
    out.blocks.push_back(std::move(encoded));
    out.encoding.sparse[i] = &out.blocks.back();
    t.constant = static_cast<int>(out.model.constants.size());
    out.model.constants.push_back(
        {out.blocks.back().values.data(), out.blocks.back().values.size() * sizeof(float)});
  }
  return Status::ok();
}

Result<std::vector<uint8_t>> write_checked(const PhmModel& model, const ConstantEncoding& encoding,
                                           const PhmWriteOptions& options) {
  // Pass 1 sizes the FlatBuffer; the offsets are fixed-size struct fields, so pass 2 with the real
  // offsets has the same size.
  fb::FlatBufferBuilder sizing;
  PH_RETURN_IF_ERROR(
      finish(sizing, model, std::vector<uint64_t>(model.constants.size(), 0), encoding, options));
  std::vector<uint64_t> sizes;
  sizes.reserve(model.constants.size());
  for (const PhmConstant& c : model.constants) sizes.push_back(c.size);
  PH_ASSIGN_OR_RETURN(const PhmLayout layout,
                      plan_phm_layout(sizing.GetSize(), sizes, options.what));
  fb::FlatBufferBuilder b;
  PH_RETURN_IF_ERROR(finish(b, model, layout.offsets, encoding, options));
  if (b.GetSize() != sizing.GetSize())
    return Status(ErrorCode::kInternal, options.what + ": size changed between writer passes");
  std::vector<uint8_t> bytes(static_cast<size_t>(layout.file_bytes), 0);
  std::memcpy(bytes.data(), b.GetBufferPointer(), b.GetSize());
  for (size_t i = 0; i < model.constants.size(); ++i)
    if (model.constants[i].size > 0)
      std::memcpy(bytes.data() + layout.offsets[i], model.constants[i].data,
                  static_cast<size_t>(model.constants[i].size));
  return bytes;
}

}  // namespace

Result<std::vector<uint8_t>> write_phm(const PhmModel& model, const PhmWriteOptions& options) {
  PH_RETURN_IF_ERROR(check_constants(model));
  EncodedModel encoded;
  PH_RETURN_IF_ERROR(encode_constants(model, encoded));
  return write_checked(encoded.model, encoded.encoding, options);
}

}  // namespace polyhead::internal
