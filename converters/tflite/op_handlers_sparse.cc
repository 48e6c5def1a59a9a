// Handler of DENSIFY, TFLite's expansion of a sparse constant (sparse_tensor.h).
#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"

namespace polyhead::tflite {

// densify_sparse_constants() has already checked the operator and given its output the dense
// bytes of its input: the output is a constant like any other, and no node is written.
Result<Converted> convert_densify(OpContext& c) {
  if (c.g.model().densify_outputs.count(c.out()) == 0)
    return invalid("output '" + c.g.tf_tensor(c.out()).name + "' was not densified");
  return Converted{};
}

}  // namespace polyhead::tflite
