#include "cli/execute.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "cli/format.h"
#include "cli/heads_summary.h"
#include "cli/json.h"
#include "polyhead/engine.h"

namespace polyhead::cli {
namespace {

namespace fs = std::filesystem;

bool host_is_little_endian() {
  const uint16_t one = 1;
  uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

void swap_bytes_f32(float* data, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    uint8_t b[4];
    std::memcpy(b, data + i, 4);
    std::swap(b[0], b[3]);
    std::swap(b[1], b[2]);
    std::memcpy(data + i, b, 4);
  }
}

std::string size_text(const InputInfo& in) {
  const uint64_t n = static_cast<uint64_t>(in.shape.elements());
  return std::to_string(n) + " float32 values (" + std::to_string(n * 4) + " bytes)";
}

// Reads `path` straight into the plan's input buffer after checking its size.
Status read_input(const InputInfo& in, const std::string& path, float* dst) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return Status(ErrorCode::kNotFound,
                  "input '" + in.name + "': file '" + path + "' does not exist");
  if (!fs::is_regular_file(st))
    return Status(ErrorCode::kIoError,
                  "input '" + in.name + "': '" + path + "' is not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  const uint64_t expected = static_cast<uint64_t>(in.shape.elements()) * 4;
  if (ec)
    return Status(ErrorCode::kIoError,
                  "input '" + in.name + "': cannot read the size of '" + path + "'");
  if (size != expected)
    return Status(ErrorCode::kInvalidArgument, "input '" + in.name + "' of shape " +
                                                   in.shape.to_string() + " expects " +
                                                   size_text(in) + ", but '" + path + "' has " +
                                                   std::to_string(size) + " bytes");
  std::ifstream file(path, std::ios::binary);
  if (!file || !file.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(expected)))
    return Status(ErrorCode::kIoError, "input '" + in.name + "': failed reading '" + path + "'");
  if (!host_is_little_endian()) swap_bytes_f32(dst, expected / 4);
  return Status::ok();
}

std::string quoted_names(const std::vector<InputInfo>& inputs) {
  std::vector<std::string> names;
  names.reserve(inputs.size());
  for (const InputInfo& in : inputs) names.push_back("'" + in.name + "'");
  return join(names, ", ");
}

// Matches the --input files to the model's inputs and fills the plan's input buffers.
Status load_inputs(const Model& model, Plan& plan, const std::vector<InputFile>& files) {
  for (size_t i = 0; i < files.size(); ++i) {
    for (size_t k = 0; k < i; ++k)
      if (files[k].name == files[i].name)
        return Status(ErrorCode::kInvalidArgument,
                      "input '" + files[i].name + "' is given more than once");
    const auto& inputs = model.inputs();
    auto it = std::find_if(inputs.begin(), inputs.end(),
                           [&](const InputInfo& in) { return in.name == files[i].name; });
    if (it == inputs.end())
      return Status(ErrorCode::kNotFound, "unknown input '" + files[i].name +
                                              "'; the model's inputs are " + quoted_names(inputs));
    if (it->type != ElementType::kF32)
      return Status(ErrorCode::kUnsupported, "input '" + it->name + "' has element type " +
                                                 element_type_name(it->type) +
                                                 "; only f32 files are read");
    PH_ASSIGN_OR_RETURN(float* dst, plan.input_buffer(it->name));
    PH_RETURN_IF_ERROR(read_input(*it, files[i].path, dst));
  }
  for (const InputInfo& in : model.inputs()) {
    bool given = false;
    for (const InputFile& f : files) given = given || f.name == in.name;
    // input_buffer() succeeds only for inputs the plan reads: those must be given.
    if (!given && plan.input_buffer(in.name).is_ok())
      return Status(ErrorCode::kInvalidArgument, "missing input '" + in.name + "': pass --input " +
                                                     in.name + "=FILE with " + size_text(in) +
                                                     " of shape " + in.shape.to_string());
  }
  return Status::ok();
}

struct Stats {
  double min = 0, max = 0, mean = 0;
  size_t nonfinite = 0;
};

Stats stats_of(const float* v, size_t n) {
  Stats s;
  s.min = INFINITY;
  s.max = -INFINITY;
  double sum = 0;
  size_t finite = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      ++s.nonfinite;
      continue;
    }
    s.min = std::min<double>(s.min, v[i]);
    s.max = std::max<double>(s.max, v[i]);
    sum += v[i];
    ++finite;
  }
  if (finite == 0) s.min = s.max = NAN;
  s.mean = finite ? sum / static_cast<double>(finite) : NAN;
  return s;
}

// Indices of the k largest values, largest first.
std::vector<size_t> top_k(const float* v, size_t n, size_t k) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  k = std::min(k, n);
  auto key = [v](size_t i) { return std::isnan(v[i]) ? -INFINITY : v[i]; };
  std::partial_sort(
      idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
      [&](size_t a, size_t b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
  idx.resize(k);
  return idx;
}

void print_classification(const TensorView& v) {
  const size_t classes = static_cast<size_t>(v.shape[v.shape.rank() - 1]);
  std::string line;
  for (size_t i : top_k(v.f32(), classes, 5))
    line += (line.empty() ? "" : "  ") + std::to_string(i) + " (" + format_float(v.f32()[i]) + ")";
  std::printf("      top-5: %s\n", line.c_str());
}

// Share of pixels whose highest channel is each class, for NHWC masks.
void print_segmentation(const TensorView& v) {
  if (v.shape.rank() != 4 || v.shape[3] < 2) return;
  const size_t classes = static_cast<size_t>(v.shape[3]);
  const size_t pixels = static_cast<size_t>(v.shape.elements()) / classes;
  std::vector<float> share(classes, 0.f);
  for (size_t p = 0; p < pixels; ++p) share[top_k(v.f32() + p * classes, classes, 1)[0]] += 1.f;
  std::string line;
  for (size_t c : top_k(share.data(), classes, 3))
    if (share[c] > 0)
      line += (line.empty() ? "" : "  ") + std::string("class ") + std::to_string(c) + " " +
              format_float(100.0 * share[c] / static_cast<double>(pixels), 3) + "%";
  std::printf("      argmax pixels: %s\n", line.c_str());
}

// Best anchors for [1, anchors, classes] scores; class 0 is taken as background when there are
// several classes, as in SSD-style heads.
void print_detection_scores(const TensorView& v) {
  if (v.shape.rank() != 3 || v.shape[2] < 1) return;
  const size_t anchors = static_cast<size_t>(v.shape[1]), classes = static_cast<size_t>(v.shape[2]);
  const size_t first = classes > 1 ? 1 : 0;
  std::vector<float> best(anchors);
  std::vector<size_t> best_class(anchors);
  for (size_t a = 0; a < anchors; ++a) {
    const float* row = v.f32() + a * classes;
    best_class[a] = first + top_k(row + first, classes - first, 1)[0];
    best[a] = row[best_class[a]];
  }
  std::string line;
  for (size_t a : top_k(best.data(), anchors, 3))
    line += (line.empty() ? "" : "  ") + std::string("anchor ") + std::to_string(a) + " class " +
            std::to_string(best_class[a]) + " (" + format_float(best[a]) + ")";
  std::printf("      best anchors%s: %s\n", first ? " (class 0 = background)" : "", line.c_str());
}

std::string file_safe(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return s;
}

Status write_bytes(const fs::path& path, const void* data, size_t bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out) return Status(ErrorCode::kIoError, "cannot write '" + path.string() + "'");
  return Status::ok();
}

// Writes each output as raw little-endian data plus an index that names file, shape and type.
Status make_directory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    return Status(ErrorCode::kIoError, "cannot create dump directory '" + dir + "'");
  return Status::ok();
}

Status dump_outputs(const Model& model, const Plan& plan, const ExecuteOptions& o,
                    double latency_ms) {
  PH_RETURN_IF_ERROR(make_directory(o.dump_dir));
  JsonWriter j;
  j.begin_object().field("model", o.model_path).field("latency_ms", latency_ms);
  j.key("outputs").begin_array();
  const PlanInfo info = plan.info();
  for (const TaskInfo& task : model.tasks()) {
    if (std::find(info.tasks.begin(), info.tasks.end(), task.name) == info.tasks.end()) continue;
    for (const TaskOutputInfo& out : task.outputs) {
      PH_ASSIGN_OR_RETURN(TensorView v, plan.output(task.name, out.name));
      const std::string file =
          file_safe(task.name) + "." + file_safe(out.name) + "." + element_type_name(v.type);
      std::vector<uint8_t> bytes(static_cast<const uint8_t*>(v.data),
                                 static_cast<const uint8_t*>(v.data) + v.bytes());
      if (!host_is_little_endian() && element_size(v.type) == 4)
        swap_bytes_f32(reinterpret_cast<float*>(bytes.data()), bytes.size() / 4);
      PH_RETURN_IF_ERROR(write_bytes(fs::path(o.dump_dir) / file, bytes.data(), bytes.size()));
      j.begin_object()
          .field("task", task.name)
          .field("output", out.name)
          .field("shape", v.shape)
          .field("type", element_type_name(v.type))
          .field("file", file)
          .field("bytes", static_cast<uint64_t>(v.bytes()))
          .end_object();
    }
  }
  j.end_array().end_object();
  const std::string text = j.str() + "\n";
  PH_RETURN_IF_ERROR(write_bytes(fs::path(o.dump_dir) / "outputs.json", text.data(), text.size()));
  std::printf("\nwrote outputs and outputs.json to %s\n", o.dump_dir.c_str());
  return Status::ok();
}

}  // namespace

Status execute_and_report(const Model& model, const ExecuteOptions& o) {
  EngineOptions eo;
  eo.threads = o.threads;
  eo.precision = o.precision;
  eo.parallel_heads = o.parallel_heads;
  eo.sparse_weights = o.sparse_weights;
  PH_ASSIGN_OR_RETURN(Engine engine, Engine::create(model, eo));
  PH_ASSIGN_OR_RETURN(Plan plan, engine.prepare(o.tasks));
  PH_RETURN_IF_ERROR(load_inputs(model, plan, o.inputs));
  // Fail before running rather than after printing results.
  if (!o.dump_dir.empty()) PH_RETURN_IF_ERROR(make_directory(o.dump_dir));

  std::vector<double> ms;
  for (int i = 0; i < std::max(1, o.repeat); ++i) {
    const auto start = std::chrono::steady_clock::now();
    PH_RETURN_IF_ERROR(plan.run());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  const PlanInfo info = plan.info();
  std::printf("model    %s\n", o.model_path.c_str());
  std::printf("tasks    %s (one pass, %zu nodes, %zu thread%s, %s)\n",
              join(info.tasks, ", ").c_str(), info.nodes, engine.stats().threads,
              engine.stats().threads == 1 ? "" : "s", precision_name(o.precision));
  std::printf("latency  %.3f ms (first run)", ms[0]);
  if (ms.size() > 1) {
    std::vector<double> rest(ms.begin() + 1, ms.end());
    std::sort(rest.begin(), rest.end());
    std::printf("; median %.3f ms, min %.3f ms over %zu more runs", rest[rest.size() / 2],
                rest.front(), rest.size());
  }
  std::printf("\narena    %s\n", format_bytes(info.arena_bytes).c_str());
  if (o.report_heads)
    std::printf("heads    %s\n", heads_summary(info.parallel_head_groups, info.heads_in_parallel,
                                               o.parallel_heads, engine.stats().threads)
                                     .c_str());

  for (const TaskInfo& task : model.tasks()) {
    if (std::find(info.tasks.begin(), info.tasks.end(), task.name) == info.tasks.end()) continue;
    std::printf("\n%s (%s)\n", task.name.c_str(), to_string(task.kind));
    for (const TaskOutputInfo& out : task.outputs) {
      PH_ASSIGN_OR_RETURN(TensorView v, plan.output(task.name, out.name));
      std::printf("  %-8s %-16s %s", out.name.c_str(), v.shape.to_string().c_str(),
                  element_type_name(v.type));
      if (!v.f32()) {
        std::printf("\n");
        continue;
      }
      const size_t n = static_cast<size_t>(v.shape.elements());
      const Stats s = stats_of(v.f32(), n);
      std::printf("  min %s  max %s  mean %s", format_float(s.min).c_str(),
                  format_float(s.max).c_str(), format_float(s.mean).c_str());
      if (s.nonfinite) std::printf("  non-finite %zu", s.nonfinite);
      std::printf("\n");
      if (n == 0 || v.shape.rank() == 0) continue;
      if (task.kind == TaskKind::kClassification) print_classification(v);
      if (task.kind == TaskKind::kSegmentation) print_segmentation(v);
      if (task.kind == TaskKind::kDetection && out.name == "scores") print_detection_scores(v);
    }
  }
  if (!o.dump_dir.empty()) PH_RETURN_IF_ERROR(dump_outputs(model, plan, o, ms[0]));
  return Status::ok();
}

}  // namespace polyhead::cli
