#include "converters/tflite/tflite_model.h"

#include <algorithm>

namespace polyhead::tflite {
namespace {

// Field ids of the TFLite schema tables read here.
namespace model_f {
constexpr int kVersion = 0, kOperatorCodes = 1, kSubgraphs = 2, kBuffers = 4;
}
namespace opcode_f {
constexpr int kDeprecatedBuiltinCode = 0, kCustomCode = 1, kBuiltinCode = 3;
}
namespace subgraph_f {
constexpr int kTensors = 0, kInputs = 1, kOutputs = 2, kOperators = 3;
}
namespace tensor_f {
constexpr int kShape = 0, kType = 1, kBuffer = 2, kName = 3, kQuantization = 4, kSparsity = 6;
}
namespace quant_f {
// min = 0, max = 1, details (a union) = 4 and 5.
constexpr int kScale = 2, kZeroPoint = 3, kDetailsType = 4, kQuantizedDimension = 6;
}  // namespace quant_f
namespace operator_f {
constexpr int kOpcodeIndex = 0, kInputs = 1, kOutputs = 2, kOptionsType = 3, kOptions = 4,
              kCustomOptions = 5;
}
namespace buffer_f {
constexpr int kData = 0, kOffset = 1, kSize = 2;
}

constexpr size_t kMaxEntries = size_t{1} << 20;

Status invalid(const std::string& message) {
  return Status(ErrorCode::kInvalidModel, "not a valid TFLite model: " + message);
}

bool read_ints(const Table& t, int field, std::vector<int32_t>* out) {
  const uint8_t* data = nullptr;
  size_t count = 0;
  out->clear();
  if (!t.vector(field, 4, &data, &count)) return false;
  out->resize(count);
  if (count) std::memcpy(out->data(), data, count * 4);
  return true;
}

}  // namespace

const char* tensor_type_name(int type) {
  static const char* const kNames[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8",     "INT64",
                                       "STRING",  "BOOL",    "INT16", "COMPLEX64", "INT8"};
  if (type >= 0 && type < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return kNames[type];
  return "unknown type";
}

TfBuffer TfModel::constant(int t) const {
  if (t < 0 || static_cast<size_t>(t) >= tensors.size()) return {};
  auto dense = densified.find(t);
  if (dense != densified.end()) return {dense->second.data(), dense->second.size()};
  // A sparse tensor's buffer is not its values: nothing until it is densified.
  if (tensors[static_cast<size_t>(t)].sparse) return {};
  return stored(t);
}

TfBuffer TfModel::stored(int t) const {
  if (t < 0 || static_cast<size_t>(t) >= tensors.size()) return {};
  const uint32_t b = tensors[static_cast<size_t>(t)].buffer;
  if (b == 0 || b >= buffers.size()) return {};
  return buffers[b];
}

Result<TfModel> read_tflite(const uint8_t* data, size_t size) {
  if (size < 8) return invalid("the file is " + std::to_string(size) + " bytes long");
  if (std::memcmp(data + 4, "TFL3", 4) != 0) {
    std::string found;
    for (int i = 4; i < 8; ++i) {
      const char c = static_cast<char>(data[i]);
      found += (c >= 32 && c < 127) ? std::string(1, c) : "\\x" + std::to_string(data[i]);
    }
    return invalid("file identifier is '" + found + "', expected 'TFL3'");
  }
  TfModel m;
  m.view = std::make_unique<FlatBufferView>(data, size);
  const Table root = m.view->root();
  if (!root.valid()) return invalid("the root table is out of bounds");
  m.version = root.u32(model_f::kVersion);

  const size_t n_codes = root.vector_size(model_f::kOperatorCodes);
  for (size_t i = 0; i < n_codes; ++i) {
    const Table c = root.table_at(model_f::kOperatorCodes, i);
    if (!c.valid()) return invalid("operator code " + std::to_string(i) + " is out of bounds");
    TfOperatorCode code;
    const int32_t deprecated = c.byte_enum(opcode_f::kDeprecatedBuiltinCode);
    const int32_t builtin = c.i32(opcode_f::kBuiltinCode);
    code.builtin = std::max(deprecated, builtin);
    code.custom = c.string(opcode_f::kCustomCode);
    c.field_position(opcode_f::kBuiltinCode, &code.builtin_code_position);
    c.field_position(opcode_f::kDeprecatedBuiltinCode, &code.deprecated_code_position);
    m.operator_codes.push_back(std::move(code));
  }

  const size_t n_buffers = root.vector_size(model_f::kBuffers);
  if (n_buffers > kMaxEntries) return invalid("too many buffers");
  for (size_t i = 0; i < n_buffers; ++i) {
    const Table b = root.table_at(model_f::kBuffers, i);
    if (!b.valid()) return invalid("buffer " + std::to_string(i) + " is out of bounds");
    TfBuffer buf;
    if (!b.vector(buffer_f::kData, 1, &buf.data, &buf.size)) {
      // Large models keep the data outside the FlatBuffer: offset/size from the file start.
      const uint64_t offset = b.u64(buffer_f::kOffset), bytes = b.u64(buffer_f::kSize);
      if (offset > 1) {
        if (offset > size || bytes > size - offset)
          return invalid("buffer " + std::to_string(i) + " lies outside the file");
        buf.data = data + offset;
        buf.size = static_cast<size_t>(bytes);
      }
    }
    m.buffers.push_back(buf);
  }

  m.subgraphs = root.vector_size(model_f::kSubgraphs);
  if (m.subgraphs == 0) return invalid("the model has no subgraph");
  const Table g = root.table_at(model_f::kSubgraphs, 0);
  if (!g.valid()) return invalid("subgraph 0 is out of bounds");

  const size_t n_tensors = g.vector_size(subgraph_f::kTensors);
  if (n_tensors > kMaxEntries) return invalid("too many tensors");
  for (size_t i = 0; i < n_tensors; ++i) {
    const Table t = g.table_at(subgraph_f::kTensors, i);
    const std::string where = "tensor " + std::to_string(i);
    if (!t.valid()) return invalid(where + " is out of bounds");
    TfTensor tensor;
    tensor.name = t.string(tensor_f::kName);
    read_ints(t, tensor_f::kShape, &tensor.shape);
    tensor.type = t.byte_enum(tensor_f::kType);
    t.field_position(tensor_f::kType, &tensor.type_position);
    tensor.buffer = t.u32(tensor_f::kBuffer);
    if (tensor.buffer >= m.buffers.size() && tensor.buffer != 0)
      return invalid(where + " ('" + tensor.name + "') refers to buffer " +
                     std::to_string(tensor.buffer) + " of " + std::to_string(m.buffers.size()));
    const Table q = t.table(tensor_f::kQuantization);
    if (size_t at = 0; !q.valid() && t.field_position(tensor_f::kQuantization, &at))
      return invalid(where + " ('" + tensor.name + "'): its quantization table is out of bounds");
    if (q.valid()) {
      TfQuantization& tq = tensor.quantization;
      const uint8_t* bytes = nullptr;
      size_t count = 0;
      // A vector that is present but out of bounds is an error, not "no quantization".
      if (q.vector(quant_f::kScale, 4, &bytes, &count)) {
        if (count > kMaxEntries)
          return invalid(where + " ('" + tensor.name + "') has too many scales");
        tq.scale.resize(count);
        if (count) std::memcpy(tq.scale.data(), bytes, count * 4);
      } else if (size_t at = 0; q.field_position(quant_f::kScale, &at)) {
        return invalid(where + " ('" + tensor.name +
                       "'): its quantization scales are out of bounds");
      }
      if (q.vector(quant_f::kZeroPoint, 8, &bytes, &count)) {
        if (count > kMaxEntries)
          return invalid(where + " ('" + tensor.name + "') has too many zero points");
        tq.zero_point.resize(count);
        if (count) std::memcpy(tq.zero_point.data(), bytes, count * 8);
      } else if (size_t at = 0; q.field_position(quant_f::kZeroPoint, &at)) {
        return invalid(where + " ('" + tensor.name +
                       "'): its quantization zero points are out of bounds");
      }
      tq.quantized_dimension = q.i32(quant_f::kQuantizedDimension);
      tq.details_type = q.u8(quant_f::kDetailsType);
    }
    tensor.quantized = !tensor.quantization.scale.empty();
    const Table sparsity = t.table(tensor_f::kSparsity);
    if (size_t at = 0; !sparsity.valid() && t.field_position(tensor_f::kSparsity, &at))
      return invalid(where + " ('" + tensor.name + "'): its sparsity table is out of bounds");
    if (sparsity.valid()) {
      auto read = read_sparsity(sparsity, "sparse tensor '" + tensor.name + "'");
      if (!read.is_ok()) return invalid(read.status().message());
      tensor.sparse = true;
      tensor.sparsity = std::move(*read);
    }
    m.tensors.push_back(std::move(tensor));
  }

  auto check_indices = [&](const std::vector<int32_t>& ids, const std::string& where,
                           bool allow_absent) -> Status {
    for (int32_t id : ids) {
      if (id == -1 && allow_absent) continue;
      if (id < 0 || static_cast<size_t>(id) >= m.tensors.size())
        return invalid(where + " refers to tensor " + std::to_string(id) + " of " +
                       std::to_string(m.tensors.size()));
    }
    return Status::ok();
  };

  read_ints(g, subgraph_f::kInputs, &m.inputs);
  read_ints(g, subgraph_f::kOutputs, &m.outputs);
  PH_RETURN_IF_ERROR(check_indices(m.inputs, "the subgraph's inputs", false));
  PH_RETURN_IF_ERROR(check_indices(m.outputs, "the subgraph's outputs", false));

  const size_t n_ops = g.vector_size(subgraph_f::kOperators);
  if (n_ops > kMaxEntries) return invalid("too many operators");
  for (size_t i = 0; i < n_ops; ++i) {
    const Table o = g.table_at(subgraph_f::kOperators, i);
    const std::string where = "operator " + std::to_string(i);
    if (!o.valid()) return invalid(where + " is out of bounds");
    TfOperator op;
    op.opcode_index = o.u32(operator_f::kOpcodeIndex);
    if (op.opcode_index >= m.operator_codes.size())
      return invalid(where + " uses operator code " + std::to_string(op.opcode_index) + " of " +
                     std::to_string(m.operator_codes.size()));
    read_ints(o, operator_f::kInputs, &op.inputs);
    read_ints(o, operator_f::kOutputs, &op.outputs);
    PH_RETURN_IF_ERROR(check_indices(op.inputs, where + "'s inputs", true));
    PH_RETURN_IF_ERROR(check_indices(op.outputs, where + "'s outputs", false));
    op.options_type = o.u8(operator_f::kOptionsType);
    op.options = o.table(operator_f::kOptions);
    o.vector(operator_f::kCustomOptions, 1, &op.custom_options, &op.custom_options_size);
    m.operators.push_back(std::move(op));
  }
  return m;
}

}  // namespace polyhead::tflite
