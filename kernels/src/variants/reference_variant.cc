// The reference table: every kernel from reference.cc, the ground truth of test_kernel_variants.
#include "variants.h"

namespace polyhead::kernels::variants {

const KernelVariant kReference = {
    Isa::kReference,          reference::tanh,      reference::silu,
    reference::softmax,       reference::transpose, reference::resize_nearest,
    reference::concatenation, reference::subsample, reference::copy,
    reference::pad,           reference::slice,     reference::lookup_s8,
    reference::requantize_s8,
};

}  // namespace polyhead::kernels::variants
