#ifdef POLYHEAD_HAVE_STREAM

#include "cli/frame_source.h"

#ifdef __linux__
#include <unistd.h>
#endif

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "eval/image_set.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::cli {
namespace {

namespace fs = std::filesystem;

// Frames from the decoders as 8-bit BGR whatever they deliver (grey or BGRA cameras, 16-bit
// photos), in place.
Status to_bgr8(cv::Mat& frame, const std::string& what) {
  if (frame.empty()) return Status(ErrorCode::kInvalidArgument, what + ": empty frame");
  if (frame.depth() == CV_16U) frame.convertTo(frame, CV_8U, 1.0 / 257.0);
  if (frame.depth() != CV_8U)
    return Status(ErrorCode::kUnsupported, what + ": frames of OpenCV depth " +
                                               std::to_string(frame.depth()) + " are not 8-bit");
  if (frame.channels() == 1)
    cv::cvtColor(frame, frame, cv::COLOR_GRAY2BGR);
  else if (frame.channels() == 4)
    cv::cvtColor(frame, frame, cv::COLOR_BGRA2BGR);
  else if (frame.channels() != 3)
    return Status(ErrorCode::kUnsupported,
                  what + ": frames with " + std::to_string(frame.channels()) + " channels");
  return Status::ok();
}

// A video file or a camera through cv::VideoCapture. The first frame is read when opening and
// handed out by the first read().
class CaptureSource : public FrameSource {
 public:
  CaptureSource(std::string description, const char* kind, bool live)
      : description_(std::move(description)), kind_(kind), live_(live) {}

  Status open(const std::string& path, int camera) {
    // FFmpeg for files: the other backends print warnings of their own for what they cannot
    // read; a camera takes whatever backend the system has (V4L2 on Linux).
    // Their warnings on stderr say no more than the error below, and would come before it.
#ifdef __linux__
    // Camera N is /dev/videoN (V4L2). Asking only V4L2 for it, and not at all when the device is
    // absent, gives a clear error and spares the probing of other backends (whose libusb scan
    // leaks memory each time it finds nothing).
    const std::string device = "/dev/video" + std::to_string(camera);
    if (live_ && ::access(device.c_str(), F_OK) != 0)
      return Status(ErrorCode::kIoError,
                    "cannot open " + description_ + ": " + device + " does not exist");
    const int camera_api = cv::CAP_V4L2;
#else
    const int camera_api = cv::CAP_ANY;
#endif
    const auto log_level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    std::string exception;
    try {
      if (live_)
        capture_.open(camera, camera_api);
      else
        capture_.open(path, cv::CAP_FFMPEG);
    } catch (const cv::Exception& e) {
      exception = e.what();
    }
    cv::utils::logging::setLogLevel(log_level);
    if (!exception.empty())
      return Status(ErrorCode::kIoError, "cannot open " + description_ + ": " + exception);
    if (!capture_.isOpened())
      return Status(ErrorCode::kIoError,
                    "cannot open " + description_ +
                        (live_ ? " (no such camera, or it is busy)"
                               : " (not a video OpenCV's FFmpeg backend can decode)"));
    fps_ = capture_.get(cv::CAP_PROP_FPS);
    if (!(fps_ > 0 && fps_ < 1000)) fps_ = 0;
    const double count = capture_.get(cv::CAP_PROP_FRAME_COUNT);
    count_ = !live_ && count > 0 && count < 1e9 ? static_cast<size_t>(count) : 0;
    PH_ASSIGN_OR_RETURN(const bool got, grab(first_));
    if (!got) return Status(ErrorCode::kInvalidArgument, description_ + " has no frames");
    size_ = first_.size();
    pending_ = true;
    return Status::ok();
  }

  Result<bool> read(cv::Mat& frame) override {
    if (pending_) {
      pending_ = false;
      // The first frame's buffer becomes the caller's; the capture decodes into a new one.
      frame = first_;
      first_ = cv::Mat();
      return true;
    }
    return grab(frame);
  }

  std::string description() const override {
    return description_;
  }
  const char* kind() const override {
    return kind_;
  }
  double fps() const override {
    return fps_;
  }
  size_t frame_count() const override {
    return count_;
  }
  cv::Size frame_size() const override {
    return size_;
  }
  bool live() const override {
    return live_;
  }

 private:
  Result<bool> grab(cv::Mat& frame) {
    bool got = false;
    try {
      got = capture_.read(frame);
    } catch (const cv::Exception& e) {
      return Status(ErrorCode::kIoError, "reading " + description_ + ": " + e.what());
    }
    if (!got || frame.empty()) return false;
    PH_RETURN_IF_ERROR(to_bgr8(frame, description_));
    return true;
  }

  std::string description_;
  const char* kind_;
  bool live_;
  cv::VideoCapture capture_;
  cv::Mat first_;
  bool pending_ = false;
  double fps_ = 0;
  size_t count_ = 0;
  cv::Size size_;
};

// Photos of a folder, in name order, one frame each.
class ImageFolderSource : public FrameSource {
 public:
  ImageFolderSource(std::string description, std::vector<std::string> files)
      : description_(std::move(description)), files_(std::move(files)) {}

  Status open() {
    PH_ASSIGN_OR_RETURN(first_, vision::load_image(files_[0]));
    size_ = first_.size();
    return Status::ok();
  }

  Result<bool> read(cv::Mat& frame) override {
    if (next_ >= files_.size()) return false;
    if (next_ == 0) {
      frame = first_;
      first_ = cv::Mat();
    } else {
      PH_ASSIGN_OR_RETURN(frame, vision::load_image(files_[next_]));
    }
    ++next_;
    PH_RETURN_IF_ERROR(to_bgr8(frame, "image '" + files_[next_ - 1] + "'"));
    return true;
  }

  std::string description() const override { return description_; }
  const char* kind() const override { return "images"; }
  double fps() const override { return 0; }
  size_t frame_count() const override { return files_.size(); }
  cv::Size frame_size() const override { return size_; }
  bool live() const override { return false; }

 private:
  std::string description_;
  std::vector<std::string> files_;
  cv::Mat first_;
  size_t next_ = 0;
  cv::Size size_;
};

}  // namespace

Result<std::unique_ptr<FrameSource>> open_video(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return Status(ErrorCode::kNotFound, "video '" + path + "' does not exist");
  if (!fs::is_regular_file(st))
    return Status(ErrorCode::kInvalidArgument, "video '" + path + "' is not a regular file");
  auto source = std::make_unique<CaptureSource>("video '" + path + "'", "video", false);
  PH_RETURN_IF_ERROR(source->open(path, 0));
  return std::unique_ptr<FrameSource>(std::move(source));
}

Result<std::unique_ptr<FrameSource>> open_image_folder(const std::string& folder) {
  std::error_code ec;
  const fs::file_status st = fs::status(folder, ec);
  if (ec || !fs::exists(st))
    return Status(ErrorCode::kNotFound, "folder '" + folder + "' does not exist");
  if (!fs::is_directory(st))
    return Status(ErrorCode::kInvalidArgument, "'" + folder + "' is not a folder");
  PH_ASSIGN_OR_RETURN(compare::ImageSet set, compare::collect_images({folder}));
  const size_t n = set.files.size();
  auto source = std::make_unique<ImageFolderSource>(
      "images '" + folder + "' (" + std::to_string(n) + (n == 1 ? " file)" : " files)"),
      std::move(set.files));
  PH_RETURN_IF_ERROR(source->open());
  return std::unique_ptr<FrameSource>(std::move(source));
}

Result<std::unique_ptr<FrameSource>> open_camera(int index) {
  auto source = std::make_unique<CaptureSource>("camera " + std::to_string(index), "camera", true);
  PH_RETURN_IF_ERROR(source->open("", index));
  return std::unique_ptr<FrameSource>(std::move(source));
}

}  // namespace polyhead::cli

#endif  // POLYHEAD_HAVE_STREAM
