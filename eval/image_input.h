// The one image input a comparison feeds: each model gets the photo through its own declared
// pre-processing, so a student may take a different input size, fit or normalisation.
#pragma once

#include <string>

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::compare {

// The model's only input, which must be an image (colour order other than NONE). `role` ("teacher"
// or "student") prefixes the error message.
Result<const InputInfo*> image_input(const Model& model, const std::string& role);

}  // namespace polyhead::compare
