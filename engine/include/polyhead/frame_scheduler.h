// FrameScheduler: runs a video stream's frames through one or more prepared plans. Each frame it
// chooses which tasks run, from their rates (every Nth frame or a target Hz), priorities and
// deadlines and a per-frame latency budget, runs them (each plan's backbone once for the tasks
// chosen from it), and keeps the real-time figures: per task runs, skips, deadline misses and
// latency percentiles; per stream frames in, processed, dropped and throughput.
//
//   std::vector<polyhead::ScheduledPlan> plans;
//   plans.push_back({"face", *face_plan, {}});                      // the model's own rates
//   plans.push_back({"selfie", *selfie_plan, {{"segmentation", 2}}});  // every 2nd frame
//   polyhead::SchedulerOptions options;
//   options.budget_ms = 33;
//   auto scheduler = polyhead::FrameScheduler::create(std::move(plans), options);
//   for (each frame) {
//     face_plan->set_input_pixels("image", frame); ...        // the caller sets every input
//     auto outcome = scheduler->run_frame();
//     if ((*outcome)->ran(0, 0)) ... face_plan->output(...)   // only tasks that ran have outputs
//   }
//   polyhead::StreamStats stats = scheduler->stats();
//
// Guarantees (docs/stream.md): a task that is due runs when the frame's estimated cost with it
// stays within the budget, higher priority first; a due task deferred max_deferrals frames in a row
// runs on the next frame even over budget, so no task starves. Costs are running estimates from
// the plans' per-node times, so the first frames run every due task to learn them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/result.h"

namespace polyhead {

namespace detail {
struct FrameSchedulerState;
}  // namespace detail

// How one task of a plan is scheduled. Fields left at their defaults take the model's values
// (the task's `rate` and `priority` in the model file).
struct TaskSchedule {
  TaskSchedule() = default;
  // {"segmentation", 2}: every 2nd frame; {"pose", 0, 10.0}: at 10 Hz; other fields as below.
  TaskSchedule(std::string task_name, uint32_t every_n = 0, double hz = 0)  // NOLINT: implicit
      : task(std::move(task_name)), every_n_frames(every_n), rate_hz(hz) {}

  std::string task;             // a task the plan holds
  uint32_t every_n_frames = 0;  // run on every Nth frame; 0 = the model's rate
  double rate_hz = 0;           // or at most this often in stream time; not with every_n_frames
  std::optional<int> priority;  // larger wins when the budget is short
  double deadline_ms = 0;       // latency from the frame's arrival to the task's result; 0 = none
};

struct ScheduledPlan {
  std::string label;  // names the plan in reports and errors (e.g. the model file's stem)
  Plan plan;
  std::vector<TaskSchedule> tasks;  // overrides; plan tasks not listed keep the model's values
};

struct SchedulerOptions {
  double budget_ms = 0;  // per-frame latency budget; 0 = none: every due task runs
  // A due task deferred this many frames in a row runs on the next frame even over the budget.
  uint32_t max_deferrals = 3;
  // Monotonic clock in nanoseconds; empty = std::chrono::steady_clock. For tests and replays.
  std::function<uint64_t()> clock;
};

// What run_frame() did with one frame. Owned by the scheduler and overwritten by the next frame.
struct FrameOutcome {
  uint64_t frame = 0;         // index of the frame among those processed, from 0
  uint64_t arrival_ns = 0;    // clock time the frame arrived (run_frame's argument or its start)
  uint64_t finished_ns = 0;   // clock time the last chosen task finished
  uint64_t estimated_ns = 0;  // the cost the scheduler expected for the tasks it chose
  bool over_budget = false;   // finished - arrival exceeded the budget
  // Bit i of ran_tasks[p]: task i of plan p (in the order of plan.info().tasks) ran this frame.
  std::vector<uint64_t> ran_tasks;
  // Bit i of deferred_tasks[p]: task i of plan p was due but deferred (counted as a skip).
  std::vector<uint64_t> deferred_tasks;

  bool ran(size_t plan, size_t task) const {
    return plan < ran_tasks.size() && task < 64 && ((ran_tasks[plan] >> task) & 1u);
  }
};

struct TaskStats {
  std::string plan;  // ScheduledPlan::label
  std::string task;
  uint32_t every_n_frames = 0;  // as scheduled (0 when rate_hz is used)
  double rate_hz = 0;
  int priority = 0;
  double deadline_ms = 0;
  uint64_t runs = 0;
  uint64_t skips = 0;            // frames on which it was due but deferred
  uint64_t deadline_misses = 0;  // runs whose latency exceeded its deadline (or the budget)
  double latency_p50_ms = 0;     // from the frame's arrival to the end of the run that produced it
  double latency_p90_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  double estimated_cost_ms = 0;  // the current marginal cost estimate (its head's nodes)
  // The current estimate of its plan's shared part (nodes two or more of the plan's tasks need),
  // paid once per frame on which any of them runs.
  double estimated_shared_ms = 0;
};

struct StreamStats {
  uint64_t frames_in = 0;         // frames processed + frames dropped
  uint64_t frames_processed = 0;  // run_frame() calls
  uint64_t frames_dropped = 0;    // count_dropped_frame() calls
  uint64_t frames_over_budget = 0;
  double seconds = 0;         // clock time from the first frame's arrival to the last's finish
  double throughput_fps = 0;  // frames processed per second
  double frame_latency_p50_ms = 0;
  double frame_latency_p90_ms = 0;
  double frame_latency_p99_ms = 0;
  std::vector<TaskStats> tasks;  // plan by plan, tasks in plan order
};

class FrameScheduler {
 public:
  // Fails, naming the plan label, task and value, for: no plans, an unknown or repeated task, a
  // task listed with both every_n_frames and rate_hz, a negative or non-finite rate, deadline or
  // budget, more than 64 tasks in one plan.
  static Result<FrameScheduler> create(std::vector<ScheduledPlan> plans,
                                       SchedulerOptions options = {});

  // Chooses the tasks due on this frame that fit the budget, runs them and records their costs and
  // latencies. The caller has set every plan's inputs. `arrival_ns` is the clock time the frame
  // arrived (0 = now), so that time spent queueing counts in the latency. No heap allocation.
  Result<const FrameOutcome*> run_frame(uint64_t arrival_ns = 0);

  // Counts a frame the caller dropped before inference (for example from a full queue).
  void count_dropped_frame();

  // The plans, in the order given to create() (so that callers can read outputs).
  size_t plan_count() const;
  Plan& plan(size_t index);
  const std::string& label(size_t index) const;

  // Figures so far; allocates, so call it between frames or at the end, not on the hot path.
  StreamStats stats() const;

 private:
  explicit FrameScheduler(std::shared_ptr<detail::FrameSchedulerState> state)
      : state_(std::move(state)) {}
  std::shared_ptr<detail::FrameSchedulerState> state_;
};

}  // namespace polyhead
