// The one writer of the .phm layout (docs/format.md): the FlatBuffer first, stamped with this
// build's format version, then each constant at a 64-byte aligned offset, the file padded to a
// multiple of 64 and smaller than 2 GiB. Identical shapes, index lists, quantization tables and
// options tables are stored once and shared by every table that refers to them. ModelBuilder,
// `polyhead merge` and `polyhead quantize` describe their model as a PhmModel and call write_phm,
// so the layout and its checks live here.
//
// Internal to the engine layer: the offline tools include it through the CMake target
// polyhead_engine_internal; it is not installed and not part of the public API.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::internal {

// Every constant starts at a multiple of this, counted from the start of the file.
inline constexpr uint64_t kPhmAlignment = 64;
// The FlatBuffers limit: a .phm file must be smaller than this.
inline constexpr uint64_t kPhmMaxFileBytes = uint64_t{1} << 31;

// Bytes of one constant, owned by the caller until write_phm returns.
struct PhmConstant {
  const void* data = nullptr;
  uint64_t size = 0;
};

struct PhmQuantization {
  std::vector<float> scale;
  std::optional<std::vector<int64_t>> zero_point;  // absent: all 0 (written so when all 0)
  int axis = -1;
};

// A float constant that the file stores block-sparse (docs/format.md, "Sparse constants"): only
// its blocks that hold a nonzero are written.
struct PhmSparseBlocks {
  int block_rows = 1;
  int block_cols = 1;
};

struct PhmTensor {
  std::string name;
  std::vector<int> shape;
  schema::ElementType type = schema::ElementType::F32;
  std::optional<PhmQuantization> quantization;
  int constant = -1;  // index into PhmModel::constants (tensors may share one), -1: not constant
  // Set: store the constant block-sparse. Its PhmConstant still holds the dense bytes; write_phm
  // encodes them (block_sparse.h).
  std::optional<PhmSparseBlocks> sparse;
};

// Writes a node's options table into the builder. write_phm calls it several times (into a scratch
// builder to compare options tables by their bytes, and once per pass), so it must write the same
// table every time.
using PhmOptionsWriter =
    std::function<Result<flatbuffers::Offset<void>>(flatbuffers::FlatBufferBuilder&)>;

struct PhmNode {
  std::string name;
  schema::OpKind op = schema::OpKind::CONV_2D;
  schema::OpOptions options_type = schema::OpOptions::NONE;
  PhmOptionsWriter options;  // empty: no options table
  std::vector<int> inputs;
  std::vector<int> outputs;
};

struct PhmPreprocess {
  int width = 0;
  int height = 0;
  schema::Layout layout = schema::Layout::NHWC;
  schema::ColorOrder color = schema::ColorOrder::RGB;
  std::optional<std::vector<float>> mean;  // absent: not stored
  std::optional<std::vector<float>> std;
  float pixel_scale = 255.f;
  schema::ImageFit fit = schema::ImageFit::STRETCH;
};

struct PhmInput {
  int tensor = 0;
  std::optional<PhmPreprocess> preprocess;
};

struct PhmPostProcess {
  schema::OutputActivation activation = schema::OutputActivation::NONE;
  std::optional<std::vector<std::string>> labels;  // absent: not stored
  float score_threshold = 0.5f;
  float nms_iou = 0.45f;
  int max_detections = 100;
  std::optional<std::vector<float>> anchors;
};

struct PhmTaskOutput {
  std::string name;
  int tensor = 0;
};

struct PhmTask {
  std::string name;
  schema::TaskKind kind = schema::TaskKind::OTHER;
  std::vector<PhmTaskOutput> outputs;
  std::optional<PhmPostProcess> postprocess;
  int priority = 0;
  int rate = 1;
};

// A whole model as the writer takes it. The format version is not here: write_phm stamps this
// build's (polyhead/format_version.h).
struct PhmModel {
  std::string producer;
  std::string description;
  std::vector<PhmTensor> tensors;
  std::vector<PhmConstant> constants;  // stored in this order
  std::vector<PhmNode> nodes;
  std::vector<PhmInput> inputs;
  std::vector<PhmTask> tasks;
  std::vector<std::pair<std::string, std::string>> metadata;
};

struct PhmWriteOptions {
  std::string what = "the model";  // how errors name the model ("the merged model")
  // Store every scalar even when it equals the schema default, so a value copied from another
  // file is never normalised away (-0.0 stays -0.0). The rewriting tools (merge, quantize) set it;
  // ModelBuilder writes compact files.
  bool keep_defaults = false;
};

// Where the constants go in a file whose FlatBuffer takes `flatbuffer_bytes`.
struct PhmLayout {
  std::vector<uint64_t> offsets;  // per constant, multiples of kPhmAlignment
  uint64_t file_bytes = 0;        // a multiple of kPhmAlignment
};

// Places each constant at the next aligned offset after the FlatBuffer and the previous
// constant. Fails (kInvalidArgument, naming `what` and the size) when the file would reach the
// 2 GiB limit; nothing is allocated, so the limit can be checked for any sizes.
Result<PhmLayout> plan_phm_layout(uint64_t flatbuffer_bytes,
                                  const std::vector<uint64_t>& constant_bytes,
                                  const std::string& what);

// The file's bytes. Fails when a constant tensor's bytes do not match its shape and type, when a
// tensor names a constant that does not exist, when a sparse tensor is not a float constant or its
// blocks do not divide its matrix, past the 2 GiB limit (before copying any
// constant), or when an options writer fails.
Result<std::vector<uint8_t>> write_phm(const PhmModel& model, const PhmWriteOptions& options = {});

// The scales as halves when there are several and each is exactly a normal half (half_scales.h):
// write_phm then stores them as `scale_f16`.
std::optional<std::vector<uint16_t>> scales_as_halves(const PhmQuantization& q);

// One Quantization table, as write_phm writes it (for canonical comparison bytes).
flatbuffers::Offset<schema::Quantization> add_phm_quantization(flatbuffers::FlatBufferBuilder& b,
                                                               const PhmQuantization& q);

}  // namespace polyhead::internal
