#include "errors.h"

#include "bindings.h"

namespace polyhead::python {

namespace {

// polyhead._errors._BY_CODE: the exception class per error_code_name(). Looked up once at import
// and kept for the life of the interpreter (a module-level object is never unloaded).
PyObject* g_classes_by_code = nullptr;
PyObject* g_base_class = nullptr;

void translate(const std::exception_ptr& error, void*) {
  try {
    std::rethrow_exception(error);
  } catch (const StatusError& e) {
    PyObject* cls = PyDict_GetItemString(g_classes_by_code, error_code_name(e.status().code()));
    PyErr_SetString(cls ? cls : g_base_class, e.status().message().c_str());
  }
}

}  // namespace

void bind_errors(nb::module_& m) {
  nb::module_ errors = nb::module_::import_("polyhead._errors");
  g_classes_by_code = errors.attr("_BY_CODE").ptr();
  g_base_class = errors.attr("Error").ptr();
  Py_INCREF(g_classes_by_code);
  Py_INCREF(g_base_class);
  nb::register_exception_translator(translate);
  (void)m;
}

}  // namespace polyhead::python
