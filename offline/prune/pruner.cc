#include "offline/prune/pruner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "offline/graph/number_text.h"
#include "offline/graph/source_graph.h"
#include "offline/prune/block_layers.h"
#include "offline/prune/channel_means.h"
#include "offline/prune/channel_removal.h"
#include "offline/prune/channel_ties.h"
#include "offline/prune/layer_fractions.h"
#include "offline/quantize/int8_support.h"

namespace polyhead::prune {

namespace {

std::string number(double v) {
  return graph::number_text(v);
}

// One way of pruning, as the search sees it: layers that each lose a count of removal units
// (blocks, channels) and a model edited to match.
class Method {
 public:
  virtual ~Method() = default;
  // The removal units layer i loses at `fraction` of its size.
  virtual size_t units_for(size_t i, double fraction) const = 0;
  // The model with layer i losing units[i], its biases corrected at `means` (null: not);
  // removed[i]: the weights (channels) it lost.
  virtual Result<quantize::EditModel> edit(const std::vector<size_t>& units,
                                           const ChannelMeans* means,
                                           std::vector<size_t>* removed) const = 0;
};

size_t rounded(double fraction, size_t of) {
  return static_cast<size_t>(std::llround(fraction * static_cast<double>(of)));
}

class BlockMethod : public Method {
 public:
  BlockMethod(const merge::SourceGraph& g, std::vector<BlockLayer> layers)
      : g_(g), layers_(std::move(layers)) {}

  // A layer keeps at least one block: an all-zero weight only leaves its bias.
  size_t units_for(size_t i, double fraction) const override {
    return std::min(layers_[i].blocks() - 1, rounded(fraction, layers_[i].blocks()));
  }

  Result<quantize::EditModel> edit(const std::vector<size_t>& units, const ChannelMeans* means,
                                   std::vector<size_t>* removed) const override {
    if (removed) {
      removed->resize(layers_.size());
      for (size_t i = 0; i < layers_.size(); ++i)
        (*removed)[i] = units[i] * static_cast<size_t>(layers_[i].block_rows);
    }
    return prune_blocks(g_, layers_, units, means);
  }

 private:
  const merge::SourceGraph& g_;
  std::vector<BlockLayer> layers_;
};

class ChannelMethod : public Method {
 public:
  // `selected`: indices into ties.units, one per layer.
  ChannelMethod(const merge::SourceGraph& g, const ChannelTies& ties, std::vector<size_t> selected)
      : g_(g), ties_(ties), selected_(std::move(selected)) {}

  size_t units_for(size_t i, double fraction) const override {
    const ChannelUnit& u = ties_.units[selected_[i]];
    return std::min({u.classes.size(), u.channels - 1, rounded(fraction, u.classes.size())});
  }

  Result<quantize::EditModel> edit(const std::vector<size_t>& units, const ChannelMeans* means,
                                   std::vector<size_t>* removed) const override {
    std::vector<size_t> per_unit(ties_.units.size(), 0);
    for (size_t i = 0; i < selected_.size(); ++i) per_unit[selected_[i]] = units[i];
    const std::vector<bool> gone = choose_removed_classes(ties_, per_unit);
    if (removed) {
      removed->assign(selected_.size(), 0);
      for (size_t i = 0; i < selected_.size(); ++i)
        for (int c : ties_.units[selected_[i]].classes)
          (*removed)[i] += gone[static_cast<size_t>(c)] ? 1 : 0;
    }
    return remove_channels(g_, ties_, gone, means);
  }

 private:
  const merge::SourceGraph& g_;
  const ChannelTies& ties_;
  std::vector<size_t> selected_;
};

// The layers --layers keeps (all when it is empty); unknown names and named skips are errors.
// `names[i]`: the nodes that name layer i; `skip_names[k]`: those of skipped[k].
Result<std::vector<size_t>> select_layers(const merge::SourceGraph& g,
                                          const std::vector<std::string>& wanted,
                                          const std::vector<std::vector<std::string>>& names,
                                          const std::vector<LayerSkip>& skipped,
                                          const std::vector<std::vector<std::string>>& skip_names,
                                          const char* what) {
  std::vector<size_t> out;
  if (wanted.empty()) {
    for (size_t i = 0; i < names.size(); ++i) out.push_back(i);
    return out;
  }
  std::set<std::string> nodes;
  for (size_t n = 0; n < g.root->nodes()->size(); ++n)
    nodes.insert(g.node_name(static_cast<int>(n)));
  std::set<size_t> chosen;
  for (const std::string& w : wanted) {
    if (!nodes.count(w))
      return Status(ErrorCode::kInvalidArgument,
                    "--layers: the model has no node named '" + w +
                        "' (see 'polyhead inspect' for the node names)");
    bool found = false;
    for (size_t i = 0; i < names.size() && !found; ++i)
      if (std::find(names[i].begin(), names[i].end(), w) != names[i].end()) {
        chosen.insert(i);
        found = true;
      }
    for (size_t k = 0; k < skipped.size() && !found; ++k)
      if (std::find(skip_names[k].begin(), skip_names[k].end(), w) != skip_names[k].end())
        return Status(ErrorCode::kInvalidArgument,
                      "--layers: node '" + w + "' cannot be pruned: " + skipped[k].reason);
    if (!found) {
      int n = 0;
      while (g.node_name(n) != w) ++n;
      return Status(
          ErrorCode::kInvalidArgument,
          "--layers: node '" + w + "' (" + quantize::op_name(g.node(n).op()) + ") is not " + what);
    }
  }
  out.assign(chosen.begin(), chosen.end());
  return out;
}

// True when `a` measures strictly better than `b`: a smaller worst drop, or the same and a
// smaller worst score.
bool better(const quantize::Evaluation& a, const quantize::Evaluation& b) {
  return a.worst_drop < b.worst_drop ||
         (a.worst_drop == b.worst_drop && a.worst_score < b.worst_score);
}

Status check_options(const PruneOptions& o, const std::vector<std::string>& images) {
  const bool budget = o.max_drop >= 0;
  if (budget && o.sparsity != 0)
    return Status(ErrorCode::kInvalidArgument, "give --sparsity S or --max-drop X, not both");
  if (!budget && !(o.sparsity > 0 && o.sparsity < 1))
    return Status(ErrorCode::kInvalidArgument,
                  o.sparsity == 0 ? "give --sparsity S (in (0, 1)) or --max-drop X"
                                  : "sparsity must be in (0, 1), got " + number(o.sparsity));
  if (budget && !(o.max_drop <= 1))
    return Status(ErrorCode::kInvalidArgument,
                  "max drop must be in [0, 1], got " + number(o.max_drop));
  if (budget && images.empty())
    return Status(ErrorCode::kInvalidArgument,
                  "--max-drop needs calibration photos (--calib) to measure the drop on");
  if (o.probe != 0 && !(o.probe > 0 && o.probe < 1))
    return Status(ErrorCode::kInvalidArgument,
                  "probe sparsity must be in (0, 1), got " + number(o.probe));
  return Status::ok();
}

}  // namespace

Result<PruneResult> prune_model(const Model& model, const std::vector<std::string>& images,
                                const PruneOptions& o) {
  PH_RETURN_IF_ERROR(check_options(o, images));
  PH_RETURN_IF_ERROR(quantize::check_evaluation_tasks(model, o.tasks));
  PH_ASSIGN_OR_RETURN(const merge::SourceGraph g, merge::read_source_graph(model, "model"));

  PruneResult result;
  PruneReport& r = result.report;
  r.structured = o.structured;
  r.input_bytes = model.file_bytes();

  // The candidate layers of the method.
  std::vector<LayerReport> layers;
  std::vector<std::vector<std::string>> names, skip_names;
  std::unique_ptr<Method> method;
  ChannelTies ties;
  if (!o.structured) {
    BlockLayers found = find_block_layers(g);
    for (const BlockLayer& l : found.layers) {
      LayerReport lr;
      lr.name = l.name;
      lr.op = l.op;
      lr.shape = l.shape;
      lr.size = l.weight_count();
      lr.block_rows = l.block_rows;
      layers.push_back(std::move(lr));
      names.push_back({l.name});
    }
    for (const LayerSkip& s : found.skipped) skip_names.push_back({s.node});
    r.skipped = found.skipped;
    PH_ASSIGN_OR_RETURN(const std::vector<size_t> keep,
                        select_layers(g, o.layers, names, r.skipped, skip_names,
                                      "a convolution or fully connected layer"));
    std::vector<BlockLayer> kept;
    std::vector<LayerReport> kept_reports;
    kept_reports.reserve(keep.size());
    for (size_t i : keep) {
      kept.push_back(found.layers[i]);
      kept_reports.push_back(layers[i]);
    }
    layers = std::move(kept_reports);
    method = std::make_unique<BlockMethod>(g, std::move(kept));
  } else {
    PH_ASSIGN_OR_RETURN(ties, tie_channels(g));
    auto node_names = [&](const std::vector<int>& producers) {
      std::vector<std::string> out;
      out.reserve(producers.size());
      for (int p : producers) out.push_back(g.node_name(p));
      return out;
    };
    for (const ChannelUnit& u : ties.units) {
      LayerReport lr;
      const std::vector<std::string> all = node_names(u.producers);
      lr.name = all.front();
      lr.op = quantize::op_name(g.node(u.producers.front()).op());
      lr.tied.assign(all.begin() + 1, all.end());
      lr.shape = u.shape;
      lr.size = u.classes.size();
      lr.channels = u.channels;
      layers.push_back(std::move(lr));
      names.push_back(all);
    }
    for (const ChannelSkip& s : ties.skipped) {
      const std::vector<std::string> all = node_names(s.producers);
      std::string reason = s.reason;
      if (all.size() > 1)
        reason += " (tied with " + std::to_string(all.size() - 1) + " other layer" +
                  (all.size() > 2 ? "s" : "") + ")";
      r.skipped.push_back(
          {all.front(), quantize::op_name(g.node(s.producers.front()).op()), reason});
      skip_names.push_back(all);
    }
    PH_ASSIGN_OR_RETURN(
        const std::vector<size_t> keep,
        select_layers(g, o.layers, names, r.skipped, skip_names,
                      "a layer that makes output channels (a convolution with one group or a "
                      "fully connected layer)"));
    std::vector<LayerReport> kept_reports;
    kept_reports.reserve(keep.size());
    for (size_t i : keep) kept_reports.push_back(layers[i]);
    layers = std::move(kept_reports);
    method = std::make_unique<ChannelMethod>(g, ties, keep);
  }
  if (layers.empty()) {
    std::string why;
    for (const LayerSkip& s : r.skipped)
      why += (why.empty() ? "" : "; ") + s.node + ": " + s.reason;
    return Status(ErrorCode::kInvalidArgument,
                  std::string("nothing to prune: the model has no ") +
                      (o.structured ? "convolution whose output channels can be removed"
                                    : "float 1x1 convolution or fully connected layer") +
                      (why.empty() ? "" : " (" + why + ")"));
  }

  // The activations' channel means, for the bias correction.
  ChannelMeans means;
  const ChannelMeans* correction = nullptr;
  if (o.bias_correction != PruneOptions::BiasCorrection::kOff && !images.empty()) {
    if (o.progress) o.progress("means", 0, images.size());
    PH_ASSIGN_OR_RETURN(means, measure_channel_means(model, g, images, o.threads));
    correction = &means;
    r.bias_correction_images = images.size();
  }

  // Models built from per-layer fractions.
  std::vector<size_t> sizes;
  sizes.reserve(layers.size());
  for (const LayerReport& l : layers) sizes.push_back(l.size);
  std::vector<std::pair<std::string, std::string>> base_metadata;
  for (const auto& kv : quantize::edit_copy(g).metadata)
    if (kv.first.rfind("pruning.", 0) != 0) base_metadata.push_back(kv);
  auto build_with = [&](const std::vector<double>& fractions, const ChannelMeans* means,
                        std::vector<size_t>* removed,
                        std::vector<uint8_t>* bytes_out) -> Result<Model> {
    std::vector<size_t> units(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) units[i] = method->units_for(i, fractions[i]);
    std::vector<size_t> lost;
    PH_ASSIGN_OR_RETURN(quantize::EditModel m, method->edit(units, means, &lost));
    size_t total = 0, gone = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      total += layers[i].size;
      gone += lost[i];
    }
    m.metadata = base_metadata;
    m.metadata.emplace_back("pruning.tool", "polyhead prune");
    m.metadata.emplace_back("pruning.method", o.structured ? "channels" : "blocks");
    m.metadata.emplace_back(
        "pruning.sparsity",
        number(total ? static_cast<double>(gone) / static_cast<double>(total) : 0));
    m.metadata.emplace_back("pruning.bias_correction", means ? "yes" : "no");
    PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, quantize::write_model(m));
    auto loaded = Model::from_bytes(bytes);
    if (!loaded.is_ok())
      return Status(ErrorCode::kInternal,
                    "the pruned model does not load: " + loaded.status().message());
    if (removed) *removed = std::move(lost);
    if (bytes_out) *bytes_out = std::move(bytes);
    return *loaded;
  };
  // The sensitivity and the search measure with the correction (unless it is off).
  auto build = [&](const std::vector<double>& fractions, std::vector<size_t>* removed,
                   std::vector<uint8_t>* bytes_out) {
    return build_with(fractions, correction, removed, bytes_out);
  };

  const bool budget = o.max_drop >= 0;
  r.probe = o.probe > 0 ? o.probe : budget ? 0.5 : std::max(o.sparsity, 0.5);
  std::vector<std::string> eval_images = images;
  if (o.limit > 0 && eval_images.size() > o.limit) eval_images.resize(o.limit);
  r.evaluation_images = eval_images.size();
  quantize::EvaluationOptions eval_options;
  eval_options.threads = o.threads;
  eval_options.tasks = o.tasks;

  // Sensitivity: each layer pruned alone at the probe fraction.
  std::vector<size_t> least_sensitive_first;
  if (!eval_images.empty()) {
    std::vector<std::pair<std::string, std::string>> nodes;
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < layers.size(); ++i) {
      nodes.emplace_back(layers[i].name, layers[i].op);
      index[layers[i].name] = i;
    }
    auto progress = [&](size_t d, size_t t) {
      if (o.progress) o.progress("sensitivity", d, t);
    };
    PH_ASSIGN_OR_RETURN(std::vector<quantize::NodeSensitivity> measured,
                        quantize::measure_sensitivity(
                            model, nodes,
                            [&](const std::string& name) {
                              std::vector<double> f(layers.size(), 0.0);
                              f[index[name]] = r.probe;
                              return build(f, nullptr, nullptr);
                            },
                            eval_images, eval_options, progress));
    for (auto it = measured.rbegin(); it != measured.rend(); ++it) {
      const size_t i = index[it->node];
      layers[i].has_sensitivity = true;
      layers[i].sensitivity = it->evaluation;
      least_sensitive_first.push_back(i);
    }
  }
  const std::vector<double> tolerance = tolerance_by_rank(least_sensitive_first, layers.size());
  auto fractions_for = [&](double s) {
    return allocate_fractions(sizes, tolerance, s, fraction_cap(s));
  };

  // A sparsity's drop; with the correction on kAuto, the better of with and without, as the
  // written model will be.
  const bool compare_correction =
      correction && o.bias_correction == PruneOptions::BiasCorrection::kAuto;
  auto evaluate_at = [&](double s) -> Result<quantize::Evaluation> {
    const std::vector<double> f = fractions_for(s);
    PH_ASSIGN_OR_RETURN(const Model m, build(f, nullptr, nullptr));
    PH_ASSIGN_OR_RETURN(quantize::Evaluation e,
                        quantize::evaluate(model, m, eval_images, eval_options));
    if (!compare_correction) return e;
    PH_ASSIGN_OR_RETURN(const Model plain, build_with(f, nullptr, nullptr, nullptr));
    PH_ASSIGN_OR_RETURN(quantize::Evaluation p,
                        quantize::evaluate(model, plain, eval_images, eval_options));
    return better(p, e) ? p : e;
  };

  if (budget) {
    r.has_budget = true;
    r.max_drop = o.max_drop;
    size_t step = 0;
    PH_ASSIGN_OR_RETURN(r.budget, search_budget(default_sparsity_grid(), o.max_drop,
                                                [&](double s) -> Result<quantize::Evaluation> {
                                                  if (o.progress) o.progress("search", ++step, 0);
                                                  return evaluate_at(s);
                                                }));
    if (!r.budget.within_budget) {
      const BudgetStep* best = r.budget.best();
      std::string worst_task;
      for (const quantize::TaskDrop& t : best->evaluation.tasks)
        if (t.drop == best->evaluation.worst_drop) {
          worst_task = " (task '" + t.task + "', " + t.metric + ")";
          break;
        }
      return Status(ErrorCode::kInvalidArgument,
                    "no sparsity meets --max-drop " + number(o.max_drop) +
                        ": the smallest drop reached is " + number(best->evaluation.worst_drop) +
                        worst_task + " at sparsity " + number(best->sparsity) + " on " +
                        std::to_string(eval_images.size()) + " photo(s)");
    }
    r.sparsity = r.budget.sparsity;
  } else {
    r.sparsity = o.sparsity;
  }

  const std::vector<double> fractions = fractions_for(r.sparsity);
  std::vector<size_t> removed;
  PH_ASSIGN_OR_RETURN(const Model written, build(fractions, &removed, &result.bytes));
  r.bias_corrected = correction != nullptr;
  if (compare_correction) {
    // Keep the correction only where it measures better (worst drop, then score) on the photos.
    if (o.progress) o.progress("correction", 1, 2);
    PH_ASSIGN_OR_RETURN(r.corrected, quantize::evaluate(model, written, eval_images, eval_options));
    std::vector<uint8_t> plain_bytes;
    std::vector<size_t> plain_removed;
    PH_ASSIGN_OR_RETURN(const Model plain,
                        build_with(fractions, nullptr, &plain_removed, &plain_bytes));
    if (o.progress) o.progress("correction", 2, 2);
    PH_ASSIGN_OR_RETURN(r.uncorrected, quantize::evaluate(model, plain, eval_images, eval_options));
    r.compared_correction = true;
    if (better(r.uncorrected, r.corrected)) {
      result.bytes = std::move(plain_bytes);
      removed = std::move(plain_removed);
      r.bias_corrected = false;
    }
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].fraction = fractions[i];
    layers[i].removed = removed[i];
    r.prunable += layers[i].size;
    r.removed += removed[i];
  }
  r.layers = std::move(layers);
  r.output_bytes = result.bytes.size();
  return result;
}

}  // namespace polyhead::prune
