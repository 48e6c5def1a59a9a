// polyhead_vision on hand-made data: pre-processing (fit modes, colour orders, layouts,
// normalisation) with exact values and transforms; anchor decoding; hard and weighted NMS; mask
// un-letterboxing; landmark mapping; options read from model metadata.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <opencv2/imgproc.hpp>

#include "polyhead/model_builder.h"
#include "polyhead/vision/annotate.h"
#include "polyhead/vision/detection.h"
#include "polyhead/vision/landmarks.h"
#include "polyhead/vision/preprocess.h"
#include "polyhead/vision/segmentation.h"

using namespace polyhead;
using namespace polyhead::vision;
using Approx = Catch::Detail::Approx;

namespace {

InputInfo image_input(int w, int h, ImageFit fit, ColorOrder color = ColorOrder::kRgb,
                      Layout layout = Layout::kNhwc) {
  InputInfo in;
  in.name = "image";
  const int c = color == ColorOrder::kGray ? 1 : 3;
  in.shape = layout == Layout::kNhwc ? Shape{1, h, w, c} : Shape{1, c, h, w};
  in.preprocess.width = w;
  in.preprocess.height = h;
  in.preprocess.fit = fit;
  in.preprocess.color = color;
  in.preprocess.layout = layout;
  return in;
}

TensorView view(const std::vector<float>& v, Shape shape) {
  TensorView t;
  t.data = v.data();
  t.shape = shape;
  return t;
}

}  // namespace

TEST_CASE("preprocess STRETCH at the model size writes exact values in every colour order") {
  // 4x2 BGR image, pixel (x, y) = (B, G, R) = (10x + 1, 10x + 2, 100y + 3).
  cv::Mat img(2, 4, CV_8UC3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * x + 1, 10 * x + 2, 100 * y + 3);

  InputInfo in = image_input(4, 2, ImageFit::kStretch);
  std::vector<float> dst(24);
  auto t = preprocess(img, in, dst.data());
  REQUIRE(t.is_ok());
  CHECK(t->scale_x == 1.f);
  CHECK(t->scale_y == 1.f);
  CHECK(t->offset_x == 0.f);
  // NHWC RGB, default normalisation: raw pixel values (pixel_scale 255, mean 0, std 1).
  const size_t p = (1 * 4 + 2) * 3;  // y = 1, x = 2
  CHECK(dst[p + 0] == Approx(103));
  CHECK(dst[p + 1] == Approx(22));
  CHECK(dst[p + 2] == Approx(21));

  in.preprocess.color = ColorOrder::kBgr;
  REQUIRE(preprocess(img, in, dst.data()).is_ok());
  CHECK(dst[p + 0] == Approx(21));
  CHECK(dst[p + 2] == Approx(103));

  // NCHW, [-1, 1] normalisation: pixel_scale 1, mean 0.5, std 0.5.
  in = image_input(4, 2, ImageFit::kStretch, ColorOrder::kRgb, Layout::kNchw);
  in.preprocess.pixel_scale = 1.f;
  in.preprocess.mean = {0.5f};
  in.preprocess.std = {0.5f};
  REQUIRE(preprocess(img, in, dst.data()).is_ok());
  const size_t pix = 1 * 4 + 2;
  CHECK(dst[0 * 8 + pix] == Approx((103 / 255.0 - 0.5) / 0.5).epsilon(1e-6));
  CHECK(dst[1 * 8 + pix] == Approx((22 / 255.0 - 0.5) / 0.5).epsilon(1e-6));
  CHECK(dst[2 * 8 + pix] == Approx((21 / 255.0 - 0.5) / 0.5).epsilon(1e-6));

  // Per-channel ImageNet style mean/std.
  in = image_input(4, 2, ImageFit::kStretch);
  in.preprocess.pixel_scale = 1.f;
  in.preprocess.mean = {0.485f, 0.456f, 0.406f};
  in.preprocess.std = {0.229f, 0.224f, 0.225f};
  REQUIRE(preprocess(img, in, dst.data()).is_ok());
  CHECK(dst[p + 1] == Approx((22 / 255.0 - 0.456) / 0.224).epsilon(1e-5));

  // GRAY from equal channels is the channel value.
  cv::Mat grey(2, 4, CV_8UC3, cv::Scalar(77, 77, 77));
  in = image_input(4, 2, ImageFit::kStretch, ColorOrder::kGray);
  std::vector<float> g(8);
  REQUIRE(preprocess(grey, in, g.data()).is_ok());
  CHECK(g[5] == Approx(77));
}

TEST_CASE("preprocess STRETCH resizes both axes and reports the scales") {
  cv::Mat img(40, 80, CV_8UC3, cv::Scalar(10, 20, 30));
  InputInfo in = image_input(16, 8, ImageFit::kStretch);
  std::vector<float> dst(16 * 8 * 3);
  auto t = preprocess(img, in, dst.data());
  REQUIRE(t.is_ok());
  CHECK(t->scale_x == Approx(0.2));
  CHECK(t->scale_y == Approx(0.2));
  CHECK(dst[0] == Approx(30));
  CHECK(dst[dst.size() - 1] == Approx(10));
  const polyhead::PointF back = t->to_image(8, 4);
  CHECK(back.x == Approx(40));
  CHECK(back.y == Approx(20));
}

TEST_CASE("preprocess LETTERBOX pads the short side with black, centred") {
  // 8x4 photo into a 4x4 input: resized to 4x2, one black row above and below.
  cv::Mat img(4, 8, CV_8UC3, cv::Scalar(50, 100, 200));
  InputInfo in = image_input(4, 4, ImageFit::kLetterbox);
  in.preprocess.pixel_scale = 1.f;
  in.preprocess.mean = {0.5f};
  in.preprocess.std = {0.5f};
  std::vector<float> dst(4 * 4 * 3);
  auto t = preprocess(img, in, dst.data());
  REQUIRE(t.is_ok());
  CHECK(t->scale_x == 0.5f);
  CHECK(t->scale_y == 0.5f);
  CHECK(t->offset_x == 0.f);
  CHECK(t->offset_y == 1.f);
  auto at = [&](int y, int x, int c) { return dst[(y * 4 + x) * 3 + c]; };
  for (int x = 0; x < 4; ++x) {
    CHECK(at(0, x, 0) == Approx(-1.f));  // black padding -> (0 - 0.5) / 0.5
    CHECK(at(3, x, 2) == Approx(-1.f));
    CHECK(at(1, x, 0) == Approx((200 / 255.0 - 0.5) / 0.5).epsilon(1e-6));  // R
    CHECK(at(2, x, 2) == Approx((50 / 255.0 - 0.5) / 0.5).epsilon(1e-6));   // B
  }
  const polyhead::PointF p = t->to_image(2, 2);
  CHECK(p.x == Approx(4));
  CHECK(p.y == Approx(2));
  const polyhead::PointF m = t->to_model(8, 4);
  CHECK(m.x == Approx(4));
  CHECK(m.y == Approx(3));

  // Portrait: padding left and right.
  cv::Mat tall(8, 4, CV_8UC3, cv::Scalar(1, 1, 1));
  auto tt = preprocess(tall, in, dst.data());
  REQUIRE(tt.is_ok());
  CHECK(tt->offset_x == 1.f);
  CHECK(tt->offset_y == 0.f);
  CHECK(at(0, 0, 0) == Approx(-1.f));
  CHECK(at(0, 1, 0) == Approx((1 / 255.0 - 0.5) / 0.5).epsilon(1e-6));
}

TEST_CASE("preprocess CROP keeps the centre of the long side") {
  // 8x4 photo into a 4x4 input: scale 1, two columns cut on each side. Pixel value = 10x.
  cv::Mat img(4, 8, CV_8UC3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 8; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b::all(10 * x);
  InputInfo in = image_input(4, 4, ImageFit::kCrop);
  std::vector<float> dst(4 * 4 * 3);
  auto t = preprocess(img, in, dst.data());
  REQUIRE(t.is_ok());
  CHECK(t->scale_x == 1.f);
  CHECK(t->offset_x == -2.f);
  CHECK(t->offset_y == 0.f);
  for (int x = 0; x < 4; ++x) CHECK(dst[(2 * 4 + x) * 3] == Approx(10 * (x + 2)));
  CHECK(t->to_image(0, 0).x == Approx(2));
}

TEST_CASE("preprocess and load_image report clear errors") {
  cv::Mat img(4, 4, CV_8UC3, cv::Scalar::all(0));
  std::vector<float> dst(4 * 4 * 3);
  InputInfo in = image_input(4, 4, ImageFit::kStretch);
  in.preprocess.color = ColorOrder::kNone;
  auto r = preprocess(img, in, dst.data());
  REQUIRE_FALSE(r.is_ok());
  CHECK_THAT(r.status().message(), Catch::Contains("'image'") && Catch::Contains("NONE"));

  in = image_input(4, 4, ImageFit::kStretch);
  in.preprocess.width = 5;
  r = preprocess(img, in, dst.data());
  REQUIRE_FALSE(r.is_ok());
  CHECK_THAT(r.status().message(), Catch::Contains("does not match shape"));

  // A fit outside the enumeration (a hand-made InputInfo) is reported, not guessed.
  in = image_input(4, 4, static_cast<ImageFit>(7));
  r = preprocess(img, in, dst.data());
  REQUIRE_FALSE(r.is_ok());
  CHECK_THAT(r.status().message(), Catch::Contains("'image'") && Catch::Contains("unknown fit 7"));
  // ... and an unknown fit name where one is read from text.
  auto fit = parse_image_fit("ZOOM");
  REQUIRE_FALSE(fit.is_ok());
  CHECK_THAT(fit.status().message(),
             Catch::Contains("unknown image fit 'ZOOM'") && Catch::Contains("LETTERBOX"));

  auto missing = load_image("/nonexistent/photo.png");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == ErrorCode::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("/nonexistent/photo.png"));

  const std::string text =
      (std::filesystem::temp_directory_path() / "ph_not_an_image.png").string();
  std::ofstream(text) << "hello";
  auto bad = load_image(text);
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("not an image"));
  std::filesystem::remove(text);
}

TEST_CASE("anchor decoding of a hand-made raw box, through letterbox, to photo pixels") {
  // 128x128 model; photo 256x128 letterboxed: scale 0.5, offset_y 32.
  ImageTransform t;
  t.image_width = 256, t.image_height = 128, t.model_width = 128, t.model_height = 128;
  t.scale_x = t.scale_y = 0.5f;
  t.offset_y = 32.f;
  DetectionOptions o;
  o.activation = OutputActivation::kSigmoid;
  o.score_clip = 100;
  o.score_threshold = 0.5f;
  o.nms_iou = 0.3f;
  o.keypoints = 1;
  for (float& s : o.box_scale) s = 128.f;
  o.anchors = {0.25f, 0.25f, 1.f, 1.f,   // anchor 0: centre (0.25, 0.25)
               0.5f,  0.5f,  1.f, 1.f};  // anchor 1: centre (0.5, 0.5)
  // Anchor 1: centre offset (+12.8, -6.4) px, size 32x64 px, keypoint offset (0, 0).
  std::vector<float> boxes = {0,     0,     10, 10, 0, 0,  //
                              12.8f, -6.4f, 32, 64, 0, 0};
  std::vector<float> scores = {-3.f, 2.f};  // anchor 0 below threshold after the sigmoid
  auto d = decode_detections(view(boxes, {1, 2, 6}), view(scores, {1, 2, 1}), o, t);
  REQUIRE(d.is_ok());
  REQUIRE(d->size() == 1);
  const Detection& det = (*d)[0];
  // Model: centre (64 + 12.8, 64 - 6.4) = (76.8, 57.6), size 32x64 -> x0 60.8, y0 25.6.
  // Photo: x = m / 0.5, y = (m - 32) / 0.5.
  CHECK(det.box.x == Approx(121.6));
  CHECK(det.box.y == Approx(-12.8));
  CHECK(det.box.width == Approx(64));
  CHECK(det.box.height == Approx(128));
  CHECK(det.score == Approx(1 / (1 + std::exp(-2.0))));
  REQUIRE(det.keypoints.size() == 1);
  CHECK(det.keypoints[0].x == Approx(128));
  CHECK(det.keypoints[0].y == Approx(64));

  // Score clipping keeps huge logits finite; a wrong box size is an error.
  scores = {-1e9f, 1e9f};
  d = decode_detections(view(boxes, {1, 2, 6}), view(scores, {1, 2, 1}), o, t);
  REQUIRE(d.is_ok());
  REQUIRE(d->size() == 1);
  CHECK((*d)[0].score == Approx(1.0));
  o.keypoints = 2;
  d = decode_detections(view(boxes, {1, 2, 6}), view(scores, {1, 2, 1}), o, t);
  REQUIRE_FALSE(d.is_ok());
  CHECK_THAT(d.status().message(), Catch::Contains("2 anchors x 8 values"));
}

TEST_CASE("hard NMS keeps the best of each overlapping group") {
  std::vector<Detection> d(4);
  d[0].box = {0, 0, 10, 10}, d[0].score = 0.8f;
  d[1].box = {1, 0, 10, 10}, d[1].score = 0.9f;  // IoU with d[0] = 90/110
  d[2].box = {20, 20, 10, 10}, d[2].score = 0.7f;
  d[3].box = {5, 0, 10, 10}, d[3].score = 0.6f;  // IoU with d[1] = 60/140 = 0.43
  auto kept = non_max_suppression(d, 0.5f, 100, false);
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].score == Approx(0.9f));
  CHECK(kept[0].box.x == 1.f);
  CHECK(kept[1].score == Approx(0.7f));
  CHECK(kept[2].score == Approx(0.6f));
  CHECK(non_max_suppression(d, 0.3f, 100, false).size() == 2);
  CHECK(non_max_suppression(d, 0.5f, 1, false).size() == 1);
  CHECK(iou(d[0].box, d[1].box) == Approx(90.0 / 110.0));
}

TEST_CASE("weighted NMS averages each cluster by score") {
  std::vector<Detection> d(3);
  d[0].box = {0, 0, 10, 10}, d[0].score = 0.75f, d[0].keypoints = {{0, 0}};
  d[1].box = {2, 0, 10, 10}, d[1].score = 0.25f, d[1].keypoints = {{4, 8}};
  d[2].box = {50, 50, 10, 10}, d[2].score = 0.5f, d[2].keypoints = {{55, 55}};
  auto kept = non_max_suppression(d, 0.3f, 100, true);
  REQUIRE(kept.size() == 2);
  // Cluster {0, 1}: x0 = 0.75*0 + 0.25*2 = 0.5, x1 = 0.75*10 + 0.25*12 = 10.5.
  CHECK(kept[0].box.x == Approx(0.5));
  CHECK(kept[0].box.width == Approx(10));
  CHECK(kept[0].box.y == Approx(0));
  CHECK(kept[0].score == Approx(0.75));
  CHECK(kept[0].keypoints[0].x == Approx(1));
  CHECK(kept[0].keypoints[0].y == Approx(2));
  CHECK(kept[1].box.x == Approx(50));
  CHECK(kept[1].keypoints[0].x == Approx(55));
}

TEST_CASE("masks are un-letterboxed to the photo and thresholded") {
  // 8x4 photo letterboxed into a 4x4 model (rows 0 and 3 are padding); mask at model size.
  ImageTransform t;
  t.image_width = 8, t.image_height = 4, t.model_width = 4, t.model_height = 4;
  t.scale_x = t.scale_y = 0.5f;
  t.offset_y = 1.f;
  MaskOptions o;
  // Padding 0, photo 1: every photo pixel is foreground, nothing of the padding leaks in.
  std::vector<float> m(16, 0.f);
  for (int i = 4; i < 12; ++i) m[i] = 1.f;
  auto r = mask_to_image(view(m, {1, 4, 4, 1}), o, t);
  REQUIRE(r.is_ok());
  CHECK(r->probability.cols == 8);
  CHECK(r->probability.rows == 4);
  CHECK(r->coverage == Approx(1.0));
  CHECK(r->bbox == cv::Rect(0, 0, 8, 4));
  // Padding 1, photo 0: nothing.
  for (float& v : m) v = 1.f - v;
  r = mask_to_image(view(m, {1, 4, 4, 1}), o, t);
  REQUIRE(r.is_ok());
  CHECK(r->coverage == Approx(0.0));
  CHECK(r->bbox.area() == 0);

  // A linear mask is reproduced exactly by the bilinear mapping: value = 0.1 col + 0.01 row.
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) m[y * 4 + x] = 0.1f * x + 0.01f * y;
  r = mask_to_image(view(m, {1, 4, 4}), o, t);
  REQUIRE(r.is_ok());
  for (int iy = 0; iy < 4; ++iy)
    for (int ix = 1; ix < 7; ++ix) {
      const double mx = ix / 2.0 - 0.25, my = iy / 2.0 + 0.75;  // mask coordinates
      CHECK(r->probability.at<float>(iy, ix) == Approx(0.1 * mx + 0.01 * my).margin(0.01));
    }

  // Right half of the photo set (model columns 2..3), with a sigmoid on logits.
  o.activation = OutputActivation::kSigmoid;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) m[y * 4 + x] = x >= 2 ? 8.f : -8.f;
  r = mask_to_image(view(m, {1, 4, 4, 1}), o, t);
  REQUIRE(r.is_ok());
  CHECK(r->coverage == Approx(0.5));
  CHECK(r->bbox == cv::Rect(4, 0, 4, 4));
}

TEST_CASE("landmarks map from model pixels to the photo with visibility") {
  // 256x256 model; photo 512x256 letterboxed: scale 0.5, offset_y 64.
  ImageTransform t;
  t.image_width = 512, t.image_height = 256, t.model_width = 256, t.model_height = 256;
  t.scale_x = t.scale_y = 0.5f;
  t.offset_y = 64.f;
  LandmarkOptions o;
  o.format = "xyzvp";
  o.count = 2;
  o.scale_x = o.scale_y = 256.f;
  std::vector<float> raw = {128, 128, 10, 0,    2,    //
                            0,   64,  0,  -100, 100,  //
                            1,   1,   1,  1,    1};   // a third point beyond `count`
  auto l = decode_landmarks(view(raw, {1, 15}), o, t);
  REQUIRE(l.is_ok());
  REQUIRE(l->size() == 2);
  CHECK((*l)[0].point.x == Approx(256));
  CHECK((*l)[0].point.y == Approx(128));
  CHECK((*l)[0].z == Approx(20));
  CHECK((*l)[0].visibility == Approx(0.5));
  CHECK((*l)[0].presence == Approx(1 / (1 + std::exp(-2.0))));
  CHECK((*l)[1].point.x == Approx(0));
  CHECK((*l)[1].point.y == Approx(0));
  CHECK((*l)[1].visibility < 0.01f);

  // A scale of 1 means normalised coordinates.
  o.scale_x = o.scale_y = 1.f;
  o.format = "xy";
  o.count = 0;
  std::vector<float> norm = {0.5f, 0.5f};
  l = decode_landmarks(view(norm, {1, 2}), o, t);
  REQUIRE(l.is_ok());
  REQUIRE(l->size() == 1);
  CHECK((*l)[0].point.x == Approx(256));
  CHECK((*l)[0].point.y == Approx(128));
  CHECK((*l)[0].visibility == 1.f);

  o.count = 3;
  CHECK_FALSE(decode_landmarks(view(norm, {1, 2}), o, t).is_ok());
}

TEST_CASE("post-processing options are read from the task and its metadata") {
  ModelBuilder b;
  Preprocess pre;
  pre.width = 4;
  pre.height = 4;
  const int x = b.add_input("image", {1, 4, 4, 3}, pre);
  auto boxes = b.reshape("boxes", x, {1, 3, 16});
  auto scores = b.reshape("scores", x, {1, 48, 1});
  auto pts = b.reshape("points", x, {1, 48});
  REQUIRE(boxes.is_ok());
  REQUIRE(scores.is_ok());
  REQUIRE(pts.is_ok());
  PostProcessParams post;
  post.activation = OutputActivation::kSigmoid;
  post.score_threshold = 0.6f;
  post.nms_iou = 0.3f;
  post.anchors = {0.5f, 0.5f, 1.f, 1.f, 0.5f, 0.5f, 1.f, 1.f, 0.5f, 0.5f, 1.f, 1.f};
  REQUIRE(b.add_task("faces", TaskKind::kDetection, {{"boxes", *boxes}, {"scores", *scores}}, post)
              .is_ok());
  REQUIRE(b.add_task("points", TaskKind::kLandmarks, {{"landmarks", *pts}}).is_ok());
  REQUIRE(b.add_task("bad", TaskKind::kDetection, {{"boxes", *boxes}}).is_ok());
  b.add_metadata("faces.box_format", "mediapipe");
  b.add_metadata("faces.box_scale", "128,128,64,64");
  b.add_metadata("faces.keypoints", "6");
  b.add_metadata("faces.nms", "weighted");
  b.add_metadata("faces.score_clip", "100");
  b.add_metadata("points.format", "xyz");
  b.add_metadata("points.count", "16");
  b.add_metadata("points.scale", "4,4");
  b.add_metadata("bad.box_format", "yolo");
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());

  auto d = detection_options(*model, model->tasks()[0]);
  REQUIRE(d.is_ok());
  CHECK(d->activation == OutputActivation::kSigmoid);
  CHECK(d->score_threshold == Approx(0.6));
  CHECK(d->nms_iou == Approx(0.3));
  CHECK(d->weighted_nms);
  CHECK(d->keypoints == 6);
  CHECK(d->score_clip == 100.f);
  CHECK(d->box_scale[2] == 64.f);
  CHECK(d->anchors.size() == 12);

  auto l = landmark_options(*model, model->tasks()[1]);
  REQUIRE(l.is_ok());
  CHECK(l->format == "xyz");
  CHECK(l->count == 16);
  CHECK(l->scale_x == 4.f);
  CHECK(l->sigmoid_visibility);

  auto bad = detection_options(*model, model->tasks()[2]);
  REQUIRE_FALSE(bad.is_ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("bad.box_format") && Catch::Contains("yolo"));
}

TEST_CASE("annotation draws on the photo without changing its size") {
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar::all(0));
  Detection d;
  d.box = {8, 8, 32, 32};
  d.score = 0.9f;
  d.keypoints = {{20, 20}};
  draw_detections(img, {d});
  Mask m;
  m.binary = cv::Mat(64, 64, CV_8U, cv::Scalar(0));
  m.binary(cv::Rect(40, 40, 10, 10)).setTo(255);
  draw_mask(img, m);
  std::vector<Landmark> lm(33);
  for (size_t i = 0; i < lm.size(); ++i) lm[i].point = {static_cast<float>(i), 60.f};
  draw_landmarks(img, lm, pose_connections());
  CHECK(img.size() == cv::Size(64, 64));
  CHECK(cv::countNonZero(img.reshape(1)) > 100);
  CHECK(img.at<cv::Vec3b>(45, 45) != cv::Vec3b(0, 0, 0));  // tinted by the mask
}
