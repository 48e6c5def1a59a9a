// The parts of the extension module polyhead._polyhead, one function per Python concept, called
// in order by module.cc.
#pragma once

#include <nanobind/nanobind.h>

namespace polyhead::python {

namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_image_transform(nb::module_& m);
void bind_model(nb::module_& m);
void bind_engine(nb::module_& m);
void bind_plan(nb::module_& m);

}  // namespace polyhead::python
