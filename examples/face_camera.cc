// Camera frames straight into a model, without OpenCV for the input: decode a JPEG with libjpeg
// (standing in for a camera callback handing over RGB, RGBA or NV21 bytes), give the pixels to
// Plan::set_input_pixels, which resizes, converts and normalises them as the model declares, run
// the face detector, and map its boxes back to the frame with the returned ImageTransform.
// Box decoding (anchors, weighted NMS) comes from the optional polyhead_vision component.
//
//   polyhead convert face_detection_short_range.tflite -o face.phm \
//       --preset mediapipe-face-detection-short
//   face_camera face.phm photo.jpg
#include <csetjmp>
#include <cstdio>
#include <vector>

#include <jpeglib.h>

#include "polyhead/engine.h"
#include "polyhead/vision/detection.h"

namespace {

// libjpeg reports fatal errors through error_exit, which must not return: jump back out.
struct JpegErrors {
  jpeg_error_mgr manager;
  jmp_buf resume;
};

// The frame as 8-bit RGB rows, as libjpeg decodes it; false if the file is not a readable JPEG.
bool decode_jpeg(const char* path, std::vector<uint8_t>& rgb, int& width, int& height) {
  FILE* file = std::fopen(path, "rb");
  if (!file) return false;
  jpeg_decompress_struct info;
  JpegErrors errors;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = [](j_common_ptr common) {
    longjmp(reinterpret_cast<JpegErrors*>(common->err)->resume, 1);
  };
  if (setjmp(errors.resume)) {
    jpeg_destroy_decompress(&info);
    std::fclose(file);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, file);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  width = static_cast<int>(info.output_width);
  height = static_cast<int>(info.output_height);
  rgb.resize(static_cast<size_t>(width) * height * 3);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = rgb.data() + static_cast<size_t>(info.output_scanline) * width * 3;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  std::fclose(file);
  return true;
}

int fail(const polyhead::Status& status) {
  std::fprintf(stderr, "face_camera: %s\n", status.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: face_camera MODEL.phm PHOTO.jpg\n");
    return 2;
  }
  std::vector<uint8_t> rgb;
  int width = 0, height = 0;
  if (!decode_jpeg(argv[2], rgb, width, height)) {
    std::fprintf(stderr, "face_camera: '%s' is not a JPEG file\n", argv[2]);
    return 1;
  }

  auto model = polyhead::Model::load_file(argv[1]);
  if (!model) return fail(model.status());
  auto engine = polyhead::Engine::create(*model);
  if (!engine) return fail(engine.status());
  auto plan = engine->prepare();
  if (!plan) return fail(plan.status());

  // Once per frame: no allocation inside set_input_pixels or run.
  const polyhead::PixelImage frame{rgb.data(), width, height, static_cast<size_t>(width) * 3,
                                   polyhead::PixelFormat::kRgb};
  auto transform = plan->set_input_pixels(model->inputs()[0].name, frame);
  if (!transform) return fail(transform.status());
  if (auto status = plan->run(); !status.is_ok()) return fail(status);

  for (const polyhead::TaskInfo& task : model->tasks()) {
    if (task.kind != polyhead::TaskKind::kDetection) continue;
    auto options = polyhead::vision::detection_options(*model, task);
    if (!options) return fail(options.status());
    auto boxes = plan->output(task.name, "boxes");
    auto scores = plan->output(task.name, "scores");
    if (!boxes) return fail(boxes.status());
    if (!scores) return fail(scores.status());
    auto faces = polyhead::vision::decode_detections(*boxes, *scores, *options, *transform);
    if (!faces) return fail(faces.status());
    std::printf("%s: %zu detections in a %dx%d frame\n", task.name.c_str(), faces->size(), width,
                height);
    for (const auto& face : *faces)
      std::printf("box %.1f %.1f %.1f %.1f score %.3f\n", face.box.x, face.box.y, face.box.width,
                  face.box.height, face.score);
  }
  return 0;
}
