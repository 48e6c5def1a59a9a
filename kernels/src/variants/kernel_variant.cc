#include "polyhead/kernels/kernel_variant.h"

#include "qc8_depthwise.h"
#include "variants.h"

namespace polyhead::kernels {

const KernelVariant* kernel_variant(Isa isa) {
  switch (isa) {
    case Isa::kReference:
      return &variants::kReference;
    case Isa::kGeneric:
      return &variants::kGeneric;
    case Isa::kNeon:
#ifdef POLYHEAD_HAVE_NEON
      return &variants::kNeon;
#else
      return nullptr;
#endif
    case Isa::kAvx2:
#ifdef POLYHEAD_HAVE_AVX2
      return &variants::kAvx2;
#else
      return nullptr;
#endif
    case Isa::kAvx512:
#ifdef POLYHEAD_HAVE_AVX512
      return &variants::kAvx512;
#else
      return nullptr;
#endif
    case Isa::kAvx512Vnni: {
#ifdef POLYHEAD_HAVE_AVX512
      // The AVX-512 table plus the VNNI GEMM and the VBMI lookup; built on first use, after
      // every table exists.
      static const KernelVariant vnni = [] {
        KernelVariant v = variants::kAvx512;
        v.isa = Isa::kAvx512Vnni;
        v.qc8_gemm = &variants::kVnniQc8Gemm;
        v.lookup_s8 = variants::lookup_s8_vbmi;
        v.qc8_depthwise = &variants::kVnniQc8Depthwise;  // int8 depthwise convolution
        v.qs8_pixel_conv = variants::qs8_pixel_conv_vnni;
        v.qs8_pixel_regroup = variants::qs8_pixel_regroup_vnni;
        return v;
      }();
      return &vnni;
#else
      return nullptr;
#endif
    }
  }
  return nullptr;
}

}  // namespace polyhead::kernels
