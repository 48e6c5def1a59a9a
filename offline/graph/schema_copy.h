// Copies the parts of a .phm FlatBuffer that `polyhead merge` carries over unchanged (operator
// options, quantization, pre- and post-processing) into a new builder, and refuses files whose
// tables hold fields this build does not know, since copying them field by field would drop those.
#pragma once

#include <string>

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

// Null offsets in, null offsets out.
flatbuffers::Offset<schema::Quantization> copy_quantization(flatbuffers::FlatBufferBuilder& b,
                                                            const schema::Quantization* q);
flatbuffers::Offset<schema::Preprocess> copy_preprocess(flatbuffers::FlatBufferBuilder& b,
                                                        const schema::Preprocess* p);
flatbuffers::Offset<schema::PostProcess> copy_postprocess(flatbuffers::FlatBufferBuilder& b,
                                                          const schema::PostProcess* p);

// Canonical bytes of a node's options table and of a quantization table: every scalar is written
// out (an absent field and one stored at its default give the same bytes, -0.0 and 0.0 do not), so
// equal bytes mean equal meaning.
Result<std::string> options_bytes(const schema::Node& node);
std::string quantization_bytes(const schema::Quantization* q);

}  // namespace polyhead::merge
