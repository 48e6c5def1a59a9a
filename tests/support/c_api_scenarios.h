// C API scenarios, written in C (tests/support/c_api_scenarios.c) so the public C header is
// compiled as C, and driven by the Catch2 test tests/engine/test_c_api.cc. Each returns 1 on
// success, or 0 with a message in `msg`.
#ifndef POLYHEAD_TESTS_C_API_SCENARIOS_H_
#define POLYHEAD_TESTS_C_API_SCENARIOS_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

int phs_version(char* msg, size_t size);
int phs_introspection(const char* path, char* msg, size_t size);
int phs_run_all_tasks(const char* path, const float* input, size_t input_count, float* logits,
                      float* mask, char* msg, size_t size);
int phs_run_subset(const char* path, const float* input, size_t input_count, char* msg,
                   size_t size);
int phs_input_buffer(const char* path, const float* input, size_t input_count, char* msg,
                     size_t size);
int phs_from_memory(unsigned char* aligned, size_t bytes, char* msg, size_t size);
int phs_null_arguments(const char* path, char* msg, size_t size);
int phs_engine_options(const char* path, char* msg, size_t size);
int phs_shared_pool(const char* path, const float* input, size_t input_count, char* msg,
                    size_t size);
int phs_caller_errors(const char* path, const float* input, size_t input_count, char* msg,
                      size_t size);
int phs_load_errors(const char* missing_path, const char* not_a_model_path, char* msg, size_t size);
int phs_free_orders(const char* path, const float* input, size_t input_count, float* logits,
                    char* msg, size_t size);
int phs_model_enums(char* msg, size_t size);
int phs_preprocess(const char* path, char* msg, size_t size);
int phs_task_metadata(const char* path, char* msg, size_t size);
int phs_model_facts(const char* described_path, const char* plain_path, unsigned major,
                    unsigned minor, char* msg, size_t size);
int phs_pixels_and_bound_outputs(const char* path, char* msg, size_t size);
int phs_engine_precision(const char* path, int has_fp16, const float* input, size_t input_count,
                         char* msg, size_t size);

#ifdef __cplusplus
}
#endif

#endif  // POLYHEAD_TESTS_C_API_SCENARIOS_H_
