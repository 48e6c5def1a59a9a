#include "offline/merge/constant_pool.h"

#include <cstring>

#include "offline/graph/schema_copy.h"

namespace polyhead::merge {

namespace {

// FNV-1a over 8-byte words with a final mix: fast on tens of megabytes of weights; collisions only
// cost a full comparison.
uint64_t hash_bytes(const uint8_t* p, size_t n, const std::string& signature) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (char c : signature) mix(static_cast<uint8_t>(c));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    mix(w);
  }
  for (; i < n; ++i) mix(p[i]);
  mix(n);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::string tensor_signature(const schema::Tensor& t) {
  std::string s = std::to_string(static_cast<int>(t.type())) + "[";
  for (int d : *t.shape()) s += std::to_string(d) + ",";
  return s + "]" + quantization_bytes(t.quantization());
}

int ConstantPool::intern(const std::vector<SourceGraph>& graphs, size_t model, int t) {
  const uint64_t key = (static_cast<uint64_t>(model) << 32) | static_cast<uint32_t>(t);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  const SourceGraph& g = graphs[model];
  const std::string signature = tensor_signature(g.tensor(t));
  const uint8_t* data = g.constant_data(t);
  const uint64_t size = g.constant_size(t);
  const uint64_t h = hash_bytes(data, static_cast<size_t>(size), signature);
  int cls = -1;
  for (auto [it, end] = by_hash_.equal_range(h); it != end && cls < 0; ++it) {
    const Class& c = classes_[static_cast<size_t>(it->second)];
    if (c.size == size && c.signature == signature &&
        (size == 0 || std::memcmp(c.data, data, static_cast<size_t>(size)) == 0))
      cls = it->second;
  }
  if (cls < 0) {
    cls = static_cast<int>(classes_.size());
    classes_.push_back({signature, data, size, model, t});
    by_hash_.emplace(h, cls);
  }
  memo_.emplace(key, cls);
  return cls;
}

}  // namespace polyhead::merge
