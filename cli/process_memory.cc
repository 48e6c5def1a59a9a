#include "cli/process_memory.h"

#include <cstdio>
#include <cstring>

namespace polyhead::cli {
namespace {

// The value of a "Key:   1234 kB" line of /proc/self/status, in bytes.
uint64_t status_field_bytes(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t bytes = 0;
  const size_t key_length = std::strlen(key);
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, key, key_length) != 0 || line[key_length] != ':') continue;
    unsigned long long kib = 0;
    if (std::sscanf(line + key_length + 1, "%llu", &kib) == 1) bytes = kib * 1024ull;
    break;
  }
  std::fclose(f);
  return bytes;
}

}  // namespace

uint64_t resident_bytes() {
  return status_field_bytes("VmRSS");
}

uint64_t peak_resident_bytes() {
  return status_field_bytes("VmHWM");
}

}  // namespace polyhead::cli
