// The photos a comparison runs on: folders (their .jpg/.jpeg/.png/.bmp files, sorted by name) and
// single files, in the order given. Listing does not decode; an unreadable image fails later, when
// it is loaded, with its path in the message.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::compare {

struct ImageSet {
  std::vector<std::string> files;
  std::vector<std::string> skipped;  // folder entries that are not images (files, sub-folders)
};

// Each entry is a folder or a file. A missing entry or a folder without images is an error naming
// it; `limit` > 0 keeps the first `limit` images.
Result<ImageSet> collect_images(const std::vector<std::string>& entries, size_t limit = 0);

// True for the extensions a folder is scanned for (case-insensitive).
bool has_image_extension(const std::string& path);

}  // namespace polyhead::compare
