// twiliocore._core: the pybind11 glue over the C++ core. No logic lives here:
// conversions, GIL release and exception translation only.
//
// Exported surface (one register_<unit> per binding TU):
//   errors     register_errors     exception translation, _test triggers
//   phone      register_phone      to_e164, to_e164_many, number_info, count_segments,
//                                  smart_encode
//   signature  register_signature  compute_signature, validate_signature, SignatureValidator
//   http       register_http       Engine (libcurl multi loop), Response
//   client     register_client     TwilioClient (REST resources)
//   fanout     register_fanout     BulkJob (bulk fan-out)

#include <pybind11/pybind11.h>

#include "bindings.h"
#include "twiliocore/version.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "twiliocore C++ core (private; use the twiliocore package)";
  m.attr("__version__") = twiliocore::kVersion;
  twiliocore::bindings::register_errors(m);
  twiliocore::bindings::register_phone(m);
  twiliocore::bindings::register_signature(m);
  twiliocore::bindings::register_http(m);
  twiliocore::bindings::register_client(m);
  twiliocore::bindings::register_fanout(m);
}
