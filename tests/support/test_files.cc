#include "support/test_files.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace polyhead::testing {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

}  // namespace

std::string data_dir() {
  return env_or("POLYHEAD_DATA_DIR", POLYHEAD_DATA_DIR);
}

std::string onnx_models_dir() {
  return env_or("POLYHEAD_ONNX_MODELS_DIR", POLYHEAD_ONNX_MODELS_DIR);
}

std::string skimage_dir() {
  return env_or("POLYHEAD_SKIMAGE_DATA", "/usr/lib/python3/dist-packages/skimage/data");
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "polyhead_test_XXXXXX").string();
  if (mkdtemp(pattern.data())) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

std::string write_temp_file(const std::vector<uint8_t>& bytes, const std::string& name) {
  // The process id keeps test programs run at the same time (two build trees, ctest -j) from
  // writing one another's files.
  return write_file(
      (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_" + name)).string(),
      bytes);
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ShellResult run_shell(const std::string& command) {
  ShellResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return r;
}

TempModelFile::TempModelFile(const std::vector<uint8_t>& bytes, const std::string& stem)
    : path(write_temp_file(bytes, stem + ".phm")) {}

TempModelFile::~TempModelFile() {
  std::remove(path.c_str());
}

}  // namespace polyhead::testing
