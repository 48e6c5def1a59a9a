#include "offline/quantize/drop_budget.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "offline/graph/number_text.h"

namespace polyhead::quantize {
namespace {

using graph::number_text;

// A fraction in [0, 1], the whole text or nothing.
std::optional<double> parse_fraction(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !(v >= 0 && v <= 1)) return std::nullopt;
  return v;
}

Status bad(const std::string& text, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "--max-drop: invalid value '" + text + "': " + why);
}

}  // namespace

DropBudget DropBudget::uniform(double max_drop) {
  DropBudget b;
  b.others = max_drop;
  return b;
}

Result<DropBudget> DropBudget::parse(const std::string& text) {
  DropBudget b;
  size_t begin = 0;
  for (;;) {
    const size_t comma = text.find(',', begin);
    const std::string item =
        text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      const std::optional<double> v = parse_fraction(item);
      if (!v) return bad(text, "'" + item + "' is not a fraction in [0, 1]");
      if (b.others) return bad(text, "more than one budget without a task name");
      b.others = v;
    } else {
      const std::string task = item.substr(0, eq), value = item.substr(eq + 1);
      if (task.empty()) return bad(text, "'" + item + "' has no task name before '='");
      const std::optional<double> v = parse_fraction(value);
      if (!v)
        return bad(text,
                   "the budget '" + value + "' of task '" + task + "' is not a fraction in [0, 1]");
      for (const auto& [named, unused] : b.per_task)
        if (named == task) return bad(text, "task '" + task + "' is given twice");
      b.per_task.emplace_back(task, *v);
    }
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return b;
}

std::optional<double> DropBudget::limit(const std::string& task) const {
  for (const auto& [named, v] : per_task)
    if (named == task) return v;
  return others;
}

Status DropBudget::check(const Model& model, const std::vector<std::string>& judged) const {
  if (empty()) return Status(ErrorCode::kInvalidArgument, "--max-drop: no budget given");
  if (others && !(*others >= 0 && *others <= 1))
    return Status(ErrorCode::kInvalidArgument,
                  "max drop must be in [0, 1], got " + number_text(*others));
  std::vector<std::string> named;
  for (const auto& [task, v] : per_task) {
    if (!(v >= 0 && v <= 1))
      return Status(ErrorCode::kInvalidArgument, "--max-drop: the budget of task '" + task +
                                                     "' must be in [0, 1], got " + number_text(v));
    named.push_back(task);
  }
  PH_RETURN_IF_ERROR(check_evaluation_tasks(model, named, "--max-drop"));
  for (const std::string& task : named)
    if (!judged.empty() && std::find(judged.begin(), judged.end(), task) == judged.end())
      return Status(ErrorCode::kInvalidArgument,
                    "--max-drop: task '" + task + "' has a budget but --tasks leaves it out");
  return Status::ok();
}

std::vector<std::string> DropBudget::judged_tasks(const std::vector<std::string>& judged) const {
  if (!judged.empty() || others) return judged;
  std::vector<std::string> named;
  for (const auto& [task, v] : per_task) named.push_back(task);
  return named;
}

bool DropBudget::met(const Evaluation& e) const {
  if (per_task.empty()) return others && e.worst_drop <= *others;
  for (const TaskDrop& t : e.tasks) {
    const std::optional<double> l = limit(t.task);
    if (l && t.drop > *l) return false;
  }
  return true;
}

double DropBudget::usage(const Evaluation& e) const {
  auto share = [](double drop, double limit) {
    if (limit > 0) return drop / limit;
    return drop > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  };
  if (per_task.empty()) return others ? share(e.worst_drop, *others) : 0;
  double most = 0;
  for (const TaskDrop& t : e.tasks)
    if (const std::optional<double> l = limit(t.task)) most = std::max(most, share(t.drop, *l));
  return most;
}

std::string DropBudget::text() const {
  std::string s = others ? number_text(*others) : "";
  for (const auto& [task, v] : per_task) s += (s.empty() ? "" : ", ") + task + " " + number_text(v);
  return s;
}

}  // namespace polyhead::quantize
