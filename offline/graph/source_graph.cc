#include "offline/graph/source_graph.h"

#include <queue>

#include "offline/graph/schema_copy.h"
#include "polyhead/internal/int16_constants.h"
#include "polyhead/kernels/sparse_matrix.h"

namespace polyhead::merge {

const uint8_t* SourceGraph::constant_data(int t) const {
  const uint32_t buffer = tensor(t).buffer();
  if (buffer == 0) return nullptr;
  if (const auto& decoded = decoded_[static_cast<size_t>(t)]) return decoded->data();
  return file + root->buffers()->Get(buffer - 1)->offset();
}

size_t SourceGraph::constant_size(int t) const {
  const uint32_t buffer = tensor(t).buffer();
  if (buffer == 0) return 0;
  if (const auto& decoded = decoded_[static_cast<size_t>(t)]) return decoded->size();
  return static_cast<size_t>(root->buffers()->Get(buffer - 1)->size());
}

namespace {

// The dense bytes of a constant a validated model stores block-sparse or as int16 (checked at
// load), or null for one stored as it is read. The bytes come from operator new, aligned for
// floats and int32.
std::shared_ptr<const std::vector<uint8_t>> decode_constant(const SourceGraph& g, int t) {
  const schema::Tensor& tensor = g.tensor(t);
  const schema::BufferRef& b = *g.root->buffers()->Get(tensor.buffer() - 1);
  if (tensor.storage() == schema::ConstantStorage::INT16) {
    const auto count = static_cast<size_t>(b.size() / sizeof(int16_t));
    auto wide = std::make_shared<std::vector<uint8_t>>(count * sizeof(int32_t));
    internal::widen_int16(g.file + b.offset(), count, reinterpret_cast<int32_t*>(wide->data()));
    return wide;
  }
  if (!tensor.sparse()) return nullptr;
  const schema::SparseLayout& s = *tensor.sparse();
  kernels::SparseMatrix m;
  m.rows = tensor.shape()->size() == 0 ? 1 : static_cast<size_t>(tensor.shape()->Get(0));
  m.cols = 1;
  for (flatbuffers::uoffset_t d = 1; d < tensor.shape()->size(); ++d)
    m.cols *= static_cast<size_t>(tensor.shape()->Get(d));
  m.block_rows = static_cast<size_t>(s.block_rows());
  m.block_cols = static_cast<size_t>(s.block_cols());
  m.row_starts = s.row_starts()->data();
  m.block_columns = s.block_columns()->data();
  m.values = reinterpret_cast<const float*>(g.file + b.offset());
  auto dense = std::make_shared<std::vector<uint8_t>>(m.rows * m.cols * sizeof(float));
  kernels::densify(m, reinterpret_cast<float*>(dense->data()));
  return dense;
}

}  // namespace

std::string shape_text(const schema::Tensor& t) {
  std::string s = "[";
  for (flatbuffers::uoffset_t i = 0; i < t.shape()->size(); ++i)
    s += (i ? "," : "") + std::to_string(t.shape()->Get(i));
  return s + "]";
}

Result<SourceGraph> read_source_graph(const Model& model, const std::string& source) {
  SourceGraph g;
  g.file = model.bytes();
  g.root = schema::GetModel(g.file);
  g.source = source;
  PH_RETURN_IF_ERROR(check_known_fields(*g.root, source));
  const size_t tensors = g.root->tensors()->size();
  const size_t nodes = g.root->nodes()->size();
  g.decoded_.assign(tensors, nullptr);
  for (size_t t = 0; t < tensors; ++t)
    if (g.is_constant(static_cast<int>(t))) g.decoded_[t] = decode_constant(g, static_cast<int>(t));
  g.producer.assign(tensors, -1);
  g.input_position.assign(tensors, -1);
  for (flatbuffers::uoffset_t i = 0; i < g.root->inputs()->size(); ++i)
    g.input_position[static_cast<size_t>(g.root->inputs()->Get(i)->tensor())] = static_cast<int>(i);
  for (size_t n = 0; n < nodes; ++n)
    for (int t : *g.node(static_cast<int>(n)).outputs())
      g.producer[static_cast<size_t>(t)] = static_cast<int>(n);

  // Kahn's algorithm, smallest file index first, so a file already in order keeps its order.
  std::vector<int> waiting(nodes, 0);
  std::vector<std::vector<int>> readers(nodes);
  for (size_t n = 0; n < nodes; ++n)
    for (int t : *g.node(static_cast<int>(n)).inputs()) {
      if (t < 0 || g.producer[static_cast<size_t>(t)] < 0) continue;
      ++waiting[n];
      readers[static_cast<size_t>(g.producer[static_cast<size_t>(t)])].push_back(
          static_cast<int>(n));
    }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t n = 0; n < nodes; ++n)
    if (waiting[n] == 0) ready.push(static_cast<int>(n));
  while (!ready.empty()) {
    const int n = ready.top();
    ready.pop();
    g.order.push_back(n);
    for (int r : readers[static_cast<size_t>(n)])
      if (--waiting[static_cast<size_t>(r)] == 0) ready.push(r);
  }
  if (g.order.size() != nodes)  // the loader rejects cycles, so only a bug gets here
    return Status(ErrorCode::kInternal, "'" + source + "': the graph has a cycle");
  return g;
}

}  // namespace polyhead::merge
