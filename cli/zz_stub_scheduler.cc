// TEMPORARY throwaway stub of FrameScheduler (engine/include/polyhead/*.h) so that
// `polyhead stream` links before the real implementations land in main. Deleted before the last
// commit of branch h15t.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "polyhead/frame_scheduler.h"

namespace polyhead {
namespace detail {
struct FrameSchedulerState {
  std::vector<ScheduledPlan> plans;
  SchedulerOptions options;
  std::vector<std::vector<const char*>> names;
  std::vector<std::vector<uint32_t>> every;
  FrameOutcome outcome;
  StreamStats stats;
  std::vector<std::vector<double>> lat;  // per flat task
  std::vector<double> frame_lat;
  uint64_t first_ns = 0, last_ns = 0;
  uint64_t now() const {
    if (options.clock) return options.clock();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
};
}  // namespace detail

Result<FrameScheduler> FrameScheduler::create(std::vector<ScheduledPlan> plans,
                                              SchedulerOptions options) {
  auto s = std::make_shared<detail::FrameSchedulerState>();
  s->options = options;
  for (ScheduledPlan& p : plans) {
    std::vector<const char*> names;
    std::vector<uint32_t> every;
    const std::vector<std::string> tasks = p.plan.info().tasks;
    for (const std::string& t : tasks) {
      TaskStats ts;
      ts.plan = p.label;
      ts.task = t;
      ts.every_n_frames = 1;
      for (const TaskSchedule& o : p.tasks)
        if (o.task == t) {
          if (o.every_n_frames) ts.every_n_frames = o.every_n_frames;
          if (o.rate_hz > 0) {
            ts.rate_hz = o.rate_hz;
            ts.every_n_frames = 0;
          }
          if (o.priority) ts.priority = *o.priority;
          ts.deadline_ms = o.deadline_ms;
        }
      for (const TaskSchedule& o : p.tasks)
        if (std::find(tasks.begin(), tasks.end(), o.task) == tasks.end())
          return Status(ErrorCode::kInvalidArgument,
                        "plan '" + p.label + "' has no task '" + o.task + "'");
      every.push_back(ts.every_n_frames ? ts.every_n_frames : 1);
      s->stats.tasks.push_back(ts);
      s->lat.emplace_back();
    }
    s->names.push_back({});
    s->every.push_back(every);
    s->outcome.ran_tasks.push_back(0);
    s->outcome.deferred_tasks.push_back(0);
  }
  s->plans = std::move(plans);
  for (size_t p = 0; p < s->plans.size(); ++p)
    for (const TaskStats& ts : s->stats.tasks)
      if (ts.plan == s->plans[p].label) s->names[p].push_back(ts.task.c_str());
  return FrameScheduler(s);
}

namespace {
double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}
}  // namespace

Result<const FrameOutcome*> FrameScheduler::run_frame(uint64_t arrival_ns) {
  auto& s = *state_;
  const uint64_t frame = s.stats.frames_processed;
  if (!arrival_ns) arrival_ns = s.now();
  if (!s.first_ns) s.first_ns = arrival_ns;
  s.outcome.frame = frame;
  s.outcome.arrival_ns = arrival_ns;
  size_t flat = 0;
  for (size_t p = 0; p < s.plans.size(); ++p) {
    std::vector<const char*> due;
    uint64_t bits = 0;
    for (size_t i = 0; i < s.names[p].size(); ++i)
      if (frame % s.every[p][i] == 0) {
        due.push_back(s.names[p][i]);
        bits |= uint64_t{1} << i;
      }
    s.outcome.ran_tasks[p] = bits;
    if (!due.empty()) PH_RETURN_IF_ERROR(s.plans[p].plan.run(due.data(), due.size()));
    const uint64_t done = s.now();
    for (size_t i = 0; i < s.names[p].size(); ++i, ++flat)
      if ((bits >> i) & 1u) {
        s.stats.tasks[flat].runs++;
        s.lat[flat].push_back((done - arrival_ns) / 1e6);
      }
  }
  s.outcome.finished_ns = s.now();
  s.last_ns = s.outcome.finished_ns;
  s.frame_lat.push_back((s.outcome.finished_ns - arrival_ns) / 1e6);
  s.outcome.over_budget = s.options.budget_ms > 0 && s.frame_lat.back() > s.options.budget_ms;
  s.stats.frames_over_budget += s.outcome.over_budget;
  s.stats.frames_processed++;
  s.stats.frames_in++;
  return &s.outcome;
}

void FrameScheduler::count_dropped_frame() {
  state_->stats.frames_dropped++;
  state_->stats.frames_in++;
}
size_t FrameScheduler::plan_count() const {
  return state_->plans.size();
}
Plan& FrameScheduler::plan(size_t index) {
  return state_->plans[index].plan;
}
const std::string& FrameScheduler::label(size_t index) const {
  return state_->plans[index].label;
}
StreamStats FrameScheduler::stats() const {
  StreamStats st = state_->stats;
  st.seconds = (state_->last_ns - state_->first_ns) / 1e9;
  st.throughput_fps = st.seconds > 0 ? st.frames_processed / st.seconds : 0;
  st.frame_latency_p50_ms = pct(state_->frame_lat, 0.5);
  st.frame_latency_p90_ms = pct(state_->frame_lat, 0.9);
  st.frame_latency_p99_ms = pct(state_->frame_lat, 0.99);
  for (size_t i = 0; i < st.tasks.size(); ++i) {
    st.tasks[i].latency_p50_ms = pct(state_->lat[i], 0.5);
    st.tasks[i].latency_p90_ms = pct(state_->lat[i], 0.9);
    st.tasks[i].latency_p99_ms = pct(state_->lat[i], 0.99);
    st.tasks[i].latency_max_ms = pct(state_->lat[i], 1.0);
  }
  return st;
}

}  // namespace polyhead
