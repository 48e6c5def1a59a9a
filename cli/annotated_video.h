// AnnotatedVideo: the frames of a stream with their results drawn, written as a video file
// (--out of `polyhead stream`). The container follows the extension: .mp4 (MPEG-4 Part 2,
// 'mp4v') or .avi (Motion JPEG), both through OpenCV's FFmpeg backend. Every frame is written at
// the size of the first; frames of another size (photos of a folder) are scaled to it.
// Needs OpenCV: include only where POLYHEAD_HAVE_STREAM is defined.
#pragma once

#include <cstddef>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "polyhead/result.h"

namespace polyhead::cli {

class AnnotatedVideo {
 public:
  // Checks the extension only (.mp4 or .avi, any case); the file is made by open().
  static Status check_path(const std::string& path);

  // Creates the file for frames of `size` at `fps` frames per second.
  Status open(const std::string& path, double fps, cv::Size size);
  // Appends a frame (8-bit BGR).
  Status write(const cv::Mat& frame);
  // Finishes the file; the frames written so far.
  Status close();

  size_t frames() const { return frames_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  cv::VideoWriter writer_;
  cv::Size size_;
  cv::Mat scaled_;
  size_t frames_ = 0;
};

}  // namespace polyhead::cli
