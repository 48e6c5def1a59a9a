// Polyhead's own int8 depthwise convolution (docs/int8.md): CONV_2D / DEPTHWISE_CONV_2D with one
// input and one output channel per group, per-channel int8 weights, stride 1 or 2, no dilation,
// run on the selected variant's Qc8Depthwise (kernel_variant.h). XNNPACK's 2022 qc8 depthwise
// kernel ran no faster than float; this one keeps each tap's weights in a register for four output
// pixels and multiplies 16 channels per instruction on AVX-512 VNNI.
//
// Where the variant has a row form for the window (Qc8Depthwise::run_row: on avx512vnni, four
// kernel rows per VPDPBUSD lane), each output row is one call of it, borders included. Otherwise
// each task computes whole output rows with the per-tap form. The columns whose window lies inside
// the input are one call of the variant: tap t of pixel p reads pointer[t] + p * stride * channels.
// A kernel row above or below the image points into a buffer of the input zero point (which adds 0)
// long enough for a whole row; the few border columns are a call each, with their own pointers.
#include <algorithm>
#include <array>
#include <vector>

#include "conv_geometry.h"
#include "int8_dispatch.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/reference.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

constexpr int64_t kMaxKernelSide = 8;  // taps live in an array on the stack
constexpr size_t kMaxTaps = kMaxKernelSide * kMaxKernelSide;
constexpr int64_t kTaskMacs = 1 << 16;  // multiply-adds per thread-pool task, about

class Int8Depthwise final : public Kernel {
 public:
  explicit Int8Depthwise(const Qc8Depthwise& dw) : dw_(dw) {}

  Status create(const NodeDesc& d, const QParams& in, const QParams& out) {
    g_ = ConvGeometry::of(d);
    c_ = static_cast<size_t>(g_.c);
    taps_ = static_cast<size_t>(g_.kh * g_.kw);
    PH_ASSIGN_OR_RETURN(std::vector<float> scales, weight_scales(*d.node, d.inputs[1], c_));
    const int32_t* bias = nullptr;
    if (d.inputs.size() > 2 && d.inputs[2].present) {
      PH_RETURN_IF_ERROR(check_bias(*d.node, d.inputs[2], in.scale, scales));
      bias = static_cast<const int32_t*>(d.inputs[2].constant);
    }
    for (float& s : scales) s = in.scale * s / out.scale;
    bounds_ = int8_bounds(fused_activation(*d.node), out);
    zero_ = out.zero_point;
    in_zero_ = in.zero_point;
    const auto* w = static_cast<const int8_t*>(d.inputs[1].constant);
    const auto kh = static_cast<size_t>(g_.kh), kw = static_cast<size_t>(g_.kw);
    rows_ = dw_.run_row && dw_.row_supported(c_, kh, kw, static_cast<size_t>(g_.sw));
    // 64 spare bytes: the packing is read as whole 64-byte registers from an aligned start.
    if (rows_) {
      packed_.resize(dw_.rows_packed_bytes(c_, kh, kw) + 64);
      dw_.rows_pack(w, c_, kh, kw, bias, in.zero_point, scales.data(), packed());
      sums_in_range_ = reference::qc8_sums_in_range(c_, taps_, w, bias, scales.data());
      // The zero-point row: read as whole 64-byte registers even for fewer channels.
      padding_.assign(std::max<size_t>(c_, 64), static_cast<int8_t>(in.zero_point));
    } else {
      packed_.resize(dw_.packed_bytes(c_, taps_) + 64);
      dw_.pack(w, c_, taps_, bias, in.zero_point, scales.data(), packed());
      padding_.assign(static_cast<size_t>((g_.ow * g_.sw + g_.kw) * g_.c),
                      static_cast<int8_t>(in.zero_point));
    }
    // Output columns [first_, last_) read no padding: ox * sw - pl >= 0 and
    // ox * sw - pl + kw <= w.
    first_ = std::min<int64_t>((g_.pl + g_.sw - 1) / g_.sw, g_.ow);
    last_ = g_.w + g_.pl - g_.kw >= 0 ? std::min<int64_t>((g_.w + g_.pl - g_.kw) / g_.sw + 1, g_.ow)
                                      : 0;
    last_ = std::max(last_, first_);
    rows_per_task_ =
        static_cast<size_t>(std::max<int64_t>(1, kTaskMacs / (g_.ow * g_.c * g_.kh * g_.kw)));
    return Status::ok();
  }
  size_t packed_weight_bytes() const override { return packed_.size(); }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    in_ = static_cast<const int8_t*>(in[0]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t pool) override {
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t rows) {
          auto* k = static_cast<Int8Depthwise*>(ctx);
          for (size_t r = start; r < start + rows; ++r) k->run_row(static_cast<int64_t>(r));
        },
        this, static_cast<size_t>(g_.n * g_.oh), rows_per_task_, 0);
    return Status::ok();
  }

 private:
  const void* packed() const {
    const auto at = reinterpret_cast<uintptr_t>(packed_.data());
    return packed_.data() + ((64 - at % 64) % 64);
  }
  void* packed() { return const_cast<void*>(static_cast<const Int8Depthwise*>(this)->packed()); }

  // Output row r (batch r / oh, row r % oh), on the variant's row form: the window's rows, those
  // outside the image (and up to a whole group of four past kh) reading the zero-point row.
  void run_whole_row(int64_t r) const {
    const ConvGeometry& g = g_;
    const int64_t n = r / g.oh, oy = r % g.oh;
    std::array<const int8_t*, kMaxKernelSide> rows{};
    std::array<size_t, kMaxKernelSide> steps{};
    for (int64_t k = 0; k < kMaxKernelSide; ++k) {
      const int64_t iy = oy * g.sh - g.pt + k;
      const bool inside = k < g.kh && iy >= 0 && iy < g.h;
      rows[k] = inside ? in_ + (n * g.h + iy) * g.w * g.c : padding_.data();
      steps[k] = inside ? c_ : 0;
    }
    Qc8DepthwiseRow row;
    row.rows = rows.data();
    row.row_steps = steps.data();
    row.width = static_cast<size_t>(g.w);
    row.channels = c_;
    row.kh = static_cast<size_t>(g.kh), row.kw = static_cast<size_t>(g.kw);
    row.stride_w = static_cast<size_t>(g.sw), row.pad_left = static_cast<size_t>(g.pl);
    row.out_width = static_cast<size_t>(g.ow);
    row.packed = packed();
    row.a_zero_point = in_zero_;
    row.c_zero_point = zero_, row.c_min = bounds_.min, row.c_max = bounds_.max;
    row.out = out_ + r * g.ow * g.c;
    row.sums_in_range = sums_in_range_;
    dw_.run_row(row);
  }

  // Output row r (batch r / oh, row r % oh).
  void run_row(int64_t r) const {
    if (rows_) {
      run_whole_row(r);
      return;
    }
    const ConvGeometry& g = g_;
    const int64_t n = r / g.oh, oy = r % g.oh;
    std::array<const int8_t*, kMaxKernelSide> rows{};  // null: the kernel row is padding
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.pt + ky;
      rows[ky] = iy >= 0 && iy < g.h ? in_ + (n * g.h + iy) * g.w * g.c : nullptr;
    }
    int8_t* out = out_ + r * g.ow * g.c;
    std::array<const int8_t*, kMaxTaps> taps{};
    if (last_ > first_) {
      const int64_t x0 = first_ * g.sw - g.pl;
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx)
          taps[ky * g.kw + kx] = rows[ky] ? rows[ky] + (x0 + kx) * g.c : padding_.data() + kx * g.c;
      dw_.run(static_cast<size_t>(last_ - first_), c_, taps_, taps.data(),
              static_cast<size_t>(g.sw * g.c), packed(), zero_, bounds_.min, bounds_.max,
              out + first_ * g.c);
    }
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      if (ox == first_) ox = last_;  // the inside columns are done
      if (ox >= g.ow) break;
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ix = ox * g.sw - g.pl + kx;
          taps[ky * g.kw + kx] =
              rows[ky] && ix >= 0 && ix < g.w ? rows[ky] + ix * g.c : padding_.data();
        }
      dw_.run(1, c_, taps_, taps.data(), 0, packed(), zero_, bounds_.min, bounds_.max,
              out + ox * g.c);
    }
  }

  const Qc8Depthwise& dw_;
  ConvGeometry g_;
  size_t c_ = 0, taps_ = 0;
  int64_t first_ = 0, last_ = 0;
  size_t rows_per_task_ = 1;
  Int8Bounds bounds_;
  int32_t zero_ = 0, in_zero_ = 0;
  bool rows_ = false;            // the variant's row form (run_row) runs the layer
  bool sums_in_range_ = false;   // Qc8DepthwiseRow::sums_in_range
  std::vector<uint8_t> packed_;  // the variant's packing, from the first 64-byte boundary
  std::vector<int8_t> padding_;  // the input zero point: a row's worth, or a pixel's (rows_)
  const int8_t* in_ = nullptr;
  int8_t* out_ = nullptr;
};

}  // namespace

KernelResult create_own_int8_depthwise_kernel(const NodeDesc& d, const QParams& in,
                                              const QParams& out) {
  const OpKind op = d.node->op();
  if (op != OpKind::CONV_2D && op != OpKind::DEPTHWISE_CONV_2D) return not_handled();
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  if (!v.qc8_depthwise) return not_handled();
  const auto* o = d.node->options_as_Conv2DOptions();
  const Shape& x = d.inputs[0].shape;
  const Shape& w = d.inputs[1].shape;
  const bool depthwise =
      o->groups() == x[3] && w[0] == x[3] && w[3] == 1 && d.outputs[0].shape[3] == x[3];
  // What the kernel does not cover goes to XNNPACK: dilation, strides above 2, large windows,
  // weights that are not constant int8.
  if (!depthwise || o->dilation_h() != 1 || o->dilation_w() != 1 || o->stride_h() > 2 ||
      o->stride_w() > 2 || w[1] > kMaxKernelSide || w[2] > kMaxKernelSide ||
      d.inputs[1].type != ElementType::kI8 || !d.inputs[1].constant)
    return not_handled();
  auto k = std::make_unique<Int8Depthwise>(*v.qc8_depthwise);
  PH_RETURN_IF_ERROR(k->create(d, in, out));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace polyhead::kernels
