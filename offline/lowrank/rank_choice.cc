#include "offline/lowrank/rank_choice.h"

#include <algorithm>
#include <cmath>

namespace polyhead::lowrank {

int largest_saving_rank(int out, int in) {
  if (out <= 0 || in <= 0) return 0;
  const double budget = (1 - kMinMacSaving) * static_cast<double>(out) * static_cast<double>(in);
  const double r = std::floor(budget / (static_cast<double>(out) + static_cast<double>(in)));
  return static_cast<int>(std::min(r, static_cast<double>(std::min(out, in))));
}

int rank_for_energy(const std::vector<double>& s, double energy) {
  double total = 0;
  for (double x : s) total += x * x;
  if (s.empty() || total == 0) return 1;
  // Rounding: the running sum of all of them may land a few ulps short of the total.
  const double target = energy * total - 1e-12 * total;
  double kept = 0;
  for (size_t r = 0; r < s.size(); ++r) {
    kept += s[r] * s[r];
    if (kept >= target) return static_cast<int>(r) + 1;
  }
  return static_cast<int>(s.size());
}

int rank_for_ratio(int out, int in, double ratio) {
  const int full = std::min(out, in);
  // The product is rounded first so a ratio like 0.3 of 10 (3.0000000000000004) gives 3, not 4.
  const double exact = std::round(ratio * full * 1e9) / 1e9;
  return std::max(1, std::min(full, static_cast<int>(std::ceil(exact))));
}

double energy_kept(const std::vector<double>& s, int rank) {
  double total = 0, kept = 0;
  for (size_t r = 0; r < s.size(); ++r) {
    total += s[r] * s[r];
    if (static_cast<int>(r) < rank) kept += s[r] * s[r];
  }
  return total == 0 ? 1.0 : kept / total;
}

}  // namespace polyhead::lowrank
