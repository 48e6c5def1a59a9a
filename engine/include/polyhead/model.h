// Model: a verified, validated .phm file, memory-mapped (or in a caller's buffer) and read in
// place. Cheap to copy: copies share the same bytes. Immutable, so it can be shared by threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "polyhead/model_enums.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"

namespace polyhead {

namespace detail {
struct ModelData;
}

// The pre-processing an input expects: value = (pixel / 255 * pixel_scale - mean[c]) / std[c].
struct Preprocess {
  int width = 0;
  int height = 0;
  Layout layout = Layout::kNhwc;
  ColorOrder color = ColorOrder::kRgb;
  std::vector<float> mean;
  std::vector<float> std;
  float pixel_scale = 255.f;
  ImageFit fit = ImageFit::kStretch;  // how images of other sizes are fitted
};

struct InputInfo {
  std::string name;
  Shape shape;
  ElementType type = ElementType::kF32;
  Preprocess preprocess;
};

struct TaskOutputInfo {
  std::string name;    // the output's name within its task
  std::string tensor;  // the model tensor it reads
  Shape shape;
  ElementType type = ElementType::kF32;
};

// How a task's raw outputs are turned into results (read by post-processing and the tools).
struct PostProcessInfo {
  OutputActivation activation = OutputActivation::kNone;
  std::vector<std::string> labels;
  float score_threshold = 0.5f;
  float nms_iou = 0.45f;
  int max_detections = 100;
  std::vector<float> anchors;  // 4 per anchor: centre y, centre x, height, width (normalised)
};

struct TaskInfo {
  std::string name;
  TaskKind kind = TaskKind::kOther;
  std::vector<TaskOutputInfo> outputs;
  int priority = 0;
  int rate = 1;
  PostProcessInfo postprocess;
};

class Model {
 public:
  // Maps the file read-only; the mapping lives as long as any copy of the Model or engine using it.
  // The file must not change in place while the model lives (replacing it by renaming a new file
  // over it is safe): Engine::create and prepare refuse a file that changed since it was loaded,
  // and one truncated while a plan runs may stop the process with SIGBUS (docs/reliability.md).
  static Result<Model> load_file(const std::string& path);
  // Reads the file into memory the Model owns: no mapping, so later changes to the file do not
  // matter, at the cost of a copy of the whole file in memory.
  static Result<Model> read_file(const std::string& path);
  // Reads a caller-owned buffer in place: it must stay valid and unchanged while the Model (or an
  // engine made from it) lives, and start at a 64-byte aligned address.
  static Result<Model> from_buffer(const void* data, size_t size);
  // Copies `bytes` into aligned memory the Model owns (for models built or received in memory).
  static Result<Model> from_bytes(const std::vector<uint8_t>& bytes);
  static Result<Model> from_bytes(const void* data, size_t size);

  const std::vector<InputInfo>& inputs() const;
  const std::vector<TaskInfo>& tasks() const;
  uint32_t format_version_major() const;
  uint32_t format_version_minor() const;
  std::string producer() const;
  std::string description() const;
  // Value of a metadata entry, empty when absent.
  std::string metadata(const std::string& key) const;
  size_t file_bytes() const;
  // The verified file bytes (a FlatBuffer with identifier PHM1, see docs/format.md), for tools.
  const uint8_t* bytes() const;

  const detail::ModelData& data() const { return *data_; }

 private:
  explicit Model(std::shared_ptr<const detail::ModelData> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::ModelData> data_;
};

}  // namespace polyhead
