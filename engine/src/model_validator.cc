// Verification (FlatBuffers verifier) then semantic validation of a .phm file. Every model file is
// hostile until this passes: each check names the offending tensor, node, input or task and the
// value found.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model_data.h"
#include "polyhead/format_version.h"
#include "polyhead/internal/anchor_grids.h"
#include "polyhead/internal/half_scales.h"
#include "polyhead/internal/int16_constants.h"
#include "polyhead/kernels/op_table.h"
#include "polyhead/kernels/shape_inference.h"
#include "schema_enums.h"

namespace polyhead::detail {
namespace {

using schema::OpOptions;

constexpr size_t kMaxTensors = 1u << 20;
constexpr size_t kMaxNodes = 1u << 20;
constexpr int64_t kMaxDim = int64_t{1} << 24;
// Bytes of one tensor, and of all activations (non-constant tensors) together: the arena planner
// adds these up in size_t, so on 32-bit targets the limits keep every sum below 2^32.
constexpr uint64_t kMaxTensorBytes = sizeof(size_t) >= 8 ? uint64_t{1} << 34 : uint64_t{1} << 30;
constexpr uint64_t kMaxActivationBytes = kMaxTensorBytes;

Status invalid(std::string m) {
  return Status(ErrorCode::kInvalidModel, std::move(m));
}
std::string str(int64_t v) {
  return std::to_string(v);
}
std::string quoted(const flatbuffers::String* s) {
  return "'" + (s ? s->str() : std::string()) + "'";
}

std::string printable(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const char c = static_cast<char>(p[i]);
    if (c >= 32 && c < 127) {
      s += c;
    } else {
      static const char* hex = "0123456789abcdef";
      s += "\\x";
      s += hex[p[i] >> 4];
      s += hex[p[i] & 15];
    }
  }
  return s;
}

ElementType to_element_type(schema::ElementType t) {
  return static_cast<ElementType>(t);
}

// `scales`: the table's scales, from either of its fields (read once by the caller).
Status check_quantization(const schema::Tensor& t, const std::vector<float>& scales,
                          const Shape& shape, const std::string& where) {
  const schema::Quantization* q = t.quantization();
  if (!q) return Status::ok();
  if (q->scale() && q->scale_f16())
    return invalid(where +
                   ": quantization has both scale and scale_f16; a file stores one of them");
  const size_t n = scales.size();
  if (n == 0) return invalid(where + ": quantization has no scale");
  for (float s : scales)
    if (!std::isfinite(s) || s <= 0.f)
      return invalid(where + ": quantization scale must be finite and positive, found " +
                     std::to_string(s));
  // The verifier only checks 4-byte alignment of vectors; 64-bit elements need 8.
  if (q->zero_point() && q->zero_point()->size() > 0 &&
      reinterpret_cast<uintptr_t>(q->zero_point()->Data()) % alignof(int64_t) != 0)
    return invalid(where +
                   ": quantization zero points are not 8-byte aligned (the file is corrupted)");
  if (q->zero_point() && q->zero_point()->size() != n)
    return invalid(where + ": " + str(q->zero_point()->size()) + " zero points for " + str(n) +
                   " scales");
  if (q->axis() == -1) {
    if (n != 1)
      return invalid(where + ": per-tensor quantization (axis -1) with " + str(n) + " scales");
  } else {
    if (q->axis() < 0 || static_cast<size_t>(q->axis()) >= shape.rank())
      return invalid(where + ": quantization axis " + str(q->axis()) +
                     " is out of range for shape " + shape.to_string());
    if (static_cast<int64_t>(n) != shape[static_cast<size_t>(q->axis())])
      return invalid(where + ": " + str(n) + " scales for " +
                     str(shape[static_cast<size_t>(q->axis())]) + " channels along axis " +
                     str(q->axis()));
  }
  if (q->zero_point()) {
    int64_t lo = INT32_MIN, hi = INT32_MAX;  // what the runtime's int32 zero points hold
    if (t.type() == schema::ElementType::I8) lo = -128, hi = 127;
    if (t.type() == schema::ElementType::U8) lo = 0, hi = 255;
    for (int64_t z : *q->zero_point())
      if (z < lo || z > hi)
        return invalid(where + ": zero point " + str(z) + " is out of range for " +
                       element_type_name(to_element_type(t.type())));
  }
  return Status::ok();
}

// A block-sparse constant (schema/phm.fbs, SparseLayout): every index a kernel will follow is in
// range and in order, so kernels walk it without checks. Fills info.sparse (values at `values`).
Status check_sparse_layout(const schema::Tensor& t, const uint8_t* values, const std::string& where,
                           runtime::TensorInfo& info) {
  const schema::SparseLayout& s = *t.sparse();
  if (info.type != ElementType::kF32)
    return invalid(where + ": only float constants can be stored sparse, not " +
                   element_type_name(info.type));
  const auto rows = static_cast<uint64_t>(info.shape.rank() == 0 ? 1 : info.shape[0]);
  const uint64_t cols = static_cast<uint64_t>(info.shape.elements()) / rows;
  if (s.block_rows() <= 0 || s.block_cols() <= 0 ||
      rows % static_cast<uint64_t>(s.block_rows()) != 0 ||
      cols % static_cast<uint64_t>(s.block_cols()) != 0)
    return invalid(where + ": sparse blocks of " + str(s.block_rows()) + "x" + str(s.block_cols()) +
                   " do not divide its " + str(static_cast<int64_t>(rows)) + "x" +
                   str(static_cast<int64_t>(cols)) + " matrix");
  const uint64_t block_rows = rows / static_cast<uint64_t>(s.block_rows());
  const uint64_t block_cols = cols / static_cast<uint64_t>(s.block_cols());
  const auto& starts = *s.row_starts();
  const auto& columns = *s.block_columns();
  if (starts.size() != block_rows + 1)
    return invalid(where + ": sparse row_starts has " + str(starts.size()) + " entries, " +
                   str(static_cast<int64_t>(block_rows + 1)) + " expected");
  if (starts.Get(0) != 0)
    return invalid(where + ": sparse row_starts begins at " + str(starts.Get(0)) + ", not 0");
  if (starts.Get(starts.size() - 1) != columns.size())
    return invalid(where + ": sparse row_starts ends at " + str(starts.Get(starts.size() - 1)) +
                   " but there are " + str(columns.size()) + " block columns");
  for (flatbuffers::uoffset_t r = 0; r + 1 < starts.size(); ++r) {
    const uint32_t begin = starts.Get(r), end = starts.Get(r + 1);
    if (end < begin)
      return invalid(where + ": sparse row_starts decreases at block row " + str(r) + " (" +
                     str(begin) + " then " + str(end) + ")");
    if (end > columns.size())
      return invalid(where + ": sparse row_starts entry " + str(r + 1) + " is " + str(end) +
                     ", past the " + str(columns.size()) + " block columns");
    for (uint32_t k = begin; k < end; ++k) {
      const uint32_t c = columns.Get(k);
      if (c >= block_cols)
        return invalid(where + ": sparse block " + str(k) + " has block column " + str(c) +
                       ", beyond the " + str(static_cast<int64_t>(block_cols)) + " there are");
      if (k > begin && c <= columns.Get(k - 1))
        return invalid(where + ": sparse block columns of block row " + str(r) +
                       " are not increasing at block " + str(k));
    }
  }
  info.sparse.rows = static_cast<size_t>(rows);
  info.sparse.cols = static_cast<size_t>(cols);
  info.sparse.block_rows = static_cast<size_t>(s.block_rows());
  info.sparse.block_cols = static_cast<size_t>(s.block_cols());
  info.sparse.row_starts = starts.data();
  info.sparse.block_columns = columns.data();
  info.sparse.values = reinterpret_cast<const float*>(values);
  return Status::ok();
}

// An int16-stored I32 constant widened into memory the model owns (64-byte aligned).
Result<const void*> widen_int16(ModelData& d, const void* stored, uint64_t elements,
                                const std::string& where) {
  const size_t bytes = (static_cast<size_t>(elements) * sizeof(int32_t) + 63) / 64 * 64;
  std::unique_ptr<int32_t, ModelData::FreeDeleter> wide(
      static_cast<int32_t*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes)));
  if (!wide)
    return Status(ErrorCode::kOutOfMemory, where + ": could not allocate " + str(bytes) +
                                               " bytes to widen its int16-stored values");
  int32_t* out = wide.get();
  d.widened_constants.push_back(std::move(wide));  // freed by `wide` if this throws
  internal::widen_int16(stored, static_cast<size_t>(elements), out);
  return static_cast<const void*>(out);
}

Status check_tensors(ModelData& d) {
  const schema::Model& m = *d.root;
  if (m.tensors()->size() > kMaxTensors)
    return invalid("too many tensors: " + str(m.tensors()->size()));
  const size_t buffers = m.buffers() ? m.buffers()->size() : 0;
  // The verifier only checks 4-byte alignment of vectors; BufferRef holds 64-bit fields. (An
  // empty vector is never read, and FlatBuffers does not align those.)
  if (buffers > 0 &&
      reinterpret_cast<uintptr_t>(m.buffers()->Data()) % alignof(schema::BufferRef) != 0)
    return invalid("the buffer list at file offset " + str(m.buffers()->Data() - d.bytes) +
                   " is not 8-byte aligned (the file is corrupted)");
  d.graph.tensors.resize(m.tensors()->size());
  uint64_t activation_bytes = 0;
  for (size_t i = 0; i < m.tensors()->size(); ++i) {
    const schema::Tensor& t = *m.tensors()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const std::string where = "tensor " + str(i) + " " + quoted(t.name());
    runtime::TensorInfo& info = d.graph.tensors[i];
    info.name = t.name()->str();
    if (t.type() < schema::ElementType::MIN || t.type() > schema::ElementType::MAX)
      return invalid(where + ": unknown element type " + str(static_cast<int>(t.type())));
    info.type = to_element_type(t.type());
    if (t.shape()->size() > Shape::kMaxDims)
      return invalid(where + ": rank " + str(t.shape()->size()) + " exceeds " +
                     str(Shape::kMaxDims));
    uint64_t elements = 1;
    for (int dim : *t.shape()) {
      if (dim <= 0 || dim > kMaxDim)
        return invalid(where + ": dimension " + str(dim) + " must be in [1, " + str(kMaxDim) + "]");
      info.shape.push_back(dim);
      elements *= static_cast<uint64_t>(dim);
      if (elements > kMaxTensorBytes) return invalid(where + ": shape is too large");
    }
    const uint64_t bytes = elements * element_size(info.type);
    if (bytes > kMaxTensorBytes)
      return invalid(where + ": " + str(static_cast<int64_t>(bytes)) +
                     " bytes is too large (the limit is " +
                     str(static_cast<int64_t>(kMaxTensorBytes)) + ")");
    info.bytes = static_cast<size_t>(bytes);
    std::vector<float> scales;
    if (t.quantization()) scales = internal::quantization_scales(*t.quantization());
    PH_RETURN_IF_ERROR(check_quantization(t, scales, info.shape, where));
    if (const schema::Quantization* q = t.quantization()) {
      info.quantization.scale = std::move(scales);
      info.quantization.zero_point.assign(info.quantization.scale.size(), 0);
      if (q->zero_point())
        for (size_t k = 0; k < q->zero_point()->size(); ++k)
          info.quantization.zero_point[k] =
              static_cast<int32_t>(q->zero_point()->Get(static_cast<flatbuffers::uoffset_t>(k)));
      info.quantization.axis = q->axis();
    }
    if (t.buffer() != 0) {
      if (t.buffer() > buffers)
        return invalid(where + ": buffer " + str(t.buffer()) + " is out of range (" + str(buffers) +
                       " buffers)");
      const schema::BufferRef& b = *m.buffers()->Get(t.buffer() - 1);
      if (b.offset() % 64 != 0)
        return invalid(where + ": constant data offset " + str(static_cast<int64_t>(b.offset())) +
                       " is not 64-byte aligned");
      if (b.offset() > d.size || b.size() > d.size - b.offset())
        return invalid(where + ": constant data [" + str(static_cast<int64_t>(b.offset())) + ", +" +
                       str(static_cast<int64_t>(b.size())) + ") lies outside the file of " +
                       str(d.size) + " bytes");
      uint64_t stored = elements;
      const bool int16 = t.storage() == schema::ConstantStorage::INT16;
      if (t.storage() != schema::ConstantStorage::PLAIN && !int16)
        return invalid(where + ": unknown constant storage " + str(static_cast<int>(t.storage())) +
                       " (written by a newer producer?)");
      if (int16 && (info.type != ElementType::kI32 || t.sparse()))
        return invalid(where + ": int16 storage is for dense I32 constants, not " +
                       (t.sparse() ? std::string("sparse ones") : element_type_name(info.type)));
      if (t.sparse()) {
        PH_RETURN_IF_ERROR(check_sparse_layout(t, d.bytes + b.offset(), where, info));
        stored = info.sparse.block_count() * info.sparse.block_rows * info.sparse.block_cols;
      }
      const uint64_t stored_bytes = stored * (int16 ? sizeof(int16_t) : element_size(info.type));
      if (b.size() != stored_bytes)
        return invalid(
            where + ": constant data has " + str(static_cast<int64_t>(b.size())) + " bytes, " +
            (t.sparse() ? "its " + str(static_cast<int64_t>(stored)) + " stored sparse values need "
                        : "shape " + info.shape.to_string() + (int16 ? " stored as int16" : "") +
                              " needs ") +
            str(static_cast<int64_t>(stored_bytes)));
      info.constant = d.bytes + b.offset();
      if (int16) {
        PH_ASSIGN_OR_RETURN(info.constant, widen_int16(d, info.constant, elements, where));
      }
      if (info.type == ElementType::kF32) {
        const auto* v = static_cast<const float*>(info.constant);
        for (uint64_t k = 0; k < stored; ++k)
          if (!std::isfinite(v[k]))
            return invalid(where + ": constant value " + str(static_cast<int64_t>(k)) +
                           " is not finite");
      }
    } else {
      if (t.sparse()) return invalid(where + ": has a sparse layout but no constant data");
      activation_bytes += bytes;
      if (activation_bytes > kMaxActivationBytes)
        return invalid(where + ": the activations (non-constant tensors) up to this one take " +
                       str(static_cast<int64_t>(activation_bytes)) +
                       " bytes, more than the limit of " +
                       str(static_cast<int64_t>(kMaxActivationBytes)));
    }
  }
  return Status::ok();
}

Status check_nodes(ModelData& d) {
  const schema::Model& m = *d.root;
  const auto tensor_count = static_cast<int>(m.tensors()->size());
  if (m.nodes()->size() > kMaxNodes) return invalid("too many nodes: " + str(m.nodes()->size()));
  d.graph.nodes.resize(m.nodes()->size());
  std::set<std::string> node_names;
  for (size_t i = 0; i < m.nodes()->size(); ++i) {
    const schema::Node& n = *m.nodes()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const std::string where = "node " + str(i) + " " + quoted(n.name());
    runtime::NodeInfo& info = d.graph.nodes[i];
    info.name = n.name()->str();
    info.node = &n;
    if (info.name.empty()) return invalid(where + ": empty node name");
    if (!node_names.insert(info.name).second) return invalid(where + ": duplicate node name");
    const Result<const kernels::OpInfo*> op = kernels::op_info(n.op());
    if (!op.is_ok())
      return invalid(where + ": unknown operator kind " + str(static_cast<int>(n.op())) +
                     " (written by a newer producer?)");
    if (n.options_type() > OpOptions::MAX)
      return invalid(where + ": unknown options type " + str(static_cast<int>(n.options_type())));
    const OpOptions want = (*op)->options;
    const bool absent_ok = n.options_type() == OpOptions::NONE && (*op)->options_optional;
    if (n.options_type() != want && !absent_ok)
      return invalid(where + " (" + (*op)->name + "): options are " +
                     schema::EnumNameOpOptions(n.options_type()) + ", expected " +
                     schema::EnumNameOpOptions(want));
    if (n.outputs()->size() != 1)
      return invalid(where + ": operators have exactly one output, found " +
                     str(n.outputs()->size()));
    for (int t : *n.inputs()) {
      if (t < -1 || t >= tensor_count)
        return invalid(where + ": input tensor index " + str(t) + " is out of range (" +
                       str(tensor_count) + " tensors)");
      info.inputs.push_back(t);
    }
    for (int t : *n.outputs()) {
      if (t < 0 || t >= tensor_count)
        return invalid(where + ": output tensor index " + str(t) + " is out of range (" +
                       str(tensor_count) + " tensors)");
      runtime::TensorInfo& out = d.graph.tensors[static_cast<size_t>(t)];
      if (out.constant)
        return invalid(where + ": writes constant tensor " + str(t) + " '" + out.name + "'");
      if (out.producer >= 0)
        return invalid(where + ": tensor " + str(t) + " '" + out.name +
                       "' is already written by node '" +
                       d.graph.nodes[static_cast<size_t>(out.producer)].name + "'");
      out.producer = static_cast<int>(i);
      info.outputs.push_back(t);
    }
  }
  return Status::ok();
}

Status check_inputs(ModelData& d) {
  const schema::Model& m = *d.root;
  const auto tensor_count = static_cast<int>(m.tensors()->size());
  std::set<std::string> names;
  for (size_t i = 0; i < m.inputs()->size(); ++i) {
    const schema::Input& in = *m.inputs()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const std::string where = "input " + str(i);
    if (in.tensor() < 0 || in.tensor() >= tensor_count)
      return invalid(where + ": tensor index " + str(in.tensor()) + " is out of range (" +
                     str(tensor_count) + " tensors)");
    runtime::TensorInfo& t = d.graph.tensors[static_cast<size_t>(in.tensor())];
    if (t.constant) return invalid(where + ": tensor '" + t.name + "' is constant");
    if (t.producer >= 0)
      return invalid(where + ": tensor '" + t.name + "' is written by node '" +
                     d.graph.nodes[static_cast<size_t>(t.producer)].name + "'");
    if (t.name.empty())
      return invalid(where + ": tensor " + str(in.tensor()) +
                     " has an empty name; inputs are set by name");
    if (!names.insert(t.name).second)
      return invalid(where + ": duplicate input name '" + t.name + "'");
    t.is_model_input = true;
    d.graph.inputs.push_back(in.tensor());

    InputInfo info;
    info.name = t.name;
    info.shape = t.shape;
    info.type = t.type;
    if (const schema::Preprocess* p = in.preprocess()) {
      if (p->layout() < schema::Layout::MIN || p->layout() > schema::Layout::MAX)
        return invalid(where + " '" + t.name + "': unknown layout " +
                       str(static_cast<int>(p->layout())));
      if (p->color() < schema::ColorOrder::MIN || p->color() > schema::ColorOrder::MAX)
        return invalid(where + " '" + t.name + "': unknown colour order " +
                       str(static_cast<int>(p->color())));
      const int64_t channels =
          t.shape.rank() == 4 ? t.shape[p->layout() == schema::Layout::NHWC ? 3 : 1] : 0;
      for (const auto* v : {p->mean(), p->std()}) {
        if (!v) continue;
        if (v->size() != 1 && static_cast<int64_t>(v->size()) != channels)
          return invalid(where + " '" + t.name + "': pre-processing has " + str(v->size()) +
                         " mean/std values for " + str(channels) + " channels");
        for (float x : *v)
          if (!std::isfinite(x))
            return invalid(where + " '" + t.name + "': pre-processing value is not finite");
      }
      if (p->std())
        for (float x : *p->std())
          if (x == 0.f) return invalid(where + " '" + t.name + "': pre-processing std is 0");
      if (!std::isfinite(p->pixel_scale()) || p->pixel_scale() <= 0.f)
        return invalid(where + " '" + t.name + "': pixel_scale must be positive, found " +
                       std::to_string(p->pixel_scale()));
      if (p->width() < 0 || p->height() < 0)
        return invalid(where + " '" + t.name + "': negative pre-processing size");
      info.preprocess.width = p->width();
      info.preprocess.height = p->height();
      info.preprocess.layout = from_schema(p->layout());
      info.preprocess.color = from_schema(p->color());
      if (p->mean()) info.preprocess.mean.assign(p->mean()->begin(), p->mean()->end());
      if (p->std()) info.preprocess.std.assign(p->std()->begin(), p->std()->end());
      info.preprocess.pixel_scale = p->pixel_scale();
      if (p->fit() < schema::ImageFit::MIN || p->fit() > schema::ImageFit::MAX)
        return invalid(where + " '" + t.name + "': unknown image fit " +
                       str(static_cast<int>(p->fit())));
      info.preprocess.fit = from_schema(p->fit());
    }
    d.inputs.push_back(std::move(info));
  }
  return Status::ok();
}

// Orders nodes producers-first (Kahn's algorithm, file order among ready nodes); fails on a cycle
// or on a tensor that is read but never written.
Status order_nodes(ModelData& d) {
  runtime::Graph& g = d.graph;
  const size_t n = g.nodes.size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (size_t i = 0; i < n; ++i)
    for (int t : g.nodes[i].inputs) {
      if (t < 0) continue;
      const runtime::TensorInfo& ti = g.tensors[static_cast<size_t>(t)];
      if (ti.producer < 0) {
        if (!ti.constant && !ti.is_model_input)
          return invalid("node " + str(static_cast<int64_t>(i)) + " '" + g.nodes[i].name +
                         "' reads tensor " + str(t) + " '" + ti.name +
                         "', which is neither constant, a model input, nor written by a node");
        continue;
      }
      ++pending[i];
      consumers[static_cast<size_t>(ti.producer)].push_back(static_cast<int>(i));
    }
  std::set<int> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.insert(static_cast<int>(i));
  while (!ready.empty()) {
    const int next = *ready.begin();
    ready.erase(ready.begin());
    g.topological_order.push_back(next);
    for (int c : consumers[static_cast<size_t>(next)])
      if (--pending[static_cast<size_t>(c)] == 0) ready.insert(c);
  }
  if (g.topological_order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        return invalid("the graph has a cycle through node " + str(static_cast<int64_t>(i)) + " '" +
                       g.nodes[i].name + "'");
  }
  return Status::ok();
}

Status check_shapes(ModelData& d) {
  runtime::Graph& g = d.graph;
  for (int index : g.topological_order) {
    runtime::NodeInfo& node = g.nodes[static_cast<size_t>(index)];
    const std::string where = "node " + str(index) + " '" + node.name + "' (" +
                              kernels::op_kind_name(node.node->op()) + ")";
    std::vector<kernels::InputShape> in;
    for (int t : node.inputs) {
      kernels::InputShape s;
      if (t >= 0) {
        const runtime::TensorInfo& ti = g.tensors[static_cast<size_t>(t)];
        s = {true, ti.shape, ti.constant != nullptr};
      }
      in.push_back(s);
    }
    auto shapes = kernels::infer_output_shapes(*node.node, in);
    if (!shapes.is_ok())
      return Status(shapes.status().code(), where + ": " + shapes.status().message());
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      const runtime::TensorInfo& out = g.tensors[static_cast<size_t>(node.outputs[k])];
      if (k >= shapes->size() || out.shape != (*shapes)[k])
        return invalid(where + ": output '" + out.name + "' is declared " + out.shape.to_string() +
                       " but the operator produces " +
                       (k < shapes->size() ? (*shapes)[k].to_string() : "nothing"));
    }
    auto macs = kernels::count_macs(*node.node, in, *shapes);
    if (!macs.is_ok()) return Status(macs.status().code(), where + ": " + macs.status().message());
    node.macs = *macs;
  }
  return Status::ok();
}

Status check_tasks(ModelData& d) {
  const schema::Model& m = *d.root;
  runtime::Graph& g = d.graph;
  const auto tensor_count = static_cast<int>(m.tensors()->size());
  if (m.tasks()->size() == 0) return invalid("the model declares no tasks");
  std::set<std::string> names;
  for (size_t i = 0; i < m.tasks()->size(); ++i) {
    const schema::Task& t = *m.tasks()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const std::string where = "task " + str(i) + " " + quoted(t.name());
    if (t.name()->size() == 0) return invalid(where + ": empty name");
    if (t.name()->str().find(',') != std::string::npos)
      return invalid(where + ": task names cannot contain ','");
    if (!names.insert(t.name()->str()).second) return invalid(where + ": duplicate task name");
    if (t.kind() < schema::TaskKind::MIN || t.kind() > schema::TaskKind::MAX)
      return invalid(where + ": unknown task kind " + str(static_cast<int>(t.kind())));
    if (t.rate() < 1) return invalid(where + ": rate must be at least 1, found " + str(t.rate()));
    if (t.outputs()->size() == 0) return invalid(where + ": no outputs");
    if (const schema::PostProcess* p = t.postprocess()) {
      if (p->activation() < schema::OutputActivation::MIN ||
          p->activation() > schema::OutputActivation::MAX)
        return invalid(where + ": unknown output activation " +
                       str(static_cast<int>(p->activation())));
      for (float v : {p->score_threshold(), p->nms_iou()})
        if (!(v >= 0.f && v <= 1.f))
          return invalid(where + ": threshold " + std::to_string(v) + " is not in [0, 1]");
      if (p->max_detections() < 0) return invalid(where + ": negative max_detections");
    }
    runtime::TaskInfo info;
    info.name = t.name()->str();
    info.kind = t.kind();
    info.task = &t;
    TaskInfo pub;
    pub.name = info.name;
    pub.kind = from_schema(t.kind());
    pub.priority = t.priority();
    pub.rate = t.rate();
    if (const schema::PostProcess* p = t.postprocess()) {
      pub.postprocess.activation = from_schema(p->activation());
      if (p->labels())
        for (const auto* label : *p->labels())
          pub.postprocess.labels.push_back(label ? label->str() : "");
      pub.postprocess.score_threshold = p->score_threshold();
      pub.postprocess.nms_iou = p->nms_iou();
      pub.postprocess.max_detections = p->max_detections();
      PH_ASSIGN_OR_RETURN(pub.postprocess.anchors, internal::read_anchors(*p, where));
    }
    std::set<std::string> outs;
    for (const schema::TaskOutput* o : *t.outputs()) {
      const std::string ow = where + " output " + quoted(o->name());
      if (o->name()->size() == 0) return invalid(ow + ": empty output name");
      if (!outs.insert(o->name()->str()).second) return invalid(ow + ": duplicate output name");
      if (o->tensor() < 0 || o->tensor() >= tensor_count)
        return invalid(ow + ": tensor index " + str(o->tensor()) + " is out of range (" +
                       str(tensor_count) + " tensors)");
      const runtime::TensorInfo& ti = g.tensors[static_cast<size_t>(o->tensor())];
      if (ti.producer < 0)
        return invalid(ow + ": tensor '" + ti.name + "' is not produced by any node");
      info.outputs.push_back({o->name()->str(), o->tensor()});
      pub.outputs.push_back({o->name()->str(), ti.name, ti.shape, ti.type});
    }
    g.tasks.push_back(std::move(info));
    d.tasks.push_back(std::move(pub));
  }
  return Status::ok();
}

void copy_descriptions(ModelData& d) {
  const schema::Model& m = *d.root;
  d.version_major = m.format_version_major();
  d.version_minor = m.format_version_minor();
  if (m.producer()) d.producer = m.producer()->str();
  if (m.description()) d.description = m.description()->str();
  if (const auto* entries = m.metadata())
    for (const schema::Metadata* e : *entries)  // key is required (checked by the verifier)
      d.metadata.emplace_back(e->key()->str(), e->value() ? e->value()->str() : std::string());
}

}  // namespace

Status validate_model(ModelData& d) {
  if (d.size < 8)
    return invalid("not a Polyhead model: " + str(d.size) + " bytes is too short for a .phm file");
  if (!schema::ModelBufferHasIdentifier(d.bytes))
    return invalid("not a Polyhead model: file identifier is '" + printable(d.bytes + 4, 4) +
                   "', expected '" + kFileIdentifier + "'");
  if (d.size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return invalid("file of " + str(d.size) + " bytes exceeds the 2 GiB FlatBuffers limit");
  flatbuffers::Verifier verifier(d.bytes, d.size, /*max_depth=*/64, /*max_tables=*/10000000);
  if (!schema::VerifyModelBuffer(verifier))
    return invalid("FlatBuffers verification failed: the file is truncated or corrupted");
  d.root = schema::GetModel(d.bytes);
  if (d.root->format_version_major() != kFormatVersionMajor)
    return invalid("format version " + str(d.root->format_version_major()) + "." +
                   str(d.root->format_version_minor()) + " is not readable by this build (reads " +
                   str(kFormatVersionMajor) + ".x)");
  PH_RETURN_IF_ERROR(check_tensors(d));
  PH_RETURN_IF_ERROR(check_nodes(d));
  PH_RETURN_IF_ERROR(check_inputs(d));
  PH_RETURN_IF_ERROR(order_nodes(d));
  PH_RETURN_IF_ERROR(check_shapes(d));
  PH_RETURN_IF_ERROR(check_tasks(d));
  copy_descriptions(d);
  return Status::ok();
}

}  // namespace polyhead::detail
