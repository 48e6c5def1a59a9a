/* Scenarios of the frame scheduler's C API, in C11 compiled as C, run from Catch2 by
 * tests/engine/test_c_api_scheduler.cc. The clock is injected (1 ms per reading: one at a frame's
 * start, one after each plan it runs), so times and latencies are exact. Every scenario returns 1
 * when it passes and 0 otherwise, with the failed check, its line and ph_last_error() in msg;
 * handles are freed on every path. */
#include "support/c_api_scheduler_scenarios.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "polyhead/polyhead_c.h"
#include "support/c_api_checks.h"

enum { kMs = 1000000 };

/* The injected clock: 1 ms more at every reading. */
static uint64_t step_clock(void* context) {
  uint64_t* now = (uint64_t*)context;
  *now += kMs;
  return *now;
}

int phs_scheduler_run(const char* path, const float* input, size_t input_count, const float* logits,
                      char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_frame_scheduler* scheduler = NULL;
  ph_task_schedule tasks[2];
  ph_scheduled_plan plans[1];
  ph_scheduler_options options = ph_scheduler_options_default();
  ph_frame_outcome outcome;
  ph_task_stats stats;
  ph_stream_stats stream;
  ph_tensor t;
  uint64_t now = 0, ran = 99, deferred = 99;
  union {
    ph_task_stats stats;
    unsigned char bytes[sizeof(ph_task_stats)];
  } older;
  size_t i;
  uint64_t f;

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));

  memset(tasks, 0, sizeof tasks);
  tasks[0].task = "segment";
  tasks[0].every_n_frames = 2;
  tasks[1].task = "classify";
  tasks[1].has_priority = 1;
  tasks[1].priority = 4;
  tasks[1].deadline_ms = 0.5;
  plans[0].label = "cam";
  plans[0].plan = plan;
  plans[0].tasks = tasks;
  plans[0].task_count = 2;
  CHECK(options.struct_size == sizeof(ph_scheduler_options));
  CHECK(options.budget_ms == 0 && options.max_deferrals == 3 && options.clock == NULL);
  options.clock = step_clock;
  options.clock_context = &now;
  CHECK_OK(ph_frame_scheduler_create(plans, 1, &options, &scheduler));
  CHECK(ph_frame_scheduler_plan_count(scheduler) == 1);
  CHECK(ph_frame_scheduler_task_count(scheduler) == 2);
  CHECK_OK(ph_frame_scheduler_frame_tasks(scheduler, 0, &ran, &deferred));
  CHECK(ran == 0 && deferred == 0);

  for (f = 0; f < 6; ++f) {
    memset(&outcome, 0xff, sizeof outcome);
    outcome.struct_size = sizeof outcome;
    CHECK_OK(ph_frame_scheduler_run_frame(scheduler, 0, &outcome));
    CHECK(outcome.struct_size == sizeof outcome);
    CHECK(outcome.frame == f);
    CHECK(outcome.arrival_ns == (2 * f + 1) * kMs); /* arrival 0: the start reading */
    CHECK(outcome.finished_ns == (2 * f + 2) * kMs);
    CHECK(outcome.over_budget == 0);
    if (f == 0) CHECK(outcome.estimated_ns == 0); /* nothing measured yet */
    CHECK_OK(ph_frame_scheduler_frame_tasks(scheduler, 0, &ran, &deferred));
    CHECK(ran == (f % 2 == 0 ? 3u : 1u));
    CHECK(deferred == 0);
    CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
    CHECK(memcmp(t.data, logits, 5 * sizeof(float)) == 0);
    if (f % 2 == 1)
      CHECK_ERROR(ph_plan_output(plan, "segment", "mask", &t), PH_INVALID_ARGUMENT,
                  "task 'segment' did not run in the last run() of this plan");
    else
      CHECK_OK(ph_plan_output(plan, "segment", "mask", &t));
  }
  CHECK_OK(ph_frame_scheduler_run_frame(scheduler, 0, NULL)); /* out may be NULL: frame 6 */

  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  CHECK_OK(ph_frame_scheduler_task_stats(scheduler, 0, &stats));
  CHECK(strcmp(stats.plan, "cam") == 0 && strcmp(stats.task, "classify") == 0);
  CHECK(stats.plan_index == 0 && stats.task_index == 0);
  CHECK(stats.every_n_frames == 1 && stats.rate_hz == 0);
  CHECK(stats.priority == 4);
  CHECK(stats.deadline_ms == 0.5);
  CHECK(stats.runs == 7 && stats.skips == 0);
  CHECK(stats.deadline_misses == 7); /* 1 ms > 0.5 ms each time */
  /* Every latency is exactly 1 ms, the histogram's smallest and largest value: exact. */
  CHECK(stats.latency_p50_ms == 1.0 && stats.latency_p90_ms == 1.0);
  CHECK(stats.latency_p99_ms == 1.0 && stats.latency_max_ms == 1.0);
  CHECK(stats.estimated_cost_ms > 0 && stats.estimated_shared_ms > 0); /* the plan's own times */
  CHECK_OK(ph_frame_scheduler_task_stats(scheduler, 1, &stats));
  CHECK(strcmp(stats.task, "segment") == 0 && stats.task_index == 1);
  CHECK(stats.every_n_frames == 2 && stats.priority == 0 && stats.deadline_ms == 0);
  CHECK(stats.runs == 4 && stats.skips == 0 && stats.deadline_misses == 0);

  /* An older, smaller struct: only its bytes are written. */
  memset(older.bytes, 0xab, sizeof older.bytes);
  older.stats.struct_size = offsetof(ph_task_stats, every_n_frames);
  CHECK_OK(ph_frame_scheduler_task_stats(scheduler, 1, &older.stats));
  CHECK(older.stats.struct_size == offsetof(ph_task_stats, every_n_frames));
  CHECK(older.stats.task_index == 1);
  for (i = offsetof(ph_task_stats, every_n_frames); i < sizeof older.bytes; ++i)
    CHECK(older.bytes[i] == 0xab);

  CHECK_OK(ph_frame_scheduler_count_dropped_frame(scheduler));
  memset(&stream, 0, sizeof stream);
  stream.struct_size = sizeof stream;
  CHECK_OK(ph_frame_scheduler_stream_stats(scheduler, &stream));
  CHECK(stream.frames_in == 8 && stream.frames_processed == 7 && stream.frames_dropped == 1);
  CHECK(stream.frames_over_budget == 0);
  /* From the first arrival (1 ms) to the last finish (14 ms). */
  CHECK(fabs(stream.seconds - 0.013) < 1e-12);
  CHECK(fabs(stream.throughput_fps - 7 / 0.013) < 1e-9);
  CHECK(stream.frame_latency_p50_ms == 1.0 && stream.frame_latency_p99_ms == 1.0);
  ok = 1;
done:
  ph_frame_scheduler_free(scheduler);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

/* A budget of 1 ns: after the first frame nothing fits, so tasks run only when forced after
 * max_deferrals (1) deferred frames. The plan handle is freed right after create: the scheduler
 * keeps the plan alive. */
int phs_scheduler_budget(const char* path, const float* input, size_t input_count, char* msg,
                         size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_frame_scheduler* scheduler = NULL;
  ph_scheduled_plan plans[1];
  ph_scheduler_options options = ph_scheduler_options_default();
  ph_frame_outcome outcome;
  ph_task_stats stats;
  ph_stream_stats stream;
  uint64_t now = 0, ran = 0, deferred = 0;
  static const uint64_t expected_ran[] = {3, 0, 3, 0, 3};
  static const int32_t expected_over[] = {1, 0, 1, 0, 1};
  size_t f;

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  plans[0].label = "cam";
  plans[0].plan = plan;
  plans[0].tasks = NULL;
  plans[0].task_count = 0;
  options.budget_ms = 1e-6;
  options.max_deferrals = 1;
  options.clock = step_clock;
  options.clock_context = &now;
  CHECK_OK(ph_frame_scheduler_create(plans, 1, &options, &scheduler));
  ph_plan_free(plan);
  plan = NULL;
  for (f = 0; f < 5; ++f) {
    outcome.struct_size = sizeof outcome;
    CHECK_OK(ph_frame_scheduler_run_frame(scheduler, 0, &outcome));
    CHECK_OK(ph_frame_scheduler_frame_tasks(scheduler, 0, &ran, &deferred));
    CHECK(ran == expected_ran[f]);
    CHECK(deferred == 3 - expected_ran[f]);
    CHECK(outcome.over_budget == expected_over[f]);
  }
  stats.struct_size = sizeof stats;
  CHECK_OK(ph_frame_scheduler_task_stats(scheduler, 1, &stats));
  CHECK(stats.runs == 3 && stats.skips == 2);
  CHECK(stats.deadline_misses == 3); /* no deadline: the budget counts */
  stream.struct_size = sizeof stream;
  CHECK_OK(ph_frame_scheduler_stream_stats(scheduler, &stream));
  CHECK(stream.frames_over_budget == 3);
  ok = 1;
done:
  ph_frame_scheduler_free(scheduler);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

int phs_scheduler_errors(const char* path, const float* input, size_t input_count, char* msg,
                         size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_frame_scheduler* scheduler = NULL;
  ph_task_schedule task;
  ph_scheduled_plan plans[2];
  ph_scheduler_options options = ph_scheduler_options_default();
  ph_frame_outcome outcome;
  ph_task_stats stats;
  ph_stream_stats stream;
  uint64_t ran = 0;
  struct {
    ph_scheduler_options known;
    uint64_t newer_field;
  } newer;

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  memset(&task, 0, sizeof task);
  memset(plans, 0, sizeof plans);
  plans[0].label = "cam";
  plans[0].plan = plan;
  plans[1] = plans[0];

  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, NULL), PH_INVALID_ARGUMENT,
              "ph_frame_scheduler_create: argument 'out' is NULL");
  CHECK_ERROR(ph_frame_scheduler_create(NULL, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "argument 'plans' is NULL");
  CHECK(scheduler == NULL);
  CHECK_ERROR(ph_frame_scheduler_create(plans, 0, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "FrameScheduler needs at least one plan, found none");
  plans[0].plan = NULL;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "argument 'plans[0].plan' is NULL");
  plans[0].plan = plan;
  plans[1].label = NULL;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 2, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "argument 'plans[1].label' is NULL");
  plans[1].label = "";
  CHECK_ERROR(ph_frame_scheduler_create(plans, 2, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "plan 1 has an empty label");
  plans[1].label = "cam";
  CHECK_ERROR(ph_frame_scheduler_create(plans, 2, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "plans 0 and 1 are both labelled 'cam'; labels must differ");
  plans[0].task_count = 1;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "argument 'plans[0].tasks' is NULL but task_count is 1");
  plans[0].tasks = &task;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "argument 'plans[0].tasks[0].task' is NULL");
  task.task = "pose";
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_NOT_FOUND,
              "plan 'cam': unknown task 'pose'; the plan holds 'classify', 'segment'");
  task.task = "segment";
  task.every_n_frames = 2;
  task.rate_hz = 10;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "plan 'cam' task 'segment': give every_n_frames or rate_hz, not both (found 2 and "
              "10)");
  task.every_n_frames = 0;
  task.rate_hz = -1;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "plan 'cam' task 'segment': rate_hz must be finite and at least 0, found -1");
  task.rate_hz = 0;
  task.deadline_ms = -2;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
              "plan 'cam' task 'segment': deadline_ms must be finite, at least 0 and at most "
              "3.6e+06 ms, found -2");
  task.deadline_ms = 0;
  {
    ph_task_schedule twice[2];
    twice[0] = task;
    twice[1] = task;
    plans[0].tasks = twice;
    plans[0].task_count = 2;
    CHECK_ERROR(ph_frame_scheduler_create(plans, 1, NULL, &scheduler), PH_INVALID_ARGUMENT,
                "plan 'cam': task 'segment' is listed twice");
    plans[0].tasks = &task;
    plans[0].task_count = 1;
  }
  options.budget_ms = -3;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, &options, &scheduler), PH_INVALID_ARGUMENT,
              "budget_ms must be finite, at least 0 and at most 3.6e+06 ms, found -3");
  options.budget_ms = 0;
  options.struct_size = 3;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, &options, &scheduler), PH_INVALID_ARGUMENT,
              "options->struct_size is 3");
  memset(&newer, 0, sizeof newer);
  newer.known = ph_scheduler_options_default();
  newer.known.struct_size = sizeof newer;
  CHECK_OK(ph_frame_scheduler_create(plans, 1, &newer.known, &scheduler)); /* zero: fine */
  ph_frame_scheduler_free(scheduler);
  scheduler = NULL;
  newer.newer_field = 1;
  CHECK_ERROR(ph_frame_scheduler_create(plans, 1, &newer.known, &scheduler), PH_UNSUPPORTED,
              "knows");
  CHECK(scheduler == NULL);
  /* An older header's options without the clock fields: the defaults for those. */
  options = ph_scheduler_options_default();
  options.struct_size = offsetof(ph_scheduler_options, clock);
  CHECK_OK(ph_frame_scheduler_create(plans, 1, &options, &scheduler));

  /* Calls on a scheduler. */
  CHECK_ERROR(ph_frame_scheduler_run_frame(NULL, 0, NULL), PH_INVALID_ARGUMENT,
              "ph_frame_scheduler_run_frame: argument 'scheduler' is NULL");
  outcome.struct_size = 3;
  CHECK_ERROR(ph_frame_scheduler_run_frame(scheduler, 0, &outcome), PH_INVALID_ARGUMENT,
              "out->struct_size is 3");
  CHECK_ERROR(ph_frame_scheduler_run_frame(scheduler, 0, NULL), PH_INVALID_ARGUMENT,
              "plan 'cam': input 'image' was not set before run()");
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  CHECK_OK(ph_frame_scheduler_run_frame(scheduler, 0, NULL));
  CHECK_ERROR(ph_frame_scheduler_frame_tasks(scheduler, 1, &ran, NULL), PH_INVALID_ARGUMENT,
              "plan index 1 is out of range; there are 1");
  CHECK_ERROR(ph_frame_scheduler_frame_tasks(NULL, 0, &ran, NULL), PH_INVALID_ARGUMENT,
              "argument 'scheduler' is NULL");
  CHECK_OK(ph_frame_scheduler_frame_tasks(scheduler, 0, NULL, NULL));
  stats.struct_size = sizeof stats;
  CHECK_ERROR(ph_frame_scheduler_task_stats(scheduler, 2, &stats), PH_INVALID_ARGUMENT,
              "task index 2 is out of range; there are 2");
  CHECK_ERROR(ph_frame_scheduler_task_stats(scheduler, 0, NULL), PH_INVALID_ARGUMENT,
              "argument 'out' is NULL");
  stats.struct_size = 3;
  CHECK_ERROR(ph_frame_scheduler_task_stats(scheduler, 0, &stats), PH_INVALID_ARGUMENT,
              "out->struct_size is 3; set it to sizeof(ph_task_stats)");
  stream.struct_size = 3;
  CHECK_ERROR(ph_frame_scheduler_stream_stats(scheduler, &stream), PH_INVALID_ARGUMENT,
              "out->struct_size is 3; set it to sizeof(ph_stream_stats)");
  CHECK_ERROR(ph_frame_scheduler_stream_stats(NULL, &stream), PH_INVALID_ARGUMENT,
              "argument 'scheduler' is NULL");
  CHECK_ERROR(ph_frame_scheduler_count_dropped_frame(NULL), PH_INVALID_ARGUMENT,
              "argument 'scheduler' is NULL");
  CHECK(ph_frame_scheduler_plan_count(NULL) == 0);
  CHECK(strstr(ph_last_error(), "ph_frame_scheduler_plan_count: argument 'scheduler' is NULL"));
  CHECK(ph_frame_scheduler_task_count(NULL) == 0);
  ph_frame_scheduler_free(NULL);
  ok = 1;
done:
  ph_frame_scheduler_free(scheduler);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}
