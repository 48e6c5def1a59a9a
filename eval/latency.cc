#include "eval/latency.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace polyhead::compare {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
}

Status time_runs(Plan& plan, int runs, std::vector<double>& out) {
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    PH_RETURN_IF_ERROR(plan.run());
    out.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  return Status::ok();
}

}  // namespace

Result<Latency> interleaved_latency(Plan& teacher, Plan& student, const LatencyOptions& o) {
  if (o.rounds < 1 || o.runs < 1)
    return Status(ErrorCode::kInvalidArgument, "latency: rounds (" + std::to_string(o.rounds) +
                                                   ") and runs (" + std::to_string(o.runs) +
                                                   ") must be at least 1");
  PH_RETURN_IF_ERROR(teacher.run());
  PH_RETURN_IF_ERROR(student.run());
  std::vector<double> t, s;
  t.reserve(static_cast<size_t>(o.rounds) * static_cast<size_t>(o.runs));
  s.reserve(t.capacity());
  for (int r = 0; r < o.rounds; ++r) {
    if (r % 2 == 0) {
      PH_RETURN_IF_ERROR(time_runs(teacher, o.runs, t));
      PH_RETURN_IF_ERROR(time_runs(student, o.runs, s));
    } else {
      PH_RETURN_IF_ERROR(time_runs(student, o.runs, s));
      PH_RETURN_IF_ERROR(time_runs(teacher, o.runs, t));
    }
  }
  Latency l;
  l.teacher_ms = median(t);
  l.student_ms = median(s);
  l.samples = static_cast<int>(t.size());
  return l;
}

}  // namespace polyhead::compare
