/* Scenarios of the C API written in C11 and compiled as C, so that polyhead/polyhead_c.h is proven
 * to be a C header and the API is used exactly as a C caller would. tests/engine/test_c_api.cc runs
 * them from Catch2 (it declares the same prototypes). Every scenario returns 1 when it passes and 0
 * otherwise, with the failed check, its line and ph_last_error() written into msg; handles are
 * freed on every path so the sanitizer build also checks for leaks. */
#include "support/c_api_scenarios.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polyhead/polyhead_c.h"
#include "support/c_api_checks.h"

/* The tiny two-task model of tests/support/test_models.cc: image [1,8,8,3] -> stem conv (shared)
 * -> classify (mean + fully connected: logits [1,5]) and segment (1x1 conv: mask [1,8,8,2]). */
enum { kImageCount = 1 * 8 * 8 * 3, kLogitsCount = 5, kMaskCount = 1 * 8 * 8 * 2 };

static int contains(const char* text, const char* needle) {
  return text && strstr(text, needle) != NULL;
}

static int shape_is(const int64_t* dims, size_t rank, const int64_t* expected, size_t n) {
  if (rank != n) return 0;
  for (size_t i = 0; i < n; ++i)
    if (dims[i] != expected[i]) return 0;
  return 1;
}

int phs_version(char* msg, size_t size) {
  int ok = 0;
  CHECK(strcmp(ph_version(), "0.2.0") == 0);
  CHECK(strcmp(ph_version(), PH_VERSION_STRING) == 0);
  CHECK(ph_api_version() == PH_API_VERSION);
  CHECK(PH_API_VERSION == 200);
  CHECK(strcmp(ph_status_name(PH_OK), "ok") == 0);
  CHECK(strcmp(ph_status_name(PH_NOT_FOUND), "not found") == 0);
  CHECK(strcmp(ph_status_name(PH_INTERNAL), "internal error") == 0);
  CHECK(ph_element_size(PH_F32) == 4 && ph_element_size(PH_F16) == 2);
  CHECK(ph_element_size(PH_I8) == 1 && ph_element_size(PH_U8) == 1 && ph_element_size(PH_I32) == 4);
  ok = 1;
done:
  return ok;
}

int phs_introspection(const char* path, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  int64_t dims[PH_MAX_DIMS];
  size_t rank = 0;
  ph_element_type type = PH_I32;
  static const int64_t image_shape[] = {1, 8, 8, 3};
  static const int64_t logits_shape[] = {1, 5};
  static const int64_t mask_shape[] = {1, 8, 8, 2};

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK(model != NULL);

  CHECK(ph_model_input_count(model) == 1);
  CHECK(strcmp(ph_model_input_name(model, 0), "image") == 0);
  CHECK_OK(ph_model_input_type(model, 0, &type));
  CHECK(type == PH_F32);
  CHECK_OK(ph_model_input_shape(model, 0, NULL, 0, &rank)); /* size query */
  CHECK(rank == 4);
  rank = 0;
  CHECK_OK(ph_model_input_shape(model, 0, dims, PH_MAX_DIMS, &rank));
  CHECK(shape_is(dims, rank, image_shape, 4));
  CHECK_ERROR(ph_model_input_shape(model, 0, dims, 2, &rank), PH_INVALID_ARGUMENT, "room for 2");
  CHECK(rank == 4); /* still reported, so the caller can retry */
  CHECK(ph_model_input_name(model, 1) == NULL);
  CHECK(contains(ph_last_error(), "input index 1 is out of range"));
  CHECK_ERROR(ph_model_input_shape(model, 3, dims, PH_MAX_DIMS, &rank), PH_INVALID_ARGUMENT,
              "input index 3");

  CHECK(ph_model_task_count(model) == 2);
  CHECK(strcmp(ph_model_task_name(model, 0), "classify") == 0);
  CHECK(strcmp(ph_model_task_name(model, 1), "segment") == 0);
  CHECK(strcmp(ph_model_task_kind(model, 0), "classification") == 0);
  CHECK(strcmp(ph_model_task_kind(model, 1), "segmentation") == 0);
  CHECK(ph_model_task_name(model, 2) == NULL);
  CHECK(contains(ph_last_error(), "task index 2 is out of range; there are 2"));
  CHECK(ph_model_task_output_count(model, 0) == 1);
  CHECK(ph_model_task_output_count(model, 1) == 1);
  CHECK(ph_model_task_output_count(model, 7) == 0);
  CHECK(strcmp(ph_model_task_output_name(model, 0, 0), "logits") == 0);
  CHECK(strcmp(ph_model_task_output_name(model, 1, 0), "mask") == 0);
  CHECK(ph_model_task_output_name(model, 0, 1) == NULL);
  CHECK(contains(ph_last_error(), "output index 1"));
  CHECK_OK(ph_model_task_output_shape(model, 0, 0, dims, PH_MAX_DIMS, &rank));
  CHECK(shape_is(dims, rank, logits_shape, 2));
  CHECK_OK(ph_model_task_output_shape(model, 1, 0, dims, PH_MAX_DIMS, &rank));
  CHECK(shape_is(dims, rank, mask_shape, 4));
  type = PH_I32;
  CHECK_OK(ph_model_task_output_type(model, 1, 0, &type));
  CHECK(type == PH_F32);
  ok = 1;
done:
  ph_model_free(model);
  return ok;
}

/* Prepares every task, runs, checks the outputs' views and copies them for comparison with the
 * C++ API. */
int phs_run_all_tasks(const char* path, const float* input, size_t input_count, float* logits,
                      float* mask, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_tensor t;
  ph_plan_info info;
  static const int64_t logits_shape[] = {1, 5};
  static const int64_t mask_shape[] = {1, 8, 8, 2};

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan)); /* count 0: every task */
  CHECK(ph_plan_last_run_nodes(plan) == 0);

  memset(&info, 0xff, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(ph_plan_get_info(plan, &info));
  CHECK(info.struct_size == sizeof info);
  CHECK(info.nodes == 4);
  CHECK(info.task_count == 2);
  CHECK(info.arena_lower_bound_bytes > 0);
  CHECK(info.arena_bytes >= info.arena_lower_bound_bytes);
  CHECK(strcmp(ph_plan_task_name(plan, 0), "classify") == 0);
  CHECK(strcmp(ph_plan_task_name(plan, 1), "segment") == 0);
  CHECK(ph_plan_task_name(plan, 2) == NULL);

  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  CHECK_OK(ph_plan_run(plan));
  CHECK(ph_plan_last_run_nodes(plan) == 4);

  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  CHECK(t.data != NULL);
  CHECK(t.type == PH_F32);
  CHECK(shape_is(t.dims, t.rank, logits_shape, 2));
  CHECK(t.dims[2] == 0 && t.dims[5] == 0);
  memcpy(logits, t.data, kLogitsCount * sizeof(float));

  CHECK_OK(ph_plan_output(plan, "segment", "mask", &t));
  CHECK(t.data != NULL);
  CHECK(t.type == PH_F32);
  CHECK(shape_is(t.dims, t.rank, mask_shape, 4));
  memcpy(mask, t.data, kMaskCount * sizeof(float));
  ok = 1;
done:
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

/* A subset run executes fewer nodes; a one-task plan is smaller; results agree with a full run. */
int phs_run_subset(const char* path, const float* input, size_t input_count, char* msg,
                   size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* all = NULL;
  ph_plan* one = NULL;
  ph_tensor t;
  ph_plan_info all_info, one_info;
  float mask_full[kMaskCount];
  float logits_full[kLogitsCount];
  const char* segment_only[] = {"segment"};
  const char* classify_only[] = {"classify"};
  const char* both[] = {"segment", "classify"};
  size_t full_nodes;

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &all));
  CHECK_OK(ph_plan_set_input(all, "image", input, input_count));
  CHECK_OK(ph_plan_run(all));
  full_nodes = ph_plan_last_run_nodes(all);
  CHECK_OK(ph_plan_output(all, "segment", "mask", &t));
  memcpy(mask_full, t.data, sizeof mask_full);
  CHECK_OK(ph_plan_output(all, "classify", "logits", &t));
  memcpy(logits_full, t.data, sizeof logits_full);

  CHECK_OK(ph_plan_run_tasks(all, segment_only, 1));
  CHECK(ph_plan_last_run_nodes(all) < full_nodes);
  CHECK(ph_plan_last_run_nodes(all) == 2);
  CHECK_OK(ph_plan_output(all, "segment", "mask", &t));
  CHECK(memcmp(t.data, mask_full, sizeof mask_full) == 0);
  /* classify did not run in the last run */
  CHECK_ERROR(ph_plan_output(all, "classify", "logits", &t), PH_INVALID_ARGUMENT,
              "'classify' did not run");
  CHECK(t.data == NULL);

  CHECK_OK(ph_plan_run_tasks(all, both, 2));
  CHECK(ph_plan_last_run_nodes(all) == full_nodes);
  CHECK_OK(ph_plan_run_tasks(all, NULL, 0)); /* count 0: every task */
  CHECK(ph_plan_last_run_nodes(all) == full_nodes);

  CHECK_OK(ph_plan_prepare(engine, classify_only, 1, &one));
  all_info.struct_size = sizeof all_info;
  one_info.struct_size = sizeof one_info;
  CHECK_OK(ph_plan_get_info(all, &all_info));
  CHECK_OK(ph_plan_get_info(one, &one_info));
  CHECK(one_info.task_count == 1);
  CHECK(strcmp(ph_plan_task_name(one, 0), "classify") == 0);
  CHECK(one_info.nodes == 3);
  CHECK(one_info.nodes < all_info.nodes);
  CHECK(one_info.arena_lower_bound_bytes > 0);
  CHECK(one_info.arena_bytes >= one_info.arena_lower_bound_bytes);
  CHECK_OK(ph_plan_set_input(one, "image", input, input_count));
  CHECK_OK(ph_plan_run(one));
  CHECK(ph_plan_last_run_nodes(one) == 3);
  CHECK_OK(ph_plan_output(one, "classify", "logits", &t));
  CHECK(memcmp(t.data, logits_full, sizeof logits_full) == 0);
  /* segment is not in this plan */
  CHECK_ERROR(ph_plan_run_tasks(one, segment_only, 1), PH_INVALID_ARGUMENT,
              "'segment' was not prepared");
  CHECK_ERROR(ph_plan_output(one, "segment", "mask", &t), PH_NOT_FOUND, "'segment'");

  /* An older caller's smaller ph_plan_info gets only the fields it has. */
  memset(&one_info, 0xab, sizeof one_info);
  one_info.struct_size = offsetof(ph_plan_info, arena_bytes);
  CHECK_OK(ph_plan_get_info(one, &one_info));
  CHECK(one_info.struct_size == offsetof(ph_plan_info, arena_bytes));
  CHECK(one_info.nodes == 3);
  {
    ph_plan_info untouched;
    memset(&untouched, 0xab, sizeof untouched);
    CHECK(one_info.arena_bytes == untouched.arena_bytes);
  }
  ok = 1;
done:
  ph_plan_free(one);
  ph_plan_free(all);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

/* Writing the input in place gives the same outputs as ph_plan_set_input. */
int phs_input_buffer(const char* path, const float* input, size_t input_count, char* msg,
                     size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  float* buffer = NULL;
  float* again = NULL;
  ph_tensor t;
  float logits[kLogitsCount];

  CHECK(input_count == kImageCount);
  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  memcpy(logits, t.data, sizeof logits);

  CHECK_OK(ph_plan_input_buffer(plan, "image", &buffer));
  CHECK(buffer != NULL);
  CHECK(((uintptr_t)buffer % sizeof(float)) == 0);
  for (size_t i = 0; i < input_count; ++i) buffer[i] = 0.f;
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  CHECK(memcmp(t.data, logits, sizeof logits) != 0); /* the zero image differs */

  CHECK_OK(ph_plan_input_buffer(plan, "image", &again));
  CHECK(again == buffer);
  memcpy(buffer, input, input_count * sizeof(float));
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  CHECK(memcmp(t.data, logits, sizeof logits) == 0);

  CHECK_ERROR(ph_plan_input_buffer(plan, "pixels", &buffer), PH_NOT_FOUND, "'pixels'");
  CHECK(buffer == NULL);
  ok = 1;
done:
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

/* Borrowed (64-byte aligned) and copied in-memory models. `aligned` is 64-byte aligned and holds
 * the `bytes` model bytes followed by at least 64 spare bytes. */
int phs_from_memory(unsigned char* aligned, size_t bytes, char* msg, size_t size) {
  int ok = 0;
  ph_model* borrowed = NULL;
  ph_model* copied = NULL;
  ph_model* bad = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  unsigned char* copy = NULL;
  ph_tensor t;
  float zeros[kImageCount];
  float logits[kLogitsCount];

  memset(zeros, 0, sizeof zeros);
  CHECK(((uintptr_t)aligned % 64) == 0);
  CHECK_OK(ph_model_from_buffer(aligned, bytes, &borrowed));
  CHECK(ph_model_task_count(borrowed) == 2);
  CHECK_OK(ph_engine_create(borrowed, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", zeros, kImageCount));
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  memcpy(logits, t.data, sizeof logits);
  ph_plan_free(plan);
  plan = NULL;
  ph_engine_free(engine);
  engine = NULL;

  /* from_bytes copies: the source may be unaligned and is overwritten and freed right away. */
  copy = (unsigned char*)malloc(bytes + 1);
  CHECK(copy != NULL);
  memcpy(copy + 1, aligned, bytes);
  CHECK_OK(ph_model_from_bytes(copy + 1, bytes, &copied));
  memset(copy, 0, bytes + 1);
  free(copy);
  copy = NULL;
  CHECK(strcmp(ph_model_task_name(copied, 1), "segment") == 0);
  CHECK_OK(ph_engine_create(copied, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", zeros, kImageCount));
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  CHECK(memcmp(t.data, logits, sizeof logits) == 0);

  /* A borrowed buffer must be 64-byte aligned (the borrowing model is gone before we move it). */
  ph_model_free(borrowed);
  borrowed = NULL;
  memmove(aligned + 8, aligned, bytes);
  CHECK_ERROR(ph_model_from_buffer(aligned + 8, bytes, &bad), PH_INVALID_ARGUMENT,
              "64-byte aligned");
  CHECK(bad == NULL);
  memmove(aligned, aligned + 8, bytes);

  /* Truncated or empty bytes are not a model. */
  CHECK_ERROR(ph_model_from_bytes(aligned, bytes / 2, &bad), PH_INVALID_MODEL, NULL);
  CHECK_ERROR(ph_model_from_bytes(aligned, 0, &bad), PH_INVALID_MODEL, NULL);
  CHECK_ERROR(ph_model_from_buffer(aligned, bytes / 2, &bad), PH_INVALID_MODEL, NULL);
  CHECK(bad == NULL);
  ok = 1;
done:
  free(copy);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(bad);
  ph_model_free(copied);
  ph_model_free(borrowed);
  return ok;
}

/* Every required pointer: PH_INVALID_ARGUMENT naming the argument; freeing NULL is a no-op. */
int phs_null_arguments(const char* path, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_model* no_model = (ph_model*)&ok; /* must be reset to NULL by failing constructors */
  ph_engine* engine = NULL;
  ph_engine* no_engine = (ph_engine*)&ok;
  ph_plan* plan = NULL;
  ph_plan* no_plan = (ph_plan*)&ok;
  float* buffer = (float*)&ok;
  int64_t dims[PH_MAX_DIMS];
  size_t rank = 0;
  ph_element_type type;
  ph_tensor t;
  ph_plan_info info;
  float image[kImageCount];
  const char* with_null[] = {"classify", NULL};
  static const unsigned char bytes[16];

  memset(image, 0, sizeof image);
  ph_model_free(NULL);
  ph_engine_free(NULL);
  ph_plan_free(NULL);

  CHECK_ERROR(ph_model_load_file(NULL, &no_model), PH_INVALID_ARGUMENT,
              "ph_model_load_file: argument 'path' is NULL");
  CHECK(no_model == NULL);
  CHECK_ERROR(ph_model_load_file(path, NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_ERROR(ph_model_from_buffer(NULL, 64, &no_model), PH_INVALID_ARGUMENT, "'data'");
  CHECK_ERROR(ph_model_from_buffer(bytes, sizeof bytes, NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_ERROR(ph_model_from_bytes(NULL, 64, &no_model), PH_INVALID_ARGUMENT, "'data'");
  CHECK_ERROR(ph_model_from_bytes(bytes, sizeof bytes, NULL), PH_INVALID_ARGUMENT, "'out'");

  CHECK(ph_model_input_count(NULL) == 0);
  CHECK(contains(ph_last_error(), "ph_model_input_count: argument 'model' is NULL"));
  CHECK(ph_model_input_name(NULL, 0) == NULL);
  CHECK(contains(ph_last_error(), "'model'"));
  CHECK(ph_model_task_count(NULL) == 0);
  CHECK(contains(ph_last_error(), "ph_model_task_count"));
  CHECK(ph_model_task_name(NULL, 0) == NULL);
  CHECK(ph_model_task_kind(NULL, 0) == NULL);
  CHECK(ph_model_task_output_count(NULL, 0) == 0);
  CHECK(ph_model_task_output_name(NULL, 0, 0) == NULL);
  CHECK(contains(ph_last_error(), "ph_model_task_output_name: argument 'model'"));
  CHECK_ERROR(ph_model_input_shape(NULL, 0, dims, PH_MAX_DIMS, &rank), PH_INVALID_ARGUMENT,
              "'model'");
  CHECK_ERROR(ph_model_input_type(NULL, 0, &type), PH_INVALID_ARGUMENT, "'model'");
  CHECK_ERROR(ph_model_task_output_shape(NULL, 0, 0, dims, PH_MAX_DIMS, &rank), PH_INVALID_ARGUMENT,
              "'model'");
  CHECK_ERROR(ph_model_task_output_type(NULL, 0, 0, &type), PH_INVALID_ARGUMENT, "'model'");

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_ERROR(ph_model_input_shape(model, 0, dims, PH_MAX_DIMS, NULL), PH_INVALID_ARGUMENT,
              "'rank'");
  CHECK_ERROR(ph_model_input_shape(model, 0, NULL, 4, &rank), PH_INVALID_ARGUMENT, "'dims'");
  CHECK_ERROR(ph_model_input_type(model, 0, NULL), PH_INVALID_ARGUMENT, "'type'");
  CHECK_ERROR(ph_model_task_output_shape(model, 0, 0, dims, PH_MAX_DIMS, NULL), PH_INVALID_ARGUMENT,
              "'rank'");
  CHECK_ERROR(ph_model_task_output_type(model, 0, 0, NULL), PH_INVALID_ARGUMENT, "'type'");

  CHECK_ERROR(ph_engine_create(NULL, NULL, &no_engine), PH_INVALID_ARGUMENT,
              "ph_engine_create: argument 'model' is NULL");
  CHECK(no_engine == NULL);
  CHECK_ERROR(ph_engine_create(model, NULL, NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_OK(ph_engine_create(model, NULL, &engine));

  CHECK_ERROR(ph_plan_prepare(NULL, NULL, 0, &no_plan), PH_INVALID_ARGUMENT, "'engine'");
  CHECK(no_plan == NULL);
  no_plan = (ph_plan*)&ok;
  CHECK_ERROR(ph_plan_prepare(engine, NULL, 2, &no_plan), PH_INVALID_ARGUMENT, "'tasks'");
  CHECK(no_plan == NULL);
  CHECK_ERROR(ph_plan_prepare(engine, with_null, 2, &no_plan), PH_INVALID_ARGUMENT, "'tasks[1]'");
  CHECK_ERROR(ph_plan_prepare(engine, NULL, 0, NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));

  CHECK_ERROR(ph_plan_set_input(NULL, "image", image, kImageCount), PH_INVALID_ARGUMENT, "'plan'");
  CHECK_ERROR(ph_plan_set_input(plan, NULL, image, kImageCount), PH_INVALID_ARGUMENT, "'name'");
  CHECK_ERROR(ph_plan_set_input(plan, "image", NULL, kImageCount), PH_INVALID_ARGUMENT, "'data'");
  CHECK_ERROR(ph_plan_input_buffer(NULL, "image", &buffer), PH_INVALID_ARGUMENT, "'plan'");
  CHECK(buffer == NULL);
  CHECK_ERROR(ph_plan_input_buffer(plan, NULL, &buffer), PH_INVALID_ARGUMENT, "'name'");
  CHECK_ERROR(ph_plan_input_buffer(plan, "image", NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_ERROR(ph_plan_run(NULL), PH_INVALID_ARGUMENT, "ph_plan_run: argument 'plan' is NULL");
  CHECK_ERROR(ph_plan_run_tasks(NULL, NULL, 0), PH_INVALID_ARGUMENT, "'plan'");
  CHECK_ERROR(ph_plan_run_tasks(plan, NULL, 1), PH_INVALID_ARGUMENT, "'tasks'");

  CHECK_OK(ph_plan_set_input(plan, "image", image, kImageCount));
  CHECK_ERROR(ph_plan_run_tasks(plan, with_null, 2), PH_INVALID_ARGUMENT, "task name 1 of 2");
  CHECK_OK(ph_plan_run(plan));
  CHECK_ERROR(ph_plan_output(NULL, "classify", "logits", &t), PH_INVALID_ARGUMENT, "'plan'");
  CHECK(t.data == NULL && t.rank == 0);
  CHECK_ERROR(ph_plan_output(plan, NULL, "logits", &t), PH_INVALID_ARGUMENT, "'task'");
  CHECK_ERROR(ph_plan_output(plan, "classify", NULL, &t), PH_INVALID_ARGUMENT, "'output'");
  CHECK_ERROR(ph_plan_output(plan, "classify", "logits", NULL), PH_INVALID_ARGUMENT, "'out'");
  info.struct_size = sizeof info;
  CHECK_ERROR(ph_plan_get_info(NULL, &info), PH_INVALID_ARGUMENT, "'plan'");
  CHECK_ERROR(ph_plan_get_info(plan, NULL), PH_INVALID_ARGUMENT, "'info'");
  info.struct_size = 0;
  CHECK_ERROR(ph_plan_get_info(plan, &info), PH_INVALID_ARGUMENT, "struct_size is 0");
  CHECK(ph_plan_task_name(NULL, 0) == NULL);
  CHECK(contains(ph_last_error(), "'plan'"));
  CHECK(ph_plan_last_run_nodes(NULL) == 0);
  CHECK(contains(ph_last_error(), "ph_plan_last_run_nodes: argument 'plan' is NULL"));
  ok = 1;
done:
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

/* ph_engine_options: defaults, bad values, struct_size from older and newer headers. */
int phs_engine_options(const char* path, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_engine_options options = ph_engine_options_default();
  struct {
    ph_engine_options known;
    size_t from_the_future;
  } newer;
  float image[kImageCount];

  memset(image, 0, sizeof image);
  CHECK(options.struct_size == sizeof(ph_engine_options));
  CHECK(options.threads == 1);
  CHECK(options.plan_cache_capacity == 8);
  CHECK_OK(ph_model_load_file(path, &model));

  options.struct_size = 0;
  CHECK_ERROR(ph_engine_create(model, &options, &engine), PH_INVALID_ARGUMENT, "struct_size is 0");
  CHECK(engine == NULL);
  options = ph_engine_options_default();
  options.threads = 5000;
  CHECK_ERROR(ph_engine_create(model, &options, &engine), PH_INVALID_ARGUMENT, "threads");
  options = ph_engine_options_default();
  options.plan_cache_capacity = 0;
  CHECK_ERROR(ph_engine_create(model, &options, &engine), PH_INVALID_ARGUMENT,
              "plan_cache_capacity");

  /* An older header without plan_cache_capacity: the field is not read (0 would be rejected). */
  options.struct_size = offsetof(ph_engine_options, plan_cache_capacity);
  CHECK_OK(ph_engine_create(model, &options, &engine));
  ph_engine_free(engine);
  engine = NULL;

  /* A newer header: unknown fields left at zero are fine, set ones are refused. */
  memset(&newer, 0, sizeof newer);
  newer.known = ph_engine_options_default();
  newer.known.struct_size = sizeof newer;
  CHECK_OK(ph_engine_create(model, &newer.known, &engine));
  ph_engine_free(engine);
  engine = NULL;
  newer.from_the_future = 1;
  CHECK_ERROR(ph_engine_create(model, &newer.known, &engine), PH_UNSUPPORTED, "byte");
  CHECK(engine == NULL);

  /* Two threads compute the same thing. */
  options = ph_engine_options_default();
  options.threads = 2;
  CHECK_OK(ph_engine_create(model, &options, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", image, kImageCount));
  CHECK_OK(ph_plan_run(plan));
  ok = 1;
done:
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

/* ph_thread_pool shared by two engines and ph_parallel_heads: the same outputs as an engine of
 * its own, the pool outliving its handle, and every refusal. */
int phs_shared_pool(const char* path, const float* input, size_t input_count, char* msg,
                    size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_thread_pool* pool = NULL;
  ph_engine* engines[2] = {NULL, NULL};
  ph_plan* plans[2] = {NULL, NULL};
  ph_engine_options options = ph_engine_options_default();
  ph_plan_info info;
  ph_tensor t;
  float first[kLogitsCount];
  size_t i;

  CHECK(options.thread_pool == NULL);
  CHECK(options.parallel_heads == PH_PARALLEL_HEADS_AUTO);
  CHECK(strcmp(ph_parallel_heads_name(PH_PARALLEL_HEADS_AUTO), "auto") == 0);
  CHECK(strcmp(ph_parallel_heads_name(PH_PARALLEL_HEADS_NEVER), "never") == 0);
  CHECK(strcmp(ph_parallel_heads_name(PH_PARALLEL_HEADS_ALWAYS), "always") == 0);
  CHECK(strcmp(ph_parallel_heads_name((ph_parallel_heads)9), "unknown parallel heads mode") == 0);
  CHECK(ph_thread_pool_threads(NULL) == 0);
  ph_thread_pool_free(NULL);
  CHECK_ERROR(ph_thread_pool_create(2, NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_ERROR(ph_thread_pool_create(5000, &pool), PH_INVALID_ARGUMENT, "5000");
  CHECK(pool == NULL);
  CHECK_OK(ph_thread_pool_create(2, &pool));
  CHECK(ph_thread_pool_threads(pool) == 2);

  CHECK_OK(ph_model_load_file(path, &model));
  options.thread_pool = pool;
  options.threads = 4;
  CHECK_ERROR(ph_engine_create(model, &options, &engines[0]), PH_INVALID_ARGUMENT, "threads = 4");
  options.threads = 1;
  options.parallel_heads = (ph_parallel_heads)9;
  CHECK_ERROR(ph_engine_create(model, &options, &engines[0]), PH_INVALID_ARGUMENT,
              "parallel_heads is 9");
  CHECK(engines[0] == NULL);

  options.parallel_heads = PH_PARALLEL_HEADS_ALWAYS;
  CHECK_OK(ph_engine_create(model, &options, &engines[0]));
  options.parallel_heads = PH_PARALLEL_HEADS_NEVER;
  CHECK_OK(ph_engine_create(model, &options, &engines[1]));
  ph_thread_pool_free(pool); /* the engines keep it */
  pool = NULL;

  for (i = 0; i < 2; ++i) {
    CHECK_OK(ph_plan_prepare(engines[i], NULL, 0, &plans[i]));
    CHECK_OK(ph_plan_set_input(plans[i], "image", input, input_count));
    CHECK_OK(ph_plan_run(plans[i]));
    CHECK_OK(ph_plan_output(plans[i], "classify", "logits", &t));
    if (i == 0)
      memcpy(first, t.data, sizeof first);
    else
      CHECK(memcmp(first, t.data, sizeof first) == 0);
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK_OK(ph_plan_get_info(plans[i], &info));
    CHECK(info.parallel_head_groups == (i == 0 ? 2u : 0u));
    CHECK(info.heads_in_parallel == (i == 0 ? 1 : 0));
  }
  /* An older ph_plan_info without the head fields: they are not written. */
  memset(&info, 0xab, sizeof info);
  info.struct_size = offsetof(ph_plan_info, parallel_head_groups);
  CHECK_OK(ph_plan_get_info(plans[0], &info));
  CHECK(info.struct_size == offsetof(ph_plan_info, parallel_head_groups));
  CHECK(info.heads_in_parallel != 1);
  ok = 1;
done:
  for (i = 0; i < 2; ++i) {
    ph_plan_free(plans[i]);
    ph_engine_free(engines[i]);
  }
  ph_thread_pool_free(pool);
  ph_model_free(model);
  return ok;
}
/* The mistakes callers make, each with its code and a message naming what is wrong. */
int phs_caller_errors(const char* path, const float* input, size_t input_count, char* msg,
                      size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_plan* no_plan = NULL;
  ph_tensor t;
  const char* unknown[] = {"classify", "detect"};
  const char* twice[] = {"segment", "segment"};
  const char* detect[] = {"detect"};

  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));

  CHECK_ERROR(ph_plan_prepare(engine, unknown, 2, &no_plan), PH_NOT_FOUND, "unknown task 'detect'");
  CHECK(contains(ph_last_error(), "'classify', 'segment'")); /* and lists the model's tasks */
  CHECK(no_plan == NULL);
  CHECK_ERROR(ph_plan_prepare(engine, twice, 2, &no_plan), PH_INVALID_ARGUMENT,
              "'segment' is listed twice");

  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  /* run before set_input */
  CHECK_ERROR(ph_plan_run(plan), PH_INVALID_ARGUMENT, "input 'image' was not set");
  CHECK_ERROR(ph_plan_run_tasks(plan, unknown, 1), PH_INVALID_ARGUMENT,
              "input 'image' was not set");
  CHECK(ph_plan_last_run_nodes(plan) == 0);
  /* wrong element count: names the input, its shape and both counts */
  CHECK_ERROR(ph_plan_set_input(plan, "image", input, input_count - 1), PH_INVALID_ARGUMENT,
              "input 'image'");
  CHECK(contains(ph_last_error(), "[1,8,8,3]"));
  CHECK(contains(ph_last_error(), "takes 192 floats, got 191"));
  CHECK_ERROR(ph_plan_run(plan), PH_INVALID_ARGUMENT, "not set");
  CHECK_ERROR(ph_plan_set_input(plan, "pixels", input, input_count), PH_NOT_FOUND,
              "unknown input 'pixels'");

  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  /* output before any run */
  CHECK_ERROR(ph_plan_output(plan, "classify", "logits", &t), PH_INVALID_ARGUMENT, "did not run");
  CHECK_OK(ph_plan_run(plan));
  CHECK_ERROR(ph_plan_output(plan, "detect", "boxes", &t), PH_NOT_FOUND,
              "task 'detect' is not in this plan");
  CHECK(t.data == NULL);
  CHECK_ERROR(ph_plan_output(plan, "classify", "boxes", &t), PH_NOT_FOUND, "no output 'boxes'");
  CHECK(contains(ph_last_error(), "'logits'"));
  CHECK_ERROR(ph_plan_run_tasks(plan, detect, 1), PH_NOT_FOUND, "unknown task 'detect'");
  /* a failed run keeps the plan usable */
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  CHECK(t.data != NULL);
  ok = 1;
done:
  ph_plan_free(no_plan);
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

int phs_load_errors(const char* missing_path, const char* not_a_model_path, char* msg,
                    size_t size) {
  int ok = 0;
  ph_model* model = NULL;

  CHECK_ERROR(ph_model_load_file(missing_path, &model), PH_IO_ERROR, missing_path);
  CHECK(contains(ph_last_error(), "cannot open"));
  CHECK(model == NULL);
  CHECK_ERROR(ph_model_load_file(not_a_model_path, &model), PH_INVALID_MODEL, NULL);
  CHECK(model == NULL);
  CHECK(strlen(ph_last_error()) > 0);
  ok = 1;
done:
  ph_model_free(model);
  return ok;
}

/* Handles may be freed in any order: a plan outlives its engine and model, an engine its model.
 * Copies the logits of the last run into `logits`. */
int phs_free_orders(const char* path, const float* input, size_t input_count, float* logits,
                    char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_plan* second = NULL;
  ph_tensor t;
  const char* classify_only[] = {"classify"};

  /* model first, then engine, then plan */
  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  ph_model_free(model);
  model = NULL;
  CHECK_OK(ph_plan_prepare(engine, classify_only, 1, &plan)); /* engine alone keeps the model */
  ph_engine_free(engine);
  engine = NULL;
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count)); /* plan alone keeps both */
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  memcpy(logits, t.data, kLogitsCount * sizeof(float));
  CHECK(strcmp(ph_plan_task_name(plan, 0), "classify") == 0);
  ph_plan_free(plan);
  plan = NULL;

  /* plans freed before their engine, the second plan after the model */
  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_prepare(engine, classify_only, 1, &second));
  ph_plan_free(plan);
  plan = NULL;
  ph_model_free(model);
  model = NULL;
  ph_engine_free(engine);
  engine = NULL;
  CHECK_OK(ph_plan_set_input(second, "image", input, input_count));
  CHECK_OK(ph_plan_run(second));
  CHECK_OK(ph_plan_output(second, "classify", "logits", &t));
  CHECK(memcmp(t.data, logits, kLogitsCount * sizeof(float)) == 0);
  ok = 1;
done:
  ph_model_free(model);
  ph_plan_free(second);
  ph_plan_free(plan);
  ph_engine_free(engine);
  return ok;
}

/* ---- Model enums, pre- and post-processing, task and model metadata, engine precision -------- */

/* The described model of tests/engine/test_c_api.cc (described_model()): inputs "image"
 * [1,3,6,8] (pre-processing 8x6 NCHW BGR LETTERBOX, mean {0.485,0.456,0.406}, std {0.25},
 * pixel_scale 1) and "aux" [1,4] (none); tasks "detect" (detection, priority 3, rate 2, outputs
 * "scores" and "boxes", SIGMOID, threshold 0.25, IoU 0.625, at most 7, labels cat/dog/"", two
 * anchors) and "embed" (embedding, nothing declared); producer, description and three metadata
 * entries. */
static const float kDetectAnchors[8] = {0.5f, 0.5f, 0.25f, 0.125f, 0.75f, 0.25f, 0.5f, 0.5f};

int phs_model_enums(char* msg, size_t size) {
  int ok = 0;
  /* The numeric values are ABI. */
  CHECK(PH_LAYOUT_NHWC == 0 && PH_LAYOUT_NCHW == 1);
  CHECK(PH_COLOR_RGB == 0 && PH_COLOR_BGR == 1 && PH_COLOR_GRAY == 2 && PH_COLOR_NONE == 3);
  CHECK(PH_FIT_STRETCH == 0 && PH_FIT_LETTERBOX == 1 && PH_FIT_CROP == 2);
  CHECK(PH_TASK_CLASSIFICATION == 0 && PH_TASK_DETECTION == 1 && PH_TASK_SEGMENTATION == 2);
  CHECK(PH_TASK_LANDMARKS == 3 && PH_TASK_REGRESSION == 4 && PH_TASK_EMBEDDING == 5);
  CHECK(PH_TASK_OTHER == 6);
  CHECK(PH_ACTIVATION_NONE == 0 && PH_ACTIVATION_SIGMOID == 1 && PH_ACTIVATION_SOFTMAX == 2);
  CHECK(PH_PRECISION_F32 == 0 && PH_PRECISION_F16 == 1);

  CHECK(strcmp(ph_layout_name(PH_LAYOUT_NHWC), "NHWC") == 0);
  CHECK(strcmp(ph_layout_name(PH_LAYOUT_NCHW), "NCHW") == 0);
  CHECK(strcmp(ph_layout_name((ph_layout)2), "unknown layout") == 0);
  CHECK(strcmp(ph_layout_name((ph_layout)-1), "unknown layout") == 0);
  CHECK(strcmp(ph_color_order_name(PH_COLOR_RGB), "RGB") == 0);
  CHECK(strcmp(ph_color_order_name(PH_COLOR_BGR), "BGR") == 0);
  CHECK(strcmp(ph_color_order_name(PH_COLOR_GRAY), "GRAY") == 0);
  CHECK(strcmp(ph_color_order_name(PH_COLOR_NONE), "NONE") == 0);
  CHECK(strcmp(ph_color_order_name((ph_color_order)4), "unknown colour order") == 0);
  CHECK(strcmp(ph_image_fit_name(PH_FIT_STRETCH), "STRETCH") == 0);
  CHECK(strcmp(ph_image_fit_name(PH_FIT_LETTERBOX), "LETTERBOX") == 0);
  CHECK(strcmp(ph_image_fit_name(PH_FIT_CROP), "CROP") == 0);
  CHECK(strcmp(ph_image_fit_name((ph_image_fit)3), "unknown image fit") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_CLASSIFICATION), "classification") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_DETECTION), "detection") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_SEGMENTATION), "segmentation") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_LANDMARKS), "landmarks") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_REGRESSION), "regression") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_EMBEDDING), "embedding") == 0);
  CHECK(strcmp(ph_task_kind_name(PH_TASK_OTHER), "other") == 0);
  CHECK(strcmp(ph_task_kind_name((ph_task_kind)7), "unknown task kind") == 0);
  CHECK(strcmp(ph_output_activation_name(PH_ACTIVATION_NONE), "none") == 0);
  CHECK(strcmp(ph_output_activation_name(PH_ACTIVATION_SIGMOID), "sigmoid") == 0);
  CHECK(strcmp(ph_output_activation_name(PH_ACTIVATION_SOFTMAX), "softmax") == 0);
  CHECK(strcmp(ph_output_activation_name((ph_output_activation)3), "unknown output activation") ==
        0);
  CHECK(strcmp(ph_precision_name(PH_PRECISION_F32), "f32") == 0);
  CHECK(strcmp(ph_precision_name(PH_PRECISION_F16), "f16") == 0);
  CHECK(strcmp(ph_precision_name((ph_precision)2), "unknown precision") == 0);
  ok = 1;
done:
  return ok;
}

int phs_preprocess(const char* path, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_preprocess p;
  ph_preprocess untouched;
  struct {
    ph_preprocess known;
    size_t from_the_future;
  } newer;
  const float* mean = NULL;

  memset(&untouched, 0xab, sizeof untouched);
  CHECK_OK(ph_model_load_file(path, &model));

  memset(&p, 0xab, sizeof p);
  p.struct_size = sizeof p;
  CHECK_OK(ph_model_input_preprocess(model, 0, &p));
  CHECK(p.struct_size == sizeof p);
  CHECK(p.width == 8 && p.height == 6);
  CHECK(p.layout == PH_LAYOUT_NCHW);
  CHECK(p.color == PH_COLOR_BGR);
  CHECK(p.fit == PH_FIT_LETTERBOX);
  CHECK(p.pixel_scale == 1.f);
  CHECK(p.mean_count == 3 && p.mean != NULL);
  CHECK(p.mean[0] == 0.485f && p.mean[1] == 0.456f && p.mean[2] == 0.406f);
  CHECK(p.std_count == 1 && p.std != NULL);
  CHECK(p.std[0] == 0.25f);

  /* An input that declares nothing reads as the defaults. */
  memset(&p, 0xab, sizeof p);
  p.struct_size = sizeof p;
  CHECK_OK(ph_model_input_preprocess(model, 1, &p));
  CHECK(p.width == 0 && p.height == 0);
  CHECK(p.layout == PH_LAYOUT_NHWC && p.color == PH_COLOR_RGB && p.fit == PH_FIT_STRETCH);
  CHECK(p.pixel_scale == 255.f);
  CHECK(p.mean == NULL && p.mean_count == 0);
  CHECK(p.std == NULL && p.std_count == 0);

  /* An older caller's smaller struct gets only the fields it has. */
  memset(&p, 0xab, sizeof p);
  p.struct_size = offsetof(ph_preprocess, fit);
  CHECK_OK(ph_model_input_preprocess(model, 0, &p));
  CHECK(p.struct_size == offsetof(ph_preprocess, fit));
  CHECK(p.width == 8 && p.height == 6 && p.layout == PH_LAYOUT_NCHW && p.color == PH_COLOR_BGR);
  CHECK(memcmp(&p.fit, &untouched.fit, sizeof p.fit) == 0);
  CHECK(memcmp(&p.mean, &untouched.mean, sizeof p.mean) == 0);
  CHECK(memcmp(&p.std_count, &untouched.std_count, sizeof p.std_count) == 0);

  /* A newer caller's larger struct: this library's fields are written, the rest left alone and
   * struct_size says how much was written. */
  memset(&newer, 0xab, sizeof newer);
  newer.known.struct_size = sizeof newer;
  CHECK_OK(ph_model_input_preprocess(model, 0, &newer.known));
  CHECK(newer.known.struct_size == sizeof(ph_preprocess));
  CHECK(newer.known.std_count == 1);
  CHECK(memcmp(&newer.from_the_future, &untouched, sizeof newer.from_the_future) == 0);

  /* Bad arguments: named, with the index and the count. */
  p.struct_size = sizeof p;
  CHECK_ERROR(ph_model_input_preprocess(NULL, 0, &p), PH_INVALID_ARGUMENT,
              "ph_model_input_preprocess: argument 'model' is NULL");
  CHECK_ERROR(ph_model_input_preprocess(model, 0, NULL), PH_INVALID_ARGUMENT,
              "ph_model_input_preprocess: argument 'out' is NULL");
  CHECK_ERROR(ph_model_input_preprocess(model, 2, &p), PH_INVALID_ARGUMENT,
              "input index 2 is out of range; there are 2");
  /* Smaller than struct_size itself, on 32- and 64-bit targets alike. */
  p.struct_size = 3;
  CHECK_ERROR(ph_model_input_preprocess(model, 0, &p), PH_INVALID_ARGUMENT,
              "out->struct_size is 3; set it to sizeof(ph_preprocess)");

  /* mean and std live as long as the model's data: here an engine keeps it after the model
   * handle is gone. */
  p.struct_size = sizeof p;
  CHECK_OK(ph_model_input_preprocess(model, 0, &p));
  mean = p.mean;
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  ph_model_free(model);
  model = NULL;
  CHECK(mean[0] == 0.485f && mean[2] == 0.406f);
  ok = 1;
done:
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

int phs_task_metadata(const char* path, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_task_info info;
  ph_postprocess post;
  ph_postprocess untouched;

  memset(&untouched, 0xab, sizeof untouched);
  CHECK_OK(ph_model_load_file(path, &model));
  CHECK(ph_model_task_count(model) == 2);

  /* ph_task_info */
  memset(&info, 0xab, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(ph_model_task_info(model, 0, &info));
  CHECK(info.struct_size == sizeof info);
  CHECK(info.kind == PH_TASK_DETECTION);
  CHECK(strcmp(ph_task_kind_name(info.kind), ph_model_task_kind(model, 0)) == 0);
  CHECK(info.priority == 3 && info.rate == 2);
  CHECK(info.output_count == 2 && info.output_count == ph_model_task_output_count(model, 0));
  CHECK(info.label_count == 3);
  memset(&info, 0xab, sizeof info);
  info.struct_size = sizeof info;
  CHECK_OK(ph_model_task_info(model, 1, &info));
  CHECK(info.kind == PH_TASK_EMBEDDING);
  CHECK(strcmp(ph_task_kind_name(info.kind), "embedding") == 0);
  CHECK(info.priority == 0 && info.rate == 1); /* the defaults */
  CHECK(info.output_count == 1 && info.label_count == 0);
  /* an older, smaller struct: kind and priority only */
  memset(&info, 0xab, sizeof info);
  info.struct_size = offsetof(ph_task_info, rate);
  CHECK_OK(ph_model_task_info(model, 0, &info));
  CHECK(info.struct_size == offsetof(ph_task_info, rate));
  CHECK(info.kind == PH_TASK_DETECTION && info.priority == 3);
  {
    ph_task_info fresh;
    memset(&fresh, 0xab, sizeof fresh);
    CHECK(info.rate == fresh.rate && info.output_count == fresh.output_count);
  }
  info.struct_size = sizeof info;
  CHECK_ERROR(ph_model_task_info(NULL, 0, &info), PH_INVALID_ARGUMENT,
              "ph_model_task_info: argument 'model' is NULL");
  CHECK_ERROR(ph_model_task_info(model, 0, NULL), PH_INVALID_ARGUMENT, "argument 'out' is NULL");
  CHECK_ERROR(ph_model_task_info(model, 2, &info), PH_INVALID_ARGUMENT,
              "ph_model_task_info: task index 2 is out of range; there are 2");
  info.struct_size = 0;
  CHECK_ERROR(ph_model_task_info(model, 0, &info), PH_INVALID_ARGUMENT,
              "out->struct_size is 0; set it to sizeof(ph_task_info)");

  /* ph_postprocess */
  memset(&post, 0xab, sizeof post);
  post.struct_size = sizeof post;
  CHECK_OK(ph_model_task_postprocess(model, 0, &post));
  CHECK(post.struct_size == sizeof post);
  CHECK(post.activation == PH_ACTIVATION_SIGMOID);
  CHECK(post.score_threshold == 0.25f && post.nms_iou == 0.625f);
  CHECK(post.max_detections == 7);
  CHECK(post.anchor_count == 2 && post.anchors != NULL);
  CHECK(memcmp(post.anchors, kDetectAnchors, sizeof kDetectAnchors) == 0);
  memset(&post, 0xab, sizeof post);
  post.struct_size = sizeof post;
  CHECK_OK(ph_model_task_postprocess(model, 1, &post)); /* declares none: the defaults */
  CHECK(post.activation == PH_ACTIVATION_NONE);
  CHECK(post.score_threshold == 0.5f && post.nms_iou == 0.45f && post.max_detections == 100);
  CHECK(post.anchors == NULL && post.anchor_count == 0);
  /* an older, smaller struct: up to max_detections */
  memset(&post, 0xab, sizeof post);
  post.struct_size = offsetof(ph_postprocess, anchors);
  CHECK_OK(ph_model_task_postprocess(model, 0, &post));
  CHECK(post.max_detections == 7);
  CHECK(memcmp(&post.anchors, &untouched.anchors, sizeof post.anchors) == 0);
  CHECK(post.anchor_count == untouched.anchor_count);
  post.struct_size = sizeof post;
  CHECK_ERROR(ph_model_task_postprocess(NULL, 0, &post), PH_INVALID_ARGUMENT,
              "ph_model_task_postprocess: argument 'model' is NULL");
  CHECK_ERROR(ph_model_task_postprocess(model, 0, NULL), PH_INVALID_ARGUMENT, "'out'");
  CHECK_ERROR(ph_model_task_postprocess(model, 5, &post), PH_INVALID_ARGUMENT,
              "task index 5 is out of range; there are 2");
  post.struct_size = 3; /* below sizeof(size_t) on 32- and 64-bit targets */
  CHECK_ERROR(ph_model_task_postprocess(model, 0, &post), PH_INVALID_ARGUMENT,
              "out->struct_size is 3; set it to sizeof(ph_postprocess)");

  /* labels */
  CHECK(ph_model_task_label_count(model, 0) == 3);
  CHECK(strcmp(ph_model_task_label(model, 0, 0), "cat") == 0);
  CHECK(strcmp(ph_model_task_label(model, 0, 1), "dog") == 0);
  CHECK(strcmp(ph_model_task_label(model, 0, 2), "") == 0);
  CHECK(ph_model_task_label(model, 0, 3) == NULL);
  CHECK(
      contains(ph_last_error(), "ph_model_task_label: label index 3 is out of range; there are 3"));
  CHECK(ph_model_task_label_count(model, 1) == 0);
  CHECK(ph_model_task_label(model, 1, 0) == NULL);
  CHECK(contains(ph_last_error(), "label index 0 is out of range; there are 0"));
  CHECK(ph_model_task_label_count(model, 2) == 0);
  CHECK(contains(ph_last_error(), "ph_model_task_label_count: task index 2 is out of range"));
  CHECK(ph_model_task_label(model, 9, 0) == NULL);
  CHECK(contains(ph_last_error(), "task index 9 is out of range; there are 2"));
  CHECK(ph_model_task_label_count(NULL, 0) == 0);
  CHECK(contains(ph_last_error(), "ph_model_task_label_count: argument 'model' is NULL"));
  CHECK(ph_model_task_label(NULL, 0, 0) == NULL);
  CHECK(contains(ph_last_error(), "ph_model_task_label: argument 'model' is NULL"));
  ok = 1;
done:
  ph_model_free(model);
  return ok;
}

int phs_model_facts(const char* described_path, const char* plain_path, unsigned major,
                    unsigned minor, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_model* plain = NULL;
  uint32_t got_major = 99, got_minor = 99;
  const char* value = NULL;

  CHECK_OK(ph_model_load_file(described_path, &model));
  CHECK_OK(ph_model_load_file(plain_path, &plain));

  CHECK_OK(ph_model_format_version(model, &got_major, &got_minor));
  CHECK(got_major == major && got_minor == minor);
  CHECK_ERROR(ph_model_format_version(NULL, &got_major, &got_minor), PH_INVALID_ARGUMENT,
              "ph_model_format_version: argument 'model' is NULL");
  CHECK_ERROR(ph_model_format_version(model, NULL, &got_minor), PH_INVALID_ARGUMENT, "'major'");
  CHECK_ERROR(ph_model_format_version(model, &got_major, NULL), PH_INVALID_ARGUMENT, "'minor'");

  CHECK(strcmp(ph_model_producer(model), "c_api tests") == 0);
  CHECK(strcmp(ph_model_description(model), "a model that declares everything") == 0);
  CHECK(strcmp(ph_model_producer(plain), "polyhead ModelBuilder") == 0);
  CHECK(strcmp(ph_model_description(plain), "") == 0);
  CHECK(ph_model_producer(NULL) == NULL);
  CHECK(contains(ph_last_error(), "ph_model_producer: argument 'model' is NULL"));
  CHECK(ph_model_description(NULL) == NULL);
  CHECK(contains(ph_last_error(), "ph_model_description: argument 'model' is NULL"));

  CHECK(ph_model_metadata_count(model) == 3);
  CHECK(strcmp(ph_model_metadata_key(model, 0), "license") == 0);
  CHECK(strcmp(ph_model_metadata_key(model, 1), "empty") == 0);
  CHECK(strcmp(ph_model_metadata_key(model, 2), "author") == 0);
  CHECK(ph_model_metadata_key(model, 3) == NULL);
  CHECK(contains(ph_last_error(),
                 "ph_model_metadata_key: metadata entry index 3 is out of range; there are 3"));
  CHECK(strcmp(ph_model_metadata(model, "license"), "Apache-2.0") == 0);
  CHECK(strcmp(ph_model_metadata(model, "author"), "polyhead") == 0);
  value = ph_model_metadata(model, "empty");
  CHECK(value != NULL && value[0] == '\0'); /* present but empty: "", not NULL */

  /* Absent keys give NULL without touching the last error. */
  CHECK(ph_plan_run(NULL) == PH_INVALID_ARGUMENT);
  CHECK(ph_model_metadata(model, "missing") == NULL);
  CHECK(ph_model_metadata(model, "License") == NULL); /* exact comparison */
  CHECK(ph_model_metadata(model, "licens") == NULL);
  CHECK(ph_model_metadata(model, "") == NULL);
  CHECK(ph_model_metadata(plain, "license") == NULL);
  CHECK(strcmp(ph_last_error(), "ph_plan_run: argument 'plan' is NULL") == 0);
  CHECK(ph_model_metadata_count(plain) == 0);
  CHECK(ph_model_metadata_key(plain, 0) == NULL);
  CHECK(contains(ph_last_error(), "metadata entry index 0 is out of range; there are 0"));

  CHECK(ph_model_metadata(NULL, "license") == NULL);
  CHECK(contains(ph_last_error(), "ph_model_metadata: argument 'model' is NULL"));
  CHECK(ph_model_metadata(model, NULL) == NULL);
  CHECK(contains(ph_last_error(), "ph_model_metadata: argument 'key' is NULL"));
  CHECK(ph_model_metadata_count(NULL) == 0);
  CHECK(contains(ph_last_error(), "ph_model_metadata_count: argument 'model' is NULL"));
  CHECK(ph_model_metadata_key(NULL, 0) == NULL);
  CHECK(contains(ph_last_error(), "ph_model_metadata_key: argument 'model' is NULL"));
  ok = 1;
done:
  ph_model_free(plain);
  ph_model_free(model);
  return ok;
}

/* ph_engine_options.precision and .choose_threads_per_node, and their struct_size contract.
 * `has_fp16`: the CPU has half-precision arithmetic (f16 engines can be created). */
int phs_engine_precision(const char* path, int has_fp16, const float* input, size_t input_count,
                         char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_tensor t;
  ph_engine_options options = ph_engine_options_default();
  float chosen[kLogitsCount];
  int run;

  /* The fields are appended: the first three keep their offsets (the previous layout). */
  CHECK(offsetof(ph_engine_options, precision) == 3 * sizeof(size_t));
  CHECK(offsetof(ph_engine_options, choose_threads_per_node) >
        offsetof(ph_engine_options, precision));
  CHECK(options.struct_size == sizeof(ph_engine_options));
  CHECK(options.precision == PH_PRECISION_F32);
  CHECK(options.choose_threads_per_node == 1);
  CHECK_OK(ph_model_load_file(path, &model));

  /* f16 works where the CPU has fp16 arithmetic, and says why not elsewhere. */
  options.precision = PH_PRECISION_F16;
  if (has_fp16) {
    CHECK_OK(ph_engine_create(model, &options, &engine));
    ph_engine_free(engine);
    engine = NULL;
  } else {
    CHECK_ERROR(ph_engine_create(model, &options, &engine), PH_UNSUPPORTED,
                "precision f16 needs a CPU with half-precision arithmetic");
    CHECK(contains(ph_last_error(), "use precision f32"));
    CHECK(engine == NULL);
  }
  /* A struct that ends before `precision` (an older header) is f32 whatever follows it. */
  options.struct_size = offsetof(ph_engine_options, precision);
  CHECK_OK(ph_engine_create(model, &options, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  CHECK_OK(ph_plan_run(plan));
  ph_plan_free(plan);
  plan = NULL;
  ph_engine_free(engine);
  engine = NULL;
  /* One that ends after `precision` reads it. */
  options.struct_size = offsetof(ph_engine_options, choose_threads_per_node);
  if (!has_fp16) {
    CHECK_ERROR(ph_engine_create(model, &options, &engine), PH_UNSUPPORTED, "precision f16");
    CHECK(engine == NULL);
  }
  /* Values outside the enum are refused, naming the field and the value. */
  options = ph_engine_options_default();
  options.precision = (ph_precision)7;
  CHECK_ERROR(ph_engine_create(model, &options, &engine), PH_INVALID_ARGUMENT,
              "ph_engine_create: options->precision is 7");
  CHECK(engine == NULL);

  /* choose_threads_per_node does not change outputs: two threads with and without the choice
   * (over enough runs for the choice to be made). */
  options = ph_engine_options_default();
  options.threads = 2;
  CHECK_OK(ph_engine_create(model, &options, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  for (run = 0; run < 12; ++run) CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
  memcpy(chosen, t.data, sizeof chosen);
  ph_plan_free(plan);
  plan = NULL;
  ph_engine_free(engine);
  engine = NULL;
  options.choose_threads_per_node = 0;
  CHECK_OK(ph_engine_create(model, &options, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));
  CHECK_OK(ph_plan_set_input(plan, "image", input, input_count));
  for (run = 0; run < 12; ++run) {
    CHECK_OK(ph_plan_run(plan));
    CHECK_OK(ph_plan_output(plan, "classify", "logits", &t));
    CHECK(memcmp(t.data, chosen, sizeof chosen) == 0);
  }
  ok = 1;
done:
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}

int phs_pixels_and_bound_outputs(const char* path, char* msg, size_t size) {
  int ok = 0;
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  unsigned char frame[12][16][3];
  ph_image_transform t;
  float* input = NULL;
  float aux[4] = {0.5f, -1.f, 2.f, 0.25f};
  float scores[3] = {-7.f, -7.f, -7.f};
  float too_small[2];
  ph_tensor out;
  float x = 0.f, y = 0.f;
  int i, j;
  /* NCHW BGR: plane 0 is blue; mean[c] follows the model's channel order. */
  const float blue = (50.f / 255.f - 0.485f) / 0.25f;
  const float red = (200.f / 255.f - 0.406f) / 0.25f;

  for (i = 0; i < 12; ++i)
    for (j = 0; j < 16; ++j) {
      frame[i][j][0] = 200; /* R */
      frame[i][j][1] = 100;
      frame[i][j][2] = 50;
    }
  CHECK(strcmp(ph_pixel_format_name(PH_PIXEL_NV21), "NV21") == 0);
  CHECK(strcmp(ph_pixel_format_name((ph_pixel_format)99), "unknown pixel format") == 0);
  CHECK_OK(ph_model_load_file(path, &model));
  CHECK_OK(ph_engine_create(model, NULL, &engine));
  CHECK_OK(ph_plan_prepare(engine, NULL, 0, &plan));

  /* A 16x12 RGB frame halves exactly into the 8x6 letterboxed BGR NCHW input. */
  memset(&t, 0, sizeof t);
  CHECK_OK(ph_plan_set_input_pixels(plan, "image", &frame[0][0][0], sizeof frame, 16, 12, 0,
                                    PH_PIXEL_RGB, &t));
  CHECK(t.image_width == 16 && t.image_height == 12 && t.model_width == 8 && t.model_height == 6);
  CHECK(t.scale_x == 0.5f && t.scale_y == 0.5f && t.offset_x == 0.f && t.offset_y == 0.f);
  ph_image_transform_to_image(&t, 4.f, 3.f, &x, &y);
  CHECK(x == 8.f && y == 6.f);
  CHECK_OK(ph_plan_input_buffer(plan, "image", &input));
  CHECK(fabsf(input[0] - blue) < 1e-5f && fabsf(input[47] - blue) < 1e-5f);
  CHECK(fabsf(input[2 * 48] - red) < 1e-5f && fabsf(input[3 * 48 - 1] - red) < 1e-5f);

  /* Bound outputs hold what ph_plan_output shows after each run. */
  CHECK_OK(ph_plan_set_input(plan, "aux", aux, 4));
  CHECK_ERROR(ph_plan_bind_output(plan, "detect", "scores", too_small, sizeof too_small),
              PH_INVALID_ARGUMENT, "takes 12 bytes");
  CHECK_ERROR(ph_plan_bind_output(plan, "nope", "scores", scores, sizeof scores), PH_NOT_FOUND,
              "nope");
  CHECK_ERROR(ph_plan_bind_output(plan, "detect", "nope", scores, sizeof scores), PH_NOT_FOUND,
              "nope");
  CHECK_ERROR(ph_plan_bind_output(plan, NULL, "scores", scores, sizeof scores), PH_INVALID_ARGUMENT,
              "task");
  CHECK_OK(ph_plan_bind_output(plan, "detect", "scores", scores, sizeof scores));
  CHECK_OK(ph_plan_run(plan));
  CHECK_OK(ph_plan_output(plan, "detect", "scores", &out));
  CHECK(memcmp(out.data, scores, sizeof scores) == 0);
  CHECK(scores[0] != -7.f);
  /* Unbound: later runs leave the buffer alone. */
  CHECK_OK(ph_plan_bind_output(plan, "detect", "scores", NULL, 0));
  scores[0] = -7.f;
  CHECK_OK(ph_plan_run(plan));
  CHECK(scores[0] == -7.f);

  /* Frames that cannot be read are refused with the reason. */
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "image", &frame[0][0][0], sizeof frame - 1, 16, 12, 0,
                                       PH_PIXEL_RGB, &t),
              PH_INVALID_ARGUMENT, "needs 576 bytes");
  CHECK_ERROR(
      ph_plan_set_input_pixels(plan, "image", &frame[0][0][0], 0, 16, 12, 0, PH_PIXEL_RGB, NULL),
      PH_INVALID_ARGUMENT, "bytes is 0");
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "image", NULL, 10, 16, 12, 0, PH_PIXEL_RGB, NULL),
              PH_INVALID_ARGUMENT, "data");
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "image", &frame[0][0][0], sizeof frame, 16, 12, 0,
                                       (ph_pixel_format)99, NULL),
              PH_INVALID_ARGUMENT, "unknown pixel format 99");
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "image", &frame[0][0][0], sizeof frame, 15, 12, 0,
                                       PH_PIXEL_NV21, NULL),
              PH_INVALID_ARGUMENT, "even");
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "image", &frame[0][0][0], sizeof frame, 16, 12, 20,
                                       PH_PIXEL_RGB, NULL),
              PH_INVALID_ARGUMENT, "stride 20");
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "aux", &frame[0][0][0], sizeof frame, 16, 12, 0,
                                       PH_PIXEL_RGB, NULL),
              PH_INVALID_ARGUMENT, "aux");
  CHECK_ERROR(ph_plan_set_input_pixels(plan, "nope", &frame[0][0][0], sizeof frame, 16, 12, 0,
                                       PH_PIXEL_RGB, NULL),
              PH_NOT_FOUND, "nope");
  ok = 1;
done:
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return ok;
}
