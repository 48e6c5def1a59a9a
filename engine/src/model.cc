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
#include "out_of_memory.h"

namespace polyhead {

namespace detail {
ModelData::~ModelData() {
  if (mapping) munmap(mapping, mapping_size);
  if (file >= 0) ::close(file);
  std::free(owned);
}
}  // namespace detail

namespace {

detail::FileStamp stamp_of(const struct stat& st) {
  detail::FileStamp s;
  s.size = static_cast<uint64_t>(st.st_size);
  s.modified_seconds = static_cast<int64_t>(st.st_mtim.tv_sec);
  s.modified_nanoseconds = static_cast<int64_t>(st.st_mtim.tv_nsec);
  return s;
}

// Opens `path` for reading and checks that it is a regular file; the caller closes `*fd`.
Status open_regular_file(const std::string& path, int* fd, struct stat* st) {
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    const int err = errno;
    return Status(ErrorCode::kIoError, "cannot open '" + path + "': " + std::strerror(err));
  }
  if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
    ::close(*fd);
    *fd = -1;
    return Status(ErrorCode::kIoError, "'" + path + "' is not a regular file");
  }
  return Status::ok();
}

// 64-byte aligned memory for `size` bytes (at least one line), owned by `data`.
Status allocate_owned(detail::ModelData& data, size_t size) {
  const size_t capacity = (std::max<size_t>(size, 1) + 63) / 64 * 64;
  data.owned = std::aligned_alloc(64, capacity);
  if (!data.owned)
    return Status(ErrorCode::kOutOfMemory, "out of memory: cannot allocate " +
                                               std::to_string(capacity) + " bytes for the model");
  return Status::ok();
}

Status validate_file(detail::ModelData& data, const std::string& path) {
  Status status = detail::validate_model(data);
  if (!status.is_ok()) return Status(status.code(), "'" + path + "': " + status.message());
  return Status::ok();
}

}  // namespace

namespace detail {

Status check_file_unchanged(const ModelData& data) {
  if (data.file < 0) return Status::ok();
  struct stat st {};
  if (fstat(data.file, &st) != 0)
    return Status(ErrorCode::kIoError, "cannot check model file '" + data.path +
                                           "' for changes: " + std::strerror(errno));
  const FileStamp now = stamp_of(st);
  if (now == data.stamp) return Status::ok();
  const std::string what = now.size != data.stamp.size
                               ? "its size went from " + std::to_string(data.stamp.size) + " to " +
                                     std::to_string(now.size) + " bytes"
                               : std::string("it was written to (its modification time changed)");
  return Status(ErrorCode::kIoError,
                "model file '" + data.path + "' changed on disk after it was loaded: " + what +
                    ", so its verified bytes can no longer be trusted; load it again (replace "
                    "model files by renaming a new file over the old one, which leaves loaded "
                    "models untouched, or use Model::read_file)");
}

}  // namespace detail

Result<Model> Model::load_file(const std::string& path) {
  return detail::answer_out_of_memory("Model::load_file", [&]() -> Result<Model> {
    auto data = std::make_shared<detail::ModelData>();
    struct stat st {};
    PH_RETURN_IF_ERROR(open_regular_file(path, &data->file, &st));  // ~ModelData closes it
    const int fd = data->file;
    data->path = path;
    data->stamp = stamp_of(st);
    const auto size = static_cast<size_t>(st.st_size);
    if (size > 0) {
      void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        const int err = errno;
        return Status(ErrorCode::kIoError, "cannot map '" + path + "': " + std::strerror(err));
      }
      data->mapping = map;
      data->mapping_size = size;
      data->bytes = static_cast<const uint8_t*>(map);
    }
    data->size = size;
    PH_RETURN_IF_ERROR(validate_file(*data, path));
    return Model(std::move(data));
  });
}

Result<Model> Model::read_file(const std::string& path) {
  return detail::answer_out_of_memory("Model::read_file", [&]() -> Result<Model> {
    auto data = std::make_shared<detail::ModelData>();
    struct stat st {};
    // ~ModelData closes the file on every early return; it is closed below once read.
    PH_RETURN_IF_ERROR(open_regular_file(path, &data->file, &st));
    const int fd = data->file;
    const auto size = static_cast<size_t>(st.st_size);
    Status status = allocate_owned(*data, size);
    // Short reads end at EOF: a file that shrank while read fails verification as truncated.
    size_t got = 0;
    while (status.is_ok() && got < size) {
      const ssize_t n = ::read(fd, static_cast<uint8_t*>(data->owned) + got, size - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        status = Status(ErrorCode::kIoError, "cannot read '" + path + "': " + std::strerror(err));
      }
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    data->file = -1;
    PH_RETURN_IF_ERROR(status);
    data->bytes = static_cast<const uint8_t*>(data->owned);
    data->size = got;
    PH_RETURN_IF_ERROR(validate_file(*data, path));
    return Model(std::move(data));
  });
}

Result<Model> Model::from_buffer(const void* bytes, size_t size) {
  if (!bytes && size) return Status(ErrorCode::kInvalidArgument, "model buffer is null");
  if (reinterpret_cast<uintptr_t>(bytes) % 64 != 0)
    return Status(ErrorCode::kInvalidArgument,
                  "model buffer must start at a 64-byte aligned address so weights can be read in "
                  "place; it starts at offset " +
                      std::to_string(reinterpret_cast<uintptr_t>(bytes) % 64) +
                      " of a 64-byte line");
  return detail::answer_out_of_memory("Model::from_buffer", [&]() -> Result<Model> {
    auto data = std::make_shared<detail::ModelData>();
    data->bytes = static_cast<const uint8_t*>(bytes);
    data->size = size;
    PH_RETURN_IF_ERROR(detail::validate_model(*data));
    return Model(std::move(data));
  });
}

Result<Model> Model::from_bytes(const std::vector<uint8_t>& bytes) {
  return from_bytes(bytes.data(), bytes.size());
}

Result<Model> Model::from_bytes(const void* bytes, size_t size) {
  if (!bytes && size) return Status(ErrorCode::kInvalidArgument, "model bytes are null");
  return detail::answer_out_of_memory("Model::from_bytes", [&]() -> Result<Model> {
    auto data = std::make_shared<detail::ModelData>();
    PH_RETURN_IF_ERROR(allocate_owned(*data, size));
    if (size) std::memcpy(data->owned, bytes, size);
    data->bytes = static_cast<const uint8_t*>(data->owned);
    data->size = size;
    PH_RETURN_IF_ERROR(detail::validate_model(*data));
    return Model(std::move(data));
  });
}

const std::vector<InputInfo>& Model::inputs() const {
  return data_->inputs;
}
const std::vector<TaskInfo>& Model::tasks() const {
  return data_->tasks;
}
uint32_t Model::format_version_major() const {
  return data_->version_major;
}
uint32_t Model::format_version_minor() const {
  return data_->version_minor;
}
std::string Model::producer() const {
  return data_->producer;
}
std::string Model::description() const {
  return data_->description;
}
std::string Model::metadata(const std::string& key) const {
  for (const auto& [k, v] : data_->metadata)
    if (k == key) return v;
  return {};
}
size_t Model::file_bytes() const {
  return data_->size;
}
const uint8_t* Model::bytes() const {
  return data_->bytes;
}

}  // namespace polyhead
