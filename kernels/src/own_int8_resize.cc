// int8 bilinear RESIZE on the variant's Int8Elementwise rows (docs/int8.md "Bilinear resize"):
// source coordinates as the float kernel computes them (float32, clamped to the image), 11-bit
// weights round_half_even(2048 * fraction), the blend exact in int32 and rounded half to even.
// A 2x upsample with half-pixel centres (weights exactly 3/4 and 1/4) or asymmetric coordinates
// (1, or 1/2 and 1/2) takes a row kernel in 16-bit lanes with the same results. Input and output
// share their quantization, so the blend of the stored bytes is the blend of the real values.
#include <algorithm>
#include <cmath>
#include <vector>

#include "int8_dispatch.h"
#include "own_kernels.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"

namespace polyhead::kernels {
namespace {

// Source index pair and 11-bit weight of the second along one axis.
struct Tap {
  int64_t i0 = 0, i1 = 0;
  int32_t weight = 0;
};

Tap tap(int64_t dst, int64_t in, int64_t out, reference::Coordinates mode) {
  const float f = std::clamp(reference::resize_source_coordinate(dst, in, out, mode), 0.f,
                             static_cast<float>(in - 1));
  Tap t;
  t.i0 = static_cast<int64_t>(f);
  t.i1 = std::min(t.i0 + 1, in - 1);
  // 2048 * fraction is exact in float32 (a power of two); nearbyint rounds half to even.
  t.weight = static_cast<int32_t>(std::nearbyint((f - static_cast<float>(t.i0)) * 2048.f));
  return t;
}

class ResizeBilinear final : public Kernel {
 public:
  explicit ResizeBilinear(const Int8Elementwise& f) : f_(f) {}
  void create(const NodeDesc& d) {
    const Shape& in = d.inputs[0].shape;
    const Shape& out = d.outputs[0].shape;
    n_ = in[0], h_ = in[1], w_ = in[2], c_ = in[3];
    oh_ = out[1], ow_ = out[2];
    const auto mode = coordinates_of(d.node->options_as_ResizeOptions()->coordinates());
    // A 2x upsample with half-pixel centres samples at i -+ 1/4, an asymmetric one at i and
    // i + 1/2: weights in quarters, the row kernel in 16-bit lanes.
    upsample_2x_ =
        oh_ == 2 * h_ && ow_ == 2 * w_ &&
        (mode == reference::Coordinates::kHalfPixel || mode == reference::Coordinates::kAsymmetric);
    half_pixel_ = mode == reference::Coordinates::kHalfPixel;
    if (upsample_2x_) return;
    for (int64_t y = 0; y < oh_; ++y) rows_.push_back(tap(y, h_, oh_, mode));
    for (int64_t x = 0; x < ow_; ++x) {
      const Tap t = tap(x, w_, ow_, mode);
      x0_.push_back(static_cast<int32_t>(t.i0 * c_));
      x1_.push_back(static_cast<int32_t>(t.i1 * c_));
      wx_.push_back(static_cast<int16_t>(t.weight));
    }
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
          auto* k = static_cast<ResizeBilinear*>(ctx);
          for (size_t r = start; r < start + count; ++r) k->row(static_cast<int64_t>(r));
        },
        this, static_cast<size_t>(n_ * oh_), 4, 0);
    return Status::ok();
  }

 private:
  // Output row r of all images (image r / oh_, row r % oh_).
  void row(int64_t r) {
    const int64_t b = r / oh_, y = r % oh_;
    const int64_t image_row = w_ * c_;
    const int8_t* image = in_ + b * h_ * image_row;
    int8_t* dst = out_ + r * ow_ * c_;
    const auto c = static_cast<size_t>(c_);
    if (upsample_2x_) {
      const int64_t i = y / 2;
      const bool even = y % 2 == 0;
      // Half-pixel: output row 2i at i - 1/4 (3/4 of row i, 1/4 of row i-1), row 2i+1 at
      // i + 1/4 (rows i and i+1). Asymmetric: row 2i is row i, row 2i+1 half rows i and i+1.
      // Neighbours clamp at the image edge, where the float kernel's coordinate clamps too.
      const int64_t far = even ? std::max<int64_t>(i - 1, 0) : std::min(i + 1, h_ - 1);
      static constexpr int16_t kHalfPixel[2][6] = {{3, 1, 3, 1, 3, 1}, {3, 1, 3, 1, 3, 1}};
      static constexpr int16_t kAsymmetric[2][6] = {{4, 0, 4, 0, 2, 2}, {2, 2, 4, 0, 2, 2}};
      const int16_t* weights = (half_pixel_ ? kHalfPixel : kAsymmetric)[even ? 0 : 1];
      f_.resize_2x_row(image + i * image_row, image + far * image_row, static_cast<size_t>(w_), c,
                       weights, dst);
      return;
    }
    const Tap& t = rows_[static_cast<size_t>(y)];
    f_.resize_bilinear_row(image + t.i0 * image_row, image + t.i1 * image_row,
                           static_cast<size_t>(ow_), c, x0_.data(), x1_.data(), wx_.data(),
                           t.weight, dst);
  }

  const Int8Elementwise& f_;
  int64_t n_ = 0, h_ = 0, w_ = 0, c_ = 0, oh_ = 0, ow_ = 0;
  bool upsample_2x_ = false, half_pixel_ = false;
  std::vector<Tap> rows_;
  std::vector<int32_t> x0_, x1_;  // byte offsets of the two source pixels of each output column
  std::vector<int16_t> wx_;
  const int8_t* in_ = nullptr;
  int8_t* out_ = nullptr;
};

}  // namespace

KernelResult create_own_int8_resize_kernel(const NodeDesc& d, const QParams& in,
                                           const QParams& out) {
  if (d.node->op() != schema::OpKind::RESIZE ||
      d.node->options_as_ResizeOptions()->mode() != schema::ResizeMode::BILINEAR)
    return not_handled();
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  if (!v.int8_elementwise) return not_handled();
  PH_RETURN_IF_ERROR(require_same(*d.node, in, out));
  // Only the 2x upsamples (half-pixel or asymmetric) beat XNNPACK's s8 resize
  // (bench_int8_elementwise); the general rows, scalar-ish per pixel, measured about 2x slower.
  const Shape& is = d.inputs[0].shape;
  const Shape& os = d.outputs[0].shape;
  const auto mode = d.node->options_as_ResizeOptions()->coordinates();
  if (os[1] != 2 * is[1] || os[2] != 2 * is[2] || mode == schema::CoordinateMode::ALIGN_CORNERS)
    return not_handled();
  auto k = std::make_unique<ResizeBilinear>(*v.int8_elementwise);
  k->create(d);
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace polyhead::kernels
