// `--names short` of `polyhead convert` and `polyhead quantize`: tensor and node names that nothing
// looks up by name become short unique ones ("t1f"), which in small models saves a few
// percent of the file (polyhead inspect's "tensor names" and "node names" sections).
//
// Kept as they are: the names of model inputs (Plan::set_input finds them by name), of the
// tensors tasks read and of the nodes writing them (what a user recognises in a profile). Every
// other tensor gets a name made of a letter and its index in base 36 ("t1f"), different from
// every kept name, so names stay unique; every other node the name of its first output (stored
// once for both). What the user loses: profiles, `compare` and error
// messages show the short names, and --keep-float must name nodes by them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "offline/quantize/model_writer.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

// What --names takes: keep (the default) or short.
enum class NameMode { kKeep, kShort };

// "keep" or "short"; anything else fails (kInvalidArgument) naming `option` and the value.
Result<NameMode> parse_name_mode(const std::string& option, const std::string& text);

struct ShortNameCounts {
  size_t tensors = 0;  // renamed
  size_t nodes = 0;
};

// Renames in place; names already short are renamed too, so the result depends only on the
// model's structure and kept names.
ShortNameCounts shorten_names(EditModel& m);

// A whole .phm file with its names shortened. `keep_defaults`: store scalars equal to the schema
// default (as `polyhead quantize` writes) or leave them out (as the converters do).
Result<std::vector<uint8_t>> shorten_names_in_file(const std::vector<uint8_t>& phm,
                                                   bool keep_defaults);

}  // namespace polyhead::quantize
