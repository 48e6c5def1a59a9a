// C API scenarios of the frame scheduler, written in C (tests/support/c_api_scheduler_scenarios.c)
// and driven by tests/engine/test_c_api_scheduler.cc. Each returns 1 on success, or 0 with a
// message in `msg`.
#ifndef POLYHEAD_TESTS_C_API_SCHEDULER_SCENARIOS_H_
#define POLYHEAD_TESTS_C_API_SCHEDULER_SCENARIOS_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* `path`: the tiny two-task model (classify, segment); `logits`: the C++ API's classify output for
 * `input` (5 floats). */
int phs_scheduler_run(const char* path, const float* input, size_t input_count, const float* logits,
                      char* msg, size_t size);
int phs_scheduler_budget(const char* path, const float* input, size_t input_count, char* msg,
                         size_t size);
int phs_scheduler_errors(const char* path, const float* input, size_t input_count, char* msg,
                         size_t size);

#ifdef __cplusplus
}
#endif

#endif  // POLYHEAD_TESTS_C_API_SCHEDULER_SCENARIOS_H_
