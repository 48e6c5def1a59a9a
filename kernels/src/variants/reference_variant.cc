// The reference table: every kernel from reference.cc, the ground truth of test_kernel_variants.
#include "qc8_depthwise.h"
#include "int8_elementwise.h"
#include "variants.h"

namespace polyhead::kernels::variants {

namespace {

// The reference sparse GEMM, which needs no working memory.
size_t no_scratch(const SparseMatrix&) {
  return 0;
}
void sparse_gemm(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                 const float* bias, float min, float max, float* out, size_t out_stride, void*) {
  reference::sparse_gemm_f32(m, a, a_stride, w, bias, min, max, out, out_stride);
}
const SparseGemmF32 kSparseGemm = {no_scratch, sparse_gemm};

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
    &kReferenceQc8Depthwise,  // int8 depthwise convolution
    &kInt8Elementwise,
};

}  // namespace polyhead::kernels::variants
