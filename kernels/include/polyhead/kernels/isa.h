// Instruction-set variants of Polyhead's own kernels and which one runs.
//
// The variant is chosen once, the first time a kernel asks: $POLYHEAD_ISA if set (reference,
// generic, neon, avx2, avx512, avx512vnni), otherwise the best one this build contains and the CPU
// supports (cpuinfo). force_isa() overrides it for kernels created afterwards (tests, benchmarks).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::kernels {

enum class Isa {
  kReference,   // the portable reference of reference.h: the ground truth
  kGeneric,     // portable C++ with faster data movement; scalar math
  kNeon,        // ARM Advanced SIMD (aarch64 always, armv7 when the CPU reports NEON)
  kAvx2,        // x86 AVX2 + FMA
  kAvx512,      // x86 AVX-512F
  kAvx512Vnni,  // x86 AVX-512F/BW/VL + VNNI + VBMI (Ice Lake, Zen 4): adds an int8 GEMM
                // (VPDPBUSD) for 1x1 convolutions and a 64-byte table lookup (VPERMI2B)
};

// In order from the most portable to the most specialised.
inline constexpr Isa kAllIsas[] = {Isa::kReference, Isa::kGeneric, Isa::kNeon,
                                   Isa::kAvx2,      Isa::kAvx512,  Isa::kAvx512Vnni};

const char* isa_name(Isa isa);
// Parses a POLYHEAD_ISA value; the error lists the accepted names.
Result<Isa> parse_isa(std::string_view name);

// True when this build contains the variant and the running CPU can execute it.
bool isa_available(Isa isa);
std::vector<Isa> available_isas();
// Comma-separated names of available_isas(), for messages.
std::string available_isa_names();

// The variant kernels use: forced, from $POLYHEAD_ISA, or the best available. An unknown or
// unavailable $POLYHEAD_ISA is an error naming the value and what this CPU offers.
Result<Isa> selected_isa();
// Makes kernels created from now on use `isa`; an unavailable one is an error and changes nothing.
Status force_isa(Isa isa);
// Forgets force_isa(): back to $POLYHEAD_ISA or the best available.
void clear_forced_isa();

// The CPU executes IEEE half-precision arithmetic natively (ARMv8.2-A FP16, e.g. Cortex-A55/A76):
// what XNNPACK's f16 operators need.
bool cpu_has_fp16_arithmetic();

// The L2 cache size of the first core as the CPU reports it (cpuinfo); 1 MiB, a common size of
// current cores, where it reports none (some ARM boards and emulators). Kernels choose their
// loop order by it.
size_t l2_cache_bytes();

}  // namespace polyhead::kernels
