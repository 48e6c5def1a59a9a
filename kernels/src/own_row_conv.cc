// Polyhead's own narrow convolutions, computed one output row at a time: depthwise convolutions
// with fewer than 16 channels, and dense convolutions to a single output channel, both at stride
// and dilation 1. XNNPACK's 2022 kernels vectorise over channels, so 8 channels fill half a
// register and one output channel a sixteenth (pose landmarks' segmentation head: 256x256x8
// depthwise layers and a 3x3 convolution to one channel at 3-9 GFLOP/s, docs/performance.md).
// Here the vector runs along the row instead: with the weights repeated along a short period and
// the input rows copied with their padding into a small ring, every tap of an output row is one
// contiguous run of width x channels values, and the row is one multiply-add over all taps
// (KernelVariant::multiply_add_taps), whatever the channel count.
#include <cstring>
#include <limits>
#include <vector>

#include "conv_geometry.h"
#include "own_kernels.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/shape_inference.h"

namespace polyhead::kernels {
namespace {

// Taps of one output row passed to multiply_add_taps at once: kernels up to 7x7.
constexpr size_t kMaxTaps = 49;

class RowConv final : public Kernel {
 public:
  // `to_one`: a dense convolution to one output channel (the per-channel products are summed at
  // the end of each row); otherwise depthwise.
  RowConv(const NodeDesc& d, const KernelVariant& v, bool to_one)
      : multiply_add_taps_(v.multiply_add_taps), to_one_(to_one), g_(ConvGeometry::of(d)) {
    act_ = fused_activation(*d.node);
    taps_ = static_cast<size_t>(g_.kh * g_.kw);
    const auto c = static_cast<size_t>(g_.c);
    row_ = static_cast<size_t>(g_.ow) * c;
    padded_ = static_cast<size_t>(g_.ow + g_.kw - 1) * c;
    // Each tap's weights repeated over one period of lcm(channels, 32) values: along a row the
    // pattern repeats every `channels` values, and a period that is a whole number of registers
    // lets every register load its weights from the same small, L1-resident table.
    period_ = c;
    while (period_ % 32 != 0) period_ += c;
    const auto* weights = static_cast<const float*>(d.inputs[1].constant);
    weights_.resize(taps_ * period_);
    for (size_t t = 0; t < taps_; ++t)
      for (size_t i = 0; i < period_; ++i) {
        const size_t k = i % c;
        weights_[t * period_ + i] = to_one ? weights[t * c + k] : weights[k * taps_ + t];
      }
    const bool has_bias = d.inputs.size() > 2 && d.inputs[2].present;
    const auto* bias = has_bias ? static_cast<const float*>(d.inputs[2].constant) : nullptr;
    bias_.resize(to_one ? 1 : row_);
    for (size_t i = 0; i < bias_.size(); ++i) bias_[i] = bias ? bias[i % c] : 0.f;
    rows_per_task_ = (rows() + kTasks - 1) / kTasks;
    const auto kh = static_cast<size_t>(g_.kh);
    ring_.resize(kTasks * kh * padded_);
    ring_rows_.resize(kTasks * kh);
    if (to_one) scratch_.resize(kTasks * row_);
  }

  size_t packed_weight_bytes() const override {
    return (weights_.size() + bias_.size()) * sizeof(float);
  }

  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    x_ = static_cast<const float*>(in[0]);
    y_ = static_cast<float*>(out[0]);
    return Status::ok();
  }

  Status run(pthreadpool_t pool) override {
    const size_t tasks = (rows() + rows_per_task_ - 1) / rows_per_task_;
    parallelize_1d(
        pool,
        [](void* ctx, size_t task) {
          auto* k = static_cast<RowConv*>(ctx);
          const auto kh = static_cast<size_t>(k->g_.kh);
          for (size_t s = 0; s < kh; ++s) k->ring_rows_[task * kh + s] = -1;
          const size_t first = task * k->rows_per_task_;
          const size_t end =
              first + k->rows_per_task_ < k->rows() ? first + k->rows_per_task_ : k->rows();
          for (size_t r = first; r < end; ++r) k->run_row(task, r);
        },
        this, tasks, 0);
    return Status::ok();
  }

 private:
  // Output rows over the whole batch.
  size_t rows() const { return static_cast<size_t>(g_.n * g_.oh); }

  // Input row `row` (batch-major) with its padding, from the task's ring of kernel-height rows;
  // copied when the ring does not hold it yet (each input row once per task, as the task's
  // output rows are consecutive).
  const float* padded_row(size_t task, int64_t row) {
    const auto kh = static_cast<size_t>(g_.kh);
    const size_t slot = task * kh + static_cast<size_t>(row) % kh;
    float* dst = ring_.data() + slot * padded_;
    if (ring_rows_[slot] == row) return dst;
    ring_rows_[slot] = row;
    const auto c = static_cast<size_t>(g_.c);
    // Padded pixel p holds input pixel p - pl.
    const size_t lead = static_cast<size_t>(g_.pl) * c;
    const size_t copied = static_cast<size_t>(g_.w) * c < padded_ - lead
                              ? static_cast<size_t>(g_.w) * c
                              : padded_ - lead;
    for (size_t i = 0; i < lead; ++i) dst[i] = 0.f;
    std::memcpy(dst + lead, x_ + static_cast<size_t>(row) * static_cast<size_t>(g_.w) * c,
                copied * sizeof(float));
    for (size_t i = lead + copied; i < padded_; ++i) dst[i] = 0.f;
    return dst;
  }

  // Output row r (batch-major). Depthwise rows accumulate in the output itself, rows to one
  // channel in the task's scratch row.
  void run_row(size_t task, size_t r) {
    const auto b = static_cast<int64_t>(r) / g_.oh, oy = static_cast<int64_t>(r) % g_.oh;
    const auto c = static_cast<size_t>(g_.c);
    float* acc = to_one_ ? scratch_.data() + task * row_ : y_ + r * row_;
    if (to_one_)
      std::memset(acc, 0, row_ * sizeof(float));
    else
      std::memcpy(acc, bias_.data(), row_ * sizeof(float));
    const float* xs[kMaxTaps];
    const float* ws[kMaxTaps];
    size_t n = 0;
    for (int64_t ky = 0; ky < g_.kh; ++ky) {
      const int64_t iy = oy - g_.pt + ky;
      if (iy < 0 || iy >= g_.h) continue;  // a padding row adds nothing
      const float* in_row = padded_row(task, b * g_.h + iy);
      for (int64_t kx = 0; kx < g_.kw; ++kx, ++n) {
        xs[n] = in_row + static_cast<size_t>(kx) * c;
        ws[n] = weights_.data() + static_cast<size_t>(ky * g_.kw + kx) * period_;
      }
    }
    // Depthwise rows are final here, clamped by the activation; rows to one channel are sums.
    const float inf = std::numeric_limits<float>::infinity();
    multiply_add_taps_(n, xs, ws, period_, row_, to_one_ ? -inf : act_.min,
                       to_one_ ? inf : act_.max, acc);
    if (to_one_) {
      // Channel sums with the pixel as the inner loop, so the adds are independent.
      float* out = y_ + r * static_cast<size_t>(g_.ow);
      const auto ow = static_cast<size_t>(g_.ow);
      for (size_t px = 0; px < ow; ++px) out[px] = bias_[0];
      for (size_t k = 0; k < c; ++k)
        for (size_t px = 0; px < ow; ++px) out[px] += acc[px * c + k];
      for (size_t px = 0; px < ow; ++px)
        out[px] = out[px] < act_.min ? act_.min : (out[px] > act_.max ? act_.max : out[px]);
    }
  }

  static constexpr size_t kTasks = 16;  // thread-pool tasks; each has its ring and scratch row
  void (*multiply_add_taps_)(size_t, const float* const*, const float* const*, size_t, size_t,
                             float, float, float*);
  bool to_one_;
  ConvGeometry g_;
  ActivationRange act_{};
  size_t taps_ = 0, row_ = 0, padded_ = 0, period_ = 0, rows_per_task_ = 1;
  std::vector<float> weights_;      // [tap][period]
  std::vector<float> bias_;         // one per output value of a row (depthwise), or the one bias
  std::vector<float> ring_;         // [task][kernel row][padded input row]
  std::vector<int64_t> ring_rows_;  // the input row each ring slot holds, -1 for none
  std::vector<float> scratch_;      // [task][row_], convolutions to one channel only
  const float* x_ = nullptr;
  float* y_ = nullptr;
};

}  // namespace

KernelResult create_own_row_conv(const NodeDesc& d, const KernelVariant& v) {
  if (!v.multiply_add_taps || d.precision != Precision::kF32) return not_handled();
  const auto* o = d.node->options_as_Conv2DOptions();
  if (!o || !d.inputs[1].constant) return not_handled();
  if (d.inputs.size() > 2 && d.inputs[2].present && !d.inputs[2].constant) return not_handled();
  if (o->stride_h() != 1 || o->stride_w() != 1 || o->dilation_h() != 1 || o->dilation_w() != 1)
    return not_handled();
  const Shape& x = d.inputs[0].shape;
  const Shape& w = d.inputs[1].shape;
  const bool depthwise = o->groups() == x[3] && w[0] == x[3] && w[3] == 1;
  const bool to_one = o->groups() == 1 && w[0] == 1;
  // Depthwise layers of 16 channels or more fill XNNPACK's registers.
  if (!(to_one || (depthwise && x[3] < 16))) return not_handled();
  if (static_cast<size_t>(w[1] * w[2]) > kMaxTaps) return not_handled();
  return std::unique_ptr<Kernel>(new RowConv(d, v, to_one));
}

}  // namespace polyhead::kernels
