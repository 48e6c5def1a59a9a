// The kernel tables each variant file defines, and the portable data-movement kernels that the
// generic and SIMD tables share (moving bytes gains nothing from wider registers once the inner
// loops are contiguous copies).
#pragma once

#include "polyhead/kernels/kernel_variant.h"

namespace polyhead::kernels::variants {

extern const KernelVariant kReference;
extern const KernelVariant kGeneric;
extern const KernelVariant kNeon;    // only with POLYHEAD_HAVE_NEON
extern const KernelVariant kAvx2;    // only with POLYHEAD_HAVE_AVX2
extern const KernelVariant kAvx512;  // only with POLYHEAD_HAVE_AVX512
extern const Qc8Gemm kVnniQc8Gemm;   // only with POLYHEAD_HAVE_AVX512 (AVX-512 VNNI)
// reference::qs8_pixel_conv with VPDPBUSD over 16 pixels; only with POLYHEAD_HAVE_AVX512.
void qs8_pixel_conv_vnni(const reference::Qs8PixelConvRow& row);
// reference::qs8_pixel_regroup with VPERMT2B, 16 dwords per step; only with POLYHEAD_HAVE_AVX512.
void qs8_pixel_regroup_vnni(const int8_t* src, size_t count, size_t step, size_t bytes,
                            uint32_t pad, uint32_t* dwords);
// Table lookup with AVX-512 VBMI; only with POLYHEAD_HAVE_AVX512.
void lookup_s8_vbmi(const int8_t* input, size_t count, const int8_t* table, int8_t* output);

// Transpose with dimensions merged where the permutation keeps them adjacent, contiguous runs
// copied whole and the innermost loop a strided gather.
void transpose(const float* input, const Shape& input_shape, const int32_t* perm, float* output);
// Nearest resize that copies a whole output row when it repeats the previous one (upsampling).
void resize_nearest(const float* input, const Shape& input_shape, int64_t out_h, int64_t out_w,
                    reference::Coordinates mode, float* output);
// Subsample that copies pixels whole when the clamp range is unbounded.
void subsample(const float* input, const Shape& input_shape, const Shape& output_shape,
               int64_t stride_h, int64_t stride_w, float min, float max, float* output);

// Constant padding as whole rows: dimensions without padding merged into the innermost run, each
// output row filled, copied and filled again in three contiguous pieces.
void pad(const float* input, const Shape& input_shape, const int64_t* before,
         const Shape& output_shape, float value, float* output);

// Slice with trailing whole dimensions merged into the innermost run, copied with memcpy when its
// step is 1.
void slice(const float* input, const Shape& input_shape, const int64_t* begin, const int64_t* step,
           const Shape& output_shape, float* output);

// Table lookup unrolled by eight (a load per byte either way: wider registers cannot index a
// 256-entry table without AVX-512 VBMI or NEON's four-register TBL, so every table shares it).
void lookup_s8(const int8_t* input, size_t count, const int8_t* table, int8_t* output);

}  // namespace polyhead::kernels::variants
