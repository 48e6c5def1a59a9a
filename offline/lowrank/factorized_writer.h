// The low-rank rewrite: each chosen layer W [O][I] (factorizable_layer.h) with W = U S V^T becomes
// two layers of the same kind,
//   NAME/lowrank_in  weights V_r^T [r][I] (W/lowrank_in), no bias, no activation, writing the
//                    new tensor Y/lowrank [..., r]
//   NAME             weights U_r S_r [O][r] (W/lowrank_out), the original bias and options (so
//                    its fused activation), writing the original output Y
// so every reader of Y, and every task, is unchanged. With r = min(O, I) the product is W up to
// rounding; with less it is the best rank-r approximation (Eckart-Young). Weights no node reads
// any more are dropped.
#pragma once

#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/lowrank/factorizable_layer.h"
#include "offline/lowrank/svd.h"
#include "offline/quantize/model_writer.h"
#include "polyhead/result.h"

namespace polyhead::lowrank {

struct Factorization {
  const FactorizableLayer* layer = nullptr;
  const Svd* svd = nullptr;  // of the layer's weight_matrix
  int rank = 0;              // in [1, min(O, I)]
};

// `g`'s model with the layers of `f` factorized (each at most once). New names that would clash
// with existing ones get a numbered suffix. Fails on a rank out of range or an SVD of another
// shape, naming the layer.
Result<quantize::EditModel> factorize_layers(const merge::SourceGraph& g,
                                             const std::vector<Factorization>& f);

}  // namespace polyhead::lowrank
