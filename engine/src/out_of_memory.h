// The engine's fallible entry points that build objects (load, create, prepare) answer running out
// of memory with ErrorCode::kOutOfMemory instead of letting std::bad_alloc from a container escape:
// the runtime reports errors as values (status.h).
#pragma once

#include <new>
#include <string>

#include "polyhead/status.h"

namespace polyhead::detail {

// "<function>: out of memory"; without a message when even that cannot be allocated.
inline Status out_of_memory(const char* function) noexcept {
  try {
    return Status(ErrorCode::kOutOfMemory, std::string(function) + ": out of memory");
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::kOutOfMemory, std::string());
  }
}

// Runs `body` (returning a Status or Result) and turns std::bad_alloc into kOutOfMemory. Whatever
// `body` made before the failure is released by its owners as the exception unwinds.
template <typename Body>
auto answer_out_of_memory(const char* function, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return out_of_memory(function);
  }
}

}  // namespace polyhead::detail
