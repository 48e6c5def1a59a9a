// TaskScheduler: decides, frame by frame of a video stream, which tasks run, and keeps their
// real-time figures. It knows tasks only by number (0..N-1) and their groups by number: a group is
// what runs at once with one shared part (a prepared plan: its backbone is paid once per frame if
// any of its tasks runs). The caller runs what choose() picked, measures it and tells
// record_group() and finish_frame(); FrameScheduler (engine/) does that for Plans.
//
// Rules, each frame (docs/stream.md, "Frame scheduler"):
//  * Due. Every task is due on the first frame it sees. Then a task scheduled every N frames is due
//    when (frame index - frame index of its last run) >= N, frames counted among those processed.
//    A task scheduled at R Hz is due when the frame's arrival time + a quarter of the mean frame
//    interval (tolerance for jittery cameras) reaches its next due time; a run moves that time one
//    period on (so the average rate is R when frames come faster than R, rather than drifting
//    down to a whole number of frames per run), or to one period after the run's frame when the
//    run was a frame interval or more late (after deferrals: no burst of catch-up runs).
//    A due task that does not run stays due.
//  * Order. Due tasks are taken by priority (larger first), then by frames deferred in a row (more
//    first), then by number (lower first). Groups run in the order of their first chosen task.
//  * Budget (when there is one). A task is added if the frame's estimated latency with it stays
//    within the budget: time already queued (start - arrival) + each chosen group's shared cost
//    once + each chosen task's head cost. With a deadline, it is also deferred if its estimated
//    completion (the end of its group's run, groups running one after the other) would pass its
//    deadline, or if adding it would make a chosen task whose completion was within its deadline
//    pass it. A task that does not fit is deferred and the next ones are still tried (a cheap
//    lower-priority task may fill what is left). Without a budget every due task runs.
//  * Forcing. A due task deferred max_deferrals frames in a row is chosen on the next frame
//    whatever the budget and deadlines (at its place in the order, so it delays only tasks of
//    lower rank).
//  * Costs are running estimates: each group's shared time and each task's head time, as measured
//    by the caller, averaged exponentially (each new sample weighs 1/4; the first sample is taken
//    as it is). Before its first sample a cost is 0, so the first frame runs every task.
//
// Guarantees:
//  * Priority: a due task is deferred only if the tasks ranked before it that were chosen, plus
//    itself, would exceed the budget (or a deadline) by the estimates; in particular the
//    highest-ranked due task always runs when its group's shared cost plus its head cost fits the
//    budget left after queueing.
//  * No starvation: a due task runs at the latest on the (max_deferrals + 1)-th processed frame on
//    which it is due (it stays due until it runs). A task every N frames therefore runs at least
//    once every N + max_deferrals processed frames; at R Hz at least once per period plus
//    max_deferrals + 1 frame intervals. max_deferrals = 0 never defers anything.
//
// Figures: per task runs, skips (frames on which it was due but deferred), deadline misses
// (latency above its deadline, or above the budget when it has no deadline and there is a budget)
// and latency (the group's finish time - the frame's arrival) in a LatencyHistogram (percentiles
// within 2 %); per stream frames processed, dropped and over budget (frame latency > budget), the
// first arrival and last finish, and the frame latency histogram.
//
// create() allocates everything; choose(), record_group(), finish_frame() and count_dropped() never
// allocate. One thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/runtime/latency_histogram.h"

namespace polyhead::runtime {

struct TaskRate {
  uint32_t every_n_frames = 1;  // 0 when rate_hz is used
  double rate_hz = 0;           // > 0 when every_n_frames is 0
};

struct ScheduledTask {
  size_t group = 0;
  TaskRate rate;
  int priority = 0;
  uint64_t deadline_ns = 0;  // latency from the frame's arrival to its group's finish; 0 = none
};

struct TaskSchedulerOptions {
  uint64_t budget_ns = 0;  // 0 = no budget: every due task runs
  uint32_t max_deferrals = 3;
};

// What choose() decided for a frame; owned by the scheduler, overwritten by the next choose().
struct FrameChoice {
  uint64_t frame = 0;         // index among the processed frames, from 0
  uint64_t estimated_ns = 0;  // estimated cost of the chosen groups and heads (queueing excluded)
  std::vector<uint8_t> run;   // per task: chosen
  std::vector<uint8_t> deferred;    // per task: due but not chosen
  std::vector<uint8_t> forced;      // per task: chosen over the budget after max_deferrals
  std::vector<size_t> group_order;  // the chosen groups, in the order to run them
  size_t group_count = 0;           // entries of group_order in use
};

struct TaskFigures {
  uint64_t runs = 0;
  uint64_t skips = 0;
  uint64_t deadline_misses = 0;
  uint32_t deferred_in_a_row = 0;
  uint64_t head_estimate_ns = 0;
  LatencyHistogram latency;
};

struct StreamFigures {
  uint64_t frames_processed = 0;
  uint64_t frames_dropped = 0;
  uint64_t frames_over_budget = 0;
  uint64_t first_arrival_ns = 0;   // of the first processed frame
  uint64_t last_finish_ns = 0;     // of the last processed frame
  LatencyHistogram frame_latency;  // finish - arrival per processed frame
};

class TaskScheduler {
 public:
  // Fails, naming the task by number, for a group >= `groups`, a rate with both or neither of
  // every_n_frames and rate_hz, a rate_hz that is not finite and positive.
  static Result<TaskScheduler> create(std::vector<ScheduledTask> tasks, size_t groups,
                                      const TaskSchedulerOptions& options);

  // Chooses the tasks of the frame that arrived at `arrival_ns` and starts running at `start_ns`
  // (>= arrival; queueing time counts in the latency and against the budget). Updates the rates
  // and deferral counts; the frame counts as processed from here.
  const FrameChoice& choose(uint64_t arrival_ns, uint64_t start_ns);
  const FrameChoice& choose(uint64_t now_ns) { return choose(now_ns, now_ns); }
  // After the chosen tasks of `group` ran: the shared nodes' time, each chosen task's head time
  // (head_ns[t] for every task t of the group that was chosen; others are not read) and the clock
  // time the group finished.
  void record_group(size_t group, uint64_t shared_ns, const uint64_t* head_ns, uint64_t finish_ns);
  // After the frame's last group: the frame's latency and whether it was over budget.
  void finish_frame(uint64_t finish_ns);
  // A frame the caller dropped before choose().
  void count_dropped() { ++stream_.frames_dropped; }

  size_t task_count() const { return tasks_.size(); }
  size_t group_count() const { return shared_estimate_ns_.size(); }
  const ScheduledTask& task(size_t t) const { return tasks_[t]; }
  const TaskFigures& figures(size_t t) const { return figures_[t]; }
  const StreamFigures& stream() const { return stream_; }
  uint64_t shared_estimate_ns(size_t group) const { return shared_estimate_ns_[group]; }
  const TaskSchedulerOptions& options() const { return options_; }
  const FrameChoice& last_choice() const { return choice_; }

 private:
  TaskScheduler() = default;
  bool is_due(size_t t, uint64_t arrival_ns) const;
  // Whether a task ranks before another (priority, then deferrals, then number).
  bool ranks_before(size_t a, size_t b) const;
  // Whether adding task t to the frame keeps it within the budget and the deadlines.
  bool fits(size_t t, int64_t queued_ns) const;
  void add_to_frame(size_t t, int64_t queued_ns);
  void mark_run(size_t t, uint64_t arrival_ns);

  std::vector<ScheduledTask> tasks_;
  TaskSchedulerOptions options_;
  std::vector<TaskFigures> figures_;
  std::vector<uint64_t> period_ns_;  // per task at a rate in Hz, 0 otherwise
  std::vector<uint64_t> last_run_frame_;
  std::vector<uint64_t> next_due_ns_;  // per task at a rate in Hz
  std::vector<uint8_t> has_run_;
  std::vector<uint64_t> shared_estimate_ns_;  // per group
  std::vector<uint8_t> has_shared_sample_;
  std::vector<uint8_t> has_head_sample_;
  // Per frame, preallocated: due tasks in rank order and the chosen groups' running estimates.
  std::vector<size_t> order_;
  std::vector<size_t> group_position_;  // index in choice_.group_order, or SIZE_MAX
  std::vector<int64_t> group_end_ns_;   // per position: estimated end, from the frame's start
  std::vector<int64_t> group_slack_deadline_ns_;  // per position: earliest chosen deadline
  uint64_t frame_arrival_ns_ = 0;
  uint64_t frame_interval_ns_ = 0;  // running mean of the interval between arrivals
  uint64_t last_arrival_ns_ = 0;
  StreamFigures stream_;
  FrameChoice choice_;
};

}  // namespace polyhead::runtime
