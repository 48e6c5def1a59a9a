// int8 constant PAD as whole rows (docs/int8.md): the byte version of the float variants::pad.
// Trailing dimensions without padding merge into one contiguous run, so an NHWC pad of H and W
// copies rows of W * C bytes and a channel pad copies C bytes then fills the rest; each output row
// is filled, copied and filled again in three contiguous pieces. XNNPACK's x8 pad measured
// 544 us for [1,256,256,3] -> [1,258,258,3]; rows of memcpy/memset are memory speed.
// A pad of the last dimension only (BlazeFace's 24 -> 28 channel shortcuts) has one short row per
// pixel: the whole output is filled once, then each row copied in fixed 16-byte pieces, the last
// one overlapping, since per-row coordinates and variable-length copies cost more than the bytes.
#include <cstring>

#include "int8_dispatch.h"

namespace polyhead::kernels {
namespace {

class Pad final : public Kernel {
 public:
  static constexpr int64_t kShortRow = 64;  // bytes
  Status create(const NodeDesc& d, const QParams& in, const QParams& out) {
    const schema::Node& node = *d.node;
    PH_RETURN_IF_ERROR(require_same(node, in, out));
    const auto* o = node.options_as_PadOptions();
    const Shape& is = d.inputs[0].shape;
    const Shape& os = d.outputs[0].shape;
    rank_ = is.rank();
    for (size_t k = 0; k < rank_; ++k) {
      in_[k] = is[k];
      out_[k] = os[k];
      before_[k] = o->before()->Get(static_cast<flatbuffers::uoffset_t>(k));
    }
    // The pad value as XNNPACK's operator had it: the constant quantized with the output's
    // parameters (round half to even, clamped).
    value_ = quantize_s8(o->value(), out);
    total_ = os.elements();
    // Merge every trailing dimension that has no padding into the one before it.
    while (rank_ >= 2 && in_[rank_ - 1] == out_[rank_ - 1]) {
      in_[rank_ - 2] *= in_[rank_ - 1];
      out_[rank_ - 2] *= out_[rank_ - 1];
      before_[rank_ - 2] *= in_[rank_ - 1];
      --rank_;
    }
    last_only_ = true;  // rank 0 never reaches the row loops (run copies its one value)
    for (size_t k = 0; k + 1 < rank_; ++k) last_only_ = last_only_ && in_[k] == out_[k];
    return Status::ok();
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    input_ = static_cast<const int8_t*>(in[0]);
    output_ = static_cast<int8_t*>(out[0]);
    return Status::ok();
  }
  Status run(pthreadpool_t) override {
    if (total_ == 0) return Status::ok();
    if (rank_ == 0) {
      output_[0] = input_[0];
      return Status::ok();
    }
    // Locals, not members: the int8 stores may alias anything reachable through `this`.
    const int8_t value = value_;
    const int8_t* const input = input_;
    int8_t* const output = output_;
    const auto fill = static_cast<int>(static_cast<uint8_t>(value));
    const int64_t row = out_[rank_ - 1], row_in = in_[rank_ - 1], lead = before_[rank_ - 1];
    const int64_t rows = total_ / row;
    if (last_only_ && row_in >= kPiece) {
      std::memset(output, fill, static_cast<size_t>(total_));
      for (int64_t r = 0; r < rows; ++r)
        copy_row(output + r * row + lead, input + r * row_in, row_in);
      return Status::ok();
    }
    int64_t index[Shape::kMaxDims] = {};  // output coordinates of the current row (last unused)
    for (int64_t r = 0; r < rows; ++r) {
      int8_t* dst = output + r * row;
      bool inside = true;
      int64_t source = 0;
      for (size_t k = 0; k + 1 < rank_; ++k) {
        const int64_t x = index[k] - before_[k];
        inside = inside && x >= 0 && x < in_[k];
        source = source * in_[k] + x;
      }
      if (inside && row <= kShortRow) {
        // Short rows (under 16 bytes of input on a last-dimension pad, or short rows of a pad
        // of several dimensions): plain loops, cheaper than three library calls per row.
        const int8_t* src = input + source * row_in;
        for (int64_t k = 0; k < lead; ++k) dst[k] = value;
        for (int64_t k = 0; k < row_in; ++k) dst[lead + k] = src[k];
        for (int64_t k = lead + row_in; k < row; ++k) dst[k] = value;
      } else if (inside) {
        std::memset(dst, fill, static_cast<size_t>(lead));
        std::memcpy(dst + lead, input + source * row_in, static_cast<size_t>(row_in));
        std::memset(dst + lead + row_in, fill, static_cast<size_t>(row - lead - row_in));
      } else {
        std::memset(dst, fill, static_cast<size_t>(row));
      }
      for (size_t k = rank_ - 1; k-- > 0;) {
        if (++index[k] < out_[k]) break;
        index[k] = 0;
      }
    }
    return Status::ok();
  }

 private:
  static constexpr int64_t kPiece = 16;  // bytes: one 128-bit register (SSE, NEON)
  // n >= kPiece bytes as fixed-size pieces (single vector moves), the last one ending at n.
  static void copy_row(int8_t* dst, const int8_t* src, int64_t n) {
    int64_t k = 0;
    for (; k + kPiece < n; k += kPiece) std::memcpy(dst + k, src + k, kPiece);
    std::memcpy(dst + n - kPiece, src + n - kPiece, kPiece);
  }

  size_t rank_ = 0;
  bool last_only_ = false;  // only the last (merged) dimension is padded
  int64_t in_[Shape::kMaxDims] = {}, out_[Shape::kMaxDims] = {}, before_[Shape::kMaxDims] = {};
  int64_t total_ = 0;
  int8_t value_ = 0;
  const int8_t* input_ = nullptr;
  int8_t* output_ = nullptr;
};

}  // namespace

KernelResult create_own_int8_pad_kernel(const NodeDesc& d, const QParams& in, const QParams& out) {
  if (d.node->op() != schema::OpKind::PAD) return not_handled();
  auto k = std::make_unique<Pad>();
  PH_RETURN_IF_ERROR(k->create(d, in, out));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace polyhead::kernels
