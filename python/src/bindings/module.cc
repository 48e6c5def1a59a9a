// The extension module polyhead._polyhead; the package polyhead (polyhead/__init__.py) re-exports
// its classes. Errors first: every other part raises them.
#include "bindings.h"

NB_MODULE(_polyhead, m) {
  namespace py = polyhead::python;
  m.doc() = "Polyhead's engine: Model, Engine, Plan (see the polyhead package).";
  py::bind_errors(m);
  py::bind_image_transform(m);
  py::bind_model(m);
  py::bind_engine(m);
  py::bind_plan(m);
}
