// polyhead.Plan: inputs in (NumPy arrays, camera frames), runs of all or some of its tasks, outputs
// out (copies by default, read-only views with copy=False, or caller arrays bound to outputs).
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "handles.h"
#include "pixel_input.h"
#include "task_names.h"

namespace polyhead::python {

namespace {

const TaskOutputInfo* find_model_output(const Model& model, const std::string& task,
                                        const std::string& output) {
  for (const TaskInfo& t : model.tasks())
    if (t.name == task)
      for (const TaskOutputInfo& o : t.outputs)
        if (o.name == output) return &o;
  return nullptr;
}

void set_input(PlanHandle& self, const std::string& name, const InArray& array) {
  EngineUseScope scope(*self.use);
  const InputInfo* info = nullptr;
  for (const InputInfo& i : self.engine.model().inputs())
    if (i.name == name) info = &i;
  // Not a model input: the library says which inputs the plan reads.
  if (!info) {
    check(self.plan.input_buffer(name).status());
    raise(Status(ErrorCode::kNotFound, "unknown input '" + name + "'"));
  }
  if (!has_element_type(array, info->type))
    raise_invalid_argument("input '" + name + "' takes " + numpy_dtype_name(info->type) +
                           " values, got an array of " + dtype_name(array.dtype()) +
                           " (convert it with array.astype(numpy." + numpy_dtype_name(info->type) +
                           "))");
  if (!has_shape(array, info->shape))
    raise_invalid_argument("input '" + name + "' has shape " + info->shape.to_string() +
                           ", got an array of shape " + shape_text(array));
  void* dst = value_or_raise(self.plan.input_buffer(name));
  copy_c_order(array, dst);
}

ImageTransform set_input_pixels(PlanHandle& self, const std::string& name, nb::handle frame,
                                const std::string& format) {
  EngineUseScope scope(*self.use);
  nb::object keep;
  const PixelImage image = frame_pixels(frame, format, name, keep);
  nb::gil_scoped_release no_gil;
  return value_or_raise(self.plan.set_input_pixels(name, image));
}

void run(PlanHandle& self, nb::handle tasks) {
  const std::vector<std::string> names = task_names_argument(tasks);
  EngineUseScope scope(*self.use);
  Status status;
  {
    nb::gil_scoped_release no_gil;
    status = names.empty() ? self.plan.run() : self.plan.run(names);
  }
  check(std::move(status));
}

nb::object output(PlanHandle& self, const std::string& task, const std::string& name, bool copy) {
  EngineUseScope scope(*self.use);
  const TensorView view = value_or_raise(self.plan.output(task, name));
  return copy ? copy_to_numpy(view) : view_as_numpy(view, nb::find(&self));
}

// {task: {output: array}} for every task of the last run, in the plan's order.
nb::dict outputs(PlanHandle& self, bool copy) {
  EngineUseScope scope(*self.use);
  nb::dict all;
  const nb::handle owner = nb::find(&self);
  for (const std::string& task : self.plan.info().tasks) {
    const TaskInfo* info = nullptr;
    for (const TaskInfo& t : self.engine.model().tasks())
      if (t.name == task) info = &t;
    nb::dict by_output;
    for (const TaskOutputInfo& o : info->outputs) {
      const Result<TensorView> view = self.plan.output(task, o.name);
      if (!view.is_ok()) break;  // the task did not run in the last run
      by_output[nb::str(o.name.c_str())] =
          copy ? copy_to_numpy(*view) : view_as_numpy(*view, owner);
    }
    if (by_output.size()) all[nb::str(task.c_str())] = by_output;
  }
  return all;
}

void bind_output(PlanHandle& self, const std::string& task, const std::string& name,
                 nb::handle array) {
  EngineUseScope scope(*self.use);
  const auto key = std::make_pair(task, name);
  if (array.is_none()) {
    check(self.plan.bind_output(task, name, nullptr, 0));
    self.bound_outputs.erase(key);
    return;
  }
  const TaskOutputInfo* info = find_model_output(self.engine.model(), task, name);
  // Not an output of the model: the library names the tasks and outputs there are.
  if (!info) {
    check(self.plan.bind_output(task, name, nullptr, 0));
    raise(Status(ErrorCode::kNotFound, "task '" + task + "' has no output '" + name + "'"));
  }
  const std::string what = "output '" + name + "' of task '" + task + "'";
  nb::ndarray<nb::device::cpu> writable;
  if (!nb::try_cast(array, writable, /*convert=*/false)) {
    InArray read_only;
    if (!nb::try_cast(array, read_only, /*convert=*/false))
      throw nb::type_error(("bind_output: " + what + " needs a NumPy array, got a " +
                            std::string(nb::type_name(array.type()).c_str()))
                               .c_str());
    raise_invalid_argument("bind_output: " + what + " needs a writable array; it is read-only");
  }
  const InArray a(writable);
  if (!has_element_type(a, info->type))
    raise_invalid_argument("bind_output: " + what + " is " + numpy_dtype_name(info->type) +
                           ", the array is " + dtype_name(a.dtype()));
  if (!has_shape(a, info->shape))
    raise_invalid_argument("bind_output: " + what + " has shape " + info->shape.to_string() +
                           ", the array has shape " + shape_text(a));
  if (!is_c_contiguous(a))
    raise_invalid_argument("bind_output: the array for " + what +
                           " must be C-contiguous (numpy.ascontiguousarray or numpy.empty)");
  check(self.plan.bind_output(task, name, writable.data(), a.nbytes()));
  self.bound_outputs[key] = nb::borrow(array);
}

}  // namespace

void bind_plan(nb::module_& m) {
  nb::class_<PlanInfo>(m, "PlanInfo")
      .def_ro("tasks", &PlanInfo::tasks)
      .def_ro("nodes", &PlanInfo::nodes, "Nodes a full run executes (shared ones once).")
      .def_ro("arena_bytes", &PlanInfo::arena_bytes, "Activation memory of the plan.")
      .def_ro("arena_lower_bound_bytes", &PlanInfo::arena_lower_bound_bytes,
              "Largest bytes live at any one step.")
      .def_ro("arena_strategy", &PlanInfo::arena_strategy)
      .def_ro("nodes_with_thread_choice", &PlanInfo::nodes_with_thread_choice)
      .def_ro("nodes_on_calling_thread", &PlanInfo::nodes_on_calling_thread)
      .def_ro("parallel_head_groups", &PlanInfo::parallel_head_groups,
              "Heads that may run concurrently (0 when they run in turn).")
      .def_ro("heads_in_parallel", &PlanInfo::heads_in_parallel)
      .def("__repr__", [](const PlanInfo& i) {
        return nb::str("PlanInfo(tasks={}, nodes={}, arena_bytes={})")
            .format(i.tasks, i.nodes, i.arena_bytes);
      });

  nb::class_<PlanHandle>(
      m, "Plan",
      "A prepared task set of an Engine: set its inputs, run all or some of its tasks, read the "
      "outputs. Outputs are copies unless copy=False, which returns read-only views of the "
      "plan's memory: they keep the plan alive and are overwritten by its next run (and by runs "
      "of any Plan the same Engine prepared for the same task set, which shares that memory).")
      .def_prop_ro("tasks", [](const PlanHandle& self) { return self.plan.info().tasks; })
      .def_prop_ro(
          "input_names", [](const PlanHandle& self) { return self.plan.input_names(); },
          "The model inputs this plan reads (all must be set before run()).")
      .def("set_input", &set_input, nb::arg("name"), nb::arg("array"),
           "Copies `array` (of the input's dtype and exact shape, any strides) into input `name`.")
      .def("set_input_pixels", &set_input_pixels, nb::arg("name"), nb::arg("image"),
           nb::arg("format") = "RGB",
           "Fills image input `name` from an 8-bit frame: resized per the input's fit, converted "
           "to its colour order, normalised, in its layout. `image` is a uint8 array of shape "
           "(height, width, 3) for format 'RGB'/'BGR', (height, width, 4) for 'RGBA'/'BGRA', "
           "(height, width) for 'GRAY', (height * 3 / 2, width) for 'NV21'/'NV12'. Returns the "
           "ImageTransform from model pixels back to frame pixels.")
      .def("run", &run, nb::arg("tasks").none() = nb::none(),
           nb::sig("def run(self, tasks: " POLYHEAD_TASKS_TYPE " = None) -> None"),
           "Runs every task of the plan, or only `tasks` (a subset): the shared backbone once "
           "and the heads asked for. Releases the GIL while running.")
      .def("output", &output, nb::arg("task"), nb::arg("name"), nb::kw_only(),
           nb::arg("copy") = true,
           "Output `name` of task `task` from the last run, which must have included the task: a "
           "new array, or with copy=False a read-only view overwritten by the next run.")
      .def("outputs", &outputs, nb::kw_only(), nb::arg("copy") = true,
           "Every output of the tasks of the last run: {task: {output: array}}.")
      .def("bind_output", &bind_output, nb::arg("task"), nb::arg("name"), nb::arg("array").none(),
           "Copies output `name` of task `task` into `array` (writable, C-contiguous, of the "
           "output's dtype and shape) at the end of every later run that includes the task; the "
           "plan keeps the array alive. None unbinds it.")
      .def_prop_ro("info", [](const PlanHandle& self) { return self.plan.info(); })
      .def_prop_ro(
          "last_run_nodes", [](const PlanHandle& self) { return self.plan.last_run_nodes(); },
          "Nodes executed by the last run().")
      .def(
          "node_names",
          [](const PlanHandle& self, nb::handle tasks) {
            return value_or_raise(self.plan.node_names(task_names_argument(tasks)));
          },
          nb::arg("tasks").none() = nb::none(),
          nb::sig("def node_names(self, tasks: " POLYHEAD_TASKS_TYPE " = None) -> list[str]"),
          "Names of the nodes a run of `tasks` (default: every task of the plan) executes, in "
          "order.")
      .def_prop_rw(
          "profiling", [](const PlanHandle& self) { return self.plan.profiling(); },
          [](PlanHandle& self, bool enabled) {
            EngineUseScope scope(*self.use);
            self.plan.set_profiling(enabled);
          },
          "When true, each run records the nanoseconds each node took (node_times_ns).")
      .def_prop_ro(
          "node_times_ns", [](const PlanHandle& self) { return self.plan.node_times_ns(); },
          "Nanoseconds per node of the last run, in the order of node_names(); empty while "
          "profiling is off.")
      .def("__repr__", [](const PlanHandle& self) {
        return nb::str("Plan(tasks={}, inputs={})")
            .format(self.plan.info().tasks, self.plan.input_names());
      });
}

}  // namespace polyhead::python
