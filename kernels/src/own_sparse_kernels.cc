// Polyhead's own float kernel for layers whose weights come block-sparse (OperandDesc::sparse):
// 1x1 convolutions at stride 1 with one group and no padding, and fully connected layers. In
// NHWC both are a GEMM over rows of the input (pixels, or batch rows), so both run the variant's
// SparseGemmF32 on the weights as the model stores them: nothing is expanded or packed. The
// runtime hands a node sparse weights only where use_sparse_kernel() chose this kernel, so a node
// it cannot run is an error, never a fallback to a dense kernel that has no dense weights.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "own_kernels.h"
#include "polyhead/kernels/isa.h"
#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/shape_inference.h"
#include "polyhead/kernels/sparse_choice.h"

namespace polyhead::kernels {
namespace {

class SparseGemm final : public Kernel {
 public:
  SparseGemm(const NodeDesc& d, const SparseGemmF32& gemm)
      : gemm_(gemm), w_(*d.inputs[1].sparse), act_(fused_activation(*d.node)) {
    k_ = w_.cols;
    n_ = w_.rows;
    m_ = n_ ? static_cast<size_t>(d.outputs[0].shape.elements()) / n_ : 0;
    has_bias_ = d.inputs.size() > 2 && d.inputs[2].present;
    const size_t line = kLineFloats * sizeof(float);
    scratch_floats_ = (gemm_.scratch_bytes(w_) + line - 1) / line * kLineFloats;
  }

  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    a_ = static_cast<const float*>(in[0]);
    bias_ = has_bias_ ? static_cast<const float*>(in[2]) : nullptr;
    out_ = static_cast<float*>(out[0]);
    const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
    // One working memory per thread that can run a task at once: sized here, so run allocates
    // nothing (and setting up again for the same pool allocates nothing either).
    const size_t slots = std::min(threads, kMaxSlots);
    if (scratch_floats_ && slots_ != slots) {
      // Each at a cache line: the grouped path loads whole lines of it.
      scratch_.assign(slots * scratch_floats_ + kLineFloats, 0.f);
      const auto address = reinterpret_cast<uintptr_t>(scratch_.data());
      scratch_base_ =
          scratch_.data() + (kLineFloats - address / sizeof(float) % kLineFloats) % kLineFloats;
      slots_ = slots;
      for (auto& busy : busy_) busy.store(false, std::memory_order_relaxed);
    }
    // About four tasks per thread: whole 16-row (pixel) tiles, and where there are too few of
    // those (a 7x7 layer, a fully connected layer on one row), ranges of block rows too.
    const size_t block_rows = n_ / w_.block_rows;
    rows_per_task_ = m_ ? m_ : 1;
    block_rows_per_task_ = block_rows ? block_rows : 1;
    if (threads > 1) {
      const size_t wanted = 4 * threads;
      const size_t row_tiles = (m_ + kRowAlign - 1) / kRowAlign;
      const size_t row_splits = std::max<size_t>(1, std::min(row_tiles, wanted));
      const size_t per_task = (m_ + row_splits - 1) / row_splits;
      rows_per_task_ =
          std::max<size_t>(kRowAlign, (per_task + kRowAlign - 1) / kRowAlign * kRowAlign);
      const size_t row_tasks = std::max<size_t>(1, (m_ + rows_per_task_ - 1) / rows_per_task_);
      if (row_tasks < wanted && block_rows > 1) {
        const size_t splits = (wanted + row_tasks - 1) / row_tasks;
        block_rows_per_task_ = (block_rows + splits - 1) / splits;
      }
    }
    return Status::ok();
  }

  Status run(pthreadpool_t pool) override {
    // A pool with more threads than working memories (set up for another one) runs here alone.
    if (pool && scratch_floats_ && pthreadpool_get_threads_count(pool) > slots_) pool = nullptr;
    parallelize_2d_tile_2d(pool, run_task, this, m_, n_ / w_.block_rows, rows_per_task_,
                           block_rows_per_task_, 0);
    return Status::ok();
  }

 private:
  // Rows [row, row + rows) of the input over block rows [block_row, block_row + block_rows) of
  // the weights: a view of those block rows (their row_starts index the whole arrays).
  static void run_task(void* ctx, size_t row, size_t block_row, size_t rows, size_t block_rows) {
    auto* k = static_cast<SparseGemm*>(ctx);
    SparseMatrix part = k->w_;
    part.rows = block_rows * part.block_rows;
    part.row_starts += block_row;
    const size_t o = block_row * part.block_rows;
    const size_t slot = k->claim_slot();
    k->gemm_.run(rows, k->a_ + row * k->k_, k->k_, part, k->bias_ ? k->bias_ + o : nullptr,
                 k->act_.min, k->act_.max, k->out_ + row * k->n_ + o, k->n_,
                 slot < k->slots_ ? k->scratch_base_ + slot * k->scratch_floats_ : nullptr);
    if (slot < k->slots_) k->busy_[slot].store(false, std::memory_order_release);
  }

  // A working memory no other running task holds: at most as many tasks run at once as the pool
  // has threads, and there is one per thread, so the scan always finds one (no waiting, no lock).
  size_t claim_slot() {
    for (size_t s = 0; s < slots_; ++s)
      if (!busy_[s].exchange(true, std::memory_order_acquire)) return s;
    return kMaxSlots;  // no working memory needed (scratch_floats_ 0): none claimed
  }

  // Rows per task: a multiple of the direct path's tiles and of the grouped path's smaller ones,
  // so only a layer's last task ends in a partial tile.
  static constexpr size_t kRowAlign = 16;
  static constexpr size_t kMaxSlots = 64;
  static constexpr size_t kLineFloats = 16;  // a 64-byte cache line
  const SparseGemmF32& gemm_;
  SparseMatrix w_;  // a view of the model's bytes
  ActivationRange act_;
  size_t m_ = 0, n_ = 0, k_ = 0;
  bool has_bias_ = false;
  size_t rows_per_task_ = 1, block_rows_per_task_ = 1;
  size_t scratch_floats_ = 0, slots_ = 0;
  std::vector<float> scratch_;     // slots_ working memories of scratch_floats_, from scratch_base_
  float* scratch_base_ = nullptr;  // the first cache line in scratch_
  std::atomic<bool> busy_[kMaxSlots] = {};
  const float* a_ = nullptr;
  const float* bias_ = nullptr;
  float* out_ = nullptr;
};

}  // namespace

KernelResult create_own_sparse_kernel(const NodeDesc& d) {
  const std::string where = op_kind_name(d.node->op()) + " node '" + d.node->name()->str() + "'";
  if (d.inputs.size() < 2 || !d.inputs[1].sparse) {
    for (size_t i = 0; i < d.inputs.size(); ++i)
      if (d.inputs[i].sparse)
        return Status(ErrorCode::kUnsupported, where + ": input " + std::to_string(i) +
                                                   " is block-sparse; only weights (input 1) "
                                                   "may be");
    return Status(ErrorCode::kInternal, where + ": no block-sparse weights");
  }
  const std::string refusal = sparse_kernel_refusal(d, *d.inputs[1].sparse);
  if (!refusal.empty())
    return Status(ErrorCode::kUnsupported, where + " has block-sparse weights: " + refusal);
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  // A variant without one (armv7 NEON: no fused multiply-add) runs the generic table's.
  const SparseGemmF32* gemm = v.sparse_gemm_f32;
  if (!gemm) gemm = kernel_variant(Isa::kGeneric)->sparse_gemm_f32;
  return std::unique_ptr<Kernel>(new SparseGemm(d, *gemm));
}

}  // namespace polyhead::kernels
