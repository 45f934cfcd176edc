// PLACEHOLDER: filled in by the phone work.
#include "bindings.h"

namespace twiliocore::bindings {
void register_phone(pybind11::module_& m) { (void)m; }
}  // namespace twiliocore::bindings
