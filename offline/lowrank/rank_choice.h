// The rank a layer keeps, and whether that pays. A layer W [O][I] replaced by two of rank r costs
// r (O + I) multiply-adds per output position instead of O I; the extra node and intermediate
// tensor cost something too, so a factorization has to save at least kMinMacSaving of the layer's
// MACs to be worth it.
#pragma once

#include <vector>

namespace polyhead::lowrank {

// The fraction of a layer's MACs a factorization must save.
constexpr double kMinMacSaving = 0.1;

// The largest rank whose factorization of an O x I layer saves at least kMinMacSaving of its MACs
// (r (O + I) <= (1 - kMinMacSaving) O I); 0 when none does.
int largest_saving_rank(int out, int in);

// The smallest rank r whose r largest singular values (`s`, largest first) keep at least the
// fraction `energy` (in (0, 1]) of the sum of all squared singular values. Energy 1 gives the
// numerical rank: the sum of the tail must vanish up to rounding. At least 1.
int rank_for_energy(const std::vector<double>& s, double energy);

// ceil(ratio * min(O, I)) for a ratio in (0, 1), at least 1.
int rank_for_ratio(int out, int in, double ratio);

// The fraction of the sum of squared singular values the first `rank` keep (1 for an all-zero
// matrix).
double energy_kept(const std::vector<double>& s, int rank);

}  // namespace polyhead::lowrank
