// PLACEHOLDER: filled in by the fanout work.
#include "bindings.h"

namespace twiliocore::bindings {
void register_fanout(pybind11::module_& m) { (void)m; }
}  // namespace twiliocore::bindings
