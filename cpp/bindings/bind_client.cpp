// PLACEHOLDER: filled in by the client work.
#include "bindings.h"

namespace twiliocore::bindings {
void register_client(pybind11::module_& m) { (void)m; }
}  // namespace twiliocore::bindings
