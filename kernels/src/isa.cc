#include "polyhead/kernels/isa.h"

#include <cpuinfo.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "polyhead/kernels/kernel_variant.h"

namespace polyhead::kernels {
namespace {

bool cpu_supports(Isa isa) {
  // cpuinfo_initialize is idempotent; XNNPACK calls it too.
  if (!cpuinfo_initialize()) return isa == Isa::kReference || isa == Isa::kGeneric;
  switch (isa) {
    case Isa::kReference:
    case Isa::kGeneric:
      return true;
    case Isa::kNeon:
      return cpuinfo_has_arm_neon();
    case Isa::kAvx2:
      return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3();
    case Isa::kAvx512:
      return cpuinfo_has_x86_avx512f();
    case Isa::kAvx512Vnni:
      return cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() &&
             cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512vnni() &&
             cpuinfo_has_x86_avx512vbmi();
  }
  return false;
}

// -1 while nothing is forced; otherwise the forced Isa's value.
std::atomic<int> forced{-1};

struct Choice {
  Isa isa = Isa::kReference;
  Status status;
};

Choice choose_from_environment() {
  Choice c;
  const char* env = std::getenv("POLYHEAD_ISA");
  if (env && *env) {
    Result<Isa> parsed = parse_isa(env);
    if (!parsed) {
      c.status = Status(ErrorCode::kInvalidArgument, "POLYHEAD_ISA: " + parsed.status().message());
    } else if (!isa_available(*parsed)) {
      c.status = Status(ErrorCode::kUnsupported,
                        std::string("POLYHEAD_ISA=") + env +
                            " is not available here (this build on this CPU offers: " +
                            available_isa_names() + ")");
    } else {
      c.isa = *parsed;
    }
    return c;
  }
  for (Isa isa : kAllIsas)
    if (isa_available(isa)) c.isa = isa;  // the last available is the most specialised
  return c;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kReference:
      return "reference";
    case Isa::kGeneric:
      return "generic";
    case Isa::kNeon:
      return "neon";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "unknown";
}

Result<Isa> parse_isa(std::string_view name) {
  for (Isa isa : kAllIsas)
    if (name == isa_name(isa)) return isa;
  return Status(ErrorCode::kInvalidArgument,
                "'" + std::string(name) +
                    "' is not an instruction set (expected reference, generic, neon, avx2, "
                    "avx512 or avx512vnni)");
}

bool isa_available(Isa isa) {
  return kernel_variant(isa) != nullptr && cpu_supports(isa);
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas)
    if (isa_available(isa)) out.push_back(isa);
  return out;
}

std::string available_isa_names() {
  std::string out;
  for (Isa isa : available_isas()) out += (out.empty() ? "" : ", ") + std::string(isa_name(isa));
  return out;
}

Result<Isa> selected_isa() {
  const int f = forced.load(std::memory_order_acquire);
  if (f >= 0) return static_cast<Isa>(f);
  static const Choice choice = choose_from_environment();  // once per process
  if (!choice.status.is_ok()) return choice.status;
  return choice.isa;
}

Status force_isa(Isa isa) {
  if (!isa_available(isa))
    return Status(ErrorCode::kUnsupported, std::string("instruction set ") + isa_name(isa) +
                                               " is not available here (this build on this CPU "
                                               "offers: " +
                                               available_isa_names() + ")");
  forced.store(static_cast<int>(isa), std::memory_order_release);
  return Status::ok();
}

void clear_forced_isa() {
  forced.store(-1, std::memory_order_release);
}

bool cpu_has_fp16_arithmetic() {
  return cpuinfo_initialize() && cpuinfo_has_arm_neon_fp16_arith();
}

}  // namespace polyhead::kernels

namespace polyhead::kernels {

size_t l2_cache_bytes() {
  if (cpuinfo_initialize() && cpuinfo_get_l2_caches_count() > 0)
    if (const auto* c = cpuinfo_get_l2_cache(0); c && c->size > 0) return c->size;
  return size_t{1} << 20;
}

}  // namespace polyhead::kernels
