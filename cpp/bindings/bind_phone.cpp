// Bindings of the phone and segments units: glue only.
//
//   count_segments(body: str) -> tuple[str, int, int, int]
//   smart_encode(body: str) -> str
//   to_e164(number: str, region: str, strict: bool) -> tuple[bool, str]
//   to_e164_many(numbers: list[str], region: str, strict: bool) -> list[tuple[bool, str]]
//   normalize_address(address: str, region: str, strict: bool) -> tuple[bool, str]
//   number_info(number: str, region: str, strict: bool) -> tuple[bool, str, str, str, int]
//   phone_metadata_version() -> str
//
// Phone results come back as (ok, e164_or_reason) tuples rather than exceptions; the
// Python layer (twiliocore/phone.py) raises twiliocore.errors.InvalidPhoneNumber. An
// unknown region code is a caller error: std::invalid_argument -> ValueError.
//
// Every function here takes and returns plain C++ values, so the GIL is released
// for the whole call with py::call_guard (arguments are converted before it).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bindings.h"
#include "twiliocore/phone.h"
#include "twiliocore/segments.h"

namespace py = pybind11;

namespace twiliocore::bindings {
namespace {

std::tuple<std::string, std::size_t, std::size_t, std::size_t> CountSegmentsShim(
    const std::string& body) {
  const SegmentInfo info = CountSegments(body);
  return {EncodingName(info.encoding), info.num_segments, info.units, info.characters};
}

PhonePolicy Policy(bool strict) { return strict ? PhonePolicy::kStrict : PhonePolicy::kLenient; }

std::pair<bool, std::string> Outcome(PhoneResult&& r) {
  return r.ok() ? std::pair{true, std::move(r.e164)} : std::pair{false, std::move(r.reason)};
}

std::pair<bool, std::string> ToE164Shim(const std::string& number, const std::string& region,
                                        bool strict) {
  return Outcome(TryToE164(number, region, Policy(strict)));
}

std::vector<std::pair<bool, std::string>> ToE164ManyShim(const std::vector<std::string>& numbers,
                                                         const std::string& region, bool strict) {
  std::vector<PhoneResult> results = ToE164Many(numbers, region, Policy(strict));
  std::vector<std::pair<bool, std::string>> out;
  out.reserve(results.size());
  for (PhoneResult& r : results) out.push_back(Outcome(std::move(r)));
  return out;
}

std::pair<bool, std::string> NormalizeAddressShim(const std::string& address,
                                                  const std::string& region, bool strict) {
  return Outcome(TryNormalizeAddress(address, region, Policy(strict)));
}

std::tuple<bool, std::string, std::string, std::string, int> NumberInfoShim(
    const std::string& number, const std::string& region, bool strict) {
  try {
    NumberInfo info = GetNumberInfo(number, region, Policy(strict));
    return {true, std::move(info.e164), NumberTypeName(info.type), std::move(info.region),
            info.country_code};
  } catch (const InvalidPhoneNumber& rejected) {
    return {false, rejected.reason(), "", "", 0};
  }
}

}  // namespace

void register_phone(py::module_& m) {
  m.def("count_segments", &CountSegmentsShim, py::arg("body"),
        py::call_guard<py::gil_scoped_release>(),
        R"pbdoc(Count the SMS segments of a message body as Twilio does.

Returns (encoding, num_segments, units, characters): encoding is "GSM-7" or "UCS-2",
units are septets (GSM-7) or UTF-16 code units (UCS-2). An empty body is 1 segment.
Raises ValueError if a bytes body is not valid UTF-8.)pbdoc");

  m.def("smart_encode", &SmartEncode, py::arg("body"), py::call_guard<py::gil_scoped_release>(),
        R"pbdoc(Apply Twilio's Smart Encoding to a message body.

Look-alikes of GSM-7 characters (curly quotes, dashes, ellipsis, Unicode spaces, ...) are
replaced when the whole result is then GSM-7; otherwise the body comes back unchanged.
Raises ValueError if a bytes body is not valid UTF-8.)pbdoc");

  m.def("to_e164", &ToE164Shim, py::arg("number"), py::arg("region"), py::arg("strict"),
        py::call_guard<py::gil_scoped_release>(),
        R"pbdoc(Parse a phone number to E.164: (True, "+14155552671") or (False, reason).

strict=True requires a valid number for its region, strict=False a possible length.
Raises ValueError for an unknown region code.)pbdoc");
  m.def("to_e164_many", &ToE164ManyShim, py::arg("numbers"), py::arg("region"), py::arg("strict"),
        py::call_guard<py::gil_scoped_release>(),
        "to_e164 for every number, in order, in one call without the GIL.");
  m.def("normalize_address", &NormalizeAddressShim, py::arg("address"), py::arg("region"),
        py::arg("strict"), py::call_guard<py::gil_scoped_release>(),
        "Like to_e164, keeping a 'whatsapp:' prefix: (True, 'whatsapp:+1...') or (False, reason).");
  m.def("number_info", &NumberInfoShim, py::arg("number"), py::arg("region"), py::arg("strict"),
        py::call_guard<py::gil_scoped_release>(),
        "(True, e164, type, region, country_code) or (False, reason, '', '', 0).");
  m.def("phone_metadata_version", &PhoneMetadataVersion,
        "The libphonenumber release whose metadata is compiled in, e.g. '8.12.57'.");
}

}  // namespace twiliocore::bindings
