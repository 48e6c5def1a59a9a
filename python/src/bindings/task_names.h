// Task lists as Python callers write them: None (every task), one name, or a sequence of names.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

namespace polyhead::python {

namespace nb = nanobind;

inline std::vector<std::string> task_names_argument(nb::handle tasks) {
  if (tasks.is_none()) return {};
  if (nb::isinstance<nb::str>(tasks)) return {nb::cast<std::string>(tasks)};
  std::vector<std::string> names;
  if (!nb::try_cast(tasks, names))
    throw nb::type_error(("tasks must be a task name, a sequence of task names or None, got a " +
                          std::string(nb::type_name(tasks.type()).c_str()))
                             .c_str());
  return names;
}

// The signature fragment the bindings document for such an argument.
#define POLYHEAD_TASKS_TYPE "str | collections.abc.Sequence[str] | None"

}  // namespace polyhead::python
