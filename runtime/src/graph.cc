#include "polyhead/runtime/graph.h"

namespace polyhead::runtime {

std::vector<int> nodes_for_tasks(const Graph& graph, const std::vector<int>& tasks) {
  // Walk back from the task outputs to mark every node they depend on.
  std::vector<char> needed(graph.nodes.size(), 0);
  std::vector<int> stack;
  for (int t : tasks)
    for (const TaskOutputInfo& out : graph.tasks[static_cast<size_t>(t)].outputs) {
      const int producer = graph.tensors[static_cast<size_t>(out.tensor)].producer;
      if (producer >= 0) stack.push_back(producer);
    }
  while (!stack.empty()) {
    const int n = stack.back();
    stack.pop_back();
    if (needed[static_cast<size_t>(n)]) continue;
    needed[static_cast<size_t>(n)] = 1;
    for (int in : graph.nodes[static_cast<size_t>(n)].inputs)
      if (in >= 0) {
        const int producer = graph.tensors[static_cast<size_t>(in)].producer;
        if (producer >= 0 && !needed[static_cast<size_t>(producer)]) stack.push_back(producer);
      }
  }
  std::vector<int> order;
  for (int n : graph.topological_order)
    if (needed[static_cast<size_t>(n)]) order.push_back(n);
  return order;
}

}  // namespace polyhead::runtime
