// Small models built with the ModelBuilder for tests: deterministic, seeded weights.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "polyhead/model_builder.h"
#include "support/test_files.h"

namespace polyhead::testing {

// Uniform values in [-scale, scale] from a fixed seed.
std::vector<float> random_values(size_t count, uint32_t seed, float scale = 1.f);

// Adds a constant of the given shape filled by random_values.
int random_constant(ModelBuilder& b, const std::string& name, const Shape& shape, uint32_t seed,
                    float scale);

// A 64-byte aligned copy of model bytes, for tests of Model::from_buffer (which borrows memory).
struct AlignedBytes {
  explicit AlignedBytes(const std::vector<uint8_t>& bytes);
  std::unique_ptr<uint8_t, decltype(&std::free)> data;
  size_t size;
};

// A tiny two-task model: input [1,8,8,3] -> conv (shared) -> {classify: mean+fc, segment: conv}.
std::vector<uint8_t> tiny_two_task_model();

// Every operator kind the builder writes, over three tasks ("classes", "dense", "pooled") and two
// inputs ("image" [1,8,8,4], "aux" [1,4]).
std::vector<uint8_t> every_operator_model();

}  // namespace polyhead::testing
