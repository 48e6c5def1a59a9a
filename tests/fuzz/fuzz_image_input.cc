// libFuzzer harness: what `polyhead run --image` and a camera loop do to pixels before inference.
// The first byte picks the path, the second the model input it is fitted to (every layout, colour
// order and fit on a few sizes, prepared once):
//   even first byte: the rest is an image file, decoded by OpenCV (cv::imdecode, as
//     vision::load_image's cv::imread) and written by vision::preprocess into the plan's input;
//   odd first byte: a frame header (int16 width, int16 height, format, uint16 stride) and raw
//     pixels, given to Plan::set_input_pixels with their true size (PixelImage::bytes) and to
//     write_pixels; both must agree byte for byte (the allocation-free path is documented to do
//     what write_pixels does).
// OpenCV's decoders are not instrumented: coverage guides the fuzzer through our code.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/pixel_image.h"
#include "polyhead/vision/preprocess.h"

namespace {

using namespace polyhead;

struct Target {
  Model model;
  Engine engine;
  Plan plan;
  const InputInfo* input;
  size_t elements;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_image_input setup: %s\n", what.c_str());
  std::abort();
}

// input -> mean: the smallest model with an image input of this pre-processing.
Model image_model(Layout layout, ColorOrder color, ImageFit fit, int width, int height) {
  ModelBuilder b;
  Preprocess pre;
  pre.width = width;
  pre.height = height;
  pre.layout = layout;
  pre.color = color;
  pre.fit = fit;
  const int c = color == ColorOrder::kGray ? 1 : 3;
  pre.mean.assign(c, 0.5f);
  pre.std.assign(c, 0.25f);
  const Shape shape =
      layout == Layout::kNhwc ? Shape{1, height, width, c} : Shape{1, c, height, width};
  const int x = b.add_input("image", shape, pre);
  auto m = b.mean("pool", x, false);
  if (!m.is_ok()) fail(m.status().to_string());
  if (Status s = b.add_task("pool", TaskKind::kOther, {{"value", *m}}); !s.is_ok())
    fail(s.to_string());
  auto bytes = b.finish();
  if (!bytes.is_ok()) fail(bytes.status().to_string());
  auto model = Model::from_bytes(*bytes);
  if (!model.is_ok()) fail(model.status().to_string());
  return *model;
}

std::vector<Target>& targets() {
  static std::vector<Target>* all = [] {
    // scripts/fuzz.sh and ctest set OPENCV_IO_MAX_IMAGE_PIXELS=65536: OpenCV reads it when it
    // is loaded, too early for setenv here. Larger images would only measure its decoders.
    cv::setNumThreads(0);
    auto* t = new std::vector<Target>;
    const int sizes[][2] = {{8, 8}, {7, 5}, {5, 9}};
    int k = 0;
    for (Layout layout : {Layout::kNhwc, Layout::kNchw})
      for (ColorOrder color : {ColorOrder::kRgb, ColorOrder::kBgr, ColorOrder::kGray})
        for (ImageFit fit : {ImageFit::kStretch, ImageFit::kLetterbox, ImageFit::kCrop}) {
          const int* wh = sizes[k++ % 3];
          Model model = image_model(layout, color, fit, wh[0], wh[1]);
          auto engine = Engine::create(model);
          if (!engine.is_ok()) fail(engine.status().to_string());
          auto plan = engine->prepare();
          if (!plan.is_ok()) fail(plan.status().to_string());
          t->push_back({model, *engine, *plan, nullptr, 0});
        }
    for (Target& one : *t) {
      one.input = &one.model.inputs()[0];
      one.elements = static_cast<size_t>(one.input->shape.elements());
    }
    return t;
  }();
  return *all;
}

uint16_t u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}

void decoded(Target& t, bool unchanged, const uint8_t* data, size_t size) {
  cv::Mat image;
  try {
    const cv::Mat raw(1, static_cast<int>(size), CV_8U, const_cast<uint8_t*>(data));
    image = cv::imdecode(raw, unchanged ? cv::IMREAD_UNCHANGED : cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    return;  // vision::load_image turns this into a Status
  }
  if (image.empty()) return;
  auto dst = t.plan.input_buffer(t.input->name);
  if (!dst.is_ok()) std::abort();
  (void)vision::preprocess(image, *t.input, *dst);
}

void raw_frame(Target& t, const uint8_t* data, size_t size) {
  if (size < 7) return;
  PixelImage frame;
  frame.width = static_cast<int16_t>(u16(data));
  frame.height = static_cast<int16_t>(u16(data + 2));
  frame.format = static_cast<PixelFormat>(data[4] % 7);
  frame.stride = u16(data + 5);
  frame.data = data + 7;
  frame.bytes = size - 7;
  if (frame.bytes == 0) frame.data = nullptr;
  auto in_plan = t.plan.set_input_pixels(t.input->name, frame);
  std::vector<float> direct(t.elements, -1.f);
  auto by_function = write_pixels(frame, *t.input, direct.data());
  if (in_plan.is_ok() != by_function.is_ok()) {
    std::fprintf(stderr, "set_input_pixels %s but write_pixels %s\n",
                 in_plan.is_ok() ? "accepted the frame" : in_plan.status().to_string().c_str(),
                 by_function.is_ok() ? "accepted it" : by_function.status().to_string().c_str());
    std::abort();
  }
  if (!in_plan.is_ok()) return;
  auto dst = t.plan.input_buffer(t.input->name);
  if (!dst.is_ok() || std::memcmp(*dst, direct.data(), t.elements * sizeof(float)) != 0) {
    std::fprintf(stderr, "set_input_pixels and write_pixels wrote different values\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::vector<Target>& all = targets();
  Target& t = all[data[1] % all.size()];
  if (data[0] & 1)
    raw_frame(t, data + 2, size - 2);
  else
    decoded(t, (data[0] & 2) != 0, data + 2, size - 2);
  return 0;
}
