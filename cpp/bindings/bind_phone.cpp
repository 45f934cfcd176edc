// Bindings of the phone and segments units: glue only.
//
//   count_segments(body: str) -> tuple[str, int, int, int]
//
// Every function here takes and returns plain C++ values, so the GIL is released
// for the whole call with py::call_guard (arguments are converted before it).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <tuple>

#include "bindings.h"
#include "twiliocore/segments.h"

namespace py = pybind11;

namespace twiliocore::bindings {
namespace {

std::tuple<std::string, std::size_t, std::size_t, std::size_t> CountSegmentsShim(
    const std::string& body) {
  const SegmentInfo info = CountSegments(body);
  return {EncodingName(info.encoding), info.num_segments, info.units, info.characters};
}

}  // namespace

void register_phone(py::module_& m) {
  m.def("count_segments", &CountSegmentsShim, py::arg("body"),
        py::call_guard<py::gil_scoped_release>(),
        R"pbdoc(Count the SMS segments of a message body as Twilio does.

Returns (encoding, num_segments, units, characters): encoding is "GSM-7" or "UCS-2",
units are septets (GSM-7) or UTF-16 code units (UCS-2). An empty body is 1 segment.
Raises ValueError if a bytes body is not valid UTF-8.)pbdoc");
}

}  // namespace twiliocore::bindings
