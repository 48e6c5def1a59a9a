// The optional vision component from an installed Polyhead: a letterbox transform for a model
// input, computed by polyhead::vision. Prints "vision_consumer: ok" and exits 0 on success.
#include <cstdio>

#include "polyhead/model.h"
#include "polyhead/vision/preprocess.h"

int main() {
  polyhead::InputInfo in;
  in.name = "image";
  in.shape = polyhead::Shape{1, 4, 4, 3};
  in.preprocess.width = in.preprocess.height = 4;
  in.preprocess.fit = polyhead::ImageFit::kLetterbox;
  // An 8x4 photo letterboxed into 4x4: scale 0.5, one padding row above.
  auto t = polyhead::vision::plan_transform(8, 4, in);
  if (!t.is_ok()) {
    std::fprintf(stderr, "vision_consumer: FAILED: %s\n", t.status().to_string().c_str());
    return 1;
  }
  if (t->scale_x != 0.5f || t->scale_y != 0.5f || t->offset_x != 0.f || t->offset_y != 1.f) {
    std::fprintf(stderr, "vision_consumer: FAILED: transform %g %g %g %g\n", t->scale_x, t->scale_y,
                 t->offset_x, t->offset_y);
    return 1;
  }
  std::printf("vision_consumer: ok\n");
  return 0;
}
