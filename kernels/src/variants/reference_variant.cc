// The reference table: every kernel from reference.cc, the ground truth of test_kernel_variants.
#include "variants.h"

namespace polyhead::kernels::variants {

namespace {
const SparseGemmF32 kSparseGemm = {reference::sparse_gemm_f32};
}  // namespace

const KernelVariant kReference = {
    Isa::kReference,
    reference::tanh,
    reference::silu,
    reference::softmax,
    reference::transpose,
    reference::resize_nearest,
    reference::concatenation,
    reference::subsample,
    reference::copy,
    reference::pad,
    reference::slice,
    reference::lookup_s8,
    reference::requantize_s8,
    nullptr,
    nullptr,
    nullptr,
    &kSparseGemm,
};

}  // namespace polyhead::kernels::variants
