// int8 convolutions with a small receptive field or few output channels: the
// 3-channel stems (3x3 or 5x5, stride 2) and pose's 3x3 8 -> 1 channel head, where a GEMM over
// output pixels wastes its width (one output channel fills 1 of 16 lanes) or spends its time on
// the im2col copy of a few bytes per tap.
//
// The kernel vectorizes over output pixels instead (reference::qs8_pixel_conv): the input is
// regrouped once per run into dword planes, so that for each kernel tap (ky, kx) and group g of
// four channels, the dwords that 16 consecutive output pixels read are 16 consecutive dwords.
// Plane (row ry, phase p, group g) holds, at index jj, channels 4g..4g+3 of padded input column
// jj * stride_w + p of padded row ry (flipped to u8; bytes past the channel count and padding
// pixels hold the input zero point, flipped, and meet zero weights or fold into the bias). Output
// pixel ox, tap (ky, kx) reads plane (oy * stride_h + ky, kx % stride_w, g) at ox + kx / stride_w.
// The padding border is written once at create; each run rewrites the image part.
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv_geometry.h"
#include "int8_dispatch.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/reference.h"

namespace polyhead::kernels {
namespace {

constexpr size_t kMaxTaps = 128;                     // dwords per output pixel (K <= 512)
constexpr size_t kMaxPlaneBytes = size_t{16} << 20;  // the regrouped input
constexpr int64_t kFewOutputChannels = 4;            // taken whatever the input channels
constexpr int64_t kFewInputChannels = 4;             // taken whatever the output channels

class PixelConv final : public Kernel {
 public:
  PixelConv(PixelConvRow conv, PixelRegroup regroup) : conv_(conv), regroup_(regroup) {}

  Status create(const NodeDesc& d, const QParams& in, const QParams& out) {
    const schema::Node& node = *d.node;
    g_ = ConvGeometry::of(d);
    o_ = d.outputs[0].shape[3];
    c_ = static_cast<size_t>(g_.c);
    groups_ = (c_ + 3) / 4;
    taps_ = static_cast<size_t>(g_.kh * g_.kw) * groups_;
    rows_ = (g_.oh - 1) * g_.sh + g_.kh;
    const int64_t cols = (g_.ow - 1) * g_.sw + g_.kw;
    len_ = static_cast<size_t>((cols + g_.sw - 1) / g_.sw);
    PH_ASSIGN_OR_RETURN(std::vector<float> scales,
                        weight_scales(node, d.inputs[1], static_cast<size_t>(o_)));
    std::vector<int32_t> bias(static_cast<size_t>(o_), 0);
    if (d.inputs.size() > 2 && d.inputs[2].present) {
      PH_RETURN_IF_ERROR(check_bias(node, d.inputs[2], in.scale, scales));
      std::memcpy(bias.data(), d.inputs[2].constant, bias.size() * sizeof(int32_t));
    }
    scale_.resize(scales.size());
    for (size_t o = 0; o < scales.size(); ++o) scale_[o] = in.scale * scales[o] / out.scale;
    // Weights as dwords [o][ky][kx][g], zeros past the channel count; the bias absorbs
    // -(128 + input zero point) x the weight sum (the input is read as u8 = x + 128).
    const auto* w = static_cast<const int8_t*>(d.inputs[1].constant);
    w_.assign(static_cast<size_t>(o_) * taps_, 0);
    bias_.resize(static_cast<size_t>(o_));
    for (int64_t o = 0; o < o_; ++o) {
      int64_t sum = 0;
      for (int64_t t = 0; t < g_.kh * g_.kw; ++t)
        for (int64_t c = 0; c < g_.c; ++c) {
          const int8_t v = w[(o * g_.kh * g_.kw + t) * g_.c + c];
          sum += v;
          const size_t dword = static_cast<size_t>(o) * taps_ + static_cast<size_t>(t) * groups_ +
                               static_cast<size_t>(c / 4);
          w_[dword] |= static_cast<uint32_t>(static_cast<uint8_t>(v)) << (8 * (c % 4));
        }
      const int64_t folded = int64_t{bias[static_cast<size_t>(o)]} - (128 + in.zero_point) * sum;
      bias_[static_cast<size_t>(o)] = static_cast<int32_t>(static_cast<uint32_t>(folded));
    }
    // The sums read u8 bytes (0..255) against the folded bias: qc8_sums_in_range's bound.
    sums_in_range_ = reference::qc8_sums_in_range(static_cast<size_t>(o_), 4 * taps_,
                                                  reinterpret_cast<const int8_t*>(w_.data()),
                                                  bias_.data(), scale_.data());
    const Int8Bounds b = int8_bounds(fused_activation(node), out);
    min_ = b.min, max_ = b.max, zero_ = out.zero_point;
    const uint32_t pad_byte = static_cast<uint8_t>(in.zero_point) ^ 0x80u;
    pad_ = pad_byte * 0x01010101u;
    planes_.assign(static_cast<size_t>(g_.n * rows_ * g_.sw) * groups_ * len_, pad_);
    return Status::ok();
  }
  size_t packed_weight_bytes() const override {
    return (w_.size() + bias_.size() + scale_.size()) * 4;
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    in_ = static_cast<const int8_t*>(in[0]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t pool) override {
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t count) {
          auto* k = static_cast<PixelConv*>(ctx);
          for (size_t r = start; r < start + count; ++r) k->regroup_row(static_cast<int64_t>(r));
        },
        this, static_cast<size_t>(g_.n * g_.h), 4, 0);
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t count) {
          auto* k = static_cast<PixelConv*>(ctx);
          for (size_t r = start; r < start + count; ++r) k->output_row(static_cast<int64_t>(r));
        },
        this, static_cast<size_t>(g_.n * g_.oh), 1, 0);
    return Status::ok();
  }

 private:
  uint32_t* plane(int64_t n, int64_t ry, int64_t phase, size_t group) {
    return planes_.data() +
           ((static_cast<size_t>((n * rows_ + ry) * g_.sw + phase)) * groups_ + group) * len_;
  }

  // Input row r = n * h + iy into the planes of padded row iy + pad_top (rows past the last one
  // an output reads are skipped).
  void regroup_row(int64_t r) {
    const int64_t n = r / g_.h, iy = r % g_.h, ry = iy + g_.pt;
    if (ry >= rows_) return;
    const int8_t* src = in_ + r * g_.w * g_.c;
    const auto last = std::min<int64_t>(g_.w, static_cast<int64_t>(len_) * g_.sw - g_.pl);
    for (int64_t phase = 0; phase < g_.sw; ++phase) {
      // Columns ix with (ix + pad_left) % stride == phase, at jj = (ix + pad_left) / stride.
      const int64_t first = ((phase - g_.pl) % g_.sw + g_.sw) % g_.sw;
      const int64_t count = first < last ? (last - first + g_.sw - 1) / g_.sw : 0;
      for (size_t g = 0; g < groups_; ++g)
        regroup_(src + 4 * g + first * g_.c, static_cast<size_t>(count),
                 static_cast<size_t>(g_.sw * g_.c), std::min<size_t>(4, c_ - 4 * g), pad_,
                 plane(n, ry, phase, g) + (first + g_.pl) / g_.sw);
    }
  }

  // Output row r = n * oh + oy.
  void output_row(int64_t r) {
    const int64_t n = r / g_.oh, oy = r % g_.oh;
    const uint32_t* x[kMaxTaps];
    size_t t = 0;
    for (int64_t ky = 0; ky < g_.kh; ++ky)
      for (int64_t kx = 0; kx < g_.kw; ++kx)
        for (size_t g = 0; g < groups_; ++g)
          x[t++] = plane(n, oy * g_.sh + ky, kx % g_.sw, g) + kx / g_.sw;
    reference::Qs8PixelConvRow row;
    row.count = static_cast<size_t>(g_.ow);
    row.n = static_cast<size_t>(o_);
    row.taps = taps_;
    row.x = x;
    row.w = w_.data();
    row.bias = bias_.data();
    row.scale = scale_.data();
    row.zero = zero_, row.min = min_, row.max = max_;
    row.out = out_ + r * g_.ow * o_;
    row.sums_in_range = sums_in_range_;
    conv_(row);
  }

  PixelConvRow conv_;
  PixelRegroup regroup_;
  ConvGeometry g_;
  int64_t o_ = 0, rows_ = 0;
  size_t c_ = 1, groups_ = 1, taps_ = 0, len_ = 0;
  std::vector<uint32_t> w_;
  std::vector<int32_t> bias_;
  std::vector<float> scale_;
  std::vector<uint32_t> planes_;  // [n][padded row][phase][group][len_], sized at create
  uint32_t pad_ = 0;
  bool sums_in_range_ = false;  // Qs8PixelConvRow::sums_in_range
  int32_t zero_ = 0, min_ = -128, max_ = 127;
  const int8_t* in_ = nullptr;
  int8_t* out_ = nullptr;
};

}  // namespace

KernelResult create_own_int8_pixel_conv(const NodeDesc& d, const QParams& in, const QParams& out,
                                        PixelConvRow conv, PixelRegroup regroup) {
  if (d.node->op() != schema::OpKind::CONV_2D) return not_handled();
  const auto* o = d.node->options_as_Conv2DOptions();
  if (!o || o->groups() != 1 || o->dilation_h() != 1 || o->dilation_w() != 1) return not_handled();
  const Shape& x = d.inputs[0].shape;
  const Shape& w = d.inputs[1].shape;
  const int64_t taps = w[1] * w[2] * ((x[3] + 3) / 4);
  if (taps > static_cast<int64_t>(kMaxTaps)) return not_handled();
  if (w[0] > kFewOutputChannels && x[3] > kFewInputChannels) return not_handled();
  const ConvGeometry g = ConvGeometry::of(d);
  const int64_t rows = (g.oh - 1) * g.sh + g.kh, cols = (g.ow - 1) * g.sw + g.kw;
  const auto bytes = static_cast<size_t>(g.n * rows * (cols + g.sw) * ((g.c + 3) / 4) * 4);
  if (bytes > kMaxPlaneBytes) return not_handled();
  auto k = std::make_unique<PixelConv>(conv, regroup ? regroup : reference::qs8_pixel_regroup);
  PH_RETURN_IF_ERROR(k->create(d, in, out));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace polyhead::kernels
