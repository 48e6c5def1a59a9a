#include "polyhead/runtime/task_scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace polyhead::runtime {

namespace {

constexpr size_t kNone = SIZE_MAX;
constexpr int64_t kNoDeadline = INT64_MAX;

// Exponential average with weight 1/4 for the new sample; the first sample is taken as it is.
uint64_t averaged(uint64_t estimate, uint64_t sample, bool first) {
  if (first) return sample;
  const int64_t delta = static_cast<int64_t>(sample) - static_cast<int64_t>(estimate);
  return static_cast<uint64_t>(static_cast<int64_t>(estimate) + delta / 4);
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

int64_t as_signed(uint64_t ns) {
  return ns > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(ns);
}

}  // namespace

Result<TaskScheduler> TaskScheduler::create(std::vector<ScheduledTask> tasks, size_t groups,
                                            const TaskSchedulerOptions& options) {
  for (size_t t = 0; t < tasks.size(); ++t) {
    const ScheduledTask& task = tasks[t];
    const std::string where = "task " + std::to_string(t);
    if (task.group >= groups)
      return Status(ErrorCode::kInvalidArgument, where + ": group " + std::to_string(task.group) +
                                                     " is out of range; there are " +
                                                     std::to_string(groups));
    const bool by_frames = task.rate.every_n_frames > 0;
    const bool by_time = task.rate.rate_hz != 0;
    if (by_frames == by_time)
      return Status(ErrorCode::kInvalidArgument,
                    where + ": give one of every_n_frames and rate_hz (found every_n_frames " +
                        std::to_string(task.rate.every_n_frames) + ", rate_hz " +
                        number(task.rate.rate_hz) + ")");
    if (by_time && !(std::isfinite(task.rate.rate_hz) && task.rate.rate_hz > 0))
      return Status(
          ErrorCode::kInvalidArgument,
          where + ": rate_hz must be finite and positive, found " + number(task.rate.rate_hz));
  }
  TaskScheduler s;
  const size_t n = tasks.size();
  s.tasks_ = std::move(tasks);
  s.options_ = options;
  s.figures_.resize(n);
  s.period_ns_.assign(n, 0);
  for (size_t t = 0; t < n; ++t) {
    if (s.tasks_[t].rate.every_n_frames > 0) continue;
    // At most about 31 years, so that due times never overflow (a tiny rate runs once).
    const double period = std::min(1e9 / s.tasks_[t].rate.rate_hz, 1e18);
    s.period_ns_[t] = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(period)));
  }
  s.last_run_frame_.assign(n, 0);
  s.next_due_ns_.assign(n, 0);
  s.has_run_.assign(n, 0);
  s.shared_estimate_ns_.assign(groups, 0);
  s.has_shared_sample_.assign(groups, 0);
  s.has_head_sample_.assign(n, 0);
  s.order_.assign(n, 0);
  s.group_position_.assign(groups, kNone);
  s.group_end_ns_.assign(groups, 0);
  s.group_slack_deadline_ns_.assign(groups, kNoDeadline);
  s.choice_.run.assign(n, 0);
  s.choice_.deferred.assign(n, 0);
  s.choice_.forced.assign(n, 0);
  s.choice_.group_order.assign(groups, 0);
  return s;
}

bool TaskScheduler::is_due(size_t t, uint64_t arrival_ns) const {
  if (!has_run_[t]) return true;
  const uint32_t every = tasks_[t].rate.every_n_frames;
  if (every > 0) return stream_.frames_processed - last_run_frame_[t] >= every;
  // A quarter of a frame interval early still counts: camera timestamps jitter around the period.
  return arrival_ns + frame_interval_ns_ / 4 >= next_due_ns_[t];
}

bool TaskScheduler::ranks_before(size_t a, size_t b) const {
  if (tasks_[a].priority != tasks_[b].priority) return tasks_[a].priority > tasks_[b].priority;
  if (figures_[a].deferred_in_a_row != figures_[b].deferred_in_a_row)
    return figures_[a].deferred_in_a_row > figures_[b].deferred_in_a_row;
  return a < b;
}

bool TaskScheduler::fits(size_t t, int64_t queued_ns) const {
  const size_t group = tasks_[t].group;
  const size_t position = group_position_[group];
  const int64_t cost = as_signed(figures_[t].head_estimate_ns) +
                       (position == kNone ? as_signed(shared_estimate_ns_[group]) : 0);
  const int64_t total = choice_.group_count ? group_end_ns_[choice_.group_count - 1] : 0;
  if (queued_ns + total + cost > as_signed(options_.budget_ns)) return false;
  const int64_t own_end = (position == kNone ? total : group_end_ns_[position]) + cost;
  if (tasks_[t].deadline_ns > 0 && queued_ns + own_end > as_signed(tasks_[t].deadline_ns))
    return false;
  if (position == kNone) return true;  // runs after every chosen group: delays none of them
  for (size_t j = position; j < choice_.group_count; ++j) {
    const int64_t deadline = group_slack_deadline_ns_[j];
    const int64_t end = queued_ns + group_end_ns_[j];
    if (end <= deadline && end + cost > deadline) return false;
  }
  return true;
}

void TaskScheduler::add_to_frame(size_t t, int64_t queued_ns) {
  const size_t group = tasks_[t].group;
  size_t position = group_position_[group];
  const int64_t head = as_signed(figures_[t].head_estimate_ns);
  if (position == kNone) {
    position = choice_.group_count++;
    const int64_t before = position ? group_end_ns_[position - 1] : 0;
    choice_.group_order[position] = group;
    group_position_[group] = position;
    group_end_ns_[position] = before + as_signed(shared_estimate_ns_[group]) + head;
    group_slack_deadline_ns_[position] = kNoDeadline;
  } else {
    for (size_t j = position; j < choice_.group_count; ++j) group_end_ns_[j] += head;
  }
  const int64_t deadline = as_signed(tasks_[t].deadline_ns);
  if (deadline > 0 && queued_ns + group_end_ns_[position] <= deadline)
    group_slack_deadline_ns_[position] = std::min(group_slack_deadline_ns_[position], deadline);
  choice_.run[t] = 1;
}

void TaskScheduler::mark_run(size_t t, uint64_t arrival_ns) {
  const uint64_t period = period_ns_[t];
  if (period > 0) {
    // On time (within one frame interval of the due time): keep the phase, so the average rate
    // is the one asked for. Late after deferrals: start a new period from here, no catch-up.
    const bool on_time = has_run_[t] && arrival_ns < next_due_ns_[t] + frame_interval_ns_;
    next_due_ns_[t] = on_time ? next_due_ns_[t] + period : arrival_ns + period;
  }
  has_run_[t] = 1;
  last_run_frame_[t] = stream_.frames_processed;
  figures_[t].deferred_in_a_row = 0;
}

const FrameChoice& TaskScheduler::choose(uint64_t arrival_ns, uint64_t start_ns) {
  if (start_ns < arrival_ns) start_ns = arrival_ns;
  const uint64_t frame = stream_.frames_processed;
  if (frame == 0) {
    stream_.first_arrival_ns = arrival_ns;
  } else if (arrival_ns > last_arrival_ns_) {
    const uint64_t interval = arrival_ns - last_arrival_ns_;
    frame_interval_ns_ = averaged(frame_interval_ns_, interval, frame_interval_ns_ == 0);
  }
  last_arrival_ns_ = arrival_ns;
  frame_arrival_ns_ = arrival_ns;

  std::fill(choice_.run.begin(), choice_.run.end(), 0);
  std::fill(choice_.deferred.begin(), choice_.deferred.end(), 0);
  std::fill(choice_.forced.begin(), choice_.forced.end(), 0);
  for (size_t j = 0; j < choice_.group_count; ++j) group_position_[choice_.group_order[j]] = kNone;
  choice_.group_count = 0;
  choice_.frame = frame;

  // Due tasks in rank order (insertion sort: a few dozen tasks at most, and no allocation).
  size_t due = 0;
  for (size_t t = 0; t < tasks_.size(); ++t) {
    if (!is_due(t, arrival_ns)) continue;
    size_t i = due++;
    while (i > 0 && ranks_before(t, order_[i - 1])) {
      order_[i] = order_[i - 1];
      --i;
    }
    order_[i] = t;
  }

  const int64_t queued = as_signed(start_ns - arrival_ns);
  const bool budgeted = options_.budget_ns > 0;
  for (size_t i = 0; i < due; ++i) {
    const size_t t = order_[i];
    const bool fit = !budgeted || fits(t, queued);
    const bool force = figures_[t].deferred_in_a_row >= options_.max_deferrals;
    if (fit || force) {
      add_to_frame(t, queued);
      choice_.forced[t] = fit ? 0 : 1;
    } else {
      choice_.deferred[t] = 1;
      ++figures_[t].skips;
      ++figures_[t].deferred_in_a_row;
    }
  }
  for (size_t i = 0; i < due; ++i)
    if (choice_.run[order_[i]]) mark_run(order_[i], arrival_ns);
  choice_.estimated_ns =
      choice_.group_count ? static_cast<uint64_t>(group_end_ns_[choice_.group_count - 1]) : 0;
  ++stream_.frames_processed;
  return choice_;
}

void TaskScheduler::record_group(size_t group, uint64_t shared_ns, const uint64_t* head_ns,
                                 uint64_t finish_ns) {
  shared_estimate_ns_[group] =
      averaged(shared_estimate_ns_[group], shared_ns, !has_shared_sample_[group]);
  has_shared_sample_[group] = 1;
  const uint64_t latency = finish_ns > frame_arrival_ns_ ? finish_ns - frame_arrival_ns_ : 0;
  for (size_t t = 0; t < tasks_.size(); ++t) {
    if (tasks_[t].group != group || !choice_.run[t]) continue;
    TaskFigures& f = figures_[t];
    f.head_estimate_ns = averaged(f.head_estimate_ns, head_ns[t], !has_head_sample_[t]);
    has_head_sample_[t] = 1;
    ++f.runs;
    f.latency.add(latency);
    const uint64_t limit = tasks_[t].deadline_ns > 0 ? tasks_[t].deadline_ns : options_.budget_ns;
    if (limit > 0 && latency > limit) ++f.deadline_misses;
  }
}

void TaskScheduler::finish_frame(uint64_t finish_ns) {
  const uint64_t latency = finish_ns > frame_arrival_ns_ ? finish_ns - frame_arrival_ns_ : 0;
  stream_.frame_latency.add(latency);
  if (options_.budget_ns > 0 && latency > options_.budget_ns) ++stream_.frames_over_budget;
  stream_.last_finish_ns = finish_ns;
}

}  // namespace polyhead::runtime
