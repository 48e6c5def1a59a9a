// Files, folders and processes for the tests: where the fetched data lives, scratch folders, and
// running a command line to collect its output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace polyhead::testing {

// The folder scripts/fetch_data.sh fills: $POLYHEAD_DATA_DIR, else build/data of the source tree.
std::string data_dir();
// The ONNX test models scripts/make_onnx_models.sh generates: $POLYHEAD_ONNX_MODELS_DIR, else
// build/onnx_models of the source tree.
std::string onnx_models_dir();
// Debian's scikit-image sample photos (python3-skimage): $POLYHEAD_SKIMAGE_DATA, else its folder.
std::string skimage_dir();

// A fresh folder under the system temp folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty when the folder could not be made.
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes `bytes` to `path` (replacing it) and returns the path; throws when it cannot.
std::string write_file(const std::string& path, const std::vector<uint8_t>& bytes);
// Writes `bytes` to `name` directly under the system temp folder and returns its path.
std::string write_temp_file(const std::vector<uint8_t>& bytes, const std::string& name);

// `bytes` in a temp file named `stem` + this process id + ".phm" (CTest may run a program's test
// cases in parallel processes), removed on destruction.
struct TempModelFile {
  TempModelFile(const std::vector<uint8_t>& bytes, const std::string& stem);
  ~TempModelFile();
  TempModelFile(const TempModelFile&) = delete;
  TempModelFile& operator=(const TempModelFile&) = delete;
  std::string path;
};

// `s` quoted for the POSIX shell.
std::string shell_quote(const std::string& s);

struct ShellResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh and collects its output.
ShellResult run_shell(const std::string& command);

}  // namespace polyhead::testing
