// Polyhead's own float dense convolution for layers with large weights (one group, any kernel
// size, stride, dilation and padding): an indirect GEMM (kernel_variant.h, F32Igemm) over a table
// of input-row pointers built at setup, so no input is copied. Why not XNNPACK's: its 2022
// convolution walks all output channels for every few output pixels, so a layer whose weights
// exceed L2 streams them from memory again and again (docs/performance.md, "Per-operator gap").
// Here each thread-pool task is one panel of output channels over a block of output pixels, the
// panel stays in L2, and a second thread takes other panels instead of sharing the memory bus for
// the same weights.
#include <cstring>
#include <vector>

#include "conv_geometry.h"
#include "own_kernels.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/shape_inference.h"

namespace polyhead::kernels {
namespace {

class DenseConv final : public Kernel {
 public:
  DenseConv(const NodeDesc& d, const F32Igemm& gemm) : gemm_(gemm), g_(ConvGeometry::of(d)) {
    n_ = static_cast<size_t>(d.outputs[0].shape[3]);
    c_ = static_cast<size_t>(g_.c);
    taps_ = static_cast<size_t>(g_.kh * g_.kw);
    m_ = static_cast<size_t>(g_.n * g_.oh * g_.ow);
    act_ = fused_activation(*d.node);
    const size_t k = taps_ * c_;
    const float* bias = d.inputs.size() > 2 && d.inputs[2].present
                            ? static_cast<const float*>(d.inputs[2].constant)
                            : nullptr;
    panel_bytes_ = gemm_.packed_bytes(gemm_.nr, k);
    panels_ = (n_ + gemm_.nr - 1) / gemm_.nr;
    packed_.resize(gemm_.packed_bytes(n_, k) / sizeof(float));
    gemm_.pack(static_cast<const float*>(d.inputs[1].constant), bias, n_, k, packed_.data());
    indirection_.resize(m_ * taps_);
    zeros_.assign(c_, 0.f);
  }

  size_t packed_weight_bytes() const override { return packed_.size() * sizeof(float); }

  // The pointer table depends only on where the input lives: built here, once per binding, in
  // storage sized at create.
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    const auto* x = static_cast<const float*>(in[0]);
    out_ = static_cast<float*>(out[0]);
    const float** p = indirection_.data();
    for (int64_t b = 0; b < g_.n; ++b)
      for (int64_t oy = 0; oy < g_.oh; ++oy)
        for (int64_t ox = 0; ox < g_.ow; ++ox)
          for (int64_t ky = 0; ky < g_.kh; ++ky)
            for (int64_t kx = 0; kx < g_.kw; ++kx) {
              const int64_t iy = oy * g_.sh - g_.pt + ky * g_.dh;
              const int64_t ix = ox * g_.sw - g_.pl + kx * g_.dw;
              const bool inside = iy >= 0 && iy < g_.h && ix >= 0 && ix < g_.w;
              *p++ = inside ? x + ((b * g_.h + iy) * g_.w + ix) * g_.c : zeros_.data();
            }
    // Enough tasks for every thread to get about four; whole pixel ranges per panel when there
    // are panels enough, so each panel is read from memory once.
    const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
    const size_t splits = threads > 1 ? (4 * threads + panels_ - 1) / panels_ : 1;
    rows_per_task_ = (m_ + splits - 1) / splits;
    rows_per_task_ = (rows_per_task_ + kRowAlign - 1) / kRowAlign * kRowAlign;
    return Status::ok();
  }

  // Each task is one panel over a block of output pixels: the panel stays in L2 while the pixels
  // stream past it, and the next panel is prefetched meanwhile.
  Status run(pthreadpool_t pool) override {
    parallelize_2d_tile_2d(pool, run_task, this, panels_, m_, 1, rows_per_task_, 0);
    return Status::ok();
  }

 private:
  static void run_task(void* ctx, size_t panel, size_t row, size_t, size_t rows) {
    auto* k = static_cast<DenseConv*>(ctx);
    const size_t j0 = panel * k->gemm_.nr;
    const size_t cols = k->n_ - j0 < k->gemm_.nr ? k->n_ - j0 : k->gemm_.nr;
    const char* packed = reinterpret_cast<const char*>(k->packed_.data());
    const char* next = panel + 1 < k->panels_ ? packed + (panel + 1) * k->panel_bytes_ : nullptr;
    k->gemm_.run(rows, cols, k->taps_, k->c_, k->indirection_.data() + row * k->taps_,
                 packed + panel * k->panel_bytes_, k->act_.min, k->act_.max,
                 k->out_ + row * k->n_ + j0, k->n_, next);
  }

  static constexpr size_t kRowAlign = 16;  // a multiple of every variant's tile height
  const F32Igemm& gemm_;
  ConvGeometry g_;
  size_t m_ = 0, n_ = 0, c_ = 0, taps_ = 0, panels_ = 0, panel_bytes_ = 0, rows_per_task_ = 1;
  ActivationRange act_{};
  std::vector<float> packed_;
  std::vector<const float*> indirection_;  // [m][taps], filled by setup
  std::vector<float> zeros_;               // the padding's input row
  float* out_ = nullptr;
};

}  // namespace

KernelResult create_own_dense_conv(const NodeDesc& d, const KernelVariant& v) {
  // Half precision runs XNNPACK's f16 convolution; an ISA without the GEMM, XNNPACK's f32 one.
  if (!v.f32_igemm || d.precision != Precision::kF32) return not_handled();
  const auto* o = d.node->options_as_Conv2DOptions();
  const Shape& w = d.inputs[1].shape;
  if (!o || o->groups() != 1 || !d.inputs[1].constant) return not_handled();
  if (d.inputs.size() > 2 && d.inputs[2].present && !d.inputs[2].constant) return not_handled();
  // Only layers whose packed weights exceed half of L2: there XNNPACK re-reads them from memory
  // for every few output pixels and this kernel reads them once (ResNet-50's layer3 and layer4:
  // 1.3-1.5x faster). Smaller layers stay in L2 either way, and XNNPACK's kernels, tuned for
  // short reduction depths and few channels, are as fast or faster there (a 1x1 8->8 layer of
  // pose landmarks: 4.6x faster in XNNPACK). docs/performance.md has the measurements.
  const auto k = static_cast<size_t>(w[1] * w[2] * w[3]);
  if (v.f32_igemm->packed_bytes(static_cast<size_t>(w[0]), k) <= l2_cache_bytes() / 2)
    return not_handled();
  return std::unique_ptr<Kernel>(new DenseConv(d, *v.f32_igemm));
}

}  // namespace polyhead::kernels
