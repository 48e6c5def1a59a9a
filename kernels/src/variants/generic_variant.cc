// The portable fast table: shared data movement, scalar math from the reference. Used where no
// SIMD variant is available (armv7 without NEON, x86 without AVX2).
#include "variants.h"

namespace polyhead::kernels::variants {

const KernelVariant kGeneric = {
    Isa::kGeneric,
    reference::tanh,
    reference::silu,
    reference::softmax,
    transpose,
    resize_nearest,
    reference::concatenation,
    subsample,
    reference::copy,
    pad,
    slice,
    lookup_s8,
    reference::requantize_s8,
};

}  // namespace polyhead::kernels::variants
