// `polyhead lowrank IN.phm -o OUT.phm`: low-rank factorization of fully connected and 1x1
// convolution layers by the SVD of their weights, with the rank per layer from an energy, a ratio
// or an accuracy budget (docs/lowrank.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"

#ifdef POLYHEAD_HAVE_LOWRANK
#include <unistd.h>

#include "cli/compression_output.h"
#include "cli/format.h"
#include "cli/json.h"
#include "cli/progress.h"
#include "eval/image_set.h"
#include "offline/compress/compression_report.h"
#include "offline/lowrank/lowrank.h"
#endif

namespace polyhead::cli {

const char kLowrankUsage[] =
    "usage: polyhead lowrank IN.phm -o OUT.phm [--energy E | --rank-ratio R | --max-drop X]\n"
    "                        --calib DIR|PHOTO [--calib ...] [--tasks A,B] [--limit N]\n"
    "                        [--threads N] [--json FILE] [--quiet]\n"
    "\n"
    "Replaces fully connected layers and 1x1 convolutions (stride 1, one group, no padding) by\n"
    "two thinner layers from the singular value decomposition W = U S V^T of their weights\n"
    "W [O][I]: first V_r^T [r][I] (no bias, no activation), then U_r S_r [O][r] with the layer's\n"
    "bias and activation, writing the layer's own output, so tasks are unchanged. A layer is\n"
    "factorized only where rank r saves at least 10% of its MACs (r (O + I) <= 0.9 O I). There is\n"
    "no fine-tuning: the factorized layers approximate the originals, and the report says how far\n"
    "the results moved. See docs/lowrank.md.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  the model to write (required)\n"
    "  --energy E         per layer, the smallest rank keeping the fraction E of the sum of its\n"
    "                     squared singular values, in (0, 1] (the default, with E = 0.99)\n"
    "  --rank-ratio R     every layer at rank ceil(R * min(O, I)), R in (0, 1)\n"
    "  --max-drop X       the most MACs saved while the worst task's drop (as 'polyhead quantize\n"
    "                     --auto' measures it) stays at most X, in [0, 1]: each layer alone at a\n"
    "                     ladder of ranks on the photos, then a search over all of them\n"
    "  --calib DIR|FILE   photos for --max-drop and for the report's accuracy drop: a folder (its\n"
    "                     .jpg/.jpeg/.png/.bmp files, sorted by name) or one photo; repeat to add\n"
    "                     more (required)\n"
    "  --tasks A,B        only these tasks' drops count (--max-drop and the report)\n"
    "  --limit N          use only the first N photos\n"
    "  --threads N        worker threads (SVDs, engines), 0 = one per logical processor\n"
    "                     (default 1)\n"
    "  --json FILE        also write the summary as JSON to FILE ('-': to stdout, instead of\n"
    "                     the text)\n"
    "  --quiet            no progress lines on stderr (SVDs, sensitivity, search, measuring)\n";

#ifndef POLYHEAD_HAVE_LOWRANK

int lowrank_main(const std::vector<std::string>& args) {
  return report_needs_opencv("lowrank", kLowrankUsage, args);
}

#else

namespace {

using lowrank::LowrankOptions;
using lowrank::LowrankReport;
using lowrank::RankMode;

// A number in (lo, hi) or (lo, hi]: parse_double checks a closed range, the open ends are
// checked here so the message states the range the option takes.
Result<double> parse_open(const std::string& option, const std::string& text, double lo, double hi,
                          bool hi_included) {
  auto v = parse_double(option, text, lo, hi);
  if (!v.is_ok() || !(*v > lo) || (!hi_included && !(*v < hi)))
    return Status(ErrorCode::kInvalidArgument,
                  "invalid value '" + text + "' for " + option + ": expected a number in (" +
                      format_float(lo, 6) + ", " + format_float(hi, 6) + (hi_included ? "]" : ")"));
  return *v;
}

Status read_options(const ParsedArgs& p, LowrankOptions& o) {
  int modes = 0;
  for (const char* m : {"--energy", "--rank-ratio", "--max-drop"}) modes += p.has(m) ? 1 : 0;
  if (modes > 1)
    return Status(ErrorCode::kInvalidArgument,
                  "--energy, --rank-ratio and --max-drop choose the rank in different ways: give "
                  "one of them");
  if (p.has("--energy")) {
    o.mode = RankMode::kEnergy;
    PH_ASSIGN_OR_RETURN(o.energy, parse_open("--energy", p.get("--energy"), 0, 1, true));
  }
  if (p.has("--rank-ratio")) {
    o.mode = RankMode::kRankRatio;
    PH_ASSIGN_OR_RETURN(o.rank_ratio,
                        parse_open("--rank-ratio", p.get("--rank-ratio"), 0, 1, false));
  }
  if (p.has("--max-drop")) {
    o.mode = RankMode::kMaxDrop;
    PH_ASSIGN_OR_RETURN(o.max_drop, parse_double("--max-drop", p.get("--max-drop"), 0, 1));
  }
  if (p.has("--tasks")) {
    PH_ASSIGN_OR_RETURN(o.tasks, parse_list("--tasks", p.get("--tasks")));
  }
  if (p.has("--limit")) {
    PH_ASSIGN_OR_RETURN(const long long l, parse_int("--limit", p.get("--limit"), 1, 1000000000));
    o.limit = static_cast<size_t>(l);
  }
  if (p.has("--threads")) {
    PH_ASSIGN_OR_RETURN(const long long t, parse_int("--threads", p.get("--threads"), 0, 1024));
    o.threads = static_cast<size_t>(t);
  }
  return Status::ok();
}

// The library's progress callback as lines on stderr: one when a stage begins, then its steps
// at most once a second.
std::function<void(const char*, size_t, size_t)> progress_lines(Progress& progress,
                                                                const LowrankOptions& o) {
  return
      [&progress, &o, stage = std::string()](const char* name, size_t done, size_t total) mutable {
        const std::string now = name;
        const bool begins = now != stage;
        stage = now;
        if (now == "svd") {
          if (begins) progress.stage("singular value decomposition of " + counted(total, "layer"));
          progress.step("svd", done, total, "layers");
        } else if (now == "sensitivity") {
          if (begins)
            progress.stage("sensitivity of " + counted(total, "layer") +
                           ", each alone at a ladder of ranks");
          progress.step("sensitivity", done, total, "layers");
        } else if (now == "search") {
          if (begins)
            progress.stage("search: the most MACs saved within a drop of " +
                           format_float(o.max_drop, 4));
          progress.step("search evaluation", done, 0, "");
        } else {
          if (begins) progress.stage(now);
          progress.step(now, done, total, "");
        }
      };
}

std::string setting_text(const LowrankReport& r) {
  return std::string(lowrank::rank_mode_name(r.mode)) + " " + format_float(r.value, 6);
}

double ratio(uint64_t after, uint64_t before) {
  return before ? static_cast<double>(after) / static_cast<double>(before) : 0;
}

void print_text(const std::string& in, const std::string& out, const LowrankReport& r,
                const compress::CompressionReport& c) {
  std::printf("factorized %s -> %s\n", in.c_str(), out.c_str());
  std::printf("  setting      --%s\n", setting_text(r).c_str());
  std::printf("  layers       %zu of %zu factorizable layer(s) factorized\n", r.factorized,
              r.layers.size());
  std::printf("  layer MACs   %s -> %s (ratio %.3f)\n", format_count(r.layer_macs_before).c_str(),
              format_count(r.layer_macs_after).c_str(),
              ratio(r.layer_macs_after, r.layer_macs_before));
  // Converted models have long node names (TFLite's fused ones): the table shows their start,
  // --json has them in full.
  constexpr size_t kMaxName = 40;
  auto shown = [&](const std::string& name) {
    return name.size() <= kMaxName ? name : name.substr(0, kMaxName - 3) + "...";
  };
  size_t width = 5;
  for (const lowrank::LayerChoice& l : r.layers) width = std::max(width, shown(l.node).size());
  std::printf("\n  %-*s  %-15s %-11s %-6s %-8s %-10s %-10s %s\n", static_cast<int>(width), "layer",
              "kind", "O x I", "rank", "energy", "MACs", "after", "note");
  for (const lowrank::LayerChoice& l : r.layers) {
    const std::string dims = std::to_string(l.out_channels) + "x" + std::to_string(l.in_channels);
    std::printf("  %-*s  %-15s %-11s %-6s %-8s %-10s %-10s %s\n", static_cast<int>(width),
                shown(l.node).c_str(), l.kind.c_str(), dims.c_str(),
                l.rank ? std::to_string(l.rank).c_str() : "-",
                l.rank ? format_float(l.energy_kept, 4).c_str() : "-",
                format_count(l.macs_before).c_str(), format_count(l.macs_after).c_str(),
                l.note.c_str());
  }
  if (r.mode == RankMode::kMaxDrop) {
    std::printf("\nmax-drop search on %zu photo(s): %zu evaluation(s) of the whole model\n",
                r.evaluation_images, r.steps.size());
    for (const lowrank::BudgetStep& s : r.steps)
      std::printf("  %3zu back-off step(s)  MACs saved %-10s worst drop %s\n", s.backed_off,
                  format_count(s.macs_saved).c_str(), format_float(s.worst_drop, 4).c_str());
    std::printf("  final worst drop %s\n", format_float(r.final.worst_drop, 4).c_str());
  }
  print_compression(c);
}

void evaluation_json(JsonWriter& j, const quantize::Evaluation& e) {
  j.begin_object().field("worst_drop", e.worst_drop).field("worst_score", e.worst_score);
  j.key("tasks").begin_array();
  for (const quantize::TaskDrop& t : e.tasks)
    j.begin_object()
        .field("task", t.task)
        .field("kind", to_string(t.kind))
        .field("metric", t.metric)
        .field("drop", t.drop)
        .field("score", t.score)
        .end_object();
  j.end_array().end_object();
}

std::string to_json(const std::string& in, const std::string& out, const LowrankReport& r,
                    const compress::CompressionReport& c) {
  JsonWriter j;
  j.begin_object().field("input", in).field("output", out);
  j.field("mode", lowrank::rank_mode_name(r.mode)).field("value", r.value);
  j.field("factorized_layers", static_cast<uint64_t>(r.factorized))
      .field("layer_macs_before", r.layer_macs_before)
      .field("layer_macs_after", r.layer_macs_after);
  j.key("layers").begin_array();
  for (const lowrank::LayerChoice& l : r.layers) {
    j.begin_object()
        .field("node", l.node)
        .field("kind", l.kind)
        .field("out_channels", l.out_channels)
        .field("in_channels", l.in_channels)
        .field("rank", l.rank)
        .field("wanted_rank", l.wanted_rank)
        .field("largest_saving_rank", l.largest_saving_rank)
        .field("energy_kept", l.energy_kept)
        .field("macs_before", l.macs_before)
        .field("macs_after", l.macs_after);
    if (!l.note.empty()) j.field("note", l.note);
    j.end_object();
  }
  j.end_array();
  if (r.mode == RankMode::kMaxDrop) {
    j.key("search").begin_object();
    j.field("evaluation_images", static_cast<uint64_t>(r.evaluation_images));
    j.key("sensitivity").begin_array();
    for (const lowrank::LayerSensitivity& s : r.sensitivity) {
      j.begin_object().field("layer", s.layer);
      j.field("within_budget", static_cast<uint64_t>(s.within_budget));
      j.key("trials").begin_array();
      for (const lowrank::RankTrial& t : s.trials) {
        j.begin_object()
            .field("rank", t.rank)
            .field("energy", t.energy)
            .field("macs_saved", t.macs_saved)
            .key("alone");
        evaluation_json(j, t.alone);
        j.end_object();
      }
      j.end_array().end_object();
    }
    j.end_array();
    j.key("steps").begin_array();
    for (const lowrank::BudgetStep& s : r.steps)
      j.begin_object()
          .field("backed_off", static_cast<uint64_t>(s.backed_off))
          .field("macs_saved", s.macs_saved)
          .field("worst_drop", s.worst_drop)
          .end_object();
    j.end_array().key("final");
    evaluation_json(j, r.final);
    j.end_object();
  }
  j.key("compression");
  add_compression_json(j, c);
  j.end_object();
  return j.str();
}

// Writes `bytes` to `path` through a temporary file in the same folder renamed over it, so a
// failure never leaves a half-written model (nor destroys an older file of that name).
Status write_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path temp = target.parent_path() / (target.filename().string() + ".tmp" +
                                                std::to_string(static_cast<long>(::getpid())));
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      return Status(ErrorCode::kIoError, "cannot write '" + path + "'");
    }
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return Status(ErrorCode::kIoError, "cannot write '" + path + "': " + ec.message());
  }
  return Status::ok();
}

}  // namespace

int lowrank_main(const std::vector<std::string>& raw) {
  const char* cmd = "lowrank";
  const std::vector<std::string> args = expand_output_flag(raw);
  auto parsed = parse_args(args, {{"--output", true},
                                  {"--energy", true},
                                  {"--rank-ratio", true},
                                  {"--max-drop", true},
                                  {"--calib", true, true},
                                  {"--tasks", true},
                                  {"--limit", true},
                                  {"--threads", true},
                                  {"--json", true},
                                  {"--quiet", false}});
  if (!parsed.is_ok()) return report_usage_error(cmd, parsed.status().message());
  if (parsed->help) {
    std::fputs(kLowrankUsage, stdout);
    return kExitOk;
  }
  const std::vector<std::string>& inputs = parsed->positional;
  if (inputs.size() != 1)
    return report_usage_error(
        cmd, inputs.empty() ? "needs a model IN.phm"
                            : "expected one model, found extra argument '" + inputs[1] + "'");
  if (!parsed->has("--output")) return report_usage_error(cmd, "missing -o OUT.phm");
  if (!parsed->has("--calib"))
    return report_usage_error(cmd, "missing --calib DIR (a folder of photos, or photo files)");
  const std::string in = inputs[0];
  const std::string out = parsed->get("--output");
  if (same_file(in, out))
    return report_usage_error(cmd, "-o '" + out + "' would overwrite the input '" + in + "'");
  LowrankOptions options;
  const Status read = read_options(*parsed, options);
  if (!read.is_ok()) return report_usage_error(cmd, read.message());
  const std::string json_path = parsed->get("--json");

  auto images = compare::collect_images(parsed->all("--calib"), options.limit);
  if (!images.is_ok())
    return report_error(cmd, "--calib: " + images.status().message(), kExitRuntime);
  for (const std::string& s : images->skipped)
    std::fprintf(stderr,
                 "polyhead lowrank: note: skipping '%s' (not a .jpg/.jpeg/.png/.bmp file)\n",
                 s.c_str());
  auto model = Model::load_file(in);
  if (!model.is_ok())
    return report_error(cmd, "cannot load model '" + in + "': " + model.status().to_string(),
                        kExitRuntime);
  Progress progress(cmd, !parsed->has("--quiet"));
  options.progress = progress_lines(progress, options);
  auto result = lowrank::lowrank_model(*model, images->files, options);
  if (!result.is_ok()) return report_error(cmd, result.status().message(), kExitRuntime);

  // Measured before writing: a failure here leaves no file behind either.
  auto student = Model::from_bytes(result->bytes);
  if (!student.is_ok())
    return report_error(cmd, "the factorized model does not load: " + student.status().message(),
                        kExitRuntime);
  compress::CompressionOptions co;
  co.threads = options.threads;
  co.tasks = options.tasks;
  progress.stage("measuring: drop, latency and arena of the factorized model against the input");
  auto measured = compress::measure_compression(*model, *student, model->file_bytes(),
                                                result->bytes.size(), images->files, co);
  if (!measured.is_ok())
    return report_error(cmd, "measuring the factorized model: " + measured.status().message(),
                        kExitRuntime);

  const Status written = write_atomically(out, result->bytes);
  if (!written.is_ok()) return report_error(cmd, written.message(), kExitRuntime);
  if (json_path == "-") {
    std::printf("%s\n", to_json(in, out, result->report, *measured).c_str());
    return kExitOk;
  }
  print_text(in, out, result->report, *measured);
  if (!json_path.empty()) {
    std::ofstream j(json_path, std::ios::trunc);
    j << to_json(in, out, result->report, *measured) << "\n";
    j.close();
    if (!j) return report_error(cmd, "--json: cannot write '" + json_path + "'", kExitRuntime);
  }
  return kExitOk;
}

#endif  // POLYHEAD_HAVE_LOWRANK

}  // namespace polyhead::cli
