/* Polyhead C API: a stable C99 interface over the C++ engine, for C programs and for bindings
 * (JNI/Kotlin, Swift, Python ctypes, ...). See docs/c_api.md for a complete example.
 *
 *   ph_model* model = NULL;
 *   ph_engine* engine = NULL;
 *   ph_plan* plan = NULL;
 *   if (ph_model_load_file("model.phm", &model) != PH_OK) { puts(ph_last_error()); ... }
 *   ph_engine_create(model, NULL, &engine);            // NULL options = defaults
 *   ph_plan_prepare(engine, NULL, 0, &plan);           // 0 tasks = every task of the model
 *   ph_plan_set_input(plan, "image", pixels, count);
 *   ph_plan_run(plan);                                 // no heap allocation
 *   ph_tensor logits;
 *   ph_plan_output(plan, "classify", "logits", &logits);
 *   ph_plan_free(plan); ph_engine_free(engine); ph_model_free(model);   // any order
 *
 * Errors: every function that can fail returns a ph_status; on failure it also records a message
 * that names the offending argument, task, input or value, readable with ph_last_error() on the
 * same thread. Accessors that return a value directly (counts, names) return 0 or NULL when given
 * a bad argument and record the reason the same way. Nothing throws across this boundary.
 *
 * Lifetimes: a plan keeps its engine's internals alive and an engine keeps its model alive, so
 * handles may be freed in any order. Freeing NULL is a no-op. Strings and tensors handed out
 * point into the handle that produced them (see each function for how long they stay valid).
 *
 * Threading: a model may be shared by threads; an engine and its plans are used by one thread at
 * a time (make one engine per thread to run in parallel, they can share one model).
 *
 * ABI: handles are opaque; enums keep their numeric values; structs passed in or out start with
 * `struct_size` where they may grow, and the library reads or writes only the bytes it is told.
 */
#ifndef POLYHEAD_POLYHEAD_C_H_
#define POLYHEAD_POLYHEAD_C_H_

#include <stddef.h>
#include <stdint.h>

#include "polyhead/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versioning ---------------------------------------------------------------------------- */

/* PH_VERSION_MAJOR, _MINOR, _PATCH, PH_VERSION_STRING ("major.minor.patch") and PH_API_VERSION
 * (major * 10000 + minor * 100 + patch) come from polyhead/version.h, which the build generates
 * from the project's version: compare PH_API_VERSION with ph_api_version() to detect a
 * header/library mismatch at run time. */

/* The library's version, "major.minor.patch" (a static string). */
const char* ph_version(void);
/* PH_API_VERSION of the library that is linked (not of the header the caller compiled with). */
uint32_t ph_api_version(void);

/* ---- Status and errors --------------------------------------------------------------------- */

/* Mirrors polyhead::ErrorCode; the numeric values are part of the ABI. */
typedef enum ph_status {
  PH_OK = 0,
  PH_INVALID_ARGUMENT = 1, /* a caller passed a bad pointer, option, name, shape or size */
  PH_INVALID_MODEL = 2,    /* the model file failed verification or validation */
  PH_UNSUPPORTED = 3,      /* valid, but this build cannot run it (operator, type, option) */
  PH_NOT_FOUND = 4,        /* a named task, input or output does not exist */
  PH_IO_ERROR = 5,         /* a file could not be opened or mapped */
  PH_OUT_OF_MEMORY = 6,
  PH_INTERNAL = 7 /* a bug in Polyhead or a dependency failed unexpectedly */
} ph_status;

/* The message of the last failing call on this thread ("" if none failed yet). Valid until the
 * next failing call on this thread; successful calls leave it unchanged. Messages longer than
 * the thread's buffer (4 KiB) are truncated. */
const char* ph_last_error(void);
/* A static name for a status: "ok", "invalid argument", ... ("unknown status" otherwise). */
const char* ph_status_name(ph_status status);

/* ---- Element types and tensors ------------------------------------------------------------- */

/* Mirrors polyhead::ElementType; the numeric values are part of the ABI. */
typedef enum ph_element_type {
  PH_F32 = 0,
  PH_F16 = 1,
  PH_I8 = 2,
  PH_U8 = 3,
  PH_I32 = 4
} ph_element_type;

#define PH_MAX_DIMS 6

/* A read-only view of a tensor owned by a plan. Its layout is frozen (later versions add
 * functions, not fields). */
typedef struct ph_tensor {
  const void* data;
  int64_t dims[PH_MAX_DIMS]; /* dims[0..rank) are the shape; the rest are 0 */
  size_t rank;
  ph_element_type type;
} ph_tensor;

/* Bytes of one element of `type` (0 for an unknown type). */
size_t ph_element_size(ph_element_type type);

/* ---- Model enums --------------------------------------------------------------------------- */

/* These mirror polyhead/model_enums.h (docs/format.md); the numeric values are part of the ABI and
 * new values are only appended. Each *_name function returns the static name the tools print
 * ("NHWC", "LETTERBOX", "detection", ...), or "unknown <what>" for a value it does not know. */

/* How an image input is laid out in memory. */
typedef enum ph_layout { PH_LAYOUT_NHWC = 0, PH_LAYOUT_NCHW = 1 } ph_layout;
/* The channel order of an image input; PH_COLOR_NONE: the input is not an image. */
typedef enum ph_color_order {
  PH_COLOR_RGB = 0,
  PH_COLOR_BGR = 1,
  PH_COLOR_GRAY = 2,
  PH_COLOR_NONE = 3
} ph_color_order;
/* How a photo of another size becomes the input's width x height: STRETCH resizes both axes,
 * LETTERBOX keeps the aspect ratio and pads the short side, CROP keeps it and crops the long side
 * (centred). */
typedef enum ph_image_fit {
  PH_FIT_STRETCH = 0,
  PH_FIT_LETTERBOX = 1,
  PH_FIT_CROP = 2
} ph_image_fit;
/* What a task computes (ph_model_task_kind() gives the same as a string). */
typedef enum ph_task_kind {
  PH_TASK_CLASSIFICATION = 0,
  PH_TASK_DETECTION = 1,
  PH_TASK_SEGMENTATION = 2,
  PH_TASK_LANDMARKS = 3,
  PH_TASK_REGRESSION = 4,
  PH_TASK_EMBEDDING = 5,
  PH_TASK_OTHER = 6
} ph_task_kind;
/* What post-processing applies to a task's raw scores (not part of the graph). */
typedef enum ph_output_activation {
  PH_ACTIVATION_NONE = 0,
  PH_ACTIVATION_SIGMOID = 1,
  PH_ACTIVATION_SOFTMAX = 2
} ph_output_activation;

const char* ph_layout_name(ph_layout layout);          /* "NHWC", "NCHW" */
const char* ph_color_order_name(ph_color_order color); /* "RGB", "BGR", "GRAY", "NONE" */
const char* ph_image_fit_name(ph_image_fit fit);       /* "STRETCH", "LETTERBOX", "CROP" */
const char* ph_task_kind_name(ph_task_kind kind);      /* "classification", ... "other" */
const char* ph_output_activation_name(ph_output_activation activation); /* "none", ... */

/* ---- Opaque handles ------------------------------------------------------------------------ */

typedef struct ph_model ph_model;   /* a verified model; immutable, shareable by threads */
typedef struct ph_engine ph_engine; /* packed kernels, plan cache, thread pool for one model */
typedef struct ph_plan ph_plan;     /* a prepared task set: arena, inputs, outputs */

/* ---- Models -------------------------------------------------------------------------------- */

/* Maps the .phm file read-only, verifies and validates it. PH_IO_ERROR if it cannot be opened,
 * PH_INVALID_MODEL if it is not a valid model. The file must not change in place while the model
 * is in use (renaming a new file over it is safe): engine creation and ph_plan_prepare answer
 * PH_IO_ERROR for a file changed since it was loaded, and one truncated while a plan runs may stop
 * the process with SIGBUS. */
ph_status ph_model_load_file(const char* path, ph_model** out);
/* Reads the .phm file into memory the model owns (a copy; later changes to the file do not
 * matter), verifies and validates it. Errors as ph_model_load_file. */
ph_status ph_model_read_file(const char* path, ph_model** out);
/* Reads a caller-owned buffer IN PLACE (zero copy). `data` must start at a 64-byte aligned
 * address and stay valid and unchanged until the model and every engine and plan made from it
 * are freed. */
ph_status ph_model_from_buffer(const void* data, size_t size, ph_model** out);
/* Copies `size` bytes into aligned memory the model owns; `data` can be freed on return. */
ph_status ph_model_from_bytes(const void* data, size_t size, ph_model** out);
/* Releases the caller's handle. Engines and plans made from it stay usable. NULL is a no-op. */
void ph_model_free(ph_model* model);

/* Introspection. Returned strings live as long as the model's data, i.e. until the model and
 * every engine and plan made from it are freed. Out-of-range indices return NULL or fail with
 * PH_INVALID_ARGUMENT. */
size_t ph_model_input_count(const ph_model* model);
const char* ph_model_input_name(const ph_model* model, size_t input);
ph_status ph_model_input_type(const ph_model* model, size_t input, ph_element_type* type);
/* Writes the shape into dims[0..rank) and its rank into *rank. With dims NULL and capacity 0
 * only *rank is written (a size query); a capacity below the rank fails with
 * PH_INVALID_ARGUMENT (and still writes *rank). PH_MAX_DIMS is always enough. */
ph_status ph_model_input_shape(const ph_model* model, size_t input, int64_t* dims, size_t capacity,
                               size_t* rank);

size_t ph_model_task_count(const ph_model* model);
const char* ph_model_task_name(const ph_model* model, size_t task);
/* "classification", "detection", "segmentation", "landmarks", "regression", "embedding" or
 * "other". */
const char* ph_model_task_kind(const ph_model* model, size_t task);
size_t ph_model_task_output_count(const ph_model* model, size_t task);
const char* ph_model_task_output_name(const ph_model* model, size_t task, size_t output);
ph_status ph_model_task_output_type(const ph_model* model, size_t task, size_t output,
                                    ph_element_type* type);
/* Same contract as ph_model_input_shape. */
ph_status ph_model_task_output_shape(const ph_model* model, size_t task, size_t output,
                                     int64_t* dims, size_t capacity, size_t* rank);

/* Out-structs below (ph_preprocess, ph_task_info, ph_postprocess) may grow: set struct_size =
 * sizeof(the struct) before the call; the library writes only the fields that fit in struct_size
 * bytes (and sets struct_size to what it wrote), so a program built against an older, smaller
 * struct keeps working. A struct_size below sizeof(size_t) fails with PH_INVALID_ARGUMENT.
 * Pointers in them live as long as the model's data, like the strings. */

/* The pre-processing input `input` expects: value = (pixel / 255 * pixel_scale - mean[c]) /
 * std[c] for a pixel in 0..255 (docs/format.md). An input that declares none reads as the
 * defaults: width = height = 0, NHWC, RGB, STRETCH, no mean or std, pixel_scale 255. */
typedef struct ph_preprocess {
  size_t struct_size;
  int32_t width; /* image size the input was trained at; 0 = unspecified */
  int32_t height;
  ph_layout layout; /* decides which dimension of the input's shape is "channels" */
  ph_color_order color;
  ph_image_fit fit;
  float pixel_scale;
  /* mean_count is 0 (mean 0 for every channel), 1 (one value for all channels) or the channel
   * count; mean is NULL when mean_count is 0. Likewise std (1 when std_count is 0; never 0). */
  const float* mean;
  size_t mean_count;
  const float* std;
  size_t std_count;
} ph_preprocess;

ph_status ph_model_input_preprocess(const ph_model* model, size_t input, ph_preprocess* out);

/* A task's kind, scheduling hints and counts. */
typedef struct ph_task_info {
  size_t struct_size;
  ph_task_kind kind;
  int32_t priority;    /* when a frame's latency budget is short, larger priorities run first */
  int32_t rate;        /* run every `rate` frames by default; at least 1 */
  size_t output_count; /* as ph_model_task_output_count */
  size_t label_count;  /* as ph_model_task_label_count */
} ph_task_info;

ph_status ph_model_task_info(const ph_model* model, size_t task, ph_task_info* out);

/* How a task's raw outputs become results (read by post-processing; not part of the graph). A task
 * that declares none reads as: PH_ACTIVATION_NONE, 0.5, 0.45, 100, no anchors. */
typedef struct ph_postprocess {
  size_t struct_size;
  ph_output_activation activation;
  float score_threshold;  /* in [0, 1] */
  float nms_iou;          /* in [0, 1] */
  int32_t max_detections; /* not negative */
  /* anchor_count anchors of 4 floats each (centre y, centre x, height, width; normalised), i.e.
   * 4 * anchor_count floats; NULL when anchor_count is 0. */
  const float* anchors;
  size_t anchor_count;
} ph_postprocess;

ph_status ph_model_task_postprocess(const ph_model* model, size_t task, ph_postprocess* out);

/* Class names of task `task`, index-aligned with its class dimension (0 when it declares none).
 * A label may be "". */
size_t ph_model_task_label_count(const ph_model* model, size_t task);
const char* ph_model_task_label(const ph_model* model, size_t task, size_t label);

/* Model-level facts. producer and description are "" when the model declares none. */
ph_status ph_model_format_version(const ph_model* model, uint32_t* major, uint32_t* minor);
const char* ph_model_producer(const ph_model* model);
const char* ph_model_description(const ph_model* model);
/* The value of metadata entry `key`, or NULL when the model has no such entry (like getenv(); not
 * an error, ph_last_error() is left alone); an entry without a value reads as "". With a NULL
 * model or key it also returns NULL and records why. Keys are compared exactly. */
const char* ph_model_metadata(const ph_model* model, const char* key);
/* Metadata entries in file order, to list them: ph_model_metadata_key(model, i) for i below the
 * count; its value is ph_model_metadata(model, key). */
size_t ph_model_metadata_count(const ph_model* model);
const char* ph_model_metadata_key(const ph_model* model, size_t entry);

/* ---- Engines ------------------------------------------------------------------------------- */

/* Arithmetic precision of an engine's operators; the numeric values are part of the ABI.
 * PH_PRECISION_F16 runs half-precision operators and needs a CPU with fp16 arithmetic (ARMv8.2-A
 * FP16): on others ph_engine_create fails with PH_UNSUPPORTED rather than emulating it. */
typedef enum ph_precision { PH_PRECISION_F32 = 0, PH_PRECISION_F16 = 1 } ph_precision;
/* "f32", "f16" ("unknown precision" otherwise). */
const char* ph_precision_name(ph_precision precision);

/* A thread pool several engines share (polyhead/thread_pool.h): engines given the same pool take
 * turns on its threads instead of each starting its own, so they never oversubscribe the cores.
 * `threads` = 0 picks one per logical processor (at most 1024). Engines keep the pool alive:
 * ph_thread_pool_free may come right after the last ph_engine_create that uses it. */
typedef struct ph_thread_pool ph_thread_pool;
ph_status ph_thread_pool_create(size_t threads, ph_thread_pool** out);
/* Threads of the pool, the calling thread included; 0 for NULL. */
size_t ph_thread_pool_threads(const ph_thread_pool* pool);
/* Releases the caller's handle. NULL is a no-op. */
void ph_thread_pool_free(ph_thread_pool* pool);

/* Whether a plan's heads (the nodes only one of its tasks needs) run concurrently, one per pool
 * thread, after the shared nodes; outputs are the same every way. Values are part of the ABI. */
typedef enum ph_parallel_heads {
  PH_PARALLEL_HEADS_AUTO = 0,  /* each plan times its first runs both ways, keeps the faster */
  PH_PARALLEL_HEADS_NEVER = 1, /* one node after another */
  PH_PARALLEL_HEADS_ALWAYS = 2 /* whenever a run has two heads and the pool two threads */
} ph_parallel_heads;
/* "auto", "never", "always" ("unknown parallel heads mode" otherwise). */
const char* ph_parallel_heads_name(ph_parallel_heads mode);

/* Which kernel runs a layer whose weights the model stores block-sparse (docs/sparse.md). Values
 * are part of the ABI. */
typedef enum ph_sparse_weights {
  PH_SPARSE_WEIGHTS_AUTO = 0,   /* the sparse kernel where it beats the dense one at the density */
  PH_SPARSE_WEIGHTS_SPARSE = 1, /* the sparse kernel wherever it can run the layer */
  PH_SPARSE_WEIGHTS_DENSE = 2   /* the dense kernel on weights expanded once per engine */
} ph_sparse_weights;
/* "auto", "sparse", "dense" ("unknown sparse weights mode" otherwise). */
const char* ph_sparse_weights_name(ph_sparse_weights mode);

/* Options for ph_engine_create. Start from ph_engine_options_default(), which sets struct_size,
 * then change fields. The library reads only the first struct_size bytes (fields past them keep
 * their defaults), so programs built against an older header keep working; bytes past the fields
 * this library knows must be zero, or creation fails with PH_UNSUPPORTED. */
typedef struct ph_engine_options {
  size_t struct_size;         /* sizeof(ph_engine_options) of the caller's header */
  size_t threads;             /* intra-operator threads; 0 = one per logical processor (def. 1) */
  size_t plan_cache_capacity; /* prepared task sets kept for reuse, at least 1 (default 8) */
  /* Fields added later are appended; a struct_size that ends before one gives it its default. */
  ph_precision precision; /* PH_PRECISION_F32 (default) or PH_PRECISION_F16, see ph_precision */
  /* Nonzero (default 1): with several threads, each node is timed over a plan's first runs on the
   * pool and on the calling thread alone and then runs the faster way (outputs do not change).
   * 0 runs every node on the pool (docs/performance.md, "Threads per node"). */
  int choose_threads_per_node;
  /* A pool shared with other engines, or NULL (default) for the engine's own of `threads`. With
   * a pool, `threads` must stay 1 or equal ph_thread_pool_threads(pool). */
  ph_thread_pool* thread_pool;
  ph_parallel_heads parallel_heads; /* default PH_PARALLEL_HEADS_AUTO */
  ph_sparse_weights sparse_weights; /* default PH_SPARSE_WEIGHTS_AUTO */
} ph_engine_options;

ph_engine_options ph_engine_options_default(void);

/* Creates an engine for `model`; `options` may be NULL for the defaults. The engine keeps the
 * model's data alive: the model handle may be freed right after. */
ph_status ph_engine_create(const ph_model* model, const ph_engine_options* options,
                           ph_engine** out);
/* Releases the caller's handle; plans prepared from it stay usable. NULL is a no-op. */
void ph_engine_free(ph_engine* engine);

/* ---- Plans --------------------------------------------------------------------------------- */

/* Prepares (or fetches from the engine's cache) the plan for `count` task names; count 0 means
 * every task of the model (`tasks` may then be NULL). Unknown task: PH_NOT_FOUND. Preparing the
 * same task set twice on one engine yields plans that share their arena (inputs and outputs). */
ph_status ph_plan_prepare(ph_engine* engine, const char* const* tasks, size_t count, ph_plan** out);
/* Releases the plan (its arena returns to the engine's pool when no plan uses it). NULL is a
 * no-op. */
void ph_plan_free(ph_plan* plan);

/* Copies `count` floats into input `name`; `count` must equal the input's element count. */
ph_status ph_plan_set_input(ph_plan* plan, const char* name, const float* data, size_t count);
/* Where to write input `name` directly (zero copy); marks the input as set. The pointer stays
 * valid while the plan lives. */
ph_status ph_plan_input_buffer(ph_plan* plan, const char* name, float** out);

/* Runs every task of the plan. All inputs must have been set. No heap allocation, no lock. */
ph_status ph_plan_run(ph_plan* plan);
/* Runs only `count` of the plan's tasks (the shared nodes they need and their heads); count 0
 * runs every task. No heap allocation on success. */
ph_status ph_plan_run_tasks(ph_plan* plan, const char* const* tasks, size_t count);

/* Output `output` of task `task` from the last run that included the task. The view stays valid
 * until the next run of this plan (or of a plan sharing its arena) or until the plan is freed.
 * Does not allocate on success. */
ph_status ph_plan_output(const ph_plan* plan, const char* task, const char* output, ph_tensor* out);

/* Figures of a prepared plan. Set struct_size = sizeof(ph_plan_info) before the call; the
 * library writes only the fields that fit in struct_size bytes. */
typedef struct ph_plan_info {
  size_t struct_size;
  size_t nodes;                   /* nodes a full run executes (shared ones once) */
  size_t arena_bytes;             /* activation memory of the plan */
  size_t arena_lower_bound_bytes; /* largest bytes live at any one step */
  size_t task_count;              /* tasks of the plan, see ph_plan_task_name */
  /* Fields added later are appended (struct_size tells which the caller has). */
  size_t parallel_head_groups; /* heads that may run concurrently (0: they run in turn) */
  int heads_in_parallel;       /* nonzero when runs with two or more heads now run them so */
} ph_plan_info;

ph_status ph_plan_get_info(const ph_plan* plan, ph_plan_info* info);
/* Name of the plan's task `task` (in model order), valid while the plan lives; NULL if out of
 * range. */
const char* ph_plan_task_name(const ph_plan* plan, size_t task);
/* Nodes executed by the last run of this plan (0 before the first run or for a NULL plan). */
size_t ph_plan_last_run_nodes(const ph_plan* plan);

/* ---- Camera frames and caller-owned outputs ------------------------------------------------ */

/* Mirrors polyhead::PixelFormat; the numeric values are part of the ABI. One byte per channel.
 * NV21/NV12: a Y plane of `height` rows, then the interleaved chroma plane (V,U for NV21, U,V for
 * NV12) of height / 2 rows at the same stride; even width and height; BT.601 limited range. */
typedef enum ph_pixel_format {
  PH_PIXEL_RGB = 0,
  PH_PIXEL_BGR = 1,
  PH_PIXEL_RGBA = 2, /* alpha ignored */
  PH_PIXEL_BGRA = 3,
  PH_PIXEL_GRAY = 4,
  PH_PIXEL_NV21 = 5,
  PH_PIXEL_NV12 = 6
} ph_pixel_format;

/* "RGB", "BGR", "RGBA", "BGRA", "GRAY", "NV21", "NV12" ("unknown pixel format" otherwise). */
const char* ph_pixel_format_name(ph_pixel_format format);

/* Where the frame landed in the model input: model = frame * scale + offset per axis, in pixels
 * (letterbox offsets >= 0 are the padding, crop offsets <= 0 the cut). Its layout is frozen. */
typedef struct ph_image_transform {
  int32_t image_width, image_height; /* the frame */
  int32_t model_width, model_height; /* the model input */
  float scale_x, scale_y;
  float offset_x, offset_y;
} ph_image_transform;

/* Model pixel -> frame pixel (what post-processing needs for boxes and landmarks). */
void ph_image_transform_to_image(const ph_image_transform* transform, float model_x, float model_y,
                                 float* image_x, float* image_y);

/* Fills image input `name` from an 8-bit frame: resized per the input's declared fit (area
 * averaging when shrinking, bilinear when enlarging), converted to its colour order, normalised
 * ((p / 255 * pixel_scale - mean) / std) and written in its layout. `bytes` is how many bytes are
 * readable at `data` (a frame needing more is refused); `stride` 0 means packed rows. Writes the
 * transform to `transform` when it is not NULL. No heap allocation on success; a rejected frame
 * leaves the input as it was. */
ph_status ph_plan_set_input_pixels(ph_plan* plan, const char* name, const uint8_t* data,
                                   size_t bytes, int32_t width, int32_t height, size_t stride,
                                   ph_pixel_format format, ph_image_transform* transform);

/* Copies output `output` of task `task` into `data` at the end of every later run that includes
 * the task (one memcpy, no allocation); `bytes` must equal the output's size. Binding again
 * replaces the buffer; data NULL unbinds. The buffer must stay valid while bound. */
ph_status ph_plan_bind_output(ph_plan* plan, const char* task, const char* output, void* data,
                              size_t bytes);

/* ---- Frame scheduler (video streams) ------------------------------------------------------- */

/* Runs a stream's frames through one or more plans, choosing each frame which tasks run from their
 * rates (every Nth frame or a target Hz), priorities, deadlines and a per-frame latency budget, and
 * keeps the real-time figures (polyhead/frame_scheduler.h; docs/stream.md, "Frame scheduler"). The
 * caller sets each plan's inputs through its own ph_plan handle, calls
 * ph_frame_scheduler_run_frame, and reads the outputs of the tasks that ran through the same
 * handles. The scheduler keeps its plans alive (the ph_plan handles may be freed, but then their
 * outputs cannot be read) and turns on their per-node profiling, which it measures costs with.
 * One thread at a time. */
typedef struct ph_frame_scheduler ph_frame_scheduler;

/* How one task of a plan is scheduled; fields left 0 keep the model's values (its rate and
 * priority). Its layout is frozen (later versions add functions, not fields). */
typedef struct ph_task_schedule {
  const char* task;        /* a task of the plan */
  uint32_t every_n_frames; /* run on every Nth frame; 0 = the model's rate (or rate_hz) */
  double rate_hz;          /* or at most this often in stream time; 0 = not used */
  int32_t has_priority;    /* nonzero: `priority` replaces the model's */
  int32_t priority;        /* larger runs first when the budget is short */
  double deadline_ms;      /* latency from the frame's arrival to the task's result; 0 = none */
} ph_task_schedule;

/* One plan of the stream. Its layout is frozen. */
typedef struct ph_scheduled_plan {
  const char* label; /* names the plan in figures and errors; labels must differ */
  ph_plan* plan;
  const ph_task_schedule* tasks; /* overrides, task_count of them (NULL when 0) */
  size_t task_count;
} ph_scheduled_plan;

/* Options for ph_frame_scheduler_create: start from ph_scheduler_options_default() (struct_size
 * set), then change fields; read like ph_engine_options (only struct_size bytes; bytes past the
 * fields this library knows must be zero, or creation fails with PH_UNSUPPORTED). */
typedef struct ph_scheduler_options {
  size_t struct_size;
  double budget_ms;       /* per-frame latency budget; 0 = none: every due task runs (default) */
  uint32_t max_deferrals; /* a due task deferred this many frames in a row then runs (default 3) */
  /* Monotonic clock in nanoseconds, called with clock_context; NULL = the system's monotonic
   * clock (default). For tests and replays. */
  uint64_t (*clock)(void* clock_context);
  void* clock_context;
} ph_scheduler_options;

ph_scheduler_options ph_scheduler_options_default(void);

/* Creates a scheduler over `plan_count` plans; `options` may be NULL for the defaults. Fails,
 * naming the plan label, task and value, for: no plans, a NULL plan, label or task name, an empty
 * or repeated label, an unknown (PH_NOT_FOUND) or repeated task, a task with both every_n_frames
 * and rate_hz, a negative or non-finite rate, deadline or budget. */
ph_status ph_frame_scheduler_create(const ph_scheduled_plan* plans, size_t plan_count,
                                    const ph_scheduler_options* options, ph_frame_scheduler** out);
/* NULL is a no-op. */
void ph_frame_scheduler_free(ph_frame_scheduler* scheduler);

/* What a frame did (see ph_frame_scheduler_frame_tasks for which tasks ran). Set struct_size =
 * sizeof(ph_frame_outcome) before the call; only the fields that fit are written. */
typedef struct ph_frame_outcome {
  size_t struct_size;
  uint64_t frame;        /* index among the processed frames, from 0 */
  uint64_t arrival_ns;   /* the clock time the frame arrived */
  uint64_t finished_ns;  /* the clock time its last chosen task finished */
  uint64_t estimated_ns; /* the cost the scheduler expected for the tasks it chose */
  int32_t over_budget;   /* 1 when finished - arrival exceeded the budget */
} ph_frame_outcome;

/* Chooses the due tasks that fit, runs them and records their costs and latencies. `arrival_ns`
 * is the clock time the frame arrived (0 = now), so that queueing counts in the latency. `out`
 * may be NULL. No heap allocation on success. */
ph_status ph_frame_scheduler_run_frame(ph_frame_scheduler* scheduler, uint64_t arrival_ns,
                                       ph_frame_outcome* out);
/* Bit i of *ran: task i of plan `plan` (in ph_plan_task_name order) ran on the last frame; of
 * *deferred: it was due but deferred (a skip). Either pointer may be NULL. Both 0 before the
 * first frame. */
ph_status ph_frame_scheduler_frame_tasks(const ph_frame_scheduler* scheduler, size_t plan,
                                         uint64_t* ran, uint64_t* deferred);
/* Counts a frame the caller dropped before inference (for example from a full queue). */
ph_status ph_frame_scheduler_count_dropped_frame(ph_frame_scheduler* scheduler);

size_t ph_frame_scheduler_plan_count(const ph_frame_scheduler* scheduler);
/* Tasks of all plans: plan by plan, each plan's tasks in its order (the index of
 * ph_frame_scheduler_task_stats). */
size_t ph_frame_scheduler_task_count(const ph_frame_scheduler* scheduler);

/* Figures of one task (struct_size'd like ph_task_info). Strings live as long as the scheduler.
 * Latencies are from the frame's arrival to the end of the run that produced the task's result;
 * percentiles are within 2 % of the exact ones. Allocates: call between frames, not per frame. */
typedef struct ph_task_stats {
  size_t struct_size;
  const char* plan; /* its plan's label */
  const char* task;
  size_t plan_index;
  size_t task_index;       /* in its plan: the bit of ph_frame_scheduler_frame_tasks */
  uint32_t every_n_frames; /* as scheduled; 0 when rate_hz is used */
  double rate_hz;
  int32_t priority;
  double deadline_ms;
  uint64_t runs;
  uint64_t skips;           /* frames on which it was due but deferred */
  uint64_t deadline_misses; /* runs whose latency exceeded its deadline (or the budget) */
  double latency_p50_ms;
  double latency_p90_ms;
  double latency_p99_ms;
  double latency_max_ms;
  double estimated_cost_ms;   /* current estimate of its head (nodes only it needs) */
  double estimated_shared_ms; /* current estimate of its plan's shared part */
} ph_task_stats;

ph_status ph_frame_scheduler_task_stats(const ph_frame_scheduler* scheduler, size_t task,
                                        ph_task_stats* out);

/* Figures of the stream (struct_size'd). */
typedef struct ph_stream_stats {
  size_t struct_size;
  uint64_t frames_in;        /* processed + dropped */
  uint64_t frames_processed; /* ph_frame_scheduler_run_frame calls */
  uint64_t frames_dropped;   /* ph_frame_scheduler_count_dropped_frame calls */
  uint64_t frames_over_budget;
  double seconds;        /* from the first frame's arrival to the last one's finish */
  double throughput_fps; /* frames processed per second */
  double frame_latency_p50_ms;
  double frame_latency_p90_ms;
  double frame_latency_p99_ms;
} ph_stream_stats;

ph_status ph_frame_scheduler_stream_stats(const ph_frame_scheduler* scheduler,
                                          ph_stream_stats* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* POLYHEAD_POLYHEAD_C_H_ */
