#ifdef POLYHEAD_HAVE_STREAM

#include "cli/annotated_video.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <opencv2/imgproc.hpp>

namespace polyhead::cli {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

Status AnnotatedVideo::check_path(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext != ".mp4" && ext != ".avi")
    return Status(ErrorCode::kInvalidArgument, "--out '" + path +
                                                   "': give a .mp4 or .avi file name" +
                                                   (ext.empty() ? "" : " (found '" + ext + "')"));
  return Status::ok();
}

Status AnnotatedVideo::open(const std::string& path, double fps, cv::Size size) {
  PH_RETURN_IF_ERROR(check_path(path));
  path_ = path;
  size_ = size;
  const int fourcc = lower_extension(path) == ".mp4" ? cv::VideoWriter::fourcc('m', 'p', '4', 'v')
                                                     : cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  bool opened = false;
  try {
    opened = writer_.open(path, cv::CAP_FFMPEG, fourcc, fps, size, true);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kIoError, "--out: cannot write '" + path + "': " + e.what());
  }
  if (!opened) return Status(ErrorCode::kIoError, "--out: cannot write '" + path + "'");
  return Status::ok();
}

Status AnnotatedVideo::write(const cv::Mat& frame) {
  const cv::Mat* out = &frame;
  if (frame.size() != size_) {
    cv::resize(frame, scaled_, size_, 0, 0, cv::INTER_AREA);
    out = &scaled_;
  }
  try {
    writer_.write(*out);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kIoError, "--out: writing '" + path_ + "': " + e.what());
  }
  ++frames_;
  return Status::ok();
}

Status AnnotatedVideo::close() {
  try {
    writer_.release();
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kIoError, "--out: finishing '" + path_ + "': " + e.what());
  }
  return Status::ok();
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_STREAM
