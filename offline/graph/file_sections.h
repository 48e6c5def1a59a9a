// Where the bytes of a .phm file go (`polyhead inspect`'s "file sections"): the constant data by
// kind, the alignment padding around it, and the FlatBuffer split into the parts that grow with the
// model (names, shapes, quantization tables, anchors, ...). The sections sum to the file size, so
// a writer change shows up as bytes moved from one line to another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::graph {

struct FileSection {
  std::string key;    // stable, for JSON: "int8_weights"
  std::string label;  // for people: "int8 weights"
  uint64_t bytes = 0;
  uint64_t count = 0;  // how many items (buffers, names, tables) the bytes are made of
};

struct FileSections {
  uint64_t file_bytes = 0;
  std::vector<FileSection> sections;  // fixed order; their bytes sum to file_bytes
};

// Measures a model file's bytes. `data` must be a whole .phm file that Model::from_buffer accepts
// (the FlatBuffer is verified again here, so a corrupted file fails with kInvalidModel rather than
// being read out of bounds).
Result<FileSections> measure_file_sections(const uint8_t* data, size_t size);

}  // namespace polyhead::graph
