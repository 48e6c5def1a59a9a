#include "support/test_models.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace polyhead::testing {

std::vector<float> random_values(size_t count, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

int random_constant(ModelBuilder& b, const std::string& name, const Shape& shape, uint32_t seed,
                    float scale) {
  return b.add_constant(name, shape,
                        random_values(static_cast<size_t>(shape.elements()), seed, scale));
}

AlignedBytes::AlignedBytes(const std::vector<uint8_t>& bytes)
    : data(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes.size() + 64) / 64 * 64)),
           &std::free),
      size(bytes.size()) {
  if (!data) throw std::bad_alloc();
  if (!bytes.empty()) std::memcpy(data.get(), bytes.data(), bytes.size());
}

std::string write_temp_file(const std::vector<uint8_t>& bytes, const std::string& name) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

namespace {
int must(Result<int> r) {
  if (!r.is_ok()) throw std::runtime_error(r.status().to_string());
  return *r;
}
}  // namespace

std::vector<uint8_t> tiny_two_task_model() {
  ModelBuilder b;
  const int x = b.add_input("image", Shape{1, 8, 8, 3});
  Conv2DParams c;
  c.pad_top = c.pad_left = c.pad_bottom = c.pad_right = 1;
  c.activation = Activation::relu6();
  const int w0 = random_constant(b, "stem.w", Shape{4, 3, 3, 3}, 1, 0.5f);
  const int b0 = random_constant(b, "stem.b", Shape{4}, 2, 0.1f);
  const int stem = must(b.conv2d("stem", x, w0, b0, c));
  const int pooled = must(b.mean("classify.pool", stem, false));
  const int fw = random_constant(b, "classify.w", Shape{5, 4}, 3, 0.5f);
  const int logits = must(b.fully_connected("classify.fc", pooled, fw, -1));
  Conv2DParams s;
  const int sw = random_constant(b, "segment.w", Shape{2, 1, 1, 4}, 4, 0.5f);
  const int mask = must(b.conv2d("segment.conv", stem, sw, -1, s));
  if (!b.add_task("classify", TaskKind::kClassification, {{"logits", logits}}).is_ok() ||
      !b.add_task("segment", TaskKind::kSegmentation, {{"mask", mask}}).is_ok())
    throw std::runtime_error("add_task failed");
  auto bytes = b.finish();
  if (!bytes.is_ok()) throw std::runtime_error(bytes.status().to_string());
  return *bytes;
}

}  // namespace polyhead::testing
