// PLACEHOLDER: filled in by the signature work.
#include "bindings.h"

namespace twiliocore::bindings {
void register_signature(pybind11::module_& m) { (void)m; }
}  // namespace twiliocore::bindings
