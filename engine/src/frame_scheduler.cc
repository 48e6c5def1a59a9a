// FrameScheduler over runtime::TaskScheduler: the plans are the scheduler's groups, their tasks
// numbered plan by plan. Each plan runs with profiling on, so every frame's per-node times split
// into the plan's shared part (nodes two or more of its tasks need) and each task's head (nodes
// only it needs): the measured costs the scheduler's estimates learn from.
#include "polyhead/frame_scheduler.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "out_of_memory.h"
#include "polyhead/runtime/task_scheduler.h"

namespace polyhead {
namespace detail {

struct ScheduledPlanState {
  std::string label;
  Plan plan;
  std::vector<std::string> tasks;   // plan.info().tasks: bit i of the masks is tasks[i]
  std::vector<const char*> chosen;  // names of this frame's tasks, preallocated
  size_t first_task = 0;            // the scheduler's number of tasks[0]
  std::vector<int> node_head;       // per plan node: the task whose head it is, -1 when shared
};

struct FrameSchedulerState {
  std::vector<ScheduledPlanState> plans;
  std::vector<TaskSchedule> schedules;  // per task, as resolved (model values filled in)
  std::function<uint64_t()> clock;
  double budget_ms = 0;
  std::optional<runtime::TaskScheduler> core;
  std::vector<uint64_t> head_ns;  // per task, this frame's measured head time
  FrameOutcome outcome;
};

}  // namespace detail

namespace {

// The largest budget or deadline accepted: keeps every time in nanoseconds far from overflow.
constexpr double kMaxMs = 3600e3;
// Tasks of one plan: the bits of FrameOutcome's masks (and of a prepared plan's task set).
constexpr size_t kMaxTasksPerPlan = 64;

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

Status invalid(const std::string& message) {
  return Status(ErrorCode::kInvalidArgument, message);
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s.empty() ? "(none)" : s;
}

uint64_t steady_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Checks a time in milliseconds: finite, not negative, at most an hour.
Status check_ms(const std::string& what, double ms) {
  if (!std::isfinite(ms) || ms < 0 || ms > kMaxMs)
    return invalid(what + " must be finite, at least 0 and at most " + number(kMaxMs) +
                   " ms, found " + number(ms));
  return Status::ok();
}

uint64_t to_ns(double ms) {
  return static_cast<uint64_t>(std::llround(ms * 1e6));
}

double to_ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// Per node of the plan (in node_names() order): the index of the one task needing it, or -1.
Result<std::vector<int>> head_nodes(const Plan& plan, const std::vector<std::string>& tasks) {
  PH_ASSIGN_OR_RETURN(const std::vector<std::string> all, plan.node_names());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < all.size(); ++i) index.emplace(all[i], i);
  std::vector<int> users(all.size(), 0);
  std::vector<int> owner(all.size(), -1);
  for (size_t k = 0; k < tasks.size(); ++k) {
    PH_ASSIGN_OR_RETURN(const std::vector<std::string> needed, plan.node_names({tasks[k]}));
    for (const std::string& name : needed) {
      const size_t i = index.at(name);
      ++users[i];
      owner[i] = static_cast<int>(k);
    }
  }
  for (size_t i = 0; i < all.size(); ++i)
    if (users[i] != 1) owner[i] = -1;
  return owner;
}

}  // namespace

Result<FrameScheduler> FrameScheduler::create(std::vector<ScheduledPlan> plans,
                                              SchedulerOptions options) {
  return detail::answer_out_of_memory("FrameScheduler::create", [&]() -> Result<FrameScheduler> {
    if (plans.empty()) return invalid("FrameScheduler needs at least one plan, found none");
    PH_RETURN_IF_ERROR(check_ms("budget_ms", options.budget_ms));
    auto state = std::make_shared<detail::FrameSchedulerState>();
    state->budget_ms = options.budget_ms;
    state->clock = options.clock ? std::move(options.clock) : steady_now_ns;
    std::vector<runtime::ScheduledTask> tasks;
    for (size_t p = 0; p < plans.size(); ++p) {
      ScheduledPlan& given = plans[p];
      if (given.label.empty())
        return invalid("plan " + std::to_string(p) + " has an empty label; give each plan a name");
      for (size_t q = 0; q < p; ++q)
        if (plans[q].label == given.label)
          return invalid("plans " + std::to_string(q) + " and " + std::to_string(p) +
                         " are both labelled '" + given.label + "'; labels must differ");
      const std::string where = "plan '" + given.label + "'";
      detail::ScheduledPlanState entry{given.label, given.plan, given.plan.info().tasks, {}, 0, {}};
      if (entry.tasks.size() > kMaxTasksPerPlan)
        return invalid(where + " holds " + std::to_string(entry.tasks.size()) +
                       " tasks; a scheduled plan holds at most " +
                       std::to_string(kMaxTasksPerPlan));
      // Start from the model's values, then apply the overrides.
      std::vector<TaskSchedule> resolved;
      for (const std::string& name : entry.tasks) {
        TaskSchedule s;
        s.task = name;
        s.every_n_frames = 1;
        s.priority = 0;
        for (const TaskInfo& info : given.plan.model().tasks())
          if (info.name == name) {
            s.every_n_frames = static_cast<uint32_t>(info.rate);  // validated: at least 1
            s.priority = info.priority;
          }
        resolved.push_back(s);
      }
      std::vector<char> listed(entry.tasks.size(), 0);
      for (const TaskSchedule& o : given.tasks) {
        size_t k = 0;
        while (k < entry.tasks.size() && entry.tasks[k] != o.task) ++k;
        if (k == entry.tasks.size())
          return Status(ErrorCode::kNotFound, where + ": unknown task '" + o.task +
                                                  "'; the plan holds " + join_names(entry.tasks));
        if (listed[k]) return invalid(where + ": task '" + o.task + "' is listed twice");
        listed[k] = 1;
        const std::string task = where + " task '" + o.task + "'";
        if (o.every_n_frames > 0 && o.rate_hz != 0)
          return invalid(task + ": give every_n_frames or rate_hz, not both (found " +
                         std::to_string(o.every_n_frames) + " and " + number(o.rate_hz) + ")");
        if (!std::isfinite(o.rate_hz) || o.rate_hz < 0)
          return invalid(task + ": rate_hz must be finite and at least 0, found " +
                         number(o.rate_hz));
        PH_RETURN_IF_ERROR(check_ms(task + ": deadline_ms", o.deadline_ms));
        TaskSchedule& s = resolved[k];
        if (o.every_n_frames > 0) s.every_n_frames = o.every_n_frames;
        if (o.rate_hz > 0) {
          s.every_n_frames = 0;
          s.rate_hz = o.rate_hz;
        }
        if (o.priority) s.priority = *o.priority;
        s.deadline_ms = o.deadline_ms;
      }
      PH_ASSIGN_OR_RETURN(entry.node_head, head_nodes(given.plan, entry.tasks));
      entry.chosen.assign(entry.tasks.size(), nullptr);
      entry.first_task = tasks.size();
      for (const TaskSchedule& s : resolved) {
        runtime::ScheduledTask t;
        t.group = p;
        t.rate.every_n_frames = s.every_n_frames;
        t.rate.rate_hz = s.rate_hz;
        t.priority = *s.priority;
        t.deadline_ns = to_ns(s.deadline_ms);
        tasks.push_back(t);
        state->schedules.push_back(s);
      }
      state->plans.push_back(std::move(entry));
    }
    runtime::TaskSchedulerOptions core_options;
    core_options.budget_ns = to_ns(options.budget_ms);
    core_options.max_deferrals = options.max_deferrals;
    PH_ASSIGN_OR_RETURN(
        runtime::TaskScheduler core,
        runtime::TaskScheduler::create(std::move(tasks), plans.size(), core_options));
    state->core.emplace(std::move(core));
    // Profiling sizes each plan's timing buffer now, so that frames allocate nothing.
    for (detail::ScheduledPlanState& entry : state->plans) entry.plan.set_profiling(true);
    state->head_ns.assign(state->schedules.size(), 0);
    state->outcome.ran_tasks.assign(plans.size(), 0);
    state->outcome.deferred_tasks.assign(plans.size(), 0);
    return FrameScheduler(std::move(state));
  });
}

Result<const FrameOutcome*> FrameScheduler::run_frame(uint64_t arrival_ns) {
  detail::FrameSchedulerState& s = *state_;
  runtime::TaskScheduler& core = *s.core;
  const uint64_t start = s.clock();
  const uint64_t arrival = arrival_ns ? arrival_ns : start;
  const runtime::FrameChoice& choice = core.choose(arrival, start);
  FrameOutcome& out = s.outcome;
  for (size_t p = 0; p < s.plans.size(); ++p) {
    const detail::ScheduledPlanState& entry = s.plans[p];
    uint64_t ran = 0, deferred = 0;
    for (size_t k = 0; k < entry.tasks.size(); ++k) {
      if (choice.run[entry.first_task + k]) ran |= uint64_t{1} << k;
      if (choice.deferred[entry.first_task + k]) deferred |= uint64_t{1} << k;
    }
    out.ran_tasks[p] = ran;
    out.deferred_tasks[p] = deferred;
  }
  uint64_t finish = start;
  for (size_t i = 0; i < choice.group_count; ++i) {
    const size_t p = choice.group_order[i];
    detail::ScheduledPlanState& entry = s.plans[p];
    size_t count = 0;
    for (size_t k = 0; k < entry.tasks.size(); ++k)
      if (choice.run[entry.first_task + k]) entry.chosen[count++] = entry.tasks[k].c_str();
    const Status status = entry.plan.run(entry.chosen.data(), count);  // count > 0: a chosen group
    finish = s.clock();
    if (!status.is_ok()) {
      core.finish_frame(finish);
      return Status(status.code(), "plan '" + entry.label + "': " + status.message());
    }
    uint64_t shared = 0;
    for (size_t k = 0; k < entry.tasks.size(); ++k) s.head_ns[entry.first_task + k] = 0;
    const std::vector<uint64_t>& times = entry.plan.node_times_ns();
    for (size_t n = 0; n < times.size() && n < entry.node_head.size(); ++n) {
      const int head = entry.node_head[n];
      if (head < 0)
        shared += times[n];
      else
        s.head_ns[entry.first_task + static_cast<size_t>(head)] += times[n];
    }
    core.record_group(p, shared, s.head_ns.data(), finish);
  }
  core.finish_frame(finish);
  out.frame = choice.frame;
  out.arrival_ns = arrival;
  out.finished_ns = finish;
  out.estimated_ns = choice.estimated_ns;
  const uint64_t budget = core.options().budget_ns;
  out.over_budget = budget > 0 && finish > arrival && finish - arrival > budget;
  return &s.outcome;
}

void FrameScheduler::count_dropped_frame() {
  state_->core->count_dropped();
}

size_t FrameScheduler::plan_count() const {
  return state_->plans.size();
}

Plan& FrameScheduler::plan(size_t index) {
  return state_->plans.at(index).plan;
}

const std::string& FrameScheduler::label(size_t index) const {
  return state_->plans.at(index).label;
}

StreamStats FrameScheduler::stats() const {
  const detail::FrameSchedulerState& s = *state_;
  const runtime::TaskScheduler& core = *s.core;
  StreamStats out;
  const runtime::StreamFigures& st = core.stream();
  out.frames_processed = st.frames_processed;
  out.frames_dropped = st.frames_dropped;
  out.frames_in = st.frames_processed + st.frames_dropped;
  out.frames_over_budget = st.frames_over_budget;
  if (st.frames_processed > 0 && st.last_finish_ns > st.first_arrival_ns) {
    out.seconds = static_cast<double>(st.last_finish_ns - st.first_arrival_ns) / 1e9;
    out.throughput_fps = static_cast<double>(st.frames_processed) / out.seconds;
  }
  out.frame_latency_p50_ms = to_ms(st.frame_latency.percentile(50));
  out.frame_latency_p90_ms = to_ms(st.frame_latency.percentile(90));
  out.frame_latency_p99_ms = to_ms(st.frame_latency.percentile(99));
  for (const detail::ScheduledPlanState& entry : s.plans)
    for (size_t k = 0; k < entry.tasks.size(); ++k) {
      const size_t t = entry.first_task + k;
      const TaskSchedule& schedule = s.schedules[t];
      const runtime::TaskFigures& f = core.figures(t);
      TaskStats ts;
      ts.plan = entry.label;
      ts.task = entry.tasks[k];
      ts.every_n_frames = schedule.every_n_frames;
      ts.rate_hz = schedule.rate_hz;
      ts.priority = *schedule.priority;
      ts.deadline_ms = schedule.deadline_ms;
      ts.runs = f.runs;
      ts.skips = f.skips;
      ts.deadline_misses = f.deadline_misses;
      ts.latency_p50_ms = to_ms(f.latency.percentile(50));
      ts.latency_p90_ms = to_ms(f.latency.percentile(90));
      ts.latency_p99_ms = to_ms(f.latency.percentile(99));
      ts.latency_max_ms = to_ms(f.latency.max());
      ts.estimated_cost_ms = to_ms(f.head_estimate_ns);
      ts.estimated_shared_ms = to_ms(core.shared_estimate_ns(core.task(t).group));
      out.tasks.push_back(std::move(ts));
    }
  return out;
}

}  // namespace polyhead
