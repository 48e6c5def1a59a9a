// Writes the seed corpora of the fuzz harnesses (tests/fuzz/README.md) into OUT_DIR/<target>/:
// the builder's edge-case models (float and int8) as .phm, the synthetic int8 network as .tflite
// and converted, a small model with sparse weights as .tflite, small ONNX graphs written with the
// protobuf API, and, from DATA_DIR and ONNX_DIR when present, the MediaPipe face detector (.tflite
// and converted .phm), the small exported ONNX models and one photo re-encoded small in several
// formats. scripts/fuzz.sh then minimises them with libFuzzer's -merge=1 into tests/fuzz/corpus/.
//
//   polyhead_fuzz_seeds OUT_DIR [DATA_DIR [ONNX_DIR]]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "converters/onnx/onnx_converter.h"
#include "converters/tflite/tflite_converter.h"
#include "support/onnx_builder.h"
#include "support/test_models.h"
#include "support/tflite_builder.h"
#include "support/tflite_int8_net.h"

namespace fs = std::filesystem;
using namespace polyhead;

namespace {

int written = 0;

void write(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  std::printf("%-60s %8zu bytes\n", (dir / name).c_str(), bytes.size());
  ++written;
}

std::vector<uint8_t> read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void phm_from_tflite(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& tfl,
                     const std::string& preset = "") {
  tflite::ConvertOptions options;
  options.preset = preset;
  auto phm = tflite::convert(tfl, options);
  if (phm.is_ok())
    write(dir, name, *phm);
  else
    std::fprintf(stderr, "%s: %s\n", name.c_str(), phm.status().to_string().c_str());
}

// Conv -> BatchNormalization -> Relu -> GlobalAveragePool -> Flatten -> Gemm, plus a Resize and a
// Concat branch: the importer's folds and common operators in a few hundred bytes.
// A 1x1 convolution and a fully connected layer whose weights are stored block-sparse (8x1 and
// 4x1 blocks, half of them zero): the loader's SparseLayout checks and both kernels.
std::vector<uint8_t> sparse_weights_model() {
  ModelBuilder b;
  const int in = b.add_input("image", Shape{1, 3, 3, 8});
  std::vector<float> cw = testing::random_values(16 * 8, 31, 0.5f);
  std::vector<float> fw = testing::random_values(8 * 16, 32, 0.5f);
  for (size_t i = 0; i < cw.size(); ++i)
    if ((i / 8) % 2 == 0 && (i % 8) % 2 == 0) cw[i] = 0.f;
  for (size_t i = 0; i < fw.size(); ++i)
    if (i % 3 == 0) fw[i] = 0.f;
  const int w1 = b.add_constant("conv/w", Shape{16, 1, 1, 8}, cw);
  const int w2 = b.add_constant("fc/w", Shape{8, 16}, fw);
  (void)b.store_sparse(w1, 8, 1);
  (void)b.store_sparse(w2, 4, 1);
  const int conv = b.conv2d("conv", in, w1, -1, {}).value();
  const int mean = b.mean("mean", conv, false).value();
  const int fc = b.fully_connected("fc", mean, w2, -1).value();
  (void)b.add_task("features", TaskKind::kOther, {{"map", conv}});
  (void)b.add_task("classes", TaskKind::kClassification, {{"logits", fc}});
  return b.finish().value();
}

std::vector<uint8_t> onnx_conv_net(int opset) {
  testing::OnnxModel m(opset);
  m.input("x", {1, 2, 4, 4});
  m.initializer("w", {3, 2, 3, 3}, std::vector<float>(54, 0.25f));
  m.initializer("b", {3}, {0.1f, -0.1f, 0.2f});
  m.initializer("s", {3}, {1.f, 0.5f, 2.f});
  m.initializer("t", {3}, {0.f, 0.1f, -0.1f});
  m.initializer("mu", {3}, {0.f, 0.2f, 0.1f});
  m.initializer("var", {3}, {1.f, 2.f, 0.5f});
  m.initializer("scales", {4}, {1.f, 1.f, 2.f, 2.f});
  m.initializer("fc", {2, 3}, {1.f, -1.f, 0.5f, 0.25f, -0.5f, 2.f});
  auto* conv = m.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  testing::attr_ints(conv, "kernel_shape", {3, 3});
  testing::attr_ints(conv, "pads", {1, 1, 1, 1});
  m.node("BatchNormalization", {"c", "s", "t", "mu", "var"}, {"bn"}, "bn");
  m.node("Relu", {"bn"}, {"r"}, "relu");
  auto* up = m.node("Resize", {"r", "", "scales"}, {"up"}, "up");
  testing::attr_string(up, "mode", "nearest");
  m.node("GlobalAveragePool", {"r"}, {"gap"}, "gap");
  m.node("Flatten", {"gap"}, {"flat"}, "flatten");
  auto* fc = m.node("Gemm", {"flat", "fc"}, {"logits"}, "fc");
  testing::attr_int(fc, "transB", 1);
  auto* cat = m.node("Concat", {"up", "up"}, {"cat"}, "cat");
  testing::attr_int(cat, "axis", 1);
  m.output("cat");
  m.output("logits");
  return m.bytes();
}

// Shape -> Gather -> Reshape, Transpose, Slice, Add, Sigmoid, Mul: the shape sub-graph folding.
std::vector<uint8_t> onnx_shape_net() {
  testing::OnnxModel m(13);
  m.input("x", {1, 4, 2, 2});
  m.initializer_i64("idx", {}, {1});
  m.initializer_i64("starts", {1}, {0});
  m.initializer_i64("ends", {1}, {2});
  m.initializer_i64("axes", {1}, {1});
  m.initializer_i64("shape", {2}, {1, -1});
  m.node("Shape", {"x"}, {"s"}, "shape");
  m.node("Gather", {"s", "idx"}, {"c"}, "gather");
  m.node("Sigmoid", {"x"}, {"sig"}, "sigmoid");
  m.node("Mul", {"x", "sig"}, {"swish"}, "swish");
  m.node("Slice", {"swish", "starts", "ends", "axes"}, {"half"}, "slice");
  auto* tr = m.node("Transpose", {"half"}, {"t"}, "transpose");
  testing::attr_ints(tr, "perm", {0, 2, 3, 1});
  m.node("Reshape", {"t", "shape"}, {"flat"}, "reshape");
  m.node("Add", {"flat", "flat"}, {"out"}, "add");
  m.output("out");
  return m.bytes();
}

// The image harness's input: byte 0 picks the path (even: encoded file, +2: IMREAD_UNCHANGED;
// odd: raw frame), byte 1 the model input.
std::vector<uint8_t> image_seed(uint8_t mode, uint8_t target, const std::vector<uint8_t>& rest) {
  // Sized once and copied into (GCC 12 warns, wrongly, about insert() after a 2-byte list).
  std::vector<uint8_t> out(2 + rest.size());
  out[0] = mode;
  out[1] = target;
  std::copy(rest.begin(), rest.end(), out.begin() + 2);
  return out;
}

std::vector<uint8_t> raw_frame(int width, int height, int format, int stride, size_t pixels) {
  std::vector<uint8_t> out = {static_cast<uint8_t>(width),      static_cast<uint8_t>(width >> 8),
                              static_cast<uint8_t>(height),     static_cast<uint8_t>(height >> 8),
                              static_cast<uint8_t>(format),     static_cast<uint8_t>(stride),
                              static_cast<uint8_t>(stride >> 8)};
  for (size_t i = 0; i < pixels; ++i) out.push_back(static_cast<uint8_t>(i * 37 + 11));
  return out;
}

void image_seeds(const fs::path& dir, const fs::path& photo) {
  // Raw frames of every format, packed and padded, some smaller and some larger than the input.
  const size_t bpp[] = {3, 3, 4, 4, 1, 1, 1};
  for (int f = 0; f < 7; ++f) {
    const int w = f >= 5 ? 6 : 5, h = f >= 5 ? 4 : 3;
    const size_t rows = f >= 5 ? h + h / 2 : h;
    write(dir, "raw_" + std::to_string(f) + "_packed",
          image_seed(1, static_cast<uint8_t>(f * 3), raw_frame(w, h, f, 0, w * bpp[f] * rows)));
    const int stride = static_cast<int>(w * bpp[f] + 3);
    write(dir, "raw_" + std::to_string(f) + "_stride",
          image_seed(3, static_cast<uint8_t>(f * 3 + 1),
                     raw_frame(w, h, f, stride, static_cast<size_t>(stride) * rows)));
    write(dir, "raw_" + std::to_string(f) + "_large",
          image_seed(5, static_cast<uint8_t>(f * 3 + 2),
                     raw_frame(24, 18, f, 0, 24 * bpp[f] * (f >= 5 ? 27 : 18))));
  }
  if (!fs::exists(photo)) return;
  cv::Mat image = cv::imread(photo.string(), cv::IMREAD_COLOR);
  if (image.empty()) return;
  cv::Mat small;
  cv::resize(image, small, cv::Size(24, 18), 0, 0, cv::INTER_AREA);
  cv::Mat gray, bgra, deep;
  cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(small, bgra, cv::COLOR_BGR2BGRA);
  small.convertTo(deep, CV_16U, 257.0);
  struct Encoded {
    const char* name;
    const cv::Mat* image;
    const char* ext;
    uint8_t mode;
  } files[] = {{"photo.jpg", &small, ".jpg", 0}, {"photo.png", &small, ".png", 0},
               {"photo.bmp", &small, ".bmp", 0}, {"gray.png", &gray, ".png", 2},
               {"bgra.png", &bgra, ".png", 2},   {"deep.png", &deep, ".png", 2},
               {"photo.ppm", &small, ".ppm", 0}, {"gray.jpg", &gray, ".jpg", 2}};
  uint8_t target = 0;
  for (const Encoded& e : files) {
    std::vector<uint8_t> bytes;
    if (!cv::imencode(e.ext, *e.image, bytes)) continue;
    write(dir, e.name, image_seed(e.mode, target, bytes));
    target = static_cast<uint8_t>(target + 5);
  }
}

// Sparse weights (TFLite sparsity, DENSIFY) in a few hundred bytes: float16 weights of a 1x1
// convolution stored CSR along the input channels (uint8 indices) through DENSIFY and DEQUANTIZE,
// as MediaPipe's pruned models store them, then fully connected weights in 1x4 blocks (block map,
// uint16 indices) read directly, as TFLite's sparse FULLY_CONNECTED does.
std::vector<uint8_t> sparse_tflite() {
  auto bytes16 = [](const std::vector<uint16_t>& v) {
    return std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                reinterpret_cast<const uint8_t*>(v.data() + v.size()));
  };
  auto bytes32 = [](const std::vector<float>& v) {
    return std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                reinterpret_cast<const uint8_t*>(v.data() + v.size()));
  };
  testing::TfliteWriter w;
  const int x = w.f32("x", {1, 2, 2, 8});
  // [4,1,1,8]: rows {0, 3}, {}, {1, 2, 7}, {5}; float16 1, -2, 0.5, 3, -1, 0.25.
  const int conv_sparse = w.tensor("conv_w_sparse", {4, 1, 1, 8}, testing::kF16, {},
                                   bytes16({0x3c00, 0xc000, 0x3800, 0x4200, 0xbc00, 0x3400}));
  testing::TfSparsitySpec& cs = w.at(conv_sparse).sparsity;
  cs.present = true;
  cs.traversal_order = {0, 1, 2, 3};
  cs.dims.resize(4);
  cs.dims[0].dense_size = 4;
  cs.dims[1].dense_size = cs.dims[2].dense_size = 1;
  cs.dims[3].format = 1;
  cs.dims[3].segments = {1, {0, 2, 2, 5, 6}, -1};
  cs.dims[3].indices = {1, {0, 3, 1, 2, 7, 5}, -1};
  const int conv_f16 = w.tensor("conv_w_f16", {4, 1, 1, 8}, testing::kF16);
  w.op(124, {conv_sparse}, {conv_f16}, {}, testing::kOptNone);  // DENSIFY
  const int conv_w = w.f32("conv_w", {4, 1, 1, 8});
  w.op(6, {conv_f16}, {conv_w}, {}, testing::kOptNone);  // DEQUANTIZE
  const int y = w.f32("y", {1, 2, 2, 4});
  w.op(3, {x, conv_w}, {y}, testing::conv_options(testing::kValid, 1, testing::kActRelu),
       testing::kOptConv);
  // [6,4] in 1x4 blocks: rows 0, 2, 3 and 5 hold one.
  std::vector<float> fc(16);
  for (size_t i = 0; i < fc.size(); ++i) fc[i] = 0.125f * static_cast<float>(i) - 1.f;
  const int fc_w = w.tensor("fc_w", {6, 4}, testing::kF32, {}, bytes32(fc));
  testing::TfSparsitySpec& fcs = w.at(fc_w).sparsity;
  fcs.present = true;
  fcs.traversal_order = {0, 1, 2};
  fcs.block_map = {1};
  fcs.dims.resize(3);
  fcs.dims[0].dense_size = 6;
  fcs.dims[1].format = 1;
  fcs.dims[1].segments = {2, {0, 1, 1, 2, 3, 3, 4}, -1};
  fcs.dims[1].indices = {2, {0, 0, 0, 0}, -1};
  fcs.dims[2].dense_size = 4;
  const int z = w.f32("z", {4, 6});
  w.op(9, {y, fc_w}, {z}, {testing::TfField::byte(0, testing::kActNone)},
       testing::kOptFc);  // FULLY_CONNECTED
  w.inputs({x});
  w.outputs({z});
  return w.finish();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [DATA_DIR [ONNX_DIR]]\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path data = argc > 2 ? argv[2] : "";
  const fs::path onnx_dir = argc > 3 ? argv[3] : "";

  // .phm: the builder's edge-case models, float and int8 (the int8 network converted).
  const fs::path phm = out / "fuzz_phm_model";
  write(phm, "tiny_two_task.phm", testing::tiny_two_task_model());
  write(phm, "every_operator.phm", testing::every_operator_model());
  const testing::Int8Net int8_net, int8_taps(true), int8_same_concat(false, true);
  phm_from_tflite(phm, "int8_net.phm", int8_net.tflite);
  phm_from_tflite(phm, "int8_taps.phm", int8_taps.tflite);
  phm_from_tflite(phm, "int8_same_concat.phm", int8_same_concat.tflite);
  write(phm, "sparse_weights.phm", sparse_weights_model());

  // .tflite: the synthetic int8 network, sparse weights, and the real face detector.
  const fs::path tfl = out / "fuzz_tflite_import";
  write(tfl, "int8_net.tflite", int8_net.tflite);
  write(tfl, "int8_taps.tflite", int8_taps.tflite);
  write(tfl, "sparse_densify.tflite", sparse_tflite());
  const fs::path face = data / "face_detection_short_range.tflite";
  if (!data.empty() && fs::exists(face)) {
    const std::vector<uint8_t> bytes = read(face);
    write(tfl, "face_detection_short_range.tflite", bytes);
    phm_from_tflite(phm, "face_detection_short_range.phm", bytes, "mediapipe-face-detection-short");
  }

  // .onnx: written here, and the small exported ones.
  const fs::path onnx = out / "fuzz_onnx_import";
  write(onnx, "conv_net_opset11.onnx", onnx_conv_net(11));
  write(onnx, "conv_net_opset17.onnx", onnx_conv_net(17));
  write(onnx, "shape_net.onnx", onnx_shape_net());
  if (!onnx_dir.empty())
    for (const char* name : {"ops_opset11.onnx", "ops_opset17.onnx", "slicing_opset11.onnx",
                             "slicing_opset17.onnx", "shape_subgraph.onnx", "unsupported.onnx"})
      if (fs::exists(onnx_dir / name)) write(onnx, name, read(onnx_dir / name));

  image_seeds(out / "fuzz_image_input", data / "sample1.jpg");
  std::printf("%d seeds\n", written);
  return 0;
}
