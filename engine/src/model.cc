#include "polyhead/model.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "model_data.h"

namespace polyhead {

namespace detail {
ModelData::~ModelData() {
  if (mapping) munmap(mapping, mapping_size);
  std::free(owned);
}
}  // namespace detail

Result<Model> Model::load_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status(ErrorCode::kIoError, "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(ErrorCode::kIoError, "'" + path + "' is not a regular file");
  }
  auto data = std::make_shared<detail::ModelData>();
  const auto size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return Status(ErrorCode::kIoError, "cannot map '" + path + "': " + std::strerror(err));
    }
    data->mapping = map;
    data->mapping_size = size;
    data->bytes = static_cast<const uint8_t*>(map);
  }
  ::close(fd);
  data->size = size;
  Status status = detail::validate_model(*data);
  if (!status.is_ok()) return Status(status.code(), "'" + path + "': " + status.message());
  return Model(std::move(data));
}

Result<Model> Model::from_buffer(const void* bytes, size_t size) {
  if (!bytes && size) return Status(ErrorCode::kInvalidArgument, "model buffer is null");
  if (reinterpret_cast<uintptr_t>(bytes) % 64 != 0)
    return Status(ErrorCode::kInvalidArgument,
                  "model buffer must start at a 64-byte aligned address so weights can be read in "
                  "place; it starts at offset " +
                      std::to_string(reinterpret_cast<uintptr_t>(bytes) % 64) +
                      " of a 64-byte line");
  auto data = std::make_shared<detail::ModelData>();
  data->bytes = static_cast<const uint8_t*>(bytes);
  data->size = size;
  PH_RETURN_IF_ERROR(detail::validate_model(*data));
  return Model(std::move(data));
}

Result<Model> Model::from_bytes(const std::vector<uint8_t>& bytes) {
  auto data = std::make_shared<detail::ModelData>();
  const size_t capacity = (std::max<size_t>(bytes.size(), 1) + 63) / 64 * 64;
  data->owned = std::aligned_alloc(64, capacity);
  if (!data->owned)
    return Status(ErrorCode::kOutOfMemory,
                  "cannot allocate " + std::to_string(capacity) + " bytes");
  if (!bytes.empty()) std::memcpy(data->owned, bytes.data(), bytes.size());
  data->bytes = static_cast<const uint8_t*>(data->owned);
  data->size = bytes.size();
  PH_RETURN_IF_ERROR(detail::validate_model(*data));
  return Model(std::move(data));
}

const std::vector<InputInfo>& Model::inputs() const {
  return data_->inputs;
}
const std::vector<TaskInfo>& Model::tasks() const {
  return data_->tasks;
}
uint32_t Model::format_version_major() const {
  return data_->root->format_version_major();
}
uint32_t Model::format_version_minor() const {
  return data_->root->format_version_minor();
}
std::string Model::producer() const {
  return data_->root->producer() ? data_->root->producer()->str() : std::string();
}
std::string Model::description() const {
  return data_->root->description() ? data_->root->description()->str() : std::string();
}
std::string Model::metadata(const std::string& key) const {
  if (const auto* md = data_->root->metadata())
    for (const auto* entry : *md)
      if (entry->key()->str() == key) return entry->value() ? entry->value()->str() : std::string();
  return {};
}
size_t Model::file_bytes() const {
  return data_->size;
}
const uint8_t* Model::bytes() const {
  return data_->bytes;
}

}  // namespace polyhead
