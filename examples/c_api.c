/* c_api: the C API (polyhead/polyhead_c.h) on one page, in C99. Loads a model, prints its inputs
 * and tasks, prepares every task once, fills the input, runs all tasks in one pass and prints each
 * output's shape and first values, and the top-5 classes of each classification task. Every call
 * that can fail returns a ph_status; ph_last_error() says why.
 *
 *   polyhead demo --out demo        (writes demo/mobilenet_multitask.phm and demo/image.f32)
 *   c_api demo/mobilenet_multitask.phm demo/image.f32
 *
 * Build it with CMake (examples/CMakeLists.txt) or with pkg-config:
 *   cc -std=c99 c_api.c $(pkg-config --static --cflags --libs polyhead) -o c_api
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polyhead/polyhead_c.h"

/* Prints what failed and the library's message for it. */
static int fail(const char* what) {
  fprintf(stderr, "c_api: %s: %s\n", what, ph_last_error());
  return 1;
}

static void print_shape(const int64_t* dims, size_t rank) {
  size_t i;
  printf("[");
  for (i = 0; i < rank; ++i) printf("%s%lld", i ? "," : "", (long long)dims[i]);
  printf("]");
}

/* Reads exactly `count` floats from `path` into `out`; 0 on a missing file or a wrong size. */
static int read_floats(const char* path, float* out, size_t count) {
  FILE* file = fopen(path, "rb");
  int ok;
  if (!file) return 0;
  ok = fread(out, sizeof(float), count, file) == count && fgetc(file) == EOF;
  fclose(file);
  return ok;
}

static void print_top5(const float* scores, size_t count) {
  size_t best[5] = {0, 0, 0, 0, 0}; /* indices of the best scores so far, best first */
  size_t k = 0, i, j;
  /* One pass, inserting each score into the sorted list of at most five. */
  for (j = 0; j < count; ++j) {
    size_t pos = k;
    while (pos > 0 && scores[j] > scores[best[pos - 1]]) --pos;
    if (pos >= 5) continue;
    for (i = k < 5 ? k : 4; i > pos; --i) best[i] = best[i - 1];
    best[pos] = j;
    if (k < 5) ++k;
  }
  printf("    top-5:");
  for (i = 0; i < k; ++i) printf("  %zu (%.4g)", best[i], scores[best[i]]);
  printf("\n");
}

int main(int argc, char** argv) {
  ph_model* model = NULL;
  ph_engine* engine = NULL;
  ph_plan* plan = NULL;
  ph_engine_options options;
  int64_t dims[PH_MAX_DIMS];
  size_t rank, i, t, o;
  int status = 1;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: c_api MODEL.phm [INPUT.f32]\n");
    return 2;
  }
  /* The header this program was compiled with should match the library it runs with. */
  if (ph_api_version() != PH_API_VERSION)
    fprintf(stderr, "c_api: warning: header %s, library %s\n", PH_VERSION_STRING, ph_version());

  /* 1. Load: memory-mapped, verified and validated. */
  if (ph_model_load_file(argv[1], &model) != PH_OK) return fail("load");

  printf("inputs\n");
  for (i = 0; i < ph_model_input_count(model); ++i) {
    ph_model_input_shape(model, i, dims, PH_MAX_DIMS, &rank);
    printf("  %-12s ", ph_model_input_name(model, i));
    print_shape(dims, rank);
    printf("\n");
  }
  printf("tasks\n");
  for (t = 0; t < ph_model_task_count(model); ++t) {
    printf("  %-12s %s\n", ph_model_task_name(model, t), ph_model_task_kind(model, t));
    for (o = 0; o < ph_model_task_output_count(model, t); ++o) {
      ph_model_task_output_shape(model, t, o, dims, PH_MAX_DIMS, &rank);
      printf("    -> %-10s ", ph_model_task_output_name(model, t, o));
      print_shape(dims, rank);
      printf("\n");
    }
  }

  /* 2. Prepare once: an engine (packed weights, thread pool) and a plan for every task (count 0).
   * Options start from the defaults so that fields added by later versions keep theirs. */
  options = ph_engine_options_default();
  options.threads = 1;
  if (ph_engine_create(model, &options, &engine) != PH_OK) {
    fail("create the engine");
    goto done;
  }
  if (ph_plan_prepare(engine, NULL, 0, &plan) != PH_OK) {
    fail("prepare");
    goto done;
  }

  /* 3. Fill the inputs in place (zero copy): from the file for a one-input model, else zeros. */
  for (i = 0; i < ph_model_input_count(model); ++i) {
    const char* name = ph_model_input_name(model, i);
    float* buffer = NULL;
    size_t count = 1, d;
    ph_model_input_shape(model, i, dims, PH_MAX_DIMS, &rank);
    for (d = 0; d < rank; ++d) count *= (size_t)dims[d];
    if (ph_plan_input_buffer(plan, name, &buffer) != PH_OK) {
      fail("input buffer");
      goto done;
    }
    if (argc == 3 && ph_model_input_count(model) == 1) {
      if (!read_floats(argv[2], buffer, count)) {
        fprintf(stderr, "c_api: %s does not hold %zu float32 values for input '%s'\n", argv[2],
                count, name);
        goto done;
      }
    } else {
      memset(buffer, 0, count * sizeof(float));
    }
  }

  /* 4. Run every task: the shared backbone once. No heap allocation. */
  if (ph_plan_run(plan) != PH_OK) {
    fail("run");
    goto done;
  }
  printf("ran %zu nodes\n", ph_plan_last_run_nodes(plan));

  /* 5. Read the outputs: views into the plan, valid until its next run. */
  for (t = 0; t < ph_model_task_count(model); ++t) {
    const char* task = ph_model_task_name(model, t);
    const int classification = strcmp(ph_model_task_kind(model, t), "classification") == 0;
    printf("%s (%s)\n", task, ph_model_task_kind(model, t));
    for (o = 0; o < ph_model_task_output_count(model, t); ++o) {
      const char* name = ph_model_task_output_name(model, t, o);
      ph_tensor out;
      size_t count = 1;
      const float* values;
      if (ph_plan_output(plan, task, name, &out) != PH_OK) {
        fail("output");
        goto done;
      }
      values = out.type == PH_F32 ? (const float*)out.data : NULL;
      for (i = 0; i < out.rank; ++i) count *= (size_t)out.dims[i];
      printf("  %-10s ", name);
      print_shape(out.dims, out.rank);
      for (i = 0; values && i < count && i < 4; ++i) printf(" %.4g", values[i]);
      printf("%s\n", count > 4 ? " ..." : "");
      if (classification && values) print_top5(values, count);
    }
  }
  status = 0;

done:
  /* Handles may be freed in any order; freeing NULL is a no-op. */
  ph_plan_free(plan);
  ph_engine_free(engine);
  ph_model_free(model);
  return status;
}
