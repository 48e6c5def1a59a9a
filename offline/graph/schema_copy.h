// Reads the parts of a .phm FlatBuffer that `polyhead merge` and `polyhead quantize` carry over
// unchanged (operator options, quantization, pre- and post-processing) for the one .phm writer,
// and refuses files whose tables hold fields this build does not know, since copying them field
// by field would drop those.
#pragma once

#include <optional>
#include <string>

#include "polyhead/internal/phm_writer.h"
#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::merge {

// Fails, naming `source` and the table, when any table of the model stores a field past the last
// one this build's schema has (a file from a newer producer): the merge would silently lose it.
Status check_known_fields(const schema::Model& model, const std::string& source);

// The node's options table copied into `b`; a null offset when the node has none. Fails on an
// options type this build cannot copy.
Result<flatbuffers::Offset<void>> copy_options(flatbuffers::FlatBufferBuilder& b,
                                               const schema::Node& node);

// The tables as the writer takes them; absent in, absent out. Every field is kept as stored.
std::optional<internal::PhmQuantization> read_quantization(const schema::Quantization* q);
std::optional<internal::PhmPreprocess> read_preprocess(const schema::Preprocess* p);
// Anchors stored as grids come back as their list (the writer fits grids again); fails on grids
// that do not expand (anchor_grids.h).
Result<std::optional<internal::PhmPostProcess>> read_postprocess(const schema::PostProcess* p);
// The block shape of a constant stored sparse (the writer encodes the blocks again).
std::optional<internal::PhmSparseBlocks> read_sparse_blocks(const schema::SparseLayout* s);

// Canonical bytes of a node's options table and of a quantization table: every scalar is written
// out (an absent field and one stored at its default give the same bytes, -0.0 and 0.0 do not), so
// equal bytes mean equal meaning.
Result<std::string> options_bytes(const schema::Node& node);
std::string quantization_bytes(const schema::Quantization* q);

}  // namespace polyhead::merge
