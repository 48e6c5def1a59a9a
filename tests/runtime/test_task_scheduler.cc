// TaskScheduler, the frame scheduler's core, on an injected clock with injected costs: rates by
// frames and in Hz, priority order under a short budget, the priority invariant on random
// workloads, the no-starvation bound, deadlines, the latency histogram against exact percentiles,
// the stream counters, a 10,000-frame overload, and no allocation per frame.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "polyhead/runtime/latency_histogram.h"
#include "polyhead/runtime/task_scheduler.h"
#include "support/allocation_counter.h"

using namespace polyhead;
using namespace polyhead::runtime;

namespace {

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kFrame30 = 33333333;  // 30 fps

ScheduledTask every(uint32_t n, int priority = 0, size_t group = 0, uint64_t deadline = 0) {
  ScheduledTask t;
  t.group = group;
  t.rate.every_n_frames = n;
  t.priority = priority;
  t.deadline_ns = deadline;
  return t;
}

ScheduledTask hz(double rate, int priority = 0, size_t group = 0) {
  ScheduledTask t;
  t.group = group;
  t.rate.every_n_frames = 0;
  t.rate.rate_hz = rate;
  t.priority = priority;
  return t;
}

TaskScheduler make(std::vector<ScheduledTask> tasks, size_t groups, uint64_t budget = 0,
                   uint32_t max_deferrals = 3) {
  TaskSchedulerOptions o;
  o.budget_ns = budget;
  o.max_deferrals = max_deferrals;
  auto s = TaskScheduler::create(std::move(tasks), groups, o);
  REQUIRE(s.is_ok());
  return std::move(s).value();
}

// Runs one frame as a caller would: the chosen groups one after the other on a clock starting at
// `arrival`, each costing its shared time once plus the heads of its chosen tasks. Returns the
// frame's finish time.
struct Costs {
  std::vector<uint64_t> shared;  // per group
  std::vector<uint64_t> head;    // per task
};

uint64_t run_frame(TaskScheduler& s, uint64_t arrival, const Costs& costs,
                   const FrameChoice** out = nullptr, uint64_t queued = 0) {
  const FrameChoice& c = s.choose(arrival, arrival + queued);
  uint64_t clock = arrival + queued;
  for (size_t i = 0; i < c.group_count; ++i) {
    const size_t g = c.group_order[i];
    clock += costs.shared[g];
    for (size_t t = 0; t < s.task_count(); ++t)
      if (c.run[t] && s.task(t).group == g) clock += costs.head[t];
    s.record_group(g, costs.shared[g], costs.head.data(), clock);
  }
  s.finish_frame(clock);
  if (out) *out = &c;
  return clock;
}

uint64_t exact_percentile(std::vector<uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

TEST_CASE("task scheduler: rates by frames, no budget: every Nth frame exactly") {
  TaskScheduler s = make({every(1), every(2), every(3)}, 1);
  const Costs costs{{5 * kMs}, {1 * kMs, 1 * kMs, 1 * kMs}};
  std::vector<std::vector<uint64_t>> ran(3);
  for (uint64_t f = 0; f < 30; ++f) {
    const FrameChoice* c = nullptr;
    run_frame(s, f * kFrame30, costs, &c);
    CHECK(c->frame == f);
    for (size_t t = 0; t < 3; ++t) {
      CHECK(c->deferred[t] == 0);
      if (c->run[t]) ran[t].push_back(f);
    }
  }
  CHECK(s.figures(0).runs == 30);
  CHECK(s.figures(1).runs == 15);
  CHECK(s.figures(2).runs == 10);
  for (size_t t = 0; t < 3; ++t) {
    CHECK(s.figures(t).skips == 0);
    for (size_t i = 0; i < ran[t].size(); ++i) CHECK(ran[t][i] == i * (t + 1));
  }
  CHECK(s.stream().frames_processed == 30);
}

TEST_CASE("task scheduler: rates in Hz keep their average, also with jittery timestamps") {
  SECTION("10 Hz at 30 fps: every third frame") {
    TaskScheduler s = make({hz(10)}, 1);
    const Costs costs{{1 * kMs}, {1 * kMs}};
    std::vector<uint64_t> ran;
    for (uint64_t f = 0; f < 90; ++f) {
      const FrameChoice* c = nullptr;
      run_frame(s, f * kFrame30, costs, &c);
      if (c->run[0]) ran.push_back(f);
    }
    REQUIRE(ran.size() == 30);
    for (size_t i = 0; i < ran.size(); ++i) CHECK(ran[i] == 3 * i);
  }
  SECTION("7 Hz at 30 fps: 7 runs a second, gaps of 4 and 5 frames") {
    TaskScheduler s = make({hz(7)}, 1);
    const Costs costs{{1 * kMs}, {1 * kMs}};
    std::vector<uint64_t> ran;
    for (uint64_t f = 0; f < 300; ++f) {  // 10 seconds
      const FrameChoice* c = nullptr;
      run_frame(s, f * kFrame30, costs, &c);
      if (c->run[0]) ran.push_back(f);
    }
    // Due at k/7 s: the first frame at or after it (within a quarter frame): 70 runs in 10 s.
    CHECK(ran.size() == 70);
    for (size_t i = 1; i < ran.size(); ++i) {
      CHECK(ran[i] - ran[i - 1] >= 4);
      CHECK(ran[i] - ran[i - 1] <= 5);
    }
  }
  SECTION("10 Hz at 30 fps with +-3 ms of jitter: still every third frame") {
    TaskScheduler s = make({hz(10)}, 1);
    const Costs costs{{1 * kMs}, {1 * kMs}};
    std::mt19937 rng(7);
    std::uniform_int_distribution<int64_t> jitter(-3 * static_cast<int64_t>(kMs),
                                                  3 * static_cast<int64_t>(kMs));
    uint64_t runs = 0;
    for (uint64_t f = 0; f < 300; ++f) {
      const uint64_t arrival = static_cast<uint64_t>(
          static_cast<int64_t>(kMs * 100 + f * kFrame30) + (f == 0 ? 0 : jitter(rng)));
      const FrameChoice* c = nullptr;
      run_frame(s, arrival, costs, &c);
      if (c->run[0]) {
        CHECK(f % 3 == 0);
        ++runs;
      }
    }
    CHECK(runs == 100);
  }
  SECTION("a tiny rate runs once") {
    TaskScheduler s = make({hz(1e-300)}, 1);
    const Costs costs{{1 * kMs}, {1 * kMs}};
    for (uint64_t f = 0; f < 30; ++f) run_frame(s, f * kFrame30, costs);
    CHECK(s.figures(0).runs == 1);
  }
  SECTION("60 Hz at 30 fps: every frame") {
    TaskScheduler s = make({hz(60)}, 1);
    const Costs costs{{1 * kMs}, {1 * kMs}};
    for (uint64_t f = 0; f < 30; ++f) run_frame(s, f * kFrame30, costs);
    CHECK(s.figures(0).runs == 30);
  }
}

TEST_CASE("task scheduler: under a short budget, higher priorities run first") {
  // One plan: backbone 10 ms, three heads of 5 ms; budget 22 ms fits the backbone and two heads.
  TaskScheduler s = make({every(1, 1), every(1, 3), every(1, 2)}, 1, 22 * kMs, 100);
  const Costs costs{{10 * kMs}, {5 * kMs, 5 * kMs, 5 * kMs}};
  const FrameChoice* c = nullptr;
  run_frame(s, 0, costs, &c);  // no estimates yet: everything runs and is measured
  CHECK((c->run[0] && c->run[1] && c->run[2]));
  CHECK(c->estimated_ns == 0);
  CHECK(s.stream().frames_over_budget == 1);  // 25 ms
  CHECK(s.shared_estimate_ns(0) == 10 * kMs);
  CHECK(s.figures(0).head_estimate_ns == 5 * kMs);
  run_frame(s, kFrame30, costs, &c);
  CHECK(c->run[1] == 1);  // priority 3
  CHECK(c->run[2] == 1);  // priority 2
  CHECK(c->run[0] == 0);  // priority 1: 25 ms > 22 ms
  CHECK(c->deferred[0] == 1);
  CHECK(c->estimated_ns == 20 * kMs);
  CHECK(s.figures(0).skips == 1);
  CHECK(s.figures(0).deferred_in_a_row == 1);

  SECTION("a cheaper task of lower priority still fills what is left") {
    TaskScheduler t = make({every(1, 3), every(1, 2), every(1, 1)}, 1, 22 * kMs, 100);
    const Costs mixed{{10 * kMs}, {5 * kMs, 8 * kMs, 2 * kMs}};
    run_frame(t, 0, mixed);
    run_frame(t, kFrame30, mixed, &c);
    CHECK(c->run[0] == 1);       // 15
    CHECK(c->deferred[1] == 1);  // 23 > 22
    CHECK(c->run[2] == 1);       // 17
  }
  SECTION("queueing time counts against the budget") {
    run_frame(s, 2 * kFrame30, costs, &c, /*queued=*/3 * kMs);
    CHECK(c->run[1] == 1);  // 3 + 15
    CHECK(c->run[2] == 0);  // 3 + 20 > 22
    CHECK(c->run[0] == 0);
  }
}

TEST_CASE("task scheduler: ties rank the most deferred task first, then the lower number") {
  // Equal priorities, room for the backbone and one head: the heads take turns.
  TaskScheduler s = make({every(1), every(1), every(1)}, 1, 16 * kMs, 100);
  const Costs costs{{10 * kMs}, {5 * kMs, 5 * kMs, 5 * kMs}};
  run_frame(s, 0, costs);
  std::vector<size_t> winners;
  for (uint64_t f = 1; f <= 6; ++f) {
    const FrameChoice* c = nullptr;
    run_frame(s, f * kFrame30, costs, &c);
    size_t chosen = 0, winner = 0;
    for (size_t t = 0; t < 3; ++t)
      if (c->run[t]) ++chosen, winner = t;
    REQUIRE(chosen == 1);
    winners.push_back(winner);
  }
  // Frame 1: all deferred 0 times -> task 0; then 1 and 2 (deferred more) before 0.
  CHECK(winners == std::vector<size_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("task scheduler: a due task is deferred only when the budget does not allow it") {
  // Random workloads: 1-4 groups, 1-8 tasks, random rates, priorities, costs and budgets that
  // change every frame. Each frame, every deferred task is checked: the estimated cost of the
  // tasks ranked before it that were chosen, plus itself, exceeds the budget; and the top-ranked
  // due task runs whenever its own cost fits.
  std::mt19937 rng(20240915);
  for (int workload = 0; workload < 200; ++workload) {
    const size_t groups = 1 + rng() % 4;
    const size_t n = 1 + rng() % 8;
    std::vector<ScheduledTask> tasks;
    for (size_t t = 0; t < n; ++t)
      tasks.push_back(every(1 + rng() % 3, static_cast<int>(rng() % 4), rng() % groups));
    const uint64_t budget = (5 + rng() % 40) * kMs;
    TaskScheduler s = make(tasks, groups, budget, 1000000);  // no forcing: the rule alone
    Costs costs{std::vector<uint64_t>(groups), std::vector<uint64_t>(n)};
    for (uint64_t f = 0; f < 100; ++f) {
      // Snapshot the ranking inputs before choose() changes them.
      std::vector<uint64_t> head(n), shared(groups);
      std::vector<uint32_t> deferred_before(n);
      for (size_t t = 0; t < n; ++t) {
        head[t] = s.figures(t).head_estimate_ns;
        deferred_before[t] = s.figures(t).deferred_in_a_row;
      }
      for (size_t g = 0; g < groups; ++g) shared[g] = s.shared_estimate_ns(g);
      for (auto& v : costs.shared) v = (rng() % 15) * kMs;
      for (auto& v : costs.head) v = (rng() % 10) * kMs;
      const FrameChoice* c = nullptr;
      run_frame(s, f * kFrame30, costs, &c);
      std::vector<size_t> due;
      for (size_t t = 0; t < n; ++t)
        if (c->run[t] || c->deferred[t]) due.push_back(t);
      std::sort(due.begin(), due.end(), [&](size_t a, size_t b) {
        if (tasks[a].priority != tasks[b].priority) return tasks[a].priority > tasks[b].priority;
        if (deferred_before[a] != deferred_before[b])
          return deferred_before[a] > deferred_before[b];
        return a < b;
      });
      uint64_t cost = 0;
      std::vector<char> group_in(groups, 0);
      for (size_t i = 0; i < due.size(); ++i) {
        const size_t t = due[i];
        const uint64_t with =
            cost + head[t] + (group_in[tasks[t].group] ? 0 : shared[tasks[t].group]);
        INFO("workload " << workload << " frame " << f << " task " << t);
        if (c->run[t]) {
          CHECK(with <= budget);
          cost = with;
          group_in[tasks[t].group] = 1;
        } else {
          CHECK(with > budget);
          if (i == 0) CHECK(head[t] + shared[tasks[t].group] > budget);
        }
      }
      CHECK(c->estimated_ns == cost);
    }
  }
}

TEST_CASE("task scheduler: no starvation: deferred max_deferrals frames in a row, then forced") {
  // Permanent overload: the high-priority task alone fills the budget, so the low one runs only
  // when forced: exactly once every max_deferrals + 1 frames on which it is due.
  for (uint32_t max_deferrals : {0u, 1u, 3u, 5u}) {
    TaskScheduler s = make({every(1, 10), every(1, 0)}, 1, 20 * kMs, max_deferrals);
    const Costs costs{{10 * kMs}, {9 * kMs, 15 * kMs}};
    run_frame(s, 0, costs);
    uint64_t last_low = 0;
    for (uint64_t f = 1; f < 200; ++f) {
      const FrameChoice* c = nullptr;
      run_frame(s, f * kFrame30, costs, &c);
      CHECK(c->run[0] == 1);  // the high-priority task keeps its rate
      if (c->run[1]) {
        CHECK(c->forced[1] == 1);
        CHECK(f - last_low == max_deferrals + 1);
        last_low = f;
      } else {
        CHECK(f - last_low <= max_deferrals);
      }
    }
    CHECK(s.figures(1).runs == 1 + 199 / (max_deferrals + 1));
  }
  SECTION("every 3rd frame: runs at least once every 3 + max_deferrals frames") {
    TaskScheduler s = make({every(1, 10), every(3, 0)}, 1, 20 * kMs, 2);
    const Costs costs{{10 * kMs}, {9 * kMs, 15 * kMs}};
    uint64_t last_low = 0;
    for (uint64_t f = 0; f < 300; ++f) {
      const FrameChoice* c = nullptr;
      run_frame(s, f * kFrame30, costs, &c);
      if (c->run[1]) {
        if (f > 0) CHECK(f - last_low == 3 + 2);
        last_low = f;
      }
      CHECK(f - last_low <= 3 + 2);
    }
  }
}

TEST_CASE("task scheduler: deadlines defer tasks and count misses") {
  // Two plans: A (backbone 10, head 5) with priority 2, B (backbone 4, head 2, deadline 8 ms).
  // After A's 15 ms, B would finish at 21 ms, past its deadline: deferred; forced after 2 frames.
  TaskScheduler s = make({every(1, 2, 0), every(1, 1, 1, 8 * kMs)}, 2, 50 * kMs, 2);
  const Costs costs{{10 * kMs, 4 * kMs}, {5 * kMs, 2 * kMs}};
  const FrameChoice* c = nullptr;
  run_frame(s, 0, costs, &c);  // first frame: both, A first (higher priority)
  REQUIRE(c->group_count == 2);
  CHECK(c->group_order[0] == 0);
  CHECK(c->group_order[1] == 1);
  CHECK(s.figures(1).deadline_misses == 1);  // latency 21 > 8
  CHECK(s.figures(0).deadline_misses == 0);  // 15 < budget 50 (no deadline: the budget)
  run_frame(s, kFrame30, costs, &c);
  CHECK(c->run[0] == 1);
  CHECK(c->deferred[1] == 1);
  run_frame(s, 2 * kFrame30, costs, &c);
  CHECK(c->deferred[1] == 1);
  run_frame(s, 3 * kFrame30, costs, &c);
  CHECK(c->run[1] == 1);
  CHECK(c->forced[1] == 1);
  CHECK(s.figures(1).deadline_misses == 2);
  CHECK(s.figures(1).skips == 2);

  SECTION("a higher-priority deadline task runs its plan first and meets its deadline") {
    TaskScheduler d = make({every(1, 1, 0), every(1, 5, 1, 8 * kMs)}, 2, 50 * kMs, 2);
    run_frame(d, 0, costs);
    run_frame(d, kFrame30, costs, &c);
    CHECK(c->group_order[0] == 1);
    CHECK(c->run[0] == 1);  // 6 + 15 = 21 within the budget; B already finished at 6
    CHECK(d.figures(1).deadline_misses == 0);  // B's plan runs first on every frame
  }
  SECTION("a task that would push a chosen task past its deadline is deferred") {
    // Plan 0 holds a deadline task (priority 5, deadline 17) and a low task (priority 1, head 5);
    // adding the low head delays the deadline task's plan to 20 ms.
    TaskScheduler d = make({every(1, 5, 0, 17 * kMs), every(1, 1, 0)}, 1, 50 * kMs, 10);
    const Costs shared{{10 * kMs}, {5 * kMs, 5 * kMs}};
    run_frame(d, 0, shared);
    run_frame(d, kFrame30, shared, &c);
    CHECK(c->run[0] == 1);
    CHECK(c->deferred[1] == 1);
  }
}

TEST_CASE("task scheduler: latency percentiles are within 2 % of the exact ones") {
  std::mt19937 rng(99);
  std::lognormal_distribution<double> spread(std::log(20e6), 0.8);  // ~20 ms, long tail
  LatencyHistogram h;
  std::vector<uint64_t> samples;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = 200 + static_cast<uint64_t>(spread(rng));
    samples.push_back(v);
    h.add(v);
  }
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const double exact = static_cast<double>(exact_percentile(samples, p));
    INFO("p" << p << " exact " << exact << " histogram " << h.percentile(p));
    CHECK(std::abs(static_cast<double>(h.percentile(p)) - exact) <= 0.02 * exact);
  }
  CHECK(h.count() == 20000);
  CHECK(h.max() == *std::max_element(samples.begin(), samples.end()));
  CHECK(h.percentile(100) == h.max());
  CHECK(h.min() == *std::min_element(samples.begin(), samples.end()));
  SECTION("a few samples, small and large") {
    LatencyHistogram few;
    std::vector<uint64_t> v = {150, 1000, 5000, 123456, 33 * kMs, 2000 * kMs, 60000 * kMs};
    for (uint64_t x : v) few.add(x);
    for (double p : {10.0, 30.0, 50.0, 70.0, 90.0, 100.0}) {
      const double exact = static_cast<double>(exact_percentile(v, p));
      CHECK(std::abs(static_cast<double>(few.percentile(p)) - exact) <= 0.02 * exact);
    }
    LatencyHistogram empty;
    CHECK(empty.percentile(50) == 0);
    CHECK(empty.min() == 0);
  }
  SECTION("the scheduler's per-task latency: arrival to the group's finish") {
    TaskScheduler s = make({every(1, 0, 0), every(1, 0, 1)}, 2);
    std::vector<uint64_t> lat0, lat1;
    for (uint64_t f = 0; f < 500; ++f) {
      const Costs costs{{(1 + f % 7) * kMs, (2 + f % 5) * kMs}, {(f % 3) * kMs, kMs / 2}};
      const uint64_t queued = (f % 4) * kMs;
      run_frame(s, f * kFrame30, costs, nullptr, queued);
      lat0.push_back(queued + costs.shared[0] + costs.head[0]);
      lat1.push_back(lat0.back() + costs.shared[1] + costs.head[1]);
    }
    for (double p : {50.0, 90.0, 99.0}) {
      const double e0 = static_cast<double>(exact_percentile(lat0, p));
      const double e1 = static_cast<double>(exact_percentile(lat1, p));
      CHECK(std::abs(static_cast<double>(s.figures(0).latency.percentile(p)) - e0) <= 0.02 * e0);
      CHECK(std::abs(static_cast<double>(s.figures(1).latency.percentile(p)) - e1) <= 0.02 * e1);
      // The frame's latency is its last group's.
      CHECK(std::abs(static_cast<double>(s.stream().frame_latency.percentile(p)) - e1) <=
            0.02 * e1);
    }
  }
}

TEST_CASE("task scheduler: stream counters") {
  TaskScheduler s = make({every(1), every(2)}, 1, 12 * kMs, 3);
  const Costs costs{{10 * kMs}, {1 * kMs, 1 * kMs}};
  const uint64_t start = 5 * kMs;
  uint64_t finish = 0;
  for (uint64_t f = 0; f < 10; ++f) {
    if (f % 4 == 3) s.count_dropped();
    finish = run_frame(s, start + f * kFrame30, costs);
  }
  const StreamFigures& st = s.stream();
  CHECK(st.frames_processed == 10);
  CHECK(st.frames_dropped == 2);
  CHECK(st.first_arrival_ns == start);
  CHECK(st.last_finish_ns == finish);
  CHECK(st.frames_over_budget == 0);  // 12 ms at most
  CHECK(st.frame_latency.count() == 10);
  CHECK(s.figures(0).runs == 10);
  CHECK(s.figures(1).runs == 5);
  CHECK(s.figures(0).deadline_misses == 0);
  // Frames that queued 3 ms: nothing fits (3 + 11 > 12), so both tasks are deferred and the
  // frame takes 3 ms; on the fourth such frame both are forced: over budget (3 + 12), and both
  // miss (no deadline: the budget counts).
  for (uint64_t f = 10; f < 13; ++f) {
    const FrameChoice* c = nullptr;
    run_frame(s, start + f * kFrame30, costs, &c, 3 * kMs);
    CHECK(c->group_count == 0);
    CHECK(c->deferred[0] == 1);
  }
  CHECK(s.stream().frames_over_budget == 0);
  CHECK(s.figures(0).skips == 3);
  CHECK(s.figures(1).skips == 3);
  const FrameChoice* c = nullptr;
  run_frame(s, start + 13 * kFrame30, costs, &c, 3 * kMs);
  CHECK((c->forced[0] && c->forced[1]));
  CHECK(s.stream().frames_over_budget == 1);
  CHECK(s.figures(0).deadline_misses == 1);
  CHECK(s.figures(1).deadline_misses == 1);
  CHECK(s.stream().frame_latency.max() == 15 * kMs);
}

TEST_CASE("task scheduler: overload over 10,000 frames") {
  // Three plans at 30 fps, budget 33 ms; all tasks every frame would cost 10+8 + 12+6 + 9+7 = 52.
  // The face detector (priority 10) keeps its rate; the others degrade but each runs at least
  // once every max_deferrals + 1 frames; the caller drops every 50th frame.
  TaskScheduler s = make({every(1, 10, 0), every(2, 5, 1), every(3, 1, 2)}, 3, 33 * kMs, 3);
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> noise(-1000000, 1000000);
  std::vector<uint64_t> last(3, 0);
  std::vector<uint64_t> max_gap(3, 0);
  uint64_t dropped = 0;
  for (uint64_t f = 0; f < 10000; ++f) {
    if (f % 50 == 49) {
      s.count_dropped();
      ++dropped;
    }
    const auto n = [&](uint64_t v) {
      return static_cast<uint64_t>(static_cast<int64_t>(v) + noise(rng));
    };
    const Costs costs{{n(10 * kMs), n(12 * kMs), n(9 * kMs)}, {n(8 * kMs), n(6 * kMs), n(7 * kMs)}};
    const FrameChoice* c = nullptr;
    run_frame(s, f * kFrame30, costs, &c);
    for (size_t t = 0; t < 3; ++t)
      if (c->run[t]) {
        max_gap[t] = std::max(max_gap[t], f - last[t]);
        last[t] = f;
      }
  }
  CHECK(s.figures(0).runs == 10000);
  CHECK(s.figures(0).skips == 0);
  CHECK(max_gap[0] == 1);
  CHECK(s.figures(1).runs < 5000);  // degraded
  CHECK(s.figures(2).runs < 3334);
  CHECK(s.figures(1).runs > 0);
  CHECK(s.figures(2).runs > 0);
  CHECK(max_gap[1] <= 2 + 3);
  CHECK(max_gap[2] <= 3 + 3);
  CHECK(s.stream().frames_dropped == dropped);
  CHECK(s.stream().frames_processed == 10000);
  // Over budget only on forced frames and the first: well below one frame in three.
  CHECK(s.stream().frames_over_budget < 10000 / 3);
  CHECK(s.figures(0).latency.percentile(99) <= 21 * kMs);  // its plan runs first: 18 +- 2 ms
}

TEST_CASE("task scheduler: choose and record allocate nothing") {
  TaskScheduler s = make({every(1, 3, 0), hz(10, 2, 1), every(2, 1, 1, 20 * kMs)}, 2, 25 * kMs, 2);
  const Costs costs{{10 * kMs, 8 * kMs}, {5 * kMs, 4 * kMs, 3 * kMs}};
  run_frame(s, 0, costs);
  const long allocations = testing::count_allocations([&] {
    for (uint64_t f = 1; f < 200; ++f) {
      if (f % 10 == 0) s.count_dropped();
      run_frame(s, f * kFrame30, costs);
    }
  });
  CHECK(allocations == 0);
}

TEST_CASE("task scheduler: create refuses bad tasks, naming them") {
  TaskSchedulerOptions o;
  auto out_of_range = TaskScheduler::create({every(1, 0, 2)}, 2, o);
  REQUIRE_FALSE(out_of_range.is_ok());
  CHECK(out_of_range.status().message() == "task 0: group 2 is out of range; there are 2");
  ScheduledTask both = every(2);
  both.rate.rate_hz = 5;
  auto both_rates = TaskScheduler::create({every(1), both}, 1, o);
  REQUIRE_FALSE(both_rates.is_ok());
  CHECK_THAT(both_rates.status().message(),
             Catch::Contains("task 1: give one of every_n_frames and rate_hz"));
  auto neither = TaskScheduler::create({every(0)}, 1, o);
  REQUIRE_FALSE(neither.is_ok());
  CHECK_THAT(neither.status().message(), Catch::Contains("(found every_n_frames 0, rate_hz 0)"));
  auto negative = TaskScheduler::create({hz(-3)}, 1, o);
  REQUIRE_FALSE(negative.is_ok());
  CHECK_THAT(negative.status().message(),
             Catch::Contains("task 0: rate_hz must be finite and positive, found -3"));
  auto infinite = TaskScheduler::create({hz(INFINITY)}, 1, o);
  REQUIRE_FALSE(infinite.is_ok());
  CHECK(TaskScheduler::create({}, 0, o).is_ok());  // nothing to schedule is not an error here
}
