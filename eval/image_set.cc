#include "eval/image_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace polyhead::compare {

namespace fs = std::filesystem;

bool has_image_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

Result<ImageSet> collect_images(const std::vector<std::string>& entries, size_t limit) {
  if (entries.empty()) return Status(ErrorCode::kInvalidArgument, "no images given");
  ImageSet set;
  for (const std::string& entry : entries) {
    std::error_code ec;
    const fs::file_status st = fs::status(entry, ec);
    if (ec || !fs::exists(st))
      return Status(ErrorCode::kNotFound, "'" + entry + "' does not exist");
    if (!fs::is_directory(st)) {
      set.files.push_back(entry);
      continue;
    }
    std::vector<std::string> found, other;
    fs::directory_iterator it(entry, ec), end;
    if (ec)
      return Status(ErrorCode::kIoError, "cannot list folder '" + entry + "': " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) break;
      const std::string path = it->path().string();
      std::error_code type_ec;
      if (it->is_regular_file(type_ec) && has_image_extension(path))
        found.push_back(path);
      else
        other.push_back(path);
    }
    if (ec)
      return Status(ErrorCode::kIoError, "cannot list folder '" + entry + "': " + ec.message());
    if (found.empty())
      return Status(ErrorCode::kInvalidArgument,
                    "no images in " + entry + " (looked for .jpg, .jpeg, .png and .bmp files)");
    std::sort(found.begin(), found.end());
    std::sort(other.begin(), other.end());
    set.files.insert(set.files.end(), found.begin(), found.end());
    set.skipped.insert(set.skipped.end(), other.begin(), other.end());
  }
  if (limit > 0 && set.files.size() > limit) set.files.resize(limit);
  return set;
}

}  // namespace polyhead::compare
