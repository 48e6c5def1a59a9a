#include "offline/lowrank/lowrank.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include "offline/graph/number_text.h"
#include "offline/graph/source_graph.h"
#include "offline/lowrank/factorizable_layer.h"
#include "offline/lowrank/factorized_writer.h"
#include "offline/lowrank/rank_choice.h"
#include "offline/lowrank/svd.h"
#include "offline/quantize/model_writer.h"

namespace polyhead::lowrank {
namespace {

std::string number(double v) {
  return graph::number_text(v);
}

std::string dims(const FactorizableLayer& l) {
  return std::to_string(l.out_channels) + "x" + std::to_string(l.in_channels);
}

Status check_options(const LowrankOptions& o) {
  switch (o.mode) {
    case RankMode::kEnergy:
      if (!(o.energy > 0 && o.energy <= 1))
        return Status(ErrorCode::kInvalidArgument,
                      "energy must be in (0, 1], got " + number(o.energy));
      break;
    case RankMode::kRankRatio:
      if (!(o.rank_ratio > 0 && o.rank_ratio < 1))
        return Status(ErrorCode::kInvalidArgument,
                      "rank ratio must be in (0, 1), got " + number(o.rank_ratio));
      break;
    case RankMode::kMaxDrop:
      if (!(o.max_drop >= 0 && o.max_drop <= 1))
        return Status(ErrorCode::kInvalidArgument,
                      "max drop must be in [0, 1], got " + number(o.max_drop));
      break;
  }
  return Status::ok();
}

Status no_layer_error(const merge::SourceGraph& g) {
  size_t convs = 0, fcs = 0;
  for (int n : g.order) {
    convs += g.node(n).op() == schema::OpKind::CONV_2D ? 1 : 0;
    fcs += g.node(n).op() == schema::OpKind::FULLY_CONNECTED ? 1 : 0;
  }
  return Status(ErrorCode::kInvalidArgument,
                "the model has no layer to factorize: lowrank takes float FULLY_CONNECTED layers "
                "and 1x1 CONV_2D layers (stride 1, groups 1, no padding) with at least 2 input "
                "and output channels, and found none among its " +
                    std::to_string(convs) + " CONV_2D and " + std::to_string(fcs) +
                    " FULLY_CONNECTED nodes");
}

// The SVD of every layer with `wanted[l]`, `threads` at a time (0: one per processor). Each
// layer is independent, and the largest take seconds.
Result<std::vector<Svd>> decompose(const merge::SourceGraph& g,
                                   const std::vector<FactorizableLayer>& layers,
                                   const std::vector<bool>& wanted, size_t threads,
                                   const LowrankOptions& o) {
  std::vector<size_t> todo;
  for (size_t l = 0; l < layers.size(); ++l)
    if (wanted[l]) todo.push_back(l);
  std::vector<Svd> svds(layers.size());
  std::vector<Status> errors(layers.size(), Status::ok());
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  // Progress is reported from this thread only: the callback need not be thread-safe.
  auto work = [&]() {
    for (size_t i = next++; i < todo.size(); i = next++) {
      const FactorizableLayer& l = layers[todo[i]];
      auto s = svd(weight_matrix(g, l), l.out_channels, l.in_channels);
      if (s.is_ok())
        svds[todo[i]] = std::move(*s);
      else
        errors[todo[i]] =
            Status(s.status().code(), "layer '" + l.name + "': " + s.status().message());
      ++done;
    }
  };
  if (o.progress) o.progress("svd", 0, todo.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<size_t>(1, todo.size()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (o.progress) o.progress("svd", done.load(), todo.size());
  for (const Status& e : errors) PH_RETURN_IF_ERROR(e);
  return svds;
}

struct Rewriter {
  const merge::SourceGraph& g;
  const std::vector<FactorizableLayer>& layers;
  const std::vector<Svd>& svds;

  // The model with layer l at ranks[l] (0: kept whole).
  Result<quantize::EditModel> edit(const std::vector<int>& ranks) const {
    std::vector<Factorization> f;
    for (size_t l = 0; l < layers.size(); ++l)
      if (ranks[l] > 0) f.push_back({&layers[l], &svds[l], ranks[l]});
    return factorize_layers(g, f);
  }

  Result<Model> build(const std::vector<int>& ranks) const {
    PH_ASSIGN_OR_RETURN(quantize::EditModel m, edit(ranks));
    PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, quantize::write_model(m));
    auto loaded = Model::from_bytes(bytes);
    if (!loaded.is_ok())
      return Status(ErrorCode::kInternal,
                    "the factorized model does not load: " + loaded.status().message());
    return *loaded;
  }
};

// The rank the fixed modes ask for.
int wanted_rank(const LowrankOptions& o, const FactorizableLayer& l, const Svd& s) {
  return o.mode == RankMode::kEnergy ? rank_for_energy(s.s, o.energy)
                                     : rank_for_ratio(l.out_channels, l.in_channels, o.rank_ratio);
}

// The ranks `--max-drop` tries on one layer: the energy ladder and the largest saving rank, the
// ones that save MACs, distinct, largest first.
std::vector<RankTrial> ladder(const FactorizableLayer& l, const Svd& s, int largest) {
  std::set<int, std::greater<int>> ranks = {largest};
  for (double e : ladder_energies()) {
    const int r = rank_for_energy(s.s, e);
    if (r <= largest) ranks.insert(r);
  }
  std::vector<RankTrial> out;
  for (int r : ranks) {
    RankTrial t;
    t.rank = r;
    t.energy = energy_kept(s.s, r);
    t.macs_saved = l.macs() - l.macs_at_rank(r);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

const char* rank_mode_name(RankMode mode) {
  switch (mode) {
    case RankMode::kEnergy:
      return "energy";
    case RankMode::kRankRatio:
      return "rank-ratio";
    case RankMode::kMaxDrop:
      return "max-drop";
  }
  return "?";
}

Result<LowrankResult> lowrank_model(const Model& model, const std::vector<std::string>& images,
                                    const LowrankOptions& o) {
  PH_RETURN_IF_ERROR(check_options(o));
  PH_RETURN_IF_ERROR(quantize::check_evaluation_tasks(model, o.tasks));
  if (o.mode == RankMode::kMaxDrop && images.empty())
    return Status(ErrorCode::kInvalidArgument, "--max-drop needs calibration photos (--calib)");
  PH_ASSIGN_OR_RETURN(const merge::SourceGraph g, merge::read_source_graph(model, "model"));
  const std::vector<FactorizableLayer> layers = find_factorizable_layers(g);
  if (layers.empty()) return no_layer_error(g);

  std::vector<int> largest(layers.size());
  std::vector<bool> pays(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    largest[l] = largest_saving_rank(layers[l].out_channels, layers[l].in_channels);
    pays[l] = largest[l] > 0;
  }
  if (std::none_of(pays.begin(), pays.end(), [](bool b) { return b; }))
    return Status(ErrorCode::kInvalidArgument,
                  "no layer's factorization saves MACs: the model's " +
                      std::to_string(layers.size()) +
                      " factorizable layer(s) are too small, even rank 1 costs more than " +
                      number(100 * (1 - kMinMacSaving)) + "% of their MACs (first: '" +
                      layers[0].name + "', " + dims(layers[0]) + ")");
  PH_ASSIGN_OR_RETURN(const std::vector<Svd> svds, decompose(g, layers, pays, o.threads, o));
  const Rewriter rewriter{g, layers, svds};

  LowrankResult result;
  LowrankReport& r = result.report;
  r.mode = o.mode;
  r.value = o.mode == RankMode::kEnergy      ? o.energy
            : o.mode == RankMode::kRankRatio ? o.rank_ratio
                                             : o.max_drop;
  r.input_bytes = model.file_bytes();
  std::vector<int> ranks(layers.size(), 0), wanted(layers.size(), 0);

  if (o.mode != RankMode::kMaxDrop) {
    for (size_t l = 0; l < layers.size(); ++l) {
      if (!pays[l]) continue;
      wanted[l] = wanted_rank(o, layers[l], svds[l]);
      if (wanted[l] <= largest[l]) ranks[l] = wanted[l];
    }
  } else {
    std::vector<std::string> eval_images = images;
    if (o.limit > 0 && eval_images.size() > o.limit) eval_images.resize(o.limit);
    r.evaluation_images = eval_images.size();
    quantize::EvaluationOptions eo;
    eo.threads = o.threads;
    eo.tasks = o.tasks;
    auto evaluate = [&](const std::vector<int>& config) -> Result<quantize::Evaluation> {
      PH_ASSIGN_OR_RETURN(const Model m, rewriter.build(config));
      return quantize::evaluate(model, m, eval_images, eo);
    };
    for (size_t l = 0; l < layers.size(); ++l) {
      if (pays[l]) {
        PH_ASSIGN_OR_RETURN(
            LayerSensitivity s,
            measure_layer_sensitivity(layers[l].name, ladder(layers[l], svds[l], largest[l]),
                                      o.max_drop, [&](int rank) {
                                        std::vector<int> only(layers.size(), 0);
                                        only[l] = rank;
                                        return evaluate(only);
                                      }));
        r.sensitivity.push_back(std::move(s));
      } else {
        r.sensitivity.push_back(LayerSensitivity{layers[l].name, {}, 0});
      }
      if (o.progress) o.progress("sensitivity", l + 1, layers.size());
    }
    size_t step = 0;
    PH_ASSIGN_OR_RETURN(BudgetResult b, search_within_budget(r.sensitivity, o.max_drop,
                                                             [&](const std::vector<int>& config) {
                                                               if (o.progress)
                                                                 o.progress("search", ++step, 0);
                                                               return evaluate(config);
                                                             }));
    ranks = b.ranks;
    r.steps = std::move(b.steps);
    r.final = std::move(b.final);
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerSensitivity& s = r.sensitivity[l];
      wanted[l] = s.within_budget > 0 ? s.trials[s.within_budget - 1].rank : 0;
    }
  }

  for (size_t l = 0; l < layers.size(); ++l) {
    const FactorizableLayer& layer = layers[l];
    LayerChoice c;
    c.node = layer.name;
    c.kind = layer_kind(layer);
    c.out_channels = layer.out_channels;
    c.in_channels = layer.in_channels;
    c.rank = ranks[l];
    c.wanted_rank = wanted[l];
    c.largest_saving_rank = largest[l];
    c.energy_kept = ranks[l] > 0 ? energy_kept(svds[l].s, ranks[l]) : 1.0;
    c.macs_before = layer.macs();
    c.macs_after = ranks[l] > 0 ? layer.macs_at_rank(ranks[l]) : layer.macs();
    if (ranks[l] == 0) {
      if (!pays[l])
        c.note = "too small: no rank saves MACs";
      else if (o.mode != RankMode::kMaxDrop)
        c.note = "rank " + std::to_string(wanted[l]) + " saves no MACs (at most " +
                 std::to_string(largest[l]) + " does)";
      else if (r.sensitivity[l].within_budget == 0)
        c.note = "over the budget alone at every rank";
      else
        c.note = "given back by the search";
    }
    r.factorized += ranks[l] > 0 ? 1 : 0;
    r.layer_macs_before += c.macs_before;
    r.layer_macs_after += c.macs_after;
    r.layers.push_back(std::move(c));
  }

  if (r.factorized == 0) {
    // Only the fixed modes get here (the search fails on its own): name the layer that came
    // closest, the one whose wanted rank overshoots the saving limit least.
    size_t closest = layers.size();
    double best = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      if (!pays[l]) continue;
      const double over = static_cast<double>(wanted[l]) / largest[l];
      if (closest == layers.size() || over < best) {
        closest = l;
        best = over;
      }
    }
    const std::string setting = o.mode == RankMode::kEnergy
                                    ? "--energy " + number(o.energy)
                                    : "--rank-ratio " + number(o.rank_ratio);
    const FactorizableLayer& c = layers[closest];
    return Status(ErrorCode::kInvalidArgument,
                  "no layer saves MACs at " + setting + ": the closest, '" + c.name + "' (" +
                      dims(c) + "), needs rank " + std::to_string(wanted[closest]) +
                      " where at most " + std::to_string(largest[closest]) +
                      " saves MACs; try a lower setting");
  }

  PH_ASSIGN_OR_RETURN(quantize::EditModel m, rewriter.edit(ranks));
  // Notes of an earlier factorization are replaced.
  std::vector<std::pair<std::string, std::string>> md;
  for (auto& kv : m.metadata)
    if (kv.first.rfind("lowrank.", 0) != 0) md.push_back(kv);
  md.emplace_back("lowrank.tool", "polyhead lowrank");
  md.emplace_back("lowrank.mode", rank_mode_name(o.mode));
  md.emplace_back("lowrank.value", number(r.value));
  md.emplace_back("lowrank.factorized_layers", std::to_string(r.factorized));
  m.metadata = std::move(md);
  PH_ASSIGN_OR_RETURN(result.bytes, quantize::write_model(m));
  auto loaded = Model::from_bytes(result.bytes);
  if (!loaded.is_ok())
    return Status(ErrorCode::kInternal,
                  "the factorized model does not load: " + loaded.status().message());
  r.output_bytes = result.bytes.size();
  return result;
}

}  // namespace polyhead::lowrank
