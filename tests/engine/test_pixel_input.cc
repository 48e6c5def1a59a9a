// Camera frames into a model's image input without OpenCV (Plan::set_input_pixels, write_pixels):
// exact values on small hand-computed frames for every pixel format, strides, colour orders,
// layouts, normalisation, area shrink, bilinear enlarge, letterbox and crop, the returned
// ImageTransform; the caller errors; Plan::bind_output; and no allocation per frame or run.
//
// The models copy their image input to a task output (a clamp to +-1e30), so the output shows
// exactly what the frame conversion wrote.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "polyhead/engine.h"
#include "polyhead/model_builder.h"
#include "polyhead/pixel_image.h"
#include "support/allocation_counter.h"
#include "support/pixel_formats.h"

using namespace polyhead;
using Approx = Catch::Detail::Approx;
using Catch::Contains;

namespace {

constexpr const auto& kAllFormats = testing::kAllPixelFormats;
using testing::is_yuv;

// Three tasks: "copy" (the image input unchanged, output "pixels"), "mean" (its mean, output
// "mean") and "aux" (output "values": a copy of input "aux", which is not an image).
Model copy_model(int width, int height, Preprocess p) {
  p.width = width;
  p.height = height;
  const int64_t c = p.color == ColorOrder::kGray ? 1 : 3;
  const Shape shape =
      p.layout == Layout::kNhwc ? Shape{1, height, width, c} : Shape{1, c, height, width};
  ModelBuilder b;
  const int image = b.add_input("camera", shape, p);
  Preprocess not_an_image;
  not_an_image.color = ColorOrder::kNone;
  const int aux = b.add_input("aux", Shape{1, 4}, not_an_image);
  auto copy = b.clamp("copy", image, -1e30f, 1e30f);
  auto mean = b.mean("mean", image);
  auto aux_copy = b.clamp("aux_copy", aux, -1e30f, 1e30f);
  REQUIRE(copy.is_ok());
  REQUIRE(mean.is_ok());
  REQUIRE(aux_copy.is_ok());
  REQUIRE(b.add_task("copy", TaskKind::kOther, {{"pixels", *copy}}).is_ok());
  REQUIRE(b.add_task("mean", TaskKind::kOther, {{"mean", *mean}}).is_ok());
  REQUIRE(b.add_task("aux", TaskKind::kOther, {{"values", *aux_copy}}).is_ok());
  auto bytes = b.finish();
  REQUIRE(bytes.is_ok());
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  return *model;
}

Plan prepare(const Model& model, const std::vector<std::string>& tasks = {"copy"}) {
  auto engine = Engine::create(model, {1, 8});
  REQUIRE(engine.is_ok());
  auto plan = engine->prepare(tasks);
  REQUIRE(plan.is_ok());
  return *plan;
}

// Raw pixel values (pixel_scale 255, mean 0, std 1), RGB, NHWC, stretched.
Preprocess raw(ColorOrder color = ColorOrder::kRgb, ImageFit fit = ImageFit::kStretch) {
  Preprocess p;
  p.color = color;
  p.fit = fit;
  return p;
}

// The input as the model saw it, after set_input_pixels and a run of task "copy".
std::vector<float> converted(Plan& plan, const PixelImage& frame,
                             ImageTransform* transform = nullptr) {
  auto t = plan.set_input_pixels("camera", frame);
  REQUIRE(t.is_ok());
  if (transform) *transform = *t;
  REQUIRE(plan.run({"copy"}).is_ok());
  auto out = plan.output("copy", "pixels");
  REQUIRE(out.is_ok());
  return std::vector<float>(out->f32(), out->f32() + out->shape.elements());
}

// A frame in caller memory. Packed formats: pixel(x, y) gives R, G, B (grey: R only); the alpha
// byte is 0x77 and must be ignored. `pad` bytes of garbage (0xEE) end every row.
struct Frame {
  std::vector<uint8_t> bytes;
  PixelImage image;
};

using RgbAt = std::function<void(int x, int y, uint8_t rgb[3])>;

Frame packed_frame(int w, int h, PixelFormat f, const RgbAt& pixel, size_t pad = 0) {
  const size_t bpp = bytes_per_pixel(f);
  Frame frame;
  const size_t stride = static_cast<size_t>(w) * bpp + pad;
  frame.bytes.assign(stride * static_cast<size_t>(h), 0xEE);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t rgb[3];
      pixel(x, y, rgb);
      uint8_t* p = frame.bytes.data() + static_cast<size_t>(y) * stride + x * bpp;
      switch (f) {
        case PixelFormat::kGray:
          p[0] = rgb[0];
          break;
        case PixelFormat::kRgb:
        case PixelFormat::kRgba:
          p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
          if (bpp == 4) p[3] = 0x77;
          break;
        case PixelFormat::kBgr:
        case PixelFormat::kBgra:
          p[0] = rgb[2], p[1] = rgb[1], p[2] = rgb[0];
          if (bpp == 4) p[3] = 0x77;
          break;
        default:
          FAIL("not a packed format");
      }
    }
  frame.image = {frame.bytes.data(), w, h, pad ? stride : 0, f};
  return frame;
}

// A YUV 4:2:0 frame: Y(x, y) and the chroma (U, V) of each 2x2 block.
using YAt = std::function<uint8_t(int x, int y)>;
using UvAt = std::function<void(int bx, int by, uint8_t* u, uint8_t* v)>;

Frame yuv_frame(int w, int h, PixelFormat f, const YAt& luma, const UvAt& chroma, size_t pad = 0) {
  Frame frame;
  const size_t stride = static_cast<size_t>(w) + pad;
  frame.bytes.assign(stride * static_cast<size_t>(h + h / 2), 0xEE);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) frame.bytes[static_cast<size_t>(y) * stride + x] = luma(x, y);
  uint8_t* uv = frame.bytes.data() + stride * static_cast<size_t>(h);
  for (int by = 0; by < h / 2; ++by)
    for (int bx = 0; bx < w / 2; ++bx) {
      uint8_t u, v;
      chroma(bx, by, &u, &v);
      uint8_t* p = uv + static_cast<size_t>(by) * stride + 2 * bx;
      p[0] = f == PixelFormat::kNv21 ? v : u;
      p[1] = f == PixelFormat::kNv21 ? u : v;
    }
  frame.image = {frame.bytes.data(), w, h, pad ? stride : 0, f};
  return frame;
}

// BT.601 limited range as OpenCV's COLOR_YUV2RGB_NV21 computes it (Y - 16 clamped at 0), each
// channel clamped to 0..255.
void bt601(double y, double u, double v, double rgb[3]) {
  const double yy = 1.164 * std::max(0.0, y - 16), cu = u - 128, cv = v - 128;
  rgb[0] = std::clamp(yy + 1.596 * cv, 0.0, 255.0);
  rgb[1] = std::clamp(yy - 0.813 * cv - 0.391 * cu, 0.0, 255.0);
  rgb[2] = std::clamp(yy + 2.018 * cu, 0.0, 255.0);
}

// Distinct values per pixel and channel of a 4x2 test frame.
void test_rgb(int x, int y, uint8_t rgb[3]) {
  rgb[0] = static_cast<uint8_t>(10 * x + 1);
  rgb[1] = static_cast<uint8_t>(100 + 20 * y + x);
  rgb[2] = static_cast<uint8_t>(250 - 30 * x - 7 * y);
}

// Chroma (U, V) and luma of the 4x2 YUV test frame.
uint8_t test_y(int x, int y) {
  static const uint8_t kY[2][4] = {{100, 10, 235, 16}, {50, 180, 128, 255}};
  return kY[y][x];
}
void test_uv(int bx, int, uint8_t* u, uint8_t* v) {
  *u = bx == 0 ? 90 : 200;
  *v = bx == 0 ? 200 : 60;
}

// NHWC value of channel c at (x, y) of a w-wide, C-channel tensor.
float at(const std::vector<float>& t, int w, int channels, int x, int y, int c) {
  return t[(static_cast<size_t>(y) * w + x) * channels + c];
}

}  // namespace

TEST_CASE("pixel input: packed formats at the model's size write their pixels unchanged") {
  Plan plan = prepare(copy_model(4, 2, raw()));
  for (PixelFormat f :
       {PixelFormat::kRgb, PixelFormat::kBgr, PixelFormat::kRgba, PixelFormat::kBgra}) {
    INFO(to_string(f));
    const Frame frame = packed_frame(4, 2, f, test_rgb);
    ImageTransform t;
    const std::vector<float> out = converted(plan, frame.image, &t);
    CHECK(t.scale_x == 1.f);
    CHECK(t.scale_y == 1.f);
    CHECK(t.offset_x == 0.f);
    CHECK(t.offset_y == 0.f);
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 4; ++x) {
        uint8_t rgb[3];
        test_rgb(x, y, rgb);
        for (int c = 0; c < 3; ++c) CHECK(at(out, 4, 3, x, y, c) == rgb[c]);
      }
  }
  // A grey frame fills all three channels of an RGB model.
  const Frame grey = packed_frame(4, 2, PixelFormat::kGray, test_rgb);
  const std::vector<float> out = converted(plan, grey.image);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      uint8_t rgb[3];
      test_rgb(x, y, rgb);
      for (int c = 0; c < 3; ++c) CHECK(at(out, 4, 3, x, y, c) == rgb[0]);
    }
}

TEST_CASE("pixel input: NV21 and NV12 convert with BT.601 limited range") {
  Plan plan = prepare(copy_model(4, 2, raw()));
  for (PixelFormat f : {PixelFormat::kNv21, PixelFormat::kNv12}) {
    INFO(to_string(f));
    const Frame frame = yuv_frame(4, 2, f, test_y, test_uv);
    const std::vector<float> out = converted(plan, frame.image);
    // By hand, Y 100, U 90, V 200: 1.164 * 84 = 97.776; R = 97.776 + 1.596 * 72,
    // G = 97.776 - 0.813 * 72 - 0.391 * -38, B = 97.776 + 2.018 * -38.
    CHECK(at(out, 4, 3, 0, 0, 0) == Approx(212.688).margin(1e-3));
    CHECK(at(out, 4, 3, 0, 0, 1) == Approx(54.098).margin(1e-3));
    CHECK(at(out, 4, 3, 0, 0, 2) == Approx(21.092).margin(1e-3));
    // Y 10 is below the limited range: Y - 16 counts as 0 (as in OpenCV), R = 1.596 * 72;
    // G and B would be negative and clamp to 0.
    CHECK(at(out, 4, 3, 1, 0, 0) == Approx(114.912).margin(1e-3));
    CHECK(at(out, 4, 3, 1, 0, 1) == 0.f);
    CHECK(at(out, 4, 3, 1, 0, 2) == 0.f);
    // Y 255, U 200, V 60: 1.164 * 239 = 278.196; R = 278.196 - 108.528 = 169.668,
    // G = 278.196 + 55.284 - 28.152 clamps to 255, B = 278.196 + 145.296 clamps to 255.
    CHECK(at(out, 4, 3, 3, 1, 0) == Approx(169.668).margin(1e-3));
    CHECK(at(out, 4, 3, 3, 1, 1) == 255.f);
    CHECK(at(out, 4, 3, 3, 1, 2) == 255.f);
    // Every pixel by the formula; each 2x2 block shares its chroma.
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 4; ++x) {
        uint8_t u, v;
        test_uv(x / 2, y / 2, &u, &v);
        double rgb[3];
        bt601(test_y(x, y), u, v, rgb);
        for (int c = 0; c < 3; ++c) {
          INFO("x " << x << " y " << y << " c " << c);
          CHECK(at(out, 4, 3, x, y, c) == Approx(rgb[c]).margin(1e-3));
        }
      }
  }
}

TEST_CASE("pixel input: row padding (stride > width * bytes per pixel) never reaches the input") {
  Plan plan = prepare(copy_model(6, 4, raw()));
  auto rgb = [](int x, int y, uint8_t v[3]) {
    v[0] = static_cast<uint8_t>(17 * x + 3 * y);
    v[1] = static_cast<uint8_t>(200 - 11 * x);
    v[2] = static_cast<uint8_t>(40 * y + x);
  };
  auto luma = [](int x, int y) { return static_cast<uint8_t>(30 + 25 * x + 9 * y); };
  auto chroma = [](int bx, int by, uint8_t* u, uint8_t* v) {
    *u = static_cast<uint8_t>(100 + 20 * bx + by);
    *v = static_cast<uint8_t>(150 - 15 * bx + 3 * by);
  };
  for (PixelFormat f : kAllFormats) {
    INFO(to_string(f));
    const Frame tight = is_yuv(f) ? yuv_frame(6, 4, f, luma, chroma) : packed_frame(6, 4, f, rgb);
    const Frame padded =
        is_yuv(f) ? yuv_frame(6, 4, f, luma, chroma, 5) : packed_frame(6, 4, f, rgb, 5);
    CHECK(padded.image.stride == 6 * bytes_per_pixel(f) + 5);
    const std::vector<float> expected = converted(plan, tight.image);
    CHECK(converted(plan, padded.image) == expected);
    // An explicit stride equal to the packed width is the same as 0.
    PixelImage explicit_stride = tight.image;
    explicit_stride.stride = 6 * bytes_per_pixel(f);
    CHECK(converted(plan, explicit_stride) == expected);
    // Shrinking and enlarging read the same pixels too.
    for (const auto& [w, h] : {std::pair{3, 2}, std::pair{8, 6}}) {
      INFO(w << "x" << h);
      Plan resized = prepare(copy_model(w, h, raw()));
      CHECK(converted(resized, padded.image) == converted(resized, tight.image));
    }
  }
}

TEST_CASE("pixel input: the model's colour order (RGB, BGR, grey from colour)") {
  const Frame rgb = packed_frame(4, 2, PixelFormat::kRgb, test_rgb);
  const Frame bgra = packed_frame(4, 2, PixelFormat::kBgra, test_rgb);
  Plan bgr_model = prepare(copy_model(4, 2, raw(ColorOrder::kBgr)));
  for (const Frame* frame : {&rgb, &bgra}) {
    const std::vector<float> out = converted(bgr_model, frame->image);
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 4; ++x) {
        uint8_t v[3];
        test_rgb(x, y, v);
        CHECK(at(out, 4, 3, x, y, 0) == v[2]);
        CHECK(at(out, 4, 3, x, y, 1) == v[1]);
        CHECK(at(out, 4, 3, x, y, 2) == v[0]);
      }
  }
  // A BGR model from NV21: the decoded colours, blue first.
  const Frame nv21 = yuv_frame(4, 2, PixelFormat::kNv21, test_y, test_uv);
  CHECK(converted(bgr_model, nv21.image)[0] == Approx(21.092).margin(1e-3));

  Plan grey_model = prepare(copy_model(4, 2, raw(ColorOrder::kGray)));
  for (PixelFormat f :
       {PixelFormat::kRgb, PixelFormat::kBgr, PixelFormat::kRgba, PixelFormat::kBgra}) {
    INFO(to_string(f));
    const std::vector<float> out = converted(grey_model, packed_frame(4, 2, f, test_rgb).image);
    REQUIRE(out.size() == 8);
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 4; ++x) {
        uint8_t v[3];
        test_rgb(x, y, v);
        CHECK(out[y * 4 + x] == Approx(0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]).margin(1e-3));
      }
  }
  // (1, 100, 250): 0.299 + 58.7 + 28.5 by hand.
  CHECK(converted(grey_model, rgb.image)[0] == Approx(87.499).margin(1e-3));
  // A grey frame into a grey model: unchanged.
  const Frame grey = packed_frame(4, 2, PixelFormat::kGray, test_rgb);
  const std::vector<float> same = converted(grey_model, grey.image);
  for (int x = 0; x < 4; ++x) CHECK(same[static_cast<size_t>(x)] == 10 * x + 1);
  // Grey from NV21: the weights applied to the decoded colours.
  for (PixelFormat f : {PixelFormat::kNv21, PixelFormat::kNv12}) {
    const std::vector<float> out = converted(grey_model, yuv_frame(4, 2, f, test_y, test_uv).image);
    double c[3];
    bt601(100, 90, 200, c);
    CHECK(out[0] == Approx(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]).margin(1e-3));
    CHECK(out[0] == Approx(0.299 * 212.688 + 0.587 * 54.098 + 0.114 * 21.092).margin(1e-3));
  }
}

TEST_CASE("pixel input: NCHW writes planes, NHWC interleaves") {
  const Frame frame = packed_frame(4, 2, PixelFormat::kBgr, test_rgb);
  Preprocess nchw = raw();
  nchw.layout = Layout::kNchw;
  Plan planar = prepare(copy_model(4, 2, nchw));
  Plan interleaved = prepare(copy_model(4, 2, raw()));
  const std::vector<float> p = converted(planar, frame.image);
  const std::vector<float> i = converted(interleaved, frame.image);
  REQUIRE(p.size() == 24);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      uint8_t v[3];
      test_rgb(x, y, v);
      for (int c = 0; c < 3; ++c) {
        CHECK(p[static_cast<size_t>(c * 8 + y * 4 + x)] == v[c]);
        CHECK(i[static_cast<size_t>((y * 4 + x) * 3 + c)] == v[c]);
      }
    }
  // A grey NCHW model: one plane.
  Preprocess grey = nchw;
  grey.color = ColorOrder::kGray;
  Plan grey_planar = prepare(copy_model(4, 2, grey));
  const Frame g = packed_frame(4, 2, PixelFormat::kGray, test_rgb);
  const std::vector<float> gp = converted(grey_planar, g.image);
  REQUIRE(gp.size() == 8);
  CHECK(gp[5] == 11);  // x 1, y 1
}

TEST_CASE("pixel input: mean, std and pixel_scale normalise per channel") {
  const Frame frame = packed_frame(4, 2, PixelFormat::kRgb, test_rgb);
  // ImageNet: (p / 255 - mean) / std.
  Preprocess imagenet = raw();
  imagenet.pixel_scale = 1.f;
  imagenet.mean = {0.485f, 0.456f, 0.406f};
  imagenet.std = {0.229f, 0.224f, 0.225f};
  Plan plan = prepare(copy_model(4, 2, imagenet));
  std::vector<float> out = converted(plan, frame.image);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x) {
      uint8_t v[3];
      test_rgb(x, y, v);
      for (int c = 0; c < 3; ++c)
        CHECK(at(out, 4, 3, x, y, c) ==
              Approx((v[c] / 255.0 - imagenet.mean[c]) / imagenet.std[c]).margin(1e-5));
    }
  // (1, 100, 250) by hand: (1/255 - 0.485) / 0.229 = -2.100762...
  CHECK(out[0] == Approx(-2.1007625).margin(1e-5));
  // [-1, 1]: one mean and std for all channels, pixel_scale 2 ((p / 255 * 2 - 1) / 1).
  Preprocess symmetric = raw();
  symmetric.pixel_scale = 2.f;
  symmetric.mean = {1.f};
  symmetric.std = {1.f};
  Plan plan2 = prepare(copy_model(4, 2, symmetric));
  out = converted(plan2, frame.image);
  CHECK(out[0] == Approx(2.0 / 255 - 1).margin(1e-6));    // R 1
  CHECK(out[2] == Approx(500.0 / 255 - 1).margin(1e-6));  // B 250
}

TEST_CASE("pixel input: shrinking averages exact boxes (area)") {
  // 4x4 -> 2x2: every model pixel is the mean of a 2x2 block, exactly (weights 0.5 x 0.5).
  auto rgb = [](int x, int y, uint8_t v[3]) {
    v[0] = static_cast<uint8_t>(x * 10 + y * 50);
    v[1] = static_cast<uint8_t>((x + y) % 2 ? 255 : 0);
    v[2] = static_cast<uint8_t>(x == 3 && y == 3 ? 101 : 1);
  };
  Plan half = prepare(copy_model(2, 2, raw()));
  ImageTransform t;
  std::vector<float> out = converted(half, packed_frame(4, 4, PixelFormat::kRgb, rgb).image, &t);
  CHECK(t.scale_x == 0.5f);
  CHECK(t.scale_y == 0.5f);
  // R block (0,0): 0, 10, 50, 60 -> 30; block (1,1): 120, 130, 170, 180 -> 150.
  CHECK(at(out, 2, 3, 0, 0, 0) == 30.f);
  CHECK(at(out, 2, 3, 1, 0, 0) == 50.f);
  CHECK(at(out, 2, 3, 0, 1, 0) == 130.f);
  CHECK(at(out, 2, 3, 1, 1, 0) == 150.f);
  for (int i = 0; i < 4; ++i) CHECK(out[static_cast<size_t>(i * 3 + 1)] == 127.5f);
  CHECK(at(out, 2, 3, 0, 0, 2) == 1.f);
  CHECK(at(out, 2, 3, 1, 1, 2) == 26.f);  // (1 + 1 + 1 + 101) / 4

  // NV21 2x: the mean of the four decoded pixels (not the decode of the mean).
  auto luma = [](int x, int y) { return static_cast<uint8_t>(x == 0 && y == 0 ? 255 : 20); };
  auto chroma = [](int, int, uint8_t* u, uint8_t* v) { *u = 40, *v = 250; };
  Plan one = prepare(copy_model(1, 1, raw()));
  out = converted(one, yuv_frame(2, 2, PixelFormat::kNv21, luma, chroma).image);
  double a[3], b[3];
  bt601(255, 40, 250, a);
  bt601(20, 40, 250, b);
  for (int c = 0; c < 3; ++c)
    CHECK(out[static_cast<size_t>(c)] == Approx((a[c] + 3 * b[c]) / 4).margin(1e-3));

  // 3 -> 2 (scale 1.5): pixel 0 covers sources [0, 1.5), pixel 1 [1.5, 3): weights 2/3, 1/3.
  auto row = [](int x, int, uint8_t v[3]) {
    static const uint8_t kR[3] = {30, 90, 240};
    v[0] = v[1] = v[2] = kR[x];
  };
  Plan two = prepare(copy_model(2, 1, raw()));
  out = converted(two, packed_frame(3, 1, PixelFormat::kRgb, row).image);
  CHECK(out[0] == Approx(30 * 2 / 3.0 + 90 / 3.0).margin(1e-4));   // 50
  CHECK(out[3] == Approx(90 / 3.0 + 240 * 2 / 3.0).margin(1e-4));  // 190
  // 7 -> 2 (scale 3.5) in both axes at once: boxes [0, 3.5) and [3.5, 7).
  auto ramp = [](int x, int y, uint8_t v[3]) {
    v[0] = v[1] = v[2] = static_cast<uint8_t>(x + 10 * y);
  };
  Plan square = prepare(copy_model(2, 2, raw()));
  out = converted(square, packed_frame(7, 7, PixelFormat::kRgb, ramp).image);
  // Mean x over [0, 3.5) = (0 + 1 + 2 + 0.5 * 3) / 3.5; over [3.5, 7): (0.5 * 3 + 4 + 5 + 6) / 3.5.
  CHECK(at(out, 2, 3, 0, 0, 0) == Approx(11 * 4.5 / 3.5).margin(1e-4));
  CHECK(at(out, 2, 3, 1, 1, 0) == Approx(11 * 16.5 / 3.5).margin(1e-4));
}

TEST_CASE("pixel input: enlarging interpolates bilinearly with replicated edges") {
  // 2x1 -> 4x1 (scale 0.5): source x = (r + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
  auto row = [](int x, int, uint8_t v[3]) { v[0] = v[1] = v[2] = x == 0 ? 40 : 200; };
  Plan plan = prepare(copy_model(4, 1, raw()));
  ImageTransform t;
  const std::vector<float> out =
      converted(plan, packed_frame(2, 1, PixelFormat::kRgb, row).image, &t);
  CHECK(t.scale_x == 2.f);
  CHECK(out[0] == 40.f);
  CHECK(out[3] == Approx(0.75 * 40 + 0.25 * 200));
  CHECK(out[6] == Approx(0.25 * 40 + 0.75 * 200));
  CHECK(out[9] == 200.f);
  // One axis down (4 -> 2), the other up (1 -> 3): bilinear on both, no box averaging.
  auto ramp = [](int x, int, uint8_t v[3]) { v[0] = v[1] = v[2] = static_cast<uint8_t>(10 * x); };
  Plan mixed = prepare(copy_model(2, 3, raw()));
  const std::vector<float> m = converted(mixed, packed_frame(4, 1, PixelFormat::kRgb, ramp).image);
  // x: (r + 0.5) * 2 - 0.5 = 0.5, 2.5 -> 5 and 25 (the mean of the 2 nearest sources).
  for (int y = 0; y < 3; ++y) {
    CHECK(at(m, 2, 3, 0, y, 0) == Approx(5));
    CHECK(at(m, 2, 3, 1, y, 0) == Approx(25));
  }
}

TEST_CASE("pixel input: letterbox pads with normalised black, centred, the odd pixel last") {
  Preprocess p = raw(ColorOrder::kRgb, ImageFit::kLetterbox);
  p.pixel_scale = 1.f;
  p.mean = {0.5f, 0.25f, 0.f};
  p.std = {0.25f, 0.5f, 2.f};
  // 4x1 into 4x4: no resize, rows 1 is the frame, rows 0, 2 and 3 padding.
  Plan plan = prepare(copy_model(4, 4, p));
  auto white = [](int, int, uint8_t v[3]) { v[0] = v[1] = v[2] = 255; };
  ImageTransform t;
  std::vector<float> out = converted(plan, packed_frame(4, 1, PixelFormat::kRgb, white).image, &t);
  CHECK(t.offset_x == 0.f);
  CHECK(t.offset_y == 1.f);
  CHECK(t.scale_x == 1.f);
  CHECK(t.resized_width() == 4);
  CHECK(t.resized_height() == 1);
  const float black[3] = {-2.f, -0.5f, 0.f};  // -mean / std
  const float full[3] = {2.f, 1.5f, 0.5f};    // (1 - mean) / std
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c) {
        INFO("x " << x << " y " << y << " c " << c);
        CHECK(at(out, 4, 3, x, y, c) == Approx(y == 1 ? full[c] : black[c]));
      }
  // 8x4 into 4x4: shrunk 2x to 4x2 (box averages), one row of padding above and below.
  auto ramp = [](int x, int y, uint8_t v[3]) {
    v[0] = v[1] = v[2] = static_cast<uint8_t>(20 * x + y);
  };
  out = converted(plan, packed_frame(8, 4, PixelFormat::kRgb, ramp).image, &t);
  CHECK(t.scale_x == 0.5f);
  CHECK(t.scale_y == 0.5f);
  CHECK(t.offset_x == 0.f);
  CHECK(t.offset_y == 1.f);
  for (int x = 0; x < 4; ++x) {
    CHECK(at(out, 4, 3, x, 0, 0) == Approx(-2.f));
    CHECK(at(out, 4, 3, x, 3, 0) == Approx(-2.f));
    // Box mean of x in {2X, 2X + 1} and y in {0, 1}: 20 * (2X + 0.5) + 0.5.
    const double mean_pixel = 20 * (2 * x + 0.5) + 0.5;
    CHECK(at(out, 4, 3, x, 1, 0) == Approx((mean_pixel / 255 - 0.5) / 0.25).margin(1e-5));
    CHECK(at(out, 4, 3, x, 2, 0) == Approx((mean_pixel + 2) / 255 / 0.25 - 2).margin(1e-5));
  }
  // A tall frame, 2x4 into 4x4: columns 1 and 2 hold it, 0 and 3 are padding.
  out = converted(plan, packed_frame(2, 4, PixelFormat::kRgb, white).image, &t);
  CHECK(t.offset_x == 1.f);
  CHECK(t.offset_y == 0.f);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      CHECK(at(out, 4, 3, x, y, 1) == Approx(x == 1 || x == 2 ? full[1] : black[1]));
  // 1x4 into 4x4 pads 3 columns: 1 before, 2 after.
  out = converted(plan, packed_frame(1, 4, PixelFormat::kRgb, white).image, &t);
  CHECK(t.offset_x == 1.f);
  for (int x = 0; x < 4; ++x) CHECK(at(out, 4, 3, x, 2, 0) == Approx(x == 1 ? full[0] : black[0]));
  // Grey NCHW letterbox: padding -mean/std of its one channel.
  Preprocess g = raw(ColorOrder::kGray, ImageFit::kLetterbox);
  g.layout = Layout::kNchw;
  g.mean = {100.f};
  g.std = {10.f};
  Plan grey = prepare(copy_model(2, 2, g));
  out = converted(grey, packed_frame(2, 1, PixelFormat::kGray, white).image);
  CHECK(out == std::vector<float>{15.5f, 15.5f, -10.f, -10.f});  // the odd padding row goes last
}

TEST_CASE("pixel input: crop keeps the aspect ratio and cuts the centre") {
  // 8x4 into 2x2: scale max(2/8, 2/4) = 0.5 -> 4x2, then the centre 2 columns (1 and 2).
  Plan plan = prepare(copy_model(2, 2, raw(ColorOrder::kRgb, ImageFit::kCrop)));
  auto ramp = [](int x, int y, uint8_t v[3]) {
    v[0] = v[1] = v[2] = static_cast<uint8_t>(20 * x + 4 * y);
  };
  ImageTransform t;
  const std::vector<float> out =
      converted(plan, packed_frame(8, 4, PixelFormat::kRgb, ramp).image, &t);
  CHECK(t.scale_x == 0.5f);
  CHECK(t.scale_y == 0.5f);
  CHECK(t.offset_x == -1.f);
  CHECK(t.offset_y == 0.f);
  CHECK(t.resized_width() == 4);
  // Resized column X is the box mean over x in {2X, 2X + 1}: 20 * (2X + 0.5); rows: 4 * (2Y + 0.5).
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      CHECK(at(out, 2, 3, x, y, 0) == Approx(20 * (2 * (x + 1) + 0.5) + 4 * (2 * y + 0.5)));
  // A tall frame cuts rows: 2x6 into 2x2 -> no resize, rows 2 and 3.
  auto rows = [](int, int y, uint8_t v[3]) { v[0] = v[1] = v[2] = static_cast<uint8_t>(y); };
  const std::vector<float> tall =
      converted(plan, packed_frame(2, 6, PixelFormat::kRgb, rows).image, &t);
  CHECK(t.offset_y == -2.f);
  CHECK(at(tall, 2, 3, 0, 0, 0) == 2.f);
  CHECK(at(tall, 2, 3, 1, 1, 0) == 3.f);
}

TEST_CASE("pixel input: the returned transform maps model pixels to frame pixels and back") {
  for (ImageFit fit : {ImageFit::kStretch, ImageFit::kLetterbox, ImageFit::kCrop}) {
    INFO(to_string(fit));
    const Model model = copy_model(16, 12, raw(ColorOrder::kRgb, fit));
    Plan plan = prepare(model);
    for (const auto& [w, h] : {std::pair{64, 16}, std::pair{10, 30}, std::pair{16, 12}}) {
      INFO(w << "x" << h);
      std::vector<uint8_t> bytes(static_cast<size_t>(w * h * 4), 9);
      auto t = plan.set_input_pixels("camera", {bytes.data(), w, h, 0, PixelFormat::kRgba});
      REQUIRE(t.is_ok());
      CHECK(t->image_width == w);
      CHECK(t->image_height == h);
      CHECK(t->model_width == 16);
      CHECK(t->model_height == 12);
      // The transform image_transform_for announces for the input.
      auto announced = image_transform_for(w, h, model.inputs()[0]);
      REQUIRE(announced.is_ok());
      CHECK(announced->scale_x == t->scale_x);
      CHECK(announced->scale_y == t->scale_y);
      CHECK(announced->offset_x == t->offset_x);
      CHECK(announced->offset_y == t->offset_y);
      for (float mx : {0.f, 3.5f, 16.f})
        for (float my : {0.f, 6.f, 12.f}) {
          const PointF p = t->to_image(mx, my);
          const PointF back = t->to_model(p.x, p.y);
          CHECK(back.x == Approx(mx).margin(1e-4));
          CHECK(back.y == Approx(my).margin(1e-4));
        }
      // Even margins: the model's centre is the frame's centre in every fit.
      const PointF centre = t->to_image(8.f, 6.f);
      CHECK(centre.x == Approx(w / 2.0));
      CHECK(centre.y == Approx(h / 2.0));
    }
  }
  // By hand, 64x16 into 16x12: letterbox scale 0.25 -> 16x4, 4 rows of padding above; crop
  // scale 0.75 -> 48x12, 16 columns cut on the left.
  Plan letterbox = prepare(copy_model(16, 12, raw(ColorOrder::kRgb, ImageFit::kLetterbox)));
  Plan crop = prepare(copy_model(16, 12, raw(ColorOrder::kRgb, ImageFit::kCrop)));
  std::vector<uint8_t> bytes(64 * 16 * 3, 0);
  const PixelImage frame{bytes.data(), 64, 16, 0, PixelFormat::kRgb};
  auto lt = letterbox.set_input_pixels("camera", frame);
  auto ct = crop.set_input_pixels("camera", frame);
  REQUIRE(lt.is_ok());
  REQUIRE(ct.is_ok());
  CHECK(lt->scale_x == 0.25f);
  CHECK(lt->offset_y == 4.f);
  CHECK(lt->to_image(0.f, 4.f).y == 0.f);  // the first row of the frame
  CHECK(ct->scale_x == 0.75f);
  CHECK(ct->offset_x == -16.f);
  CHECK(ct->to_image(0.f, 0.f).x == Approx(16 / 0.75));
}

TEST_CASE("pixel input: rejected frames name the input and the offending value") {
  Plan plan = prepare(copy_model(4, 2, raw()));
  std::vector<uint8_t> bytes(64 * 64 * 4, 0);
  auto message = [&](const PixelImage& frame) {
    auto t = plan.set_input_pixels("camera", frame);
    REQUIRE_FALSE(t.is_ok());
    CHECK(t.status().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(t.status().message(), Contains("input 'camera'"));
    return t.status().message();
  };
  CHECK_THAT(message({nullptr, 4, 2, 0, PixelFormat::kRgb}), Contains("data is null"));
  CHECK_THAT(message({bytes.data(), 0, 2, 0, PixelFormat::kRgb}), Contains("size 0x2"));
  CHECK_THAT(message({bytes.data(), 4, 0, 0, PixelFormat::kRgb}), Contains("size 4x0"));
  CHECK_THAT(message({bytes.data(), -3, 2, 0, PixelFormat::kRgb}), Contains("size -3x2"));
  CHECK_THAT(message({bytes.data(), 4, -1, 0, PixelFormat::kRgb}), Contains("size 4x-1"));
  CHECK_THAT(message({bytes.data(), 32769, 2, 0, PixelFormat::kGray}),
             Contains("size 32769x2 is outside 1..32768"));
  CHECK_THAT(message({bytes.data(), 2, 32769, 0, PixelFormat::kGray}), Contains("size 2x32769"));
  CHECK_THAT(message({bytes.data(), 4, 2, 11, PixelFormat::kRgb}),
             Contains("stride 11 is below width * bytes per pixel = 12 (RGB)"));
  CHECK_THAT(message({bytes.data(), 4, 2, 15, PixelFormat::kBgra}),
             Contains("stride 15 is below width * bytes per pixel = 16 (BGRA)"));
  CHECK_THAT(message({bytes.data(), 4, 2, 3, PixelFormat::kNv21}),
             Contains("stride 3 is below width * bytes per pixel = 4 (NV21)"));
  CHECK_THAT(message({bytes.data(), 3, 2, 0, PixelFormat::kNv21}),
             Contains("NV21 needs an even width and height, found 3x2"));
  CHECK_THAT(message({bytes.data(), 4, 3, 0, PixelFormat::kNv12}),
             Contains("NV12 needs an even width and height, found 4x3"));
  CHECK_THAT(message({bytes.data(), 4, 2, 0, static_cast<PixelFormat>(42)}),
             Contains("unknown pixel format 42"));
  CHECK_THAT(message({bytes.data(), 4, 2, 0, static_cast<PixelFormat>(-1)}),
             Contains("unknown pixel format -1"));
  // write_pixels checks the same way.
  std::vector<float> dst(24);
  const Model model = copy_model(4, 2, raw());
  auto w = write_pixels({nullptr, 4, 2, 0, PixelFormat::kRgb}, model.inputs()[0], dst.data());
  REQUIRE_FALSE(w.is_ok());
  CHECK_THAT(w.status().message(), Contains("input 'camera'") && Contains("data is null"));
  w = write_pixels({bytes.data(), 4, 2, 0, PixelFormat::kRgb}, model.inputs()[0], nullptr);
  REQUIRE_FALSE(w.is_ok());
  CHECK_THAT(w.status().message(), Contains("input 'camera'") && Contains("null destination"));
}

TEST_CASE("pixel input: a frame whose buffer is too small for its size and stride is refused") {
  // The bytes a frame reads: every row at the stride but the last, which need not be padded.
  CHECK(frame_bytes(4, 2, 0, PixelFormat::kRgb) == 24);
  CHECK(frame_bytes(4, 2, 17, PixelFormat::kRgb) == 17 + 12);
  CHECK(frame_bytes(4, 2, 0, PixelFormat::kBgra) == 32);
  CHECK(frame_bytes(3, 3, 5, PixelFormat::kGray) == 5 * 2 + 3);
  CHECK(frame_bytes(4, 2, 0, PixelFormat::kNv21) == 8 + 4);        // Y, then one chroma row
  CHECK(frame_bytes(6, 4, 11, PixelFormat::kNv12) == 11 * 5 + 6);  // 4 Y rows, 2 chroma rows
  CHECK(frame_bytes(0, 2, 0, PixelFormat::kRgb) == 0);

  Plan plan = prepare(copy_model(4, 2, raw()));
  const Frame padded = packed_frame(4, 2, PixelFormat::kRgb, test_rgb, 5);  // stride 17
  const std::vector<float> expected = converted(plan, padded.image);
  PixelImage exact = padded.image;
  exact.bytes = 29;  // the last row's padding is not needed
  CHECK(converted(plan, exact) == expected);
  exact.bytes = padded.bytes.size();
  CHECK(converted(plan, exact) == expected);

  PixelImage short_frame = padded.image;
  short_frame.bytes = 28;
  auto t = plan.set_input_pixels("camera", short_frame);
  REQUIRE_FALSE(t.is_ok());
  CHECK(t.status().code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(t.status().message(), Contains("input 'camera'") &&
                                       Contains("4x2 RGB at stride 17 needs 29 bytes") &&
                                       Contains("the buffer has 28"));
  // NV21: the chroma plane counts.
  const Frame nv21 = yuv_frame(4, 2, PixelFormat::kNv21, test_y, test_uv);
  PixelImage no_chroma = nv21.image;
  no_chroma.bytes = 8;
  t = plan.set_input_pixels("camera", no_chroma);
  REQUIRE_FALSE(t.is_ok());
  CHECK_THAT(t.status().message(), Contains("needs 12 bytes, the buffer has 8"));
  // The refused frames left the input as the last good frame wrote it.
  REQUIRE(plan.run().is_ok());
  auto out = plan.output("copy", "pixels");
  REQUIRE(out.is_ok());
  CHECK(std::vector<float>(out->f32(), out->f32() + 24) == expected);
}

TEST_CASE("pixel input: inputs that cannot take a frame are named") {
  const Model model = copy_model(4, 2, raw());
  std::vector<uint8_t> bytes(4 * 2 * 3, 0);
  const PixelImage frame{bytes.data(), 4, 2, 0, PixelFormat::kRgb};
  Plan all = prepare(model, {});
  auto t = all.set_input_pixels("aux", frame);
  REQUIRE_FALSE(t.is_ok());
  CHECK_THAT(t.status().message(), Contains("input 'aux'") && Contains("colour order NONE"));
  t = all.set_input_pixels("nope", frame);
  REQUIRE_FALSE(t.is_ok());
  CHECK(t.status().code() == ErrorCode::kNotFound);
  CHECK_THAT(t.status().message(), Contains("unknown input 'nope'") && Contains("'camera'"));
  Plan copy_only = prepare(model, {"copy"});
  t = copy_only.set_input_pixels("aux", frame);
  REQUIRE_FALSE(t.is_ok());
  CHECK(t.status().code() == ErrorCode::kNotFound);
  CHECK_THAT(t.status().message(),
             Contains("input 'aux' is not read by the tasks of this plan") && Contains("'camera'"));
  // write_pixels on a non-image input.
  std::vector<float> dst(4);
  auto w = write_pixels(frame, model.inputs()[1], dst.data());
  REQUIRE_FALSE(w.is_ok());
  CHECK_THAT(w.status().message(), Contains("input 'aux'") && Contains("NONE"));
}

TEST_CASE("pixel input: a rejected frame leaves the input unset, or as it was") {
  const Model model = copy_model(4, 2, raw());
  Plan plan = prepare(model);
  std::vector<uint8_t> bytes(4 * 2 * 3, 50);
  const PixelImage bad{bytes.data(), 4, 2, 2, PixelFormat::kRgb};
  REQUIRE_FALSE(plan.set_input_pixels("camera", bad).is_ok());
  Status run = plan.run();
  REQUIRE_FALSE(run.is_ok());
  CHECK_THAT(run.message(), Contains("input 'camera' was not set"));
  REQUIRE_FALSE(plan.set_input_pixels("camera", {nullptr, 4, 2, 0, PixelFormat::kRgb}).is_ok());
  CHECK_FALSE(plan.run().is_ok());

  const Frame good = packed_frame(4, 2, PixelFormat::kRgb, test_rgb);
  const std::vector<float> first = converted(plan, good.image);
  for (const PixelImage& rejected :
       {bad, PixelImage{nullptr, 4, 2, 0, PixelFormat::kRgb},
        PixelImage{bytes.data(), 3, 2, 0, PixelFormat::kNv21},
        PixelImage{bytes.data(), 0, 2, 0, PixelFormat::kRgb},
        PixelImage{bytes.data(), 4, 2, 0, static_cast<PixelFormat>(9)}}) {
    REQUIRE_FALSE(plan.set_input_pixels("camera", rejected).is_ok());
    REQUIRE(plan.run().is_ok());
    auto out = plan.output("copy", "pixels");
    REQUIRE(out.is_ok());
    CHECK(std::vector<float>(out->f32(), out->f32() + 24) == first);
  }
}

TEST_CASE("pixel format names parse back, unknown names are refused") {
  const char* names[] = {"RGB", "BGR", "RGBA", "BGRA", "GRAY", "NV21", "NV12"};
  const size_t bytes[] = {3, 3, 4, 4, 1, 1, 1};
  for (size_t i = 0; i < std::size(kAllFormats); ++i) {
    const PixelFormat f = kAllFormats[i];
    CHECK(std::string(to_string(f)) == names[i]);
    CHECK(bytes_per_pixel(f) == bytes[i]);
    auto parsed = parse_pixel_format(to_string(f));
    REQUIRE(parsed.is_ok());
    CHECK(*parsed == f);
  }
  auto unknown = parse_pixel_format("YUYV");
  REQUIRE_FALSE(unknown.is_ok());
  CHECK_THAT(unknown.status().message(), Contains("'YUYV'") && Contains("NV12"));
  CHECK_FALSE(parse_pixel_format("").is_ok());
  CHECK(to_string(static_cast<PixelFormat>(42)) != nullptr);
}

TEST_CASE("bind_output copies an output into caller memory after each run of its task") {
  Plan plan = prepare(copy_model(4, 2, raw()), {"copy", "mean"});
  std::vector<float> a(24, -7.f), b(24, -7.f);
  REQUIRE(plan.bind_output("copy", "pixels", a.data(), a.size() * sizeof(float)).is_ok());
  const Frame frame = packed_frame(4, 2, PixelFormat::kBgr, test_rgb);
  REQUIRE(plan.set_input_pixels("camera", frame.image).is_ok());
  REQUIRE(plan.run().is_ok());
  auto out = plan.output("copy", "pixels");
  REQUIRE(out.is_ok());
  REQUIRE(out->bytes() == 96);
  CHECK(std::memcmp(a.data(), out->data, 96) == 0);
  uint8_t rgb[3];
  test_rgb(3, 1, rgb);
  CHECK(at(a, 4, 3, 3, 1, 2) == rgb[2]);

  // A run without the task leaves the buffer as it was.
  std::fill(a.begin(), a.end(), -7.f);
  REQUIRE(plan.run({"mean"}).is_ok());
  CHECK(a == std::vector<float>(24, -7.f));
  const char* mean_only[] = {"mean"};
  REQUIRE(plan.run(mean_only, 1).is_ok());
  CHECK(a == std::vector<float>(24, -7.f));
  REQUIRE(plan.run({"copy"}).is_ok());
  CHECK(std::memcmp(a.data(), plan.output("copy", "pixels")->data, 96) == 0);

  // Rebinding replaces: only the new buffer is written.
  std::fill(a.begin(), a.end(), -7.f);
  REQUIRE(plan.bind_output("copy", "pixels", b.data(), 96).is_ok());
  REQUIRE(plan.run().is_ok());
  CHECK(a == std::vector<float>(24, -7.f));
  CHECK(std::memcmp(b.data(), plan.output("copy", "pixels")->data, 96) == 0);
  // Null unbinds.
  std::fill(b.begin(), b.end(), -7.f);
  REQUIRE(plan.bind_output("copy", "pixels", nullptr, 0).is_ok());
  REQUIRE(plan.run().is_ok());
  CHECK(b == std::vector<float>(24, -7.f));
  // Two outputs bound at once.
  float mean[3] = {-1.f, -1.f, -1.f};
  REQUIRE(plan.bind_output("mean", "mean", mean, sizeof(mean)).is_ok());
  REQUIRE(plan.bind_output("copy", "pixels", a.data(), 96).is_ok());
  REQUIRE(plan.run().is_ok());
  CHECK(std::memcmp(mean, plan.output("mean", "mean")->data, sizeof(mean)) == 0);
  CHECK(std::memcmp(a.data(), plan.output("copy", "pixels")->data, 96) == 0);
  // A rejected rebind (wrong size) keeps the binding it would have replaced.
  std::fill(a.begin(), a.end(), -7.f);
  CHECK_FALSE(plan.bind_output("copy", "pixels", b.data(), 95).is_ok());
  REQUIRE(plan.run().is_ok());
  CHECK(std::memcmp(a.data(), plan.output("copy", "pixels")->data, 96) == 0);
}

TEST_CASE("bind_output refuses wrong sizes and unknown tasks or outputs, naming them") {
  const Model model = copy_model(4, 2, raw());
  Plan plan = prepare(model, {"copy", "mean"});
  std::vector<float> buffer(24);
  Status s = plan.bind_output("copy", "pixels", buffer.data(), 95);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(s.message(),
             Contains("output 'pixels' of task 'copy'") && Contains("96 bytes") && Contains("95"));
  s = plan.bind_output("copy", "nope", buffer.data(), 96);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == ErrorCode::kNotFound);
  CHECK_THAT(s.message(), Contains("task 'copy' has no output 'nope'") && Contains("'pixels'"));
  s = plan.bind_output("nope", "pixels", buffer.data(), 96);
  REQUIRE_FALSE(s.is_ok());
  CHECK_THAT(s.message(), Contains("task 'nope' is not in this plan") && Contains("'copy'"));
  // A task of the model that this plan did not prepare.
  s = plan.bind_output("aux", "values", buffer.data(), 16);
  REQUIRE_FALSE(s.is_ok());
  CHECK_THAT(s.message(), Contains("task 'aux' is not in this plan"));
  // Unbinding an output never bound is fine.
  CHECK(plan.bind_output("mean", "mean", nullptr, 0).is_ok());
}

TEST_CASE("set_input_pixels and run() with a bound output allocate nothing") {
  CHECK(testing::count_allocations([] {
          int* volatile p = new int(1);  // volatile: the compiler may not elide the pair
          delete p;
        }) >= 1);
  struct Case {
    const char* name;
    Preprocess pre;
    Frame frame;
  };
  Preprocess letterbox = raw(ColorOrder::kBgr, ImageFit::kLetterbox);
  letterbox.layout = Layout::kNchw;
  letterbox.mean = {0.5f};
  letterbox.std = {0.25f};
  letterbox.pixel_scale = 1.f;
  auto rgb = [](int x, int y, uint8_t v[3]) {
    v[0] = static_cast<uint8_t>(x * 3 + y);
    v[1] = static_cast<uint8_t>(x ^ y);
    v[2] = static_cast<uint8_t>(255 - x);
  };
  auto luma = [](int x, int y) { return static_cast<uint8_t>(x * 5 + y); };
  auto chroma = [](int bx, int by, uint8_t* u, uint8_t* v) {
    *u = static_cast<uint8_t>(bx * 7);
    *v = static_cast<uint8_t>(by * 9);
  };
  // The buffer's size given: checked against the frame's on every call.
  auto with_size = [](Frame f) {
    f.image.bytes = f.bytes.size();
    return f;  // moved: the pixels stay where image.data points
  };
  const Case cases[] = {
      {"area shrink", raw(), with_size(packed_frame(64, 48, PixelFormat::kRgb, rgb))},
      {"bilinear enlarge", raw(), packed_frame(8, 6, PixelFormat::kBgra, rgb, 3)},
      {"letterbox", letterbox, packed_frame(64, 32, PixelFormat::kRgb, rgb)},
      {"NV21", raw(ColorOrder::kGray), yuv_frame(64, 48, PixelFormat::kNv21, luma, chroma)},
      {"NV12 crop", raw(ColorOrder::kRgb, ImageFit::kCrop),
       yuv_frame(40, 12, PixelFormat::kNv12, luma, chroma, 8)},
  };
  CHECK(cases[0].frame.image.bytes == 64 * 48 * 3);
  CHECK(cases[0].frame.image.data == cases[0].frame.bytes.data());
  for (const Case& c : cases) {
    INFO(c.name);
    Plan plan = prepare(copy_model(16, 16, c.pre));
    const size_t floats = c.pre.color == ColorOrder::kGray ? 256 : 768;
    std::vector<float> out(floats, -1.f);
    REQUIRE(plan.bind_output("copy", "pixels", out.data(), floats * sizeof(float)).is_ok());
    REQUIRE(plan.set_input_pixels("camera", c.frame.image).is_ok());  // first call
    REQUIRE(plan.run().is_ok());
    bool ok = true;
    const long allocations = testing::count_allocations([&] {
      for (int i = 0; i < 3; ++i) {
        ok = ok && plan.set_input_pixels("camera", c.frame.image).is_ok();
        ok = ok && plan.run().is_ok();
      }
    });
    REQUIRE(ok);
    CHECK(allocations == 0);
    CHECK(std::memcmp(out.data(), plan.output("copy", "pixels")->data, floats * 4) == 0);
  }
}
