// Camera frames into a model's image input: Plan::set_input_pixels (the core's converter, no
// OpenCV, no allocation) against the pipeline users write with OpenCV (cv::cvtColor to RGB,
// cv::resize, cv::copyMakeBorder for letterbox, a normalising loop into a float buffer), in one
// run. Frames 640x480 and 1280x720 in BGR, RGBA and NV21; models 128x128 (the face detector's
// size), 224x224 and 256x256, RGB NHWC with ImageNet's mean and std; STRETCH and LETTERBOX.
//
// Names are FRAME/FORMAT/MODEL/FIT/SIDE, registered so that the two sides of a case run one after
// the other. Before a case's first timing both sides convert the frame once and must agree within
// 2 in 0..255 pixel units (tests/vision/test_pixel_input_vs_opencv.cc), or both are skipped with
// an error. OpenCV runs on one thread (cv::setNumThreads(1)), as the converter does.
// Built without the OpenCV side when OpenCV is not found.
//
//   bench_pixel_input --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/pixel_image.h"

#ifdef POLYHEAD_BENCH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace {

using polyhead::ImageFit;
using polyhead::PixelFormat;

struct Case {
  int frame_w, frame_h;
  PixelFormat format;
  int model;  // square side
  ImageFit fit;

  std::string name() const {
    return std::to_string(frame_w) + "x" + std::to_string(frame_h) + "/" +
           polyhead::to_string(format) + "/" + std::to_string(model) + "/" +
           (fit == ImageFit::kStretch ? "stretch" : "letterbox");
  }
};

// A picture of smooth gradients with a little noise, like a camera's (noise in every byte would
// make the YUV decode clamp at random, which real frames rarely do), in the case's format. NV21
// from it by the BT.601 limited-range forward matrix, chroma from the top-left pixel of each 2x2
// block.
std::vector<uint8_t> make_frame(const Case& c) {
  const int w = c.frame_w, h = c.frame_h;
  std::mt19937 rng(19);
  auto byte = [](double v) { return static_cast<uint8_t>(std::clamp(v, 0.0, 255.0)); };
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = rgb.data() + (static_cast<size_t>(y) * w + x) * 3;
      const double noise = static_cast<double>(rng() % 16) - 8;
      p[0] = byte(255.0 * x / w + noise);
      p[1] = byte(255.0 * y / h + noise);
      p[2] = byte(128 + 100 * std::sin((x + y) / 40.0) + noise);
    }
  if (c.format == PixelFormat::kNv21) {
    std::vector<uint8_t> frame(static_cast<size_t>(w) * h * 3 / 2);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const uint8_t* p = rgb.data() + (static_cast<size_t>(y) * w + x) * 3;
        frame[static_cast<size_t>(y) * w + x] =
            byte(16 + 0.257 * p[0] + 0.504 * p[1] + 0.098 * p[2]);
        if (x % 2 || y % 2) continue;
        uint8_t* vu = frame.data() + static_cast<size_t>(h + y / 2) * w + x;
        vu[0] = byte(128 + 0.439 * p[0] - 0.368 * p[1] - 0.071 * p[2]);
        vu[1] = byte(128 - 0.148 * p[0] - 0.291 * p[1] + 0.439 * p[2]);
      }
    return frame;
  }
  const size_t bpp = polyhead::bytes_per_pixel(c.format);
  std::vector<uint8_t> frame(static_cast<size_t>(w) * h * bpp);
  for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i) {
    const uint8_t* p = rgb.data() + i * 3;
    uint8_t* q = frame.data() + i * bpp;
    const bool bgr = c.format == PixelFormat::kBgr;
    q[0] = bgr ? p[2] : p[0];
    q[1] = p[1];
    q[2] = bgr ? p[0] : p[2];
    if (bpp == 4) q[3] = 255;
  }
  return frame;
}

// A model that reads one RGB NHWC image input of side `model` (ImageNet's normalisation).
polyhead::Model make_model(const Case& c) {
  polyhead::Preprocess p;
  p.width = p.height = c.model;
  p.fit = c.fit;
  p.pixel_scale = 1.f;
  p.mean = {0.485f, 0.456f, 0.406f};
  p.std = {0.229f, 0.224f, 0.225f};
  polyhead::ModelBuilder b;
  const int image = b.add_input("image", polyhead::Shape{1, c.model, c.model, 3}, p);
  auto copy = b.clamp("copy", image, -1e30f, 1e30f);
  if (!copy.is_ok() || !b.add_task("copy", polyhead::TaskKind::kOther, {{"pixels", *copy}}).is_ok())
    std::abort();
  auto bytes = b.finish();
  if (!bytes.is_ok()) std::abort();
  auto model = polyhead::Model::from_bytes(*bytes);
  if (!model.is_ok()) std::abort();
  return *model;
}

// Everything one case needs, made once (the first side to run makes it).
struct Setup {
  Case c;
  std::vector<uint8_t> frame;
  polyhead::Model model;
  polyhead::Plan plan;
  polyhead::PixelImage image;
  std::vector<float> polyhead_out;  // the converter's result, to check the OpenCV side against
};

std::shared_ptr<Setup> setup(const Case& c) {
  auto model = make_model(c);
  auto engine = polyhead::Engine::create(model, {1, 8});
  if (!engine.is_ok()) std::abort();
  auto plan = engine->prepare();
  if (!plan.is_ok()) std::abort();
  auto s = std::make_shared<Setup>(Setup{c, make_frame(c), model, *plan, {}, {}});
  s->image = {s->frame.data(), c.frame_w, c.frame_h, 0, c.format};
  auto t = s->plan.set_input_pixels("image", s->image);
  if (!t.is_ok()) std::abort();
  auto buffer = s->plan.input_buffer("image");
  if (!buffer.is_ok()) std::abort();
  s->polyhead_out.assign(*buffer, *buffer + static_cast<size_t>(c.model) * c.model * 3);
  return s;
}

void run_polyhead(benchmark::State& state, std::shared_ptr<Setup> s) {
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    auto t = s->plan.set_input_pixels("image", s->image);
    if (!t.is_ok()) return state.SkipWithError(t.status().message().c_str());
    benchmark::DoNotOptimize(t->scale_x);
    benchmark::ClobberMemory();
  }
}

#ifdef POLYHEAD_BENCH_OPENCV
// The OpenCV pipeline, with its matrices kept between calls (as a camera loop would keep them).
struct OpenCvPipeline {
  cv::Mat rgb, resized, padded;
  std::vector<float> out;

  void run(const Setup& s, const polyhead::ImageTransform& t) {
    const Case& c = s.c;
    const bool yuv = c.format == PixelFormat::kNv21;
    const cv::Mat frame(yuv ? c.frame_h * 3 / 2 : c.frame_h, c.frame_w,
                        yuv                              ? CV_8UC1
                        : c.format == PixelFormat::kRgba ? CV_8UC4
                                                         : CV_8UC3,
                        const_cast<uint8_t*>(s.frame.data()));
    const int code = yuv                              ? cv::COLOR_YUV2RGB_NV21
                     : c.format == PixelFormat::kRgba ? cv::COLOR_RGBA2RGB
                                                      : cv::COLOR_BGR2RGB;
    cv::cvtColor(frame, rgb, code);
    const int rw = t.resized_width(), rh = t.resized_height();
    const bool shrink = rw <= c.frame_w && rh <= c.frame_h;
    cv::resize(rgb, resized, cv::Size(rw, rh), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
    const cv::Mat* canvas = &resized;
    if (c.fit == ImageFit::kLetterbox) {
      const int ox = static_cast<int>(t.offset_x), oy = static_cast<int>(t.offset_y);
      cv::copyMakeBorder(resized, padded, oy, c.model - rh - oy, ox, c.model - rw - ox,
                         cv::BORDER_CONSTANT, cv::Scalar::all(0));
      canvas = &padded;
    }
    // (p / 255 - mean) / std as p * mul + add, channel by channel.
    const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    float mul[3], add[3];
    for (int i = 0; i < 3; ++i) {
      mul[i] = 1.f / 255.f / sd[i];
      add[i] = -mean[i] / sd[i];
    }
    out.resize(static_cast<size_t>(c.model) * c.model * 3);
    float* dst = out.data();
    for (int y = 0; y < canvas->rows; ++y) {
      const uint8_t* row = canvas->ptr<uint8_t>(y);
      for (int x = 0; x < canvas->cols; ++x)
        for (int i = 0; i < 3; ++i) *dst++ = row[x * 3 + i] * mul[i] + add[i];
    }
  }
};

void run_opencv(benchmark::State& state, std::shared_ptr<Setup> s) {
  auto t = polyhead::image_transform_for(s->c.frame_w, s->c.frame_h, s->model.inputs()[0]);
  if (!t.is_ok()) return state.SkipWithError(t.status().message().c_str());
  OpenCvPipeline pipeline;
  pipeline.run(*s, *t);
  // Both sides must compute the same input (pixel units: value * std * 255).
  const float sd[3] = {0.229f, 0.224f, 0.225f};
  double max = 0;
  for (size_t i = 0; i < pipeline.out.size(); ++i)
    max = std::max(max, std::fabs(pipeline.out[i] - s->polyhead_out[i]) * sd[i % 3] * 255.0);
  if (max > 2.0) {
    const std::string error = "OpenCV and Polyhead differ by " + std::to_string(max) + " pixels";
    return state.SkipWithError(error.c_str());
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the library's idiom
    pipeline.run(*s, *t);
    benchmark::DoNotOptimize(pipeline.out.data());
    benchmark::ClobberMemory();
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
#ifdef POLYHEAD_BENCH_OPENCV
  // One thread, as set_input_pixels: the comparison is of the work each side does per frame.
  cv::setNumThreads(1);
#endif
  for (const auto& [w, h] : {std::pair{640, 480}, std::pair{1280, 720}})
    for (PixelFormat format : {PixelFormat::kBgr, PixelFormat::kRgba, PixelFormat::kNv21})
      for (int model : {128, 224, 256})
        for (ImageFit fit : {ImageFit::kStretch, ImageFit::kLetterbox}) {
          const Case c{w, h, format, model, fit};
          const std::shared_ptr<Setup> s = setup(c);
          // The library keeps the registered benchmarks until exit (the analyzer sees a leak).
          benchmark::RegisterBenchmark((c.name() + "/polyhead").c_str(), run_polyhead, s)  // NOLINT
              ->Unit(benchmark::kMicrosecond);
#ifdef POLYHEAD_BENCH_OPENCV
          benchmark::RegisterBenchmark((c.name() + "/opencv").c_str(), run_opencv, s)  // NOLINT
              ->Unit(benchmark::kMicrosecond);
#endif
        }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
