#include "polyhead/vision/annotate.h"

#include <algorithm>
#include <cstdio>

#include <opencv2/imgproc.hpp>

namespace polyhead::vision {
namespace {

int thickness_for(const cv::Mat& image) {
  return std::max(1, static_cast<int>(std::lround(std::max(image.cols, image.rows) / 400.0)));
}

}  // namespace

void draw_detections(cv::Mat& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& labels, const cv::Scalar& colour) {
  const int th = thickness_for(image);
  const double font = 0.4 * th;
  for (const Detection& d : detections) {
    const cv::Rect box(cv::Point(cvRound(d.box.x), cvRound(d.box.y)),
                       cv::Point(cvRound(d.box.x + d.box.width), cvRound(d.box.y + d.box.height)));
    cv::rectangle(image, box, colour, th, cv::LINE_AA);
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", d.score);
    std::string caption = score;
    if (d.label >= 0 && static_cast<size_t>(d.label) < labels.size())
      caption = labels[d.label] + " " + caption;
    int base = 0;
    const cv::Size ts = cv::getTextSize(caption, cv::FONT_HERSHEY_SIMPLEX, font, th, &base);
    const cv::Point org(box.x, std::max(ts.height + 2, box.y - 3));
    cv::rectangle(image, cv::Rect(org.x, org.y - ts.height - 2, ts.width + 2, ts.height + base + 2),
                  colour, cv::FILLED);
    cv::putText(image, caption, cv::Point(org.x + 1, org.y), cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar(0, 0, 0), th, cv::LINE_AA);
    for (const cv::Point2f& k : d.keypoints)
      cv::circle(image, k, th + 1, cv::Scalar(0, 0, 255), cv::FILLED, cv::LINE_AA);
  }
}

void draw_mask(cv::Mat& image, const Mask& mask, const cv::Scalar& colour, double alpha) {
  if (mask.binary.empty() || mask.binary.size() != image.size()) return;
  cv::Mat tinted = image.clone();
  tinted.setTo(colour, mask.binary);
  cv::addWeighted(tinted, alpha, image, 1.0 - alpha, 0.0, tinted);
  tinted.copyTo(image, mask.binary);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask.binary.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(image, contours, -1, colour, thickness_for(image), cv::LINE_AA);
}

void draw_landmarks(cv::Mat& image, const std::vector<Landmark>& landmarks,
                    const std::vector<std::pair<int, int>>& connections, float min_visibility,
                    const cv::Scalar& colour) {
  const int th = thickness_for(image);
  auto shown = [&](int i) {
    return i >= 0 && static_cast<size_t>(i) < landmarks.size() &&
           landmarks[i].visibility >= min_visibility;
  };
  for (const auto& [a, b] : connections)
    if (shown(a) && shown(b))
      cv::line(image, landmarks[a].point, landmarks[b].point, cv::Scalar(255, 255, 255), th,
               cv::LINE_AA);
  for (size_t i = 0; i < landmarks.size(); ++i)
    if (shown(static_cast<int>(i)))
      cv::circle(image, landmarks[i].point, th + 2, colour, cv::FILLED, cv::LINE_AA);
}

}  // namespace polyhead::vision
