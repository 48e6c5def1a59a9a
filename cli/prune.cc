// `polyhead prune MODEL -o OUT (--sparsity S | --max-drop X) [--structured]`: magnitude pruning
// without fine-tuning, block-sparse or by whole channels, the amount per layer from measured
// sensitivity (offline/prune, docs/prune.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"

#ifdef POLYHEAD_HAVE_PRUNE
#include "cli/compression_output.h"
#include "cli/format.h"
#include "cli/json.h"
#include "cli/progress.h"
#include "eval/image_set.h"
#include "offline/compress/compression_report.h"
#include "offline/prune/pruner.h"
#endif

namespace polyhead::cli {

const char kPruneUsage[] =
    "usage: polyhead prune MODEL -o OUT.phm (--sparsity S | --max-drop X) [--structured]\n"
    "                      [--calib DIR|PHOTO ...] [--bias-correction auto|on|off]\n"
    "                      [--tasks A,B] [--layers A,B] [--limit N] [--threads N]\n"
    "                      [--json FILE] [--quiet]\n"
    "\n"
    "Prunes a float32 model by weight magnitude, without fine-tuning (docs/prune.md).\n"
    "Unstructured (the default): blocks of 8, 4, 2 or 1 output channels x 1 input column with\n"
    "the smallest L2 norms are removed from 1x1 convolutions and fully connected layers, whose\n"
    "weights are then stored block-sparse (a smaller file, and the sparse kernel runs them where\n"
    "it beats the dense one). --structured removes whole output channels (the filters with the\n"
    "smallest L2 norm) with everything that reads them, giving a smaller dense model; channels\n"
    "tied by residual ADDs are removed together, model inputs and task outputs keep theirs.\n"
    "With calibration photos each layer's sensitivity is measured (its drop when pruned alone)\n"
    "and the less sensitive layers are pruned harder, and a pruned layer's bias can take in\n"
    "what was removed at the activations' means on the photos (bias correction); without\n"
    "photos every layer gets the same sparsity. No fine-tuning. The compression report\n"
    "compares the result with MODEL on the photos.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  the pruned model to write (required)\n"
    "  --sparsity S       the fraction of prunable weights (--structured: of removable channels)\n"
    "                     to remove, in (0, 1)\n"
    "  --max-drop X       instead of --sparsity: the highest sparsity (searched in steps of 0.05)\n"
    "                     whose worst task's drop on the calibration photos is at most X, a\n"
    "                     fraction in [0, 1]; needs --calib\n"
    "  --structured       remove output channels instead of weight blocks\n"
    "  --calib DIR|FILE   a folder (its .jpg/.jpeg/.png/.bmp files, sorted by name) or one photo;\n"
    "                     repeat to add more: sensitivity, bias correction, --max-drop and the\n"
    "                     report's drop\n"
    "  --bias-correction M  with --calib: auto (the default: kept only if the pruned model\n"
    "                     measures better with it than without), on, or off\n"
    "  --tasks A,B        only these tasks' drops count (the others are pruned all the same)\n"
    "  --layers A,B       prune only these layers (node names as 'polyhead inspect' shows them;\n"
    "                     --structured: any layer of a tied group); one that cannot be pruned is\n"
    "                     an error\n"
    "  --limit N          use the first N photos for the sensitivity and --max-drop (the report\n"
    "                     uses them all)\n"
    "  --threads N        worker threads, 0 = one per logical processor (default 1)\n"
    "  --json FILE        also write the summary as JSON to FILE ('-': to stdout, instead of\n"
    "                     the text)\n"
    "  --quiet            no progress lines on stderr\n";

#ifndef POLYHEAD_HAVE_PRUNE

int prune_main(const std::vector<std::string>& args) {
  return report_needs_opencv("prune", kPruneUsage, args);
}

#else

namespace {

using prune::PruneOptions;
using prune::PruneReport;

Status read_options(const ParsedArgs& p, PruneOptions& o) {
  if (p.has("--sparsity") && p.has("--max-drop"))
    return Status(ErrorCode::kInvalidArgument, "give --sparsity S or --max-drop X, not both");
  if (!p.has("--sparsity") && !p.has("--max-drop"))
    return Status(ErrorCode::kInvalidArgument, "missing --sparsity S or --max-drop X");
  if (p.has("--sparsity")) {
    auto v = parse_double("--sparsity", p.get("--sparsity"), 0, 1);
    if (!v.is_ok() || !(*v > 0 && *v < 1))
      return Status(ErrorCode::kInvalidArgument, "invalid value '" + p.get("--sparsity") +
                                                     "' for --sparsity: expected a number in "
                                                     "(0, 1)");
    o.sparsity = *v;
  }
  if (p.has("--max-drop")) {
    if (!p.has("--calib"))
      return Status(ErrorCode::kInvalidArgument,
                    "--max-drop needs --calib DIR (the photos the drop is measured on)");
    PH_ASSIGN_OR_RETURN(o.max_drop, parse_double("--max-drop", p.get("--max-drop"), 0, 1));
  }
  o.structured = p.has("--structured");
  if (p.has("--bias-correction")) {
    const std::string m = p.get("--bias-correction");
    if (m == "auto")
      o.bias_correction = PruneOptions::BiasCorrection::kAuto;
    else if (m == "on")
      o.bias_correction = PruneOptions::BiasCorrection::kOn;
    else if (m == "off")
      o.bias_correction = PruneOptions::BiasCorrection::kOff;
    else
      return Status(ErrorCode::kInvalidArgument, "invalid value '" + m +
                                                     "' for --bias-correction: expected auto, on "
                                                     "or off");
    if (!p.has("--calib"))
      return Status(ErrorCode::kInvalidArgument, "--bias-correction needs --calib");
  }
  if (p.has("--tasks")) {
    PH_ASSIGN_OR_RETURN(o.tasks, parse_list("--tasks", p.get("--tasks")));
  }
  if (p.has("--layers")) {
    PH_ASSIGN_OR_RETURN(o.layers, parse_list("--layers", p.get("--layers")));
  }
  if (p.has("--limit")) {
    if (!p.has("--calib")) return Status(ErrorCode::kInvalidArgument, "--limit needs --calib");
    PH_ASSIGN_OR_RETURN(const long long l, parse_int("--limit", p.get("--limit"), 1, 1000000000));
    o.limit = static_cast<size_t>(l);
  }
  if (p.has("--threads")) {
    PH_ASSIGN_OR_RETURN(const long long t, parse_int("--threads", p.get("--threads"), 0, 1024));
    o.threads = static_cast<size_t>(t);
  }
  return Status::ok();
}

std::function<void(const char*, size_t, size_t)> progress_lines(Progress& progress,
                                                                const PruneOptions& o,
                                                                size_t images) {
  const size_t evaluated = o.limit > 0 && o.limit < images ? o.limit : images;
  return [&progress, &o, evaluated, stage = std::string()](const char* name, size_t done,
                                                           size_t total) mutable {
    const std::string now = name;
    const bool begins = now != stage;
    stage = now;
    if (now == "sensitivity") {
      if (begins)
        progress.stage("sensitivity of " + counted(total, "layer") + ", each pruned alone, on " +
                       counted(evaluated, "photo"));
      progress.step("sensitivity", done, total, "layers");
    } else if (now == "means") {
      if (begins)
        progress.stage("channel means on " + counted(total, "photo") + " (bias correction)");
    } else if (now == "correction") {
      if (begins) progress.stage("the pruned model with and without the bias correction");
    } else if (now == "search") {
      if (begins)
        progress.stage("--max-drop: the highest sparsity whose worst drop is at most " +
                       format_float(o.max_drop, 4));
      progress.step("--max-drop evaluation", done, 0, "");
    } else {
      if (begins) progress.stage(now);
      progress.step(now, done, total, "");
    }
  };
}

std::string method_text(const PruneReport& r) {
  return r.structured ? "structured: output channels removed, dense weights"
                      : "unstructured: weight blocks removed, stored block-sparse";
}

// "3/8 (0.375)" for channels, "0.52" for weights.
std::string layer_amount(const prune::LayerReport& l, bool structured) {
  if (structured) return std::to_string(l.channels - l.removed) + "/" + std::to_string(l.channels);
  return format_float(l.size ? static_cast<double>(l.removed) / static_cast<double>(l.size) : 0, 3);
}

std::string sensitivity_text(const prune::LayerReport& l) {
  if (!l.has_sensitivity) return "-";
  return format_float(l.sensitivity.worst_drop, 4) + " (" +
         format_float(l.sensitivity.worst_score, 4) + ")";
}

void print_text(const std::string& in, const std::string& out, const PruneReport& r) {
  std::printf("pruned %s -> %s\n", in.c_str(), out.c_str());
  std::printf("  method       %s\n", method_text(r).c_str());
  std::printf("  removed      %s of %s prunable %s (%s; target %s) in %zu layer(s)\n",
              format_count(r.removed).c_str(), format_count(r.prunable).c_str(),
              r.structured ? "channels" : "weights", format_float(r.achieved(), 4).c_str(),
              format_float(r.sparsity, 4).c_str(), r.layers.size());
  if (r.evaluation_images)
    std::printf(
        "  sensitivity  each layer pruned alone at %s, on %zu photo(s); the least\n"
        "               sensitive pruned up to 4x harder than the most\n",
        format_float(r.probe, 3).c_str(), r.evaluation_images);
  else
    std::printf("  sensitivity  not measured (no --calib): every layer at the target\n");
  if (r.bias_correction_images) {
    std::printf("  biases       %s at the activations' means on %zu photo(s)",
                r.bias_corrected ? "corrected" : "not corrected", r.bias_correction_images);
    if (r.compared_correction)
      std::printf(" (worst drop %s with, %s without)",
                  format_float(r.corrected.worst_drop, 4).c_str(),
                  format_float(r.uncorrected.worst_drop, 4).c_str());
    std::printf("\n");
  }
  if (r.has_budget) {
    std::printf("  --max-drop   %s: sparsity %s after %zu evaluation(s)\n",
                format_float(r.max_drop, 4).c_str(), format_float(r.budget.sparsity, 3).c_str(),
                r.budget.steps.size());
    for (const prune::BudgetStep& s : r.budget.steps)
      std::printf("    sparsity %-6s worst drop %s\n", format_float(s.sparsity, 3).c_str(),
                  format_float(s.evaluation.worst_drop, 4).c_str());
  }
  std::printf("  file size    %s -> %s (ratio %.3f)\n", format_bytes(r.input_bytes).c_str(),
              format_bytes(r.output_bytes).c_str(),
              r.input_bytes ? static_cast<double>(r.output_bytes) / r.input_bytes : 0.0);

  constexpr size_t kMaxName = 40;
  auto shown = [&](const std::string& name) {
    return name.size() <= kMaxName ? name : name.substr(0, kMaxName - 3) + "...";
  };
  size_t width = 5;
  for (const prune::LayerReport& l : r.layers) width = std::max(width, shown(l.name).size());
  std::printf("\nlayers (execution order)%s\n",
              r.structured ? ": output channels kept; sensitivity = worst drop (score)"
                           : ": sparsity of the weights; sensitivity = worst drop (score)");
  std::printf("  %-*s  %-16s %-18s %-10s %s\n", static_cast<int>(width), "layer", "op", "weight",
              r.structured ? "kept" : "sparsity", "sensitivity");
  for (const prune::LayerReport& l : r.layers) {
    std::printf("  %-*s  %-16s %-18s %-10s %s", static_cast<int>(width), shown(l.name).c_str(),
                l.op.c_str(), l.shape.c_str(), layer_amount(l, r.structured).c_str(),
                sensitivity_text(l).c_str());
    if (!l.tied.empty()) std::printf("  + %zu tied", l.tied.size());
    std::printf("\n");
  }
  if (!r.skipped.empty()) {
    // Grouped by reason: a MobileNet has a dozen depthwise convolutions skipped alike.
    std::vector<std::pair<std::string, std::vector<std::string> > > by_reason;
    for (const prune::LayerSkip& s : r.skipped) {
      auto it = std::find_if(by_reason.begin(), by_reason.end(),
                             [&](const auto& e) { return e.first == s.reason; });
      if (it == by_reason.end()) it = by_reason.insert(by_reason.end(), {s.reason, {}});
      it->second.push_back(s.node);
    }
    std::printf("\nskipped (%zu)\n", r.skipped.size());
    for (const auto& [reason, nodes] : by_reason)
      std::printf("  %s:\n%s\n", reason.c_str(), wrap_list(nodes, 4).c_str());
  }
}

void evaluation_json(JsonWriter& j, const quantize::Evaluation& e) {
  j.begin_object().field("worst_drop", e.worst_drop).field("worst_score", e.worst_score);
  j.key("tasks").begin_array();
  for (const quantize::TaskDrop& t : e.tasks)
    j.begin_object()
        .field("task", t.task)
        .field("metric", t.metric)
        .field("drop", t.drop)
        .field("score", t.score)
        .end_object();
  j.end_array().end_object();
}

void report_json(JsonWriter& j, const std::string& in, const std::string& out,
                 const PruneReport& r) {
  j.field("input", in).field("output", out);
  j.field("method", r.structured ? "structured" : "unstructured");
  j.field("target_sparsity", r.sparsity).field("sparsity", r.achieved());
  j.field("prunable", static_cast<uint64_t>(r.prunable))
      .field("removed", static_cast<uint64_t>(r.removed));
  j.field("evaluation_images", static_cast<uint64_t>(r.evaluation_images));
  j.key("bias_correction")
      .begin_object()
      .field("images", static_cast<uint64_t>(r.bias_correction_images))
      .field("applied", r.bias_corrected);
  if (r.compared_correction) {
    j.key("with");
    evaluation_json(j, r.corrected);
    j.key("without");
    evaluation_json(j, r.uncorrected);
  }
  j.end_object();
  if (r.evaluation_images) j.field("probe_sparsity", r.probe);
  j.field("input_bytes", static_cast<uint64_t>(r.input_bytes))
      .field("output_bytes", static_cast<uint64_t>(r.output_bytes));
  if (r.has_budget) {
    j.key("max_drop")
        .begin_object()
        .field("budget", r.max_drop)
        .field("sparsity", r.budget.sparsity);
    j.key("steps").begin_array();
    for (const prune::BudgetStep& s : r.budget.steps) {
      j.begin_object().field("sparsity", s.sparsity).key("evaluation");
      evaluation_json(j, s.evaluation);
      j.end_object();
    }
    j.end_array().end_object();
  }
  j.key("layers").begin_array();
  for (const prune::LayerReport& l : r.layers) {
    j.begin_object().field("layer", l.name).field("op", l.op).field("weight_shape", l.shape);
    if (r.structured) {
      j.field("tied", l.tied)
          .field("channels", static_cast<uint64_t>(l.channels))
          .field("removable_channels", static_cast<uint64_t>(l.size))
          .field("removed_channels", static_cast<uint64_t>(l.removed))
          .field("kept_channels", static_cast<uint64_t>(l.channels - l.removed));
    } else {
      j.field("weights", static_cast<uint64_t>(l.size))
          .field("removed_weights", static_cast<uint64_t>(l.removed))
          .field("block", std::to_string(l.block_rows) + "x1");
    }
    j.field("sparsity",
            l.size ? static_cast<double>(l.removed) / static_cast<double>(l.size) : 0.0);
    if (l.has_sensitivity) {
      j.key("sensitivity");
      evaluation_json(j, l.sensitivity);
    }
    j.end_object();
  }
  j.end_array();
  j.key("skipped").begin_array();
  for (const prune::LayerSkip& s : r.skipped)
    j.begin_object()
        .field("layer", s.node)
        .field("op", s.op)
        .field("reason", s.reason)
        .end_object();
  j.end_array();
}

// The compression report with photos; without, the MACs alone.
struct Compression {
  bool measured = false;
  compress::CompressionReport report;
  uint64_t original_macs = 0, pruned_macs = 0;
  double macs_ratio() const {
    return compress::CompressionReport::ratio(static_cast<double>(pruned_macs),
                                              static_cast<double>(original_macs));
  }
};

// Writes `bytes` to `path` through a temporary file beside it, renamed at the end, so an
// interrupted or failed write never leaves half a model under the output's name.
Status write_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string temporary = path + ".partial";
  {
    std::ofstream f(temporary, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return Status(ErrorCode::kIoError, "cannot write '" + path + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return Status(ErrorCode::kIoError, "cannot write '" + path + "'");
  }
  return Status::ok();
}

}  // namespace

int prune_main(const std::vector<std::string>& raw) {
  const char* cmd = "prune";
  const std::vector<std::string> args = expand_output_flag(raw);
  auto parsed = parse_args(args, {{"--output", true},
                                  {"--sparsity", true},
                                  {"--max-drop", true},
                                  {"--structured", false},
                                  {"--calib", true, true},
                                  {"--bias-correction", true},
                                  {"--tasks", true},
                                  {"--layers", true},
                                  {"--limit", true},
                                  {"--threads", true},
                                  {"--json", true},
                                  {"--quiet", false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kPruneUsage, stdout);
    return kExitOk;
  }
  const std::vector<std::string>& inputs = parsed->positional;
  if (inputs.size() != 1)
    return report_usage_error(
        cmd, inputs.empty() ? "needs a model MODEL.phm"
                            : "expected one model, found extra argument '" + inputs[1] + "'");
  if (!parsed->has("--output")) return report_usage_error(cmd, "missing -o OUT.phm");
  const std::string in = inputs[0];
  const std::string out = parsed->get("--output");
  if (same_file(in, out))
    return report_usage_error(cmd, "-o '" + out + "' would overwrite the input '" + in + "'");
  PruneOptions options;
  const Status read = read_options(*parsed, options);
  if (!read.is_ok()) return report_usage_error(cmd, read.message());
  const std::string json_path = parsed->get("--json");

  std::vector<std::string> photos;
  if (parsed->has("--calib")) {
    auto images = compare::collect_images(parsed->all("--calib"));
    if (!images.is_ok())
      return report_error(cmd, "--calib: " + images.status().message(), kExitRuntime);
    for (const std::string& s : images->skipped)
      std::fprintf(stderr,
                   "polyhead prune: note: skipping '%s' (not a .jpg/.jpeg/.png/.bmp file)\n",
                   s.c_str());
    photos = images->files;
  }
  auto model = Model::load_file(in);
  if (!model.is_ok())
    return report_error(cmd, "cannot load model '" + in + "': " + model.status().to_string(),
                        kExitRuntime);
  Progress progress(cmd, !parsed->has("--quiet"));
  options.progress = progress_lines(progress, options, photos.size());
  auto result = prune::prune_model(*model, photos, options);
  if (!result.is_ok()) return report_error(cmd, result.status().message(), kExitRuntime);
  const Status written = write_atomically(out, result->bytes);
  if (!written.is_ok()) return report_error(cmd, written.message(), kExitRuntime);

  // The compression report: against the input on every photo, or (without photos) the file and
  // MACs alone.
  auto pruned = Model::from_bytes(result->bytes);
  if (!pruned.is_ok())
    return report_error(cmd, "the written model does not load: " + pruned.status().message(),
                        kExitRuntime);
  Compression compression;
  if (!photos.empty()) {
    progress.stage("compression report on " + counted(photos.size(), "photo") +
                   " (drop, interleaved latency)");
    compress::CompressionOptions co;
    co.threads = options.threads;
    co.tasks = options.tasks;
    auto measured = compress::measure_compression(*model, *pruned, model->file_bytes(),
                                                  result->bytes.size(), photos, co);
    if (!measured.is_ok())
      return report_error(
          cmd,
          "wrote '" + out + "', but its compression report failed: " + measured.status().message(),
          kExitRuntime);
    compression.report = std::move(*measured);
    compression.measured = true;
  } else {
    auto before = compress::pass_macs(*model, options.tasks);
    auto after = compress::pass_macs(*pruned, options.tasks);
    if (!before.is_ok() || !after.is_ok())
      return report_error(cmd,
                          "wrote '" + out + "', but counting its MACs failed: " +
                              (before.is_ok() ? after.status() : before.status()).message(),
                          kExitRuntime);
    compression.original_macs = *before;
    compression.pruned_macs = *after;
  }

  auto json_text = [&] {
    JsonWriter j;
    j.begin_object();
    report_json(j, in, out, result->report);
    if (compression.measured) {
      j.key("compression");
      add_compression_json(j, compression.report);
    } else {
      j.field("original_macs", compression.original_macs)
          .field("pruned_macs", compression.pruned_macs)
          .field("macs_ratio", compression.macs_ratio());
    }
    j.end_object();
    return j.str();
  };
  if (json_path == "-") {
    std::printf("%s\n", json_text().c_str());
    return kExitOk;
  }
  print_text(in, out, result->report);
  if (compression.measured) {
    print_compression(compression.report);
  } else {
    std::printf("\nMACs per pass  %s -> %s (ratio %s); no --calib: no drop or latency measured\n",
                format_count(compression.original_macs).c_str(),
                format_count(compression.pruned_macs).c_str(),
                format_float(compression.macs_ratio(), 3).c_str());
  }
  if (!json_path.empty()) {
    std::ofstream j(json_path, std::ios::trunc);
    j << json_text() << "\n";
    j.close();
    if (!j) return report_error(cmd, "--json: cannot write '" + json_path + "'", kExitRuntime);
  }
  return kExitOk;
}

#endif  // POLYHEAD_HAVE_PRUNE

}  // namespace polyhead::cli
