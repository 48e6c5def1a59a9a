#include "polyhead/vision/preprocess.h"

#include <filesystem>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "polyhead/pixel_image.h"

namespace polyhead::vision {
namespace {

Status bad_input(const InputInfo& in, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "input '" + in.name + "': " + what);
}

}  // namespace

Result<cv::Mat> load_image(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return Status(ErrorCode::kNotFound, "image '" + path + "' does not exist");
  if (!fs::is_regular_file(st))
    return Status(ErrorCode::kInvalidArgument, "image '" + path + "' is not a regular file");
  cv::Mat image;
  try {
    image = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kInvalidArgument,
                  "image '" + path + "' could not be decoded: " + e.what());
  }
  if (image.empty())
    return Status(ErrorCode::kInvalidArgument,
                  "'" + path + "' is not an image OpenCV can decode (PNG, JPEG, BMP, ...)");
  return image;
}

Result<ImageTransform> plan_transform(int width, int height, const InputInfo& input) {
  return image_transform_for(width, height, input);
}

Result<ImageTransform> preprocess(const cv::Mat& image, const InputInfo& in, float* dst) {
  if (dst == nullptr) return bad_input(in, "null destination");
  if (image.empty()) return bad_input(in, "empty image");
  cv::Mat img = image;
  if (img.depth() != CV_8U) {
    if (img.depth() != CV_16U) return bad_input(in, "image depth must be 8 or 16 bits");
    img.convertTo(img, CV_8U, 1.0 / 257.0);
  }
  const int ch = img.channels();
  if (ch != 1 && ch != 3 && ch != 4)
    return bad_input(in, "image has " + std::to_string(ch) + " channels (1, 3 or 4 expected)");
  PixelImage frame;
  frame.data = img.data;
  frame.width = img.cols;
  frame.height = img.rows;
  frame.stride = img.step[0];
  frame.format = ch == 1 ? PixelFormat::kGray : ch == 3 ? PixelFormat::kBgr : PixelFormat::kBgra;
  return write_pixels(frame, in, dst);
}

}  // namespace polyhead::vision
