// Model: a verified, validated .phm file, memory-mapped (or in a caller's buffer) and read in
// place. Cheap to copy: copies share the same bytes. Immutable, so it can be shared by threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  std::string layout = "NHWC";  // NHWC or NCHW
  std::string color = "RGB";    // RGB, BGR, GRAY or NONE
  std::vector<float> mean;
  std::vector<float> std;
  float pixel_scale = 255.f;
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

struct TaskInfo {
  std::string name;
  std::string kind;  // classification, detection, segmentation, landmarks, regression, embedding, other
  std::vector<TaskOutputInfo> outputs;
  int priority = 0;
  int rate = 1;
};

class Model {
 public:
  // Maps the file read-only; the mapping lives as long as any copy of the Model or engine using it.
  static Result<Model> load_file(const std::string& path);
  // Reads a caller-owned buffer in place: it must stay valid and unchanged while the Model (or an
  // engine made from it) lives, and start at a 64-byte aligned address.
  static Result<Model> from_buffer(const void* data, size_t size);

  const std::vector<InputInfo>& inputs() const;
  const std::vector<TaskInfo>& tasks() const;
  uint32_t format_version_major() const;
  uint32_t format_version_minor() const;
  std::string producer() const;
  std::string description() const;
  // Value of a metadata entry, empty when absent.
  std::string metadata(const std::string& key) const;
  size_t file_bytes() const;

  const detail::ModelData& data() const { return *data_; }
  std::shared_ptr<const detail::ModelData> shared_data() const { return data_; }

 private:
  explicit Model(std::shared_ptr<const detail::ModelData> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::ModelData> data_;
};

}  // namespace polyhead
