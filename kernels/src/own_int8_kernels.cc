// Polyhead's own int8 kernels, for what the XNNPACK snapshot lacks (docs/int8.md): unary functions
// as 256-entry tables, concatenation that requantizes its inputs, average pooling with a window,
// and the operators that only move bytes.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "conv_geometry.h"
#include "int8_dispatch.h"
#include "int8_hard_swish.h"
#include "own_kernels.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/reference.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

constexpr size_t kBlock = 16384;  // bytes per thread-pool task for elementwise work

class OwnInt8Kernel : public Kernel {
 public:
  explicit OwnInt8Kernel(const KernelVariant& v) : v_(v) {}
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    in_ = static_cast<const int8_t*>(in[0]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }

 protected:
  const KernelVariant& v_;
  const int8_t* in_ = nullptr;
  int8_t* out_ = nullptr;
};

// The float functions a Lookup tabulates.
using UnaryFunction = float (*)(const schema::Node& node, float x);
namespace unary {

float abs(const schema::Node&, float x) {
  return std::fabs(x);
}
float sigmoid(const schema::Node&, float x) {
  return 1.f / (1.f + std::exp(-x));
}
float silu(const schema::Node&, float x) {
  return x / (1.f + std::exp(-x));
}
float tanh(const schema::Node&, float x) {
  return std::tanh(x);
}
float leaky_relu(const schema::Node& node, float x) {
  const auto* o = node.options_as_LeakyReluOptions();
  return x >= 0.f ? x : x * (o ? o->negative_slope() : 0.01f);
}
float clamp(const schema::Node& node, float x) {
  const auto* o = node.options_as_ClampOptions();
  return o ? std::min(std::max(x, o->min()), o->max()) : x;
}

}  // namespace unary

// Any unary function of one int8 value is a table of 256 results, computed once in float.
class Lookup final : public OwnInt8Kernel {
 public:
  Lookup(const NodeDesc& d, const KernelVariant& v, UnaryFunction f, const QParams& in,
         const QParams& out)
      : OwnInt8Kernel(v), count_(static_cast<size_t>(d.inputs[0].shape.elements())) {
    for (int q = -128; q <= 127; ++q)
      table_[static_cast<uint8_t>(q)] =
          quantize_s8(f(*d.node, dequantize_s8(static_cast<int8_t>(q), in)), out);
  }
  // A table computed elsewhere (HARD_SWISH's fixed-point definition).
  Lookup(const NodeDesc& d, const KernelVariant& v, const std::array<int8_t, 256>& table)
      : OwnInt8Kernel(v),
        count_(static_cast<size_t>(d.inputs[0].shape.elements())),
        table_(table) {}
  Status run(pthreadpool_t pool) override {
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t tile) {
          auto* k = static_cast<Lookup*>(ctx);
          k->v_.lookup_s8(k->in_ + start, tile, k->table_.data(), k->out_ + start);
        },
        this, count_, kBlock, 0);
    return Status::ok();
  }

 private:
  size_t count_;
  std::array<int8_t, 256> table_{};
};

// Each input's slice of every outer row is copied, or requantized when its parameters (or the
// fused activation) differ from the output's.
class Concatenation final : public OwnInt8Kernel {
 public:
  Concatenation(const KernelVariant& v) : OwnInt8Kernel(v) {}
  Status create(const NodeDesc& d, const QParams& out) {
    const Shape& os = d.outputs[0].shape;
    const int rank = static_cast<int>(os.rank());
    const int a = d.node->options_as_ConcatenationOptions()->axis();
    const auto axis = static_cast<size_t>(a < 0 ? a + rank : a);
    int64_t outer = 1, inner = 1;
    for (size_t i = 0; i < axis; ++i) outer *= os[i];
    for (size_t i = axis + 1; i < os.rank(); ++i) inner *= os[i];
    outer_ = static_cast<size_t>(outer);
    out_row_ = static_cast<size_t>(os[axis] * inner);
    const Int8Bounds b = int8_bounds(fused_activation(*d.node), out);
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      PH_ASSIGN_OR_RETURN(const QParams q,
                          activation_params(*d.node, d.inputs[i], "input " + std::to_string(i)));
      Part p;
      p.row = static_cast<size_t>(d.inputs[i].shape[axis] * inner);
      p.copy = q == out && b.min == -128 && b.max == 127;
      PH_ASSIGN_OR_RETURN(p.requant, requantization(*d.node, q, out, b));
      parts_.push_back(p);
    }
    inputs_.resize(parts_.size());
    return Status::ok();
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    for (size_t i = 0; i < inputs_.size(); ++i) inputs_[i] = static_cast<const int8_t*>(in[i]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t) override {
    for (size_t o = 0; o < outer_; ++o) {
      int8_t* dst = out_ + o * out_row_;
      for (size_t i = 0; i < parts_.size(); ++i) {
        const Part& p = parts_[i];
        const int8_t* src = inputs_[i] + o * p.row;
        if (p.copy)
          std::memcpy(dst, src, p.row);
        else
          v_.requantize_s8(src, p.row, p.requant, dst);
        dst += p.row;
      }
    }
    return Status::ok();
  }

 private:
  struct Part {
    size_t row = 0;
    bool copy = true;
    reference::Requantization requant;
  };
  std::vector<Part> parts_;
  std::vector<const int8_t*> inputs_;  // sized at create; setup only writes into it
  size_t outer_ = 1, out_row_ = 0;
};

// AVERAGE_POOL_2D with a window (the global case runs in XNNPACK) and 1x1 windows of either
// kind. Padding is excluded from the average, as in the float kernels.
class Pool2D final : public OwnInt8Kernel {
 public:
  Pool2D(const NodeDesc& d, const KernelVariant& v, const QParams& in, const QParams& out)
      : OwnInt8Kernel(v),
        in_shape_(d.inputs[0].shape),
        out_shape_(d.outputs[0].shape),
        in_q_(in),
        out_q_(out),
        bounds_(int8_bounds(fused_activation(*d.node), out)),
        o_(d.node->options_as_Pool2DOptions()),
        sums_(static_cast<size_t>(d.inputs[0].shape[3])) {}
  Status run(pthreadpool_t) override {
    const int64_t h = in_shape_[1], w = in_shape_[2], c = in_shape_[3];
    const float ratio = in_q_.scale / out_q_.scale;
    int8_t* dst = out_;
    for (int64_t n = 0; n < out_shape_[0]; ++n)
      for (int64_t oy = 0; oy < out_shape_[1]; ++oy)
        for (int64_t ox = 0; ox < out_shape_[2]; ++ox) {
          const int64_t y0 = std::max<int64_t>(0, oy * o_->stride_h() - o_->pad_top());
          const int64_t x0 = std::max<int64_t>(0, ox * o_->stride_w() - o_->pad_left());
          const int64_t y1 =
              std::min<int64_t>(h, oy * o_->stride_h() - o_->pad_top() + o_->filter_h());
          const int64_t x1 =
              std::min<int64_t>(w, ox * o_->stride_w() - o_->pad_left() + o_->filter_w());
          std::fill(sums_.begin(), sums_.end(), 0);
          for (int64_t y = y0; y < y1; ++y)
            for (int64_t x = x0; x < x1; ++x) {
              const int8_t* src = in_ + ((n * h + y) * w + x) * c;
              for (int64_t k = 0; k < c; ++k) sums_[static_cast<size_t>(k)] += src[k];
            }
          const int64_t count = std::max<int64_t>(1, (y1 - y0) * (x1 - x0));
          const float m = ratio / static_cast<float>(count);
          // Clamped before the conversion to an integer: with hostile scales (a huge input to
          // output ratio) the scaled value has no int32 value (found by fuzz_phm_model). The
          // bounds are integers, so this equals rounding first and clamping after; NaN goes low.
          const auto lo = static_cast<float>(bounds_.min - out_q_.zero_point);
          const auto hi = static_cast<float>(bounds_.max - out_q_.zero_point);
          for (int64_t k = 0; k < c; ++k) {
            const int64_t centred = sums_[static_cast<size_t>(k)] - count * in_q_.zero_point;
            const float v = static_cast<float>(centred) * m;
            const float clamped = v >= lo ? std::min(v, hi) : lo;
            *dst++ = static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(clamped)) +
                                         out_q_.zero_point);
          }
        }
    return Status::ok();
  }

 private:
  Shape in_shape_, out_shape_;
  QParams in_q_, out_q_;
  Int8Bounds bounds_;
  const schema::Pool2DOptions* o_;
  std::vector<int64_t> sums_;  // one per channel, sized at create (64 bits: any window)
};

// Convolutions with one group and fully connected layers as one GEMM over the output pixels
// (rows), with the variant's packed weights; only variants with a Qc8Gemm (AVX-512 VNNI) take
// these nodes, the others leave them to XNNPACK. A 1x1 convolution at stride 1 without padding
// reads its input in place; other convolutions first copy each output pixel's receptive field
// into a row of a scratch buffer (im2col, padding filled with the input zero point so it adds 0),
// one block of rows per thread-pool task, just before that block's GEMM.
class GemmConv final : public OwnInt8Kernel {
 public:
  GemmConv(const KernelVariant& v) : OwnInt8Kernel(v), gemm_(*v.qc8_gemm) {}
  Status create(const NodeDesc& d, const QParams& in, const QParams& out, bool im2col) {
    const Shape& w = d.inputs[1].shape;
    n_ = static_cast<size_t>(w[0]);
    k_ = static_cast<size_t>(w.elements()) / n_;
    m_ = static_cast<size_t>(d.outputs[0].shape.elements()) / n_;
    if (im2col) {
      g_ = ConvGeometry::of(d);
      pad_ = static_cast<int8_t>(in.zero_point);
      scratch_.resize(m_ * k_);
    }
    PH_ASSIGN_OR_RETURN(std::vector<float> scales, weight_scales(*d.node, d.inputs[1], n_));
    const int32_t* bias = nullptr;
    if (d.inputs.size() > 2 && d.inputs[2].present) {
      PH_RETURN_IF_ERROR(check_bias(*d.node, d.inputs[2], in.scale, scales));
      bias = static_cast<const int32_t*>(d.inputs[2].constant);
    }
    for (float& s : scales) s = in.scale * s / out.scale;
    bounds_ = int8_bounds(fused_activation(*d.node), out);
    zero_ = out.zero_point;
    const auto* weights = static_cast<const int8_t*>(d.inputs[1].constant);
    packed_.resize(gemm_.packed_bytes(n_, k_));
    gemm_.pack(weights, n_, k_, bias, in.zero_point, scales.data(), packed_.data());
    // Real layers' sums stay far inside int32 after scaling: the cheaper epilogue then gives the
    // same bytes.
    run_ = gemm_.run_in_range && reference::qc8_sums_in_range(n_, k_, weights, bias, scales.data())
               ? gemm_.run_in_range
               : gemm_.run;
    return Status::ok();
  }
  size_t packed_weight_bytes() const override { return packed_.size(); }
  Status run(pthreadpool_t pool) override {
    const size_t column_tile = column_tile_for(pool ? pthreadpool_get_threads_count(pool) : 1);
    if (column_tile < n_) {
      parallelize_2d_tile_2d(
          pool,
          [](void* ctx, size_t row, size_t column, size_t rows, size_t columns) {
            auto* k = static_cast<GemmConv*>(ctx);
            k->multiply(k->in_ + row * k->k_, row, rows, column, columns);
          },
          this, m_, n_, kGemmRows, column_tile, 0);
      return Status::ok();
    }
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t rows) {
          auto* k = static_cast<GemmConv*>(ctx);
          const int8_t* a = k->in_ + start * k->k_;
          if (!k->scratch_.empty()) {
            k->gather_rows(start, rows);
            a = k->scratch_.data() + start * k->k_;
          }
          k->multiply(a, start, rows, 0, k->n_);
        },
        this, m_, kGemmRows, 0);
    return Status::ok();
  }

 private:
  // Output rows [row, row + rows), channels [column, column + columns) (column a multiple of the
  // GEMM's block width), from `a`: those rows of the input or of the im2col matrix.
  void multiply(const int8_t* a, size_t row, size_t rows, size_t column, size_t columns) const {
    run_(rows, columns, k_, a, k_, packed_.data() + gemm_.packed_bytes(column, k_), zero_,
         bounds_.min, bounds_.max, out_ + row * n_ + column, n_);
  }

  // Rows [start, start + rows) of the im2col matrix: kernel rows, kernel columns, channels.
  void gather_rows(size_t start, size_t rows) {
    const ConvGeometry& g = g_;
    const auto c = static_cast<size_t>(g.c);
    // Divide once per block, then step through the pixels (a division per row cost more than
    // the copy for small channel counts).
    const auto first = static_cast<int64_t>(start);
    int64_t n = first / (g.oh * g.ow), oy = first / g.ow % g.oh, ox = first % g.ow;
    for (size_t r = start; r < start + rows; ++r, ++ox) {
      if (ox == g.ow) {
        ox = 0;
        if (++oy == g.oh) oy = 0, ++n;
      }
      int8_t* dst = scratch_.data() + r * k_;
      const int64_t x0 = ox * g.sw - g.pl;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
        // Without dilation a kernel row inside the image is one contiguous run of pixels.
        if (g.dw == 1 && iy >= 0 && iy < g.h && x0 >= 0 && x0 + g.kw <= g.w) {
          const size_t run = static_cast<size_t>(g.kw) * c;
          std::memcpy(dst, in_ + ((n * g.h + iy) * g.w + x0) * g.c, run);
          dst += run;
          continue;
        }
        for (int64_t kx = 0; kx < g.kw; ++kx, dst += c) {
          const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
          const bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
          const int8_t* src = inside ? in_ + ((n * g.h + iy) * g.w + ix) * g.c : nullptr;
          if (inside)
            std::memcpy(dst, src, c);
          else
            std::memset(dst, static_cast<uint8_t>(pad_), c);
        }
      }
    }
  }

  // Output channels per task on `threads` threads: all of them, unless the rows make fewer than
  // four tasks per thread (MobileNetV2's 7x7 layers: 49 rows, one task; its 14x14 ones: 196
  // rows, four tasks, three of them large). Then the channels are split too, in whole pairs of
  // blocks (the GEMM's widest tile), rounded down so that the tasks come out even. im2col rows
  // are gathered per row task, so those keep whole rows.
  size_t column_tile_for(size_t threads) const {
    const size_t row_tasks = (m_ + kGemmRows - 1) / kGemmRows;
    if (threads <= 1 || !scratch_.empty() || row_tasks >= kTasksPerThread * threads) return n_;
    const size_t pair = 2 * gemm_.nr;
    const size_t pairs = (n_ + pair - 1) / pair;
    const size_t groups = (kTasksPerThread * threads + row_tasks - 1) / row_tasks;
    return std::max<size_t>(1, pairs / groups) * pair;
  }

  static constexpr size_t kGemmRows = 64;       // rows per thread-pool task
  static constexpr size_t kTasksPerThread = 4;  // fewer row tasks: output channels split too
  const Qc8Gemm& gemm_;
  decltype(Qc8Gemm::run) run_ = nullptr;  // run or run_in_range (create)
  size_t m_ = 0, n_ = 0, k_ = 0;
  ConvGeometry g_;
  int8_t pad_ = 0;               // the input zero point: padding that adds 0
  std::vector<int8_t> scratch_;  // im2col rows, sized at create
  Int8Bounds bounds_;
  int32_t zero_ = 0;
  std::vector<uint8_t> packed_;
};

bool is_pointwise(const schema::Conv2DOptions& o, const Shape& w) {
  return w[1] == 1 && w[2] == 1 && o.stride_h() == 1 && o.stride_w() == 1 && o.pad_top() == 0 &&
         o.pad_left() == 0 && o.pad_bottom() == 0 && o.pad_right() == 0;
}

// Bytes of im2col scratch beyond which a convolution stays in XNNPACK (its indirection buffer
// needs no copy of the input).
constexpr size_t kMaxScratchBytes = size_t{16} << 20;
constexpr int64_t kMinIm2colChannels = 1;

// ADD, SUB and MUL with broadcasting, in float per element:
//   ADD/SUB: out = (a - za) * (sa / so) +- (b - zb) * (sb / so) + zo
//   MUL:     out = (a - za) * (b - zb) * (sa * sb / so) + zo
// rounded half to even and clamped to the fused activation. The output is walked as rows of its
// last dimension; each operand steps 1 or 0 (broadcast) along it.
class Binary final : public OwnInt8Kernel {
 public:
  Binary(const NodeDesc& d, const KernelVariant& v, const QParams& a, const QParams& b,
         const QParams& out)
      : OwnInt8Kernel(v),
        op_(d.node->op()),
        za_(a.zero_point),
        zb_(b.zero_point),
        zo_(out.zero_point),
        bounds_(int8_bounds(fused_activation(*d.node), out)) {
    if (op_ == OpKind::MUL) {
      ma_ = a.scale * b.scale / out.scale;
    } else {
      ma_ = a.scale / out.scale;
      mb_ = (op_ == OpKind::SUB ? -b.scale : b.scale) / out.scale;
    }
    const Shape& o = d.outputs[0].shape;
    rank_ = o.rank();
    for (size_t k = 0; k < rank_; ++k) out_dims_[k] = o[k];
    for (size_t i = 0; i < 2; ++i) {
      const Shape& s = d.inputs[i].shape;
      // Align to the right (numpy broadcasting); a dimension of 1 steps 0.
      int64_t stride = 1;
      for (size_t k = rank_; k-- > 0;) {
        const size_t from_right = rank_ - 1 - k;
        const int64_t dim = from_right < s.rank() ? s[s.rank() - 1 - from_right] : 1;
        strides_[i][k] = dim == 1 ? 0 : stride;
        stride *= dim;
      }
    }
    if (rank_ == 0) {  // a scalar: one row of one value
      rank_ = 1;
      out_dims_[0] = 1;
    }
    inner_ = static_cast<size_t>(out_dims_[rank_ - 1]);
    rows_ = static_cast<size_t>(o.elements()) / inner_;
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    a_ = static_cast<const int8_t*>(in[0]);
    b_ = static_cast<const int8_t*>(in[1]);
    out_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t pool) override {
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t count) {
          static_cast<Binary*>(ctx)->run_rows(start, count);
        },
        this, rows_, std::max<size_t>(1, kBlock / inner_), 0);
    return Status::ok();
  }

 private:
  void run_rows(size_t start, size_t count) {
    const auto lo = static_cast<float>(bounds_.min - zo_);
    const auto hi = static_cast<float>(bounds_.max - zo_);
    const int64_t sa = strides_[0][rank_ - 1], sb = strides_[1][rank_ - 1];
    // Index of the first row over the outer dimensions (divisions once per block), then an
    // odometer: the operands' offsets follow it without a division per row.
    int64_t idx[Shape::kMaxDims] = {};
    int64_t oa = 0, ob = 0;
    auto rest = static_cast<int64_t>(start);
    for (size_t k = rank_ - 1; k-- > 0;) {
      idx[k] = rest % out_dims_[k];
      rest /= out_dims_[k];
      oa += idx[k] * strides_[0][k];
      ob += idx[k] * strides_[1][k];
    }
    for (size_t r = start; r < start + count; ++r) {
      if (r > start)
        for (size_t k = rank_ - 1; k-- > 0;) {
          oa += strides_[0][k];
          ob += strides_[1][k];
          if (++idx[k] < out_dims_[k]) break;
          oa -= idx[k] * strides_[0][k];
          ob -= idx[k] * strides_[1][k];
          idx[k] = 0;
        }
      const int8_t* a = a_ + oa;
      const int8_t* b = b_ + ob;
      int8_t* o = out_ + r * inner_;
      // One loop per stride pair and operator, so each inner loop is branch-free and vectorizes.
      // Locals, not members: the int8 stores may alias anything reachable through `this`, which
      // would make the compiler reload every member per value and keep the loop scalar.
      const float ma = ma_, mb = mb_;
      if (op_ == OpKind::MUL)
        row(a, sa, b, sb, o, lo, hi, [ma](float x, float y) { return x * y * ma; });
      else
        row(a, sa, b, sb, o, lo, hi, [ma, mb](float x, float y) { return x * ma + y * mb; });
    }
  }

  template <typename F>
  void row(const int8_t* a, int64_t sa, const int8_t* b, int64_t sb, int8_t* o, float lo, float hi,
           F f) const {
    if (sa == 1 && sb == 1)
      row_strided<1, 1>(a, b, o, lo, hi, f);
    else if (sa == 1)
      row_strided<1, 0>(a, b, o, lo, hi, f);
    else if (sb == 1)
      row_strided<0, 1>(a, b, o, lo, hi, f);
    else
      row_strided<0, 0>(a, b, o, lo, hi, f);
  }

  template <int SA, int SB, typename F>
  void row_strided(const int8_t* a, const int8_t* b, int8_t* o, float lo, float hi, F f) const {
    // Adding and removing 1.5 * 2^23 rounds half to even like std::nearbyint for |v| < 2^22
    // (v is clamped to the int8 range first), without a library call per value.
    constexpr float kMagic = 12582912.f;
    const int32_t za = za_, zb = zb_, zo = zo_;
    const size_t n = inner_;
    for (size_t i = 0; i < n; ++i) {
      const auto x = static_cast<float>(a[i * SA] - za);
      const auto y = static_cast<float>(b[i * SB] - zb);
      const float v = std::min(std::max(f(x, y), lo), hi);
      o[i] = static_cast<int8_t>(static_cast<int32_t>((v + kMagic) - kMagic) + zo);
    }
  }

  OpKind op_;
  int32_t za_, zb_, zo_;
  Int8Bounds bounds_;
  float ma_ = 1.f, mb_ = 1.f;
  size_t rank_ = 0, inner_ = 1, rows_ = 0;
  int64_t out_dims_[Shape::kMaxDims] = {};
  int64_t strides_[2][Shape::kMaxDims] = {};
  const int8_t* a_ = nullptr;
  const int8_t* b_ = nullptr;
};

// RESHAPE: the bytes do not change.
class Copy final : public OwnInt8Kernel {
 public:
  Copy(const NodeDesc& d, const KernelVariant& v)
      : OwnInt8Kernel(v), bytes_(static_cast<size_t>(d.inputs[0].shape.elements())) {}
  Status run(pthreadpool_t) override {
    v_.copy(in_, bytes_, out_);
    return Status::ok();
  }

 private:
  size_t bytes_;
};

// TRANSPOSE, DEPTH_TO_SPACE, nearest RESIZE, SLICE and CHANNEL_SHUFFLE: each output byte comes from
// one input byte, whose offset is tabulated at create (the tensors are small enough in the models
// this serves; the table costs 4 bytes per output value).
class Gather final : public OwnInt8Kernel {
 public:
  Gather(const KernelVariant& v, std::vector<uint32_t> source)
      : OwnInt8Kernel(v), source_(std::move(source)) {}
  Status run(pthreadpool_t) override {
    for (size_t i = 0; i < source_.size(); ++i) out_[i] = in_[source_[i]];
    return Status::ok();
  }

 private:
  std::vector<uint32_t> source_;
};

// Row-major strides of a shape.
std::array<int64_t, Shape::kMaxDims> strides_of(const Shape& s) {
  std::array<int64_t, Shape::kMaxDims> st{};
  int64_t stride = 1;
  for (size_t d = s.rank(); d-- > 0;) {
    st[d] = stride;
    stride *= s[d];
  }
  return st;
}

std::vector<uint32_t> transpose_sources(const NodeDesc& d) {
  const Shape& in = d.inputs[0].shape;
  const Shape& out = d.outputs[0].shape;
  const auto* perm = d.node->options_as_TransposeOptions()->perm();
  const auto in_st = strides_of(in);
  std::vector<uint32_t> src(static_cast<size_t>(out.elements()));
  std::array<int64_t, Shape::kMaxDims> idx{};
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t offset = 0;
    for (size_t k = 0; k < out.rank(); ++k)
      offset +=
          idx[k] * in_st[static_cast<size_t>(perm->Get(static_cast<flatbuffers::uoffset_t>(k)))];
    src[i] = static_cast<uint32_t>(offset);
    for (size_t k = out.rank(); k-- > 0;) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return src;
}

// DCR order, as the float kernel (XNNPACK): output (y*b+i, x*b+j, c) reads channel (i*b+j)*C+c.
std::vector<uint32_t> depth_to_space_sources(const NodeDesc& d) {
  const Shape& in = d.inputs[0].shape;
  const Shape& out = d.outputs[0].shape;
  const int64_t b = d.node->options_as_DepthToSpaceOptions()->block_size();
  std::vector<uint32_t> src;
  src.reserve(static_cast<size_t>(out.elements()));
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t y = 0; y < out[1]; ++y)
      for (int64_t x = 0; x < out[2]; ++x)
        for (int64_t c = 0; c < out[3]; ++c) {
          const int64_t channel = ((y % b) * b + (x % b)) * out[3] + c;
          src.push_back(
              static_cast<uint32_t>(((n * in[1] + y / b) * in[2] + x / b) * in[3] + channel));
        }
  return src;
}

// The same source pixel as the float kernel: floor(coordinate + 0.5), clamped.
std::vector<uint32_t> resize_nearest_sources(const NodeDesc& d) {
  const Shape& in = d.inputs[0].shape;
  const Shape& out = d.outputs[0].shape;
  const auto mode = coordinates_of(d.node->options_as_ResizeOptions()->coordinates());
  auto source = [mode](int64_t dst, int64_t size_in, int64_t size_out) {
    const auto s = static_cast<int64_t>(
        std::floor(reference::resize_source_coordinate(dst, size_in, size_out, mode) + 0.5f));
    return std::min(std::max<int64_t>(s, 0), size_in - 1);
  };
  std::vector<uint32_t> src;
  src.reserve(static_cast<size_t>(out.elements()));
  for (int64_t n = 0; n < out[0]; ++n)
    for (int64_t y = 0; y < out[1]; ++y)
      for (int64_t x = 0; x < out[2]; ++x)
        for (int64_t c = 0; c < out[3]; ++c)
          src.push_back(static_cast<uint32_t>(
              ((n * in[1] + source(y, in[1], out[1])) * in[2] + source(x, in[2], out[2])) * in[3] +
              c));
  return src;
}

// SLICE: output index i of dimension d reads begin[d] + i * step[d].
std::vector<uint32_t> slice_sources(const NodeDesc& d) {
  const Shape& in = d.inputs[0].shape;
  const Shape& out = d.outputs[0].shape;
  const auto* o = d.node->options_as_SliceOptions();
  const auto in_st = strides_of(in);
  std::vector<uint32_t> src(static_cast<size_t>(out.elements()));
  std::array<int64_t, Shape::kMaxDims> idx{};
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t offset = 0;
    for (size_t k = 0; k < out.rank(); ++k) {
      const auto f = static_cast<flatbuffers::uoffset_t>(k);
      offset += (o->begin()->Get(f) + idx[k] * (o->step() ? o->step()->Get(f) : 1)) * in_st[k];
    }
    src[i] = static_cast<uint32_t>(offset);
    for (size_t k = out.rank(); k-- > 0;) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
  return src;
}

// CHANNEL_SHUFFLE, as XNNPACK's float operator: output channel j * groups + g of each row reads
// input channel g * (C / groups) + j.
std::vector<uint32_t> channel_shuffle_sources(const NodeDesc& d) {
  const Shape& in = d.inputs[0].shape;
  const int64_t c = in[in.rank() - 1];
  const int64_t groups = d.node->options_as_ChannelShuffleOptions()->groups();
  const int64_t per_group = c / groups;
  std::vector<uint32_t> src;
  src.reserve(static_cast<size_t>(in.elements()));
  for (int64_t row = 0; row < in.elements() / c; ++row)
    for (int64_t j = 0; j < per_group; ++j)
      for (int64_t g = 0; g < groups; ++g)
        src.push_back(static_cast<uint32_t>(row * c + g * per_group + j));
  return src;
}

Result<std::unique_ptr<Kernel>> gather(const NodeDesc& d, const KernelVariant& v, const QParams& in,
                                       const QParams& out,
                                       std::vector<uint32_t> (*sources)(const NodeDesc&)) {
  PH_RETURN_IF_ERROR(require_same(*d.node, in, out));
  if (d.inputs[0].shape.elements() > int64_t{1} << 32)
    return Status(ErrorCode::kUnsupported, node_label(*d.node) + ": tensor too large for int8");
  return std::unique_ptr<Kernel>(new Gather(v, sources(d)));
}

}  // namespace

KernelResult create_own_int8_gemm_kernel(const NodeDesc& d, const QParams& in, const QParams& out) {
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  const OpKind op = d.node->op();
  if (!v.qc8_gemm || (op != OpKind::FULLY_CONNECTED && op != OpKind::CONV_2D)) return not_handled();
  bool im2col = false;
  if (op == OpKind::CONV_2D) {
    const auto* o = d.node->options_as_Conv2DOptions();
    if (o->groups() != 1) return not_handled();  // depthwise and grouped: XNNPACK
    im2col = !is_pointwise(*o, d.inputs[1].shape);
    const auto scratch = static_cast<size_t>(d.outputs[0].shape.elements() / d.outputs[0].shape[3] *
                                             d.inputs[1].shape.elements() / d.inputs[1].shape[0]);
    // Copying a few channels per tap costs more than the GEMM saves (a 3-channel stem measured
    // about 2x slower than XNNPACK's convolution in bench_mobilenet_convs).
    if (im2col && (scratch > kMaxScratchBytes || d.inputs[0].shape[3] < kMinIm2colChannels))
      return not_handled();
  }
  auto k = std::make_unique<GemmConv>(v);
  PH_RETURN_IF_ERROR(k->create(d, in, out, im2col));
  return std::unique_ptr<Kernel>(std::move(k));
}

KernelResult create_own_int8_kernel(const NodeDesc& d, const QParams& in, const QParams& out) {
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  switch (d.node->op()) {
    case OpKind::CLAMP:
      return std::unique_ptr<Kernel>(new Lookup(d, v, unary::clamp, in, out));
    case OpKind::HARD_SWISH:
      return std::unique_ptr<Kernel>(new Lookup(d, v, hard_swish_table_s8(in, out)));
    case OpKind::SIGMOID:
      return std::unique_ptr<Kernel>(new Lookup(d, v, unary::sigmoid, in, out));
    case OpKind::TANH:
      return std::unique_ptr<Kernel>(new Lookup(d, v, unary::tanh, in, out));
    case OpKind::ABS:
      return std::unique_ptr<Kernel>(new Lookup(d, v, unary::abs, in, out));
    case OpKind::SILU:
      return std::unique_ptr<Kernel>(new Lookup(d, v, unary::silu, in, out));
    case OpKind::LEAKY_RELU:
      return std::unique_ptr<Kernel>(new Lookup(d, v, unary::leaky_relu, in, out));
    case OpKind::CONCATENATION: {
      auto k = std::make_unique<Concatenation>(v);
      PH_RETURN_IF_ERROR(k->create(d, out));
      return std::unique_ptr<Kernel>(std::move(k));
    }
    case OpKind::AVERAGE_POOL_2D:
    case OpKind::MAX_POOL_2D:  // 1x1 windows only reach here; max and average agree on them
      if (d.node->op() == OpKind::MAX_POOL_2D) PH_RETURN_IF_ERROR(require_same(*d.node, in, out));
      return std::unique_ptr<Kernel>(new Pool2D(d, v, in, out));
    case OpKind::ADD:
    case OpKind::SUB:
    case OpKind::MUL: {
      PH_ASSIGN_OR_RETURN(const QParams b, activation_params(*d.node, d.inputs[1], "input 1"));
      return std::unique_ptr<Kernel>(new Binary(d, v, in, b, out));
    }
    case OpKind::RESHAPE:
      PH_RETURN_IF_ERROR(require_same(*d.node, in, out));
      return std::unique_ptr<Kernel>(new Copy(d, v));
    case OpKind::TRANSPOSE:
      return gather(d, v, in, out, transpose_sources);
    case OpKind::DEPTH_TO_SPACE:
      return gather(d, v, in, out, depth_to_space_sources);
    case OpKind::RESIZE:  // nearest (XNNPACK takes bilinear)
      return gather(d, v, in, out, resize_nearest_sources);
    case OpKind::SLICE:
      return gather(d, v, in, out, slice_sources);
    case OpKind::CHANNEL_SHUFFLE:
      return gather(d, v, in, out, channel_shuffle_sources);
    case OpKind::TRANSPOSE_CONV_2D:
      return create_own_int8_transpose_conv(d, in, out);
    // XNNPACK's operators, float-only operators, and the conversions.
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
    case OpKind::FULLY_CONNECTED:
    case OpKind::MEAN:
    case OpKind::PAD:
    case OpKind::DIV:
    case OpKind::SOFTMAX:
    case OpKind::PRELU:
    case OpKind::QUANTIZE:
    case OpKind::DEQUANTIZE:
      return not_handled();
  }
  return unlisted_operator(d, "Polyhead's own int8");
}

}  // namespace polyhead::kernels
