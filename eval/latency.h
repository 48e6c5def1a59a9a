// Latency of a teacher and a student measured in the same run: rounds of `runs` runs of each,
// alternating, with the order flipped every round, so both see the same machine state (clock
// boost, other load, cache). The medians of single runs are reported.
#pragma once

#include "polyhead/engine.h"
#include "polyhead/result.h"

namespace polyhead::compare {

struct LatencyOptions {
  int rounds = 5;
  int runs = 10;  // per model and round
};

struct Latency {
  double teacher_ms = 0, student_ms = 0;  // medians
  int samples = 0;                        // runs timed per model
};

// Both plans must have their inputs set. One untimed warm-up run each comes first.
Result<Latency> interleaved_latency(Plan& teacher, Plan& student, const LatencyOptions& options);

}  // namespace polyhead::compare
