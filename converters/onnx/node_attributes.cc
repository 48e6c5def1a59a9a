#include "converters/onnx/node_attributes.h"

#include <cstring>

#include "onnx/onnx_pb.h"

namespace polyhead::onnx_import {

std::string NodeAttributes::where() const {
  // Unnamed nodes as GraphConverter::node_name() calls them: "Pad:<first output>".
  const std::string name = node_.name().empty() && node_.output_size()
                               ? node_.op_type() + ":" + node_.output(0)
                               : node_.name();
  return "node '" + name + "' (" + node_.op_type() + ")";
}

const onnx::AttributeProto* NodeAttributes::find(const char* name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

Status NodeAttributes::only(std::initializer_list<const char*> known) const {
  for (const auto& a : node_.attribute()) {
    bool ok = false;
    for (const char* k : known) ok = ok || a.name() == k;
    if (!ok)
      return Status(ErrorCode::kUnsupported,
                    where() + ": attribute '" + a.name() + "' is not supported");
  }
  return Status::ok();
}

Status NodeAttributes::wrong_type(const char* name, const char* expected) const {
  return Status(ErrorCode::kInvalidModel,
                where() + ": attribute '" + name + "' should be " + expected);
}

Status NodeAttributes::unsupported(const char* name, const std::string& value,
                                   const std::string& why) const {
  return Status(ErrorCode::kUnsupported,
                where() + ": " + name + " = " + value + " is not supported (" + why + ")");
}

Result<int64_t> NodeAttributes::get_int(const char* name, int64_t fallback) const {
  const auto* a = find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INT) return wrong_type(name, "an integer");
  return a->i();
}

Result<float> NodeAttributes::get_float(const char* name, float fallback) const {
  const auto* a = find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::FLOAT) return wrong_type(name, "a float");
  return a->f();
}

Result<std::string> NodeAttributes::get_string(const char* name,
                                               const std::string& fallback) const {
  const auto* a = find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::STRING) return wrong_type(name, "a string");
  return a->s();
}

Result<std::vector<int64_t>> NodeAttributes::get_ints(const char* name,
                                                      const std::vector<int64_t>& fallback) const {
  const auto* a = find(name);
  if (!a) return fallback;
  if (a->type() != onnx::AttributeProto::INTS) return wrong_type(name, "a list of integers");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

Result<ConstTensor> NodeAttributes::get_tensor(const char* name) const {
  const auto* a = find(name);
  if (!a) return Status(ErrorCode::kInvalidModel, where() + ": attribute '" + name + "' missing");
  switch (a->type()) {
    case onnx::AttributeProto::TENSOR:
      return decode_tensor(a->t(), where() + " attribute '" + name + "'");
    case onnx::AttributeProto::FLOAT:
      return float_tensor({}, {a->f()});
    case onnx::AttributeProto::INT:
      return int_tensor({}, {a->i()});
    case onnx::AttributeProto::FLOATS:
      return float_tensor({a->floats_size()}, {a->floats().begin(), a->floats().end()});
    case onnx::AttributeProto::INTS:
      return int_tensor({a->ints_size()}, {a->ints().begin(), a->ints().end()});
    default:
      return wrong_type(name, "a tensor, float(s) or int(s)");
  }
}

}  // namespace polyhead::onnx_import
