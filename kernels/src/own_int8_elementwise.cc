// int8 ADD, SUB and MUL on the variant's Int8Elementwise (kernel_variant.h; integer definitions in
// docs/int8.md "Elementwise arithmetic"): same shapes, a row of channels broadcast over the pixels
// ([1,H,W,C] with [1,1,1,C], the squeeze-excite MUL), and a scalar operand, which becomes a
// 256-entry table of the same arithmetic. Other broadcasts go to XNNPACK / the portable kernel.
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

// How the operands line up with the output.
enum class Layout {
  kSame,       // both have the output's shape
  kRow,        // one has the output's shape, the other is its last dimension ([1,..,1,C])
  kScalar,     // one has the output's shape, the other one value
  kUnhandled,  // any other broadcast
};

bool is_row_of(const Shape& s, const Shape& out) {
  if (s.rank() == 0 || out.rank() == 0 || s[s.rank() - 1] != out[out.rank() - 1]) return false;
  for (size_t k = 0; k + 1 < s.rank(); ++k)
    if (s[k] != 1) return false;
  return s.rank() <= out.rank();
}

// The layout, and whether the operands swap so the full-shaped one comes first.
Layout layout_of(const Shape& a, const Shape& b, const Shape& out, bool* swap) {
  *swap = false;
  if (a == out && b == out) return Layout::kSame;
  for (int i = 0; i < 2; ++i) {
    const Shape& full = i == 0 ? a : b;
    const Shape& other = i == 0 ? b : a;
    if (full != out) continue;
    *swap = i == 1;
    if (other.elements() == 1) return Layout::kScalar;
    if (is_row_of(other, out)) return Layout::kRow;
  }
  return Layout::kUnhandled;
}

class Elementwise final : public Kernel {
 public:
  Elementwise(const KernelVariant& v, OpKind op) : v_(v), f_(*v.int8_elementwise), op_(op) {}

  Status create(const NodeDesc& d, const QParams& a, const QParams& b, const QParams& out) {
    const Shape& o = d.outputs[0].shape;
    layout_ = layout_of(d.inputs[0].shape, d.inputs[1].shape, o, &swap_);
    const QParams& first = swap_ ? b : a;
    const QParams& second = swap_ ? a : b;
    const Int8Bounds bounds = int8_bounds(fused_activation(*d.node), out);
    if (op_ == OpKind::MUL) {
      PH_ASSIGN_OR_RETURN(mul_, int8_mul_params(*d.node, first, second, out, bounds));
    } else {
      // SUB with swapped operands is -first + second.
      const bool negate_first = op_ == OpKind::SUB && swap_;
      const bool negate_second = op_ == OpKind::SUB && !swap_;
      PH_ASSIGN_OR_RETURN(
          add_, int8_add_params(*d.node, first, negate_first, second, negate_second, out, bounds));
    }
    count_ = static_cast<size_t>(o.elements());
    inner_ = layout_ == Layout::kRow ? static_cast<size_t>(o[o.rank() - 1]) : count_;
    return Status::ok();
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    a_ = static_cast<const int8_t*>(in[swap_ ? 1 : 0]);
    b_ = static_cast<const int8_t*>(in[swap_ ? 0 : 1]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t pool) override {
    if (count_ == 0) return Status::ok();
    if (layout_ == Layout::kScalar) {
      // Every int8 value of the full operand against the scalar, through the same arithmetic;
      // then a lookup per value.
      int8_t all[256], scalar[256];
      for (int q = 0; q < 256; ++q) {
        all[q] = static_cast<int8_t>(static_cast<uint8_t>(q));  // entry q: the byte q (lookup_s8)
        scalar[q] = b_[0];
      }
      apply(1, 256, all, scalar, 256, table_);
      parallelize_1d_tile_1d(
          pool,
          [](void* ctx, size_t start, size_t n) {
            auto* k = static_cast<Elementwise*>(ctx);
            k->v_.lookup_s8(k->a_ + start, n, k->table_, k->out_ + start);
          },
          this, count_, kBlock, 0);
      return Status::ok();
    }
    if (layout_ == Layout::kSame) {
      parallelize_1d_tile_1d(
          pool,
          [](void* ctx, size_t start, size_t n) {
            auto* k = static_cast<Elementwise*>(ctx);
            k->apply(1, n, k->a_ + start, k->b_ + start, n, k->out_ + start);
          },
          this, count_, kBlock, 0);
      return Status::ok();
    }
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t rows) {
          auto* k = static_cast<Elementwise*>(ctx);
          k->apply(rows, k->inner_, k->a_ + start * k->inner_, k->b_, 0,
                   k->out_ + start * k->inner_);
        },
        this, count_ / inner_, std::max<size_t>(1, kBlock / inner_), 0);
    return Status::ok();
  }

 private:
  void apply(size_t rows, size_t inner, const int8_t* a, const int8_t* b, size_t b_stride,
             int8_t* out) const {
    if (op_ == OpKind::MUL)
      f_.mul(rows, inner, a, b, b_stride, mul_, out);
    else
      f_.add(rows, inner, a, b, b_stride, add_, out);
  }

  const KernelVariant& v_;
  const Int8Elementwise& f_;
  OpKind op_;
  Layout layout_ = Layout::kSame;
  bool swap_ = false;
  Int8AddParams add_;
  Int8MulParams mul_;
  size_t count_ = 0, inner_ = 1;
  int8_t table_[256] = {};
  const int8_t* a_ = nullptr;
  const int8_t* b_ = nullptr;
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
  // Only the scalar operand (a table) beats the alternatives today: the plain loops of same
  // shapes and broadcast rows measured about 2x slower than XNNPACK's qs8 add and the portable
  // broadcasting kernel (bench_int8_elementwise), so those stay there.
  if (layout_of(d.inputs[0].shape, d.inputs[1].shape, d.outputs[0].shape, &swap) != Layout::kScalar)
    return not_handled();
  PH_ASSIGN_OR_RETURN(const QParams b, activation_params(*d.node, d.inputs[1], "input 1"));
  auto k = std::make_unique<Elementwise>(v, op);
  // A scale ratio outside the fixed-point range leaves the node to the next factory.
  return unsupported_as_not_handled([&]() -> KernelResult {
    PH_RETURN_IF_ERROR(k->create(d, in, b, out));
    return std::unique_ptr<Kernel>(std::move(k));
  }());
}

}  // namespace polyhead::kernels
