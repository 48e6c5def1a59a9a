// The process's resident memory as the kernel reports it (/proc/self/status on Linux), for
// `polyhead bench`: the figures a user would see in `top`, independent of how the engine counts.
#pragma once

#include <cstdint>

namespace polyhead::cli {

// Current resident set size (VmRSS) in bytes; 0 where the system does not report it.
uint64_t resident_bytes();
// Peak resident set size since the process started (VmHWM) in bytes; 0 where not reported.
uint64_t peak_resident_bytes();

}  // namespace polyhead::cli
