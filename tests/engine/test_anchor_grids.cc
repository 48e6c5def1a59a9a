// Detection anchors stored as grids (engine/internal/polyhead/internal/anchor_grids.h): the writer
// stores grids only when they give back every float bit for bit, the loader expands them to the
// same list, and a file with grids is stamped 1.8. Hostile grids are in test_model_loader.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>

#include "polyhead/format_version.h"
#include "polyhead/internal/anchor_grids.h"
#include "polyhead/internal/phm_writer.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"
#include "support/phm_models.h"

using namespace polyhead;
using namespace polyhead::internal;

namespace {

// SSD anchors the way MediaPipe's calculator lays them out: per feature map, row by row, column
// by column, `per_cell` anchors of the given sizes in each cell.
void add_ssd_map(std::vector<float>& out, int rows, int cols, float offset,
                 const std::vector<float>& sizes) {
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x)
      for (size_t s = 0; s < sizes.size(); s += 2)
        out.insert(out.end(), {(static_cast<float>(y) + offset) / static_cast<float>(rows),
                               (static_cast<float>(x) + offset) / static_cast<float>(cols),
                               sizes[s], sizes[s + 1]});
}

// BlazeFace short range: 16x16 cells of 2 anchors, then 8x8 cells of 6, all 1x1.
std::vector<float> blazeface_anchors() {
  std::vector<float> a;
  add_ssd_map(a, 16, 16, 0.5f, std::vector<float>(4, 1.f));
  add_ssd_map(a, 8, 8, 0.5f, std::vector<float>(12, 1.f));
  return a;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<float> expand(const std::vector<AnchorGridSpec>& grids) {
  std::vector<float> out;
  for (const AnchorGridSpec& g : grids) append_grid_anchors(g, out);
  return out;
}

// A loadable detection model: image [1,2,2,3] -> ADD -> "out", with `anchors` on its task.
PhmModel detection_model(const std::vector<float>& anchors, const std::vector<float>& bias) {
  PhmModel m = testing::add_bias_phm_model(bias);
  m.tasks[0].name = "faces";
  m.tasks[0].kind = schema::TaskKind::DETECTION;
  PhmPostProcess post;
  post.anchors = anchors;
  m.tasks[0].postprocess = post;
  return m;
}

}  // namespace

TEST_CASE("anchor grids: BlazeFace's 896 anchors are two grids, bit for bit", "[anchor_grids]") {
  const std::vector<float> anchors = blazeface_anchors();
  REQUIRE(anchors.size() == 896 * 4);
  const auto grids = fit_anchor_grids(anchors);
  REQUIRE(grids.has_value());
  REQUIRE(grids->size() == 2);
  CHECK((*grids)[0].rows == 16);
  CHECK((*grids)[0].cols == 16);
  CHECK((*grids)[0].sizes.size() == 4);
  CHECK((*grids)[1].rows == 8);
  CHECK((*grids)[1].sizes.size() == 12);
  CHECK(same_bits(expand(*grids), anchors));
}

TEST_CASE("anchor grids: other offsets, sizes per anchor and non-square maps fit",
          "[anchor_grids]") {
  std::vector<float> anchors;
  add_ssd_map(anchors, 6, 10, 0.f, {0.1f, 0.2f, 0.3f, 0.15f, 0.7f, 0.7f});
  add_ssd_map(anchors, 3, 5, 0.5f, {0.9f, 0.45f});
  add_ssd_map(anchors, 1, 1, 0.5f, {1.f, 1.f});
  const auto grids = fit_anchor_grids(anchors);
  REQUIRE(grids.has_value());
  CHECK(grids->size() == 3);
  CHECK(same_bits(expand(*grids), anchors));
}

TEST_CASE("anchor grids: anything a grid cannot reproduce exactly stays a list", "[anchor_grids]") {
  SECTION("one value one ulp off") {
    std::vector<float> anchors = blazeface_anchors();
    anchors[4 * 300 + 1] = std::nextafter(anchors[4 * 300 + 1], 2.f);
    CHECK_FALSE(fit_anchor_grids(anchors).has_value());
  }
  SECTION("a cell whose sizes differ from the others") {
    std::vector<float> anchors = blazeface_anchors();
    anchors[4 * 700 + 3] = 0.5f;
    CHECK_FALSE(fit_anchor_grids(anchors).has_value());
  }
  SECTION("centres that are not a regular grid") {
    CHECK_FALSE(
        fit_anchor_grids({0.1f, 0.2f, 1.f, 1.f, 0.3f, 0.7f, 1.f, 1.f, 0.35f, 0.1f, 1.f, 1.f})
            .has_value());
  }
  SECTION("a single anchor, which a grid would not make smaller") {
    CHECK_FALSE(fit_anchor_grids({0.5f, 0.5f, 0.1f, 0.2f}).has_value());
  }
  SECTION("not whole anchors, or none") {
    CHECK_FALSE(fit_anchor_grids({0.5f, 0.5f, 1.f}).has_value());
    CHECK_FALSE(fit_anchor_grids({}).has_value());
  }
}

TEST_CASE("anchor grids: the writer stores grids, the loader gives the same list back",
          "[anchor_grids]") {
  const std::vector<float> bias = {1.f, 2.f, 3.f};
  const std::vector<float> anchors = blazeface_anchors();
  auto bytes = write_phm(detection_model(anchors, bias));
  REQUIRE(bytes.is_ok());
  const schema::Model* raw = schema::GetModel(bytes->data());
  const schema::PostProcess* post = raw->tasks()->Get(0)->postprocess();
  CHECK(post->anchors() == nullptr);
  REQUIRE(post->anchor_grids() != nullptr);
  CHECK(post->anchor_grids()->size() == 2);
  CHECK(raw->format_version_minor() == kAnchorGridsSinceMinor);
  auto model = Model::from_bytes(*bytes);
  REQUIRE(model.is_ok());
  CHECK(same_bits(model->tasks()[0].postprocess.anchors, anchors));

  // The same model with anchors that fit no grid: a list, and the version of the model's newest
  // feature (nothing past 1.2 here).
  std::vector<float> irregular = anchors;
  irregular[5] = 0.123f;
  auto list_bytes = write_phm(detection_model(irregular, bias));
  REQUIRE(list_bytes.is_ok());
  const schema::Model* list_raw = schema::GetModel(list_bytes->data());
  REQUIRE(list_raw->tasks()->Get(0)->postprocess()->anchors() != nullptr);
  CHECK(list_raw->tasks()->Get(0)->postprocess()->anchor_grids() == nullptr);
  CHECK(list_raw->format_version_minor() == kFormatVersionMinor);
  CHECK(list_bytes->size() > bytes->size() + 12 * 1024);
  auto list_model = Model::from_bytes(*list_bytes);
  REQUIRE(list_model.is_ok());
  CHECK(same_bits(list_model->tasks()[0].postprocess.anchors, irregular));
}
