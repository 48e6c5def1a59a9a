#include "polyhead/internal/anchor_grids.h"

#include <cmath>
#include <cstdint>

#include "polyhead/internal/float_bits.h"

namespace polyhead::internal {

namespace {

bool same_bits(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (float_bits(a[i]) != float_bits(b[i])) return false;
  return true;
}

// The grid's centre of row y / column x, as every reader computes it.
float centre(int index, float offset, int count) {
  return (static_cast<float>(index) + offset) / static_cast<float>(count);
}

// One anchor: 4 floats.
struct AnchorView {
  const float* a;
  size_t count;
  const float* at(size_t i) const { return a + 4 * i; }
  bool same_centre(size_t i, size_t j) const { return same_bits(at(i), at(j), 2); }
  // The k anchors of the cells starting at i and j have the same sizes.
  bool same_sizes(size_t i, size_t j, size_t k) const {
    for (size_t n = 0; n < k; ++n)
      if (!same_bits(at(i + n) + 2, at(j + n) + 2, 2)) return false;
    return true;
  }
};

// A grid that reproduces the anchors from `first` on, or nullopt. Reads the cell size k (anchors
// sharing a centre), the columns of the first row and an estimate of the rows from the spacing of
// the first two rows, then checks every anchor of the candidate bit for bit.
std::optional<AnchorGridSpec> fit_one_grid(const AnchorView& v, size_t first) {
  size_t k = 1;
  while (first + k < v.count && v.same_centre(first, first + k)) ++k;
  size_t cols = 1;
  for (size_t cell = first + k; cell + k <= v.count; cell += k, ++cols) {
    if (float_bits(v.at(cell)[0]) != float_bits(v.at(first)[0]) || !v.same_sizes(first, cell, k))
      break;
    if (!(v.at(cell)[1] > v.at(cell - k)[1])) break;
  }
  const float cy0 = v.at(first)[0], cx0 = v.at(first)[1];
  int rows = 1;
  const size_t next_row = first + cols * k;
  if (next_row + k <= v.count && v.same_sizes(first, next_row, k) && v.at(next_row)[0] > cy0) {
    const double spacing = static_cast<double>(v.at(next_row)[0]) - cy0;
    const double estimate = std::round(1.0 / spacing);
    if (!(estimate >= 1.0 && estimate <= static_cast<double>(kMaxAnchors))) return std::nullopt;
    rows = static_cast<int>(estimate);
  }
  // In 64 bits: size_t is 32 on armhf, where rows x cols x k could wrap.
  const uint64_t total = uint64_t{static_cast<uint32_t>(rows)} * cols * k;
  if (cols > kMaxAnchors || total > v.count - first) return std::nullopt;

  AnchorGridSpec g;
  g.rows = rows;
  g.cols = static_cast<int>(cols);
  for (size_t n = 0; n < k; ++n) {
    g.sizes.push_back(v.at(first + n)[2]);
    g.sizes.push_back(v.at(first + n)[3]);
  }
  // The usual half-cell offset first, then the one the first centre implies.
  auto offset_for = [](float c0, int count) -> std::optional<float> {
    for (float o : {0.5f, 0.f, c0 * static_cast<float>(count)})
      if (std::isfinite(o) && float_bits(centre(0, o, count)) == float_bits(c0)) return o;
    return std::nullopt;
  };
  const std::optional<float> oy = offset_for(cy0, g.rows), ox = offset_for(cx0, g.cols);
  if (!oy || !ox) return std::nullopt;
  g.offset_y = *oy;
  g.offset_x = *ox;
  std::vector<float> expanded;
  expanded.reserve(4 * static_cast<size_t>(total));
  append_grid_anchors(g, expanded);
  if (!same_bits(expanded.data(), v.at(first), expanded.size())) return std::nullopt;
  return g;
}

// Bytes a grid takes in the file, roughly: its table, vtable share and sizes vector.
size_t grid_bytes(const AnchorGridSpec& g) {
  return 40 + 4 * g.sizes.size();
}

}  // namespace

void append_grid_anchors(const AnchorGridSpec& grid, std::vector<float>& out) {
  for (int y = 0; y < grid.rows; ++y) {
    const float cy = centre(y, grid.offset_y, grid.rows);
    for (int x = 0; x < grid.cols; ++x) {
      const float cx = centre(x, grid.offset_x, grid.cols);
      for (size_t s = 0; s + 1 < grid.sizes.size(); s += 2)
        out.insert(out.end(), {cy, cx, grid.sizes[s], grid.sizes[s + 1]});
    }
  }
}

std::optional<std::vector<AnchorGridSpec>> fit_anchor_grids(const std::vector<float>& anchors) {
  if (anchors.empty() || anchors.size() % 4 != 0 || anchors.size() / 4 > kMaxAnchors)
    return std::nullopt;
  const AnchorView v{anchors.data(), anchors.size() / 4};
  std::vector<AnchorGridSpec> grids;
  size_t bytes = 0;
  for (size_t first = 0; first < v.count;) {
    std::optional<AnchorGridSpec> g = fit_one_grid(v, first);
    if (!g) return std::nullopt;
    first += static_cast<size_t>(g->rows) * static_cast<size_t>(g->cols) * g->sizes.size() / 2;
    bytes += grid_bytes(*g);
    grids.push_back(std::move(*g));
  }
  if (bytes >= anchors.size() * sizeof(float)) return std::nullopt;
  return grids;
}

Result<std::vector<float>> read_anchors(const schema::PostProcess& post, const std::string& where) {
  auto invalid = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidModel, where + why);
  };
  std::vector<float> out;
  if (post.anchors() && post.anchor_grids())
    return invalid(": both anchors and anchor_grids are present; a file stores one of them");
  if (const auto* list = post.anchors()) {
    if (list->size() % 4 != 0)
      return invalid(": anchors hold " + std::to_string(list->size()) +
                     " floats, not a multiple of 4");
    if (list->size() / 4 > kMaxAnchors)
      return invalid(": " + std::to_string(list->size() / 4) + " anchors, more than the " +
                     std::to_string(kMaxAnchors) + " a model may have");
    out.assign(list->begin(), list->end());
    return out;
  }
  const auto* grids = post.anchor_grids();
  if (!grids) return out;
  size_t total = 0;
  for (flatbuffers::uoffset_t i = 0; i < grids->size(); ++i) {
    const schema::AnchorGrid* g = grids->Get(i);
    const std::string gw = ": anchor grid " + std::to_string(i);
    if (g->rows() < 1 || g->cols() < 1)
      return invalid(gw + " has " + std::to_string(g->rows()) + " rows and " +
                     std::to_string(g->cols()) + " columns; both must be at least 1");
    const size_t sizes = g->sizes()->size();
    if (sizes == 0 || sizes % 2 != 0)
      return invalid(gw + " has " + std::to_string(sizes) +
                     " size values, not a nonzero number of (height, width) pairs");
    if (!std::isfinite(g->offset_y()) || !std::isfinite(g->offset_x()))
      return invalid(gw + " has a non-finite offset");
    // In 64 bits, so the product cannot wrap where size_t has 32 (armhf), and checked against the
    // limit before it is multiplied further.
    const uint64_t cells =
        uint64_t{static_cast<uint32_t>(g->rows())} * static_cast<uint32_t>(g->cols());
    if (cells > kMaxAnchors || sizes / 2 > kMaxAnchors || cells * (sizes / 2) > kMaxAnchors - total)
      return invalid(gw + " makes the model hold more than the " + std::to_string(kMaxAnchors) +
                     " anchors a model may have");
    total += static_cast<size_t>(cells) * (sizes / 2);
  }
  out.reserve(4 * total);
  for (const schema::AnchorGrid* g : *grids) {
    AnchorGridSpec spec;
    spec.rows = g->rows();
    spec.cols = g->cols();
    spec.offset_y = g->offset_y();
    spec.offset_x = g->offset_x();
    spec.sizes.assign(g->sizes()->begin(), g->sizes()->end());
    append_grid_anchors(spec, out);
  }
  return out;
}

}  // namespace polyhead::internal
