// The C API (polyhead/polyhead_c.h) over the C++ engine. Every entry point catches every exception
// (none may cross into C), maps polyhead::Status to ph_status and records failure messages in a
// fixed thread-local buffer, so reporting an error never allocates and never throws.
#include "polyhead/polyhead_c.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "model_data.h"
#include "polyhead/engine.h"
#include "polyhead/frame_scheduler.h"
#include "polyhead/model.h"
#include "polyhead/model_enums.h"
#include "polyhead/precision.h"

struct ph_model {
  polyhead::Model model;
};

struct ph_engine {
  polyhead::Engine engine;
};

struct ph_thread_pool {
  polyhead::ThreadPool pool;
};

struct ph_plan {
  polyhead::Plan plan;
  polyhead::PlanInfo info;  // fixed once prepared; kept so accessors never allocate
};

namespace {

static_assert(static_cast<int>(polyhead::ErrorCode::kOk) == PH_OK, "status values drifted");
static_assert(static_cast<int>(polyhead::ErrorCode::kInvalidArgument) == PH_INVALID_ARGUMENT, "");
static_assert(static_cast<int>(polyhead::ErrorCode::kInvalidModel) == PH_INVALID_MODEL, "");
static_assert(static_cast<int>(polyhead::ErrorCode::kUnsupported) == PH_UNSUPPORTED, "");
static_assert(static_cast<int>(polyhead::ErrorCode::kNotFound) == PH_NOT_FOUND, "");
static_assert(static_cast<int>(polyhead::ErrorCode::kIoError) == PH_IO_ERROR, "");
static_assert(static_cast<int>(polyhead::ErrorCode::kOutOfMemory) == PH_OUT_OF_MEMORY, "");
static_assert(static_cast<int>(polyhead::ErrorCode::kInternal) == PH_INTERNAL, "");
static_assert(static_cast<int>(polyhead::ElementType::kF32) == PH_F32, "type values drifted");
static_assert(static_cast<int>(polyhead::ElementType::kF16) == PH_F16, "");
static_assert(static_cast<int>(polyhead::ElementType::kI8) == PH_I8, "");
static_assert(static_cast<int>(polyhead::ElementType::kU8) == PH_U8, "");
static_assert(static_cast<int>(polyhead::ElementType::kI32) == PH_I32, "");
static_assert(polyhead::Shape::kMaxDims == PH_MAX_DIMS, "PH_MAX_DIMS must match Shape::kMaxDims");
static_assert(static_cast<int>(polyhead::Precision::kF32) == PH_PRECISION_F32, "enum drifted");
static_assert(static_cast<int>(polyhead::Precision::kF16) == PH_PRECISION_F16, "");
static_assert(static_cast<int>(polyhead::Layout::kNhwc) == PH_LAYOUT_NHWC, "");
static_assert(static_cast<int>(polyhead::Layout::kNchw) == PH_LAYOUT_NCHW, "");
static_assert(static_cast<int>(polyhead::ColorOrder::kRgb) == PH_COLOR_RGB, "");
static_assert(static_cast<int>(polyhead::ColorOrder::kBgr) == PH_COLOR_BGR, "");
static_assert(static_cast<int>(polyhead::ColorOrder::kGray) == PH_COLOR_GRAY, "");
static_assert(static_cast<int>(polyhead::ColorOrder::kNone) == PH_COLOR_NONE, "");
static_assert(static_cast<int>(polyhead::ImageFit::kStretch) == PH_FIT_STRETCH, "");
static_assert(static_cast<int>(polyhead::ImageFit::kLetterbox) == PH_FIT_LETTERBOX, "");
static_assert(static_cast<int>(polyhead::ImageFit::kCrop) == PH_FIT_CROP, "");
static_assert(static_cast<int>(polyhead::TaskKind::kClassification) == PH_TASK_CLASSIFICATION, "");
static_assert(static_cast<int>(polyhead::TaskKind::kDetection) == PH_TASK_DETECTION, "");
static_assert(static_cast<int>(polyhead::TaskKind::kSegmentation) == PH_TASK_SEGMENTATION, "");
static_assert(static_cast<int>(polyhead::TaskKind::kLandmarks) == PH_TASK_LANDMARKS, "");
static_assert(static_cast<int>(polyhead::TaskKind::kRegression) == PH_TASK_REGRESSION, "");
static_assert(static_cast<int>(polyhead::TaskKind::kEmbedding) == PH_TASK_EMBEDDING, "");
static_assert(static_cast<int>(polyhead::TaskKind::kOther) == PH_TASK_OTHER, "");
static_assert(static_cast<int>(polyhead::OutputActivation::kNone) == PH_ACTIVATION_NONE, "");
static_assert(static_cast<int>(polyhead::OutputActivation::kSigmoid) == PH_ACTIVATION_SIGMOID, "");
static_assert(static_cast<int>(polyhead::OutputActivation::kSoftmax) == PH_ACTIVATION_SOFTMAX, "");

// Trivially destructible, so threads (and dlclose) need no TLS destructor.
constexpr size_t kErrorCapacity = 4096;
thread_local char t_last_error[kErrorCapacity] = "";

void set_error(const char* text, size_t length) {
  if (length >= kErrorCapacity) {
    length = kErrorCapacity - 1;
    std::memcpy(t_last_error + length - 3, "...", 3);
    std::memcpy(t_last_error, text, length - 3);
  } else {
    std::memcpy(t_last_error, text, length);
  }
  t_last_error[length] = '\0';
}

ph_status fail(ph_status status, const char* text) {
  set_error(text, std::strlen(text));
  return status;
}

ph_status fail(const polyhead::Status& status) {
  set_error(status.message().data(), status.message().size());
  return static_cast<ph_status>(status.code());
}

// "<function>: argument '<name>' is NULL"; formatted without allocating.
ph_status null_argument(const char* function, const char* argument) {
  char text[256];
  std::snprintf(text, sizeof text, "%s: argument '%s' is NULL", function, argument);
  return fail(PH_INVALID_ARGUMENT, text);
}

// Runs `body(function)` (which returns ph_status) and turns any exception into a status and
// message.
template <typename Body>
ph_status guarded(const char* function, Body&& body) noexcept {
  try {
    return body(function);
  } catch (const std::bad_alloc&) {
    char text[256];
    std::snprintf(text, sizeof text, "%s: out of memory", function);
    return fail(PH_OUT_OF_MEMORY, text);
  } catch (const std::exception& e) {
    char text[512];
    std::snprintf(text, sizeof text, "%s: unexpected exception: %s", function, e.what());
    return fail(PH_INTERNAL, text);
  } catch (...) {
    char text[256];
    std::snprintf(text, sizeof text, "%s: unexpected exception of unknown type", function);
    return fail(PH_INTERNAL, text);
  }
}

ph_status index_error(const char* function, const char* what, size_t index, size_t count) {
  char text[256];
  std::snprintf(text, sizeof text, "%s: %s index %zu is out of range; there are %zu", function,
                what, index, count);
  return fail(PH_INVALID_ARGUMENT, text);
}

ph_status write_shape(const char* function, const polyhead::Shape& shape, int64_t* dims,
                      size_t capacity, size_t* rank) {
  *rank = shape.rank();
  if (!dims && capacity == 0) return PH_OK;  // a size query
  if (!dims) return null_argument(function, "dims");
  if (capacity < shape.rank()) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "%s: dims has room for %zu dimensions but the shape %s has %zu", function,
                  capacity, shape.to_string().c_str(), shape.rank());
    return fail(PH_INVALID_ARGUMENT, text);
  }
  for (size_t i = 0; i < shape.rank(); ++i) dims[i] = shape[i];
  return PH_OK;
}

// The task `task` of `model`, or nullptr after recording why.
const polyhead::TaskInfo* task_at(const char* function, const ph_model* model, size_t task) {
  if (!model) {
    null_argument(function, "model");
    return nullptr;
  }
  const auto& tasks = model->model.tasks();
  if (task >= tasks.size()) {
    index_error(function, "task", task, tasks.size());
    return nullptr;
  }
  return &tasks[task];
}

const polyhead::TaskOutputInfo* output_at(const char* function, const ph_model* model, size_t task,
                                          size_t output) {
  const polyhead::TaskInfo* info = task_at(function, model, task);
  if (!info) return nullptr;
  if (output >= info->outputs.size()) {
    index_error(function, "output", output, info->outputs.size());
    return nullptr;
  }
  return &info->outputs[output];
}

const polyhead::InputInfo* input_at(const char* function, const ph_model* model, size_t input) {
  if (!model) {
    null_argument(function, "model");
    return nullptr;
  }
  const auto& inputs = model->model.inputs();
  if (input >= inputs.size()) {
    index_error(function, "input", input, inputs.size());
    return nullptr;
  }
  return &inputs[input];
}

// Checks the struct_size of a caller's out-struct `argument`; false after recording why.
bool check_out_struct(const char* function, const char* argument, const char* type,
                      size_t struct_size) {
  if (struct_size >= sizeof(size_t)) return true;
  char text[256];
  std::snprintf(text, sizeof text,
                "%s: %s->struct_size is %zu; set it to sizeof(%s) before the call", function,
                argument, struct_size, type);
  fail(PH_INVALID_ARGUMENT, text);
  return false;
}

// Copies the fields of `full` that fit in out->struct_size bytes into *out (bytes past our struct
// stay untouched), after setting full.struct_size to the bytes written.
template <typename Struct>
void write_out_struct(Struct full, Struct* out) {
  const size_t size = out->struct_size < sizeof full ? out->struct_size : sizeof full;
  full.struct_size = size;
  std::memcpy(out, &full, size);
}

// The integer a C caller stored in an enum. C allows any int there; in C++ reading a value outside
// the enumerators' range through the enum type is undefined (UBSan reports it), so callers' enums
// are read as their bytes.
template <typename Enum>
long long raw_enum(const Enum& value) {
  std::underlying_type_t<Enum> raw;
  static_assert(sizeof raw == sizeof value, "an enum and its underlying type differ in size");
  std::memcpy(&raw, &value, sizeof raw);
  return static_cast<long long>(raw);
}

// Names of a C enum value, or `unknown` when it is out of range (a newer or corrupted value).
template <typename Enum, size_t N>
const char* enum_name(const Enum& e, const char* const (&names)[N], const char* unknown) {
  const long long value = raw_enum(e);
  if (value < 0 || static_cast<size_t>(value) >= N) return unknown;
  return names[value];
}

// The model's descriptions, copied at load (so they never read a mapped file again).
const polyhead::detail::ModelData& descriptions(const ph_model* model) {
  return model->model.data();
}

ph_status make_model(polyhead::Result<polyhead::Model> result, ph_model** out) {
  if (!result.is_ok()) return fail(result.status());
  *out = new ph_model{std::move(result).value()};
  return PH_OK;
}

}  // namespace

extern "C" {

const char* ph_version(void) {
  return PH_VERSION_STRING;
}

uint32_t ph_api_version(void) {
  return PH_API_VERSION;
}

const char* ph_last_error(void) {
  return t_last_error;
}

const char* ph_status_name(ph_status status) {
  if (raw_enum(status) < PH_OK || raw_enum(status) > PH_INTERNAL) return "unknown status";
  return polyhead::error_code_name(static_cast<polyhead::ErrorCode>(status));
}

size_t ph_element_size(ph_element_type type) {
  if (raw_enum(type) < PH_F32 || raw_enum(type) > PH_I32) return 0;
  return polyhead::element_size(static_cast<polyhead::ElementType>(type));
}

// ---- Model enums -----------------------------------------------------------------------------

const char* ph_layout_name(ph_layout layout) {
  static const char* const names[] = {"NHWC", "NCHW"};
  return enum_name(layout, names, "unknown layout");
}

const char* ph_color_order_name(ph_color_order color) {
  static const char* const names[] = {"RGB", "BGR", "GRAY", "NONE"};
  return enum_name(color, names, "unknown colour order");
}

const char* ph_image_fit_name(ph_image_fit fit) {
  static const char* const names[] = {"STRETCH", "LETTERBOX", "CROP"};
  return enum_name(fit, names, "unknown image fit");
}

const char* ph_task_kind_name(ph_task_kind kind) {
  static const char* const names[] = {"classification", "detection", "segmentation", "landmarks",
                                      "regression",     "embedding", "other"};
  return enum_name(kind, names, "unknown task kind");
}

const char* ph_output_activation_name(ph_output_activation activation) {
  static const char* const names[] = {"none", "sigmoid", "softmax"};
  return enum_name(activation, names, "unknown output activation");
}

const char* ph_precision_name(ph_precision precision) {
  static const char* const names[] = {"f32", "f16"};
  return enum_name(precision, names, "unknown precision");
}

const char* ph_parallel_heads_name(ph_parallel_heads mode) {
  static const char* const names[] = {"auto", "never", "always"};
  return enum_name(mode, names, "unknown parallel heads mode");
}

const char* ph_sparse_weights_name(ph_sparse_weights mode) {
  static const char* const names[] = {"auto", "sparse", "dense"};
  return enum_name(mode, names, "unknown sparse weights mode");
}

// ---- Models ----------------------------------------------------------------------------------

ph_status ph_model_load_file(const char* path, ph_model** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!path) return null_argument(fn, "path");
    return make_model(polyhead::Model::load_file(path), out);
  });
}

ph_status ph_model_read_file(const char* path, ph_model** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!path) return null_argument(fn, "path");
    return make_model(polyhead::Model::read_file(path), out);
  });
}

ph_status ph_model_from_buffer(const void* data, size_t size, ph_model** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!data) return null_argument(fn, "data");
    return make_model(polyhead::Model::from_buffer(data, size), out);
  });
}

ph_status ph_model_from_bytes(const void* data, size_t size, ph_model** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!data && size) return null_argument(fn, "data");
    return make_model(polyhead::Model::from_bytes(data, size), out);
  });
}

void ph_model_free(ph_model* model) {
  delete model;
}

size_t ph_model_input_count(const ph_model* model) {
  if (!model) {
    null_argument(__func__, "model");
    return 0;
  }
  return model->model.inputs().size();
}

const char* ph_model_input_name(const ph_model* model, size_t input) {
  const polyhead::InputInfo* info = input_at(__func__, model, input);
  return info ? info->name.c_str() : nullptr;
}

ph_status ph_model_input_type(const ph_model* model, size_t input, ph_element_type* type) {
  if (!type) return null_argument(__func__, "type");
  const polyhead::InputInfo* info = input_at(__func__, model, input);
  if (!info) return PH_INVALID_ARGUMENT;
  *type = static_cast<ph_element_type>(info->type);
  return PH_OK;
}

ph_status ph_model_input_shape(const ph_model* model, size_t input, int64_t* dims, size_t capacity,
                               size_t* rank) {
  return guarded(__func__, [&](const char* fn) {
    if (!rank) return null_argument(fn, "rank");
    const polyhead::InputInfo* info = input_at(fn, model, input);
    if (!info) return PH_INVALID_ARGUMENT;
    return write_shape(fn, info->shape, dims, capacity, rank);
  });
}

size_t ph_model_task_count(const ph_model* model) {
  if (!model) {
    null_argument(__func__, "model");
    return 0;
  }
  return model->model.tasks().size();
}

const char* ph_model_task_name(const ph_model* model, size_t task) {
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  return info ? info->name.c_str() : nullptr;
}

const char* ph_model_task_kind(const ph_model* model, size_t task) {
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  return info ? polyhead::to_string(info->kind) : nullptr;
}

size_t ph_model_task_output_count(const ph_model* model, size_t task) {
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  return info ? info->outputs.size() : 0;
}

const char* ph_model_task_output_name(const ph_model* model, size_t task, size_t output) {
  const polyhead::TaskOutputInfo* info = output_at(__func__, model, task, output);
  return info ? info->name.c_str() : nullptr;
}

ph_status ph_model_task_output_type(const ph_model* model, size_t task, size_t output,
                                    ph_element_type* type) {
  if (!type) return null_argument(__func__, "type");
  const polyhead::TaskOutputInfo* info = output_at(__func__, model, task, output);
  if (!info) return PH_INVALID_ARGUMENT;
  *type = static_cast<ph_element_type>(info->type);
  return PH_OK;
}

ph_status ph_model_task_output_shape(const ph_model* model, size_t task, size_t output,
                                     int64_t* dims, size_t capacity, size_t* rank) {
  return guarded(__func__, [&](const char* fn) {
    if (!rank) return null_argument(fn, "rank");
    const polyhead::TaskOutputInfo* info = output_at(fn, model, task, output);
    if (!info) return PH_INVALID_ARGUMENT;
    return write_shape(fn, info->shape, dims, capacity, rank);
  });
}

ph_status ph_model_input_preprocess(const ph_model* model, size_t input, ph_preprocess* out) {
  if (!out) return null_argument(__func__, "out");
  if (!check_out_struct(__func__, "out", "ph_preprocess", out->struct_size))
    return PH_INVALID_ARGUMENT;
  const polyhead::InputInfo* info = input_at(__func__, model, input);
  if (!info) return PH_INVALID_ARGUMENT;
  const polyhead::Preprocess& p = info->preprocess;
  ph_preprocess full;
  std::memset(&full, 0, sizeof full);
  full.width = p.width;
  full.height = p.height;
  full.layout = static_cast<ph_layout>(p.layout);
  full.color = static_cast<ph_color_order>(p.color);
  full.fit = static_cast<ph_image_fit>(p.fit);
  full.pixel_scale = p.pixel_scale;
  full.mean = p.mean.empty() ? nullptr : p.mean.data();
  full.mean_count = p.mean.size();
  full.std = p.std.empty() ? nullptr : p.std.data();
  full.std_count = p.std.size();
  write_out_struct(full, out);
  return PH_OK;
}

ph_status ph_model_task_info(const ph_model* model, size_t task, ph_task_info* out) {
  if (!out) return null_argument(__func__, "out");
  if (!check_out_struct(__func__, "out", "ph_task_info", out->struct_size))
    return PH_INVALID_ARGUMENT;
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  if (!info) return PH_INVALID_ARGUMENT;
  ph_task_info full;
  std::memset(&full, 0, sizeof full);
  full.kind = static_cast<ph_task_kind>(info->kind);
  full.priority = info->priority;
  full.rate = info->rate;
  full.output_count = info->outputs.size();
  full.label_count = info->postprocess.labels.size();
  write_out_struct(full, out);
  return PH_OK;
}

ph_status ph_model_task_postprocess(const ph_model* model, size_t task, ph_postprocess* out) {
  if (!out) return null_argument(__func__, "out");
  if (!check_out_struct(__func__, "out", "ph_postprocess", out->struct_size))
    return PH_INVALID_ARGUMENT;
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  if (!info) return PH_INVALID_ARGUMENT;
  const polyhead::PostProcessInfo& p = info->postprocess;
  ph_postprocess full;
  std::memset(&full, 0, sizeof full);
  full.activation = static_cast<ph_output_activation>(p.activation);
  full.score_threshold = p.score_threshold;
  full.nms_iou = p.nms_iou;
  full.max_detections = p.max_detections;
  full.anchors = p.anchors.empty() ? nullptr : p.anchors.data();
  full.anchor_count = p.anchors.size() / 4;  // validation guarantees a multiple of 4
  write_out_struct(full, out);
  return PH_OK;
}

size_t ph_model_task_label_count(const ph_model* model, size_t task) {
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  return info ? info->postprocess.labels.size() : 0;
}

const char* ph_model_task_label(const ph_model* model, size_t task, size_t label) {
  const polyhead::TaskInfo* info = task_at(__func__, model, task);
  if (!info) return nullptr;
  const auto& labels = info->postprocess.labels;
  if (label >= labels.size()) {
    index_error(__func__, "label", label, labels.size());
    return nullptr;
  }
  return labels[label].c_str();
}

ph_status ph_model_format_version(const ph_model* model, uint32_t* major, uint32_t* minor) {
  if (!model) return null_argument(__func__, "model");
  if (!major) return null_argument(__func__, "major");
  if (!minor) return null_argument(__func__, "minor");
  *major = model->model.format_version_major();
  *minor = model->model.format_version_minor();
  return PH_OK;
}

// Model::producer(), description() and metadata() return copies; these point at the strings the
// model data holds, so the pointers live as long as the model data, and nothing allocates.
const char* ph_model_producer(const ph_model* model) {
  if (!model) {
    null_argument(__func__, "model");
    return nullptr;
  }
  return descriptions(model).producer.c_str();
}

const char* ph_model_description(const ph_model* model) {
  if (!model) {
    null_argument(__func__, "model");
    return nullptr;
  }
  return descriptions(model).description.c_str();
}

const char* ph_model_metadata(const ph_model* model, const char* key) {
  if (!model) {
    null_argument(__func__, "model");
    return nullptr;
  }
  if (!key) {
    null_argument(__func__, "key");
    return nullptr;
  }
  const size_t length = std::strlen(key);
  for (const auto& [k, value] : descriptions(model).metadata)
    if (k.size() == length && std::memcmp(k.data(), key, length) == 0) return value.c_str();
  return nullptr;
}

size_t ph_model_metadata_count(const ph_model* model) {
  if (!model) {
    null_argument(__func__, "model");
    return 0;
  }
  return descriptions(model).metadata.size();
}

const char* ph_model_metadata_key(const ph_model* model, size_t entry) {
  if (!model) {
    null_argument(__func__, "model");
    return nullptr;
  }
  const auto& entries = descriptions(model).metadata;
  if (entry >= entries.size()) {
    index_error(__func__, "metadata entry", entry, entries.size());
    return nullptr;
  }
  return entries[entry].first.c_str();
}

// ---- Engines ---------------------------------------------------------------------------------

ph_engine_options ph_engine_options_default(void) {
  const polyhead::EngineOptions defaults;
  ph_engine_options options;
  options.struct_size = sizeof(ph_engine_options);
  options.threads = defaults.threads;
  options.plan_cache_capacity = defaults.plan_cache_capacity;
  options.precision = static_cast<ph_precision>(defaults.precision);
  options.choose_threads_per_node = defaults.choose_threads_per_node ? 1 : 0;
  options.thread_pool = nullptr;
  options.parallel_heads = static_cast<ph_parallel_heads>(defaults.parallel_heads);
  options.sparse_weights = static_cast<ph_sparse_weights>(defaults.sparse_weights);
  return options;
}

ph_status ph_engine_create(const ph_model* model, const ph_engine_options* options,
                           ph_engine** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!model) return null_argument(fn, "model");
    polyhead::EngineOptions cpp;
    if (options) {
      const size_t size = options->struct_size;
      if (size < sizeof(size_t)) {
        char text[256];
        std::snprintf(text, sizeof text,
                      "%s: options->struct_size is %zu; set it to sizeof(ph_engine_options) "
                      "(start from ph_engine_options_default())",
                      fn, size);
        return fail(PH_INVALID_ARGUMENT, text);
      }
      // Fields the caller's (possibly older) header has; the others keep their defaults.
      const auto has = [size](size_t offset, size_t bytes) { return size >= offset + bytes; };
      if (has(offsetof(ph_engine_options, threads), sizeof options->threads))
        cpp.threads = options->threads;
      if (has(offsetof(ph_engine_options, plan_cache_capacity),
              sizeof options->plan_cache_capacity))
        cpp.plan_cache_capacity = options->plan_cache_capacity;
      if (has(offsetof(ph_engine_options, precision), sizeof options->precision)) {
        const long long precision = raw_enum(options->precision);
        if (precision != PH_PRECISION_F32 && precision != PH_PRECISION_F16) {
          char text[256];
          std::snprintf(text, sizeof text,
                        "%s: options->precision is %d; expected PH_PRECISION_F32 (0) or "
                        "PH_PRECISION_F16 (1)",
                        fn, static_cast<int>(precision));
          return fail(PH_INVALID_ARGUMENT, text);
        }
        cpp.precision = static_cast<polyhead::Precision>(precision);
      }
      if (has(offsetof(ph_engine_options, choose_threads_per_node),
              sizeof options->choose_threads_per_node))
        cpp.choose_threads_per_node = options->choose_threads_per_node != 0;
      // NOLINTNEXTLINE(bugprone-sizeof-expression): the field is a pointer; its size is meant.
      if (has(offsetof(ph_engine_options, thread_pool), sizeof options->thread_pool) &&
          options->thread_pool)
        cpp.thread_pool = options->thread_pool->pool;
      if (has(offsetof(ph_engine_options, parallel_heads), sizeof options->parallel_heads)) {
        const long long mode = raw_enum(options->parallel_heads);
        if (mode < PH_PARALLEL_HEADS_AUTO || mode > PH_PARALLEL_HEADS_ALWAYS) {
          char text[256];
          std::snprintf(text, sizeof text,
                        "%s: options->parallel_heads is %lld; expected PH_PARALLEL_HEADS_AUTO (0), "
                        "_NEVER (1) or _ALWAYS (2)",
                        fn, mode);
          return fail(PH_INVALID_ARGUMENT, text);
        }
        cpp.parallel_heads = static_cast<polyhead::ParallelHeads>(mode);
      }
      if (has(offsetof(ph_engine_options, sparse_weights), sizeof options->sparse_weights)) {
        const long long mode = raw_enum(options->sparse_weights);
        if (mode < PH_SPARSE_WEIGHTS_AUTO || mode > PH_SPARSE_WEIGHTS_DENSE) {
          char text[256];
          std::snprintf(text, sizeof text,
                        "%s: options->sparse_weights is %lld; expected PH_SPARSE_WEIGHTS_AUTO (0), "
                        "_SPARSE (1) or _DENSE (2)",
                        fn, mode);
          return fail(PH_INVALID_ARGUMENT, text);
        }
        cpp.sparse_weights = static_cast<polyhead::SparseWeights>(mode);
      }
      // A newer header's fields must be left at zero: this library cannot honour them.
      const auto* bytes = reinterpret_cast<const unsigned char*>(options);
      for (size_t i = sizeof(ph_engine_options); i < size; ++i) {
        if (bytes[i] != 0) {
          char text[256];
          std::snprintf(text, sizeof text,
                        "%s: options->struct_size is %zu but this library (%s) knows %zu bytes of "
                        "options, and byte %zu is set",
                        fn, size, PH_VERSION_STRING, sizeof(ph_engine_options), i);
          return fail(PH_UNSUPPORTED, text);
        }
      }
    }
    auto engine = polyhead::Engine::create(model->model, cpp);
    if (!engine.is_ok()) return fail(engine.status());
    *out = new ph_engine{std::move(engine).value()};
    return PH_OK;
  });
}

void ph_engine_free(ph_engine* engine) {
  delete engine;
}

ph_status ph_thread_pool_create(size_t threads, ph_thread_pool** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    auto pool = polyhead::ThreadPool::create(threads);
    if (!pool.is_ok()) return fail(pool.status());
    *out = new ph_thread_pool{std::move(pool).value()};
    return PH_OK;
  });
}

size_t ph_thread_pool_threads(const ph_thread_pool* pool) {
  return pool ? pool->pool.threads() : 0;
}

void ph_thread_pool_free(ph_thread_pool* pool) {
  delete pool;
}

// ---- Plans -----------------------------------------------------------------------------------

ph_status ph_plan_prepare(ph_engine* engine, const char* const* tasks, size_t count,
                          ph_plan** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!engine) return null_argument(fn, "engine");
    if (count && !tasks) return null_argument(fn, "tasks");
    std::vector<std::string> names;
    names.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      if (!tasks[i]) {
        char text[256];
        std::snprintf(text, sizeof text, "%s: argument 'tasks[%zu]' is NULL", fn, i);
        return fail(PH_INVALID_ARGUMENT, text);
      }
      names.emplace_back(tasks[i]);
    }
    auto plan = engine->engine.prepare(names);
    if (!plan.is_ok()) return fail(plan.status());
    polyhead::PlanInfo info = plan->info();
    *out = new ph_plan{std::move(plan).value(), std::move(info)};
    return PH_OK;
  });
}

void ph_plan_free(ph_plan* plan) {
  delete plan;
}

ph_status ph_plan_set_input(ph_plan* plan, const char* name, const float* data, size_t count) {
  return guarded(__func__, [&](const char* fn) {
    if (!plan) return null_argument(fn, "plan");
    if (!name) return null_argument(fn, "name");
    if (!data) return null_argument(fn, "data");
    const polyhead::Status status = plan->plan.set_input(name, data, count);
    return status.is_ok() ? PH_OK : fail(status);
  });
}

ph_status ph_plan_input_buffer(ph_plan* plan, const char* name, float** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (!plan) return null_argument(fn, "plan");
    if (!name) return null_argument(fn, "name");
    auto buffer = plan->plan.input_buffer(name);
    if (!buffer.is_ok()) return fail(buffer.status());
    *out = *buffer;
    return PH_OK;
  });
}

ph_status ph_plan_run(ph_plan* plan) {
  return guarded(__func__, [&](const char* fn) {
    if (!plan) return null_argument(fn, "plan");
    const polyhead::Status status = plan->plan.run();
    return status.is_ok() ? PH_OK : fail(status);
  });
}

ph_status ph_plan_run_tasks(ph_plan* plan, const char* const* tasks, size_t count) {
  return guarded(__func__, [&](const char* fn) {
    if (!plan) return null_argument(fn, "plan");
    if (count && !tasks) return null_argument(fn, "tasks");
    const polyhead::Status status = plan->plan.run(tasks, count);
    return status.is_ok() ? PH_OK : fail(status);
  });
}

ph_status ph_plan_output(const ph_plan* plan, const char* task, const char* output,
                         ph_tensor* out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    std::memset(out, 0, sizeof *out);
    if (!plan) return null_argument(fn, "plan");
    if (!task) return null_argument(fn, "task");
    if (!output) return null_argument(fn, "output");
    auto view = plan->plan.output(task, output);
    if (!view.is_ok()) return fail(view.status());
    out->data = view->data;
    out->rank = view->shape.rank();
    for (size_t i = 0; i < out->rank; ++i) out->dims[i] = view->shape[i];
    out->type = static_cast<ph_element_type>(view->type);
    return PH_OK;
  });
}

ph_status ph_plan_get_info(const ph_plan* plan, ph_plan_info* info) {
  if (!plan) return null_argument(__func__, "plan");
  if (!info) return null_argument(__func__, "info");
  const size_t size = info->struct_size;
  if (size < sizeof(size_t)) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "%s: info->struct_size is %zu; set it to sizeof(ph_plan_info) before the call",
                  __func__, size);
    return fail(PH_INVALID_ARGUMENT, text);
  }
  ph_plan_info full;
  full.struct_size = size < sizeof full ? size : sizeof full;
  full.nodes = plan->info.nodes;
  full.arena_bytes = plan->info.arena_bytes;
  full.arena_lower_bound_bytes = plan->info.arena_lower_bound_bytes;
  full.task_count = plan->info.tasks.size();
  full.parallel_head_groups = plan->info.parallel_head_groups;
  // kAuto decides over the plan's first runs, so this one is read now, not at prepare.
  full.heads_in_parallel = plan->plan.heads_in_parallel() ? 1 : 0;
  // Write only what the caller's struct holds; leave bytes past our struct untouched.
  std::memcpy(info, &full, full.struct_size);
  return PH_OK;
}

const char* ph_plan_task_name(const ph_plan* plan, size_t task) {
  if (!plan) {
    null_argument(__func__, "plan");
    return nullptr;
  }
  if (task >= plan->info.tasks.size()) {
    index_error(__func__, "task", task, plan->info.tasks.size());
    return nullptr;
  }
  return plan->info.tasks[task].c_str();
}

size_t ph_plan_last_run_nodes(const ph_plan* plan) {
  if (!plan) {
    null_argument(__func__, "plan");
    return 0;
  }
  return plan->plan.last_run_nodes();
}

// ---- Camera frames and caller-owned outputs --------------------------------------------------

static_assert(static_cast<int>(polyhead::PixelFormat::kNv12) == PH_PIXEL_NV12, "formats drifted");

const char* ph_pixel_format_name(ph_pixel_format format) {
  const long long value = raw_enum(format);
  if (value < 0 || value > PH_PIXEL_NV12) return "unknown pixel format";
  return polyhead::to_string(static_cast<polyhead::PixelFormat>(value));
}

void ph_image_transform_to_image(const ph_image_transform* transform, float model_x, float model_y,
                                 float* image_x, float* image_y) {
  if (!transform || !image_x || !image_y) {
    null_argument(__func__, !transform ? "transform" : !image_x ? "image_x" : "image_y");
    return;
  }
  *image_x = (model_x - transform->offset_x) / transform->scale_x;
  *image_y = (model_y - transform->offset_y) / transform->scale_y;
}

ph_status ph_plan_set_input_pixels(ph_plan* plan, const char* name, const uint8_t* data,
                                   size_t bytes, int32_t width, int32_t height, size_t stride,
                                   ph_pixel_format format, ph_image_transform* transform) {
  return guarded(__func__, [&](const char* fn) {
    if (!plan) return null_argument(fn, "plan");
    if (!name) return null_argument(fn, "name");
    if (!data) return null_argument(fn, "data");
    if (bytes == 0)
      return fail(PH_INVALID_ARGUMENT,
                  "ph_plan_set_input_pixels: bytes is 0 (pass the size of "
                  "the frame buffer)");
    polyhead::PixelImage frame;
    frame.data = data;
    frame.bytes = bytes;
    frame.width = width;
    frame.height = height;
    frame.stride = stride;
    // Out-of-range values reach the converter as they are (it names them); int is wide enough.
    frame.format = static_cast<polyhead::PixelFormat>(static_cast<int>(raw_enum(format)));
    auto t = plan->plan.set_input_pixels(name, frame);
    if (!t.is_ok()) return fail(t.status());
    if (transform) {
      transform->image_width = t->image_width;
      transform->image_height = t->image_height;
      transform->model_width = t->model_width;
      transform->model_height = t->model_height;
      transform->scale_x = t->scale_x;
      transform->scale_y = t->scale_y;
      transform->offset_x = t->offset_x;
      transform->offset_y = t->offset_y;
    }
    return PH_OK;
  });
}

ph_status ph_plan_bind_output(ph_plan* plan, const char* task, const char* output, void* data,
                              size_t bytes) {
  return guarded(__func__, [&](const char* fn) {
    if (!plan) return null_argument(fn, "plan");
    if (!task) return null_argument(fn, "task");
    if (!output) return null_argument(fn, "output");
    const polyhead::Status status = plan->plan.bind_output(task, output, data, bytes);
    return status.is_ok() ? PH_OK : fail(status);
  });
}

}  // extern "C"

// ---- Frame scheduler -------------------------------------------------------------------------

struct ph_frame_scheduler {
  polyhead::FrameScheduler scheduler;
  // Stable C strings and indices for the accessors, fixed at creation.
  std::vector<std::string> labels;
  std::vector<std::string> task_names;  // plan by plan
  std::vector<size_t> task_plan;
  std::vector<size_t> task_index;
  const polyhead::FrameOutcome* last = nullptr;
};

namespace {

ph_status struct_size_error(const char* function, const char* argument, const char* type,
                            size_t size) {
  char text[256];
  std::snprintf(text, sizeof text, "%s: %s->struct_size is %zu; set it to sizeof(%s)", function,
                argument, size, type);
  return fail(PH_INVALID_ARGUMENT, text);
}

// Reads the caller's options (fields up to its struct_size; the rest keep their defaults).
ph_status read_scheduler_options(const char* fn, const ph_scheduler_options* options,
                                 polyhead::SchedulerOptions* cpp) {
  if (!options) return PH_OK;
  const size_t size = options->struct_size;
  if (size < sizeof(size_t))
    return struct_size_error(fn, "options",
                             "ph_scheduler_options (start from "
                             "ph_scheduler_options_default())",
                             size);
  const auto has = [size](size_t offset, size_t bytes) { return size >= offset + bytes; };
  if (has(offsetof(ph_scheduler_options, budget_ms), sizeof options->budget_ms))
    cpp->budget_ms = options->budget_ms;
  if (has(offsetof(ph_scheduler_options, max_deferrals), sizeof options->max_deferrals))
    cpp->max_deferrals = options->max_deferrals;
  uint64_t (*clock)(void*) = nullptr;
  void* context = nullptr;
  if (has(offsetof(ph_scheduler_options, clock), sizeof options->clock)) clock = options->clock;
  if (has(offsetof(ph_scheduler_options, clock_context), sizeof options->clock_context))
    context = options->clock_context;
  if (clock) cpp->clock = [clock, context]() { return clock(context); };
  const auto* bytes = reinterpret_cast<const unsigned char*>(options);
  for (size_t i = sizeof(ph_scheduler_options); i < size; ++i)
    if (bytes[i] != 0) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "%s: options->struct_size is %zu but this library (%s) knows %zu bytes of "
                    "options, and byte %zu is set",
                    fn, size, PH_VERSION_STRING, sizeof(ph_scheduler_options), i);
      return fail(PH_UNSUPPORTED, text);
    }
  return PH_OK;
}

const ph_frame_scheduler* scheduler_or_null(const char* function,
                                            const ph_frame_scheduler* scheduler) {
  if (!scheduler) null_argument(function, "scheduler");
  return scheduler;
}

}  // namespace

extern "C" {

ph_scheduler_options ph_scheduler_options_default(void) {
  const polyhead::SchedulerOptions defaults;
  ph_scheduler_options options;
  std::memset(&options, 0, sizeof options);
  options.struct_size = sizeof(ph_scheduler_options);
  options.budget_ms = defaults.budget_ms;
  options.max_deferrals = defaults.max_deferrals;
  options.clock = nullptr;
  options.clock_context = nullptr;
  return options;
}

ph_status ph_frame_scheduler_create(const ph_scheduled_plan* plans, size_t plan_count,
                                    const ph_scheduler_options* options, ph_frame_scheduler** out) {
  return guarded(__func__, [&](const char* fn) {
    if (!out) return null_argument(fn, "out");
    *out = nullptr;
    if (plan_count && !plans) return null_argument(fn, "plans");
    polyhead::SchedulerOptions cpp_options;
    const ph_status read = read_scheduler_options(fn, options, &cpp_options);
    if (read != PH_OK) return read;
    std::vector<polyhead::ScheduledPlan> cpp_plans;
    std::vector<std::string> labels, task_names;
    std::vector<size_t> task_plan, task_index;
    for (size_t p = 0; p < plan_count; ++p) {
      const ph_scheduled_plan& given = plans[p];
      char text[256];
      if (!given.label || !given.plan) {
        std::snprintf(text, sizeof text, "%s: argument 'plans[%zu].%s' is NULL", fn, p,
                      !given.label ? "label" : "plan");
        return fail(PH_INVALID_ARGUMENT, text);
      }
      if (given.task_count && !given.tasks) {
        std::snprintf(text, sizeof text,
                      "%s: argument 'plans[%zu].tasks' is NULL but task_count is %zu", fn, p,
                      given.task_count);
        return fail(PH_INVALID_ARGUMENT, text);
      }
      polyhead::ScheduledPlan plan{given.label, given.plan->plan, {}};
      for (size_t t = 0; t < given.task_count; ++t) {
        const ph_task_schedule& task = given.tasks[t];
        if (!task.task) {
          std::snprintf(text, sizeof text, "%s: argument 'plans[%zu].tasks[%zu].task' is NULL", fn,
                        p, t);
          return fail(PH_INVALID_ARGUMENT, text);
        }
        polyhead::TaskSchedule schedule(task.task, task.every_n_frames, task.rate_hz);
        if (task.has_priority) schedule.priority = task.priority;
        schedule.deadline_ms = task.deadline_ms;
        plan.tasks.push_back(std::move(schedule));
      }
      labels.emplace_back(given.label);
      for (size_t k = 0; k < given.plan->info.tasks.size(); ++k) {
        task_names.push_back(given.plan->info.tasks[k]);
        task_plan.push_back(p);
        task_index.push_back(k);
      }
      cpp_plans.push_back(std::move(plan));
    }
    auto scheduler = polyhead::FrameScheduler::create(std::move(cpp_plans), cpp_options);
    if (!scheduler.is_ok()) return fail(scheduler.status());
    *out = new ph_frame_scheduler{std::move(scheduler).value(), std::move(labels),
                                  std::move(task_names),        std::move(task_plan),
                                  std::move(task_index),        nullptr};
    return PH_OK;
  });
}

void ph_frame_scheduler_free(ph_frame_scheduler* scheduler) {
  delete scheduler;
}

ph_status ph_frame_scheduler_run_frame(ph_frame_scheduler* scheduler, uint64_t arrival_ns,
                                       ph_frame_outcome* out) {
  return guarded(__func__, [&](const char* fn) {
    if (!scheduler) return null_argument(fn, "scheduler");
    if (out && !check_out_struct(fn, "out", "ph_frame_outcome", out->struct_size))
      return PH_INVALID_ARGUMENT;
    auto outcome = scheduler->scheduler.run_frame(arrival_ns);
    if (!outcome.is_ok()) return fail(outcome.status());
    scheduler->last = *outcome;
    if (out) {
      const polyhead::FrameOutcome& o = **outcome;
      ph_frame_outcome full;
      std::memset(&full, 0, sizeof full);
      full.frame = o.frame;
      full.arrival_ns = o.arrival_ns;
      full.finished_ns = o.finished_ns;
      full.estimated_ns = o.estimated_ns;
      full.over_budget = o.over_budget ? 1 : 0;
      write_out_struct(full, out);
    }
    return PH_OK;
  });
}

ph_status ph_frame_scheduler_frame_tasks(const ph_frame_scheduler* scheduler, size_t plan,
                                         uint64_t* ran, uint64_t* deferred) {
  if (!scheduler_or_null(__func__, scheduler)) return PH_INVALID_ARGUMENT;
  if (plan >= scheduler->labels.size())
    return index_error(__func__, "plan", plan, scheduler->labels.size());
  const polyhead::FrameOutcome* last = scheduler->last;
  if (ran) *ran = last ? last->ran_tasks[plan] : 0;
  if (deferred) *deferred = last ? last->deferred_tasks[plan] : 0;
  return PH_OK;
}

ph_status ph_frame_scheduler_count_dropped_frame(ph_frame_scheduler* scheduler) {
  if (!scheduler) return null_argument(__func__, "scheduler");
  scheduler->scheduler.count_dropped_frame();
  return PH_OK;
}

size_t ph_frame_scheduler_plan_count(const ph_frame_scheduler* scheduler) {
  return scheduler_or_null(__func__, scheduler) ? scheduler->labels.size() : 0;
}

size_t ph_frame_scheduler_task_count(const ph_frame_scheduler* scheduler) {
  return scheduler_or_null(__func__, scheduler) ? scheduler->task_names.size() : 0;
}

ph_status ph_frame_scheduler_task_stats(const ph_frame_scheduler* scheduler, size_t task,
                                        ph_task_stats* out) {
  return guarded(__func__, [&](const char* fn) {
    if (!scheduler) return null_argument(fn, "scheduler");
    if (!out) return null_argument(fn, "out");
    if (!check_out_struct(fn, "out", "ph_task_stats", out->struct_size)) return PH_INVALID_ARGUMENT;
    if (task >= scheduler->task_names.size())
      return index_error(fn, "task", task, scheduler->task_names.size());
    const polyhead::StreamStats stats = scheduler->scheduler.stats();
    const polyhead::TaskStats& t = stats.tasks[task];
    ph_task_stats full;
    std::memset(&full, 0, sizeof full);
    full.plan = scheduler->labels[scheduler->task_plan[task]].c_str();
    full.task = scheduler->task_names[task].c_str();
    full.plan_index = scheduler->task_plan[task];
    full.task_index = scheduler->task_index[task];
    full.every_n_frames = t.every_n_frames;
    full.rate_hz = t.rate_hz;
    full.priority = t.priority;
    full.deadline_ms = t.deadline_ms;
    full.runs = t.runs;
    full.skips = t.skips;
    full.deadline_misses = t.deadline_misses;
    full.latency_p50_ms = t.latency_p50_ms;
    full.latency_p90_ms = t.latency_p90_ms;
    full.latency_p99_ms = t.latency_p99_ms;
    full.latency_max_ms = t.latency_max_ms;
    full.estimated_cost_ms = t.estimated_cost_ms;
    full.estimated_shared_ms = t.estimated_shared_ms;
    write_out_struct(full, out);
    return PH_OK;
  });
}

ph_status ph_frame_scheduler_stream_stats(const ph_frame_scheduler* scheduler,
                                          ph_stream_stats* out) {
  return guarded(__func__, [&](const char* fn) {
    if (!scheduler) return null_argument(fn, "scheduler");
    if (!out) return null_argument(fn, "out");
    if (!check_out_struct(fn, "out", "ph_stream_stats", out->struct_size))
      return PH_INVALID_ARGUMENT;
    const polyhead::StreamStats stats = scheduler->scheduler.stats();
    ph_stream_stats full;
    std::memset(&full, 0, sizeof full);
    full.frames_in = stats.frames_in;
    full.frames_processed = stats.frames_processed;
    full.frames_dropped = stats.frames_dropped;
    full.frames_over_budget = stats.frames_over_budget;
    full.seconds = stats.seconds;
    full.throughput_fps = stats.throughput_fps;
    full.frame_latency_p50_ms = stats.frame_latency_p50_ms;
    full.frame_latency_p90_ms = stats.frame_latency_p90_ms;
    full.frame_latency_p99_ms = stats.frame_latency_p99_ms;
    write_out_struct(full, out);
    return PH_OK;
  });
}

}  // extern "C"
