// int8 ADD, SUB and MUL with a one-value operand, on the variant's Int8Elementwise
// (kernel_variant.h; integer definitions in docs/int8.md "Elementwise arithmetic"): the arithmetic
// becomes a 256-entry table. Same shapes and channel rows go to XNNPACK, other broadcasts to the
// portable kernel; the parameter functions below define the arithmetic for every variant.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "int8_dispatch.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

constexpr size_t kBlock = 16384;  // output bytes per thread-pool task

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// True when one operand has the output's shape and the other a single value; *swap when the
// single value comes first.
bool is_scalar_operation(const Shape& a, const Shape& b, const Shape& out, bool* swap) {
  *swap = b == out && a.elements() == 1 && a != out;
  return *swap || (a == out && b.elements() == 1 && b != out);
}

// out = f(x, scalar) for every x: a 256-entry table of the variant's arithmetic (computed per run:
// the scalar may be an activation), then the table lookup.
class ScalarTable final : public Kernel {
 public:
  ScalarTable(const KernelVariant& v, OpKind op, bool swap)
      : v_(v), f_(*v.int8_elementwise), op_(op), swap_(swap) {}

  Status create(const NodeDesc& d, const QParams& a, const QParams& b, const QParams& out) {
    const QParams& full = swap_ ? b : a;
    const QParams& scalar = swap_ ? a : b;
    const Int8Bounds bounds = int8_bounds(fused_activation(*d.node), out);
    if (op_ == OpKind::MUL) {
      PH_ASSIGN_OR_RETURN(mul_, int8_mul_params(*d.node, full, scalar, out, bounds));
    } else {
      // SUB with the scalar first is -full + scalar.
      const bool negate_full = op_ == OpKind::SUB && swap_;
      const bool negate_scalar = op_ == OpKind::SUB && !swap_;
      PH_ASSIGN_OR_RETURN(
          add_, int8_add_params(*d.node, full, negate_full, scalar, negate_scalar, out, bounds));
    }
    count_ = static_cast<size_t>(d.outputs[0].shape.elements());
    return Status::ok();
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    full_ = static_cast<const int8_t*>(in[swap_ ? 1 : 0]);
    scalar_ = static_cast<const int8_t*>(in[swap_ ? 0 : 1]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t pool) override {
    if (count_ == 0) return Status::ok();
    int8_t all[256], scalar[256];
    for (int q = 0; q < 256; ++q) {
      all[q] = static_cast<int8_t>(static_cast<uint8_t>(q));  // entry q: the byte q (lookup_s8)
      scalar[q] = scalar_[0];
    }
    if (op_ == OpKind::MUL)
      f_.mul(1, 256, all, scalar, 256, mul_, table_);
    else
      f_.add(1, 256, all, scalar, 256, add_, table_);
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t n) {
          auto* k = static_cast<ScalarTable*>(ctx);
          k->v_.lookup_s8(k->full_ + start, n, k->table_, k->out_ + start);
        },
        this, count_, kBlock, 0);
    return Status::ok();
  }

 private:
  const KernelVariant& v_;
  const Int8Elementwise& f_;
  OpKind op_;
  bool swap_;
  Int8AddParams add_;
  Int8MulParams mul_;
  size_t count_ = 0;
  int8_t table_[256] = {};
  const int8_t* full_ = nullptr;
  const int8_t* scalar_ = nullptr;
  int8_t* out_ = nullptr;
};

}  // namespace

Result<Int8AddParams> int8_add_params(const schema::Node& node, const QParams& a, bool negate_a,
                                      const QParams& b, bool negate_b, const QParams& out,
                                      Int8Bounds bounds) {
  const double ma = static_cast<double>(a.scale) / out.scale * (negate_a ? -1 : 1);
  const double mb = static_cast<double>(b.scale) / out.scale * (negate_b ? -1 : 1);
  const double m = std::max(std::fabs(ma), std::fabs(mb));
  // m = f * 2^e with f in [0.5, 1): the larger multiplier becomes f * 2^21 at shift 21 - e.
  int e = 0;
  if (std::isfinite(m) && m > 0) std::frexp(m, &e);
  if (!std::isfinite(m) || !(m > 0) || e > 20 || e < -10)
    return Status(ErrorCode::kUnsupported,
                  node_label(node) + ": input to output scale ratio " + number(m) +
                      " is outside [2^-11, 2^20), the range of the fixed-point int8 " +
                      (negate_a || negate_b ? "SUB" : "ADD"));
  Int8AddParams p;
  p.shift = 21 - e;
  p.a_multiplier = static_cast<int32_t>(std::nearbyint(std::ldexp(ma, p.shift)));
  p.b_multiplier = static_cast<int32_t>(std::nearbyint(std::ldexp(mb, p.shift)));
  p.a_zero = a.zero_point;
  p.b_zero = b.zero_point;
  p.out_zero = out.zero_point;
  p.min = bounds.min;
  p.max = bounds.max;
  return p;
}

Result<Int8MulParams> int8_mul_params(const schema::Node& node, const QParams& a, const QParams& b,
                                      const QParams& out, Int8Bounds bounds) {
  const auto scale =
      static_cast<float>(static_cast<double>(a.scale) * b.scale / static_cast<double>(out.scale));
  if (!std::isfinite(scale) || !(scale > 0.f))
    return Status(ErrorCode::kUnsupported,
                  node_label(node) + ": product to output scale ratio " +
                      number(static_cast<double>(a.scale) * b.scale / out.scale) +
                      " has no positive finite float32 value");
  Int8MulParams p;
  p.a_zero = a.zero_point;
  p.b_zero = b.zero_point;
  p.out_zero = out.zero_point;
  p.scale = scale;
  p.min = bounds.min;
  p.max = bounds.max;
  return p;
}

KernelResult create_own_int8_elementwise_kernel(const NodeDesc& d, const QParams& in,
                                                const QParams& out) {
  const OpKind op = d.node->op();
  if (op != OpKind::ADD && op != OpKind::SUB && op != OpKind::MUL) return not_handled();
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  if (!v.int8_elementwise || d.inputs.size() != 2) return not_handled();
  bool swap = false;
  // Only a one-value operand (a table) beats the alternatives today: the variant's plain loops
  // over same shapes and broadcast rows measured about 2x slower than XNNPACK's qs8 kernels
  // (bench_int8_elementwise), so XNNPACK keeps those.
  if (!is_scalar_operation(d.inputs[0].shape, d.inputs[1].shape, d.outputs[0].shape, &swap))
    return not_handled();
  PH_ASSIGN_OR_RETURN(const QParams b, activation_params(*d.node, d.inputs[1], "input 1"));
  auto k = std::make_unique<ScalarTable>(v, op, swap);
  // A scale ratio outside the fixed-point range leaves the node to the next factory.
  return unsupported_as_not_handled([&]() -> KernelResult {
    PH_RETURN_IF_ERROR(k->create(d, in, b, out));
    return std::unique_ptr<Kernel>(std::move(k));
  }());
}

}  // namespace polyhead::kernels
