// compress::measure_compression, the report of `polyhead prune` and `polyhead lowrank`, and how
// the offline tools carry block-sparse constants: read dense, written sparse again.
#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>
#include <vector>

#include "offline/compress/compression_report.h"
#include "offline/graph/source_graph.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/format_version.h"
#include "polyhead/model_builder.h"
#include "support/test_models.h"

using namespace polyhead;
using polyhead::testing::TempDir;

namespace {

// image [1,8,8,3] -> 1x1 conv to 16 (relu) -> mean -> fc to 8 -> softmax (task "classes").
// With `sparse`, half of each weight's 8x1 blocks are zero and stored sparse.
std::vector<uint8_t> classifier(bool sparse) {
  ModelBuilder b;
  Preprocess pre;
  pre.width = pre.height = 8;
  pre.mean = {0.5f};
  pre.std = {0.25f};
  pre.pixel_scale = 1.f;
  const int image = b.add_input("image", Shape{1, 8, 8, 3}, pre);
  std::vector<float> cw = testing::random_values(16 * 3, 1, 0.5f);
  std::vector<float> fw = testing::random_values(8 * 16, 2, 0.5f);
  if (sparse) {
    for (size_t c = 0; c < 3; c += 2)
      for (size_t r = 0; r < 8; ++r) cw[r * 3 + c] = 0.f;  // block row 0, columns 0 and 2
    for (size_t c = 0; c < 16; c += 2)
      for (size_t r = 0; r < 8; ++r) fw[r * 16 + c] = 0.f;  // every other column
  }
  const int w1 = b.add_constant("conv/w", Shape{16, 1, 1, 3}, cw);
  const int w2 = b.add_constant("fc/w", Shape{8, 16}, fw);
  if (sparse) {
    REQUIRE(b.store_sparse(w1, 8, 1).is_ok());
    REQUIRE(b.store_sparse(w2, 8, 1).is_ok());
  }
  Conv2DParams p;
  p.activation = Activation::relu();
  const int conv = b.conv2d("conv", image, w1, -1, p).value();
  const int mean = b.mean("mean", conv, false).value();
  const int fc = b.fully_connected("fc", mean, w2, -1).value();
  const int probs = b.softmax("softmax", fc).value();
  REQUIRE(b.add_task("classes", TaskKind::kClassification, {{"probs", probs}}).is_ok());
  return b.finish().value();
}

std::vector<std::string> photos(const TempDir& dir) {
  std::vector<std::string> paths;
  for (int i = 0; i < 2; ++i) {
    cv::Mat img(24, 24, CV_8UC3, cv::Scalar(40 * i, 120, 200 - 60 * i));
    cv::circle(img, cv::Point(8 + 6 * i, 12), 5, cv::Scalar(0, 255, 90), cv::FILLED);
    paths.push_back(dir / ("p" + std::to_string(i) + ".png"));
    REQUIRE(cv::imwrite(paths.back(), img));
  }
  return paths;
}

compress::CompressionOptions quick() {
  compress::CompressionOptions o;
  o.latency.rounds = 1;
  o.latency.runs = 2;
  return o;
}

}  // namespace

TEST_CASE("a model against itself: every ratio 1, no drop") {
  TempDir dir;
  const std::vector<uint8_t> bytes = classifier(false);
  const Model m = Model::from_bytes(bytes).value();
  const auto r =
      compress::measure_compression(m, m, bytes.size(), bytes.size(), photos(dir), quick());
  REQUIRE(r.is_ok());
  CHECK(r->file_ratio() == 1.0);
  CHECK(r->macs_ratio() == 1.0);
  CHECK(r->arena_ratio() == 1.0);
  CHECK(r->worst_drop == 0.0);
  REQUIRE(r->tasks.size() == 1);
  CHECK(r->tasks[0].task == "classes");
  CHECK(r->images == 2);
  CHECK(r->latency_samples == 2);
  CHECK(r->teacher.latency_ms > 0);
  // 8x8 pixels x 16 x 3 (conv) + 16 x 64 (mean) + 8 x 16 (fc) + 8 (softmax).
  CHECK(r->teacher.macs == 64 * 48 + 16 * 64 + 128 + 8);
}

TEST_CASE("a sparse student: a smaller file, MACs of the stored weights only") {
  TempDir dir;
  const std::vector<uint8_t> dense = classifier(false);
  const std::vector<uint8_t> sparse = classifier(true);
  const Model teacher = Model::from_bytes(dense).value();
  const Model student = Model::from_bytes(sparse).value();
  const auto r = compress::measure_compression(teacher, student, dense.size(), sparse.size(),
                                               photos(dir), quick());
  REQUIRE(r.is_ok());
  CHECK(r->file_ratio() < 1.0);
  // conv stores 1 of 3 block columns in block row 0 and all 3 in block row 1; fc half of them.
  CHECK(r->student.macs == 64 * 16 * 3 * 4 / 6 + 16 * 64 + 64 + 8);
  CHECK(r->macs_ratio() < 1.0);
  CHECK(r->worst_drop >= 0.0);
  CHECK(r->tasks[0].metric == "1 - top-1 agreement");
}

TEST_CASE("offline tools read sparse constants dense and write them sparse again") {
  const std::vector<uint8_t> sparse = classifier(true);
  const Model model = Model::from_bytes(sparse).value();
  const merge::SourceGraph g = merge::read_source_graph(model, "sparse").value();
  int fc_w = -1;
  for (int t = 0; t < static_cast<int>(g.root->tensors()->size()); ++t)
    if (g.tensor_name(t) == "fc/w") fc_w = t;
  REQUIRE(fc_w >= 0);
  REQUIRE(g.constant_size(fc_w) == 8 * 16 * sizeof(float));
  const auto* w = reinterpret_cast<const float*>(g.constant_data(fc_w));
  const std::vector<float> expected = testing::random_values(8 * 16, 2, 0.5f);
  for (size_t r = 0; r < 8; ++r)
    for (size_t c = 0; c < 16; ++c)
      CHECK(w[r * 16 + c] == (c % 2 == 0 ? 0.f : expected[r * 16 + c]));

  quantize::EditModel copy = quantize::edit_copy(g);
  CHECK(copy.tensors[static_cast<size_t>(fc_w)].sparse_block_rows == 8);
  const std::vector<uint8_t> again = quantize::write_model(copy).value();
  const Model reread = Model::from_bytes(again).value();
  CHECK(reread.format_version_minor() == kSparseConstantsSinceMinor);
  const schema::Tensor* t = schema::GetModel(again.data())->tensors()->Get(
      static_cast<flatbuffers::uoffset_t>(fc_w));
  REQUIRE(t->sparse() != nullptr);
  CHECK(t->sparse()->block_columns()->size() == 8);  // 1 block row, every other of 16 columns

  copy.tensors[static_cast<size_t>(fc_w)].sparse_block_rows = 0;
  copy.tensors[static_cast<size_t>(fc_w)].sparse_block_cols = 0;
  const std::vector<uint8_t> densified = quantize::write_model(copy).value();
  CHECK(densified.size() > again.size());
}
