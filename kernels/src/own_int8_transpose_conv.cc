// TRANSPOSE_CONV_2D in int8 (docs/int8.md): per-channel weights [O, KH, KW, C] (OHWI, scales
// along axis 0), an I32 bias, exact int32 accumulation and the GEMM's requantization (round half
// to even), so the result equals reference::qc8_gemm's formula applied to each output pixel.
//
// Input pixel (iy, ix) tap (ky, kx) lands on output (iy * sh + ky - pad_top, ix * sw + kx -
// pad_left), as in the float kernel. This kernel gathers instead of scattering: each output
// pixel sums the few taps that land on it, found from tables of (kernel index, input index) per
// output row and column built at create, so threads own disjoint output rows and nothing is
// allocated at run.
//
// When the kernel tiles the output without overlap (stride = kernel size, no padding, no
// adjustment: selfie segmentation's 2x2 stride-2 decoder), every output value comes from one tap,
// and kernel row ky of input row iy is a product of the row's pixels [W, C] by the weights
// [(kx, o), C] that writes output row iy * kh + ky in place, kw * O contiguous values per input
// pixel: on variants with a pixel convolution (kernel_variant.h, qs8_pixel_conv) each such row is
// one call of it, vectorized over the input pixels (an int8 GEMM would fill 2 of its 16 output
// lanes for selfie: measured 145 us against 90 us).
#include <algorithm>
#include <cstring>
#include <vector>

#include "int8_dispatch.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"

namespace polyhead::kernels {
namespace {

// The taps of one output coordinate along one axis: kernel index k reads input index i.
struct Tap {
  int32_t k;
  int32_t i;
};

// For each output index o < out: the (k, i) with o = i * stride + k - pad_before, 0 <= i < in,
// 0 <= k < kernel, in increasing k. `first` has out + 1 entries (prefix offsets into `taps`).
void axis_taps(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad_before,
               std::vector<uint32_t>* first, std::vector<Tap>* taps) {
  first->assign(1, 0);
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t shifted = o + pad_before - k;
      if (shifted < 0 || shifted % stride != 0) continue;
      const int64_t i = shifted / stride;
      if (i < in) taps->push_back({static_cast<int32_t>(k), static_cast<int32_t>(i)});
    }
    first->push_back(static_cast<uint32_t>(taps->size()));
  }
}

// Sum of a[i] * b[i] in int32, written so the compiler vectorizes it.
inline int32_t dot_s8(const int8_t* a, const int8_t* b, size_t n) {
  int32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<int32_t>(a[i]) * static_cast<int32_t>(b[i]);
  return s;
}

class TransposeConvS8 final : public Kernel {
 public:
  Status create(const NodeDesc& d, const QParams& in, const QParams& out,
                void (*pixel)(const reference::Qs8PixelConvRow&)) {
    const schema::Node& node = *d.node;
    const auto* o = node.options_as_TransposeConv2DOptions();
    const Shape& x = d.inputs[0].shape;
    const Shape& w = d.inputs[1].shape;
    const Shape& y = d.outputs[0].shape;
    n_ = x[0], h_ = x[1], w_ = x[2], c_ = x[3];
    oh_ = y[1], ow_ = y[2], o_ = y[3];
    kh_ = w[1], kw_ = w[2];
    if (x.elements() > (int64_t{1} << 31) || y.elements() > (int64_t{1} << 31))
      return Status(ErrorCode::kUnsupported, node_label(node) +
                                                 ": tensor too large for the int8 transposed "
                                                 "convolution (more than 2^31 values)");
    PH_ASSIGN_OR_RETURN(std::vector<float> scales,
                        weight_scales(node, d.inputs[1], static_cast<size_t>(o_)));
    bias_.assign(static_cast<size_t>(o_), 0);
    if (d.inputs.size() > 2 && d.inputs[2].present) {
      PH_RETURN_IF_ERROR(check_bias(node, d.inputs[2], in.scale, scales));
      std::memcpy(bias_.data(), d.inputs[2].constant, bias_.size() * sizeof(int32_t));
    }
    for (float& s : scales) s = in.scale * s / out.scale;
    scale_ = std::move(scales);
    const auto* wq = static_cast<const int8_t*>(d.inputs[1].constant);
    weights_.assign(wq, wq + w.elements());
    // The input zero point times each tap's weight sum: subtracted once per tap instead of
    // centring every input value.
    const auto taps = static_cast<size_t>(kh_ * kw_);
    zero_terms_.assign(static_cast<size_t>(o_) * taps, 0);
    for (size_t t = 0; t < zero_terms_.size(); ++t) {
      int32_t sum = 0;
      for (int64_t ch = 0; ch < c_; ++ch) sum += weights_[t * static_cast<size_t>(c_) + ch];
      zero_terms_[t] = in.zero_point * sum;
    }
    const Int8Bounds b = int8_bounds(fused_activation(node), out);
    zero_ = out.zero_point;
    lo_ = static_cast<float>(b.min - out.zero_point);
    hi_ = static_cast<float>(b.max - out.zero_point);
    const bool tiles = o->stride_h() == kh_ && o->stride_w() == kw_ && oh_ == h_ * kh_ &&
                       ow_ == w_ * kw_ && o->pad_top() == 0 && o->pad_left() == 0;
    const auto groups = static_cast<size_t>((c_ + 3) / 4);
    if (pixel && tiles && groups <= kMaxGroups) {
      // Kernel row ky of input row iy as one pixel-convolution row: input pixel ix is the
      // "output pixel", (kx, o) its kw * O "channels", contiguous in output row iy * kh + ky.
      pixel_ = pixel;
      groups_ = groups;
      const auto n = static_cast<size_t>(kw_ * o_);
      pw_.assign(static_cast<size_t>(kh_) * n * groups, 0);
      pbias_.resize(static_cast<size_t>(kh_) * n);
      pscale_.resize(n);
      for (int64_t ky = 0; ky < kh_; ++ky)
        for (int64_t kx = 0; kx < kw_; ++kx)
          for (int64_t oc = 0; oc < o_; ++oc) {
            const auto j = static_cast<size_t>(ky) * n + static_cast<size_t>(kx * o_ + oc);
            const int8_t* src = wq + ((oc * kh_ + ky) * kw_ + kx) * c_;
            int64_t sum = 0;
            for (int64_t ch = 0; ch < c_; ++ch) {
              sum += src[ch];
              pw_[j * groups + static_cast<size_t>(ch / 4)] |=
                  static_cast<uint32_t>(static_cast<uint8_t>(src[ch])) << (8 * (ch % 4));
            }
            const int64_t folded =
                int64_t{bias_[static_cast<size_t>(oc)]} - (128 + in.zero_point) * sum;
            pbias_[j] = static_cast<int32_t>(static_cast<uint32_t>(folded));
            pscale_[j % n] = scale_[static_cast<size_t>(oc)];
          }
      planes_.assign(static_cast<size_t>(n_ * h_ * w_) * groups, 0);
      b_ = b;
      weights_.clear();
      zero_terms_.clear();
      return Status::ok();
    }
    axis_taps(h_, oh_, kh_, o->stride_h(), o->pad_top(), &row_first_, &row_taps_);
    axis_taps(w_, ow_, kw_, o->stride_w(), o->pad_left(), &col_first_, &col_taps_);
    return Status::ok();
  }
  size_t packed_weight_bytes() const override {
    return weights_.size() + (pw_.size() + pbias_.size() + pscale_.size()) * 4 +
           (zero_terms_.size() + bias_.size()) * sizeof(int32_t) + scale_.size() * sizeof(float);
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    in_ = static_cast<const int8_t*>(in[0]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t pool) override {
    if (pixel_) {
      parallelize_1d_tile_1d(
          pool,
          [](void* ctx, size_t start, size_t rows) {
            auto* k = static_cast<TransposeConvS8*>(ctx);
            for (size_t r = start; r < start + rows; ++r) k->regroup_row(static_cast<int64_t>(r));
          },
          this, static_cast<size_t>(n_ * h_), 4, 0);
      parallelize_1d_tile_1d(
          pool,
          [](void* ctx, size_t start, size_t rows) {
            auto* k = static_cast<TransposeConvS8*>(ctx);
            for (size_t r = start; r < start + rows; ++r) k->run_pixel_row(static_cast<int64_t>(r));
          },
          this, static_cast<size_t>(n_ * oh_), 4, 0);
      return Status::ok();
    }
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t rows) {
          auto* k = static_cast<TransposeConvS8*>(ctx);
          for (size_t r = start; r < start + rows; ++r) k->run_row(static_cast<int64_t>(r));
        },
        this, static_cast<size_t>(n_ * oh_), 1, 0);
    return Status::ok();
  }

 private:
  // Input row r = n * h + iy as planes of dwords: plane g holds channels 4g..4g+3 of each pixel,
  // flipped to u8 (bytes past the channel count meet zero weights).
  void regroup_row(int64_t r) {
    const int8_t* src = in_ + r * w_ * c_;
    const auto c = static_cast<size_t>(c_);
    const size_t full = c / 4, rest = c % 4, groups = groups_;
    const int64_t w = w_;
    uint32_t* row = planes_.data() + static_cast<size_t>(r * w_) * groups;
    for (size_t g = 0; g < groups; ++g) {
      uint32_t* dst = row + g * static_cast<size_t>(w);
      const int8_t* px = src + 4 * g;
      if (g < full) {
        for (int64_t ix = 0; ix < w; ++ix, px += c) {
          uint32_t v;
          std::memcpy(&v, px, 4);
          dst[ix] = v ^ 0x80808080u;
        }
      } else {
        // Built in a register: byte stores into v and its load would stall store forwarding.
        for (int64_t ix = 0; ix < w; ++ix, px += c) {
          uint32_t v = static_cast<uint8_t>(px[0]);
          if (rest > 1) v |= static_cast<uint32_t>(static_cast<uint8_t>(px[1])) << 8;
          if (rest > 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(px[2])) << 16;
          dst[ix] = v ^ 0x80808080u;
        }
      }
    }
  }

  // Output row r = (n * h + iy) * kh + ky, without overlap.
  void run_pixel_row(int64_t r) {
    const int64_t ky = r % kh_, in_row = r / kh_;
    const auto n = static_cast<size_t>(kw_ * o_);
    const uint32_t* x[kMaxGroups];
    for (size_t g = 0; g < groups_; ++g)
      x[g] = planes_.data() + (static_cast<size_t>(in_row) * groups_ + g) * static_cast<size_t>(w_);
    reference::Qs8PixelConvRow row;
    row.count = static_cast<size_t>(w_);
    row.n = n;
    row.taps = groups_;
    row.x = x;
    row.w = pw_.data() + static_cast<size_t>(ky) * n * groups_;
    row.bias = pbias_.data() + static_cast<size_t>(ky) * n;
    row.scale = pscale_.data();
    row.zero = zero_, row.min = b_.min, row.max = b_.max;
    row.out = out_ + r * ow_ * o_;
    pixel_(row);
  }

  // Output row r = n * oh + oy.
  void run_row(int64_t r) {
    // Adding and removing 1.5 * 2^23 rounds half to even like std::nearbyint for |v| < 2^22
    // (v is clamped to the int8 range first).
    constexpr float kMagic = 12582912.f;
    const int64_t n = r / oh_, oy = r % oh_;
    const auto c = static_cast<size_t>(c_);
    const size_t taps_per_channel = static_cast<size_t>(kh_ * kw_);
    const float lo = lo_, hi = hi_;
    const int32_t zero = zero_;
    int8_t* dst = out_ + r * ow_ * o_;
    for (int64_t ox = 0; ox < ow_; ++ox, dst += o_) {
      for (int64_t oc = 0; oc < o_; ++oc) {
        int32_t acc = bias_[static_cast<size_t>(oc)];
        const size_t wbase = static_cast<size_t>(oc) * taps_per_channel;
        for (uint32_t a = row_first_[oy]; a < row_first_[oy + 1]; ++a) {
          const Tap ty = row_taps_[a];
          const int8_t* src_row = in_ + ((n * h_ + ty.i) * w_) * c_;
          for (uint32_t b = col_first_[ox]; b < col_first_[ox + 1]; ++b) {
            const Tap tx = col_taps_[b];
            const size_t t = wbase + static_cast<size_t>(ty.k * kw_ + tx.k);
            acc += dot_s8(src_row + tx.i * c_, weights_.data() + t * c, c) - zero_terms_[t];
          }
        }
        const float v = std::min(std::max(static_cast<float>(acc) * scale_[oc], lo), hi);
        dst[oc] = static_cast<int8_t>(static_cast<int32_t>((v + kMagic) - kMagic) + zero);
      }
    }
  }

  int64_t n_ = 1, h_ = 0, w_ = 0, c_ = 0, oh_ = 0, ow_ = 0, o_ = 0, kh_ = 1, kw_ = 1;
  std::vector<int8_t> weights_;      // [O][KH][KW][C] as in the file
  std::vector<int32_t> zero_terms_;  // [O][KH][KW]: input zero point x sum over C of the weights
  std::vector<int32_t> bias_;        // [O], zeros without a bias
  std::vector<float> scale_;         // [O]: input scale x weight scale / output scale
  std::vector<uint32_t> row_first_, col_first_;
  std::vector<Tap> row_taps_, col_taps_;
  static constexpr size_t kMaxGroups = 128;  // dwords per input pixel on the pixel path
  // The pixel-convolution path (set when the output is tiled without overlap): weights
  // [ky][(kx, o)][group] as dwords, biases [ky][(kx, o)] with the zero point folded in, scales
  // [(kx, o)], and the input regrouped per run [n * h][group][w].
  void (*pixel_)(const reference::Qs8PixelConvRow&) = nullptr;
  size_t groups_ = 1;
  std::vector<uint32_t> pw_;
  std::vector<int32_t> pbias_;
  std::vector<float> pscale_;
  std::vector<uint32_t> planes_;
  Int8Bounds b_;
  int32_t zero_ = 0;
  float lo_ = -128.f, hi_ = 127.f;  // fused activation bounds minus the output zero point
  const int8_t* in_ = nullptr;
  int8_t* out_ = nullptr;
};

}  // namespace

KernelResult create_own_int8_transpose_conv(const NodeDesc& d, const QParams& in,
                                            const QParams& out) {
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  auto k = std::make_unique<TransposeConvS8>();
  const KernelVariant& v = *kernel_variant(isa);
  PH_RETURN_IF_ERROR(k->create(d, in, out, v.qs8_pixel_conv));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace polyhead::kernels
