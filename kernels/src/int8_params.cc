#include "int8_params.h"

#include <algorithm>
#include <cmath>

namespace polyhead::kernels {
namespace {

Status unsupported(const schema::Node& node, const std::string& what) {
  return Status(ErrorCode::kUnsupported, node_label(node) + ": " + what);
}

}  // namespace

std::string node_label(const schema::Node& node) {
  return op_kind_name(node.op()) + " node '" + node.name()->str() + "'";
}

Result<QParams> activation_params(const schema::Node& node, const OperandDesc& op,
                                  const std::string& role) {
  if (op.type != ElementType::kI8)
    return unsupported(
        node, role + " is " + element_type_name(op.type) + " where the int8 operator needs i8");
  const Quantization& q = op.quantization;
  if (q.empty()) return unsupported(node, role + " is i8 without quantization parameters");
  if (q.per_channel() || q.scale.size() != 1)
    return unsupported(node, role + " has per-channel quantization (axis " +
                                 std::to_string(q.axis) + "); activations need one scale");
  return QParams{q.scale[0], q.zero_point.empty() ? 0 : q.zero_point[0]};
}

Status require_same(const schema::Node& node, const QParams& in, const QParams& out) {
  if (in == out) return Status::ok();
  return unsupported(node, "input quantization (scale " + std::to_string(in.scale) +
                               ", zero point " + std::to_string(in.zero_point) +
                               ") differs from the output's (scale " + std::to_string(out.scale) +
                               ", zero point " + std::to_string(out.zero_point) +
                               "); this operator moves values without requantizing");
}

Result<std::vector<float>> weight_scales(const schema::Node& node, const OperandDesc& w,
                                         size_t output_channels) {
  if (w.type != ElementType::kI8 || !w.constant)
    return unsupported(node, std::string("int8 weights must be constant i8, found ") +
                                 (w.constant ? "" : "non-constant ") + element_type_name(w.type));
  const Quantization& q = w.quantization;
  if (q.empty()) return unsupported(node, "i8 weights without quantization parameters");
  if (q.per_channel() && q.axis != 0)
    return unsupported(node, "per-channel weight quantization along axis " +
                                 std::to_string(q.axis) + " (must be 0, the output channel)");
  for (int32_t z : q.zero_point)
    if (z != 0)
      return unsupported(node, "weight zero point " + std::to_string(z) +
                                   " (int8 weights are symmetric: zero points must be 0)");
  if (!q.per_channel()) return std::vector<float>(output_channels, q.scale[0]);
  if (q.scale.size() != output_channels)
    return unsupported(node, std::to_string(q.scale.size()) + " weight scales for " +
                                 std::to_string(output_channels) + " output channels");
  return q.scale;
}

Status check_bias(const schema::Node& node, const OperandDesc& b, float input_scale,
                  const std::vector<float>& ws) {
  if (b.type != ElementType::kI32 || !b.constant)
    return unsupported(node,
                       std::string("the bias of an int8 operator must be constant i32, found ") +
                           element_type_name(b.type));
  if (static_cast<size_t>(b.shape.elements()) != ws.size())
    return unsupported(node, "bias has " + std::to_string(b.shape.elements()) + " values for " +
                                 std::to_string(ws.size()) + " output channels");
  const Quantization& q = b.quantization;
  // Since format 1.7 a bias may leave its quantization out: its scales are then input scale x
  // weight scale, exactly what is checked below, and its zero points 0 (docs/format.md).
  if (q.empty()) return Status::ok();
  for (int32_t z : q.zero_point)
    if (z != 0) return unsupported(node, "bias zero point " + std::to_string(z) + " (must be 0)");
  for (size_t c = 0; c < ws.size(); ++c) {
    const float expected = input_scale * ws[c];
    const float found = q.per_channel() ? q.scale[c] : q.scale[0];
    if (std::fabs(found - expected) > 1e-4f * expected)
      return unsupported(node, "bias scale " + std::to_string(found) + " of channel " +
                                   std::to_string(c) + " is not input scale x weight scale (" +
                                   std::to_string(expected) + ")");
  }
  return Status::ok();
}

int8_t quantize_s8(float v, const QParams& q) {
  const float r = std::nearbyint(v / q.scale) + static_cast<float>(q.zero_point);
  return static_cast<int8_t>(std::min(127.f, std::max(-128.f, r)));
}

float dequantize_s8(int8_t v, const QParams& q) {
  return q.scale * static_cast<float>(static_cast<int32_t>(v) - q.zero_point);
}

Int8Bounds int8_bounds(const ActivationRange& a, const QParams& out) {
  Int8Bounds b;
  if (std::isfinite(a.min)) b.min = quantize_s8(a.min, out);
  if (std::isfinite(a.max)) b.max = quantize_s8(a.max, out);
  return b;
}

Result<reference::Requantization> requantization(const schema::Node& node, const QParams& in,
                                                 const QParams& out, Int8Bounds bounds) {
  const float m = in.scale / out.scale;
  if (!(m > 0.f) || m > 16384.f)
    return unsupported(node,
                       "input/output scale ratio " + std::to_string(m) + " is outside (0, 16384]");
  return reference::Requantization{m, in.zero_point, out.zero_point, bounds.min, bounds.max};
}

}  // namespace polyhead::kernels
