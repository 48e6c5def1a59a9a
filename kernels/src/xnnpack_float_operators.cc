#include "xnnpack_float_operators.h"

#include <cstdint>
#include <vector>

namespace polyhead::kernels {

namespace {

constexpr const char* kF16 = "f16 ";

using Half = uint16_t;  // IEEE binary16 bits, as XNNPACK's f16 operators read them

// Converts constants once, at create time (allocation is fine here).
xnn_status to_half(const float* in, size_t count, Half* out) {
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_convert_nc_f32_f16(1, 1, 1, 0, &op);
  if (s == xnn_status_success) s = xnn_setup_convert_nc_f32_f16(op, count, in, out, nullptr);
  if (s == xnn_status_success) s = xnn_run_operator(op, nullptr);
  if (op) xnn_delete_operator(op);
  return s;
}

}  // namespace

// Half-precision copies of a node's float32 tensors, for an f16 operator between float32 tensors:
// activation inputs are converted before the operator runs and its output back after, through
// buffers sized at create (run() does not allocate); constant inputs are converted once, at create.
class HalfStaging {
 public:
  explicit HalfStaging(const schema::Node& node) : node_(node) {}
  HalfStaging(const HalfStaging&) = delete;
  HalfStaging& operator=(const HalfStaging&) = delete;
  ~HalfStaging() {
    for (Input& s : staged_)
      if (s.convert) xnn_delete_operator(s.convert);
    if (output_convert_) xnn_delete_operator(output_convert_);
  }

  Status create(const NodeDesc& d) {
    staged_.resize(d.inputs.size());
    inputs_.assign(d.inputs.size(), nullptr);
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      const OperandDesc& op = d.inputs[i];
      if (!op.present) continue;
      Input& s = staged_[i];
      s.rows = elements(op.shape) / last_dim(op.shape);
      s.half.resize(elements(op.shape));
      if (op.constant) {
        PH_RETURN_IF_ERROR(
            check(to_half(static_cast<const float*>(op.constant), s.half.size(), s.half.data()),
                  "constant conversion"));
        constant_bytes_ += s.half.size() * sizeof(Half);
      } else {
        const size_t c = last_dim(op.shape);
        PH_RETURN_IF_ERROR(check(xnn_create_convert_nc_f32_f16(c, c, c, 0, &s.convert), "create"));
      }
      if (!s.half.empty()) inputs_[i] = s.half.data();
    }
    const Shape& out = d.outputs[0].shape;
    output_.resize(elements(out));
    output_rows_ = elements(out) / last_dim(out);
    const size_t c = last_dim(out);
    return check(xnn_create_convert_nc_f16_f32(c, c, c, 0, &output_convert_), "create");
  }

  Status setup_inputs(const void* const* in, pthreadpool_t pool) {
    for (size_t i = 0; i < staged_.size(); ++i)
      if (staged_[i].convert)
        PH_RETURN_IF_ERROR(check(xnn_setup_convert_nc_f32_f16(staged_[i].convert, staged_[i].rows,
                                                              static_cast<const float*>(in[i]),
                                                              staged_[i].half.data(), pool),
                                 "setup"));
    return Status::ok();
  }
  Status setup_output(void* out, pthreadpool_t pool) {
    return check(xnn_setup_convert_nc_f16_f32(output_convert_, output_rows_, output_.data(),
                                              static_cast<float*>(out), pool),
                 "setup");
  }
  Status run_inputs(pthreadpool_t pool) {
    for (const Input& s : staged_)
      if (s.convert) PH_RETURN_IF_ERROR(check(xnn_run_operator(s.convert, pool), "run"));
    return Status::ok();
  }
  Status run_output(pthreadpool_t pool) {
    return check(xnn_run_operator(output_convert_, pool), "run");
  }

  // One half-precision buffer per node input, null for absent ones.
  const void* const* inputs() const { return inputs_.data(); }
  void* output() { return output_.data(); }
  size_t constant_bytes() const { return constant_bytes_; }

 private:
  struct Input {
    std::vector<Half> half;
    size_t rows = 0;
    xnn_operator_t convert = nullptr;  // null for constants (converted at create)
  };
  Status check(xnn_status s, const char* stage) const { return xnn_check(s, node_, stage, kF16); }

  const schema::Node& node_;
  std::vector<Input> staged_;
  std::vector<const void*> inputs_;
  std::vector<Half> output_;
  size_t output_rows_ = 0;
  xnn_operator_t output_convert_ = nullptr;
  size_t constant_bytes_ = 0;
};

XnnFloatKernel::XnnFloatKernel(const NodeDesc& d, bool half)
    : XnnKernel(d, half ? kF16 : ""),
      half_(half ? std::make_unique<HalfStaging>(*d.node) : nullptr) {}

XnnFloatKernel::~XnnFloatKernel() = default;

Status XnnFloatKernel::create(const NodeDesc& d) {
  if (half_) {
    PH_RETURN_IF_ERROR(half_->create(d));
    packed_bytes_ = half_->constant_bytes();
  }
  return created(create_op(d));
}

Status XnnFloatKernel::setup(const void* const* in, void* const* out, pthreadpool_t pool) {
  if (!half_) return set_up(setup_op(in, out[0], pool));
  PH_RETURN_IF_ERROR(half_->setup_inputs(in, pool));
  PH_RETURN_IF_ERROR(set_up(setup_op(half_->inputs(), half_->output(), pool)));
  return half_->setup_output(out[0], pool);
}

Status XnnFloatKernel::run(pthreadpool_t pool) {
  if (!half_) return XnnKernel::run(pool);
  PH_RETURN_IF_ERROR(half_->run_inputs(pool));
  PH_RETURN_IF_ERROR(XnnKernel::run(pool));
  return half_->run_output(pool);
}

const void* XnnFloatKernel::constant(const NodeDesc& d, size_t i) const {
  if (i >= d.inputs.size() || !d.inputs[i].present) return nullptr;
  return half_ ? half_->inputs()[i] : d.inputs[i].constant;
}

void XnnFloatKernel::packs_constants_from(const NodeDesc& d, size_t first) {
  if (half_) return;
  for (size_t i = first; i < d.inputs.size(); ++i)
    if (d.inputs[i].present && d.inputs[i].constant)
      packed_bytes_ += elements(d.inputs[i].shape) * sizeof(float);
}

}  // namespace polyhead::kernels
