// polyhead.Model and what it declares: inputs with their pre-processing, tasks with their outputs
// and post-processing, metadata. The declarations are read-only snapshots (copies).
#include <Python.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <string>
#include <vector>

#include "arrays.h"
#include "bindings.h"
#include "errors.h"
#include "polyhead/model.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::python {

namespace {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s.empty() ? "(none)" : s;
}

const InputInfo& find_input(const Model& model, const std::string& name) {
  std::vector<std::string> names;
  for (const InputInfo& i : model.inputs()) {
    if (i.name == name) return i;
    names.push_back(i.name);
  }
  raise(Status(ErrorCode::kNotFound,
               "unknown input '" + name + "'; the model has " + quoted_list(names)));
}

const TaskInfo& find_task(const Model& model, const std::string& name) {
  std::vector<std::string> names;
  for (const TaskInfo& t : model.tasks()) {
    if (t.name == name) return t;
    names.push_back(t.name);
  }
  raise(Status(ErrorCode::kNotFound,
               "unknown task '" + name + "'; the model has " + quoted_list(names)));
}

// Every metadata entry, first value per key as Model::metadata(key) reads it, in file order.
nb::dict metadata_dict(const Model& model) {
  nb::dict d;
  const auto* entries = schema::GetModel(model.bytes())->metadata();
  if (!entries) return d;
  for (const auto* e : *entries) {
    nb::str key(e->key()->c_str(), e->key()->size());
    if (d.contains(key)) continue;
    d[key] = e->value() ? nb::str(e->value()->c_str(), e->value()->size()) : nb::str("");
  }
  return d;
}

Model model_from_buffer(nb::handle data) {
  Py_buffer view;
  if (PyObject_GetBuffer(data.ptr(), &view, PyBUF_SIMPLE) != 0) throw nb::python_error();
  auto model = Model::from_bytes(view.buf, static_cast<size_t>(view.len));  // copies once
  PyBuffer_Release(&view);
  return value_or_raise(std::move(model));
}

std::vector<std::string> task_names(const Model& model) {
  std::vector<std::string> names;
  for (const TaskInfo& t : model.tasks()) names.push_back(t.name);
  return names;
}

}  // namespace

void bind_model(nb::module_& m) {
  nb::class_<Preprocess>(m, "Preprocess",
                         "How an image input is filled: value = (pixel / 255 * pixel_scale - "
                         "mean[c]) / std[c], at width x height, in layout and colour order.")
      .def_ro("width", &Preprocess::width)
      .def_ro("height", &Preprocess::height)
      .def_prop_ro(
          "layout", [](const Preprocess& p) { return to_string(p.layout); }, "'NHWC' or 'NCHW'.")
      .def_prop_ro(
          "color", [](const Preprocess& p) { return to_string(p.color); },
          "'RGB', 'BGR', 'GRAY', or 'NONE' (not an image).")
      .def_prop_ro(
          "mean", [](const Preprocess& p) { return declared_numbers(p.mean); },
          "Per-channel mean, in units of pixel / 255 * pixel_scale.")
      .def_prop_ro(
          "std", [](const Preprocess& p) { return declared_numbers(p.std); },
          "Per-channel standard deviation, in the same units.")
      .def_prop_ro("pixel_scale",
                   [](const Preprocess& p) { return declared_number(p.pixel_scale); })
      .def_prop_ro(
          "fit", [](const Preprocess& p) { return to_string(p.fit); },
          "How frames of another size are fitted: 'STRETCH', 'LETTERBOX' or 'CROP'.")
      .def("__repr__", [](const Preprocess& p) {
        return nb::str("Preprocess({}x{} {} {} {} mean={} std={} pixel_scale={:g})")
            .format(p.width, p.height, to_string(p.layout), to_string(p.color), to_string(p.fit),
                    declared_numbers(p.mean), declared_numbers(p.std),
                    declared_number(p.pixel_scale));
      });

  nb::class_<InputInfo>(m, "InputInfo", "A model input.")
      .def_ro("name", &InputInfo::name)
      .def_prop_ro("shape", [](const InputInfo& i) { return shape_tuple(i.shape); })
      .def_prop_ro(
          "dtype", [](const InputInfo& i) { return numpy_dtype_name(i.type); },
          "The NumPy dtype name of its elements ('float32').")
      .def_ro("preprocess", &InputInfo::preprocess)
      .def_prop_ro(
          "is_image", [](const InputInfo& i) { return i.preprocess.color != ColorOrder::kNone; },
          "Whether the input declares an image (Plan.set_input_pixels can fill it).")
      .def("__repr__", [](const InputInfo& i) {
        return nb::str("InputInfo('{}', shape={}, dtype={})")
            .format(i.name, shape_tuple(i.shape), numpy_dtype_name(i.type));
      });

  nb::class_<TaskOutputInfo>(m, "TaskOutputInfo", "An output of a task.")
      .def_ro("name", &TaskOutputInfo::name, "The output's name within its task.")
      .def_ro("tensor", &TaskOutputInfo::tensor, "The model tensor it reads.")
      .def_prop_ro("shape", [](const TaskOutputInfo& o) { return shape_tuple(o.shape); })
      .def_prop_ro("dtype", [](const TaskOutputInfo& o) { return numpy_dtype_name(o.type); })
      .def("__repr__", [](const TaskOutputInfo& o) {
        return nb::str("TaskOutputInfo('{}', shape={}, dtype={})")
            .format(o.name, shape_tuple(o.shape), numpy_dtype_name(o.type));
      });

  nb::class_<PostProcessInfo>(m, "PostProcessInfo",
                              "How a task's raw outputs become results (applied by the caller).")
      .def_prop_ro(
          "activation", [](const PostProcessInfo& p) { return to_string(p.activation); },
          "'none', 'sigmoid' or 'softmax', on the raw scores.")
      .def_ro("labels", &PostProcessInfo::labels)
      .def_prop_ro("score_threshold",
                   [](const PostProcessInfo& p) { return declared_number(p.score_threshold); })
      .def_prop_ro("nms_iou", [](const PostProcessInfo& p) { return declared_number(p.nms_iou); })
      .def_ro("max_detections", &PostProcessInfo::max_detections)
      .def_prop_ro(
          "anchors",
          [](const PostProcessInfo& p) {
            TensorView v;
            v.data = p.anchors.data();
            v.shape = Shape{static_cast<int64_t>(p.anchors.size() / 4), 4};
            v.type = ElementType::kF32;
            return copy_to_numpy(v);
          },
          "Detection anchors, float32 of shape (count, 4): centre y, centre x, height, width, "
          "normalised to [0, 1].");

  nb::class_<TaskInfo>(m, "TaskInfo", "A task of the model: a head on the shared backbone.")
      .def_ro("name", &TaskInfo::name)
      .def_prop_ro(
          "kind", [](const TaskInfo& t) { return to_string(t.kind); },
          "'classification', 'detection', 'segmentation', 'landmarks', 'regression', "
          "'embedding' or 'other'.")
      .def_ro("outputs", &TaskInfo::outputs)
      .def_prop_ro("output_names",
                   [](const TaskInfo& t) {
                     std::vector<std::string> names;
                     for (const TaskOutputInfo& o : t.outputs) names.push_back(o.name);
                     return names;
                   })
      .def_ro("priority", &TaskInfo::priority)
      .def_ro("rate", &TaskInfo::rate)
      .def_ro("postprocess", &TaskInfo::postprocess)
      .def_prop_ro(
          "labels", [](const TaskInfo& t) { return t.postprocess.labels; },
          "Class names, index-aligned with the class dimension (postprocess.labels).")
      .def("__repr__", [](const TaskInfo& t) {
        std::vector<std::string> outputs;
        for (const TaskOutputInfo& o : t.outputs) outputs.push_back(o.name);
        return nb::str("TaskInfo('{}', kind='{}', outputs={})")
            .format(t.name, to_string(t.kind), outputs);
      });

  nb::class_<Model>(m, "Model",
                    "A verified .phm model, memory-mapped and read in place. Immutable: one Model "
                    "can serve several Engines and threads.")
      .def(
          "__init__",
          [](Model* self, const std::filesystem::path& path) {
            new (self) Model(value_or_raise(Model::load_file(path.string())));
          },
          nb::arg("path"), "Loads (memory-maps) the .phm file at `path`.")
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            return value_or_raise(Model::load_file(path.string()));
          },
          nb::arg("path"), "Loads (memory-maps) the .phm file at `path`.")
      .def_static(
          "read_file",
          [](const std::filesystem::path& path) {
            return value_or_raise(Model::read_file(path.string()));
          },
          nb::arg("path"),
          "Reads the .phm file at `path` into memory the Model owns (no mapping: later changes "
          "to the file do not matter).")
      .def_static("from_bytes", &model_from_buffer, nb::arg("data"),
                  "A model from the bytes of a .phm file (bytes, bytearray, memoryview or any "
                  "buffer), copied into memory the Model owns.")
      .def_prop_ro("inputs", [](const Model& model) { return model.inputs(); })
      .def_prop_ro("tasks", [](const Model& model) { return model.tasks(); })
      .def_prop_ro("task_names", &task_names)
      .def("input", &find_input, nb::arg("name"), "The input `name` (NotFoundError if none).")
      .def("task", &find_task, nb::arg("name"), "The task `name` (NotFoundError if none).")
      .def_prop_ro("format_version",
                   [](const Model& model) {
                     return std::make_pair(model.format_version_major(),
                                           model.format_version_minor());
                   })
      .def_prop_ro("producer", &Model::producer)
      .def_prop_ro("description", &Model::description)
      .def_prop_ro("metadata", &metadata_dict,
                   "The metadata entries as a dict (the first value of a repeated key).")
      .def_prop_ro("file_bytes", &Model::file_bytes)
      .def("__repr__", [](const Model& model) {
        return nb::str("Model(tasks={}, inputs={}, {} bytes)")
            .format(
                task_names(model),
                [&] {
                  std::vector<std::string> names;
                  for (const InputInfo& i : model.inputs()) names.push_back(i.name);
                  return names;
                }(),
                model.file_bytes());
      });
}

}  // namespace polyhead::python
