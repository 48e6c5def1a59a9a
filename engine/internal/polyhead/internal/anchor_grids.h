// Detection anchors stored as regular grids (docs/format.md, "Anchor grids", since format 1.8).
// SSD-style anchors are a grid per feature map with the same (height, width) pairs in every cell;
// 896 BlazeFace anchors take 14 KiB as floats and under 100 bytes as two grids. The writer stores
// grids only when their expansion reproduces every float bit for bit, so nothing is lost.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::internal {

struct AnchorGridSpec {
  int rows = 0;
  int cols = 0;
  float offset_y = 0.5f;
  float offset_x = 0.5f;
  std::vector<float> sizes;  // height, width per anchor of one cell
};

// The most anchors a file may describe (grids or list): bounds what a small hostile file can make
// the loader allocate (16 MiB of floats).
inline constexpr size_t kMaxAnchors = size_t{1} << 20;

// Appends the grid's anchors (centre y, centre x, height, width each) to `out`.
void append_grid_anchors(const AnchorGridSpec& grid, std::vector<float>& out);

// Grids whose expansion is `anchors` bit for bit and that take fewer bytes than the list, or
// nullopt.
std::optional<std::vector<AnchorGridSpec>> fit_anchor_grids(const std::vector<float>& anchors);

// The anchors a PostProcess table describes, from its list or its grids, checked: a list of a
// multiple of 4 floats, grids with positive rows and columns, whole (height, width) pairs, finite
// offsets, and at most kMaxAnchors in all. Errors begin with `where`.
Result<std::vector<float>> read_anchors(const schema::PostProcess& post, const std::string& where);

}  // namespace polyhead::internal
