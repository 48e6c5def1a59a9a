#include "cli/soak_checks.h"

#include <algorithm>
#include <cstring>

namespace polyhead::cli {

uint64_t hash_bytes(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0x243f6a8885a308d3ull ^ bytes;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);  // unaligned-safe
    h ^= w * 0x9e3779b97f4a7c15ull;
    h = ((h << 27) | (h >> 37)) * 0xff51afd7ed558ccdull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, bytes - i);
  h ^= tail * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

OutputChecker::Outcome OutputChecker::check(size_t slot, uint64_t hash) {
  if (!seen_[slot]) {
    seen_[slot] = 1;
    hashes_[slot] = hash;
    return Outcome::kFirst;
  }
  ++checks_;
  return hashes_[slot] == hash ? Outcome::kSame : Outcome::kChanged;
}

bool RssWatch::add(size_t run, uint64_t rss_bytes) {
  if (!started_) {
    started_ = true;
    start_ = rss_bytes;
  }
  last_ = rss_bytes;
  max_ = std::max(max_, rss_bytes);
  if (!warmed_up_) {
    if (run < warmup_runs_) return true;
    warmed_up_ = true;
    after_warmup_ = rss_bytes;
    return true;
  }
  const int64_t drift = static_cast<int64_t>(rss_bytes) - static_cast<int64_t>(after_warmup_);
  if (!drift_seen_ || drift > max_drift_) {
    drift_seen_ = true;
    max_drift_ = drift;
    max_drift_run_ = run;
  }
  return drift <= static_cast<int64_t>(bound_bytes_);
}

}  // namespace polyhead::cli
