// Where `polyhead stream` takes its frames from: a video file (--video), a folder of photos taken
// in name order (--images) or a camera (--camera). Every source hands out 8-bit BGR frames and
// says what it knows of its frame rate. Needs OpenCV (videoio): include only where
// POLYHEAD_HAVE_STREAM is defined.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "polyhead/result.h"

namespace polyhead::cli {

class FrameSource {
 public:
  virtual ~FrameSource() = default;

  // The next frame, as 8-bit BGR, into `frame` (its buffer is reused when the size matches).
  // False at the end of the source; an error names the file or camera that failed.
  virtual Result<bool> read(cv::Mat& frame) = 0;

  // "video 'clip.avi'", "images 'photos/' (6 files)", "camera 0": for reports.
  virtual std::string description() const = 0;
  // "video", "images" or "camera".
  virtual const char* kind() const = 0;
  // Frames per second the source declares (a video's or camera's); 0 when unknown (photos).
  virtual double fps() const = 0;
  // Frames the source holds when known (a video's declared count, the photos); 0 otherwise.
  virtual size_t frame_count() const = 0;
  // Size of the first frame.
  virtual cv::Size frame_size() const = 0;
  // A camera: frames keep coming whether or not anybody reads them.
  virtual bool live() const = 0;
};

// Each opens the source and reads its first frame, so that a file that is not a video, a folder
// without photos or a camera that delivers nothing fails here with the path or index in the
// message, not in the middle of a stream.
Result<std::unique_ptr<FrameSource>> open_video(const std::string& path);
Result<std::unique_ptr<FrameSource>> open_image_folder(const std::string& folder);
Result<std::unique_ptr<FrameSource>> open_camera(int index);

}  // namespace polyhead::cli
