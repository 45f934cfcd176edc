// PLACEHOLDER: filled in by the errors work.
#include "bindings.h"

namespace twiliocore::bindings {
void register_errors(pybind11::module_& m) { (void)m; }
}  // namespace twiliocore::bindings
