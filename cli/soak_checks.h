// The two checks of `polyhead bench --soak`, free of the engine so tests can make them fail on
// purpose: every output must hash the same on every run as on its first, and resident memory
// must not grow past a bound once warm-up is over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace polyhead::cli {

// A 64-bit hash of `bytes` bytes, eight at a time (an output of a few hundred KiB hashes in well
// under the time of a run). Any changed byte changes it but with odds of about 2^-64.
uint64_t hash_bytes(const void* data, size_t bytes);

// One reference hash per slot (a subset, the plan it ran on, a task and an output), taken from
// the slot's first run; every later run must match it.
class OutputChecker {
 public:
  enum class Outcome { kFirst, kSame, kChanged };

  // All storage is made here: checking never allocates.
  explicit OutputChecker(size_t slots) : hashes_(slots, 0), seen_(slots, 0) {}

  Outcome check(size_t slot, uint64_t hash);
  uint64_t reference(size_t slot) const { return hashes_[slot]; }
  bool seen(size_t slot) const { return seen_[slot] != 0; }
  size_t slots() const { return hashes_.size(); }
  size_t checks() const { return checks_; }  // comparisons against a reference

 private:
  std::vector<uint64_t> hashes_;
  std::vector<char> seen_;
  size_t checks_ = 0;
};

// Resident memory over the soak. The sample after `warmup_runs` runs is the baseline; every
// later sample may exceed it by at most `bound_bytes`.
class RssWatch {
 public:
  RssWatch(size_t warmup_runs, uint64_t bound_bytes)
      : warmup_runs_(warmup_runs), bound_bytes_(bound_bytes) {}

  // The sample taken after `run` runs (0 = before the first). Samples come in increasing run
  // order and one of them must be at warmup_runs. Returns false when this sample is over the
  // bound (the soak fails there).
  bool add(size_t run, uint64_t rss_bytes);

  uint64_t start_bytes() const { return start_; }
  uint64_t after_warmup_bytes() const { return after_warmup_; }
  uint64_t last_bytes() const { return last_; }
  uint64_t max_bytes() const { return max_; }
  bool warmed_up() const { return warmed_up_; }
  // The largest growth over the baseline after warm-up (negative when it only shrank), and the
  // run of the sample where it was seen.
  int64_t max_drift_bytes() const { return max_drift_; }
  size_t max_drift_run() const { return max_drift_run_; }
  uint64_t bound_bytes() const { return bound_bytes_; }

 private:
  size_t warmup_runs_;
  uint64_t bound_bytes_;
  bool started_ = false, warmed_up_ = false, drift_seen_ = false;
  uint64_t start_ = 0, after_warmup_ = 0, last_ = 0, max_ = 0;
  int64_t max_drift_ = 0;
  size_t max_drift_run_ = 0;
};

}  // namespace polyhead::cli
