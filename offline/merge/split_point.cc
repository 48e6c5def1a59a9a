#include "offline/merge/split_point.h"

namespace polyhead::merge {

Result<std::vector<char>> backbone_up_to(const SourceGraph& first, const std::string& name) {
  const std::string where = "--split-at '" + name + "': ";
  std::vector<int> written, other;
  for (size_t t = 0; t < first.producer.size(); ++t) {
    if (first.tensor_name(static_cast<int>(t)) != name) continue;
    (first.producer[t] >= 0 ? written : other).push_back(static_cast<int>(t));
  }
  if (written.size() > 1)
    return Status(ErrorCode::kInvalidArgument,
                  where + std::to_string(written.size()) + " tensors of '" + first.source +
                      "' have that name (written by nodes '" +
                      first.node_name(first.producer[static_cast<size_t>(written[0])]) + "' and '" +
                      first.node_name(first.producer[static_cast<size_t>(written[1])]) + "')");
  int cut = written.empty() ? -1 : first.producer[static_cast<size_t>(written[0])];
  // Node names are unique, and converters often name a node's output after it anyway.
  for (size_t n = 0; cut < 0 && n < first.root->nodes()->size(); ++n)
    if (first.node_name(static_cast<int>(n)) == name) cut = static_cast<int>(n);
  if (cut < 0 && other.empty())
    return Status(ErrorCode::kNotFound,
                  where + "'" + first.source + "' has no tensor or node of that name");
  if (cut < 0)
    return Status(ErrorCode::kInvalidArgument,
                  where + "it is a " +
                      (first.input_position[static_cast<size_t>(other[0])] >= 0 ? "model input"
                                                                                : "constant") +
                      " of '" + first.source + "', not written by a node");
  std::vector<char> backbone(first.root->nodes()->size(), 0);
  std::vector<int> todo = {cut};
  while (!todo.empty()) {
    const int n = todo.back();
    todo.pop_back();
    if (backbone[static_cast<size_t>(n)]) continue;
    backbone[static_cast<size_t>(n)] = 1;
    for (int t : *first.node(n).inputs())
      if (t >= 0 && first.producer[static_cast<size_t>(t)] >= 0)
        todo.push_back(first.producer[static_cast<size_t>(t)]);
  }
  return backbone;
}

}  // namespace polyhead::merge
