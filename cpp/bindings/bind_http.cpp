// PLACEHOLDER: filled in by the http work.
#include "bindings.h"

namespace twiliocore::bindings {
void register_http(pybind11::module_& m) { (void)m; }
}  // namespace twiliocore::bindings
