#pragma once

// Registration entry points of the binding translation units.

#include <pybind11/pybind11.h>

namespace twiliocore::bindings {

void register_errors(pybind11::module_& m);
void register_phone(pybind11::module_& m);
void register_signature(pybind11::module_& m);
void register_http(pybind11::module_& m);
void register_client(pybind11::module_& m);
void register_fanout(pybind11::module_& m);

}  // namespace twiliocore::bindings
